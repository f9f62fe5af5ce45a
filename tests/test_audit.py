"""`inhouse audit verify` catches a row edited behind inhouse's back, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from inhouse.program import Program
from inhouse.program.audit import verify_chain

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def program(_isolated: Path) -> Program:
    prog = Program.init(_isolated, "Acme", "lena")
    prog.add_person("lena", "omar", team="support", roles=["play-owner"])
    prog.attest("lena", "task.named", {"task": "triage", "frequency": "daily"}, "I do it daily")
    prog.add_person("lena", "sam", roles=["support-owner"])
    return prog


def _edit(program: Program, sql: str) -> None:
    with program.store.engine.begin() as conn:
        conn.execute(text(sql))


def test_an_untouched_log_verifies(program: Program) -> None:
    report = verify_chain(program.store)
    assert report.ok and report.checked == 5 and report.head_hash
    program.close()


def test_an_edited_payload_is_caught_at_that_event(program: Program) -> None:
    _edit(
        program, """UPDATE events SET payload = replace(payload, 'daily', 'weekly') WHERE seq = 4"""
    )
    report = verify_chain(program.store)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert "event 4 (fact.recorded by lena) was altered" in (report.problem or "")
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


def test_a_rehashed_forgery_is_caught_by_the_next_link(program: Program) -> None:
    from inhouse.program.events import event_hash

    with program.store.engine.begin() as conn:
        row = conn.execute(text("SELECT * FROM events WHERE seq = 4")).one()
        forged = row.payload.replace("daily", "weekly")
        digest = event_hash(row.seq, row.at, row.actor, row.kind, forged, row.prev_hash)
        conn.execute(
            text("UPDATE events SET payload = :p, hash = :h WHERE seq = 4"),
            {"p": forged, "h": digest},
        )
    report = verify_chain(program.store)
    assert not report.ok and report.first_bad_seq == 4
    program.close()
