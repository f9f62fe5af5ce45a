"""review53: what asking a model about the decoys costs, counted. A check that asks a model is
asked about each decoy text once, as docs/workflows.md says, not once per time and cost a
decoy is given at, nor once from each side of a pair of cases judged against each other."""

from __future__ import annotations

from collections import Counter

import pytest

from inhouse.workflows.decoys import judge_cases, judge_decoys
from inhouse.workflows.spec import parse_workflow
from tests.workflows.test_decoys import QUEUES, StandinJudge

pytestmark = pytest.mark.anyio

#: each case asks the judge, and reads the answer's time: its decoys are judged given
#: instantly and in each of the model's own answer times
_TIMED = "[{type: llm-rubric, value: R}, {type: latency, threshold: 60000}]"


def _asked_twice(judge: StandinJudge) -> list[str]:
    asked = Counter(request.model_dump_json() for request in judge.requests)
    return [question[:120] for question, times in asked.items() if times > 1]


async def test_a_rubric_beside_a_timed_check_is_asked_about_each_decoy_once() -> None:
    """lena's cases judge the answer with a rubric and its time with a latency bound. Each
    decoy is judged given instantly and at each of the model's three answer times: the rubric
    (whose question holds no time) was asked the same question four times a decoy, where the
    docs promise once each."""
    spec = QUEUES.replace("[{type: icontains, value: hardware}]", _TIMED)
    spec = spec.replace("[{type: icontains, value: network}]", _TIMED)
    workflow = parse_workflow(spec, where="triage.yaml")
    case = workflow.cases[0]
    judge = StandinJudge('{"pass": false, "score": 0}')
    found = await judge_decoys(workflow, case, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                               embedder=None, embedding_model=None,
                               answers=["Queue: hardware."] * 3,
                               timings=[(900.0, None), (1100.0, None), (1300.0, None)])  # fmt: skip
    assert found is not None and not any(found.values()), found
    assert judge.requests and not _asked_twice(judge), _asked_twice(judge)


async def test_two_cases_judged_against_each_other_ask_the_judge_once() -> None:
    """A run's two rubric cases are told apart by each other: judged from the printer case's
    side and again from the VPN case's, the same two questions went to the judge twice (and
    the empty answer and the fixed sentence, which their rubric's question does not tell apart,
    once for each case)."""
    spec = QUEUES.replace(
        "  - name: monitor\n    vars: {ticket: The monitor flickers.}\n"
        "    checks: [{type: icontains, value: hardware}]\n",
        "",
    )
    spec = spec.replace("[{type: icontains, value: hardware}]", "[{type: llm-rubric, value: R}]")
    spec = spec.replace("[{type: icontains, value: network}]", "[{type: llm-rubric, value: R}]")
    workflow = parse_workflow(spec, where="triage.yaml")
    assert [c.name for c in workflow.cases] == ["printer", "vpn"]
    judge = StandinJudge('{"pass": false, "score": 0}')
    cases = [(case, [f"the answer to {case.name}"], [(5.0, None)], True) for case in workflow.cases]
    found = await judge_cases(workflow, cases, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                              embedder=None, embedding_model=None)  # fmt: skip
    assert all(f is not None and not any(f.values()) for f in found), found
    assert not _asked_twice(judge), _asked_twice(judge)
    # each rubric was asked about the other case's answer (and the empty answer and the fixed
    # sentence, the same question for both cases here, once)
    outputs = [request.messages[-1].content for request in judge.requests]
    assert sum("the answer to" in output for output in outputs) == 2, outputs
    assert len(judge.requests) == 10


def test_a_run_whose_other_cases_failed_says_so_not_that_its_checks_judge_nothing() -> None:
    """omar reruns lena's triage workflow: the printer case passes and its checks judge the
    queue; the model got the VPN case wrong. A failed case's answers tell no case apart (its
    checks may fail everything), so the printer case passes on that decoy and the run proves
    nothing. Play 3 told omar the printer case's checks do not need the model, and to write
    checks that judge what its answer says, which they do: the reason is the failed case."""
    from datetime import UTC, datetime

    from inhouse.program.facts import Fact, Provenance
    from inhouse.program.playchecks._shared import hollow_tests
    from inhouse.workflows.decoys import DECOYS

    run = Fact(
        id=40, kind="workflow.run", version=1,
        payload={"workflow": "triage", "passed": True, "pass_rate": 0.5, "cases": 2,
                 "inputs": 2, "proved": 0, "decoys": list(DECOYS),
                 "untested": [{"case": "printer", "decoy": "other-answer"}]},
        provenance=Provenance.MEASURED, by="omar", collector="workflow.run", comment=None,
        expires=None, at=datetime(2026, 11, 2, tzinfo=UTC),
    )  # fmt: skip
    why = hollow_tests(run)
    assert why is not None
    assert "only 1 of its 2 cases passed" in why, why
    assert "make the others pass" in why, why


async def test_workflow_test_says_which_failed_case_left_the_passing_one_unproved() -> None:
    """The same run as `workflow test` prints it to omar: it named the failed case, not checks
    judging nothing, as what keeps play 3 from counting it."""
    from datetime import UTC, datetime

    from inhouse.baseline.lock import LockedModel
    from inhouse.checks import QualityContext, evaluate
    from inhouse.workflows.report import Attempt, CaseReport, RunReport, VariantReport

    spec = QUEUES.replace(
        "  - name: monitor\n    vars: {ticket: The monitor flickers.}\n"
        "    checks: [{type: icontains, value: hardware}]\n",
        "",
    ).replace("frequency: daily\n", "frequency: daily\npass_rate: 0.5\n")
    workflow = parse_workflow(spec, where="triage.yaml")
    answers = {"printer": "Queue: hardware.", "vpn": "Queue: hardware."}  # the VPN one wrong
    cases = []
    for case in workflow.cases:
        output = answers[case.name]
        judged = await evaluate(case.checks, output, QualityContext(), threshold=case.threshold)
        cases.append((case, [output], [(5.0, None)], judged.passed))
    found = await judge_cases(workflow, cases, runtime=None, judge_model=None,  # type: ignore[arg-type]
                              embedder=None, embedding_model=None)  # fmt: skip
    reports = [
        CaseReport(case, [Attempt(output, 5.0, await evaluate(case.checks, output,
                   QualityContext(), threshold=case.threshold), None)], decoys)
        for (case, [output], _, _), decoys in zip(cases, found, strict=True)
    ]  # fmt: skip
    run = RunReport(
        workflow=workflow, runner="omar", model=LockedModel(name="m", digest="sha256:" + "a" * 64),
        lock_hash="x", variants=[VariantReport("default", True, reports)],
        started=datetime(2026, 11, 2, tzinfo=UTC), seconds=1.0,
    )  # fmt: skip
    assert run.passed and run.proved == 0, run.untested
    notes = " ".join(run.untested_notes())
    assert "vpn failed" in notes, notes
    assert "give a case checks that judge" not in notes, notes
