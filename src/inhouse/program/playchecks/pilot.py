"""Play 4, the pilot: demand, size, enablement, the prompt library, independent use, survey."""

from __future__ import annotations

from datetime import UTC, datetime

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
    enrolled_elsewhere,
    ever_held,
    names,
    not_counted,
    one_per_machine,
    split_aside,
    unsigned_apart,
)

__all__: list[str] = []  # nothing to import: the checks are reached through the registry


# -- play 4: pilot ---------------------------------------------------------------------------------


@register_check("demand-spreading", reads=("access.request",))
def demand_spreading(ctx: CheckContext) -> Result:
    """Several distinct people asked for access, each from a machine of their own."""
    wanted = int(ctx.param("min_people", 3))
    requests = ctx.facts.of("access.request")
    # the leads, and whoever owns the pilot, are who decides: their asking is not demand, nor is
    # a request from their machine or from one another asker's machine (one laptop, one person)
    judged = ever_held(ctx, "rollout-lead") | {o for o in (ctx.owners.get("pilot"),) if o}
    people, aside = one_per_machine(ctx, (f.by for f in requests), judged)
    aside, unsigned = split_aside(ctx, aside, judged)
    note = not_counted([
        f"{names(aside)} (a lead or the pilot's owner, or enrolled from a machine one of them "
        "or another asker enrolled from)" if aside else "",
        unsigned,
    ])  # fmt: skip
    if len(people) >= wanted:
        return passed(f"{len(people)} people asked for access{note}", *requests)
    return failed(
        f"{len(people)} of {wanted} access requests from distinct people{note}", *requests
    )


def members(ctx: CheckContext) -> dict[str, Fact]:
    """The pilot: people a rollout lead added with a track (`inhouse pilot add`), not removed
    since, who hold the pilot-user role, and enrolled a key from a machine of their own; each
    with the fact that added them. (The rest: :func:`set_aside`.)"""
    return _judged(ctx)[0]


def set_aside(ctx: CheckContext) -> dict[str, str]:
    """Pilot members who do not count, and why: every key of theirs was enrolled from a machine
    that the pilot's owner, or the lead who added them, enrolled from, or that a member counted
    before them (by name) enrolled from. One person at one laptop with a second key for a
    "colleague" is one person, not a pilot of two; five keys at one desk are one member."""
    return _judged(ctx)[1]


def _judged(ctx: CheckContext) -> tuple[dict[str, Fact], dict[str, str]]:
    listed = _listed(ctx)
    counted: dict[str, Fact] = {}
    aside: dict[str, str] = {}
    for person in sorted(listed):
        why = _aside(ctx, person, listed[person], set(counted))
        if why is None:
            counted[person] = listed[person]
        else:
            aside[person] = why
    return counted, aside


def _listed(ctx: CheckContext) -> dict[str, Fact]:
    current: dict[str, Fact] = {}
    leads = ever_held(ctx, "rollout-lead")
    for fact in ctx.facts.of("pilot.member"):
        if fact.by not in leads:
            continue  # `inhouse pilot add` is a lead's act: a colleague's fact adds nobody
        person = str(fact.payload["person"])
        if fact.payload["action"] == "added":
            current[person] = fact
        else:
            current.pop(person, None)
    return {
        person: fact
        for person, fact in current.items()
        if person in ctx.people
        and "pilot-user" in ctx.people[person].roles
        and not ctx.people[person].service
    }


def _aside(ctx: CheckContext, person: str, added: Fact, counted: set[str]) -> str | None:
    judged = {p for p in (ctx.owners.get("pilot"), added.by) if p}
    if person in judged:
        return f"{person} is judged here (the pilot's owner or the lead who added them)"
    if unsigned := unsigned_apart(ctx, person, judged):
        return f"{unsigned}: a member counts once the organisation's sign-in vouched for them"
    if not enrolled_elsewhere(ctx, person, judged):
        return f"{person} enrolled only from a machine {names(sorted(judged))} enrolled from"
    if not enrolled_elsewhere(ctx, person, judged | counted):
        return (
            f"{person} enrolled only from machines other members enrolled from: one machine "
            "counts as one member"
        )
    return None


def _aside_note(ctx: CheckContext) -> str:
    aside = set_aside(ctx)
    if not aside:
        return ""
    return "; not counted: " + "; ".join(aside[p] for p in sorted(aside))


def _no_members(ctx: CheckContext) -> Result:
    if aside := _aside_note(ctx):
        return failed(f"no pilot members count{aside}")
    loose = [p.name for p in ctx.pilot]
    if loose:
        return failed(
            f"no pilot members added with a track; {names(loose)} hold the pilot-user role "
            "only: a rollout lead adds each with `inhouse pilot add PERSON --track TRACK`"
        )
    return failed("no pilot members yet: `inhouse pilot add PERSON --track TRACK`")


@register_check("pilot-size", reads=("pilot.member",))
def pilot_size(ctx: CheckContext) -> Result:
    """Between min and max pilot members, from at least min_teams teams (each member's team
    is the roster's, as a lead typed it in the invitation: the reason says so)."""
    low, high = int(ctx.param("min", 5)), int(ctx.param("max", 10))
    teams_needed = int(ctx.param("min_teams", 3))
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    teams = {ctx.people[person].team for person in pilot if ctx.people[person].team}
    evidence = tuple(pilot.values())
    aside = _aside_note(ctx)
    if not low <= len(pilot) <= high:
        return failed(
            f"the pilot has {len(pilot)} members; the play wants {low} to {high}{aside}",
            *evidence,
        )
    if len(teams) < teams_needed:
        return failed(
            f"the pilot spans {len(teams)} team(s) ({names(list(teams))}); the play wants "
            f"{teams_needed}{aside}",
            *evidence,
        )
    # the roster's teams are what the leads typed in each invitation: said as such
    return passed(
        f"{len(pilot)} members across {len(teams)} teams (as the roster names them, a lead's "
        f"word){aside}",
        *evidence,
    )


@register_check("pilot-enabled", reads=("pilot.member", "enablement.completed"))
def pilot_enabled(ctx: CheckContext) -> Result:
    """Every pilot member completed their role track's enablement, measured step by step and
    recorded with the member's own key (a completion someone else signed does not count)."""
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    done = [
        f
        for f in ctx.facts.of("enablement.completed")
        if f.payload["person"] in pilot
        and f.payload["track"] == pilot[str(f.payload["person"])].payload["track"]
    ]
    missing = set(pilot) - {str(f.payload["person"]) for f in done}
    if missing:
        return failed(
            f"enablement not complete for {names(list(missing))}: `inhouse pilot enablement` "
            "shows each member's steps, and each member records their own with "
            "`inhouse pilot enablement --record`",
            *done,
        )
    return passed(f"all {len(pilot)} pilot members finished their tracks", *done)


@register_check("prompt-library-seeded", reads=("prompt.version", "prompt.shared"))
def prompt_library_seeded(ctx: CheckContext) -> Result:
    """The shared prompt library has prompts from more than one author (a version's author is
    its signer)."""
    wanted = int(ctx.param("min_authors", 2))
    shared = [*ctx.facts.of("prompt.shared"), *ctx.facts.of("prompt.version")]
    # a service's key speaks for nobody; a second author at the pilot owner's own machine is the
    # owner with a second key, and two authors at one machine are one (one laptop, one person)
    shared = [f for f in shared if f.by in ctx.people and not ctx.people[f.by].service]
    owner = ctx.owners.get("pilot")
    judged = {owner} if owner else set()
    _, aside = one_per_machine(ctx, {f.by for f in shared} - judged, judged)
    shared = [f for f in shared if f.by not in aside]
    aside, unsigned = split_aside(ctx, aside, judged)
    authors = {f.by for f in shared}
    prompts = {str(f.payload["prompt"]) for f in shared}
    if len(authors) >= wanted:
        return passed(
            f"{len(prompts)} prompt(s) from {len(authors)} authors ({names(list(authors))})",
            *shared,
        )
    note = not_counted([
        f"{names(aside)}, enrolled only from a machine {owner or 'the owner'} or another "
        "author enrolled from" if aside else "",
        unsigned,
    ])  # fmt: skip
    return failed(
        f"prompts from {len(authors)} author(s) ({names(list(authors))}); the library needs "
        f"{wanted}: `inhouse prompts add NAME --file F`, each author with their own key{note}",
        *shared,
    )


@register_check("pilot-independent-use", reads=("pilot.member", "pilot.adoption"))
def pilot_independent_use(ctx: CheckContext) -> Result:
    """Most pilot members reach the tool on their own, measured from the gateway's usage log
    (`inhouse pilot adoption`, signed by the gateway's key; docs/pilot.md defines it)."""
    share = float(ctx.param("share", 0.5))
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    report = ctx.facts.latest("pilot.adoption")
    if report is None:
        return failed(
            "no adoption measured yet: `inhouse pilot adoption --record` reads the gateway's "
            "usage log"
        )
    rows = {str(row["person"]): row for row in report.payload["members"]}
    independent = [p for p in pilot if rows.get(p, {}).get("independent")]
    not_yet = [
        f"{p} ({rows[p]['reason']})" if p in rows and rows[p].get("reason") else p
        for p in sorted(pilot)
        if p not in independent
    ]
    text = (
        f"{len(independent)} of {len(pilot)} pilot members reach it on their own "
        f"(as of {report.payload['as_of']})"
    )
    if not_yet:
        text += f"; not yet: {'; '.join(not_yet)}"
    return (passed if len(independent) / len(pilot) > share else failed)(text, report)


def _closes(survey: Fact) -> datetime | None:
    try:
        closes = datetime.fromisoformat(str(survey.payload.get("closes")))
    except ValueError:
        return None
    return closes if closes.tzinfo is not None else closes.replace(tzinfo=UTC)


@register_check(
    "pilot-would-resist-losing", reads=("pilot.member", "survey.opened", "survey.response")
)
def pilot_would_resist_losing(ctx: CheckContext) -> Result:
    """Most of the pilot would be very disappointed to lose the tool (the Sean Ellis question;
    each member's own signed answer to the latest survey, given while it was open, counts)."""
    share = float(ctx.param("share", 0.5))
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    survey = ctx.facts.latest(  # a survey counts when a rollout lead opened it
        "survey.opened",
        lambda f: f.by in ctx.people and "rollout-lead" in ctx.people[f.by].roles,
    )
    name = str(survey.payload["survey"]) if survey is not None else None
    if survey is not None and any(
        f.payload.get("survey") == name
        and f.id < survey.id
        and f.by in ctx.people
        and "rollout-lead" in ctx.people[f.by].roles
        for f in ctx.facts.of("survey.opened")
    ):  # an old name opened again: its old answers would count for the new survey
        return failed(
            f"the latest survey opened ({name}, fact #{survey.id}) reuses the name of one "
            "opened before, so its answers cannot be told apart: a lead opens a new one "
            "(`inhouse survey open`)",
            survey,
        )
    closes = _closes(survey) if survey is not None else None
    latest: dict[str, Fact] = {}
    for fact in ctx.facts.of("survey.response"):
        if fact.payload["person"] not in pilot:
            continue
        if survey is not None and (
            fact.payload["survey"] != name
            or fact.id < survey.id
            or (closes is not None and fact.at > closes)
        ):
            continue  # another survey's answer, or one given outside this survey's window
        latest[str(fact.payload["person"])] = fact
    if not latest:
        return failed("no survey answers from the pilot yet: `inhouse survey open`, then each "
                      "member runs `inhouse survey answer`")  # fmt: skip
    keen = [f for f in latest.values() if f.payload["would_resist_losing"]]
    text = f"{len(keen)} of {len(pilot)} pilot members would be very disappointed to lose it"
    if len(keen) / len(pilot) > share:
        return passed(text, *latest.values())
    if len(latest) < len(pilot):
        return inconclusive(
            f"{text}; {len(pilot) - len(latest)} have not answered yet", *latest.values()
        )
    return failed(text, *latest.values())
