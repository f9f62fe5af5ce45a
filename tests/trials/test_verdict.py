"""The verdict on constructed data: clearly faster is proven, identical is not worth it, noisy
overlap is inconclusive (with an estimate of the inputs that would settle it), and quality below
the floor is never proven, however fast."""

from __future__ import annotations

import numpy as np
import pytest

from inhouse.trials.verdict import (
    MIN_INPUTS,
    PrivacyClaim,
    compare_dimension,
    compare_quality,
    decide,
    paired_bootstrap,
)

NO_PRIVACY = PrivacyClaim(claimed=False, more_private=False, reason="not claimed")


def latencies(mean: float, spread: float, n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(np.clip(rng.normal(mean, spread, n), 0.01, None))


def quality(cand: list[bool], quo: list[bool], floor: float = 5.0):  # type: ignore[no-untyped-def]
    return compare_quality(cand, quo, floor_points=floor)


def test_clearly_faster_is_proven() -> None:
    quo = latencies(2.0, 0.2, 40, seed=1)
    cand = latencies(1.0, 0.1, 40, seed=2)
    faster = compare_dimension("faster", cand, quo, threshold=30, unit="s")
    assert faster.outcome == "cleared"
    assert 45 < faster.improvement.point < 55  # half the time: ~50 % faster
    assert faster.improvement.low >= 30
    verdict = decide([faster], quality([True] * 40, [True] * 40), NO_PRIVACY)
    assert verdict.verdict == "proven"
    assert verdict.proven_on == ["faster"]
    assert verdict.quality_ok


def test_identical_is_not_worth_it() -> None:
    same = latencies(2.0, 0.3, 30, seed=3)
    faster = compare_dimension("faster", same, same, threshold=30, unit="s")
    cheaper = compare_dimension("cheaper", [0.01] * 30, [0.01] * 30, threshold=30, unit="USD")
    assert faster.improvement.point == pytest.approx(0.0)
    assert (faster.improvement.low, faster.improvement.high) == pytest.approx((0.0, 0.0))
    assert faster.outcome == cheaper.outcome == "below"
    verdict = decide([faster, cheaper], quality([True] * 30, [True] * 30), NO_PRIVACY)
    assert verdict.verdict == "not-worth-it"
    assert verdict.proven_on == []
    assert verdict.inputs_needed is None


def test_noisy_overlap_is_inconclusive_and_asks_for_more_inputs() -> None:
    # ~35 % faster on average but very noisy: the interval straddles the 30 % threshold
    rng = np.random.default_rng(4)
    quo = list(rng.uniform(0.5, 3.5, 12))
    cand = [q * f for q, f in zip(quo, rng.uniform(0.05, 1.25, 12), strict=True)]
    faster = compare_dimension("faster", cand, quo, threshold=30, unit="s")
    assert faster.improvement.low < 30 < faster.improvement.high
    assert faster.outcome == "straddles"
    verdict = decide([faster], quality([True] * 12, [True] * 12), NO_PRIVACY)
    assert verdict.verdict == "inconclusive"
    assert verdict.inputs_needed is not None and verdict.inputs_needed > 12
    assert f"about {verdict.inputs_needed} inputs" in verdict.summary


def test_more_inputs_estimate_is_about_right() -> None:
    """The estimate (interval width ~ 1/√n) is checked by drawing that many inputs from the same
    distribution: the interval then clears the threshold."""
    rng = np.random.default_rng(5)

    def draw(n: int) -> tuple[list[float], list[float]]:
        quo = rng.uniform(1.0, 3.0, n)
        return list(quo * rng.uniform(0.2, 1.2, n)), list(quo)  # ~ 30 % faster ± noise

    cand, quo = draw(10)
    small = compare_dimension("faster", cand, quo, threshold=20, unit="s")
    assert small.outcome == "straddles" and small.inputs_needed is not None
    cand, quo = draw(small.inputs_needed * 3)
    big = compare_dimension("faster", cand, quo, threshold=20, unit="s")
    assert big.outcome != "straddles"


def test_quality_below_floor_is_not_proven_even_when_faster() -> None:
    quo = latencies(2.0, 0.2, 40, seed=6)
    cand = latencies(0.5, 0.05, 40, seed=7)
    faster = compare_dimension("faster", cand, quo, threshold=30, unit="s")
    assert faster.outcome == "cleared"
    poor = quality([i % 2 == 0 for i in range(40)], [True] * 40)  # 50 % vs 100 %
    assert not poor.ok and poor.clearly_below
    verdict = decide([faster], poor, NO_PRIVACY)
    assert verdict.verdict != "proven"
    assert verdict.verdict == "not-worth-it"
    assert verdict.proven_on == []
    assert not verdict.quality_ok


def test_quality_within_the_floor_is_acceptable() -> None:
    # candidate fails 1 of 40 more than the status quo: -2.5 points, floor 5
    cand = [True] * 38 + [False] * 2
    quo = [True] * 39 + [False]
    result = quality(cand, quo)
    assert result.difference.point == pytest.approx(-2.5)
    assert result.ok


def test_quality_slightly_below_floor_with_wide_interval_is_inconclusive() -> None:
    quo_t = latencies(2.0, 0.2, 20, seed=8)
    cand_t = latencies(0.5, 0.05, 20, seed=9)
    faster = compare_dimension("faster", cand_t, quo_t, threshold=30, unit="s")
    trailing = quality([True] * 18 + [False] * 2, [True] * 20)  # -10 points, floor 5, n=20
    assert not trailing.ok and not trailing.clearly_below
    verdict = decide([faster], trailing, NO_PRIVACY)
    assert verdict.verdict == "inconclusive"
    assert verdict.proven_on == []


def test_stated_manual_pass_rate_stands_for_every_input() -> None:
    result = compare_quality([True] * 9 + [False], None, floor_points=5, stated_rate=0.9)
    assert not result.status_quo_measured
    assert result.status_quo_pass_rate == pytest.approx(0.9)
    assert result.difference.point == pytest.approx(0.0)


def test_more_private_alone_proves_with_quality() -> None:
    claim = PrivacyClaim(claimed=True, more_private=True, reason="kept on loopback")
    quo = latencies(1.0, 0.1, 10, seed=10)
    faster = compare_dimension("faster", quo, quo, threshold=None, unit="s")
    assert faster.outcome == "not-claimed"
    verdict = decide([faster], quality([True] * 10, [True] * 10), claim)
    assert verdict.verdict == "proven"
    assert verdict.proven_on == ["more-private"]


def test_too_few_inputs_never_prove() -> None:
    quo = [2.0, 2.1, 1.9]
    cand = [0.5, 0.6, 0.4]
    faster = compare_dimension("faster", cand, quo, threshold=30, unit="s")
    assert faster.outcome == "too-few"
    verdict = decide([faster], quality([True] * 3, [True] * 3), NO_PRIVACY)
    assert verdict.verdict == "inconclusive"
    assert verdict.inputs_needed == MIN_INPUTS


def test_bootstrap_is_seeded_and_paired() -> None:
    quo = latencies(2.0, 0.5, 25, seed=11)
    cand = [q * 0.6 for q in quo]  # exactly 40 % faster on every pair
    first = paired_bootstrap(cand, quo, statistic="improvement", seed=3)
    again = paired_bootstrap(cand, quo, statistic="improvement", seed=3)
    assert first == again
    # pairs move together: a constant ratio gives a zero-width interval
    assert first.low == pytest.approx(40.0) and first.high == pytest.approx(40.0)


def test_slower_candidate_has_negative_improvement() -> None:
    quo = latencies(1.0, 0.05, 20, seed=12)
    cand = [q * 2 for q in quo]
    faster = compare_dimension("faster", cand, quo, threshold=30, unit="s")
    assert faster.improvement.point == pytest.approx(-100.0)
    assert faster.outcome == "below"
