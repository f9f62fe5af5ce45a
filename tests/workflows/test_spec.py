"""The workflow spec: validation that names the file and field, typed variables, and the prompt
sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from inhouse.errors import InvalidInput
from inhouse.workflows import load_workflow, parse_workflow
from inhouse.workflows.template import render

WHERE = "workflows/summary.yaml"


def spec(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "summary",
        "description": "Summarise a ticket",
        "owner": "omar",
        "frequency": "daily",
        "model": "inhouse-test-model",
        "parameters": {"temperature": 0.2, "max_tokens": 40, "seed": 3},
        "variables": {
            "ticket": {"type": "string", "description": "the ticket"},
            "priority": {"type": "integer", "default": 3},
            "urgent": "boolean",
        },
        "prompt": {
            "system": "You summarise tickets.",
            "user": "{% if urgent %}URGENT {% endif %}P{{ priority }}: {{ ticket }}",
        },
        "repeat": 3,
        "min-pass": 2,
        "tests": [
            {
                "name": "jam",
                "vars": {"ticket": "Printer jammed", "urgent": True},
                "checks": [{"type": "length", "max": 400}],
            }
        ],
    }
    data.update(changes)
    return data


def parse(data: dict[str, Any]) -> Any:
    return parse_workflow(yaml.safe_dump(data), where=WHERE, expected_name="summary")


def refused(data: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as caught:
        parse(data)
    return str(caught.value)


def test_a_valid_spec_loads_with_defaults_applied() -> None:
    flow = parse(spec())
    case = flow.cases[0]
    assert (case.name, case.repeat, case.min_pass) == ("jam", 3, 2)
    assert case.vars == {"ticket": "Printer jammed", "priority": 3, "urgent": True}
    assert flow.messages(case.vars) == [
        {"role": "system", "content": "You summarise tickets."},
        {"role": "user", "content": "URGENT P3: Printer jammed"},
    ]
    assert flow.spec.parameters.request_fields() == {
        "temperature": 0.2,
        "max_tokens": 40,
        "seed": 3,
    }
    assert flow.content_hash.startswith("sha256:")


def test_the_content_hash_follows_the_data_not_the_layout() -> None:
    data = spec()
    compact = parse_workflow(yaml.safe_dump(data), where=WHERE)
    commented = parse_workflow("# a comment\n" + yaml.safe_dump(data, indent=4), where=WHERE)
    assert compact.content_hash == commented.content_hash
    changed = parse(spec(frequency="weekly"))
    assert changed.content_hash != compact.content_hash


def test_the_run_hash_follows_what_runs_not_what_describes_it() -> None:
    """Play 6 reads it: a version that changes only its description, owner, frequency, a
    variable's description, a case's name, a template's comments or whitespace, or the
    spelling of a default it already had, runs what the workflow ran before."""
    base = parse(spec())
    variables = dict(spec()["variables"], ticket={"type": "string", "description": "text"})
    prompt = dict(spec()["prompt"], system="You   summarise {# terse #} tickets.")
    tests = [dict(spec()["tests"][0], name="jammed", description="the classic")]
    described = {"description": "Summarise one ticket", "owner": "lena", "frequency": "weekly"}
    cosmetic = parse(
        spec(**described, variables=variables, prompt=prompt, tests=tests, **{"pass-rate": 1.0})
    )
    assert cosmetic.content_hash != base.content_hash
    assert cosmetic.run_hash == base.run_hash
    for changes in (
        {"prompt": dict(spec()["prompt"], system="You summarise tickets briefly.")},
        {"tests": [dict(spec()["tests"][0], checks=[{"type": "length", "max": 200}])]},
        {"parameters": {"temperature": 0.9, "max_tokens": 40, "seed": 3}},
        {"min-pass": 3},
    ):
        assert parse(spec(**changes)).run_hash != base.run_hash, changes


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"owner": ""}, f"{WHERE}: owner: String should have at least 1 character"),
        ({"model": None}, f"{WHERE}: model: Input should be a valid string"),
        ({"promt": {}}, f"{WHERE}: promt: not a field of a workflow spec here"),
        ({"name": "other"}, "name: 'other' differs from the file's name 'summary'"),
        ({"name": "Bad Name"}, "name: must be lower-case letters"),
        ({"repeat": 0}, f"{WHERE}: repeat: Input should be greater than or equal to 1"),
        ({"min-pass": 4}, f"{WHERE}: tests[0].repeat: min-pass (4) is more than repeat (3)"),
        ({"pass-rate": 1.5}, f"{WHERE}: pass-rate: Input should be less than or equal to 1"),
        ({"parameters": {"temprature": 1}}, "parameters.temprature: not a field"),
        ({"variables": {"ticket": {"type": "text"}}}, "variables.ticket.type: Input should be"),
        ({"variables": {"ticket": {"type": "integer", "default": "x"}}},
         "variables.ticket.default: must be an integer, got str 'x'"),
        ({"prompt": {"user": "{{ ticket }} {{ missing }}"}},
         f"{WHERE}: prompt.user: uses {{{{ missing }}}}, which is not declared under variables"),
        ({"prompt": {"user": "{{ ticket "}}, "prompt.user: template error on line 1"),
        ({"prompt": {"user": "{{ ticket | allcaps }}"}},
         f"{WHERE}: prompt.user: template error on line 1: No filter named 'allcaps'"),
        ({"prompt": None,
          "prompts": [{"label": "a", "user": "{{ ticket }}"}, {"label": "b", "user": "x"}]},
         "use: name the variant people use, one of a, b"),
        ({"prompt": None, "prompts": [{"label": "a", "user": "x"}], "use": "b"},
         "use: 'b' is not a label of prompts (a)"),
        ({"prompt": None,
          "prompts": [{"label": "a", "user": "x"}, {"label": "a", "user": "y"}], "use": "a"},
         "prompts: the label 'a' is used twice"),
        ({"prompts": [{"label": "a", "user": "x"}]}, "give prompt (one) or prompts"),
        ({"tests": [{"name": "c", "vars": {"ticket": "t", "urgent": True},
                     "checks": [{"type": "cost", "threshold": 1}]}]},
         "tests[0].checks[0]: a cost check needs the workflow's cost: inputs"),
        ({"tests": [{"name": "s", "vars": {"ticket": "t", "urgent": True},
                     "checks": [{"type": "select-best", "value": "clearest"}]}]},
         "select-best picks the best of several prompt variants"),
        ({"tests": "file://tests.csv"}, "names a file, and this spec is read without its program"),
        ({"tests": [{"vars": {"ticket": 1, "urgent": "yes"}, "checks": [{"type": "is-json"}]}]},
         f"{WHERE}: tests[0].vars.urgent: must be a boolean, got str 'yes'"),
        ({"tests": [{"vars": {"urgent": True}, "checks": [{"type": "is-json"}]}]},
         f"{WHERE}: tests[0].vars: missing variable 'ticket' (the ticket)"),
        ({"tests": [{"vars": {"ticket": "t", "urgent": True, "colour": "red"},
                     "checks": [{"type": "is-json"}]}]},
         "tests[0].vars: unknown variable 'colour' for workflow summary"),
        ({"tests": [{"vars": {"ticket": "t", "urgent": True},
                     "checks": [{"type": "contains", "valeu": "x"}]}]},
         f"{WHERE}: tests[0].checks[0].valeu: contains does not take 'valeu'"),
        ({"tests": [{"name": "a", "vars": {"ticket": "t", "urgent": True},
                     "checks": [{"type": "is-json"}]}] * 2}, "tests: the name 'a' is used twice"),
    ],
)  # fmt: skip
def test_bad_specs_name_the_file_and_the_field(changes: dict[str, Any], message: str) -> None:
    assert message in refused(spec(**changes))


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(InvalidInput, match=rf"{WHERE}: line 3: not valid YAML"):
        parse_workflow("name: x\nowner: [unclosed\n", where=WHERE)
    with pytest.raises(InvalidInput, match="a workflow spec is a YAML mapping"):
        parse_workflow("- just a list\n", where=WHERE)


@pytest.mark.parametrize(
    ("written", "odd", "field"),
    [
        (
            "temperature: 0.2",
            "temperature: !!binary MC43",
            "parameters.temperature: a YAML !!binary",
        ),
        ("seed: 3", "seed: !!binary MTE=", "parameters.seed: a YAML !!binary"),
        ("seed: 3", "seed: 3\n  stop: !!binary Zm9v", "parameters.stop: a YAML !!binary"),
        ("seed: 3", "seed: 3\n  stop: !!set {a: null}", "parameters.stop: a YAML !!set"),
        ("urgent: true", "urgent: true\n    1: x", "tests[0].vars: the key 1 is not text"),
    ],
)
def test_a_value_the_version_s_text_would_record_otherwise_is_refused(
    written: str, odd: str, field: str
) -> None:
    """A temperature written ``!!binary MC43`` ran at 0.7, but the version's text (what its hash
    covers, JSON) recorded it as ``"b'0.7'"``, which no reading takes as a number: exit rule 35
    then fell back to the runs' own word on whether the version samples, a reading its author
    chose by how they wrote one field. Such a spec is refused where it loads, naming the field;
    nothing about it is read otherwise than it runs."""
    text = yaml.safe_dump(spec())
    assert written in text, text
    with pytest.raises(InvalidInput) as caught:
        parse_workflow(text.replace(written, odd, 1), where=WHERE, expected_name="summary")
    said = str(caught.value)
    assert said.startswith(f"{WHERE}: {field}"), said
    assert "write it as plain YAML" in said, said


def test_the_version_s_text_says_the_parameters_the_workflow_runs_with() -> None:
    """The honest forms of the same values still load, and the version's text says what runs:
    a tag that keeps a plain value (``!!float``, ``!!str``)."""
    from inhouse.program.playchecks.workflow import _parameters
    from inhouse.workflows.spec import hashed_spec

    text = yaml.safe_dump(spec()).replace("temperature: 0.2", "temperature: !!float 0.7")
    text = text.replace("seed: 3", "seed: !!str 3")
    loaded = parse_workflow(text, where=WHERE, expected_name="summary")
    said = _parameters(hashed_spec(loaded.hashed, loaded.content_hash))
    assert said is not None and said["temperature"] == 0.7 == loaded.spec.parameters.temperature
    assert said["seed"] == 3 == loaded.spec.parameters.seed


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ticket.__class__ }}",
        "{{ ticket['__class__'] }}",
        "{{ ticket|attr('__class__') }}",
        "{{ _secret }}",
        "{% include 'other.txt' %}",
        "{% import 'macros' as m %}",
    ],
)
def test_sandbox_escapes_are_refused_when_the_spec_loads(template: str) -> None:
    message = refused(spec(prompt={"user": template + " {{ ticket }}"}))
    assert message.startswith(f"{WHERE}: prompt.user: refused")


def test_the_sandbox_refuses_escapes_at_render_time_too() -> None:
    # Reached through a name the static check cannot see: the sandbox itself refuses it.
    with pytest.raises(InvalidInput, match="refused by the prompt sandbox"):
        render("{{ (x|first).mro() }}", {"x": [str]}, where="prompt.user")
    with pytest.raises(InvalidInput, match="refused by the prompt sandbox"):
        render("{{ f.gi_frame }}", {"f": (i for i in [1])}, where="prompt.user")


def test_variables_from_the_command_line_are_typed() -> None:
    flow = parse(spec())
    values = flow.bind(
        {"ticket": "x", "priority": "7", "urgent": "yes"}, where="--var", from_text=True
    )
    assert values == {"ticket": "x", "priority": 7, "urgent": True}
    with pytest.raises(InvalidInput, match=r"--var.priority: must be an integer, got 'high'"):
        flow.bind(
            {"ticket": "x", "priority": "high", "urgent": "no"}, from_text=True, where="--var"
        )
    with pytest.raises(InvalidInput, match="missing variable 'urgent'"):
        flow.bind({"ticket": "x"}, where="--var")


def test_load_workflow_reads_workflows_folder(tmp_path: Path) -> None:
    (tmp_path / "workflows").mkdir()
    (tmp_path / "workflows" / "summary.yaml").write_text(yaml.safe_dump(spec()))
    assert load_workflow(tmp_path, "summary").where == WHERE
    with pytest.raises(
        InvalidInput, match=r"no workflow 'nope': workflows/nope\.yaml does not exist"
    ):
        load_workflow(tmp_path, "nope")
    with pytest.raises(InvalidInput, match="is not a workflow name"):
        load_workflow(tmp_path, "../etc/passwd")
