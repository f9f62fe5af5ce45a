"""The metric formulas on constructed timings: TTFT, TPOT, ITL, E2E, throughput, goodput,
percentiles, 1-token answers, failures and estimated token counts."""

from __future__ import annotations

import numpy as np
import pytest

from inhouse.trials.metrics import SLO, Sample, Stats, summarise


def sample(
    index: int = 0,
    *,
    start: float = 0.0,
    ttft: float = 0.2,
    tokens: int = 5,
    tpot: float = 0.02,
    estimated: bool = False,
) -> Sample:
    """A completed request whose tokens arrived exactly every ``tpot`` after the first."""
    e2e = ttft + (tokens - 1) * tpot
    return Sample(
        index=index,
        ok=True,
        start=start,
        end=start + e2e,
        ttft=ttft,
        e2e=e2e,
        itl=tuple([tpot] * (tokens - 1)),
        input_tokens=10,
        output_tokens=tokens,
        output_tokens_estimated=estimated,
    )


def failed(
    index: int, *, start: float = 0.0, end: float = 0.1, message: str = "HTTP 500"
) -> Sample:
    return Sample(index=index, ok=False, start=start, end=end, error=message, status=500)


def test_tpot_is_the_time_after_the_first_token_over_the_tokens_after_it() -> None:
    s = Sample(index=0, ok=True, start=1.0, end=1.5, ttft=0.2, e2e=0.5, output_tokens=16)
    assert s.tpot == pytest.approx((0.5 - 0.2) / 15)


def test_a_one_token_answer_has_no_tpot_and_no_itl() -> None:
    one = sample(tokens=1)
    assert one.tpot is None
    summary = summarise([one], duration=1.0)
    assert summary.tpot is None
    assert summary.itl is None
    assert summary.ttft is not None and summary.ttft.p50 == pytest.approx(0.2)
    assert summary.output_tokens == 1


def test_a_failed_request_has_no_tpot_and_counts_only_as_a_failure() -> None:
    bad = failed(3, message="ClientConnectorError: refused")
    assert bad.tpot is None
    summary = summarise([sample(0), bad], duration=2.0)
    assert (summary.requests, summary.completed, summary.failed) == (2, 1, 1)
    assert summary.errors == [(3, "ClientConnectorError: refused")]
    assert summary.ttft is not None and summary.ttft.count == 1
    assert summary.request_throughput == pytest.approx(0.5)  # completed only


def test_throughput_is_over_the_run_duration() -> None:
    samples = [sample(i, start=i * 0.5, tokens=11) for i in range(4)]
    summary = summarise(samples, duration=2.0)
    assert summary.request_throughput == pytest.approx(4 / 2.0)
    assert summary.output_token_throughput == pytest.approx(44 / 2.0)
    assert summary.input_tokens == 40


def test_without_a_duration_it_spans_first_start_to_last_end() -> None:
    samples = [sample(0, start=0.0, ttft=0.1, tokens=1), sample(1, start=1.0, ttft=0.9, tokens=1)]
    assert summarise(samples).duration == pytest.approx(1.9)


def test_itl_pools_every_gap_of_every_request() -> None:
    a = Sample(index=0, ok=True, start=0, end=1, ttft=0.1, e2e=1, itl=(0.1, 0.3), output_tokens=3)
    b = Sample(index=1, ok=True, start=0, end=1, ttft=0.1, e2e=1, itl=(0.2,), output_tokens=2)
    stats = summarise([a, b], duration=1).itl
    assert stats is not None
    assert stats.count == 3
    assert stats.mean == pytest.approx(0.2)
    assert (stats.min, stats.max) == (pytest.approx(0.1), pytest.approx(0.3))


def test_percentiles_interpolate_linearly_like_numpy() -> None:
    values = [0.010, 0.020, 0.030, 0.040, 0.100]
    stats = Stats.of(values)
    assert stats is not None
    for p in (50, 90, 95, 99):
        assert stats.percentiles[p] == pytest.approx(float(np.percentile(values, p)))
    assert stats.p50 == pytest.approx(0.030)
    assert stats.p90 == pytest.approx(0.076)  # 0.04 + 0.6 * (0.1 - 0.04)
    assert stats.mean == pytest.approx(0.040)
    assert Stats.of([]) is None


def test_goodput_counts_requests_meeting_every_slo() -> None:
    fast = sample(0, ttft=0.1, tokens=5, tpot=0.01)  # e2e 0.14
    slow_first = sample(1, ttft=0.5, tokens=5, tpot=0.01)  # misses TTFT
    slow_tokens = sample(2, ttft=0.1, tokens=5, tpot=0.05)  # misses TPOT
    single = sample(3, ttft=0.1, tokens=1)  # no TPOT: meets a TPOT objective
    slo = SLO(ttft_ms=200, tpot_ms=20)
    summary = summarise([fast, slow_first, slow_tokens, single, failed(4)], duration=2.0, slo=slo)
    assert summary.good == 2
    assert summary.goodput == pytest.approx(1.0)
    assert summarise([fast, slow_tokens], duration=1.0, slo=SLO(e2e_ms=150)).good == 1
    assert summarise([fast], duration=1.0).goodput is None  # no SLO, no goodput


def test_an_slo_boundary_is_inclusive() -> None:
    exact = sample(0, ttft=0.25, tokens=1)
    assert SLO(ttft_ms=250).met(exact)
    assert not SLO(ttft_ms=249.9).met(exact)


def test_estimated_output_tokens_are_flagged_in_the_summary() -> None:
    reported = summarise([sample(0)], duration=1)
    assert reported.output_tokens_estimated is False
    mixed = summarise([sample(0), sample(1, estimated=True)], duration=1)
    assert mixed.output_tokens_estimated is True
    assert mixed.to_dict()["output_tokens_estimated"] is True


def test_the_json_shape_is_in_milliseconds() -> None:
    data = summarise([sample(0, ttft=0.2, tokens=3, tpot=0.02)], duration=1.0).to_dict()
    assert data["ttft"]["p50_ms"] == pytest.approx(200.0)
    assert data["tpot"]["mean_ms"] == pytest.approx(20.0)
    assert data["e2e"]["max_ms"] == pytest.approx(240.0)
    assert set(data["itl"]) == {
        "count", "mean_ms", "min_ms", "max_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms",
    }  # fmt: skip
    row = sample(7).to_dict()
    assert row["index"] == 7 and row["tpot_ms"] == pytest.approx(20.0)


def test_an_empty_run_summarises_to_nothing_measured() -> None:
    summary = summarise([], duration=0.0)
    assert (summary.requests, summary.completed, summary.request_throughput) == (0, 0, 0.0)
    assert summary.ttft is None and summary.e2e is None
