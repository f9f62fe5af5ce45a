"""JavaScript checks and transforms in the embedded QuickJS sandbox: promptfoo's forms, no way out
to files or the network, and limits that stop a runaway script with a clear error."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from inhouse.checks import CaseResult, QualityContext, evaluate, parse_checks
from inhouse.checks.javascript import MEMORY_LIMIT, TIME_LIMIT_S, Script, run_script
from inhouse.errors import InvalidInput


def judge(raw: dict[str, Any], output: str, **ctx: Any) -> CaseResult:
    checks = parse_checks([raw], where="t.yaml: checks")
    return asyncio.run(evaluate(checks, output, QualityContext(**ctx)))


def test_promptfoo_forms_expression_body_module_and_async() -> None:
    ctx = {"vars": {"city": "Oslo"}, "prompt": "Weather in Oslo?"}
    expression = judge({"type": "javascript", "value": "output.includes(context.vars.city)"},
                       "Sunny in Oslo", **ctx)  # fmt: skip
    assert expression.passed and expression.results[0].reason == "the script returned true"
    body = judge(
        {"type": "javascript", "value": "if (!output) { return false; }\n"
         "return {pass: output.length < 5, score: 0.25, reason: 'too long: ' + output.length};"},
        "Sunny in Oslo",
    )  # fmt: skip
    assert not body.passed and body.score == pytest.approx(0.25)
    assert body.results[0].reason == "too long: 13"
    module = judge(
        {"type": "javascript", "function": "asks",
         "value": "module.exports.asks = (o, c) => c.prompt.endsWith('?');"},
        "x", **ctx,
    )  # fmt: skip
    assert module.passed
    asynchronous = judge(
        {"type": "javascript", "value": "module.exports = async (o) => o.length / 10;",
         "threshold": 0.5}, "1234567",
    )  # fmt: skip
    assert asynchronous.passed and asynchronous.score == pytest.approx(0.7)


@pytest.mark.parametrize(
    ("source", "said"),
    [
        ("const fs = require('fs');\nreturn fs.readFileSync('/etc/passwd', 'utf8');",
         "ReferenceError: 'require' is not defined"),
        ("return import('os').then(os => os.open('/etc/passwd'));\n",
         "could not load module 'os'"),
        ("return import('std').then(std => std.loadFile('/etc/passwd'));\n",
         "could not load module 'std'"),
        ("return fetch('http://127.0.0.1:9/');\n", "ReferenceError: 'fetch' is not defined"),
        ("return new XMLHttpRequest();\n", "ReferenceError: 'XMLHttpRequest' is not defined"),
        ("return process.env;\n", "ReferenceError: 'process' is not defined"),
    ],
)  # fmt: skip
def test_a_script_cannot_reach_files_or_the_network(source: str, said: str) -> None:
    for written in ("javascript", "not-javascript"):
        case = judge({"type": written, "value": source}, "out")
        result = case.results[0]
        assert not case.passed and result.error, result.reason
        assert said in result.reason


def test_the_sandbox_offers_nothing_that_reaches_out() -> None:
    names = ["require", "process", "fetch", "XMLHttpRequest", "std", "os", "Deno", "Bun",
             "WebSocket", "importScripts"]  # fmt: skip
    probe = "return [" + ", ".join(f"typeof {n}" for n in names) + "];\n"
    assert asyncio.run(run_script(Script(probe), "", {})) == ["undefined"] * len(names)


def test_time_and_memory_limits_stop_a_runaway_script() -> None:
    forever = judge({"type": "javascript", "value": "while (true) {}\nreturn true;"}, "x")
    assert forever.results[0].error and not forever.passed
    assert forever.results[0].reason == (
        f"javascript: the script ran past its time limit of {TIME_LIMIT_S:g} s and was stopped"
    )
    greedy = judge(
        {"type": "javascript", "value": "const a = [];\nwhile (true) { a.push('x'.repeat(1e6)); }"},
        "x",
    )
    assert greedy.results[0].error
    assert (
        f"memory limit of {MEMORY_LIMIT // 2**20} MiB and was stopped" in greedy.results[0].reason
    )
    deep = judge({"type": "javascript", "value": "function f() { return f(); }\nreturn f();"}, "x")
    assert "overflowed its stack" in deep.results[0].reason
    # the limits hold per script: the next one runs normally
    assert judge({"type": "javascript", "value": "true"}, "x").passed


def test_answers_that_are_not_a_verdict_are_errors_never_passes() -> None:
    for source, said in (
        ("'yes'", "the script returned str 'yes'"),
        ("undefined", "the script returned nothing"),
        ("({score: 'high'})", "score is a number"),
        ("module.exports = 3", "the script exports no function (got number)"),
        ("throw new Error('nope')", "the script threw Error: nope"),
        ("output.length >", "the script threw SyntaxError"),
    ):
        for written in ("javascript", "not-javascript"):
            result = judge({"type": written, "value": source}, "x").results[0]
            assert result.error and not result.passed, (source, result.reason)
            assert said in result.reason, (source, result.reason)


def test_a_transform_reshapes_the_output_for_its_check_alone() -> None:
    checks = parse_checks(
        [
            {"type": "equals", "value": "HELLO", "transform": "output.toUpperCase()"},
            {"type": "equals", "value": "hello"},
            {"type": "is-json", "transform": "({said: output})"},
            {"type": "contains", "value": "x", "transform": "while (true) {}\nreturn output;"},
        ],
        where="t",
    )
    case = asyncio.run(evaluate(checks, "hello"))
    assert [r.passed for r in case.results] == [True, True, True, False]
    assert case.results[3].error and "transform: the script ran past its time limit" in (
        case.results[3].reason
    )
    with pytest.raises(InvalidInput, match=r"t\[0\]\.transform: must be JavaScript text"):
        parse_checks([{"type": "equals", "value": "x", "transform": 3}], where="t")


def test_scripts_run_off_the_event_loop(tmp_path: Path) -> None:
    async def both() -> list[Any]:
        busy = "let n = 0;\nfor (let i = 0; i < 3e6; i++) { n += i; }\nreturn n;"
        slow = run_script(Script(busy), "", {})
        beat = asyncio.sleep(0, result="beat")
        return list(await asyncio.gather(slow, beat))

    assert asyncio.run(both())[1] == "beat"
