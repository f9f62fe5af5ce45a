"""What every part of the engine shares: the open program, its state, who is acting, appending.

The acting person is whoever holds the signing key this process uses (``INHOUSE_KEY``, or the
user's own key file): never a typed name. A rollout lead may record evidence *on behalf of*
someone, which is recorded and shown as such and never counts as that person's own act.

The state is folded from the log once per process, then kept current by applying each new event
(ours as we append them, other writers' as we next read), so an action never refolds the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from inhouse.db import Store
from inhouse.errors import (
    ApprovalNeeded,
    IdentityError,
    InvalidInput,
    LogTampered,
    NotAllowed,
    ProgramNotFound,
    ProgramStopped,
    Refused,
    ServiceKeyRevoked,
    UnknownPerson,
)
from inhouse.program.checks import Person
from inhouse.program.config import ProgramSettings
from inhouse.program.events import (
    Event,
    EventKind,
    append,
    read_event_hash,
    read_events,
    read_events_after,
)
from inhouse.program.guards import Blocker
from inhouse.program.playbook import Playbook, Reach, Role
from inhouse.program.state import (
    ProgramState,
    Waiver,
    apply,
    fold,
    judging_time,
    not_on_roster,
    sign_in_login,
)
from inhouse.program.witness import CUT

if TYPE_CHECKING:
    from inhouse.identity import SigningKey
    from inhouse.identity.delegation import Delegation

__all__ = [
    "Clock",
    "ProgramCore",
    "read_service_key",
    "refuse_if_tampered",
    "refuse_revoked_service_key",
    "refuse_superseded_service_key",
    "revoked_key_words",
    "rotation_words",
    "service_key",
    "unenrolled_service_key",
    "utcnow",
]

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def service_key(folder: Path, name: str) -> SigningKey:
    """A service's own key, ``.inhouse/keys/NAME.key`` in the program folder on the service's
    host: read, or created there the first time (by whichever process gets there first: two
    gateway workers starting together end with the same key)."""
    from inhouse.identity import create_key, load_key

    path = _service_key_path(folder, name)
    if path.exists():
        return load_key(path)
    try:
        return create_key(path)
    except (IdentityError, FileExistsError):  # created by another process meanwhile
        return load_key(path)


def read_service_key(folder: Path, name: str) -> SigningKey | None:
    """A service's own key where this host has one (:func:`service_key`'s file), else None:
    never created here."""
    from inhouse.identity import load_key
    from inhouse.location import DATA_DIR

    # no key file, nothing a pull wrote to read: git is asked only about one that is there
    if not (folder / DATA_DIR / "keys" / f"{name}.key").exists():
        return None
    return load_key(_service_key_path(folder, name))


def _service_key_path(folder: Path, name: str) -> Path:
    """The service's key file, refused (:class:`Refused`) where the git checkout holding
    ``folder`` tracks it: then anyone who can read the repository holds the key and signs as
    the service (its usage, adoption and drift facts, the seal on its usage rows), and whoever
    can push to it chose the key a pull wrote onto the service's host. Refused too where git
    will not read the checkout (another user's, to git: a service run as a user of its own),
    since then nobody can tell (:func:`~inhouse.location.tracked_state`)."""
    from inhouse.location import DATA_DIR, tracked_state

    path = folder / DATA_DIR / "keys" / f"{name}.key"
    refused = f"the {name} service's key {DATA_DIR}/keys/{name}.key is not used"
    tracked = tracked_state(folder, f"keys/{name}.key", refused=refused)
    if tracked:
        shown = ", ".join(tracked)
        raise Refused(
            f"the {name} service's key {shown} is tracked by the git checkout {folder}: anyone "
            f"who can read the repository holds it and can sign as the {name}, and whoever can "
            "push there chose the key a pull wrote here. Nothing was signed or verified with "
            f"it. Untrack it (`git rm --cached {shown}`, commit and push), then rotate it: a "
            f"rollout lead revokes the old key (`inhouse person revoke-key KEY_ID`, `inhouse "
            f"person list --json` gives its id), then {rotation_words(name)}"
        )
    return path


def rotation_words(name: str) -> str:
    """How the ``name`` service's key file is rotated (docs/gateway.md), in the words every
    refusal, command and page that asks for it uses (lower case, no final stop). One file on
    every host a replica of the service runs on: a replica elsewhere that made its own key
    would seal rows that no reader on this host verifies, so they would all be left out."""
    from inhouse.location import DATA_DIR

    shown = f"{DATA_DIR}/keys/{name}.key"
    return (
        f"delete {shown} on the {name}'s host and restart `inhouse gateway serve` there (it "
        f"makes a new key); where replicas run on other hosts, copy that new file to each "
        f"(mode 0600) before restarting them, so that they seal with the same key (one that "
        f"made a key of its own would seal rows nobody counts); a rollout lead's next "
        f"`inhouse gateway rollup` there enrols it, superseding the old key where it is "
        f"still enrolled: the rows the old key sealed keep counting, and only revoking it "
        f"(`inhouse person revoke-key`, where it leaked) voids them"
    )


def revoked_key_words(state: ProgramState, key_id: str) -> str | None:
    """Where the log has revoked key ``key_id``: its words (whose, by whom, at which event);
    else None (active, or no key the log holds)."""
    record = state.keys.get(key_id)
    if record is None or record.revoked_at is None:
        return None
    by = f" by {record.revoked_by}" if record.revoked_by else ""
    at = f" at event {record.revoked_seq}" if record.revoked_seq is not None else ""
    return f"key {key_id}, which was revoked for {record.person}{by}{at}"


def refuse_revoked_service_key(state: ProgramState, name: str, key: SigningKey) -> None:
    """Refuse (:class:`ServiceKeyRevoked`, a :class:`Refused`) a service key file holding a key
    the log has revoked: it is neither signed with nor enrolled again (a lead's revocation
    would be undone by the next run on the service's host), and the refusal names the file to
    delete so that a new key is made and enrolled there, the rotation docs/gateway.md
    describes."""
    from inhouse.location import DATA_DIR

    revoked = revoked_key_words(state, key.key_id)
    if revoked is None:
        return
    shown = f"{DATA_DIR}/keys/{name}.key"
    raise ServiceKeyRevoked(
        f"the {name} service's key file {shown} holds {revoked}: it is not signed with, nor "
        f"enrolled again. Nothing was signed or recorded. To rotate it, {rotation_words(name)}",
        missing=[f"an active {name} key in {shown} (delete the revoked one to make a new one)"],
    )


def refuse_superseded_service_key(state: ProgramState, name: str, key: SigningKey) -> None:
    """Refuse (:class:`Refused`) a service key file holding a key a rotation superseded (an old
    file put back): it signs nothing, nor is it enrolled again."""
    from inhouse.location import DATA_DIR

    record = state.keys.get(key.key_id)
    if record is None or record.superseded_by is None:
        return
    shown = f"{DATA_DIR}/keys/{name}.key"
    raise Refused(
        f"the {name} service's key file {shown} holds {key.key_id}, which key "
        f"{record.superseded_by} superseded at event {record.superseded_seq} (a rotation): it "
        f"signs nothing, nor is it enrolled again. Nothing was signed or recorded. Put back the "
        f"file holding {record.superseded_by}, or rotate it: {rotation_words(name)}",
        missing=[f"the {name}'s current key in {shown}"],
    )


def unenrolled_service_key(state: ProgramState, name: str, key: SigningKey) -> str | None:
    """Where the ``name`` service's key file holds a key that is not its active enrolled one
    while the log holds another (a replica's host made a key of its own, or was never given
    the file): the words saying so, with the command that copies the enrolled key's file there;
    else None. Every row it seals is left out of what the service signs ("not written by this
    gateway"), and a rollup there is refused (a second key): it serves on, said loudly. A key
    the log holds no other active key beside (the first start, before a rollout lead's
    ``inhouse gateway rollup`` enrols it) is none: the rows it seals count once it is."""
    from inhouse.location import DATA_DIR

    record = state.keys.get(key.key_id)
    if state.person_of_key(key.key_id) == name or (record and record.revoked_at is not None):
        return None  # enrolled; or revoked, which refuse_revoked_service_key says
    active = sorted((k for k in state.keys_of(name) if k.active), key=lambda k: k.seq)
    if not active and (record is None or record.person == name):
        return None
    shown = f"{DATA_DIR}/keys/{name}.key"
    if record is not None and record.person != name:
        held = f"a key enrolled for {record.person}, not the {name}"
    elif record is not None and record.superseded_by is not None:
        held = (
            f"the {name}'s key from before its rotation (superseded by {record.superseded_by} "
            f"at event {record.superseded_seq}), which signs nothing since"
        )
    else:
        held = "a key the program's log never enrolled"
    if not active:
        return (
            f"the {name}'s key file {shown} holds {key.key_id}, {held}: every usage row it "
            f"seals counts for nothing. Delete {shown} here and restart `inhouse gateway "
            f"serve` (it makes a new key); a rollout lead's `inhouse gateway rollup` here "
            "enrols it"
        )
    enrolled = active[-1]
    return (
        f"the {name}'s key file {shown} holds {key.key_id}, {held}, while its enrolled key is "
        f"{enrolled.key_id} (machine {enrolled.machine or 'unknown'}): every usage row this "
        f"replica seals counts for nothing (left out as not written by this {name}). Copy the "
        f"{name}'s host's file here and restart: `scp GATEWAY-HOST:PROGRAM-FOLDER/{shown} "
        f"{shown} && chmod 0600 {shown}`, then restart `inhouse gateway serve`"
    )


def refuse_if_tampered(state: ProgramState) -> None:
    """Nothing is appended to a log that does not verify: it would sign on top of a forgery."""
    if state.tampered is not None:
        problem, seq = state.tampered
        if problem.startswith(CUT):  # it verifies, shorter than seen: the way out is in it
            raise LogTampered(f"{problem}. Nothing more is recorded here until then")
        raise LogTampered(
            f"the event log does not verify at event {seq}: {problem}. Nothing more is recorded "
            "and nothing after it counts; `inhouse audit verify` reports it, restore the store "
            "from a backup"
        )


class ProgramCore:
    """An open program: its folder, settings, playbook, store, and this process's key."""

    def __init__(
        self,
        folder: Path,
        settings: ProgramSettings,
        playbook: Playbook,
        store: Store,
        *,
        clock: Clock = utcnow,
        key: SigningKey | None = None,
    ) -> None:
        self.folder = folder
        self.settings = settings
        self.playbook = playbook
        self.store = store
        self.clock = clock
        self._key = key
        #: a sign-in session's delegation (``inhouse web``): carried by every event this signs
        self._delegation: dict[str, Any] | None = None
        #: the person's own approval of the next decision this session signs (``approving``)
        self._approval: dict[str, Any] | None = None
        self._state: ProgramState | None = None
        #: how many times this process folded the whole log from its start (a test counts them)
        self.full_folds = 0

    # -- the key -----------------------------------------------------------------------------

    @property
    def key(self) -> SigningKey:
        """This process's signing key (loaded on first use from ``INHOUSE_KEY`` or the user's
        config folder)."""
        if self._key is None:
            from inhouse.identity import default_key_path, load_key

            # `make demo` (inhouse.demo) keeps its people's keys in the program folder, not
            # where inhouse looks for yours: someone looking around after it is told where
            demo_keys = self.folder / ".demo-keys"
            if not default_key_path().is_file() and demo_keys.is_dir():
                raise IdentityError(
                    f"no signing key at {default_key_path()}: this demo's people act with the "
                    f"keys `make demo` keeps in {demo_keys}, each from a machine of their own "
                    "(e.g. INHOUSE_KEY=.demo-keys/lena.key INHOUSE_MACHINE_ID=lena-laptop, in "
                    f"{self.folder})"
                )
            self._key = load_key()
        return self._key

    def using(self, key: SigningKey) -> Self:
        """The same program, acted on with another key (a service's, or in tests and the demo,
        another person's). Shares the store; keeps its own state."""
        other = type(self)(
            self.folder, self.settings, self.playbook, self.store, clock=self.clock, key=key
        )
        other._state = None
        return other

    def delegated(self, session_key: SigningKey, delegation: dict[str, Any]) -> Self:
        """The same program, acted on by a dashboard session's key for the person whose own key
        signed ``delegation`` (:mod:`inhouse.identity.delegation`); each event it signs carries
        the delegation, which the chain's verifier checks. Shares this program's state."""
        other = self.using(session_key)
        other._delegation = delegation
        other._state = self._state
        return other

    @property
    def delegation(self) -> dict[str, Any] | None:
        """The signed delegation this dashboard session acts on (None: a key of one's own)."""
        return self._delegation

    @contextmanager
    def approving(self, approval: dict[str, Any]) -> Iterator[Self]:
        """This session, carrying its person's own ``approval`` (:mod:`inhouse.identity.approval`)
        for the one decision it signs next: without it, a session's decision raises
        :class:`~inhouse.errors.ApprovalNeeded` naming the event it would write."""
        if self._delegation is None:
            raise NotAllowed("only a dashboard session carries an approval: sign it yourself")
        self._approval = approval
        try:
            yield self
        finally:
            self._approval = None

    def as_service(self, name: str) -> Self:
        """The program acted on with a service's own key (``.inhouse/keys/NAME.key`` on the
        service's host): what a service measures (the gateway's usage, adoption) is signed by
        it, not by a person. The first time, a rollout lead running this enrols that key,
        vouched for on the record; while the service holds an active key enrolled elsewhere,
        or where the key file holds a key the log has revoked, this is refused
        (:class:`Refused`) and nothing is made or recorded here."""
        key = read_service_key(self.folder, name)
        state = self.state()
        if key is not None and state.person_of_key(key.key_id) == name:
            return self.using(key)
        who = self.whoami()  # an enrolled key, before anything about the service is said
        if key is not None:  # a revoked key left in the file is not enrolled again
            refuse_revoked_service_key(state, name, key)
            refuse_superseded_service_key(state, name, key)
        supersedes = self._refuse_second_service_key(state, name, key)
        if Role.ROLLOUT_LEAD not in who.roles:
            raise NotAllowed(
                f"the {name} service's key is not enrolled yet: a rollout lead runs this once "
                "to enrol it"
            )
        # made only once a lead will enrol it: a refused caller leaves no key file behind
        key = service_key(self.folder, name)
        self.enrol_service(name, key, supersedes=supersedes)
        return self.using(key)

    def _refuse_second_service_key(
        self, state: ProgramState, name: str, here: SigningKey | None
    ) -> list[str]:
        """Refuse to make and enrol a key for service ``name`` where it holds an active one
        already: this host is not the service's (its key file is not here, or holds another
        key), so a key enrolled here would be a second one, measuring on whoever's machine
        this is (a lead's laptop) for nothing, beside the service's own. On the service's own
        host (every active key enrolled from this machine) whose key file holds a new key, the
        file was rotated there: the keys it replaces, which its enrolment supersedes (they
        sign nothing from then on; what they sealed keeps counting until one is revoked)."""
        from inhouse.identity.machine import machine_fingerprint

        service = state.people.get(name)
        active = sorted((k for k in state.keys_of(name) if k.active), key=lambda k: k.seq)
        if service is None or not service.service or not active:
            return []
        enrolled = "; ".join(
            f"key {k.key_id} on machine {k.machine or 'unknown'} (enrolled by "
            f"{k.invited_by or 'nobody'} at event {k.seq})"
            for k in active
        )
        found = (
            f"holds another key, {here.key_id}"
            if here is not None
            else f"has no .inhouse/keys/{name}.key"
        )
        first = active[0]
        revoke = ", ".join(f"`inhouse person revoke-key {k.key_id}`" for k in active)
        machine = machine_fingerprint()
        rotated = here is not None and here.key_id not in state.keys  # a key new to the log
        if rotated and all(k.machine == machine for k in active):
            # the service's own host, its key file rotated: the new key supersedes the old,
            # whose holder could do nothing with it that the new one, on the same host, cannot
            return [k.key_id for k in active]
        if here is not None and any(k.machine == machine for k in active):
            # this host's key and another host's are both active: which one this rotation
            # replaces is a lead's call, not this command's
            raise Refused(
                f"the {name} service already signs with {enrolled}, from this machine "
                f"({machine}) and another, and this key file now holds another key, "
                f"{here.key_id}. Nothing was enrolled: a rollout lead revokes the keys that are "
                f"no longer the {name}'s ({revoke}), then runs this again here",
                missing=[f"one active {name} key, on this host, to supersede with {here.key_id}"],
            )
        raise Refused(
            f"the {name} service already signs with {enrolled}; this checkout {found}, so this "
            f"machine ({machine}) is not the {name}'s host, and a key made and "
            f"enrolled here would be a second {name} key whose measurements count for nothing. "
            f"Nothing was made or enrolled. Run this on the {name}'s host (machine "
            f"{first.machine or 'unknown'}, as `inhouse whoami` there names it; where `inhouse "
            "gateway serve` runs from the program folder holding its key file). Where that "
            f"host is gone, a rollout lead revokes the old key first ({revoke}), then runs this "
            f"on the {name}'s new host, which enrols "
            "its key there",
            missing=[f"the {name}'s own key file (.inhouse/keys/{name}.key on its host)"],
        )

    def enrol_service(  # PeopleMixin implements it
        self, name: str, key: SigningKey, *, supersedes: Sequence[str] = ()
    ) -> Person:
        raise NotImplementedError  # pragma: no cover

    # -- reading -----------------------------------------------------------------------------

    def events(self) -> list[Event]:
        return read_events(self.store)

    @property
    def log_file(self) -> str | None:
        """The SQLite file on this machine that holds the log, which nobody signs in to from a
        machine of their own (:func:`~inhouse.program.state.sign_in_login`); None where a
        database server keeps it."""
        if self.store.dialect != "sqlite":
            return None
        return self.store.engine.url.database or ":memory:"

    def state(self) -> ProgramState:
        """The current state: folded once, then brought up to date with the events since.
        Returns the live object: read it, do not keep it across actions."""
        if self._state is None:
            self._state = self._fold()
        else:
            for event in read_events_after(self.store, self._state.head_seq):
                apply(self._state, event, self.playbook)
        return self._state

    def _fold(self) -> ProgramState:
        """The state from the log: from the state a previous command on this machine kept
        (:mod:`inhouse.program.foldcache`) and the events after it, or folded in full."""
        from inhouse.program import foldcache

        lead, named = self.settings.lead_key, self.settings.program_id
        # a state folded with another playbook judged its guarded actions by that one's plays
        where = f"{self.store.url}\nplaybook {self.playbook.digest()}"
        first = read_event_hash(self.store, 1)
        state = foldcache.load(self.store, first, lead, where, named=named)
        if state is None:
            state = fold(
                read_events(self.store),
                lead_key=lead,
                playbook=self.playbook,
                program_id=named,
                log_file=self.log_file,
            )
            self.full_folds += 1
            folded = state.head_seq
        else:
            state.log_file = self.log_file  # kept for this store (``where``): said again
            kept = state.head_seq
            for event in read_events_after(self.store, kept):
                apply(state, event, self.playbook)
            folded = state.head_seq - kept
        foldcache.save(state, self.store, lead, where, folded_since=folded)
        self._witness(state)
        return state

    def _witness(self, state: ProgramState, event: Event | None = None) -> None:
        """Hold the log to what this user's commands saw of it (:mod:`inhouse.program.
        witness`): a log that no longer holds the newest event seen here is marked tampered,
        naming it; else the newest event now (``event``, just written, or the head folded) is
        kept. A process that lives on (the gateway, the dashboard) checks again at each event it
        writes: one written on a log cut under it is the last."""
        from inhouse.program import witness

        if not state.program_id or state.demo or state.tampered is not None:
            return
        where = self.store.url
        if event is not None and witness.remember(
            self.store, state.program_id, where, event.seq, event=event
        ):
            return  # the newest seen: just written; else the log must still hold the one kept
        if (cut := witness.seen_problem(self.store, state.program_id, where)) is not None:
            state.tampered = cut
        elif event is None:
            witness.remember(self.store, state.program_id, where, state.head_seq)

    def whoami(self) -> Person:
        """The person this process's key belongs to in this program."""
        return self._me(self.state())

    def actor(self, name: str | None = None) -> Person:
        """The acting person (the key holder). ``name``, when given, must be that person."""
        state = self.state()
        who = self._me(state)
        if name is not None and name != who.name:
            raise NotAllowed(
                f"this shell acts as {who.name} (its key {self.key.key_id}); it cannot act as "
                f"{name}. {name} acts with their own key"
            )
        return who

    def log_event(self, kind: str, payload: dict[str, Any]) -> Event:
        """Record a play package's own event (a gateway key granted, fetched, revoked…), signed
        by the acting key. The fold ignores kinds it does not know; the audit checks them. The
        engine's own kinds go through the actions that hold them to their rules."""
        if kind in set(EventKind):
            raise InvalidInput(
                f"{kind} is the engine's own event: it is made by the action that checks who may "
                "make it (a handoff by its receiver, a role by a lead), never logged directly"
            )
        _, who = self._begin(None)
        return self._append(kind, who.name, payload)

    # -- for the actions ---------------------------------------------------------------------

    def detached(self) -> bool:
        """Whether this machine holds only the program folder, not its log (a log whose first
        event does not verify is a log, tampered with, and nothing is recorded beside it)."""
        state = self.state()
        return not state.program_id and state.tampered is None and bool(self.settings.program_id)

    def refuse_if_detached(self, what: str) -> None:
        """Refuse to ``what`` where this machine holds only the program folder: without the log,
        nobody is known here and the program looks empty, which would be a false answer."""
        if self.detached():
            raise ProgramNotFound(
                f"cannot {what} here: this folder has the program's settings but not its log (a "
                "checkout whose .inhouse/ holds no events). Run it where the log is (on SQLite, "
                "the program folder `inhouse init` made: there, or with `--program DIR` naming "
                "it, on that machine), or set INHOUSE_DATABASE_URL to the program's PostgreSQL. "
                "Here, `inhouse join`, "
                "`inhouse access request`, `inhouse baseline verify` and `inhouse prove NAME "
                "--rerun` sign into .inhouse/outbox for `inhouse evidence export -o FILE`, which "
                "the lead imports"
            )

    def _me(self, state: ProgramState) -> Person:
        key_id = self.key.key_id
        name = state.person_of_key(key_id)
        if name is None and self._delegation is not None:
            name = self._delegated_person(state)
        if name is None:
            # an empty roster is no evidence against this key where the log is cut short or
            # absent: say that, not that the key is not enrolled
            refuse_if_tampered(state)
            self.refuse_if_detached(f"tell whose key {key_id} is")
            revoked = state.keys.get(key_id)
            if revoked is not None:
                raise IdentityError(
                    f"this shell's key {key_id} was revoked for {revoked.person}; "
                    "enrol this machine again with a new invitation"
                )
            raise IdentityError(
                f"this shell's key {key_id} is not enrolled in program {state.name!r}: ask a "
                "rollout lead for an invitation and join with it (or set INHOUSE_KEY to your "
                "enrolled key)"
            )
        return state.people[name]

    def _sign_in_here(self) -> str:
        """Where the key this acts with signs in, in words, for a refusal of what it signed
        before it had: this machine, whose key it is; through a dashboard session, the machine
        whose key started the session, which on a SQLite log is this one or none
        (:func:`~inhouse.program.state.sign_in_login`)."""
        if self._delegation is None:
            return "`inhouse sign-in login` on this machine"
        return sign_in_login(
            self.log_file, "on the machine whose key started this dashboard session"
        )

    def _acting_key(self, state: ProgramState) -> str | None:
        """The enrolled key this process acts with: its own, or the one that delegated to
        this dashboard session."""
        if self._delegation is None:
            return self.key.key_id
        _, found = self._delegation_now(state)
        return None if found is None else found.key_id

    def _delegation_now(self, state: ProgramState) -> tuple[str | None, Delegation | None]:
        """This session key's delegation, checked now as the verifier will: (why it does not
        hold, or None; the delegation, or None)."""
        from inhouse.identity.delegation import delegation_problem

        return delegation_problem(
            self._delegation,
            signer=self.key.key_id,
            program_id=state.program_id,
            at=self.clock(),
            owner_of=state.verifier.keys.owner,
        )

    def _delegated_person(self, state: ProgramState) -> str:
        """Whom this session key acts for now: its delegation checked as the verifier will."""
        problem, found = self._delegation_now(state)
        if found is None:
            raise IdentityError(f"this sign-in no longer acts for anyone: {problem}; sign in again")
        if found.key_id in state.verifier.keys.services:
            from inhouse.program.integrity import service_delegates

            raise IdentityError(f"this sign-in acts for nobody: {service_delegates(found.person)}")
        return found.person

    def _begin(
        self, on_behalf_of: str | None, *, behalf_ok: bool = False
    ) -> tuple[ProgramState, Person]:
        """Start an action: the state, and the acting person (the key holder).

        ``on_behalf_of`` naming someone else is refused unless the action allows it
        (``behalf_ok``); the caller then records it as on behalf."""
        state = self.state()
        refuse_if_tampered(state)
        if state.stopped is not None:
            raise ProgramStopped(
                f"the program stopped on {state.stopped.at:%Y-%m-%d} ({state.stopped.reason}); "
                "start a new program to try again"
            )
        who = self._me(state)
        if on_behalf_of is not None and on_behalf_of != who.name:
            if not behalf_ok:
                raise NotAllowed(
                    f"{who.name} cannot do this on behalf of {on_behalf_of}: it needs "
                    f"{on_behalf_of}'s own key"
                )
            if Role.ROLLOUT_LEAD not in who.roles:
                raise NotAllowed(
                    f"only a rollout lead records evidence on behalf of someone; {who.name} "
                    "is not one"
                )
            self._person(state, on_behalf_of)
        return state, who

    def _person(self, state: ProgramState, name: str) -> Person:
        person = state.people.get(name)
        if person is None:
            raise UnknownPerson(not_on_roster(name, state.people))
        return person

    def _append(
        self,
        kind: EventKind | str,
        actor: str,
        payload: dict[str, Any],
        *,
        key: SigningKey | None = None,
    ) -> Event:
        """Append an event signed by this process's key (or ``key``) and apply it. A rollout
        lead's event that is not what inhouse writes (:func:`~inhouse.program.event_shapes.
        event_problem`: roles as text, a key id that is a list) is refused, nothing appended:
        the fold stops at a lead's malformed event, for everyone."""
        self._refuse_a_leads_malformed(kind, payload, key)
        if key is None and self._delegation is not None:
            from inhouse.program.integrity import session_refuses

            if (refused := session_refuses(str(kind), payload)) is not None:
                raise NotAllowed(f"this dashboard session cannot do that: {refused}")
            payload = {**payload, "delegation": self._delegation, **self._approved(kind, payload)}
        event = append(self.store, kind, actor, payload, at=self.clock(), key=key or self.key)
        if self._state is not None and self._state.head_seq == event.seq - 1:
            apply(self._state, event, self.playbook)
        if self._state is not None:  # what this machine wrote, it saw: a cut of it is named
            self._witness(self._state, event)
        return event

    def _refuse_a_leads_malformed(
        self, kind: EventKind | str, payload: dict[str, Any], key: SigningKey | None
    ) -> None:
        """Refuse ``payload`` where its shape is wrong for ``kind`` and the key that would sign
        it is a rollout lead's (a member's is set aside by the fold, harming nobody)."""
        from inhouse.program.event_shapes import event_problem

        problem = event_problem(str(kind), payload)
        if problem is None:
            return
        state = self.state()
        record = state.keys.get((key or self.key).key_id)
        person = state.people.get(record.person) if record is not None else None
        if person is None and self._delegation is not None and key is None:
            _, delegation = self._delegation_now(state)
            person = None if delegation is None else state.people.get(delegation.person)
        if person is not None and Role.ROLLOUT_LEAD in person.roles:
            raise InvalidInput(
                f"not recorded: this {kind} event is not what inhouse writes ({problem}); a "
                "rollout lead's malformed event would stop the program's log for everyone"
            )

    def _approved(self, kind: EventKind | str, payload: dict[str, Any]) -> dict[str, Any]:
        """The approval this session's event of ``kind`` carries (``{"approval": …}``), or
        nothing where it needs none; :class:`ApprovalNeeded` where it needs one and has none,
        and refused where the one it has does not approve exactly this (checked as the verifier
        will, so nothing is appended that would stop the log)."""
        from inhouse.identity.approval import approval_problem
        from inhouse.program.integrity import needs_approval

        if not needs_approval(str(kind), payload):
            return {}
        state = self.state()
        problem, delegation = self._delegation_now(state)
        if delegation is None:
            raise IdentityError(f"this sign-in no longer acts for anyone: {problem}; sign in again")
        approval, self._approval = self._approval, None  # one approval, one event
        if approval is None:
            raise ApprovalNeeded(
                f"{delegation.person} agrees to this with their own key, on their own machine: "
                "the dashboard shows the `inhouse web approve` command to run (a session alone "
                "does not decide a handoff or answer a survey)",
                kind=str(kind),
                payload=payload,
            )
        owner = state.verifier.keys.owner(delegation.key_id)
        problem = (
            f"key {delegation.key_id} is not on the roster" if owner is None
            else approval_problem(approval, delegation=delegation, public_key=owner[0],
                                  kind=str(kind), payload=payload, at=self.clock())
        )  # fmt: skip
        nonce = approval.get("statement", {}).get("nonce") if isinstance(approval, dict) else None
        if problem is None and nonce in state.verifier.keys.approvals:
            problem = "its approval was used already: one approval, one event"
        if problem is not None:
            raise NotAllowed(
                f"{delegation.person}'s approval does not let this session record it: "
                f"{problem}; ask for a new approval from the dashboard"
            )
        return {"approval": approval}

    # -- provided by the waivers mixin (declared here so every part can call them) -----------

    def check_reach(
        self, actor: str | None, reach: Reach, *, action: str, person: str | None = None
    ) -> list[Waiver]:
        raise NotImplementedError  # pragma: no cover - WaiversMixin implements it

    def _pass_guards(
        self, state: ProgramState, actor: str, blockers: list[Blocker], *, action: str
    ) -> list[Waiver]:
        raise NotImplementedError  # pragma: no cover - WaiversMixin implements it

    def _judged_at(self, state: ProgramState, who: str) -> datetime:
        """When ``who``'s guarded action is judged: as every fold will judge it
        (:func:`~inhouse.program.state.judging_time`), so the API never lets through what the
        fold then shows as held back."""
        return judging_time(state, who, self.clock())
