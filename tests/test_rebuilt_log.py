"""A log the lead started again from scratch with her own key is not the program's, for every
command, not only for `inhouse audit verify`: its event 1 is not the ``program_id`` that
``inhouse.toml`` (kept in git, in every colleague's checkout) names.

The forgery: lena wants a history without omar in it. She creates the program anew in another
folder with her own key (the ``lead_key`` inhouse.toml pins is hers, so event 1 passes that
check), records the same steps of her own again, and puts that database where the program's
was. Every hash, link and signature in it holds. The fold checked only the lead key, so
`inhouse status` showed her log as the program's and every command recorded on top of it."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import LogTampered
from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.events import read_events
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import prove


def _program(folder: Path, clock: Clock, key: SigningKey | None = None) -> Program:
    """Acme, lena its lead and play 1's owner."""
    lena = Program.init(folder, "Acme", "lena", team="platform", clock=clock, key=key)
    lena.change_roles(None, "lena", add=["play-owner"])
    return lena


def _rebuilt(folder: Path, elsewhere: Path, clock: Clock) -> Program:
    """The program in ``folder`` (omar joined, play 1 proven and offered), its database then
    replaced by one lena made anew in ``elsewhere`` with her own key and the same steps of
    hers; returned opened again in ``folder``, with its inhouse.toml as it was."""
    lena = _program(folder, clock)
    enrol(lena, "omar", team="support")
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    clock.advance(days=3)
    again = _program(elsewhere, clock, key=lena.key)
    prove(again)
    again.offer_handoff(None, 1, to="lena")
    assert again.settings.lead_key == lena.settings.lead_key
    assert again.settings.program_id != lena.settings.program_id
    again.close()
    lena.close()
    for name in ("inhouse.db", "inhouse.db-wal", "inhouse.db-shm"):
        (folder / ".inhouse" / name).unlink(missing_ok=True)
    source = sqlite3.connect(elsewhere / ".inhouse" / "inhouse.db")
    target = sqlite3.connect(folder / ".inhouse" / "inhouse.db")
    source.backup(target)
    source.close()
    target.close()
    return Program.open(folder, key=lena.key, clock=clock)


def test_a_log_the_lead_rebuilt_with_her_own_key_is_no_program_to_any_command(
    _isolated: Path, tmp_path: Path, clock: Clock
) -> None:
    lena = _rebuilt(_isolated, tmp_path / "again", clock)
    state = lena.state()
    assert state.tampered is not None and state.tampered[1] == 1, state.tampered
    assert "omar" not in state.people and "lena" not in state.people  # nothing after it counts
    before = len(read_events(lena.store))
    # a play's exit (her acceptance of her own play 1) is refused, naming why, and not written
    with pytest.raises(LogTampered) as refused:
        lena.accept_handoff(None, 1, comment="proven")
    said = str(refused.value)
    assert "is not the first event of the program inhouse.toml names" in said, said
    assert "rebuilt from scratch" in said and "another program's" in said, said
    assert len(read_events(lena.store)) == before
    # `inhouse status` says so, and fails for a script that reads only its exit code
    result = CliRunner().invoke(app, ["status"])
    shown = " ".join(result.stdout.split())
    assert result.exit_code == 1, shown
    assert "TAMPERED" in shown and "rebuilt from scratch" in shown, shown
    assert re.search(r"does not verify at event 1\b", shown), shown
    lena.close()


def test_an_inhouse_toml_from_before_program_id_still_folds_its_log(
    _isolated: Path, clock: Clock
) -> None:
    """A program created before inhouse.toml named its ``program_id`` has nothing to compare
    event 1 with: its log folds as before, and its commands record."""
    lena = _program(_isolated, clock)
    prove(lena)
    lena.close()
    toml = _isolated / "inhouse.toml"
    kept = toml.read_text(encoding="utf-8")
    toml.write_text(re.sub(r"(?m)^program_id = .*\n", "", kept), encoding="utf-8")
    older = Program.open(_isolated, key=lena.key, clock=clock)
    assert older.settings.program_id is None
    assert older.state().tampered is None
    older.offer_handoff(None, 1, to="lena")
    older.accept_handoff(None, 1, comment="proven")
    assert "prove-value" in older.state().first_exited
    older.close()
