"""Play 5, support and governance: widening asked, queue, champions, drift, agents,
reviews, a ticket resolved without the builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from inhouse import figures
from inhouse.program.checks import (
    TYPICAL_OPENERS,
    CheckContext,
    Outcome,
    Result,
    failed,
    not_applicable,
    passed,
    register_check,
)
from inhouse.program.counting import CLOCK_SKEW
from inhouse.program.facts import Fact, FactSet
from inhouse.program.playchecks._shared import (
    TICKET_KINDS,
    Host,
    Ticket,
    as_signed_in_then,
    builders_of,
    current_lock,
    enrolled_elsewhere,
    fold_tickets,
    given,
    held_by,
    held_for,
    hosts_of,
    inside_before,
    insiders,
    kept_from_before,
    names,
    not_counted,
    one_per_machine,
    services_enrolled_by,
    split_aside,
    unsigned_apart,
    word_of_another,
)
from inhouse.program.playchecks.baseline import second_person_verified
from inhouse.program.playchecks.pilot import (
    added_team,
    confirmed_teams,
    lead_then,
    members,
    team_key,
    team_of,
)

#: the checks themselves are reached through the registry
__all__ = ["by_lead", "queue_owner_refusal"]


# -- play 5: support -------------------------------------------------------------------------------


@register_check("widening-requested", reads=("access.request", "pilot.member"))
def widening_requested(ctx: CheckContext) -> Result:
    """Someone outside the program asks to get in after the pilot (play 4) exited: someone who
    never held a role in it (pilot, owner, lead, champion, support), was never added to the
    pilot nor let into it by a gateway key, and owns no play, enrolled from a machine of their
    own (not one an insider enrolled from first, nor the gateway's host once an insider
    enrolled its key there; one per machine). A request from before play 4 exited was the
    pilot's demand, not a wider one, and so is one sealed on the asker's machine before it and
    imported after (whoever carries the file chooses when; a play 5 that exited by the log's
    time keeps it for the requests it exited on); a role taken away since does not make a
    former insider someone new."""
    result = _widening(ctx, sealed=True)
    if "support" not in ctx.exited:
        return result
    # play 5 may have started, and exited, on a request sealed before play 4 exited and carried
    # in after it (counted by its import's time until then): the exit stands, said
    return kept_from_before(
        result,
        (
            lambda: _widening(ctx, sealed=False),
            "play 5 (support) exited before a request was judged by when it was sealed",
        ),
    )


def _widening(ctx: CheckContext, *, sealed: bool) -> Result:
    """widening-requested's judgment; ``sealed``: an imported request by when its signer sealed
    it, where the log dated it later (False: by the log's time, the rule before, for the
    requests play 5 exited on; one recorded since, or one it left out, is dated as
    sealed)."""
    inside = insiders(ctx)
    exit_mark = ctx.exited.get("pilot")
    since = exit_mark[0] if exit_mark is not None else None
    requests = ctx.facts.of("access.request")

    # the rule before dates by the log only what play 5 exited on: a request recorded since,
    # or one its exit was not judged on, is dated as sealed, else whoever carries an old
    # envelope in makes it new demand
    def made(f: Fact) -> datetime:
        return f.at if not sealed and ctx.spared("support", f) else f.made

    # after the exit: later, or at the same instant but recorded after it
    late = [f for f in requests if exit_mark is not None and (made(f), f.id) > exit_mark]
    outside = [f for f in late if f.by not in inside]
    # a key made on the gateway's host, once an insider enrolled its key there, lies where
    # they run things: no newcomer's
    hosts = services_enrolled_by(ctx, inside)
    counted, aside = one_per_machine(ctx, {f.by for f in outside}, inside, services=hosts)
    aside, unsigned = split_aside(ctx, aside, inside)
    notes = [
        f"{why}: inside the program once, not someone new"
        for why in inside_before(ctx, {f.by for f in requests}).values()
    ]
    early = sorted({f.by for f in requests if f.by not in inside} - {f.by for f in outside})
    if early:
        when = f" ({since:%Y-%m-%d})" if since is not None else ""
        notes.append(
            f"{names(early)} asked before play 4 (pilot) exited{when}, the pilot's own demand: "
            "a request made after it counts"
        )
        carried = sorted({f.by for f in requests if f.by in early and f.made != f.at})
        if carried and exit_mark is not None:
            notes.append(
                f"{names(carried)}'s request was sealed on their machine before the exit and "
                "imported after it: when an envelope is carried in does not make it later"
            )
    if unsigned:
        notes.append(unsigned)
    if not counted:
        if aside:
            notes.append(
                f"{names(aside)} asked from a machine someone inside the program enrolled from"
                f"{f' (or {hosts_of(hosts)}, where one of them enrolled its key)' if hosts else ''}"
                ": one person with another key, not someone new"
            )
        shown = [f for f in requests if f.by not in inside]
        if since is None:
            return failed(
                "play 4 (pilot) has not exited: widening counts the access requests made "
                f"after it does (each with their own key: `inhouse access request`)"
                f"{not_counted(notes)}",
                *shown,
            )
        return failed(
            f"nobody outside the pilot has asked for access since play 4 (pilot) exited "
            f"({since:%Y-%m-%d}; with their own key: `inhouse access request`)"
            f"{not_counted(notes)}",
            *shown,
        )
    if aside:
        notes.append(f"{names(aside)}, on a machine already counted")
    return passed(
        f"{names(counted)} asked{not_counted(notes)}", *(f for f in outside if f.by in counted)
    )


@register_check("support-queue-owned", reads=("support.queue",))
def support_queue_owned(ctx: CheckContext) -> Result:
    """A support queue exists, named by a rollout lead at the time (`inhouse support owner`; a
    lead who hands the role on later does not undo it, :func:`by_lead`), and its owner
    is enrolled (joined with a key of their own), holds the support-owner role, and took it on
    with their own key after being named (`inhouse support owner --accept`), unless the lead
    named herself. The owner is not play 4's (the pilot's owner: the playbook hands support to
    someone else), and a lead who named herself owns it only while play 5 has no owner or is
    hers (her naming commits no one else). A play 5 exit already in the log keeps the naming it
    was judged on (the reason says what today's rule asks)."""
    return _judged_by_lead(ctx, _queue_owned)


def _judged_by_lead(ctx: CheckContext, check: Callable[[CheckContext, LeadAct], Result]) -> Result:
    """``check`` with a lead's act read as :func:`by_lead` reads it; where that falls short
    and play 5 exited, the reading it exited on (signed by someone who is a lead now) where
    that passes on evidence the exit was judged on alone: a later act of a lead who had handed
    the role on before the exit, which that reading passed over, does not take the exit back."""
    result = check(ctx, by_lead)
    if result.outcome is Outcome.PASS or _SUPPORT not in ctx.exited:
        return result
    kept = check(ctx, lambda c, f: _is_lead(c, f.by))
    if kept.outcome is not Outcome.PASS or not all(ctx.spared(_SUPPORT, f) for f in kept.evidence):
        return result
    return passed(
        f"{kept.reason} (play 5 (support) exited when a lead's act was one whose signer "
        f"leads now; today's rule, one who led when they signed it: {result.reason})",
        *kept.evidence,
    )


#: how a check tells a rollout lead's act (:func:`by_lead`, or the reading an exit was judged by)
LeadAct = Callable[[CheckContext, Fact], bool]


def _queue_owned(ctx: CheckContext, lead: LeadAct) -> Result:
    queue = ctx.facts.latest(
        "support.queue", lambda f: lead(ctx, f) and not f.payload.get("accepted")
    )
    if queue is None:
        others = [f for f in ctx.facts.of("support.queue") if not f.payload.get("accepted")]
        if others:
            return failed(
                f"no support queue named by a rollout lead ({names([f.by for f in others])} "
                "signed one and was not a lead then): `inhouse support owner PERSON`, by a lead",
                *others,
            )
        return failed(
            "no support queue: a rollout lead names its owner, `inhouse support owner PERSON`, "
            "who takes it on with their own key (`inhouse support owner --accept`)"
        )
    name = str(queue.payload["owner"])
    owner = ctx.people.get(name)
    if owner is None or owner.service or not ctx.machines.get(name):
        return failed(
            f"queue {queue.payload['queue']} is owned by {name}, who is not an enrolled person "
            "(on the roster, joined with a key of their own)",
            queue,
        )
    if "support-owner" not in owner.roles:
        return failed(
            f"queue {queue.payload['queue']} is owned by {name}, who is not a support owner on "
            "the roster (no support-owner role)",
            queue,
        )
    if (misowned := _not_supports_owner(ctx, queue, name)) is not None:
        if not ctx.spared(_SUPPORT, queue):
            return failed(misowned, queue)
        # a play 5 exit judged on this naming keeps it (an exit is not taken back), and says
        # what today's rule asks
        kept = _queue_owned(replace(ctx, owners={}), lead)
        return passed(
            f"{kept.reason} (play 5 (support) exited before the queue's owner had to be other "
            f"than the pilot's owner and, named by themself, play 5's own; today's rule: "
            f"{misowned})",
            *kept.evidence,
        )
    # a lead may own the queue in their own name; an "owner" joined on the lead's laptop is
    # the lead with a second key, presented as someone else
    if name != queue.by and (unsigned := unsigned_apart(ctx, name, {queue.by})):
        return failed(
            f"queue {queue.payload['queue']} is owned by {name}, whom the organisation's "
            f"sign-in has not vouched for ({unsigned})",
            queue,
        )
    if name != queue.by and not enrolled_elsewhere(ctx, name, {queue.by}):
        return failed(
            f"queue {queue.payload['queue']} is owned by {name}, whose keys were all enrolled "
            f"from a machine {queue.by} (who named them) enrolled from: one person with two "
            "keys, not a support owner of their own",
            queue,
        )
    # nor one whose keys were all made on the host of a service the naming lead enrolled there
    # first (the gateway's: whoever runs it holds the key files made there), as plays 4 and 5
    # judge such a key; a naming a play 5 exit was judged on keeps the rule before
    hosts = services_enrolled_by(ctx, {queue.by})
    if (
        name != queue.by
        and hosts
        and not ctx.spared(_SUPPORT, queue)
        and not enrolled_elsewhere(ctx, name, {queue.by}, services=hosts)
    ):
        return failed(
            f"queue {queue.payload['queue']} is owned by {name}, whose keys were all enrolled "
            f"from {hosts_of(hosts)} after {queue.by} (who named them) enrolled its key there, "
            f"or from a machine {queue.by} enrolled from: whoever runs it holds the key files "
            f"made there. {name} takes the queue on from a machine of their own",
            queue,
        )
    # a lead's word does not make someone else's commitment: the owner takes it on with their
    # own key, after being named (a lead naming herself owner is her own word already)
    accepted = ctx.facts.latest(
        "support.queue",
        lambda f: (
            bool(f.payload.get("accepted"))
            and f.by == name
            and f.id > queue.id
            and f.payload["queue"] == queue.payload["queue"]
        ),
    )
    if name != queue.by and accepted is None:
        return failed(
            f"queue {queue.payload['queue']} is owned by {name} on {queue.by}'s word: {name} "
            "takes it on with their own key (`inhouse support owner --accept`)",
            queue,
        )
    # the lead's own naming of themself stands, and is said as what it is: their word alone
    own = (
        f" ({name}, a rollout lead, named themself owner: their own word, nobody else's commitment)"
        if name == queue.by
        else f", who took it on with their own key (fact #{accepted.id})"
        if accepted is not None
        else ""
    )
    return passed(
        f"queue {queue.payload['queue']} owned by {owner.name}{own}",
        queue,
        *([accepted] if accepted is not None else []),
    )


#: play 5's id in the playbook
_SUPPORT = "support"
#: play 4's id in the playbook
_PILOT = "pilot"


def _not_supports_owner(ctx: CheckContext, queue: Fact, name: str) -> str | None:
    """Why ``name``, named by ``queue``, owns no support of the playbook's, or None
    (:func:`queue_owner_refusal`)."""
    return queue_owner_refusal(ctx.owners, str(queue.payload["queue"]), queue.by, name)


def queue_owner_refusal(
    owners: Mapping[str, str], queue: str, named_by: str, name: str
) -> str | None:
    """Why ``name``, named owner of ``queue`` by ``named_by`` while the plays' owners are
    ``owners`` (play id -> owner), owns no support of the playbook's, or None. Play 5's owner
    is a different person from play 4's: the pilot's owner owning the queue made that rule
    hollow (one command, their own naming, and the periodic review asking for a lead and the
    queue's owner was them beside any one colleague). A lead's naming of themself, which
    nobody accepts, is a commitment only of play 5's own owner once the play has one; one a
    waiver let own both plays is judged as play 5's owner (the waiver is on the record).
    `inhouse support owner` refuses such a naming, and ``support-queue-owned`` fails one made
    before play 5 started or around the command."""
    pilot, support = owners.get(_PILOT), owners.get(_SUPPORT)
    took = (
        f"`inhouse support owner {support}`, then {support} runs `inhouse support owner "
        "--accept` with their own key"
        if support is not None
        else "a rollout lead names someone else (`inhouse support owner PERSON`), who takes it "
        "on with their own key"
    )
    theirs = f" (play 5 (support) is {support}'s)" if support is not None else ""
    if name == pilot and name != support:
        return (
            f"queue {queue} is owned by {name}, who owns play 4 (pilot): support goes to "
            f"someone other than the pilot's owner{theirs}: {took}"
        )
    if name == named_by and support is not None and name != support:
        return (
            f"queue {queue} is owned by {name} on {name}'s own word, but play 5 (support) is "
            f"{support}'s: a lead's naming of themself commits nobody else; {took}"
        )
    return None


@register_check(
    "champions-named", reads=("pilot.member", "pilot.team", "pilot.roster_team", "pilot.champion")
)
def champions_named(ctx: CheckContext) -> Result:
    """Every pilot team has a champion: a ``pilot.champion`` fact for that team, signed by a
    rollout lead at the time (`inhouse pilot champions --name`; a lead who hands the role on
    later does not undo it), naming one of that team's pilot members
    (counted as the pilot counts them: enrolled from a machine of their own, not the lead who
    named them) who has held the champion role since it without a break (a role taken away and
    given back revives no naming), and who accepted it after being named, with
    their own key (`inhouse pilot champions --accept`). Every team the lead's roster names for
    a member needs one, and a champion counts only for the team they confirmed, as pilot-size
    counts it: the team the roster names for them, where they say with their own key that they
    work in it (`inhouse pilot team`); never for one only the lead's roster gives them, so a
    team none of whose members confirmed it waits for their word. A program whose play 5
    exited keeps the rule it exited on (the roster's teams, a lead's word) where today's falls
    short, for the members and namings it exited on (one added or named since counts by
    today's rule), and the reason says so."""
    pilot = members(ctx)
    if not pilot:
        return failed("no pilot members, so no teams to name champions for")
    confirmed, _, notes = confirmed_teams(ctx, pilot)
    unconfirmed = f"; team not counted: {'; '.join(notes)}" if notes else ""
    teams = {person: team_key(team) for person, team in confirmed.items()}
    # the teams to cover are every team the roster names for a member, confirmed or not (the
    # lead's word may add a team to cover, never take one away); a champion counts only for
    # the team they confirmed, so a team nobody confirmed waits for its members' word
    labels: dict[str, str] = {}
    for person, added in sorted(pilot.items()):
        team = team_of(ctx, person, added)
        labels.setdefault(team_key(team) or _NO_TEAM, team or _NO_TEAM)
    covered = set(labels)
    # the same evidence the roster-only rule passed on (the naming and the acceptance): a
    # program whose play 5 was accepted on it, its champions' teams confirmed, is not made
    # stale by the members' words it never saw
    result = _champions(ctx, pilot, teams, covered, team_key, labels, unconfirmed)
    if result.outcome is Outcome.PASS or _SUPPORT not in ctx.exited:
        return result
    # play 5 exited on the roster's teams alone (the rule it exited on): asked only where the
    # members' word falls short, so a pass on it stays the pass its handoff was accepted on.
    # Only what the exit was judged on is spared: a member added since, and a champion named
    # since, count by today's rule (their team as they confirmed it), else the lead's roster
    # alone would decide each new team's champion. A member goes by the exit's mark (the
    # roster it judged the namings against: its evidence is the namings and acceptances, not
    # the listings), a naming by whether the exit cited it
    mark = ctx.exited[_SUPPORT][1]

    def named(naming: Fact) -> bool:
        return ctx.spared(_SUPPORT, naming)

    # a member's team as today's rule counts it (the one they confirmed), as the roster-only
    # rule shows it (no team: its label)
    today = {person: team or _NO_TEAM for person, team in confirmed.items()}
    roster = {p: added_team(ctx, p, added) or _NO_TEAM for p, added in pilot.items()
              if added.id <= mark}  # fmt: skip
    to_cover = set(roster.values()) | {
        team_of(ctx, p, added) or _NO_TEAM for p, added in pilot.items() if added.id > mark
    }
    roster |= {p: today[p] for p, added in pilot.items() if added.id > mark and p in today}
    kept = _champions(
        ctx, pilot, roster, to_cover, lambda team: team or _NO_TEAM, {}, "", later=(named, today)
    )
    if kept.outcome is not Outcome.PASS:
        return result
    return passed(
        f"{kept.reason} (each team as the roster names it, a lead's word: play 5 exited before "
        f"a member's own word on their team was asked{unconfirmed})",
        *kept.evidence,
    )


#: a member the roster names no team for, as the roster-only rule counted them
_NO_TEAM = "(no team)"


def _champions(
    ctx: CheckContext,
    pilot: dict[str, Fact],
    teams: dict[str, str],
    covered: set[str],
    key: Callable[[str], str],
    labels: dict[str, str],
    unconfirmed: str,
    later: tuple[Callable[[Fact], bool], Mapping[str, str]] | None = None,
) -> Result:
    """champions-named over ``covered`` (the teams that need a champion, as ``key`` reads a
    team's name; ``labels``: how to show one), a champion counting for the team ``teams`` gives
    them (the members whose team counts); ``unconfirmed``: what the reason adds about the
    members whose team does not count. ``later``: which namings an exit was judged on, and the
    teams any other counts for instead (today's, for an exit judged on the roster's)."""

    def shown(team: str) -> str:
        return labels.get(team, team)

    named: dict[str, Fact] = {}
    outside: set[str] = set()
    accepted: dict[str, Fact] = {}  # person -> their own acceptance, after their naming
    for fact in ctx.facts.of("pilot.champion"):
        name = str(fact.payload["person"])
        person = ctx.people.get(name)
        team = key(str(fact.payload["team"]))
        if fact.payload.get("accepted"):
            if fact.by == name and any(n.payload["person"] == name for n in named.values()):
                accepted[name] = fact
            continue
        if not (_named_by_lead(ctx, fact) and person is not None and _champion_since(ctx, fact)):
            continue
        # a member champions the team they confirmed (one whose team does not count champions
        # none yet: the reason says what they run); anyone else, the roster's
        now = teams if later is None or later[0](fact) else later[1]
        theirs = now.get(name) if name in pilot else key(person.team)
        if theirs != team:
            continue
        # a champion is found in the pilot: a name from outside it (an alias on the lead's
        # laptop, set aside by the pilot's own rule, or the lead) champions nobody
        if name not in pilot or name == fact.by:
            outside.add(name)
            continue
        named[team] = fact
    waiting = {
        team: f for team, f in named.items()
        if (a := accepted.get(str(f.payload["person"]))) is None or a.id < f.id
    }  # fmt: skip
    missing = covered - set(named)
    evidence = [named[team] for team in sorted(named) if team in covered]
    evidence += [accepted[str(named[t].payload["person"])] for t in sorted(named)
                 if t in covered and t not in waiting]  # fmt: skip
    if not missing and (late := sorted(t for t in waiting if t in covered)):
        who = [f"{waiting[t].payload['person']} ({shown(t)})" for t in late]
        return failed(
            f"{figures.unit(len(who), 'champions')} named, not yet accepted: "
            f"{', '.join(who)}; each runs `inhouse pilot "
            "champions --accept` with their own key (a lead's word does not make someone "
            f"else's commitment){unconfirmed}",
            *evidence,
        )
    if missing:
        note = (
            f"; not counted: {names(sorted(outside))}, not among the pilot's counted members"
            if outside
            else ""
        )
        # the named who have not accepted yet can act now, not once every team has a champion:
        # left out, a named champion read nothing asking for their acceptance anywhere
        if late := sorted(t for t in waiting if t in covered):
            who = [f"{waiting[t].payload['person']} ({shown(t)})" for t in late]
            note += (
                f"; named, not yet accepted: {', '.join(who)}: each runs `inhouse pilot "
                "champions --accept` with their own key"
            )
        return failed(
            f"no champion for {figures.unit(len(missing), 'teams')} "
            f"{names(sorted(shown(t) for t in missing))}: a rollout "
            "lead names one of each team's pilot members, `inhouse pilot champions --name "
            f"PERSON --team TEAM`{note}{unconfirmed}",
            *evidence,
        )
    champions = [f"{named[team].payload['person']} ({shown(team)})" for team in sorted(covered)]
    return passed(
        f"champions named for {figures.count(len(covered), 'teams')}: {', '.join(champions)}",
        *evidence,
    )


def _named_by_lead(ctx: CheckContext, naming: Fact) -> bool:
    """Whether ``naming`` (a ``pilot.champion`` naming) is a rollout lead's: signed by someone
    who held the role at its event (:func:`lead_then`, as the pilot's listing reads a lead's
    act). A lead who hands the role on later does not undo the namings they made while they
    led (their champions accepted them with their own keys); a role given afterwards does not
    reach back over a naming signed before it (`inhouse pilot champions --name` has refused
    anyone not a lead since it shipped, so only a fact written around it is one). A naming a
    play 5 exit was judged on keeps the rule it was judged by, its signer a lead now."""
    return by_lead(ctx, naming)


def by_lead(ctx: CheckContext, fact: Fact) -> bool:
    """Whether ``fact`` (a lead's act in play 5: naming a champion or the support queue's
    owner, scheduling the periodic review) counts as a rollout lead's: signed by someone who
    held the role at its event (:func:`lead_then`). A lead who hands the role on later does not
    undo what they did while they led; a role given afterwards does not reach back over an act
    signed before it (the commands that write these, `inhouse pilot champions --name`,
    `inhouse support owner` and `inhouse review schedule`, have refused anyone not a lead
    since they shipped, so only a fact written around them is one). One a play 5 exit was
    judged on keeps the rule it was judged by, its signer a lead now."""
    return lead_then(ctx, fact) or (_is_lead(ctx, fact.by) and ctx.spared(_SUPPORT, fact))


def _champion_since(ctx: CheckContext, naming: Fact) -> bool:
    """Whether the person ``naming`` names has held the champion role since it, without a break
    (as the pilot's listing reads a naming: one since they last took the role). Taking the role
    away is how a lead unmakes a champion, the one way now that a lead's naming outlives her
    role (one removed for cause, or whose key was stolen); giving it back revived the naming,
    and its old acceptance with it, where the listing said nobody named them. `inhouse pilot
    champions --name` gives the role before it records the naming, so an honest naming is never
    before its role. A naming a play 5 exit was judged on keeps the rule it was judged by."""
    name = str(naming.payload["person"])
    person = ctx.people.get(name)
    if person is None or "champion" not in person.roles:
        return False
    spans = ctx.role_spans.get(name, {}).get("champion")
    if not spans:  # a context built without the history: the roster's word
        return True
    gained, lost = spans[-1]
    return (lost is None and gained <= naming.id) or ctx.spared(_SUPPORT, naming)


def _is_lead(ctx: CheckContext, name: str) -> bool:
    person = ctx.people.get(name)
    return person is not None and "rollout-lead" in person.roles


@register_check("versions-pinned", reads=("baseline.lock", "drift.review", "baseline.verify"))
@given(current_lock, "no baseline lock to pin versions to")
def versions_pinned(ctx: CheckContext, lock: Fact) -> Result:
    """The gateway pins blessed models by digest, and a drift review of the current lock (measured
    by `inhouse support drift-review` on the gateway's host, signed by the gateway's own key),
    younger than ``max_age_days``, found every node serving exactly the locked models; its
    findings, when it did not, are the reason. A review a person signed, or one signed by a
    gateway key enrolled from its lead's own machine, does not count (the engine shows it
    beside the check, which is then inconclusive). The lock pinned is one someone other than
    its signer verified (``second-person-verified``'s rule): a lock re-made to match what the
    nodes drifted to is its signer's word alone. A play 5 exit already in the log was judged
    before that rule, and keeps its pass on the lock it was judged on, not on a re-lock since
    (the reason says what today's rule asks)."""
    lock_hash = str(lock.payload["lock_hash"])
    review = ctx.facts.latest("drift.review", lambda f: f.payload["lock_hash"] == lock_hash)
    if review is None:
        older = ctx.facts.latest("drift.review")
        was = f" (the last one reviewed lock {older.payload['lock_hash'][:19]})" if older else ""
        return failed(
            f"no drift review against the current lock {lock_hash[:19]}{was}: run "
            "`inhouse support drift-review` on the gateway's host (only a review signed by the "
            "gateway's own key counts)",
            lock,
        )
    if not review.payload.get("pinning_enforced"):
        return failed(
            "the gateway's pinning was not on when drift was reviewed (pinning needs the lock "
            "and a [gateway] table: the gateway routes a blessed model only to nodes serving "
            "its locked digest): add a [gateway] table to inhouse.toml (at least the host and "
            "port the gateway serves on: docs/gateway.md), then run `inhouse support "
            "drift-review` again on the gateway's host",
            lock,
            review,
        )
    max_age = timedelta(days=int(ctx.param("max_age_days", 30)))
    if ctx.now - review.at > max_age:
        return failed(
            f"the last drift review ({review.at:%Y-%m-%d}) is older than {max_age.days} days: "
            "run `inhouse support drift-review` again, on the gateway's host",
            lock,
            review,
        )
    # a service may hold several keys (replicas, a rebuilt host): one key's passing review
    # hides no other active key's failing one of the same lock, unless that key passed since
    latest: dict[str | None, Fact] = {}
    for each in ctx.facts.of("drift.review"):
        if each.payload["lock_hash"] == lock_hash:
            latest[each.key] = each
    failing = [
        r for k, r in latest.items()
        if k not in ctx.revoked_keys and (r.payload.get("findings") or not r.payload["passed"]
                                          or not r.payload.get("pinning_enforced"))
    ]  # fmt: skip
    hidden = ""
    if failing and review not in failing:
        passing, review = review, max(failing, key=lambda r: r.id)
        hidden = (
            f" (by the {review.by} service's key {review.key}, {review.at:%Y-%m-%d}; a later "
            f"review by its key {passing.key} does not hide it: the host of {review.key} "
            "reviews again)"
        )
    if not review.payload.get("pinning_enforced"):
        return failed(f"the gateway's pinning was not on when drift was reviewed{hidden}",
                      lock, review)  # fmt: skip
    findings = review.payload.get("findings") or []
    if findings or not review.payload["passed"]:
        found = [
            f"{f['node']}: {f['model'] or 'the runtime'} {f['problem']} ({f['detail']})"
            for f in findings
        ] or list(review.payload.get("drifted") or ["the review did not pass"])
        return failed(f"drift found: {'; '.join(found)}{hidden}", lock, review)
    nodes = len(review.payload.get("nodes") or [])
    said = (
        f"drift review {review.at:%Y-%m-%d}: {figures.count(nodes, 'nodes')} serve lock "
        f"{lock_hash[:19]} "
        "exactly; the gateway pins it"
    )
    # what the gateway pins is the baseline once someone other than its signer stood that lock
    # up (play 2's rule, on the current lock): else whoever may re-lock (a lead, a play's owner,
    # the support owner) makes any drift pass alone, by locking what the nodes drifted to
    verified = second_person_verified(ctx)
    note = ""
    if verified.outcome is not Outcome.PASS:
        # only the lock the exit was judged on is spared: a re-lock made since (or one the exit
        # left out), to what the nodes drifted to, is the signer's word alone as in any program
        if not ctx.spared("support", lock):
            return failed(
                f"{said}, but that lock is its signer's word alone: {verified.reason}",
                lock,
                review,
            )
        # an exit already in the log was judged before the lock pinned had to be verified: it
        # keeps its pass (and the reach it gave), and says what today's rule asks
        note = (
            f" (play 5 (support) exited before the lock pinned had to be verified by a second "
            f"person; today's rule asks it: {verified.reason})"
        )
    return passed(f"{said}{note}", lock, review)


@register_check(
    "agent-boundaries",
    reads=("agent.registered", "agent.boundary", "drift.review", "usage.daily"),
)
def agent_boundaries(ctx: CheckContext) -> Result:
    """Every registered local agent has an enforced tool boundary: a measured agent.boundary
    for it, recorded by ``inhouse keys`` when its key was granted and signed by the granter
    (not applicable with no agents). A person's word for a boundary (an attestation) never
    counts: the engine leaves it uncounted, so a hand-typed boundary cannot stand in. An agent
    with a measured boundary is an agent, registered or not: a registration typed as someone's
    word before its grant (which then registered nothing) hides none. An agent run on a
    person's own gateway key is an agent without a boundary: the check fails while the
    gateway's signed daily usage (``usage.daily``, its ``unbound_tools``) shows tools offered
    the model through a key bound to no agent within the last ``window_days`` (30) days. A play
    5 that has exited keeps its exit's judgment (an exit is not taken back) on the days it was
    judged on, and says what today's rule finds: tools offered on another day since count."""
    result = _agent_boundaries(ctx, after=-1)
    if "support" not in ctx.exited:
        return result
    # the rule before spares only the days play 5 exited on: tools offered since, through a key
    # bound to no agent, are today's rule's (else an agent run on a person's own key after the
    # exit would never count)
    mark = ctx.exited["support"][1]
    return kept_from_before(
        result,
        (
            lambda: _agent_boundaries(ctx, after=mark),
            "play 5 (support) exited, and its exit stands on the rule before tools offered "
            "through a key bound to no agent counted; today's rule fails",
        ),
        not_applicable=True,
    )


def _agent_boundaries(ctx: CheckContext, *, after: int) -> Result:
    """agent-boundaries' judgment: tools the gateway saw offered through a key bound to no
    agent fail it, but on the days whose such tools it signed by event ``after`` (the rule
    before counted registered agents only: ``after`` the exit it judged; -1: today's rule)."""
    registered_only = _registered_boundaries(ctx)
    offered = _unbound_tools(ctx, after)
    if offered is None:
        return registered_only
    said, shown = offered
    if registered_only.outcome is Outcome.FAIL:
        said = f"{said}; and {registered_only.reason}"
    return failed(said, *shown, *registered_only.evidence)


def _unbound_tools(ctx: CheckContext, after: int) -> tuple[str, list[Fact]] | None:
    """What the gateway's signed daily usage of the last ``window_days`` says of tools offered
    the model through keys bound to no agent (None: none), and the facts saying it; a day
    whose such tools were signed by event ``after`` left out. A day signed again restates the
    day: each signed day's tools are kept (a later fact, signed after its rows were edited or
    dropped, unsays nothing the gateway measured before)."""
    width = int(ctx.param("window_days", 30))
    first = (ctx.now.date() - timedelta(days=width)).isoformat()
    last = ctx.now.date().isoformat()
    # person -> day -> (requests, tools named, how many more were offered than named)
    seen: dict[str, dict[str, tuple[int, set[str], int]]] = {}
    shown: list[Fact] = []
    # a day whose tools the earlier judgment saw (signed by ``after``) stays its, signed again
    # since or not: the gateway signs a day again when its totals change
    judged = {
        str(f.payload.get("day"))
        for f in ctx.facts.of("usage.daily")
        if f.id <= after and f.payload.get("unbound_tools")
    }
    for fact in ctx.facts.of("usage.daily"):
        day = str(fact.payload.get("day"))
        offered = fact.payload.get("unbound_tools")
        if day in judged or not isinstance(offered, dict) or not first <= day <= last:
            continue
        shown.append(fact)
        for person, each in offered.items():
            if not isinstance(each, dict):  # appended around the API: names no tools
                continue
            asked, tools, more = seen.setdefault(str(person), {}).get(day, (0, set(), 0))
            seen[str(person)][day] = (
                max(asked, int(each.get("requests", 0))),
                tools | {str(tool) for tool in each.get("tools") or ()},
                max(more, int(each.get("more", 0))),
            )
    if not seen:
        return None
    parts = []
    for person, days in sorted(seen.items()):
        named = sorted(set().union(*(tools for _, tools, _ in days.values())))
        more = max(n for _, _, n in days.values())
        listed = ", ".join(named) + (f" and {more} more" if more else "")
        asked = sum(n for n, _, _ in days.values())
        on = ", ".join(sorted(days))
        parts.append(f"{person} offered {listed} on {on} ({figures.count(asked, 'requests')})")
    latest = max(day for days in seen.values() for day in days)
    through = date.fromisoformat(latest) + timedelta(days=width)
    return (
        f"tools were offered the model through a gateway key bound to no agent, as the "
        f"gateway's signed daily usage shows: {'; '.join(parts)}. An agent run on a person's "
        "key has no boundary: run it as a registered agent (declare [policy.agents.NAME] with "
        "the tools it may call in inhouse.toml, then `inhouse keys issue PERSON --agent NAME` "
        f"and give it that key); these days count through {through} (window_days {width})",
        shown,
    )


def _registered_boundaries(ctx: CheckContext) -> Result:
    """The registered agents' boundaries, as granted and as the gateway serves them."""
    agents = ctx.facts.of("agent.registered")
    bounds = {str(f.payload["agent"]): f for f in ctx.facts.of("agent.boundary")}  # latest
    registered = sorted({str(f.payload["agent"]) for f in agents} | set(bounds))
    if not registered:
        return not_applicable("no local agents registered")
    missing = [agent for agent in registered if agent not in bounds]
    if missing:
        return failed(
            f"no enforced boundary for {figures.unit(len(missing), 'agents')} {names(missing)}: "
            "declare "
            "[policy.agents.NAME] in inhouse.toml and grant its key (`inhouse keys issue "
            "PERSON --agent NAME`), which records the boundary",
            *agents,
        )
    held = [bounds[agent] for agent in registered]
    # what the gateway enforces, as its own key signed it in its drift reviews: each active
    # gateway key's latest review that records the allowlists (a second key's review hides no
    # other's), judged against each grant it came after (one before a grant says nothing of it)
    latest: dict[str | None, Fact] = {}
    for each in ctx.facts.of("drift.review"):
        if each.payload.get("agents") is not None and each.key not in ctx.revoked_keys:
            latest[each.key] = each
    for review in sorted(latest.values(), key=lambda f: f.id):
        served: dict[str, list[str]] = review.payload["agents"]
        changed = []
        for agent in registered:
            grant = bounds[agent]
            if review.id < grant.id:
                continue
            granted = sorted(map(str, grant.payload["tools"]))
            if agent not in served:
                changed.append(f"{agent}: it serves no boundary")
            elif sorted(map(str, served[agent])) != granted:
                changed.append(
                    f"{agent}: it serves {', '.join(served[agent]) or 'no tools'}, granted "
                    f"{', '.join(granted) or 'no tools'}"
                )
        if changed:
            return failed(
                f"the gateway's drift review of {review.at:%Y-%m-%d} (its key {review.key}) "
                f"found boundaries other than the ones granted ({'; '.join(changed)}): a "
                "boundary edited after its key was granted is no longer the one on record; "
                "re-grant the agent's key (`inhouse keys issue PERSON --agent NAME`), then "
                "review drift again",
                *agents,
                *held,
                review,
            )
    described = "; ".join(
        f"{f.payload['agent']}: {', '.join(map(str, f.payload['tools'])) or 'no tools'} "
        f"(granted by {f.by})"
        for f in held
    )
    return passed(
        f"{figures.count(len(registered), 'agents')} bounded: {described}", *agents, *held
    )


@register_check(
    "review-held", reads=("review.scheduled", "review.held", "review.attended", "drift.review")
)
def review_held(ctx: CheckContext) -> Result:
    """A periodic review is scheduled, and one was held after it was scheduled and within its
    cadence (not overdue now): recorded by one of its attendees, a decision for every item of
    the drift review it saw (the latest recorded before it and dated by its time: a review that
    saw none decided nothing), and attended by more than its recorder. Attending is signed, never
    typed: the recorder, plus each listed attendee who confirmed with their own key (`inhouse
    review attend`), enrolled from a machine of their own (one laptop is one person); the
    cadence's roles must be among those, held when the review was held (a role given since
    reaches no review held before it, one taken away since does not undo it), and always the
    check's own ``roles`` (a rollout lead and the support owner, by default: a schedule naming
    no roles asks for no fewer). The support owner is the support queue's, once a lead named
    one: the person named when the review was held (before any was named, the one named now)
    attended by their own signature, not another holder of the role (a review a play 5 exit
    was judged on keeps the rule before). The schedule is a lead's (one who led when they
    signed it: handing the role on later does not undo it, :func:`by_lead`), at most
    ``max_every_days`` apart (a review every hundred years schedules none)."""
    return _judged_by_lead(ctx, _review_held)


def _review_held(ctx: CheckContext, lead: LeadAct) -> Result:
    plan = ctx.facts.latest("review.scheduled", lambda f: lead(ctx, f))
    if plan is None:
        return failed("no periodic review scheduled: a rollout lead runs `inhouse review schedule`")
    every, most = int(plan.payload["every_days"]), int(ctx.param("max_every_days", 366))
    if every > most:
        return failed(
            f"a review every {every} days is no periodic review: the playbook allows at most "
            f"{most} days between reviews (`[review] every_days` in inhouse.toml, then "
            "`inhouse review schedule`)",
            plan,
        )
    held = held_since(ctx.facts, plan)
    counted = [h for h in held if _review_flaw(ctx, plan, h) is None]
    if not counted:
        due = plan.at.date() + timedelta(days=every)
        if held:
            why = _review_flaw(ctx, plan, held[-1])
            return failed(f"the review held {held[-1].at:%Y-%m-%d} does not count: {why}", plan)
        late = f"overdue since {due}" if ctx.now.date() > due else f"due {due}"
        return failed(
            f"a review every {every} days is scheduled ({plan.at:%Y-%m-%d}), none held since "
            f"({late})",
            plan,
        )
    last = counted[-1]
    came = review_attendance(ctx, last)
    due = last.at.date() + timedelta(days=every)
    if ctx.now.date() > due:
        return failed(
            f"a review is overdue since {due} (last held {last.at:%Y-%m-%d}, every {every} days)",
            plan,
            last,
        )
    return passed(
        f"review held {last.at:%Y-%m-%d} by {names(came.present)}, every {every} days; next "
        f"due {due}",
        plan,
        last,
        *came.confirmations,
    )


@dataclass(frozen=True)
class Attendance:
    """Who attended a held review, by signature: its recorder (signing it says they were there)
    and each listed attendee who confirmed it with their own key from a machine of their own."""

    review: Fact
    confirmed: tuple[str, ...]  # listed, confirmed, each enrolled elsewhere (one per machine)
    aside: tuple[str, ...]  # listed and confirmed, but from the recorder's (or a counted) machine
    pending: tuple[str, ...]  # listed, not confirmed
    confirmations: tuple[Fact, ...]  # the counted ones' ``review.attended`` facts
    #: services' hosts that counted as the recorder's machines (the gateway's, where they
    #: enrolled its key): a key made there is theirs
    hosts: tuple[Host, ...] = ()

    @property
    def present(self) -> list[str]:
        """Who attended: the recorder and the confirmed attendees."""
        return [self.review.by, *self.confirmed]

    def missing(self) -> str:
        """Who does not count yet and why, with the command that fixes it ("" when none)."""
        said = []
        if self.pending:
            said.append(
                f"{names(list(self.pending))} {'has' if len(self.pending) == 1 else 'have'} not "
                f"confirmed (each runs `inhouse review attend {self.review.id}` with their own key)"
            )
        if self.aside:
            said.append(
                f"{names(list(self.aside))} confirmed with keys all enrolled from a machine "
                f"{self.review.by} or another attendee enrolled from"
                + (
                    f", or {hosts_of(self.hosts)}, where {self.review.by} enrolled its key "
                    "(whoever runs it holds the key files made there)"
                    if self.hosts
                    else ""
                )
                + " (one laptop is one person)"
            )
        return "; ".join(said)


def review_attendance(ctx: CheckContext, held: Fact) -> Attendance:
    """Who attended ``held``, from the confirmations that count (``review.attended`` facts only
    their subject can sign): never the names its recorder typed alone."""
    listed = list(dict.fromkeys(str(a) for a in held.payload.get("attendees") or []))
    mine: dict[str, Fact] = {}
    for fact in ctx.facts.of("review.attended"):
        person = ctx.people.get(fact.by)
        if (
            fact.payload["review"] == held.id
            and fact.id > held.id
            and fact.by in listed
            and fact.by != held.by
            and person is not None
            and not person.service
        ):
            mine.setdefault(fact.by, fact)
    # a key made on the host of a service the recorder enrolled there first (the gateway's) is
    # the recorder's, as plays 4 and 5 judge such a key; a review a play 5 exit was judged on
    # keeps the rule before
    hosts = (
        () if ctx.spared(_SUPPORT, held) else tuple(sorted(services_enrolled_by(ctx, {held.by})))
    )
    counted, aside = one_per_machine(ctx, mine, {held.by}, services=hosts)
    pending = [a for a in listed if a != held.by and a not in mine]
    return Attendance(
        held,
        tuple(counted),
        tuple(aside),
        tuple(pending),
        tuple(mine[c] for c in counted),
        hosts if aside else (),
    )


def _review_flaw(ctx: CheckContext, plan: Fact, held: Fact) -> str | None:
    """Why a ``review.held`` fact does not show a review held as the cadence asks, or None.
    What no confirmation can mend comes first (the roles among the names listed, decisions)."""
    attendees = [str(a) for a in held.payload.get("attendees") or []]
    if held.by not in attendees:
        return f"{held.by} recorded it without attending"
    # the playbook's roles always, and whatever more the schedule names: a schedule naming
    # none would make a review of any two people one
    wanted = ctx.param("roles", ["rollout-lead", "support-owner"])
    roles = list(dict.fromkeys([*map(str, wanted), *map(str, plan.payload.get("roles") or [])]))
    if missing := _roles_missing(ctx, attendees, roles, held):
        return f"nobody among {names(attendees)} held {missing}"
    # the drift review it saw is one recorded before it in the log (and counted by its time,
    # as `inhouse review hold` read it); and it saw one: the command refuses a review with
    # nothing to decide. Read by the review's own time alone, and asking nothing of a review
    # that found none, a lead recorded one around the command before any drift review (or
    # dated hers before the first), deciding nothing, and a colleague shown it confirmed: a
    # review of nothing. A review a play 5 exit was judged on keeps the rule before
    if ctx.spared(_SUPPORT, held):
        found = inventory_items(ctx.facts, before=held.at)
    else:
        found = inventory_items(ctx.facts, before=held.at + CLOCK_SKEW, seq=held.id)
        if found is None:
            return (
                "it saw no drift review (none recorded before it and dated by its time, "
                f"{held.at:%Y-%m-%d %H:%M} UTC), so it decided nothing: hold one with `inhouse "
                "review hold` once `inhouse support drift-review` has run, a decision for every "
                "item it found"
            )
    decided = {str(d["item"]) for d in held.payload.get("decisions") or []}
    undecided = [i for i in (found[1] if found else []) if i not in decided]
    if undecided:
        return f"no decision for {', '.join(undecided)}"
    came = review_attendance(ctx, held)
    if not came.confirmed:
        why = came.missing() or "nobody else is listed"
        return f"nobody but {held.by} confirmed attending (a review of one is not a review): {why}"
    if missing := _roles_missing(ctx, came.present, roles, held):
        why = came.missing()
        return (
            f"nobody who attended by their own signature ({names(came.present)}) held "
            f"{missing}{': ' + why if why else ''}"
        )
    # the support owner the review asks for is the queue's, not whoever holds the role: a lead
    # gives herself support-owner with one command and stood for both roles beside any one
    # colleague, the queue's owner never there. A review a play 5 exit was judged on keeps the
    # rule before (any holder of the role)
    owner = queue_owner_for(ctx, held.id)
    if (
        owner is not None
        and "support-owner" in roles
        and owner not in came.present
        and not ctx.spared(_SUPPORT, held)
    ):
        pending = owner in came.pending or owner in came.aside
        how = (
            f"{owner} confirms with their own key (`inhouse review attend {held.id}`)"
            if pending
            else f"hold it with {owner} among the attendees (`inhouse review hold --attendee "
            f"{owner}`), who confirms it with their own key"
        )
        return (
            f"{owner}, the support queue's owner, did not attend by their own signature "
            f"({names(came.present)} did): another holder of the support-owner role stands in "
            f"for nobody; {how}"
        )
    return None


def queue_owner_for(ctx: CheckContext, seq: int) -> str | None:
    """The person a rollout lead had named the support queue's owner by event ``seq`` (a held
    review's), or, where none had been named by then, the one named now; None while no lead
    named one (a review then asks the support-owner role of any attendee)."""
    named = [
        f
        for f in ctx.facts.of("support.queue")
        if not f.payload.get("accepted") and by_lead(ctx, f)
    ]
    before = [f for f in named if f.id < seq]
    found = before or named
    return str(found[-1].payload["owner"]) if found else None


def _roles_missing(ctx: CheckContext, people: list[str], roles: list[str], held: Fact) -> str:
    """The ``roles`` nobody among ``people`` held when ``held`` was recorded, said with whoever
    was given one only afterwards ("" when none): a roster edited since reaches no review."""
    missing = [r for r in roles if not any(ctx.held_role_at(a, r, held.id) for a in people)]
    if not missing:
        return ""
    later = [
        f"{a} was given {r} after it"
        for r in missing
        for a in sorted(set(people))
        if a in ctx.people and r in ctx.people[a].roles
    ]
    return f"{', '.join(missing)} when it was held" + (f" ({'; '.join(later)})" if later else "")


def held_since(facts: FactSet, plan: Fact) -> list[Fact]:
    """The reviews recorded held after ``plan`` scheduled them, oldest first."""
    return [f for f in facts.of("review.held") if f.id > plan.id]


def review_due(ctx: CheckContext) -> tuple[Fact, Fact | None, date] | None:
    """A rollout lead's latest schedule, the last review held since, and the day the next one
    is due: the day of the last review that counts for ``review-held`` (one held as the cadence
    asks, attended by more than its recorder), or of the schedule, plus ``every_days``. None
    when no lead scheduled one. A review nobody confirmed attending moves no due date: it would
    silence the overdue warning while the check still fails."""
    plan = ctx.facts.latest("review.scheduled", lambda f: by_lead(ctx, f))
    if plan is None:
        return None
    held = held_since(ctx.facts, plan)
    last = held[-1] if held else None
    counted = [h for h in held if _review_flaw(ctx, plan, h) is None]
    since = counted[-1] if counted else plan
    return plan, last, since.at.date() + timedelta(days=int(plan.payload["every_days"]))


def overdue_since(ctx: CheckContext) -> date | None:
    """The day the periodic review fell due, when it is overdue at ``ctx.now`` (for the status
    warning); None when none is scheduled or it is not overdue."""
    due = review_due(ctx)
    return due[2] if due is not None and ctx.now.date() > due[2] else None


def inventory_items(
    facts: FactSet, before: datetime | None = None, *, seq: int | None = None
) -> tuple[Fact, list[str]] | None:
    """The latest drift review (dated up to ``before``, recorded before event ``seq``) and the
    items a periodic review decides on: every blessed model of the lock it reviewed, and every
    unpinned extra a node served."""
    review = facts.latest(
        "drift.review",
        lambda f: (before is None or f.at <= before) and (seq is None or f.id < seq),
    )
    if review is None:
        return None
    lock_hash = review.payload["lock_hash"]
    lock = facts.latest("baseline.lock", lambda f: f.payload["lock_hash"] == lock_hash)
    blessed = [str(m["name"]) for m in lock.payload["models"]] if lock is not None else []
    extras = sorted(
        str(f["model"]) for f in review.payload["findings"] if f["problem"] == "unpinned-extra"
    )
    return review, list(dict.fromkeys([*blessed, *extras]))


@register_check(
    "ticket-resolved-without-builder",
    reads=(
        *TICKET_KINDS,
        "baseline.lock",
        "baseline.install_script",
        "workflow.spec",
        "prompt.version",
    ),
)
def ticket_resolved_without_builder(ctx: CheckContext) -> Result:
    """A typical "it broke" ticket was resolved without the people who built what broke. The
    builders of a component come from the log (signers of its lock, install script, workflow or
    prompt versions; for the gateway, the owners of plays 1-3, the lock's signers and every
    lead who enrolled one of its keys), as the log stood when the ticket was resolved: a
    builder whose facts stopped counting since is still one, and one who built only afterwards
    is none. A ticket counts when it is in the it-broke category, is
    resolved now by an enrolled person outside its builders, no builder commented on it, was
    assigned it or resolved it, and none of its resolutions was reopened within
    ``reopen_days``. "Typical": the components that the most people using it (not a lead, a
    support owner or a play's owner) hit with an it-broke ticket, counted by distinct openers,
    not tickets (one person filing again and again is one person); one such ticket in one of
    them suffices where a tie makes several typical (one person who never confirms her fixes
    on one of them holds nobody back); a how-to ticket never stands in. A play 5 exit already
    in the log under the rules before (exit rule 21) keeps a ticket it was judged on in a
    component that drew the most tickets. A ticket counts toward
    "the most" under the category and component its opener filed or confirmed: an import that
    changes them later neither takes back, moves nor adds a hit. An import's word for who
    opened or resolved a ticket counts once that person confirms it with their own key
    (`inhouse support confirm`, never a comment), and never once they dispute it. The ticket
    that counts is one of those hits too: a problem the judged filed themselves (a lead's, made
    up for the support owner to fix) shows nobody's problem solved, and so does one filed with
    a key made on the gateway's host after one of them enrolled its key there (whoever runs it
    holds the key files made there). A play 5 exit already in the log was judged before that
    rule and keeps its ticket, one its exit was judged on (the reason says so). A resolution
    is its resolver's word that the problem is fixed: it counts once the ticket's opener (who
    hit the problem) confirms the fix with their own key (`inhouse support confirm-fix`; never
    a dashboard session, an import, anyone on their behalf); until then the reason names the
    opener and what they run. A reopening afterwards still takes it back. An exit already in
    the log keeps an unconfirmed resolution it was judged on (one its exit event names; for an
    exit recorded before exit events named their facts, one made by the exit), never one made
    since nor one the exit left out (the reason says so)."""
    window = timedelta(days=int(ctx.param("reopen_days", 14)))
    tickets = fold_tickets(ctx.facts, ctx.people, ctx.held_role_at)
    # what is typical is what the people using it hit: tickets the judged opened themselves
    # (leads, support owners, plays' owners), or an import says someone opened without their
    # word, do not pick the component (a lead filing two tickets on an easy one would). A hit
    # counts under the category and component its opener filed or confirmed: an import that
    # changes them later neither takes it back nor moves it (the importer alone would pick)
    # judged as they were when the ticket came into the queue: a role a lead grants someone
    # afterwards (for a moment, to pick another component) does not take back what they hit
    hits: dict[str, int] = {}
    #: component -> the people using it who hit it there: the typical component is the one the
    #: most people hit, not the most tickets (one person filing again and again is one person)
    hit_by: dict[str, set[str]] = {}
    drawn: dict[str, list[Ticket]] = {}
    #: why a ticket's opener is no one using it (one of the judged, or on their machine)
    filed_by_judged: dict[str, str] = {}
    for ticket in tickets.values():
        places = {(ticket.category, ticket.component)}
        seq = ticket.opened.fact.id
        # a play's owner from the play's start: one made owner afterwards filed as a user
        owners = {o for play, o in ctx.owners.items() if ctx.owner_since.get(play, 0) < seq}
        judged = owners | held_by(ctx, "rollout-lead", seq) | held_by(ctx, "support-owner", seq)
        if (why := _judged_opener(ctx, ticket, judged)) is not None:
            filed_by_judged[ticket.id] = why
        said = _hit_by_user(ctx, ticket, judged)
        if said is not None:
            places.add(said)
            if said[0] == "it-broke":
                hits[said[1]] = hits.get(said[1], 0) + 1
                hit_by.setdefault(said[1], set()).add(ticket.opened.actor)
        # judged under where it stands now and where its opener put it (it counts only where
        # both agree, see _moved), so a ticket moved away still shows where it was hit
        for category, component in sorted(places):
            if category == "it-broke":
                drawn.setdefault(component, []).append(ticket)
    if not drawn:
        others = len(tickets)
        extra = (
            f" ({figures.count(others, 'tickets')} of other categories do not stand in)"
            if others
            else ""
        )
        # the owner cannot open one in another's name: whoever a thing broke for opens it
        return failed(
            f'no "it broke" ticket in the support queue yet{extra}: whoever something broke '
            "for opens one with their own key (`inhouse support open TITLE --category it-broke "
            "--component COMPONENT`, COMPONENT: baseline, gateway, workflow:NAME, prompt:NAME "
            "or model:NAME)"
        )
    people = {component: len(hit_by.get(component, ())) for component in drawn}
    count = {component: hits.get(component, 0) for component in drawn}
    users = True
    if max(people.values()) == 0:
        # nobody using it filed one yet: each ticket is judged on its own below, and the reason
        # says what is missing (an opener's confirmation, a resolver of their own)
        people = {
            component: len({t.opened.actor or t.id for t in found})
            for component, found in drawn.items()
        }
        count = {component: len(found) for component, found in drawn.items()}
        users = False
    most = max(people.values())
    typical = sorted(component for component, n in people.items() if n == most)
    # before TYPICAL_OPENERS the typical components were those that drew the most tickets, and
    # each needed one: an exit judged so keeps the tickets it was judged on in those that are
    # typical no longer, while each of them still has one
    most_tickets = max(count.values())
    typical_before = sorted(component for component, n in count.items() if n == most_tickets)

    def head(component: str) -> str:
        drew = f"{component} drew {figures.count(count[component], 'it-broke tickets')}"
        if not users:
            return f"{drew} (none filed by a person using it)"
        if component not in typical:
            return f"{drew} from the people using it"
        return f"{drew} from {people[component]} of the people using it"

    #: component -> the line saying which ticket counts there, and the facts it stands on
    good: dict[str, tuple[str, list[Fact]]] = {}
    bad: list[str] = []
    missing: list[Fact] = []
    #: the typical components without a ticket that counts
    without: list[str] = []

    # an exit already in the log was judged before the ticket that counts had to be a user's,
    # and its fix confirmed by them: judging it by those rules now would set it aside, and hold
    # back every grant beyond the pilot made since (the reach guards judge exits by the checks
    # loaded now). Only what it was judged on is spared, a resolution its exit cited (for an
    # exit recorded before exits named their facts, any made by the exit): one made since, or
    # one today's rule left out of the exit (a fix nobody confirmed beside the confirmed one
    # the exit stood on), is judged by today's rules once the exit's ticket is reopened, as in
    # any program
    def earlier_rule(ticket: Ticket, rule: int = 0) -> bool:
        resolution = ticket.resolution
        return resolution is not None and ctx.spared(_SUPPORT, resolution.fact, rule=rule)

    for component in [*typical, *(c for c in typical_before if c not in typical)]:
        # each ticket judged by the builders as the log stood at its resolution (builders_then)
        builts = [builders_then(ctx, ticket, component) for ticket in drawn[component]]
        lines = [
            _why_not(ctx, ticket, built, window, component)
            for ticket, built in zip(drawn[component], builts, strict=True)
        ]
        kept: dict[str, str] = {}
        unconfirmed: set[str] = set()
        # a gateway's builders were once only the lead who enrolled its first key: a resolution
        # an exit was judged on by that rule keeps it (one made since is today's)
        befores = [
            builders_then(ctx, ticket, component, every_enroller=False)
            for ticket in drawn[component]
        ]
        enroller: set[str] = set()
        for n, ticket in enumerate(drawn[component]):
            before = befores[n]
            if (
                lines[n] is not None
                and before != builts[n]
                and earlier_rule(ticket)
                and _why_not(ctx, ticket, before, window, component) is None
            ):
                lines[n] = None
                enroller.add(ticket.id)
            why = filed_by_judged.get(ticket.id)
            if lines[n] is None and why is not None:
                if earlier_rule(ticket):
                    kept[ticket.id] = why
                else:
                    lines[n] = (
                        f"{ticket.id} was opened by {ticket.opened.actor}, {why}: it counts when "
                        "someone using it hit the problem"
                    )
            if lines[n] is None and ticket.fix_confirmed() is None:
                # a resolution is its resolver's word that it is fixed: the person who hit
                # the problem says so with their own key (an exit judged before keeps it)
                if earlier_rule(ticket):
                    unconfirmed.add(ticket.id)
                else:
                    lines[n] = _fix_awaited(ticket)
        counting = [t for t, line in zip(drawn[component], lines, strict=True) if line is None]
        if component not in typical:
            counting = [t for t in counting if earlier_rule(t, TYPICAL_OPENERS)]
        if counting:
            ticket = next(
                (
                    t
                    for t in reversed(counting)
                    if t.id not in kept and t.id not in unconfirmed and t.id not in enroller
                ),
                next((t for t in reversed(counting) if t.id not in kept), counting[-1]),
            )
            resolution = ticket.resolution
            assert resolution is not None
            built = builts[drawn[component].index(ticket)]
            who = f"its builders ({names(list(built))})"
            note = (
                f" (opened by {ticket.opened.actor}, {kept[ticket.id]}: it counts because play 5 "
                "(support) exited before the ticket that counts had to be a user's)"
                if ticket.id in kept
                else ""
            )
            if ticket.id in enroller:
                note += (
                    f" ({names(sorted(built - befores[drawn[component].index(ticket)]))} "
                    "enrolled a key of the gateway's: it counts "
                    "because play 5 (support) exited before every lead who enrolled one was one of "
                    "its builders)"
                )
            if ticket.id in unconfirmed:
                note += (
                    f" ({ticket.opened.actor} has not confirmed the fix: it counts because play 5 "
                    "(support) exited before the opener's confirmation was asked for)"
                )
            elif (fixed := ticket.fix_confirmed()) is not None:
                note += f", fix confirmed by {fixed.actor}"
            if component not in typical:
                note += (
                    " (it counts because play 5 (support) exited while the components that drew "
                    f"the most tickets were typical; today the most people hit {names(typical)})"
                )
            good[component] = (
                f"{head(component)}; {ticket.id} resolved by {resolution.actor}, not one of "
                f"{who}{note}",
                [step.fact for step in ticket.steps],
            )
        elif component in typical:
            reasons = "; ".join(line for line in lines if line)
            who = f"its builders ({names(list(builders_of(ctx, component)))})"
            bad.append(f"{head(component)}; none resolved without {who}: {reasons}")
            missing.extend(t.opened.fact for t in drawn[component])
            without.append(component)
    # one typical component's ticket suffices: a tie makes several typical, and one person who
    # never confirms her fixes on one of them would otherwise hold play 5 back for everyone
    held = [component for component in typical if component in good]
    today = bool(held)
    if not today and all(component in good for component in typical_before):
        held = typical_before  # an exit judged before: each component it needed has its ticket
    if not held:
        return failed(". ".join(bad), *missing)
    told = [good[component][0] for component in held]
    if without and today:
        told.append(
            f"{names(without)} drew as many people's it-broke tickets, none counted yet: one "
            "typical component's ticket suffices"
        )
    return passed(". ".join(told), *(fact for c in held for fact in good[c][1]))


def _fix_awaited(ticket: Ticket) -> str:
    """Why a resolution that otherwise counts does not yet: its opener has not confirmed it."""
    resolution = ticket.resolution
    assert resolution is not None
    opener = ticket.opened.actor
    return (
        f"{ticket.id} resolved by {resolution.actor}; {opener}, who opened it, has not confirmed "
        f"the fix: {opener} runs `inhouse support confirm-fix {ticket.id}` with their own key "
        "(or reopens it)"
    )


def _hit_by_user(ctx: CheckContext, ticket: Ticket, judged: set[str]) -> tuple[str, str] | None:
    """The category and component under which ``ticket`` shows someone using the tool hit a
    problem, or None when it does not: its opener is none of the ``judged``, enrolled from a
    machine of their own (a second name on a lead's laptop is the lead), and opened it with
    their own key (here, or confirming an import's word with `inhouse support confirm`). It is
    the ticket as they filed or confirmed it: a later import's change neither takes back nor
    moves what they confirmed they hit."""
    if not ticket.opened.actor or _judged_opener(ctx, ticket, judged) is not None:
        return None
    said = _as_opened(ticket)
    return None if said is None else _content(said)


def _judged_opener(ctx: CheckContext, ticket: Ticket, judged: set[str]) -> str | None:
    """Why ``ticket``'s opener is one of the ``judged`` (a lead, a support owner or a play's
    owner when it came in) or, by their machines then, one of them with another key; None
    when they are not (or the ticket names no opener: the check says why elsewhere)."""
    opener = ticket.opened.actor
    if not opener:
        return None
    seq = ticket.opened.fact.id
    if opener in judged:
        held = [r for r in ("rollout-lead", "support-owner") if opener in held_by(ctx, r, seq)]
        return f"who held {' and '.join(held)} then" if held else "a play's owner then"
    # the judged's machines as they were when the ticket came in: a builder who claims the
    # opener's machine afterwards does not make the opener's tickets theirs; and the opener
    # signed in as they were then: revoking their key since takes back nothing
    then = as_signed_in_then(ctx, opener, _opener_key(ticket))
    if why := unsigned_apart(then, opener, judged):
        return f"not told apart from {names(sorted(judged))} ({why})"
    if not enrolled_elsewhere(then, opener, judged, before=seq):
        return (
            f"whose keys were all enrolled from a machine {names(sorted(judged))} had enrolled "
            "from then"
        )
    # nor from the host of a service one of them enrolled there first (the gateway's: whoever
    # runs it holds the key files made there), as the resolver and plays 4 and 5 judge such a
    # key: a ticket filed with one is the judged's own (an exit judged on it keeps it)
    hosts = services_enrolled_by(then, judged)
    if hosts and not enrolled_elsewhere(then, opener, judged, before=seq, services=hosts):
        return (
            f"whose keys were all enrolled from {hosts_of(hosts)} after one of "
            f"{names(sorted(judged))} enrolled its key there (or from a machine one of them "
            "had enrolled from then): whoever runs it holds the key files made there"
        )
    return None


def _opener_key(ticket: Ticket) -> str | None:
    """The key the opener stood behind ``ticket`` with: the one they filed it with, where they
    signed its opening themself; for an import's opening (its importer's), the one they last
    confirmed it with (`inhouse support confirm`). None where neither is theirs."""
    fact, opener = ticket.opened.fact, ticket.opened.actor
    if fact.by == opener and not fact.session:
        return fact.key
    for step in reversed(ticket.of("confirmed")):
        mine = step.fact.by == opener and not step.fact.session
        if mine and step.actor == opener and fact.id in step.covers and step.fact.id > fact.id:
            return step.fact.key
    return None


def _as_opened(ticket: Ticket) -> Fact | None:
    """The ``ticket.opened`` its opener stands behind: the opening, for a ticket opened here
    (only its opener filed it, and no import changes it); for an imported one, the ticket as
    they last confirmed it (or as it stands, where the importer named themself); None while
    they have not confirmed it, or disputed it."""
    opened = ticket.opened
    if not word_of_another(opened.fact):
        return opened.fact
    if ticket.disputed(opened.actor, opened.fact) is not None:
        return None
    if not opened.fact.session and opened.fact.by == opened.actor:
        return ticket.stated
    return ticket.confirmed_as(opened.actor, opened.fact)


def _content(opening: Fact) -> tuple[str, str]:
    return str(opening.payload["category"]), str(opening.payload["component"])


def _moved(ticket: Ticket) -> str | None:
    """Why ``ticket`` does not count where it stands now: its opener filed or confirmed it
    under another category or component, and an import changed it since (None: it stands as
    they said, or they said nothing yet)."""
    said = _as_opened(ticket)
    if said is None:
        return None
    (was, where), now = _content(said), (ticket.category, ticket.component)
    if (was, where) == now:
        return None
    opener = ticket.opened.actor
    by = ticket.stated.by if ticket.stated is not None else "someone"
    return (
        f"{ticket.id}: only the import says {opener} opened it (run by {by}) as {now[0]} on "
        f"{now[1]}; {opener} confirmed it as {was} on {where}, and confirms the change with "
        f"their own key: `inhouse support confirm {ticket.id}`"
    )


def _own_word(ticket: Ticket, person: str, step: Fact) -> bool:
    """Whether the ``step`` that names ``person`` is their own word: taken here with their
    own key, imported by them, or imported by someone else (or signed through a dashboard
    session, whose key its host holds) and confirmed by them with their own key (``inhouse
    support confirm``; see :meth:`Ticket.confirmed`), never disputed."""
    if not word_of_another(step):
        return True
    if ticket.disputed(person, step) is not None:
        return False
    return (not step.session and step.by == person) or ticket.confirmed(person, step)


def _unconfirmed(ticket: Ticket, person: str, step: Fact, what: str, role: str = "") -> str:
    """Why the imported ``step`` (``person`` did ``what``) is only its importer's word: they
    disputed it, or have not confirmed it; with what they run."""
    who = person or "someone"
    dispute = ticket.disputed(person, step) if person else None
    if dispute is not None:
        why = f": {dispute.text}" if dispute.text else ""
        return (
            f"{ticket.id}: {person} disputes that they {what} it (fact #{dispute.fact.id}"
            f"{why}); the import (run by {step.by}{role}) is not their word"
        )
    fix = (
        f"{person} confirms with their own key: `inhouse support confirm {ticket.id}`"
        if person
        else "it maps them to nobody enrolled, so nobody can confirm it"
    )
    if step.session:
        return (
            f"{ticket.id}: {who} {what} it through a dashboard session (fact #{step.id}), whose "
            f"key the dashboard's host holds; {fix}"
        )
    return f"{ticket.id}: only the import says {who} {what} it (run by {step.by}{role}); {fix}"


def builders_then(
    ctx: CheckContext, ticket: Ticket, component: str | None = None, *, every_enroller: bool = True
) -> set[str]:
    """The builders of ``component`` (the ticket's own by default) as the log stood when
    ``ticket`` was resolved (now, while it is open): a resolution is judged by who had built
    what it fixed then. Read now, a builder whose facts stopped counting since (a key never
    signed in once the organisation's sign-in came) vanished, and their own resolution counted;
    and one who built a later version took back a resolution made without them."""
    resolution = ticket.resolution
    return builders_of(
        ctx,
        component or ticket.component,
        every_enroller=every_enroller,
        at=None if resolution is None else resolution.fact.id,
    )


def why_not_without_builders(
    ctx: CheckContext, ticket: Ticket, *, fix_confirmed: bool = True
) -> str | None:
    """Why ``ticket`` is not resolved without its component's builders (as they stood at its
    resolution, :func:`builders_then`) by the check's own rules, a resolution reopened soon
    after aside (the support figures count reopenings apart), or None when it is: what
    ``inhouse support stats`` and play 6's share of tickets resolved without the builders
    count, so neither takes an import's word, nor a resolver's word that it is fixed before the
    ticket's opener confirms it (``fix_confirmed`` False: every rule but that one, for the
    figures that show such resolutions apart)."""
    why = _why_not(ctx, ticket, builders_then(ctx, ticket), None)
    if why is None and fix_confirmed and ticket.fix_confirmed() is None:
        return _fix_awaited(ticket)
    return why


def _why_not(
    ctx: CheckContext,
    ticket: Ticket,
    built: set[str],
    window: timedelta | None,
    component: str | None = None,
) -> str | None:
    """Why ``ticket`` is not resolved without the builders of ``component`` (``built``; its
    own component by default), or None when it is (``window``: a resolution reopened within it
    does not count; None: reopenings aside)."""
    if not built:
        when = "" if ticket.resolution is None else " by its resolution"
        return (
            f"{ticket.id}: nobody built {component or ticket.component}{when} according to the log"
        )
    for earlier, reopening in ticket.reopened_after():
        if window is not None and (held := held_for(earlier, reopening)) < window:
            days = held.days
            held_days = figures.count(days, "days")
            return f"{ticket.id} reopened {held_days} after {earlier.actor} resolved it"
    resolution = ticket.resolution
    if resolution is None:
        return f"{ticket.id} is still open"
    builders_in = ticket.touched_by() & built
    if resolution.actor in built:
        return f"{ticket.id} resolved by {resolution.actor}, a builder"
    if builders_in:
        return f"{ticket.id}: {names(list(builders_in))}, a builder, took part"
    resolver = ctx.people.get(resolution.actor)
    if resolver is None or resolver.service:
        shown = resolution.actor or "someone the import mapped to nobody"
        return f"{ticket.id} resolved by {shown}, not an enrolled person"
    if moved := _moved(ticket):
        # it counts where its opener put it: an import moving a confirmed ticket (into an easy
        # component, or out of the it-broke category) is its importer's word alone
        return moved
    opener = ticket.opened.actor
    opened = ticket.opened.fact
    if not _own_word(ticket, opener, opened):
        # who opened an imported ticket is its importer's word, as who resolved it is: a ticket
        # made up and "opened by" a colleague shows nobody's problem solved until they say so
        return _unconfirmed(ticket, opener, opened, "opened")
    if opener and (unsigned := unsigned_apart(ctx, opener, {resolution.actor})):
        return f"{ticket.id}: {unsigned}"
    if opener == resolution.actor or not enrolled_elsewhere(ctx, opener, {resolution.actor}):
        # a ticket its resolver opened (or opened from the resolver's machine) is nobody's
        # problem solved: it shows support working only when someone else hit it
        return (
            f"{ticket.id} was opened by {opener or 'nobody the import mapped'} and resolved by "
            f"{resolution.actor}: it counts when someone else, on a machine of their own, "
            "opened it"
        )
    if unsigned := unsigned_apart(ctx, resolution.actor, built):
        return f"{ticket.id}: {unsigned}"
    if not enrolled_elsewhere(ctx, resolution.actor, built):
        return (
            f"{ticket.id} resolved by {resolution.actor}, whose keys were all enrolled from a "
            f"machine {names(sorted(built))} enrolled from"
        )
    # nor from the host of a service a builder enrolled there first (the gateway's: whoever runs
    # it holds the key files made there), as plays 4 and 5 judge such a key; a resolution a
    # play 5 exit was judged on keeps the rule before
    hosts = services_enrolled_by(ctx, built)
    if (
        hosts
        and not ctx.spared(_SUPPORT, resolution.fact)
        and not enrolled_elsewhere(ctx, resolution.actor, built, services=hosts)
    ):
        return (
            f"{ticket.id} resolved by {resolution.actor}, whose keys were all enrolled from "
            f"{hosts_of(hosts)} after one of {names(sorted(built))} enrolled its key there (or "
            "from a machine a builder enrolled from): whoever runs it holds the key files made "
            f"there. {resolution.actor} counts once they join from a machine of their own"
        )
    imported = resolution.fact
    # an import maps names: it is its runner's word for who resolved it (a lead could map two
    # real colleagues onto a made-up ticket), so the resolver confirms with their own key
    if not _own_word(ticket, resolution.actor, imported):
        role = ", one of its builders" if imported.by in built else ""
        return _unconfirmed(ticket, resolution.actor, imported, "resolved", role)
    return None
