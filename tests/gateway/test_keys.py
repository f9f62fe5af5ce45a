"""Gateway keys through the CLI: shown once, stored as a hash, revoked, listed; issuing beyond
play 1's owner goes through the scaling guard; every key event is in the audit trail."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.db.schema import gateway_keys
from inhouse.program import Program

runner = CliRunner()


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def program(_isolated: Path) -> Path:
    ok("init", "Acme", "--lead", "lena")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("person", "add", "omar", "--team", "support")
    ok("hypothesis", "replace the hosted API", "--replaces", "hosted chat")
    ok("play", "start", "1")
    return _isolated


def test_issue_prints_the_key_once_and_stores_only_its_hash(program: Path) -> None:
    out = ok("keys", "issue", "lena", "--rpm", "30", "--tokens-per-day", "1000")
    key = out.strip().splitlines()[-1]
    assert key.startswith("ih_") and len(key) > 40
    opened = Program.open(program)
    with opened.store.engine.connect() as conn:
        (row,) = conn.execute(select(gateway_keys)).all()
    assert row.hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in " ".join(str(v) for v in row)
    assert json.loads(row.limits) == {"rpm": 30, "tokens_per_day": 1000, "models": None}
    listed = ok("keys", "list")
    assert key not in listed and row.prefix in listed
    (entry,) = json.loads(ok("keys", "list", "--json"))
    assert entry["person"] == "lena" and entry["rpm"] == 30 and "key" not in entry
    kinds = [e.kind for e in opened.events()]
    assert "gateway.key.issued" in kinds
    opened.close()


def test_revoke_by_prefix_is_recorded(program: Path) -> None:
    key = json.loads(ok("keys", "issue", "lena", "--json"))
    ok("keys", "revoke", key["prefix"])
    assert json.loads(ok("keys", "list", "--json")) == []
    (entry,) = json.loads(ok("keys", "list", "--all", "--json"))
    assert entry["revoked"]
    again = runner.invoke(app, ["keys", "revoke", key["id"]])
    assert again.exit_code == 2 and "already revoked" in again.stderr
    opened = Program.open(program)
    revoked = [e for e in opened.events() if e.kind == "gateway.key.revoked"]
    assert revoked[0].payload["key"] == key["id"] and revoked[0].actor == "lena"
    opened.close()


def test_a_key_beyond_the_owner_is_refused_with_the_missing_evidence(program: Path) -> None:
    result = runner.invoke(app, ["keys", "issue", "omar"])
    assert result.exit_code == 3
    assert "refused: issue gateway key to omar" in result.stderr
    assert "missing evidence" in result.stderr
    assert "ih_" not in result.stdout
    opened = Program.open(program)
    with opened.store.engine.connect() as conn:
        assert conn.execute(select(gateway_keys)).all() == []
    opened.close()


def test_a_waiver_lets_a_key_beyond_the_owner_through(program: Path) -> None:
    ok("waiver", "grant", "scaling-before-proving", "--reason", "time-boxed-experiment",
       "--note", "two-week trial with omar", "--expires", "14d")  # fmt: skip
    issued = json.loads(ok("keys", "issue", "omar", "--agent", "coder", "--json"))
    assert issued["person"] == "omar" and issued["agent"] == "coder"
    opened = Program.open(program)
    event = next(e for e in opened.events() if e.kind == "gateway.key.issued")
    assert event.payload["waivers"], "the waiver it relied on is on the record"
    opened.close()


def test_unknown_person_is_refused(program: Path) -> None:
    result = runner.invoke(app, ["keys", "issue", "nobody"])
    assert result.exit_code == 2 and "not on this program's roster" in result.stderr
