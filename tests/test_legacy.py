"""A program made before identities keeps working: its events show as unsigned and count only as
attestations; its lead enrols a key once (`person claim-lead`), and the audit still verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.db import open_store
from inhouse.location import database_url
from inhouse.program.events import EventKind, append

runner = CliRunner()


def _old_program(folder: Path) -> None:
    """What a program looked like before identities: typed names, no signatures."""
    (folder / "inhouse.toml").write_text('[program]\nname = "Old"\nlead = "lena"\n')
    (folder / ".inhouse").mkdir()
    store = open_store(database_url(folder))
    at = datetime(2026, 10, 1, tzinfo=UTC)
    created = {"name": "Old", "lead": "lena", "playbook": "local-model-program",
               "playbook_version": 1}  # fmt: skip
    append(store, EventKind.PROGRAM_CREATED, "lena", created, at=at, key=None)
    person = {"name": "lena", "email": "", "team": "", "roles": ["rollout-lead", "play-owner"]}
    append(store, EventKind.PERSON_ADDED, "lena", person, at=at, key=None)
    hypothesis = {"statement": "faster", "aim": "replace-dependency", "target": "api"}
    append(store, EventKind.HYPOTHESIS_RECORDED, "lena", hypothesis, at=at, key=None)
    append(store, EventKind.PLAY_STARTED, "lena", {"play": "prove-value", "owner": "lena"},
           at=at, key=None)  # fmt: skip
    verdict = {"trial": "t", "verdict": "proven", "proven_on": ["faster"], "quality_ok": True,
               "summary": "", "report": None}  # fmt: skip
    fact = {"kind": "trial.verdict", "version": 1, "payload": verdict, "provenance": "measured",
            "collector": "inhouse prove"}  # fmt: skip
    append(store, EventKind.FACT_RECORDED, "lena", fact, at=at, key=None)
    store.close()


def test_an_old_program_shows_unsigned_and_its_lead_claims_a_key(_isolated: Path) -> None:
    _old_program(_isolated)
    status = json.loads(runner.invoke(app, ["status", "--json"]).stdout)
    prove = status["plays"][0]
    trigger = prove["trigger"][0]
    assert trigger["outcome"] == "pass" and trigger["basis"] == "unsigned"  # a word still counts
    value = next(row for row in prove["exit"] if row["check"] == "value-proven")
    assert value["outcome"] == "inconclusive"
    assert "written before identities, unsigned" in value["reason"]
    # nobody holds a key yet: acting needs the lead to claim one
    refused = runner.invoke(app, ["access", "request"])
    assert refused.exit_code == 3 and "no signing key" in refused.stderr
    claimed = runner.invoke(app, ["person", "claim-lead"])
    assert claimed.exit_code == 0, claimed.stderr
    assert "lena" in runner.invoke(app, ["whoami"]).stdout
    again = runner.invoke(app, ["person", "claim-lead"])
    assert again.exit_code == 2 and "already has enrolled keys" in again.stderr
    audit = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert audit["ok"] and audit["unsigned"] == 5 and audit["signed"] == 1
