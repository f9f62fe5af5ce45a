"""`inhouse audit verify` catches a row edited behind inhouse's back, on SQLite and PostgreSQL:
by its hash and link, and (since identities) by its signer's Ed25519 signature, so a rewrite
that recomputes the hash is caught too. (Re-chained rewrites, stripped signatures and anchors
through the commands: tests/test_identity.py; a log from before identities: test_legacy.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.events import event_hash
from tests.people import enrol

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def program(_isolated: Path) -> Program:
    """1 created, 2 lena enrolled, 3 omar invited, 4 omar enrolled (his key), 5 omar's
    attestation (signed by omar), 6 sam invited."""
    prog = Program.init(_isolated, "Acme", "lena")
    omar = enrol(prog, "omar", team="support", roles=["play-owner"], signed_in=False)
    omar.attest(None, "task.named", {"task": "triage", "frequency": "daily"}, "I do it daily")
    prog.add_person(None, "sam", roles=["support-owner"])
    return prog


def _edit(program: Program, sql: str) -> None:
    with program.store.engine.begin() as conn:
        conn.execute(text(sql))


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
    # someone with write access but nobody's key recomputes the hash, signer included…
    with program.store.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM events WHERE seq = 5")).one()
        forged = row.payload.replace("daily", "weekly")
        digest = event_hash(row.seq, row.at, row.actor, row.kind, forged, row.prev_hash, row.signer)
        conn.execute(
            text("UPDATE events SET payload = :p, hash = :h WHERE seq = 5"),
            {"p": forged, "h": digest},
        )
    report = verify_chain(program.store)  # …so only the signature can tell, and it does
    assert not report.ok and report.first_bad_seq == 5
    assert "does not carry a valid signature of omar's key" in (report.problem or "")
    program.close()


def test_a_log_rebuilt_with_another_key_is_caught_by_the_lead_key(program: Program) -> None:
    report = verify_chain(program.store, lead_key="ed25519:" + "0" * 32)
    assert not report.ok and report.first_bad_seq == 1
    assert "not by the lead's key" in (report.problem or "")
    program.close()
