"""Fold the event log into the program's current state. Nothing here is stored: the state is
derived from the events (once per process, then one :func:`apply` per new event), so it can never
disagree with the log.

Who did something is read from the key that signed its event: the roster maps key ids to people
(``person.enrolled``). Events from before identities carry no signer and are attributed to the
name they recorded, marked unsigned.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse.errors import SignInError
from inhouse.identity.machine import real_machine, same_machine
from inhouse.program.checks import (
    CONFIRMED_USE,
    DASH_MAILBOX,
    NAMED_ACCEPTANCE,
    RUNS_CONFIRMED,
    TEAM_READING,
    WAIVER_LOG_TIME,
    WAIVER_SHARE,
    WAIVER_VOUCHED,
    Person,
)
from inhouse.program.events import Event, EventKind, canonical_json, format_time
from inhouse.program.facts import (
    FACT_KINDS,
    Fact,
    FactSet,
    Provenance,
    envelope_problem,
    newer_fields,
    payload_problem,
)
from inhouse.program.integrity import ChainVerifier, Row
from inhouse.program.playbook import Reach, Role, earlier_shipped

if TYPE_CHECKING:
    from collections.abc import Callable

    from inhouse.program.evaluation import CheckedRef
    from inhouse.program.guards import Blocker
    from inhouse.program.playbook import Playbook

__all__ = [
    "DEMO",
    "DEMO_MACHINES",
    "DEMO_NOTE",
    "DEMO_PASS",
    "NO_SIGN_IN",
    "NO_SIGN_IN_SHORT",
    "SQLITE_LOG",
    "Handoff",
    "HeldBack",
    "Invitation",
    "KeyRecord",
    "PackageEvent",
    "PlayRecord",
    "ProgramState",
    "Refusal",
    "SignIn",
    "SignedIn",
    "Stop",
    "Waiver",
    "account_release_problem",
    "acting_key",
    "apply",
    "fold",
    "invitation_problem",
    "kept_sign_in",
    "kid_problem",
    "not_on_roster",
    "repeated_fact",
    "set_up_problem",
    "sign_in_login",
    "sign_in_problem",
    "sqlite_log",
    "supersedes_problem",
    "unset_sign_in",
]


#: what a demo program (``inhouse init --demo``, ``make demo``) is, said wherever it is shown: on
#: `status`, the dashboard's every page and the reports a lead hands on, so that a program a lead
#: made a demo cannot pass for a real one (``demo`` sits in the signed first event, which names
#: the program: it cannot be changed afterwards)
DEMO_NOTE = (
    "One machine may play every part, so its checks tell people apart by machine alone, and "
    "trials of the random-weights test model count; nothing it shows is evidence of a second "
    "person or of value. Create a real program (`inhouse init` without --demo) for that"
)
DEMO = f"demo program: {DEMO_NOTE[0].lower()}{DEMO_NOTE[1:]}"
#: how one computer plays several people in a demo: judged by machines alone, two people who
#: enrolled from the same machine are one (said where someone tries it by hand, as the README's
#: tour invites them to)
DEMO_MACHINES = (
    "to play several people on this one computer, give each a machine of their own: set "
    "INHOUSE_MACHINE_ID (e.g. INHOUSE_MACHINE_ID=omar-laptop) in their shell before they join, "
    "and keep it for everything they do, as `make demo` does"
)
#: why INHOUSE_MACHINE_ID did not give someone a machine of their own in a real program: the
#: README's tour sets it, and without this a lead who followed it in a program made without
#: --demo read only "same machine", with nothing saying the variable was set aside
REAL_MACHINES = (
    "INHOUSE_MACHINE_ID was set when {person} enrolled, but it tells people on one computer "
    "apart only in a demo program (`inhouse init --demo`); in a real program one computer is "
    "one person: {person} enrols from a machine of their own"
)
#: what a check's pass says in a demo program where the same log would not pass it in a real one
#: (followed by the real program's reason)
DEMO_PASS = "passes only in a demo program; a real program's log would not"
#: the short form of the sign-in's absence: in a demo's "passes only in a demo" note, where the
#: long form (why nobody is told apart without it) would repeat on every such row
NO_SIGN_IN_SHORT = "the organisation's sign-in is not set up"
#: why a colleague cannot sign in to a program whose log is SQLite: the file is on one machine
#: (``{log}``), and sign-in needs the log and has no outbox (:func:`sqlite_log`)
SQLITE_LOG = (
    "this program's log is SQLite, a file on this machine ({log}), and sign-in has no outbox: "
    "a colleague on a machine of their own cannot sign in to it, so nothing they sign counts. "
    "A program whose people work on machines of their own needs its log on a PostgreSQL they "
    "all reach, named by INHOUSE_DATABASE_URL before `inhouse init` (a log does not move from "
    "one store to the other; docs/storage.md)"
)


def sqlite_log(log_file: str) -> str:
    """Why nobody signs in to the SQLite log at ``log_file`` from a machine of their own, and
    what a program whose people have machines of their own needs instead."""
    return SQLITE_LOG.format(log=log_file)


def sign_in_login(log_file: str | None, where: str = "on their machine") -> str:
    """Where someone runs ``inhouse sign-in login``, in words: ``where`` (their machine) on a
    log a database server keeps, which every machine of the program reaches; on a SQLite log
    (``log_file``, a file on this machine), only where that file is, and why (sign-in needs the
    log and has no outbox). Every message that sends someone to sign in says it this way."""
    if log_file is None:
        return f"`inhouse sign-in login` {where}".rstrip()
    return f"`inhouse sign-in login` where the log is, on this machine: {sqlite_log(log_file)}"


def unset_sign_in(log_file: str | None) -> str:
    """Why nobody is told apart without the organisation's sign-in (outside a demo), with where
    each person signs in once it is set up (:func:`sign_in_login`)."""
    return (
        f"{NO_SIGN_IN_SHORT}, so inhouse tells nobody apart: a key and the machine it reports "
        "are anyone's to make, and one person can invent a colleague with both (a rollout lead "
        "runs `inhouse sign-in setup`, then each person "
        f"{sign_in_login(log_file, '')})"
    )


#: why nobody is told apart without the organisation's sign-in (outside a demo), on a log every
#: machine reaches (:func:`unset_sign_in` says it for a SQLite one)
NO_SIGN_IN = unset_sign_in(None)


@dataclass(frozen=True)
class KeyRecord:
    """A public key enrolled for a person (or a service), from one machine."""

    key_id: str
    person: str
    public_key: str
    machine: str
    enrolled_at: datetime
    seq: int
    invited_by: str | None  # who issued the invitation it joined with (None: created the program)
    revoked_at: datetime | None = None
    #: the revocation's place in the log (its time is its writer's clock; the order is not)
    revoked_seq: int | None = None
    revoked_by: str | None = None
    #: a service's key rotated on its host: the enrolment of the key that superseded it (its
    #: key id, and place in the log). It signs nothing from there on, while the rows it sealed
    #: keep counting; only a revocation voids those
    superseded_by: str | None = None
    superseded_seq: int | None = None
    #: the enrolled key that signed the invitation it joined with (a session's: the key that
    #: delegated to it), and that invitation's place in the log: a key a key marked by exit
    #: rule 36 invited after its mark carries the mark on (:mod:`inhouse.program.counting`)
    invitation_key: str | None = None
    invitation_seq: int | None = None
    #: a service's key: the enrolled key that signed its enrolment (a session's: the key that
    #: delegated to it), the lead's that vouched for it: a service a key marked by exit rule 36
    #: enrolled after its mark is marked too (exit rule 39, :mod:`inhouse.program.counting`)
    enrolled_with: str | None = None

    @property
    def active(self) -> bool:
        """Neither revoked nor superseded: a key that signs for its holder now."""
        return self.revoked_at is None and self.superseded_seq is None


@dataclass(frozen=True)
class Invitation:
    seq: int
    name: str
    token_hash: str
    by: str
    expires: datetime
    another_key: bool  # an extra machine for someone already enrolled
    used: bool = False
    #: the public half of the key its token seeds, where it logs one
    #: (:mod:`inhouse.identity.invitations`)
    join_key: str | None = None
    #: the enrolled key that signed it (a session's: the key that delegated to it)
    signer: str | None = None


@dataclass(frozen=True)
class PlayRecord:
    play: str
    owner: str
    started_by: str
    started_at: datetime
    waivers: tuple[int, ...] = ()  # waivers (by event seq) that let the start through
    seq: int = 0  # the play.started event's


@dataclass(frozen=True)
class HeldBack:
    """An action its guards held back, in the log all the same, no waiver covering it: a play
    started, someone added to the pilot, a gateway key granted. The API refuses such an action
    (and records the refusal), so the event was appended around it, or the checks behind the
    guard judge the same evidence differently since. Every fold finds it again; a lead's
    waiver of that guard, granted after it, puts it on the record (:meth:`unwaived`)."""

    #: what was done, as the refusal would have named it ("add omar to the pilot")
    action: str
    seq: int
    by: str
    #: (guard, the play a waiver of it names, why it held the action back) for each guard
    blockers: tuple[tuple[str, str | None, str], ...]
    #: the play started (None: access widened)
    play: str | None = None
    #: whose access, granted while they were in the pilot, they kept on leaving it (None: the
    #: action widened access itself): what it holds back is their grants made before ``seq``
    person: str | None = None

    def unwaived(self, waivers: list[Waiver]) -> list[tuple[str, str | None, str]]:
        """The blockers no waiver has put on the record since: a waiver of that guard (of any,
        for guards that could not be checked), for that play or the whole program, granted
        after the action (one active at the action would have let it through). Where the log
        showed :data:`~inhouse.program.checks.WAIVER_SHARE` in force at it, a waiver that lapsed
        at its grant (its grantor's share spent, or its expiry already past) waives nothing, and
        puts nothing on the record: else the lead whose share is spent appends the action
        around the API, then a waiver the API refuses her, and the guard is off on her word."""
        return [
            (guard, play, why)
            for guard, play, why in self.blockers
            if not any(
                w.guard == guard or guard == UNCHECKED
                for w in waivers
                if w.play in (None, play)
                and w.seq > self.seq
                and (w.rules < WAIVER_SHARE or w.expires > w.granted_at)
            )
        ]


@dataclass(frozen=True)
class Handoff:
    play: str  # the play being handed on
    offered_by: str
    to: str
    offered_at: datetime
    offer_hash: str
    comment: str
    status: str = "offered"  # offered | accepted | rejected
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_comment: str | None = None
    accepted_hash: str | None = None
    #: the enrolled key that signed the offer (a session's: the key that delegated it)
    offered_key: str | None = None
    #: the acceptance's event: what its receiver accepted is the log as it stood there
    decided_seq: int | None = None
    #: the facts the acceptance names its exit judged on (None: an acceptance from before
    #: acceptances named them): its exit event, whoever wrote it, spares none besides these
    accepted_evidence: frozenset[int] | None = None
    #: the acceptance carries its receiver's own approval (a dashboard session's, written by
    #: the session's host): what it names is the receiver's word, the exit beside it the host's
    approved: bool = False


#: the longest a waiver lasts: a guard waived until 2999 is a guard switched off, which nobody
#: after its grantor looks at again; a lead who still needs one grants another, on the record
WAIVER_LONGEST = timedelta(days=366)
#: from when :data:`WAIVER_LONGEST` is counted for a waiver granted before it was the rule (or
#: dated before it around the API): a running program's long waiver lapses a year after this
#: release, and covers every action taken until then, as it did
WAIVER_LONGEST_FROM = datetime(2026, 12, 7, tzinfo=UTC)


def waiver_lapses(granted_at: datetime, expires: datetime) -> datetime:
    """When a waiver granted at ``granted_at`` asking ``expires`` lapses: at most
    :data:`WAIVER_LONGEST` after it was granted (or after :data:`WAIVER_LONGEST_FROM`), so an
    expiry typed around the API (``2999-01-01``) lapses as the API's longest would."""
    return min(expires, max(granted_at, WAIVER_LONGEST_FROM) + WAIVER_LONGEST)


#: the span in which one person's waivers of one guard cover at most :data:`WAIVER_LONGEST`
#: (:func:`waiver_share`): a lead alone keeps a guard off for a year at most, then it is on for
#: as long again unless another lead, on the record in their own name, renews the waiver
WAIVER_WINDOW = 2 * WAIVER_LONGEST


def waiver_share(
    waivers: Iterable[Waiver],
    grantor: str,
    guard: str,
    play: str | None,
    at: datetime,
    anyones: Callable[[Waiver], bool] = lambda _: False,
    nobody: bool = False,
) -> timedelta:
    """How long a waiver of ``guard`` (for ``play``; None: the whole program) that ``grantor``
    grants at ``at`` may cover: the most that keeps their own waivers of that guard, for that
    play or the whole program, within :data:`WAIVER_LONGEST` in every :data:`WAIVER_WINDOW`
    (overlaps counted once; a waiver still running counts up to ``at``, one dated after ``at``
    in full: a waiver dated ahead, then one dated back before it, would each find the other's
    year unspent). A year waived, the guard is on for a year before the same person waives it
    for another. Another lead's waivers are theirs: a second person renews, on the record in
    their own name. ``anyones``: a waiver that is nobody's word (with the sign-in set up, its
    key never signed in as its grantor), which counts toward every grantor's share; ``nobody``:
    the one granted now is such a waiver, and every waiver counts toward its share (a co-lead
    the lead made up, who has no account, renews for nobody)."""
    spans: list[tuple[datetime, datetime]] = []
    for w in waivers:
        if w.guard != guard or not (w.play is None or play is None or w.play == play):
            continue
        if not (nobody or w.granted_by == grantor or anyones(w)):
            continue
        begin, end = w.granted_at, w.expires if w.granted_at > at else min(w.expires, at)
        if end > begin:
            spans.append((begin, end))

    def covered(spans: list[tuple[datetime, datetime]], since: datetime) -> timedelta:
        merged: list[tuple[datetime, datetime]] = []
        for begin, end in sorted((max(b, since), min(e, since + WAIVER_WINDOW)) for b, e in spans):
            if end <= begin:
                continue
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((begin, end))
        return sum((end - begin for begin, end in merged), timedelta())

    def fits(seconds: int) -> bool:
        # the most a window holds is where it starts at a span's start or ends at a span's end;
        # only those holding some of the new waiver are its to keep within the share
        lapses = at + timedelta(seconds=seconds)
        every = [*spans, (at, lapses)]
        starts = {b for b, _ in every} | {e - WAIVER_WINDOW for _, e in every}
        return all(
            covered(every, since) <= WAIVER_LONGEST
            for since in starts
            if since < lapses and since + WAIVER_WINDOW > at
        )

    low, high = 0, int(WAIVER_LONGEST.total_seconds())
    if not fits(low):
        return timedelta(0)
    while low < high:  # the most that fits: what fits only grows the old waivers' share
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return timedelta(seconds=low)


@dataclass(frozen=True)
class Waiver:
    seq: int
    guard: str
    play: str | None
    reason: str
    note: str
    granted_by: str
    granted_at: datetime
    expires: datetime
    #: the enrolled key behind its signature (a session's: the key that delegated to it), None
    #: before identities
    key: str | None = None
    #: the rules the log showed in force at its grant (:data:`~inhouse.program.checks.EXIT_RULES`)
    rules: int = 0

    def active(self, now: datetime) -> bool:
        return now < self.expires

    def covers(self, guard: str, play: str | None, now: datetime) -> bool:
        return self.guard == guard and (self.play is None or self.play == play) and self.active(now)


@dataclass(frozen=True)
class Refusal:
    seq: int
    at: datetime
    actor: str
    action: str
    guards: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class Stop:
    reason: str
    by: str
    at: datetime
    evidence: tuple[int, ...]
    comment: str


@dataclass(frozen=True)
class SignIn:
    """The organisation's sign-in (OpenID Connect) that vouches for who each person is: the
    issuer, the client inhouse signs in as, and the issuer's signing keys as the leads pinned
    them (each ``inhouse sign-in keys`` adds the issuer's current ones; none is dropped, so a
    binding made under an older key still verifies). Until someone signs in, a set-up naming
    another issuer, client or domain replaces it whole, keys and all (:func:`set_up_problem`)."""

    issuer: str
    client_id: str
    keys: tuple[dict[str, Any], ...]
    #: the organisation's e-mail domain: only identities with a verified address there count
    #: (a provider such as accounts.google.com vouches for anyone's free account)
    domain: str | None
    set_by: str
    set_at: datetime
    seq: int
    #: who pinned each key (by thumbprint) and at which event: any lead may pin keys later
    pinned_by: tuple[tuple[str, str, int], ...] = ()

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": list(self.keys)}


@dataclass(frozen=True)
class SignedIn:
    """A person's key bound to the identity the organisation's sign-in vouched for: the ID
    token the issuer signed for that key (its nonce names the key and the program)."""

    person: str
    subject: str
    email: str | None
    key_id: str
    at: datetime
    seq: int
    #: the pinned key that verified the token, and the keys the issuer published when this
    #: person's machine asked it, at sign-in (their own view, not the pinning lead's)
    key_thumbprint: str = ""
    seen: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageEvent:
    """A play package's own event (``Program.log_event``: a gateway key granted, fetched,
    revoked), as the fold verified it: who signed it, and the roles they held at that event (a
    grant is a lead's act when it was made, whatever roles change later)."""

    seq: int
    at: datetime
    kind: str
    by: str
    signed: bool
    roles: frozenset[str]
    payload: dict[str, Any]
    #: the enrolled key behind its signature (a session's: the key that delegated to it), None
    #: unsigned: whose fetch a ``gateway.key.issued`` was is the key's sign-in, not its name
    key: str | None = None


@dataclass
class ProgramState:
    name: str = ""
    lead: str = ""
    playbook: str = ""
    playbook_version: int = 0
    #: what the playbook decided when the program was created (:meth:`Playbook.rules`; empty
    #: for programs created before it was recorded)
    playbook_rules: str = ""
    created_at: datetime | None = None
    people: dict[str, Person] = field(default_factory=dict)
    #: every role each person ever held, those taken away since included: who was inside the
    #: program once is never "beyond the pilot" (a role removed does not make someone new)
    roles_held: dict[str, frozenset[str]] = field(default_factory=dict)
    #: when each person first gained each role they ever held (event seq): a role granted later
    #: does not reach back over what they did before it (a ticket they filed as a user)
    role_since: dict[str, dict[str, int]] = field(default_factory=dict)
    #: each stretch each person held each role: (the event (seq) that gave it, the one that took
    #: it away, or None while they hold it). Whether someone held a role when they did something
    #: is read from these, never from today's roster (a role given afterwards reaches no act)
    role_spans: dict[str, dict[str, list[tuple[int, int | None]]]] = field(default_factory=dict)
    #: when each holder of the pilot-user role last gained it (event seq): in a program that
    #: never listed its pilot, its first holders, up to the pilot's size, are the pilot
    pilot_entered: dict[str, int] = field(default_factory=dict)
    #: people a play package's event let in (a gateway key's grant) judged inside the pilot,
    #: no role making them so, and the event: in a program that has no pilot user yet, the
    #: first people let in are the pilot, up to its size
    let_in: dict[str, int] = field(default_factory=dict)
    #: the ``pilot.member`` facts, oldest first (what the pilot's list is read from, without
    #: walking every fact)
    pilot_member_facts: list[Fact] = field(default_factory=list)
    #: whose gateway access is open, kept while the key events it was read from stand
    access_memo: tuple[tuple[int, int, int], dict[str, list[int]]] | None = field(
        default=None, repr=False, compare=False
    )
    facts: list[Fact] = field(default_factory=list)
    plays: dict[str, PlayRecord] = field(default_factory=dict)
    handoffs: dict[str, Handoff] = field(default_factory=dict)
    exited: dict[str, datetime] = field(default_factory=dict)
    #: play -> who accepted its latest accepted handoff: the hand it exited to, which a later
    #: offer (accepted by nobody yet) does not change
    exited_to: dict[str, str] = field(default_factory=dict)
    #: each play's first exit, when and at which event: the acceptance its exit event follows
    #: (what was accepted is the log as it stood there, however much later the exit event was
    #: written); a later re-accept moves no cutoff
    first_exited: dict[str, tuple[datetime, int]] = field(default_factory=dict)
    #: play -> the facts its first exit was judged on (what its exit checks cited, the evidence
    #: its acceptance hashed), as its exit event names them and the fold validated them (facts
    #: in the log by the acceptance); a play missing here exited before exits named them
    first_judged: dict[str, frozenset[int]] = field(default_factory=dict)
    #: play -> the rules its first exit says it was judged by (its exit event's ``rules``,
    #: :data:`~inhouse.program.checks.EXIT_RULES` when it was written); a play missing here
    #: exited before exits said so (:meth:`~inhouse.program.checks.CheckContext.spared`)
    first_rules: dict[str, int] = field(default_factory=dict)
    #: the most rules an exit the log counts said it was judged by (:data:`first_rules`)
    rules_said: int = 0
    #: the most rules an event in the log so far shows the inhouse that wrote it knew
    #: (:func:`_rules_shown`): what was in force there, whoever wrote the exits around it
    rules_seen: int = 0
    #: play -> :attr:`rules_seen` at its latest acceptance that counts: the fewest rules its
    #: exit, marked there, can have been judged by (an exit event says its own, never fewer)
    rules_at_acceptance: dict[str, int] = field(default_factory=dict)
    waivers: list[Waiver] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    stopped: Stop | None = None
    head_seq: int = 0
    program_id: str = ""  # the hash of the first event: names the program in envelopes
    demo: bool = False
    #: where the log this state was folded from lies when it is SQLite: a file on this machine,
    #: which nobody signs in to from a machine of their own (:func:`sign_in_login`). Not in the
    #: log: whoever folds the state from its store says it; None for a database server's log
    #: (and a state folded from events alone)
    log_file: str | None = field(default=None, compare=False)
    keys: dict[str, KeyRecord] = field(default_factory=dict)
    invitations: dict[str, Invitation] = field(default_factory=dict)  # by token hash
    imported: set[str] = field(default_factory=set)  # envelope digests already in the log
    first_signed_seq: int | None = None
    #: plays started while a start guard held them back, no waiver covering it (:class:`HeldBack`)
    held_back: dict[str, HeldBack] = field(default_factory=dict)
    #: access widened (the pilot, a gateway key) while a reach guard held it back, no waiver
    #: covering it
    reach_held_back: list[HeldBack] = field(default_factory=list)
    #: sign-ins the fold bound nobody with (:func:`account_problem`), each said on ``status``
    unbound: list[str] = field(default_factory=list)
    #: person -> (event, why) of their latest sign-in the fold set aside, for the checks'
    #: reasons (cleared once one of theirs binds)
    set_aside: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: mailbox -> the event that released it (:func:`mailbox_release_problem`): bindings at it
    #: before that event no longer keep it from another person
    mailbox_released: dict[str, int] = field(default_factory=dict)
    #: mailbox -> the person its latest release names (``--to``): only they sign in at it
    #: then; a release recorded before releases named anyone (no ``to``) lets the next in
    mailbox_released_to: dict[str, str] = field(default_factory=dict)
    #: account (its subject) that signed in at no address -> the event that released it, and
    #: the person that release names (:func:`account_release_problem`): as for a mailbox
    account_released: dict[str, tuple[int, str]] = field(default_factory=dict)
    #: mail domain -> the event in which a colleague said its mail server keeps '-' in names
    #: (:func:`dash_names_problem`): there a '-' is no sub-address (:data:`DASH_MAILBOX`)
    dash_names: dict[str, int] = field(default_factory=dict)
    #: mail domain -> each (event, person) that said so, in the log's order: a word counts only
    #: while its sayer's own address is no '-' sub-address of another person's mailbox
    #: (:func:`_dash_word_void`: an alias at ``lena-omar@`` would be vouching for itself)
    dash_names_said: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    #: decisions a dashboard session signed without its person's own approval (written before
    #: approvals existed): kept in the log, never counted, each said on ``status``
    unapproved: list[str] = field(default_factory=list)
    #: exits appended around the API for plays that did not exit then (their checks did not
    #: hold, or the owner handed the play to himself): no first exit, each said on ``status``
    unmet_exits: list[str] = field(default_factory=list)
    #: play -> its exit checks as judged at its latest acceptance, for each exit event that
    #: follows it (:func:`_judge_at_acceptance`): None where they held (or could not be judged),
    #: else (whether the exit is kept even so, why they did not hold)
    judged_at_acceptance: dict[str, tuple[bool, str] | None] = field(default_factory=dict)
    #: whether an exit the log counts named the facts it was judged on (``evidence``): every
    #: exit this inhouse writes does, so a later one that names none was appended around the
    #: API, and an earlier rule spares none of its facts (:func:`_apply_play_event`)
    exits_named: bool = False
    #: such exits, each said on ``status``
    unnamed_exits: list[str] = field(default_factory=list)
    #: exits kept as first exits although the playbook loaded, a playbook of the organisation's
    #: own revised since the program was created, finds their exit checks did not hold then:
    #: each said on ``status`` (a shipped playbook judges by the release the program was
    #: created with, or by itself where no release decided what its first event claims)
    kept_exits: list[str] = field(default_factory=list)
    #: play -> the session key whose unapproved acceptance of it did not count: the exit that
    #: acceptance wrote beside it does not count either
    unapproved_exit: dict[str, str] = field(default_factory=dict)
    #: play -> (the receiver, the event) of an acceptance through a session that did not count
    #: (:func:`_lift_after_accepting_again`)
    uncounted_acceptances: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: imported envelopes that carried a fact already in the log again (:func:`repeated_fact`):
    #: kept in the log, never counted (a copy would be a new ticket, a new finding), each said
    replayed: list[str] = field(default_factory=list)
    #: facts whose fields are not what inhouse writes (:func:`~inhouse.program.facts.
    #: payload_problem`: a string for a flag, a fraction or NaN for a count, a field no schema
    #: has), appended around the API: kept in the log, never counted, each said on ``status``
    malformed: list[str] = field(default_factory=list)
    #: those of them whose own fields read as a fact (their payload is what is wrong), with
    #: why: each check that reads their kind lists them beside it, not counted
    malformed_facts: list[tuple[Fact, str]] = field(default_factory=list)
    #: (seq, why) of each event an enrolled member (no rollout lead) signed with a key of their
    #: own and had no authority to make (a handoff offered for a play they do not own, a role
    #: they gave themselves): kept in the log, never counted, nothing learnt from it, each said
    #: on ``status``; ``audit verify`` reports them (:func:`_set_aside_unauthorized`)
    unauthorized: list[tuple[int, str]] = field(default_factory=list)
    #: the facts by the time they were recorded, indexed up to ``facts_indexed`` (facts are only
    #: ever appended): :func:`repeated_fact` looks an envelope's fact up by its time
    facts_by_at: dict[datetime, list[Fact]] = field(default_factory=dict, repr=False)
    facts_indexed: int = 0
    #: the latest time a verified event was written at: an event's time is its writer's clock,
    #: and a start backdated to when a waiver was still active is judged no earlier than this
    latest_at: datetime | None = None
    #: the same, per person: a writer's clock is held to its own past, never to another's (a
    #: member whose clock runs ahead must not move everyone's judgements)
    latest_at_by: dict[str, datetime] = field(default_factory=dict)
    #: the three witnesses (accounts the sign-in vouched for, not names: :func:`_witness`)
    #: whose latest events are dated latest, latest first: what :func:`log_floor` reads
    latest_writers: list[tuple[datetime, str]] = field(default_factory=list)
    #: waiver seq -> (its grantor, the accounts she wrote with since, the earliest time each
    #: other account wrote at after it), until two have: what dates its life
    #: (:func:`_date_waivers`)
    waivers_undated: dict[int, tuple[str, set[str], dict[str, datetime]]] = field(
        default_factory=dict
    )
    # the chain is checked as it is folded: events from the first one that does not verify on
    # are not applied (``tampered`` says which and why; ``inhouse audit verify`` reports it)
    verifier: ChainVerifier = field(default_factory=ChainVerifier)
    tampered: tuple[str, int] | None = None
    #: the play packages' own events that verified, by kind, oldest first: what a package reads
    #: instead of the raw log (which anyone with the database's password can write)
    package_events: dict[str, list[PackageEvent]] = field(default_factory=dict)
    #: the organisation's sign-in, once a lead set it up: from then on a person counts as
    #: someone once it vouched for them (``signed_in``), whatever their machine says
    sign_in: SignIn | None = None
    #: each person's identity (their first binding, or the first after one was released: see
    #: :meth:`holds`), and each key that bound it: a key
    #: counts once it signed in itself, so a key joined later under a name does not ride on
    #: an earlier key's sign-in
    signed_in: dict[str, SignedIn] = field(default_factory=dict)
    signed_keys: dict[str, SignedIn] = field(default_factory=dict)

    @property
    def owners(self) -> dict[str, str]:
        return {play: record.owner for play, record in self.plays.items()}

    def unwaived_start(self, play: str) -> list[tuple[str, str]]:
        """(guard, why) for each guard that held ``play``'s start back and that no waiver has
        put on the record since (:meth:`HeldBack.unwaived`)."""
        held = self.held_back.get(play)
        return [] if held is None else [(g, why) for g, _, why in held.unwaived(self.waivers)]

    def unwaived_reach(self) -> list[tuple[HeldBack, list[tuple[str, str | None, str]]]]:
        """Each widening of access a reach guard held back that no waiver has put on the record
        since, with what is left of its blockers."""
        from inhouse.program.guards import access_kept

        found = [
            (held, held.unwaived(self.waivers))
            for held in self.reach_held_back
            if held.person is None or access_kept(self, held.person, held.seq)
        ]
        return [(held, left) for held, left in found if left]

    def live_facts(self, now: datetime) -> FactSet:
        return FactSet((fact for fact in self.facts if not fact.expired(now)), ordered=True)

    def person_of_key(self, key_id: str) -> str | None:
        """Whose key this is, while it is not revoked (nor superseded: it signs nothing)."""
        record = self.keys.get(key_id)
        return record.person if record is not None and record.active else None

    def machines(self, person: str) -> set[str]:
        """Every machine ``person`` enrolled a key from (revoked keys too: it was theirs)."""
        return {k.machine for k in self.keys.values() if k.person == person and k.machine}

    def keys_of(self, person: str) -> list[KeyRecord]:
        return [k for k in self.keys.values() if k.person == person]

    @property
    def sign_in_vouches(self) -> bool:
        """Whether the sign-in set up vouches for anyone: outside a demo, one whose issuer is on
        a loopback address (:func:`vouches_for_nobody`) does not."""
        return self.sign_in is not None and not vouches_for_nobody(self.sign_in.issuer, self.demo)

    def vouched(self, person: str) -> bool:
        """Whether the organisation's sign-in vouches for ``person`` now: they hold a key, and
        every key they hold signed in (a key joined as them later has not), with a sign-in that
        vouches for anyone (:attr:`sign_in_vouches`)."""
        active = [k.key_id for k in self.keys_of(person) if k.revoked_at is None]
        return (
            bool(active)
            and all(self.signed_in_as(key, person) for key in active)
            and self.sign_in_vouches
        )

    def holds(self, bound: SignedIn) -> bool:
        """Whether a binding still holds: a key that signed in under it (that person, that
        identity) is not revoked. One whose keys were all revoked is released: its person may
        sign in with another account, and its account may bind another person (a binding
        made by mistake, in a browser signed in as someone else, is undone that way; where the
        log shows exit rules 6 in force, through a release naming them:
        :func:`_rebound_identity`). It keeps
        vouching for what its keys signed while they were live."""
        return any(
            b.person == bound.person
            and b.subject == bound.subject
            and (record := self.keys.get(key)) is not None
            and record.revoked_at is None
            for key, b in self.signed_keys.items()
        )

    def signed_in_as(self, key_id: str | None, person: str) -> bool:
        """Whether ``key_id`` signed in as ``person`` (a binding is the key's and the
        person's: a key is never enrolled twice, and a binding never moves)."""
        bound = self.signed_keys.get(key_id or "")
        return bound is not None and bound.person == person

    def nobodys_waiver(self, waiver: Waiver) -> bool:
        """Whether ``waiver``'s grantor is nobody's word (a co-lead the lead made up), so it
        counts toward every grantor's share (:func:`waiver_share`): granted, since the
        organisation's sign-in was set up, with a key that has not signed in as its grantor; or,
        where the log showed :data:`~inhouse.program.checks.WAIVER_VOUCHED` in force at it,
        with any key that has not signed in as its grantor with a sign-in that vouches for
        anyone (:meth:`vouched_grantor`), before the sign-in was set up too."""
        if waiver.rules >= WAIVER_VOUCHED:
            return not self.vouched_grantor(waiver.key, waiver.granted_by)
        return (
            self.sign_in is not None
            and waiver.seq > self.sign_in.seq
            and waiver.key is not None
            and not self.signed_in_as(waiver.key, waiver.granted_by)
        )

    def vouched_grantor(self, key: str | None, grantor: str) -> bool:
        """Whether a waiver signed with ``key`` is ``grantor``'s word, told apart from every
        other lead's (:data:`~inhouse.program.checks.WAIVER_VOUCHED`): the key signed in as
        them with a sign-in that vouches for anyone, or the program is a demo (its machines
        play its people). Without it, a key and a name are anyone's to make: a co-lead the lead
        enrolled herself before the sign-in was set up would renew her waivers in his name."""
        return self.demo or (self.sign_in_vouches and self.signed_in_as(key, grantor))

    def nobody_grants(self, key: str | None, grantor: str) -> bool:
        """Whether a waiver ``grantor`` grants now with ``key`` would be nobody's word
        (:meth:`nobodys_waiver`): its share then counts every lead's waivers."""
        if self.rules_seen >= WAIVER_VOUCHED:
            return not self.vouched_grantor(key, grantor)
        return self.sign_in is not None and key is not None and not self.signed_in_as(key, grantor)

    def unsigned_waivers(self) -> list[str]:
        """Warnings: waivers granted, since the organisation's sign-in was set up, with a key that
        has not signed in as their grantor (the API refuses one; appended around it, or granted
        before it did, it still covers what it waives, and the record's name on it is nobody's
        word)."""
        if self.sign_in is None:
            return []
        return [
            f"waiver #{w.seq} ({w.guard}) was granted by {w.granted_by} with a key ({w.key}) "
            f"that has not signed in as {w.granted_by} with {self.sign_in.issuer}: the "
            f"organisation's sign-in never vouched that {w.granted_by} granted it"
            for w in self.waivers
            if self.nobodys_waiver(w)
        ]

    def _service_at_a_persons_machine(self, record: KeyRecord, first: str) -> str:
        """The warning for a service's key (the gateway's) enrolled from a person's machine.
        The people's warning ("the checks that need someone other than lena do not count
        gateway") told a team that ran the gateway on its lead's laptop, as the README's tour
        once read, neither what that costs nor what to do (tests/test_walk56.py)."""
        where = f"the {record.person} service's key {record.key_id} was enrolled from the same "
        where += f"machine as {first} ({record.machine})"
        if self.demo or first not in _leads_ever(self):
            return (
                f"{where}: the checks that need someone other than {first} do not count "
                f"{record.person} from that machine (docs/concepts.md)"
                + (f"; {DEMO_MACHINES}" if self.demo else "")
            )
        return (
            f"{where}, a rollout lead's: nothing it signs counts (usage, adoption, prompt use, "
            f"drift reviews: whoever holds a key on that machine holds the service's too). Run "
            f"the {record.person} on a host of its own, where a lead's first `inhouse gateway "
            f"rollup` enrols a key of its own, have someone who uses it vouch for that host "
            f"(`inhouse gateway vouch`), and revoke this one (`inhouse person revoke-key "
            f"{record.key_id}`) (docs/pilot.md)"
        )

    def shared_machines(self) -> list[str]:
        """Warnings: people who enrolled from a machine another person enrolled from."""
        seen: list[KeyRecord] = []
        lines = []
        for record in sorted(self.keys.values(), key=lambda k: k.seq):
            if not record.machine:
                continue
            first = next(
                (e.person for e in seen if same_machine(e.machine, record.machine, demo=self.demo)),
                record.person,
            )
            seen.append(record)
            service = self.people.get(record.person)
            if first != record.person and service is not None and service.service:
                lines.append(self._service_at_a_persons_machine(record, first))
            elif first != record.person:
                lines.append(
                    f"{record.person} enrolled from the same machine as {first} "
                    f"({record.machine}): the checks that need someone other than {first} "
                    f"(a verify, a workflow run, a pilot place or champion, an access "
                    f"request, the support owner, a review's attendee, a ticket and its fix, "
                    f"use beyond the pilot, a finding fed back) do not count {record.person} "
                    f"from that machine (docs/concepts.md)"
                    + (f"; {DEMO_MACHINES}" if self.demo else "")
                    + (
                        f"; {REAL_MACHINES.format(person=record.person)}"
                        if not self.demo and real_machine(record.machine) != record.machine
                        else ""
                    )
                )
        return lines


def _leads_ever(state: ProgramState) -> set[str]:
    """Everyone who holds or ever held the rollout-lead role."""
    held = {name for name, p in state.people.items() if "rollout-lead" in p.roles}
    return held | {name for name, roles in state.roles_held.items() if "rollout-lead" in roles}


def not_on_roster(name: str, people: Mapping[str, Person]) -> str:
    """What to say of a name that is not on the roster: the name a typo most likely meant, and
    who is on it (people: a service, the gateway, is no one a name is meant for)."""
    known = sorted(n for n, person in people.items() if not person.service)
    near = difflib.get_close_matches(name, known, n=1)
    hint = f": did you mean {near[0]!r}?" if near else ""
    listed = ", ".join(known) or "nobody yet"
    return f"{name!r} is not on this program's roster{hint} (people: {listed})"


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


#: how far before what others have already written an event may be dated and keep its time
LOG_SKEW = timedelta(minutes=10)


def latest_writers(
    top: list[tuple[datetime, str]], account: str, at: datetime
) -> list[tuple[datetime, str]]:
    """``top`` (the three witnesses, by account, dated latest) once someone signed in with
    ``account`` wrote at ``at``: an account's latest time only grows (one written earlier than
    it keeps it), so three are enough to keep the second-latest of everyone else."""
    kept = max([at, *(when for when, who in top if who == account)])
    found = [(when, who) for when, who in top if who != account] + [(kept, account)]
    return sorted(found, reverse=True)[:3]


def log_floor(top: list[tuple[datetime, str]], account: str | None) -> datetime | None:
    """The earliest time the next event of whoever signed in with ``account`` (None: someone
    who did not) keeps: :data:`LOG_SKEW` before the second-latest time two other accounts have
    already written at. An event's time is its writer's clock, but the log's order is not: a
    step dated back before what two colleagues have since written is dated, in the fold, no
    earlier than that. Two, not one: a single colleague whose clock runs ahead moves nobody's
    times."""
    others = [when for when, who in top if who != account]
    return None if len(others) < 2 else others[1] - LOG_SKEW


def _witness(state: ProgramState, writer: str, key_id: str | None) -> str | None:
    """The account whose clock ``writer``'s event counts toward the log's floor, or None: a
    person (a service's key is a lead's to place) whose key (a session's: the key that
    delegated it) signed in with the organisation's sign-in (an alias of someone's own is
    nobody; before a sign-in there is no floor), counted as the account it signed in with. A
    binding is released when its keys are revoked, and its account may then bind an alias:
    by name, the lead's one account lent to "zed" for an event would be a second witness, so
    one person could move the floor with keys of their own."""
    person = state.people.get(writer)
    if person is None or person.service or not state.sign_in_vouches:
        return None  # before a sign-in, one person's aliases would be "others"
    key = state.verifier.keys.delegated_by.get(key_id or "", key_id)
    bound = state.signed_keys.get(key or "")
    return bound.subject if bound is not None and bound.person == writer else None


def _account(state: ProgramState, person: str) -> str | None:
    """The account ``person`` signed in with (None: none), whose own witness is no "other"."""
    bound = state.signed_in.get(person)
    return bound.subject if bound is not None else None


def _floor_of(state: ProgramState, person: str) -> datetime | None:
    """:func:`log_floor` for ``person``'s next event: their own account's clock left out."""
    return log_floor(state.latest_writers, _account(state, person))


def _session_problem(state: ProgramState, event: Event) -> str | None:
    """Why a dashboard session's event is dated back into a session the log has moved past:
    its person, or two others the sign-in vouches for, wrote after the session ended. The
    session key stays in the dashboard host's memory; kept, it would sign a colleague's
    decision dated inside the old window weeks later."""
    ends = state.verifier.keys.session_ends.get(event.signer or "")
    if ends is None:
        return None
    person, _ = _signer(event, state)
    floor = _floor_of(state, person)
    own = state.latest_at_by.get(person)
    if own is not None and (floor is None or own - LOG_SKEW > floor):
        floor = own - LOG_SKEW
    if floor is None or floor <= ends:
        return None
    return (
        f"event {event.seq} ({event.kind}) is signed by a dashboard session of {person}'s that "
        f"ended at {ends:%Y-%m-%d %H:%M} UTC, and the log had moved past it ({person}, or two "
        f"others, wrote by {floor + LOG_SKEW:%Y-%m-%d %H:%M} UTC): a session key kept past its "
        "session signs nothing dated back into it"
    )


def _no_earlier_than_the_log(state: ProgramState, writer: str, at: datetime) -> datetime:
    floor = _floor_of(state, writer)
    return at if floor is None or at >= floor else floor


def _fact(event: Event, data: dict[str, Any], state: ProgramState) -> Fact:
    by, signed = _signer(event, state)
    machine = key = None
    session = approved = False
    if event.signer is not None:
        record = state.keys.get(event.signer)
        if record is None:  # a dashboard session's key, never enrolled: what it signs comes
            # from the machine of the person's own key that signed its delegation
            delegating = state.verifier.keys.delegated_by.get(event.signer)
            session = delegating is not None
            approved = session and "approval" in event.payload  # verified with the event
            record = state.keys.get(delegating or "")
        if record is not None:
            machine, key = record.machine, record.key_id
    return Fact(
        id=event.seq,
        kind=data["kind"],
        version=int(data.get("version", 1)),
        payload=data["payload"],
        provenance=Provenance(data["provenance"]),
        by=by,
        collector=data.get("collector"),
        comment=data.get("comment"),
        expires=_when(data.get("expires")),
        at=_no_earlier_than_the_log(state, by, event.at),
        signed=signed,
        on_behalf_of=data.get("on_behalf_of"),
        machine=machine,
        key=key,
        session=session,
        approved=approved,
    )


def _readable_fact(state: ProgramState, event: Event, data: Any) -> Fact | None:
    """The fact ``event`` records (``data``: as a ``fact.recorded`` event holds one), to count;
    or None where it is not what inhouse writes (:func:`~inhouse.program.facts.fact_problem`):
    then it is set aside, never counted, and ``status`` says which event and field, as does
    each check that reads its kind where its own fields can be read (:attr:`ProgramState.
    malformed_facts`). The fold goes on: stopping there, as at a bad signature, would let
    anyone with a key freeze the program with one such event."""
    why = envelope_problem(data)
    fact = None if why is not None else _fact(event, data, state)
    if fact is not None and (why := payload_problem(fact.kind, fact.payload)) is None:
        return fact
    kind = data.get("kind") if isinstance(data, dict) else None
    said = f"event {event.seq} ({event.kind}, {kind if isinstance(kind, str) else '?'})"
    if fact is not None and (newer := newer_fields(fact.kind, fact.payload)):
        # fields only a newer inhouse writes (a rerun's place and seed, a confirmation's
        # runs): a colleague's honest fact, most likely, which this one cannot read
        state.malformed.append(f"{said} {_upgrade(newer)}; until then it is not counted")
        state.malformed_facts.append((fact, _upgrade(newer)))
        return None
    state.malformed.append(
        f"{said} is not what inhouse writes: {why}; it was made around inhouse's API and is not "
        "counted"
    )
    if fact is not None:
        state.malformed_facts.append((fact, f"not what inhouse writes: {why}"))
    return None


def _upgrade(fields: list[str]) -> str:
    """What a fact holding ``fields`` this inhouse does not know says: to upgrade."""
    from inhouse import __version__

    return (
        f"holds {', '.join(fields)}, which this inhouse ({__version__}) does not know: a newer "
        "inhouse writes them and reads them, so upgrade inhouse on this machine and run it "
        "again (should the newest one not know them either, the fact was "
        "made around inhouse's API)"
    )


def _signer(event: Event, state: ProgramState) -> tuple[str, bool]:
    """Who made ``event``: the person whose key signed it, else (before identities) the name
    it recorded, unsigned."""
    if event.signer is None:
        return event.actor, False
    person = state.person_of_key(event.signer) or state.verifier.keys.delegated.get(event.signer)
    return (person, True) if person is not None else (event.actor, False)


def _enrol(
    state: ProgramState,
    event: Event,
    data: dict[str, Any],
    invited_by: str | None,
    invitation: Invitation | None = None,
) -> None:
    name = data["name"]
    state.keys[data["key_id"]] = KeyRecord(
        key_id=data["key_id"],
        person=name,
        public_key=data["public_key"],
        machine=data.get("machine", ""),
        enrolled_at=event.at,
        seq=event.seq,
        invited_by=invited_by,
        invitation_key=invitation.signer if invitation is not None else None,
        invitation_seq=invitation.seq if invitation is not None else None,
        enrolled_with=acting_key(state, event.signer) if data.get("service") else None,
    )
    if name not in state.people:
        _seat(state, data, event.seq, service=bool(data.get("service", False)))


def _void_spares(state: ProgramState, name: str) -> None:
    """Once ``name`` joined, the lead's other invitations for them are spent: a spare one,
    kept back, would join a second key as them (only in a program with a sign-in: see
    :func:`invitation_problem`)."""
    if state.sign_in is None:
        return
    for token, invitation in list(state.invitations.items()):
        if invitation.name == name and not invitation.another_key and not invitation.used:
            state.invitations[token] = replace(invitation, used=True)


def _seat(state: ProgramState, data: dict[str, Any], seq: int, *, service: bool) -> None:
    """Put the person an event describes on the roster as they are now, remembering every role
    they ever held and each stretch they held it, and when they last became a pilot user."""
    person = Person(
        name=str(data["name"]),
        email=data.get("email", ""),
        team=data.get("team", ""),
        # a service's key speaks for no person and holds no role: the API refuses one, and the
        # fold refuses it once a sign-in exists; one given before (around the API, or by an
        # older version) is void, or a service made a lead would be a lead nobody asks to sign
        # in, and its human would be free to lend their own account to an alias
        roles=frozenset() if service else frozenset(data.get("roles", [])),
        service=service,
    )
    before = state.people.get(person.name)
    state.people[person.name] = person
    state.roles_held[person.name] = state.roles_held.get(person.name, frozenset()) | person.roles
    since = state.role_since.setdefault(person.name, {})
    for role in person.roles:
        since.setdefault(role, seq)
    had = before.roles if before is not None else frozenset()
    spans = state.role_spans.setdefault(person.name, {})
    for role in person.roles - had:
        spans.setdefault(role, []).append((seq, None))
    for role in had - person.roles:
        gained, _ = spans[role][-1]
        spans[role][-1] = (gained, seq)
    if Role.PILOT_USER.value not in person.roles:
        state.pilot_entered.pop(person.name, None)
    elif before is None or Role.PILOT_USER.value not in before.roles:
        state.pilot_entered[person.name] = seq


def _apply_import(state: ProgramState, event: Event, data: dict[str, Any]) -> None:
    """An envelope another machine signed, brought in by whoever imported it: attributed to the
    envelope's signer (its signature was checked on import and is checked again by the audit)."""
    from inhouse.identity.envelopes import ENROLMENT_TYPE, read_statement

    statement = read_statement(data["envelope"])
    # the import command refuses these; an event appended around it is held to the same rules
    subject = (statement.get("subject") or [{}])[0]
    program = str(subject.get("digest", {}).get("sha256", ""))
    if state.program_id and program != state.program_id:
        raise ValueError(f"its envelope was signed for another program ({program[:12]})")
    if data["digest"] in state.imported:
        raise ValueError("its envelope was imported before: a replay")
    state.imported.add(data["digest"])
    predicate = statement["predicate"]
    key_id = data["key_id"]
    if statement["predicateType"] == ENROLMENT_TYPE:
        name, token = str(predicate["name"]), str(predicate["token_hash"])
        if key_id in state.keys:
            raise ValueError(f"it enrols key {key_id} again (it was {state.keys[key_id].person}'s)")
        if why := invitation_problem(state, name, token, event.at):
            raise ValueError(f"its enrolment of {name} came {why}")
        invitation = state.invitations[token]
        state.invitations[token] = replace(invitation, used=True)
        _void_spares(state, name)
        _enrol(state, event, {**predicate, "key_id": key_id}, invitation.by, invitation)
        return
    if state.person_of_key(key_id) is None:
        raise ValueError(
            f"its envelope was signed by key {key_id}, which nobody on the roster holds"
        )
    if (original := repeated_fact(state, key_id, predicate)) is not None:
        # the import command refuses it; appended around it (or imported before it did), it is
        # kept and not counted: stopping here would lose every honest event after it
        importer, _ = _signer(event, state)
        state.replayed.append(
            f"event {event.seq}: an envelope {importer} imported carries {original.by}'s "
            f"{original.kind}, fact {original.id} (recorded {original.at:%Y-%m-%d %H:%M:%S} "
            "UTC), again: a copy, not counted"
        )
        return
    fact = _readable_fact(
        state,
        Event(event.seq, event.at, event.actor, event.kind, {}, "", "", key_id, None),
        predicate["fact"],
    )
    if fact is None:
        return
    # the time sealed into it is its signer's clock, as an event's is: held to the log's floor
    # as of its import, or the lead seals her own fact with any date and carries it in. Every
    # signer, not only keys that had signed in by then: a key counts once it signs in, whenever
    # that is, so one that signs in after its envelopes came in would make them count with the
    # dates it chose. An outbox imported before two others wrote after it keeps its times, and
    # without the sign-in there is no floor
    sealed = _when(predicate.get("at")) or event.at
    at = _no_earlier_than_the_log(state, fact.by, sealed)
    state.facts.append(
        replace(fact, at=at, imported=True, sealed_at=sealed if at != sealed else None)
    )
    if at != sealed:
        # found by the time it was sealed with too (:func:`repeated_fact`): the same fact
        # sealed again, from another machine, is a copy however the log dated the first
        state.facts_by_at.setdefault(sealed, []).append(state.facts[-1])


def repeated_fact(state: ProgramState, key_id: str, predicate: dict[str, Any]) -> Fact | None:
    """The fact already in the log that an envelope signed by ``key_id`` (its ``predicate``: a
    fact and when it was recorded) carries again, or None: one signed by the same person (by
    any key of theirs, a dashboard session of theirs included), of the same kind and payload,
    recorded at the same moment (to the microsecond). An export re-seals a fact with exactly
    these; a fact recorded on another machine differs at least in its time, so an honest outbox
    imported once always counts. A time that is no ISO-8601 text raises ValueError/TypeError."""
    record = state.keys.get(key_id)
    at = _when(predicate.get("at"))
    data = predicate.get("fact")
    if record is None or at is None or not isinstance(data, dict):
        return None
    kind, payload = data.get("kind"), data.get("payload")
    for fact in state.facts[state.facts_indexed :]:
        state.facts_by_at.setdefault(fact.at, []).append(fact)
    state.facts_indexed = len(state.facts)
    for fact in reversed(state.facts_by_at.get(at, ())):
        if fact.kind != kind or fact.payload != payload or fact.key is None:
            continue
        holder = state.keys.get(fact.key)
        if holder is not None and holder.person == record.person:
            return fact
    return None


def _row(event: Event) -> Row:
    return Row(
        seq=event.seq,
        at=event.raw_at or format_time(event.at),
        actor=event.actor,
        kind=event.kind,
        payload=event.raw_payload or canonical_json(event.payload),
        prev_hash=event.prev_hash,
        hash=event.hash,
        signer=event.signer,
        signature=event.signature,
    )


#: the engine's own kinds; any other is a play package's (:class:`PackageEvent`)
_ENGINE_KINDS = frozenset(EventKind)


def apply(state: ProgramState, event: Event, playbook: Playbook | None = None) -> None:
    """Apply one event (the next in the chain) to ``state``, once it verifies: an edited,
    re-chained, stripped or forged event stops the fold there, whatever it says. With the
    program's ``playbook``, a play's start is held to its start guards again, as the API held
    it (:func:`_held_back`)."""
    state.head_seq = event.seq
    if state.tampered is not None:
        return
    state.verifier.keys.settle()  # the last event's lessons stand: it was folded
    learnt = _before_learning(state, event)
    problem = state.verifier.check(_row(event), event.payload)
    # verified, yet what it says could not be taken in (an envelope that does not open, an
    # enrolment naming no invitation for it, a kind its session may not sign): a member's is
    # set aside, anyone else's stops the fold here, as it did when the check refused it
    unlearnt = state.verifier.keys.take_unlearnt(event.seq) if problem is None else None
    if unlearnt is not None and _set_aside_unauthorized(state, event, unlearnt, None):
        return
    if unlearnt is not None:
        problem = (unlearnt, event.seq)
    if problem is None and _set_aside_malformed(state, event):
        return
    if problem is None and _exit_of_an_uncounted_acceptance(state, event):
        return
    if problem is None:
        try:
            why = _unauthorized(state, event) or _session_problem(state, event)
            if why is None and _decided_by_session_alone(state, event):
                return
            if why is None and playbook is not None:
                why = _start_problem(state, event, playbook)
            if why is not None and _set_aside_unauthorized(state, event, why, learnt):
                return
            if why is None:
                held = None if playbook is None else _held_back(state, event, playbook)
                places = None if playbook is None else _places(state, event, playbook)
                known = len(state.facts)
                first_exit = (
                    event.kind == EventKind.PLAY_EXITED
                    and event.payload.get("play") not in state.first_exited
                )
                _apply_verified(state, event)
                state.rules_seen = max(state.rules_seen, _rules_shown(event, state.facts[known:]))
                if event.kind == EventKind.HANDOFF_ACCEPTED:
                    state.rules_at_acceptance[str(event.payload["play"])] = state.rules_seen
                if playbook is not None and event.kind == EventKind.HANDOFF_ACCEPTED:
                    _lift_after_accepting_again(state, event, playbook)
                    _judge_at_acceptance(state, str(event.payload["play"]), event, playbook)
                state.pilot_member_facts += [
                    f for f in state.facts[known:] if f.kind == "pilot.member"
                ]
                if playbook is not None and event.kind == EventKind.PLAY_EXITED:
                    _no_first_exit_unmet(
                        state, str(event.payload["play"]), event, playbook, made_first=first_exit
                    )
                if held is not None and held.play is not None:
                    state.held_back[held.play] = held
                elif held is not None:
                    state.reach_held_back.append(held)
                if places and playbook is not None:
                    state.reach_held_back.extend(_left_pilot(state, event, playbook, places))
                if state.latest_at is None or event.at > state.latest_at:
                    state.latest_at = event.at
                by, _ = _signer(event, state)
                if by not in state.latest_at_by or event.at > state.latest_at_by[by]:
                    state.latest_at_by[by] = event.at
                if (account := _witness(state, by, event.signer)) is not None:
                    state.latest_writers = latest_writers(state.latest_writers, account, event.at)
                    if state.waivers_undated:
                        _date_waivers(state, by, account, event.at)
                return
        except (LookupError, TypeError, ValueError, AttributeError, SignInError) as err:
            # signed, yet not what the engine writes (a payload appended around the API): the
            # fold stops here, as at a bad signature, rather than take every command down
            why = f"event {event.seq} ({event.kind}) is malformed: {_malformed(event, err)}"
        problem = (why, event.seq)
    state.tampered = problem


def _malformed(event: Event, err: Exception) -> str:
    """What is wrong with ``event``, whose reading raised ``err``, naming the field where its
    shape says (a lead's waiver with a list for its expiry read "TypeError fromisoformat:
    argument must be str", naming no field), else the error as it is."""
    from inhouse.program.event_shapes import lead_event_problem

    if isinstance(err, SignInError):
        return f"{type(err).__name__} {err}"
    named = lead_event_problem(event.kind, event.payload)
    return named if named is not None else f"{type(err).__name__} {err}"


def _members_event(state: ProgramState, event: Event) -> str | None:
    """The member (one enrolled who is no rollout lead) who answers for ``event``, or None: where
    an enrolled, unrevoked key of theirs signed it; a dashboard session their own such key
    delegated to (the verifier checked the delegation: a session signs what its person's key
    let it, and that key's holder could sign both); or, for a key's own enrolment, where it
    joins with an invitation they made for a machine of their own (only they invite one). A
    member can make any of these alone, and what they make counts for nothing without the
    authority to make it: never a reason to stop the fold for everyone."""
    signer = event.signer or ""
    record = state.keys.get(signer)
    if record is None and signer in state.verifier.keys.delegated_by:
        record = state.keys.get(state.verifier.keys.delegated_by[signer])
    if record is None and event.kind == EventKind.PERSON_ENROLLED and event.signer is not None:
        record = _self_invited_by(state, event.payload)
    if record is None or not record.active:
        return None
    person = state.people.get(record.person)
    if person is None or "rollout-lead" in person.roles:
        return None
    return person.name


def _self_invited_by(state: ProgramState, data: Any) -> KeyRecord | None:
    """An active key of whoever made the invitation an enrolment (``data``) joins with, where
    they made it for a machine of their own (``another_key``, naming themselves)."""
    token = data.get("token_hash") if isinstance(data, dict) else None
    invitation = state.invitations.get(token) if isinstance(token, str) else None
    if invitation is None or not invitation.another_key or invitation.name != invitation.by:
        return None
    return next((k for k in state.keys_of(invitation.by) if k.active), None)


def _before_learning(state: ProgramState, event: Event) -> list[Callable[[], None]] | None:
    """Before a member's event the signature check may learn keys from (an invitation, a
    revocation, an enrolment, an import), or a key's own enrolment by a key on nobody's
    roster: what it learns from it, remembered to be undone if the fold sets it aside (an undo
    per change: no copy of what it knew)."""
    from inhouse.program.integrity import LEARNT_FROM

    if event.kind not in LEARNT_FROM:
        return None
    if not _own_enrolment(state, event) and _members_event(state, event) is None:
        return None
    return state.verifier.keys.learnt()


def _own_enrolment(state: ProgramState, event: Event) -> bool:
    """Whether ``event`` is a key's own enrolment signed by a key on nobody's roster yet (no
    session's): nobody the fold knows answers for it but whoever made its invitation."""
    signer = event.signer
    return (
        event.kind == EventKind.PERSON_ENROLLED
        and signer is not None
        and signer not in state.keys
        and signer not in state.verifier.keys.delegated_by
        and isinstance(event.payload, dict)
        and not event.payload.get("service")
    )


def _nobodys(state: ProgramState, event: Event) -> str | None:
    """Who could have made ``event`` where nobody on the roster answers for it, or None: it is
    unsigned after identities began, signed by a key no enrolment names (or one revoked, or a
    session no enrolled key let act: :attr:`~inhouse.program.integrity._Keys.nobodys`), or a
    key's own enrolment by a key on nobody's roster, which its invitation does not let in.
    Anyone who writes the store can make one, so it is set aside, named, never counted, and
    the fold goes on: stopping there let any writer of the store (a member with the database's
    password) freeze the program for everyone, and a colleague whose join was set aside (by
    an inhouse from before a check it lacks) froze it with his next signed event."""
    if (who := state.verifier.keys.nobodys_at(event.seq)) is not None:
        return who
    if _own_enrolment(state, event):
        return (
            f"signed by key {event.signer}, on nobody's roster, enrolling itself: whoever holds "
            "its invitation, or anyone who writes the store (the log shows the invitation's "
            "hash), made it"
        )
    return None


def _set_aside_unauthorized(
    state: ProgramState, event: Event, why: str, learnt: list[Callable[[], None]] | None
) -> bool:
    """Whether ``event``, verified, which its signer had no authority to make (``why``), is set
    aside rather than stop the fold: where a member who is no rollout lead answers for it
    (:func:`_members_event`: their own key, a session it delegated to, a key's own enrolment on
    their invitation for a machine of their own). It never counts, the signature check forgets
    what it learnt from it (``learnt``), ``status`` names it, and ``audit verify`` reports it
    (the log holds a forgery attempt); every other command goes on. Stopping the fold there, as
    once, let any member freeze the program for everyone with one appended event. One nobody
    on the roster signed (:func:`_nobodys`) is set aside too, as nobody's. A lead's still stops
    the fold: the lead holds the program's authority, and what she writes others build on (an
    unsigned one from before identities is held to nothing). No exit's verdict moves: an event
    that stopped the fold counted for nothing, as one set aside does, and nothing could be
    recorded after it."""
    member = _members_event(state, event)
    nobody = _nobodys(state, event) if member is None else None
    if member is None and nobody is None:
        return False
    if learnt is not None:
        state.verifier.keys.forget(learnt)
    if nobody is not None:
        why = f"{why}; {nobody}"
    elif member is not None and (also := _who_could_have(state, event, member)):
        why = f"{why}; {also}"
    state.unauthorized.append(
        (event.seq, f"{why}; not counted: a forgery attempt, which `inhouse audit verify` reports")
    )
    return True


def _who_could_have(state: ProgramState, event: Event, member: str) -> str:
    """Who else could have made ``event``, set aside as ``member``'s (:func:`_members_event`),
    as its warning says it: "" where ``member``'s own key signed it. A dashboard session's
    key is held by the dashboard's host as well (a lead running ``inhouse web`` signs with it
    alone until it expires), and a key's own enrolment is signed by a key on nobody's roster,
    joining on an invitation whose hash the log shows to whoever writes the store: naming the
    member alone would blame them for what someone else may have done."""
    signer = event.signer or ""
    record = state.keys.get(signer)
    if record is not None:
        person = state.people.get(record.person)
        if person is not None and person.service:
            return f"signed with the {member}'s key, which its host holds: whoever runs it made it"
        return ""
    if signer in state.verifier.keys.delegated_by:
        return (
            f"made through {member}'s dashboard session, key {signer}: the dashboard's host "
            f"held that key too, so {member} or whoever hosts the dashboard made it"
        )
    return (
        f"signed by key {signer}, on nobody's roster, joining on {member}'s invitation for a "
        f"machine of their own, whose hash the log shows: {member} or anyone who writes the "
        "store made it"
    )


def _set_aside_malformed(state: ProgramState, event: Event) -> bool:
    """Whether ``event``, verified, is not what inhouse writes (:func:`~inhouse.program.
    event_shapes.event_problem`: a payload that is no object, a field missing or of a type
    inhouse never writes) and is dealt with here. A member's (one whose signer is no rollout
    lead) is set aside, never counted, and ``status`` names it: its signer had no authority to
    make such an event count, and stopping the fold there, as once, let any enrolled member
    freeze the program for everyone with one event. A lead's stops the fold (``tampered``
    names the event, its kind and the field): the lead holds the program's authority, and what
    she writes others build on. An unsigned, older log's is left to the fold, as before."""
    from inhouse.program.event_shapes import event_problem

    why = event_problem(event.kind, event.payload)
    if why is None:
        return False
    nobody: str | None = None
    who, signed = _signer(event, state)
    person = state.people.get(who)
    if not signed or (person is not None and "rollout-lead" in person.roles):
        # a key's own enrolment is signed by a key nobody holds yet: its invitation tells
        member = _members_event(state, event) if event.kind == EventKind.PERSON_ENROLLED else None
        nobody = _nobodys(state, event) if member is None else None
        if nobody is not None:
            who = f"nobody on the roster ({nobody})"
        elif member is None and signed:
            # a lead's stops the fold here, read as the error it is, naming the field: taken
            # in as Python reads it, roles given as the text "pilot-user" made a roster of
            # one-letter roles, silently
            state.tampered = (f"event {event.seq} ({event.kind}) is malformed: {why}", event.seq)
            return True
        elif member is None:
            return False
        else:
            who = member
    if nobody is None and (also := _who_could_have(state, event, who)):
        who = f"{who} ({also})"
    state.malformed.append(
        f"event {event.seq} ({event.kind}) by {who} is not what inhouse writes: {why}; it was "
        "made around inhouse's API and is not counted"
    )
    return True


def _decided_by_session_alone(state: ProgramState, event: Event) -> bool:
    """Whether ``event`` is a handoff decision a dashboard session signed without its person's
    own approval (:mod:`inhouse.identity.approval`), or the exit such an acceptance wrote
    beside it: logs from before approvals hold them. The session's host could have signed
    them alone, so they do not count (the handoff stays offered, and ``status`` says why);
    nothing in the log is lost. A decision signed since carries its approval or is refused."""
    from inhouse.program.integrity import needs_approval

    signer, data = event.signer, event.payload
    if signer is None or signer not in state.verifier.keys.delegated or "delegation" not in data:
        return False
    if event.kind not in (EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_REJECTED):
        return False
    if "approval" in data or not needs_approval(event.kind, data):
        return False
    person = state.verifier.keys.delegated.get(signer, event.actor)
    play = str(data.get("play", ""))
    decided = "acceptance" if event.kind == EventKind.HANDOFF_ACCEPTED else "rejection"
    state.unapproved.append(
        f"event {event.seq}: {person}'s {decided} of the handoff of {play} was signed by a "
        f"dashboard session without {person}'s own approval, so it does not count (the "
        f"dashboard's host could have signed it alone): {person} decides again"
    )
    if event.kind == EventKind.HANDOFF_ACCEPTED:
        state.unapproved_exit[play] = signer
        state.uncounted_acceptances[play] = (person, event.seq)
    return True


def _lift_after_accepting_again(state: ProgramState, event: Event, playbook: Playbook) -> None:
    """After ``event``, an acceptance of a play's handoff that counts: where its receiver's
    earlier acceptance through a dashboard session did not count (written before approvals,
    :func:`_decided_by_session_alone`) and the next play started after it, that start is no
    longer held back for want of an accepted handoff. In a program from before approvals the
    receiver accepted, started the next play, and now accepts again with their own key, as
    ``status`` asks: the handoff is accepted, by them."""
    from inhouse.program.guards import Guard

    play = str(event.payload.get("play", ""))
    who, _ = _signer(event, state)
    earlier = state.uncounted_acceptances.pop(play, None)
    known = earlier is not None and earlier[0] == who and play in playbook.ids
    following = playbook.next(play) if known else None
    held = state.held_back.get(following.id) if following is not None else None
    if earlier is None or following is None or held is None or held.seq < earlier[1]:
        return
    left = tuple(b for b in held.blockers if b[0] != Guard.BOTCHED_HANDOFF.value)
    if left:
        state.held_back[following.id] = replace(held, blockers=left)
    else:
        del state.held_back[following.id]


def _exit_of_an_uncounted_acceptance(state: ProgramState, event: Event) -> bool:
    """Whether ``event`` is the exit a session's uncounted acceptance wrote beside it
    (:func:`_decided_by_session_alone`): it does not count either."""
    if event.kind != EventKind.PLAY_EXITED or event.signer is None:
        return False
    play = str(event.payload.get("play", ""))
    if state.unapproved_exit.get(play) != event.signer:
        return False
    del state.unapproved_exit[play]
    return True


#: the guard of a held-back action whose guards failed to run (a check that raised): any
#: waiver for that action puts it on the record
UNCHECKED = "unchecked"


def judging_time(state: ProgramState, who: str, at: datetime) -> datetime:
    """When ``who``'s guarded action written at ``at`` is judged, by the fold and the API
    alike: at ``at``, but no earlier than ``who``'s own latest event before it, nor than the
    log's floor (:func:`log_floor`: ten minutes before what two other signed-in accounts had
    written), which facts and handoff decisions are held to as well. An event's time is its
    writer's clock: a start backdated into a waiver's life, or to before a fact expired, by a
    lead who wrote nothing meanwhile would otherwise be judged then, however far the log had
    moved on. One other writer's clock, ahead or behind, moves nothing."""
    return max(t for t in (at, state.latest_at_by.get(who), _floor_of(state, who)) if t)


def _date_waivers(state: ProgramState, writer: str, account: str, at: datetime) -> None:
    """Hold each waiver granted where the log shows
    :data:`~inhouse.program.checks.WAIVER_LOG_TIME` in force to the time two other signed-in
    accounts wrote at after it (``writer``, signed in as ``account``, has just written at
    ``at``; an account its grantor wrote with is never another's): it was granted before
    they wrote, so a grant dated later than :data:`LOG_SKEW` after the second of them is its
    grantor's clock set forward, and its life (as long as it was) counts from there. The floor
    only pulls a judgement later: a waiver dated in 2999 by a clock set forward once, then back,
    would cover every action its grantor dated after it (each judged no earlier than her own
    latest event, the waiver itself), for good. One other writer's clock moves nothing."""
    for seq, (grantor, hers, seen) in list(state.waivers_undated.items()):
        if writer == grantor or account in hers:
            # an account its grantor writes with is hers, whenever she signed in with it: a
            # lead who granted before the sign-in was set up (no account of hers then) and
            # signed in after, clock still forward, would otherwise be one of the two "others"
            hers.add(account)
            seen.pop(account, None)
            continue
        seen[account] = min(at, seen.get(account, at))
        if len(seen) < 2:
            continue
        del state.waivers_undated[seq]
        by = sorted(seen.values())[1] + LOG_SKEW
        for i, waiver in enumerate(state.waivers):
            if waiver.seq == seq and waiver.granted_at > by:
                life = max(waiver.expires - waiver.granted_at, timedelta(0))
                state.waivers[i] = replace(waiver, granted_at=by, expires=by + life)


def _unwaived(
    state: ProgramState, at: datetime, play: str | None, judge: Callable[[], list[Blocker]]
) -> tuple[tuple[str, str | None, str], ...]:
    """(guard, play, why) for each blocker ``judge`` finds that no waiver active at ``at``
    covers; a guard that raised is shown as ``unchecked`` rather than stopping the fold."""
    from inhouse.program import counting

    try:
        blockers = judge()
    except Exception as err:  # a check that fails must not stop the fold: it is shown instead
        return ((UNCHECKED, play, f"its guards could not be checked again ({err!r})"),)
    else:
        return tuple(
            (b.guard.value, b.play, b.message)
            for b in blockers
            if not any(w.covers(b.guard, b.play, at) for w in state.waivers)
        )
    finally:
        counting.forget(state)  # judged halfway through an event: not the state after it


def _held_back(state: ProgramState, event: Event, playbook: Playbook) -> HeldBack | None:
    """The guards that held this action back at its place in the log (the state before it,
    the time it was written) and that no waiver active then covered: what the API would have
    refused. Two kinds of event are guarded: a play's start (its start guards) and someone
    given the pilot-user role, by a role change or an invitation, or access by a play package's
    event (:data:`~inhouse.program.guards.WIDENING_EVENTS`: a gateway key's grant), against the
    reach guards. An action is judged when it is folded, not trusted because the API writes it only
    after its guards: anyone can append a signed event around the API. It is shown (status;
    no handoff is offered meanwhile), not a stop of the fold: the guards rest on checks, which
    a later version of inhouse may judge differently, and a log the API wrote must still fold
    then."""
    from inhouse.program.guards import (
        WIDENING_EVENTS,
        inside_by_role,
        reach_blockers,
        reach_label,
        reach_of,
        start_blockers,
    )

    data = event.payload
    play: str | None = None
    reach = Reach.PILOT
    if event.kind == EventKind.PLAY_STARTED:
        play = str(data["play"])
        if not believed_runs_by(state, playbook) or all(p.id != play for p in playbook.plays):
            return None  # another playbook's play (status says the playbook changed)
        action = f"start play {playbook.number(play)} ({play})"
    elif event.kind in (EventKind.PERSON_ADDED, EventKind.PERSON_CHANGED, EventKind.PERSON_INVITED):
        name = str(data["name"])
        person = state.people.get(name)
        kept = person is not None and event.kind != EventKind.PERSON_INVITED
        before = set(person.roles) if person is not None and kept else set()
        if Role.PILOT_USER.value not in set(data.get("roles") or ()) - before:
            return None
        action = f"add {name} to the pilot"
    elif event.kind in WIDENING_EVENTS:
        whose, what = WIDENING_EVENTS[event.kind]
        name = str(data.get(whose))
        reach = reach_of(playbook, state, name)
        action = f"{what.format(name=name)} ({reach_label(playbook, state, name, reach)})"
        if reach is Reach.PILOT and not inside_by_role(playbook, state, name):
            state.let_in.setdefault(name, event.seq)  # one of the pilot by being let in
    else:
        return None
    who, _ = _signer(event, state)
    at = judging_time(state, who, event.at)
    found = _unwaived(
        state,
        at,
        play,
        lambda: (
            start_blockers(playbook, playbook.play(play), state, at)
            if play is not None
            else reach_blockers(playbook, reach, state, at)
        ),
    )
    if not found:
        return None
    return HeldBack(action=action, seq=event.seq, by=who, blockers=found, play=play)


def runs_by(state: ProgramState, playbook: Playbook, *, versioned: bool = False) -> bool:
    """Whether ``playbook`` is the one the program was created with: the same name (and, where
    ``versioned``, version), or one that decides exactly what it decided (its rules' hash, which
    leaves out names and wording, is the one recorded at creation). A copy of the program's
    playbook saved under another name is the same playbook: renaming it must not stop the
    fold from judging starts and exits by it (a start held back by its guards would go
    unshown)."""
    if state.playbook == playbook.name and (
        not versioned or state.playbook_version == playbook.version
    ):
        return True
    return bool(state.playbook_rules) and state.playbook_rules == playbook.rules()


def _judge_at_acceptance(
    state: ProgramState, play_id: str, event: Event, playbook: Playbook
) -> None:
    """Judge play ``play_id``'s exit checks at ``event``, its acceptance, for the exit event
    that follows it (:func:`_no_first_exit_unmet`). The exit is marked at its acceptance, and
    the API judges the checks before writing both; an exit event is its receiver's to write
    later, after more evidence, or dated back. Judged here, an acceptance made before the
    evidence existed exits nothing (else one person accepts her own play while its checks fail,
    gathers the evidence, appends the exit, and every window counted from the exit opens at the
    acceptance), and no exit is set aside for a fact recorded after its acceptance. It is judged
    as the exit it is about to make, marked here: sparing what such an exit can spare (every
    fact by the acceptance, under the fewest rules the log's exits said), which its exit event
    can only narrow."""
    if play_id in state.first_exited or all(p.id != play_id for p in playbook.plays):
        return
    at = state.handoffs[play_id].decided_at
    assert at is not None  # an acceptance that counts is dated
    state.first_exited[play_id] = (at, event.seq)
    if rules := max(state.rules_said, state.rules_seen):
        state.first_rules[play_id] = rules
    try:
        state.judged_at_acceptance[play_id] = _exit_unmet(state, play_id, playbook, at, event)
    finally:
        del state.first_exited[play_id]
        state.first_rules.pop(play_id, None)


def _exit_unmet(
    state: ProgramState, play_id: str, playbook: Playbook, at: datetime, event: Event
) -> tuple[bool, str] | None:
    """Whether play ``play_id``'s exit checks did not hold at ``at`` on ``state`` (None: they
    held, or could not be judged), and if so, whether its exit is kept even so (a playbook of
    the organisation's own, revised since: :func:`_no_first_exit_unmet`) and why they did not
    hold. Its acceptance ``event`` names none of the facts where they are not those of the
    evidence its hash is of (:func:`_named_apart`)."""
    from inhouse.program import counting
    from inhouse.program.evaluation import exit_results

    play = playbook.play(play_id)
    number = playbook.number(play_id)
    try:
        checked = exit_results(play, state, at)
    except Exception:  # a check that fails must not stop the fold, nor set an exit aside
        return None
    finally:
        counting.forget(state)  # judged halfway through an event
    _named_apart(state, play_id, event, checked)
    if _held_or_unjudged(checked):
        return None
    claimed = _claimed(state, playbook)
    if claimed:
        # created with an earlier release of the shipped playbook: judged by its rules (an
        # honest exit the API accepted then may fail today's), kept only where they held
        if any(_held_under(book, play_id, state, at) for book in claimed):
            return None
        return False, (
            f"play {number} ({play_id})'s exit checks did not hold then, neither as the "
            f"playbook loaded now ({playbook.name} v{playbook.version}) decides them nor as "
            f"{state.playbook} v{state.playbook_version}, which the program was created "
            "with, did"
        )
    if claimed is not None:
        return False, (
            f"play {number} ({play_id})'s exit checks did not hold then, as the playbook "
            "loaded now decides them (the program's claim to have been created with other "
            "rules names none that inhouse shipped, so it spares nothing)"
        )
    if not _created_with(state, playbook):
        # a playbook of the organisation's own, revised since: its earlier rules are its
        # lead's to keep, and an honest exit under them may fail the revision's
        return True, (
            f"its exit checks, as the playbook loaded now ({playbook.name} "
            f"v{playbook.version}) decides them, did not hold then"
        )
    return False, f"play {number} ({play_id})'s exit checks did not hold then"


def _named_apart(
    state: ProgramState, play_id: str, event: Event, checked: list[CheckedRef]
) -> None:
    """An acceptance (``event``) names the facts its exit spares (``evidence``) beside the hash
    of the evidence it saw; its receiver can read neither against the other, and through a
    dashboard session the dashboard's host, the lead the exit judges, types both. Where the
    exit's checks judged at the acceptance (``checked``) are the evidence its hash is of, the
    list must be that evidence's facts: one naming others names none (its exit spares nothing),
    and status says why. A hash of other evidence is left to the staleness the next play's
    start is refused for."""
    from inhouse.program.evaluation import cited, seen_as

    handoff = state.handoffs[play_id]
    named = handoff.accepted_evidence
    seen = seen_as(checked, handoff.accepted_hash)
    # the facts as the fold judges them, or as the rule before did (the hash may be of either)
    if (
        named is None
        or seen is None
        or named in (frozenset(cited(seen)), frozenset(cited(checked)))
    ):
        return
    state.handoffs[play_id] = replace(handoff, accepted_evidence=frozenset())
    by, _ = _signer(event, state)
    state.unnamed_exits.append(
        f"play {play_id}'s acceptance (event {event.seq}, by {by}) names facts its evidence "
        f"hash is not of ({_ids(named)}, where that evidence rests on {_ids(cited(seen))}): "
        "what its receiver approved was not one list, so it names none, and no earlier rule is "
        "kept for its exit"
    )


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(f"#{n}" for n in sorted(ids)) or "none"


def _no_first_exit_unmet(
    state: ProgramState, play_id: str, event: Event, playbook: Playbook, *, made_first: bool
) -> None:
    """A play's exit marks its first exit only where the play really exited then: its exit
    checks held at its acceptance (judged there: :func:`_judge_at_acceptance`), and it was not
    handed by its owner to himself where the next needs another owner
    (:func:`~inhouse.program.guards.handed_to_itself`). The API refuses both; appended around
    it, such an acceptance exits nothing, and windows counted from a play's first exit
    (widening demand, use beyond the pilot) open at the real exit, not at this. ``status``
    names each exit set aside so (:attr:`ProgramState.unmet_exits`).

    Exits are judged again by the rules the program was created with (a playbook revised since
    would re-judge, by its new parameters, exits the API accepted under the old): where the
    loaded playbook is one inhouse ships and the program was created with an earlier release of
    it, by that release's rules too (kept as data, :func:`~inhouse.program.playbook.
    earlier_shipped`), the exit standing where either held; where the program's first event
    (its lead's to write) names rules no release shipped, by the loaded one's alone
    (:func:`claim_disbelieved`). Only a playbook of the organisation's own, revised since, keeps
    an exit its loaded rules find unmet (its earlier rules are its lead's to say), and
    ``status`` names each (:attr:`ProgramState.kept_exits`). A check that could not be judged
    (an error, a plugin's check this process lacks) sets no exit aside by itself: only exits that
    did not hold are, and one whose other checks failed did not (:func:`_held_or_unjudged`)."""
    from inhouse.program.guards import handed_to_itself

    first = state.first_exited.get(play_id)
    # kept, not taken: every exit event after the acceptance is judged by it (a second one,
    # appended after the first was set aside, is no first exit either)
    judged = state.judged_at_acceptance.get(play_id)
    if first is None or not made_first:
        return
    if all(p.id != play_id for p in playbook.plays):
        return
    play = playbook.play(play_id)
    number = playbook.number(play_id)
    exited = f"event {event.seq} records play {number} ({play_id}) as exited"
    if first[1] != event.seq:
        exited += f" on its acceptance (event {first[1]})"
    if believed_runs_by(state, playbook) and handed_to_itself(playbook, play, state):
        why = f"play {number} ({play_id}) was handed by its owner to himself"
    elif judged is None:
        return
    elif judged[0]:
        # kept, but said: changing the playbook must not hide an exit appended around the API
        # with nothing behind it
        state.kept_exits.append(
            f"{exited}, though {judged[1]}; the program was created with other rules, so the "
            "exit stays its first and what counts from it starts there: check that this play "
            "was handed on as those rules asked"
        )
        return
    else:
        why = judged[1]
    del state.first_exited[play_id]
    state.first_judged.pop(play_id, None)
    state.first_rules.pop(play_id, None)
    state.unmet_exits.append(
        f"{exited}, but {why} (appended around the API, which refuses it): it did not exit "
        "there, and nothing counted from its exit starts there"
    )


def believed_runs_by(state: ProgramState, playbook: Playbook) -> bool:
    """:func:`runs_by`, where the program's claim to have been created with another playbook
    than the shipped one loaded is believed: one that no release of inhouse shipped buys
    nothing (:func:`claim_disbelieved`)."""
    return runs_by(state, playbook) or _claimed(state, playbook) == []


def _claimed(state: ProgramState, playbook: Playbook) -> list[Playbook] | None:
    """The rules a program was created with, as far as they decide how it is judged: None
    where they are the loaded playbook's, or the loaded playbook is the organisation's own (its
    earlier rules, and so its claim, are its lead's to keep). Otherwise the loaded playbook is
    one inhouse ships, and the program's first event (its lead's to write) names other rules:
    each release of inhouse that created programs with them, or none where no release did
    (a version it never shipped, rules that version never decided, another playbook's name),
    and the claim is not believed: the program is judged as created with the loaded one."""
    if _created_with(state, playbook) or not _ships(playbook):
        return None
    return earlier_shipped(state.playbook, state.playbook_version, state.playbook_rules) or []


def _ships(playbook: Playbook) -> bool:
    """Whether ``playbook`` is one inhouse ships: loaded by its name, or from a file under its
    name (which must decide what it decides, so is the same playbook)."""
    return playbook.shipped or bool(
        earlier_shipped(playbook.name, playbook.version, playbook.rules())
    )


def claim_disbelieved(state: ProgramState, playbook: Playbook) -> str | None:
    """What ``status`` says of a program whose first event claims it was created with rules no
    release of inhouse shipped, while it loads a shipped playbook (None: nothing to say)."""
    if _claimed(state, playbook) != []:
        return None
    return _disbelieved(state, playbook)


def _disbelieved(state: ProgramState, playbook: Playbook) -> str:
    rules = f" (rules {state.playbook_rules})" if state.playbook_rules else " (no rules recorded)"
    shipped = earlier_shipped(state.playbook, state.playbook_version, "") is not None
    what = (
        "which no release of inhouse shipped under that version and those rules"
        if shipped
        else f"whose rules inhouse cannot read, while it loads {playbook.name}, which inhouse ships"
    )
    return (
        f"the program's first event says it was created with playbook {state.playbook} "
        f"v{state.playbook_version}{rules}, {what}: that event is its lead's to write, so it "
        f"is judged as created with the playbook loaded now ({playbook.name} "
        f"v{playbook.version}), and an exit appended around the API counts only where that "
        "playbook's exit checks held"
        + (
            ""
            if shipped
            else " (to have it judged by a playbook of the organisation's own, load that one: "
            "`playbook =` in inhouse.toml)"
        )
    )


def _held_under(book: Playbook, play_id: str, state: ProgramState, at: datetime) -> bool:
    """Whether play ``play_id``'s exit checks, as ``book`` (an earlier release) decides them,
    held at ``at``, or could not be judged (a play or check it has that this process lacks,
    an error): only an exit that did not hold is set aside."""
    from inhouse.program import counting
    from inhouse.program.evaluation import exit_results

    if all(p.id != play_id for p in book.plays):
        return True
    try:
        checked = exit_results(book.play(play_id), state, at)
    except Exception:  # a check that fails must not stop the fold, nor set an exit aside
        return True
    finally:
        counting.forget(state)
    return _held_or_unjudged(checked)


def _held_or_unjudged(checked: list[Any]) -> bool:
    """Whether exit checks held, or could not be judged: a check this process lacks (a
    plugin's, or one an earlier release's rules name) and none of the others failed. A check
    that failed says the exit did not hold, whatever one that could not be judged would have
    said. A registered check that erred did not hold either: a playbook naming a check nobody
    registered is refused when it loads, so such an error is a check raising on the facts it
    read, which the judged person can make it do (a fact of their own, appended around the API
    without a field it reads); excused, an exit appended around the API with every check that
    needs someone else made to raise would stand as the play's first exit, and every rule kept
    for programs whose play exited would open to it."""
    from inhouse.program.checks import Outcome, registry
    from inhouse.program.evaluation import satisfied

    if satisfied(checked):
        return True

    def lacked(item: Any) -> bool:
        return item.result.outcome is Outcome.ERROR and item.ref.check not in registry

    return any(lacked(item) for item in checked) and all(
        item.result.outcome.satisfied or lacked(item) for item in checked
    )


def _created_with(state: ProgramState, playbook: Playbook) -> bool:
    """Whether ``playbook`` decides exactly what the one the program was created with decided
    (its rules' hash; for a program created before that hash was recorded, its name and
    version)."""
    if state.playbook_rules:
        return state.playbook_rules == playbook.rules()
    return state.playbook == playbook.name and state.playbook_version == playbook.version


def _named_in(event: Event) -> str | None:
    """Whom an event may take out of the pilot: the person a roster event describes, or the
    person a ``pilot.member`` fact names (recorded, or imported in an envelope)."""
    kind, data = event.kind, event.payload
    if kind in (EventKind.PERSON_CHANGED, EventKind.PERSON_ADDED) or (
        kind == EventKind.PERSON_INVITED and not data.get("another_key")
    ):
        return str(data.get("name"))
    fact: Any = None
    if kind == EventKind.FACT_RECORDED:
        fact = data
    elif kind == EventKind.EVIDENCE_IMPORTED:
        from inhouse.identity.envelopes import read_statement

        try:
            fact = (read_statement(data["envelope"]).get("predicate") or {}).get("fact")
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
    if isinstance(fact, dict) and fact.get("kind") == "pilot.member":
        payload = fact.get("payload")
        return str(payload.get("person")) if isinstance(payload, dict) else None
    return None


def _places(state: ProgramState, event: Event, playbook: Playbook) -> dict[str, Reach] | None:
    """Before an event that may take someone out of the pilot (their role changed, the pilot's
    list changed for them), how far their access reaches, where they hold some open. Only the
    person the event names is asked: the first listing of a pilot never listed takes its
    earlier members' keys out of nobody's hands (their grants were judged when made)."""
    from inhouse.program.guards import access_holders, reach_of

    name = _named_in(event)
    if name is None or name not in state.people or name not in access_holders(state):
        return None
    return {name: reach_of(playbook, state, name)}


def _left_pilot(
    state: ProgramState, event: Event, playbook: Playbook, places: dict[str, Reach]
) -> list[HeldBack]:
    """Those an event took out of the pilot while access granted to them in it stays open:
    their access now reaches beyond the pilot, so it answers to the skipping-play-five guard,
    judged as a grant to them would be now (no waiver covering it: held back, and their keys
    are not served). ``inhouse pilot remove`` revokes their keys first, so only a removal
    appended around it, or a role taken away by hand, leaves access open."""
    from inhouse.program.guards import reach_blockers, reach_of

    now = {name: reach_of(playbook, state, name) for name in places}
    back = {name for name, reach in places.items()
            if reach is Reach.BEYOND_PILOT and now[name] is not Reach.BEYOND_PILOT}  # fmt: skip
    if back:  # inside again (listed anew): what they kept on leaving is theirs again
        state.reach_held_back = [h for h in state.reach_held_back if h.person not in back]
    moved = [
        name
        for name, reach in places.items()
        if reach is not Reach.BEYOND_PILOT and now[name] is Reach.BEYOND_PILOT
    ]
    if not moved:
        return []
    who, _ = _signer(event, state)
    at = judging_time(state, who, event.at)
    found = _unwaived(
        state, at, None, lambda: reach_blockers(playbook, Reach.BEYOND_PILOT, state, at)
    )
    if not found:
        return []
    return [
        HeldBack(
            action=f"take {name} out of the pilot, the gateway access granted to them in it "
            "left open (beyond-pilot)",
            seq=event.seq,
            by=who,
            blockers=found,
            person=name,
        )
        for name in moved
    ]


def _start_problem(state: ProgramState, event: Event, playbook: Playbook) -> str | None:
    """What the API refuses of a play's start beyond who may start it
    (:func:`_unauthorized_play_event`), where it takes the playbook to tell: an owner other
    than the person who accepted the previous play's handoff (the handoff names who builds on
    it), or one who is not on the roster or lacks the play's owner role. A start appended
    around the API with such an owner stops the fold, as any forged event does; the API has
    refused each since its first version, so no log it wrote holds one."""
    if event.kind != EventKind.PLAY_STARTED:
        return None
    who, signed = _signer(event, state)
    play_id = str(event.payload["play"])
    if not signed or not runs_by(state, playbook) or all(p.id != play_id for p in playbook.plays):
        return None  # before identities, or another playbook's play
    owner = str(event.payload["owner"])
    number = playbook.number(play_id)
    where = (
        f"event {event.seq} (play.started) was signed by {who}: it starts play {number} for {owner}"
    )
    previous = playbook.previous(play_id)
    handoff = state.handoffs.get(previous.id) if previous is not None else None
    if handoff is not None and handoff.status == "accepted" and handoff.to != owner:
        # whichever version of its playbook the program was created with (its first event,
        # which names it, is its lead's to write): the API refused this in every version
        return (
            f"{where}, but {handoff.to} accepted play {number - 1}'s handoff: the play is "
            f"{handoff.to}'s to start"
        )
    if not runs_by(state, playbook, versioned=True) and not (
        state.playbook == playbook.name and _claimed(state, playbook) == []
    ):
        # another version's play: a start the API wrote under that version's owner roles must
        # still fold (status says it changed). A version no release shipped under the rules
        # claimed wrote none: its claim spares nothing
        return None
    person = state.people.get(owner)
    if person is None:
        return f"{where}, who is not on the roster"
    role = playbook.play(play_id).owner.role.value
    if role not in person.roles:
        return f"{where}, who is no {role} (the play's owner role)"
    return None


def _apply_verified(state: ProgramState, event: Event) -> None:
    data = event.payload
    kind = event.kind
    if event.signer is not None and state.first_signed_seq is None:
        state.first_signed_seq = event.seq
    if kind == EventKind.PROGRAM_CREATED:
        state.name = data["name"]
        state.lead = data["lead"]
        state.playbook = data["playbook"]
        state.playbook_version = int(data["playbook_version"])
        state.playbook_rules = str(data.get("playbook_rules") or "")
        state.created_at = event.at
        state.program_id = event.hash
        state.demo = bool(data.get("demo", False))
    elif kind in (EventKind.PERSON_ADDED, EventKind.PERSON_CHANGED):
        before = state.people.get(data["name"])
        _seat(state, data, event.seq, service=before.service if before is not None else False)
    elif kind == EventKind.PERSON_INVITED:
        by, _ = _signer(event, state)
        expires = _when(data["expires"])
        assert expires is not None
        state.invitations[data["token_hash"]] = Invitation(
            seq=event.seq,
            name=data["name"],
            token_hash=data["token_hash"],
            by=by,
            expires=expires,
            another_key=bool(data.get("another_key", False)),
            join_key=data["join_key"] if isinstance(data.get("join_key"), str) else None,
            signer=state.verifier.keys.delegated_by.get(event.signer or "", event.signer),
        )
        if not data.get("another_key"):
            _seat(state, data, event.seq, service=bool(data.get("service", False)))
    elif kind == EventKind.PERSON_ENROLLED:
        token = str(data.get("token_hash") or "")
        invitation = state.invitations.get(token)
        if invitation is not None:
            state.invitations[token] = replace(invitation, used=True)
        invited_by = invitation.by if invitation is not None else data.get("enrolled_by")
        if not data.get("service"):
            _void_spares(state, str(data["name"]))
        # a service's enrolment is signed by the lead who vouches for it: its key is the payload's
        key_id = data["key_id"] if data.get("service") else event.signer or data["key_id"]
        _enrol(state, event, {**data, "key_id": key_id}, invited_by, invitation)
        if data.get("service"):
            for old in data.get("supersedes") or ():
                record = state.keys.get(str(old))
                if record is not None and record.person == data["name"] and record.active:
                    state.keys[str(old)] = replace(
                        record, superseded_by=str(key_id), superseded_seq=event.seq
                    )
    elif kind == EventKind.KEY_REVOKED:
        record = state.keys.get(data["key_id"])
        if record is not None:
            by, _ = _signer(event, state)
            state.keys[data["key_id"]] = replace(
                record, revoked_at=event.at, revoked_seq=event.seq, revoked_by=by
            )
    elif kind == EventKind.EVIDENCE_IMPORTED:
        _apply_import(state, event, data)
    elif kind == EventKind.HYPOTHESIS_RECORDED:
        statement = data.get("statement")
        said = {
            "kind": "hypothesis",
            "version": FACT_KINDS["hypothesis"].version,
            "payload": {k: v for k, v in data.items() if k != "on_behalf_of"},
            "provenance": Provenance.ATTESTED.value,
            "comment": statement if isinstance(statement, str) else None,
            "on_behalf_of": data.get("on_behalf_of"),
        }
        if (fact := _readable_fact(state, event, said)) is not None:
            state.facts.append(fact)
    elif kind == EventKind.FACT_RECORDED:
        if (fact := _readable_fact(state, event, data)) is not None:
            state.facts.append(fact)
    elif kind in (EventKind.SIGN_IN_SET_UP, EventKind.PERSON_SIGNED_IN):
        _apply_sign_in(state, event)
    elif kind == EventKind.MAILBOX_RELEASED:
        _apply_mailbox_release(state, event)
    elif kind == EventKind.DASH_NAMES:
        _apply_dash_names(state, event)
    elif kind not in _ENGINE_KINDS:
        by, signed = _signer(event, state)
        person = state.people.get(by)
        state.package_events.setdefault(kind, []).append(
            PackageEvent(
                seq=event.seq,
                at=event.at,
                kind=kind,
                by=by,
                signed=signed,
                roles=person.roles if person is not None else frozenset(),
                payload=data,
                key=acting_key(state, event.signer) if signed else None,
            )
        )
    else:
        _apply_play_event(state, event)


def _unauthorized(state: ProgramState, event: Event) -> str | None:
    """Why ``event``'s signer had no authority to make it, or None. The API refuses these
    actions; the fold checks the same rules again, so an event appended around the API (a
    lead's own handoff acceptance for someone else, a second ``program.created`` saying demo)
    is a forgery the fold stops at, like a bad signature, and ``audit verify`` names it."""
    kind, data = event.kind, event.payload
    if kind == EventKind.PERSON_ENROLLED and event.signer is not None:
        return _enrolment_problem(state, event)
    who, signed = _signer(event, state)
    if not signed:
        return None  # before identities, or the program's first event: nothing to hold it to
    person = state.people.get(who)
    lead = person is not None and "rollout-lead" in person.roles
    where = f"event {event.seq} ({kind}) was signed by {who}"
    if kind == EventKind.PROGRAM_CREATED:
        return f"{where}: a program is created once, by its first event"
    if kind in (EventKind.PERSON_ADDED, EventKind.PERSON_CHANGED, EventKind.PERSON_INVITED):
        target = state.people.get(str(data["name"]))
        if (data.get("service") or (target is not None and target.service)) and (
            (data.get("roles") and state.sign_in is not None)
            or (kind == EventKind.PERSON_INVITED and not data.get("another_key"))
        ):
            return f"{where}: a service is enrolled by a lead, never invited, and holds no role"
    if kind in (EventKind.PERSON_ADDED, EventKind.PERSON_CHANGED):
        before = state.people.get(str(data["name"]))
        changed = (
            before is None
            or before.roles != frozenset(data.get("roles", []))
            or before.team != data.get("team", "")
            or before.email != data.get("email", "")
        )
        return (
            f"{where}, no rollout lead: only a lead changes someone's roles, team or e-mail"
            if changed and not lead
            else None
        )
    if kind == EventKind.PERSON_INVITED:
        name = str(data["name"])
        earlier = state.invitations.get(str(data["token_hash"]))
        if earlier is not None and earlier.join_key is not None:
            # logged again, over an invitation that logs its own key, it took that invitation
            # from its holder: a member's for a machine of his own, on a lead's open invitation
            # for a newcomer, made the newcomer's join "no such invitation" (the API draws a new
            # token for each invitation; the rule holds from invitations that log a key on)
            return (
                f"{where}: its token's hash is the one event {earlier.seq}'s invitation for "
                f"{earlier.name} logged (the API draws a new token for each invitation): "
                f"logged again, it would take that invitation from whoever holds it"
            )
        if data.get("another_key"):
            if person is not None and person.service:
                return f"{where}: a lead enrols each key of a service, with its proof"
            return None if name == who else f"{where}: only {name} adds a machine of {name}'s"
        if not lead:
            return f"{where}, no rollout lead: only a lead invites people"
        if any(k.person == name and k.revoked_at is None for k in state.keys.values()):
            return f"{where}: {name} is already enrolled, and adds a machine by their own key"
        return None
    if kind == EventKind.WAIVER_GRANTED and not lead:
        return f"{where}, no rollout lead: only a lead grants a waiver"
    if kind == EventKind.WAIVER_GRANTED:
        from inhouse.program.guards import Guard

        if data.get("guard") not in {g.value for g in Guard}:
            return f"{where}: a waiver of {data.get('guard')!r}, which is no guard (the API "
            "waives only its guards)"
        if data.get("expires") is None:
            # the fold dates every waiver's lapse: one with none (appended around the API) would
            # stop every command at an assertion, or be a guard switched off for good
            return f"{where}: a waiver with no expiry (the API refuses one)"
    expires = _when(data["expires"]) if kind == EventKind.WAIVER_GRANTED else None
    if expires is not None and expires <= event.at:
        return f"{where}: a waiver that expired before it was granted (the API refuses one)"
    if kind == EventKind.KEY_REVOKED:
        record = state.keys.get(str(data["key_id"]))
        if record is not None and record.person != who and not lead:
            return f"{where}, who may revoke only their own keys"
        return None
    if kind == EventKind.SIGN_IN_SET_UP:
        if not lead:
            return f"{where}, no rollout lead: only a lead sets up the organisation's sign-in"
        issuer, client_id = str(data["issuer"]), str(data["client_id"])
        return set_up_problem(state, where, issuer, client_id, data.get("domain"), data["keys"])
    if kind in (EventKind.MAILBOX_RELEASED, EventKind.DASH_NAMES):
        return None  # judged by the fold, which counts or sets it aside and says so (status)
    if kind == EventKind.PERSON_SIGNED_IN:
        token = str(data["id_token"])
        problem = sign_in_problem(state, who, str(event.signer), token, event.at, fold=True)
        return None if problem is None else f"{where}: {problem}"
    if kind == EventKind.PROGRAM_STOPPED:
        first = next(iter(state.plays.values()), None)
        if not lead and (first is None or first.owner != who):
            return f"{where}: only play 1's owner or a rollout lead stops the program"
        return _stop_problem(state, event, where)
    return _unauthorized_play_event(state, event, who, lead, where)


def _stop_problem(state: ProgramState, event: Event, where: str) -> str | None:
    """Why a stop is no "not worth it", or None. Every version of the API stopped a program
    only on a trial verdict saying "not worth it", and cited it; appended around the API over
    a proven verdict, a stop would show on every status as the playbook's success (and end the
    program for everyone), so the fold holds it to that. Whether the verdict it cites is the
    latest that *counts* is a judgement a later version may make differently (what counts has
    changed between versions): ``status`` makes it (:func:`stop_counted`), not the fold."""
    data = event.payload
    if data["reason"] != "not-worth-it":
        return f"{where}: a program stops only when play 1's trial says it is not worth it"
    cited = {int(i) for i in data.get("evidence", [])}
    verdicts = [f for f in state.facts if f.id in cited and f.kind == "trial.verdict"]
    if not any(f.payload.get("verdict") == "not-worth-it" for f in verdicts):
        said = ", ".join(f"#{f.id} {f.payload.get('verdict')}" for f in verdicts) or "none"
        return f"{where}: a not-worth-it stop cites a trial verdict saying so (it cites {said})"
    return None


def stop_counted(state: ProgramState, now: datetime) -> str | None:
    """Why the program's not-worth-it stop is not the playbook's success, or None: play 1's
    latest trial verdict that counts must say "not worth it" (a verdict typed as someone's word
    over a measured one, or an older verdict cited while a later one proved value, does not
    make a stop honest)."""
    from inhouse.program.evaluation import context_for

    if state.stopped is None:
        return None
    verdict = context_for(state, now).facts.latest("trial.verdict")
    if verdict is not None and verdict.payload["verdict"] == "not-worth-it":
        return None
    found = "no trial verdict" if verdict is None else f"verdict {verdict.payload['verdict']}"
    return (
        f"the program was stopped as not worth it, but play 1's latest trial verdict that "
        f"counts is not that ({found}): the stop is on record, and no success of the playbook"
    )


def kept_sign_in(
    current: SignIn | None, issuer: str, client_id: str, domain: str | None
) -> SignIn | None:
    """The sign-in a set-up naming ``issuer``, ``client_id`` and ``domain`` pins its keys
    beside: ``current`` where it names the same (a key refresh), else none (it replaces
    ``current`` whole: the old issuer's keys would otherwise verify tokens for the new one)."""
    if current is None or (issuer, client_id, domain or None) != (
        current.issuer,
        current.client_id,
        current.domain,
    ):
        return None
    return current


@functools.lru_cache(maxsize=64)
def vouches_for_nobody(issuer: str, demo: bool) -> bool:
    """Whether a sign-in with ``issuer`` vouches for nobody: outside a demo, one on a loopback
    address. A provider on this machine is whoever runs it (a lead could start one and give
    herself as many accounts as she likes), and no colleague on a machine of their own could
    reach it to sign in: an honest program never has one. ``inhouse sign-in setup`` refuses it;
    one appended around the API is folded, and vouches for nobody."""
    from inhouse.identity.signin import is_local_issuer

    return not demo and is_local_issuer(issuer)


def set_up_problem(
    state: ProgramState,
    where: str,
    issuer: str,
    client_id: str,
    domain: str | None,
    keys: list[Any] | None = None,
) -> str | None:
    """Why a set-up of the sign-in naming ``issuer``, ``client_id`` and ``domain`` and pinning
    ``keys`` may not be made (the API asks before it fetches the keys, with none, and again with
    them; the fold again). It may name another issuer, client or domain only while nobody has
    signed in: once someone has, their binding rests on the pinned keys, and a lead who could
    re-point the program at an issuer of her own would vouch for whoever she liked."""
    current = state.sign_in
    kept = kept_sign_in(current, issuer, client_id, domain)
    if current is not None and kept is None and state.signed_keys:
        first = min(state.signed_keys.values(), key=lambda bound: bound.seq)
        count = len(state.signed_in)
        people = "1 person has" if count == 1 else f"{count} people have"
        return (
            f"{where}: the program signs in with {current.issuer} (client {current.client_id}, "
            f"domain {current.domain or 'any'}), set up by {current.set_by}, and {people} "
            f"signed in with it ({first.person} first, at event {first.seq}): it can no longer "
            "be changed, only its keys refreshed"
        )
    return kid_problem(kept, keys or [], where)


def kid_problem(current: SignIn | None, keys: list[Any], where: str) -> str | None:
    """Why ``keys`` may not be pinned beside ``current``'s: one of them re-uses a pinned key's
    id for other key material (a token naming that kid would be checked against either)."""
    from inhouse.identity.signin import jwk_thumbprint

    held = {str(k.get("kid")): jwk_thumbprint(k) for k in (current.keys if current else ())}
    for key in keys:
        kid = str(key.get("kid"))
        if kid in held and held[kid] != jwk_thumbprint(key):
            return (
                f"{where}: it pins other key material under the key id {kid!r} (a key id names "
                "one key: a token naming it could be checked against either)"
            )
        held[kid] = jwk_thumbprint(key)
    return None


def _enrolment_problem(state: ProgramState, event: Event) -> str | None:
    """Why an enrolment is not one the API makes: a service's key enrolled by someone who is no
    lead, or under a person's name (its key would then sign as that person); a person's key
    joined without an open invitation for that name, after it expired, or beside a key the
    person still holds (another machine is added by the person's own invitation)."""
    data = event.payload
    name = str(data["name"])
    existing = state.people.get(name)
    where = f"event {event.seq} (person.enrolled) enrols {name}"
    key_id = str(data["key_id"]) if data.get("service") else str(event.signer)
    if key_id in state.keys:
        return f"{where} with key {key_id}, enrolled before for {state.keys[key_id].person}"
    if data.get("service"):
        lead, _ = _signer(event, state)
        person = state.people.get(lead)
        if person is None or "rollout-lead" not in person.roles:
            return f"{where} as a service, signed by {lead}, no rollout lead"
        if existing is not None and not existing.service:
            return f"{where} as a service, but {name} is a person: their key would sign as them"
        if data.get("roles"):
            return f"{where} as a service with roles: a service holds none"
        from inhouse.identity import verify_signature

        proof = f"inhouse-service:{state.program_id}:{name}".encode()
        if not verify_signature(str(data["public_key"]), proof, str(data.get("proof", ""))):
            return f"{where} as a service without the service key's own proof"
        return supersedes_problem(state, where, name, data.get("supersedes"))
    if data.get("claimed") or event.seq <= 2:
        return None  # the lead's own first key (the verifier holds it to that)
    why = invitation_problem(state, name, str(data.get("token_hash") or ""), event.at)
    return None if why is None else f"{where} {why}"


def supersedes_problem(state: ProgramState, where: str, name: str, supersedes: Any) -> str | None:
    """Why a service enrolment's ``supersedes`` is not one the API writes: it names only the
    service's own active keys (a rotation on its host), never a person's or a revoked one."""
    if supersedes is None:
        return None
    if not isinstance(supersedes, list) or not all(isinstance(k, str) for k in supersedes):
        return f"{where}, superseding {supersedes!r}, which is no list of key ids"
    for key_id in supersedes:
        record = state.keys.get(key_id)
        if record is None or record.person != name or not record.active:
            return f"{where}, superseding key {key_id}, which is no active key of the {name}"
    return None


def invitation_problem(state: ProgramState, name: str, token: str, at: datetime) -> str | None:
    """Why a key may not join as ``name`` with the invitation ``token`` at ``at`` (the API asks
    before it writes, the fold again). Spares spent and a lead's invitation beside a key the
    person holds are refused once the program has a sign-in: logs from before it were written
    by an API that let a spare join, and stay readable."""
    invitation = state.invitations.get(token)
    if invitation is None or invitation.name != name:
        return f"without an invitation for {name}"
    if invitation.used:
        return f"with an invitation for {name} that was already used"
    if at >= invitation.expires:
        return f"with an invitation that expired on {invitation.expires:%Y-%m-%d %H:%M}"
    active = [k for k in state.keys.values() if k.person == name and k.revoked_at is None]
    if state.sign_in is not None and active and not invitation.another_key:
        return f"while {name} holds a key: another machine is added by {name}'s own invitation"
    return None


def verified_identity(state: ProgramState, token: str, signer: str, at: datetime) -> Any:
    """The identity ``token`` proves for ``signer``'s key at ``at`` (an
    :class:`~inhouse.identity.signin.Identity`); a SignInError naming what does not hold."""
    from inhouse.identity.signin import nonce_for, verify_id_token

    config = state.sign_in
    if config is None:
        raise SignInError("no sign-in is set up for this program")
    return verify_id_token(
        token,
        jwks=config.jwks,
        issuer=config.issuer,
        client_id=config.client_id,
        # the token was asked for this key in this program: one copied from the log for
        # another key names the wrong nonce
        nonce=nonce_for(state.program_id, signer),
        at=at,
    )


def sign_in_problem(
    state: ProgramState, who: str, signer: str, token: str, at: datetime, *, fold: bool = False
) -> str | None:
    """Why ``token``, presented by ``who`` with key ``signer`` at ``at``, binds them no
    identity: no sign-in set up, a signer who is no person (a service, a dashboard session),
    a token that does not verify against the pinned keys for this key and program, or an
    identity another person holds (one identity is one person, and one person one identity).
    The action checks it before writing and the fold again (``fold``), so a binding appended
    around the action stops the fold; but an address an earlier version took as verified (an
    ``email`` with ``email_verified`` true, at Entra before :func:`vouched_address` read its own
    claims) does not stop it: :func:`account_problem` sets that binding aside, ``status`` saying
    why, since the API wrote it."""
    person = state.people.get(who)
    if person is None or person.service or state.keys.get(signer) is None:
        return "only a person signs in, with their own enrolled key"
    try:
        identity = verified_identity(state, token, signer, at)
    except SignInError as err:
        return f"its ID token does not hold: {err}"
    assert state.sign_in is not None
    domain = state.sign_in.domain
    earlier = (  # the rule before signinfollow: a verified email at the domain
        domain is not None
        and bool(identity.email_verified)
        and (identity.email or "").lower().endswith("@" + domain.lower())
    )
    if (why := _domain_problem(state, identity)) is not None and not (fold and earlier):
        return why
    # bindings whose keys were all revoked hold no more: released (ProgramState.holds)
    holder = next(
        (
            s.person
            for s in state.signed_in.values()
            if s.subject == identity.subject and s.person != who and state.holds(s)
        ),
        None,
    )
    if holder is not None:
        return (
            f"{state.sign_in.issuer} vouched for that identity ({identity.subject}) for "
            f"{holder} already: one identity is one person (a binding made by mistake is "
            "released once a lead revokes every key that signed in with it; where the log "
            "shows exit rules 6 in force, a colleague who is not a rollout lead then releases "
            "its mailbox naming you, `inhouse sign-in release-mailbox ADDRESS --to NAME`, or "
            "an account signed in at no address, `inhouse sign-in release-account "
            f"{identity.subject} --to NAME`)"
        )
    mine = state.signed_in.get(who)
    if mine is not None and mine.subject != identity.subject and state.holds(mine):
        return (
            f"{who} signed in as {mine.subject} before: one person is one identity (that "
            "binding is released once every key that signed in with it is revoked)"
        )
    return None


#: issuers that give an account to anyone who asks, under any address its owner can read mail
#: at (a plus-address, an alias): set up only with an e-mail domain, and an account counts only
#: where the provider marks it as the organisation's (Google's ``hd`` claim)
OPEN_ISSUERS = frozenset({"https://accounts.google.com"})


def mailbox(address: str) -> str:
    """The mailbox ``address`` delivers to: lowercased, its sub-address (``+tag``) dropped
    (``lena+omar@acme.example`` is ``lena@acme.example``'s inbox)."""
    local, at, domain = address.strip().lower().rpartition("@")
    if not at:
        return address.strip().lower()
    return f"{local.split('+', 1)[0]}@{domain}"


def _bindings_at(state: ProgramState, box: str) -> list[SignedIn]:
    """Every binding at ``box`` (released ones too), oldest first."""
    return sorted(
        (b for b in state.signed_keys.values() if b.email and mailbox(b.email) == box),
        key=lambda b: b.seq,
    )


def _shared_mailbox(
    state: ProgramState, issuer: str, identity: Any, who: str | None, key: str | None = None
) -> str | None:
    """Why ``identity`` is an account of a mailbox another person signed in with (a key of
    theirs bound to an account at it, now or before): a plus-address reaches the same inbox, so
    at a provider that lets anyone register and verify an address (a Keycloak realm or an Okta
    org with self-registration) one person's mailbox makes an account per alias. One verified
    mailbox is one person, whoever bound it first, until a release of it is on the record
    (:func:`mailbox_release_problem`: a colleague signed in who is no lead records it once every
    binding at it was released): an address the organisation gave a new hire after the person
    who had it left. Not at Entra: nobody registers there (its administrator makes each
    account), its tokens said no verified address before ``verified_primary_email`` and
    ``xms_edov`` were read, and judging its bindings by mailbox now would set aside, on the next
    fold, sign-ins that running programs hold (a tenant's address given to a new hire)."""
    if _issuer_host(issuer) in GUEST_ISSUER_HOSTS:
        return None
    found = vouched_address(issuer, identity)
    if found is None:
        return None
    box = mailbox(found[0])
    released = state.mailbox_released.get(box, 0)
    release = f"`inhouse sign-in release-mailbox {box} --to {who or 'YOUR-NAME'} --reason ...`"
    if (kin := _dash_kin_problem(state, issuer, identity, who, found[0], box)) is not None:
        return kin
    for bound in _bindings_at(state, box):
        if bound.person != who and bound.subject != identity.subject and bound.seq > released:
            if state.holds(bound):
                out = (
                    f"if {box} is yours now and {bound.person} has left, a rollout lead revokes "
                    f"{bound.person}'s keys, then a colleague signed in who is not a rollout lead "
                    f"runs {release}"
                )
            else:
                out = (
                    f"{bound.person}'s keys are all revoked: if {box} is yours now (an address "
                    "the organisation gave you after them), a colleague signed in who is not a "
                    f"rollout lead runs {release}"
                )
            return (
                f"{issuer} vouched for {identity.subject} at {found[0]}, which reaches "
                f"the mailbox {box}, and {bound.person} signed in with an account at it "
                f"({bound.email}, event {bound.seq}): one mailbox "
                "is one person (a plus-address is its inbox's, and a provider that lets its "
                f"holder register makes an account of each); {out}, and you sign in again"
            )
    named = state.mailbox_released_to.get(box)
    if named is not None and named != who:
        # the release vouches for one person by name: the same account under another name (a
        # leaver's mail forwarded to the lead, who resets its password) is not them
        return (
            f"{issuer} vouched for {identity.subject} at {found[0]}, which reaches the mailbox "
            f"{box}, released (event {released}) to {named} alone: one mailbox is one person, "
            f"and its release names who was given it; if {box} is yours now, a colleague signed "
            f"in who is not a rollout lead releases it naming you ({release}), and you sign in "
            "again"
        )
    if named is not None and key is not None and (where := _judged_machine(state, key)):
        # the name may be one the lead invited and joined herself: a key made where she enrolled
        # is hers to sign with, whoever it names, so it takes no mailbox she may read the mail of
        return (
            f"{who}'s key was made {where}, who holds every key file made there: the mailbox "
            f"{box}, released (event {released}) to {named}, is signed in at with a key made on "
            "a machine of their own (`inhouse join` there, then sign in again)"
        )
    return None


def _dash_related(one: str, other: str) -> bool:
    """Whether one of the mailboxes ``one`` and ``other`` is the other cut at a '-' (``lena@``
    and ``lena-omar@``, ``lena-omar-x@``): where the mail server splits there, one inbox."""
    mine, _, domain = one.rpartition("@")
    theirs, _, there = other.rpartition("@")
    if domain != there or mine == theirs:
        return False
    short, long = sorted((mine, theirs), key=len)
    return bool(short) and long.startswith(short + "-")


def _dash_kin_problem(
    state: ProgramState, issuer: str, identity: Any, who: str | None, address: str, box: str
) -> str | None:
    """Why an account at ``address`` (its mailbox ``box``) is, by a '-' sub-address, at the
    mailbox another person signed in with (:data:`~inhouse.program.checks.DASH_MAILBOX`): where
    a mail server splits at '-' (qmail's default, a common Postfix ``recipient_delimiter``),
    ``lena-omar@`` is ``lena@``'s inbox, and a realm that lets anyone register makes her an
    account there. Which delimiter a domain's server uses is nothing the log knows, so a '-'
    is read as one until a colleague signed in at that domain who is no rollout lead says its
    server keeps '-' in names (:func:`dash_names_problem`): an honest anne-marie@ beside anne@
    is told apart that way. Only where the log shows the rule in force, so sign-ins an earlier
    inhouse bound read as they did; addresses that merely share what comes before a '-'
    (``v-anne@``, ``v-bob@``) are not cut, as a vendor's prefix would merge everyone."""
    domain = box.rpartition("@")[2]
    if state.rules_seen < DASH_MAILBOX:
        return None
    void = _dash_word_void(state, domain, box, who)
    if domain in state.dash_names and void is None:
        return None
    kin = sorted(
        (b for b in state.signed_keys.values() if b.email and _dash_related(box, mailbox(b.email))),
        key=lambda b: b.seq,
    )
    for bound in kin:
        theirs = mailbox(bound.email or "")
        if bound.person == who or bound.subject == identity.subject:
            continue
        if bound.seq <= state.mailbox_released.get(theirs, 0):
            named = state.mailbox_released_to.get(theirs)
            if named is None or named == who:
                continue
            # released to one person by name: a '-' sub-address of it is theirs, not an
            # invented name's (a leaver's mail forwarded to the lead)
            return (
                f"{issuer} vouched for {identity.subject} at {address}, which, where "
                f"{domain}'s mail server splits at '-', reaches the mailbox {theirs}, released "
                f"to {named} alone: one mailbox is one person"
            )
        return (
            f"{issuer} vouched for {identity.subject} at {address}, and {bound.person} signed "
            f"in at {theirs} ({bound.email}, event {bound.seq}): where {domain}'s mail server "
            "splits at '-', as a '+', the one reaches the other's inbox, and one mailbox is one "
            f"person; if its server keeps '-' in names (anne-marie@ is not anne@'s inbox), a "
            f"colleague signed in at {domain} who is not a rollout lead"
            + (f" (at neither address: {void})" if void else "")
            + f" runs `inhouse sign-in dash-names {domain} --reason ...`, and you sign in again"
        )
    return None


def _dash_word_void(
    state: ProgramState, domain: str, box: str | None = None, who: str | None = None
) -> str | None:
    """Why no word said so far that ``domain``'s server keeps '-' in names counts, or None
    where one counts or none was said: each sayer's own mailbox is, cut at a '-', another
    person's, or the other way round (a binding's, or ``box``, which ``who`` is signing in
    at). Such a sayer vouches for their own address: the lead's invented colleague signed in
    at ``lena-omar@`` (or at ``lena@``) before she signed in at ``lena@`` (or ``lena-me@``)
    would free it. A colleague at neither address says it."""
    said = state.dash_names_said.get(domain, [])
    why: list[str] = []
    for _seq, sayer in said:
        theirs = {
            mailbox(b.email) for b in state.signed_keys.values() if b.person == sayer and b.email
        }
        others = [
            (b.person, mailbox(b.email))
            for b in state.signed_keys.values()
            if b.person != sayer and b.email
        ]
        if box is not None and who != sayer:
            others.append((who or "you", box))
        cut = next(
            ((p, o, m) for m in sorted(theirs) for p, o in others if _dash_related(m, o)), None
        )
        if cut is None:
            return None
        person, other, mine = cut
        why.append(
            f"{sayer}'s word counts for nothing, {sayer}'s {mine} and {person}'s {other} being "
            "one cut at a '-' of the other"
        )
    return "; ".join(why) or None


def _colleague_problem(state: ProgramState, who: str, key: str | None, what: str) -> str | None:
    """Why ``who``, signing with ``key``, is no colleague who may record ``what`` for the
    sign-in, or None: a person the sign-in vouches for now, who is not and never was a rollout
    lead, with a key made on a machine of their own (not where a lead or a service enrolled
    first: :func:`_judged_machine`)."""
    person = state.people.get(who)
    if person is None or person.service:
        return f"only a person records {what}"
    if who in _leads_ever(state):
        return (
            f"{who} is or was a rollout lead, whose program this judges (she could sign an "
            "invented colleague in at a sub-address of her own mailbox): a colleague signed in "
            f"who is not a lead records {what}"
        )
    assert state.sign_in is not None
    if not state.vouched(who):
        return (
            f"{who} has not signed in with {state.sign_in.issuer}: only a colleague it vouches "
            f"for records {what}"
        )
    if key is not None and (where := _judged_machine(state, key)) is not None:
        return (
            f"{who}'s key was made {where}, who holds every key file made there: a colleague "
            f"records {what} with a key made on a machine of their own"
        )
    return None


def dash_names_problem(
    state: ProgramState, who: str, domain: str, key: str | None = None
) -> str | None:
    """Why ``who`` may not say that ``domain``'s mail server keeps '-' in names (so that an
    address cut at a '-' is no other person's mailbox there), or None. Its maker is one the
    judged lead cannot be or invent (:func:`_colleague_problem`), signed in with an address at
    ``domain``: whose mail it is, not the lead's, who would say it to sign an alias in at a
    '-' sub-address of her own inbox."""
    if state.sign_in is None:
        return "the organisation's sign-in is not set up: no mailbox is held"
    domain = domain.strip().lower()
    if not domain or "@" in domain or "." not in domain:
        return f"{domain!r} is not a mail domain (e.g. acme.example)"
    colleague = _colleague_problem(state, who, key, "how a domain's mail is split")
    if colleague is not None:
        return colleague
    bound = state.signed_in.get(who)
    if bound is None or not bound.email or mailbox(bound.email).rpartition("@")[2] != domain:
        return (
            f"{who} did not sign in with an address at {domain}: a colleague whose mail is "
            "there says how its server splits it"
        )
    # another colleague's word may stand beside one: a word counts for nothing where its
    # sayer's own address turns out a '-' sub-address of another's mailbox (_dash_word_void)
    said = [seq for seq, sayer in state.dash_names_said.get(domain, []) if sayer == who]
    if said:
        return f"{who} said {domain}'s mail server keeps '-' in names already (event {said[0]})"
    mine = mailbox(bound.email)
    for other in state.signed_keys.values():
        if other.person != who and other.email and _dash_related(mine, mailbox(other.email)):
            return (
                f"{who} signed in at {mine}, and {other.person} at {mailbox(other.email)}, the "
                "one cut at a '-' of the other: whose address it is does not say the two are "
                "two mailboxes; a colleague signed in at neither says it"
            )
    return None


def _apply_dash_names(state: ProgramState, event: Event) -> None:
    if event.signer is None:
        return
    who, _ = _signer(event, state)
    domain = str(event.payload.get("domain", ""))
    why = dash_names_problem(state, who, domain, event.signer)
    if why is not None:
        state.unbound.append(
            f"event {event.seq}: {who}'s word that {domain}'s mail server keeps '-' in names "
            f"counts for nothing: {why}"
        )
        return
    domain = domain.strip().lower()
    state.dash_names[domain] = event.seq
    state.dash_names_said.setdefault(domain, []).append((event.seq, who))


def mailbox_release_problem(
    state: ProgramState, who: str, address: str, key: str | None = None, to: str | None = None
) -> str | None:
    """Why ``who`` may not release ``address``'s mailbox, or None. A release lets a person sign
    in at a mailbox someone else signed in with before (a recycled address, given to a new hire
    after its holder left). Its maker must be someone the judged lead cannot be or invent: a
    person the sign-in vouches for now, who is not and never was a rollout lead and never signed
    in at that mailbox, signing with ``key`` (the release's) made on a machine of their own, not
    where a lead or a service enrolled first (:func:`_judged_machine`: the lead holds the key
    files made on her machine or the gateway's host, whoever they name); and every binding at
    it must be released already (its holder's keys all revoked), so a mailbox its holder still
    signs in with is never handed to another name. ``to``: the person the release gives it to,
    the only one who signs in at it then (:func:`_shared_mailbox`): a person of the program who
    has not signed in with another mailbox; None only in a release recorded before releases
    named anyone. A release nobody signed in after may be made again, naming another."""
    if state.sign_in is None:
        return "the organisation's sign-in is not set up: no mailbox is held"
    box = mailbox(address)
    if "@" not in box:
        return f"{address!r} is not an e-mail address"
    if (colleague := _colleague_problem(state, who, key, "a mailbox's release")) is not None:
        return colleague
    ever = _bindings_at(state, box)
    if any(b.person == who for b in ever):
        return f"{who} signed in at {box}: the mailbox's own holder does not release it"
    if to is not None and (given := _release_to_problem(state, to, box)) is not None:
        return given
    released = state.mailbox_released.get(box, 0)
    held = [b for b in ever if b.seq > released]
    if not held and box not in state.mailbox_released_to:
        return f"nobody signed in at {box} since it was last released: there is nothing to release"
    still = sorted({b.person for b in held if state.holds(b)})
    if still:
        return (
            f"{', '.join(still)} still signed in at {box} (a key that signed in with it is not "
            "revoked): a rollout lead revokes those keys first, if they left"
        )
    return None


def _release_to_problem(state: ProgramState, to: str, box: str) -> str | None:
    """Why a release of ``box`` may not name ``to`` as the person given it, or None."""
    person = state.people.get(to)
    if person is None or person.service:
        return (
            f"{to!r} is no person of this program: the person given the address enrols first "
            "(a rollout lead invites them), then the release names them"
        )
    other = sorted(
        {mailbox(b.email) for b in state.signed_keys.values()
         if b.person == to and b.email and mailbox(b.email) != box}
    )  # fmt: skip
    if other:
        return (
            f"{to} signed in with another mailbox ({', '.join(other)}): a release gives {box} "
            "to the person the organisation gave the address, who has no other"
        )
    return None


def _judged_machine(state: ProgramState, key: str) -> str | None:
    """Where ``key`` was made, said as a reason, when that machine is one a rollout lead (now
    or before) or a service (the gateway's host, which its operator runs) enrolled a key from
    before it: whoever enrolled there first holds the key files made there since, so the key is
    theirs to sign with, whoever it names. A machine is whoever enrolled from it first (a lead
    who enrols "from" a colleague's machine afterwards takes nothing from them). Not asked in a
    demo (one machine plays every part)."""
    record = state.keys.get(key)
    if record is None or state.demo or not record.machine:
        return None
    leads = _leads_ever(state)
    for other in sorted(state.keys.values(), key=lambda r: r.seq):
        if other.seq >= record.seq or not other.machine:
            continue
        owner = state.people.get(other.person)
        service = owner is not None and owner.service
        if (service or other.person in leads) and same_machine(other.machine, record.machine):
            return (
                f"on the {other.person}'s host, which its operator runs"
                if service
                else f"on a machine {other.person} (a rollout lead) enrolled a key from first"
            )
    return None


def _apply_mailbox_release(state: ProgramState, event: Event) -> None:
    if event.signer is None:
        return
    who, _ = _signer(event, state)
    if event.payload.get("account") is not None:
        _apply_account_release(state, event, who)
        return
    address = str(event.payload.get("mailbox", ""))
    named = event.payload.get("to")
    to = None if named is None else str(named)
    why = mailbox_release_problem(state, who, address, event.signer, to)
    if why is None and to is None and state.rules_seen >= TEAM_READING:
        # every inhouse that stamps these rules names who a release gives the mailbox to: one
        # naming nobody, in a log that shows them in force, let whoever signs in next hold it
        # (the lead, under a name of hers, before the new hire); the floor is the log's, as an
        # acceptance's (:func:`_unnamed_acceptance`), so an honest log from before reads as it did
        why = (
            f"it names nobody it gives the mailbox to (--to), though the log shows rules "
            f"{TEAM_READING} in force there, by which every release names one (an inhouse from "
            f"before wrote it): {who} updates inhouse and releases it again naming the person "
            "given it"
        )
    if why is not None:
        state.unbound.append(
            f"event {event.seq}: {who}'s release of the mailbox {address} counts for nothing: {why}"
        )
        return
    box = mailbox(address)
    state.mailbox_released[box] = event.seq
    if to is None:  # a release recorded before releases named anyone: the next to sign in
        state.mailbox_released_to.pop(box, None)
    else:
        state.mailbox_released_to[box] = to


def _apply_account_release(state: ProgramState, event: Event, who: str) -> None:
    """A release of an account that signed in at no address (``account``: its subject): an
    inhouse from before these read it as a mailbox '' and counted it for nothing, as it
    should."""
    subject, to = str(event.payload["account"]), str(event.payload.get("to") or "")
    why = account_release_problem(state, who, subject, event.signer, to)
    if why is not None:
        state.unbound.append(
            f"event {event.seq}: {who}'s release of the account {subject} counts for nothing: {why}"
        )
        return
    state.account_released[subject] = (event.seq, to)


def account_release_problem(
    state: ProgramState, who: str, subject: str, key: str | None = None, to: str = ""
) -> str | None:
    """Why ``who`` may not release the account ``subject`` to ``to``, or None: the twin of
    :func:`mailbox_release_problem` for an account the issuer named no address for (its
    bindings recorded none), which no mailbox release could reach, so that a binding made by
    mistake, or an account given to a new hire, bound its first person for good. Its maker is
    a colleague signed in who is no rollout lead and never signed in with it; every binding of
    it is released already (its holder's keys all revoked); ``to`` is a person of the program
    who has signed in with no other account."""
    if state.sign_in is None:
        return "the organisation's sign-in is not set up: no account is held"
    if not subject.strip():
        return "name the account: its subject, as `inhouse sign-in list` shows it"
    if (colleague := _colleague_problem(state, who, key, "an account's release")) is not None:
        return colleague
    ever = sorted((b for b in state.signed_keys.values() if b.subject == subject),
                  key=lambda b: b.seq)  # fmt: skip
    if not ever:
        return f"nobody signed in with the account {subject}: there is nothing to release"
    if ever[-1].email:
        box = mailbox(ever[-1].email)
        return (
            f"the account {subject} signed in at {box}: a release of that mailbox gives it "
            f"(`inhouse sign-in release-mailbox {box} --to {to or 'NAME'} --reason ...`)"
        )
    if any(b.person == who for b in ever):
        return f"{who} signed in with {subject}: the account's own holder does not release it"
    person = state.people.get(to)
    if person is None or person.service:
        return (
            f"{to!r} is no person of this program: the person given the account enrols first "
            "(a rollout lead invites them), then the release names them"
        )
    other = sorted({b.subject for b in state.signed_keys.values()
                    if b.person == to and b.subject != subject})  # fmt: skip
    if other:
        return (
            f"{to} signed in with another account ({', '.join(other)}): a release gives "
            f"{subject} to the person it is, who has no other"
        )
    released = state.account_released.get(subject, (0, ""))[0]
    held = [b for b in ever if b.seq > released]
    if not held:
        return f"nobody signed in with {subject} since it was last released: nothing to release"
    still = sorted({b.person for b in held if state.holds(b)})
    if still:
        return (
            f"{', '.join(still)} still signed in with {subject} (a key that signed in with it "
            "is not revoked): a rollout lead revokes those keys first"
        )
    return None


def _domain_problem(state: ProgramState, identity: Any) -> str | None:
    """Why ``identity`` has no address the provider vouches for (:func:`vouched_address`) at
    the program's domain, where its sign-in names one."""
    config = state.sign_in
    if config is None or config.domain is None:
        return None
    domain = config.domain
    if _at_domain(config.issuer, identity, domain):
        return None
    vouched = vouched_address(config.issuer, identity)
    shown = vouched[0] if vouched else identity.email or "no address"
    state_of = "" if vouched else " (not verified)"
    how = (
        " (at Entra: the optional claim verified_primary_email, or email with xms_edov, "
        "added to the app registration's ID token under Token configuration)"
        if _issuer_host(config.issuer) in GUEST_ISSUER_HOSTS
        else ""
    )
    return (
        f"{config.issuer} vouched for {identity.subject} with {shown}{state_of}: "
        f"only a verified address at {domain} counts here{how}"
    )


def account_problem(
    state: ProgramState, identity: Any, who: str | None = None, key: str | None = None
) -> str | None:
    """Why a verified identity, at a verified address in the program's domain, is still no
    account of the organisation's: at an open issuer, one the provider does not mark as the
    domain's (a consumer account made with a company address, or with a plus-address of
    someone's own mailbox: one person, any number of accounts). The API refuses such a
    sign-in; the fold binds nobody with it and ``status`` says so, rather than stop, since
    sign-ins made before this rule are in logs the API wrote. Besides: a tenant anyone makes
    for free as its administrator, an Entra account at its tenant's initial domain, and an
    account at a mailbox another person (``who`` is the one signing in) signed in with, or at a
    released one with a key (``key``, the signing one) made on a lead's machine, and an account
    another person signed in with that no release names ``who`` for
    (:func:`_rebound_identity`)."""
    config = state.sign_in
    if config is None:
        return None
    if (made := self_made_tenant_problem(config.issuer)) is not None:
        return made
    if (outside := _domain_problem(state, identity)) is not None:
        return outside  # the fold lets through only what an earlier version bound (sign_in_problem)
    if (guest := _guest_problem(config.issuer, identity)) is not None:
        return guest
    if (initial := _initial_domain_problem(config.issuer, identity)) is not None:
        return initial
    if (open_issuer := _open_issuer_problem(config, identity)) is not None:
        return open_issuer
    if (shared := _shared_mailbox(state, config.issuer, identity, who, key)) is not None:
        return shared
    return _rebound_identity(state, config.issuer, identity, who)


def _rebound_identity(
    state: ProgramState, issuer: str, identity: Any, who: str | None
) -> str | None:
    """Why ``identity``, bound to another person before (every key of that binding revoked,
    or :func:`sign_in_problem` refuses it), binds ``who`` only through a release naming them:
    a lead may revoke anyone's keys, so a leaver's own account (his mail forwarded to her, its
    password reset) would otherwise sign in again under a name she invented. A release of the
    mailbox that binding was at, made after it and naming ``who``
    (:func:`mailbox_release_problem`), lets them in: a leaver's address given to a new hire, or
    a binding made by mistake (a colleague signed in in someone else's browser) handed to the
    account's own person. Only where the log shows exit rules 6 in force (every inhouse
    stamping them has this rule), so an honest log from before reads as it did."""
    if state.rules_seen < TEAM_READING:
        return None
    earlier = [
        b for b in state.signed_keys.values() if b.subject == identity.subject and b.person != who
    ]
    if not earlier:
        return None
    last = max(earlier, key=lambda b: b.seq)
    box = mailbox(last.email) if last.email else None
    if (
        box is not None
        and state.mailbox_released_to.get(box) == who
        and state.mailbox_released.get(box, 0) > last.seq
    ):
        return None
    said = (
        f"{issuer} vouched for {identity.subject}, which {last.person} signed in with "
        f"(event {last.seq}): one identity is one person, and it binds another name only "
        "through a release naming them"
    )
    if box is None:
        seq, named = state.account_released.get(identity.subject, (0, ""))
        if named == who and seq > last.seq:
            return None
        release = (
            f"`inhouse sign-in release-account {identity.subject} --to {who or 'YOUR-NAME'} "
            "--reason ...`"
        )
        revoke = f"a rollout lead revokes {last.person}'s keys, then " if state.holds(last) else ""
        return (
            f"{said}, and {issuer} named no address for it: if the account is yours (bound to "
            f"{last.person} by mistake, or given you after they left), {revoke}a colleague "
            f"signed in who is not a rollout lead runs {release}, and you sign in again; "
            "otherwise sign in with an account of your own"
        )
    release = f"`inhouse sign-in release-mailbox {box} --to {who or 'YOUR-NAME'} --reason ...`"
    revoke = f"a rollout lead revokes {last.person}'s keys, then " if state.holds(last) else ""
    return (
        f"{said}; if the account is yours (given you after {last.person} left, or bound to "
        f"{last.person} by mistake), {revoke}a colleague signed in who is not a rollout lead "
        f"runs {release}, and you sign in again"
    )


def _open_issuer_problem(config: SignIn, identity: Any) -> str | None:
    """At an open issuer, why ``identity`` is no account of the organisation's domain."""
    if config.issuer.rstrip("/") not in OPEN_ISSUERS:
        return None
    if config.domain is None:  # set up around the API, which refuses an open issuer without one
        return (
            f"{config.issuer} gives an account to anyone who asks, and this program's sign-in "
            "names no organisation's domain: it vouches for nobody (a lead sets it up again "
            "with --email-domain)"
        )
    marked = (identity.hosted_domain or "").lower()
    if marked == config.domain.lower():
        return None
    said = f"marks it as {marked}'s" if marked else "does not mark it as any organisation's"
    return (
        f"{config.issuer} vouched for {identity.subject} ({identity.email}), but {said}: only "
        f"an account of the {config.domain} organisation counts (a Google Workspace account; a "
        "personal account made with a work address, or a plus-address, is anyone's)"
    )


#: issuers that take guests into an organisation's tenant (anyone a member invites, any
#: number of accounts of one person's own): a token counts only where it says it is a member's
GUEST_ISSUER_HOSTS = frozenset({"login.microsoftonline.com", "sts.windows.net"})


def _issuer_host(issuer: str) -> str:
    """``issuer``'s host as the sign-in's rules compare it: lower case, no final dot. A URL
    that does not parse raises (ValueError): the fold names the event malformed rather than
    bind by a rule that could not read it."""
    from urllib.parse import urlsplit

    return (urlsplit(issuer).hostname or "").lower().rstrip(".")


def _guest_problem(issuer: str, identity: Any) -> str | None:
    """Why an identity is a guest in the organisation's tenant, not one of its own accounts:
    authenticated by another provider (``idp``), or marked a guest (``acct``); at Entra, a
    token that does not say (the ``acct`` optional claim is not configured) tells nobody apart.
    (A customer-identity tenant, where anyone signs up, is :data:`SELF_MADE_TENANTS`'.)"""
    host = _issuer_host(issuer)
    home = getattr(identity, "home_issuer", None)
    if home and home.rstrip("/") != issuer.rstrip("/"):
        return (
            f"{issuer} vouched for {identity.subject}, a guest authenticated by {home}: anyone a "
            "member invites is a guest, as many as one person asks for; only the organisation's "
            "own accounts count"
        )
    guest = getattr(identity, "guest", None)
    if guest:
        return (
            f"{issuer} marks {identity.subject} as a guest in its tenant (acct=1): only the "
            "organisation's own accounts count"
        )
    if guest is None and host in GUEST_ISSUER_HOSTS:
        return (
            f"{issuer}'s token for {identity.subject} does not say whether the account is a "
            "member or a guest: add the optional claim acct to the app registration's ID token "
            "(Token configuration), so that guests, whom any member may invite, are told apart"
        )
    return None


#: hosted identity services on whose own domain anyone makes a tenant (a user pool, a project,
#: a developer org) in minutes, free, as its administrator: they create its accounts, one per
#: colleague they invent, and mark any address verified. Nothing in such a tenant is the
#: organisation's (no domain of its own was proven to anyone), so it vouches for nobody. Each:
#: a pattern on the issuer's host, and what it is.
SELF_MADE_TENANTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), what)
    for pattern, what in (
        (r"(^|\.)auth0\.com$", "an Auth0 tenant (Auth0's own domain)"),
        (r"^(dev|trial|integrator)-[^.]+\.okta\.com$", "an Okta developer, trial or free org"),
        (r"(^|\.)oktapreview\.com$", "an Okta preview (sandbox) org"),
        (r"^cognito-idp\.[^.]+\.amazonaws\.com$", "an Amazon Cognito user pool"),
        (r"^securetoken\.google\.com$", "a Firebase (Identity Platform) project"),
        (r"(^|\.)zitadel\.cloud$", "a ZITADEL Cloud instance"),
        (r"(^|\.)clerk\.accounts\.dev$", "a Clerk development instance"),
        (r"(^|\.)kinde\.com$", "a Kinde business"),
        # customer identity: anyone signs themselves up there, besides its maker's accounts
        (r"(^|\.)ciamlogin\.com$", "an Entra External ID customer tenant (anyone signs up)"),
        (r"(^|\.)b2clogin\.com$", "an Azure AD B2C tenant (anyone signs up)"),
        # review (decisions2), each from the provider's own documentation. PingOne's issuer
        # is https://auth.pingone.<region>/<environment id>/as (docs.pingidentity.com, "IP
        # address and domain reference" and the PingOne integration kit's OIDC connection),
        # one host per region for every environment, a trial's as a customer's
        (r"(^|\.)pingone\.(com|eu|ca|asia|sg|com\.au)$", "a PingOne environment"),
        # https://<subdomain>.onelogin.com/oidc/2 (the OpenID Connect issuer OneLogin's docs
        # give, as Auth.js's OneLogin provider cites them): an account's own subdomain, a
        # 30-day free trial's as a customer's
        (r"(^|\.)onelogin\.com$", "a OneLogin account"),
        # a Logto Cloud tenant is https://<tenant id>.logto.app, its issuer there at /oidc;
        # docs.logto.io starts everyone on a free development tenant
        (r"(^|\.)logto\.app$", "a Logto Cloud tenant"),
        # https://api.descope.com/<project id> (docs.descope.com, OIDC endpoints: every
        # project's endpoints on api.descope.com)
        (r"(^|\.)descope\.com$", "a Descope project"),
        # AuthKit's issuer is https://api.workos.com/user_management/<client id> (or
        # https://api.workos.com), and its hosted domain <name>.authkit.app (workos.com docs,
        # AuthKit session tokens)
        (r"^api\.workos\.com$", "a WorkOS AuthKit environment"),
        (r"(^|\.)authkit\.app$", "a WorkOS AuthKit environment"),
        # a project's default domain, <name>.customers.stytch.com (or .dev), and the older
        # test.stytch.com/v1/public/<project id> (stytch.com docs, Connected Apps: custom
        # domains, get OpenID configuration); free to start
        (r"(^|\.)stytch\.(com|dev)$", "a Stytch project"),
        # "every Frontegg environment is created with a Frontegg domain ending in
        # .frontegg.com" (developers.frontegg.com, custom domain setup); free to start
        (r"(^|\.)frontegg\.com$", "a Frontegg environment"),
        # Supabase Auth signs https://<project ref>.supabase.co/auth/v1 (supabase.com docs,
        # JWT claims reference), also behind a custom domain; a free plan
        (r"(^|\.)supabase\.co$", "a Supabase project (anyone signs up)"),
        # Cloud-IAM's free plan is a realm on a shared Keycloak at <deployment>.cloud-iam.com
        # (documentation.cloud-iam.com, getting started and custom domains)
        (r"(^|\.)cloud-iam\.com$", "a Cloud-IAM Keycloak deployment"),
    )
)

#: the Entra tenant of personal Microsoft accounts: anyone makes any number, with any address
CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"

#: Entra's initial domains: every tenant gets one free when anyone makes it, before (or
#: without) verifying a domain of its own by DNS
INITIAL_DOMAINS = (".onmicrosoft.com", ".onmicrosoft.us", ".onmschina.cn")


def self_made_tenant_problem(issuer: str) -> str | None:
    """Why ``issuer`` vouches for nobody: it is a tenant of a hosted identity service that
    anyone makes for free on the service's own domain, as its administrator (a lead would make
    one and give herself an account per invented colleague), or None."""
    from urllib.parse import urlsplit

    split = urlsplit(issuer)
    host = _issuer_host(issuer)
    what = next((what for pattern, what in SELF_MADE_TENANTS if pattern.search(host)), None)
    if host in GUEST_ISSUER_HOSTS and CONSUMER_TENANT in split.path.lower():
        what = "the tenant of personal Microsoft accounts (outlook.com, any address)"
    if what is None:
        return None
    return (
        f"{issuer} is {what}, which anyone makes in minutes, free, as its administrator: they "
        "create its accounts (one per colleague they invent) and mark any address verified, "
        "and no domain of the organisation's was proven to make it, so it vouches for nobody "
        "(set up the organisation's own workforce provider: its Google Workspace, its Entra "
        "tenant, its Okta org, its Keycloak)"
    )


#: the way out of the initial-domain rule, for a small organisation whose tenant has only its
#: initial domain: said wherever the refusal is (the sign-in, ``status``, the checks)
INITIAL_DOMAIN_WAY_OUT = (
    "ask your tenant administrator to add and verify your company's domain (Entra admin "
    "center: Domain names, Add custom domain, then the DNS record it names) and move your user "
    "name (and primary e-mail address) to it, then run `inhouse sign-in login` again"
)


def _initial_domain_problem(issuer: str, identity: Any) -> str | None:
    """At Entra, why an account is not at a domain its tenant verified it holds: the address
    the token vouches for (:func:`vouched_address`: ``verified_primary_email``, or ``email``
    with ``xms_edov``), else its user name (``upn``, ``preferred_username``, which Microsoft
    documents as mutable and not for authorisation: read last), is at the tenant's initial
    ``*.onmicrosoft.com`` domain, which every tenant has, one anyone makes for free and
    administers (creating a member account per invented colleague), or the token says none."""
    if _issuer_host(issuer) not in GUEST_ISSUER_HOSTS:
        return None
    found = vouched_address(issuer, identity)
    if found is None:
        name = getattr(identity, "username", None)
        found = (name, "") if name else None
        claim = "its user name: upn, or preferred_username"
    else:
        claim = found[1]
    if found is None or "@" not in found[0]:
        return (
            f"{issuer}'s token for {identity.subject} names no user name and no address "
            "of the account (verified_primary_email, email with xms_edov, upn, "
            "preferred_username: the profile scope), so nothing says its account is at a "
            "domain the tenant verified it holds; the tenant administrator adds the optional "
            "claim verified_primary_email to the app registration's ID token (Token "
            "configuration)"
        )
    name = found[0]
    domain = name.rsplit("@", 1)[1].lower().rstrip(".")
    if domain.endswith(INITIAL_DOMAINS):
        return (
            f"{issuer} vouched for {identity.subject} as {name} ({claim}), an account at the "
            f"tenant's initial domain {domain}: anyone makes a tenant for free, as its "
            "administrator, with member accounts there for colleagues they invent, so only an "
            "account at a domain the tenant verified it holds (by DNS, the organisation's) "
            f"counts; {INITIAL_DOMAIN_WAY_OUT}"
        )
    return None


def vouched_address(issuer: str, identity: Any) -> tuple[str, str] | None:
    """The address the provider vouches is the account's, and the claim that says so, or None:
    ``email`` with ``email_verified`` true; at Entra, which sends no ``email_verified``, its
    optional claim ``verified_primary_email`` (the directory's own record of the user's primary
    address), else ``email`` with ``xms_edov`` true (its domain is one the account's tenant
    verified it owns; the tenant's initial domain counts as verified there, which
    :func:`_initial_domain_problem` refuses); ``email_verified`` is no claim of Entra's own."""
    if _issuer_host(issuer) in GUEST_ISSUER_HOSTS:
        primary = getattr(identity, "verified_primary_email", None)
        if primary:
            return primary, "verified_primary_email"
        if identity.email and getattr(identity, "email_domain_verified", None):
            return identity.email, "email (xms_edov true)"
        return None  # Entra sends no email_verified of its own: a claim by that name is mapped
    if identity.email and identity.email_verified:
        return identity.email, "email"
    return None


def _at_domain(issuer: str, identity: Any, domain: str) -> bool:
    found = vouched_address(issuer, identity)
    return found is not None and found[0].lower().endswith("@" + domain.lower())


def _apply_sign_in(state: ProgramState, event: Event) -> None:
    from inhouse.identity.signin import jwk_thumbprint

    data = event.payload
    if event.kind == EventKind.SIGN_IN_SET_UP:
        by, _ = _signer(event, state)
        # a set-up naming another issuer, client or domain (allowed only before anyone signed
        # in) starts afresh: set by its lead, with its own keys only
        before = kept_sign_in(
            state.sign_in, str(data["issuer"]), str(data["client_id"]), data.get("domain")
        )
        keys = list(before.keys) if before is not None else []
        pins = list(before.pinned_by) if before is not None else []
        pinned = {jwk_thumbprint(k) for k in keys}
        for key in data["keys"]:
            if jwk_thumbprint(key) not in pinned:
                keys.append(dict(key))
                pinned.add(jwk_thumbprint(key))
                pins.append((jwk_thumbprint(key), by, event.seq))
        state.sign_in = SignIn(
            issuer=str(data["issuer"]),
            client_id=str(data["client_id"]),
            keys=tuple(keys),
            domain=str(data["domain"]) if data.get("domain") else None,
            set_by=before.set_by if before is not None else by,
            set_at=before.set_at if before is not None else event.at,
            seq=before.seq if before is not None else event.seq,
            pinned_by=tuple(pins),
        )
        return
    if event.signer is None:
        return  # unsigned: binds nothing
    who, _ = _signer(event, state)
    identity = verified_identity(state, str(data["id_token"]), event.signer, event.at)
    assert state.sign_in is not None  # verified_identity refuses a token without one
    if (why := account_problem(state, identity, who, event.signer)) is not None:
        state.unbound.append(f"event {event.seq}: {who}'s sign-in binds nobody: {why}")
        state.set_aside[who] = (event.seq, why)
        return
    state.set_aside.pop(who, None)
    bound = SignedIn(
        person=who,
        subject=identity.subject,
        email=address[0] if (address := vouched_address(state.sign_in.issuer, identity)) else None,
        key_id=event.signer,
        at=event.at,
        seq=event.seq,
        key_thumbprint=identity.key_thumbprint,
        seen=tuple(str(t) for t in data.get("seen") or ()),
    )
    current = state.signed_in.get(who)
    if current is None or not state.holds(current):  # the first, or after a release
        state.signed_in[who] = bound
    state.signed_keys[event.signer] = bound


def acting_key(state: ProgramState, signer: str | None) -> str | None:
    """The enrolled key behind a signature: the signer's own, or for a dashboard session's,
    the key that signed its delegation."""
    if signer is None or signer in state.keys:
        return signer
    return state.verifier.keys.delegated_by.get(signer)


def unsigned_offer(state: ProgramState, handoff: Handoff) -> str | None:
    """Why ``handoff``'s offer is nobody's to accept, with the organisation's sign-in set up:
    the key that signed it has not signed in as its owner (a key a lead joined under the
    owner's name, after revoking theirs, is not the owner), or None."""
    if state.sign_in is None or handoff.offered_key is None:
        return None  # an offer from before the sign-in, or folded before offers named a key
    if state.signed_in_as(handoff.offered_key, handoff.offered_by):
        return None
    return (
        f"the offer was signed with {handoff.offered_by}'s key {handoff.offered_key}, which has "
        f"not signed in with {state.sign_in.issuer}; the owner offers again with a key that has"
    )


def _unauthorized_play_event(
    state: ProgramState, event: Event, who: str, lead: bool, where: str
) -> str | None:
    kind, data = event.kind, event.payload
    play = str(data.get("play", ""))
    handoff = state.handoffs.get(play)
    if kind == EventKind.PLAY_STARTED and who != data["owner"] and not lead:
        return f"{where}: only the play's owner or a rollout lead starts it"
    if kind == EventKind.PLAY_STARTED and play in state.plays:
        # the API refuses it: a second start would re-own the play and replace what its first
        # start's guards found
        return f"{where}: play {play} was started already, by {state.plays[play].started_by}"
    if kind == EventKind.HANDOFF_OFFERED:
        record = state.plays.get(play)
        if record is None or record.owner != who:
            return f"{where}: only the owner of play {play} offers its handoff"
    named = state.people.get(str(data.get("to") or data.get("owner") or ""))
    service_named = named is not None and named.service and state.sign_in is not None
    if kind in (EventKind.HANDOFF_OFFERED, EventKind.PLAY_STARTED) and service_named:
        return f"{where}: a service's key speaks for no person; it owns and receives no play"
    open_offer = handoff is not None and handoff.status == "offered"
    if kind in (EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_REJECTED) and (
        handoff is None or not open_offer or handoff.to != who
    ):
        to = handoff.to if handoff is not None and open_offer else "nobody"
        return f"{where}: only the receiver of an open offer decides it (offered to {to})"
    if (
        kind == EventKind.HANDOFF_ACCEPTED
        and state.sign_in is not None
        and not state.signed_in_as(acting_key(state, event.signer), who)
    ):
        return f"{where} with a key that has not signed in with {state.sign_in.issuer}"
    if (
        kind == EventKind.HANDOFF_ACCEPTED
        and handoff is not None
        and (why := unsigned_offer(state, handoff)) is not None
    ):
        return f"{where}: {why}"
    accepted = handoff is not None and handoff.status == "accepted" and handoff.decided_by == who
    if kind == EventKind.PLAY_EXITED and not accepted:
        return f"{where}: a play exits when its receiver accepts its handoff, by that act"
    return None


def _judged_on(state: ProgramState, cited: object, mark: int) -> frozenset[int]:
    """The facts an exit event says its exit was judged on (``cited``, its ``evidence``), kept
    only where each is a fact in the log by ``mark``, the acceptance it follows: the list is its
    writer's to type, and a spare scoped to it must never reach a fact recorded since (nor one
    that is no fact). Anything else in it is dropped, and a list that is no list names none:
    never wider than the exit's mark, which spares every fact by it."""
    if not isinstance(cited, list):
        return frozenset()
    wanted = {n for n in cited if type(n) is int and 0 < n <= mark}
    return frozenset(f.id for f in state.facts if f.id in wanted)


#: the fact kinds that came with a rule (:data:`~inhouse.program.checks.EXIT_RULES`): one in
#: the log was recorded by an inhouse that judged by that rule
_FACT_RULES = {"usage.confirmed": CONFIRMED_USE}
#: the events inhouse writes saying the rules it judges by (``rules``), besides an exit: the
#: program's creation, a person's enrolment (signed by their new key), a handoff's offer and
#: decision, a waiver's grant (rule 18 dates it). Each is its writer's to type; a colleague's
#: is not the judged person's
_STAMPED = frozenset({EventKind.PROGRAM_CREATED, EventKind.PERSON_ENROLLED,
                      EventKind.HANDOFF_OFFERED, EventKind.HANDOFF_ACCEPTED,
                      EventKind.HANDOFF_REJECTED, EventKind.PLAY_EXITED,
                      EventKind.WAIVER_GRANTED})  # fmt: skip


def _rules_shown(event: Event, facts: list[Fact]) -> int:
    """The rules ``event`` shows the inhouse that wrote it judged by (0: it shows none): the
    ``rules`` it says (:data:`_STAMPED`), or a rule its facts (``facts``, those it added) came
    with (:data:`_FACT_RULES`). Whoever writes an exit types its ``rules``; what the events
    before it show is no one person's to lower: an exit saying fewer was not written by an
    inhouse that judged it so, and is read as judged by them (an honest exit written before
    a rule shows none of it, and keeps its earlier rules)."""
    shown = _rules_of(event.payload.get("rules")) if event.kind in _STAMPED else 0
    for fact in facts:
        shown = max(shown, _FACT_RULES.get(fact.kind, 0))
        if fact.kind == "usage.confirmed" and "runs" in fact.payload:
            shown = max(shown, RUNS_CONFIRMED)  # a confirmation binds its runs since rule 32
    return shown


def _unnamed_acceptance(state: ProgramState, handoff: Handoff) -> frozenset[int] | None:
    """What an approved acceptance that names no facts (no ``evidence``) lets its exit spare:
    none (an empty set, as an exit that names none) where the log shows
    :data:`~inhouse.program.checks.NAMED_ACCEPTANCE` in force at it, else None (it bounds
    nothing: an honest acceptance from before acceptances named their facts). Its exit event is
    the dashboard host's to write, the lead the exit judges, and an approver whose inhouse
    signs an acceptance naming none (one from before) would let that host name any fact. The
    rules at it are the floor (:attr:`ProgramState.rules_at_acceptance`: what the log before
    it shows, a colleague's enrolment included), which the acceptance's own ``rules``, the
    host's to type, can raise but never lower. An acceptance signed by its receiver's own key
    bounds nothing either way: the exit beside it is theirs too."""
    if not handoff.approved:
        return None
    if state.rules_at_acceptance.get(handoff.play, 0) < NAMED_ACCEPTANCE:
        return None
    state.unnamed_exits.append(
        f"play {handoff.play}'s acceptance (event {handoff.decided_seq}, by {handoff.decided_by}) "
        "was approved naming none of the facts its exit was judged on, though the log shows "
        f"rules {NAMED_ACCEPTANCE} in force there (every acceptance since names them): no "
        "earlier rule spares any of them for its exit"
    )
    return frozenset()


def _rules_of(said: object) -> int:
    """The rules an exit event says its exit was judged by (``rules``): a whole number, else
    none (0, as an exit that says nothing). Its writer types it; a larger one than the truth
    only keeps an earlier rule from sparing what it was judged on (today's judges it all)."""
    return said if type(said) is int and said > 0 else 0


def _apply_play_event(state: ProgramState, event: Event) -> None:
    data = event.payload
    kind = event.kind
    actor, _ = _signer(event, state)
    if kind == EventKind.PLAY_STARTED:
        state.plays[data["play"]] = PlayRecord(
            play=data["play"],
            owner=data["owner"],
            started_by=actor,
            started_at=event.at,
            waivers=tuple(data.get("waivers", [])),
            seq=event.seq,
        )
    elif kind == EventKind.HANDOFF_OFFERED:
        state.unapproved_exit.pop(str(data["play"]), None)  # a new offer: nothing dangles
        state.handoffs[data["play"]] = Handoff(
            play=data["play"],
            offered_by=actor,
            to=data["to"],
            offered_at=event.at,
            offer_hash=data["evidence_hash"],
            comment=data.get("comment", ""),
            offered_key=acting_key(state, event.signer),
        )
    elif kind in (EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_REJECTED):
        # a decision that counts: the exit an uncounted one left dangling is not this one's
        state.unapproved_exit.pop(str(data["play"]), None)
        accepted = kind == EventKind.HANDOFF_ACCEPTED
        offered = state.handoffs[data["play"]]
        state.handoffs[data["play"]] = replace(
            offered,
            status="accepted" if accepted else "rejected",
            decided_by=actor,
            # never before the offer it answers: the log's order is not the receiver's word,
            # and an acceptance backdated by its receiver would move the play's first exit
            decided_at=max(_no_earlier_than_the_log(state, actor, event.at), offered.offered_at),
            decision_comment=data.get("comment", ""),
            accepted_hash=data.get("evidence_hash") if accepted else None,
            decided_seq=event.seq,
            accepted_evidence=(
                _judged_on(state, data["evidence"], event.seq)
                if accepted and "evidence" in data
                else None
            ),
            approved=accepted and "approval" in data,
        )
    elif kind == EventKind.PLAY_EXITED:
        handoff = state.handoffs.get(data["play"])
        at = event.at  # no earlier than the acceptance it follows, as that one is dated
        if handoff is not None and handoff.decided_at is not None:
            at = max(at, handoff.decided_at)
        state.exited[data["play"]] = at
        if handoff is not None:
            state.exited_to[data["play"]] = handoff.to
        if data["play"] not in state.first_exited:
            # the mark is the acceptance, not the exit event: the engine writes the exit right
            # after it, but whoever accepted (or the dashboard's host, with the session that
            # carried the receiver's approved acceptance) could append it later, and every rule
            # an exit spares by its mark would then reach facts recorded after the acceptance
            mark = event.seq
            if handoff is not None and handoff.decided_seq is not None:
                mark = min(mark, handoff.decided_seq)
            state.first_exited[data["play"]] = (at, mark)
            # the rules the log shows were in force at its mark (its acceptance, or the exit
            # itself where nobody accepted it), whoever wrote the exit (:func:`_rules_shown`)
            floor = state.rules_seen
            if handoff is not None and handoff.decided_seq is not None and mark < event.seq:
                floor = state.rules_at_acceptance.get(data["play"], floor)
            if "evidence" in data:  # an exit event written before exits named it: None
                state.first_judged[data["play"]] = _judged_on(state, data["evidence"], mark)
                state.exits_named = True
            elif state.exits_named or floor:
                # after an exit that named its facts, or where the log shows an inhouse that
                # says its rules (every one of them names an exit's facts), one that names none
                # was not written by an inhouse that writes exits: read as naming none, never as
                # one from before, which spares every fact by its mark
                state.first_judged[data["play"]] = frozenset()
                since = (
                    "an exit before it did"
                    if state.exits_named
                    else "the events before it were written by an inhouse whose exits name them"
                )
                state.unnamed_exits.append(
                    f"play {data['play']}'s exit (event {event.seq}, by {actor}) names none of "
                    f"the facts it was judged on, though {since}: it was appended around "
                    "inhouse, and no earlier rule is kept for it"
                )
            # and never more than its acceptance names: what its receiver signed (through a
            # dashboard session, approved with their own key), where the exit event beside it
            # is the session's host's to write, the lead the exit judges
            named = handoff.accepted_evidence if handoff is not None else None
            if named is None and handoff is not None:
                named = _unnamed_acceptance(state, handoff)
            if named is not None:
                state.first_judged[data["play"]] = (
                    state.first_judged.get(data["play"], named) & named
                )
            # the rules it says judged it; after an exit that said so, one that says none (or
            # none the fold reads) was appended around inhouse (every exit since says them): it
            # is read as judged by those an exit before it said, never as one from before
            said = _rules_of(data["rules"]) if "rules" in data else 0
            # nor fewer than the floor: the number is its writer's to type, the judged
            # person's, and an exit appended around inhouse would buy the laxer rules an honest
            # exit written before them kept
            if rules := max(said, state.rules_said, floor):
                state.first_rules[data["play"]] = rules
            state.rules_said = max(state.rules_said, said)
    elif kind == EventKind.WAIVER_GRANTED:
        expires = _when(data["expires"])
        assert expires is not None
        lapses = waiver_lapses(event.at, expires)
        if state.rules_seen >= WAIVER_SHARE:
            # one person's waivers of a guard cover a year in two at most: renewed back to back
            # by the same lead, the guard would be off for good on one person's word
            # counted from the release, as the longest is (:func:`waiver_lapses`)
            at = max(event.at, WAIVER_LONGEST_FROM)
            key = acting_key(state, event.signer)
            share = waiver_share(
                state.waivers,
                actor,
                data["guard"],
                data.get("play"),
                at,
                anyones=state.nobodys_waiver,
                nobody=state.nobody_grants(key, actor),
            )
            lapses = min(lapses, at + share)
        state.waivers.append(
            Waiver(
                seq=event.seq,
                guard=data["guard"],
                play=data.get("play"),
                reason=data["reason"],
                note=data["note"],
                granted_by=actor,
                granted_at=event.at,
                expires=lapses,
                key=acting_key(state, event.signer),
                rules=state.rules_seen,
            )
        )
        # dated by its grantor's clock until two others write after it (rule 18), where the
        # log shows the rule in force at the grant, the grant included: a waiver is no
        # exit, handoff or enrolment, and in a program running since before the rule none
        # of those may come for weeks, while the lead's clock set forward once dates a waiver
        # from an inhouse that judges by it (its ``rules``, a raise, which spares nothing)
        if max(state.rules_seen, _rules_of(data.get("rules"))) >= WAIVER_LOG_TIME:
            mine = _account(state, actor)
            state.waivers_undated[event.seq] = (actor, {mine} if mine else set(), {})
    elif kind == EventKind.ACTION_REFUSED:
        state.refusals.append(
            Refusal(
                seq=event.seq,
                at=event.at,
                actor=actor,
                action=data["action"],
                guards=tuple(data["guards"]),
                message=data["message"],
            )
        )
    elif kind == EventKind.PROGRAM_STOPPED:
        state.stopped = Stop(
            reason=data["reason"],
            by=actor,
            at=event.at,
            evidence=tuple(data.get("evidence", [])),
            comment=data.get("comment", ""),
        )


def fold(
    events: list[Event],
    *,
    lead_key: str | None = None,
    playbook: Playbook | None = None,
    program_id: str | None = None,
    log_file: str | None = None,
) -> ProgramState:
    """Replay ``events`` (oldest first) into a new :class:`ProgramState`; ``lead_key`` is the
    key id ``inhouse.toml`` names as the program's root of trust, and ``program_id`` the hash
    it names for event 1 (a log whose event 1 is another stops the fold there, as tampered:
    it is not this program's); with ``playbook``, starts are held to their guards again
    (:func:`apply`); ``log_file``: :attr:`ProgramState.log_file`."""
    state = ProgramState(verifier=ChainVerifier(lead_key, program_id), log_file=log_file)
    for event in events:
        apply(state, event, playbook)
    return state
