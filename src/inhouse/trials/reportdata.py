"""The trial report's data (:class:`TrialReport`): what the JSON twin holds, what the HTML is
rendered from, what ``inhouse prove --json`` prints and what the CLI shows. Its shape is pinned
in ``docs/trials.md`` (keys are added, never renamed); each section is typed here, or by the
module that owns it (cost, privacy, verdict, sides).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict, cast

from inhouse.checks import CaseResult
from inhouse.trials.cost import CostData
from inhouse.trials.headtohead import SideResult, TrialOutcome
from inhouse.trials.metrics import Stats
from inhouse.trials.privacy import SidePrivacyData
from inhouse.trials.sides import CandidateSection, Side
from inhouse.trials.statusquo import StatusQuoSection
from inhouse.trials.verdict import DimensionData, QualityData, VerdictName

__all__ = [
    "CostSection",
    "InputRow",
    "LatencySection",
    "PrivacySection",
    "QualitySection",
    "ReportLinks",
    "SettingsSection",
    "SideRow",
    "StatsRow",
    "TimingSummary",
    "TrialReport",
    "VerdictSection",
    "report_data",
]

SCHEMA = 1


class VerdictSection(TypedDict):
    verdict: VerdictName
    proven_on: list[str]
    quality_ok: bool
    summary: str
    reasons: list[str]
    inputs_needed: int | None


class QualitySection(QualityData):
    candidate_passed: int
    #: None where the status quo's pass rate is stated, not measured
    status_quo_passed: int | None


class CostSection(TypedDict):
    candidate: CostData
    status_quo: CostData


class PrivacySection(TypedDict):
    claimed: bool
    more_private: bool
    reason: str
    candidate: SidePrivacyData
    status_quo: SidePrivacyData


class StatsRow(TypedDict):
    name: str
    count: int
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float


class TimingSummary(TypedDict):
    label: str
    metrics: list[StatsRow]


class LatencySection(TypedDict):
    candidate_s: list[float | None]
    status_quo_s: list[float | None]
    status_quo_kind: str
    summaries: list[TimingSummary]
    candidate_load: dict[str, Any] | None
    status_quo_load: dict[str, Any] | None


class SettingsSection(TypedDict):
    inputs: str
    warmup: int
    concurrency: int
    mode: str
    meaningful: dict[str, Any]
    quality_floor: float
    threshold: float | None
    generation: dict[str, Any]
    resamples: int
    seed: int


class SideRow(TypedDict):
    ok: bool
    error: str | None
    seconds: float | None
    cost: float
    passed: bool | None
    quality: str
    checks: dict[str, Any] | None
    output: str | None


class InputRow(TypedDict):
    index: int
    id: str
    candidate: SideRow
    status_quo: SideRow


class ReportLinks(TypedDict):
    html: str
    json: str


class TrialReport(TypedDict):
    schema: int
    trial: str
    description: str
    inputs_count: int
    #: the trial.verdict fact recorded for it (None until recorded)
    fact_id: int | None
    #: the candidate was inhouse's own test model: the trial proves nothing about value
    test_model: bool
    #: what anyone reading the verdict must be told, in plain sentences
    caveats: list[str]
    verdict: VerdictSection
    dimensions: list[DimensionData]
    quality: QualitySection
    checks: list[str]
    cost: CostSection
    privacy: PrivacySection
    latency: LatencySection
    candidate: CandidateSection
    status_quo: StatusQuoSection
    settings: SettingsSection
    inputs: list[InputRow]
    # set by inhouse prove once the verdict is recorded and the report written
    run_by: NotRequired[str]
    started_at: NotRequired[str]
    finished_at: NotRequired[str]
    stopped: NotRequired[bool]
    report: NotRequired[ReportLinks]


def report_data(outcome: TrialOutcome) -> TrialReport:
    """The report's data for a decided trial (NaN, where nothing could be compared, as null)."""
    plan, verdict = outcome.plan, outcome.verdict
    spec = plan.spec
    candidate, status_quo = outcome.candidate, outcome.status_quo
    quality: QualitySection = {
        **verdict.quality.to_dict(),
        "candidate_passed": _count(candidate.passed) or 0,
        "status_quo_passed": _count(status_quo.passed),
    }
    data: TrialReport = {
        "schema": SCHEMA,
        "trial": plan.name,
        "description": spec.description,
        "inputs_count": len(plan.inputs),
        "fact_id": None,
        "test_model": outcome.test_model,
        "caveats": outcome.caveats,
        "verdict": {
            "verdict": verdict.verdict,
            "proven_on": list(verdict.proven_on),
            "quality_ok": verdict.quality_ok,
            "summary": verdict.summary,
            "reasons": list(verdict.reasons),
            "inputs_needed": verdict.inputs_needed,
        },
        "dimensions": [d.to_dict() for d in verdict.dimensions],
        "quality": quality,
        "checks": [c.describe() for c in plan.checks],
        "cost": {"candidate": candidate.cost.to_dict(), "status_quo": status_quo.cost.to_dict()},
        "privacy": {
            **verdict.privacy.to_dict(),
            "candidate": candidate.privacy.to_dict(),
            "status_quo": status_quo.privacy.to_dict(),
        },
        "latency": _latency(outcome),
        "candidate": candidate.side.describe(candidate.answers),
        "status_quo": status_quo.side.describe(status_quo.answers),
        "settings": {
            "inputs": spec.task.inputs,
            "warmup": spec.warmup,
            "concurrency": spec.concurrency,
            "mode": plan.mode.describe(),
            "meaningful": spec.meaningful.model_dump(),
            "quality_floor": spec.quality_floor,
            "threshold": spec.threshold,
            "generation": plan.generation,
            "resamples": spec.resamples,
            "seed": spec.seed,
        },
        "inputs": [
            {
                "index": i,
                "id": item.id,
                "candidate": _side_row(candidate, i),
                "status_quo": _side_row(status_quo, i),
            }
            for i, item in enumerate(plan.inputs)
        ],
    }
    return cast(TrialReport, _finite(data))


def _count(passed: list[bool] | None) -> int | None:
    return None if passed is None else sum(passed)


def _finite(value: Any) -> Any:
    """``value`` with NaN (no pairs to compare) as null, so the JSON stays valid."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _latency(outcome: TrialOutcome) -> LatencySection:
    candidate, status_quo = outcome.candidate, outcome.status_quo
    return {
        "candidate_s": list(candidate.answers.seconds),
        "status_quo_s": list(status_quo.answers.seconds),
        "status_quo_kind": status_quo.side.kind,
        "summaries": [_timing_summary(candidate), _timing_summary(status_quo)],
        "candidate_load": _load_summary(candidate),
        "status_quo_load": _load_summary(status_quo),
    }


def _load_summary(side: SideResult[Side]) -> dict[str, Any] | None:
    load = side.answers.load
    return load.summary.to_dict() if load else None


def _timing_summary(side: SideResult[Side]) -> TimingSummary:
    return {"label": side.side.label, "metrics": _stats_rows(side.side.timings(side.answers))}


def _stats_rows(metrics: Sequence[tuple[str, Stats | None]]) -> list[StatsRow]:
    return [
        {
            "name": metric,
            "count": stats.count,
            "mean": stats.mean,
            "p50": stats.p50,
            "p90": stats.p90,
            "p95": stats.p95,
            "p99": stats.p99,
        }
        for metric, stats in metrics
        if stats is not None
    ]


def _side_row(side: SideResult[Side], i: int) -> SideRow:
    answers = side.answers
    case: CaseResult | None = None
    passed: bool | None
    if side.cases is None:
        passed, quality = None, "stated pass rate, not measured"
    else:
        case = side.cases[i]
        passed, quality = _case(case, answers.errors[i])
    return {
        "ok": answers.ok[i],
        "error": answers.errors[i],
        "seconds": answers.seconds[i],
        "cost": side.cost.per_task[i],
        "passed": passed,
        "quality": quality,
        "checks": None if case is None else case.to_dict(),
        "output": answers.outputs[i],
    }


def _case(case: CaseResult | None, error: str | None) -> tuple[bool, str]:
    if case is None:
        return False, f"no output ({error})" if error else "no output"
    return case.passed, case.summary()
