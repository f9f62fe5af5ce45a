"""Every check type and its negation, weights and thresholds, and specs that are refused."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from inhouse.checks import (
    SUPPORTED_TYPES,
    CaseResult,
    Finding,
    Params,
    QualityContext,
    evaluate,
    parse_checks,
    register_check_type,
)
from inhouse.checks.function import python_checks_allowed
from inhouse.errors import ConfigError, InvalidInput, PluginError

OUTPUT = 'Dear Ana, your refund of 42 EUR is on its way. {"id": 7, "ok": true} Best, Tea Team'
JSON_OUTPUT = '{"name": "Ana", "total": 42, "items": ["tea"]}'
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "total": {"type": "number"}},
    "required": ["name", "total"],
}


def judge(
    raw: dict[str, Any], output: str = OUTPUT, ctx: QualityContext | None = None
) -> CaseResult:
    checks = parse_checks([raw], where="t.yaml: checks")
    with python_checks_allowed(True):  # these tests call the project's own check functions
        return asyncio.run(evaluate(checks, output, ctx))


TOOLS = [{"type": "function", "function": {
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"], "additionalProperties": False}}}]  # fmt: skip
TOOL_CALL = '[{"type": "function", "function": {"name": "get_weather", "arguments": %s}}]'

# (check, output, passes) — each row is run as written and negated (not-<type>)
CASES: list[tuple[dict[str, Any], str, bool]] = [
    ({"type": "equals", "value": "hello"}, "hello", True),
    ({"type": "equals", "value": "hello"}, "hello!", False),
    ({"type": "equals", "value": 42}, "42", True),
    (
        {"type": "equals", "value": {"total": 42, "name": "Ana", "items": ["tea"]}},
        JSON_OUTPUT,
        True,
    ),
    ({"type": "equals", "value": {"total": 41}}, JSON_OUTPUT, False),
    ({"type": "contains", "value": "refund"}, OUTPUT, True),
    ({"type": "contains", "value": "Refund"}, OUTPUT, False),
    ({"type": "icontains", "value": "REFUND"}, OUTPUT, True),
    ({"type": "icontains", "value": "invoice"}, OUTPUT, False),
    ({"type": "contains-all", "value": ["Ana", "refund"]}, OUTPUT, True),
    ({"type": "contains-all", "value": ["Ana", "invoice"]}, OUTPUT, False),
    ({"type": "contains-any", "value": ["invoice", "refund"]}, OUTPUT, True),
    ({"type": "contains-any", "value": ["invoice", "REFUND"]}, OUTPUT, False),
    ({"type": "icontains-all", "value": ["ANA", "REFUND"]}, OUTPUT, True),
    ({"type": "icontains-all", "value": ["ANA", "INVOICE"]}, OUTPUT, False),
    ({"type": "icontains-any", "value": ["INVOICE", "REFUND"]}, OUTPUT, True),
    ({"type": "icontains-any", "value": ["INVOICE", "RECEIPT"]}, OUTPUT, False),
    ({"type": "starts-with", "value": "Dear"}, OUTPUT, True),
    ({"type": "starts-with", "value": "Hi"}, OUTPUT, False),
    ({"type": "regex", "value": r"\d+ EUR"}, OUTPUT, True),
    ({"type": "regex", "value": r"^\d+ EUR$"}, OUTPUT, False),
    ({"type": "is-json"}, JSON_OUTPUT, True),
    ({"type": "is-json"}, OUTPUT, False),
    ({"type": "is-json", "value": SCHEMA}, JSON_OUTPUT, True),
    ({"type": "is-json", "value": SCHEMA}, '{"name": "Ana"}', False),
    ({"type": "json-schema", "value": SCHEMA}, JSON_OUTPUT, True),
    ({"type": "json-schema", "value": SCHEMA}, '{"name": 3, "total": 1}', False),
    ({"type": "json-schema", "value": SCHEMA}, "not json", False),
    ({"type": "contains-json"}, OUTPUT, True),
    ({"type": "contains-json", "value": SCHEMA}, OUTPUT, False),
    ({"type": "contains-json"}, "no braces here", False),
    ({"type": "python", "value": "tests.checks.pyfuncs:mentions_tea"}, "green tea", True),
    ({"type": "python", "value": "tests.checks.pyfuncs.mentions_tea"}, "coffee", False),
    ({"type": "python", "value": "tests.checks.pyfuncs:vowel_share"}, "aeiou", True),
    (
        {"type": "python", "value": "tests.checks.pyfuncs:vowel_share", "threshold": 0.9},
        "tab",
        False,
    ),
    ({"type": "python", "value": "tests.checks.pyfuncs:slow_yes"}, "x", True),
    ({"type": "length", "min": 3, "max": 5}, "abcd", True),
    ({"type": "length", "max": 3}, "abcd", False),
    ({"type": "length", "value": 4}, "abcd", True),
    ({"type": "length", "value": {"min": 5}}, "abcd", False),
    ({"type": "word-count", "min": 2, "max": 3}, "one two three", True),
    ({"type": "word-count", "value": {"max": 2}}, "one two three", False),
    ({"type": "levenshtein", "value": "kitten"}, "sitting", True),
    ({"type": "levenshtein", "value": "kitten", "threshold": 2}, "sitting", False),
    ({"type": "javascript", "value": "output.includes('refund')"}, OUTPUT, True),
    ({"type": "javascript", "value": "output.length > 1000"}, OUTPUT, False),
    (
        {
            "type": "javascript",
            "value": "const words = output.split(' ');\nreturn words.length / 100;",
            "threshold": 0.1,
        },
        OUTPUT,
        True,
    ),
    (
        {
            "type": "javascript",
            "value": "module.exports = (output, context) => "
            "({pass: output.startsWith('Dear'), score: 0.8, reason: 'greets ' + context.vars.who})",
        },
        OUTPUT,
        True,
    ),
    ({"type": "is-refusal"}, "I'm sorry, but I cannot help with that request.", True),
    ({"type": "is-refusal"}, OUTPUT, False),
    ({"type": "is-valid-openai-tools-call", "value": TOOLS}, TOOL_CALL % '{"city": "Oslo"}', True),
    ({"type": "is-valid-openai-tools-call", "value": TOOLS}, TOOL_CALL % '{"town": "Oslo"}', False),
    (
        {"type": "is-valid-openai-tools-call", "value": TOOLS},
        TOOL_CALL.replace("get_weather", "rm_rf") % "{}",
        False,
    ),
    ({"type": "is-valid-openai-tools-call", "value": TOOLS}, OUTPUT, False),
]


def _ids(case: tuple[dict[str, Any], str, bool]) -> str:
    return f"{case[0]['type']}-{'pass' if case[2] else 'fail'}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_each_type_passes_and_fails_as_it_says_and_negation_inverts(
    case: tuple[dict[str, Any], str, bool],
) -> None:
    raw, output, passes = case
    result = judge(raw, output).results[0]
    assert result.passed is passes, result.reason
    assert result.reason and not result.error
    assert 0 <= result.score <= 1
    negated = judge({**raw, "type": f"not-{raw['type']}"}, output).results[0]
    assert negated.type == f"not-{raw['type']}"
    assert negated.passed is not passes, negated.reason
    assert negated.score == pytest.approx(1 - result.score)


def test_every_builtin_type_is_covered_by_the_table() -> None:
    covered = {raw["type"] for raw, _, _ in CASES}
    model_based = {
        "similar",
        "llm-rubric",
        "factuality",
        "answer-relevance",
        "context-faithfulness",
        "context-recall",
        "context-relevance",
        "select-best",
        "model-graded-closedqa",
    }  # tested against the real engine
    measured = {"latency", "cost"}  # tested below with measured context
    builtin = {name for name in SUPPORTED_TYPES if not name.startswith("not-")}
    assert builtin - covered - model_based - measured == set()
    assert {f"not-{name}" for name in builtin} <= set(SUPPORTED_TYPES)


@pytest.mark.parametrize(
    ("raw", "ctx", "passes"),
    [
        ({"type": "latency", "threshold": 500}, QualityContext(latency_ms=120), True),
        ({"type": "latency", "threshold": 500}, QualityContext(latency_ms=900), False),
        ({"type": "cost", "threshold": 0.01}, QualityContext(cost=0.002), True),
        ({"type": "cost", "threshold": 0.01}, QualityContext(cost=0.5), False),
    ],
)
def test_latency_and_cost_judge_what_the_caller_measured(
    raw: dict[str, Any], ctx: QualityContext, passes: bool
) -> None:
    assert judge(raw, ctx=ctx).results[0].passed is passes
    assert judge({**raw, "type": f"not-{raw['type']}"}, ctx=ctx).results[0].passed is not passes


@pytest.mark.parametrize("kind", ["latency", "cost"])
def test_unmeasured_latency_or_cost_fails_whichever_way_it_is_written(kind: str) -> None:
    for written in (kind, f"not-{kind}"):
        case = judge({"type": written, "threshold": 1})
        assert not case.passed
        assert case.results[0].error
        assert f"no {kind} was measured" in case.results[0].reason


def test_reasons_say_what_was_found() -> None:
    assert judge({"type": "contains", "value": "refund"}).results[0].reason == (
        "found 'refund' at character 15"
    )
    missing = judge({"type": "contains-all", "value": ["Ana", "invoice", "receipt"]}).results[0]
    assert missing.reason == "missing 'invoice', 'receipt' (found 1 of 3)"
    assert missing.score == pytest.approx(1 / 3)
    assert (
        judge({"type": "length", "max": 10}).results[0].reason.endswith("above the maximum of 10")
    )
    differs = judge({"type": "equals", "value": "Dear Bob"}).results[0]
    assert "at character 5" in differs.reason
    schema = judge({"type": "json-schema", "value": SCHEMA}, '{"name": 3, "total": 1}')
    assert "name: 3 is not of type 'string'" in schema.results[0].reason
    distance = judge({"type": "levenshtein", "value": "kitten"}, "sitting").results[0]
    assert distance.details == {"distance": 3}


def test_python_function_answers_are_read_as_promptfoo_reads_them() -> None:
    ctx = QualityContext(vars={"word": "tea"})
    graded = judge({"type": "python", "value": "tests.checks.pyfuncs:graded"}, "tea", ctx)
    assert graded.passed and graded.results[0].reason == "looked for tea"
    missed = judge({"type": "python", "value": "tests.checks.pyfuncs:graded"}, "tee", ctx)
    assert not missed.passed and missed.score == pytest.approx(0.2)
    for name, said in [
        ("nope", "has no 'nope'"),  # found when it runs: reading a spec imports nothing
        ("NOT_CALLABLE", "is a int, not a function"),
        ("explodes", "raised RuntimeError: boom"),
        ("says_maybe", "returned str"),
        ("out_of_range", "scores run from 0 to 1"),
    ]:
        for prefix in ("", "not-"):
            case = judge({"type": f"{prefix}python", "value": f"tests.checks.pyfuncs:{name}"})
            assert not case.passed and case.results[0].error
            assert said in case.results[0].reason


def test_weights_and_threshold_decide_the_case() -> None:
    checks = parse_checks(
        [
            {"type": "contains", "value": "refund", "weight": 3},  # passes
            {"type": "contains", "value": "invoice"},  # fails, weight 1
            {"type": "contains", "value": "nowhere", "weight": 0},  # reported, not counted
        ],
        where="t.yaml: checks",
    )
    every = asyncio.run(evaluate(checks, OUTPUT))
    assert not every.passed  # no threshold: every counted check must pass
    assert every.score == pytest.approx(0.75)
    assert [r.passed for r in every.results] == [True, False, False]
    assert "invoice" in every.summary()
    assert asyncio.run(evaluate(checks, OUTPUT, threshold=0.75)).passed
    above = asyncio.run(evaluate(checks, OUTPUT, threshold=0.8))
    assert not above.passed and above.summary() == "score 0.75 < threshold 0.80"
    weightless = parse_checks([{"type": "contains", "value": "x", "weight": 0}], where="w")
    assert asyncio.run(evaluate(weightless, "abc")).passed


def test_a_check_that_cannot_judge_fails_the_case_even_above_threshold() -> None:
    checks = parse_checks(
        [{"type": "contains", "value": "refund", "weight": 9}, {"type": "latency", "threshold": 1}],
        where="t.yaml: checks",
    )
    case = asyncio.run(evaluate(checks, OUTPUT, threshold=0.5))
    assert case.score == pytest.approx(0.9)
    assert not case.passed
    assert case.summary().startswith("latency could not judge: no latency was measured")


def test_threshold_outside_0_to_1_is_refused() -> None:
    with pytest.raises(InvalidInput, match="threshold must be between 0 and 1"):
        asyncio.run(evaluate([], "x", threshold=1.5))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("contains", "t.yaml: checks[0]: a check is a mapping with a 'type', got str"),
        ({"value": "x"}, "t.yaml: checks[0].type: missing"),
        (
            {"type": "contians", "value": "x"},
            "unknown check type 'contians' (did you mean contains",
        ),
        ({"type": "not-contians", "value": "x"}, "t.yaml: checks[0].type: unknown check type"),
        ({"type": "contains"}, "t.yaml: checks[0].value: missing: contains needs 'value'"),
        ({"type": "contains", "value": "x", "vaule": 1}, "checks[0].vaule: contains does not take"),
        (
            {"type": "contains", "value": "x", "weight": -1},
            "checks[0].weight: must be a number ≥ 0",
        ),
        ({"type": "contains", "value": "x", "weight": "2"}, "checks[0].weight: must be a number"),
        ({"type": "contains-any", "value": []}, "checks[0].value: contains-any:"),
        ({"type": "regex", "value": "(unclosed"}, "checks[0].value: regex: not a valid regular"),
        (
            {"type": "json-schema", "value": {"type": "nope"}},
            "value: json-schema: not a valid JSON",
        ),
        ({"type": "length"}, "checks[0]: length: give min, max or both"),
        ({"type": "length", "min": 5, "max": 2}, "min (5) is above max (2)"),
        ({"type": "word-count", "value": "many"}, "value must be a whole number or {min, max}"),
        ({"type": "levenshtein", "value": "x", "threshold": -1}, "checks[0].threshold:"),
        ({"type": "latency"}, "checks[0].threshold: missing: latency needs 'threshold'"),
        ({"type": "python", "value": "no_such_module_xyz:f"}, "cannot import module"),
        ({"type": "python", "value": "builtins:eval"}, "is in Python's standard library"),
        ({"type": "python", "value": "runpy:run_path"}, "is in Python's standard library"),
        ({"type": "python", "value": "os.path:exists"}, "is in Python's standard library"),
        ({"type": "python", "value": "justaname"}, "not a dotted path to a function"),
        ({"type": "similar", "value": "x", "threshold": 2}, "checks[0].threshold:"),
        ({"type": "llm-rubric", "value": ""}, "checks[0]: llm-rubric: needs 'value'"),
        ({"type": "llm-rubric"}, "or a rubric_prompt that holds the whole grading instruction"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(raw: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_checks([raw], where="t.yaml: checks")
    assert message in str(caught.value)


def test_checks_must_be_a_list() -> None:
    with pytest.raises(InvalidInput, match=r"t\.yaml: checks: checks are a list"):
        parse_checks({"type": "contains"}, where="t.yaml: checks")
    assert parse_checks(None, where="t.yaml: checks") == []


def test_specs_round_trip_and_describe_themselves() -> None:
    raw = [
        {"type": "not-icontains-any", "value": ["a", "b"], "weight": 2, "metric": "tone"},
        {"type": "length", "max": 40},
    ]
    checks = parse_checks(raw, where="t")
    assert [c.to_raw() for c in checks] == raw
    assert checks[0].negate and checks[0].base == "icontains-any"
    assert checks[0].describe() == 'not-icontains-any ["a", "b"]'
    assert checks[1].describe() == "length max=40"


class _Tag(Params):
    value: str


def test_a_plugin_type_registers_through_the_same_seam_and_gets_a_negation() -> None:
    @register_check_type("has-tag-test", params=_Tag, summary="a <tag> appears")
    async def has_tag(params: _Tag, output: str, ctx: QualityContext) -> Finding:
        return Finding.of(f"<{params.value}>" in output, f"looked for <{params.value}>")

    assert judge({"type": "has-tag-test", "value": "b"}, "<b>x</b>").passed
    assert not judge({"type": "not-has-tag-test", "value": "b"}, "<b>x</b>").passed
    with pytest.raises(PluginError, match=r"'has-tag-test' is registered twice: by .*has_tag and"):

        @register_check_type("has-tag-test", params=_Tag, summary="again")
        async def other(params: _Tag, output: str, ctx: QualityContext) -> Finding:
            return Finding.of(True, "")

    with pytest.raises(ConfigError, match="must not start with 'not-'"):
        register_check_type("not-mine", params=_Tag, summary="")


def test_reading_a_python_check_runs_none_of_its_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A spec is read on anyone's machine (a colleague rerunning a workflow): its module is
    found on the path, never imported, until the check runs, and only where Python checks are
    allowed."""
    package = tmp_path / "theirs"
    package.mkdir()
    marker = tmp_path / "ran"
    (package / "__init__.py").write_text(
        f"import pathlib\np = pathlib.Path({str(marker)!r})\np.write_text('package ')\n"
    )
    (package / "judge.py").write_text(
        f"import pathlib\np = pathlib.Path({str(marker)!r})\n"
        "p.write_text(p.read_text() + 'module ')\n"
        "def yes(output, context):\n    return True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    raw = {"type": "python", "value": "theirs.judge:yes"}
    checks = parse_checks([raw], where="t.yaml: checks")
    assert not marker.exists()
    refused = asyncio.run(evaluate(checks, "x", None))  # closed unless a runner opens it
    assert not refused.passed and "was not run" in refused.results[0].reason
    assert "--trust-python" in refused.results[0].reason and not marker.exists()
    with python_checks_allowed(True):
        assert asyncio.run(evaluate(checks, "x", None)).passed
    assert marker.read_text() == "package module "


@pytest.mark.parametrize(
    "path", ["rich.pretty:builtins.eval", "inhouse.checks.function:import_module"]
)
def test_a_standard_library_function_reached_through_another_module_is_no_check(
    path: str, tmp_path: Path
) -> None:
    """What runs is judged, not the path that reached it: eval through a third-party module's
    own `builtins` (the answer would run as Python), or a function a module imported."""
    marker = tmp_path / "ran"
    answer = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    result = judge({"type": "python", "value": path}, answer)
    assert not result.passed and "standard library" in result.results[0].reason
    assert not marker.exists()
