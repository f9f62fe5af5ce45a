"""`make demo` must run to its end: every step that should work works, every anti-pattern it
shows is refused, and the final status shows handoffs accepted by their receivers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from inhouse import demo


def test_the_demo_runs_to_its_end(_isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main("demo-program") == 0
    printed = capsys.readouterr().out
    assert "Demo done" in printed and "REFUSED" in printed and "FORGERY" in printed
    assert "proven: proven faster, cheaper" in printed
    # the test model is made by a command a reader can type, printed as every other step is
    assert "$ inhouse models make-test-model --output models/inhouse-test-model.gguf" in printed
    # every file it writes is printed whole, as a here-document a reader can replay: the README
    # sends a by-hand walker to copy the trial, the workflow and the inhouse.toml tables
    for path, text in (
        ("inhouse.toml", "[runtimes.local]"),
        ("trials/tickets.yaml", "status_quo:"),
        ("workflows/ticket-summary.yaml", "name: ticket-summary"),
    ):
        assert f" {path} <<'EOF'\n" in printed, path
        heredoc = printed.split(f" {path} <<'EOF'\n", 1)[1].split("\nEOF\n", 1)[0]
        assert text in heredoc, (path, heredoc)
    status = json.loads(
        subprocess.run(
            [sys.executable, "-m", "inhouse", "status", "--json"],
            cwd=_isolated / "demo-program",
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    handoffs = [p["handoff"] for p in status["plays"] if p["handoff"]]
    assert [(h["to"], h["status"], h["decided_by"]) for h in handoffs] == [
        ("lena", "accepted", "lena"),
        ("omar", "accepted", "omar"),
    ]
    # every person acted with their own key, from their own machine
    people = {p["name"]: p for p in status["people"]}
    lena_machines = {k["machine"] for k in people["lena"]["keys"]}
    omar_machines = {k["machine"] for k in people["omar"]["keys"]}
    assert len(lena_machines) == len(omar_machines) == 1 and lena_machines != omar_machines
    assert status["program"]["demo"] is True
    # omar's verify came from his checkout as a signed envelope; lena's word for it did not count
    second = next(r for r in status["plays"][1]["exit"] if r["check"] == "second-person-verified")
    assert second["outcome"] == "pass" and "imported from their machine" in second["reason"]
    assert "omar verified" in second["reason"]
    # ...with his rerun of play 1's trial on his laptop, which reproduced its quality
    rerun = next(r for r in status["plays"][1]["exit"] if r["check"] == "trial-reproduced")
    assert rerun["outcome"] == "pass" and "omar reran trial tickets" in rerun["reason"]
    # ...and its advantage, against the minutes lena recorded, which omar confirmed: his word
    assert "held on their figures, against the manual minutes lena recorded, which omar " \
        "confirmed (their word: I do these tickets by hand too" in rerun["reason"]  # fmt: skip
    assert "its quality rests on the outputs lena typed, which omar confirmed (their word: " \
        "these are the first lines we wrote back" in rerun["reason"]  # fmt: skip
    guards = {g for r in status["refusals"] for g in r["guards"]}
    assert {"scaling-before-proving", "calendar-driven-advance"} <= guards
    # plays 1 to 3 exit on measured evidence: no exit check rests on a person's word
    for play in status["plays"][:3]:
        assert play["exit_met"], play["id"]
        assert {row["basis"] for row in play["exit"]} == {"measured"}, play["id"]
    assert status["plays"][2]["state"] == "exit-met"
    # the demo ends saying how to go on as its people; each line works as printed
    go_on = printed.split("Go on as one of them", 1)[1].splitlines()[1:3]
    assert [line.split()[:2] for line in go_on] == [
        ["INHOUSE_KEY=.demo-keys/omar.key", "INHOUSE_MACHINE_ID=omar-laptop"],
        ["INHOUSE_KEY=.demo-keys/lena.key", "INHOUSE_MACHINE_ID=lena-laptop"],
    ]
    for line in go_on:
        key, machine, *args = line.split()
        env = dict(os.environ, **dict(v.split("=", 1) for v in (key, machine)))
        env.pop("INHOUSE_PROGRAM", None)
        ran = subprocess.run(
            [sys.executable, "-m", *args], cwd=_isolated / "demo-program", env=env,
            capture_output=True, text=True, input="y\n",  # lena reads the acceptance, says yes
        )  # fmt: skip
        assert ran.returncode == 0, ran.stdout + ran.stderr
    after = subprocess.run(
        [sys.executable, "-m", "inhouse", "status", "--json"],
        cwd=_isolated / "demo-program", check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert json.loads(after.stdout)["plays"][2]["state"] == "exited"
    # and the closing words say what the status shows
    said = " ".join(printed.split())
    assert "plays 1 and 2 exited and play 3's exit is met" in said
    assert [p["state"] for p in status["plays"][:2]] == ["exited", "exited"]
    for play in status["plays"][1:3]:  # and plays 2 and 3 start on measured triggers
        assert {row["basis"] for row in play["trigger"]} == {"measured"}, play["id"]
    reports = list((_isolated / "demo-program" / ".inhouse" / "reports").glob("tickets-*.html"))
    assert len(reports) == 1 and "<svg" in reports[0].read_text()
    # the verdict keeps what play 6 prices real use with: each side's time and the cost inputs
    from inhouse.program import Program

    program = Program.open(_isolated / "demo-program")
    try:
        (verdict,) = [f for f in program.state().facts if f.kind == "trial.verdict"]
        economics = verdict.payload["economics"]
        assert economics["status_quo"] in ("api", "manual")
        assert economics["candidate_seconds_per_task"] > 0
        assert economics["status_quo_seconds_per_task"] > 0
        assert set(economics["local"]) >= {"watts", "price_per_kwh", "hardware_price"}
    finally:
        program.close()


def test_a_demo_that_fails_after_omar_serves_leaves_no_runtime_running(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step between omar's serve and his stop fails: the demo ends with an error, and his
    runtime is stopped with it (a demo run again stops what an interrupted one left)."""
    from inhouse.runtimes.embedded import read_state

    command = demo._command

    def failing(step: Any, root: Path) -> bool:
        if step.args[:3] == ["prove", "tickets", "--rerun"]:
            return False
        return command(step, root)

    monkeypatch.setattr(demo, "_command", failing)
    assert demo.main("demo-program") == 1
    laptop = _isolated / "demo-program" / "omar-laptop"
    assert laptop.exists()
    assert read_state(laptop) is None, "omar's runtime was left running"
