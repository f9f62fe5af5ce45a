"""`inhouse audit verify` catches a row edited behind inhouse's back, on SQLite and PostgreSQL:
by its hash and link, and (since identities) by its signer's Ed25519 signature, so a rewrite
that recomputes every hash after it is caught too; an anchor catches a cut-off tail."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from inhouse.db import open_store
from inhouse.program import Program
from inhouse.program.audit import check_anchor, read_anchor, verify_chain, write_anchor
from inhouse.program.events import append, event_hash
from tests.people import enrol

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def program(_isolated: Path) -> Program:
    """1 created, 2 lena enrolled, 3 omar invited, 4 omar enrolled (his key), 5 omar's
    attestation (signed by omar), 6 sam invited."""
    prog = Program.init(_isolated, "Acme", "lena")
    omar = enrol(prog, "omar", team="support", roles=["play-owner"])
    omar.attest(None, "task.named", {"task": "triage", "frequency": "daily"}, "I do it daily")
    prog.add_person(None, "sam", roles=["support-owner"])
    return prog


def _edit(program: Program, sql: str) -> None:
    with program.store.engine.begin() as conn:
        conn.execute(text(sql))


def _rehash(program: Program, seq: int, *, old: str, new: str, rechain: bool) -> None:
    """What someone with write access to the database can do without anyone's key: rewrite
    event ``seq``'s payload, recompute its hash (with its signer), and, with ``rechain``,
    relink and rehash every event after it."""
    with program.store.engine.begin() as conn:
        query = text("SELECT * FROM events WHERE seq >= :s ORDER BY seq")
        rows = conn.execute(query, {"s": seq}).all()
        prev = rows[0].prev_hash
        for row in rows if rechain else rows[:1]:
            payload = row.payload.replace(old, new) if row.seq == seq else row.payload
            digest = event_hash(row.seq, row.at, row.actor, row.kind, payload, prev, row.signer)
            conn.execute(
                text("UPDATE events SET payload = :p, prev_hash = :l, hash = :h WHERE seq = :s"),
                {"p": payload, "l": prev, "h": digest, "s": row.seq},
            )
            prev = digest


def test_an_untouched_log_verifies(program: Program) -> None:
    report = verify_chain(program.store, lead_key=program.settings.lead_key)
    assert report.ok and report.checked == 6 and report.head_hash
    assert (report.signed, report.unsigned) == (6, 0)
    program.close()


def test_an_edited_payload_is_caught_at_that_event(program: Program) -> None:
    _edit(
        program, """UPDATE events SET payload = replace(payload, 'daily', 'weekly') WHERE seq = 5"""
    )
    report = verify_chain(program.store)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert "event 5 (fact.recorded by omar) was altered" in (report.problem or "")
    program.close()


def test_a_changed_actor_is_caught(program: Program) -> None:
    _edit(program, "UPDATE events SET actor = 'omar' WHERE seq = 3")
    assert verify_chain(program.store).first_bad_seq == 3
    program.close()


def test_a_deleted_event_is_caught(program: Program) -> None:
    _edit(program, "DELETE FROM events WHERE seq = 2")
    report = verify_chain(program.store)
    assert not report.ok and report.first_bad_seq == 2 and "missing" in (report.problem or "")
    program.close()


def test_a_rehashed_forgery_is_caught_by_its_signature(program: Program) -> None:
    # the hash is recomputed, signer included, so only the signature can tell
    _rehash(program, 5, old="daily", new="weekly", rechain=False)
    report = verify_chain(program.store)
    assert not report.ok and report.first_bad_seq == 5
    assert "does not carry a valid signature of omar's key" in (report.problem or "")
    program.close()


def test_a_rechained_rewrite_of_an_attestation_as_measured_is_caught(program: Program) -> None:
    # issue 10: rewriting an attested fact as measured and re-chaining every hash after it
    # used to verify as "chain intact"
    _rehash(program, 5, old='"provenance":"attested"', new='"provenance":"measured"', rechain=True)
    report = verify_chain(program.store)
    assert not report.ok and report.first_bad_seq == 5
    assert "altered or re-chained after it was written" in (report.problem or "")
    program.close()


def test_a_stripped_signature_after_identities_is_caught(program: Program) -> None:
    with program.store.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM events WHERE seq = 6")).one()
        digest = event_hash(row.seq, row.at, row.actor, row.kind, row.payload, row.prev_hash)
        conn.execute(
            text("UPDATE events SET signer = NULL, signature = NULL, hash = :h WHERE seq = 6"),
            {"h": digest},
        )
    report = verify_chain(program.store)
    assert not report.ok and report.first_bad_seq == 6
    assert "carries no signature, after identities began" in (report.problem or "")
    program.close()


def test_a_log_rebuilt_with_another_key_is_caught_by_the_lead_key(program: Program) -> None:
    report = verify_chain(program.store, lead_key="ed25519:" + "0" * 32)
    assert not report.ok and report.first_bad_seq == 1
    assert "not by the lead's key" in (report.problem or "")
    program.close()


def test_an_anchor_notices_a_cut_off_tail(program: Program, tmp_path: Path) -> None:
    report = verify_chain(program.store)
    anchor = write_anchor(tmp_path / "inhouse.anchor", program.state().program_id, report)
    assert anchor.seq == 6
    assert check_anchor(program.store, read_anchor(tmp_path / "inhouse.anchor"), report) is None
    _edit(program, "DELETE FROM events WHERE seq >= 5")
    cut = verify_chain(program.store)
    assert cut.ok  # what is left is a valid chain…
    problem = check_anchor(program.store, anchor, cut)  # …but not the one the anchor saw
    assert problem is not None and "events 5 to 6 are missing" in problem
    program.close()


def test_a_log_from_before_identities_verifies_as_unsigned(database_url: str) -> None:
    store = open_store(database_url)
    try:
        at = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
        append(store, "program.created", "lena", {"name": "old"}, at=at, key=None)
        append(store, "person.added", "lena", {"name": "omar"}, at=at, key=None)
        report = verify_chain(store)
        assert report.ok and (report.signed, report.unsigned) == (0, 2)
    finally:
        store.close()
