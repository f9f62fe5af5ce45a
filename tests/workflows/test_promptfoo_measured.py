"""What running the importer over promptfoo's public examples showed it lacked, each written
here as a config of our own: the ``load`` filter, a prompt ending in ``?``, a test file named
twice, CSV rows with an empty ``__threshold`` or ``__config:`` columns, prompts kept by a service,
prompts in a CSV file or written as ``messages``, ``llm-rubric`` graded by a ``rubricPrompt``
alone, ``$ref`` assertion templates, and provider settings imported or listed.
(``benchmarks/promptfoo_examples.py`` is the measurement itself.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inhouse.checks import parse_check
from inhouse.errors import InvalidInput
from inhouse.workflows import ImportResult, import_promptfoo
from inhouse.workflows.template import render


def imported(folder: Path, files: dict[str, str]) -> ImportResult:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return import_promptfoo(folder / "promptfooconfig.yaml", owner="omar", frequency="daily",
                            model="inhouse-test-model")  # fmt: skip


def test_the_load_filter_reads_a_json_variable(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: [file://prompts.txt]\ntests: file://tests.csv\n",
        "prompts.txt": "Tone: {{ (style | load).tone }}\nSay {{ body }}\n---\nPlain: {{ style }}\n",
        "tests.csv": 'body,style\nhello,"{""tone"": ""formal""}"\n',
    })  # fmt: skip
    assert not result.unsupported
    flow = result.workflow
    assert [v.label for v in flow.variants] == ["prompts.txt:1", "prompts.txt:2"]
    [case] = flow.cases
    assert flow.messages(case.vars, "prompts.txt:1")[0]["content"] == "Tone: formal\nSay hello"
    assert render("{{ (x | load)[1] }}", {"x": [0, 7]}, where="w") == "7"  # data passes as is


def test_the_load_filter_refuses_text_that_is_not_json_by_name() -> None:
    with pytest.raises(InvalidInput, match=r"^prompt.user: the load filter needs JSON text, got "
                                           r"'tone: formal'"):  # fmt: skip
        render("{{ (x | load).tone }}", {"x": "tone: formal"}, where="prompt.user")


def test_a_prompt_with_a_question_mark_or_brackets_is_text_not_a_glob(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: ['Hello! How are you?', 'Rate [1-5]: {{x}}', "
                                "'prompt?.txt']\ntests: [{vars: {x: tea}}]\n",
        "prompt1.txt": "From the glob: {{x}}",
    })  # fmt: skip
    flow = result.workflow
    # text stays text; one that names a prompt file (by its suffix) is a path, and a glob
    assert [v.label for v in flow.variants] == ["prompt-1", "prompt-2", "prompt1.txt"]
    values = flow.cases[0].vars
    assert flow.messages(values, "prompt-1")[0]["content"] == "Hello! How are you?"
    assert flow.messages(values, "prompt-2")[0]["content"] == "Rate [1-5]: tea"
    assert not result.unsupported


def test_a_test_file_named_twice_gives_its_tests_twice_under_names_of_their_own(
    tmp_path: Path,
) -> None:
    files = {
        "promptfooconfig.yaml": "prompts: ['{{topic}}']\n"
                                "tests: [file://tests/two.yaml, 'file://tests/*', "
                                "{vars: {topic: inline}}]\n",
        "tests/one.yaml": "- vars: {topic: a}\n",
        "tests/two.yaml": "- vars: {topic: b}\n  assert: [{type: contains, value: b}]\n"
                          "- vars: {topic: c}\n",
    }  # fmt: skip
    result = imported(tmp_path, files)
    names = [case.name for case in result.workflow.cases]
    assert len(names) == len(set(names)) == 6
    assert [case.vars["topic"] for case in result.workflow.cases] == [
        "b", "c", "a", "b", "c", "inline"]  # fmt: skip
    assert result.spec["tests"][0] == "file://tests/two.yaml"  # the first stays a reference
    # and with a defaultTest, every file is written inline, still under names of its own
    files["promptfooconfig.yaml"] += "defaultTest: {vars: {extra: x}}\n"
    names = [case.name for case in imported(tmp_path, files).workflow.cases]
    assert len(names) == len(set(names)) == 6


def test_csv_rows_with_empty_cells_config_columns_and_escaped_commas(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: ['{{q}}']\ntests: file://tests.csv\n",
        "tests.csv": "q,__expected1,__expected2,__threshold,__metadata:tags[],"
                     "__config:__expected:threshold,__config:__expected2:threshold\n"
                     '"one","llm-rubric:is kind","contains:one",,"a\\,b,c",0.7,\n'
                     '"two","llm-rubric:is kind","contains:two","0","x",,0.9\n',
    })  # fmt: skip
    first, second = result.workflow.cases
    assert first.threshold is None and second.threshold == 0
    assert first.metadata == {"tags": ["a,b", "c"]}
    assert [c.to_raw() for c in first.checks] == [
        {"type": "llm-rubric", "value": "is kind", "threshold": 0.7, "max_tokens": 768},
        {"type": "contains", "value": "one"}]  # fmt: skip
    # a threshold on a check without a score is dropped as promptfoo ignores it, and said
    assert [c.to_raw() for c in second.checks][1] == {"type": "contains", "value": "two"}
    assert any("threshold 0.9 dropped: contains passes or fails without a score" in note
               for note in result.notes)  # fmt: skip
    assert not result.unsupported


def test_a_config_column_for_an_assertion_the_row_lacks_is_listed(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: ['{{q}}']\ntests: file://tests.csv\n",
        "tests.csv": "q,__expected,__config:__expected3:threshold,__config:bad\n"
                     "one,contains:one,0.5,1\n",
    })  # fmt: skip
    assert len(result.workflow.cases) == 1
    assert result.unsupported == [
        "tests.csv row 2: column __config:bad is not a promptfoo column inhouse reads",
        "tests.csv row 2: column __config:__expected3:threshold names an assertion the row does "
        "not have",
    ]


def test_prompts_kept_by_a_service_are_listed_not_taken_as_text(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: ['pf://support:production', 'langfuse://greeting@3', "
                                "'Hi {{name}}']\ntests: [{vars: {name: Ada}}]\n",
    })  # fmt: skip
    assert result.spec["prompt"] == {"user": "Hi {{name}}"}
    services = ((0, "pf://support:production", "pf"), (1, "langfuse://greeting@3", "langfuse"))
    assert result.unsupported == [
        f"prompts[{i}]: {ref}: not imported (a prompt kept by a service ({scheme}://) is not "
        "fetched; put its text in a file and name that)"
        for i, ref, scheme in services
    ]


def test_prompts_from_a_csv_file_with_or_without_a_header(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": "prompts: [file://prompts.csv, file://bare.csv]\n"
                                "tests: [{vars: {topic: tea}}]\n",
        "prompts.csv": 'prompt,label\n"Tell me about {{topic}}",Basic\n'
                       '"[{""role"": ""system"", ""content"": ""Be academic.""}, '
                       '{""role"": ""user"", ""content"": ""Explain {{topic}}""}]",Academic\n'
                       '"Poem on {{topic}}",\n',
        "bare.csv": "Just {{topic}}\n",
    })  # fmt: skip
    flow = result.workflow
    assert [v.label for v in flow.variants] == ["Basic", "Academic", "prompts.csv:3", "bare.csv:1"]
    values = flow.cases[0].vars
    assert flow.messages(values, "Academic") == [
        {"role": "system", "content": "Be academic."},
        {"role": "user", "content": "Explain tea"},
    ]
    assert flow.messages(values, "bare.csv:1")[0]["content"] == "Just tea"
    assert not result.unsupported


def test_prompts_written_as_messages_read_their_files_and_refuse_scripts(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts:
  - label: files
    messages:
      - {role: system, content: file://system.j2}
      - {role: user, content: 'Explain {{ topic }}'}
  - label: scripted
    messages:
      - {role: user, content: file://turn.js}
  - file://prompt.yaml
tests: [{vars: {topic: tides, domain: physics}}]
""",
        "system.j2": "You teach {{ domain }}.",
        "turn.js": "module.exports = () => 'hi';",
        "prompt.yaml": "messages:\n  - role: system\n    content:\n      - {type: text, text: "
                       "Be concise, cache_control: {type: ephemeral}}\n  - role: user\n"
                       "    content: [{type: text, text: 'Riddle: {{ topic }}'}]\n",
    })  # fmt: skip
    flow = result.workflow
    assert [v.label for v in flow.variants] == ["files", "prompt.yaml"]
    values = flow.cases[0].vars
    assert flow.messages(values, "files") == [
        {"role": "system", "content": "You teach physics."},
        {"role": "user", "content": "Explain tides"}]  # fmt: skip
    assert flow.messages(values, "prompt.yaml")[1] == {"role": "user", "content": "Riddle: tides"}
    assert result.unsupported == [
        "prompts[1].messages[0]: file://turn.js: a message made by a script is code inhouse "
        "does not run; the prompt was not imported"
    ]
    assert any("cache_control of its text parts dropped" in note for note in result.notes)


def test_llm_rubric_without_a_value_is_graded_by_the_rubric_prompt(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ['Talk about {{topic}}']
defaultTest:
  options:
    rubricPrompt:
      - {role: system, content: 'Did it mention {{x}}? Answer as JSON {pass, score, reason}'}
      - {role: user, content: 'Output: {{ output }}'}
tests:
  - vars: {topic: the economy, x: the Federal Reserve}
    assert: [{type: llm-rubric, threshold: 0}]
""",
    })  # fmt: skip
    [case] = result.workflow.cases
    [check] = case.checks
    assert check.type == "llm-rubric" and not case.comparison
    assert "Did it mention {{x}}?" in (check.params.rubric_prompt or "")
    assert not result.unsupported
    # without a rubric prompt, a rubric without a value is still refused by name
    with pytest.raises(InvalidInput, match="llm-rubric: needs 'value'"):
        parse_check({"type": "llm-rubric", "threshold": 0}, where="w")


def test_assertion_templates_are_used_where_a_ref_names_them(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ['Say {{x}}']
assertionTemplates:
  pirate: {type: icontains, value: arrr}
tests:
  - vars: {x: hi}
    assert:
      - $ref: '#/assertionTemplates/pirate'
      - $ref: '#/assertionTemplates/missing'
""",
    })  # fmt: skip
    [case] = result.workflow.cases
    assert [c.to_raw() for c in case.checks] == [{"type": "icontains", "value": "arrr"}]
    assert result.unsupported == [
        "tests[0].assert[1]: $ref '#/assertionTemplates/missing' names no assertion template "
        "in assertionTemplates"
    ]


def test_provider_settings_are_imported_or_listed(tmp_path: Path) -> None:
    config = """
prompts: ['{{q}}']
providers:
  - id: ollama:chat:llama3
    config:
      num_predict: 256
      top_k: 20
      temperature: 0.1
      baseUrl: http://localhost:11434
      response_format: {type: json_object}
      thinking: {type: enabled}
tests: [{vars: {q: hi}}]
"""
    result = imported(tmp_path, {"promptfooconfig.yaml": config})
    params: dict[str, Any] = result.spec["parameters"]
    assert params == {"temperature": 0.1, "top_k": 20, "max_tokens": 256}
    assert result.workflow.spec.parameters.max_tokens == 256
    assert [item.split(":")[0] for item in result.unsupported] == [
        "providers[0].config.response_format", "providers[0].config.thinking"]  # fmt: skip
    assert any("baseUrl (where the provider is) replaced by the baseline's runtime" in note
               for note in result.notes)  # fmt: skip


def test_tools_in_anthropics_shape_are_offered_in_openais(tmp_path: Path) -> None:
    result = imported(tmp_path, {
        "promptfooconfig.yaml": """
prompts: ['Weather in {{city}}?']
providers:
  - id: anthropic:claude-3-5-sonnet-20241022
    config:
      tools:
        - name: get_weather
          description: Get the weather
          input_schema: {type: object, properties: {location: {type: string}}}
tests: [{vars: {city: Oslo}}]
""",
    })  # fmt: skip
    schema = {"type": "object", "properties": {"location": {"type": "string"}}}
    assert result.workflow.spec.parameters.tools == [{
        "type": "function",
        "function": {"name": "get_weather", "description": "Get the weather", "parameters": schema},
    }]  # fmt: skip
    assert any("'get_weather' rewritten from Anthropic's shape" in note for note in result.notes)
