"""``similar`` and ``llm-rubric`` against the real llama.cpp engine with the test model, and the
judge's answer reading on answers a real judge gives (the test model writes nonsense)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from inhouse.checks import (
    EmbeddingsNotServed,
    HttpEmbedder,
    QualityContext,
    evaluate,
    parse_checks,
)
from inhouse.checks.rubric import read_grade
from inhouse.errors import RuntimeBadResponse
from inhouse.runtimes import ChatRequest, ChatResponse, RuntimeConfig, open_runtime
from tests.engine import Engine, needs_engine

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("said", "passed", "score", "reason"),
    [
        ('{"reason": "polite, short", "pass": true, "score": 0.9}', True, 0.9, "polite, short"),
        ('Here you go:\n```json\n{"passed": "no", "score": "0.2", "reasoning": "rude"}\n```',
         False, 0.2, "rude"),
        ('I think {"verdict": "PASS", "explanation": "ok"} is right', True, None, "ok"),
        ("It answers the question and stays polite.\nVerdict: PASS", True, None,
         "It answers the question and stays polite."),
        ("The tone is off.\nScore: 0.3\nFAIL", False, 0.3, "The tone is off.\nScore: 0.3"),
        ("Reasoning first.\nscore = 0.8", None, 0.8, "Reasoning first.\nscore = 0.8"),
    ],
)  # fmt: skip
def test_judge_answers_are_read_leniently(
    said: str, passed: bool | None, score: float | None, reason: str
) -> None:
    grade = read_grade(said)
    assert grade is not None
    assert (grade.passed, grade.score, grade.reason) == (passed, score, reason)


@pytest.mark.parametrize(
    "said",
    [
        "",
        "the of and to in is it you that",
        '{"reason": "no verdict at all"}',
        '{"pass": "perhaps", "score": 7}',
        "This does not pass the bar, I would say, but partly it does.",
    ],
)
def test_answers_that_are_not_a_grade_are_not_guessed(said: str) -> None:
    assert read_grade(said) is None


class StandinJudge:
    """A stand-in judge runtime that answers one fixed text (for the unparseable path)."""

    name = "standin-judge"
    family = "standin"
    url = "http://standin.invalid"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        return ChatResponse.model_validate(
            {"choices": [{"message": {"role": "assistant", "content": self.answer}}]}
        )

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[Any]:
        raise NotImplementedError


async def test_an_unreadable_judge_answer_is_a_clear_error_and_never_a_pass() -> None:
    judge = StandinJudge("the of and to in")
    for written in ("llm-rubric", "not-llm-rubric"):
        checks = parse_checks([{"type": written, "value": "is polite"}], where="t")
        case = await evaluate(checks, "hi", QualityContext(runtime=judge, judge_model="m"))  # type: ignore[arg-type]
        result = case.results[0]
        assert not case.passed and result.error
        assert "the judge (m) answered something that is not a grade" in result.reason
        assert result.details["judge_output"] == "the of and to in"


async def test_the_judge_decides_and_its_reasoning_is_stored() -> None:
    judge = StandinJudge('{"reason": "greets and is polite", "pass": true, "score": 0.7}')
    checks = parse_checks([{"type": "llm-rubric", "value": "is polite"}], where="t")
    case = await evaluate(checks, "hello there", QualityContext(runtime=judge, judge_model="m"))  # type: ignore[arg-type]
    assert case.passed
    assert case.results[0].details["judge_reasoning"] == "greets and is polite"
    assert "<rubric>\nis polite\n</rubric>" in str(judge.requests[0].messages[1].content)
    strict = parse_checks([{"type": "llm-rubric", "value": "x", "threshold": 0.8}], where="t")
    below = await evaluate(strict, "hello", QualityContext(runtime=judge, judge_model="m"))  # type: ignore[arg-type]
    assert not below.passed and below.score == pytest.approx(0.7)


class StandinJudgeWithoutSchemas(StandinJudge):
    """A stand-in judge that answers HTTP 400 to a constrained request, like a runtime that
    does not take a JSON Schema for the answer."""

    async def chat(self, request: ChatRequest) -> ChatResponse:
        if request.response_format is not None:
            self.requests.append(request)
            raise RuntimeBadResponse(
                "answered a chat request with HTTP 400: unsupported response_format",
                runtime=self.name,
                url=self.url,
            )
        return await super().chat(request)


async def test_a_judge_that_refuses_the_schema_is_asked_again_plainly() -> None:
    judge = StandinJudgeWithoutSchemas("Short and kind.\nVerdict: PASS")
    checks = parse_checks([{"type": "llm-rubric", "value": "is kind"}], where="t")
    case = await evaluate(checks, "thanks!", QualityContext(runtime=judge, judge_model="m"))  # type: ignore[arg-type]
    assert case.passed and case.results[0].details["judge_reasoning"] == "Short and kind."
    assert [r.response_format is not None for r in judge.requests] == [True, False]


async def test_checks_without_a_model_say_what_they_need() -> None:
    checks = parse_checks(
        [{"type": "similar", "value": "x"}, {"type": "llm-rubric", "value": "x"}], where="t"
    )
    case = await evaluate(checks, "x")
    assert [r.error for r in case.results] == [True, True]
    assert "needs a runtime that serves embeddings" in case.results[0].reason
    assert "llm-rubric needs a judge" in case.results[1].reason


@needs_engine
async def test_similar_names_a_runtime_without_embeddings(engine: Engine) -> None:
    async with HttpEmbedder(name="chat-only", url=engine.url) as embedder:
        with pytest.raises(EmbeddingsNotServed, match="runtime 'chat-only' does not serve"):
            await embedder.embed(["a", "b"])
        checks = parse_checks([{"type": "not-similar", "value": "tea"}], where="t")
        case = await evaluate(checks, "coffee", QualityContext(embedder=embedder))
    result = case.results[0]
    assert not case.passed and result.error
    assert "does not serve embeddings" in result.reason
    assert "--embedding" in result.reason and f"[chat-only at {engine.url}]" in result.reason


@needs_engine
async def test_similar_with_real_embeddings(embedding_engine: Engine) -> None:
    output = "the model run test data and the team plan"
    async with HttpEmbedder(name="local", url=embedding_engine.url) as embedder:
        ctx = QualityContext(embedder=embedder)
        same = await evaluate(
            parse_checks([{"type": "similar", "value": output, "threshold": 0.999}], where="t"),
            output,
            ctx,
        )
        assert same.passed, same.results[0].reason
        assert same.results[0].details["similarity"] == pytest.approx(1.0, abs=1e-4)
        other = "install support ticket review"
        vectors = await embedder.embed([output, other])
        assert len(vectors[0]) == len(vectors[1]) > 1
        checks = parse_checks(
            [
                {"type": "similar", "value": [other, "water oil"], "threshold": 0.999},
                {"type": "not-similar", "value": other, "threshold": 0.999},
            ],
            where="t",
        )
        case = await evaluate(checks, output, ctx)
    assert [r.passed for r in case.results] == [False, True]
    assert "below the threshold 0.999 (embeddings by local)" in case.results[0].reason


@needs_engine
async def test_llm_rubric_with_the_real_engine_as_judge(embedding_engine: Engine) -> None:
    config = RuntimeConfig(name="judge", family="openai", url=embedding_engine.url)
    async with open_runtime(config) as runtime:
        ctx = QualityContext(runtime=runtime, judge_model=str(embedding_engine.model))
        checks = parse_checks(
            [{"type": "llm-rubric", "value": "it is a polite reply", "max_tokens": 600}],
            where="t",
        )
        case = await evaluate(checks, "the team plan", ctx)
    result = case.results[0]
    # The test model writes nonsense, but the schema holds it to a grade's shape: the grade is
    # read, whatever it says, and the judge's reasoning is kept with the result.
    assert not result.error, result.reason
    assert "judge_reasoning" in result.details and result.details["judge_output"].startswith("{")
    assert result.passed == (case.passed)
    assert result.reason.startswith(f"the judge ({embedding_engine.model}) says it")
