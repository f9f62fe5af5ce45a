"""Gateway keys through the CLI: granted by a lead, fetched (shown once) by their person with
their own signing key, stored as a hash, revoked, listed; granting beyond play 1's owner goes
through the scaling guard; an agent key needs a tool boundary; every key event is in the audit
trail."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime, write_lock
from inhouse.cli.app import app
from inhouse.db.schema import gateway_keys
from inhouse.program import Program
from tests.people import enrol_cli

runner = CliRunner()


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def omar() -> dict[str, str]:
    """omar's shell (his own key), filled in when the program enrols him."""
    return {}


@pytest.fixture
def program(_isolated: Path, omar: dict[str, str]) -> Path:
    ok("init", "Acme", "--lead", "lena")
    ok("person", "role", "lena", "--add", "play-owner")
    opened = Program.open(_isolated)
    omar.update(enrol_cli(opened, "omar", _isolated.parent / "keys", team="support"))
    opened.close()
    ok("hypothesis", "replace the hosted API", "--replaces", "hosted chat")
    ok("play", "start", "1")
    return _isolated


def test_issue_prints_the_key_once_and_stores_only_its_hash(program: Path) -> None:
    granted = ok("keys", "issue", "lena", "--rpm", "30", "--tokens-per-day", "1000")
    assert "Granted lena a gateway key" in granted and "ih_" not in granted  # the grant hides it
    fetched = runner.invoke(app, ["keys", "fetch"])  # lena fetches her own key, her own signing key
    assert fetched.exit_code == 0, fetched.stdout + fetched.stderr
    key = fetched.stdout.strip().splitlines()[-1]
    assert key.startswith("ih_") and len(key) > 40
    # ...and is told when a gateway already running serves it (a request sent at once was
    # refused as "invalid or revoked", which read as a fetch that failed)
    said = " ".join(fetched.stderr.split())
    assert "A running gateway serves it from its next key refresh" in said, said
    assert "keys_refresh_seconds" in said and key not in fetched.stderr
    # the setting's table by name: Rich read "[gateway]" as markup and printed "( keys_…"
    assert "([gateway] keys_refresh_seconds, 5 s unless set;" in said, said
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
    assert "gateway.key.granted" in kinds and "gateway.key.issued" in kinds
    assert key not in json.dumps([e.payload for e in opened.events()])  # nor in the log
    opened.close()


def test_revoke_by_prefix_is_recorded(program: Path) -> None:
    ok("keys", "issue", "lena")
    key = json.loads(ok("keys", "fetch", "--json"))
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


def test_a_key_beyond_the_owner_is_refused_with_the_missing_evidence(
    program: Path, omar: dict[str, str]
) -> None:
    result = runner.invoke(app, ["keys", "issue", "omar"])
    assert result.exit_code == 3
    assert "refused: grant a gateway key to omar" in result.stderr
    # omar is in no pilot (nobody listed one, he holds no pilot-user role): the refusal says
    # what the grant would do, not that he is in it
    said = " ".join(result.stderr.split())
    assert "omar (not in the pilot yet: this grant gives them one of its places)" in said
    assert "omar (pilot)" not in said
    assert "missing evidence" in result.stderr
    assert "ih_" not in result.stdout
    # nothing was granted, so omar has nothing to fetch
    fetched = runner.invoke(app, ["keys", "fetch"], env=omar)
    assert fetched.exit_code == 2 and "no gateway key is waiting for omar" in fetched.stderr
    opened = Program.open(program)
    with opened.store.engine.connect() as conn:
        assert conn.execute(select(gateway_keys)).all() == []
    assert "gateway.key.granted" not in [e.kind for e in opened.events()]
    opened.close()


def test_a_waiver_lets_a_key_beyond_the_owner_through(program: Path, omar: dict[str, str]) -> None:
    ok("waiver", "grant", "scaling-before-proving", "--reason", "time-boxed-experiment",
       "--note", "two-week trial with omar", "--expires", "14d")  # fmt: skip
    # an agent key needs that agent's tool boundary first (else the agent would be unbounded)
    unbounded = runner.invoke(app, ["keys", "issue", "omar", "--agent", "coder"])
    assert unbounded.exit_code == 2 and "agent 'coder' has no tool boundary" in unbounded.stderr
    with (program / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.coder]\ntools = ["read_file"]\n')
    granted = json.loads(ok("keys", "issue", "omar", "--agent", "coder", "--json"))
    assert granted["person"] == "omar" and granted["agent"] == "coder"
    # the granter never sees omar's key: only omar's own signing key fetches it
    refused = runner.invoke(app, ["keys", "fetch"])
    assert refused.exit_code == 2 and "no gateway key is waiting for lena" in refused.stderr
    issued = json.loads(ok("keys", "fetch", "--json", env=omar))
    assert issued["person"] == "omar" and issued["agent"] == "coder"
    assert issued["key"].startswith("ih_")
    opened = Program.open(program)
    grant = next(e for e in opened.events() if e.kind == "gateway.key.granted")
    assert grant.payload["waivers"], "the waiver it relied on is on the record"
    fetch = next(e for e in opened.events() if e.kind == "gateway.key.issued")
    assert fetch.actor == "omar" and fetch.payload["grant"] == grant.payload["grant"]
    opened.close()


def test_unknown_person_is_refused(program: Path) -> None:
    from inhouse.usage.authentic import GATEWAY_SERVICE

    opened = Program.open(program)
    opened.as_service(GATEWAY_SERVICE)  # the gateway's own key, enrolled by the lead
    opened.close()
    result = runner.invoke(app, ["keys", "issue", "nobody"])
    assert result.exit_code == 2 and "not on this program's roster" in result.stderr
    said = " ".join(result.stderr.split())
    # the people it lists are people: the gateway's service is no one a key is issued to
    assert "omar" in said and GATEWAY_SERVICE not in said.split("(people:")[1], said
    # nor can a key be issued to it: its use would be nobody's
    result = runner.invoke(app, ["keys", "issue", GATEWAY_SERVICE])
    assert result.exit_code == 2 and "is a service with a key of its own, not a person" in (
        " ".join(result.stderr.split())
    )


def test_a_key_before_play_1_starts_is_refused_saying_that_starting_it_lets_its_owner_in(
    _isolated: Path,
) -> None:
    """docs/gateway.md opens with `inhouse keys issue lena`: before play 1 starts it was
    refused for plays 1 to 3 not having exited, while `inhouse play start 1` is what lets its
    owner hold a key."""
    ok("init", "Acme", "--lead", "lena")
    ok("person", "role", "lena", "--add", "play-owner")
    refused = runner.invoke(app, ["keys", "issue", "lena"])
    assert refused.exit_code != 0
    said = " ".join(refused.stderr.split())
    assert "scaling before proving" in said, said
    assert "play 1, prove-value, has not started" in said
    assert "whoever starts it (`inhouse play start 1`) owns it" in said
    ok("hypothesis", "replace the hosted API", "--replaces", "hosted chat")
    ok("play", "start", "1")
    assert "Granted lena a gateway key" in ok("keys", "issue", "lena")
    # once play 1 has an owner, a refusal (omar is not its owner) carries no such note
    opened = Program.open(_isolated)
    enrol_cli(opened, "omar", _isolated.parent / "keys", team="support")
    opened.close()
    refused = runner.invoke(app, ["keys", "issue", "omar"])
    assert refused.exit_code != 0 and "has not started" not in refused.stderr


def test_list_shows_each_limit_with_its_unit_and_times_in_utc(program: Path) -> None:
    """`keys list` showed "rpm 30, tokens_per_day 1000" (a field name for a unit) and a
    creation time without its zone, and left a key's models out of its limits."""
    ok("keys", "issue", "lena", "--rpm", "30", "--tokens-per-day", "20000", "--model", "tiny")
    key = json.loads(ok("keys", "fetch", "--json"))
    ok("keys", "revoke", key["id"])
    listed = " ".join(ok("keys", "list", "--all", env={"COLUMNS": "200"}).split())
    assert "30 req/min, 20,000 tokens/day, models tiny" in listed, listed
    assert "tokens_per_day" not in listed and "rpm 30" not in listed, listed
    (entry,) = json.loads(ok("keys", "list", "--all", "--json"))
    for stamp in (entry["created"], entry["revoked"]):
        shown = datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        assert shown in listed, (shown, listed)


def test_a_model_the_lock_does_not_bless_is_named_when_a_key_is_granted(program: Path) -> None:
    """`keys issue lena --model tyni` (a typo) granted a key that could use no model, without
    a word: its holder met 403s. The grant still stands (a later lock may bless the name), and
    the lead is told which names the lock does not bless and which it does."""
    lock = Lock(
        owner="lena",
        runtime=LockedRuntime(name="local", family="openai"),
        models=[LockedModel(name="tiny", digest="sha256:" + "0" * 64)],
        python="3.11",
        inhouse="0.1.0",
    )
    write_lock(program, lock.model_copy(update={"lock_hash": lock.computed_hash()}))
    typo = runner.invoke(app, ["keys", "issue", "lena", "--model", "tyni"])
    assert typo.exit_code == 0, typo.output
    said = " ".join(typo.stderr.split())
    assert "the lock blesses no tyni (it blesses tiny): this key may use no model" in said, said
    clean = runner.invoke(app, ["keys", "issue", "lena", "--model", "tiny"])
    assert clean.exit_code == 0 and "warning" not in clean.stderr, clean.output
