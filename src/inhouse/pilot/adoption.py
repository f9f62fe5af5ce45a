"""Adoption: which pilot members reach the tool on their own, measured from the gateway's usage
log (docs/pilot.md defines each figure).

A member **reaches the tool on their own** when requests through their own gateway key were
answered on at least ``min_days`` distinct days of the ``window_days`` days that end on the
report's day, and at least one of those days is *after their enablement finished* (a request
answered after their ``enablement.completed`` fact, for their track) and *not the day they were
onboarded* (their latest ``pilot.member`` added fact). ``min_days`` and ``window_days`` are the
playbook's parameters of the ``pilot-independent-use`` check.

The days come from :mod:`inhouse.usage` (SQL over the usage log), never from typed facts and
never by folding the log; the roster and enablement come from the facts that count. Recording
the report makes it a ``pilot.adoption`` fact signed by the gateway's own key, which is the
only signer the check counts it from; so the report it signs reads the active days from the
window's request rows whose MAC verifies (:mod:`inhouse.usage.authentic`), never from the
summary tables anyone with the database's password can edit, and names the rows it left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput
from inhouse.program.counting import STALE_AS_OF
from inhouse.program.facts import Fact, Provenance, validate_payload
from inhouse.usage import ActiveDay, active_days, last_active, prompts_used
from inhouse.usage.authentic import (
    GATEWAY_SERVICE,
    Rejected,
    Seal,
    authentic_rows,
    left_out_message,
)
from inhouse.usage.totals import ANSWERED_BELOW

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.playbook import Playbook

__all__ = [
    "CHECK",
    "COLLECTOR",
    "AdoptionReport",
    "MemberAdoption",
    "RoleAdoption",
    "adoption_report",
    "check_params",
    "counted_adoption",
    "record_adoption",
    "unmet_terms",
]

COLLECTOR = "inhouse pilot adoption"
CHECK = "pilot-independent-use"
_DEFAULTS = {"min_days": 3, "window_days": 28}


@dataclass(frozen=True)
class MemberAdoption:
    """One pilot member's use of the tool over the report's window."""

    person: str
    track: str
    onboarded: date  # the day of their latest pilot.member "added" fact
    enabled_at: datetime | None  # when their track's enablement finished; None: not yet
    active_days: int  # distinct days with an answered request through their own key
    days_on_their_own: int  # of those, days after enablement finished, not the onboarding day
    stickiness: float  # active days / days in the window (their DAU/MAU)
    last_active: date | None  # their latest active day up to the report's day, any window
    prompts_used: int  # distinct library prompts (prompt ids) in answered requests
    independent: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "track": self.track,
            "onboarded": self.onboarded.isoformat(),
            "enabled_at": self.enabled_at.isoformat() if self.enabled_at else None,
            "active_days": self.active_days,
            "days_on_their_own": self.days_on_their_own,
            "stickiness": round(self.stickiness, 4),
            "last_active": self.last_active.isoformat() if self.last_active else None,
            "prompts_used": self.prompts_used,
            "independent": self.independent,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RoleAdoption:
    """One role track's members together (or the whole pilot, track ``*``)."""

    track: str
    members: int
    active: int  # members with at least one active day in the window (the MAU)
    independent: int
    active_days: int  # member-days of use in the window
    stickiness: float  # DAU/MAU: the mean daily active members over the window, / the MAU
    last_active: date | None
    prompts_used: int  # distinct library prompts across the track's members

    def to_dict(self) -> dict[str, Any]:
        return {
            "track": self.track,
            "members": self.members,
            "active": self.active,
            "independent": self.independent,
            "active_days": self.active_days,
            "stickiness": round(self.stickiness, 4),
            "last_active": self.last_active.isoformat() if self.last_active else None,
            "prompts_used": self.prompts_used,
        }


@dataclass(frozen=True)
class AdoptionReport:
    """Adoption as of one day: per member, per role track, and for the whole pilot."""

    as_of: date
    since: date  # the window's first day (``window_days`` days, both ends included)
    window_days: int
    min_days: int
    members: tuple[MemberAdoption, ...]
    roles: tuple[RoleAdoption, ...]
    pilot: RoleAdoption
    #: measured from the gateway's own rows only (what is signed): the window's rows of the
    #: members that were left out, not written by the gateway as they stand
    left_out: tuple[Rejected, ...] = ()
    #: where the log revoked the gateway's key the rows were read with, its words: every row
    #: it sealed is among ``left_out``
    revoked: str | None = None
    #: and their answered requests not counted, per (day, person, digest): on weights no lock
    #: the log recorded that day blessed (as the daily rollup leaves them out)
    unblessed: Mapping[tuple[str, str, str], int] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """What a person recording the report should hear about what was left out."""
        from inhouse.gateway.rollup import unblessed_message

        found = [
            left_out_message(self.left_out, revoked=self.revoked),
            unblessed_message(dict(self.unblessed)),
        ]
        return [message for message in found if message]

    @property
    def independent(self) -> list[str]:
        return [m.person for m in self.members if m.independent]

    def payload(self) -> dict[str, Any]:
        """The ``pilot.adoption`` fact's payload."""
        return {
            "as_of": self.as_of.isoformat(),
            "window_days": self.window_days,
            "min_days": self.min_days,
            "members": [
                {
                    "person": m.person,
                    "active_days": m.active_days,
                    "independent": m.independent,
                    "reason": m.reason,
                }
                for m in self.members
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "since": self.since.isoformat(),
            "window_days": self.window_days,
            "min_days": self.min_days,
            "members": [m.to_dict() for m in self.members],
            "roles": [r.to_dict() for r in self.roles],
            "pilot": self.pilot.to_dict(),
        }


def check_params(playbook: Playbook, check: str, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``check``'s parameters as the playbook sets them where it is an exit (else wherever it
    first appears), over ``defaults``."""
    refs = [ref for play in playbook.plays for ref in play.exit if ref.check == check]
    refs += [ref for play in playbook.plays for ref in play.trigger if ref.check == check]
    return {**defaults, **(refs[0].params if refs else {})}


def counted_adoption(
    program: Program, now: datetime | None = None
) -> tuple[Fact | None, str | None]:
    """The latest ``pilot.adoption`` fact that counts at ``now`` (default: the clock's), as
    play 4's ``pilot-independent-use`` check picks it (signed by the gateway's key), and why the
    check no longer counts it (too old, by the check's own rule and parameters; and what to
    run), or None while it does."""
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks.pilot import FRESH_DAYS, adoption_too_old

    context = build_context(program.state(), program.clock() if now is None else now)
    fact = context.facts.latest("pilot.adoption")
    if fact is None:
        return None, None
    params = check_params(program.playbook, CHECK, {**_DEFAULTS, "fresh_days": FRESH_DAYS})
    return fact, adoption_too_old(context.with_params(params), fact)


def unmet_terms(program: Program, fact: Fact, now: datetime | None = None) -> dict[str, str]:
    """The members the signed adoption ``fact`` counts on their own whom play 4's
    ``pilot-independent-use`` sets aside at ``now`` (default: the clock's), each with why:
    their own confirmed days do not bear out its terms (exit rule 9; the report's
    "independent" is its signer's word, the gateway host's operator's)."""
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks.pilot import own_terms_unmet

    context = build_context(program.state(), program.clock() if now is None else now)
    independent = [str(row["person"]) for row in fact.payload["members"] if row.get("independent")]
    return own_terms_unmet(context, fact, independent)


def adoption_report(
    program: Program,
    as_of: date | None = None,
    *,
    mac_key: Seal | None = None,
    now: datetime | None = None,
) -> AdoptionReport:
    """Who in the pilot reaches the tool on their own, as of ``as_of`` (default: today, UTC),
    as the checks count the log at ``now`` (default: the clock's). With the gateway's
    ``mac_key`` (its :class:`Seal`, :func:`~inhouse.gateway.rollup.gateway_seal`), the window's
    active days and prompts are read from the request rows the gateway wrote (what its key
    signs), not from the summary tables: none where the log revoked that key."""
    from inhouse.program.counting import build_context, not_their_fetch
    from inhouse.program.playchecks.pilot import members as pilot_members

    params = check_params(program.playbook, CHECK, _DEFAULTS)
    min_days, window_days = int(params["min_days"]), int(params["window_days"])
    now = program.clock() if now is None else now
    day = as_of or now.astimezone(UTC).date()
    since = day - timedelta(days=window_days - 1)
    state = program.state()
    context = build_context(state, now)
    added = pilot_members(context)  # the pilot as play 4's checks see it
    people = sorted(added)
    # a key a lead fetched in a member's name is nobody's own use, here as in the signed
    # rollup and the rows (an agent's neither)
    not_own = not_their_fetch(state)
    left_out: tuple[Rejected, ...] = ()
    unblessed: dict[tuple[str, str, str], int] = {}
    if mac_key is None:
        used = _by_person(
            active_days(program.store, people, since=since, until=day, not_own=not_own)
        )
        prompts = prompts_used(program.store, people, since=since, until=day, not_own=not_own)
    else:
        used, prompts, left_out, unblessed = _authentic_use(
            program, mac_key, people, since, day, not_own, now
        )
    last = last_active(program.store, people, until=day, not_own=not_own)
    enabled = _enablement(context.facts.of("enablement.completed"))
    members = []
    for person in people:
        fact = added[person]
        track = str(fact.payload["track"])
        members.append(
            _member(
                person,
                track,
                onboarded=fact.at.astimezone(UTC).date(),
                enabled_at=enabled.get((person, track)),
                days=used.get(person, []),
                last=last.get(person),
                prompts=len(prompts.get(person, ())),
                min_days=min_days,
                window_days=window_days,
            )
        )
    tracks = sorted({m.track for m in members})
    roles = tuple(
        _role(track, [m for m in members if m.track == track], prompts, window_days)
        for track in tracks
    )
    return AdoptionReport(
        as_of=day,
        since=since,
        window_days=window_days,
        min_days=min_days,
        members=tuple(members),
        roles=roles,
        pilot=_role("*", members, prompts, window_days),
        left_out=left_out,
        revoked=None if mac_key is None else mac_key.revoked,
        unblessed=unblessed,
    )


def record_adoption(
    program: Program, as_of: date | None = None
) -> tuple[AdoptionReport, Fact | None]:
    """Measure adoption and record it as a ``pilot.adoption`` fact signed by the gateway's own
    key, when it changed since the last one (the day it was measured aside), or the last one is
    getting old (:func:`_aging`: the check counts a recent one only). Returns the report
    and the fact recorded (None: nothing changed). The first time, a rollout lead runs it, to
    enrol the gateway's key."""
    from inhouse.gateway.rollup import gateway_seal

    program.whoami()  # whoever records must be enrolled
    today = program.clock().astimezone(UTC).date()
    if as_of is not None and as_of > today:
        raise InvalidInput(
            f"--as-of {as_of} is after today ({today}, UTC): adoption is measured over days "
            "that have been, and a report of days to come would not count"
        )
    if as_of is not None and as_of < today - timedelta(days=STALE_AS_OF):
        raise InvalidInput(
            f"--as-of {as_of} is more than {STALE_AS_OF} day before today ({today}, UTC): a "
            "recorded report is of now (the check judges the latest one); leave out --record "
            "to look at an earlier window"
        )
    # before the MAC key is read: one who may not enrol the gateway's key makes no key file
    service = program.as_service(GATEWAY_SERVICE)
    report = adoption_report(program, as_of, mac_key=gateway_seal(program))
    payload = validate_payload("pilot.adoption", report.payload())
    previous = _latest_measured(program)
    if previous is not None and _same(previous.payload, payload) and not _aging(program, previous):
        return report, None
    fact = service.record_fact(
        None, "pilot.adoption", payload, provenance=Provenance.MEASURED, collector=COLLECTOR
    )
    return report, fact


# -- the rule ------------------------------------------------------------------------------------


def _member(
    person: str,
    track: str,
    *,
    onboarded: date,
    enabled_at: datetime | None,
    days: list[ActiveDay],
    last: str | None,
    prompts: int,
    min_days: int,
    window_days: int,
) -> MemberAdoption:
    active = len(days)
    after = [] if enabled_at is None else [d for d in days if _moment(d.last_at) > enabled_at]
    own = [d for d in after if d.day != onboarded.isoformat()]
    return MemberAdoption(
        person=person,
        track=track,
        onboarded=onboarded,
        enabled_at=enabled_at,
        active_days=active,
        days_on_their_own=len(own),
        stickiness=active / window_days,
        last_active=date.fromisoformat(last) if last else None,
        prompts_used=prompts,
        independent=active >= min_days and bool(own),
        reason=_reason(days, after, own, onboarded, enabled_at, track, min_days, window_days),
    )


def _reason(
    days: list[ActiveDay],
    after: list[ActiveDay],
    own: list[ActiveDay],
    onboarded: date,
    enabled_at: datetime | None,
    track: str,
    min_days: int,
    window_days: int,
) -> str:
    """Why a member counts or does not, in the words docs/pilot.md uses."""
    active = len(days)
    if active >= min_days and own:
        return (
            f"used it on {active} days in {window_days} (at least {min_days}), {len(own)} of "
            "them after enablement finished"
        )
    if not days:
        return f"no request answered through their own key in the last {window_days} days"
    why = []
    if active < min_days:
        why.append(f"used it on {_days(active)} in {window_days}; {min_days} needed")
    if enabled_at is None:
        why.append(f"enablement ({track}) not finished")
    if all(d.day == onboarded.isoformat() for d in days):
        why.append(f"used it only on the day they were onboarded ({onboarded})")
    elif enabled_at is not None and not after:
        why.append(f"no use since enablement finished ({enabled_at:%Y-%m-%d %H:%M} UTC)")
    elif enabled_at is not None and not own:
        why.append(f"used it after enablement only on the day they were onboarded ({onboarded})")
    return "; ".join(why)


def _role(
    track: str, members: list[MemberAdoption], prompts: Mapping[str, set[str]], window_days: int
) -> RoleAdoption:
    active = [m for m in members if m.active_days]
    member_days = sum(m.active_days for m in members)
    last = [m.last_active for m in members if m.last_active is not None]
    used: set[str] = set()
    for m in members:
        used |= prompts.get(m.person, set())
    return RoleAdoption(
        track=track,
        members=len(members),
        active=len(active),
        independent=sum(m.independent for m in members),
        active_days=member_days,
        stickiness=member_days / (window_days * len(active)) if active else 0.0,
        last_active=max(last) if last else None,
        prompts_used=len(used),
    )


# -- reading ---------------------------------------------------------------------------------------


def _authentic_use(
    program: Program,
    mac_key: Seal,
    people: list[str],
    since: date,
    until: date,
    theirs_not: frozenset[str],
    now: datetime,
) -> tuple[
    dict[str, list[ActiveDay]],
    dict[str, set[str]],
    tuple[Rejected, ...],
    dict[tuple[str, str, str], int],
]:
    """The members' active days and prompts in the window, as :func:`active_days` and
    :func:`prompts_used` read them, summed from the request rows whose MAC verifies and whose
    weights a lock the log recorded that day blessed (the rollup's rule: use of weights nobody
    verified is not the baseline's use); the rows left out, and the answered requests not
    counted for their weights. A window reaching past the compaction horizon sees only the rows
    kept. ``theirs_not``: the keys whose requests are nobody's own use (:func:`not_their_fetch`:
    fetched in their person's name by a key that never signed in as them)."""
    from inhouse.gateway.rollup import blessed_by_day, split_blessed

    found = authentic_rows(
        program.store, mac_key, since=since.isoformat(), until=until.isoformat(), people=people
    )
    rows, unblessed = split_blessed(found.rows, blessed_by_day(program, now))
    days: dict[tuple[str, str], tuple[int, str]] = {}
    prompts: dict[str, set[str]] = {}
    for row in rows:
        if row.status >= ANSWERED_BELOW or row.agent or row.key_id in theirs_not:
            # an agent's requests are not the person reaching for the tool, nor are a key's
            # whose fetch was not theirs (a lead's, in their name)
            continue
        if row.prompt_id and row.prompt_sent != 0:  # a name alone sent them nothing of it
            prompts.setdefault(row.person, set()).add(row.prompt_id)
        count, last = days.get((row.person, row.day), (0, ""))
        days[(row.person, row.day)] = (count + 1, max(last, row.at))
    used = _by_person(
        ActiveDay(person=person, day=day, requests=count, last_at=last)
        for (person, day), (count, last) in sorted(days.items())
    )
    return used, prompts, tuple(found.rejected), unblessed


def _by_person(days: Iterable[ActiveDay]) -> dict[str, list[ActiveDay]]:
    found: dict[str, list[ActiveDay]] = {}
    for day in days:
        found.setdefault(day.person, []).append(day)
    return found


def _enablement(facts: Iterable[Fact]) -> dict[tuple[str, str], datetime]:
    """When each (person, track)'s enablement first finished."""
    finished: dict[tuple[str, str], datetime] = {}
    for fact in facts:
        key = (str(fact.payload["person"]), str(fact.payload["track"]))
        finished.setdefault(key, fact.at.astimezone(UTC))
    return finished


def _latest_measured(program: Program) -> Fact | None:
    """The newest ``pilot.adoption`` fact that counts (signed by the gateway's key): not one a
    gateway key a marked lead's key enrolled signed (exit rule 39), or whoever holds that key
    would sign each report first and the real gateway never record one that counts."""
    from inhouse.program.collectors import measured_kinds
    from inhouse.program.counting import marked_service, why_uncounted

    state = program.state()
    measured = measured_kinds()
    for fact in reversed(state.facts):
        if (
            fact.kind == "pilot.adoption"
            and why_uncounted(fact, state, measured) is None
            and not marked_service(fact, state)
        ):
            return fact
    return None


def _aging(program: Program, previous: Fact) -> bool:
    """Whether the latest report is half as old as the check lets one be (its ``fresh_days``,
    counted from its ``as_of``): an unchanged measurement is recorded again then, else a pilot
    whose use held steady would be judged on a report too old to count, and a timer that
    records it (or a lead who runs it) could not renew it."""
    from inhouse.program.playchecks.pilot import FRESH_DAYS

    fresh = int(check_params(program.playbook, CHECK, {"fresh_days": FRESH_DAYS})["fresh_days"])
    today = program.clock().astimezone(UTC).date()
    return date.fromisoformat(str(previous.payload["as_of"])) <= today - timedelta(
        days=max(fresh // 2, 1)
    )


def _same(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return {k: v for k, v in before.items() if k != "as_of"} == {
        k: v for k, v in after.items() if k != "as_of"
    }


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"
