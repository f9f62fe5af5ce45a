"""promptfoo configs the way teams write them, each written here for one thing the importer must
keep: several prompts, comparison tests, tests and vars from files, YAML read as promptfoo reads
it, every top-level key imported or listed, template errors without a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from inhouse.errors import InvalidInput
from inhouse.workflows import ImportResult, import_promptfoo, load_workflow
from inhouse.workflows.pfformat import assertion_from_text


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder / "promptfooconfig.yaml"


def imported(folder: Path, files: dict[str, str], **kw: Any) -> ImportResult:
    return import_promptfoo(write(folder, files), owner="omar", frequency="daily",
                            model="inhouse-test-model", **kw)  # fmt: skip


def test_every_prompt_becomes_a_labelled_variant(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts:
  - "Inline: {{topic}}"
  - prompts.txt
  - file://split.txt
  - prompts/*.json
  - {id: file://labelled.txt, label: careful}
tests:
  - vars: {topic: tea}
""",
        "prompts.txt": "From a bare path: {{topic}}",
        "split.txt": "First of two: {{topic}}\n---\nSecond of two: {{topic}}\n",
        "prompts/chat.json": '[{"role": "system", "content": "Be brief."},'
                             ' {"role": "user", "content": "{{topic}}?"},'
                             ' {"role": "assistant", "content": "Which aspect?"},'
                             ' {"role": "user", "content": "Its history."}]',
        "labelled.txt": "Carefully: {{topic}}",
    })  # fmt: skip
    flow = result.workflow
    assert [v.label for v in flow.variants] == [
        "prompt-1", "prompts.txt", "split.txt:1", "split.txt:2", "prompts/chat.json", "careful"
    ]  # fmt: skip
    assert flow.in_use == "prompt-1" and result.spec["use"] == "prompt-1"
    values = flow.cases[0].vars
    assert flow.messages(values, "prompts.txt")[0]["content"] == "From a bare path: tea"
    assert flow.messages(values, "split.txt:2")[0]["content"] == "Second of two: tea\n"
    chat = flow.messages(values, "prompts/chat.json")
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert "split.txt holds 2 prompts split by ---: each is a variant" in "\n".join(result.notes)
    assert result.unsupported == []


def test_a_path_label_map_and_a_missing_file_are_read_as_promptfoo_does(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts:\n  file://a.txt: short\n  file://gone.txt: lost\n"
                                "tests: [{vars: {q: x}}]\n",
        "a.txt": "Answer: {{q}}",
    })  # fmt: skip
    assert [v.label for v in result.workflow.variants] == ["short"]
    assert any("gone.txt: no such file" in item for item in result.unsupported)


def test_tests_without_assertions_are_kept_as_comparison_cases(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ["Say {{word}}", "Shout {{word}}"]
tests:
  - vars: {word: hi}
  - description: with a check
    vars: {word: yo}
    assert: [{type: icontains, value: yo}]
  - vars: {word: only-unsupported}
    assert: [{type: rouge-n, value: x}]
""",
    })  # fmt: skip
    cases = result.workflow.cases
    assert [c.comparison for c in cases] == [True, False, True]
    assert "assertion type 'rouge-n' is not supported" in "\n".join(result.unsupported)
    assert "kept as a comparison case" in "\n".join(result.notes)


CSV = """\
question,__expected,__expected2,__description,__metadata:topic,__metadata:tags[]
What is 2+2?,4,contains:4,arithmetic,maths,"easy,quick"
Capital of France?,icontains:paris,"fn:output.length < 200",geography,places,hard
Say no,not-contains:yes,,refusal,,
"""


def test_tests_from_a_csv_file_follow_promptfoo_conventions(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: ['Q: {{question}}']\ntests: file://tests.csv\n",
        "tests.csv": CSV,
    })  # fmt: skip
    assert result.spec["tests"] == ["file://tests.csv"]  # kept as a reference
    cases = {c.name: c for c in result.workflow.cases}
    assert list(cases) == ["arithmetic", "geography", "refusal"]
    first = cases["arithmetic"]
    assert [c.to_raw() for c in first.checks] == [
        {"type": "equals", "value": "4"}, {"type": "contains", "value": "4"}]  # fmt: skip
    assert first.metadata == {"topic": "maths", "tags": ["easy", "quick"]}
    assert [c.type for c in cases["geography"].checks] == ["icontains", "javascript"]
    assert [c.type for c in cases["refusal"].checks] == ["not-contains"]
    assert result.workflow.files == {"tests.csv": result.workflow.files["tests.csv"]}


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Paris", {"type": "equals", "value": "Paris"}),
        ("icontains:Paris", {"type": "icontains", "value": "Paris"}),
        ("not-regex:^no", {"type": "not-regex", "value": "^no"}),
        ("contains-any:a, b", {"type": "contains-any", "value": ["a", "b"]}),
        ("similar(0.8):Paris", {"type": "similar", "value": "Paris", "threshold": 0.8}),
        ("grade:is polite", {"type": "llm-rubric", "value": "is polite"}),
        ("javascript:output.length", {"type": "javascript", "value": "output.length"}),
        ("is-json", {"type": "is-json"}),
        ("Note: read me", {"type": "equals", "value": "Note: read me"}),
    ],
)
def test_expected_cells_are_read_as_promptfoo_reads_them(
    cell: str, expected: dict[str, Any]
) -> None:
    assert assertion_from_text(cell) == expected


def test_jsonl_yaml_globs_and_vars_files_with_defaults_are_inlined(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ["{{greeting}}, {{name}}: {{notes}}"]
defaultTest:
  vars: {greeting: Hello}
  options: {transform: output.trim()}
tests:
  - file://cases/*.yaml
  - file://more.jsonl
  - vars: file://vars/ana.yaml
""",
        "cases/a.yaml": "- vars: {name: Bo, notes: file://notes/bo.txt}\n"
                        "  assert: [{type: contains, value: Bo}]\n",
        "cases/b.yaml": "vars: {name: Cy, notes: none}\n",
        "more.jsonl": '{"vars": {"name": "Di", "notes": "n"}, "assert": [{"type": "is-json"}]}\n\n',
        "vars/ana.yaml": "name: Ana\nnotes: plain\n",
        "notes/bo.txt": "Bo likes tea.",
    })  # fmt: skip
    cases = result.workflow.cases
    assert [c.vars["name"] for c in cases] == ["Bo", "Cy", "Di", "Ana"]
    assert cases[0].vars["notes"] == "Bo likes tea."
    assert all(c.vars["greeting"] == "Hello" and c.transform == "output.trim()" for c in cases)
    # defaultTest changes what the files say, so their cases are written into the spec
    assert result.workflow.files == {}
    notes = "\n".join(result.notes)
    assert "tests[0]: file://cases/*.yaml: 2 cases written inline" in notes
    assert result.unsupported == []


def test_yaml_is_read_as_promptfoo_reads_it(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ["Reply {{body}} to {{who}} on {{day}}"]
tests:
  - vars: {body: Yes, who: no, day: 2024-01-31, flag: true}
    assert: [{type: equals, value: Yes}]
""",
    })  # fmt: skip
    case = result.workflow.cases[0]
    assert case.vars == {"body": "Yes", "who": "no", "day": "2024-01-31", "flag": True}
    assert case.checks[0].to_raw() == {"type": "equals", "value": "Yes"}


def test_every_top_level_key_is_imported_or_listed(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
description: Everything
prompts: ["{{q}}"]
targets:
  - id: ollama:chat:llama3.2
    config:
      temperature: 0.1
      tools: file://tools.json
redteam: {purpose: test, plugins: [harmful]}
filters: {shout: file://shout.js}
env: {OPENAI_API_KEY: x}
evaluateOptions: {maxConcurrency: 2}
sharing: false
someday: maybe
tests:
  - vars: {q: weather in Oslo}
    assert: [{type: is-valid-openai-tools-call}]
""",
        "tools.json": '[{"type": "function", "function": {"name": "weather",'
                      ' "parameters": {"type": "object"}}}]',
    })  # fmt: skip
    listed = "\n".join(result.unsupported)
    for key in ("redteam", "filters", "env", "evaluateOptions", "sharing", "someday"):
        assert f"{key}: not imported (" in listed, key
    assert "redteam: not imported (red teaming" in listed
    assert result.spec["parameters"]["temperature"] == 0.1
    assert result.spec["parameters"]["tools"][0]["function"]["name"] == "weather"
    assert "providers (ollama:chat:llama3.2) replaced" in "\n".join(result.notes)
    config = yaml.safe_load((tmp_path / "promptfooconfig.yaml").read_text())
    handled = {"description", "prompts", "targets", "tests"}
    assert {key for key in config if key not in handled} <= {
        item.split(":")[0] for item in result.unsupported}  # fmt: skip


def test_template_errors_name_the_file_and_line_and_never_crash(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: [file://good.txt, file://bad.txt]\n"
                                "tests: [{vars: {x: 1}}]\n",
        "good.txt": "Fine {{x}}",
        "bad.txt": "line one\n{{ x | allcaps }}",
    })  # fmt: skip
    assert [v.label for v in result.workflow.variants] == ["good.txt"]
    assert any(
        "promptfooconfig.yaml: prompts[1] (bad.txt): template error on line 2: No filter named "
        "'allcaps'"
        in item
        and "not imported" in item
        for item in result.unsupported
    )
    (tmp_path / "promptfooconfig.yaml").write_text("prompts: [file://bad.txt]\n")
    with pytest.raises(InvalidInput, match=r"needs a prompt inhouse can read.*line 2"):
        imported(tmp_path, {})


def test_grader_options_transform_and_graded_types_carry_over(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ["{{query}}"]
defaultTest:
  options:
    provider: openai:gpt-4o
    rubricPrompt: "Grade {{ output }} by {{ rubric }}"
tests:
  - vars: {query: q, context: c}
    options: {transform: file://shape.js}
    assert:
      - {type: factuality, value: ref}
      - {type: context-faithfulness}
      - {type: llm-rubric, value: kind}
      - {type: answer-relevance, threshold: 0.7}
""",
        "shape.js": "module.exports = (output) => output.trim();\n",
    })  # fmt: skip
    case = result.workflow.cases[0]
    assert [c.type for c in case.checks] == [
        "factuality", "context-faithfulness", "llm-rubric", "answer-relevance"]  # fmt: skip
    assert all(
        c.params.rubric_prompt == "Grade {{ output }} by {{ rubric }}"  # type: ignore[attr-defined]
        for c in case.checks[:3]
    )
    assert case.transform is not None and "output.trim()" in case.transform
    assert result.spec["tests"][0]["transform"] == "file://shape.js"
    assert "the grader is the workflow's judge" in "\n".join(result.notes)
    assert result.unsupported == []


def test_a_changed_test_file_is_a_new_workflow_version(tmp_path: Path) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "cases.csv").write_text(
        "ticket,__expected\nPrinter jammed,icontains:printer\n"
    )
    (tmp_path / "workflows" / "triage.yaml").write_text("""
name: triage
owner: omar
frequency: daily
model: inhouse-test-model
variables: {ticket: string}
prompt: {user: "Triage: {{ ticket }}"}
tests: file://tests/*.csv
""")  # fmt: skip
    before = load_workflow(tmp_path, "triage")
    assert [c.vars for c in before.cases] == [{"ticket": "Printer jammed"}]
    assert load_workflow(tmp_path, "triage").content_hash == before.content_hash
    with (tmp_path / "tests" / "cases.csv").open("a") as more:
        more.write("Screen flickers,icontains:screen\n")
    after = load_workflow(tmp_path, "triage")
    assert len(after.cases) == 2 and after.content_hash != before.content_hash
    (tmp_path / "tests" / "extra.csv").write_text("ticket\nNew file\n")
    assert load_workflow(tmp_path, "triage").content_hash != after.content_hash
    # a file outside the program folder, or an unknown variable, is refused by name
    (tmp_path / "tests" / "extra.csv").write_text("tickt\nNew file\n")
    with pytest.raises(InvalidInput, match=r"tests/extra.csv row 2.vars: unknown variable 'tickt'"):
        load_workflow(tmp_path, "triage")
    spec = tmp_path / "workflows" / "triage.yaml"
    spec.write_text(spec.read_text().replace("file://tests/*.csv", "file://../elsewhere.csv"))
    with pytest.raises(InvalidInput, match="points outside the folder"):
        load_workflow(tmp_path, "triage")
