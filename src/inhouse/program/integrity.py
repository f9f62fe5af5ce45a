"""The chain's integrity, event by event: hash, link, and the signature of the key the roster
held for its signer at that point. One verifier serves the fold (the state is derived only from
events that verify: a row edited or re-chained stops the fold there; one no key on the roster
signed, unsigned after identities began or signed by a key nobody enrolled, is nobody's the fold
can tell and is set aside, :attr:`_Keys.nobodys`) and ``inhouse audit verify`` (which reports
either).

Keys come from enrolments: the lead's at creation (event 1's signature is checked once event 2
enrols that key), each person's own at joining (signed by the new key, against a lead's
invitation, or their own for a machine of theirs, and with that invitation's own key's signature
over the new key where the invitation logs one: :mod:`inhouse.identity.invitations`), a
service's vouched for by a lead, an envelope's enrolment when imported. A
dashboard session's key is never one of them: it acts for an event at a time, on a delegation a
person's enrolled key signed (never a service's), and the verifier remembers which key that was
(what the session signs comes from that key's machine).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from inhouse.errors import IdentityError
from inhouse.program.events import GENESIS, EventKind, event_hash, signed_material

__all__ = ["LEARNT_FROM", "ChainVerifier", "Row", "needs_approval", "service_delegates"]


@dataclass(frozen=True)
class Row:
    """An event as stored: the exact texts that were hashed."""

    seq: int
    at: str
    actor: str
    kind: str
    payload: str
    prev_hash: str
    hash: str
    signer: str | None
    signature: str | None


class _Keys:
    """The roster's keys as the log stood at each event."""

    def __init__(self) -> None:
        self.public: dict[str, tuple[str, str]] = {}  # key id -> (public key, person)
        self.revoked: set[str] = set()
        self.invitations: dict[str, str] = {}  # token hash -> invited name
        #: token hash -> the public half of the key its token seeds, where its invitation logs
        #: one: a key joins with it only with that key's signature (:mod:`inhouse.identity.
        #: invitations`); an invitation from before logs none, and its hash alone still joins
        self.join_keys: dict[str, str] = {}
        self.first: Any = None  # event 1, until the enrolment of its key lets us verify it
        self.program_id = ""  # event 1's hash: what a session delegation must name
        self.delegated: dict[str, str] = {}  # session key id -> the person it acted for
        #: session key id -> the enrolled key whose delegation let it act (its machine is the
        #: machine of what the session signs)
        self.delegated_by: dict[str, str] = {}
        self.services: set[str] = set()  # key ids enrolled for a service: they never sign in
        #: session key id -> when its delegation ends (the fold holds a session event dated
        #: back into it once the log has moved past it: :mod:`inhouse.program.state`)
        self.session_ends: dict[str, datetime] = {}
        #: an approval's nonce -> the event it approved (:mod:`inhouse.identity.approval`)
        self.approvals: dict[str, int] = {}
        #: (seq, why) of the event just checked, where its hash, link and signature hold but
        #: what it says cannot be taken in (an envelope that does not open, an enrolment
        #: naming no invitation for it, a kind its session may not sign): nothing is learnt
        #: from it, and the fold says whose it is, which the signature alone does not tell
        #: (a member's is set aside, anyone else's stops the fold: :func:`~inhouse.program.
        #: state.apply`). Read once, by :meth:`take_unlearnt`
        self.unlearnt: tuple[int, str] | None = None
        #: (seq, who could have made it) of the event just checked, where its hash and link hold
        #: but nobody the roster knows signed it (unsigned after identities began, a key no
        #: enrolment names or one revoked, a session no enrolled key's delegation lets act):
        #: anyone who writes the store can make one, so it is nobody's the fold can tell, and
        #: the fold sets it aside, named (:attr:`unlearnt` says why), rather than stop there,
        #: which let any writer of the store freeze the program for everyone
        self.nobodys: tuple[int, str] | None = None

        #: how to undo what the event being folded taught (:meth:`learnt`), newest last; None
        #: where nothing asked to remember it
        self._undo: list[Callable[[], None]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # a folded state is cached as a pickle (:mod:`inhouse.program.foldcache`): its last
        # event's undos (closures) are no part of what it knows
        return {**self.__dict__, "_undo": None}

    def owner(self, key_id: str) -> tuple[str, str] | None:
        return None if key_id in self.revoked else self.public.get(key_id)

    def learnt(self) -> list[Callable[[], None]]:
        """Remember, from here, what the next event teaches (:func:`_learn`): the fold undoes
        it where it sets the event aside (:meth:`forget`), so a member's forged revocation or
        invitation teaches the signature check nothing. An undo per change, not a copy of every
        key and invitation known: copied before each member's invitation or enrolment, the
        fold's cost grew with their number times the log's invitations."""
        self._undo = []
        return self._undo

    def forget(self, learnt: list[Callable[[], None]]) -> None:
        """Undo what was learnt since :meth:`learnt` returned ``learnt``."""
        while learnt:
            learnt.pop()()
        if learnt is self._undo:
            self._undo = None

    def settle(self) -> None:
        """Keep what was learnt: nothing remembered to undo any more (the next event's)."""
        self._undo = None

    def put(self, table: dict[str, Any], key: str, value: Any) -> None:
        """``table[key] = value`` (``table``: :attr:`public` or :attr:`invitations`)."""
        self._remember(table, key)
        table[key] = value

    def drop(self, table: dict[str, Any], key: str) -> None:
        self._remember(table, key)
        del table[key]

    def add(self, members: set[str], key: str) -> None:
        """Add ``key`` to :attr:`revoked` or :attr:`services`."""
        if self._undo is not None and key not in members:
            self._undo.append(lambda: members.discard(key))
        members.add(key)

    def _remember(self, table: dict[str, Any], key: str) -> None:
        if self._undo is None:
            return
        if key in table:
            was = table[key]
            self._undo.append(lambda: table.__setitem__(key, was))
        else:
            self._undo.append(lambda: table.pop(key, None) and None)

    def take_unlearnt(self, seq: int) -> str | None:
        """Why event ``seq``, which verified, taught nothing (:attr:`unlearnt`), or None."""
        found, self.unlearnt = self.unlearnt, None
        return found[1] if found is not None and found[0] == seq else None

    def shows_invitation(self, token: str, proof: Any, key_id: str) -> bool:
        """Whether an enrolment of ``key_id`` on the invitation ``token`` (its hash) shows the
        invitation itself, not only its hash: its ``proof`` is the signature of the key the
        invitation's token seeds, where the invitation logs one (one from before logs none)."""
        from inhouse.identity.invitations import join_proof_holds

        join_key = self.join_keys.get(token)
        if join_key is None:
            return True
        return join_proof_holds(
            join_key, proof, program_id=self.program_id, token_hash=token, key_id=key_id
        )

    def nobodys_at(self, seq: int) -> str | None:
        """Who could have made event ``seq``, where nobody on the roster signed it
        (:attr:`nobodys`), or None."""
        return self.nobodys[1] if self.nobodys is not None and self.nobodys[0] == seq else None

    def set_aside(self, seq: int, why: str, who: str) -> None:
        """Take event ``seq`` in as nobody's the roster knows: nothing is learnt from it."""
        self.unlearnt = (seq, why)
        self.nobodys = (seq, who)


def _key_id(public: str) -> str | None:
    """The key id of ``public``, or None where it is no base64 key (a member's hand-typed
    enrolment: it raised out of the fold, and every command with it)."""
    from inhouse.identity import key_id_of

    try:
        return key_id_of(public)
    except ValueError:  # binascii.Error is one
        return None


def _check_signed(row: Any, payload: dict[str, Any], keys: _Keys) -> str | None:
    """Why a signed event does not verify, or None; learns the keys it introduces (or, where
    what a verified event says cannot be taken in, learns nothing: :attr:`_Keys.unlearnt`)."""
    from inhouse.identity import verify_signature

    signer = str(row.signer)
    delegating: str | None = None  # the enrolled key whose delegation a session key acts on
    unlearnt: str | None = None  # why what it says is not taken in, its signature holding
    spent: str | None = None  # the invitation a self-enrolment joins with
    fresh = False  # a key's own enrolment by a key that no enrolment names yet
    self_enrolled = (
        row.kind == EventKind.PERSON_ENROLLED
        and isinstance(payload, dict)
        and not payload.get("service")
    )
    public = str(payload.get("public_key", "")) if self_enrolled else ""
    if self_enrolled and signer in (payload.get("key_id"), _key_id(public)):
        # signed by the key it enrols (its key id, or the public key it carries, names the
        # signer: a key id left out or mistyped is the enrolment's to answer for, not the chain's)
        fresh = signer not in keys.public  # its own enrolment, by a key nobody enrolled yet
        if _key_id(public) != signer:
            why = f"event {row.seq} enrols a public key that is not key {signer}"
            if not fresh:
                return why
            keys.set_aside(int(row.seq), why, _ANYONE)  # it can sign as nobody
            return None
        token = str(payload.get("token_hash", ""))
        if payload.get("key_id") != signer:
            unlearnt = f"event {row.seq} enrols key {payload.get('key_id')} but {signer} signed it"
        elif payload.get("claimed") and keys.public:
            unlearnt = f"event {row.seq} claims the lead's first key, but keys were enrolled before"
        elif row.seq > 2 and not payload.get("claimed"):
            invited = keys.invitations.get(token)
            if invited is None or invited != payload.get("name"):
                unlearnt = f"event {row.seq} enrols {payload.get('name')} without an invitation"
            elif not keys.shows_invitation(token, payload.get("join_proof"), signer):
                unlearnt = _no_proof(row.seq, signer, invited)
            spent = token
        known = (public, str(payload.get("name")))
        first = keys.first
        if first is not None and first.signer == signer and unlearnt is None:
            keys.first = None
            if not verify_signature(public, signed_material(first.hash), str(first.signature)):
                return "event 1 (program.created) does not carry a valid signature of its key"
    else:
        found = keys.owner(signer)
        if found is None and isinstance(payload, dict) and "delegation" in payload:
            problem, found, delegating, unlearnt = _delegated(row, payload, keys)
            vouched = _vouched(row, payload, keys) if problem is not None else None
            if vouched is not None and _signed_by(row, vouched.session_key):
                # an enrolled key's holder let this session act, outside its window: theirs (or
                # their dashboard host's) to answer for, which the fold tells as for any event
                # of that session (a member's is set aside, a lead's stops it)
                keys.delegated[signer] = vouched.person
                keys.delegated_by[signer] = vouched.key_id
                keys.unlearnt = (int(row.seq), str(problem))
                return None
            if problem is not None:
                keys.set_aside(int(row.seq), problem, _ANYONE)
                return None
        if found is None:
            revoked = keys.public.get(signer) if signer in keys.revoked else None
            if revoked is not None and not _signed_by(row, revoked[0]):
                why = (
                    f"event {row.seq} ({row.kind} by {row.actor}) names {revoked[1]}'s revoked "
                    f"key {signer} but does not carry its signature"
                )
                keys.set_aside(int(row.seq), why, _ANYONE)
                return None
            if revoked is not None:
                keys.set_aside(
                    int(row.seq),
                    f"event {row.seq} ({row.kind} by {row.actor}) is signed by {revoked[1]}'s "
                    f"key {signer}, revoked before it",
                    "a revoked key speaks for nobody: whoever holds it (or took it) made it",
                )
                return None
            keys.set_aside(
                int(row.seq),
                f"event {row.seq} ({row.kind} by {row.actor}) is signed by key {signer}, which "
                "no enrolment before it names",
                _ANYONE,
            )
            return None
        known = found
    public, person = known
    if not verify_signature(public, signed_material(row.hash), str(row.signature or "")):
        if self_enrolled and fresh and delegating is None:
            # a key's own enrolment stops the fold as any row whose signature does not hold: the
            # signature is the one column no hash covers, so junk in place of a genuine one
            # breaks no link and no anchor, and set aside it took with it everything that key
            # signed since (each then signed by a key no enrolment names)
            return (
                f"event {row.seq} ({row.kind}) does not carry a valid signature of key "
                f"{signer}, the key it enrols: its signature (which no hash covers) was "
                "replaced after it was written, or it was re-chained"
            )
        return (
            f"event {row.seq} ({row.kind} by {row.actor}) does not carry a valid signature of "
            f"{person}'s key {signer}: it was altered or re-chained after it was written"
        )
    if row.actor != person and row.kind != EventKind.PERSON_ENROLLED and unlearnt is None:
        # its signer's own doing: taught nothing, and the fold tells whose it is (a member's is
        # set aside; it stopped the fold, and a member froze the program with one event)
        unlearnt = (
            f"event {row.seq} names {row.actor} as its actor but was signed by {person}'s key"
        )
    if delegating is not None:  # a session key counts for this event only, never enrolled
        # (where its event says what it may not, its delegation, which holds, still names who
        # it acted for: the fold tells whose attempt it was)
        keys.delegated[signer] = person
        keys.delegated_by[signer] = delegating
    if unlearnt is not None:
        keys.unlearnt = (int(row.seq), unlearnt)
        return None
    if delegating is not None:
        return None
    from inhouse.program.event_shapes import event_problem

    if row.kind in LEARNT_FROM and event_problem(str(row.kind), payload) is not None:
        # signed, yet not what inhouse writes: nothing is learnt from it (a key id that is a
        # list, an invitation with no expiry, a self-enrolment's own key), and the fold sets
        # it aside or stops there
        return None
    # :func:`_learn` changes nothing where it finds what it cannot take in: a copy of every key
    # and invitation known, taken before each event to put back, grew the fold's cost with the
    # log's length times its invitations (what the fold may undo is journalled: _Keys.learnt)
    if (unlearnt := _learn(row, payload, keys)) is not None:
        keys.unlearnt = (int(row.seq), unlearnt)
        return None
    if spent is not None:
        keys.drop(keys.invitations, spent)  # found above
        if spent in keys.join_keys:
            keys.drop(keys.join_keys, spent)
    keys.put(keys.public, signer, known)
    return None


#: who could have made an event signed by nobody on the roster, as its warning says it
_ANYONE = (
    "no key on the roster signed it: anyone who writes the store could have made it, in any name"
)


def _no_proof(seq: int, key_id: str, invited: str) -> str:
    return (
        f"event {seq} enrols key {key_id} on {invited}'s invitation without the invitation's "
        "own signature over that key: it shows only the invitation's hash, which the log holds "
        "for anyone who writes the store to read (a join by an inhouse from before this check "
        "lacks it too: join again with this inhouse, on the same invitation)"
    )


def _signed_by(row: Any, public: str) -> bool:
    """Whether ``row`` carries a valid signature of ``public`` (before naming its holder)."""
    from inhouse.identity import verify_signature

    return verify_signature(public, signed_material(row.hash), str(row.signature or ""))


def _vouched(row: Any, payload: dict[str, Any], keys: _Keys) -> Any:
    """The delegation a session key's event carries, which does not let it act, where it still
    holds at its own issue time: signed by an enrolled key's holder for this session key and
    program (it failed on its window, which is that holder's or their host's doing); else None.
    One that does not hold so is anyone's: a fresh key and a delegation of nothing make one."""
    from inhouse.errors import IdentityError
    from inhouse.identity.delegation import delegation_problem, read_delegation

    try:
        issued = read_delegation(payload["delegation"]).issued
    except (IdentityError, LookupError, TypeError, ValueError, AttributeError):
        return None
    _, delegation = delegation_problem(
        payload["delegation"],
        signer=str(row.signer),
        program_id=keys.program_id,
        at=issued,
        owner_of=keys.owner,
    )
    return delegation


#: the events a sign-in session signs: what the dashboard's forms do (a handoff decided, with
#: the play's exit an acceptance writes, which the fold admits only after an acceptance; and
#: the facts of kinds declared ``from_dashboard``: a survey answered, a ticket's steps)
_DELEGABLE = frozenset({EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_REJECTED,
                        EventKind.PLAY_EXITED, EventKind.FACT_RECORDED})  # fmt: skip


def session_refuses(kind: str, payload: dict[str, Any]) -> str | None:
    """Why a dashboard session may not sign an event of ``kind`` (``payload``: its payload),
    or None when it may. A session key lives on the dashboard's host, not on its person's
    machine: it signs what the dashboard's forms do and nothing else, so the host cannot sign,
    in the name of someone signed in, a measurement (a verify, a rerun), a step only their own
    machine makes (an access request, an enablement, a confirmation), or the roster."""
    from inhouse.program.facts import FACT_KINDS

    if kind not in _DELEGABLE:
        return f"a session may not sign {kind}"
    if kind == EventKind.FACT_RECORDED:
        fact = str(payload.get("kind", ""))
        spec = FACT_KINDS.get(fact)
        if spec is None or not spec.from_dashboard:
            return (
                f"a session may not sign {fact} facts: a session signs only what the "
                "dashboard's forms record (a handoff decided, a survey answer, a ticket's "
                "steps); the rest its person records with their own key, on their own machine"
            )
    return None


def _delegated(
    row: Any, payload: dict[str, Any], keys: _Keys
) -> tuple[str | None, tuple[str, str] | None, str | None, str | None]:
    """An event signed by a dashboard session key: the (public key, person) its delegation lets
    it act for and the enrolled key that signed that delegation, or why it does not
    (:mod:`inhouse.identity.delegation`); and, where its delegation holds, why what the event
    says is not taken in (a kind a session may not sign, an approval that does not hold): the
    person whose key signed the delegation made that attempt, which the fold sets aside where
    they are a member. Its time is the writer's word, its place in the log is not: the fold
    refuses one dated back into a session the log has moved past."""
    from inhouse.identity.delegation import delegation_problem

    where = f"event {row.seq} ({row.kind} by {row.actor}) is signed by session key {row.signer}"
    if str(row.signer) in keys.public or str(row.signer) in keys.revoked:
        # a session key is made fresh at sign-in; an enrolled one (a revoked key of whoever runs
        # the dashboard) would be taken for its holder's own key wherever a key is looked up
        why = f"{where}, a key enrolled on the roster: a session key is never one"
        return why, None, None, None
    problem, delegation = delegation_problem(
        payload["delegation"],
        signer=str(row.signer),
        program_id=keys.program_id,
        at=datetime.fromisoformat(str(row.at)),
        owner_of=keys.owner,
    )
    refused = session_refuses(str(row.kind), payload)
    if delegation is None:
        why = f"{where}: {refused}" if refused is not None else f"{where}, but {problem}"
        return why, None, None, None
    keys.session_ends[str(row.signer)] = delegation.expires
    if delegation.key_id in keys.services:
        return f"{where}, but {service_delegates(delegation.person)}", None, None, None
    unlearnt = None if refused is None else f"{where}: {refused}"
    if unlearnt is None and "approval" in payload:
        approval = _approval_refused(row, payload, keys, delegation)
        unlearnt = None if approval is None else f"{where}, but {approval}"
    return None, (delegation.session_key, delegation.person), delegation.key_id, unlearnt


def needs_approval(kind: str, payload: dict[str, Any]) -> bool:
    """Whether a session signs an event of ``kind`` only with its person's own approval of it
    (:mod:`inhouse.identity.approval`): a handoff decided, and a fact of a kind declared
    ``needs_approval`` (a survey answer). The session's host proposes; the person's key agrees."""
    if kind in (EventKind.HANDOFF_ACCEPTED, EventKind.HANDOFF_REJECTED):
        return True
    if kind != EventKind.FACT_RECORDED:
        return False
    from inhouse.program.facts import FACT_KINDS

    spec = FACT_KINDS.get(str(payload.get("kind", "")))
    return spec is not None and spec.needs_approval


def _approval_refused(
    row: Any, payload: dict[str, Any], keys: _Keys, delegation: Any
) -> str | None:
    """Why the approval a session's event carries does not hold (None when it does); learns
    its nonce, which approves one event only."""
    from inhouse.identity.approval import approval_problem

    owner = keys.owner(delegation.key_id)
    if owner is None:  # delegation_problem checked it a moment ago
        return f"key {delegation.key_id} is not on the roster"
    problem = approval_problem(
        payload["approval"],
        delegation=delegation,
        public_key=owner[0],
        kind=str(row.kind),
        payload=payload,
        at=datetime.fromisoformat(str(row.at)),
    )
    if problem is not None:
        return problem
    nonce = str(payload["approval"]["statement"]["nonce"])
    if (earlier := keys.approvals.get(nonce)) is not None:
        return f"its approval was used already, by event {earlier}: one approval, one event"
    keys.approvals[nonce] = int(row.seq)
    return None


def service_delegates(service: str) -> str:
    """Why a service's key lets no session act for it (the verifier's words, and the API's)."""
    return (
        f"its delegation is signed by the {service} service's key: a service never signs in to "
        "the dashboard, so no session acts for it"
    )


#: the kinds the verifier learns keys from (:func:`_learn`)
#: the events the signature check learns keys from (:func:`_learn`)
LEARNT_FROM = frozenset({EventKind.PERSON_INVITED, EventKind.KEY_REVOKED,
                          EventKind.PERSON_ENROLLED, EventKind.EVIDENCE_IMPORTED})  # fmt: skip


def _learn(row: Any, payload: dict[str, Any], keys: _Keys) -> str | None:
    """Learn the keys and invitations the verified ``row`` introduces; or, changing nothing,
    say why what it says cannot be taken in."""
    from inhouse.identity import ENROLMENT_TYPE, open_envelope

    if row.kind == EventKind.PERSON_INVITED:
        keys.put(keys.invitations, str(payload["token_hash"]), str(payload["name"]))
        if isinstance(join_key := payload.get("join_key"), str):
            keys.put(keys.join_keys, str(payload["token_hash"]), join_key)
    elif row.kind == EventKind.KEY_REVOKED:
        keys.add(keys.revoked, str(payload["key_id"]))
    elif row.kind == EventKind.PERSON_ENROLLED and payload.get("service"):
        public = str(payload.get("public_key", ""))
        if _key_id(public) != payload.get("key_id"):
            return f"event {row.seq} enrols a service key that does not match its key id"
        keys.put(keys.public, str(payload["key_id"]), (public, str(payload["name"])))
        keys.add(keys.services, str(payload["key_id"]))
        for superseded in payload.get("supersedes") or ():
            # a rotated-out key of the same service signs nothing from here on, as if revoked
            if keys.public.get(str(superseded), ("", ""))[1] == payload["name"]:
                keys.add(keys.revoked, str(superseded))
    elif row.kind == EventKind.EVIDENCE_IMPORTED:
        try:
            envelope = open_envelope(payload["envelope"], where=f"event {row.seq}")
        except (IdentityError, KeyError) as err:
            return str(err)
        if envelope.key_id != payload.get("key_id"):
            return f"event {row.seq} attributes its envelope to another key than signed it"
        if envelope.digest != payload.get("digest"):
            return (
                f"event {row.seq} names its envelope by another digest than the envelope's own: "
                "an envelope imported once is imported once"
            )
        # an enrolment by its predicate type, as the fold and the import read it: by its
        # fields, one with a stray "fact" beside them enrolled its key in the fold and not
        # here, and the first event that key signed stopped the fold
        if envelope.predicate_type == ENROLMENT_TYPE:
            token = str(envelope.predicate.get("token_hash"))
            invited = keys.invitations.get(token)
            if invited is None or invited != envelope.predicate.get("name"):
                return f"event {row.seq} imports an enrolment without an invitation"
            proof = envelope.predicate.get("join_proof")
            if not keys.shows_invitation(token, proof, envelope.key_id):
                return _no_proof(row.seq, envelope.key_id, invited)
            keys.drop(keys.invitations, token)
            if token in keys.join_keys:
                keys.drop(keys.join_keys, token)
            keys.put(keys.public, envelope.key_id, (envelope.public_key, invited))
    return None


def _row_problem(
    row: Any,
    expected_seq: int,
    prev: str,
    keys: _Keys,
    any_signed: bool,
    lead_key: str | None,
    payload: dict[str, Any] | None = None,
    program_id: str | None = None,
) -> tuple[str, int] | None:
    """What is wrong with one stored event, and the seq to blame; None when it holds."""
    if row.seq != expected_seq:
        return f"event {expected_seq} is missing (next stored event is {row.seq})", expected_seq
    if row.prev_hash != prev:
        return (
            f"event {row.seq} does not link to event {row.seq - 1}: event {row.seq - 1} was "
            "altered or replaced after it was written",
            row.seq - 1,
        )
    recomputed = event_hash(
        row.seq, row.at, row.actor, row.kind, row.payload, row.prev_hash, row.signer
    )
    if recomputed != row.hash:
        return f"event {row.seq} ({row.kind} by {row.actor}) was altered", row.seq
    if row.seq == 1 and (problem := _not_the_program(row, lead_key, program_id)) is not None:
        return problem, 1
    if row.signer is None:
        if any_signed:
            why = (
                f"event {row.seq} ({row.kind} by {row.actor}) carries no signature, after "
                "identities began: it was written or stripped by hand"
            )
            keys.set_aside(int(row.seq), why, _ANYONE)
        return None
    if row.seq == 1:
        keys.first = row  # verified once the lead's key is enrolled (event 2)
        return None
    problem = _check_signed(row, payload if payload is not None else json.loads(row.payload), keys)
    return (problem, row.seq) if problem else None


def _not_the_program(row: Any, lead_key: str | None, program_id: str | None) -> str | None:
    """Why event 1 does not start the program ``inhouse.toml`` (kept in git) names, or None.
    Its key must be the ``lead_key`` there, and its hash the ``program_id``: the lead key alone
    does not tell a log the lead started again with her own key from the program's, since
    every link and signature of such a log holds. Either is left unchecked where the file
    names none (a program made before identities)."""
    if lead_key and row.signer is not None and row.signer != lead_key:
        return (
            f"event 1 is signed by key {row.signer}, not by the lead's key {lead_key} that "
            "inhouse.toml names: this log was rebuilt by someone else"
        )
    if program_id and row.hash != program_id:
        return (
            f"event 1 ({row.hash[:16]}…) is not the first event of the program inhouse.toml "
            f"names ({program_id[:16]}…): this log was rebuilt from scratch (restore the "
            "program's own from a backup), or this inhouse.toml is another program's (use the "
            "one kept in git with this log)"
        )
    return None


class ChainVerifier:
    """Checks the log one event at a time, oldest first; remembers what it needs in between.
    ``lead_key`` and ``program_id``: what ``inhouse.toml`` says event 1's key and hash are."""

    def __init__(self, lead_key: str | None = None, program_id: str | None = None) -> None:
        self.lead_key = lead_key
        self.program_id = program_id
        self.prev = GENESIS
        self.checked = 0
        self.signed = 0
        self.unsigned = 0
        self.keys = _Keys()

    def check(
        self, row: Row | Any, payload: dict[str, Any] | None = None
    ) -> tuple[str, int] | None:
        """The problem with the next event and the seq to blame, or None (and it is taken in).
        ``payload``: the row's payload already parsed, where the caller has it."""
        found = _row_problem(
            row,
            self.checked + 1,
            self.prev,
            self.keys,
            self.signed > 0,
            self.lead_key,
            payload,
            self.program_id,
        )
        if found is not None:
            return found
        if self.checked == 0:
            self.keys.program_id = row.hash
        if row.signer is None:
            self.unsigned += 1
        else:
            self.signed += 1
        self.prev = row.hash
        self.checked += 1
        return None

    def pending(self) -> str | None:
        """What cannot be checked yet: event 1, while its key has not been enrolled."""
        if self.keys.first is not None:
            return "event 1's key is never enrolled: its signature cannot be checked"
        return None
