"""No ordinary member (enrolled, no rollout lead) freezes or crashes the program for everyone
with an event they can append. omar, such a member, appends around the API every kind of
event his key can sign (the engine's :class:`EventKind` and the play packages' kinds), with
odd but well-typed values (empty texts, unknown ids, huge numbers, times far off, references
to nothing, to himself) as well as malformed ones. Each is set aside or judged, never a reason
for the fold to stop (every later event uncounted) or to raise (every command down). A lead's
malformed event still stops the fold (tests/test_event_shapes.py, test_event_authority.py).

Found here, each once a freeze: an invitation's expiry that is a count of seconds (pydantic
read it as a time, the fold does not), a fact whose provenance is a list (unhashable), an
import whose envelope does not open, a service enrolment by a member with a public key that is
no base64 (it raised out of the fold: a crash), a self-enrolment on his own invitation that
names another person or has expired, and his own dashboard session signing what a session may
not (a kind, an approval that does not hold)."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from inhouse.db.schema import events
from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.access import KEY_GRANTED, KEY_ISSUED, KEY_REVOKED
from inhouse.program.audit import verify_chain
from inhouse.program.events import (
    Event,
    EventKind,
    append,
    canonical_json,
    event_hash,
    format_time,
    signed_material,
)
from inhouse.program.people import InvitationText
from inhouse.program.state import ProgramState, fold
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol
from tests.test_delegation_machine import _delegation

LATER = "2030-01-01T00:00:00+00:00"

#: what inhouse writes for each kind omar's key can sign (an honest-looking payload, which the
#: odd values below replace field by field); a play package's kinds: the gateway's, and one
#: this process knows nothing of
WRITTEN: dict[str, dict[str, Any]] = {
    EventKind.PROGRAM_CREATED: {"name": "A", "lead": "omar", "playbook": "local-model-program",
                                "playbook_version": 2},
    EventKind.PERSON_ADDED: {"name": "omar", "team": "ops", "email": "", "roles": ["play-owner"]},
    EventKind.PERSON_CHANGED: {"name": "omar", "team": "ops", "email": "",
                               "roles": ["play-owner"]},
    EventKind.HYPOTHESIS_RECORDED: {"statement": "s", "metric": "m"},
    EventKind.FACT_RECORDED: {"kind": "task.named", "version": 1, "provenance": "attested",
                              "payload": {"task": "t", "frequency": "daily"}, "comment": "c",
                              "expires": LATER, "on_behalf_of": "lena"},
    EventKind.PLAY_STARTED: {"play": "baseline", "owner": "omar", "waivers": []},
    EventKind.HANDOFF_OFFERED: {"play": "prove", "to": "lena", "evidence_hash": "h",
                                "comment": ""},
    EventKind.HANDOFF_ACCEPTED: {"play": "baseline", "evidence_hash": "h", "evidence": [1],
                                 "rules": 8, "comment": ""},
    EventKind.HANDOFF_REJECTED: {"play": "baseline", "comment": ""},
    EventKind.PLAY_EXITED: {"play": "baseline", "evidence": [1], "rules": 8},
    EventKind.WAIVER_GRANTED: {"guard": "scaling-before-proving", "play": None, "reason": "other",
                               "note": "", "expires": LATER},
    EventKind.ACTION_REFUSED: {"action": "a", "guards": ["g"], "message": "m"},
    EventKind.PROGRAM_STOPPED: {"reason": "not-worth-it", "evidence": [1], "comment": ""},
    EventKind.PERSON_INVITED: {"name": "omar", "token_hash": "t" * 64, "expires": LATER,
                               "another_key": True},
    EventKind.PERSON_ENROLLED: {"name": "omar", "key_id": "k", "public_key": "p",
                                "token_hash": "t" * 64},
    EventKind.KEY_REVOKED: {"key_id": "k", "person": "omar"},
    EventKind.EVIDENCE_IMPORTED: {"envelope": {"payloadType": "x", "payload": "",
                                               "signatures": []}, "digest": "d", "key_id": "k"},
    EventKind.SIGN_IN_SET_UP: {"issuer": "https://idp.example", "client_id": "c",
                               "domain": "acme.example", "keys": []},
    EventKind.PERSON_SIGNED_IN: {"id_token": "a.b.c"},
    EventKind.MAILBOX_RELEASED: {"mailbox": "lena@acme.example", "to": "omar"},
    EventKind.DASH_NAMES: {"domain": "acme.example"},
    KEY_GRANTED: {"grant": "g", "person": "omar", "agent": None},
    KEY_ISSUED: {"grant": "g", "key": "k", "person": "omar", "prefix": "p", "hash": "h"},
    KEY_REVOKED: {"grant": "g", "key": "k", "person": "omar"},
    "access.requested": {"x": 1},
}  # fmt: skip

#: odd values, each put in every field of every kind: texts empty, huge, of times far off or a
#: count of seconds; numbers negative, huge, infinite-ish; nothing; other types; names of
#: nobody, of plays, of people; references to events that do not exist, to event 1
ODD: list[Any] = ["", "x" * 5000, -1, 0, 10**30, 1e308, None, True, [], {}, [1], {"a": 1},
                  "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1700000000",
                  "2030-01-01T00:00:00", "nobody", "prove", "omar", "lena", [-1], [10**30],
                  ["x"], [None]]  # fmt: skip


def test_the_table_names_every_engine_kind() -> None:
    """A kind added to the engine is added here, or this sweep does not reach it."""
    assert set(EventKind) <= set(WRITTEN)


@dataclass
class _World:
    lena: Program
    omar: Program
    events: list[Event]


def _world(folder: Path, clock: Clock, *, plays: bool) -> _World:
    """lena (a rollout lead) and omar (a member, play owner, signed in); with ``plays``, play 1
    started for omar to own and play 2 offered to him by lena."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops", roles=["play-owner"])
    if plays:
        lena.change_roles(None, "lena", add=["play-owner"])
        lena._append(EventKind.PLAY_STARTED, "lena", {"play": "prove", "owner": "omar"})
        lena._append(EventKind.PLAY_STARTED, "lena", {"play": "baseline", "owner": "lena"})
        lena._append(EventKind.HANDOFF_OFFERED, "lena", {"play": "baseline", "to": "omar",
                     "evidence_hash": "h", "comment": ""})  # fmt: skip
    return _World(lena, omar, lena.events())


def _signed(after: Event, key: SigningKey, kind: str, payload: Any, at: datetime) -> Event:
    """The next event after ``after``, signed by ``key`` as :func:`~inhouse.program.events.
    append` signs one (the same hash and signed material), held in memory: the sweep folds
    thousands of logs, each its world's and one more event."""
    body = canonical_json(payload)
    when = format_time(at)
    seq = after.seq + 1
    digest = event_hash(seq, when, "omar", kind, body, after.hash, key.key_id)
    signature = key.sign(signed_material(digest))
    return Event(seq, at, "omar", kind, json.loads(body), after.hash, digest, key.key_id,
                 signature, when, body)  # fmt: skip


def _variants(written: dict[str, Any]) -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = [("as written", written), ("{}", {}), ("[1]", [1])]
    for field, odd in itertools.product(written, ODD):
        cases.append((f"{field}={odd!r:.30}", {**written, field: odd}))
    cases += [
        (f"no {field}", {k: v for k, v in written.items() if k != field}) for field in written
    ]
    return cases


@pytest.mark.parametrize("plays", [False, True], ids=["no plays", "plays under way"])
def test_no_event_of_a_members_stops_or_crashes_the_fold(
    _isolated: Path, clock: Clock, plays: bool
) -> None:
    """Every kind, every field, every odd value, dated now, at the start of time and at its
    end: the fold takes it or sets it aside, and never stops or raises."""
    world = _world(_isolated, clock, plays=plays)
    lead_key = world.lena.settings.lead_key
    stops: list[str] = []
    far = (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    for kind, written in WRITTEN.items():
        for label, payload in _variants(written):
            for at in (clock(), *(far if label in ("as written", "{}") else ())):
                event = _signed(world.events[-1], world.omar.key, kind, payload, at)
                try:
                    state = fold([*world.events, event], lead_key=lead_key,
                                 playbook=world.lena.playbook)  # fmt: skip
                except Exception as err:  # what is being looked for
                    stops.append(f"{kind} {label} at {at:%Y}: raised {type(err).__name__} {err}")
                    continue
                if state.tampered is not None:
                    stops.append(f"{kind} {label} at {at:%Y}: stopped: {state.tampered[0]}")
    assert not stops, "\n".join(stops[:20])


def _learnt(state: ProgramState) -> tuple[Any, ...]:
    """Everything a member's event could teach the fold or the signature check."""
    return (
        dict(state.people), dict(state.keys), dict(state.invitations), dict(state.plays),
        dict(state.handoffs), list(state.waivers), list(state.refusals), state.stopped,
        state.sign_in, dict(state.signed_in), dict(state.signed_keys),
        {kind: [e.seq for e in found] for kind, found in state.package_events.items()},
        dict(state.mailbox_released), dict(state.dash_names), set(state.imported),
        state.verifier.keys.learnt(), [f.id for f in state.facts], dict(state.exited),
    )  # fmt: skip


#: what omar appends (with his own key, through the store's real append): each set aside,
#: named on ``status``, nothing learnt. Each once stopped the fold or crashed every command
ASIDE: dict[str, tuple[str, dict[str, Any], str]] = {
    "his own machine invited with an expiry that is a count of seconds": (
        EventKind.PERSON_INVITED,
        {"name": "omar", "token_hash": "t" * 64, "expires": "1700000000", "another_key": True},
        "expires",
    ),
    "a fact whose provenance is a list": (
        EventKind.FACT_RECORDED,
        {**WRITTEN[EventKind.FACT_RECORDED], "provenance": ["measured"]},
        "provenance",
    ),
    "a fact whose provenance is an object": (
        EventKind.FACT_RECORDED,
        {**WRITTEN[EventKind.FACT_RECORDED], "provenance": {"a": 1}},
        "provenance",
    ),
    "an import whose envelope does not open": (
        EventKind.EVIDENCE_IMPORTED,
        WRITTEN[EventKind.EVIDENCE_IMPORTED],
        "payloadType",
    ),
    "a service enrolled with a public key that is no base64 (it crashed every command)": (
        EventKind.PERSON_ENROLLED,
        {"name": "bot", "key_id": "k", "public_key": "nobody", "service": True, "proof": "x"},
        "service key that does not match its key id",
    ),
}


@pytest.mark.parametrize("case", list(ASIDE))
def test_a_members_event_the_fold_tripped_on_is_set_aside(
    case: str, _isolated: Path, clock: Clock
) -> None:
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    before = _learnt(Program.open(_isolated, clock=clock).state())
    kind, payload, field = ASIDE[case]
    seq = append(lena.store, kind, "omar", payload, at=clock(), key=omar.key).seq
    after = lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None and after.id in {f.id for f in state.facts}
    learnt = _learnt(state)
    assert learnt[:16] == before[:16] and learnt[16] == [*before[16], after.id]
    named = [w for w in [*state.malformed, *(why for _, why in state.unauthorized)]
             if f"event {seq}" in w]  # fmt: skip
    assert len(named) == 1 and field in named[0], (state.malformed, state.unauthorized)
    assert named[0] in json.loads(cli("status", "--json"))["warnings"]
    assert f"event {seq}" in cli("status")


#: each invitation :func:`_own_invitation` made, by its hash: what only omar received
_RECEIVED: dict[str, InvitationText] = {}


def _own_invitation(omar: Program) -> str:
    """omar invites a machine of his own (as the API lets him), and the invitation's hash (the
    invitation itself, which only he received, is kept for :func:`_joined` ``proven``)."""
    text = omar.invite("omar")
    state = omar.state()
    (token,) = [t for t, i in state.invitations.items() if i.name == "omar" and not i.used]
    _RECEIVED[token] = text
    return token


def _joined(token: str, key: SigningKey, *, proven: bool = False, **changes: Any) -> dict[str, Any]:
    """A key's own enrolment on omar's invitation ``token`` (its hash); ``proven``: with the
    invitation's own signature over the key, which only whoever received it can make."""
    proof = {"join_proof": _RECEIVED[token].join_proof(key.key_id)} if proven else {}
    return {"name": "omar", "key_id": key.key_id, "public_key": key.public_key,
            "machine": "omar-desktop", "token_hash": token, **proof, **changes}  # fmt: skip


#: a key's own enrolment on the invitation omar made for a machine of his own, signed by that
#: new key (nobody holds it yet: its invitation tells whose it is), not what inhouse writes
SELF_ENROLMENTS: dict[str, tuple[Any, str]] = {
    "naming lena": (lambda token, key: _joined(token, key, name="lena"), "enrols lena without"),
    "naming a list": (
        lambda token, key: _joined(token, key, name=["omar"]),
        "enrols ['omar'] without an invitation",
    ),
    "naming no key id": (
        lambda token, key: {k: v for k, v in _joined(token, key).items() if k != "key_id"},
        "enrols key None but",
    ),
    "claiming the lead's first key": (
        lambda token, key: _joined(token, key, claimed=True),
        "claims the lead's first key",
    ),
    "after its invitation expired": (
        lambda token, key: _joined(token, key, proven=True),
        "expired",
    ),
}


@pytest.mark.parametrize("case", list(SELF_ENROLMENTS))
def test_a_self_invited_enrolment_the_fold_tripped_on_is_set_aside(
    case: str, _isolated: Path, clock: Clock
) -> None:
    """Set aside as omar's, nothing learnt: the new key signs nothing, and his invitation still
    lets his real new machine join."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    token = _own_invitation(omar)
    make, said = SELF_ENROLMENTS[case]
    if case == "after its invitation expired":
        clock.advance(days=30)
    key = SigningKey.generate()
    seq = append(lena.store, EventKind.PERSON_ENROLLED, "omar", make(token, key), at=clock(),
                 key=key).seq  # fmt: skip
    after = lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None and after.id in {f.id for f in state.facts}
    assert key.key_id not in state.keys and key.key_id not in state.verifier.keys.public
    named = [w for w in [*state.malformed, *(why for _, why in state.unauthorized)]
             if f"event {seq}" in w]  # fmt: skip
    assert len(named) == 1 and said in named[0], (state.malformed, state.unauthorized)
    assert named[0] in json.loads(cli("status", "--json"))["warnings"]
    if case != "after its invitation expired":  # his own machine joins on it still
        assert not state.invitations[token].used and token in state.verifier.keys.invitations
        desk = SigningKey.generate()
        append(lena.store, EventKind.PERSON_ENROLLED, "omar", _joined(token, desk, proven=True),
               at=clock(), key=desk)  # fmt: skip
        state = Program.open(_isolated, clock=clock).state()
        assert state.tampered is None and state.keys[desk.key_id].person == "omar"


#: what omar's own dashboard session (he signs its delegation with his own key, alone) signs
#: that a session may not, or that is not his to make
BY_HIS_SESSION: dict[str, tuple[str, dict[str, Any], str]] = {
    "a roster change": (
        EventKind.PERSON_CHANGED,
        {"name": "omar", "team": "ops", "email": "", "roles": ["rollout-lead"]},
        "a session may not sign person.changed",
    ),
    "a measurement": (
        EventKind.FACT_RECORDED,
        {"kind": "baseline.verify", "version": 1, "provenance": "measured", "payload": {}},
        "a session may not sign baseline.verify facts",
    ),
    "an acceptance with an approval that is nothing": (
        EventKind.HANDOFF_ACCEPTED,
        {"play": "baseline", "evidence_hash": "h", "approval": {"statement": {}, "signature": ""}},
        "the approval lacks",
    ),
    "an acceptance of a handoff offered to nobody": (
        EventKind.HANDOFF_ACCEPTED,
        {"play": "prove", "evidence_hash": "h"},
        "only the receiver of an open offer decides it",
    ),
    "an acceptance that is malformed": (
        EventKind.HANDOFF_ACCEPTED,
        {"play": ["baseline"], "evidence_hash": "h"},
        "play",
    ),
}


@pytest.mark.parametrize("case", list(BY_HIS_SESSION))
def test_a_members_own_sessions_event_is_set_aside(
    case: str, _isolated: Path, clock: Clock
) -> None:
    world = _world(_isolated, clock, plays=True)
    lena, omar = world.lena, world.omar
    before = _learnt(Program.open(_isolated, clock=clock).state())
    kind, payload, said = BY_HIS_SESSION[case]
    session = SigningKey.generate()
    body = {**payload, "delegation": _delegation(omar, session)}
    seq = append(lena.store, kind, "omar", body, at=clock(), key=session).seq
    after = lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None and after.id in {f.id for f in state.facts}
    learnt = _learnt(state)
    assert learnt[:15] == before[:15] and learnt[16] == [*before[16], after.id]
    assert state.handoffs["baseline"].status == "offered"
    named = [w for w in [*state.malformed, *(why for _, why in state.unauthorized)]
             if f"event {seq}" in w]  # fmt: skip
    assert len(named) == 1 and said in named[0], (state.malformed, state.unauthorized)
    assert named[0] in json.loads(cli("status", "--json"))["warnings"]
    if any(seq == at for at, _ in state.unauthorized):  # a forgery attempt: the auditor sees it
        report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
        assert not report.ok and report.intact and report.first_bad_seq == seq


def test_a_leads_import_that_does_not_open_still_stops_the_fold(
    _isolated: Path, clock: Clock
) -> None:
    """The lead holds the program's authority: hers is read as tampering, as before."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    append(lena.store, EventKind.EVIDENCE_IMPORTED, "lena", WRITTEN[EventKind.EVIDENCE_IMPORTED],
           at=clock(), key=lena.key)  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is not None and "payloadType" in state.tampered[0]
    report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
    assert not report.ok and not report.intact and "payloadType" in str(report.problem)


def _nobodys_row(
    case: str, lena: Program, invited: InvitationText, clock: Clock
) -> tuple[int, str]:
    """What anyone who writes the store appends alone (``case``), in omar's name (or ola's) and
    signed by no key on the roster: the fold cannot tell who made it. Its event's number, and
    what its warning says. ``invited``: lena's open invitation for ola."""
    refused = {"action": "a", "guards": [], "message": "m"}
    key = SigningKey.generate()
    if case == "a key nobody enrolled":
        seq = append(lena.store, EventKind.ACTION_REFUSED, "omar", refused, at=clock(), key=key)
        return seq.seq, f"is signed by key {key.key_id}, which no enrolment before it names"
    if case == "no key at all, after identities began":
        seq = append(lena.store, EventKind.ACTION_REFUSED, "omar", refused, at=clock(), key=None)
        return seq.seq, "carries no signature, after identities began"
    if case == "a session key on a delegation of nothing":
        payload = {"play": "prove", "comment": "", "delegation": {"x": 1}}
        seq = append(lena.store, EventKind.HANDOFF_REJECTED, "omar", payload, at=clock(), key=key)
        return seq.seq, f"is signed by session key {key.key_id}"
    # a key's own enrolment on a lead's invitation, signed by that key, without the
    # invitation's own signature over it (only whoever received the invitation makes one); one
    # whose signature is junk stops the fold (tests/test_signature_outside_hash.py)
    body = {"name": "ola", "key_id": key.key_id, "public_key": key.public_key, "machine": "m",
            "token_hash": invited.token_hash}  # fmt: skip
    seq = append(lena.store, EventKind.PERSON_ENROLLED, "ola", body, at=clock(), key=key)
    return seq.seq, "without the invitation's own signature over that key"


NOBODYS = [
    "a key nobody enrolled",
    "no key at all, after identities began",
    "a session key on a delegation of nothing",
    "a key's own enrolment on a lead's invitation, without its proof",
]


@pytest.mark.parametrize("case", NOBODYS)
def test_a_row_signed_by_a_key_nobody_enrolled_does_not_freeze_the_program(
    case: str, _isolated: Path, clock: Clock
) -> None:
    """Anyone who writes the store (a member with the database's password) appends a row no key
    on the roster signed: it stopped the fold, and the program froze for everyone. It is set
    aside, never counted, named on ``status`` as nobody's the fold can tell, reported by
    ``audit verify`` (exit 1, the chain intact); what comes after it counts."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops")
    invited = lena.invite("ola")
    before = _learnt(Program.open(_isolated, clock=clock).state())
    seq, said = _nobodys_row(case, lena, invited, clock)
    after = omar.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None and after.id in {f.id for f in state.facts}
    assert _learnt(state)[:16] == before[:16]
    named = [w for w in [*state.malformed, *(why for _, why in state.unauthorized)]
             if f"event {seq}" in w]  # fmt: skip
    assert len(named) == 1 and said in named[0], (state.malformed, state.unauthorized)
    assert "anyone who writes the store" in named[0]
    assert named[0] in json.loads(cli("status", "--json"))["warnings"]
    report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
    assert not report.ok and report.intact and report.first_bad_seq == seq
    assert "FORGERY ATTEMPT" in cli("audit", "verify", code=1)


def test_a_row_signed_by_a_revoked_key_is_set_aside_as_its_holders(
    _isolated: Path, clock: Clock
) -> None:
    """omar's laptop is lost and lena revokes its key: a row it signs after is set aside,
    named as made with omar's revoked key, not a stop (whoever took the laptop froze the
    program for everyone so)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops")
    lena.revoke_key(omar.key.key_id)
    refused = {"action": "a", "guards": [], "message": "m"}
    seq = append(
        lena.store, EventKind.ACTION_REFUSED, "omar", refused, at=clock(), key=omar.key
    ).seq
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None
    (named,) = [why for at, why in state.unauthorized if at == seq]
    assert f"signed by omar's key {omar.key.key_id}, revoked before it" in named
    assert "a revoked key speaks for nobody" in named


def test_a_leads_row_with_a_bad_signature_still_stops_the_fold(
    _isolated: Path, clock: Clock
) -> None:
    """A row that names an enrolled key its signature does not hold for was altered after it
    was written (or re-chained): the state stops there, as before."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                     provenance=Provenance.ATTESTED, comment="c")  # fmt: skip
    head = lena.state().head_seq
    with lena.store.engine.begin() as conn:
        conn.execute(events.update().where(events.c.seq == head)
                     .values(signature=SigningKey.generate().sign(b"x")))  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is not None and state.tampered[1] == head


def test_his_own_sessions_event_outside_its_window_is_set_aside(
    _isolated: Path, clock: Clock
) -> None:
    """omar signs a delegation for a session key himself (two hours), and an event with that
    key dated after it ends: his own doing (or his dashboard host's), set aside as his. It
    stopped the fold, so a member froze the program with a session of his own."""
    world = _world(_isolated, clock, plays=True)
    lena, omar = world.lena, world.omar
    session = SigningKey.generate()
    body = {"play": "baseline", "comment": "", "delegation": _delegation(omar, session)}
    clock.advance(hours=3)
    seq = append(lena.store, EventKind.HANDOFF_REJECTED, "omar", body, at=clock(), key=session)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.handoffs["baseline"].status == "offered"
    (named,) = [why for at, why in state.unauthorized if at == seq.seq]
    assert "its delegation from omar holds from" in named
    assert "omar or whoever hosts the dashboard made it" in named


def test_his_own_event_naming_another_actor_is_set_aside(_isolated: Path, clock: Clock) -> None:
    """omar signs, with his own key, an event that names lena as its actor: his, set aside (it
    stopped the fold, so one such event froze the program for everyone)."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    refused = {"action": "a", "guards": [], "message": "m"}
    before = len(Program.open(_isolated, clock=clock).state().refusals)
    seq = append(lena.store, EventKind.ACTION_REFUSED, "lena", refused, at=clock(), key=omar.key)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and len(state.refusals) == before
    (named,) = [why for at, why in state.unauthorized if at == seq.seq]
    assert "names lena as its actor but was signed by omar's key" in named


def _junk_row(lena: Program, signer: str, kind: str, actor: str, payload: Any, clock: Clock) -> int:
    """A row a writer of the store appends naming key ``signer``, its signature junk."""
    head = lena.events()[-1]
    body, when = canonical_json(payload), format_time(clock())
    digest = event_hash(head.seq + 1, when, actor, kind, body, head.hash, signer)
    junk = SigningKey.generate().sign(signed_material(digest))
    with lena.store.engine.begin() as conn:
        conn.execute(insert(events).values(
            seq=head.seq + 1, at=when, actor=actor, kind=kind, payload=body,
            prev_hash=head.hash, hash=digest, signer=signer, signature=junk))  # fmt: skip
    return head.seq + 1


def test_a_row_naming_his_session_or_revoked_key_without_its_signature_is_not_his(
    _isolated: Path, clock: Clock
) -> None:
    """lena copies omar's delegation from the log, or names his revoked key, on a row of hers
    with a signature of nothing: set aside as nobody's, never named as his doing."""
    world = _world(_isolated, clock, plays=True)
    lena, omar = world.lena, world.omar
    session = SigningKey.generate()
    body = {"play": "baseline", "comment": "", "delegation": _delegation(omar, session)}
    clock.advance(hours=3)  # outside the window: his own such row is set aside as his
    in_session = _junk_row(lena, session.key_id, EventKind.HANDOFF_REJECTED, "omar", body, clock)
    lena.revoke_key(omar.key.key_id)
    refused = {"action": "a", "guards": [], "message": "m"}
    revoked = _junk_row(lena, omar.key.key_id, EventKind.ACTION_REFUSED, "omar", refused, clock)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None
    for seq in (in_session, revoked):
        (named,) = [why for at, why in state.unauthorized if at == seq]
        assert "anyone who writes the store could have made it" in named, named
        assert "omar or whoever" not in named and "whoever holds it" not in named
