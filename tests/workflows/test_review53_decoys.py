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
