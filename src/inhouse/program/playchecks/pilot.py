"""Play 4, the pilot: demand, size, enablement, the prompt library, independent use, survey."""

from __future__ import annotations

from datetime import timedelta

from inhouse.program.checks import (
    CheckContext,
    Result,
    failed,
    inconclusive,
    passed,
    register_check,
)
from inhouse.program.facts import Fact
from inhouse.program.playchecks._shared import (
    names,
)

__all__: list[str] = []  # nothing to import: the checks are reached through the registry


# -- play 4: pilot ---------------------------------------------------------------------------------


@register_check("demand-spreading", reads=("access.request",))
def demand_spreading(ctx: CheckContext) -> Result:
    """Several distinct people asked for access."""
    wanted = int(ctx.param("min_people", 3))
    requests = ctx.facts.of("access.request")
    people = {f.by for f in requests}
    if len(people) >= wanted:
        return passed(f"{len(people)} people asked for access", *requests)
    return failed(f"{len(people)} of {wanted} access requests from distinct people", *requests)


@register_check("pilot-size", reads=())
def pilot_size(ctx: CheckContext) -> Result:
    """Between min and max pilot members, from at least min_teams teams."""
    low, high = int(ctx.param("min", 5)), int(ctx.param("max", 10))
    teams_needed = int(ctx.param("min_teams", 3))
    pilot = ctx.pilot
    teams = {person.team for person in pilot if person.team}
    if not low <= len(pilot) <= high:
        return failed(f"the pilot has {len(pilot)} members; the play wants {low} to {high}")
    if len(teams) < teams_needed:
        return failed(f"the pilot spans {len(teams)} team(s); the play wants {teams_needed}")
    return passed(f"{len(pilot)} members across {len(teams)} teams")


@register_check("pilot-enabled", reads=("enablement.completed",))
def pilot_enabled(ctx: CheckContext) -> Result:
    """Every pilot member completed role-specific enablement."""
    pilot = {person.name for person in ctx.pilot}
    if not pilot:
        return failed("no pilot members yet")
    done = [f for f in ctx.facts.of("enablement.completed") if f.payload["person"] in pilot]
    missing = pilot - {str(f.payload["person"]) for f in done}
    if missing:
        return failed(f"no enablement recorded for {names(list(missing))}", *done)
    return passed(f"all {len(pilot)} pilot members enabled", *done)


@register_check("prompt-library-seeded", reads=("prompt.shared",))
def prompt_library_seeded(ctx: CheckContext) -> Result:
    """The shared prompt library has prompts from more than one author."""
    wanted = int(ctx.param("min_authors", 2))
    shared = ctx.facts.of("prompt.shared")
    authors = {f.by for f in shared}
    if len(authors) >= wanted:
        return passed(f"{len(shared)} prompts from {len(authors)} authors", *shared)
    return failed(f"prompts from {len(authors)} author(s); the library needs {wanted}", *shared)


@register_check("pilot-independent-use", reads=("usage.daily",))
def pilot_independent_use(ctx: CheckContext) -> Result:
    """Most pilot members used the gateway on their own on enough distinct days lately."""
    share = float(ctx.param("share", 0.5))
    min_days = int(ctx.param("min_days", 3))
    since = (ctx.now - timedelta(days=int(ctx.param("window_days", 28)))).date()
    pilot = {person.name for person in ctx.pilot}
    if not pilot:
        return failed("no pilot members yet")
    usage = [
        f
        for f in ctx.facts.of("usage.daily")
        if f.payload["person"] in pilot
        and f.payload["requests"] > 0
        and str(f.payload["day"]) >= since.isoformat()
    ]
    days: dict[str, set[str]] = {}
    for fact in usage:
        days.setdefault(str(fact.payload["person"]), set()).add(str(fact.payload["day"]))
    regulars = [person for person, seen in days.items() if len(seen) >= min_days]
    if not usage:
        return failed("no gateway usage by pilot members: usage.daily facts come from the gateway")
    ratio = len(regulars) / len(pilot)
    text = (
        f"{len(regulars)} of {len(pilot)} pilot members used it on ≥{min_days} days since {since}"
    )
    return (passed if ratio > share else failed)(text, *usage)


@register_check("pilot-would-resist-losing", reads=("survey.response",))
def pilot_would_resist_losing(ctx: CheckContext) -> Result:
    """Most of the pilot say they would resist losing the tool (their latest answer counts)."""
    share = float(ctx.param("share", 0.5))
    pilot = {person.name for person in ctx.pilot}
    if not pilot:
        return failed("no pilot members yet")
    latest: dict[str, Fact] = {}
    for fact in ctx.facts.of("survey.response"):
        if fact.payload["person"] in pilot:
            latest[str(fact.payload["person"])] = fact
    if not latest:
        return failed("no survey responses from the pilot yet")
    keen = [f for f in latest.values() if f.payload["would_resist_losing"]]
    text = f"{len(keen)} of {len(pilot)} pilot members would resist losing it"
    if len(keen) / len(pilot) > share:
        return passed(text, *latest.values())
    if len(latest) < len(pilot):
        return inconclusive(
            f"{text}; {len(pilot) - len(latest)} have not answered yet", *latest.values()
        )
    return failed(text, *latest.values())
