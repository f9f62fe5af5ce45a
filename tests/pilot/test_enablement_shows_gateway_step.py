"""`inhouse pilot enablement` says when a finished track counts for nothing (exit rule 13,
``GATEWAY_STEP``): a track with no step the gateway measured finishes on the member's word
alone, which play 4's ``pilot-enabled`` does not count. The command showed such a track as
"done" (``--json``: ``done: true`` and nothing else), while the check failed it: a lead reading
it took the member as enabled. Now the text and ``--json`` (``counts``, ``not_counted``) say it
does not count and why, in the check's own words; a track the gateway bore out counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.pilot import roster
from inhouse.pilot.roster import add_member
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from inhouse.web.pages import pilot_page, viewer
from inhouse.web.render import render_page
from tests.conftest import Clock
from tests.people import vouch_for_gateway_host
from tests.pilot.world import make_world

runner = CliRunner()

WORDS = """\
title: Words
role: ops
steps:
  - id: pair
    type: attested
    title: Spent half an hour with your team's champion
  - id: read-the-guide
    type: attested
    title: Read the pilot guide
"""

WHY = (
    "bob's track words has no step the gateway measured (their own request through their own "
    "gateway key: a first-answered-request or used-shared-prompt step)"
)


def _cli(*args: str, env: dict[str, str]) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    return result.stdout


def _member(env: dict[str, str], person: str) -> dict[str, Any]:
    [member] = json.loads(_cli("pilot", "enablement", person, "--json", env=env))["members"]
    return dict(member)


def test_a_track_of_words_alone_is_shown_as_not_counting(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob was added on a track of two attested steps (by an inhouse before `pilot add`
    refused such a track: a program that upgraded) and says both are done. All his steps are
    met; the command says his track does not count, and why, before and after he records it,
    as the check does."""
    world = make_world(_isolated, clock)
    world.waive()
    (_isolated / "enablement" / "words.yaml").write_text(WORDS, encoding="utf-8")
    env = world.enrol_cli("bob", "ops")
    with monkeypatch.context() as older:
        older.setattr(roster, "gateway_step_missing", lambda track: None)
        add_member(world.lead, "bob", track="words")
    for step in ("pair", "read-the-guide"):
        _cli("pilot", "step", "done", step, env=env)
    member = _member(env, "bob")
    assert (member["met"], member["steps_total"], member["done"]) == (2, 2, True)
    assert member["counts"] is False
    assert member["not_counted"].startswith(WHY), member["not_counted"]
    text = " ".join(_cli("pilot", "enablement", "bob", env=env).split())
    assert "bob — track words: done, but it does not count for play 4's pilot-enabled" in text
    assert WHY in text
    listed = " ".join(_cli("pilot", "list", env=env).split())
    assert "2/2 done, not counted" in listed
    # recorded, the completion is what the check judges: it fails it for the same reason
    recorded = json.loads(_cli("pilot", "enablement", "--record", "--json", env=env))
    [after] = recorded["members"]
    assert after["completed_recorded"] and after["counts"] is False
    assert after["not_counted"] == member["not_counted"]
    clock.now = datetime.now(UTC)  # the CLI signed with the real clock, after the world's
    check = evaluate("pilot-enabled", context_for(world.lead.state(), clock()))
    assert check.outcome is Outcome.FAIL, check.reason
    assert after["not_counted"] in check.reason
    # the dashboard's pilot page says so too, beside "(done)"
    data = pilot_page(world.lead)
    [row] = data["roster"]["members"]
    assert (row["counts"], row["not_counted"]) == (False, after["not_counted"])
    page = render_page("pilot", data, viewer=viewer(world.lead), csrf="-", path="/pilot")
    assert "2 of 2 steps (done), <strong class=\"error\">not counted for pilot-enabled</strong>: " \
        "bob&#39;s track words has no step the gateway measured" in page  # fmt: skip
    world.lead.close()


def test_a_track_the_gateway_bore_out_counts(_isolated: Path, clock: Clock) -> None:
    """The honest member: dora's track's one step is her own request through her own gateway
    key, which the gateway signed. Done, and it counts: nothing is said against it."""
    world = make_world(_isolated, clock)
    world.waive()
    env = world.enrol_cli("dora", "legal")
    world.lead.as_service("gateway")  # its host vouched for by dora, who never led
    vouch_for_gateway_host(world.people["dora"])
    add_member(world.lead, "dora", track="legal")
    member = _member(env, "dora")
    assert (member["done"], member["counts"], member["not_counted"]) == (False, False, None)
    world.send("dora", datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.sign()
    member = _member(env, "dora")
    assert (member["done"], member["counts"], member["not_counted"]) == (True, True, None)
    text = _cli("pilot", "enablement", "dora", env=env)
    assert "dora — track legal: done" in text and "does not count" not in text
    world.lead.close()
