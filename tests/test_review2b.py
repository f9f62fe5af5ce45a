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
