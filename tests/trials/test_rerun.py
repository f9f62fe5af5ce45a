"""``inhouse prove NAME --rerun`` and play 2's ``trial-reproduced``: play 1's verdict is one
person's measurement until someone else reruns its candidate side on their own machine, on the
weights it proved, and the quality holds.

The real llama.cpp engine with the test model (a demo program: only a demo accepts it) answers
both the trial and the reruns. The honest path: lena proves the trial, omar reruns it with his
own key on his own machine, and the check passes naming both pass rates. The forgeries, each
refused with a reason: lena reruns it herself; lena reruns it with a key she enrolled from her
own machine under another name; a rerun of another spec (refused by the command, naming both
hashes, and not counted when it is recorded anyway); a verdict typed through the Python API
claiming quality the model does not have (the rerun measures it, and fails it); a rerun on
other weights; a verdict from before verdicts named their spec.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from inhouse.baseline.verify import inhouse_origin
from inhouse.cli.app import app
from inhouse.identity.machine import machine_fingerprint
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.runtimes import make_test_model
from inhouse.trials.load import NO_CONTENT
from inhouse.trials.plan import plan_trial
from tests.conftest import OTHER_COMPUTER
from tests.engine import Engine, needs_engine, serve_test_model
from tests.people import enrol_cli

pytestmark = needs_engine
runner = CliRunner()

COST = {"watts": 45, "price_per_kwh": 0.28, "hardware_price": 1400, "lifetime_hours": 26280,
        "utilisation": 0.25}  # fmt: skip
#: every answer passes (the test model writes nonsense, never this phrase)
EASY = [
    {"type": "not-icontains", "value": "as an ai language model"},
    {"type": "length", "min": 1},  # an empty answer fails it: the checks judge the answers
]
#: no answer of the test model's passes
HARD = [{"type": "equals", "value": "Printer jammed on floor 2."}]


def run(
    *args: str, code: int = 0, env: dict[str, str] | None = None, answer: str | None = None
) -> str:
    result = runner.invoke(app, list(args), env=env, input=answer)
    assert result.exit_code == code, f"{args}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return " ".join((result.stdout + result.stderr).split())


def write_trial(folder: Path, checks: list[dict[str, Any]], **changes: Any) -> None:
    rows = [{"id": f"T-{i}", "text": f"printer {i} on floor {i % 3} jams"} for i in range(6)]
    (folder / "data").mkdir(exist_ok=True)
    (folder / "data" / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    minutes = "".join(f"{m},Printer jam cleared\n" for m in (4, 6.5, 3, 5, 7, 4.5))
    (folder / "data" / "minutes.csv").write_text("minutes,output\n" + minutes)
    spec: dict[str, Any] = {
        "task": {"prompt": "Summarise in one line: {{ text }}", "inputs": "data/tickets.jsonl"},
        "candidate": {"runtime": "local", "cost": COST},
        "status_quo": {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42},
        "checks": checks,
        "meaningful": {"faster": 30, "cheaper": 30},
        "generation": {"max_tokens": 8, "temperature": 0, "seed": 1},
        "warmup": 1,
        "resamples": 2000,
        **changes,
    }
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / "tickets.yaml").write_text(yaml.safe_dump(spec))


def point_runtime(folder: Path, engine: Engine) -> None:
    """``[runtimes.local]`` of inhouse.toml: ``engine`` on loopback, on this machine."""
    config = folder / "inhouse.toml"
    text = config.read_text().split("\n[runtimes.local]")[0]
    config.write_text(
        f'{text}\n[runtimes.local]\nfamily = "openai"\nurl = "{engine.url}"\n'
        f'model_path = "{engine.model}"\n'
    )


@pytest.fixture
def omar() -> dict[str, str]:
    """omar's shell: his own key, on his own machine (filled in when the program enrols him)."""
    return {OTHER_COMPUTER: "omar-laptop"}


@pytest.fixture
def program(_isolated: Path, engine: Engine, omar: dict[str, str]) -> Path:
    """A demo program (the test model proves nothing, and only a demo accepts it) whose lead,
    lena, owns play 1; omar is enrolled from his own laptop."""
    run("init", "Acme", "--lead", "lena", "--demo")
    run("person", "role", "lena", "--add", "play-owner")
    run("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    run("play", "start", "1")
    opened = Program.open(_isolated)
    try:
        omar.update(enrol_cli(opened, "omar", _isolated.parent / "keys", team="support"))
    finally:
        opened.close()
    point_runtime(_isolated, engine)
    return _isolated


def reproduced(folder: Path) -> Result:
    """Play 2's ``trial-reproduced``, judged on the program's log as it stands."""
    opened = Program.open(folder)
    try:
        return evaluate("trial-reproduced", context_for(opened.state(), opened.clock()))
    finally:
        opened.close()


def verdict_payload(folder: Path) -> dict[str, Any]:
    facts = json.loads(run("fact", "list", "--kind", "trial.verdict", "--json"))
    payload: dict[str, Any] = facts[-1]["payload"]
    return payload


def test_checks_an_empty_answer_passes_prove_no_quality(
    program: Path, omar: dict[str, str]
) -> None:
    """lena's trial checks only that no answer says "as an AI language model", which an empty
    answer passes too: the checks pass whatever the model says. The verdict records that no
    input the candidate passed is one an empty answer fails (``proved`` 0), and play 1's
    value-proven fails, naming it; omar's honest rerun of the same checks records 0 too, and
    trial-reproduced fails. With a check an empty answer fails beside it, both prove 6."""
    write_trial(program, EASY[:1])
    out = run("prove", "tickets")
    assert "the quality checks pass an empty answer on every input the candidate passed" in out
    assert verdict_payload(program)["proved"] == 0
    opened = Program.open(program)
    try:
        proven = evaluate("value-proven", context_for(opened.state(), opened.clock()))
    finally:
        opened.close()
    assert proven.outcome is Outcome.FAIL
    assert "quality checks pass an empty answer on every input" in proven.reason
    run("prove", "tickets", "--rerun", env=omar)
    rerun = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))[-1]
    assert rerun["by"] == "omar" and rerun["payload"]["proved"] == 0
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "the trial's quality checks pass whatever the model says" in result.reason
    write_trial(program, EASY)
    run("prove", "tickets")
    assert verdict_payload(program)["proved"] == 6
    run("prove", "tickets", "--rerun", env=omar)
    rerun = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))[-1]
    assert rerun["payload"]["proved"] == 6


def test_checks_any_text_passes_are_recorded_as_judging_no_answer(
    program: Path, omar: dict[str, str]
) -> None:
    """lena's trial checks only that an answer is there (``length min 1``): an empty answer
    fails it, so ``proved`` counts every input, but prose about something else passes it, so
    the checks pass any answer at all. The verdict and omar's honest rerun of it record that no
    input the candidate passed is one off-topic prose fails (``on_topic`` 0), and `inhouse
    prove` says so beside the verdict. A length bound a fixed off-topic sentence would fail
    (it is 68 characters; the test model's short answers are shorter) is no better: the prose
    is as long as the candidate's own answer. (Checks that judge what the answer says still
    count: tests/trials/test_reached_address.py's, on a real program.)"""
    write_trial(program, EASY[1:])
    out = run("prove", "tickets")
    assert "the quality checks pass off-topic prose as long as the candidate's answer" in out
    verdict = verdict_payload(program)
    assert verdict["proved"] == 6 and verdict["on_topic"] == 0, verdict
    run("prove", "tickets", "--rerun", env=omar)
    rerun = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))[-1]
    assert rerun["by"] == "omar", rerun
    assert rerun["payload"]["proved"] == 6 and rerun["payload"]["on_topic"] == 0, rerun
    write_trial(program, [{"type": "length", "min": 1, "max": 67}])
    run("prove", "tickets")
    verdict = verdict_payload(program)
    assert verdict["candidate_pass_rate"] == 1.0, verdict  # every answer is that short
    assert verdict["proved"] == 6 and verdict["on_topic"] == 0, verdict


def test_a_colleague_reruns_the_proven_trial_on_his_machine(
    program: Path, omar: dict[str, str]
) -> None:
    write_trial(program, EASY)
    out = run("prove", "tickets")
    # the manual status quo's quality is judged on the outputs lena typed, and says so
    assert "(typed outputs)" in out
    verdict = verdict_payload(program)
    # the verdict names what a rerun compares with
    assert verdict["spec_hash"] == plan_trial(program, "tickets").spec_hash
    assert verdict["candidate_pass_rate"] == 1.0 and verdict["inputs"] == 6
    assert verdict["quality_floor"] == 5.0
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "nobody has reproduced trial tickets's verdict" in result.reason
    assert "`inhouse prove tickets --rerun`" in result.reason

    # the trial's status quo is the minutes lena typed: omar's rerun reproduces the quality and
    # the advantage against them, but they stay her word until he confirms them
    out = run("prove", "tickets", "--rerun", env=omar)
    assert "trial tickets rerun by omar: candidate passed 6 of 6 inputs (100.0 %)" in out
    assert "this run's own figures cleared faster, cheaper; the verdict claimed faster, " \
        "cheaper" in out  # fmt: skip
    assert "does not count" in out and "their word alone" in out
    assert reproduced(program).outcome is Outcome.INCONCLUSIVE
    # an API status quo's confirmation is not a manual one's; a confirmation says what it
    # rests on (refused before anything runs or is recorded)
    refused = run("prove", "tickets", "--rerun", "--confirm-status-quo", "it is", env=omar, code=2)
    assert "status quo is a manual process: confirm its minutes with --confirm-minutes" in refused
    refused = run("prove", "tickets", "--rerun", "--confirm-minutes", "  ", env=omar, code=2)
    assert "--confirm-minutes: say what your confirmation rests on" in refused
    minutes = "I clear these jams by hand: 3-7 minutes each is right"
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", minutes, env=omar, answer="y\n")
    # "cheaper" multiplies the minutes by the hourly cost and the candidate's busy time by the
    # hardware and power lena typed: her word too, until he confirms it
    assert "does not count" in out and "its 'cheaper' rests on costs lena typed" in out
    assert "--confirm-costs COMMENT" in out and "--confirm-minutes COMMENT" not in out
    # the status quo's quality is judged on the `output` column lena typed: her word too
    assert "its status quo's quality was judged on the outputs lena typed" in out
    assert "--confirm-outputs COMMENT" in out
    assert reproduced(program).outcome is Outcome.INCONCLUSIVE
    refused = run("prove", "tickets", "--rerun", "--confirm-outputs", " ", env=omar, code=2)
    assert "--confirm-outputs: say what your confirmation rests on" in refused
    costs = "we pay 42 an hour; the box and its power cost what the spec says"
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", minutes, "--confirm-costs",
              costs, env=omar, answer="y\n")  # fmt: skip
    assert "does not count" in out and "--confirm-outputs COMMENT" in out
    outputs = "I cleared these jams myself: 'Printer jam cleared' is what we answered"
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", minutes, "--confirm-costs",
              costs, "--confirm-outputs", outputs, env=omar, answer="y\n")  # fmt: skip
    assert "For play 2's exit it counts" in out
    assert "you confirmed the manual outputs: I cleared these jams myself" in out
    assert "you confirmed the typed costs: we pay 42 an hour" in out
    rerun = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))[-1]
    assert rerun["by"] == "omar" and rerun["provenance"] == "measured"
    data = rerun["payload"]
    assert data["spec_hash"] == verdict["spec_hash"]
    assert data["digest"] == verdict["candidate"]["digest"]
    assert data["pass_rate"] == 1.0 and data["inputs"] == 6 and data["runtime_local"] is True
    # and which inhouse ran it, as a verify names its own (play 2 sets aside a build of the
    # lead's from a folder or URL: tests/test_redteam234.py)
    assert data["inhouse"] == {"url": "", **inhouse_origin()}, data.get("inhouse")
    # his fourth rerun of the spec, naming his key's third (exit rule 25: the series is whole)
    assert data["place"]["number"] == 4 and data["place"]["previous"].startswith("sha256:")
    assert data["verdict"] == json.loads(run("fact", "list", "--kind", "trial.verdict",
                                             "--json"))[-1]["id"]  # fmt: skip
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason
    # his four reruns of the proven spec (the three before it, refused their confirmations or
    # answered no, measured the same model) are judged together: 24 inputs, every one passed
    assert "omar reran trial tickets on their own machine: pass rate 100.0 % over 24 inputs, the " \
        "verdict claimed 100.0 % (floor 5 points) (their 4 reruns of it judged together: facts #" \
        in result.reason  # fmt: skip
    assert "); faster, cheaper held on their figures, against " \
        "the manual minutes lena recorded, which omar confirmed (their word: I clear these " \
        "jams by hand" in result.reason  # fmt: skip
    assert "the costs lena typed, which omar confirmed (their word: we pay 42 an hour" in (
        result.reason
    )
    assert "its quality rests on the outputs lena typed, which omar confirmed (their word: I " \
        "cleared these jams myself" in result.reason  # fmt: skip
    assert data["outputs_confirmed"] == outputs and data["status_quo_measured"] is True
    assert data["claim_hash"] == verdict["claim_hash"] and data["status_quo"] == "manual"
    assert data["proven_on"] == ["faster", "cheaper"]
    # and `inhouse status` shows it among play 2's exit checks, on measured evidence
    run("handoff", "offer", "1", "--to", "lena")
    run("handoff", "accept", "1", answer="y\n")
    run("access", "request", env=omar)
    run("play", "start", "2")
    status = json.loads(run("status", "--json"))
    row = next(r for r in status["plays"][1]["exit"] if r["check"] == "trial-reproduced")
    assert row["outcome"] == "pass" and row["basis"] == "measured"
    assert row["reason"].startswith("omar reran trial tickets on their own machine")


def test_a_slow_stand_in_status_quo_does_not_make_the_candidate_faster_from_elsewhere(
    program: Path, omar: dict[str, str]
) -> None:
    """The forgery of "faster": lena's "hosted API" is a slow stand-in she runs herself (a
    stand-in upstream, for its exact timings). From omar's machine the same address answers as
    fast as the real service (a fast stand-in on the same port, here): the candidate's quality
    holds, its advantage does not, and play 2's exit fails naming it. Where the status quo is
    as slow from his machine too, the rerun reproduces the claim."""
    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin

    def hosted(url: str) -> dict[str, Any]:
        return {"kind": "api", "url": url, "model": "standin-hosted",
                "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}  # fmt: skip

    slow, fast = StandinTiming(400, 25, 16), StandinTiming(0, 0, 1)
    with spawn_standin(slow, model="standin-hosted") as stand_in:
        url, port = stand_in.url, int(stand_in.url.rsplit(":", 1)[1].split("/")[0])
        write_trial(program, EASY, status_quo=hosted(url), meaningful={"faster": 30})
        run("prove", "tickets")
    assert verdict_payload(program)["proven_on"] == ["faster"]
    with spawn_standin(fast, model="standin-hosted", port=port):
        out = run("prove", "tickets", "--rerun", env=omar)
    assert "this run's own figures cleared nothing; the verdict claimed faster" in out
    assert "does not count" in out
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "claimed the candidate faster, but on omar's own rerun faster did not clear its " \
        "threshold (faster" in result.reason  # fmt: skip
    assert "the claimed advantage did not hold from another machine" in result.reason
    # --confirm-minutes is for a manual status quo: an API one is measured, nothing to confirm
    refused = run("prove", "tickets", "--rerun", "--confirm-minutes", "fine", env=omar, code=2)
    assert "status quo is an API, which the rerun measures from this machine" in refused
    refused = run("prove", "tickets", "--rerun", "--confirm-outputs", "fine", env=omar, code=2)
    assert "status quo is an API, which the rerun answers again from this machine: there are " \
        "no typed outputs to confirm" in refused  # fmt: skip
    # as slow from omar's machine (her stand-in, reached from his): the figures hold, but that
    # this is the API the tickets go to today is lena's word until omar says so
    with spawn_standin(slow, model="standin-hosted", port=port):
        run("prove", "tickets", "--rerun", env=omar)
    result = reproduced(program)
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    assert f"its status quo is the API lena chose (standin-hosted at {url.rstrip('/')}" in (
        result.reason
    )
    assert "--confirm-status-quo COMMENT" in result.reason
    # lena cannot say it for herself: not at a first run, and her own rerun never counts
    refused = run("prove", "tickets", "--confirm-status-quo", "it is", code=2)
    assert "the trial's author cannot confirm the status quo they chose" in refused
    with spawn_standin(slow, model="standin-hosted", port=port):
        run("prove", "tickets", "--rerun", "--confirm-status-quo", "it is", answer="y\n")
        assert reproduced(program).outcome is Outcome.INCONCLUSIVE
        run("prove", "tickets", "--rerun", "--confirm-status-quo",
            "we send these tickets to this API today", env=omar, answer="y\n")  # fmt: skip
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason
    assert "faster held on their figures, the status quo answering from their machine, which " \
        "omar confirmed is how the task is done today (their word: we send these tickets to " \
        "this API today)" in result.reason  # fmt: skip


def test_an_inflated_api_price_does_not_make_the_candidate_cheaper_without_a_second_word(
    program: Path, omar: dict[str, str]
) -> None:
    """The forgery of "cheaper" against an API: lena types a price ten times the real one.
    omar's rerun re-measures the tokens from his machine, but multiplies them by her prices
    (the claim hash binds them, it does not make them true), so "cheaper" clears anywhere: it
    counts only once omar, not lena, confirms the typed costs."""
    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin

    inflated = {"price_input_per_mtok": 25000.0, "price_output_per_mtok": 100000.0}
    with spawn_standin(StandinTiming(1, 1, 16), model="standin-hosted") as stand_in:
        hosted = {"kind": "api", "url": stand_in.url, "model": "standin-hosted", **inflated}
        write_trial(program, EASY, status_quo=hosted, meaningful={"cheaper": 30})
        run("prove", "tickets")
        assert verdict_payload(program)["proven_on"] == ["cheaper"]
        out = run("prove", "tickets", "--rerun", env=omar)
        assert "this run's own figures cleared cheaper" in out and "does not count" in out
        result = reproduced(program)
        assert result.outcome is Outcome.INCONCLUSIVE, result.reason
        assert "its 'cheaper' rests on costs lena typed into the trial (the API's prices, " \
            "25000 in / 100000 out USD per million tokens" in result.reason  # fmt: skip
        assert "--confirm-costs COMMENT" in result.reason
        # lena cannot confirm her own prices: the flag belongs to a rerun, and hers never counts
        out = run("prove", "tickets", "--confirm-costs", "they are right", code=2)
        assert "the trial's author cannot confirm the costs they typed" in out
        run("prove", "tickets", "--rerun", "--confirm-costs", "they are right", answer="y\n")
        assert reproduced(program).outcome is Outcome.INCONCLUSIVE
        # omar, who pays for this API with his own key, confirms them: his word, shown as his
        run("prove", "tickets", "--rerun", "--confirm-costs", "our invoice lists these prices",
            env=omar, answer="y\n")  # fmt: skip
        result = reproduced(program)
        assert result.outcome is Outcome.INCONCLUSIVE, result.reason  # the API is lena's pick
        assert "--confirm-status-quo" in result.reason and "--confirm-costs" not in result.reason
        run("prove", "tickets", "--rerun", "--confirm-costs", "our invoice lists these prices",
            "--confirm-status-quo", "this is the API we pay for", env=omar,
            answer="y\n")  # fmt: skip
        result = reproduced(program)
        assert result.outcome is Outcome.PASS, result.reason
        assert "which omar confirmed (their word: our invoice lists these prices)" in (
            result.reason
        )
        # a trial claiming no "cheaper" has no typed costs to confirm
        write_trial(program, EASY, status_quo=hosted, meaningful={"faster": 30})
        refused = run("prove", "tickets", "--rerun", "--confirm-costs", "fine", env=omar, code=2)
        assert "claims no 'cheaper'" in refused


def test_the_author_rerunning_her_own_trial_does_not_count(program: Path) -> None:
    write_trial(program, EASY)
    run("prove", "tickets")
    out = run("prove", "tickets", "--rerun", "--json")  # lena's own key, her own machine
    said = json.loads(out)
    assert said["by"] == "lena" and said["counts_for_exit"] is False
    assert said["pass_rate"] == said["claimed_pass_rate"] == 1.0
    assert "(it is lena's own)" in said["why"]
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "no rerun of trial tickets by someone other than lena on their own machine" in (
        result.reason
    )
    assert "(it is lena's own)" in result.reason
    # nor can she confirm her own minutes: the flag belongs to a rerun, and hers never counts
    out = run("prove", "tickets", "--confirm-minutes", "they are right", code=2)
    assert "the trial's author cannot confirm their own minutes" in out
    run("prove", "tickets", "--rerun", "--confirm-minutes", "they are right", answer="y\n")
    assert reproduced(program).outcome is Outcome.FAIL
    # nor the outputs she typed into the manual process's CSV
    out = run("prove", "tickets", "--confirm-outputs", "they are right", code=2)
    assert "the trial's author cannot confirm the outputs they typed" in out
    run("prove", "tickets", "--rerun", "--confirm-minutes", "they are right",
        "--confirm-outputs", "they are right", answer="y\n")  # fmt: skip
    assert reproduced(program).outcome is Outcome.FAIL


def test_the_author_rerunning_after_a_colleague_is_told_why_hers_does_not_count(
    program: Path, omar: dict[str, str]
) -> None:
    """omar's rerun passes play 2's check; lena then reruns her own trial. Her command said "it
    does not count: omar reran trial tickets on their own machine: …", the check's reason for
    omar's rerun, which told her nothing of her own: it now says why hers does not count."""
    write_trial(program, EASY)
    run("prove", "tickets")
    run("prove", "tickets", "--rerun", "--confirm-minutes", "3-7 minutes is right",
        "--confirm-costs", "we pay that", "--confirm-outputs", "we answered that", env=omar,
        answer="y\n")  # fmt: skip
    assert reproduced(program).outcome is Outcome.PASS
    said = json.loads(run("prove", "tickets", "--rerun", "--json"))
    assert said["by"] == "lena" and said["counts_for_exit"] is False
    assert "(it is lena's own)" in said["why"], said["why"]
    assert "omar reran" not in said["why"], said["why"]
    assert reproduced(program).outcome is Outcome.PASS  # omar's still counts


def test_a_manual_status_quo_without_outputs_has_none_to_confirm(
    program: Path, omar: dict[str, str]
) -> None:
    """A manual status quo whose CSV holds minutes only states its pass rate (confirmed with
    --confirm-minutes): --confirm-outputs is refused before anything runs or is recorded."""
    stated = {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42, "pass_rate": 0.9}
    write_trial(program, EASY, status_quo=stated)
    (program / "data" / "minutes.csv").write_text("minutes\n4\n6.5\n3\n5\n7\n4.5\n")
    refused = run("prove", "tickets", "--rerun", "--confirm-outputs", "fine", env=omar, code=2)
    assert "manual status quo records no outputs (its quality is the pass rate it states, " \
        "which --confirm-minutes confirms): there are none to confirm" in refused  # fmt: skip
    assert json.loads(run("fact", "list", "--kind", "trial.rerun", "--json")) == []


def test_a_key_the_lead_enrolled_from_her_own_machine_does_not_count(program: Path) -> None:
    """The lead's alias: a second name, its key enrolled from her machine, run on it."""
    write_trial(program, EASY)
    run("prove", "tickets")
    opened = Program.open(program)
    try:
        alias = enrol_cli(opened, "ali", program.parent / "keys", machine=machine_fingerprint())
    finally:
        opened.close()
    out = run("prove", "tickets", "--rerun", env=alias)
    assert "rerun by ali" in out and "does not count" in out
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "ali's evidence came from a machine lena enrolled" in result.reason


def test_a_rerun_of_another_spec_is_refused_and_never_counts(
    program: Path, omar: dict[str, str]
) -> None:
    write_trial(program, EASY)
    run("prove", "tickets")
    proven = verdict_payload(program)["spec_hash"]
    # omar's checkout holds another spec: one input fewer makes another hash
    text = (program / "data" / "tickets.jsonl").read_text().splitlines(keepends=True)
    (program / "data" / "tickets.jsonl").write_text("".join(text[:-1]))
    other = plan_trial(program, "tickets").spec_hash
    assert other != proven
    out = run("prove", "tickets", "--rerun", env=omar, code=3)
    assert f"trials/tickets.yaml here hashes {other}" in out
    assert f"measured {proven}" in out
    assert not json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))
    # recorded anyway (in a checkout with no log, the command cannot compare): not counted
    record_rerun(program, omar, spec_hash=other, digest=verdict_payload(program)["candidate"]
                 ["digest"])  # fmt: skip
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "ran another spec" in result.reason and proven[:19] in result.reason


def test_a_typed_verdict_claiming_quality_the_model_lacks_fails_its_rerun(
    program: Path, omar: dict[str, str]
) -> None:
    """lena types a "measured" verdict through the Python API for a trial whose checks the
    model fails, claiming every input passed; omar's rerun measures it."""
    write_trial(program, HARD)
    plan = plan_trial(program, "tickets")
    spec_hash, claim_hash = plan.spec_hash, plan.claim_hash
    digest = served_digest(program)  # the weights the engine serves, as the rerun names them
    opened = Program.open(program)
    try:
        opened.record_fact(
            None, "trial.verdict",
            {"trial": "tickets", "verdict": "proven", "proven_on": ["cheaper"], "quality_ok": True,
             "test_model": True, "candidate": {"model": "m", "digest": digest},
             "spec_hash": spec_hash, "candidate_pass_rate": 1.0, "inputs": 6,
             "quality_floor": 5.0, "claim_hash": claim_hash},
            provenance=Provenance.MEASURED, collector="inhouse prove",
        )  # fmt: skip
    finally:
        opened.close()
    out = run("prove", "tickets", "--rerun", env=omar)
    assert "candidate passed 0 of 6 inputs (0.0 %)" in out
    assert "does not count" in out
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "omar's rerun of trial tickets passed 0.0 % of 6 inputs" in result.reason
    assert "claimed 100.0 %: more than the quality floor (5 points) below it" in result.reason


def test_a_rerun_on_other_weights_does_not_count(
    program: Path, omar: dict[str, str], tmp_path: Path
) -> None:
    write_trial(program, EASY)
    run("prove", "tickets")
    proven = verdict_payload(program)["candidate"]["digest"]
    other = make_test_model(tmp_path / "other" / "inhouse-test-model.gguf", seed=1)
    with serve_test_model(other, tmp_path / "other.log", "--n_ctx", "256") as elsewhere:
        point_runtime(program, elsewhere)
        out = run("prove", "tickets", "--rerun", env=omar)
    assert "does not count" in out
    rerun = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))[-1]["payload"]
    assert rerun["digest"] and rerun["digest"] != proven
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "ran other weights than the verdict proved" in result.reason
    assert proven[:19] in result.reason


def test_a_verdict_from_before_verdicts_named_their_spec_cannot_be_reproduced(
    program: Path, omar: dict[str, str]
) -> None:
    write_trial(program, EASY)
    opened = Program.open(program)
    try:
        opened.record_fact(
            None, "trial.verdict",
            {"trial": "tickets", "verdict": "proven", "proven_on": ["faster"], "quality_ok": True},
            provenance=Provenance.MEASURED, collector="inhouse prove",
        )  # fmt: skip
    finally:
        opened.close()
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL
    assert "recorded before verdicts named the spec and pass rate they measured" in result.reason
    assert "`inhouse prove tickets` again" in result.reason
    out = run("prove", "tickets", "--rerun", env=omar, code=3)
    assert "so no rerun can reproduce it: lena runs `inhouse prove tickets` again" in out


# -- helpers -----------------------------------------------------------------------------------


def served_digest(folder: Path) -> str:
    """The digest the candidate's runtime names for the weights it serves."""
    import asyncio

    from inhouse.trials.sides import CandidateSide

    side = CandidateSide(plan_trial(folder, "tickets"))
    asyncio.run(side.connect())
    assert side.inventory is not None and side.inventory["digest"]
    return side.inventory["digest"]


def record_rerun(folder: Path, env: dict[str, str], **changes: Any) -> None:
    """A ``trial.rerun`` signed with ``env``'s key, recorded through the Python API."""
    from inhouse.identity import load_key

    opened = Program.open(folder)
    try:
        person = opened.using(load_key(Path(env["INHOUSE_KEY"])))
        payload = {"trial": "tickets", "spec_hash": "sha256:x", "model": "m", "digest": None,
                   "pass_rate": 1.0, "inputs": 6, "passed": 6, "quality_floor": 5.0,
                   "machine": "omar-laptop", "runtime": "http://127.0.0.1:1",
                   "runtime_local": True, "runtime_peers": ["127.0.0.1"], **changes}  # fmt: skip
        person.record_fact(None, "trial.rerun", payload, provenance=Provenance.MEASURED,
                           collector="inhouse prove --rerun")  # fmt: skip
    finally:
        opened.close()


def test_a_rerun_judged_by_the_authors_python_check_does_not_count(
    program: Path, omar: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena's trial judges its answers with a ``python`` check, a module she committed to the
    checkout. omar reruns it with --trust-python, as the refusal tells him to: her code runs in
    his inhouse, with his key at hand, and could pass anything or sign anything in his name.
    His rerun names the functions it ran, and trial-reproduced does not take it as his own."""
    (program / "lenas_checks.py").write_text(
        "def looks_fine(output, context):\n    return bool(output.strip())\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(program))  # PYTHONPATH=. in the checkout
    write_trial(program, [*EASY, {"type": "python", "value": "lenas_checks:looks_fine"}])
    run("prove", "tickets", "--trust-python")
    minutes = "I clear these jams by hand: 3-7 minutes each is right"
    costs = "we pay 42 an hour; the box and its power cost what the spec says"
    outputs = "I cleared these jams myself: 'Printer jam cleared' is what we answered"
    confirmations = ("--confirm-minutes", minutes, "--confirm-costs", costs,
                     "--confirm-outputs", outputs)  # fmt: skip
    refused = run("prove", "tickets", "--rerun", *confirmations, env=omar, code=3)
    assert "lenas_checks:looks_fine" in refused and "--trust-python" in refused
    run("prove", "tickets", "--rerun", "--trust-python", *confirmations, env=omar, answer="y\n")
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL, result.reason
    rerun = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))[-1]
    assert rerun["payload"]["python_checks"] == ["lenas_checks:looks_fine"]
    # his key said, before her code ran, that it was about to: nothing it signed since is his
    # (exit rule 36), this rerun included (tests/trials/test_rerun_trusted_code.py)
    opened = Program.open(program)
    try:
        context = context_for(opened.state(), opened.clock())
    finally:
        opened.close()
    [why] = [u.why for u in context.uncounted if u.fact.id == rerun["id"]]
    assert "lenas_checks:looks_fine" in why and "revoke-key" in why, why


def test_a_rerun_without_the_log_names_its_signer_as_the_checkout_knows_it(
    program: Path, omar: dict[str, str], tmp_path: Path
) -> None:
    """omar's checkout holds the program folder, not its log: his rerun is signed into the
    outbox by his key, and shown as "your key (ID)" where no enrolment there names it (the
    docs show a name; a bare key id read as one)."""
    import shutil

    write_trial(program, EASY)
    run("prove", "tickets")
    laptop = tmp_path / "laptop"
    shutil.copytree(program, laptop, ignore=shutil.ignore_patterns(".inhouse"))
    out = run("prove", "tickets", "--rerun", "--program", str(laptop), env=omar)
    assert "Signed into this checkout's outbox" in out, out
    assert "trial tickets rerun by your key (ed25519:" in out, out


def test_a_rerun_imported_without_those_before_it_shows_the_gap(
    program: Path, omar: dict[str, str], tmp_path: Path
) -> None:
    """omar reruns the trial twice on his laptop, whose checkout holds no log: each envelope
    names its place in his key's series of the spec. lena imports only the second: play 2 is
    inconclusive, naming the first as missing (exit rule 25). Imported whole, both pool and
    reproduce the verdict."""
    import shutil

    from inhouse.identity import open_envelope

    write_trial(program, EASY)
    run("prove", "tickets")
    laptop = tmp_path / "laptop"
    shutil.copytree(program, laptop, ignore=shutil.ignore_patterns(".inhouse"))
    words = ("--confirm-minutes", "I clear these jams by hand", "--confirm-costs", "our costs",
             "--confirm-outputs", "what we answered")  # fmt: skip
    for _ in range(2):
        run("prove", "tickets", "--rerun", *words, "--program", str(laptop), env=omar,
            answer="y\n")  # fmt: skip
    exported = tmp_path / "omar.json"
    run("evidence", "export", "-o", str(exported), "--program", str(laptop), env=omar)
    envelopes = json.loads(exported.read_text())
    places = {
        open_envelope(e).predicate["fact"]["payload"]["place"]["number"]: e for e in envelopes
    }
    assert sorted(places) == [1, 2]
    second = tmp_path / "second.json"
    second.write_text(json.dumps([places[2]]))
    out = run("evidence", "import", str(second))
    assert "trial.rerun by omar" in out
    alone = reproduced(program)
    assert alone.outcome is Outcome.INCONCLUSIVE, alone.reason
    assert "is rerun 2 of its spec that omar's key (ed25519:" in alone.reason
    assert "but rerun 1 is not in the log" in alone.reason
    run("evidence", "import", str(exported))
    whole = reproduced(program)
    assert whole.outcome is Outcome.PASS, whole.reason
    assert "over 12 inputs" in whole.reason and "(their 2 reruns of it judged together" in (
        whole.reason
    )


def test_a_rerun_whose_runtime_died_partway_is_refused_and_sinks_no_pool(
    program: Path,
    omar: dict[str, str],
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A rerun in which requests to the candidate failed (its runtime died partway: errors, not
    answers) measured the rerunner's runtime, not the model: it is refused, saying which inputs
    and how many, and nothing is recorded, so it cannot sink the colleague's pool of honest
    reruns."""
    from inhouse.errors import Refused
    from inhouse.trials.rerun import rerun_trial

    write_trial(program, EASY)
    run("prove", "tickets")
    out = run("prove", "tickets", "--rerun", env=omar)
    assert "candidate passed 6 of 6 inputs" in out
    before = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))
    for name, value in omar.items():
        monkeypatch.setenv(name, value)
    # the same weights on omar's runtime, which stops after answering three tickets
    with serve_test_model(engine.model, tmp_path / "dies.log", "--n_ctx", "256") as dying:
        point_runtime(program, dying)
        assert dying.process is not None

        def progress(label: str, done: int, total: int) -> None:
            if label == "candidate" and done == 3 and dying.process is not None:
                dying.process.kill()
                dying.process.wait()

        opened = Program.open(program)
        try:
            with pytest.raises(Refused) as refused:
                rerun_trial(opened, "tickets", progress=progress)
        finally:
            opened.close()
    said = str(refused.value)
    assert "3 of 6 requests to the candidate's runtime failed (T-3, T-4, T-5; the first:" in said
    assert "so nothing was recorded" in said and "`inhouse prove tickets --rerun`" in said
    assert json.loads(run("fact", "list", "--kind", "trial.rerun", "--json")) == before


@pytest.mark.parametrize(
    ("errors", "refused"),
    [
        ([None] * 6, None),
        # a stream its server finished with no content: the model's (empty) answer
        ([None, NO_CONTENT, None, NO_CONTENT, None, None], None),
        (
            [
                None,
                NO_CONTENT,
                "cannot reach http://127.0.0.1:1",
                None,
                "timed out after 5 s",
                None,
            ],
            "2 of 6 requests to the candidate's runtime failed (T-2, T-4; the first: cannot "
            "reach http://127.0.0.1:1)",
        ),
    ],
)
def test_an_empty_answer_is_the_model_s_and_is_recorded(
    errors: list[str | None], refused: str | None
) -> None:
    """An answer its server gave whole but empty is the model's answer, not a failed request:
    the rerun is recorded and those inputs count as failed cases (refusing it would let a rerun
    whose draw went badly go unrecorded, and a pool keep only the lucky ones); an error or a
    timeout is a failed request, and the rerun is refused naming them."""
    from types import SimpleNamespace

    from inhouse.errors import Refused
    from inhouse.trials.rerun import _refuse_failed_requests

    answers = SimpleNamespace(ok=[e is None for e in errors], errors=errors)
    outcome: Any = SimpleNamespace(
        candidate=SimpleNamespace(answers=answers),
        plan=SimpleNamespace(inputs=[SimpleNamespace(id=f"T-{i}") for i in range(6)]),
    )
    if refused is None:
        _refuse_failed_requests(outcome, "tickets")
        return
    with pytest.raises(Refused, match=re.escape(refused)):
        _refuse_failed_requests(outcome, "tickets")


def test_a_rerun_of_a_verdict_claiming_no_cheaper_is_asked_no_costs(
    program: Path, omar: dict[str, str]
) -> None:
    """The spec claims faster and cheaper; the verdict lena recorded claimed faster alone (its
    "cheaper" did not clear there). omar's rerun clears both on his figures: play 2 asks his
    word on the minutes and the typed outputs, never on the costs, which no claim of the
    verdict rests on; and his --confirm-costs is refused before anything runs, so he is never
    asked to vouch for figures no check reads."""
    write_trial(program, EASY)
    run("prove", "tickets")
    plan = plan_trial(program, "tickets")
    verdict = {**verdict_payload(program), "proven_on": ["faster"]}
    opened = Program.open(program)
    try:
        typed = opened.record_fact(
            None, "trial.verdict", verdict, provenance=Provenance.MEASURED,
            collector="inhouse prove",
        )  # fmt: skip
    finally:
        opened.close()
    assert plan.spec_hash == verdict["spec_hash"]
    refused = run("prove", "tickets", "--rerun", "--confirm-costs", "our invoice", env=omar,
                  code=2)  # fmt: skip
    assert f"--confirm-costs: the verdict this rerun reproduces (fact #{typed.id}, by lena) " \
        "claimed faster, not 'cheaper'" in refused  # fmt: skip
    out = run("prove", "tickets", "--rerun", env=omar)
    assert "this run's own figures cleared faster, cheaper" in out, out
    result = reproduced(program)
    assert "--confirm-minutes" in result.reason, result.reason
    assert "--confirm-costs" not in result.reason, result.reason


def test_a_checkouts_confirm_costs_is_said_unread_where_the_verdict_claimed_no_cheaper(
    program: Path, omar: dict[str, str], tmp_path: Path
) -> None:
    """In omar's checkout (no log, so no verdict to refuse --confirm-costs by) his word on the
    costs was signed and, once lena imported it against a verdict claiming faster alone, read
    by no check, silently: he vouched for figures nothing reads. Before he signs, it says the
    word is read only where the verdict claimed "cheaper"; once imported, play 2's check says
    that it reads it nowhere."""
    import shutil

    write_trial(program, EASY)
    run("prove", "tickets")
    verdict = {**verdict_payload(program), "proven_on": ["faster"]}
    opened = Program.open(program)
    try:
        opened.record_fact(
            None, "trial.verdict", verdict, provenance=Provenance.MEASURED,
            collector="inhouse prove",
        )  # fmt: skip
    finally:
        opened.close()
    laptop = tmp_path / "laptop"
    shutil.copytree(program, laptop, ignore=shutil.ignore_patterns(".inhouse"))
    words = ("--confirm-minutes", "I clear these jams by hand", "--confirm-costs", "our invoice",
             "--confirm-outputs", "what we answered")  # fmt: skip
    out = run("prove", "tickets", "--rerun", *words, "--program", str(laptop), env=omar,
              answer="y\n")  # fmt: skip
    shown = " ".join(out.split())
    assert "read only where the verdict in the program's log claimed 'cheaper', which this " \
        "checkout cannot tell" in shown, shown  # fmt: skip
    assert shown.count("no check reads this word") == 2, shown  # asked, then signed
    exported = tmp_path / "omar.json"
    run("evidence", "export", "-o", str(exported), "--program", str(laptop), env=omar)
    run("evidence", "import", str(exported))
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason
    assert "omar's word on the costs lena typed (--confirm-costs: our invoice) is read by no " \
        "check: the verdict claimed no 'cheaper'" in result.reason  # fmt: skip
