"""The pilot's roster: who is in play 4's pilot, on which role track, since when.

A rollout lead adds an enrolled person (someone who joined with a key of their own) with a track
(``enablement/TRACK.yaml``): that gives them the ``pilot-user`` role through the engine, so the
scaling-before-proving guard decides (refused, naming the missing evidence, until plays 1-3 have
exited, unless a waiver is on the record), and records a ``pilot.member`` fact. The size and the
team spread are the playbook's parameters of the ``pilot-size`` check: a pilot already at its
maximum takes nobody more, and the last places are kept for the teams it still lacks.

Who is a member is what play 4's checks read: added with a track, not removed since, holding the
``pilot-user`` role.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inhouse import figures
from inhouse.errors import InvalidInput, NotAllowed, Refused, UnknownPerson
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.tracks import gateway_step_missing, load_track
from inhouse.plaintext import check_plain, check_words_one_script
from inhouse.program.checks import Person
from inhouse.program.facts import Fact, Provenance
from inhouse.program.playbook import PilotLimits, Role, pilot_limits, pilot_places
from inhouse.program.playchecks.pilot import roster_correction, said_team, team_key, team_of
from inhouse.program.state import not_on_roster

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "COLLECTOR",
    "Member",
    "PilotLimits",
    "add_member",
    "correct_team",
    "enrolled_person",
    "members",
    "pilot_limits",
    "remove_member",
    "require_lead",
    "state_team",
]

COLLECTOR = "inhouse pilot"


@dataclass(frozen=True)
class Member:
    person: str
    team: str
    track: str
    onboarded: datetime  # when a lead added them (the latest time, if added again)
    added_by: str
    fact: int  # the pilot.member fact that added them
    #: the team they said, with their own key, they work in (`inhouse pilot team`; None: not yet)
    says: str | None = None

    @property
    def confirmed(self) -> bool:
        """Whether their own word agrees with the roster's team: the pilot's checks count it."""
        return (
            bool(self.team) and self.says is not None and team_key(self.says) == team_key(self.team)
        )


def members(evidence: PilotEvidence) -> list[Member]:
    """The pilot's members, by name, each with their team as the pilot's checks read the lead's
    roster (as it named it when they were added, or as a lead corrected it since)."""
    ctx = evidence.context
    found = []
    for name, fact in sorted(evidence.members.items()):
        word = said_team(ctx, name)
        found.append(
            Member(
                person=name,
                team=team_of(ctx, name, fact),
                track=str(fact.payload["track"]),
                onboarded=fact.at,
                added_by=fact.by,
                fact=fact.id,
                says=None if word is None else str(word.payload["team"]),
            )
        )
    return found


def require_lead(program: Program, doing: str) -> Person:
    """The acting person, who must be a rollout lead to do ``doing``."""
    who = program.whoami()
    if Role.ROLLOUT_LEAD not in who.roles:
        raise NotAllowed(f"only a rollout lead {doing}; {who.name} is not one")
    return who


def enrolled_person(program: Program, name: str) -> Person:
    """``name``, who must be a person on the roster who joined with a key of their own."""
    state = program.state()
    person = state.people.get(name)
    if person is None:
        raise UnknownPerson(
            f"{not_on_roster(name, state.people)}; a rollout lead invites someone new first: "
            "`inhouse person invite NAME --team TEAM`"
        )
    if person.service:
        raise InvalidInput(f"{name} is a service with a key of its own, not a person")
    if not any(k.revoked_at is None for k in state.keys_of(name)):
        raise InvalidInput(
            f"{name} has no enrolled key: they join with their invitation on their own machine "
            "first (`inhouse join INVITATION`), so that what they do is signed by them"
        )
    return person


def add_member(program: Program, name: str, *, track: str) -> Member:
    """Add ``name`` to the pilot on ``track`` (a rollout lead): the pilot-user role, through the
    scaling-before-proving guard, and a ``pilot.member`` fact."""
    require_lead(program, "adds pilot members")
    person = enrolled_person(program, name)
    chosen = load_track(program.folder, track)  # valid, too
    if (missing := gateway_step_missing(chosen)) is not None:
        raise InvalidInput(f"track {track} cannot take pilot members: {missing}")
    steps = [step.terms() for step in chosen.steps]
    evidence = PilotEvidence(program)
    current = members(evidence)
    mine = next((m for m in current if m.person == name), None)
    if mine is not None:
        raise InvalidInput(
            f"{name} is already in the pilot (track {mine.track}, since "
            f"{mine.onboarded:%Y-%m-%d}); to change track, remove them and add them again"
        )
    team = _roster_team(evidence, person)
    _check_room(program, person, team, current)
    if Role.PILOT_USER not in person.roles:
        program.change_roles(None, name, add=[Role.PILOT_USER.value])
    fact = _record(program, name, track, "added", steps=steps, team=team)
    word = said_team(evidence.context, name)
    says = None if word is None else str(word.payload["team"])
    return Member(name, team, track, fact.at, fact.by, fact.id, says)


def _roster_team(evidence: PilotEvidence, person: Person) -> str:
    """The team the lead's roster names for ``person`` now: as a lead other than them last
    corrected it (`inhouse pilot correct-team`), else as invited."""
    corrected = roster_correction(evidence.context, person.name)
    return str(corrected.payload["team"]) if corrected is not None else person.team


def _check_room(program: Program, person: Person, team: str, current: list[Member]) -> None:
    limits = pilot_limits(program.playbook)
    # the places the reach guards give (a playbook of the program's own raises them no higher
    # than the shipped one's): a member added beyond them would be on the roster with no place
    most = pilot_places(program.playbook)
    size = len(current) + 1
    if size > most:
        capped = (
            f" (at most {most} places: a playbook of the program's own raises the pilot no "
            "higher than the shipped one's until play 5 exits)"
            if most < limits.max
            else ""
        )
        raise Refused(
            f"the pilot is full: it has {len(current)} members and the playbook's pilot-size "
            f"check wants {limits.describe()}{capped}; remove someone first "
            "(`inhouse pilot remove`)",
            missing=[f"a free place in the pilot (at most {most} members)"],
        )
    teams = {m.team for m in current if m.team} | ({team} if team else set())
    lacking = limits.min_teams - len(teams)
    places = most - size
    if lacking > places:
        named = f"team {team}" if team else "no team"
        raise Refused(
            f"adding {person.name} ({named}) would leave {figures.count(places, 'places')} for the "
            f"{figures.count(lacking, 'more teams')} the pilot still needs ({limits.describe()}); "
            "add someone from "
            f"another team (teams so far: {', '.join(sorted(teams)) or 'none'})",
            missing=[f"members from {figures.count(lacking, 'more teams')}"],
        )


def remove_member(program: Program, name: str) -> tuple[Member | None, list[str]]:
    """Take ``name`` out of the pilot (a rollout lead): the pilot-user role goes, and a
    ``pilot.member`` fact says so. Before play 5 exits (no waiver of skipping play five on the
    record), access beyond the pilot is not theirs to keep: their gateway keys are revoked and
    grants not yet fetched withdrawn first, else a lead could let any number of people through
    a pilot of ten, one place at a time. Returns the membership that ended (None when they
    only held the role, without a track) and what access was taken back."""
    from inhouse.gateway.keys import close_access

    require_lead(program, "removes pilot members")
    state = program.state()
    person = state.people.get(name)
    current = {m.person: m for m in members(PilotEvidence(program))}
    if person is None or (name not in current and Role.PILOT_USER not in person.roles):
        raise InvalidInput(
            f"{name} is not in the pilot (members: {', '.join(sorted(current)) or 'none yet'})"
        )
    from inhouse.program.guards import inside_by_role

    kept = inside_by_role(program.playbook, state, name)  # a lead or an owner stays inside
    closed = close_access(program, name) if not kept and _beyond_held_back(program) else []
    if Role.PILOT_USER in person.roles:
        program.change_roles(None, name, remove=[Role.PILOT_USER.value])
    member = current.get(name)
    if member is not None:
        _record(program, name, member.track, "removed")
    return member, closed


def _beyond_held_back(program: Program) -> bool:
    """Whether access beyond the pilot is held back now: play 5 has not exited and no active
    waiver of skipping play five covers it."""
    from inhouse.program.guards import reach_blockers
    from inhouse.program.playbook import Reach
    from inhouse.program.state import judging_time

    state = program.state()
    # as every fold judges the removal (state._left_pilot): a clock set back into a waiver's
    # life would keep the keys open, and the fold would then hold them back
    now = judging_time(state, program.whoami().name, program.clock())
    return any(
        not any(w.covers(b.guard, b.play, now) for w in state.waivers)
        for b in reach_blockers(program.playbook, Reach.BEYOND_PILOT, state, now)
    )


def _record(
    program: Program,
    name: str,
    track: str,
    action: str,
    steps: list[dict[str, Any]] | None = None,
    team: str | None = None,
) -> Fact:
    # an added member's track steps and team go with them: what pilot-enabled holds them to,
    # and the team the pilot's checks count them in (a later roster edit moves nobody)
    extra: dict[str, Any] = {"steps": steps} if steps is not None else {}
    if action == "added":
        extra["team"] = team
    return program.record_fact(
        None,
        "pilot.member",
        {"person": name, "track": track, "action": action, **extra},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


#: who records the team a person says they work in (``pilot.team``)
TEAM_COLLECTOR = "inhouse pilot team"


def state_team(program: Program, team: str) -> Fact:
    """Record, signed with the runner's own key, the team they say they work in: pilot-size
    counts a member's team toward its spread only where this, their own word, agrees with the
    team the lead's roster names (one person's typing is not five teams). Anyone enrolled may
    say it, before or after a lead adds them; the latest they said counts."""
    who = program.whoami()
    if who.service:
        raise NotAllowed(f"{who.name} is a service: it works in no team")
    team = _team_name(team, "the team you work in")
    return program.record_fact(
        None,
        "pilot.team",
        {"person": who.name, "team": team},
        provenance=Provenance.MEASURED,
        collector=TEAM_COLLECTOR,
    )


def correct_team(program: Program, name: str, team: str) -> Fact:
    """Correct the team the lead's roster names for ``name`` (a rollout lead other than them):
    a ``pilot.roster_team`` fact, which the pilot's checks read in place of the team the roster
    named when they were added. Their own word (`inhouse pilot team`) must agree with it for
    their team to count: where they said another team before, they say this one. The roster's
    side is a lead's and the member's is theirs, so nobody corrects their own."""
    who = require_lead(program, "corrects the team the roster names for a pilot member")
    if name == who.name:
        raise NotAllowed(
            f"{who.name} cannot correct their own team: the roster's side and the member's own "
            "word are two people's, so another rollout lead corrects it"
        )
    enrolled_person(program, name)
    return program.record_fact(
        None,
        "pilot.roster_team",
        {"person": name, "team": _team_name(team, f"the team {name} works in")},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def team_word(program: Program, name: str) -> str | None:
    """The team ``name`` last said, with their own key, they work in (`inhouse pilot team`);
    None where they have not said one."""
    word = said_team(PilotEvidence(program).context, name)
    return None if word is None else str(word.payload["team"])


def _team_name(team: str, what: str) -> str:
    team = team.strip()
    if not team or len(team) > 200:
        raise InvalidInput(f"{what}: 1-200 characters, e.g. `support`")
    # recorded and printed (the pilot's checks, its members table), as a person's team is; a
    # word of Latin mixed with lookalike letters ("ops" with an Armenian o) reads as another
    # team's that pilot-size would count apart (the lead sends it, members paste it)
    return check_words_one_script(check_plain(team, what=what, one_line=True), what=what)
