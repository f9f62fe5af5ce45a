"""Acceptance: the load generator measures a stand-in upstream with KNOWN injected latency
(TTFT 200 ms, then a token every 20 ms, 16 tokens) within ±5 % at 1, 32 and 256 concurrent
streams. The stand-in runs in its own process so the two do not share a GIL; each level first
runs one warm-up round (opening the pool's connections), then one measured round.

This is the one place the suite asserts timings, because the issue asks for exactly this
tolerance. ``benchmarks/load_accuracy.py`` prints the figures (target ±2 % at 256).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inhouse.testing.standin_upstream import StandinProcess, StandinTiming, spawn_standin
from inhouse.trials.load import LoadMode, Target, run_in_fast_loop, run_load

TIMING = StandinTiming(ttft_ms=200, tpot_ms=20, tokens=16)
TOLERANCE = 0.05


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinProcess]:
    with spawn_standin(TIMING) as process:
        yield process


@pytest.mark.parametrize("concurrency", [1, 32, 256])
def test_ttft_and_tpot_medians_are_within_5_percent(
    standin: StandinProcess, concurrency: int
) -> None:
    mode = LoadMode.sequential() if concurrency == 1 else LoadMode.fixed(concurrency)
    # one stream at a time measures five streams: a median of one is whatever the machine did
    # to that one (a busy host once put its TTFT at 214 ms)
    requests = 5 if concurrency == 1 else concurrency
    result = run_in_fast_loop(
        run_load(
            Target(standin.url, "standin-model"),
            ["How accurate is the load generator?"],
            mode,
            warmup=concurrency,
            requests=requests,
        )
    )
    summary = result.summary
    assert summary.completed == requests, summary.errors[:3]
    assert not summary.output_tokens_estimated  # the stand-in reports usage when asked
    assert summary.output_tokens == requests * TIMING.tokens
    assert summary.ttft is not None and summary.tpot is not None
    ttft_ms = summary.ttft.p50 * 1000
    tpot_ms = summary.tpot.p50 * 1000
    assert ttft_ms == pytest.approx(TIMING.ttft_ms, rel=TOLERANCE), f"TTFT p50 {ttft_ms:.2f} ms"
    assert tpot_ms == pytest.approx(TIMING.tpot_ms, rel=TOLERANCE), f"TPOT p50 {tpot_ms:.3f} ms"
