"""A row's signature is the one column its hash does not cover: whoever writes the store can
replace any row's signature with junk without breaking a link, a hash or an anchor. So a
signature that does not hold must stop the fold wherever a good one would have taught it
something: set aside instead, the row would vanish from the middle of an intact, anchored log.
lena leads; bob, a member, joins on her invitation and accepts the handoff she offers him;
omar writes the store (he has the database's password)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from inhouse.db.schema import events
from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain, write_anchor
from inhouse.program.events import EventKind, append
from tests.conftest import Clock
from tests.people import enrol


def _bob_joined_and_recorded(folder: Path, clock: Clock) -> tuple[Program, Program, int, str]:
    """lena's program, bob's, the seq of bob's own enrolment, and a fact bob recorded after."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"])
    joined = lena.state().keys[bob.key.key_id].seq
    fact = bob.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                           provenance=Provenance.ATTESTED, comment="we do it daily")  # fmt: skip
    lena.record_fact(None, "task.named", {"task": "review", "frequency": "weekly"},
                     provenance=Provenance.ATTESTED, comment="weekly")  # fmt: skip
    return lena, bob, joined, fact.id


def test_junk_in_place_of_a_genuine_enrolments_signature_stops_the_fold(
    _isolated: Path, clock: Clock
) -> None:
    """omar replaces the signature on bob's enrolment, in the middle of the log, with junk:
    every hash and link still holds, and the anchor lena wrote before still matches. Taken as a
    key's own enrolment nobody on the roster signed, it was set aside, and with it everything
    bob's key signed since (each then 'signed by a key no enrolment names'): bob's history
    gone from an intact log, by one column. It was altered after it was written: the fold stops
    there, TAMPERED, as it does for any other row whose signature does not hold."""
    lena, _, joined, fact = _bob_joined_and_recorded(_isolated, clock)
    anchor = write_anchor(lena.store, _isolated / "inhouse.anchor", lena.state().program_id,
                          verify_chain(lena.store, lead_key=lena.settings.lead_key))  # fmt: skip
    with lena.store.engine.begin() as conn:
        conn.execute(events.update().where(events.c.seq == joined)
                     .values(signature=SigningKey.generate().sign(b"junk")))  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert fact not in {f.id for f in state.facts}  # either way, his fact no longer counts
    assert state.tampered is not None and state.tampered[1] == joined, state.unauthorized
    assert "was replaced after it was written" in state.tampered[0]
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert not report.ok and not report.intact and report.first_bad_seq == joined
    # the anchor cannot tell (the signature is outside the hash): only the fold's stop does
    with lena.store.engine.connect() as conn:
        held = conn.execute(select(events.c.hash).where(events.c.seq == anchor.seq)).scalar()
    assert held == anchor.hash


def test_an_honest_join_and_what_follows_still_count(_isolated: Path, clock: Clock) -> None:
    """The same log untouched: bob's key, his fact and lena's count, nothing set aside."""
    lena, bob, _, fact = _bob_joined_and_recorded(_isolated, clock)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and not state.unauthorized
    assert state.keys[bob.key.key_id].person == "bob" and fact in {f.id for f in state.facts}
    assert verify_chain(lena.store, lead_key=lena.settings.lead_key).ok


def test_a_junk_signed_enrolment_appended_at_the_tail_stops_the_fold_too(
    _isolated: Path, clock: Clock
) -> None:
    """The same row appended fresh (omar enrols a key of his on lena's open invitation, its
    signature junk) cannot be told from a genuine one whose signature was replaced: it stops the
    fold, as a junk signature naming any enrolled key always did. Removing that newest row (the
    lead restores the store) lets the program go on."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops")
    invited = lena.invite("ola")
    key = SigningKey.generate()
    proof = invited.join_proof(key.key_id)
    body = {"name": "ola", "key_id": key.key_id, "public_key": key.public_key, "machine": "m",
            "token_hash": invited.token_hash, "join_proof": proof}  # fmt: skip
    seq = append(lena.store, EventKind.PERSON_ENROLLED, "ola", body, at=clock(), key=key).seq
    with lena.store.engine.begin() as conn:
        conn.execute(events.update().where(events.c.seq == seq)
                     .values(signature=SigningKey.generate().sign(b"junk")))  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is not None and state.tampered[1] == seq
    assert f"does not carry a valid signature of key {key.key_id}" in state.tampered[0]
    with lena.store.engine.begin() as conn:
        conn.execute(events.delete().where(events.c.seq == seq))
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and key.key_id not in state.keys


def test_audit_names_the_tampered_row_not_an_unrelated_earlier_forgery_attempt(
    _isolated: Path, clock: Clock
) -> None:
    """omar once signed a row naming lena as its actor (set aside as his, the chain intact);
    much later lena's newest row is altered. The audit names the altered row and says every
    event before it holds: it named omar's old attempt as the first bad event, and said only
    the events before that one were intact. A row stripped of its signature right before the
    re-chained row it breaks is still named first (tests/test_identity.py)."""
    lena, bob, _, _ = _bob_joined_and_recorded(_isolated, clock)
    refused = {"action": "a", "guards": [], "message": "m"}
    attempt = append(lena.store, EventKind.ACTION_REFUSED, "lena", refused, at=clock(),
                     key=bob.key).seq  # fmt: skip
    for task in ("a", "b", "c"):
        lena.record_fact(None, "task.named", {"task": task, "frequency": "daily"},
                         provenance=Provenance.ATTESTED, comment="c")  # fmt: skip
    head = lena.state().head_seq
    with lena.store.engine.begin() as conn:
        conn.execute(events.update().where(events.c.seq == head)
                     .values(signature=SigningKey.generate().sign(b"junk")))  # fmt: skip
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert not report.ok and not report.intact
    assert report.first_bad_seq == head and report.checked == head - 1, report
    assert f"event {attempt} " not in str(report.problem)
