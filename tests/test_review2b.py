"""Review of lefts3 and outs13 as merged: what the reviewer found, each with the test that
failed on main as merged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clitools import cli
from tests.conftest import Clock
from tests.test_cli import ok


def test_fact_list_keeps_each_time_whole_on_an_80_column_terminal(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fact list` at 80 columns no longer cut a fact's time, but folded it mid-figure
    ("2026-12-07T11:06:41+" over "00:00"): the table's cells are Rich Texts, and the rule that
    keeps a figure whole (``figures_whole``) read only plain strings, so a list command's
    figures got no minimum width at all."""

    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("hypothesis", "A local model drafts ticket summaries for less", "--replaces", "hosted API")
    monkeypatch.setenv("COLUMNS", "80")
    out = cli("fact", "list")
    stamp = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00"
    assert re.search(stamp, out), out  # on one line, whole
    assert max(len(line) for line in out.splitlines()) <= 80, out


def test_joining_one_s_own_machine_invitation_with_the_same_key_says_a_machine_needs_its_own(
    _isolated: Path, tmp_path: Path
) -> None:
    """omar invited a machine of his own and ran its `join` in the shell he already acts in:
    the refusal told him "this shell acts as omar. To join as omar, use a key of omar's own",
    which his key already is. It says the new machine joins with a key of its own."""
    from tests.test_cli import invite, own_machine

    ok("init", "Acme", "--lead", "lena", "--demo")
    omar = own_machine("omar", tmp_path / "k")
    ok("join", invite("omar"), env=omar)
    mine = re.search(r"inhouse join (inhouse-invite:\S+)", ok("person", "invite", "omar", env=omar))
    assert mine is not None
    out = " ".join(cli("join", mine.group(1), env=omar, code=2).split())
    assert "as omar's own: this invitation adds another machine of omar's" in out, out
    assert "use a key of omar's own" not in out, out
    desktop = {**own_machine("omar", tmp_path / "desk"), "INHOUSE_MACHINE_ID": "omar-desktop"}
    assert "Enrolled omar" in ok("join", mine.group(1), env=desktop)


def test_a_member_cannot_enrol_a_key_of_his_own_on_a_leads_invitation_for_someone_else(
    _isolated: Path, clock: Clock
) -> None:
    """Found while checking the fold's undo journal (f0906e42), on main as lefts3 left it:
    lena invited pia; the log shows the invitation's hash, and an enrolment (joined here, or
    carried in as an envelope) named only that hash. omar, a member, sealed an enrolment of a
    key of his own making as pia on it and appended its import with his key: the fold took
    it, pia's own join found the invitation spent, and omar alone signed as "someone other
    than omar". Since 9ade9157 an enrolment shows the invitation itself: his, made with the
    hash alone, is set aside, and pia joins (kept here for the lead's invitation of someone
    else, carried in by a member)."""
    from inhouse.errors import InhouseError
    from inhouse.identity import ENROLMENT_TYPE, SigningKey, open_envelope, seal
    from inhouse.program import Program
    from inhouse.program.events import EventKind
    from tests.people import enrol

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops", roles=["play-owner"])
    text = lena.invite("pia", team="legal")
    forged = SigningKey.generate()
    as_pia = {"name": "pia", "token_hash": text.token_hash, "machine": "m"}
    envelope = seal(forged, program_id=lena.state().program_id, predicate_type=ENROLMENT_TYPE,
                    predicate=as_pia)  # fmt: skip
    omar._append(EventKind.EVIDENCE_IMPORTED, "omar", {"envelope": envelope,
                 "digest": open_envelope(envelope).digest, "key_id": forged.key_id})  # fmt: skip
    state = Program.open(_isolated, clock=clock).state()
    assert forged.key_id not in state.keys or state.keys[forged.key_id].person != "pia"
    assert state.tampered is None and state.unauthorized, state.unauthorized
    pia = SigningKey.generate()
    try:
        Program.open(_isolated, clock=clock).join(str(text), pia, at_machine="pia-laptop")
    except InhouseError as err:
        raise AssertionError(f"pia's own join refused: {err}") from err
