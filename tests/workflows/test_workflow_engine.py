"""Workflows against the real llama.cpp engine with the test model (it writes nonsense, so the
cases are built to pass or fail whatever it writes): run, test, facts, play 3's exit, drift."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from typer.testing import CliRunner

from inhouse.baseline import LockedModel, read_lock
from inhouse.baseline.lock import COLLECTOR, lock_fact_payload, write_lock
from inhouse.cli.app import app
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.counting import build_context
from tests.engine import needs_engine
from tests.runtimes.elsewhere import ELSEWHERE, answers_from_elsewhere
from tests.workflows.conftest import IMPOSSIBLE_CASE, SUMMARY, TRIAGE_SCHEMA, queue_schema

pytestmark = needs_engine
runner = CliRunner()


def cli(*args: str, code: int = 0, env: dict[str, str] | None = None) -> Any:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == code, f"{args}: {result.stdout}{result.stderr}"
    assert "Traceback" not in result.stdout + result.stderr
    return result


def play3(folder: Path) -> dict[str, Outcome]:
    """Play 3's exit checks' outcomes now."""
    return {name: result.outcome for name, result in play3_results(folder).items()}


def play3_results(folder: Path) -> dict[str, Result]:
    """Play 3's exit checks, evaluated now on the evidence that counts (as `status` sees it:
    signers and the machines their keys were enrolled from)."""
    program = Program.open(folder)
    try:
        ctx = build_context(program.state(), program.clock())
        names = ("workflow-pinned", "workflow-tests-pass", "workflow-run-by-other")
        return {name: evaluate(name, ctx) for name in names}
    finally:
        program.close()


def facts(folder: Path, kind: str) -> list[Any]:
    program = Program.open(folder)
    try:
        return [f for f in program.state().live_facts(program.clock()) if f.kind == kind]
    finally:
        program.close()


def test_a_workflow_run_produces_outputs(baseline_program: Path) -> None:
    one = json.loads(
        cli("workflow", "run", "summary", "--var", "ticket=Printer jam", "--json").stdout
    )
    assert one["model"] == "inhouse-test-model" and one["digest"].startswith("sha256:")
    [output] = one["outputs"]
    assert output["vars"] == {"ticket": "Printer jam", "priority": 3}
    assert isinstance(output["output"], str) and output["error"] is None
    lines = [{"ticket": "a", "priority": 1}, {"ticket": "b"}]
    (baseline_program / "in.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    many = json.loads(cli("workflow", "run", "summary", "--input", "in.jsonl", "--json").stdout)
    assert [o["vars"]["priority"] for o in many["outputs"]] == [1, 3]
    # without --json, a file of inputs shows its progress on stderr (stdout: the outputs)
    shown = cli("workflow", "run", "summary", "--input", "in.jsonl")
    assert "running summary" in shown.stderr and "2/2" in shown.stderr, shown.stderr
    assert "running summary" not in shown.stdout
    # the test model's nonsense is labelled as such, as everywhere its output is shown
    assert "inhouse test model (random weights: it writes nonsense)" in shown.stderr
    assert facts(baseline_program, "workflow.run") == []  # running is not testing


def test_variables_are_checked_before_the_model_is_asked(baseline_program: Path) -> None:
    missing = cli("workflow", "run", "summary", code=2)
    assert "missing variable 'ticket' (the ticket's text)" in missing.stderr
    typed = cli("workflow", "run", "summary", "--var", "ticket=x", "--var", "priority=high", code=2)
    assert "priority: must be an integer, got 'high'" in typed.stderr
    extra = cli("workflow", "run", "summary", "--var", "ticket=x", "--var", "colour=red", code=2)
    assert "unknown variable 'colour'" in extra.stderr


def test_tests_pass_and_fail_as_the_checks_say(baseline_program: Path) -> None:
    passing = json.loads(cli("workflow", "test", "summary", "--json").stdout)
    assert passing["passed"] and passing["pass_rate"] == 1.0
    first = passing["cases"][0]["attempts"][0]
    assert [c["passed"] for c in first["checks"]] == [True, True, True, True]
    assert first["output"] and first["latency_ms"] > 0
    spec = baseline_program / "workflows" / "summary.yaml"
    spec.write_text(SUMMARY + IMPOSSIBLE_CASE)
    failing = cli(
        "workflow", "test", "summary", "--json", "--junit", "out/junit.xml",
        "--report", "out/report.json", code=1,
    )  # fmt: skip
    data = json.loads(failing.stdout)
    assert not data["passed"] and data["pass_rate"] == pytest.approx(2 / 3)
    impossible = data["cases"][2]
    assert not impossible["passed"]
    assert "'§never-in-output§' not found in the output" in impossible["summary"]
    suite = ElementTree.parse(baseline_program / "out" / "junit.xml").getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    failed = [case for case in suite.iter("testcase") if case.find("failure") is not None]
    assert [case.get("name") for case in failed] == ["impossible"]
    report = json.loads((baseline_program / "out" / "report.json").read_text())
    assert report["content_hash"] == data["content_hash"] != passing["content_hash"]


def test_results_on_the_test_model_say_so(baseline_program: Path) -> None:
    """The test model writes nonsense: what shows its answers labels it, as trials do."""
    shown = cli("workflow", "test", "summary").stdout
    assert "inhouse test model (random weights: it writes nonsense)" in shown, shown
    data = json.loads(cli("workflow", "test", "summary", "--json").stdout)
    assert data["test_model"] is True


def test_a_run_on_the_test_model_counts_for_play_three_only_in_a_demo(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    """The test model's answers are random: outside a demo, a workflow run it answered proves
    nothing for play 3 (as a verdict or a rerun on it proves nothing for plays 1 and 2), and
    the reason says so; the run records that the test model answered it. In a demo it counts,
    labelled."""
    from dataclasses import replace

    omar, pia = people["omar"], people["pia"]
    cli("workflow", "test", "summary", env=omar)
    cli("workflow", "test", "summary", env=pia)
    runs = facts(baseline_program, "workflow.run")
    assert [r.payload["test_model"] for r in runs] == [True, True]
    assert all(r.payload["passed"] for r in runs)
    results = play3_results(baseline_program)
    for name in ("workflow-tests-pass", "workflow-run-by-other"):
        assert results[name].outcome is Outcome.FAIL, results[name].reason
        assert "answered by the project's test model (random weights)" in results[name].reason
        assert "only a demo program accepts the test model" in results[name].reason
    program = Program.open(baseline_program)
    try:  # the same log, judged as a demo program's
        ctx = build_context(replace(program.state(), demo=True), program.clock())
        demo = {n: evaluate(n, ctx) for n in ("workflow-tests-pass", "workflow-run-by-other")}
    finally:
        program.close()
    for result in demo.values():
        assert result.outcome is Outcome.PASS, result.reason
        assert "(demo program: the test model)" in result.reason


def test_locking_the_test_model_tells_a_real_program_it_passes_no_play(
    baseline_program: Path,
) -> None:
    """`baseline lock` on the test model, in a real program, says in one line that plays 1-3
    do not pass on it, before any of them refuses it."""
    said = " ".join(cli("baseline", "lock").stdout.split())
    assert "a real program's plays 1-3 do not pass on it" in said, said


def test_repeat_and_min_pass_catch_flaky_outputs(baseline_program: Path) -> None:
    spec = baseline_program / "workflows" / "summary.yaml"
    flaky = (
        "  - name: flaky\n    vars: {ticket: x}\n    repeat: 3\n    min-pass: MIN\n    checks:\n"
        "      - {type: python, value: 'tests.workflows.flaky:every_other'}\n"
    )
    from tests.workflows import flaky as module

    module.calls = 0
    spec.write_text(SUMMARY + flaky.replace("MIN", "2"))
    # a python check is someone's code, run with the runner's rights: only on their word
    refused = cli("workflow", "test", "summary", code=3)
    assert "tests.workflows.flaky:every_other" in refused.stderr + refused.stdout
    assert "--trust-python" in refused.stderr + refused.stdout and module.calls == 0
    data = json.loads(cli("workflow", "test", "summary", "--json", "--trust-python").stdout)
    assert data["cases"][2]["passes"] == 2 and data["cases"][2]["passed"]
    module.calls = 0
    spec.write_text(SUMMARY + flaky.replace("MIN", "3"))
    data = json.loads(cli("workflow", "test", "summary", "--json", "--trust-python", code=1).stdout)
    case = data["cases"][2]
    assert (case["passes"], case["passed"]) == (2, False)
    assert case["summary"].startswith("2/3 attempts passed; ")


@pytest.mark.usefixtures("real_model")
def test_play3_exit_needs_a_passing_run_by_someone_other_than_the_author(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    omar, pia = people["omar"], people["pia"]
    cli("workflow", "test", "summary", env=omar)  # omar wrote it and publishes it
    [spec] = facts(baseline_program, "workflow.spec")
    assert (spec.payload["author"], spec.payload["model"]) == ("omar", "inhouse-test-model")
    assert spec.provenance.value == "measured" and spec.collector == "inhouse workflow test"
    lock = read_lock(baseline_program)
    assert lock is not None and spec.payload["model_digest"] == lock.models[0].digest
    [run] = facts(baseline_program, "workflow.run")
    assert run.by == "omar" and run.payload["lock_hash"] == lock.lock_hash
    assert run.payload["passed"] and run.payload["cases"] == 2
    # where it ran, beside where omar enrolled: play 3 compares both with the author's machines
    from inhouse.identity.machine import machine_fingerprint

    assert run.payload["machine"] == machine_fingerprint()
    # and what answered: the embedded runtime, on this machine (a rerun another host answered
    # does not count as someone else's)
    assert run.payload["runtime"].startswith("http://127.0.0.1:")
    assert run.payload["runtime_peers"] == ["127.0.0.1"]  # the address that really answered
    assert run.payload["runtime_local"] is True
    assert play3(baseline_program) == {
        "workflow-pinned": Outcome.PASS,
        "workflow-tests-pass": Outcome.PASS,
        "workflow-run-by-other": Outcome.FAIL,
    }
    cli("workflow", "test", "summary", env=pia)
    assert len(facts(baseline_program, "workflow.spec")) == 1  # same version: not recorded again
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS
    # a new version of the spec needs a new run by someone other than its author
    spec_file = baseline_program / "workflows" / "summary.yaml"
    spec_file.write_text(SUMMARY.replace("frequency: daily", "frequency: weekly"))
    cli("workflow", "test", "summary", env=omar)
    assert len(facts(baseline_program, "workflow.spec")) == 2
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.FAIL
    # the YAML's `owner: omar` does not decide the author: whoever publishes a version does
    spec_file.write_text(SUMMARY.replace("frequency: daily", "frequency: monthly"))
    cli("workflow", "test", "summary", env=pia)
    published = facts(baseline_program, "workflow.spec")[-1]
    assert (published.by, published.payload["author"]) == ("pia", "pia")
    by_other = play3_results(baseline_program)["workflow-run-by-other"]
    assert by_other.outcome is Outcome.FAIL
    # pia is in charge of nothing, so her version is not yet the one judged (exit rule 27,
    # VERSION_IN_CHARGE): omar's weekly one still is, with no one else's run
    assert "by anyone but its author (omar, who published this version)" in by_other.reason
    # omar passes pia's version: it is the program's now (another than its author passed it),
    # and omar is not this version's author
    cli("workflow", "test", "summary", env=omar)
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS


HOLLOW = """\
name: hollow
description: Summarise a support ticket
owner: omar
frequency: daily
model: inhouse-test-model
parameters: {max_tokens: 12, temperature: 0.7, seed: 11}
variables: {ticket: string}
prompt: {user: "Ticket: {{ ticket }}"}
pass-rate: 0.5
tests:
  - name: impossible
    vars: {ticket: Mail bounces.}
    checks:
      - {type: contains, value: "§never-in-output§"}
  - name: weightless
    vars: {ticket: The printer on floor 2 is jammed again.}
    checks:
      - {type: contains, value: "printer", weight: 0}
  - name: always-true
    vars: {ticket: VPN drops every 20 minutes.}
    checks:
      - {type: javascript, value: "true"}
  - name: replaced
    vars: {ticket: Refund for order 1234.}
    transform: "'The refund is on its way.'"
    checks:
      - {type: icontains, value: "refund"}
      - {type: regex, value: ".*"}
"""


@pytest.mark.usefixtures("real_model")
def test_tests_that_pass_whatever_the_model_says_prove_nothing(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    """omar's spec has tests, and they pass: a check of weight 0 alone, a script that returns
    true, a transform that replaces the answer with what its check looks for (and a case that
    can fail, which fails, under a pass rate of one half). Any answer passes the others, an
    empty one too; pia's honest rerun passes them as well. Neither run shows the workflow
    works, so play 3's checks set both aside, saying why."""
    omar, pia = people["omar"], people["pia"]
    (baseline_program / "workflows" / "hollow.yaml").write_text(HOLLOW)
    report = json.loads(cli("workflow", "test", "hollow", "--json", env=omar).stdout)
    assert report["passed"] and report["proved"] == 0
    blank = [case["passes_blank"] for case in report["cases"]]
    assert blank == [False, True, True, True]
    cli("workflow", "test", "hollow", env=pia)
    runs = facts(baseline_program, "workflow.run")
    assert [(r.by, r.payload["passed"], r.payload["proved"]) for r in runs] == [
        ("omar", True, 0),
        ("pia", True, 0),
    ]
    results = play3_results(baseline_program)
    assert results["workflow-tests-pass"].outcome is Outcome.FAIL
    assert (
        "case weightless passes on an empty answer; case always-true passes on an empty "
        "answer; case replaced passes on an empty answer" in results["workflow-tests-pass"].reason
    )
    assert results["workflow-run-by-other"].outcome is Outcome.FAIL
    assert "its tests do not need the model" in results["workflow-run-by-other"].reason
    # the honest spec's tests can fail: an empty answer fails both its cases
    cli("workflow", "test", "summary", env=omar)
    honest = facts(baseline_program, "workflow.run")[-1].payload
    assert (honest["proved"], honest["inputs"]) == (2, 2)
    cli("workflow", "test", "summary", env=pia)
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS


ANY_ANSWER = (
    SUMMARY.replace("name: summary", "name: any-answer").split("tests:")[0]
    + """\
pass-rate: 0.5
tests:
  - name: impossible
    vars: {ticket: Mail bounces.}
    checks:
      - {type: contains, value: "§never-in-output§"}
  - name: min-length
    vars: {ticket: The printer on floor 2 is jammed again.}
    checks:
      - {type: length, min: 1}
  - name: anything
    vars: {ticket: VPN drops every 20 minutes.}
    checks:
      - {type: regex, value: ".+"}
  - name: one-letter
    vars: {ticket: The badge reader at door 3 beeps twice.}
    checks:
      - {type: contains, value: "e"}
  - name: answer-in-the-input
    vars: {ticket: '{"queue": "it", "summary": "printer jam"}'}
    checks:
      - {type: is-json, value: TRIAGE}
  - name: rewritten
    vars: {ticket: Refund for order 1234.}
    transform: "output ? '{\\"queue\\": \\"billing\\", \\"summary\\": \\"refund\\"}' : output"
    checks:
      - {type: is-json, value: TRIAGE}
""".replace("TRIAGE", TRIAGE_SCHEMA)
)


@pytest.mark.usefixtures("real_model")
def test_tests_that_pass_any_answer_but_an_empty_one_prove_nothing(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    """omar's cases fail an empty answer, so the runner before decoys counted them as proof:
    `length min 1`, `regex .+`, `contains "e"`, a JSON schema the ticket itself already
    matches, a transform that rewrites any answer into a passing one. An off-topic sentence, or
    the case's input handed back, passes each: they would pass whatever the model said, and
    pia's honest rerun of them shows nothing. The runner names each case and the decoy that
    passes it; play 3 sets both runs aside, saying so."""
    omar, pia = people["omar"], people["pia"]
    (baseline_program / "workflows" / "any-answer.yaml").write_text(ANY_ANSWER)
    shown = cli("workflow", "test", "any-answer", env=omar).stdout
    assert "case min-length passes on an off-topic sentence too: it does not test the model" in (
        " ".join(shown.split())
    )
    assert "play 3 does not count this run" in " ".join(shown.split()), shown
    report = json.loads(cli("workflow", "test", "any-answer", "--json", env=pia).stdout)
    assert report["passed"] and report["proved"] == 0
    assert {row["case"]: row["decoy"] for row in report["untested"]} == {
        "min-length": "off-topic",
        "anything": "off-topic",
        "one-letter": "off-topic",
        "answer-in-the-input": "echoed-input",
        "rewritten": "off-topic",
    }
    assert [case["passes_blank"] for case in report["cases"]] == [False] * 6
    run = facts(baseline_program, "workflow.run")[-1]
    assert (run.by, run.payload["proved"], run.payload["decoys"]) == (
        "pia",
        0,
        ["empty", "off-topic", "off-topic-length", "echoed-prompt", "echoed-input", "other-answer"],
    )
    results = play3_results(baseline_program)
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        assert results[check].outcome is Outcome.FAIL, check
        echoed = "case answer-in-the-input passes on its own input echoed back (a variable's"
        assert echoed in results[check].reason
        assert "case rewritten passes on an off-topic sentence" in results[check].reason
    # the honest spec's cases need the model: each names its ticket's queue, in JSON the
    # runtime holds the model's answers to, which no decoy and not the other ticket's answer is
    cli("workflow", "test", "summary", env=omar)
    honest = facts(baseline_program, "workflow.run")[-1].payload
    assert (honest["proved"], honest["untested"]) == (2, [])
    cli("workflow", "test", "summary", env=pia)
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS


@pytest.mark.usefixtures("real_model")
def test_a_template_that_ignores_its_cases_inputs_tests_nothing_of_them(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    """omar's template sends the model one fixed text whatever the case gives it: his cases'
    tickets never reach the model, so their checks judge the same prompt's answers each time,
    and pia's honest rerun shows nothing of the task."""
    spec_file = baseline_program / "workflows" / "summary.yaml"
    spec = SUMMARY.replace("Priority {{ priority }}. Ticket: {{ ticket }}", "Hi")
    # checks any answer in the schema passes (one prompt, one queue: a case naming another fails)
    for queue in ("it", "billing"):
        spec = spec.replace(queue_schema(queue), TRIAGE_SCHEMA)
    spec_file.write_text(spec)
    report = json.loads(cli("workflow", "test", "summary", "--json", env=people["omar"]).stdout)
    assert report["passed"] and report["inputs"] == 1
    cli("workflow", "test", "summary", env=people["pia"])
    results = play3_results(baseline_program)
    assert results["workflow-run-by-other"].outcome is Outcome.FAIL
    assert "2 cases all sent the model the same prompt" in results["workflow-run-by-other"].reason
    assert results["workflow-tests-pass"].outcome is Outcome.FAIL


@pytest.mark.usefixtures("real_model")
def test_a_rerun_whose_answers_came_from_another_host_is_not_someone_elses(
    baseline_program: Path, people: dict[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forgery: the runtime's url names 127.0.0.1, and resolving it again after the run
    says this machine, but the connections that carried pia's answers went to another host
    (the author's server, which could answer anything). This machine has no second host, so
    the connections say they went to 192.0.2.10 (tests/runtimes/elsewhere.py)."""
    cli("workflow", "test", "summary", env=people["omar"])  # omar publishes his workflow
    with monkeypatch.context() as patched:
        answers_from_elsewhere(patched)
        cli("workflow", "test", "summary", env=people["pia"])
    run = facts(baseline_program, "workflow.run")[-1]
    assert run.by == "pia" and run.payload["passed"]
    assert run.payload["runtime"].startswith("http://127.0.0.1:")
    assert run.payload["runtime_local"] is False
    assert run.payload["runtime_peers"] == [ELSEWHERE]
    by_other = play3_results(baseline_program)["workflow-run-by-other"]
    assert by_other.outcome is Outcome.FAIL
    assert (
        f"pia's run was answered by a runtime at {run.payload['runtime']} (answers from "
        f"{ELSEWHERE}), not on their machine"
    ) in by_other.reason
    cli("workflow", "test", "summary", env=people["pia"])  # her own runtime answers: it counts
    assert facts(baseline_program, "workflow.run")[-1].payload["runtime_local"] is True
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS


def test_embeddings_from_another_host_make_a_run_not_this_machines(
    baseline_program: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `similar` check judges by the embeddings the runtime's url answers: those answers
    count among the run's, so chat here and embeddings from elsewhere is not answered here."""
    spec_file = baseline_program / "workflows" / "summary.yaml"
    similar = "  - name: similar\n    vars: {ticket: x}\n    checks:\n" \
        "      - {type: similar, value: a printer jam, threshold: 0.1}\n"  # fmt: skip
    spec_file.write_text(SUMMARY + similar)
    answers_from_elsewhere(monkeypatch, path="/v1/embeddings")
    cli("workflow", "test", "summary", code=1)  # this engine serves no embeddings: it fails
    [run] = facts(baseline_program, "workflow.run")
    assert run.payload["runtime_local"] is False
    assert run.payload["runtime_peers"] == ["127.0.0.1", ELSEWHERE]


def test_a_drifted_model_refuses_to_run_with_the_digest_in_the_message(
    baseline_program: Path,
) -> None:
    lock = read_lock(baseline_program)
    assert lock is not None
    served = lock.models[0].digest
    locked = "sha256:" + "0" * 64
    pinned = LockedModel(name="inhouse-test-model", digest=locked, size=lock.models[0].size)
    drifted = lock.model_copy(update={"models": [pinned]})
    drifted = drifted.model_copy(update={"lock_hash": drifted.computed_hash()})
    program = Program.open(baseline_program)  # recorded and written, as a re-lock does
    try:
        program.record_fact(
            "lena", "baseline.lock", lock_fact_payload(drifted),
            provenance=Provenance.MEASURED, collector=COLLECTOR,
        )  # fmt: skip
    finally:
        program.close()
    write_lock(baseline_program, drifted)
    for command in (("run", "summary", "--var", "ticket=x"), ("test", "summary")):
        refused = cli("workflow", *command, code=3)
        message = " ".join(refused.stderr.split())
        assert "refusing to run workflow summary: model inhouse-test-model has drifted" in message
        assert f"locked {locked}, found {served}" in message
    assert facts(baseline_program, "workflow.run") == []


def test_a_model_the_lock_does_not_bless_is_refused(baseline_program: Path) -> None:
    spec_file = baseline_program / "workflows" / "summary.yaml"
    spec_file.write_text(SUMMARY.replace("model: inhouse-test-model", "model: gpt-4o"))
    refused = cli("workflow", "test", "summary", code=3)
    message = " ".join(refused.stderr.split())
    assert "workflows/summary.yaml: model: model 'gpt-4o' is not a blessed model" in message
    assert "blessed: inhouse-test-model" in message


def test_spec_problems_are_refused_before_anything_runs(baseline_program: Path) -> None:
    spec_file = baseline_program / "workflows" / "summary.yaml"
    spec_file.write_text(SUMMARY.replace("Ticket: {{ ticket }}", "{{ ''.__class__.__mro__ }}"))
    escape = cli("workflow", "test", "summary", code=2)
    assert "prompt.user: refused: the template reaches for '__mro__'" in escape.stderr
    spec_file.write_text(SUMMARY.replace("owner: omar", "owner: ghost"))
    ghost = cli("workflow", "test", "summary", code=2)
    assert "owner: 'ghost' is not on the program's roster" in ghost.stderr
    assert "invite them (`inhouse person invite ghost`)" in " ".join(ghost.stderr.split())
    assert facts(baseline_program, "workflow.run") == []


def test_similar_on_a_runtime_without_embeddings_is_a_clear_case_error(
    baseline_program: Path,
) -> None:
    spec_file = baseline_program / "workflows" / "summary.yaml"
    similar = "  - name: similar\n    vars: {ticket: x}\n    checks:\n" \
        "      - {type: similar, value: a printer jam, threshold: 0.1}\n"  # fmt: skip
    spec_file.write_text(SUMMARY + similar)
    data = json.loads(cli("workflow", "test", "summary", "--json", code=1).stdout)
    check = data["cases"][2]["attempts"][0]["checks"][0]
    assert check["error"] and "runtime 'local' does not serve embeddings" in check["reason"]


def test_validating_a_spec_names_the_recurring_task_once(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    assert facts(baseline_program, "task.named") == []
    result = cli("workflow", "validate", "summary", env=people["omar"])
    assert "recorded the recurring task 'summary' (daily)" in result.stdout
    [named] = facts(baseline_program, "task.named")
    assert named.payload == {"task": "summary: Summarise a support ticket", "frequency": "daily"}
    assert named.provenance.value == "measured" and named.by == "omar"
    cli("workflow", "validate", "summary")  # nothing new to record
    assert len(facts(baseline_program, "task.named")) == 1
    # a frequency that says no recurrence names no recurring task: refused, nothing recorded
    spec_file = baseline_program / "workflows" / "summary.yaml"
    spec_file.write_text(SUMMARY.replace("frequency: daily", "frequency: once"))
    refused = cli("workflow", "validate", "summary", env=people["omar"], code=2)
    assert "its frequency 'once' says no recurrence" in " ".join(refused.stderr.split())
    assert "is valid" not in refused.stdout  # refused, not "valid" a line before
    assert len(facts(baseline_program, "task.named")) == 1


def test_a_case_passed_on_a_best_of_n_is_shown_beside_it(baseline_program: Path) -> None:
    """`repeat: 5, min-pass: 1` passes a case on one draw in five, and the run said "100% of
    cases passed" with nothing beside the case but "(needs 1)": it says "a best of 5" now,
    beside the case and under the verdict. A case that needs most of its attempts says
    nothing more (`tests/test_workflow_best_of.py` for play 3's reason)."""
    spec = baseline_program / "workflows" / "summary.yaml"
    cases = "".join(
        f"  - name: {name}\n    vars: {{ticket: x}}\n    repeat: {repeat}\n"
        f"    min-pass: {need}\n    checks:\n"
        "      - {type: python, value: 'tests.workflows.flaky:every_other'}\n"
        for name, repeat, need in (("lucky", 5, 1), ("steady", 2, 1))
    )
    from tests.workflows import flaky as module

    module.calls = 0
    spec.write_text(SUMMARY + cases)
    shown = cli("workflow", "test", "summary", "--trust-python").stdout
    flat = " ".join(shown.split())
    assert "(needs 1: a best of 5)" in flat, shown
    # what it needs, and what this run's attempts did: every other call passes, so lucky's
    # five attempts passed more than the one "passes on 1 of 5" said they had
    assert re.search(
        r"case lucky needs 1 of its 5 attempts to pass: a best of 5 \(this run passed [23]\)",
        flat,
    ), shown
    assert "passes on 1 of 5" not in flat, shown
    assert "(needs 1)" in flat and "steady needs" not in flat, shown
