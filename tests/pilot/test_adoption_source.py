"""`inhouse pilot adoption` says where its figures come from: without ``--record``, from the
summary tables a lead can fill by hand (a red team's finding), labelled unsigned on stdout and
in the JSON; with it, the gateway's sealed rows, signed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli._common import Typer
from inhouse.cli.pilot_adoption import register
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from tests.conftest import Clock
from tests.pilot.gateway_days import commands_on_the_tests_clock, start_pilot

UNSIGNED = "unsigned: from the summary tables, which anyone with database access can write"


def test_typed_usage_is_shown_unsigned_and_the_record_counts_nobody(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    pilot = start_pilot(_isolated, clock, {"pia": ("legal", "support")})
    request.addfinalizer(pilot.lead.close)
    pilot.enable("pia", "2026-11-02T10:00")
    typed = [
        UsageRecord(request_id=new_request_id(), at=f"2026-11-0{d}T11:00:00+00:00",
                    person="pia", key_id="k_pia", endpoint="chat/completions", model="tiny",
                    status=200, tokens_in=40, tokens_out=60)
        for d in (3, 4, 5)
    ]  # fmt: skip
    insert_usage(pilot.lead.store, typed)  # nobody sent a request
    pilot.on("2026-11-06")
    commands_on_the_tests_clock(pilot, monkeypatch)
    app = Typer()

    @app.callback()
    def _root() -> None:
        """The pilot group's stand-in: `inhouse pilot` mounts the same command."""

    register(app)

    def run(*args: str) -> str:
        result = CliRunner().invoke(app, ["adoption", "--as-of", "2026-11-06", *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    shown = run()
    assert shown.startswith(f"U{UNSIGNED[1:]}.")
    assert "1 of 1 members reach it on their own" in shown  # the tables' word, labelled
    data = json.loads(run("--json"))
    assert data["source"] == UNSIGNED and data["members"][0]["independent"]
    recorded = json.loads(run("--record", "--json"))
    assert "signed with its key" in recorded["source"]
    assert not recorded["members"][0]["independent"]
