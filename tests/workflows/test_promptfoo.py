"""Importing a promptfoo config: what converts, and what is listed as not imported."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from inhouse.errors import InvalidInput
from inhouse.workflows import import_promptfoo, parse_workflow

FIXTURE = Path(__file__).parent / "fixtures" / "promptfoo"


def _forget_fixture_modules() -> None:
    for name in [n for n in sys.modules if n == "pfchecks" or n.startswith("pfchecks.")]:
        del sys.modules[name]


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "pf"
    shutil.copytree(FIXTURE, folder)
    monkeypatch.syspath_prepend(str(folder))  # so the python assertion's module imports
    yield folder / "promptfooconfig.yaml"
    _forget_fixture_modules()


def test_a_promptfoo_config_with_many_assertion_types_imports(config: Path) -> None:
    result = import_promptfoo(config, owner="omar", frequency="daily", model="inhouse-test-model")
    spec = result.spec
    assert spec["name"] == "ticket-summaries"
    assert spec["prompts"] == [
        {"label": "prompts/summary.json",
         "system": "You summarise support tickets for the {{team}} team.",
         "user": "Priority {{priority}}. Ticket: {{ticket}}"},
        {"label": "prompt-2", "user": "Summarise this ticket: {{ticket}}"},
    ]  # fmt: skip
    assert spec["use"] == "prompts/summary.json"
    assert [v.label for v in result.workflow.variants] == ["prompts/summary.json", "prompt-2"]
    assert spec["parameters"] == {"temperature": 0.2, "max_tokens": 120}
    assert spec["variables"] == {
        "priority": {"type": "integer"},
        "team": {"type": "string"},
        "ticket": {"type": "string"},
    }
    names = [test["name"] for test in spec["tests"]]
    assert names == [
        "printer-jam", "refund-as-json", "languages-1", "languages-2", "only-unsupported"
    ]  # fmt: skip
    jam = spec["tests"][0]
    assert jam["vars"] == {
        "team": "support",
        "ticket": "The printer on floor 2 is jammed again.",
        "priority": 2,
    }
    assert [c["type"] for c in jam["checks"]] == [
        "not-icontains", "latency", "icontains", "contains-any", "regex", "word-count",
        "levenshtein", "javascript", "python",
    ]  # fmt: skip
    assert jam["checks"][3] == {"type": "contains-any", "value": ["jam", "jammed", "stuck"],
                                "weight": 2}  # fmt: skip
    # promptfoo renders {{var}} in assertion values with the test's vars
    assert jam["checks"][6]["value"] == "The printer on floor 2 is jammed again."
    assert jam["checks"][7]["value"] == "output.length < 500"
    assert jam["checks"][8]["value"] == "pfchecks.grade:mentions_floor"
    refund = spec["tests"][1]
    assert refund["threshold"] == 0.5
    assert [c["type"] for c in refund["checks"]] == [
        "not-icontains", "latency", "is-json", "contains-json", "similar", "llm-rubric",
        "equals", "model-graded-closedqa", "contains",
    ]  # fmt: skip
    assert refund["checks"][8]["transform"] == "output.toLowerCase()"
    assert refund["checks"][5]["value"] == (
        "Mentions the order number Customer wants a refund for order 1234."
    )
    assert [t["vars"]["ticket"] for t in spec["tests"][2:4]] == ["Bonjour", "Hallo"]
    # a test whose only assertion is javascript now keeps it
    assert spec["tests"][4]["checks"][-1] == {"type": "javascript", "value": "true"}
    # the written spec loads as a workflow, with every converted check parsed
    assert len(result.workflow.cases) == 5
    imported = {c["type"] for t in spec["tests"] for c in t["checks"]}
    assert len({t.removeprefix("not-") for t in imported}) >= 14


def test_what_does_not_convert_is_listed_never_dropped(config: Path) -> None:
    result = import_promptfoo(config, owner="omar", frequency="daily", model="inhouse-test-model")
    listed = "\n".join(result.unsupported)
    for expected in (
        "tests[0].assert[7]: python with inline code",
        "tests[1].assert[4]: cost not imported: promptfoo's cost is an API's price per token",
    ):
        assert expected in listed
    assert len(result.unsupported) == 2
    notes = "\n".join(result.notes)
    assert "tests[1].assert[2]: provider dropped" in notes
    assert "providers (openai:gpt-4o-mini, ollama:chat:llama3.2) replaced" in notes
    assert "tests[2]: list vars ticket expanded to 2 tests" in notes
    # ... and in the spec's text, as a comment a reviewer sees, which still parses
    head = result.text.split("\nname:")[0]
    assert "# NOT IMPORTED (unsupported)" in head
    assert "#   - tests[0].assert[7]: python with inline code" in head
    again = parse_workflow(result.text, where="x.yaml")
    assert again.content_hash == result.workflow.content_hash
    assert yaml.safe_load(result.text) == result.spec


def test_a_python_assertion_whose_module_cannot_import_is_listed(tmp_path: Path) -> None:
    folder = tmp_path / "pf"
    shutil.copytree(FIXTURE, folder)  # not on sys.path this time
    _forget_fixture_modules()
    result = import_promptfoo(folder / "promptfooconfig.yaml", owner="o", frequency="f", model="m")
    assert any(
        "tests[0].assert[6]: python does not convert" in item and "cannot import module" in item
        for item in result.unsupported
    )


def test_configs_that_cannot_become_a_workflow_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "promptfooconfig.yaml"
    path.write_text("providers: [openai:gpt-4o]\ntests: []\n")
    with pytest.raises(InvalidInput, match="prompts: a promptfoo config needs a prompt"):
        import_promptfoo(path, owner="o", frequency="f", model="m")
    path.write_text("prompts: ['{{ x.__class__ }}']\n")
    with pytest.raises(InvalidInput, match="refused"):
        import_promptfoo(path, owner="o", frequency="f", model="m")
    with pytest.raises(InvalidInput, match="no promptfoo config"):
        import_promptfoo(tmp_path / "nope.yaml", owner="o", frequency="f", model="m")


def test_the_import_command_writes_the_spec_and_lists_what_it_left_out(
    config: Path, _isolated: Path
) -> None:
    from typer.testing import CliRunner

    from inhouse.cli.app import app
    from inhouse.program import Program

    Program.init(_isolated, "Acme", "lena").close()
    shutil.copytree(config.parent, _isolated / "pf")
    runner = CliRunner()
    args = ["workflow", "import-promptfoo", "pf/promptfooconfig.yaml", "--owner", "omar"]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2 and "no baseline lock to take a model from" in refused.stderr
    done = runner.invoke(app, [*args, "--model", "inhouse-test-model", "--frequency", "daily"])
    assert done.exit_code == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "Wrote" in text and "workflows/ticket-summaries.yaml (5 test cases" in text
    assert "Not imported (2):" in text and "python with inline code" in text
    # the config sits in pf/: the hint names that folder, not the program's
    assert "run with PYTHONPATH=pf;" in text
    assert "next: set the spec's frequency" not in text  # it was given
    written = (_isolated / "workflows" / "ticket-summaries.yaml").read_text()
    assert written.startswith("# Imported from promptfooconfig.yaml")
    again = runner.invoke(app, [*args, "--model", "inhouse-test-model"])
    assert again.exit_code == 2 and "pass --force to overwrite it" in again.stderr
    listed = runner.invoke(app, ["workflow", "validate", "ticket-summaries"])
    assert listed.exit_code == 0 and "is valid: 5 test cases" in listed.stdout
    # without --frequency the spec says 'unspecified', which validate refuses as no recurrence:
    # the import says what to do next instead of leaving it to that refusal
    unsaid = runner.invoke(app, [*args, "--model", "inhouse-test-model", "--force"])
    assert unsaid.exit_code == 0, unsaid.stderr
    said = " ".join(unsaid.stdout.split())
    assert "next: set the spec's frequency (how often the task comes up" in said, said
    assert "then `inhouse workflow validate ticket-summaries` records play 3's trigger" in said
