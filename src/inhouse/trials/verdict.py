"""The verdict of a head-to-head trial, decided by confidence intervals, never by a point.

For each numeric dimension (faster: end-to-end time per task; cheaper: cost per task) the
candidate's improvement over the status quo is ``1 - mean(candidate) ÷ mean(status quo)``, in
percent, with a paired bootstrap 95 % interval over the task inputs (resampling whole inputs, so
both sides of a pair move together; numpy, seeded). Quality is the difference in pass rate, in
points, bootstrapped the same way.

* **proven** on a dimension only where the whole interval clears its threshold (or, for
  more-private, the candidate is strictly more private) **and** the candidate's pass rate is not
  below the status quo's by more than the quality floor;
* **not-worth-it** where no dimension clears and every claimed interval lies entirely below its
  threshold (or a dimension clears but quality is clearly below the floor);
* **inconclusive** otherwise — an interval straddles its threshold, or the trial has fewer than
  :data:`MIN_INPUTS` inputs, however private the candidate — with an estimate of how many
  inputs would likely settle it (an interval's width shrinks like 1/√n).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict

import numpy as np

from inhouse import figures
from inhouse.figures import share
from inhouse.program.payloads import MIN_INPUTS as _MIN_INPUTS
from inhouse.trials.bootstrap import Interval, IntervalData, paired_bootstrap

__all__ = [
    "MIN_INPUTS",
    "DimensionData",
    "DimensionResult",
    "Interval",
    "IntervalData",
    "PrivacyClaim",
    "PrivacyClaimData",
    "QualityData",
    "QualityResult",
    "Verdict",
    "VerdictData",
    "VerdictName",
    "compare_dimension",
    "compare_quality",
    "decide",
    "paired_bootstrap",
]

#: fewer paired inputs than this and no interval is trusted, and fewer inputs in all and no
#: pass rate judges quality (a "more private" claim, decided by rule, too): the verdict is
#: inconclusive
MIN_INPUTS = _MIN_INPUTS

Outcome = Literal["cleared", "below", "straddles", "not-claimed", "too-few"]
VerdictName = Literal["proven", "not-worth-it", "inconclusive"]


class DimensionData(TypedDict):
    """A :class:`DimensionResult` as JSON (a dimension with no pairs has NaN means and interval,
    which the trial report writes as null)."""

    name: Literal["faster", "cheaper"]
    unit: str
    threshold: float | None
    candidate_mean: float
    status_quo_mean: float
    improvement: IntervalData
    n: int
    outcome: Outcome
    inputs_needed: int | None


class QualityData(TypedDict):
    candidate_pass_rate: float
    status_quo_pass_rate: float
    status_quo_measured: bool
    floor_points: float
    difference: IntervalData
    n: int
    ok: bool
    clearly_below: bool


class PrivacyClaimData(TypedDict):
    claimed: bool
    more_private: bool
    reason: str


class VerdictData(TypedDict):
    verdict: VerdictName
    proven_on: list[str]
    quality_ok: bool
    summary: str
    dimensions: list[DimensionData]
    quality: QualityData
    privacy: PrivacyClaimData
    inputs_needed: int | None
    reasons: list[str]


@dataclass(frozen=True)
class DimensionResult:
    """One numeric dimension: the two sides' means, the improvement and its interval, and how
    it stands against the threshold."""

    name: Literal["faster", "cheaper"]
    unit: str
    threshold: float | None  # %, None where the trial does not claim this dimension
    candidate_mean: float
    status_quo_mean: float
    improvement: Interval
    n: int
    outcome: Outcome
    #: for a straddling interval: about how many inputs in all would likely settle it
    inputs_needed: int | None = None

    def to_dict(self) -> DimensionData:
        return {
            "name": self.name,
            "unit": self.unit,
            "threshold": self.threshold,
            "candidate_mean": self.candidate_mean,
            "status_quo_mean": self.status_quo_mean,
            "improvement": self.improvement.to_dict(),
            "n": self.n,
            "outcome": self.outcome,
            "inputs_needed": self.inputs_needed,
        }


def _inputs_needed(n: int, interval: Interval, threshold: float) -> int | None:
    """Inputs that would likely move the interval off the threshold, assuming its half-width
    shrinks like 1/√n around the same point. None where the point sits on the threshold."""
    gap = interval.point - threshold
    if gap > 0:
        half = interval.point - interval.low
    elif gap < 0:
        half = interval.high - interval.point
    else:
        return None
    if half <= 0:
        return n
    return max(n + 1, math.ceil(n * (half / abs(gap)) ** 2))


def compare_dimension(
    name: Literal["faster", "cheaper"],
    candidate: Sequence[float],
    status_quo: Sequence[float],
    *,
    threshold: float | None,
    unit: str,
    resamples: int = 10_000,
    seed: int = 0,
) -> DimensionResult:
    """Compare one dimension over paired inputs (lower is better on both sides)."""
    n = len(candidate)
    if n == 0:
        nothing = Interval(math.nan, math.nan, math.nan)
        return DimensionResult(
            name, unit, threshold, math.nan, math.nan, nothing, 0, "too-few", MIN_INPUTS
        )
    interval = paired_bootstrap(
        candidate, status_quo, statistic="improvement", resamples=resamples, seed=seed
    )
    needed: int | None = None
    outcome: Outcome
    if threshold is None:
        outcome = "not-claimed"
    elif n < MIN_INPUTS:
        outcome, needed = "too-few", MIN_INPUTS
    elif interval.low >= threshold:
        outcome = "cleared"
    elif interval.high < threshold:
        outcome = "below"
    else:
        outcome, needed = "straddles", _inputs_needed(n, interval, threshold)
    return DimensionResult(
        name=name,
        unit=unit,
        threshold=threshold,
        candidate_mean=float(np.mean(candidate)),
        status_quo_mean=float(np.mean(status_quo)),
        improvement=interval,
        n=n,
        outcome=outcome,
        inputs_needed=needed,
    )


@dataclass(frozen=True)
class QualityResult:
    """Pass rates of both sides and the candidate's difference in points, with its interval."""

    candidate_pass_rate: float
    status_quo_pass_rate: float
    #: False where the status quo's pass rate was stated by the trial's author, not measured
    status_quo_measured: bool
    floor_points: float
    difference: Interval  # candidate - status quo, in points
    n: int

    @property
    def ok(self) -> bool:
        """Not worse than the floor: the candidate trails by at most ``floor_points``."""
        return self.difference.point >= -self.floor_points

    @property
    def clearly_below(self) -> bool:
        """The whole interval lies below the floor: more inputs would not rescue it."""
        return self.difference.high < -self.floor_points

    def to_dict(self) -> QualityData:
        return {
            "candidate_pass_rate": self.candidate_pass_rate,
            "status_quo_pass_rate": self.status_quo_pass_rate,
            "status_quo_measured": self.status_quo_measured,
            "floor_points": self.floor_points,
            "difference": self.difference.to_dict(),
            "n": self.n,
            "ok": self.ok,
            "clearly_below": self.clearly_below,
        }


def compare_quality(
    candidate_passed: Sequence[bool],
    status_quo_passed: Sequence[bool] | None,
    *,
    floor_points: float,
    stated_rate: float | None = None,
    resamples: int = 10_000,
    seed: int = 0,
) -> QualityResult:
    """Compare pass rates per input. Without measured status-quo results, ``stated_rate`` (the
    author's word for the manual process) stands for every input."""
    cand = [1.0 if p else 0.0 for p in candidate_passed]
    measured = status_quo_passed is not None
    if status_quo_passed is not None:
        quo = [1.0 if p else 0.0 for p in status_quo_passed]
    elif stated_rate is not None:
        quo = [float(stated_rate)] * len(cand)
    else:
        raise ValueError("the status quo needs measured results or a stated pass rate")
    interval = paired_bootstrap(cand, quo, statistic="difference", resamples=resamples, seed=seed)
    return QualityResult(
        candidate_pass_rate=float(np.mean(cand)),
        status_quo_pass_rate=float(np.mean(quo)),
        status_quo_measured=measured,
        floor_points=floor_points,
        difference=interval,
        n=len(cand),
    )


@dataclass(frozen=True)
class PrivacyClaim:
    """The more-private dimension: measured destinations, decided by rule (no interval)."""

    claimed: bool
    more_private: bool
    reason: str

    def to_dict(self) -> PrivacyClaimData:
        return {"claimed": self.claimed, "more_private": self.more_private, "reason": self.reason}


@dataclass(frozen=True)
class Verdict:
    verdict: VerdictName
    proven_on: list[str]
    quality_ok: bool
    summary: str
    dimensions: list[DimensionResult]
    quality: QualityResult
    privacy: PrivacyClaim
    #: for an inconclusive verdict: about how many inputs in all would likely settle it
    inputs_needed: int | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> VerdictData:
        return {
            "verdict": self.verdict,
            "proven_on": list(self.proven_on),
            "quality_ok": self.quality_ok,
            "summary": self.summary,
            "dimensions": [d.to_dict() for d in self.dimensions],
            "quality": self.quality.to_dict(),
            "privacy": self.privacy.to_dict(),
            "inputs_needed": self.inputs_needed,
            "reasons": list(self.reasons),
        }


def _pct(value: float) -> str:
    return f"{value:+.1f} %"


def _describe(dim: DimensionResult) -> str:
    ci = f"{_pct(dim.improvement.point)} [95 % CI {_pct(dim.improvement.low)}, " + (
        f"{_pct(dim.improvement.high)}]"
    )
    if dim.outcome == "not-claimed":
        return f"{dim.name}: {ci} (not claimed)"
    if dim.outcome == "too-few":
        paired = figures.count(dim.n, "paired inputs")
        return f"{dim.name}: only {paired}; at least {MIN_INPUTS} are needed"
    verb = {
        "cleared": "clears",
        "below": "lies entirely below",
        "straddles": "straddles",
    }[dim.outcome]
    return f"{dim.name}: {ci} {verb} the {dim.threshold:g} % threshold"


def decide(
    dimensions: Sequence[DimensionResult], quality: QualityResult, privacy: PrivacyClaim
) -> Verdict:
    """Fold the dimensions, quality and privacy into one verdict (see the module docstring)."""
    claimed = [d for d in dimensions if d.outcome != "not-claimed"]
    cleared: list[str] = [d.name for d in claimed if d.outcome == "cleared"]
    if privacy.claimed and privacy.more_private:
        cleared.append("more-private")
    reasons = [_describe(d) for d in dimensions]
    if privacy.claimed:
        reasons.append(f"more-private: {privacy.reason}")
    quality_line = (
        f"quality: candidate passes {share(quality.candidate_pass_rate)}, status quo "
        f"{share(quality.status_quo_pass_rate)}"
        f"{'' if quality.status_quo_measured else ' (stated, not measured)'}; difference "
        f"{quality.difference.point:+.1f} points [95 % CI {quality.difference.low:+.1f}, "
        f"{quality.difference.high:+.1f}], floor -{quality.floor_points:g}"
    )
    reasons.append(quality_line)
    settled = [d for d in claimed if d.outcome in {"cleared", "below"}]
    open_dims = [d for d in claimed if d.outcome in {"straddles", "too-few"}]
    needed = [d.inputs_needed for d in open_dims if d.inputs_needed is not None]
    n = quality.n

    verdict: VerdictName
    more: int | None = None
    if cleared and n < MIN_INPUTS:
        # a numeric dimension cleared on fewer paired inputs is "too-few" already; "more
        # private" is decided by rule, and beside it a pass rate over a handful of inputs says
        # nothing of the candidate's quality
        verdict, more = "inconclusive", MIN_INPUTS
        summary = (
            f"{', '.join(cleared)}, but on only {figures.count(n, 'inputs')}: quality is not "
            f"judged on fewer than {MIN_INPUTS}"
        )
    elif cleared and quality.ok:
        verdict = "proven"
        summary = f"proven {', '.join(cleared)} at acceptable quality"
    elif cleared:
        if quality.clearly_below:
            verdict = "not-worth-it"
            summary = (
                f"{', '.join(cleared)} but quality is clearly below the floor "
                f"({quality.difference.point:+.1f} points vs -{quality.floor_points:g})"
            )
        else:
            verdict = "inconclusive"
            more = _quality_inputs_needed(quality)
            summary = (
                f"{', '.join(cleared)} but quality trails by more than the floor and its "
                "interval reaches above it"
            )
    elif not open_dims and settled:
        verdict = "not-worth-it"
        summary = "no claimed dimension clears its threshold; every interval lies below it"
    elif not open_dims:
        verdict = "not-worth-it"
        summary = "no claimed dimension is met"
    else:
        verdict = "inconclusive"
        more = min(needed) if needed else None
        names = ", ".join(d.name for d in open_dims)
        summary = f"{names}: the interval straddles the threshold"
    if verdict == "inconclusive":
        if more is not None and more > n:
            summary += f"; about {more} inputs in all ({more - n} more) would likely settle it"
        else:
            summary += "; more inputs alone may not settle it (the estimate sits at the line)"
    return Verdict(
        verdict=verdict,
        proven_on=cleared if verdict == "proven" else [],
        quality_ok=quality.ok,
        summary=summary,
        dimensions=list(dimensions),
        quality=quality,
        privacy=privacy,
        inputs_needed=more if verdict == "inconclusive" else None,
        reasons=reasons,
    )


def _quality_inputs_needed(quality: QualityResult) -> int | None:
    """Inputs that would likely tell whether quality is really below the floor."""
    floor = -quality.floor_points
    half = quality.difference.high - quality.difference.point
    gap = floor - quality.difference.point
    if gap <= 0 or half <= 0:
        return None
    return max(quality.n + 1, math.ceil(quality.n * (half / gap) ** 2))
