"""What a trial's reader must be told, said plainly wherever its figures are shown (the CLI, the
HTML report, its JSON twin, the recorded fact):

* a candidate that is inhouse's own test model (random weights) proves nothing about value, and
  play 1 of a program that is not a demo does not exit on it;
* the manual status quo's minutes are what the trial's author typed into a CSV: their timings,
  never shown as measured.

The candidate here is a stand-in upstream on loopback (named so) serving under the test model's
name, as a remote server would: inhouse cannot read its weights and goes by the name it serves.
The real test model's GGUF marker is covered by ``test_prove.py`` with the real engine."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.runtimes.testmodel import TEST_MODEL_NAME
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, standin_in_thread

runner = CliRunner()

COST = {
    "watts": 45,
    "price_per_kwh": 0.28,
    "hardware_price": 1400,
    "lifetime_hours": 26280,
    "utilisation": 0.25,
}
RECORDED = "recorded by the trial's author"


def ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture
def program(_isolated: Path) -> Path:
    ok("init", "Acme", "--lead", "lena")  # not a demo
    ok("person", "role", "lena", "--add", "play-owner")
    ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    ok("play", "start", "1")
    (_isolated / "data").mkdir()
    rows = [{"id": f"T-{i}", "text": f"printer {i} jams"} for i in range(6)]
    (_isolated / "data" / "tickets.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return _isolated


def write_trial(
    folder: Path,
    candidate_url: str,
    status_quo: dict[str, Any],
    checks: list[dict[str, Any]] | None = None,
) -> None:
    spec = {
        "task": {"prompt": "Summarise in one line: {{ text }}", "inputs": "data/tickets.jsonl"},
        "candidate": {"url": candidate_url, "cost": COST},
        "status_quo": status_quo,
        "checks": checks or [{"type": "length", "min": 1}],
        "meaningful": {"faster": 30, "cheaper": 30},
        "resamples": 2000,
    }
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / "tickets.yaml").write_text(yaml.safe_dump(spec))


def write_minutes(folder: Path, *, outputs: bool = True) -> list[float]:
    minutes = [4, 6.5, 3, 5, 7, 4.5]
    header = "minutes,output\n" if outputs else "minutes\n"
    rows = "".join(
        f"{m},Printer jam cleared\n" if outputs else f"{m}\n" for m in minutes
    )  # fmt: skip
    (folder / "data" / "minutes.csv").write_text(header + rows)
    return minutes


@pytest.fixture
def test_model_server() -> Iterator[StandinUpstream]:
    with standin_in_thread(StandinTiming(5, 1, 4), model=TEST_MODEL_NAME) as served:
        yield served


@pytest.fixture
def real_model_server() -> Iterator[StandinUpstream]:
    with standin_in_thread(StandinTiming(5, 1, 4), model="standin-candidate") as served:
        yield served


def latest_report(folder: Path) -> tuple[str, dict[str, Any]]:
    twin = sorted((folder / ".inhouse" / "reports").glob("tickets-*.json"))[-1]
    return twin.with_suffix(".html").read_text(), json.loads(twin.read_text())


def text_of(html: str) -> str:
    """The page's words, as a reader sees them (no tags, one space between words)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def test_a_test_model_candidate_is_labelled_everywhere_and_proves_nothing(
    program: Path, test_model_server: StandinUpstream
) -> None:
    write_minutes(program)
    write_trial(
        program,
        test_model_server.url,
        {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42},
    )
    result = runner.invoke(app, ["prove", "tickets"])
    assert result.exit_code == 0, result.stdout + result.stderr
    said = "candidate: inhouse test model (random weights"
    nothing = "this trial proves nothing about value"
    assert said in result.stdout and nothing in result.stdout  # the CLI says it
    html, twin = latest_report(program)
    assert twin["test_model"] is True and twin["candidate"]["test_model"] is True
    assert any(said in c and nothing in c for c in twin["caveats"])
    page = text_of(html)
    assert said in page and nothing in page  # the HTML report says it
    assert "labelled as a test-model trial" in page
    # the recorded fact is labelled, and play 1 does not exit on it outside a demo program
    facts = json.loads(ok("fact", "list", "--json"))
    verdict = [f for f in facts if f["kind"] == "trial.verdict"][-1]
    assert verdict["payload"]["test_model"] is True
    status = json.loads(ok("status", "--json"))
    check = status["plays"][0]["exit"][0]
    assert check["check"] == "value-proven" and check["outcome"] == "fail"
    assert "test model" in check["reason"]
    # ...and the command says so beside its "proven", as status does: the trial's own word
    # is not play 1's exit
    said_exit = " ".join(result.stdout.split()).split("play 1's exit, value-proven: ", 1)
    assert len(said_exit) == 2 and said_exit[1].startswith("fail: "), result.stdout
    assert "test model" in said_exit[1] and "only a program created as a demo" in said_exit[1]
    # --json prints the same data, labelled the same way
    data = json.loads(ok("prove", "tickets", "--json"))
    assert data["test_model"] is True and any(nothing in c for c in data["caveats"])


def test_a_real_candidate_carries_no_test_model_label(
    program: Path, real_model_server: StandinUpstream
) -> None:
    write_minutes(program)
    write_trial(
        program,
        real_model_server.url,
        {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42},
    )
    data = json.loads(ok("prove", "tickets", "--json"))
    assert data["test_model"] is False and data["candidate"]["test_model"] is False
    assert not any("test model" in c for c in data["caveats"])
    facts = json.loads(ok("fact", "list", "--json"))
    assert [f for f in facts if f["kind"] == "trial.verdict"][-1]["payload"]["test_model"] is False
    html, _ = latest_report(program)
    assert "proves nothing about value" not in text_of(html)


def test_manual_minutes_are_the_authors_recorded_timings_not_measured(
    program: Path, real_model_server: StandinUpstream
) -> None:
    minutes = write_minutes(program)
    write_trial(
        program,
        real_model_server.url,
        {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42},
    )
    result = runner.invoke(app, ["prove", "tickets"])
    assert result.exit_code == 0, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert f"the minutes per task in data/minutes.csv were {RECORDED}" in out
    assert "not measured by inhouse" in out
    html, twin = latest_report(program)
    # the JSON twin: where the times come from, the cost input's source, the summary's label
    assert twin["status_quo"] == {"kind": "manual", "minutes": "data/minutes.csv",
                                  "timings": RECORDED}  # fmt: skip
    assert twin["latency"]["status_quo_s"] == [m * 60 for m in minutes]
    sources = {i["name"]: i["source"] for i in twin["cost"]["status_quo"]["inputs"]}
    assert sources["minutes (all tasks)"] == RECORDED
    [summary] = [s for s in twin["latency"]["summaries"] if s["label"] == "status quo"]
    assert [m["name"] for m in summary["metrics"]] == [f"time per task (minutes {RECORDED})"]
    assert any(RECORDED in c for c in twin["caveats"])
    # nothing the author typed is called measured; the candidate's own figures still are
    assert "measured minutes" not in json.dumps(twin)
    page = text_of(html)
    assert f"minutes {RECORDED} in data/minutes.csv" in page
    assert f"<td>{RECORDED}</td>" in html.replace("&#39;", "'")  # the cost table's source
    assert "measured minutes" not in page
    candidate = {i["name"]: i["source"] for i in twin["cost"]["candidate"]["inputs"]}
    assert candidate["busy time (all tasks)"] == "measured"


def test_an_api_status_quo_is_measured_and_says_so(
    program: Path, real_model_server: StandinUpstream
) -> None:
    with standin_in_thread(StandinTiming(40, 4, 8), model="standin-hosted") as hosted:
        write_trial(
            program,
            real_model_server.url,
            {"kind": "api", "url": hosted.url, "price_input_per_mtok": 1.0,
             "price_output_per_mtok": 2.0},
            # what the stand-ins answer ("tok0 tok1 …"): a check a sentence about something
            # else fails, so the trial's quality is measured and no caveat says otherwise
            [{"type": "contains", "value": "tok0"}],
        )  # fmt: skip
        data = json.loads(ok("prove", "tickets", "--json"))
    assert data["status_quo"]["kind"] == "api"
    assert data["status_quo"]["timings"] == "measured by inhouse prove"
    # nothing said of the status quo; the stand-in candidate names no weights, which is said
    # (tests/test_outsider_24.py)
    assert [c for c in data["caveats"] if "named no weights" not in c] == []
