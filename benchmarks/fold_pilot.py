"""The fold's cost where the pilot's places are judged: a log of N events in which P people each
hold a gateway grant, C role changes are spread among them, and a listed pilot of ten exists.

Each role change (and each ``pilot.member`` fact) asks whether it took someone holding open
access out of the pilot (:func:`inhouse.program.state._places`); a first version of that rule
rescanned every fact per key holder per change (cubic: 284 s for 50k events). Prints the full
fold's time, no cache. Usage: python benchmarks/fold_pilot.py [N] [P] [C]
(default 50000 500 500)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from signed_rows import append_signed

from inhouse.program import Program
from inhouse.program.events import (
    EventKind,
    read_events,
)
from inhouse.program.facts import FACT_KINDS
from inhouse.program.state import fold


def _fact(kind: str, payload: dict[str, Any], collector: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"kind": kind, "version": FACT_KINDS[kind].version,
                             "payload": payload}  # fmt: skip
    if collector is None:
        found |= {"provenance": "attested", "comment": "we met"}
    else:
        found |= {"provenance": "measured", "collector": collector}
    return found


def _plan(n: int, p: int, c: int, written: int) -> list[tuple[str, dict[str, Any]]]:
    plan: list[tuple[str, dict[str, Any]]] = []
    for i in range(p):
        roles = ["pilot-user"] if i < 10 else []
        plan.append((EventKind.PERSON_ADDED, {"name": f"p{i}", "email": f"p{i}@x",
                                              "team": f"t{i % 7}", "roles": roles}))  # fmt: skip
    for i in range(10):
        listed = {"person": f"p{i}", "track": "everyone", "action": "added"}
        plan.append((EventKind.FACT_RECORDED, _fact("pilot.member", listed, "inhouse pilot")))
    for i in range(p):
        grant: dict[str, Any] = {"grant": f"g{i}", "person": f"p{i}", "agent": None}
        plan.append(("gateway.key.granted", grant | {"limits": {}, "waivers": []}))
    rest = n - written - len(plan)
    every = max(1, rest // max(1, c))
    changes = 0
    for j in range(rest):
        if j % every == 0 and changes < c:
            i = 10 + changes % max(1, p - 10)
            changes += 1
            plan.append((EventKind.PERSON_CHANGED, {"name": f"p{i}", "email": f"p{i}+{changes}@x",
                                                    "team": f"t{i % 7}", "roles": []}))  # fmt: skip
        else:
            plan.append((EventKind.FACT_RECORDED, _fact("review.held", {"notes": f"r{j}"})))
    return plan


def build(folder: Path, n: int, p: int, c: int) -> Program:
    """A program at ``folder`` whose log holds about ``n`` events signed by its lead."""
    program = Program.init(folder, "Bench", "lena")
    key = program.key
    seq, prev = program.state().head_seq, program.events()[-1].hash
    start = datetime(2026, 1, 1, tzinfo=UTC)
    entries = [("lena", key, str(kind), payload) for kind, payload in _plan(n, p, c, seq)]
    append_signed(program.store, (seq, prev), entries, start)
    return program


def main() -> None:
    n, p, c = (int(a) for a in (sys.argv[1:4] + ["50000", "500", "500"][len(sys.argv) - 1 :]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "program"
        folder.mkdir()
        os.environ["HOME"] = tmp
        program = build(folder, n, p, c)
        logged = read_events(program.store)
        began = time.perf_counter()
        state = fold(logged, lead_key=program.settings.lead_key, playbook=program.playbook)
        took = time.perf_counter() - began
        print(f"events {len(logged)}, people with a grant {p}, role changes {c}: "
              f"fold {took:.2f} s (tampered: {state.tampered})")  # fmt: skip
        program.close()


if __name__ == "__main__":
    main()
