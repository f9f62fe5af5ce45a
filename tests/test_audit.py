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
from tests.people import enrol, forget_seen

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


def _anchored(program: Program, path: Path) -> str:
    """``inhouse audit anchor`` on ``program``'s log into ``path``; returns the file's text."""
    from inhouse.program.audit import write_anchor

    report = verify_chain(program.store, lead_key=program.settings.lead_key)
    write_anchor(program.store, path, program.state().program_id, report)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("then", ["cut", "cut-and-continued"])
def test_anchoring_again_never_blesses_a_log_cut_back_since(
    program: Program, _isolated: Path, then: str
) -> None:
    """The anchor in git saw omar's attestation (event 5). lena deletes events 5 and 6 from the
    database (and, "continued", records more of her own on top, so the log is as long as
    before): the chain verifies, and only the anchor tells. Anchoring again, as any routine run
    does, would overwrite the one record of the cut: it is refused, naming the events gone,
    and the anchor file is left as it was, so `audit verify --anchor` still says so."""
    from inhouse.errors import LogTampered
    from inhouse.program.audit import check_anchor, read_anchor

    path = _isolated / "inhouse.anchor"
    saw = _anchored(program, path)
    _edit(program, "DELETE FROM events WHERE seq >= 5")
    forget_seen(program)  # her own machine's witness let go of: the anchor alone tells here
    program.close()
    lena = Program.open(_isolated)
    if then == "cut-and-continued":
        lena.add_person(None, "pia", roles=["support-owner"])
        lena.add_person(None, "oli", roles=["support-owner"])
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert report.ok  # the chain alone does not tell
    with pytest.raises(LogTampered, match="saw event 6") as refused:
        _anchored(lena, path)
    said = str(refused.value)
    if then == "cut":
        assert "events 5 to 6 are missing" in said, said
    else:
        assert "event 6 is not the one the anchor saw: the log was rewritten" in said, said
    assert "Nothing overwritten" in said
    assert path.read_text(encoding="utf-8") == saw
    assert check_anchor(lena.store, read_anchor(path), report) is not None
    lena.close()


def test_anchoring_a_log_that_grew_rewrites_the_anchor(program: Program, _isolated: Path) -> None:
    from inhouse.program.audit import read_anchor

    path = _isolated / "inhouse.anchor"
    _anchored(program, path)
    assert read_anchor(path).seq == 6
    program.add_person(None, "pia", roles=["support-owner"])
    _anchored(program, path)
    assert read_anchor(path).seq == 7
    program.close()
