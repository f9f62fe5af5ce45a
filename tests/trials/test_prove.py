"""``inhouse prove`` end to end: the real llama.cpp engine with the test model as candidate,
against (a) a second OpenAI-compatible server — a stand-in upstream with injected delay — and
(b) a manual CSV; each records the trial.verdict fact and ``inhouse status`` shows play 1's exit
accordingly. Privacy: a status quo on a non-loopback address reports the bytes that left the
machine and the data classes in them."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.testing.standin_upstream import StandinTiming, spawn_standin, standin_in_thread
from inhouse.trials.prove import prove_trial
from inhouse.trials.report import format_money
from inhouse.trials.verdict import Verdict
from tests.engine import Engine, needs_engine
from tests.people import key_file

runner = CliRunner()

COST = {
    "watts": 45,
    "price_per_kwh": 0.28,
    "hardware_price": 1400,
    "lifetime_hours": 26280,
    "utilisation": 0.25,
}
# a check every answer passes: these tests are about the trial's plumbing and evidence; the
# quality floor's logic is tested on constructed data in test_verdict.py
CHECKS = [
    {"type": "not-icontains", "value": "as an ai language model"},
    {"type": "length", "min": 1},  # an empty answer fails it: the checks judge the answers
]


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def program(_isolated: Path) -> Path:
    # a demo program: these trials run the test model as their candidate, which proves nothing
    # about value, and only a demo program lets play 1 exit on it
    ok("init", "Acme", "--lead", "lena", "--demo")
    ok("person", "role", "lena", "--add", "play-owner")
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    ok("play", "start", "1")
    (_isolated / "data").mkdir()
    return _isolated


def write_inputs(folder: Path, rows: list[dict[str, Any]]) -> None:
    lines = "\n".join(json.dumps(row) for row in rows)
    (folder / "data" / "tickets.jsonl").write_text(lines + "\n")


def write_trial(folder: Path, status_quo: dict[str, Any], **changes: Any) -> None:
    spec: dict[str, Any] = {
        "description": "one-line ticket summaries",
        "task": {"prompt": "Summarise in one line: {{ text }}", "inputs": "data/tickets.jsonl"},
        "candidate": {"runtime": "local", "cost": COST},
        "status_quo": status_quo,
        "checks": CHECKS,
        "meaningful": {"faster": 30, "cheaper": 30},
        "generation": {"max_tokens": 8, "temperature": 0, "seed": 1},
        "warmup": 1,
        "resamples": 2000,
    }
    spec.update(changes)
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / "tickets.yaml").write_text(yaml.safe_dump(spec))


def add_runtime(folder: Path, engine: Engine) -> None:
    with (folder / "inhouse.toml").open("a") as handle:
        handle.write(
            f'\n[runtimes.local]\nfamily = "openai"\nurl = "{engine.url}"\n'
            f'model_path = "{engine.model}"\n'
        )


def play_one_exit(folder: Path) -> dict[str, Any]:
    status = json.loads(ok("status", "--json"))
    play = status["plays"][0]
    assert play["id"] == "prove-value"
    check = play["exit"][0]
    assert check["check"] == "value-proven"
    return {"check": check, "exit_met": play["exit_met"], "program": status["program"]}


def tickets(count: int) -> list[dict[str, Any]]:
    return [{"id": f"T-{i}", "text": f"printer {i} on floor {i % 3} jams"} for i in range(count)]


@needs_engine
def test_prove_against_a_second_openai_server(program: Path, engine: Engine) -> None:
    add_runtime(program, engine)
    write_inputs(program, tickets(8))
    # the stand-in answers after 1 s, then a token every 25 ms, cut at the trial's max_tokens
    # (8): ~1.2 s a task. The test model's 8 tokens take ~0.02 s, and under 0.3 s on a loaded
    # machine where its server runs one thread (tests/engine.py: its default threads stall one
    # another there, and an answer took up to 7 s)
    with spawn_standin(StandinTiming(1000, 25, 16), model="standin-hosted") as hosted:
        write_trial(
            program,
            {
                "kind": "api",
                "url": hosted.url,
                "model": "standin-hosted",
                "price_input_per_mtok": 2.5,
                "price_output_per_mtok": 10.0,
            },
        )
        data = json.loads(ok("prove", "tickets", "--json"))
    assert data["verdict"]["verdict"] == "proven", data["verdict"]
    assert "faster" in data["verdict"]["proven_on"]
    assert data["verdict"]["quality_ok"]
    faster = next(d for d in data["dimensions"] if d["name"] == "faster")
    assert faster["n"] == 8 and faster["improvement"]["low"] >= 30
    assert data["status_quo"]["model"] == "standin-hosted"
    assert data["candidate"]["model"] == str(engine.model)  # the one model the engine serves
    assert data["candidate"]["inventory"]["digest"]  # the weights that were measured
    # ... which are the test model's, and everything the trial shows says so
    assert data["test_model"] is True
    assert any("proves nothing about value" in c for c in data["caveats"])
    # both sides answered every input and were checked
    assert all(r["candidate"]["ok"] and r["status_quo"]["ok"] for r in data["inputs"])
    assert data["quality"]["candidate_passed"] == data["quality"]["status_quo_passed"] == 8
    # the measured fact play 1's exit reads, with the report attached
    facts = json.loads(ok("fact", "list", "--json"))
    verdict = [f for f in facts if f["kind"] == "trial.verdict"][-1]
    assert verdict["provenance"] == "measured"
    assert verdict["id"] == data["fact_id"]
    assert verdict["payload"]["report"] == data["report"]["html"]
    assert verdict["payload"]["test_model"] is True
    # the weights it measured, which play 2's lock is held to
    assert verdict["payload"]["candidate"] == {
        "model": str(engine.model),
        "digest": data["candidate"]["inventory"]["digest"],
        "digest_source": data["candidate"]["inventory"]["digest_source"],
    }
    assert (program / data["report"]["html"]).is_file()
    assert (program / data["report"]["json"]).is_file()
    exit_ = play_one_exit(program)
    assert exit_["check"]["outcome"] == "pass"
    assert "trial tickets proved the local model faster" in exit_["check"]["reason"]
    # the "hosted" status quo answered from this machine, and the verdict says so
    assert verdict["payload"]["economics"]["status_quo_scope"] == "loopback"
    assert "note: the status quo answered from this machine" in exit_["check"]["reason"]
    assert exit_["check"]["evidence"][0]["label"].startswith("measured by inhouse prove")
    assert exit_["exit_met"] is True


@needs_engine
def test_prove_against_a_manual_csv(
    program: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_runtime(program, engine)
    write_inputs(program, tickets(6))
    minutes = [4, 6.5, 3, 5, 7, 4.5]
    (program / "data" / "minutes.csv").write_text(
        "minutes,output\n"
        + "".join(f"{m},Printer jam cleared on floor {i % 3}\n" for i, m in enumerate(minutes))
    )
    write_trial(program, {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42})
    monkeypatch.setenv("COLUMNS", "80")  # the terminal the CLI prints on
    result = runner.invoke(app, ["prove", "tickets"])
    assert result.exit_code == 0, result.stdout + result.stderr
    out = result.stdout
    # on an 80-column terminal a cell wraps, never cut short: a cost once read "0.00000…"
    table = out.split("candidate cost inputs")[0]
    assert not re.search(r"\S…", table), table
    # ...nor folds a figure: "0.00000103 EUR" once read "0.000001" over "03 EUR"
    report = sorted((program / ".inhouse" / "reports").glob("tickets-*.json"))[-1]
    dimensions = json.loads(report.read_text())["dimensions"]
    cheaper = next(d for d in dimensions if d["name"] == "cheaper")
    for mean in (cheaper["candidate_mean"], cheaper["status_quo_mean"]):
        assert format_money(mean) in table, (format_money(mean), table)
    # and says what its figures are: a mean per task, not the trial's total
    assert "mean time and cost per task" in " ".join(table.split()), table
    out = " ".join(out.split())
    assert "faster" in out and "cheaper" in out and "quality" in out
    assert "proven" in out and "Report: .inhouse/reports/tickets-" in out
    assert "hourly cost 42" in out  # every cost input is listed
    assert "inhouse test model (random weights" in out
    assert "recorded by the trial's author" in out  # the minutes are not inhouse's measurement
    report = sorted((program / ".inhouse" / "reports").glob("tickets-*.json"))[-1]
    data = json.loads(report.read_text())
    assert data["verdict"]["verdict"] == "proven"
    assert set(data["verdict"]["proven_on"]) == {"faster", "cheaper"}
    assert data["latency"]["status_quo_s"] == [m * 60 for m in minutes]
    manual = data["cost"]["status_quo"]
    assert manual["method"] == "manual"
    assert manual["total"] == pytest.approx(sum(minutes) / 60 * 42)
    assert data["quality"]["status_quo_measured"]  # the CSV's outputs were checked
    assert not data["privacy"]["status_quo"]["network"]
    assert "sends nothing over the network" in data["privacy"]["status_quo"]["note"]
    exit_ = play_one_exit(program)
    assert exit_["check"]["outcome"] == "pass"
    assert (
        "against minutes lena recorded for the manual process (their word, until the "
        "colleague who reruns the trial confirms them)" in str(exit_["check"]["reason"])
    )


@needs_engine
def test_not_worth_it_can_stop_the_program_honestly(program: Path, engine: Engine) -> None:
    add_runtime(program, engine)
    write_inputs(program, tickets(6))
    # a status quo that answers at once: nothing local is 30 % faster than that
    with standin_in_thread(StandinTiming(0, 0, 2), model="standin-instant") as instant:
        write_trial(
            program,
            {
                "kind": "api",
                "url": instant.url,
                "price_input_per_mtok": 1.0,
                "price_output_per_mtok": 1.0,
            },
            meaningful={"faster": 30},
        )
        data = json.loads(ok("prove", "tickets", "--json", "--stop-if-not-worth-it"))
    assert data["verdict"]["verdict"] == "not-worth-it"
    assert data["stopped"] is True
    exit_ = play_one_exit(program)
    assert exit_["check"]["outcome"] == "fail"
    assert "concluded not worth it" in exit_["check"]["reason"]
    assert exit_["program"]["state"] == "stopped"
    assert exit_["program"]["stopped"]["reason"] == "not-worth-it"
    # nothing more runs in a stopped program
    result = runner.invoke(app, ["prove", "tickets"])
    assert result.exit_code == 3 and "stopped" in result.stderr


def test_asked_on_not_worth_it_the_person_stops_the_program_through_the_one_route(
    program: Path,
) -> None:
    """What the interactive question does, through the Python API the CLI calls (a terminal
    asks; CliRunner is not one). Stand-in upstreams on both sides, named so."""
    write_inputs(program, tickets(6))
    asked: list[str] = []

    def ask(verdict: Verdict) -> bool:
        asked.append(verdict.verdict)
        return True

    opened = Program.open(program)
    try:
        with (
            standin_in_thread(StandinTiming(80, 5, 6), model="standin-a") as fast,
            standin_in_thread(StandinTiming(0, 0, 2), model="standin-b") as instant,
        ):
            api = {"kind": "api", "price_input_per_mtok": 1.0, "price_output_per_mtok": 1.0}
            # the status quo is the slow one: proven, so nobody is asked
            write_trial(program, {**api, "url": fast.url}, candidate={"url": instant.url,
                        "cost": COST}, meaningful={"faster": 30})  # fmt: skip
            run = prove_trial(opened, "tickets", ask_to_stop=ask)
            assert run.verdict.verdict == "proven" and asked == [] and not run.stopped
            # the candidate is the slow one: not worth it, asked once, and the answer stops it
            write_trial(program, {**api, "url": instant.url}, candidate={"url": fast.url,
                        "cost": COST}, meaningful={"faster": 30})  # fmt: skip
            run = prove_trial(opened, "tickets", ask_to_stop=ask)
    finally:
        opened.close()
    assert asked == ["not-worth-it"] and run.stopped
    assert json.loads(run.report.json.read_text())["stopped"] is True
    exit_ = play_one_exit(program)
    assert exit_["program"]["state"] == "stopped"
    assert exit_["program"]["stopped"]["reason"] == "not-worth-it"


def machine_address() -> str | None:
    """This machine's non-loopback address: the UDP-connect trick (no packet is sent), else
    ``hostname -I``."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        if not address.startswith("127."):
            return address
    except OSError:
        pass
    try:
        words = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    found = [w for w in words.stdout.split() if ":" not in w and not w.startswith("127.")]
    return found[0] if found else None


@pytest.fixture
def address() -> Iterator[str]:
    found = machine_address()
    if found is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    yield found


@needs_engine
def test_a_status_quo_at_this_machines_own_address_is_this_machine(
    program: Path, engine: Engine, address: str
) -> None:
    """A "hosted API" served from this machine, reached by one of its own non-loopback
    addresses: its requests never left the machine (they are counted, with their data classes,
    but not as having left), the verdict is not "more private", and value-proven says where it
    answered from."""
    add_runtime(program, engine)
    rows = [
        {"id": "A", "text": "Refund for jane.doe@example.com please"},
        {"id": "B", "text": "Charge card 4111 1111 1111 1111 again"},  # valid Luhn
        {"id": "C", "text": "Printer on floor 2 jams"},
        {"id": "D", "text": "Ask omar@example.org about card 5555 5555 5555 4444"},
        {"id": "E", "text": "Reset the VPN token"},
        {"id": "F", "text": "Wrong card 4111 1111 1111 1112 typed"},  # fails Luhn: not a card
    ]
    write_inputs(program, rows)
    with spawn_standin(StandinTiming(50, 5, 8), model="standin-remote", host=address) as remote:
        write_trial(
            program,
            {
                "kind": "api",
                "url": remote.url,
                "price_input_per_mtok": 1.0,
                "price_output_per_mtok": 2.0,
            },
            meaningful={"faster": 30, "more_private": True},
        )
        data = json.loads(ok("prove", "tickets", "--json"))
    quo = data["privacy"]["status_quo"]
    [destination] = quo["destinations"]
    assert destination["host"] == address and destination["addresses"] == [address]
    assert destination["scope"] == "loopback" and not destination["left_machine"]
    assert destination["requests"] == len(rows) + 1  # the warm-up request carried data too
    prompts = sum(len(f"Summarise in one line: {r['text']}") for r in rows)
    assert destination["bytes_sent"] > prompts and quo["bytes_left_machine"] == 0
    # A and D carry e-mails, and the warm-up request resent A; B and D carry valid card
    # numbers, F's fails the Luhn check
    assert destination["data_classes"]["email"] == 3
    assert destination["data_classes"]["card"] == 2
    assert data["privacy"]["more_private"] is False
    html = (program / data["report"]["html"]).read_text()
    assert address in html and "card (2), email (3)" in html


def test_an_unknown_trial_is_a_clear_error(program: Path) -> None:
    result = runner.invoke(app, ["prove", "nope"])
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "no trial trials/nope.yaml" in said and "docs/trials.md shows the format" in said
    assert "Traceback" not in result.stdout + result.stderr
    # a spec naming inputs that are not there: the error names the spec, as every field's does
    write_trial(program, {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 40,
                          "pass_rate": 0.9})  # fmt: skip
    result = runner.invoke(app, ["prove", "tickets"])
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "trials/tickets.yaml: task.inputs: no file data/tickets.jsonl" in said, said
    # and so does a template naming a field the inputs lack, and inputs outside the folder
    write_inputs(program, tickets(2))
    write_trial(program, {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 40,
                          "pass_rate": 0.9}, task={"prompt": "{{ nope }}",
                                                   "inputs": "data/tickets.jsonl"})  # fmt: skip
    said = " ".join(runner.invoke(app, ["prove", "tickets"]).stderr.split())
    assert "trials/tickets.yaml: task.prompt for input T-0: 'nope' is undefined" in said, said
    write_trial(program, {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 40,
                          "pass_rate": 0.9}, task={"prompt": "{{ text }}",
                                                   "inputs": "../outside.jsonl"})  # fmt: skip
    said = " ".join(runner.invoke(app, ["prove", "tickets"]).stderr.split())
    assert "trials/tickets.yaml: task.inputs: path ../outside.jsonl points outside" in said, said


def test_an_unknown_person_fails_before_any_request(program: Path, tmp_path: Path) -> None:
    write_inputs(program, tickets(5))
    stranger = {"INHOUSE_KEY": str(key_file(tmp_path / "keys", "mallory"))}  # enrolled nowhere
    with (
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-a", record=True) as candidate,
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-b", record=True) as status_quo,
    ):
        write_trial(
            program,
            {"kind": "api", "url": status_quo.url, "price_input_per_mtok": 1.0,
             "price_output_per_mtok": 1.0},
            candidate={"url": candidate.url, "cost": COST},
        )  # fmt: skip
        result = runner.invoke(app, ["prove", "tickets"], env=stranger)
        assert result.exit_code == 3, result.stdout
        assert "not enrolled" in result.stderr
        # a measurement is made by whoever runs it: nobody runs a trial on mallory's behalf
        result = runner.invoke(app, ["prove", "tickets", "--on-behalf-of", "mallory"])
        assert result.exit_code == 3, result.stdout
        assert "mallory" in result.stderr
        assert candidate.requests_served == status_quo.requests_served == 0  # not even asked
    facts = json.loads(ok("fact", "list", "--json"))
    assert all(f["kind"] != "trial.verdict" for f in facts)


def test_a_status_quo_that_is_down_is_named(program: Path) -> None:
    write_inputs(program, tickets(5))
    with standin_in_thread(StandinTiming(0, 0, 2), model="standin-a", record=True) as candidate:
        write_trial(
            program,
            {"kind": "api", "url": "http://127.0.0.1:9", "price_input_per_mtok": 1.0,
             "price_output_per_mtok": 1.0, "model": "m"},
            candidate={"url": candidate.url, "cost": COST},
        )  # fmt: skip
        result = runner.invoke(app, ["prove", "tickets"])
        assert candidate.received == []  # checked before any task was sent
    assert result.exit_code != 0
    assert "127.0.0.1:9" in result.stderr and "Traceback" not in result.stderr


def test_a_trial_with_python_checks_runs_only_on_its_runners_word(program: Path) -> None:
    """A python check runs its author's code with the runner's rights: `prove` refuses a trial
    that has one, naming it, before any request, unless the runner says --trust-python."""
    write_inputs(program, tickets(5))
    checks = [{"type": "python", "value": "tests.checks.pyfuncs:mentions_tea"}]
    with (
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-a", record=True) as candidate,
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-b", record=True) as status_quo,
    ):
        write_trial(
            program,
            {"kind": "api", "url": status_quo.url, "price_input_per_mtok": 1.0,
             "price_output_per_mtok": 1.0},
            candidate={"url": candidate.url, "cost": COST}, checks=checks,
        )  # fmt: skip
        result = runner.invoke(app, ["prove", "tickets"])
        assert result.exit_code == 3, result.stdout
        assert "tests.checks.pyfuncs:mentions_tea" in result.stderr
        assert "--trust-python" in result.stderr
        assert candidate.requests_served == status_quo.requests_served == 0
        data = json.loads(ok("prove", "tickets", "--json", "--trust-python"))
    assert data["fact_id"] and candidate.requests_served > 0
