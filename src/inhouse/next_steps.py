"""What waits on each person, from the program's status: a handoff to decide, a play's exit
still lacking (its owner's, or, where only someone other than those its check judges can meet
it, each other member's), a handoff to offer, a play to start, a ticket to resolve or assign, a
fix or a word taken in their name to confirm, the open survey to answer, their use of the
gateway to confirm. The dashboard's program page and ``inhouse status`` show the same list;
neither decides anything the checks do not."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from inhouse.program import Program
    from inhouse.program.checks import CheckContext
    from inhouse.program.playchecks._shared import Host
    from inhouse.program.status_shape import CheckRow, PlayView, Status

__all__ = ["next_steps"]


def _failing_rows(view: PlayView) -> list[tuple[CheckRow, str]]:
    rows = view["exit"] or []
    return [(row, f"{row['title']}: {row['reason']}") for row in rows if row["outcome"] != "pass"]


def _verify_judged(ctx: CheckContext, view: PlayView) -> tuple[set[str], str | None] | None:
    """``second-person-verified``: the baseline's owners as the check reads them (the play's,
    the one the lock names and whoever signed the lock; exit rule 17: and the leads). None
    while there is no lock to verify: pinning it is the owner's step."""
    from inhouse.program.playchecks._shared import current_lock

    lock = current_lock(ctx)
    if lock is None:
        return None
    found = (view["owner"], ctx.owners.get("baseline"), lock.payload.get("owner"), lock.by)
    return {str(who) for who in found if who}, None


def _rerun_judged(ctx: CheckContext, view: PlayView) -> tuple[set[str], str | None] | None:
    """``trial-reproduced``: the proven verdict's author and play 1's owner (and the leads).
    None while no verdict can be reproduced (none, or one play 1 proves again): theirs first."""
    from inhouse.program.playchecks.baseline import unreproducible

    verdict = ctx.facts.latest("trial.verdict", lambda f: f.payload.get("verdict") == "proven")
    if unreproducible(ctx, verdict) is not None or verdict is None:
        return None
    return {str(who) for who in (verdict.by, ctx.owners.get("prove-value")) if who}, None


def _workflow_judged(ctx: CheckContext, view: PlayView) -> tuple[set[str], str | None] | None:
    """``workflow-run-by-other``: the author of the version play 3 is judged on, whoever first
    published that version (and the leads), not whoever first published the workflow: an
    edited version is its editor's. None while no version has an author; the author's step too
    where another's pass would need the author's own measured pass beside it, which it lacks
    (their runs of it all failed, or none measured it on their machine): only the author's run
    gives it, so it is not play 3's owner's where someone else wrote the version."""
    from inhouse.program.playchecks._shared import author_of, author_passes, current_workflow

    spec = current_workflow(ctx)
    author = spec and author_of(ctx, spec)
    if spec is None or not author:
        return None
    return {author}, author if author_passes(ctx, spec, author, []).blocks else None


def _library_judged(ctx: CheckContext, view: PlayView) -> tuple[set[str], str | None] | None:
    """``prompt-library-seeded``: the pilot's owner and the leads count as one author between
    them, so every author past the first is someone else (lena, the owner, was told alone to
    seed a library her prompts cannot seed). The owner's step too while none of them wrote
    one."""
    owner = view["owner"] or ctx.owners.get("pilot")
    judged = {str(owner)} if owner else set()
    from inhouse.program.playchecks._shared import ever_held

    leading = judged | ever_held(ctx, "rollout-lead")
    # an import makes nobody its author: lena's import left her first prompt still to write
    wrote = {
        f.by
        for kind in ("prompt.version", "prompt.shared")
        for f in ctx.facts.of(kind)
        if not f.payload.get("imported")
    }
    return judged, (str(owner) if owner and not wrote & leading else None)


#: the exit checks only someone other than those they judge can meet (a verify, a rerun, a
#: workflow run of the judged person's own is their own work checked by themselves), and whom
#: each judges besides the rollout leads (exit rules 17 and 20), read from the log, and who of
#: them has a step in it too (the author of a workflow version whose own pass is lacking, not
#: play 3's owner, who was told it where someone else wrote the version): their step is the
#: other members' to take, and ``inhouse status`` told the play's owner to take it. None: what
#: it waits on first is the judged person's (a lock, a verdict, a version to pin, prove or
#: publish), the owner's step
_TAKEN_BY_ANOTHER: dict[
    str, Callable[[CheckContext, PlayView], tuple[set[str], str | None] | None]
] = {
    "second-person-verified": _verify_judged,
    "trial-reproduced": _rerun_judged,
    "workflow-run-by-other": _workflow_judged,
    "prompt-library-seeded": _library_judged,
}


def _use_parts(program: Program, now: datetime) -> list[tuple[str, str]]:
    """What ``pilot-independent-use`` leaves to each pilot member the latest adoption report
    did not find reaching the tool on their own: their own use, through their own gateway key,
    confirmed with their own key. None before a report: the owner records one first."""
    from inhouse.pilot.adoption import unmet_terms
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks.pilot import members

    ctx = build_context(program.state(), now)
    report = ctx.facts.latest("pilot.adoption")
    if report is None:
        return []
    rows = {str(row["person"]): row for row in report.payload["members"]}
    days, width = int(report.payload["min_days"]), int(report.payload["window_days"])
    part = (
        f"use the tool through your own gateway key on {days} days or more in {width}, and "
        "confirm each day from your own machine (`inhouse usage confirm`)"
    )
    # the report's "independent" is its signer's word (the gateway host's operator's): one
    # whose own confirmed days do not bear it out is set aside by the check (exit rule 9), and
    # their part is theirs as much (lena's report of all three on their own left them no step)
    unmet = unmet_terms(program, report, now)
    return [
        (
            person,
            part
            + (f" (the report's word does not count: {unmet[person]})" if person in unmet else ""),
        )
        for person in sorted(members(ctx))
        if not rows.get(person, {}).get("independent") or person in unmet
    ]


def _team_parts(program: Program, now: datetime) -> list[tuple[str, str]]:
    """What ``pilot-size`` leaves to each pilot member whose team does not count: to say, with
    their own key, the team they work in (only their word makes the roster's count; the lead,
    play 4's owner, was told it alone)."""
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks.pilot import members, said_team, team_key, team_of

    ctx = build_context(program.state(), now)
    parts: list[tuple[str, str]] = []
    for person, added in sorted(members(ctx).items()):
        listed = team_of(ctx, person, added)
        word = said_team(ctx, person)
        said = "" if word is None else str(word.payload["team"])
        if word is not None and listed and team_key(listed) == team_key(said):
            continue
        if word is None:
            # quoted: `inhouse pilot team Customer Support` is two arguments, and fails
            team, fill = (shlex.quote(listed), "") if listed else ("TEAM", ", TEAM your team")
            parts.append((person, f"say the team you work in, with your own key (`inhouse "
                          f"pilot team {team}`{fill})"))  # fmt: skip
        elif listed:
            parts.append((person, f"the roster names team '{listed}' for you and you said "
                          f"'{said}': if you mistyped, say it again (`inhouse pilot team "
                          f"{shlex.quote(listed)}`)"))  # fmt: skip
    return parts


def _keyless(program: Program, now: datetime) -> list[str]:
    """The pilot members who hold no gateway key of their own, nor a grant waiting for their
    fetch: the gateway measures their enablement and reach only through one, and only a rollout
    lead grants it (each member was told to meet their track, and no lead to grant the key)."""
    from inhouse.gateway.keys import list_keys, pending_grants
    from inhouse.pilot.enablement import progress

    keys = [k for k in list_keys(program.store) if k.agent is None and k.active]
    held = {k.person for k in keys}
    members = [item.member.person for item in progress(program, now=now)]
    return [m for m in members if m not in held and not pending_grants(program, m)]


def _usage_signed(program: Program) -> bool:
    """Whether the gateway's own key signed a day of usage (`inhouse gateway rollup`): a day
    anyone else wrote up counts for nothing, and the gateway still waits to be served."""
    from inhouse.gateway.rollup import SERVICE

    return any(
        f.kind == "usage.daily" and f.by == SERVICE and f.signed for f in program.state().facts
    )


def _enablement_parts(program: Program, now: datetime) -> tuple[list[tuple[str, str]], bool]:
    """What is left of ``pilot-enabled`` to each member whose track is not finished and
    recorded (only a member's own record counts: a lead cannot take it), and whether any part
    is the play's owner's: no member yet, a track that does not load, or a finished track that
    counts for nothing (its steps, which a lead writes, measure nothing at the gateway)."""
    from inhouse.pilot.enablement import progress

    found = progress(program, now=now)
    parts: list[tuple[str, str]] = []
    owners = not found
    record = "from your own machine (`inhouse pilot enablement --record`)"
    for item in found:
        track = item.member.track
        if item.error is not None or item.not_counted is not None:
            owners = True
        elif not item.done:
            met = f"{item.met} of {len(item.steps)} steps met"
            part = (
                f"your enablement track {track}, {met}: meet the rest (`inhouse pilot "
                f"enablement` says what each asks) and record them {record}"
            )
            parts.append((item.member.person, part))
        elif not item.completed_recorded:
            part = f"your enablement track {track} is met: record it {record}"
            parts.append((item.member.person, part))
    return parts, owners


def _access_judged(ctx: CheckContext) -> tuple[set[str], set[Host]]:
    """``access-requested``: the early owners (plays 1 and 2) and the leads, and the services'
    hosts the check counts as theirs."""
    from inhouse.program.playchecks._shared import early_owners, ever_held
    from inhouse.program.playchecks.baseline import access_hosts

    judged = early_owners(ctx) | ever_held(ctx, "rollout-lead")
    return judged, access_hosts(ctx, judged)


def _demand_judged(ctx: CheckContext) -> tuple[set[str], set[Host]]:
    """``demand-spreading``: the owner of any started play and the leads, and the services'
    hosts one of them enrolled a key at."""
    from inhouse.program.playchecks._shared import ever_held, services_enrolled_by

    judged = {str(who) for who in ctx.owners.values() if who} | ever_held(ctx, "rollout-lead")
    return judged, set(services_enrolled_by(ctx, judged))


def _adding_one(
    ctx: CheckContext, counted: set[str], people: list[str], judged: set[str], hosts: set[Host]
) -> list[str]:
    """Those of ``people`` whose act beside those of ``counted`` could count one person more,
    by the machine rules the check tells people apart with (:func:`one_per_machine`): not one
    enrolled only from machines one of ``judged`` or of ``counted`` enrolled from, or at one
    of ``hosts``. A step that moves nothing is nobody's (omar, at lena's laptop, was told to
    ask). The organisation's sign-in is not asked here: one not signed in yet still has the
    step, and the check's reason says what their act waits on."""
    theirs = {m for who in judged | counted for m in ctx.machines.get(who, frozenset())}
    theirs |= {host.machine for host in hosts}
    return [person for person in people if ctx.machines.get(person, frozenset()) - theirs]


#: the trigger checks met only by an access request from someone they do not judge (besides the
#: rollout leads, whom each judges): whose request does not count. ``inhouse status`` told the
#: leads, who cannot ask, that the play waited on it, and nobody who could ask
_ASKED_BY_ANOTHER: dict[str, Callable[[CheckContext], tuple[set[str], set[Host]]]] = {
    "access-requested": _access_judged,
    "demand-spreading": _demand_judged,
}


#: how many people each of :data:`_ASKED_BY_ANOTHER` wants where the playbook does not say
_ASKERS_WANTED = {"access-requested": 1, "demand-spreading": 3}


def _askers(
    program: Program, status: Status, view: PlayView, row: CheckRow, now: datetime
) -> tuple[str, list[str], int] | None:
    """Whose access request a failing trigger ``row`` does not count, as words, and every
    enrolled person outside them who has not asked yet and whose request would count (not
    one enrolled only from a machine one of them, or an asker, enrolled from); None where the
    row is not one an access request meets (:data:`_ASKED_BY_ANOTHER`); and how many more
    requests that count it still needs than they could give (more to invite: the leads'
    step, where pia alone was told to ask and demand for the pilot wants three)."""
    judges = _ASKED_BY_ANOTHER.get(row["check"])
    if judges is None:
        return None
    from inhouse.program.counting import build_context

    ctx = build_context(program.state(), now)
    judged, hosts = judges(ctx)
    asked = {f.by for f in ctx.facts.of("access.request")}
    people = [
        p["name"]
        for p in status["people"]
        if p["enrolled"] and not p["service"] and p["name"] not in judged and p["name"] not in asked
    ]
    people = _adding_one(ctx, asked - judged, people, judged, hosts)
    from inhouse.program.playchecks._shared import one_per_machine

    check = row["check"]
    refs = [r for r in program.playbook.play(view["id"]).trigger if r.check == check]
    wanted = int((refs[0].params if refs else {}).get("min_people", _ASKERS_WANTED[check]))
    counted = len(one_per_machine(ctx, asked - judged, judged, services=hosts)[0])
    names = sorted(judged)
    said = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
    return said or "the leads", people, max(0, wanted - counted - len(people))


def _takers(
    program: Program, status: Status, view: PlayView, row: CheckRow, now: datetime
) -> tuple[str, list[str], str | None] | None:
    """Who can take the step a failing exit ``row`` of ``view`` asks for, where only someone
    other than those it judges can (:data:`_TAKEN_BY_ANOTHER`): whom it judges, as words,
    every enrolled person outside them, and who of the judged has a step in it too; None where
    the play's owner takes it."""
    judges = _TAKEN_BY_ANOTHER.get(row["check"])
    if judges is None:
        return None
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks._shared import ever_held

    ctx = build_context(program.state(), now)
    found = judges(ctx, view)
    if found is None:
        return None
    judged, also = found
    judged |= ever_held(ctx, "rollout-lead")
    people = [
        p["name"]
        for p in status["people"]
        if p["enrolled"] and not p["service"] and p["name"] not in judged
    ]
    if row["check"] == "prompt-library-seeded":
        people = _new_authors(ctx, judged, people)
    names = sorted(judged)
    said = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)
    return said or "those it judges", people, also


def _new_authors(ctx: CheckContext, judged: set[str], people: list[str]) -> list[str]:
    """Those of ``people`` whose prompt would be an author more to ``prompt-library-seeded``:
    not an author already (a second prompt of omar's is omar again), nor one enrolled only
    from a machine one of ``judged`` (the pilot's owner and leads) or another author enrolled
    from, or at the gateway's host one of them enrolled (as the check tells authors apart)."""
    from inhouse.program.playchecks._shared import services_enrolled_by

    shared = [*ctx.facts.of("prompt.shared"), *ctx.facts.of("prompt.version")]
    authors = {f.by for f in shared if not f.payload.get("imported")}
    hosts = set(services_enrolled_by(ctx, judged))
    counted = authors - judged
    return _adding_one(ctx, counted, [p for p in people if p not in authors], judged, hosts)


def next_steps(
    program: Program, status: Status, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per person, what the status says waits on them: a handoff to decide, a play's exit
    still lacking, a handoff to offer, a play to start, a ticket assigned to them, the fix of
    an "it broke" ticket they opened to confirm, the open survey to answer, an opening or
    resolution taken in their name through a session or an import to confirm (both from
    their own machine: a session cannot). Pass the ``now`` the status was built at: what the
    steps read is then judged at that one moment, on the checks' context built once (by
    default, the program's clock, read once here)."""
    now = program.clock() if now is None else now
    from inhouse.pilot.survey import awaiting_answers, current_survey

    steps: dict[str, list[dict[str, str]]] = {p["name"]: [] for p in status["people"]}
    leads = [p["name"] for p in status["people"] if "rollout-lead" in p["roles"]]

    def add(person: str | None, text: str, href: str) -> None:
        if person in steps:
            steps[person].append({"text": text, "href": href})

    if status["program"]["state"] == "running":
        # the next play in sequence whose trigger does not hold yet: what it waits for (a fresh
        # program's first step, the hypothesis, is play 1's trigger)
        waiting = next(
            (v for v in status["plays"] if v["state"] not in ("exited", "stopped")), None
        )
        if waiting is not None and waiting["state"] == "not-started":
            label = f"play {waiting['number']} ({waiting['title']})"
            for row in waiting["trigger"]:
                if row["outcome"] != "pass":
                    asked = _askers(program, status, waiting, row, now)
                    if asked is not None:
                        judged, people, short = asked
                        for person in people:
                            add(person, f"{label} waits for its trigger, {row['title']}: "
                                f"{row['reason']}; if you want in, ask from your own machine "
                                "(`inhouse access request`): the request of "
                                f"{judged} does not count", f"/plays/{waiting['id']}")  # fmt: skip
                        if not short:
                            continue
                        # fewer could ask than it needs: only an invitation adds one
                        more = (
                            "nobody else who could ask has joined: invite one"
                            if not people
                            else f"{short} more who could ask must join: invite them"
                        )
                        for lead in leads:
                            add(lead, f"{label} waits for its trigger, {row['title']}: "
                                f"{row['reason']}; {more} (`inhouse person invite NAME`)",
                                f"/plays/{waiting['id']}")  # fmt: skip
                        continue
                    for lead in leads:
                        add(lead, f"{label} waits for its trigger, {row['title']}: "
                            f"{row['reason']}", f"/plays/{waiting['id']}")  # fmt: skip
        for view in status["plays"]:
            href = f"/plays/{view['id']}"
            handoff = view["handoff"]
            label = f"play {view['number']} ({view['title']})"
            # each step names its command: `inhouse status` shows these with no link to follow
            number = view["number"]
            if handoff is not None and handoff["status"] == "offered":
                add(handoff["to"], f"accept or reject the handoff of {label} (`inhouse handoff "
                    f"accept {number}` or `inhouse handoff reject {number}`)", href)  # fmt: skip
            elif view["state"] in ("running", "ongoing"):
                # an ongoing play (6) never exits, but each period its checks still ask its
                # owner for something: a report, a finding fed back; a step only someone other
                # than those a check judges can take goes to them, not to the owner
                for row, text in _failing_rows(view):
                    if row["check"] == "pilot-enabled":
                        # each member records their own track: theirs to finish, not the lead's
                        parts, owners = _enablement_parts(program, now)
                        for person, part in parts:
                            add(person, f"{label} needs {text}; your part: {part}", href)
                        if owners:
                            add(view["owner"], f"{label} needs {text}", href)
                        if leads and parts and not _usage_signed(program):
                            # no day of usage signed yet: what measures each track is not up
                            # (the members held keys for a gateway nobody was told to serve)
                            for lead in leads:
                                add(lead, f"{label} needs {text}; your part: serve the gateway "
                                    "where the pilot reaches it (`inhouse gateway serve`; it "
                                    "prints the base URL to give them) and sign each day's "
                                    "usage on its host (`inhouse gateway rollup`)",
                                    href)  # fmt: skip
                        keyless = _keyless(program, now) if leads else []
                        for lead in leads:
                            for member in keyless:
                                add(lead, f"{label} needs {text}; your part: grant {member} a "
                                    f"gateway key (`inhouse keys issue {member}`): their track "
                                    "is measured through their own, which only a rollout lead "
                                    "grants", href)  # fmt: skip
                        continue
                    if row["check"] == "pilot-independent-use":
                        # reaching the tool on their own is each member's use, which the owner
                        # cannot give them (play 4's owner was told it alone)
                        for person, part in _use_parts(program, now):
                            add(person, f"{label} needs {text}; your part: {part}", href)
                    if row["check"] == "pilot-size":
                        # a member's team counts only by their own word: each member who has
                        # not said it (or said another) has a part the owner cannot take
                        for person, part in _team_parts(program, now):
                            add(person, f"{label} needs {text}; your part: {part}", href)
                    takers = _takers(program, status, view, row, now)
                    if takers is None:
                        add(view["owner"], f"{label} needs {text}", href)
                        continue
                    judged, people, also = takers
                    if also is not None and people:
                        add(also, f"{label} needs {text}", href)
                    if not people:
                        add(view["owner"], f"{label} needs {text}; only a member other than "
                            f"{judged} can take this step, and nobody else has joined: invite "
                            "one (`inhouse person invite NAME`)", href)  # fmt: skip
                    for person in people:
                        add(person, f"{label} needs {text}; a member other than {judged} takes "
                            "this step, from their own machine", href)  # fmt: skip
            elif view["state"] == "exit-met":
                to, who = _receiver(program, status, view)
                add(view["owner"], f"offer the handoff of {label}: its exit is met (`inhouse "
                    f"handoff offer {number} --to {to}`{who})", href)  # fmt: skip
            elif view["state"] == "ready":
                for lead in leads:
                    # its owner is the previous play's receiver, else whoever starts it: where
                    # they lack the role it asks, the start is refused (lena, a lead, was told
                    # to start play 1 and was refused as no play-owner)
                    lacking = _owner_lacking(program, view, lead)
                    first = f"{lacking}; then " if lacking else ""
                    add(lead, f"start {label}: its trigger holds ({first}`inhouse play start "
                        f"{number}`)", href)  # fmt: skip
        survey = current_survey(program, now)
        if survey is not None:
            # a survey answer is each member's own word, approved with their own key
            for person in awaiting_answers(program, now):
                # `inhouse survey answer` alone fails: --answer is required
                add(person, f"answer the survey {survey.name} (open until "
                    f"{survey.closes.date()}) from your own machine: `inhouse survey answer "
                    "--answer ANSWER --benefit TEXT` (ANSWER, one of very, somewhat, not or "
                    "no-longer-use: how you would feel if you could no longer use it; TEXT, its "
                    "main benefit to you)",
                    "/pilot#survey")  # fmt: skip
        facts = program.state().facts
        if any(f.kind == "ticket.opened" for f in facts):
            _ticket_steps(program, add, leads, now)
        if any(f.kind in ("usage.daily", "prompt.usage") for f in facts):
            _usage_steps(program, add, now)
    return [{"person": name, "steps": found} for name, found in steps.items() if found]


def _owner_lacking(program: Program, view: PlayView, starter: str) -> str | None:
    """Why the play of ``view`` would be refused to whoever would own it once ``starter``
    starts it (the previous play's receiver, else ``starter``), with the command that gives the
    role; None where they hold it."""
    state = program.state()
    play = program.playbook.play(view["id"])
    previous = program.playbook.previous(play.id)
    handoff = state.handoffs.get(previous.id) if previous else None
    owner = handoff.to if handoff is not None and handoff.status == "accepted" else starter
    person = state.people.get(owner)
    if person is None:
        return None
    return program._owner_role_problem(play, person)


def _receiver(program: Program, status: Status, view: PlayView) -> tuple[str, str]:
    """Whom the handoff of ``view``'s play goes to, as the offer's ``--to``, and what to add
    after the command: its owner where the playbook says the next play keeps the same one,
    else PERSON, with who the next play's owner should be and who holds its role ("--to
    PERSON" alone left a lead walking the tour guessing whom to hand play 3 to)."""
    plays = program.playbook.plays
    index = next((i for i, play in enumerate(plays) if play.id == view["id"]), None)
    if index is None or index + 1 >= len(plays):
        return "PERSON", ""
    following = plays[index + 1].owner
    if following.previous == "same" and view["owner"]:
        return str(view["owner"]), ""
    role = following.role.value
    other = following.previous == "different"
    holders = [
        p["name"]
        for p in status["people"]
        if role in p["roles"] and not (other and p["name"] == view["owner"])
    ]
    # nobody holding the role, the offer to PERSON is refused until they hold it: say how
    give = (
        "name PERSON the support queue's owner first (`inhouse support owner PERSON`, which gives "
        "the role; they take it on with `inhouse support owner --accept`)"
        if role == "support-owner"
        else f"give it to PERSON first (`inhouse person role PERSON --add {role}`)"
    )
    held = (
        f"{role}: {', '.join(holders)}" if holders else f"nobody else holds the role {role}: {give}"
    )
    unlike = f", not {view['owner']}" if other and view["owner"] else ""
    return "PERSON", f": PERSON owns play {index + 2}, {following.who}{unlike}; {held}"


def _usage_steps(
    program: Program, add: Callable[[str | None, str, str], None], now: datetime
) -> None:
    """A person's use of the gateway counts for plays 4 and 6 only where they confirmed it with
    their own key: the days and library prompt versions its signed figures give them that they
    have not confirmed yet."""
    from inhouse.pilot.usage_confirm import awaiting_confirmation, prompts_awaiting_confirmation

    awaited = awaiting_confirmation(program, now)
    versions = prompts_awaiting_confirmation(program, now)
    for person in [*awaited, *(p for p in versions if p not in awaited)]:
        days, prompts = awaited.get(person, []), versions.get(person, [])
        said = []
        if days:
            said.append(
                f"{days[0]}" if len(days) == 1 else f"{len(days)} days, {days[0]} to {days[-1]}"
            )
        if prompts:
            refs = ", ".join(f"{name}@{number}" for name, number in prompts)
            said.append(f"library prompt{'' if len(prompts) == 1 else 's'} {refs}")
        text = (
            f"confirm your use of the gateway ({'; '.join(said)}) from your own machine: "
            "`inhouse usage confirm` (it counts only where you confirmed it)"
        )
        add(person, text, "/pilot")


def _ticket_steps(
    program: Program,
    add: Callable[[str | None, str, str], None],
    leads: list[str],
    now: datetime,
) -> None:
    """The support queue's part: asked only where a ticket was ever opened, since the queue's
    modules take longer to load than ``inhouse status`` takes to run."""
    from inhouse.support.queue import confirm_fix_command, list_tickets, queue_of, words_awaited

    owner = queue_of(program, now)
    for ticket in list_tickets(program, state="open", now=now):
        href = f"/support/tickets/{ticket.id}"
        if ticket.assignee:
            add(ticket.assignee, f"resolve {ticket.id}: {ticket.title}", href)
        elif owner is not None:
            add(owner.owner, f"assign {ticket.id}: {ticket.title}", href)
        else:  # nobody owns the queue: a lead assigns it (and names an owner)
            for lead in leads:
                add(lead, f"assign {ticket.id}: {ticket.title} (the queue has no owner "
                    "yet: `inhouse support owner PERSON`)", href)  # fmt: skip
    for ticket in list_tickets(program, state="resolved", now=now):
        # an it-broke fix is what play 5 counts once its opener confirms it
        if ticket.category == "it-broke" and ticket.fix_confirmed() is None:
            add(ticket.opened.actor, f"confirm the fix of {ticket.id} ({ticket.title}) "
                f"from your own machine: `{confirm_fix_command(ticket.id)}`, or reopen it",
                f"/support/tickets/{ticket.id}")  # fmt: skip
    for ticket in list_tickets(program, state="all", now=now):
        # an opening or resolution taken through a dashboard session (or an import) in
        # someone's name counts for play 5 only once they confirm it with their own key
        awaited: dict[str, list[str]] = {}
        for step in words_awaited(ticket):
            awaited.setdefault(step.actor, []).append(step.kind)
        href = f"/support/tickets/{ticket.id}"
        for person, kinds in awaited.items():
            add(person, f"confirm that you {' and '.join(kinds)} {ticket.id} "
                f"({ticket.title}) from your own machine: "
                f"`inhouse support confirm {ticket.id}`", href)  # fmt: skip
