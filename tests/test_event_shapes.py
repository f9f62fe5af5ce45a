"""An engine or play-package event is held to the shape inhouse writes when the log is read,
as facts are (tests/test_payload_types.py). omar, an ordinary enrolled member with his own key,
appends around the API each kind he may write, with a field missing or of a type inhouse never
writes. Each used to stop the fold (every later event uncounted, ``status`` failing for
everyone: one member froze the program) or crash every command outright (a ``key.revoked``
naming no key). Now such an event is set aside, never counted, named on ``status``, and the
fold goes on. A lead's malformed event still stops the fold (tests/test_event_authority.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.events import EventKind, append
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol

LATER = "2030-01-01T00:00:00+00:00"

#: what omar appends, signed with his own key: (kind, payload, the field ``status`` names)
BY_OMAR: dict[str, tuple[str, Any, str]] = {
    "a key revoked naming no key (crashed every command)": (EventKind.KEY_REVOKED, {}, "key_id"),
    "a key revoked by a list": (EventKind.KEY_REVOKED, {"key_id": ["k"]}, "key_id"),
    "his own machine invited with no time for an expiry": (
        EventKind.PERSON_INVITED,
        {"name": "omar", "token_hash": "t" * 64, "expires": "soon", "another_key": True},
        "expires",
    ),
    "his own machine invited with a number for an expiry": (
        EventKind.PERSON_INVITED,
        {"name": "omar", "token_hash": "t" * 64, "expires": 5, "another_key": True},
        "expires",
    ),
    "his own machine invited with a list for a token": (
        EventKind.PERSON_INVITED,
        {"name": "omar", "token_hash": ["t"], "expires": LATER, "another_key": True},
        "token_hash",
    ),
    "a person changed naming nobody": (EventKind.PERSON_CHANGED, {"roles": []}, "name"),
    "a refusal with nothing in it": (EventKind.ACTION_REFUSED, {}, "action"),
    "a refusal that is a list": (EventKind.ACTION_REFUSED, [1], "payload: list"),
    "a sign-in with no token": (EventKind.PERSON_SIGNED_IN, {}, "id_token"),
    "a mailbox release that is a list": (EventKind.MAILBOX_RELEASED, [1], "payload: list"),
    "a mailbox released to a list": (
        EventKind.MAILBOX_RELEASED,
        {"mailbox": "omar@acme.example", "to": ["omar"]},
        "to",
    ),
    "a hypothesis that is a list": (EventKind.HYPOTHESIS_RECORDED, [1], "payload: list"),
    "a fact that is text": (EventKind.FACT_RECORDED, "x", "payload: str"),
    "an import with no envelope": (EventKind.EVIDENCE_IMPORTED, {}, "envelope"),
    "an enrolment with nothing in it": (EventKind.PERSON_ENROLLED, {}, "name"),
    "a play started with no owner": (EventKind.PLAY_STARTED, {"play": "prove"}, "owner"),
    "a play started by a list": (
        EventKind.PLAY_STARTED,
        {"play": ["prove"], "owner": "omar"},
        "play",
    ),
    "a waiver that is a list": (EventKind.WAIVER_GRANTED, [1], "payload: list"),
    "a gateway key fetched as a list": ("gateway.key.issued", [1], "payload: list"),
    "a gateway key fetched naming a list": (
        "gateway.key.issued",
        {"key": ["k"], "grant": "g", "person": "omar"},
        "key",
    ),
    "a play package's event that is a list": ("access.requested", [1], "payload: list"),
}


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Program:
    return Program.init(_isolated, "Acme", "lena", clock=clock)


@pytest.mark.parametrize("case", list(BY_OMAR))
def test_a_members_malformed_event_is_set_aside_and_the_fold_goes_on(
    case: str, lena: Program, _isolated: Path, clock: Clock
) -> None:
    omar = enrol(lena, "omar", team="ops")
    kind, payload, field = BY_OMAR[case]
    seq = omar._append(kind, "omar", payload).seq
    after = lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None
    assert after.id in {f.id for f in state.facts}  # what came after it counts
    assert state.head_seq == after.id
    (said,) = state.malformed
    assert f"event {seq} ({kind}) by omar is not what inhouse writes: {field}" in said
    assert said in json.loads(cli("status", "--json"))["warnings"]
    assert f"event {seq}" in cli("status")
    assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok


def test_a_malformed_invitation_teaches_the_verifier_nothing(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """omar's own machine invited with no time for an expiry is set aside: its token opens
    no enrolment, in the fold or in the signature check."""
    omar = enrol(lena, "omar", team="ops")
    omar._append(EventKind.PERSON_INVITED, "omar", {"name": "omar", "token_hash": "t" * 64,
                 "expires": "soon", "another_key": True})  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert "t" * 64 not in state.invitations
    assert "t" * 64 not in state.verifier.keys.invitations


def test_a_malformed_revocation_revokes_nothing(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """A key id that is a list names no key: lena's key keeps signing, and what she signs
    after it counts."""
    omar = enrol(lena, "omar", team="ops")
    omar._append(EventKind.KEY_REVOKED, "omar", {"key_id": [lena.key.key_id]})
    fact = lena.record_fact(None, "task.named", {"task": "t", "frequency": "daily"},
                            provenance=Provenance.ATTESTED, comment="said")  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and fact.id in {f.id for f in state.facts}
    assert state.keys[lena.key.key_id].revoked_at is None


def _around_her_api(lena: Program, kind: str, payload: Any) -> int:
    """``payload`` signed with lena's key and written straight into the store (her API, its
    ``_append`` too, refuses a lead's malformed event); the event's number."""
    return append(lena.store, kind, "lena", payload, at=lena.clock(), key=lena.key).seq


def test_a_leads_malformed_event_still_stops_the_fold(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """The existing design for the lead, who holds the program's authority: her malformed
    event stops the fold, as a tampered one does, and no command crashes on it."""
    _around_her_api(lena, EventKind.KEY_REVOKED, {})
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is not None and "(key.revoked) is malformed" in state.tampered[0]


#: what lena, a rollout lead, appends around the API: (kind, payload, the field the stop names)
BY_LENA: dict[str, tuple[str, Any, str]] = {
    "a waiver whose expiry is a list": (
        EventKind.WAIVER_GRANTED,
        {"guard": "botched-handoff", "expires": ["x"], "reason": "r", "note": ""},
        "expires: Input should be a valid string",
    ),
    "a waiver whose expiry is a number": (
        EventKind.WAIVER_GRANTED,
        {"guard": "botched-handoff", "expires": 5, "reason": "r", "note": ""},
        "expires: Input should be a valid string",
    ),
    "a waiver with no note": (
        EventKind.WAIVER_GRANTED,
        {"guard": "botched-handoff", "expires": LATER, "reason": "r"},
        "note: Field required",
    ),
    "a sign-in set up whose keys are text": (
        EventKind.SIGN_IN_SET_UP,
        {"issuer": "https://login.microsoftonline.com/t/v2.0", "client_id": "c", "keys": "k"},
        "keys: Input should be a valid array",
    ),
    "a sign-in set up with no issuer": (
        EventKind.SIGN_IN_SET_UP,
        {"client_id": "c", "keys": []},
        "issuer: Field required",
    ),
    "a person changed naming a list": (
        EventKind.PERSON_CHANGED,
        {"name": ["omar"]},
        "name: Input should be a valid string",
    ),
    "a play started by a list": (
        EventKind.PLAY_STARTED,
        {"play": ["prove"], "owner": "lena"},
        "play: Input should be a valid string",
    ),
    "a key revoked naming no key": (EventKind.KEY_REVOKED, {}, "key_id: Field required"),
}


@pytest.mark.parametrize("case", list(BY_LENA))
def test_a_leads_malformed_event_stops_the_fold_naming_the_field(
    case: str, lena: Program, _isolated: Path, clock: Clock
) -> None:
    """A lead's malformed event still stops the fold (by design), and says where: its number,
    its kind and the field, not a bare "TypeError fromisoformat: argument must be str" or
    "AttributeError 'str' object has no attribute 'get'" that named none; status shows it."""
    kind, payload, field = BY_LENA[case]
    seq = _around_her_api(lena, kind, payload)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is not None
    problem, at = state.tampered
    assert at == seq  # it stops the fold there
    assert problem.startswith(f"event {seq} ({kind}) is malformed: ")
    assert field in problem.split("is malformed: ", 1)[1].split("; ")
    said = " ".join(cli("status", code=1).split())
    assert f"event {seq} ({kind}) is malformed: {field}" in said


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (EventKind.PERSON_CHANGED, {"name": "omar", "email": "", "team": "ops", "roles": []}),
        (EventKind.PERSON_INVITED, {"name": "omar", "token_hash": "t", "expires": LATER}),
        (EventKind.PLAY_STARTED, {"play": "prove", "owner": "omar", "waivers": [3]}),
        (EventKind.HANDOFF_OFFERED, {"play": "p", "to": "o", "evidence_hash": "h"}),
        (EventKind.HANDOFF_ACCEPTED, {"play": "p", "evidence_hash": "h", "rules": 8}),
        (EventKind.PROGRAM_STOPPED, {"reason": "not-worth-it", "evidence": [4], "comment": ""}),
        ("gateway.key.revoked", {"grant": "g", "person": "omar"}),
        ("plugin.thing", {"anything": [1]}),
        (EventKind.WAIVER_GRANTED, {"guard": "g", "expires": LATER, "reason": "r", "note": ""}),
        (EventKind.SIGN_IN_SET_UP, {"issuer": "i", "client_id": "c", "keys": [{"kty": "RSA"}]}),
    ],
)
def test_what_inhouse_writes_has_the_shape(kind: str, payload: dict[str, Any]) -> None:
    from inhouse.program.event_shapes import event_problem, lead_event_problem

    assert event_problem(kind, payload) is None and lead_event_problem(kind, payload) is None


def test_a_members_unauthorized_event_does_not_freeze_the_program(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    omar = enrol(lena, "omar", team="ops")
    omar._append(EventKind.HANDOFF_OFFERED, "omar",
                 {"play": "prove", "to": "omar", "evidence_hash": "h"})  # fmt: skip
    after = lena.record_fact(None, "task.named", {"task": "t", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="said")  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and after.id in {f.id for f in state.facts}
