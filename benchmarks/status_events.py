"""`inhouse status` on a program of many events (default 100,000): the figure #11 asks for.

Builds a program whose log holds N signed events (people enrolled, evidence from several
people, plays started), written in one transaction with the real hashes and signatures, then
times `inhouse status --json` as a person gets it (a fresh process: open, fold once, evaluate
every check, render) and, in-process, the fold and the status build separately. Usage:
python benchmarks/status_events.py [N] [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from signed_rows import append_signed

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.events import (
    EventKind,
)


def _build(folder: Path, count: int) -> Program:
    program = Program.init(folder, "Bench", "lena")
    others = []
    for name in ("omar", "pia", "dora"):
        key = SigningKey.generate()
        program.join(str(program.invite(name, team=name)), key, at_machine=f"{name}-laptop")
        others.append((name, key))
    program.change_roles(None, "lena", add=["play-owner"])
    program.record_hypothesis(None, "faster", aim="replace-dependency", target="api")
    program.start_play(None, 1)
    state = program.state()
    seq, prev = state.head_seq, program.events()[-1].hash
    start = datetime(2026, 1, 1, tzinfo=UTC)
    people = [("lena", program.key), *others]
    entries = []
    for n in range(count - seq):
        name, key = people[n % len(people)]
        kind, payload = (
            EventKind.FACT_RECORDED,
            {
                "kind": "review.held",
                "version": 1,
                "payload": {"notes": f"review {n}"},
                "provenance": "attested",
                "comment": "we met",
            },
        )
        if n % 10 == 0:
            payload = {
                "kind": "access.request",
                "version": 1,
                "payload": {"person": name, "reason": ""},
                "provenance": "measured",
                "collector": "inhouse access",
            }
        entries.append((name, key, str(kind), payload))
    append_signed(program.store, (seq, prev), entries, start)
    return program


def main(count: int = 100_000, runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "program"
        folder.mkdir()
        os.environ["HOME"] = tmp
        began = time.perf_counter()
        program = _build(folder, count)
        print(f"built {program.state().head_seq} events in {time.perf_counter() - began:.1f} s")
        fresh = Program.open(folder, key=program.key)
        began = time.perf_counter()
        state = fresh.state()
        fold = time.perf_counter() - began
        began = time.perf_counter()
        fresh.status()
        build = time.perf_counter() - began
        print(f"in-process: fold {fold * 1000:.0f} ms, status {build * 1000:.0f} ms "
              f"({len(state.facts)} facts)")  # fmt: skip
        command = [sys.executable, "-m", "inhouse", "status", "--json"]
        env = {**os.environ, "INHOUSE_KEY": str(program.key.path)}
        subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - began)
        print(
            f"inhouse status --json on {count} events: median {statistics.median(times):.2f} s, "
            f"best {min(times):.2f} s over {runs} runs"
        )


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
