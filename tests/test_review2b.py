"""Review of lefts3 and outs13 as merged: what the reviewer found, each with the test that
failed on main as merged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clitools import cli
from tests.test_cli import ok


def test_fact_list_keeps_each_time_whole_on_an_80_column_terminal(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fact list` at 80 columns no longer cut a fact's time, but folded it mid-figure
    ("2026-12-07T11:06:41+" over "00:00"): the table's cells are Rich Texts, and the rule that
    keeps a figure whole (``figures_whole``) read only plain strings, so a list command's
    figures got no minimum width at all."""
    from inhouse.cli._common import out_console

    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("hypothesis", "A local model drafts ticket summaries for less", "--replaces", "hosted API")
    monkeypatch.setattr(out_console(), "width", 80)
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
