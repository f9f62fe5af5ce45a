"""The anti-patterns, as guards on actions.

A guard looks at the folded state and returns the :class:`Blocker` s that stand in the way of an
action, each naming the missing evidence and the play that must exit first. The engine refuses
the action unless an active waiver covers every blocker. Governance theater is only flagged.

    calendar-driven-advance   starting a play whose trigger does not hold
    botched-handoff           starting a play without an accepted, current handoff
    scaling-before-proving    widening reach to a pilot before plays 1-3 have exited, or before
                              the organisation's sign-in is set up (outside a demo)
    skipping-play-five        widening reach beyond the pilot before play 5 has exited
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from inhouse.program.evaluation import (
    CheckedRef,
    describe_missing,
    exit_results,
    satisfied,
    saw_the_same,
    trigger_results,
)
from inhouse.program.facts import Fact, daily_usage, standing_usage
from inhouse.program.playbook import (
    Play,
    Playbook,
    Reach,
    Role,
    dropped_before,
    pilot_places,
)
from inhouse.program.state import UNCHECKED, HeldBack, ProgramState

__all__ = [
    "WAIVER_REASONS",
    "Blocker",
    "Guard",
    "access_holders",
    "access_kept",
    "governance_theater",
    "handed_to_itself",
    "inside_by_role",
    "play_has_exited",
    "reach_blockers",
    "reach_label",
    "refusal_message",
    "start_blockers",
    "unlisted_pilot",
]


class Guard(StrEnum):
    CALENDAR_DRIVEN_ADVANCE = "calendar-driven-advance"
    BOTCHED_HANDOFF = "botched-handoff"
    SCALING_BEFORE_PROVING = "scaling-before-proving"
    SKIPPING_PLAY_FIVE = "skipping-play-five"


#: The fixed reasons a waiver may give (with free text beside it).
WAIVER_REASONS = (
    "executive-decision",
    "regulatory-deadline",
    "time-boxed-experiment",
    "evidence-recorded-elsewhere",
    "other",
)


@dataclass(frozen=True)
class Blocker:
    guard: Guard
    play: str | None  # the play the action concerns (for starting) or must wait for (reach)
    message: str
    missing: tuple[str, ...]


def play_has_exited(
    play: Play, state: ProgramState, now: datetime, playbook: Playbook | None = None
) -> bool:
    """Exited means: handed off and accepted, and the exit checks still hold today; with the
    ``playbook``, not handed to its own owner where the next play needs another
    (:func:`handed_to_itself`)."""
    if play.id not in state.exited:
        return False
    if playbook is not None and handed_to_itself(playbook, play, state):
        return False
    return satisfied(exit_results(play, state, now))


def handed_to_itself(playbook: Playbook, play: Play, state: ProgramState) -> bool:
    """Whether ``play`` was handed by its owner to himself where the next play needs another
    owner: an offer the API refuses, appended around it. Only what time does not change is
    asked (who received it): a receiver who signs in or leaves later undoes no exit, and the
    next play's start guard judges the rest."""
    following = playbook.next(play.id)
    handoff = state.handoffs.get(play.id)
    if following is None or handoff is None or following.owner.previous != "different":
        return False
    record = state.plays.get(play.id)
    owner = record.owner if record is not None else handoff.offered_by
    # the hand it exited to, where it exited: an offer made since to someone else (accepted by
    # nobody) hands nothing on, and must not make a self-handoff's exit count
    return state.exited_to.get(play.id, handoff.to) == owner


def _not_handed_on(
    play: Play,
    previous: Play,
    prev_no: int,
    state: ProgramState,
    now: datetime,
    checked: list[CheckedRef],
) -> str | None:
    """Why an accepted, current handoff still hands nothing on: the API refuses each of these,
    so only events appended around it (an offer to oneself, an acceptance of failing exits)
    reach here, and the guard holds the play back as it would have."""
    from inhouse.program.checks import EVERY_ENROLLER, GATEWAY_HOST
    from inhouse.program.evaluation import context_for
    from inhouse.program.playchecks._shared import (
        enrolled_elsewhere,
        hosts_of,
        services_enrolled_by,
        unsigned_apart,
    )

    handoff = state.handoffs[previous.id]
    record = state.plays.get(previous.id)
    owner = record.owner if record is not None else handoff.offered_by
    if not satisfied(checked):
        return f"play {prev_no}'s exit criteria do not hold, whatever its handoff says"
    if play.owner.previous == "different":
        if handoff.to == owner:
            return f"play {prev_no} was handed by {owner} to {owner}: the next needs another owner"
        context = context_for(state, now)
        if unsigned := unsigned_apart(context, handoff.to, {owner}):
            return f"play {prev_no} was handed to {handoff.to}, told apart from nobody: {unsigned}"
        if not enrolled_elsewhere(context, handoff.to, {owner}):
            return (
                f"play {prev_no} was handed to {handoff.to}, whose keys were all enrolled from "
                f"a machine {owner} enrolled from: one person with two keys"
            )
        # nor to a key made on the host of a service the owner enrolled there first (the
        # gateway's): whoever runs it holds the key files made there. A play that exited under
        # the rule before keeps it for the start it let through (and one that exited before
        # every enroller's host counted, the first enroller's reading of it)
        kept = context.exited_before(previous.id, GATEWAY_HOST)
        first_only = context.exited_before(previous.id, EVERY_ENROLLER)
        hosts = set() if kept else services_enrolled_by(context, {owner}, first_only=first_only)
        if hosts and not enrolled_elsewhere(context, handoff.to, {owner}, services=hosts):
            return (
                f"play {prev_no} was handed to {handoff.to}, whose keys were all enrolled from "
                f"{hosts_of(hosts)} after {owner} enrolled its key there: whoever runs it holds "
                "the key files made there, so it is one person with two keys"
            )
    return None


def start_blockers(
    playbook: Playbook, play: Play, state: ProgramState, now: datetime
) -> list[Blocker]:
    blockers = []
    number = playbook.number(play.id)
    previous = playbook.previous(play.id)
    if previous is not None:
        handoff = state.handoffs.get(previous.id)
        prev_no = playbook.number(previous.id)
        why = None
        if handoff is None:
            why = f"play {prev_no} ({previous.id}) has not offered its handoff"
        elif handoff.status == "offered":
            why = f"play {prev_no}'s handoff awaits acceptance by {handoff.to}"
        elif handoff.status == "rejected":
            why = (
                f"{handoff.decided_by} rejected play {prev_no}'s handoff: "
                f"{handoff.decision_comment}"
            )
        else:  # accepted: the exit evidence now, judged once for staleness and for what it holds
            checked = exit_results(previous, state, now)
            if not saw_the_same(checked, handoff.accepted_hash):
                why = (
                    f"play {prev_no}'s accepted handoff is stale: its exit evidence changed "
                    f"after {handoff.decided_by} accepted it; re-offer and re-accept"
                )
            else:
                why = _not_handed_on(play, previous, prev_no, state, now, checked)
        if why is not None:
            blockers.append(
                Blocker(
                    Guard.BOTCHED_HANDOFF,
                    play.id,
                    f"botched handoff: play {number} ({play.id}) cannot start: {why}",
                    (f"play {prev_no} ({previous.id}) handoff accepted by its receiver",),
                )
            )
    trigger = trigger_results(play, state, now)
    if not satisfied(trigger):
        missing = tuple(describe_missing(trigger))
        blockers.append(
            Blocker(
                Guard.CALENDAR_DRIVEN_ADVANCE,
                play.id,
                f"calendar-driven advance: play {number} ({play.id})'s trigger does not hold",
                missing,
            )
        )
    return blockers


#: play packages' events that widen access: the payload field naming whose, and the action as a
#: refusal names it; each fold judges them against the reach guards as the package's own
#: command did (``inhouse keys issue``)
WIDENING_EVENTS = {"gateway.key.granted": ("person", "grant a gateway key to {name}")}


def reach_of(playbook: Playbook, state: ProgramState, person: str) -> Reach:
    """How far giving ``person`` access reaches: play 1's owner is the owner; the program's
    lead and the owners of started plays are the pilot; another rollout lead takes a place in
    it as a pilot user does. Once a lead has listed the pilot
    (:func:`pilot_list`), its listed pilot users are the pilot and everyone else is beyond it.
    A program that never listed its pilot has one all the same (:func:`unlisted_pilot`), no
    bigger than the playbook's ``pilot-size`` maximum, nor, for a playbook of its own, than the
    shipped one's (:func:`~inhouse.program.playbook.pilot_places`): its pilot users and,
    before any exists, the first people let in, in log order, while places are free. A role
    like champion or support owner is not a way into the pilot."""
    if inside_by_role(playbook, state, person):
        first = playbook.plays[0].id
        return Reach.OWNER if state.owners.get(first) == person else Reach.PILOT
    target = state.people.get(person)
    roles = target.roles if target is not None else frozenset()
    listed = pilot_list(state, playbook)
    if listed is not None:
        # the role alone is a label: someone given it and a key without a place is beyond it
        return Reach.PILOT if person in listed else Reach.BEYOND_PILOT
    inside = unlisted_pilot(state, playbook)
    if person in inside:
        return Reach.PILOT
    users = any(Role.PILOT_USER in p.roles for p in state.people.values())
    member = Role.PILOT_USER in roles or Role.ROLLOUT_LEAD in roles
    if (member or not users) and len(inside) < pilot_places(playbook):
        return Reach.PILOT  # the next to take a place
    return Reach.BEYOND_PILOT


def reach_label(playbook: Playbook, state: ProgramState, person: str, reach: Reach) -> str:
    """``reach`` (:func:`reach_of` ``person``) in words that are true of them, for the action a
    guard judges ("grant a gateway key to zoe (...)"): someone the pilot's reach takes in
    only by this grant is not said to be in the pilot already, nor a lead or a play's owner,
    who hold no place in it."""
    if reach is not Reach.PILOT:
        return reach.value
    if inside_by_role(playbook, state, person):
        return "within the pilot's reach as the program's lead or a started play's owner"
    listed = pilot_list(state, playbook)
    inside = listed if listed is not None else set(unlisted_pilot(state, playbook))
    if person in inside:
        return "in the pilot"
    return "not in the pilot yet: this grant gives them one of its places"


def inside_by_role(playbook: Playbook, state: ProgramState, person: str) -> bool:
    """Whether ``person`` is inside by the part they play: play 1's owner, the owner of a
    started play, the lead who created the program. They take no place in the pilot. Another
    rollout lead does, as a pilot user would: otherwise a lead could make a department her
    co-leads and key them all before play 5."""
    return (
        state.owners.get(playbook.plays[0].id) == person
        or person in state.owners.values()
        or (person == state.lead and person in state.people)
    )


def unlisted_pilot(state: ProgramState, playbook: Playbook) -> list[str]:
    """The pilot of a program whose leads never listed it: its pilot users (since they last
    gained the role) and the people let in as its first while none existed (since that grant,
    while access granted to them stays open), oldest first, no more than the playbook's
    ``pilot-size`` maximum. Someone who lost the role but kept their key keeps their place:
    a place is freed by revoking access, not by a label."""
    entered: dict[str, int] = {}
    for name, seq in state.pilot_entered.items():
        person = state.people.get(name)
        if person is not None and Role.PILOT_USER in person.roles:
            entered[name] = seq
    if state.let_in:
        holders = access_holders(state)
        for name, seq in state.let_in.items():
            if name in holders and name in state.people:
                entered[name] = min(seq, entered.get(name, seq))
    inside = [name for name in entered if not inside_by_role(playbook, state, name)]
    inside.sort(key=lambda name: (entered[name], name))
    return inside[: pilot_places(playbook)]


def access_holders(state: ProgramState) -> dict[str, list[int]]:
    """Who holds access a play package granted and has not taken back (a gateway key, granted
    and not revoked, fetched or not), with the events that granted it."""
    from inhouse.program.access import KEY_GRANTED, KEY_ISSUED, KEY_REVOKED, live_grants

    events = state.package_events
    seen = tuple(len(events.get(kind, ())) for kind in (KEY_GRANTED, KEY_ISSUED, KEY_REVOKED))
    memo = state.access_memo
    if memo is not None and memo[0] == seen:
        return memo[1]
    found = live_grants(state)
    state.access_memo = (seen[0], seen[1], seen[2]), found
    return found


def access_kept(state: ProgramState, person: str, seq: int) -> bool:
    """Whether ``person`` still holds access granted before event ``seq``."""
    return any(granted < seq for granted in access_holders(state).get(person, ()))


def pilot_list(state: ProgramState, playbook: Playbook) -> set[str] | None:
    """Who holds a place in the pilot once a rollout lead has listed it (None: never listed).
    A place is taken, in log order, while the playbook's ``pilot-size`` maximum leaves one free
    (one listed around ``inhouse pilot add`` beyond it takes none): by each person a lead added
    (``pilot.member``, the latest for each saying added) who holds the pilot-user role still,
    and, from the first listing, by each member of the pilot as it stood unlisted then
    (:func:`unlisted_pilot`: let in before it, their access still open), until removed.
    Listed once, the pilot stays listed: emptying the list frees places, not reach. A fact
    lists only where its signer held the rollout-lead role at its event, as play 4's checks
    read the list: a role given later (to the lead's own alias, say) does not reach back over
    facts written around `inhouse pilot add` before it."""
    facts = [f for f in state.pilot_member_facts if _led_at(state, f.by, f.id)]
    first = next((f.id for f in facts if f.payload.get("action") == "added"), None)
    if first is None:
        return None
    most = pilot_places(playbook)
    holders = access_holders(state)
    entered = {name: seq for name, seq in state.let_in.items() if seq < first}
    for name, seq in state.pilot_entered.items():
        if seq < first:
            entered[name] = min(seq, entered.get(name, seq))
    seeds = sorted(
        (name for name in entered
         if any(granted < first for granted in holders.get(name, ()))
         and not inside_by_role(playbook, state, name)),
        key=lambda name: (entered[name], name),
    )[:most]  # fmt: skip
    listed: set[str] = set(seeds)
    for fact in facts:
        person = str(fact.payload["person"])
        if fact.payload["action"] != "added":
            listed.discard(person)
        elif len(listed) < most or person in listed:
            listed.add(person)
    people = state.people
    return {
        name
        for name in listed
        if name in people and (Role.PILOT_USER in people[name].roles or name in seeds)
    }


def _led_at(state: ProgramState, name: str, seq: int) -> bool:
    """Whether ``name`` held the rollout-lead role at event ``seq``."""
    spans = state.role_spans.get(name, {}).get(Role.ROLLOUT_LEAD.value, ())
    return any(gained <= seq and (lost is None or seq < lost) for gained, lost in spans)


def reach_blockers(
    playbook: Playbook, reach: Reach, state: ProgramState, now: datetime
) -> list[Blocker]:
    """What stands between the program and widening access to ``reach``."""
    if reach is Reach.OWNER:
        return []
    guard = Guard.SCALING_BEFORE_PROVING if reach is Reach.PILOT else Guard.SKIPPING_PLAY_FIVE
    gate = playbook.reach.get(reach)
    blockers = []
    # a playbook without a gate for this reach asks no play to exit first; the sign-in below
    # is asked all the same (a playbook's file cannot waive who people are)
    upto = -1 if gate is None else playbook.ids.index(gate)
    label = (
        "scaling before proving" if guard is Guard.SCALING_BEFORE_PROVING else "skipping play five"
    )
    for play in playbook.plays[: upto + 1]:
        if play_has_exited(play, state, now, playbook):
            continue
        number = playbook.number(play.id)
        if play.id in state.exited:
            missing = tuple(describe_missing(exit_results(play, state, now))) or (
                f"play {number} exit",
            )
        elif play.id in state.plays:
            missing = tuple(describe_missing(exit_results(play, state, now))) or (
                f"play {number} ({play.id}) handoff accepted by its receiver",
            )
        else:
            missing = (f"play {number} ({play.id}) started, its exit met and handed off",)
        blockers.append(
            Blocker(
                guard,
                None,  # a reach waiver is not scoped to one play: it lets the widening through
                f"{label}: widening access to the {reach.value} needs play {number} "
                f"({play.id}) to exit first",
                missing,
            )
        )
    if dropped := dropped_before(playbook, reach):
        # the gates above are the program's own playbook's, its lead's to write: a copy of the
        # shipped one without its gates, or with play 1's exit eased, would open the pilot with
        # nothing proven; the widening goes through on the record (a waiver) or not at all
        blockers.append(
            Blocker(
                guard,
                None,
                f"{label} under a playbook of the program's own: {playbook.name} "
                f"v{playbook.version} drops rules the playbook inhouse ships holds a program to "
                f"before widening access to the {reach.value}, so its gates alone do not let "
                "the widening through",
                tuple(dropped),
            )
        )
    if guard is Guard.SCALING_BEFORE_PROVING and state.sign_in is None and not state.demo:
        blockers.append(
            Blocker(
                guard,
                None,
                "scaling before proving who people are: a pilot's members, and every check "
                "that needs someone else, rest on the machines each person reports itself "
                "until the organisation's sign-in vouches for them",
                ("the organisation's sign-in, set up by a rollout lead (`inhouse sign-in setup`)",),
            )
        )
    return blockers


def governance_theater(playbook: Playbook, state: ProgramState, now: datetime) -> str | None:
    """Governance set up before anyone really used the tool: a warning, not a refusal. Real use
    is the usage the checks count at ``now`` (:func:`~inhouse.program.counting.build_context`,
    built once per state and time): the gateway's own key on a host of its own, for the days
    each person held a key of their own and confirmed with it. The gateway's host is its
    operator's, who could otherwise seal rows in colleagues' names to hide this warning; and
    the use is someone's other than a rollout lead's (ever), from a machine of their own: the
    lead who sets governance up and runs that host confirms her own day alone."""
    from inhouse.program.evaluation import context_for
    from inhouse.program.playchecks._shared import names, not_apart_from_leads

    kinds = set(playbook.governance_facts)
    early = []
    ctx = context_for(state, now)
    counted = ctx.facts.of("usage.daily")
    # each day as the gateway last signed it: a reading of requests that a later one of the
    # same day no longer bears out (signed again without them) was no use
    standing = standing_usage(counted)
    # the usage is someone else's than the leads': a lead runs the gateway's host (its key
    # signs the rows she seals) and sets governance up, so her own confirmed day, or one of a
    # key made on her machine or on that host after she enrolled its key there, is her word
    # alone that the tool is in use
    not_apart = not_apart_from_leads(ctx)

    def someone_else(person: str) -> bool:
        return not_apart(person) is None

    def users(fact: Fact) -> list[str]:
        day = standing.get(str(fact.payload["day"]), {})
        return [
            person
            for person, totals in daily_usage(fact).items()
            if totals["requests"] > 0
            and person in day
            and int(day[person][1].get("requests", 0)) > 0
        ]

    first_use = next((f.id for f in counted if any(map(someone_else, users(f)))), None)
    for fact in state.facts:
        if fact.kind in kinds and (first_use is None or fact.id < first_use):
            early.append(f"{fact.kind} (fact #{fact.id})")
    if not early:
        return None
    when = "with no real usage yet" if first_use is None else "before any real usage"
    # a lead who used the gateway herself reads "no real usage" as a fault of the rollup:
    # say whose use it saw and why it is not counted
    before = [f for f in counted if first_use is None or f.id < first_use]
    seen = sorted({person for f in before for person in users(f)})
    why = (
        f" ({names(seen)}'s use is not counted, none of it told apart from the rollout "
        f"leads' ({'; '.join(filter(None, map(not_apart, seen)))}): the gateway's host's "
        "operator seals its rows and a lead confirms her own days; real usage is someone "
        "else's)"
        if seen
        else ""
    )
    return (
        f"governance theater: {', '.join(early)} set up {when}{why}; introduce governance in "
        "play 5, sized to actual use"
    )


def refusal_message(action: str, blockers: list[Blocker]) -> str:
    """What a person reads when a guard refuses ``action``: each blocker, the missing evidence,
    and the waiver a rollout lead could grant on the record."""
    missing = [item for blocker in blockers for item in blocker.missing]
    lines = [f"refused: {action}"]
    lines += [f"  {blocker.message}" for blocker in blockers]
    if missing:
        lines.append("missing evidence:")
        lines += [f"  - {item}" for item in missing]
    lines.append("to override, a rollout lead grants a waiver on the record:")
    for guard, play in dict.fromkeys((b.guard, b.play) for b in blockers):
        lines.append(f"  {waiver_command(guard.value, play)}")
    return "\n".join(lines)


def waiver_command(guard: str, play: str | None) -> str:
    """The command that puts ``guard`` (for ``play``) on the record; for a guard that could
    not be checked (:data:`~inhouse.program.state.UNCHECKED`), any guard's waiver does."""
    name = "GUARD" if guard == UNCHECKED else guard
    scope = f" --play {play}" if play else ""
    return f"inhouse waiver grant {name}{scope} --reason REASON --note TEXT --expires DATE"


def waiver_commands(left: list[tuple[str, str | None, str]]) -> str:
    """:func:`waiver_command` for each (guard, play) of ``left``, quoted and joined."""
    pairs = dict.fromkeys((guard, play) for guard, play, _ in left)
    return " and ".join(f"`{waiver_command(guard, play)}`" for guard, play in pairs)


def held_back_warning(
    playbook: Playbook, held: HeldBack, left: list[tuple[str, str | None, str]]
) -> str:
    """What status (and a refused handoff) says of an action its guards held back, no waiver
    covering it (:class:`~inhouse.program.state.HeldBack`), and how to put it on the record."""
    reasons = "; ".join(why for _, _, why in left)
    fix = f"a rollout lead puts it on the record with {waiver_commands(left)}"
    if held.play is not None:
        what = f"play {playbook.number(held.play)} ({held.play}) was started by {held.by}"
        until = "its handoff cannot be offered"
    else:
        what = f"{held.by} did this: {held.action}"
        until = "no play's handoff is offered, and a gateway key so granted is not served"
    return (
        f"{what} at event {held.seq} while its guards held it back, and no waiver covered it: "
        f"{reasons}. The API refuses that, so it was written around it (or the checks judge "
        f"that evidence differently since); {fix}. Until then {until}"
    )
