"""Checks on what the caller measured while producing the output: latency and cost."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from inhouse.checks.base import CheckResult, Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type
from inhouse.checks.spec import CheckSpec

__all__ = [
    "READS_MEASURED",
    "TIMED_TYPES",
    "may_read_measured",
    "maybe_timed",
    "moved",
    "timed",
]

#: the check types that judge what the caller measured (the time, the cost), not the answer: a
#: decoy answer (given for nothing) is judged at the model's own time and cost too, since one
#: given instantly and free fails ``not-latency`` whatever it says
TIMED_TYPES = frozenset({"latency", "cost"})
#: the check types whose judgment may read what the caller measured: the timed ones, and a
#: ``python`` check, whose function is handed ``latency_ms`` and ``cost`` (one returning
#: ``context["latency_ms"] > 0`` is ``not-latency`` by another name). A decoy is judged at the
#: model's own time and cost wherever one of these checks the case
READS_MEASURED = TIMED_TYPES | {"python"}


def may_read_measured(checks: Iterable[CheckSpec]) -> bool:
    """Whether any of ``checks`` may judge what the caller measured (:data:`READS_MEASURED`):
    where one does, an answer given for nothing is judged at the model's own time and cost too."""
    return any(check.base in READS_MEASURED for check in checks)


def timed(checks: Iterable[CheckSpec]) -> list[CheckSpec]:
    """Those of ``checks`` that judge what the caller measured whatever the answer says
    (:data:`TIMED_TYPES`)."""
    return [check for check in checks if check.base in TIMED_TYPES]


def maybe_timed(checks: Iterable[CheckSpec]) -> list[CheckSpec]:
    """Those of ``checks`` besides the timed ones that may read what the caller measured
    (:data:`READS_MEASURED`: a ``python`` check): whether one does is seen only where an answer
    is judged at another time and cost too, and its result moves (:func:`moved`)."""
    return [c for c in checks if c.base in READS_MEASURED and c.base not in TIMED_TYPES]


def moved(here: CheckResult, there: CheckResult) -> bool:
    """Whether one check judged one answer differently at two times and costs."""
    return (here.passed, here.score, here.error) != (there.passed, there.score, there.error)


class LatencyParams(Params):
    #: the most milliseconds that pass
    threshold: float = Field(gt=0)


class CostParams(Params):
    #: the most that passes, in the currency the caller measures cost in
    threshold: float = Field(ge=0)


def _at_most(measured: float | None, threshold: float, what: str, unit: str = "") -> Finding:
    """``measured`` ≤ ``threshold``; an error when nothing was measured."""
    if measured is None:
        return Finding.failure(f"no {what} was measured for this output, so it cannot be judged")
    within = measured <= threshold
    word = "within" if within else "over"
    return Finding.of(
        within, f"{what} {measured:g}{unit}, {word} the maximum of {threshold:g}{unit}"
    )


@register_check_type("latency", params=LatencyParams, summary="answered within threshold ms")
async def latency(params: LatencyParams, output: str, ctx: QualityContext) -> Finding:
    measured = None if ctx.latency_ms is None else round(ctx.latency_ms)
    return _at_most(measured, params.threshold, "latency", " ms")


@register_check_type("cost", params=CostParams, summary="cost at most threshold")
async def cost(params: CostParams, output: str, ctx: QualityContext) -> Finding:
    return _at_most(ctx.cost, params.threshold, "cost")
