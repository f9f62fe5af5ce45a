"""The outsider, round 20: plays 1 to 3, the rollout lead alone.

Same lena as tests/test_outsider.py (one laptop, one account at the organisation's identity
provider, full control of her machine, the program folder, its database and the Python API; she
leads the program and writes its trials and workflows). Her colleagues (omar, pia) are real,
each with a key of their own from a laptop of their own; each does only what they would
honestly do: run, once, on their own machine, the one command lena asks them to run, on the
files she prepared.

What the walk found: the decoy answers that show whether a trial's or a workflow's checks need
the model (an empty answer, off-topic prose, the prompt or input handed back) were judged
"given instantly and for nothing": latency 0, cost 0. A `latency` bound turned the other way
(``not-latency``, which passes an answer that took longer than a millisecond) fails every such
decoy and passes every answer a model gives, whatever it says; so does ``not-cost`` at 0. A
case checked by it alone "needed the model": play 3 counted pia's honest rerun of tests that
judge nothing, and play 1 a trial whose quality checks pass any answer (beside a status quo whose
pass rate is stated, where no timed-checks rule applies). (Closed: where a case's checks judge
time or cost, each decoy is judged given in the model's own time and at its cost too.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from inhouse.checks.base import QualityContext
from inhouse.checks.evaluate import evaluate as judge_output
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.workflows.decoys import judge_decoys
from inhouse.workflows.spec import parse_workflow
from tests.engine import needs_engine
from tests.trials.test_rerun import omar, program, run, verdict_payload, write_trial  # noqa: F401
from tests.workflows.conftest import SUMMARY, baseline_program, people  # noqa: F401
from tests.workflows.test_decoys import FIXED as FIXED_DECOYS

#: a case's only check: the answer took longer than half a millisecond, which every answer a
#: model gives over HTTP does, whatever it says, and an answer given instantly does not
SLOW_ENOUGH = {"type": "not-latency", "threshold": 0.5}

QUICK = (
    SUMMARY.replace("name: summary", "name: quick").split("tests:")[0]
    + """\
tests:
  - name: printer
    vars: {ticket: The printer on floor 2 is jammed again.}
    checks:
      - {type: not-latency, threshold: 0.5}
"""
)


# -- the decoys, judged without the engine -------------------------------------------------------


@pytest.mark.anyio
async def test_a_case_checked_by_its_answers_delay_alone_passes_a_decoy_in_its_time() -> None:
    """lena's case asks only that the answer took longer than half a millisecond: any answer
    the model gives passes it (here one that took 800 ms), and a decoy given instantly fails
    it. Judged in the model's own time, the empty answer passes it too: the case does not need
    the model, and says so."""
    workflow = parse_workflow(QUICK, where="quick.yaml")
    [case] = workflow.cases
    answer = '{"queue": "it", "summary": "anything at all"}'
    assert (await judge_output(case.checks, answer, QualityContext(latency_ms=800.0))).passed
    found = await judge_decoys(workflow, case, runtime=None, judge_model=None, embedder=None,
                               embedding_model=None, answers=[answer],
                               timings=[(800.0, None)])  # fmt: skip
    assert found is not None and found["empty"], found


@pytest.mark.anyio
async def test_a_case_that_judges_what_the_answer_says_needs_the_model_in_its_time_too() -> None:
    """The honest path: SUMMARY's printer case checks the answer is JSON in the schema beside a
    latency bound; judged in the model's own time, no decoy passes it, and nothing is judged in
    the model's time for a case whose checks do not judge time."""
    workflow = parse_workflow(SUMMARY, where="summary.yaml")
    answer = '{"queue": "it", "summary": "printer jam"}'
    for case in workflow.cases:
        found = await judge_decoys(workflow, case, runtime=None, judge_model=None,
                                   embedder=None, embedding_model=None, answers=[answer],
                                   timings=[(800.0, None)])  # fmt: skip
        assert found == dict.fromkeys(FIXED_DECOYS, False), (case.name, found)


# -- play 3: a colleague's honest rerun of tests that judge nothing ------------------------------


@pytest.mark.usefixtures("real_model")
@needs_engine
def test_a_workflow_checked_by_its_answers_delay_alone_is_not_someone_else_s_pass(
    baseline_program: Path,  # noqa: F811
    people: dict[str, dict[str, str]],  # noqa: F811
) -> None:
    """lena writes a workflow whose one case checks only that the answer took longer than half
    a millisecond, and runs it; pia, asked to, runs `inhouse workflow test quick` once on her
    own machine, honestly. Both pass, whatever the model said. The runner judges the decoys in
    the model's own time too: the empty answer passes, the runs prove nothing, and play 3's
    rerun by another fails, saying the tests do not need the model."""
    from tests.workflows.test_workflow_engine import cli, facts, play3_results

    (baseline_program / "workflows" / "quick.yaml").write_text(QUICK)
    cli("workflow", "test", "quick")  # lena, the author
    report = json.loads(cli("workflow", "test", "quick", "--json", env=people["pia"]).stdout)
    assert report["passed"], report
    assert report["proved"] == 0, report
    run_fact = facts(baseline_program, "workflow.run")[-1]
    assert (run_fact.by, run_fact.payload["proved"]) == ("pia", 0)
    result = play3_results(baseline_program)["workflow-run-by-other"]
    assert result.outcome is Outcome.FAIL, result.reason
    assert "case printer passes on an empty answer" in result.reason, result.reason


# -- play 1: a trial whose quality checks judge only that an answer took time ---------------------


@needs_engine
def test_a_trial_checked_by_its_answers_delay_alone_proves_no_quality(
    program: Path,  # noqa: F811
) -> None:
    """lena's trial pits the candidate against a manual process whose pass rate she states
    (90 %), and its one quality check is that the answer took longer than half a millisecond:
    every candidate answer passes (100 %), whatever it says. Judged given instantly, no decoy
    passed it, so the verdict counted every input as proved; judged in the candidate's own time
    too, the empty answer passes, the verdict records ``proved`` 0 and value-proven fails."""
    stated = {"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42, "pass_rate": 0.9}
    write_trial(program, [SLOW_ENOUGH], status_quo=stated)
    (program / "data" / "minutes.csv").write_text("minutes\n4\n6.5\n3\n5\n7\n4.5\n")
    run("prove", "tickets")
    verdict = verdict_payload(program)
    assert verdict["candidate_pass_rate"] == 1.0, verdict
    assert verdict["proved"] == 0, verdict
    opened = Program.open(program)
    try:
        proven = evaluate("value-proven", build_context(opened.state(), opened.clock()))
    finally:
        opened.close()
    assert proven.outcome is Outcome.FAIL, proven.reason
    assert "quality checks pass an empty answer on every input" in proven.reason


# -- play 1: a machine written off over more hours than there will ever be ----------------------


#: the candidate's cost inputs, as a trial's author types them (trials/NAME.yaml's candidate.cost)
LOCAL = {"watts": 65.0, "price_per_kwh": 0.3, "hardware_price": 1800.0,
         "lifetime_hours": 26280.0, "utilisation": 0.4}  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [("lifetime_hours", 1e300), ("lifetime_hours", 1e-300), ("utilisation", 1e-300)],
)
def test_a_lifetime_past_any_machine_s_is_refused_by_name(field: str, value: float) -> None:
    """lena writes her candidate's 1,800 machine off over 1e300 hours: its price vanishes from
    every cost, so any candidate is "cheaper" than the API (play 1's verdict is her own trial's).
    A lifetime past a century of running day and night is refused, naming the field; and so is
    one or a utilisation so small the hardware's share is no finite number. The honest inputs
    load, and the cost they give is finite."""
    from pydantic import ValidationError

    from inhouse.trials.cost import LocalCostInputs, local_cost

    with pytest.raises(ValidationError, match=field):
        LocalCostInputs.model_validate({**LOCAL, field: value})
    honest = LocalCostInputs.model_validate(LOCAL)
    assert 0 < local_cost(honest, [2.0]).per_task[0] < 1


# -- play 3: a model-asking check the echoes and the prose are never asked of --------------------


class _HashEmbedder:
    """A stand-in embedder: the same text, the same vector; two different texts, orthogonal
    ones (what any embedder says of a text and itself, and near enough of unrelated ones)."""

    name = "standin-embedder"
    url = "http://standin.invalid"

    async def embed(self, texts: list[str], *, model: str | None = None) -> list[list[float]]:
        known: dict[str, int] = {}
        for text in texts:
            known.setdefault(text, len(known))
        return [[1.0 if i == known[t] else 0.0 for i in range(len(known))] for t in texts]


@pytest.mark.anyio
async def test_a_check_describing_the_asked_decoys_needs_no_model() -> None:
    """lena's case: at least one character, and not similar to the off-topic sentence. Any
    answer a model gives passes it; the empty answer fails the length, the sentence fails the
    similarity. Every decoy text is asked of the embedder now (the echoes, the prose), and they
    pass: the case does not need the model. (Before, the echoes and the prose were not asked,
    and failed as a check that could not judge does.)"""
    from inhouse.workflows.decoys import OFF_TOPIC_TEXT

    spec = (
        SUMMARY.replace("name: summary", "name: unlike").split("tests:")[0]
        + "tests:\n  - name: printer\n    vars: {ticket: The printer on floor 2 is jammed.}\n"
        + "    checks:\n      - {type: length, min: 1}\n"
        + f"      - {{type: not-similar, value: {json.dumps(OFF_TOPIC_TEXT)}, threshold: 0.9}}\n"
    )
    workflow = parse_workflow(spec, where="unlike.yaml")
    [case] = workflow.cases
    answer = "Whatever the model said, about nothing the ticket asks."
    embedder = _HashEmbedder()
    context = QualityContext(embedder=embedder, embedding_model="m")
    assert (await judge_output(case.checks, answer, context)).passed
    found = await judge_decoys(workflow, case, runtime=None, judge_model=None,
                               embedder=embedder, embedding_model="m",
                               answers=[answer])  # fmt: skip
    assert found is not None and not found["off-topic"], found
    assert found["echoed-prompt"] and found["echoed-input"] and found["off-topic-length"], found


# -- play 3: an answer the runtime's grammar leaves the model no choice in -----------------------


@pytest.mark.anyio
async def test_an_answer_the_schema_fixes_needs_no_model() -> None:
    """lena's cases ask for JSON in a schema with one possible instance, and check it is that
    JSON: the runtime writes it whatever the model would say, to any ticket. No fixed decoy is
    that JSON, but the model's answer to the other ticket is: neither case is told apart from
    the other, and neither needs the model. (Shape-only cases are judged so too: every answer
    in the schema passes them.)"""
    schema = "{type: object, required: [queue], properties: {queue: {enum: [it]}}}"
    spec = f"""\
name: fixed
owner: omar
frequency: daily
model: inhouse-test-model
parameters:
  max_tokens: 20
  response_format: {{type: json_object, schema: {schema}}}
variables: {{ticket: string}}
prompt: {{system: You triage tickets as JSON., user: "Ticket: {{{{ ticket }}}}"}}
tests:
  - name: printer
    vars: {{ticket: The printer on floor 2 is jammed.}}
    checks:
      - {{type: is-json, value: {schema}}}
  - name: vpn
    vars: {{ticket: The VPN drops every hour.}}
    checks:
      - {{type: is-json, value: {schema}}}
"""
    workflow = parse_workflow(spec, where="fixed.yaml")
    answer = '{"queue": "it"}'  # the only answer the runtime lets any model give
    given = [(case, [answer], []) for case in workflow.cases]
    for case in workflow.cases:
        assert (await judge_output(case.checks, answer, QualityContext())).passed
        found = await judge_decoys(workflow, case, runtime=None, judge_model=None,
                                   embedder=None, embedding_model=None, answers=[answer],
                                   others=given)  # fmt: skip
        assert found == dict.fromkeys(FIXED_DECOYS, False) | {"other-answer": True}, found
