"""How accurately the load generator measures: against the stand-in upstream with KNOWN injected
latency (in its own process, so the two do not share a GIL), at 1, 32 and 256 concurrent streams,
prints the measured TTFT and TPOT medians and their error against the injected values.

    python benchmarks/load_accuracy.py [--ttft-ms 200] [--tpot-ms 20] [--tokens 16] [--repeat 3]

Each level runs one warm-up round (opens the pool's connections) and then ``--rounds`` measured
rounds of as many requests as the concurrency. The target (docs/DESIGN.md) is within ±2 % at 256
concurrent streams; the test suite asserts ±5 % (tests/trials/test_load_accuracy.py). The figures
are wall-clock on this machine: a machine shared with other work makes them worse, and the load
average printed with them says how busy it was.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from inhouse.trials.load import LoadMode, Target, run_in_fast_loop, run_load


async def measure(url: str, concurrency: int, rounds: int) -> tuple[float, float, int]:
    """Median TTFT and TPOT (ms) over ``rounds`` rounds, and the number of failed requests."""
    result = await run_load(
        Target(url, "standin-model"),
        ["How accurate is the load generator?"],
        LoadMode.sequential() if concurrency == 1 else LoadMode.fixed(concurrency),
        warmup=concurrency,
        requests=concurrency * rounds,
    )
    summary = result.summary
    assert summary.ttft is not None and summary.tpot is not None, summary.errors[:3]
    return summary.ttft.p50 * 1000, summary.tpot.p50 * 1000, summary.failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--tpot-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--levels", default="1,32,256", help="concurrency levels, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="measured rounds per level")
    parser.add_argument("--repeat", type=int, default=3, help="repeat every level this often")
    parser.add_argument(
        "--loop", choices=("fast", "asyncio"), default="fast",
        help="the load generator's event loop: fast (uvloop where installed, as inhouse bench "
        "uses) or plain asyncio",
    )  # fmt: skip
    args = parser.parse_args()
    in_loop = run_in_fast_loop if args.loop == "fast" else asyncio.run
    timing = StandinTiming(ttft_ms=args.ttft_ms, tpot_ms=args.tpot_ms, tokens=args.tokens)
    levels = [int(x) for x in args.levels.split(",")]
    print(
        f"stand-in upstream: TTFT {timing.ttft_ms:g} ms, TPOT {timing.tpot_ms:g} ms, "
        f"{timing.tokens} tokens; {os.cpu_count()} CPUs, load average at start "
        f"{os.getloadavg()[0]:.2f}; load generator loop: {args.loop}"
    )
    print(f"{'streams':>7}  {'run':>3}  {'TTFT p50':>9}  {'error':>7}  {'TPOT p50':>9}  "
          f"{'error':>7}  failed")  # fmt: skip
    worst: dict[int, tuple[float, float]] = {}
    with spawn_standin(timing) as upstream:
        for level in levels:
            for run in range(1, args.repeat + 1):
                ttft, tpot, failed = in_loop(measure(upstream.url, level, args.rounds))
                ttft_err = (ttft / timing.ttft_ms - 1) * 100
                tpot_err = (tpot / timing.tpot_ms - 1) * 100
                print(f"{level:>7}  {run:>3}  {ttft:>7.2f}ms  {ttft_err:>+6.2f}%  "
                      f"{tpot:>7.3f}ms  {tpot_err:>+6.2f}%  {failed}")  # fmt: skip
                before = worst.get(level, (0.0, 0.0))
                worst[level] = (max(before[0], abs(ttft_err)), max(before[1], abs(tpot_err)))
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    for level, (ttft_err, tpot_err) in worst.items():
        mark = "within ±2 %" if max(ttft_err, tpot_err) <= 2 else "OUTSIDE ±2 %"
        print(
            f"worst at {level:>3} streams: TTFT ±{ttft_err:.2f} %, TPOT ±{tpot_err:.2f} % ({mark})"
        )


if __name__ == "__main__":
    main()
