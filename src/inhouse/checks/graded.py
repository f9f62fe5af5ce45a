"""Model-graded checks beyond ``llm-rubric``, as promptfoo names them, all asked of the same
local judge (in a workflow: its ``judge``, a blessed model of the lock):

* ``factuality`` — the output against a reference answer (``value``): the judge picks one of
  five relations (subset, superset, same, disagrees, differs harmlessly); only a disagreement
  fails.
* ``answer-relevance`` — how well the output answers the question (the ``query`` variable, else
  the prompt sent), scored 0..1.
* ``context-faithfulness`` — the share of the output's claims the ``context`` variable supports.
* ``context-recall`` — the share of the reference (``value``) the ``context`` variable supports.
* ``context-relevance`` — the share of the ``context`` variable that bears on the ``query``.
* ``model-graded-closedqa`` — the output meets a criterion (``value``), yes or no.
* ``select-best`` — the judge picks the best of the prompt variants' outputs for the same case
  and attempt (one question, asked once for all of them); the chosen one passes.

Each asks for one JSON object held to a schema where the runtime can, and reads the answer
leniently; an answer that is not a verdict is an error result that shows what the judge said.
``threshold`` (0..1) decides where the judge gives a score; ``rubric_prompt`` (promptfoo's
``rubricPrompt``) replaces the grader's prompt with a template of yours.

``is-refusal`` needs no judge: like promptfoo's, it looks for the phrases models refuse with.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from pydantic import Field

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type
from inhouse.checks.rubric import (
    JUDGE_SCHEMA,
    call_judge,
    custom_prompt,
    not_a_grade,
    read_grade,
    verdict,
)

__all__ = ["FACTUALITY_SCHEMA", "REFUSALS", "SELECT_SCHEMA"]

_KEEP = 2000
_REASON = {"type": "string", "maxLength": 400}

FACTUALITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": _REASON, "choice": {"type": "string", "enum": list("ABCDE")}},
    "required": ["reason", "choice"],
}
SELECT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": _REASON, "best": {"type": "integer", "minimum": 0}},
    "required": ["reason", "best"],
}
_CHOICES = {
    "A": "the output is a subset of the reference and consistent with it",
    "B": "the output is a superset of the reference and consistent with it",
    "C": "the output has the same details as the reference",
    "D": "the output disagrees with the reference",
    "E": "they differ, but the differences do not matter for factuality",
}


class GradedParams(Params):
    #: the reference, criterion or rubric the type reads (see the module's list)
    value: str | None = None
    #: the score that passes (0..1); without it the judge's verdict decides
    threshold: float | None = Field(default=None, ge=0, le=1)
    #: the judge model (default: the context's judge)
    provider: str | None = None
    #: the grader's prompt, a template of ``output``, ``rubric``/``value`` and the variables
    rubric_prompt: str | None = None
    max_tokens: int = Field(default=768, ge=16)


def _var(ctx: QualityContext, name: str) -> str | None:
    value = ctx.vars.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _messages(
    params: GradedParams, output: str, ctx: QualityContext, system: str, user: str
) -> list[dict[str, str]]:
    if params.rubric_prompt:
        values = {**ctx.vars, "output": output, "completion": output, "rubric": params.value,
                  "ideal": params.value, "input": _var(ctx, "query") or ctx.prompt}  # fmt: skip
        return custom_prompt(params.rubric_prompt, values)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


Reader = Callable[[dict[str, Any] | None, str], Finding | None]


async def _ask(
    name: str,
    params: GradedParams,
    ctx: QualityContext,
    messages: list[dict[str, str]],
    schema: dict[str, Any] = JUDGE_SCHEMA,
    read: Reader | None = None,
) -> Finding:
    """Ask the judge and read a grade (``read`` reads a special shape first)."""
    if params.provider:
        ctx = replace(ctx, judge_model=params.provider)
    asked = await call_judge(ctx, messages, schema=schema, max_tokens=params.max_tokens, what=name)
    if isinstance(asked, Finding):
        return asked
    judge, said = asked
    details: dict[str, Any] = {"judge": judge, "judge_output": said[:_KEEP]}
    if read is not None:
        found = read(_first_object(said), judge)
        if found is not None:
            return Finding(found.passed, found.score, found.reason, {**details, **found.details},
                           found.error)  # fmt: skip
    grade = read_grade(said)
    if grade is None:
        expected = json.dumps(sorted(schema["properties"]))
        return not_a_grade(judge, said, expected, details)
    return verdict(grade, judge, params.threshold, details)


def _first_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for start, char in enumerate(text):
        if char == "{":
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


def _needs(name: str, ctx: QualityContext, *variables: str) -> Finding | None:
    missing = [v for v in variables if _var(ctx, v) is None]
    if missing:
        return Finding.failure(
            f"{name} reads the case's {' and '.join(repr(v) for v in missing)} "
            f"variable{'s' if len(missing) > 1 else ''}, which it does not give"
        )
    return None


def _needs_value(name: str, params: GradedParams, what: str) -> Finding | None:
    if not params.value:
        return Finding.failure(f"{name} needs value: {what}")
    return None


_SCORE_RULE = 'answer with one JSON object and nothing else: {"reason": "<why, briefly>", ' \
    '"pass": true or false, "score": <a number from 0 to 1>}.'  # fmt: skip


def _register(
    name: str, summary: str, *, relative: bool = False
) -> Callable[[Callable[..., Awaitable[Finding]]], Any]:
    return register_check_type(name, params=GradedParams, summary=summary, relative=relative)


@_register("factuality", "the judge finds it consistent with a reference answer")
async def factuality(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    missing = _needs_value("factuality", params, "the reference answer")
    if missing:
        return missing
    question = _var(ctx, "query") or ctx.prompt
    listed = "\n".join(f"({key}) {text}" for key, text in _CHOICES.items())
    system = (
        "You compare a submitted answer with an expert's reference answer to the same question, "
        "for facts only (ignore style, grammar and punctuation). Pick one:\n" + listed + "\n"
        'Answer with one JSON object and nothing else: {"reason": "<why, briefly>", '
        '"choice": "<A, B, C, D or E>"}.'
    )
    user = (
        f"<question>\n{question}\n</question>\n\n<reference>\n{params.value}\n</reference>\n\n"
        f"<submission>\n{output}\n</submission>"
    )

    def read(data: dict[str, Any] | None, judge: str) -> Finding | None:
        if data is None:
            return None
        choice = str(data.get("choice", data.get("answer", ""))).strip().upper()[:1]
        if choice not in _CHOICES:
            return None
        passed = choice != "D"
        reason = str(data.get("reason", "")).strip() or "(the judge gave no reason)"
        return Finding.of(
            passed,
            f"the judge ({judge}) chose {choice}: {_CHOICES[choice]}: {reason}",
            choice=choice,
            judge_reasoning=reason,
        )

    messages = _messages(params, output, ctx, system, user)
    return await _ask("factuality", params, ctx, messages, FACTUALITY_SCHEMA, read)


@_register("answer-relevance", "the judge scores how well it answers the question")
async def answer_relevance(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    question = _var(ctx, "query") or ctx.prompt
    if not question:
        return Finding.failure(
            "answer-relevance needs the question: a 'query' variable, or the prompt sent"
        )
    system = (
        "You judge whether an answer addresses the question asked: score 1 when it answers "
        "exactly that question, 0 when it is about something else. Then " + _SCORE_RULE
    )
    user = f"<question>\n{question}\n</question>\n\n<answer>\n{output}\n</answer>"
    messages = _messages(params, output, ctx, system, user)
    return await _ask("answer-relevance", params, ctx, messages)


@_register("context-faithfulness", "the judge finds its claims supported by the context")
async def context_faithfulness(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    missing = _needs("context-faithfulness", ctx, "query", "context")
    if missing:
        return missing
    system = (
        "You check an answer against the context it was given. List its claims to yourself; "
        "the score is the share of them the context supports (1: every claim). Then " + _SCORE_RULE
    )
    user = (
        f"<question>\n{_var(ctx, 'query')}\n</question>\n\n<context>\n{_var(ctx, 'context')}\n"
        f"</context>\n\n<answer>\n{output}\n</answer>"
    )
    messages = _messages(params, output, ctx, system, user)
    return await _ask("context-faithfulness", params, ctx, messages)


@_register("context-recall", "the judge finds the reference supported by the context")
async def context_recall(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    missing = _needs_value("context-recall", params, "the ground truth") or _needs(
        "context-recall", ctx, "context"
    )
    if missing:
        return missing
    system = (
        "You check whether a context holds what a ground-truth answer says. The score is the "
        "share of the ground truth's statements the context supports. Then " + _SCORE_RULE
    )
    user = (
        f"<context>\n{_var(ctx, 'context')}\n</context>\n\n<ground-truth>\n{params.value}\n"
        "</ground-truth>"
    )
    messages = _messages(params, output, ctx, system, user)
    return await _ask("context-recall", params, ctx, messages)


@_register("context-relevance", "the judge finds the context relevant to the question")
async def context_relevance(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    missing = _needs("context-relevance", ctx, "query", "context")
    if missing:
        return missing
    system = (
        "You judge a retrieved context for a question. The score is the share of the context's "
        "sentences needed to answer the question. Then " + _SCORE_RULE
    )
    user = f"<question>\n{_var(ctx, 'query')}\n</question>\n\n<context>\n{_var(ctx, 'context')}\n</context>"  # noqa: E501
    messages = _messages(params, output, ctx, system, user)
    return await _ask("context-relevance", params, ctx, messages)


@_register("model-graded-closedqa", "the judge says it meets a criterion (yes or no)")
async def closedqa(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    missing = _needs_value("model-graded-closedqa", params, "the criterion")
    if missing:
        return missing
    system = "You decide whether a submission meets a criterion. Then " + _SCORE_RULE
    user = (
        f"<question>\n{_var(ctx, 'query') or ctx.prompt}\n</question>\n\n<criterion>\n"
        f"{params.value}\n</criterion>\n\n<submission>\n{output}\n</submission>"
    )
    messages = _messages(params, output, ctx, system, user)
    return await _ask("model-graded-closedqa", params, ctx, messages)


@_register("select-best", "the judge picks the best of the prompt variants' outputs", relative=True)
async def select_best(params: GradedParams, output: str, ctx: QualityContext) -> Finding:
    missing = _needs_value("select-best", params, "what makes one output the best")
    if missing:
        return missing
    peers = ctx.peers or []
    if len(peers) < 2:
        return Finding.failure(
            "select-best compares the outputs of several prompt variants for the same case, "
            "and this one has no others to compare with"
        )
    shared = ctx.shared if ctx.shared is not None else {}
    key = ("select-best", params.value, tuple(peers))
    pending = shared.get(key)
    if pending is None:  # the first variant's check asks; the others wait for its answer
        pending = shared[key] = asyncio.ensure_future(_pick(params, peers, ctx))
    picked: Finding | tuple[int, str, dict[str, Any]] = await pending
    if isinstance(picked, Finding):
        return picked
    best, reason, details = picked
    chosen = best == ctx.peer_index
    said = (
        "chose this output" if chosen else f"chose output {best}, not this one ({ctx.peer_index})"
    )
    return Finding.of(chosen, f"{details['judge']} {said}: {reason}", **details)


async def _pick(
    params: GradedParams, peers: list[str], ctx: QualityContext
) -> Finding | tuple[int, str, dict[str, Any]]:
    listed = "\n\n".join(f'<output index="{i}">\n{text}\n</output>' for i, text in enumerate(peers))
    system = (
        "You compare several outputs against a criterion and pick the one that meets it best. "
        'Answer with one JSON object and nothing else: {"reason": "<why, briefly>", '
        '"best": <the index of the best output>}.'
    )
    user = f"<criterion>\n{params.value}\n</criterion>\n\n{listed}"
    messages = _messages(params, "\n\n".join(peers), ctx, system, user)
    if params.provider:
        ctx = replace(ctx, judge_model=params.provider)
    asked = await call_judge(
        ctx, messages, schema=SELECT_SCHEMA, max_tokens=params.max_tokens, what="select-best"
    )
    if isinstance(asked, Finding):
        return asked
    judge, said = asked
    details: dict[str, Any] = {"judge": judge, "judge_output": said[:_KEEP]}
    data = _first_object(said)
    best = data.get("best") if data is not None else None
    if isinstance(best, str) and best.strip().isdigit():
        best = int(best)
    if not isinstance(best, int) or isinstance(best, bool) or not 0 <= best < len(peers):
        return not_a_grade(judge, said, f'{{"reason", "best": 0..{len(peers) - 1}}}', details)
    reason = str(data.get("reason", "")).strip() if data else ""
    details["judge_reasoning"] = reason
    details["best"] = best
    return best, reason or "(the judge gave no reason)", details


#: phrases a model refuses with (lower case), as promptfoo's is-refusal looks for them
REFUSALS = (
    "i cannot", "i can't", "i can not", "i am unable", "i'm unable", "i am not able",
    "i'm not able", "i won't", "i will not", "i must decline", "i'm sorry, but",
    "i am sorry, but", "i apologize, but", "as an ai", "as a language model",
    "i'm not comfortable", "i am not comfortable", "not appropriate for me",
    "against my guidelines", "i do not feel comfortable", "cannot assist", "can't assist",
    "cannot help with", "can't help with", "unable to assist", "unable to help",
)  # fmt: skip
_SPACES = re.compile(r"\s+")


class RefusalParams(Params):
    pass


@register_check_type("is-refusal", params=RefusalParams, summary="the output refuses the task")
async def is_refusal(params: RefusalParams, output: str, ctx: QualityContext) -> Finding:
    text = _SPACES.sub(" ", output.replace("\u2019", "'")).strip().lower()
    if not text:
        return Finding.of(True, "the output is empty, which counts as a refusal")
    found = next((phrase for phrase in REFUSALS if phrase in text), None)
    if found is not None:
        return Finding.of(True, f"the output refuses ({found!r})")
    return Finding.of(False, "no refusal phrase in the output")
