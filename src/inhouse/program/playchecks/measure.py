"""Play 6, measure and iterate: use beyond the pilot, indicators, findings fed back."""

from __future__ import annotations

from datetime import date, timedelta

from inhouse.program.checks import (
    CheckContext,
    Result,
    failed,
    passed,
    register_check,
)
from inhouse.program.playchecks._shared import (
    insiders,
)

__all__: list[str] = []  # nothing to import: the checks are reached through the registry


# -- play 6: measure -------------------------------------------------------------------------------


@register_check("use-beyond-pilot", reads=("usage.daily",))
def use_beyond_pilot(ctx: CheckContext) -> Result:
    """People outside the pilot (holding no role in the program) use it through the gateway."""
    inside = insiders(ctx)
    usage = [
        f
        for f in ctx.facts.of("usage.daily")
        if f.payload["person"] not in inside and f.payload["requests"] > 0
    ]
    people = {str(f.payload["person"]) for f in usage}
    wanted = int(ctx.param("min_people", 1))
    if len(people) >= wanted:
        return passed(f"{len(people)} people beyond the pilot use it", *usage)
    return failed(f"{len(people)} people beyond the pilot use it; need {wanted}", *usage)


@register_check("indicators-reported", reads=("indicators.report",))
def indicators_reported(ctx: CheckContext) -> Result:
    """Leading and lagging indicators were reported for the current period."""
    report = ctx.facts.latest("indicators.report")
    period = timedelta(days=int(ctx.param("period_days", 31)))
    if report is None:
        return failed("no indicators reported yet")
    if ctx.now.date() - date.fromisoformat(str(report.payload["period_end"])) > period:
        return failed(
            f"the last report ended {report.payload['period_end']}; it is overdue", report
        )
    if not report.payload["leading"] or not report.payload["lagging"]:
        return failed("the last report lacks leading or lagging indicators", report)
    return passed(f"period to {report.payload['period_end']} reported", report)


@register_check("findings-fed-back", reads=("feedback.applied",))
def findings_fed_back(ctx: CheckContext) -> Result:
    """A finding changed the baseline or a workflow within the period."""
    period = timedelta(days=int(ctx.param("period_days", 92)))
    fact = ctx.facts.latest("feedback.applied")
    if fact is None:
        return failed("no finding fed back into the baseline or a workflow yet")
    if ctx.now - fact.at > period:
        return failed(f"nothing fed back in the last {period.days} days", fact)
    return passed(f"{fact.payload['finding']} → {fact.payload['target']}", fact)
