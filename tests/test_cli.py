"""The CLI through Typer's runner: discovery of the program folder, identity (the key this shell
holds, never a typed name), clear errors (never a traceback), and the documented --json shapes.

Each person acts with a key file of their own (``INHOUSE_KEY``) and a machine of their own
(``INHOUSE_MACHINE_ID``); the lead's key is the one ``init`` created under the test's HOME."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program, Provenance

runner = CliRunner()


def ok(*args: str, env: dict[str, str] | None = None, answer: str | None = None) -> str:
    result = runner.invoke(app, list(args), env=env, input=answer)
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def refused(*args: str, code: int | None = None, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code != 0, result.stdout
    if code is not None:
        assert result.exit_code == code
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.stderr


def invite(name: str, *options: str) -> str:
    """``person invite`` as the lead; returns the invitation it prints."""
    found = re.search(r"inhouse join (inhouse-invite:\S+)", ok("person", "invite", name, *options))
    assert found is not None
    return found.group(1)


def own_machine(name: str, keys: Path) -> dict[str, str]:
    """The env of ``name``'s shell on their own machine, with their own (new) key file."""
    return {"INHOUSE_KEY": str(keys / f"{name}.key"), "INHOUSE_MACHINE_ID": f"{name}-laptop"}


def measured_verdict(program: Path, verdict: str, **payload: Any) -> None:
    """The trial.verdict ``inhouse prove`` records (a real trial needs a model; this is its
    output, recorded through the same collector seam, signed by the lead who ran it)."""
    opened = Program.open(program)
    try:
        opened.record_fact(
            None,
            "trial.verdict",
            {"trial": "t", "verdict": verdict, **payload},
            provenance=Provenance.MEASURED,
            collector="inhouse prove",
        )
    finally:
        opened.close()


@pytest.fixture
def invitations() -> dict[str, str]:
    return {}


@pytest.fixture
def program(_isolated: Path, invitations: dict[str, str]) -> Path:
    ok("init", "Acme", "--lead", "lena", "--team", "platform")
    ok("person", "role", "lena", "--add", "play-owner")
    invitations["omar"] = invite("omar", "--team", "support", "--role", "play-owner")
    return _isolated


@pytest.fixture
def omar(program: Path, invitations: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """omar, joined with his own key on his own laptop: the env his commands run with."""
    env = own_machine("omar", tmp_path / "keys")
    assert "Enrolled omar" in ok("join", invitations["omar"], env=env)
    return env


def test_init_writes_the_program_folder(program: Path) -> None:
    assert (program / "inhouse.toml").read_text().count('lead = "lena"') == 1
    assert (program / ".inhouse" / "inhouse.db").is_file()
    assert (program / ".inhouse" / ".gitignore").read_text() == "*\n"


def test_init_without_a_name_is_refused_and_leaves_nothing_behind(_isolated: Path) -> None:
    """`init "" --lead lena` was a pydantic traceback after the log was written: the folder
    then held a program's store and no inhouse.toml, and every later `init` there was refused
    ("the store … already holds a program")."""
    for blank in ("", "  "):
        assert "the program needs a name" in refused("init", blank, "--lead", "lena", code=2)
        assert not (_isolated / ".inhouse").exists()
    assert "Created program Acme" in " ".join(ok("init", "Acme", "--lead", "lena").split())


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


def test_identity_comes_from_the_key_never_a_typed_name(
    program: Path, omar: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert json.loads(ok("whoami", "--json"))["name"] == "lena"
    assert json.loads(ok("whoami", "--json", env=omar))["name"] == "omar"
    task = ("--set", "task=a", "--set", "frequency=weekly")
    ok("fact", "record", "task.named", "--attest", "weekly", *task)
    # a rollout lead may speak for someone: it stays her word, shown as on his behalf
    said = ok("fact", "record", "task.named", "--attest", "daily", *task, "--on-behalf-of", "omar")
    assert "attested by lena on behalf of omar" in said
    ok("fact", "record", "task.named", "--attest", "mine", *task, env=omar)
    # --as and INHOUSE_USER used to pick the actor: the first is gone, the second ignored
    assert "No such option: --as" in refused(
        "fact", "record", "task.named", "--attest", "x", *task, "--as", "omar", code=2
    )
    monkeypatch.setenv("INHOUSE_USER", "omar")
    ok("fact", "record", "task.named", "--attest", "x", *task)
    # and omar cannot speak for anyone: only a rollout lead records on someone's behalf
    assert "only a rollout lead" in refused(
        "fact", "record", "task.named", "--attest", "x", *task, "--on-behalf-of", "lena", env=omar
    )
    facts = json.loads(ok("fact", "list", "--json"))
    assert [(f["by"], f["provenance"]) for f in facts] == [
        ("lena", "attested"),
        ("lena", "attested"),
        ("omar", "attested"),
        ("lena", "attested"),
    ]


def test_a_person_on_a_fresh_machine_sends_signed_evidence(
    program: Path, invitations: dict[str, str], tmp_path: Path
) -> None:
    """omar has only the program folder (from git), not its log: his enrolment and his facts
    travel as signed envelopes, and the signature says who made them, not who carried them."""
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    shutil.copy(program / "inhouse.toml", laptop / "inhouse.toml")
    env = own_machine("omar", tmp_path / "keys")
    joined = ok("join", invitations["omar"], "--program", str(laptop), env=env)
    assert "Signed your enrolment" in joined and "outbox" in joined
    ok("fact", "record", "task.named", "--attest", "I triage daily", "--set", "task=triage",
       "--set", "frequency=daily", "--program", str(laptop), env=env)  # fmt: skip
    bundle = tmp_path / "omar.json"
    assert "2 signed envelopes" in ok(
        "evidence", "export", "-o", str(bundle), "--program", str(laptop), env=env
    )
    # a tampered copy is refused whole: nothing of it is appended
    forged = json.loads(bundle.read_text())
    forged[1]["payload"] = forged[0]["payload"]
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    before = json.loads(ok("status", "--json"))["events"]
    refused("evidence", "import", str(tmp_path / "forged.json"))
    assert json.loads(ok("status", "--json"))["events"] == before
    lines = ok("evidence", "import", str(bundle))  # the lead carries it in
    assert "enrolled omar" in lines and "task.named by omar" in lines
    assert "already imported, skipped" in ok("evidence", "import", str(bundle))
    [fact] = json.loads(ok("fact", "list", "--json"))
    assert (fact["kind"], fact["by"]) == ("task.named", "omar")
    # the line names the fact it recorded, as every recording command does
    omar_key = json.loads(ok("whoami", "--json", env=env))["key_id"]
    assert f"task.named by omar (key {omar_key}), fact #{fact['id']}" in " ".join(lines.split())
    assert json.loads(ok("whoami", "--json", env=env))["name"] == "omar"


def test_a_checkout_without_the_log_says_so_not_that_nobody_is_enrolled(
    program: Path, invitations: dict[str, str], tmp_path: Path
) -> None:
    """omar's machine has the program folder from git, not its log: who he is and the status
    cannot be read there, and the commands say that, and what he can do (it was "key … is not
    enrolled in program ''" and a status of an empty program, "playbook  v0 · 0 events")."""
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    shutil.copy(program / "inhouse.toml", laptop / "inhouse.toml")
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invitations["omar"], "--program", str(laptop), env=env)
    for command in (["whoami"], ["status"]):
        said = " ".join(refused(*command, "--program", str(laptop), code=2, env=env).split())
        assert "has the program's settings but not its log" in said, said
        assert "inhouse evidence export" in said and "not enrolled" not in said, said
        # every command that signs into the outbox there is named, his rerun of play 1's
        # trial too (play 2's exit needs it, and it was left out)
        assert "`inhouse baseline verify` and `inhouse prove NAME --rerun` sign into" in said
    assert json.loads(ok("whoami", "--json"))["name"] == "lena"  # where the log is


def _sign_in(program: Path, name: str, key: Path) -> None:
    """The organisation's sign-in set up by the lead (the suite's stand-in provider), and
    ``name``'s key, held at ``key``, signed in with it."""
    from inhouse.identity import load_key
    from tests.people import sign_in_as, suite_sign_in

    lead = Program.open(program)
    try:
        assert suite_sign_in(lead)
        person = lead.using(load_key(key))
        assert person.whoami().name == name
        sign_in_as(person)
    finally:
        lead.close()


def _access_requested(env: dict[str, str] | None = None) -> dict[str, Any]:
    trigger = json.loads(ok("status", "--json", env=env))["plays"][1]["trigger"]
    return next(row for row in trigger if row["check"] == "access-requested")


def test_a_newcomer_asks_to_get_in_from_their_own_laptop(
    program: Path, invitations: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The people who ask to get in are on machines of their own, which hold the program folder
    (from git), not its log: `access request` there was refused, so the request play 2 starts on
    could only be made where the log is. It is signed into the outbox in the name the key joined
    under, and counts once imported; one signed in someone else's name is shown, never counted."""
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    shutil.copy(program / "inhouse.toml", laptop / "inhouse.toml")
    env = own_machine("omar", tmp_path / "keys")
    with monkeypatch.context() as laptops:  # omar's own machine, as its operating system says
        laptops.setattr("inhouse.identity.machine._os_machine_id", lambda: "omar-laptop")
        ok("join", invitations["omar"], "--program", str(laptop), env=env)
        said = " ".join(
            ok("access", "request", "--reason", "ticket triage", "--program", str(laptop),
               env=env).split()
        )  # fmt: skip
    assert "as omar into this checkout's outbox" in said and "inhouse evidence export" in said
    # lena, the lead, in a checkout of her own without the log, asks in omar's name
    desk = tmp_path / "desk"
    desk.mkdir()
    shutil.copy(program / "inhouse.toml", desk / "inhouse.toml")
    ok("access", "request", "--as", "omar", "--program", str(desk))
    bundle = tmp_path / "omar.json"
    ok("evidence", "export", "-o", str(bundle), "--program", str(laptop), env=env)
    forged = tmp_path / "lena.json"
    ok("evidence", "export", "-o", str(forged), "--program", str(desk))
    assert _access_requested()["outcome"] == "fail"
    lines = ok("evidence", "import", str(forged))
    assert "access.request by lena" in lines, lines
    row = _access_requested()
    assert row["outcome"] != "pass" and "signed by lena, not by omar" in json.dumps(row), row
    lines = ok("evidence", "import", str(bundle))
    assert "enrolled omar" in lines and "access.request by omar" in lines, lines
    _sign_in(program, "omar", Path(env["INHOUSE_KEY"]))  # without it nobody is told apart
    row = _access_requested()
    assert row["outcome"] == "pass" and "access requested by omar" in row["reason"], json.dumps(row)
    [fact] = [f for f in json.loads(ok("fact", "list", "--json")) if f["by"] == "omar"]
    assert fact["payload"] == {"person": "omar", "reason": "ticket triage"}


def test_an_access_request_from_a_checkout_that_cannot_tell_who_asks(
    program: Path, invitations: dict[str, str], tmp_path: Path
) -> None:
    """Without the log and without this key's enrolment in the outbox, nothing says whose the
    key is: the request names what to give, and where the log is, `--as` must be the signer."""
    joined, laptop = tmp_path / "joined", tmp_path / "laptop"
    for checkout in (joined, laptop):
        checkout.mkdir()
        shutil.copy(program / "inhouse.toml", checkout / "inhouse.toml")
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invitations["omar"], "--program", str(joined), env=env)  # in another checkout
    said = " ".join(refused("access", "request", "--program", str(laptop), env=env).split())
    assert "access request --as NAME" in said and "not its log" in said, said
    assert not (laptop / ".inhouse" / "outbox").exists()
    said = " ".join(refused("access", "request", "--as", "omar").split())
    assert "nobody asks to get in for omar" in said, said


def test_clear_errors_for_bad_input(program: Path) -> None:
    assert "'ghost' is not on this program's roster" in refused(
        "fact",
        "record",
        "task.named",
        "--attest",
        "x",
        "--set",
        "task=t",
        "--set",
        "frequency=daily",
        "--on-behalf-of",
        "ghost",
        code=2,
    )
    assert "no play 'nine'" in refused("play", "start", "nine", code=2)
    said = " ".join(refused("handoff", "accept", "1", code=3).split())
    assert "no handoff awaiting a decision (handoff: none): its owner offers it first" in said
    assert "`inhouse handoff offer 1 --to lena`" in said, said
    # a typo in a name says which name it most likely meant; a new name is not guessed at
    for command in (["person", "role", "omr", "--add", "champion"], ["keys", "issue", "omr"]):
        said = " ".join(refused(*command, code=2).split())
        assert "'omr' is not on this program's roster: did you mean 'omar'?" in said, said
    assert "did you mean" not in refused("person", "role", "zed", "--add", "champion", code=2)
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
    # a port outside its range is refused before anything starts, naming the option
    for serve, port in (("gateway", "99999"), ("web", "-1"), ("runtime", "70000")):
        extra = ["inhouse-test-model"] if serve == "runtime" else []
        said = refused(serve, "serve", *extra, "--port", port, code=2)
        assert "Invalid value for '--port'" in said, said


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


def test_a_play_that_cannot_start_says_so_before_the_owners_role(program: Path) -> None:
    """lena, without the play-owner role, starts play 2 while play 1 is not done: the refusal
    says first that the play cannot start (it sent her to get the role, only to be refused for
    play 1 next), then the role she lacks; both reasons, one message."""
    ok("person", "role", "lena", "--remove", "play-owner")
    message = refused("play", "start", "2", code=3)
    assert "botched handoff" in message and "calendar-driven advance" in message, message
    assert "is owned by a play-owner; lena is not one" in message, message
    assert message.index("botched handoff") < message.index("is owned by a play-owner")
    status = json.loads(ok("status", "--json"))
    assert status["refusals"][0]["action"] == "start play 2 (baseline)"
    # where the play could start, the role alone is what is said
    ok("person", "role", "lena", "--add", "play-owner")
    ok("waiver", "grant", "calendar-driven-advance", "--play", "1", "--reason",
       "time-boxed-experiment", "--note", "demo first", "--expires", "7d")  # fmt: skip
    ok("person", "role", "lena", "--remove", "play-owner")
    message = refused("play", "start", "1", code=3)
    assert "is owned by a play-owner; lena is not one" in message, message
    assert "calendar-driven advance" not in message


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
    # a verdict typed by hand used to let play 1 exit: now it is a word where inhouse measures
    assert "exit criteria are not met" in refused("handoff", "offer", "1", "--to", "lena", code=3)
    exit_ = json.loads(ok("status", "--json"))["plays"][0]["exit"]
    value = next(row for row in exit_ if row["check"] == "value-proven")
    assert value["outcome"] == "inconclusive"
    assert "a person's word (lena) where inhouse measures this" in value["reason"]
    assert "a person's word, not measured" in ok("status")
    measured_verdict(program, "proven", proven_on=["faster"], quality_ok=True)
    ok("handoff", "offer", "1", "--to", "lena")
    # the acceptance shows what its key signs and signs only on a typed yes: a receiver asked
    # to "just run `inhouse handoff accept 1`" reads the artifact and the evidence first, and
    # one with no terminal (or who says no) records nothing; no flag answers for them
    for answer, why in ((None, "the question got no answer"), ("n\n", "accept only an artifact")):
        unread = runner.invoke(app, ["handoff", "accept", "1", "--comment", "ok"], input=answer)
        assert unread.exit_code == 3, unread.stdout + unread.stderr
        said = " ".join(unread.stderr.split())
        assert f"not accepted, nothing recorded for lena: {why}" in said, said
        shown = unread.stdout
        assert "ACCEPT, as lena, the handoff of play 1 (prove-value" in shown, shown
        assert "the artifact handed on: the trial report" in shown, shown
        assert "offered by lena at " in shown and "its exit evidence hash: " in shown, shown
        assert re.search(r"fact #\d+: trial.verdict by lena, measured", shown), shown
        assert "your comment: ok" in shown, shown
    assert Program.open(program).state().handoffs["prove-value"].status == "offered"
    assert "--yes" not in ok("handoff", "accept", "--help")
    # nor does `web approve` take one: "just run it with --yes" was the one-word favour there
    assert "No such option: --yes" in refused("web", "approve", "abc", "--yes", code=2)
    ok("handoff", "accept", "1", "--comment", "usable", answer="y\n")
    text = ok("status")
    assert "exited" in text and "waiver #" in text
    exit_ = json.loads(ok("status", "--json"))["plays"][0]["exit"]
    assert [(row["outcome"], row["basis"]) for row in exit_] == [("pass", "measured")]
    waivers = json.loads(ok("waiver", "list", "--json"))
    assert waivers[0]["guard"] == "calendar-driven-advance" and waivers[0]["active"]


def test_not_worth_it_via_cli(program: Path) -> None:
    ok("hypothesis", "local triage", "--replaces", "OpenAI API")
    ok("play", "start", "1")
    measured_verdict(program, "not-worth-it", quality_ok=False)
    assert "--not-worth-it" in refused("stop")
    ok("stop", "--not-worth-it", "--comment", "hosted stays")
    text = ok("status")
    assert "stopped: not worth it" in text and "successful outcome" in text
    assert "stopped" in refused("person", "invite", "late", code=3)


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
        "tampered",
        "events",
    }
    assert data["schema"] == 1  # a field added (tampered) leaves every reader's keys as they were
    assert data["tampered"] is None
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
        "held_back",
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
    assert json.loads(ok("playbook", "show", "--json"))["version"] == 2
    bad = program / "bad.yaml"
    bad.write_text("name: Bad Name\n")
    assert "bad.yaml" in refused("playbook", "validate", str(bad), code=2)
    assert "6 plays" in ok("playbook", "validate", "local-model-program")


def test_fact_kinds_lists_every_kind_the_checks_read() -> None:
    from inhouse.program.checks import registry

    rows = {row["kind"]: row for row in json.loads(ok("fact", "kinds", "--json"))}
    for name in registry:
        assert set(registry[name].reads) <= set(rows), name
    # "measured by" names the command that records it: access.request said "the reach guards"
    # and an agent's registration and boundary "inhouse gateway", where nothing records them
    assert rows["access.request"]["produced_by"] == "inhouse access request"
    for kind in ("agent.registered", "agent.boundary"):
        assert rows[kind]["produced_by"] == "inhouse keys issue --agent", kind


def test_audit_verify_reports_the_first_tampered_event(_isolated: Path) -> None:
    """Edit a row in the SQLite file directly, as someone covering their tracks would."""
    assert runner.invoke(app, ["init", "Acme", "--lead", "lena"]).exit_code == 0
    assert runner.invoke(app, ["person", "invite", "omar"]).exit_code == 0
    assert runner.invoke(app, ["person", "invite", "sam"]).exit_code == 0
    ok = runner.invoke(app, ["audit", "verify", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["ok"] is True

    db = sqlite3.connect(_isolated / ".inhouse" / "inhouse.db")
    with db:
        db.execute("UPDATE events SET payload = replace(payload, 'omar', 'mallory') WHERE seq = 3")
    db.close()

    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "TAMPERED" in result.stdout and "event 3" in result.stdout
    # status still shows the state as of the event before it, and exits 1 too
    shown = runner.invoke(app, ["status"])
    assert shown.exit_code == 1 and "TAMPERED" in shown.stdout
    shown = runner.invoke(app, ["status", "--json"])
    assert shown.exit_code == 1 and json.loads(shown.stdout)["warnings"][0].startswith("TAMPERED")
    tampered = json.loads(shown.stdout)["tampered"]  # said as a field, not only in words
    assert tampered["seq"] == 3 and tampered["cut"] is False, tampered
    data = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert data["ok"] is False and data["first_bad_event"] == 3
    # cut before lena's own enrolment, the log knows nobody: her commands say the log is at
    # fault, not that her key "is not enrolled" (which sent her to ask for an invitation)
    db = sqlite3.connect(_isolated / ".inhouse" / "inhouse.db")
    with db:
        db.execute("UPDATE events SET payload = replace(payload, 'rollout', 'r') WHERE seq = 2")
    db.close()
    for command in (["whoami"], ["hypothesis", "x", "--replaces", "y"]):
        said = " ".join(refused(*command, code=1).split())
        assert "the event log does not verify at event 2" in said and "not enrolled" not in said


def _every_command() -> list[tuple[str, Any]]:
    """Every built-in command and group, by its full name (lazy groups loaded as --help does)."""
    import typer.main

    root = typer.main.get_command(app)
    found: list[tuple[str, Any]] = []
    todo = [("inhouse", root, root.make_context("inhouse", [], resilient_parsing=True))]
    while todo:
        name, command, ctx = todo.pop()
        found.append((name, command))
        for sub in getattr(command, "list_commands", lambda ctx: [])(ctx):
            child = command.get_command(ctx, sub)
            child_ctx = child.make_context(sub, [], parent=ctx, resilient_parsing=True)
            todo.append((f"{name} {sub}", child, child_ctx))
    return found


def test_help_wraps_to_the_terminal_not_to_the_source() -> None:
    """A docstring's line breaks are the source file's, not the help's: each paragraph of every
    command's help is one line, which Rich wraps to the terminal (kept, they broke sentences
    mid-line, e.g. `baseline verify --help`'s "every blessed model has its locked" / "digest")."""
    commands = _every_command()
    assert len(commands) > 100
    for name, command in commands:
        for paragraph in (command.help or "").split("\n\n"):
            assert "\n" not in paragraph and "``" not in paragraph, f"{name}: {paragraph!r}"
    verify = runner.invoke(app, ["baseline", "verify", "--help"], env={"COLUMNS": "100"}).stdout
    assert "every blessed model has its locked digest" in " ".join(verify.split())
    assert not any(line.rstrip().endswith(" locked") for line in verify.splitlines())


def test_status_says_whole_who_should_own_a_play_at_80_columns(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before a play has an owner, status says who should own it: a sentence, which a title on an
    80-column terminal cut mid-word ("owner one technical person wh─╮")."""

    monkeypatch.setenv("COLUMNS", "80")
    shown = " ".join(ok("status").split())
    assert "owner one technical person who will live with the result" in shown, shown
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    ok("play", "start", "1")
    shown = " ".join(ok("status").split())
    assert "1. Prove value on one machine · " in shown and " · owner lena ─" in shown, shown


def test_status_ends_with_each_persons_next_step(program: Path, omar: dict[str, str]) -> None:
    """`inhouse status` listed every check and left the reader to find what to do next among
    them; it ends with each person's next step, as the dashboard's program page lists them."""
    # a fresh program's first step is play 1's trigger: the hypothesis
    fresh = " ".join(ok("status").split()).split("Next steps", 1)[-1]
    assert "lena: play 1 (Prove value on one machine) waits for its trigger" in fresh, fresh
    assert "inhouse hypothesis" in fresh, fresh
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    shown = " ".join(ok("status").split())
    assert "Next steps" in shown, shown
    assert "waits for its trigger" not in shown, shown
    assert (
        "lena: start play 1 (Prove value on one machine): its trigger holds "
        "(`inhouse play start 1`)"
    ) in shown, shown
    ok("play", "start", "1")
    shown = " ".join(ok("status").split()).split("Next steps", 1)[1]
    assert "lena: play 1 (Prove value on one machine) needs a trial on a real task" in shown
    assert "run a head-to-head trial: write its spec" in shown and "`inhouse prove NAME`" in shown
    assert "start play 1" not in shown and "omar:" not in shown, shown
    # the text and the dashboard's twin say the same steps
    from inhouse.next_steps import next_steps

    opened = Program.open(program)
    try:
        ((person, texts),) = [
            (p["person"], [s["text"] for s in p["steps"]])
            for p in next_steps(opened, opened.status())
        ]
    finally:
        opened.close()
    assert person == "lena" and all(" ".join(t.split()) in shown for t in texts), texts


def test_person_role_help_says_who_may_which_roles_and_the_guard() -> None:
    """`person role --help` said only "Give or take roles."."""
    shown = " ".join(ok("person", "role", "--help").split())
    assert "(rollout leads)" in shown and "refused until plays 1-3 have exited" in shown, shown
    assert "rollout-lead, play-owner, support-owner, champion or pilot-user" in shown, shown


def test_handoff_offer_help_says_who_offers_and_what_follows() -> None:
    """`handoff offer --help` said only "Offer the handoff (only when every exit check passes)."."""
    shown = " ".join(ok("handoff", "offer", "--help").split())
    assert "(the play's owner, once every exit check passes)" in shown, shown
    assert "`inhouse handoff accept PLAY`, and the play exits then" in shown, shown


def test_no_flag_is_shown_as_taking_a_value(program: Path) -> None:
    """Typer 0.29 wrote every flag's help row as `--json <bool>`, as if it took a value
    (`--json true` is an error). Every command's and group's flags are shown bare; an option that
    takes a value keeps its placeholder."""
    for name, _command in _every_command():
        words = [*name.split()[1:], "--help"]
        shown = runner.invoke(app, words, env={"COLUMNS": "120"}).stdout
        assert "<bool>" not in shown, f"{name}: {shown}"
    shown = runner.invoke(app, ["status", "--help"], env={"COLUMNS": "120"}).stdout
    assert "--program        <str>" in shown or "--program <str>" in " ".join(shown.split())
    assert ok("status", "--json").startswith("{")


#: bytes no UTF-8 reader takes: a binary file saved under a .yaml/.json name by mistake
_BINARY = b"\x89PNG\r\n\x1a\n\x00\xff\xfe junk"


#: the files a person names or writes, and the command that reads each: (where, command,
#: whether the command takes the path as its last argument)
_READ_FILES = [
    ("payload.json", ["fact", "record", "task.named", "--attest", "x", "--file"], True),
    ("trials/t.yaml", ["prove", "t"], False),
    ("workflows/w.yaml", ["workflow", "validate", "w"], False),
    ("enablement/t.yaml", ["pilot", "guide", "t"], False),
    ("pf.yaml", ["workflow", "import-promptfoo", "pf.yaml", "--model", "m"], False),
    ("ours.yaml", ["playbook", "validate", "ours.yaml"], False),
]


@pytest.mark.parametrize(
    ("where", "command", "takes_path", "bad"),
    [
        (*read, bad)
        for read in _READ_FILES
        for bad in ("missing", "folder", "binary")
        # a missing trial, workflow or track lists the others (tested with their loaders)
        if bad != "missing" or read[0] in {"payload.json", "pf.yaml", "ours.yaml"}
    ],
)
def test_a_file_a_person_gave_that_cannot_be_read_is_named_never_a_traceback(
    program: Path, where: str, command: list[str], takes_path: bool, bad: str
) -> None:
    """A typo in --file, a folder where the file was meant to be, or a binary saved under the
    name: each was a Python traceback (FileNotFoundError, IsADirectoryError,
    UnicodeDecodeError) from every reader but one; now the error names the file and why."""
    path = program / where
    path.parent.mkdir(parents=True, exist_ok=True)
    if bad == "folder":
        path.mkdir()
    elif bad == "binary":
        path.write_bytes(_BINARY)
    args = [*command, where] if takes_path else command
    message = " ".join(refused(*args, code=2).split())
    assert where in message, message
    reason = {"missing": "no ", "folder": "is a directory", "binary": "not utf-8 text"}[bad]
    assert reason in message.lower(), message


@pytest.mark.parametrize("bad", ["folder", "binary"])
def test_a_listing_names_the_unreadable_file_and_goes_on(program: Path, bad: str) -> None:
    """`workflow list` and `pilot tracks` show a broken file as a row saying why; a folder or a
    binary named like a spec stopped the whole listing with a traceback."""
    for where in ("workflows/w.yaml", "enablement/t.yaml"):
        path = program / where
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir() if bad == "folder" else path.write_bytes(_BINARY)
    reason = "Is a directory" if bad == "folder" else "not UTF-8 text"
    assert reason in " ".join(ok("workflow", "list").split())
    assert reason in " ".join(ok("pilot", "tracks").split())


def test_a_binary_inhouse_toml_is_a_config_error(program: Path) -> None:
    (program / "inhouse.toml").write_bytes(_BINARY)
    message = " ".join(refused("status", code=2).split())
    assert "inhouse.toml is not valid TOML: not UTF-8 text" in message, message


@pytest.mark.parametrize("span", ["99999999d", "99999999999999999999w", "9999-12-31T23:00-05:00"])
def test_a_span_too_far_ahead_is_refused_by_name(program: Path, span: str) -> None:
    """`--expires 99999999d` (a finger on the 9) was an OverflowError traceback."""
    for command in (
        ["fact", "record", "task.named", "--attest", "x", "--set", "task=t", "--expires", span],
        ["survey", "open", "--closes", span],
    ):
        message = " ".join(refused(*command, code=2).split())
        assert f"'{span}' is too far ahead" in message, message


def test_a_store_a_newer_inhouse_upgraded_is_refused_and_left_alone(program: Path) -> None:
    """A colleague's newer inhouse migrated the shared store: this one raised alembic's
    CommandError as a traceback. Now it says so, and writes nothing."""
    database = program / ".inhouse" / "inhouse.db"
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
        before = conn.execute("SELECT count(*) FROM events").fetchone()
    message = " ".join(refused("status").split())
    assert "has schema '0099_from_the_future', newer than this inhouse knows" in message, message
    assert "Upgrade inhouse" in message
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            "0099_from_the_future",
        )
        assert conn.execute("SELECT count(*) FROM events").fetchone() == before


def test_audit_anchor_never_overwrites_a_file_that_is_not_its_anchor(program: Path) -> None:
    """`audit anchor -o notes.md` overwrote notes.md; `-o somefolder` and `-o missing/x` were
    tracebacks. The anchor it wrote itself is still rewritten as the log grows."""
    notes = program / "notes.md"
    notes.write_text("my notes\n")
    assert "is there and is not an anchor file" in refused("audit", "anchor", "-o", "notes.md")
    assert notes.read_text() == "my notes\n"
    (program / "somefolder").mkdir()
    assert "is a folder" in refused("audit", "anchor", "-o", "somefolder", code=2)
    assert "cannot write the anchor" in refused("audit", "anchor", "-o", "missing/x", code=2)
    assert "Anchored event" in ok("audit", "anchor")
    assert "Anchored event" in ok("audit", "anchor")  # its own anchor: rewritten


def test_init_into_a_file_is_refused_before_anything_is_written(_isolated: Path) -> None:
    (_isolated / "notes.md").write_text("my notes\n")
    for target in ("notes.md", "notes.md/sub"):
        message = " ".join(refused("init", "Acme", "--lead", "lena", "--dir", target).split())
        assert "notes.md is a file, not a folder" in message, message
    assert (_isolated / "notes.md").read_text() == "my notes\n"
    assert not (_isolated / ".inhouse").exists()


@pytest.mark.parametrize("name", ["bob\nsmith", "bob\tsmith", "bob\x1b[31m"])
def test_a_name_with_a_control_character_is_refused(program: Path, name: str) -> None:
    """A line break or escape in a name was taken: it then split or coloured every table and
    log line showing it, and nobody could type the name back."""
    assert "control characters" in refused("person", "invite", name, code=2)
    elsewhere = str(program.parent / "elsewhere")
    assert "control characters" in refused("init", "X", "--lead", name, "--dir", elsewhere, code=2)


def test_audit_verify_where_the_log_is_not_never_says_ok(program: Path) -> None:
    """In a checkout without the log (or where it was lost) `audit verify` said "ok: 0 events,
    chain intact" and exit 0: an audit that passed on a log nobody had looked at."""
    for leftover in (program / ".inhouse").glob("inhouse.db*"):
        leftover.unlink()
    message = " ".join(refused("audit", "verify", code=2).split())
    assert "cannot verify the log here: this folder has the program's settings but not its log" in (
        message
    ), message


def test_evidence_export_keeps_what_is_there_and_names_a_cut_short_envelope(
    program: Path, tmp_path: Path
) -> None:
    """From a checkout without the log: `evidence export -o notes.md` overwrote notes.md, a
    folder or a missing folder in -o was a traceback, and an outbox envelope a cut-short run
    left half-written stopped every export with a JSONDecodeError traceback."""
    desk = tmp_path / "desk"
    desk.mkdir()
    shutil.copy(program / "inhouse.toml", desk / "inhouse.toml")
    ok("access", "request", "--as", "lena", "--reason", "triage", "--program", str(desk))
    notes = tmp_path / "notes.md"
    notes.write_text("my notes\n")
    where = ["--program", str(desk)]
    said = refused("evidence", "export", "-o", str(notes), *where, code=2)
    assert "is there and is not an evidence export: nothing overwritten" in said, said
    assert notes.read_text() == "my notes\n"
    assert "is a folder" in refused("evidence", "export", "-o", str(tmp_path), *where, code=2)
    missing = str(tmp_path / "missing" / "x.json")
    assert "cannot write" in refused("evidence", "export", "-o", missing, *where, code=2)
    bundle = tmp_path / "lena.json"
    for _ in range(2):  # an earlier export is rewritten
        assert "Wrote 1 signed envelope" in ok("evidence", "export", "-o", str(bundle), *where)
    (desk / ".inhouse" / "outbox" / "zz-access.request.json").write_text('{"payload": "eyJ')
    said = " ".join(refused("evidence", "export", "-o", str(bundle), *where, code=2).split())
    assert ".inhouse/outbox/zz-access.request.json:1: not JSON" in said, said
    assert "not a whole envelope (a run cut short?)" in said
    assert [
        p.name for p in (desk / ".inhouse" / "outbox").iterdir() if p.name.startswith(".")
    ] == []


def test_workflow_test_refuses_a_report_target_it_cannot_write_before_running(
    program: Path,
) -> None:
    """`workflow test W --junit reports` (a folder) ran every case, recorded the run, and only
    then died with an IsADirectoryError traceback: the CI got no report. It is refused first."""
    (program / "reports").mkdir()
    for option in ("--junit", "--report"):
        said = refused("workflow", "test", "nosuch", option, "reports", code=2)
        assert f"{option} {program / 'reports'} is a folder" in " ".join(said.split()), said


def test_the_last_rollout_lead_cannot_drop_the_role(program: Path) -> None:
    """`person role lena --remove rollout-lead` (meant for someone else) was taken: the program
    was left with no lead, nobody could invite or change roles again, and `claim-lead` takes
    only a program nobody has joined. With a second lead first, it goes through."""
    said = " ".join(refused("person", "role", "lena", "--remove", "rollout-lead", code=2).split())
    assert "lena is the program's last rollout lead" in said, said
    assert "rollout-lead" in ok("person", "role", "lena")
    ok("person", "role", "omar", "--add", "rollout-lead")
    assert "rollout-lead" not in ok("person", "role", "lena", "--remove", "rollout-lead")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_init_where_no_folder_can_be_made_is_a_store_error(_isolated: Path) -> None:
    """A --dir where no folder can be created (read-only, no permission: here /proc, where even
    root makes none) was a FileNotFoundError traceback from mkdir."""
    said = " ".join(refused("init", "X", "--lead", "lena", "--dir", "/proc/inhouse-x").split())
    assert "cannot create the store's folder /proc/inhouse-x/.inhouse" in said, said


def test_audit_verify_refuses_a_log_the_lead_rebuilt_from_scratch(
    program: Path, omar: dict[str, str], tmp_path: Path
) -> None:
    """lena wants a history without omar in it. She makes a program anew with her own key
    (the lead key inhouse.toml pins is hers: event 1 signed by it passes that check) in
    another folder and puts its database where the program's was. Every hash, link and
    signature in it holds, so `audit verify` said ok and `audit anchor` anchored it; but its
    first event is not the program inhouse.toml (in git, in every colleague's checkout, in
    every envelope and sign-in) names. Both refuse it, naming that; nothing is anchored."""
    toml = (program / "inhouse.toml").read_text(encoding="utf-8")
    assert "program_id" in toml
    again = Program.init(tmp_path / "again", "Acme", "lena", team="platform")
    again.close()
    for name in ("inhouse.db", "inhouse.db-wal", "inhouse.db-shm"):
        (program / ".inhouse" / name).unlink(missing_ok=True)
    source = sqlite3.connect(tmp_path / "again" / ".inhouse" / "inhouse.db")
    target = sqlite3.connect(program / ".inhouse" / "inhouse.db")
    source.backup(target)
    source.close()
    target.close()
    verified = runner.invoke(app, ["audit", "verify"])
    said = verified.stdout
    assert verified.exit_code == 1, said
    assert "TAMPERED" in said and "is not the first event of the program inhouse.toml" in said
    assert "rebuilt from scratch" in said
    assert "is not the first event" in refused("audit", "anchor")
    assert not (program / "inhouse.anchor").exists()


def test_audit_verify_passes_the_program_inhouse_toml_names(program: Path) -> None:
    assert "chain intact" in ok("audit", "verify")
    assert "Anchored event" in ok("audit", "anchor")


def test_a_verify_without_the_log_names_the_signer_as_it_joined(
    program: Path, invitations: dict[str, str], tmp_path: Path
) -> None:
    """Signed into the outbox, a verify is by a key: it is shown in the name that key joined
    under in this checkout (the docs show a person's name), else as "your key (ID)", never as
    a bare key id standing in for a name."""
    from inhouse.baseline.lock import build_lock, write_lock
    from inhouse.baseline.manifest import read_manifest
    from inhouse.runtimes.protocol import Inventory, ModelInfo

    joined, laptop = tmp_path / "joined", tmp_path / "laptop"
    for checkout in (joined, laptop):  # the lead's committed lock, on a runtime gone here
        checkout.mkdir()
        shutil.copy(program / "inhouse.toml", checkout / "inhouse.toml")
        with (checkout / "inhouse.toml").open("a", encoding="utf-8") as config:
            config.write(
                '\n[runtimes.local]\nfamily = "openai"\nurl = "http://127.0.0.1:9"\n\n'
                '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["m"]\n'
            )
        served = Inventory(
            runtime="local", family="openai", url="http://127.0.0.1:9",
            models=[ModelInfo(id="m", digest="sha256:" + "a" * 64, digest_source="file-sha256")],
        )  # fmt: skip
        manifest = read_manifest(checkout)
        write_lock(checkout, build_lock(manifest, served, runtime_family="openai", rules=""))
    env = own_machine("omar", tmp_path / "keys")
    ok("join", invitations["omar"], "--program", str(joined), env=env)
    runner_ = CliRunner()
    for checkout, shown in ((joined, "as omar"), (laptop, "as your key (ed25519:")):
        said = runner_.invoke(
            app, ["baseline", "verify", "--no-record", "--program", str(checkout)], env=env
        )
        text = " ".join(said.stdout.split())
        assert "Verifying this machine against lock" in text, text + said.stderr
        assert shown in text, text


def test_figures_too_wide_for_the_terminal_fold_rather_than_cut_the_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """figures_whole keeps each figure whole where the terminal has room; where the figures
    side by side are wider than it, Rich cut the table at its edge and the last columns
    (a trial's "outcome", its threshold) were not shown at all."""
    from rich.console import Console
    from rich.table import Table

    from inhouse.cli._common import figures_whole, out_console

    def shown(width: int) -> str:
        table = Table("dimension", "candidate", "status quo", "delta", "threshold", "outcome")
        table.add_row("cost", "0.00000103 EUR", "0.00000207 EUR", "-0.00000104 EUR",
                      "0.00000050 EUR", "ok")  # fmt: skip
        monkeypatch.setattr(out_console(), "width", width)
        console = Console(width=width, record=True)
        console.print(figures_whole(table))
        return console.export_text()

    wide = shown(120)
    assert "0.00000103" in wide and "outcome" in wide, wide  # room: each figure whole
    narrow = shown(50)
    assert " ok " in narrow, narrow  # the last column, folded in, not cut off


def test_audit_log_shows_each_time_whole_in_utc_at_80_columns(
    program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse audit log` on an 80-column terminal cut each time's zone ("…10:00:00+0…"):
    the time is shown in UTC with a Z, whole, in the table and the JSON alike."""

    monkeypatch.setenv("COLUMNS", "80")
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    rows = json.loads(ok("audit", "log", "--json"))
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
    assert rows and all(stamp.fullmatch(row["at"]) for row in rows), [r["at"] for r in rows]
    table = ok("audit", "log")
    assert "…" not in table.split("details")[0], table
    for row in rows:
        assert re.search(rf"^\s*{row['seq']}\s+{re.escape(row['at'])}\s", table, re.M), table
