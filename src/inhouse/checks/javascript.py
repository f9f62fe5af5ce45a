"""JavaScript in checks, run in an embedded QuickJS engine: the ``javascript`` check and the
``transform`` of an output before its checks (promptfoo's ``transform``).

No Node is needed, and the script cannot reach out: QuickJS as embedded here has no ``require``,
no ``std``/``os`` modules, no ``fetch`` and no module loader, so it sees only the output and the
context it is handed. Each script gets a fresh engine with a time limit
(:data:`TIME_LIMIT_S`) and a memory limit (:data:`MEMORY_LIMIT`); a script that runs past
either is stopped and the check fails saying which.

A script is written as promptfoo writes it:

* an expression (``output.length < 500``), or a function body with ``return``
  (several lines), called with ``output`` and ``context`` (``vars``, and for checks
  ``prompt``);
* a CommonJS module (``module.exports = (output, context) => …``, or an object of functions
  with ``function:`` naming one), which is what ``file://checks.js:name`` references become when
  a workflow loads.

It answers a bool (pass/fail), a number (a score that passes at ``threshold``, else when above
zero) or an object ``{pass, score, reason}``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import Field

from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type
from inhouse.errors import InvalidInput

__all__ = ["MEMORY_LIMIT", "TIME_LIMIT_S", "Script", "run_script", "transform_output"]

#: seconds a script may run before it is stopped
TIME_LIMIT_S = 2.0
#: bytes of memory a script may allocate
MEMORY_LIMIT = 64 * 1024 * 1024
_STACK = 1024 * 1024


_RETURN = re.compile(r"\breturn\b")
_STATEMENT = re.compile(r"^(?:throw|if|const|let|var|for|while|do|switch|try|function)\b")


class Script:
    """A script as written (``source``) and the exported function to call, if it is a module."""

    def __init__(self, source: str, function: str | None = None) -> None:
        self.source = source
        self.function = function

    @property
    def is_module(self) -> bool:
        return "module.exports" in self.source or "exports." in self.source

    def program(self) -> str:
        """JavaScript that evaluates to the function to call with ``(output, context)``."""
        if self.is_module:
            pick = (
                f"__m.exports[{json.dumps(self.function)}]"
                if self.function
                else "(typeof __m.exports === 'function' ? __m.exports "
                ": (__m.exports && __m.exports.default) || __m.exports)"
            )
            return (
                "(function(){ var module = {exports: {}}; var exports = module.exports;\n"
                f"{self.source}\n;var __m = module; return {pick}; }})()"
            )
        body = self.source.strip()
        lines = [line for line in body.splitlines() if line.strip()]
        if len(lines) == 1 and not _RETURN.search(body) and not _STATEMENT.match(body):
            body = f"return ({body.rstrip(';')});"
        return f"(function(output, context) {{\n{body}\n}})"


def _plain(value: Any) -> Any:
    """Context values as JSON can carry them (dates and the like become text)."""
    return json.loads(json.dumps(value, default=str))


def _run_sync(script: Script, output: Any, context: Mapping[str, Any]) -> Any:
    import quickjs  # type: ignore[import-untyped]

    engine = quickjs.Context()
    engine.set_memory_limit(MEMORY_LIMIT)
    engine.set_time_limit(TIME_LIMIT_S)
    engine.set_max_stack_size(_STACK)
    try:
        func = engine.eval(script.program())
        caller = engine.eval(_CALL)
        answer = caller(func, engine.parse_json(json.dumps(output)),
                        engine.parse_json(json.dumps(_plain(dict(context)))))  # fmt: skip
        if answer == _PENDING:  # an async function: run its jobs (bounded by the time limit)
            while engine.execute_pending_job():
                pass
            failed = engine.eval("globalThis.__failed")
            if failed is not None:
                raise InvalidInput(_explain(str(failed)))
            answer = engine.eval("globalThis.__settled")
            if answer is None:
                raise InvalidInput("the script's promise never settled")
    except quickjs.JSException as err:
        raise InvalidInput(_explain(str(err))) from None
    finally:
        del engine
    return None if answer is None else json.loads(answer)


_PENDING = "__inhouse: a promise, pending__"
_CALL = (
    "(function(f, o, c) { if (typeof f !== 'function') "
    "throw new TypeError('the script exports no function' + "
    "(typeof f === 'undefined' ? '' : ' (got ' + typeof f + ')')); "
    "var r = f(o, c); "
    "if (r && typeof r.then === 'function') { r.then("
    "function(v) { globalThis.__settled = JSON.stringify(v === undefined ? null : v); }, "
    "function(e) { globalThis.__failed = String(e); }); return " + json.dumps(_PENDING) + "; } "
    "return JSON.stringify(r === undefined ? null : r); })"
)


def _explain(message: str) -> str:
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    if "interrupted" in first:
        return f"the script ran past its time limit of {TIME_LIMIT_S:g} s and was stopped"
    if "out of memory" in first:
        return (
            f"the script ran past its memory limit of {MEMORY_LIMIT // (1024 * 1024)} MiB "
            "and was stopped"
        )
    if "stack overflow" in first:
        return "the script overflowed its stack and was stopped"
    return f"the script threw {first}"


async def run_script(script: Script, output: Any, context: Mapping[str, Any]) -> Any:
    """What ``script`` returns for ``output`` (JSON values both ways), in a fresh sandbox off the
    event loop; an :class:`InvalidInput` saying why when it throws, runs too long or too big."""
    return await asyncio.to_thread(_run_sync, script, output, context)


async def transform_output(script: Script, output: str, context: Mapping[str, Any]) -> str:
    """The output after ``transform`` (text stays text; anything else becomes its JSON)."""
    value = await run_script(script, output, context)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class JavascriptParams(Params):
    #: an expression, a function body, or a CommonJS module's source
    value: str = Field(min_length=1)
    #: with a module that exports several functions, the one to call
    function: str | None = None
    #: the score a numeric answer needs to pass (default: above 0)
    threshold: float | None = None


@register_check_type(
    "javascript", params=JavascriptParams, summary="a JavaScript expression or function judges it"
)
async def javascript(params: JavascriptParams, output: str, ctx: QualityContext) -> Finding:
    context = {"vars": dict(ctx.vars), "prompt": ctx.prompt}
    try:
        answer = await run_script(Script(params.value, params.function), output, context)
    except InvalidInput as err:
        return Finding.failure(f"javascript: {err}")
    return _interpret(params, answer)


def _interpret(params: JavascriptParams, answer: Any) -> Finding:
    if isinstance(answer, bool):
        return Finding.of(answer, f"the script returned {str(answer).lower()}")
    if isinstance(answer, int | float):
        return _scored(float(answer), None, params.threshold, None)
    if isinstance(answer, Mapping):
        passed = answer.get("pass", answer.get("passed"))
        score = answer.get("score")
        if passed is not None and not isinstance(passed, bool):
            return Finding.failure(f"the script returned pass={passed!r}; pass is true or false")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            return Finding.failure(f"the script returned score={score!r}; score is a number")
        if passed is None and score is None:
            return Finding.failure(f"the script returned an object without pass or score: {answer}")
        return _scored(None if score is None else float(score), passed, params.threshold,
                       answer.get("reason"))  # fmt: skip
    shown = "nothing" if answer is None else f"{type(answer).__name__} {str(answer)[:60]!r}"
    return Finding.failure(
        f"the script returned {shown}; a check script returns true/false, a number, or "
        "{pass, score, reason}"
    )


def _scored(
    score: float | None, passed: bool | None, threshold: float | None, reason: Any
) -> Finding:
    if passed is None:
        assert score is not None
        passed = score >= threshold if threshold is not None else score > 0
    if score is None:
        score = 1.0 if passed else 0.0
    bar = f"passes at {threshold:g}" if threshold is not None else "passes above 0"
    said = str(reason) if reason else f"the script scored {score:g} ({bar})"
    return Finding(passed, min(max(score, 0.0), 1.0), said, {"script_score": score})
