"""The model-graded types (factuality, answer-relevance, context-*, model-graded-closedqa,
select-best) asked of the real llama.cpp engine as judge: the grader prompt each one sends, the
verdict read back; and a judge that answers no verdict (a stand-in) is an error with its reason.
The test model writes nonsense, so these test the plumbing, not the grades."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from inhouse.checks import QualityContext, evaluate, parse_checks
from inhouse.runtimes import ChatRequest, ChatResponse, RuntimeConfig, open_runtime
from tests.checks.test_model_checks import StandinJudge
from tests.engine import Engine, needs_engine

pytestmark = pytest.mark.anyio

VARS = {
    "query": "When does the Oslo office open?",
    "context": "The Oslo office opens at 8 and closes at 16. Parking is in the basement.",
}
# (check, what its grader prompt must carry, the schema's verdict field)
GRADED: list[tuple[dict[str, Any], list[str], str]] = [
    ({"type": "factuality", "value": "It opens at 8."},
     ["<reference>\nIt opens at 8.", "<question>\nWhen does the Oslo office open?",
      "(D) the output disagrees"], "choice"),
    ({"type": "answer-relevance", "threshold": 0.5},
     ["<question>\nWhen does the Oslo office open?", "<answer>\n"], "score"),
    ({"type": "context-faithfulness"},
     ["<context>\nThe Oslo office opens at 8", "share of them the context supports"], "score"),
    ({"type": "context-recall", "value": "Opens at 8, closes at 16."},
     ["<ground-truth>\nOpens at 8, closes at 16.", "<context>\nThe Oslo office"], "score"),
    ({"type": "context-relevance"},
     ["<question>\nWhen does the Oslo office open?", "<context>\nThe Oslo office"], "score"),
    ({"type": "model-graded-closedqa", "value": "names an hour"},
     ["<criterion>\nnames an hour", "<submission>\n"], "score"),
]  # fmt: skip


class Recording:
    """The real runtime, with every request it was asked kept (to see the grader prompt)."""

    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.name = runtime.name
        self.url = runtime.url
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        reply: ChatResponse = await self.runtime.chat(request)
        return reply

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[Any]:
        raise NotImplementedError


@needs_engine
@pytest.mark.parametrize(("raw", "sent", "field"), GRADED, ids=[g[0]["type"] for g in GRADED])
async def test_each_graded_type_asks_the_real_judge_and_reads_its_verdict(
    embedding_engine: Engine, raw: dict[str, Any], sent: list[str], field: str
) -> None:
    config = RuntimeConfig(name="judge", family="openai", url=embedding_engine.url)
    async with open_runtime(config) as runtime:
        judge = Recording(runtime)
        ctx = QualityContext(
            vars=VARS, runtime=judge, judge_model=str(embedding_engine.model), prompt="Q?"
        )  # type: ignore[arg-type]
        checks = parse_checks([{**raw, "max_tokens": 400}], where="t")
        case = await evaluate(checks, "It opens at eight in the morning.", ctx)
    [request] = judge.requests
    prompt = "\n".join(str(m.content) for m in request.messages)
    for piece in sent:
        assert piece in prompt, piece
    assert request.response_format is not None
    assert field in request.response_format["schema"]["required"]
    assert request.model == str(embedding_engine.model) and request.temperature == 0
    result = case.results[0]
    # held to the schema, even nonsense comes back as a verdict: read, never guessed
    assert not result.error, result.reason
    said = json.loads(result.details["judge_output"])
    assert field in said
    assert result.reason.startswith(f"the judge ({embedding_engine.model})")
    assert result.passed is case.passed
    if field == "choice":
        assert result.passed is (said["choice"] != "D")
        assert result.details["choice"] == said["choice"]


@needs_engine
async def test_select_best_asks_once_for_every_variant_and_one_wins(
    embedding_engine: Engine,
) -> None:
    config = RuntimeConfig(name="judge", family="openai", url=embedding_engine.url)
    peers = ["Opens at 8.", "The office is in Oslo."]
    async with open_runtime(config) as runtime:
        judge = Recording(runtime)
        checks = parse_checks(
            [{"type": "select-best", "value": "answers the opening hour", "max_tokens": 300}],
            where="t",
        )
        shared: dict[Any, Any] = {}
        cases = await asyncio.gather(
            *(
                evaluate(checks, output, QualityContext(
                    runtime=judge, judge_model=str(embedding_engine.model),  # type: ignore[arg-type]
                    peers=peers, peer_index=index, shared=shared))
                for index, output in enumerate(peers)
            )
        )  # fmt: skip
    assert len(judge.requests) == 1  # one question for all the variants
    prompt = str(judge.requests[0].messages[1].content)
    assert '<output index="0">\nOpens at 8.' in prompt and '<output index="1">' in prompt
    results = [case.results[0] for case in cases]
    if results[0].error:  # the judge named no index in range: both say so, neither passes
        assert all("not a grade" in r.reason and not r.passed for r in results)
    else:
        best = results[0].details["best"]
        assert [r.passed for r in results] == [best == 0, best == 1]


@pytest.mark.parametrize("raw", [g[0] for g in GRADED], ids=[g[0]["type"] for g in GRADED])
async def test_a_judge_that_answers_no_verdict_is_an_error_with_its_reason(
    raw: dict[str, Any],
) -> None:
    judge = StandinJudge("the of and to in")
    for written in (raw["type"], f"not-{raw['type']}"):
        checks = parse_checks([{**raw, "type": written}], where="t")
        ctx = QualityContext(vars=VARS, runtime=judge, judge_model="m")  # type: ignore[arg-type]
        case = await evaluate(checks, "hi", ctx)
        result = case.results[0]
        assert not case.passed and result.error
        assert "the judge (m) answered something that is not a grade" in result.reason
        assert "'the of and to in'" in result.reason


async def test_a_custom_rubric_prompt_replaces_the_graders() -> None:
    judge = StandinJudge('{"reason": "fine", "pass": true, "score": 0.9}')
    checks = parse_checks(
        [{"type": "context-faithfulness", "rubric_prompt": '[{"role": "system", "content": '
          '"Grade {{ output }} against {{ context }}"}]'}],
        where="t",
    )  # fmt: skip
    ctx = QualityContext(vars=VARS, runtime=judge, judge_model="m")  # type: ignore[arg-type]
    case = await evaluate(checks, "eight", ctx)
    assert case.passed
    [message] = judge.requests[0].messages
    assert message.role == "system" and message.content == f"Grade eight against {VARS['context']}"


async def test_graded_types_say_what_they_are_missing_before_asking() -> None:
    judge = StandinJudge('{"reason": "x", "pass": true, "score": 1}')
    ctx = QualityContext(vars={"query": "q"}, runtime=judge, judge_model="m")  # type: ignore[arg-type]
    for raw, said in (
        ({"type": "context-faithfulness"}, "reads the case's 'context' variable"),
        ({"type": "context-recall"}, "context-recall needs value: the ground truth"),
        ({"type": "factuality"}, "factuality needs value: the reference answer"),
        ({"type": "select-best", "value": "x"}, "has no others to compare with"),
    ):
        result = (await evaluate(parse_checks([raw], where="t"), "x", ctx)).results[0]
        assert result.error and said in result.reason
    assert judge.requests == []
    nobody = await evaluate(parse_checks([{"type": "factuality", "value": "x"}], where="t"), "x")
    assert "factuality needs a judge" in nobody.results[0].reason
