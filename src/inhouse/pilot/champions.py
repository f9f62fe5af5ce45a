"""Champions: candidates per pilot team from measured signals, and the lead naming one.

The signals are measurements, never a typed opinion: **active days** (distinct days the person's
own key got answers through the gateway, in the adoption window the playbook sets), **prompts
others reuse** (library prompts whose versions they signed, sent by other people through the
gateway), both as they count: signed by the gateway's key from the usage rows it sealed, and
confirmed by each person with their own key (``inhouse usage confirm``); and **help given**
(support tickets they resolved for someone else, counted once the ticket's opener confirmed
the fix with their own key, as play 5 counts a resolution; until a collector records
``ticket.resolved`` this signal is skipped and the suggestion says so).
Naming a champion is a rollout lead's act: the ``champion`` role through the engine, and a
``pilot.champion`` fact; taking it on is the champion's own, signed with their key
(:func:`accept_champion`). Play 5's ``champions-named`` check counts a champion for their
own team once they accepted, and once they said with their own key that they work in it
(``inhouse pilot team``): a lead's word does not make someone else's commitment, nor their
team. The suggestions' notes say whose team still awaits their word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput, NotAllowed, Refused
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.roster import COLLECTOR, enrolled_person, require_lead
from inhouse.program.collectors import measured_kinds
from inhouse.program.consent import Agree, require_yes
from inhouse.program.facts import Fact, Provenance, own_requests
from inhouse.program.playbook import Playbook, Role
from inhouse.program.playchecks._shared import fold_tickets
from inhouse.program.playchecks.pilot import confirmed_teams, team_key, team_of
from inhouse.terminal import shown

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = [
    "Candidate",
    "Suggestions",
    "TeamCandidates",
    "accept_champion",
    "champion_naming",
    "lapsed_naming",
    "name_champion",
    "suggest_champions",
]


@dataclass(frozen=True)
class Candidate:
    person: str
    team: str
    active_days: int
    prompts: list[str]  # library prompts they authored that someone else used
    reused_by: list[str]  # the other people who used them
    #: tickets they resolved for someone else, the fix confirmed by its opener (None: not
    #: measured yet)
    tickets: int | None
    member: bool  # in the pilot
    champion: bool  # already holds the champion role

    @property
    def score(self) -> tuple[int, int, int]:
        return (len(self.reused_by), self.active_days, self.tickets or 0)


@dataclass(frozen=True)
class TeamCandidates:
    team: str
    champions: list[str]  # named already (the role, on this team)
    candidates: list[Candidate]

    @property
    def suggested(self) -> str | None:
        """The strongest candidate with any signal, unless the team has a champion."""
        if self.champions:
            return None
        best = self.candidates[0] if self.candidates else None
        return best.person if best is not None and any(best.score) else None


@dataclass(frozen=True)
class Suggestions:
    since: str
    until: str
    teams: list[TeamCandidates]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "until": self.until,
            "notes": self.notes,
            "teams": [
                {
                    "team": t.team,
                    "champions": t.champions,
                    "suggested": t.suggested,
                    "candidates": [asdict(c) for c in t.candidates],
                }
                for t in self.teams
            ],
        }


def _window_days(playbook: Playbook) -> int:
    for play in playbook.plays:
        for ref in play.exit:
            if ref.check == "pilot-independent-use":
                return int(ref.params.get("window_days", 28))
    return 28


def suggest_champions(program: Program, now: datetime | None = None) -> Suggestions:
    """Candidates for each pilot team, strongest first, from the usage log and the library (at
    ``now``: default, the clock's)."""
    evidence = PilotEvidence(program, now)
    state = evidence.state
    until = evidence.now.date()
    since = until - timedelta(days=_window_days(program.playbook) - 1)
    people = {n: p for n, p in state.people.items() if not p.service}
    members = set(evidence.members)
    # each member's team as the pilot's checks read the roster; play 5 counts one, and a
    # champion for it, once the member said with their own key that they work in it
    team = {n: p.team for n, p in people.items()}
    team.update({m: team_of(evidence.context, m, fact) for m, fact in evidence.members.items()})
    teams = sorted({team[m] for m in members if team.get(m)})
    notes: list[str] = []
    if not members:
        notes.append("the pilot has no members yet: `inhouse pilot add PERSON --track TRACK`")
    _, _, unconfirmed = confirmed_teams(evidence.context, evidence.members)
    notes += [
        f"{note}: play 5's champions-named counts a team, and a champion for it, once its "
        "members say so"
        for note in unconfirmed
    ]
    notes += _uncounted_champions(state, people)
    days, waiting = _active_days(evidence, people, since.isoformat(), until.isoformat())
    if waiting:
        uncounted = ", ".join(f"{person} ({n})" for person, n in sorted(waiting.items()))
        notes.append(
            f"days in the usage log not counted as active days: {uncounted}; a day counts once the "
            "gateway signed it from rows it sealed (`inhouse gateway rollup`) and its person "
            "confirmed it with their own key (`inhouse usage confirm`)"
        )
    reuse = _reuse(evidence)
    if not evidence.library:
        notes.append("prompts others reuse: the library has no prompts yet (`inhouse prompts add`)")
    tickets: dict[str, int] | None = None
    if "ticket.resolved" in measured_kinds():
        # who resolved each ticket, as the support queue folds it (the signer of a native step,
        # the mapped person of an imported one, never whoever ran the import), counted once the
        # ticket's opener, someone else, confirmed the fix with their own key: a resolution is
        # its resolver's word, and resolving one's own or others' tickets with a made-up note
        # (or one reopened since) helped nobody
        tickets = {}
        ctx = evidence.context
        for ticket in fold_tickets(evidence.facts, ctx.people, ctx.held_role_at).values():
            resolution = ticket.resolution
            if resolution is None or not resolution.actor or ticket.fix_confirmed() is None:
                continue
            if resolution.actor != ticket.opened.actor:
                tickets[resolution.actor] = tickets.get(resolution.actor, 0) + 1
    else:
        notes.append(
            "help given (support tickets resolved) is not measured yet: play 5's support queue "
            "records it; skipped"
        )
    found = []
    for each in teams:
        candidates = [
            Candidate(
                person=name,
                team=each,
                active_days=days.get(name, 0),
                prompts=sorted(reuse.get(name, {})),
                reused_by=sorted({u for users in reuse.get(name, {}).values() for u in users}),
                tickets=None if tickets is None else tickets.get(name, 0),
                member=name in members,
                champion=Role.CHAMPION in person.roles,
            )
            for name, person in sorted(people.items())
            if team[name] == each
        ]
        candidates.sort(key=lambda c: c.score, reverse=True)
        named = [c.person for c in candidates if c.champion]
        found.append(TeamCandidates(each, named, candidates))
    return Suggestions(since.isoformat(), until.isoformat(), found, notes)


def _uncounted_champions(state: ProgramState, people: Iterable[str]) -> list[str]:
    """What the listing says of each person holding the champion role whom play 5's
    ``champions-named`` does not count yet for want of their naming or their acceptance: the
    role alone (given with `inhouse person role`), or a naming signed by someone who held no
    lead's role then, names nobody; a naming counts once its champion accepted it."""
    notes = []
    for name in sorted(people):
        person = state.people[name]
        if Role.CHAMPION not in person.roles:
            continue
        naming = _naming(state, name, by_leads=True)
        if naming is None:
            notes.append(
                f"{name} holds the champion role, but no rollout lead named them since they "
                "took it (a naming counts when its signer led at the time): play 5's "
                f"champions-named does not count them until a lead runs `inhouse pilot "
                f"champions --name {name} --team TEAM`"
            )
        elif not any(
            f.kind == "pilot.champion" and f.payload.get("accepted") and f.by == name
            and f.payload.get("person") == name and f.id > naming.id
            for f in state.facts
        ):  # fmt: skip
            notes.append(
                f"{name}, named champion of {shown(str(naming.payload['team']))} by "
                f"{naming.by}, has not accepted yet: play 5's champions-named counts them once "
                "they run `inhouse pilot champions --accept` with their own key"
            )
    return notes


def _active_days(
    evidence: PilotEvidence, people: Iterable[str], since: str, until: str
) -> tuple[dict[str, int], dict[str, int]]:
    """Per person, the days from ``since`` to ``until`` on which their own key (not an agent's)
    got answers, as they count: signed by the gateway's key from the rows it sealed, and
    confirmed by the person with their own key (the counted ``usage.daily`` facts), since the
    gateway's host is its operator's and a suggestion is no place for use nobody answers for;
    and per person, the days the (unsigned) usage log gives them besides, not counted."""
    counted: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for person in people:
        own = {d for d in evidence.answered_days(person) if since <= d <= until}
        mine = set()
        for day, fact in evidence.signed_days(person).items():
            if not since <= day <= until:
                continue
            requests = own_requests(fact, person)
            # a day only an agent used is no day of theirs; where the fact does not say, the
            # usage log's word on whose key it was (as the pilot's first-request step reads it)
            if requests or (requests is None and day in own):
                mine.add(day)
        if mine:
            counted[person] = len(mine)
        if own - mine:
            waiting[person] = len(own - mine)
    return counted, waiting


def _reuse(evidence: PilotEvidence) -> dict[str, dict[str, set[str]]]:
    """author -> library prompt id -> the other people who sent it (answered, own keys), as the
    gateway's counted ``prompt.usage`` facts say: signed from the rows it sealed, and confirmed
    by each user with their own key."""
    users_of: dict[str, set[str]] = {}
    for person in evidence.state.people:
        for prompt_id in evidence.signed_prompts(person):
            users_of.setdefault(prompt_id, set()).add(person)
    found: dict[str, dict[str, set[str]]] = {}
    for prompt_id, users in users_of.items():
        version = evidence.resolve(prompt_id)
        if version is None or version.author is None:
            continue  # not a library prompt, or one an import brought in (author unknown)
        others = users - {version.author}
        if others:
            found.setdefault(version.author, {}).setdefault(version.id, set()).update(others)
    return found


def champion_naming(program: Program, person: str) -> Fact | None:
    """The rollout lead's ``pilot.champion`` fact that names ``person`` champion now: the
    latest one recorded since they last took the champion role, while they hold it, signed by
    someone who led at that event (a lead who handed the role on later does not undo it, as
    play 5's ``champions-named`` reads it) (None: not named, or the role was taken away since)."""
    return _naming(program.state(), person, by_leads=True)


def lapsed_naming(program: Program, person: str) -> Fact | None:
    """The latest naming of ``person`` champion, since they last took the role and while they
    hold it, whose signer held no rollout lead's role when they signed it (a fact written
    around `inhouse pilot champions --name`, which refuses anyone not a lead): play 5's
    ``champions-named`` does not count it, so a lead naming them records anew, and says why
    (None: there is none, or a lead's naming stands)."""
    if champion_naming(program, person) is not None:
        return None
    return _naming(program.state(), person, by_leads=False)


def _led_then(state: ProgramState, fact: Fact) -> bool:
    """Whether ``fact``'s signer held the rollout-lead role at its event (a role lost later
    does not undo it; one given later does not reach back over it)."""
    spans = state.role_spans.get(fact.by, {}).get(Role.ROLLOUT_LEAD.value, ())
    return any(gained <= fact.id and (lost is None or fact.id < lost) for gained, lost in spans)


def _naming(state: ProgramState, person: str, *, by_leads: bool) -> Fact | None:
    span = (state.role_spans.get(person, {}).get(Role.CHAMPION.value) or [(0, 0)])[-1]
    gained, lost = span
    if lost is not None:
        return None
    named = [
        f
        for f in state.facts
        if f.kind == "pilot.champion"
        and f.id >= gained
        and not f.payload.get("accepted")
        and f.payload.get("person") == person
        and (_led_then(state, f) or not by_leads)
    ]
    return named[-1] if named else None


def name_champion(program: Program, person: str, *, team: str) -> Fact:
    """Name ``person`` champion of ``team`` (a rollout lead): the champion role and a
    ``pilot.champion`` fact. A champion champions their own team: a member's, as the pilot's
    checks read the roster (play 5 counts it once they said, with their own key, that they work
    in it). Naming someone champion of the team they are named for already records nothing and
    returns that naming (:func:`champion_naming`); once the role was taken away, naming them
    again records a new one."""
    require_lead(program, "names champions")
    found = enrolled_person(program, person)
    evidence = PilotEvidence(program)
    added = evidence.members.get(person)
    theirs = found.team if added is None else team_of(evidence.context, person, added)
    # as play 5's check reads it (how the name reads): "Support" names support's champion
    if team_key(theirs) != team_key(team):
        raise InvalidInput(
            f"{person} is on {f'team {theirs}' if theirs else 'no team'}, not {team}: a "
            "champion champions their own team (play 5's champions-named check counts it so; "
            f"a lead corrects a wrong one with `inhouse pilot correct-team {person} TEAM`)"
        )
    standing = champion_naming(program, person)
    if standing is not None and team_key(str(standing.payload["team"])) == team_key(team):
        return standing  # named already: naming again records nothing (the CLI says so)
    if Role.CHAMPION not in found.roles:
        program.change_roles(None, person, add=[Role.CHAMPION.value])
    return program.record_fact(
        None,
        "pilot.champion",
        {"person": person, "team": team},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def accept_champion(program: Program, *, agree: Agree | None = None) -> Fact:
    """Take on the champion's part a rollout lead named you for (your own key signs it): the
    ``champions-named`` check counts a champion once they accepted. ``agree`` (the command's
    question) is shown what it signs, and nothing is recorded unless it says yes."""
    who = program.whoami()
    if Role.CHAMPION not in who.roles:
        raise NotAllowed(
            f"{who.name} is not named champion: a rollout lead names one (`inhouse pilot "
            "champions --name PERSON --team TEAM`), then that person accepts"
        )
    state = program.state()
    named = [
        f
        for f in state.facts
        if f.kind == "pilot.champion"
        and not f.payload.get("accepted")
        and f.payload["person"] == who.name
        and _led_then(state, f)
    ]
    if not named:
        raise Refused(f"no rollout lead has named {who.name} champion of a team yet")
    team = str(named[-1].payload["team"])
    require_yes(
        agree,
        [
            f"you, {who.name}, take on the champion's part for the team {shown(team)}",
            f"named by {named[-1].by} at {named[-1].at:%Y-%m-%d %H:%M} UTC",
            "play 5 counts you a champion once you do: the one your team asks first",
        ],
        person=who.name,
        command="inhouse pilot champions --accept",
        not_done="not taken on",
        declined="take on only a part you will play (a rollout lead names someone else)",
    )
    return program.record_fact(
        None,
        "pilot.champion",
        {"person": who.name, "team": team, "accepted": True},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
