"""The CLI through Typer's runner: discovery of the program folder, identity, clear errors (never
a traceback), and the documented --json shapes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app

runner = CliRunner()


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def refused(*args: str, code: int | None = None) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0, result.stdout
    if code is not None:
        assert result.exit_code == code
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


@pytest.fixture
def program(_isolated: Path) -> Path:
    ok("init", "Acme", "--lead", "lena", "--team", "platform")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("person", "add", "omar", "--team", "support", "--role", "play-owner")
    return _isolated


def test_init_writes_the_program_folder(program: Path) -> None:
    assert (program / "inhouse.toml").read_text().count('lead = "lena"') == 1
    assert (program / ".inhouse" / "inhouse.db").is_file()
    assert (program / ".inhouse" / ".gitignore").read_text() == "*\n"


def test_init_inside_an_existing_program_is_refused(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (program / "sub").mkdir()
    monkeypatch.chdir(program / "sub")
    message = refused("init", "Other", "--lead", "x", code=2)
    assert "already inside the inhouse program" in message
    assert not (program / "sub" / "inhouse.toml").exists()


def test_commands_find_the_program_by_walking_up(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = program / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    people = json.loads(ok("person", "list", "--json"))
    assert [p["name"] for p in people] == ["lena", "omar"]


def test_program_option_and_env_override_the_walk(
    program: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert "no inhouse program in" in refused("status", code=2)
    assert (
        json.loads(ok("--program", str(program), "status", "--json"))["program"]["name"] == "Acme"
    )
    assert (
        json.loads(ok("status", "--json", "--program", str(program)))["program"]["lead"] == "lena"
    )
    monkeypatch.setenv("INHOUSE_PROGRAM", str(program))
    assert json.loads(ok("status", "--json"))["program"]["name"] == "Acme"
    monkeypatch.setenv("INHOUSE_PROGRAM", str(elsewhere))
    assert "not an inhouse program folder" in refused("status")


def test_identity_comes_from_as_then_env_then_default(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ok(
        "fact",
        "record",
        "task.named",
        "--attest",
        "weekly",
        "--set",
        "task=a",
        "--set",
        "frequency=weekly",
    )
    ok(
        "fact",
        "record",
        "task.named",
        "--attest",
        "daily",
        "--set",
        "task=b",
        "--set",
        "frequency=daily",
        "--as",
        "omar",
    )
    monkeypatch.setenv("INHOUSE_USER", "omar")
    ok("fact", "record", "task.named", "--attest", "x", "--set", "task=c", "--set", "frequency=x")
    facts = json.loads(ok("fact", "list", "--json"))
    assert [(f["by"], f["provenance"]) for f in facts] == [
        ("lena", "attested"),
        ("omar", "attested"),
        ("omar", "attested"),
    ]


def test_clear_errors_for_bad_input(program: Path) -> None:
    assert "'ghost' is not on this program's roster" in refused(
        "person", "add", "x", "--as", "ghost", code=2
    )
    assert "no play 'nine'" in refused("play", "start", "nine", code=2)
    assert "unknown fact kind 'vibes'" in refused(
        "fact", "record", "vibes", "--attest", "x", code=2
    )
    assert "--set takes key=value" in refused(
        "fact", "record", "task.named", "--attest", "x", "--set", "oops"
    )
    assert "cannot read 'someday'" in refused(
        "waiver",
        "grant",
        "botched-handoff",
        "--reason",
        "other",
        "--note",
        "n",
        "--expires",
        "someday",
    )
    assert "exactly one of --replaces" in refused("hypothesis", "x")


def test_a_malformed_playbook_is_a_clear_error(program: Path) -> None:
    (program / "ours.yaml").write_text("name: ours\nversion: 1\ntitle: t\nplays:\n  - id: one\n")
    config = program / "inhouse.toml"
    config.write_text(config.read_text().replace('"local-model-program"', '"ours.yaml"'))
    message = refused("status", code=2)
    assert "ours.yaml:5: plays.0.title: Field required" in message.replace("\n", " ").replace(
        "  ", " "
    )


def test_a_refused_anti_pattern_names_the_missing_evidence(program: Path) -> None:
    message = refused("play", "start", "2", code=3)
    assert "botched handoff" in message and "calendar-driven advance" in message
    assert "inhouse waiver grant botched-handoff --play baseline" in message
    status = json.loads(ok("status", "--json"))
    assert status["refusals"][0]["action"] == "start play 2 (baseline)"


def test_walk_play_one_with_a_waiver_and_handoff(program: Path) -> None:
    ok(
        "waiver",
        "grant",
        "calendar-driven-advance",
        "--play",
        "1",
        "--reason",
        "time-boxed-experiment",
        "--note",
        "demo first",
        "--expires",
        "7d",
    )
    ok("play", "start", "1")
    ok(
        "fact",
        "record",
        "trial.verdict",
        "--attest",
        "by hand",
        "--set",
        "trial=t",
        "--set",
        "verdict=proven",
        "--set",
        'proven_on=["faster"]',
        "--set",
        "quality_ok=true",
    )
    ok("handoff", "offer", "1", "--to", "lena")
    ok("handoff", "accept", "1", "--comment", "usable")
    text = ok("status")
    assert "exited" in text and "waiver #" in text and "a person's word" in text
    waivers = json.loads(ok("waiver", "list", "--json"))
    assert waivers[0]["guard"] == "calendar-driven-advance" and waivers[0]["active"]


def test_not_worth_it_via_cli(program: Path) -> None:
    ok("hypothesis", "local triage", "--replaces", "OpenAI API")
    ok("play", "start", "1")
    ok(
        "fact",
        "record",
        "trial.verdict",
        "--attest",
        "measured by hand",
        "--set",
        "trial=t",
        "--set",
        "verdict=not-worth-it",
        "--set",
        "quality_ok=false",
    )
    assert "--not-worth-it" in refused("stop")
    ok("stop", "--not-worth-it", "--comment", "hosted stays")
    text = ok("status")
    assert "stopped: not worth it" in text and "successful outcome" in text
    assert "stopped" in refused("person", "add", "late", code=3)


def test_status_json_shape_is_stable(program: Path) -> None:
    data = json.loads(ok("status", "--json"))
    assert set(data) == {
        "schema",
        "program",
        "now",
        "current_play",
        "plays",
        "people",
        "facts",
        "waivers",
        "refusals",
        "warnings",
        "events",
    }
    assert data["schema"] == 1
    assert set(data["plays"][0]) == {
        "number",
        "id",
        "title",
        "purpose",
        "owner_role",
        "owner_who",
        "owner",
        "state",
        "started_at",
        "started_under_waivers",
        "exited_at",
        "trigger",
        "exit",
        "exit_met",
        "hands_on",
        "handoff",
        "ongoing",
    }
    assert set(data["plays"][0]["trigger"][0]) == {
        "check",
        "title",
        "outcome",
        "reason",
        "basis",
        "evidence",
        "waived_by",
    }


def test_playbook_commands(program: Path) -> None:
    assert "Prove value on one machine" in ok("playbook", "show")
    assert json.loads(ok("playbook", "show", "--json"))["version"] == 1
    bad = program / "bad.yaml"
    bad.write_text("name: Bad Name\n")
    assert "bad.yaml" in refused("playbook", "validate", str(bad), code=2)
    assert "6 plays" in ok("playbook", "validate", "local-model-program")


def test_fact_kinds_lists_every_kind_the_checks_read() -> None:
    from inhouse.program.checks import registry

    kinds = {row["kind"] for row in json.loads(ok("fact", "kinds", "--json"))}
    for name in registry:
        assert set(registry[name].reads) <= kinds, name


def test_audit_verify_reports_the_first_tampered_event(_isolated: Path) -> None:
    """Edit a row in the SQLite file directly, as someone covering their tracks would."""
    assert runner.invoke(app, ["init", "Acme", "--lead", "lena"]).exit_code == 0
    assert runner.invoke(app, ["person", "add", "omar"]).exit_code == 0
    assert runner.invoke(app, ["person", "add", "sam"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True

    db = sqlite3.connect(_isolated / ".inhouse" / "inhouse.db")
    with db:
        db.execute("UPDATE events SET payload = replace(payload, 'omar', 'mallory') WHERE seq = 3")
    db.close()

    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "TAMPERED" in result.stdout and "event 3" in result.stdout
    data = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert data["ok"] is False and data["first_bad_event"] == 3
