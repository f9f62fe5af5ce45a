"""Instructions per stream: what the gateway (and the Python floor) spend in their own process
per streamed answer, counted by valgrind's callgrind, a figure that other load on the machine
does not move.

On a shared 2-core machine the latencies and CPU times of ``bench_gateway.py`` move by 10-20 %
between runs of the same code, more than most single changes to the hot path. Callgrind counts
the instructions a process executes instead: the same code, inputs and environment give the
same count within a fraction of a percent, whatever else runs. It counts user-space
instructions only: the kernel's share of each ``read`` and ``write`` (a large part of a
proxy's cost on loopback, and the same for every proxy) is not in it.

Each proxy runs under ``valgrind --tool=callgrind --instr-atstart=no`` (about 50x slower, so
the load is light: ``--concurrency`` streams at a time, and the stand-in upstream sends a token
every ``--tpot-ms``, slowly enough that each read still brings one event, as at full speed).
After ``--warmup`` streams, instrumentation is switched on (``callgrind_control -i on``),
``--streams`` streams are sent, and it is switched off again: the count covers exactly those
streams, the gateway's usage writer thread included (it writes batches of 100 records, as a
flush at full load carries hundreds). ``--threads`` counts each thread apart (callgrind's
``--separate-threads``) and prints each: the event loop's (the first), then the executor
threads the usage writer's batches ran in.

    .venv/bin/python benchmarks/gateway/count_instructions.py [--streams 300]
        [--concurrency 4] [--tpot-ms 20] [--warmup 100] [--tokens 16] [--no-floor] [--top 25]
        [--threads]

Needs valgrind (Debian's package: ``apt-get install valgrind``). Instruction counts are printed,
never asserted in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_gateway import (
    MODEL,
    WEIGHTS,
    Level,
    inhouse_gateway,
    load_client,
    one_stream,
    python_floor,
    stream_request,
)

from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from inhouse.trials.load import run_in_fast_loop

_WRITER = {"flush_seconds": 3600, "batch_size": 100}
_TOTALS = re.compile(rb"^totals: (\d+)", re.MULTILINE)


async def _streams(url: str, key: str, count: int, concurrency: int) -> Level:
    level = Level(concurrency)
    async with load_client(url, key, concurrency) as client:
        request = stream_request(client)
        left = count

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await one_stream(client, request, level)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return level


def _instrument(pid: int, on: bool) -> None:
    done = subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(pid)],
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"callgrind_control could not switch pid {pid}: {done.stderr.strip()}")


def _count(
    name: str,
    proxy: AbstractContextManager[tuple[str, str, int]],
    args: argparse.Namespace,
    out: Path,
) -> int | None:
    """Run the load against ``proxy`` (a context manager giving url, key, pid) and return the
    instructions counted for ``--streams`` streams, or None when a stream failed."""
    with proxy as (url, key, pid):
        warm = run_in_fast_loop(_streams(url, key, args.warmup, args.concurrency))
        _instrument(pid, True)
        level = run_in_fast_loop(_streams(url, key, args.streams, args.concurrency))
        _instrument(pid, False)
    errors = warm.errors + level.errors
    if errors:
        print(f"  {name}: {errors} of {args.warmup + args.streams} streams failed")
        return None
    if args.threads:
        return _thread_counts(out, args.streams)
    found = _TOTALS.search(out.read_bytes())
    if found is None:
        raise SystemExit(f"{out}: no totals line: did callgrind write it?")
    return int(found.group(1))


def _thread_counts(out: Path, streams: int) -> int:
    """Print each thread's instructions per stream (callgrind's ``--separate-threads``
    writes a file per thread, ``OUT-NN``) and return their sum."""
    total = 0
    for part in sorted(out.parent.glob(out.name + "-*")):
        found = _TOTALS.search(part.read_bytes())
        count = 0 if found is None else int(found.group(1))
        if count:
            print(f"    thread {part.name.rsplit('-', 1)[1]}: {count / streams / 1e3:9.0f} k")
        total += count
    return total


def _top(out: Path, count: int) -> None:
    if not out.exists() or not out.stat().st_size:  # --threads: the event loop's thread's
        out = sorted(out.parent.glob(out.name + "-*"))[0]
    annotated = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", str(out)], capture_output=True, text=True
    ).stdout
    rows = [line for line in annotated.splitlines() if re.match(r"^\s*[\d,]+ \(", line)]
    for line in rows[1 : count + 1]:  # the first row is the program's total
        print("   ", line.split(" [")[0][:150])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=300, help="streams counted")
    parser.add_argument("--warmup", type=int, default=100, help="streams before counting")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument(
        "--tpot-ms", type=float, default=20.0,
        help="the stand-in's time per token: long enough that each read brings one event, as "
        "at full speed (under callgrind the proxy runs ~50x slower)",
    )  # fmt: skip
    parser.add_argument("--tokens", type=int, default=16, help="tokens (events) per stream")
    parser.add_argument("--no-floor", action="store_true", help="count the gateway only")
    parser.add_argument("--top", type=int, default=0, help="also list the N costliest functions")
    parser.add_argument(
        "--threads", action="store_true",
        help="count each thread apart (the event loop's, the usage writer's) and print each",
    )  # fmt: skip
    parser.add_argument("--keep", type=Path, help="write the callgrind files here, and keep them")
    args = parser.parse_args()
    if args.keep is not None and args.keep.exists() and any(args.keep.iterdir()):
        raise SystemExit(f"--keep {args.keep}: not empty (each run writes a program there)")
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    timing = StandinTiming(5.0, args.tpot_ms, args.tokens)
    print(f"stand-in: {args.tokens} tokens per stream; {args.streams} streams counted after "
          f"{args.warmup}, {args.concurrency} at a time, under callgrind")  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="inhouse-count-") as tmp,
        # it names as its weights the file every program's model_path names
        spawn_standin(timing, model=MODEL, root=str(Path(args.keep or tmp) / WEIGHTS)) as upstream,
    ):
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        targets = [("inhouse", "gateway, all policies on, spool_sync=batch")]
        if not args.no_floor:
            targets.insert(0, ("floor", "the Python floor (python_floor.py)"))
        counts: dict[str, int] = {}
        for name, what in targets:
            out = work / f"callgrind.{name}.out"
            prefix = ("valgrind", "-q", "--tool=callgrind", "--instr-atstart=no",
                      f"--callgrind-out-file={out}")  # fmt: skip
            if args.threads:
                prefix = (*prefix, "--separate-threads=yes")
            if name == "floor":
                proxy = python_floor(upstream.url, prefix, ready_timeout=300)
            else:
                # the usage log written in batches of 100 (never on a timer): at full load a
                # flush carries hundreds of records; a timer under callgrind's slow pace would
                # spread each flush's fixed cost over a handful
                proxy = inhouse_gateway(upstream.url, work, "batch", prefix=prefix,
                                        ready_timeout=600, gateway=_WRITER)  # fmt: skip
            total = _count(name, proxy, args, out)
            if total is None:
                continue
            counts[name] = total
            per_stream = total / args.streams / 1e3
            print(f"  {name:8s} {per_stream:9.0f} k instructions per stream  ({what})")
            if args.top:
                _top(out, args.top)
        if "floor" in counts and "inhouse" in counts:
            print(f"  inhouse / floor: {counts['inhouse'] / counts['floor']:.2f}x")


if __name__ == "__main__":
    main()
