"""`inhouse status --json` carries exactly the keys its TypedDicts declare (the shape the CLI
renderer, docs/json.md and the dashboard share)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_type_hints

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program.status_shape import (
    CheckRow,
    EvidenceRow,
    KeyView,
    PersonView,
    PlayView,
    ProgramView,
    Status,
)

runner = CliRunner()


def _keys(shape: type) -> set[str]:
    return set(get_type_hints(shape))


def test_status_json_has_the_declared_shape(_isolated: Path) -> None:
    assert runner.invoke(app, ["init", "Acme", "--lead", "lena"]).exit_code == 0
    runner.invoke(app, ["person", "role", "lena", "--add", "play-owner"])
    runner.invoke(app, ["hypothesis", "Local is faster", "--replaces", "the API"])
    assert runner.invoke(app, ["play", "start", "1"]).exit_code == 0
    data = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    assert set(data) == _keys(Status)
    assert set(data["program"]) == _keys(ProgramView)
    play = data["plays"][0]
    assert set(play) == _keys(PlayView)
    row = play["trigger"][0]
    assert set(row) == _keys(CheckRow)
    assert set(row["evidence"][0]) == _keys(EvidenceRow)
    person = data["people"][0]
    assert set(person) == _keys(PersonView) and set(person["keys"][0]) == _keys(KeyView)
    # and docs/json.md names every top-level and program key
    doc = (Path(__file__).parents[1] / "docs" / "json.md").read_text()
    assert all(f'"{key}"' in doc for key in (*_keys(Status), *_keys(ProgramView)))
