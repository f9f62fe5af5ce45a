"""Where the gateway's added latency goes at one stream, step by step, and what waking costs
Python on this machine.

At one stream the gateway adds several times what nginx adds (``bench_gateway.py``), although
its instruction count per request (``count_instructions.py``) would take a small fraction of
that time on a warm processor. This script shows both halves of why:

1. **The wake penalty.** The median time of one small call (``UsageRecord.now``, a few
   hundred instructions; an empty function) right after the process slept 0, 2 and 50 ms.
   Where sleeping costs the processor its caches, branch history and TLB (a virtual machine
   whose host runs others between our wake-ups), every step of a request that arrives after a
   pause runs several times slower than in a loop.
2. **The request's steps, timed inside the gateway.** The gateway runs with
   ``benchmarks/gateway/probe`` on its ``PYTHONPATH`` (a ``sitecustomize`` that wraps each
   step to time its calls; nothing else changes) under one stream of the stand-in's answers,
   and the medians are printed: the steps before the request goes upstream and those after the
   runtime's ``[DONE]`` are on the answer's critical path; the rest happens while the runtime
   generates. The wrapping adds a little to each step; the added e2e p50 of a plain gateway
   and of the probed one are both printed.

    .venv/bin/python benchmarks/gateway/one_stream.py [--seconds 10]

Figures are printed, never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_gateway import MODEL, WEIGHTS, inhouse_gateway, pct, python_floor, run_level

from inhouse.gateway.usage import UsageRecord
from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from inhouse.trials.load import run_in_fast_loop

PROBE = Path(__file__).parent / "probe"


def _empty() -> None:
    return None


def wake_penalty(call: Callable[[], object], gap: float, rounds: int = 200) -> float:
    """Median µs of one ``call`` made right after sleeping ``gap`` seconds."""
    clock = time.perf_counter
    times = []
    for _ in range(rounds):
        if gap:
            time.sleep(gap)
        start = clock()
        call()
        times.append(clock() - start)
    return statistics.median(times) * 1e6


def added_p50(url: str, key: str, seconds: float, direct: float) -> tuple[float, int]:
    level = run_in_fast_loop(run_level(url, key, 1, seconds, 20))
    return pct(level.e2e, 50) - direct, len(level.e2e)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per target")
    parser.add_argument("--ttft-ms", type=float, default=20.0)
    parser.add_argument("--tpot-ms", type=float, default=2.0)
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()

    print("1. one small call right after sleeping (median µs):")
    print(f"   {'slept':>8} {'UsageRecord.now':>16} {'empty function':>15}")
    for gap in (0.0, 0.002, 0.05):
        now = wake_penalty(UsageRecord.now, gap)
        empty = wake_penalty(_empty, gap)
        print(f"   {gap * 1000:>6.0f} ms {now:>16.1f} {empty:>15.2f}")

    timing = StandinTiming(args.ttft_ms, args.tpot_ms, args.tokens)
    print(f"\n2. one stream (stand-in: ttft {timing.ttft_ms} ms, tpot {timing.tpot_ms} ms, "
          f"{timing.tokens} tokens), {args.seconds:.0f} s per target")  # fmt: skip
    with (
        tempfile.TemporaryDirectory(prefix="inhouse-one-stream-") as tmp,
        spawn_standin(timing, model=MODEL, root=str(Path(tmp) / WEIGHTS)) as upstream,
    ):
        work = Path(tmp)
        direct = run_in_fast_loop(run_level(upstream.url, "none", 1, args.seconds, 20))
        base = pct(direct.e2e, 50)
        print(f"   direct: e2e p50 {base:.2f} ms ({len(direct.e2e)} streams)")
        with python_floor(upstream.url) as (url, key, _):
            floor, count = added_p50(url, key, args.seconds, base)
        print(f"   python floor: +{floor:.3f} ms ({count} streams)")
        with inhouse_gateway(upstream.url, work, "batch", "-plain") as (url, key, _):
            plain, count = added_p50(url, key, args.seconds, base)
        print(f"   inhouse gateway: +{plain:.3f} ms ({count} streams)")
        stages = work / "stages.json"
        os.environ["INHOUSE_STAGE_FILE"] = str(stages)
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROBE), os.environ.get("PYTHONPATH")])
        )
        try:
            with inhouse_gateway(upstream.url, work, "batch", "-probed") as (url, key, _):
                probed, count = added_p50(url, key, args.seconds, base)
        finally:
            del os.environ["INHOUSE_STAGE_FILE"]
        print(f"   inhouse gateway, each step timed: +{probed:.3f} ms ({count} streams)")
        found = json.loads(stages.read_text(encoding="utf-8"))
    print(f"\n   the steps' medians over {found['answers']} answers (µs; 'end:' steps are "
          "on the critical path after the runtime's [DONE], 'after:' steps follow the "
          "client's last bytes):")  # fmt: skip
    medians: dict[str, float] = found["median_us"]
    for label in sorted(medians, key=lambda name: (name.split(":")[0], -medians[name])):
        print(f"   {label:<34} {medians[label]:>9.1f}")
    before = sum(v for k, v in medians.items() if k.startswith("before:"))
    print(f"   {'sum of the steps before upstream':<34} {before:>9.1f}")


if __name__ == "__main__":
    main()
