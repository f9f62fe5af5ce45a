"""Play 4, the pilot: demand, size, enablement, the prompt library, independent use, survey."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from inhouse import figures
from inhouse.plaintext import drawn_reading, reading, readings
from inhouse.program.checks import (
    CONFIRMED_TERMS,
    CONFUSABLE_READING,
    EVERY_ONBOARDING,
    GATEWAY_STEP,
    LOOKALIKE_READING,
    TEAM_READING,
    CheckContext,
    Outcome,
    Result,
    failed,
    inconclusive,
    passed,
    register_check,
)
from inhouse.program.facts import (
    Fact,
    daily_usage,
    latest_usage,
    own_requests,
    own_use,
    prompt_users,
    reading_of,
)
from inhouse.program.playchecks._shared import (
    Host,
    by_enrolment,
    enrolled_elsewhere,
    ever_held,
    hosts_of,
    kept_from_before,
    names,
    not_counted,
    on_test_model,
    one_per_machine,
    released,
    services_enrolled_by,
    split_aside,
    unrecorded_lock,
    unsigned_apart,
)
from inhouse.program.prompt_versions import served_versions
from inhouse.program.state import sign_in_login

# the checks are reached through the registry; play 4's commands share these with them
__all__ = ["ELIGIBLE_DAYS", "ELIGIBLE_WINDOW_DAYS", "FRESH_DAYS", "GATEWAY_EVIDENCE",
           "STEP_EVIDENCE", "WORD",
           "Enablement", "added_team",
           "adoption_too_old", "confirmed_teams", "enablement_of", "lead_then", "members",
           "roster_correction", "said_team", "set_aside", "step_problem", "survey_too_old",
           "team_key", "team_of", "team_unconfirmed", "track_terms", "uncounted_track",
           "unmeasured_track", "unused_answer"]  # fmt: skip


# -- play 4: pilot ---------------------------------------------------------------------------------

#: play 4's id in the playbook
_PILOT = "pilot"


@register_check("demand-spreading", reads=("access.request",))
def demand_spreading(ctx: CheckContext) -> Result:
    """Several distinct people asked for access, each from a machine of their own (whoever
    enrolled from a machine first stands for it), never the gateway's host once a lead
    enrolled its key there; not the leads, nor the owner of any started play (plays 1 to 3
    built what they would ask for, and the pilot's owner decides who joins)."""
    wanted = int(ctx.param("min_people", 3))
    requests = ctx.facts.of("access.request")
    # the leads and the owners are who built and decide: their asking is not demand, nor is a
    # request from their machine or from one another asker's machine (one laptop, one person)
    judged = ever_held(ctx, "rollout-lead") | set(ctx.owners.values())
    # nor is a request whose key was made on the gateway's host, where a lead enrolled its
    # key: whoever runs it holds the key files made there
    hosts = services_enrolled_by(ctx, judged)
    people, aside = one_per_machine(ctx, (f.by for f in requests), judged, services=hosts)
    aside, unsigned = split_aside(ctx, aside, judged)
    on_hosts = f", or {hosts_of(hosts)}, where one of them enrolled its key" if hosts else ""
    note = not_counted([
        f"{names(aside)} (a lead or a play's owner, or enrolled from a machine one of them or "
        f"another asker enrolled from first{on_hosts})" if aside else "",
        unsigned,
    ])  # fmt: skip
    if len(people) >= wanted:
        return passed(f"{figures.count(len(people), 'people')} asked for access{note}", *requests)
    return failed(
        f"access requested by {len(people)} distinct {'person' if len(people) == 1 else 'people'}"
        f", need {wanted}, each with their own key from a machine of their own (`inhouse access "
        f"request`){note}",
        *requests,
    )


def members(ctx: CheckContext) -> dict[str, Fact]:
    """The pilot: people a rollout lead added with a track (`inhouse pilot add`), not removed
    since, who hold the pilot-user role, and enrolled a key from a machine of their own; each
    with the fact that added them. (The rest: :func:`set_aside`.)"""
    return _judged(ctx)[0]


def set_aside(ctx: CheckContext) -> dict[str, str]:
    """Pilot members who do not count, and why: every key of theirs was enrolled from a machine
    that the pilot's owner, or the lead who added them, enrolled from, or that a counted member
    enrolled from first, or the host of a service a lead enrolled there first (the gateway's:
    whoever runs it holds the key files made there). One person at one laptop with a second
    key for a "colleague" is one person, not a pilot of two; five keys at one desk are one
    member, whatever order they joined in."""
    return _judged(ctx)[1]


def _judged(ctx: CheckContext) -> tuple[dict[str, Fact], dict[str, str]]:
    listed = _listed(ctx)
    # a program whose play 4 exited keeps the rule it exited on for the members it exited on
    # (those it was judged on): first by name, and no host of a service counted as a lead's
    # machine
    spared = {p for p, added in listed.items() if ctx.spared(_PILOT, added)}
    before: dict[str, str | None] = {}
    if spared:
        kept: set[str] = set()
        for person in sorted(listed):
            before[person] = _aside(ctx, person, listed[person], kept)
            if before[person] is None:
                kept.add(person)
    hosts = services_enrolled_by(ctx, ever_held(ctx, "rollout-lead") | _judging(ctx, listed))
    counted: dict[str, Fact] = {}
    aside: dict[str, str] = {}
    # whoever enrolled from a machine first stands for it, whatever their name
    for person in by_enrolment(ctx, listed):
        if person in spared:
            why = before[person]
        else:
            why = _aside(ctx, person, listed[person], set(counted), hosts=hosts)
        if why is None:
            counted[person] = listed[person]
        else:
            aside[person] = why
    return dict(sorted(counted.items())), dict(sorted(aside.items()))


def _judging(ctx: CheckContext, listed: dict[str, Fact]) -> set[str]:
    """Who judges the pilot ``listed``: its owner and the leads who added its members."""
    owner = ctx.owners.get(_PILOT)
    return {added.by for added in listed.values()} | ({owner} if owner else set())


def _listings(ctx: CheckContext) -> list[Fact]:
    """The ``pilot.member`` facts that list the pilot, oldest first: each signed by someone who
    held the rollout-lead role at that event (`inhouse pilot add` is a lead's act: a
    colleague's fact adds nobody, nor does one a lead signed before the role was theirs or
    after it was taken away; a role given later does not reach back over it)."""
    return [fact for fact in ctx.facts.of("pilot.member") if lead_then(ctx, fact)]


def lead_then(ctx: CheckContext, fact: Fact) -> bool:
    """Whether ``fact`` (a lead's act: listing the pilot, opening a survey) was signed by
    someone who held the rollout-lead role at its event. So for every program, whenever its
    play 4 exited: the commands that write these (`inhouse pilot add` and `remove`, `inhouse
    survey open`) have refused anyone not a lead at the call since they first shipped, so no
    honest log holds one signed otherwise; counting such a fact once play 4 exited (as this did
    for a while) let a role given later, to the lead's own alias say, reach back over facts
    written around the commands before the exit, and play 5 read the pilot they made."""
    return ctx.held_role_at(fact.by, "rollout-lead", fact.id)


def _listed(ctx: CheckContext) -> dict[str, Fact]:
    current: dict[str, Fact] = {}
    for fact in _listings(ctx):
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


def _aside(
    ctx: CheckContext, person: str, added: Fact, counted: set[str], *, hosts: Collection[Host] = ()
) -> str | None:
    judged = {p for p in (ctx.owners.get("pilot"), added.by) if p}
    if person in judged:
        return f"{person} is judged here (the pilot's owner or the lead who added them)"
    if unsigned := unsigned_apart(ctx, person, judged):
        return f"{unsigned}: a member counts once the organisation's sign-in vouched for them"
    if not enrolled_elsewhere(ctx, person, judged):
        return f"{person} enrolled only from a machine {names(sorted(judged))} enrolled from"
    if not enrolled_elsewhere(ctx, person, judged | counted):
        return (
            f"{person} enrolled only from machines other members enrolled from first: one "
            "machine counts as one member"
        )
    if hosts and not enrolled_elsewhere(ctx, person, judged | counted, services=hosts):
        return (
            f"{person} enrolled only from {hosts_of(hosts)}, after a lead enrolled its key "
            "there: whoever runs it holds the key files made there, and could sign "
            f"anything as {person}. {person} counts once they join from a machine of their own "
            f"(`inhouse person invite {person}` with their key, then `inhouse join` and "
            f"{sign_in_login(ctx.log_file, 'on their own machine')})"
        )
    return None


def gone_since(ctx: CheckContext, seq: int) -> list[str]:
    """Who was in the pilot at event ``seq`` (a lead had added them, not removed them) and is no
    counted member now: removed since, their pilot-user role taken away, or otherwise not
    counted (a member set aside for sharing a machine, or for never signing in, aside: they were
    never one; one whose sign-in was released since is gone). An outcome
    measured over the pilot of then (a survey's answers, an adoption report) counts them still:
    else a lead who removes the unhappy after reading their answers turns a failing pilot into
    a passing one."""
    listed: set[str] = set()
    for fact in _listings(ctx):
        if fact.id >= seq:
            break
        person = str(fact.payload["person"])
        if fact.payload["action"] == "added":
            listed.add(person)
        else:
            listed.discard(person)
    return sorted(listed - _members_or_never(ctx))


def _members_or_never(ctx: CheckContext) -> set[str]:
    """Who counts as a member now, and who never could (set aside for sharing a machine, for
    never signing in, or as the lead who added themself): the rest of those a lead listed are
    gone. One whose sign-in was released since (a lead revoked every key that signed in) was
    someone once and is gone, not never: else revoking a detractor's key after reading their
    answer drops it from the count. So is a member made the pilot's owner: what they said
    before it still counts (:func:`_owner_since`)."""
    counted, aside = _judged(ctx)
    listed = _listed(ctx)
    owner = ctx.owners.get("pilot")

    def gone(person: str) -> bool:
        return (person == owner and listed[person].by != person) or released(ctx, person)

    return set(counted) | {person for person in aside if not gone(person)}


def _judged_since(ctx: CheckContext, person: str) -> int | None:
    """From which event ``person`` is judged by play 4's outcomes (its owner, from when they
    started it), or None: what a member says of the pilot once they own it is no member's word,
    and counts for nothing."""
    if person != ctx.owners.get("pilot"):
        return None
    return ctx.owner_since.get("pilot", 0)


def former_members(ctx: CheckContext) -> set[str]:
    """Everyone a rollout lead ever added to the pilot who is no counted member now (removed,
    their role taken away, their sign-in released, made its owner; one set aside for sharing a
    machine aside: they were never one). What the pilot said through them while they were in
    it (a survey answer) stays said: else a lead removes the unhappy, then opens a new survey
    (or records a new report) over the kinder pilot that is left. Whenever they were added: a
    lead may list the pilot before play 4 starts."""
    added = {str(fact.payload["person"]) for fact in _listings(ctx)
             if fact.payload["action"] == "added"}  # fmt: skip
    return added - _members_or_never(ctx)


def team_of(ctx: CheckContext, person: str, added: Fact) -> str:
    """``person``'s team as the lead's roster names it for the pilot: as a rollout lead other
    than them corrected it since a lead added them (:func:`roster_correction`), else as the
    roster named it then (``added``, their ``pilot.member`` fact): a roster edit afterwards
    moves nobody in the pilot's checks. One added before the fact recorded it: the roster's
    now."""
    corrected = roster_correction(ctx, person, after=added.id)
    if corrected is not None:
        return str(corrected.payload["team"])
    return added_team(ctx, person, added)


def added_team(ctx: CheckContext, person: str, added: Fact) -> str:
    """``person``'s team as the roster named it when a lead added them (``added``), no
    correction since (the roster-only rule a program exited on counted it so)."""
    team = added.payload.get("team")
    return str(team) if team is not None else ctx.people[person].team


def roster_correction(ctx: CheckContext, person: str, after: int = -1) -> Fact | None:
    """The latest ``pilot.roster_team`` fact after event ``after`` in which a rollout lead (at
    that event) corrected the team the roster names for ``person`` (`inhouse pilot
    correct-team`), or None. One ``person`` signed counts for nothing, a lead or not: the
    roster's side and the member's own word (``pilot.team``) are two people's, or no check."""
    return ctx.facts.latest(
        "pilot.roster_team",
        lambda f: (
            f.payload["person"] == person
            and f.id > after
            and f.by != person
            and ctx.held_role_at(f.by, "rollout-lead", f.id)
        ),
    )


def _aside_note(ctx: CheckContext) -> str:
    aside = set_aside(ctx)
    # a reason that names nobody (the organisation's sign-in is not set up) is said once, after
    # the members it sets aside: not once a member, none of them named
    unnamed: dict[str, list[str]] = {}
    notes: list[str] = []
    for person in sorted(aside):
        if re.search(rf"\b{re.escape(person)}\b", aside[person]):
            notes.append(aside[person])
        else:
            unnamed.setdefault(aside[person], []).append(person)
    notes += [f"{names(people)}: {why}" for why, people in unnamed.items()]
    # whom a pilot.member fact by someone who did not lead then would have added: said, so the
    # lead knows to add them (`inhouse pilot add`) rather than wonder where they went
    listed = _listed(ctx)
    unheld: dict[str, Fact] = {}
    for fact in ctx.facts.of("pilot.member"):
        person = str(fact.payload["person"])
        if fact.payload["action"] != "added":
            unheld.pop(person, None)
        elif person not in listed and not lead_then(ctx, fact):
            unheld[person] = fact
    notes += [
        f"{person} (fact #{fact.id} that adds them is signed by {fact.by}, who was no rollout "
        "lead then: a lead adds them with `inhouse pilot add`)"
        for person, fact in sorted(unheld.items())
    ]
    return "; not counted: " + "; ".join(notes) if notes else ""


def _no_members(ctx: CheckContext) -> Result:
    if aside := _aside_note(ctx):
        return failed(f"no pilot members count{aside}")
    loose = [p.name for p in ctx.pilot]
    if loose:
        return failed(
            f"no pilot members added with a track; {names(loose)} hold the pilot-user role "
            "only: a rollout lead adds each with `inhouse pilot add PERSON --track TRACK` "
            '(TRACK: enablement/TRACK.yaml; docs/pilot.md, "Role tracks")'
        )
    # TRACK names a file the lead writes first: `pilot add` refuses a track that does not exist
    return failed(
        "no pilot members yet: write each role's track, enablement/TRACK.yaml (docs/pilot.md, "
        '"Role tracks"), then add each member: `inhouse pilot add PERSON --track TRACK`'
    )


def said_team(ctx: CheckContext, person: str) -> Fact | None:
    """The latest ``pilot.team`` fact in which ``person`` said, with their own key, which team
    they work in (None: they have not said)."""
    return ctx.facts.latest(
        "pilot.team", lambda f: f.payload["person"] == person and f.by == person
    )


def team_key(team: str, *, wider: bool = True, confusables: bool = True) -> str:
    """A team's name as the spread counts it, as it reads (:func:`reading`): "Support" and
    "support ", "ops" and "ops" with a zero-width space, a Cyrillic o or a small capital O, and
    HR and HR in Cherokee capitals, are one team (else a lead who types one team's name two ways
    lists two, and a member who pastes the command she sends them says it with her).
    ``confusables=False``: as teams read before :data:`CONFUSABLE_READING`; ``wider=False``:
    before :data:`LOOKALIKE_READING` (each kept for a pilot whose play 4 exited on it)."""
    return reading(team, wider=wider, confusables=confusables)


def _typed_team_key(team: str) -> str:
    """A team's name as the spread counted it before :data:`TEAM_READING`: spaces and case
    folded only (kept for a pilot whose play 4 exited on it)."""
    return " ".join(team.split()).casefold()


def _drawn_together(
    ctx: CheckContext, pilot: dict[str, Fact], confirmed: dict[str, str], keys: dict[str, str]
) -> set[str]:
    """The teams ``keys`` (member -> their team's key) count, where two members whose teams'
    names are drawn alike (:func:`read_alike`: "IT" and "lT" with a small L, "0ps" and "Ops")
    are on one team: one key stands for each such group. Not for members play 4's exit was
    judged on before :data:`LOOKALIKE_READING` (they keep the count it exited on). Drawn alike
    is read on the names as typed (:func:`drawn_reading`: case folded after, "IT" and "it" are
    one key already, "it" is no "lt" and "LT" no "IT"), once a member: a pilot of thousands
    is not asked pair by pair."""
    stands: dict[str, str] = {key: key for key in keys.values()}

    def top(key: str) -> str:
        while stands[key] != key:
            key = stands[key]
        return key

    # a member's key (reading(team)) already joins the teams that read alike; the first
    # member whose team is drawn so stands for each group drawn alike
    first: dict[str, str] = {}
    for person in sorted(confirmed):
        if ctx.spared(_PILOT, pilot[person], rule=LOOKALIKE_READING):
            continue
        # one judged before CONFUSABLE_READING: as teams were drawn then (a barred O no O)
        confusables = not ctx.spared(_PILOT, pilot[person], rule=CONFUSABLE_READING)
        for drawn in _team_readings(confirmed[person], confusables=confusables)[1:]:
            if drawn in first:
                stands[top(keys[person])] = top(first[drawn])
            else:
                first[drawn] = keys[person]
    return {top(key) for key in keys.values()}


def _team_readings(team: str, *, confusables: bool) -> list[str]:
    """The ways a team's name reads that make two teams one (from :data:`LOOKALIKE_READING`):
    its key (:func:`team_key`), as it is drawn (:func:`drawn_reading`), and, from
    :data:`CONFUSABLE_READING`, both as rule 16 read it (:func:`readings`: a Greek upsilon as
    a y, an Armenian capital za as a q, which Unicode draws apart from a gamma and a gim).
    ``confusables=False`` (a member judged before it): its key and drawing as rule 16 read
    them, in each place, so a team read so meets one read either way since."""
    if not confusables:
        read, drawn = team_key(team, confusables=False), drawn_reading(team, confusables=False)
        return [f"r:{read}", f"d:{drawn}", f"a:{read}", f"b:{drawn}"]
    return [f"{way}:{each}" for way, each in zip("rdab", readings(team), strict=True)]


def _one_per_team(teams: set[str], *, wider: bool, confusables: bool) -> set[str]:
    """One spelling of ``teams`` per team: those that read alike (:func:`team_key`) are one,
    and with ``wider`` (from :data:`LOOKALIKE_READING`) those drawn alike too
    (:func:`drawn_reading`, on the names as typed)."""
    stands: dict[str, str] = {t: t for t in teams}

    def top(team: str) -> str:
        while stands[team] != team:
            team = stands[team]
        return team

    first: dict[str, str] = {}
    for team in sorted(teams):
        readings = [f"r:{team_key(team, wider=wider, confusables=confusables)}"]
        if wider:
            readings = _team_readings(team, confusables=confusables)
        for each in readings:
            if each in first:
                stands[top(team)] = top(first[each])
            else:
                first[each] = team
    return {top(team) for team in teams}


def confirmed_teams(
    ctx: CheckContext, pilot: dict[str, Fact]
) -> tuple[dict[str, str], list[Fact], list[str]]:
    """Each of ``pilot``'s members whose team counts, with that team (as the roster spells it):
    the team the lead's roster names for them (:func:`team_of`) where their own word
    (``inhouse pilot team``, :func:`said_team`) agrees; the facts they said it in; and, for each
    member whose team does not count, why, with what to run (:func:`team_unconfirmed`). What
    pilot-size spreads over and champions-named covers. The facts: each counted member's word,
    and the lead's correction their team rests on, if any."""
    teams: dict[str, str] = {}
    said: list[Fact] = []
    notes: list[str] = []
    for person, added in sorted(pilot.items()):
        listed = team_of(ctx, person, added)
        word = said_team(ctx, person)
        if word is not None and listed and team_key(listed) == team_key(str(word.payload["team"])):
            teams[person] = listed
            said.append(word)
            if (corrected := roster_correction(ctx, person, after=added.id)) is not None:
                said.append(corrected)
        else:
            notes.append(team_unconfirmed(person, listed, word))
    return teams, said, notes


def team_unconfirmed(person: str, listed: str, word: Fact | None) -> str:
    """Why ``person``'s team (``listed``, as the lead's roster names it) does not count yet, and
    who does what: they say it (their own key), or, where they said another, a lead other than
    them corrects the roster or they say it again. No one person sets both sides."""
    if word is None and listed:
        return (
            f"{person}'s team '{listed}' (the roster's, a lead's word) awaits {person}'s "
            f"`inhouse pilot team {shlex.quote(listed)}` (with their own key)"
        )
    if word is None:
        return (
            f"{person} has no team on the roster and has not said one: they run `inhouse pilot "
            f"team TEAM` with their own key, and a rollout lead other than them names it on the "
            f"roster (`inhouse pilot correct-team {person} TEAM`)"
        )
    said = str(word.payload["team"])
    roster = f"team '{listed}'" if listed else "no team"
    # quoted: a team of two words, unquoted, is two arguments, and the command fails
    again = shlex.quote(listed) if listed else "TEAM"
    return (
        f"the roster names {roster} for {person} (a lead's word), {person} says they work in "
        f"'{said}' (fact #{word.id}): if {person} is right, a rollout lead other than them "
        f"corrects the roster (`inhouse pilot correct-team {person} {shlex.quote(said)}`); if "
        f"they mistyped, they say it again (`inhouse pilot team {again}`)"
    )


@register_check("pilot-size", reads=("pilot.member", "pilot.team", "pilot.roster_team"))
def pilot_size(ctx: CheckContext) -> Result:
    """Between min and max pilot members, from at least min_teams teams. A member's team counts
    toward the spread only where the team the lead's roster names for them (as a lead typed it
    in the invitation, or corrected it since: `inhouse pilot correct-team`) agrees with the team
    the member says, with their own key, they work in (`inhouse pilot team TEAM`): one lead
    listing five colleagues of one team under five team names is one team, and a team counts
    by how its name reads (case, invisible characters and lookalike letters folded). A program whose
    play 4 exited keeps the rule it exited on (the roster's teams, a lead's word) for the
    members it exited on, and the reason says so; a member added since counts by their own
    word."""
    low, high = int(ctx.param("min", 5)), int(ctx.param("max", 10))
    teams_needed = int(ctx.param("min_teams", 3))
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    evidence = tuple(pilot.values())
    aside = _aside_note(ctx)
    if not low <= len(pilot) <= high:
        return failed(
            f"the pilot has {len(pilot)} members; the play wants {low} to {high}{aside}"
            + (
                ": add more (`inhouse pilot add PERSON --track TRACK`; someone not enrolled yet "
                "first joins: `inhouse person invite NAME`)"
                if len(pilot) < low
                else ": take some out (`inhouse pilot remove PERSON`)"
            ),
            *evidence,
        )
    confirmed, said, notes = confirmed_teams(ctx, pilot)

    def spread_key(person: str, team: str) -> str:
        # a member play 4's exit was judged on, before names were read, keeps the key it was
        # counted by then; one added since counts by how their team reads
        if ctx.spared(_PILOT, pilot[person], rule=TEAM_READING):
            return _typed_team_key(team)
        # nor one judged before more lookalike letters were read as Latin ones
        wider = not ctx.spared(_PILOT, pilot[person], rule=LOOKALIKE_READING)
        # nor one judged before Unicode's confusables were read (Cherokee's letters among them)
        confusables = not ctx.spared(_PILOT, pilot[person], rule=CONFUSABLE_READING)
        return team_key(team, wider=wider, confusables=confusables)

    keys = {person: spread_key(person, team) for person, team in confirmed.items()}
    teams = _drawn_together(ctx, pilot, confirmed, keys)
    unborne = f"; team not counted: {'; '.join(notes)}" if notes else ""
    if len(teams) >= teams_needed:
        return passed(
            f"{len(pilot)} members across {len(teams)} teams (each team as the roster names it "
            f"and its members say, with their own key, they work in){unborne}{aside}",
            *evidence,
            *said,
        )
    if _PILOT in ctx.exited:
        # the exit was made on the roster's teams alone: re-judging it would re-judge every
        # grant the reach guards let through on it since. Asked only where the members' word
        # falls short: a pass on it stays the pass the handoff was accepted on. The roster's
        # teams as it exited on them: a correction is today's rule's, and so is a member added
        # since, or one the exit was not judged on (else a lead alone keeps the exit holding,
        # typing a team for each newcomer)
        def judged(added: Fact) -> bool:
            return ctx.spared(_PILOT, added)

        roster = {
            t
            for person, added in pilot.items()
            if judged(added) and (t := added_team(ctx, person, added))
        }
        known = {team_key(team) for team in roster}
        later = {team_key(t): t for person, t in confirmed.items() if not judged(pilot[person])}
        roster |= {team for key, team in later.items() if key not in known}
        if not ctx.exited_before(_PILOT, TEAM_READING):
            # an exit judged since teams were read counts the roster's teams as they read too
            # (as they read then: with fewer lookalike letters folded before LOOKALIKE_READING)
            wider = not ctx.exited_before(_PILOT, LOOKALIKE_READING)
            confusables = not ctx.exited_before(_PILOT, CONFUSABLE_READING)
            # and, from LOOKALIKE_READING, those drawn alike as one, as the members' word reads
            # them (_drawn_together): "IT" and "lT" with a small L, a barred O and an O
            roster = _one_per_team(roster, wider=wider, confusables=confusables)
        # what the members added since said (their own word, a lead's correction)
        words = [f for f in said if not judged(pilot[str(f.payload["person"])])]
        since = (
            ""
            if all(judged(added) for added in pilot.values())
            else (f"; a member added since counts by today's rule, their own word{unborne}")
        )
        if len(roster) >= teams_needed:
            return passed(
                f"{len(pilot)} members across {len(roster)} teams (as the roster names them, a "
                "lead's word: play 4 exited before a member's own word on their team was "
                f"asked{since}){aside}",
                *evidence,
                *words,
            )
        return failed(
            f"the pilot spans {figures.count(len(roster), 'teams')} ({names(sorted(roster))}); "
            "the play wants "
            f"{teams_needed}{since}{aside}",
            *evidence,
            *words,
        )
    return failed(
        f"the pilot spans {figures.count(len(teams), 'teams')} ({names(sorted(teams))}) where the "
        "members' "
        f"own word agrees with the roster; the play wants {teams_needed}{unborne}{aside}",
        *evidence,
        *said,
    )


@register_check("pilot-enabled", reads=("pilot.member", "enablement.completed"))
def pilot_enabled(ctx: CheckContext) -> Result:
    """Every pilot member completed their role track's enablement, recorded with the member's
    own key (a completion someone else signed does not count), naming every step the track had
    when a lead added them, each borne out in the log: a measured step by counted facts of the
    kind its type rests on, from their onboarding on (the gateway's signed daily usage or prompt
    use naming the member, their own passing run of the step's workflow, which outside a demo
    the project's test model did not answer), a step the track
    leaves to their own word shown as such. A finished track counts only where one of its
    steps is borne out by the gateway's signed use of the member's own key (exit rule 13): a
    track of words alone, which the lead writes, would pass on the members' word where the
    gateway can measure. Whoever left the
    pilot before finishing (removed, or no longer counted) is named in the reason."""
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    done: list[Fact] = []
    said: dict[str, list[str]] = {}
    missing: list[str] = []
    gaps: list[str] = []
    unmeasured: list[str] = []  # finished a track of words, kept by an exit before rule 13
    for person in sorted(pilot):
        found = enablement_of(ctx, person, pilot[person])
        track = str(pilot[person].payload["track"])
        if found.completion is not None and (why := unmeasured_track(person, track, found)):
            if ctx.spared(_PILOT, found.completion, rule=GATEWAY_STEP):
                unmeasured.append(person)
            else:
                found = Enablement(None, problem=why)
        if found.completion is None:
            missing.append(person)
            if found.problem:
                gaps.append(found.problem)
            continue
        done += [found.completion, *found.evidence]
        for step in found.said:
            said.setdefault(step, []).append(person)
    left = _left_unfinished(ctx)
    if missing:
        note = f"; not borne out: {'; '.join(gaps)}" if gaps else ""
        return failed(
            f"enablement not complete for {names(missing)}: `inhouse pilot enablement` "
            "shows each member's steps, and each member records their own with "
            f"`inhouse pilot enablement --record`{note}{left}",
            *done,
        )
    words = "; ".join(f"{step} ({names(people)})" for step, people in sorted(said.items()))
    note = f"; on the member's own word, not measured: {words}" if words else ""
    if unmeasured:
        note += (
            f"; play 4 exited before a track needed a step the gateway measures: "
            f"{names(unmeasured)} finished a track with none"
        )
    return passed(f"all {len(pilot)} pilot members finished their tracks{note}{left}", *done)


#: the facts the gateway's own key signs of a person's use through a key of their own: a step
#: resting on one is the member reaching the tool, which their word alone cannot show
GATEWAY_EVIDENCE = ("usage.daily", "prompt.usage")


def unmeasured_track(person: str, track: str, found: Enablement) -> str | None:
    """Why ``person``'s finished ``track`` (``found``, borne out by :func:`enablement_of`) shows
    nothing the gateway measured of them, or None: no step of it rests on the gateway's signed
    use of their own key (a ``usage.daily`` or ``prompt.usage`` that bore a step out). Judged
    on the evidence, not the step types the lead's ``pilot.member`` names: a type is the
    lead's to type, the gateway's signature is not."""
    if any(fact.kind in GATEWAY_EVIDENCE for fact in found.evidence):
        return None
    return (
        f"{person}'s track {track} has no step the gateway measured (their own request "
        "through their own gateway key: a first-answered-request or used-shared-prompt step): "
        "their word, or a workflow run on their own machine, does not show they reach the "
        "tool through the gateway; a lead adds such a step to "
        f"enablement/{track}.yaml, then removes and adds {person} again (`inhouse pilot remove "
        f"{person}`, `inhouse pilot add {person} --track {track}`)"
    )


def uncounted_track(ctx: CheckContext, person: str, track: str, found: Enablement) -> str | None:
    """Why ``person``'s finished ``track`` counts for nothing toward ``pilot-enabled`` under
    exit rule 13 (:func:`unmeasured_track` on what bore it out, ``found``), or None: it has a
    step the gateway measured, or a play 4 that exited before the rule was judged on its
    completion (the check keeps that pass, said so). What ``inhouse pilot enablement`` shows
    beside a track whose steps are all met, so that it does not read as done where the check
    fails it."""
    why = unmeasured_track(person, track, found)
    if why is None:
        return None
    if found.completion is not None and ctx.spared(_PILOT, found.completion, rule=GATEWAY_STEP):
        return None
    return why


def _left_unfinished(ctx: CheckContext) -> str:
    """Who left the pilot without finishing their track, and how ("" when nobody did): the
    check judges the members of now, so a lead who removes those who did not finish makes it
    pass over the rest; the reason shows them, so whoever reads it can weigh that."""
    added: dict[str, Fact] = {}
    removed: dict[str, Fact] = {}
    for fact in _listings(ctx):
        person = str(fact.payload["person"])
        if fact.payload["action"] == "added":
            added[person] = fact
            removed.pop(person, None)
        else:
            removed[person] = fact
    left = []
    for person in sorted(former_members(ctx)):
        if person not in added or enablement_of(ctx, person, added[person]).completion:
            continue
        gone = removed.get(person)
        how = (
            f"removed by {gone.by}, fact #{gone.id}"
            if gone is not None
            else "no longer counted as a member"
        )
        left.append(f"{person} ({how})")
    return f"; left the pilot before finishing their track: {', '.join(left)}" if left else ""


#: what an ``enablement.step``'s ``how`` says when the member's own word met it
WORD = "attested"
#: the facts a measured enablement step may rest on: the gateway's signed figures, and a
#: member's own passing workflow run
STEP_EVIDENCE = ("usage.daily", "prompt.usage", "workflow.run")


@dataclass(frozen=True)
class Enablement:
    """A member's enablement as the log bears it out: the completion that counts (None: none
    does), the facts it rests on, its steps in the member's own word, and why not (if not)."""

    completion: Fact | None
    evidence: tuple[Fact, ...] = ()
    said: tuple[str, ...] = ()
    problem: str = ""


def enablement_of(ctx: CheckContext, person: str, added: Fact) -> Enablement:
    """``person``'s completion of the track ``added`` (their ``pilot.member`` fact) gave them
    that the log bears out: it names every step the track had when they were added (the lead's
    fact records them), and each step has an ``enablement.step`` of theirs that
    :func:`step_problem` finds nothing wrong with."""
    track = str(added.payload["track"])
    completions = [
        f for f in ctx.facts.of("enablement.completed")
        if f.payload["person"] == person and f.payload["track"] == track
    ]  # fmt: skip
    if not completions:
        return Enablement(None)
    terms = track_terms(added)
    if not terms:
        return Enablement(
            None,
            problem=f"{person} was added to the pilot (fact #{added.id}) before a member's "
            "track steps were recorded with them, so nothing says what their track asks: a "
            f"lead removes and adds them again (`inhouse pilot remove {person}`, then "
            f"`inhouse pilot add {person} --track {track}`)",
        )
    steps = _steps_of(ctx, person, track)
    problem = ""
    for completion in reversed(completions):  # the latest that holds
        named = {str(step) for step in completion.payload.get("steps") or []}
        if skipped := [step for step in terms if step not in named]:
            problem = problem or (
                f"{person}'s completion (fact #{completion.id}) does not name "
                f"{names(skipped)} of their track's steps: they run `inhouse pilot "
                "enablement --record` once every step is met"
            )
            continue
        evidence: list[Fact] = []
        said: list[str] = []
        why = []
        for step in terms:
            best, trouble = _borne_out(ctx, person, added, steps.get(step, []))
            if best is None:
                why.append(f"{step}: {trouble or 'no enablement.step of theirs records it'}")
            elif not best.payload.get("evidence"):
                said.append(step)
                evidence.append(best)
            else:
                evidence += [best, *_facts(ctx, best)]
        if not why:
            return Enablement(completion, tuple(evidence), tuple(said))
        problem = problem or f"{person}'s {'; '.join(why)}"
    return Enablement(None, problem=problem)


def track_terms(added: Fact) -> dict[str, dict[str, Any]]:
    """The steps of the track a ``pilot.member`` fact added its member on, by id, as the lead's
    fact recorded them (empty: added before facts recorded them)."""
    return {str(step["id"]): dict(step) for step in added.payload.get("steps") or []}


def _steps_of(ctx: CheckContext, person: str, track: str) -> dict[str, list[Fact]]:
    found: dict[str, list[Fact]] = {}
    for fact in ctx.facts.of("enablement.step"):
        if fact.payload["person"] == person and fact.payload["track"] == track:
            found.setdefault(str(fact.payload["step"]), []).append(fact)
    return found


def _borne_out(
    ctx: CheckContext, person: str, added: Fact, recorded: list[Fact]
) -> tuple[Fact | None, str]:
    """The step's record to go by (a measured one before a word), or None and why not."""
    trouble = ""
    word = None
    for fact in reversed(recorded):
        why = step_problem(ctx, person, added, fact)
        if why is not None:
            trouble = trouble or why
        elif fact.payload.get("evidence"):
            return fact, ""
        else:
            word = word or fact
    return (word, "") if word is not None else (None, trouble)


def step_problem(ctx: CheckContext, person: str, added: Fact, step: Fact) -> str | None:
    """Why ``person``'s ``enablement.step`` fact ``step`` is not borne out by the log, or None.
    The step must be one of their track's (as ``added``, their ``pilot.member`` fact, records
    it). A step the track leaves to their own word (``how: attested``) names no evidence and is
    shown as such; a measured one names the facts it rests on, each of which must count, be of
    the kind its step type rests on, and be theirs since they were onboarded: a ``usage.daily``
    with requests of theirs on or after that day, a ``prompt.usage`` (of the step's prompt,
    where it names one; with ``others``, of a version someone told apart from them wrote)
    among whose users they are, or their own passing ``workflow.run`` of
    the step's workflow, run on or after that day. A table row nobody signed is none of
    these."""
    terms = track_terms(added).get(str(step.payload["step"]))
    if terms is None:
        return (
            f"records step {step.payload['step']} (fact #{step.id}), which is not one of their "
            "track's steps as it stood when they were added"
        )
    kinds = [str(kind) for kind in terms.get("rests_on") or ()]
    ids = [int(i) for i in step.payload.get("evidence") or []]
    if not ids:
        if step.payload.get("how") == WORD:
            if not kinds:
                return None
            return (
                f"is measured ({terms['type']}: {' or '.join(kinds)}), not their word "
                f"(fact #{step.id}): `inhouse pilot enablement --record` finds the evidence"
            )
        return (
            f"claims measured (fact #{step.id}) but names no signed evidence: a step recorded "
            "before steps named their evidence; they run `inhouse pilot enablement --record`"
        )
    counted = {f.id: f for f in ctx.facts.of(*STEP_EVIDENCE)}
    onboarded = added.at.astimezone(UTC).date().isoformat()
    # the rule before spares a step play 4 exited on: one recorded since, or one its exit
    # was not judged on, is today's rule's
    lenient = ctx.spared(_PILOT, step)
    params = dict(terms.get("params") or {})
    for fact_id in ids:
        fact = counted.get(fact_id)
        if fact is None:
            return (
                f"rests on fact #{fact_id}, which is no counted usage.daily, prompt.usage or "
                "workflow.run (the gateway's own key did not sign it, or it is not one)"
            )
        if fact.kind not in kinds:
            return (
                f"rests on {fact.kind} #{fact.id}, but a {terms['type']} step rests on "
                f"{' or '.join(kinds) or 'their own word'}"
            )
        if not _names(fact, person, onboarded, params, lenient=lenient):
            if (
                fact.kind == "usage.daily"
                and own_requests(fact, person) == 0
                and str(fact.payload["day"]) >= onboarded
            ):
                return (
                    f"rests on usage.daily #{fact.id}, whose requests of {person}'s the gateway "
                    f"signed as all through {ctx.not_own_key()}, none "
                    f"through {person}'s own: "
                    f"{person} sends one with their own gateway key and runs `inhouse pilot "
                    "enablement --record`"
                )
            if (
                fact.kind == "prompt.usage"
                and not lenient
                and isinstance(fact.payload.get("used_by"), dict)
                and person in (fact.payload.get("people") or [])
                # the step's prompt: a use of another prompt is no bearing out, whenever
                and params.get("prompt") in (None, fact.payload.get("prompt"))
            ):
                used = (fact.payload.get("used_by") or {}).get(person)
                if used is None and (day := _unconfirmed_use(ctx, fact, person)) is not None:
                    return (
                        f"rests on prompt.usage #{fact.id}, whose use of it by {person} on {day} "
                        f"the gateway signed and {person} has not confirmed (a confirmation "
                        "covers the days of use it showed): `inhouse usage confirm` on their "
                        "machine, if they used it then"
                    )
                when = f"last on {used}" if used else f"only through {ctx.not_own_key()}"
                return (
                    f"rests on prompt.usage #{fact.id}, whose use of it by {person} the gateway "
                    f"signed {when}, not through {person}'s own key since they joined the pilot "
                    f"({onboarded}): {person} sends one with their own gateway key and runs "
                    "`inhouse pilot enablement --record`"
                )
            return f"rests on {fact.kind} #{fact.id}, which does not bear out {person}'s step"
        if fact.kind == "usage.daily" and not lenient and (why := _signed_again(ctx, fact, person)):
            return why
        if fact.kind == "workflow.run" and (why := unrecorded_lock(ctx.facts, fact)):
            return f"rests on workflow.run #{fact.id}, but {why}"
        # outside a demo, a run the test model answered showed the member nothing of the
        # workflow (a play 4 that exited on one keeps it)
        if fact.kind == "workflow.run" and (why := on_test_model(ctx, fact, play=_PILOT)):
            return f"rests on workflow.run #{fact.id}, but {why}"
        if (
            fact.kind == "prompt.usage"
            and params.get("others")
            and (why := _not_by_another(ctx, person, fact, spared=lenient))
        ):
            return f"rests on prompt.usage #{fact.id}, but the step asks for a prompt {why}"
    return None


def _unconfirmed_use(ctx: CheckContext, fact: Fact, person: str) -> str | None:
    """The day the gateway's ``prompt.usage`` ``fact`` signed ``person``'s use of its version
    on, where it counts without it only for want of their confirmation of that day; else None."""
    for left in ctx.uncounted:
        if left.fact.id == fact.id and person in left.unconfirmed:
            used = left.fact.payload.get("used_by")
            return str(used[person]) if isinstance(used, dict) and person in used else None
    return None


def _signed_again(ctx: CheckContext, fact: Fact, person: str) -> str | None:
    """Why the ``usage.daily`` ``fact`` a step of ``person``'s rests on no longer bears it out,
    or None: the gateway signed its day again since (its reading of a day replaces an earlier
    one, :func:`inhouse.program.facts.latest_usage`) without requests of theirs through a key
    of their own, so what the earlier, fuller reading said stands for nothing."""
    day = str(fact.payload["day"])
    standing = reading_of(ctx.facts.of("usage.daily"), day, person)
    if standing is not None and (standing[0].id == fact.id or own_use(standing[1])):
        return None
    since = "" if standing is None else f" (usage.daily #{standing[0].id})"
    return (
        f"rests on usage.daily #{fact.id}, but the gateway signed {day} again since{since} "
        f"with no requests of {person}'s through their own key: {person} sends one with their "
        "own gateway key and runs `inhouse pilot enablement --record`"
    )


def _not_by_another(
    ctx: CheckContext, person: str, usage: Fact, *, spared: bool = False
) -> str | None:
    """Why the library prompt a ``prompt.usage`` names was not written by someone other than
    ``person`` (its author is the signer of the library's version of that number, as the
    library folds it; an import's author is unknown), or None when it was: a step asking for
    someone else's prompt is not borne out by the member's own, nor by one from a machine of
    theirs, nor by one whose author's keys were all made on the host of a service ``person``
    enrolled there first (the gateway's: whoever runs it holds the key files made there;
    ``spared``: the step is one play 4's exit was judged on, and keeps the rule before), nor by
    a fact claiming a number the library gave another version."""
    name, number = str(usage.payload["prompt"]), int(usage.payload["version"])
    # numbered as the library numbers them: over every version it serves, counted or not
    version = served_versions(ctx).get((name, number))
    ref = f"{name}@{number}"
    if version is None:
        return f"someone else wrote, and {ref} is no version in the library"
    if version.payload.get("imported"):
        return f"someone else wrote, and {ref} was imported (its author is unknown)"
    if version.by == person:
        return f"someone else wrote, and {ref} is {person}'s own"
    if not enrolled_elsewhere(ctx, version.by, {person}):
        return (
            f"someone else wrote, and {ref}'s author, {version.by}, is not told apart from "
            f"{person} (their machines, or the organisation's sign-in)"
        )
    hosts = services_enrolled_by(ctx, {person})
    if hosts and not spared and not enrolled_elsewhere(ctx, version.by, {person}, services=hosts):
        return (
            f"someone else wrote, and {ref}'s author, {version.by}, enrolled every key from "
            f"{hosts_of(hosts)} after {person} enrolled its key there (whoever runs it holds the "
            "key files made there)"
        )
    return None


def _names(
    fact: Fact, person: str, onboarded: str, params: dict[str, Any], *, lenient: bool = False
) -> bool:
    """Whether a counted fact a step rests on is ``person``'s, since ``onboarded`` (a day), and
    of what the step names (its workflow, its prompt); a ``usage.daily`` that says how many of
    their requests came through their own key must say some did (``lenient``: the rule before
    it did, for a program whose play 4 exited on it)."""
    if fact.kind == "usage.daily":
        day = str(fact.payload["day"])
        if day < onboarded:
            return False
        mine = own_requests(fact, person)
        if mine is not None and not lenient:
            # the gateway signed how many were through their own key: a day only their agent
            # used is no request of theirs
            return mine > 0
        # a fact signed before the rollup counted own-key requests says only that they had
        # answered requests (the step's own rule read the log for whose key)
        return daily_usage(fact).get(person, {}).get("requests", 0) > 0
    if fact.kind == "prompt.usage":
        wanted = params.get("prompt")
        if wanted is not None and fact.payload.get("prompt") != wanted:
            return False
        if not lenient:
            # each person's own last use through a key of their own, where the gateway signed
            # it: the version's latest use (anyone's, an agent's included) dated everyone's
            return person in prompt_users(fact, onboarded)
        last = fact.payload.get("last_used")
        return person in (fact.payload.get("people") or []) and (
            last is None or str(last) >= onboarded
        )
    # a run sealed in the member's checkout before they joined and imported after is no later
    # for its import (``lenient``: judged by the log's time, the rule play 4 exited on)
    return (
        fact.by == person
        and bool(fact.payload.get("passed"))
        and fact.payload.get("workflow") == params.get("workflow")
        and (fact.at if lenient else fact.made).astimezone(UTC).date().isoformat() >= onboarded
    )


def _facts(ctx: CheckContext, step: Fact) -> list[Fact]:
    wanted = {int(i) for i in step.payload.get("evidence") or []}
    return [f for f in ctx.facts.of(*STEP_EVIDENCE) if f.id in wanted]


@register_check("prompt-library-seeded", reads=("prompt.version", "prompt.shared"))
def prompt_library_seeded(ctx: CheckContext) -> Result:
    """The shared prompt library has prompts from more than one author (a version's author is
    its signer; a version brought in by `inhouse prompts import` has no known author: whoever
    imported it did not write it). The rollout leads and the pilot's owner, who run the pilot,
    count as one author between them: the others are told apart from all of them (their
    machines, the gateway's host once a lead enrolled its key there, the organisation's
    sign-in)."""
    wanted = int(ctx.param("min_authors", 2))
    shared = [*ctx.facts.of("prompt.shared"), *ctx.facts.of("prompt.version")]
    imported = sorted({f.by for f in shared if f.payload.get("imported")})
    shared = [f for f in shared if not f.payload.get("imported")]
    # a service's key speaks for nobody; a second author at the pilot owner's own machine is the
    # owner with a second key, and two authors at one machine are one (one laptop, one person)
    shared = [f for f in shared if f.by in ctx.people and not ctx.people[f.by].service]
    owner = ctx.owners.get(_PILOT)
    judged = {owner} if owner else set()
    # a co-lead's prompt beside the owner's is the pilot's leadership seeding it alone
    leading = judged | ever_held(ctx, "rollout-lead")
    # an author whose key was made on the gateway's host, once a lead enrolled its key there,
    # is whoever runs it: no second author
    hosts = services_enrolled_by(ctx, leading)
    result = _seeded(ctx, shared, imported, leading, wanted, hosts=hosts)
    if result.outcome is Outcome.PASS or _PILOT not in ctx.exited:
        return result
    # a program whose play 4 exited before this rule keeps the old one: its exit (and the
    # reach the guards let through on it) is not re-judged at upgrade. Asked only where the new
    # rule falls short: a pass on it stays the pass the handoff was accepted on. For the prompts
    # it exited on: a co-lead's since, or one the exit was not judged on, is no second author
    # (else the pilot's leadership seeds the library alone after the exit). Nor is an author
    # today's rule sets aside, for a prompt the exit was not judged on: one whose keys were
    # all made at a lead's machine, or on the gateway's host she enrolled (the rule before
    # judged against the owner's machines alone, so the one she runs things on would count)
    leads = ever_held(ctx, "rollout-lead") - judged
    later = {f.by for f in shared if not ctx.spared(_PILOT, f)} - leading
    today, _ = one_per_machine(ctx, later, leading, services=hosts)
    spared = [
        f for f in shared
        if ctx.spared(_PILOT, f) or f.by in judged or (f.by not in leads and f.by in today)
    ]  # fmt: skip
    return _seeded(ctx, spared, imported, judged, wanted)


def _seeded(
    ctx: CheckContext,
    shared: list[Fact],
    imported: list[str],
    judged: set[str],
    wanted: int,
    *,
    hosts: Collection[Host] = (),
) -> Result:
    """:func:`prompt_library_seeded`'s judgment, ``judged`` (the pilot's owner, and its leads)
    counting as one author between them; ``hosts``: services' hosts that count as theirs."""
    _, aside = one_per_machine(ctx, {f.by for f in shared} - judged, judged, services=hosts)
    shared = [f for f in shared if f.by not in aside]
    aside, unsigned = split_aside(ctx, aside, judged)
    authors = {f.by for f in shared}
    leading = sorted(authors & judged)
    count = len(authors - judged) + (1 if leading else 0)
    prompts = {str(f.payload["prompt"]) for f in shared}
    one = (
        f"; {names(leading)}, the pilot's leads and owner, count as one author between them"
        if len(leading) > 1
        else ""
    )
    if count >= wanted:
        return passed(
            f"{figures.count(len(prompts), 'prompts')} from {count} authors "
            f"({names(list(authors))}){one}",
            *shared,
        )
    them = names(sorted(judged)) if judged else "the owner"
    note = not_counted([
        f"{names(aside)}, enrolled only from a machine {them} or another author enrolled "
        f"from first{f', or {hosts_of(hosts)}' if hosts else ''}" if aside else "",
        unsigned,
        f"{names(list(set(imported) - authors))} for what they brought in with `inhouse prompts "
        "import` (an import makes nobody its author)" if set(imported) - authors else "",
    ])  # fmt: skip
    return failed(
        f"prompts from {figures.count(count, 'authors')} ({names(list(authors))}){one}; the "
        "library needs "
        f"{wanted}: `inhouse prompts add NAME --file F` (F: the prompt, a YAML file of "
        "messages or a template over declared variables, in the program folder; docs/pilot.md, "
        '"A prompt and its versions"), each author with their own key, and '
        f"all but one someone other than the pilot's leads and owner{note}",
        *shared,
    )


@register_check("pilot-independent-use", reads=("pilot.member", "pilot.adoption"))
def pilot_independent_use(ctx: CheckContext) -> Result:
    """Most pilot members reach the tool on their own, measured from the gateway's usage log
    (`inhouse pilot adoption`, signed by the gateway's key; docs/pilot.md defines it), by this
    check's own threshold and window: a report measured by laxer ones (fewer days, another
    window) does not count, nor does a member's row claiming fewer active days than it. The
    latest report counts while it is as of no more than fresh_days (7) before today (once play
    4 exited, the report it exited on counts on; one recorded since is asked); a member added
    after it is not yet measured, so not independent. A member removed
    within the report's window counts, as not independent. A row's "independent" is the
    report signer's word: a member counts only where the days they confirmed themselves
    include one since their enablement finished, not the day they were onboarded (rule 9):
    not any day they were listed before the report (rule 12)."""
    share = float(ctx.param("share", 0.5))
    least, width = int(ctx.param("min_days", 3)), int(ctx.param("window_days", 28))
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)
    report = ctx.facts.latest("pilot.adoption")
    if report is None:
        return failed(
            "no adoption measured yet: `inhouse pilot adoption --record` reads the gateway's "
            "usage log"
        )
    stated = (int(report.payload["min_days"]), int(report.payload["window_days"]))
    if stated[0] < least or stated[1] != width:
        return failed(
            f"the latest adoption report (fact #{report.id}) counts "
            f"{figures.count(stated[0], 'active days')} in "
            f"{stated[1]}; this check asks for {least} in {width}: a lead records it again "
            "with `inhouse pilot adoption --record` (it reads the playbook's figures)",
            report,
        )
    if (stale := adoption_too_old(ctx, report)) is not None:
        return failed(stale, report)
    rows = {str(row["person"]): row for row in report.payload["members"]}
    # the pilot the report measured stays in it: removing who was not independent changes
    # nothing measured; and who an earlier report measured, removed before this one, counts
    # as that report measured them
    gone = [p for p in gone_since(ctx, report.id) if p in rows]
    # one removed before it but within its window counts too: not independent in a window that
    # did not measure them (an old row would freeze a better month; and a lead can read the
    # figures before recording any report, so whether one measured them is hers to choose)
    carried = _left_within(ctx, report, former_members(ctx) - set(pilot) - set(rows))
    rows.update(
        {p: {"person": p, "independent": False, "active_days": 0, "reason": _NOT_MEASURED}
         for p in carried}
    )  # fmt: skip
    judged = sorted({*pilot, *gone, *carried})
    independent = [
        p for p in judged
        if rows.get(p, {}).get("independent") and int(rows[p]["active_days"]) >= least
    ]  # fmt: skip
    # "independent" is the report's word, its signer's: the gateway's host, whose operator
    # can sign it for a member whose own confirmed days were all before their enablement
    # finished, or on the day they were onboarded. Their own word must meet those terms too
    for person, why in own_terms_unmet(ctx, report, independent).items():
        independent.remove(person)
        rows[person] = {**rows[person], "reason": why}
    not_yet = [
        f"{p} ({rows[p]['reason']})" if p in rows and rows[p].get("reason")
        else f"{p} (added after this report, fact #{pilot[p].id}: not measured in it)"
        if p not in rows and p in pilot and pilot[p].id > report.id
        else p
        for p in judged
        if p not in independent
    ]  # fmt: skip
    text = (
        f"{len(independent)} of {len(judged)} pilot members reach it on their own "
        f"(as of {report.payload['as_of']})"
    )
    if not_yet:
        text += f"; not yet: {'; '.join(not_yet)}"
    if gone:
        text += f"; counted as the report measured them, though no longer members: {names(gone)}"
    if carried:
        text += (
            "; counted as not independent, removed from the pilot within this report's window: "
            f"{names(sorted(carried))}"
        )
    return (passed if len(independent) / len(judged) > share else failed)(text, report)


#: how many days before today the latest adoption report may be as of, by default (the check's
#: ``fresh_days``): the pilot reaches the tool on its own now, not in a month long gone
FRESH_DAYS = 7


def own_terms_unmet(ctx: CheckContext, report: Fact, independent: Iterable[str]) -> dict[str, str]:
    """Of the ``independent`` people the adoption ``report`` counts on their own, those whose
    own confirmed days do not bear out its terms (exit rule 9, :func:`_own_terms_unconfirmed`),
    each with why: none where play 4 exited on the report under the rules before. What the
    check sets aside, and the dashboard shows as it counts it."""
    if ctx.spared(_PILOT, report, rule=CONFIRMED_TERMS):
        return {}
    found: dict[str, str] = {}
    for person in independent:
        if (why := _own_terms_unconfirmed(ctx, report, person)) is not None:
            found[person] = why
    return found


def _own_terms_unconfirmed(ctx: CheckContext, report: Fact, person: str) -> str | None:
    """Why ``person``'s own confirmed days (``inhouse usage confirm``, their key) do not bear
    out the ``report``'s terms for reaching the tool on their own, or None: of the report's
    window, a day on or after the day their enablement finished (as the report could read it:
    a completion recorded before it) that is not the day they were onboarded (their latest
    listing before it). A confirmation names days, not times: a day their enablement finished
    counts, as the report's rule lets a request later that day count. The report's count of
    their days is held to their confirmations already
    (:func:`inhouse.program.counting.build_context`)."""
    as_of = date.fromisoformat(str(report.payload["as_of"]))
    window = int(report.payload["window_days"])
    since = as_of - timedelta(days=window - 1)
    added = None
    # every day they were listed before it is a day they were onboarded, not only the latest:
    # a lead who lists a member again the next day would free the day she walked them through
    onboarded_on: set[date] = set()
    for fact in _listings(ctx):
        if fact.id > report.id:
            break
        if str(fact.payload["person"]) == person and fact.payload["action"] == "added":
            added = fact
            onboarded_on.add(fact.at.astimezone(UTC).date())
    if added is None:
        return None  # not listed before it (gone_since's care): judged by its count alone
    if ctx.spared(_PILOT, report, rule=EVERY_ONBOARDING):
        onboarded_on = {added.at.astimezone(UTC).date()}  # rule 9 read the latest listing
    track = str(added.payload.get("track"))
    finished = [
        f.at.astimezone(UTC).date()
        for f in ctx.facts.of("enablement.completed")
        if f.id < report.id
        and f.by == person
        and str(f.payload.get("person")) == person
        and str(f.payload.get("track")) == track
    ]
    if not finished:
        return (
            f"enablement ({track}) not finished when the report was recorded (fact "
            f"#{report.id}), though the report counts them on their own"
        )
    enabled = min(finished)
    said = {d for d in _confirmed_days(ctx, person) if since <= d <= as_of}
    if any(d >= enabled and d not in onboarded_on for d in said):
        return None
    onboarded = (
        f"the day they were onboarded ({min(onboarded_on)})"
        if len(onboarded_on) == 1
        else f"a day they were onboarded ({', '.join(map(str, sorted(onboarded_on)))})"
    )
    return (
        f"confirmed their own use on no day of the window since enablement finished "
        f"({enabled}) other than {onboarded}: the report counts "
        "them on their own, its host's word (`inhouse usage confirm` on their machine, for "
        "the days they used it)"
    )


def _confirmed_days(ctx: CheckContext, person: str) -> set[date]:
    """The days ``person`` confirmed with their own key (counted ``usage.confirmed`` facts),
    none after the day each confirmation was recorded: a day to come is nobody's use yet."""
    found: set[date] = set()
    for fact in ctx.facts.of("usage.confirmed"):
        if fact.by != person:
            continue
        recorded = fact.at.astimezone(UTC).date()
        try:
            days = {date.fromisoformat(str(v)) for v in fact.payload.get("days") or ()}
        except (TypeError, ValueError):
            continue  # appended around the API: it confirms nothing
        found |= {d for d in days if d <= recorded}
    return found


def _exited_on(ctx: CheckContext, fact: Fact) -> bool:
    """Whether play 4's exit was judged on ``fact`` (:meth:`CheckContext.spared`)."""
    return ctx.spared(_PILOT, fact)


def adoption_too_old(ctx: CheckContext, report: Fact) -> str | None:
    """Why ``report`` (the latest ``pilot.adoption``) is too old to say how the pilot uses the
    tool now, or None. A lead who records a report in a good month, and none since, would
    keep the check passing on use long over. A program whose play 4 exited is not asked of the
    report it exited on (one its exit was judged on): its exit is re-judged each day by the
    checks loaded then (the reach guards hold the pilot's widening to it), so that report going
    stale would close the gateway to those let in on it. A report recorded since, or one the
    exit left out, is asked, as in any program: else one backdated to a good month would speak
    for the pilot after its exit. The
    check's rule, and what the CLI and dashboard say of the report they show (``ctx`` with the
    check's parameters)."""
    if _exited_on(ctx, report):
        return None
    fresh = int(ctx.param("fresh_days", FRESH_DAYS))
    as_of = date.fromisoformat(str(report.payload["as_of"]))
    today = ctx.now.astimezone(UTC).date()
    if as_of >= today - timedelta(days=fresh):
        return None
    return (
        f"the latest adoption report (fact #{report.id}) is as of {as_of}, more than {fresh} "
        f"days before today ({today}): the pilot's use is judged as it is now, so a lead "
        "records it again with `inhouse pilot adoption --record`"
    )


#: why a member removed within a report's window, before it, is not independent in it
_NOT_MEASURED = "removed from the pilot within this report's window: not measured in it"


def _left_within(ctx: CheckContext, report: Fact, people: set[str]) -> set[str]:
    """Those of ``people`` (no longer members) who were still in the pilot within ``report``'s
    window: removed on or after its first day, or gone otherwise (their role taken away, their
    sign-in released, made its owner), which the log does not date here."""
    # the window's first day, as the report reads it: window_days days ending on its as_of,
    # both ends included (a member removed the day before was not in the pilot it measured)
    start = date.fromisoformat(str(report.payload["as_of"])) - timedelta(
        days=int(report.payload["window_days"]) - 1
    )
    removed: dict[str, date] = {}
    for fact in _listings(ctx):
        if fact.id < report.id:
            person = str(fact.payload["person"])
            if fact.payload["action"] == "added":
                removed.pop(person, None)
            else:
                removed[person] = fact.at.astimezone(UTC).date()
    return {p for p in people if p not in removed or removed[p] >= start}


def _answers_before(ctx: CheckContext, survey: Fact, people: set[str]) -> dict[str, Fact]:
    """Each of ``people``'s latest answer to a survey a rollout lead opened before ``survey``,
    given while it was open: matched to the latest opening of its name before it (a lead who
    opens an old name again does not move the first one's answers out of its window)."""
    openings: dict[str, list[tuple[int, datetime | None]]] = {}
    for opened in ctx.facts.of("survey.opened"):
        if opened.id < survey.id and lead_then(ctx, opened):
            openings.setdefault(str(opened.payload["survey"]), []).append(
                (opened.id, _closes(opened))
            )
    found: dict[str, Fact] = {}
    for fact in ctx.facts.of("survey.response"):
        person, name = str(fact.payload["person"]), str(fact.payload["survey"])
        if person not in people or fact.id > survey.id or _owned_then(ctx, fact):
            continue
        window = [(at, closes) for at, closes in openings.get(name, []) if at < fact.id]
        if window and (window[-1][1] is None or fact.at <= window[-1][1]):
            found[person] = fact
    return found


def _owned_then(ctx: CheckContext, answer: Fact) -> bool:
    """Whether ``answer`` was given by play 4's owner once they owned it."""
    since = _judged_since(ctx, str(answer.payload["person"]))
    return since is not None and answer.id > since


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
    each member's own signed answer to the latest survey a rollout lead opened, given while it
    was open, counts; a member removed since it opened is still counted, and one removed
    before it with their answer to an earlier survey; the pilot's owner's answers count only
    from before they owned it). An answer counts from someone who used the tool: the gateway's
    signed daily usage shows their own requests on 2 days of the 14 ending on the day they
    answered (`inhouse survey answer`'s rule, which on their laptop reads tables anyone with the
    database could type; a program whose play 4 exited keeps the rule it exited on). The survey
    counts while it was opened no more than fresh_days (28) before today (once play 4 exited,
    the survey it exited on counts on; one opened since is asked); a member added after it
    opened is named as not asked by it, and counts as not answering."""
    share = float(ctx.param("share", 0.5))
    pilot = members(ctx)
    if not pilot:
        return _no_members(ctx)

    def opened_by_lead(fact: Fact) -> bool:
        # by whoever held the role when they opened it: taking a co-lead's role away later does
        # not send the check back to an older, kinder survey
        return lead_then(ctx, fact)

    survey = ctx.facts.latest("survey.opened", opened_by_lead)
    if survey is None:
        return failed(
            "no survey opened: a rollout lead runs `inhouse survey open --closes 14d` (when "
            "answers stop: a day, an ISO time or a number of days), then each member "
            "answers with `inhouse survey answer` (an answer to no survey counts for nothing)"
        )
    name = str(survey.payload["survey"])
    if any(
        f.payload.get("survey") == name and f.id < survey.id and opened_by_lead(f)
        for f in ctx.facts.of("survey.opened")
    ):  # an old name opened again: its old answers would count for the new survey
        return failed(
            f"the latest survey opened ({name}, fact #{survey.id}) reuses the name of one "
            "opened before, so its answers cannot be told apart: a lead opens a new one "
            "(`inhouse survey open`)",
            survey,
        )
    if (stale := survey_too_old(ctx, survey)) is not None:
        return failed(stale, survey)
    lent = lent_accounts(ctx)
    result = _heard(ctx, survey, pilot, share, lent, spared=_none_spared)
    if _PILOT not in ctx.exited:
        return result
    # a program whose play 4 exited keeps the rules it exited on, for the answers it was judged
    # on (those its exit cited; for an exit recorded before exits named their facts, those
    # recorded by its mark): asked only where today's falls short. Today's first: an exit
    # judged by it hashed the answers it counts, and an answer it left out (one resting on no
    # signed use) is no more the pilot's for the exit having happened, nor once today's rule
    # falls short later (a member's use lapsing)

    def judged(fact: Fact) -> bool:
        return ctx.spared(_PILOT, fact)

    used = "play 4 exited before an answer had to rest on its member's signed use of the tool"
    if result.outcome is Outcome.PASS:
        # an exit judged before that rule counted every answer by its mark: it saw the same
        before = _heard(ctx, survey, pilot, share, lent, spared=judged)
        if before.outcome is Outcome.PASS and before.evidence != result.evidence:
            return replace(result, earlier=before.evidence)
        return result
    earlier = [(lambda: _heard(ctx, survey, pilot, share, lent, spared=judged), used)]
    if lent:
        # play 4 exited before a released member's answer had to come from an account of their
        # own: the exit stands, said (the reach guards judge exits by the checks loaded now).
        # Only the answers it was judged on: one given since is today's rule's, else a lead
        # lending her account to "members" in turn after the exit speaks for the pilot as many
        # people
        since = {str(f.payload["person"]) for f in ctx.facts.of("survey.response")
                 if not judged(f)}  # fmt: skip
        kept = {p: h for p, h in lent.items() if p in since}
        earlier.append(
            (
                lambda: _heard(ctx, survey, pilot, share, kept, spared=judged),
                "play 4 exited before a member's answer had to come from an account of their "
                f"own, which {names(sorted(lent))}'s did not",
            )
        )
    return kept_from_before(result, *earlier)


def lent_accounts(ctx: CheckContext) -> dict[str, str]:
    """Those a lead listed in the pilot whose sign-in was released since (every key that
    signed in revoked) and who were never anyone the sign-in told apart, each with whose
    account they signed in with: an account that the pilot's owner or the lead who added them
    held, or a counted member, or one such released member before them (by name). A released
    member counts as gone from the pilot, with what they said while signed in (else revoking a
    detractor's key after reading their answer drops it); but a lead who lends her one account
    to "members" in turn, revoking each, would speak for the pilot as many people."""
    if ctx.signed_in is None:
        return {}
    listed = _listed(ctx)
    counted = members(ctx)
    owner = ctx.owners.get(_PILOT)
    claimed = {account: person for person in sorted(counted)
               for account in ctx.subjects_held.get(person, frozenset())}  # fmt: skip
    found: dict[str, str] = {}
    for person in sorted(listed):
        if person in counted or person == owner or not released(ctx, person):
            continue
        mine = ctx.subjects_held.get(person, frozenset())
        judged = sorted({p for p in (owner, listed[person].by) if p and p != person})
        holder = next(
            (p for p in judged if mine & ctx.subjects_held.get(p, frozenset())), None
        ) or next((claimed[a] for a in sorted(mine) if a in claimed), None)
        if holder is not None:
            found[person] = holder
        else:
            for account in mine:
                claimed.setdefault(account, person)
    return found


def _very(fact: Fact, spared: Callable[[Fact], bool]) -> bool:
    """Whether ``fact``, a survey answer, says its member would be very disappointed: by the
    answer they read and chose, where it has one. Its ``would_resist_losing`` is the dashboard
    host's to type beside it, and an answer of "somewhat" that said true there counted as "very"
    (a member's approval of what they read, counted as what they did not); one with no answer
    at all is no "very" either (every answer to an opened survey names its answer, and the
    survey's results count none from it). An exit's own answers keep the reading they exited
    on (``spared``)."""
    if spared(fact):
        return bool(fact.payload.get("would_resist_losing"))
    return bool(fact.payload.get("answer") == "very")


def _none_spared(fact: Fact) -> bool:
    """Today's rule spares no fact."""
    return False


def _heard(
    ctx: CheckContext,
    survey: Fact,
    pilot: dict[str, Fact],
    share: float,
    lent: dict[str, str],
    *,
    spared: Callable[[Fact], bool],
) -> Result:
    """What the pilot said in ``survey``: :func:`pilot_would_resist_losing`'s judgment, with
    the released members in ``lent`` (:func:`lent_accounts`) neither asked nor heard; an answer
    ``spared`` does not pick out (today's rule: none; the rule before: those play 4's exit was
    judged on) counts only from someone the gateway signed as using the tool
    (:func:`unused_answer`)."""
    name = str(survey.payload["survey"])
    closes = _closes(survey)
    # the pilot the survey asked: a member removed since it opened is still counted
    gone = [p for p in gone_since(ctx, survey.id) if p not in lent]
    asked = {*pilot, *gone}
    by_holder: dict[str, list[str]] = {}
    for person, holder in sorted(lent.items()):
        by_holder.setdefault(holder, []).append(person)
    unheard = "".join(
        f"; not counted: {names(people)}, released since, signed in with an account {holder} "
        "held (one account is one person, whatever name it signs in as)"
        for holder, people in sorted(by_holder.items())
    )
    latest: dict[str, Fact] = {}
    for fact in ctx.facts.of("survey.response"):
        if fact.payload["person"] not in asked:
            continue
        if (
            fact.payload["survey"] != name
            or fact.id < survey.id
            or (closes is not None and fact.at > closes)
        ):
            continue  # another survey's answer, or one given outside this survey's window
        if _owned_then(ctx, fact):
            continue  # the pilot's owner's word on their own pilot
        latest[str(fact.payload["person"])] = fact
    unused = {p: why for p, f in latest.items() if not spared(f) and (why := unused_answer(ctx, f))}
    for person in unused:
        del latest[person]
    if unused:
        each = ", ".join(unused[p] for p in sorted(unused))
        unheard += (
            f"; not counted: the answers of {names(list(unused))}, whose own use through the "
            f"gateway its signed daily usage shows on fewer than {ELIGIBLE_DAYS} days of the "
            f"{ELIGIBLE_WINDOW_DAYS} before they answered ({each}): an answer counts from "
            "someone who used the tool (`inhouse gateway rollup` signs what the gateway measured)"
        )
    if not latest:
        # the command refuses a member who has not used the tool on enough days yet: say
        # when it will take their answer, not only what to run
        return failed("no survey answers from the pilot yet: each member runs "
                      f"`inhouse survey answer` once they have used the tool through their "
                      f"own gateway key on {ELIGIBLE_DAYS} distinct days in "
                      f"{ELIGIBLE_WINDOW_DAYS}{unheard}")  # fmt: skip
    # and one no longer a member who did not answer it (gone before it opened, or since) but
    # answered an earlier survey while in the pilot, as they answered that
    carried = _answers_before(
        ctx, survey, former_members(ctx) - set(pilot) - set(latest) - set(lent) - set(unused)
    )
    carried = {p: f for p, f in carried.items() if spared(f) or unused_answer(ctx, f) is None}
    latest.update(carried)
    asked |= set(carried)
    keen = [f for f in latest.values() if _very(f, spared)]
    text = f"{len(keen)} of {len(asked)} pilot members would be very disappointed to lose it"
    if since := [p for p in gone if p not in carried]:
        text += f" (counting {names(since)}, removed from the pilot since the survey opened)"
    if carried:
        text += (
            f" (counting {names(sorted(carried))} as they answered an earlier survey while in "
            "the pilot)"
        )
    # who joined after the survey opened was not in the pilot it asked: named, and counted as
    # not answering (a lead who adds members after a kind survey asks them in a new one)
    unasked = [p for p in pilot if p not in latest and pilot[p].id > survey.id]
    if unasked:
        joined = ", ".join(f"{p} (fact #{pilot[p].id})" for p in unasked)
        text += (
            f"; not asked: {joined}, added to the pilot after the survey opened (a lead "
            "opens a new one to ask them: `inhouse survey open`)"
        )
    text += unheard
    if len(keen) / len(asked) > share:
        return passed(text, *latest.values())
    waiting = [p for p in pilot if p not in latest]  # who is gone answers no more
    if waiting:
        return inconclusive(f"{text}; {len(waiting)} have not answered yet", *latest.values())
    return failed(text, *latest.values())


#: an answer counts from someone who used the tool on this many distinct days of the
#: ELIGIBLE_WINDOW_DAYS ending on the day they answered (``inhouse survey answer``'s rule)
ELIGIBLE_DAYS = 2
ELIGIBLE_WINDOW_DAYS = 14


def unused_answer(ctx: CheckContext, answer: Fact) -> str | None:
    """Why the ``survey.response`` ``answer`` is not the word of someone who used the tool, or
    None: the gateway's signed daily usage (``usage.daily``, the latest for each day) must show
    requests of its person's through a key of their own on ELIGIBLE_DAYS distinct days of the
    ELIGIBLE_WINDOW_DAYS ending on the day they answered. ``inhouse survey answer`` asks the
    same of the usage tables, but on the answerer's laptop it cannot tell the gateway's rows
    from rows a lead typed into the database; the signed days it can."""
    person = str(answer.payload["person"])
    until = answer.at.astimezone(UTC).date()
    since = until - timedelta(days=ELIGIBLE_WINDOW_DAYS - 1)
    days = 0
    for totals, _ in latest_usage(
        ctx.facts.of("usage.daily"), since.isoformat(), until.isoformat()
    ).values():
        days += own_use(totals.get(person) or {})
    if days >= ELIGIBLE_DAYS:
        return None
    return (
        f"{person}'s (fact #{answer.id}: {figures.count(days, 'days')} of the "
        f"{ELIGIBLE_WINDOW_DAYS} to {until})"
    )


#: how many days before today the latest survey may have been opened, by default (the check's
#: ``fresh_days``). Answerers must have used the tool on two of the last fourteen days, so a
#: survey open about two weeks hears from everyone who uses it; as long again leaves time to
#: read and act on it before the next, and matches adoption's 28-day window. Counted from its
#: opening, never its closing: the lead picks the closing date, and a survey closing in years
#: would speak for the pilot for years
SURVEY_FRESH_DAYS = 28


def survey_stale(opened: datetime, now: datetime, fresh: int) -> bool:
    """Whether a survey opened at ``opened`` no longer speaks for the pilot of ``now``."""
    return opened.astimezone(UTC).date() < now.astimezone(UTC).date() - timedelta(days=fresh)


def _heard_on_exit(ctx: CheckContext, survey: Fact) -> bool:
    """Whether play 4's exit was judged on an answer to ``survey`` (its check cites the answers,
    not the opening they answer)."""
    name = survey.payload["survey"]
    return any(
        f.id > survey.id and f.payload["survey"] == name and _exited_on(ctx, f)
        for f in ctx.facts.of("survey.response")
    )


def survey_too_old(ctx: CheckContext, survey: Fact) -> str | None:
    """Why ``survey`` (the latest a lead opened) is too old to say whether the pilot of now
    would resist losing the tool, or None. The pilot it asked may be long gone, and a lead who
    opened one in a good month, and none since, would keep the check passing on its happy
    answers. A program whose play 4 exited is not asked of the survey it exited on (one its
    exit was judged on), as for the adoption report (:func:`adoption_too_old`): its exit is
    re-judged by the checks loaded now, and the reach guards hold the pilot's widening to it; a
    survey opened since, or one the exit left out, is asked. The check's rule, and what
    `inhouse survey results` and the dashboard say of the survey they show (``ctx`` with the check's
    parameters)."""
    if _exited_on(ctx, survey) or _heard_on_exit(ctx, survey):
        return None
    fresh = int(ctx.param("fresh_days", SURVEY_FRESH_DAYS))
    if not survey_stale(survey.at, ctx.now, fresh):
        return None
    opened, today = survey.at.astimezone(UTC).date(), ctx.now.astimezone(UTC).date()
    return (
        f"the latest survey ({survey.payload['survey']}, fact #{survey.id}) was opened on "
        f"{opened}, more than {fresh} days before today ({today}): it asked the pilot of then, "
        "so a rollout lead opens a new one (`inhouse survey open --closes DATE`) and the "
        "members answer it"
    )
