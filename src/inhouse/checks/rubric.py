"""The ``llm-rubric`` check: a local judge model grades the output against a rubric.

The judge is asked for one JSON object ``{"reason", "pass", "score"}``, and where the runtime
can constrain its output to a JSON Schema (llama.cpp, llama-cpp-python, vLLM, Ollama all can)
it is held to that shape; a runtime that refuses the constraint is asked again without it. The
answer is read leniently (code fences, text around the JSON, ``passed``/``verdict`` spellings,
a last line that says PASS or FAIL); an answer that still cannot be read is a clear error, with
what the judge said kept in the result. The judge's reasoning is always kept there too.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from pydantic import Field, model_validator

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type
from inhouse.errors import RuntimeBadResponse

__all__ = [
    "JUDGE_SCHEMA",
    "Grade",
    "call_judge",
    "custom_prompt",
    "judge_messages",
    "not_a_grade",
    "read_grade",
    "verdict",
]

_DEFAULT_THRESHOLD = 0.5
_KEEP = 2000  # characters of the judge's raw answer kept in the result
_REASON_CHARS = 400

JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        # bounded, so a judge held to the schema always gets to its verdict
        "reason": {"type": "string", "maxLength": _REASON_CHARS},
        "pass": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
    },
    "required": ["reason", "pass", "score"],
}

_SYSTEM = (
    "You grade an output against a rubric. Think about whether the output meets the rubric, "
    'then answer with one JSON object and nothing else: {"reason": "<why, briefly>", '
    '"pass": true or false, "score": <a number from 0 to 1>}.'
)


class RubricParams(Params):
    #: what a good output does, in words (may be left out when ``rubric_prompt`` holds the
    #: whole grading instruction, as promptfoo allows)
    value: str = ""
    #: the score that passes; without it the judge's ``pass`` decides
    threshold: float | None = Field(default=None, ge=0, le=1)
    #: the judge model (default: the context's judge model)
    provider: str | None = None
    #: room for the reason (at most 400 characters) and the verdict
    max_tokens: int = Field(default=768, ge=16)
    #: promptfoo's ``rubricPrompt``: the grader's prompt, a template of ``output``, ``rubric``
    #: and the case's variables
    rubric_prompt: str | None = None

    @model_validator(mode="after")
    def _has_a_rubric(self) -> RubricParams:
        if not self.value.strip() and not self.rubric_prompt:
            raise ValueError(
                "needs 'value' (what a good output does), or a rubric_prompt that holds the "
                "whole grading instruction"
            )
        return self


def judge_messages(rubric: str, output: str) -> list[dict[str, str]]:
    """The conversation the judge sees."""
    user = f"<rubric>\n{rubric}\n</rubric>\n\n<output>\n{output}\n</output>"
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


class Grade:
    """A judge's answer, read: pass (if it said), score (if it said) and its reasoning."""

    def __init__(self, passed: bool | None, score: float | None, reason: str) -> None:
        self.passed = passed
        self.score = score
        self.reason = reason


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
_VERDICT_LINE = re.compile(
    r"^\W*(?:(?:final\s+)?(?:verdict|grade|result|answer)\s*[:=-]?\s*)?(pass(?:ed)?|fail(?:ed)?)\W*$",
    re.IGNORECASE,
)
_SCORE_LINE = re.compile(r"^\W*score\s*[:=]\s*([01](?:\.\d+)?)\W*$", re.IGNORECASE)
_TRUE = {"true", "yes", "pass", "passed", "1"}
_FALSE = {"false", "no", "fail", "failed", "0"}


def _objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object in ``text``: fenced blocks first, then any ``{…}`` that parses."""
    found: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for chunk in [*_FENCE.findall(text), text]:
        for start, char in enumerate(chunk):
            if char != "{":
                continue
            try:
                value, _ = decoder.raw_decode(chunk, start)
            except ValueError:
                continue
            if isinstance(value, dict):
                found.append(value)
    return found


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if 0 <= number <= 1 else None


def _from_object(data: dict[str, Any]) -> Grade | None:
    keys = {str(key).lower(): value for key, value in data.items()}
    passed = next(
        (_flag(keys[k]) for k in ("pass", "passed", "verdict", "grade") if k in keys), None
    )
    score = _number(keys["score"]) if "score" in keys else None
    if passed is None and score is None:
        return None
    reason = next(
        (str(keys[k]) for k in ("reason", "reasoning", "explanation", "rationale") if k in keys),
        "",
    )
    return Grade(passed, score, reason)


def read_grade(text: str) -> Grade | None:
    """Read a judge's answer; None when it says neither pass/fail nor a score we can trust."""
    for data in _objects(text):
        grade = _from_object(data)
        if grade is not None:
            return grade
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return None
    verdict = _VERDICT_LINE.match(lines[-1])
    score_line = next((m for m in map(_SCORE_LINE.match, reversed(lines)) if m), None)
    if verdict is None and score_line is None:
        return None
    passed = verdict.group(1).lower().startswith("pass") if verdict else None
    score = float(score_line.group(1)) if score_line else None
    if score is not None and not 0 <= score <= 1:
        score = None
    if passed is None and score is None:
        return None
    body = lines[:-1] if verdict else lines
    return Grade(passed, score, "\n".join(body))


async def call_judge(
    ctx: QualityContext,
    messages: list[dict[str, str]],
    *,
    schema: dict[str, Any],
    max_tokens: int,
    what: str,
) -> tuple[str, str] | Finding:
    """Ask the context's judge (a blessed model) ``messages``, held to ``schema`` where the
    runtime can; (the judge's name, what it said), or a failed :class:`Finding` when there is
    no judge to ask. ``what`` names the check in that finding."""
    from inhouse.runtimes.protocol import ChatMessage, ChatRequest

    if ctx.runtime is None:
        return Finding.failure(
            f"{what} needs a judge: a runtime and model (a blessed model of the baseline), "
            "and none was given to this check"
        )
    request = ChatRequest(
        model=ctx.judge_model,
        messages=[ChatMessage(**m) for m in messages],
        temperature=0,
        max_tokens=max_tokens,
        response_format={"type": "json_object", "schema": schema},
    )
    try:
        reply = await ctx.runtime.chat(request)
    except RuntimeBadResponse as fault:
        if not any(f"HTTP {status}" in str(fault) for status in (400, 422)):
            raise
        # This runtime does not take a schema for the answer: ask plainly, read leniently.
        reply = await ctx.runtime.chat(request.model_copy(update={"response_format": None}))
    return ctx.judge_model or reply.model or ctx.runtime.name, reply.text


def custom_prompt(template: str, values: dict[str, Any]) -> list[dict[str, str]]:
    """promptfoo's ``rubricPrompt``: the grader's messages from a template of yours (text, or
    a JSON list of chat messages), rendered in a sandbox with ``output``, ``rubric`` and the
    case's variables."""
    from jinja2 import TemplateError
    from jinja2.sandbox import SandboxedEnvironment

    environment = SandboxedEnvironment(autoescape=False)
    environment.filters["dump"] = lambda value: json.dumps(value, default=str)
    try:
        text = environment.from_string(template).render(values)
    except TemplateError as err:
        raise ValueError(f"rubric-prompt: template error: {err}") from None
    try:
        chat = json.loads(text)
    except ValueError:
        return [{"role": "user", "content": text}]
    if isinstance(chat, list) and all(
        isinstance(m, dict) and {"role", "content"} <= set(m) for m in chat
    ):
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in chat]
    return [{"role": "user", "content": text}]


def verdict(grade: Grade, judge: str, threshold: float | None, details: dict[str, Any]) -> Finding:
    """A finding from a read grade: the threshold decides where there is a score, else the
    judge's pass."""
    details["judge_reasoning"] = grade.reason
    if threshold is not None and grade.score is not None:
        passed = grade.score >= threshold
    elif grade.passed is not None:
        passed = grade.passed
    else:
        assert grade.score is not None
        passed = grade.score >= _DEFAULT_THRESHOLD
    score = grade.score if grade.score is not None else (1.0 if passed else 0.0)
    reasoning = grade.reason.strip() or "(the judge gave no reason)"
    word = "passes" if passed else "fails"
    return Finding(
        passed, score, f"the judge ({judge}) says it {word} ({score:.2f}): {reasoning}", details
    )


def not_a_grade(judge: str, said: str, expected: str, details: dict[str, Any]) -> Finding:
    return Finding.failure(
        f"the judge ({judge}) answered something that is not a grade: expected JSON "
        f"{expected}, got {said[:120]!r}",
        **details,
    )


@register_check_type(
    "llm-rubric", params=RubricParams, summary="a local judge model grades it against a rubric"
)
async def llm_rubric(params: RubricParams, output: str, ctx: QualityContext) -> Finding:
    if params.rubric_prompt:
        try:
            messages = custom_prompt(
                params.rubric_prompt, {**ctx.vars, "output": output, "rubric": params.value}
            )
        except ValueError as err:
            return Finding.failure(str(err))
    else:
        messages = judge_messages(params.value, output)
    if params.provider:
        ctx = replace(ctx, judge_model=params.provider)
    asked = await call_judge(
        ctx, messages, schema=JUDGE_SCHEMA, max_tokens=params.max_tokens, what="llm-rubric"
    )
    if isinstance(asked, Finding):
        return asked
    judge, said = asked
    details: dict[str, Any] = {"judge": judge, "judge_output": said[:_KEEP]}
    grade = read_grade(said)
    if grade is None:
        return not_a_grade(judge, said, '{"reason", "pass", "score"}', details)
    return verdict(grade, judge, params.threshold, details)
