"""Prompt variants, comparison cases, tests from files and measured cost, run by `workflow test`
against the real llama.cpp engine with the test model (it writes nonsense, so each check is built
to pass or fail whatever it writes: a javascript check reads which prompt was sent)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from inhouse.program.checks import Outcome
from inhouse.trials import rerun
from tests.engine import needs_engine
from tests.workflows.conftest import TRIAGE_SCHEMA, queue_schema
from tests.workflows.test_workflow_engine import cli, facts, play3, play3_results

pytestmark = needs_engine

COMPARE = """\
name: compare
description: Triage tickets, two ways
owner: omar
frequency: daily
model: inhouse-test-model
parameters: {max_tokens: 80, temperature: 0.7, seed: 5, response_format: {type: json_object,
             schema: TRIAGE}}
variables: {ticket: string}
prompts:
  - {label: short, user: "Triage: {{ ticket }}"}
  - {label: careful, system: Be careful., user: "Carefully triage: {{ ticket }}"}
use: USE
cost: {watts: 300, price_per_kwh: 0.3, hardware_price: 3000, lifetime_hours: 26280,
       utilisation: 0.5, currency: EUR}
tests:
  - name: careful-prompt
    vars: {ticket: Printer jammed}
    checks:
      - {type: javascript, value: "context.prompt.startsWith('Be careful.')"}
      - {type: cost, threshold: 1}
      # no decoy answer passes it, nor the model's answer to the VPN ticket: the test model
      # puts this ticket in billing, and that one in it (as on the test model: nonsense, but
      # another answer to another input)
      - {type: is-json, value: BILLING}
  - name: side-by-side
    vars: {ticket: Screen flickers}
  - file://tests/cases.csv
""".replace("TRIAGE", TRIAGE_SCHEMA).replace("BILLING", queue_schema("billing"))
CSV = "ticket,__expected,__description\nVPN down,regex:queue\\W+it\\W,vpn\n"


#: the seeds other than 5 at which the test model passes COMPARE's careful variant too: a
#: colleague's run of it draws its own (exit rule 35; as PASSING_SEEDS, tests/workflows/conftest.py)
COMPARE_SEEDS = (30, 32, 54, 63, 73)


@pytest.fixture
def compare_draws(baseline_program: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A colleague's draw of a seed for COMPARE comes from :data:`COMPARE_SEEDS`, in turn."""
    seeds = itertools.cycle(COMPARE_SEEDS)
    monkeypatch.setattr(rerun, "fresh_seed", lambda spec_seed: next(seeds))


def _write(folder: Path, use: str) -> None:
    (folder / "tests").mkdir(exist_ok=True)
    (folder / "tests" / "cases.csv").write_text(CSV)
    (folder / "workflows" / "compare.yaml").write_text(COMPARE.replace("USE", use))


@pytest.mark.usefixtures("real_model", "compare_draws")
def test_variants_run_side_by_side_and_play_3_judges_the_one_in_use(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    omar, pia = people["omar"], people["pia"]
    _write(baseline_program, "short")
    failed = cli("workflow", "test", "compare", "--json", "--junit", "junit.xml", env=omar,
                 code=1)  # fmt: skip
    report: dict[str, Any] = json.loads(failed.stdout)
    variants = {v["label"]: v for v in report["variants"]}
    assert list(variants) == ["short", "careful"] and variants["short"]["in_use"]
    # every case ran against each variant; the comparison case counts neither way
    for variant in variants.values():
        assert [c["name"] for c in variant["cases"]] == ["careful-prompt", "side-by-side", "vpn"]
        assert (variant["judged"], variant["compared"]) == (2, 1)
        compared = variant["cases"][1]
        assert compared["comparison"] and compared["passed"] is None
        assert isinstance(compared["attempts"][0]["output"], str)
        assert variant["latency_ms"] > 0
        assert variant["cost"] > 0  # measured from the cost model, per output
    assert variants["careful"]["pass_rate"] == 1.0 and variants["short"]["pass_rate"] == 0.5
    # the run is judged on the variant in use, which fails, though another passes
    assert report["variant"] == "short" and not report["passed"] and report["pass_rate"] == 0.5
    cost = variants["short"]["cases"][0]["attempts"][0]["checks"][1]
    assert cost["type"] == "cost" and cost["passed"] and "cost" in cost["reason"]
    [run] = facts(baseline_program, "workflow.run")
    assert run.payload["variant"] == "short" and not run.payload["passed"]
    assert run.payload["cases"] == 2
    suite = ElementTree.parse(baseline_program / "junit.xml").getroot()
    names = [(t.get("classname"), t.get("name")) for t in suite.iter("testcase")]
    assert ("workflows.compare.careful", "vpn") in names and len(names) == 6
    assert len(list(suite.iter("skipped"))) == 2
    # the other person passes the careful variant: it is not the one in use, so play 3 fails
    cli("workflow", "test", "compare", env=pia, code=1)
    assert play3(baseline_program)["workflow-tests-pass"] is Outcome.FAIL
    # naming the careful variant as the one people use is a new version; passing it counts
    _write(baseline_program, "careful")
    text = cli("workflow", "test", "compare", env=omar).stdout
    assert "on the variant in use, careful" in " ".join(text.split())
    assert "careful (in use)" in text and "1 comparison case" in text
    cli("workflow", "test", "compare", env=pia)
    results = play3_results(baseline_program)
    assert results["workflow-run-by-other"].outcome is Outcome.PASS
    assert "variant careful" in results["workflow-tests-pass"].reason


@pytest.mark.usefixtures("real_model", "compare_draws")
def test_a_changed_test_file_needs_a_new_run(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    _write(baseline_program, "careful")
    cli("workflow", "test", "compare", env=people["omar"])
    cli("workflow", "test", "compare", env=people["pia"])
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS
    with (baseline_program / "tests" / "cases.csv").open("a") as more:
        more.write("Mail bounces,regex:.*,mail\n")
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.PASS  # not yet tested
    cli("workflow", "test", "compare", env=people["omar"])  # the new version, by its author
    assert len(facts(baseline_program, "workflow.spec")) == 2
    assert play3(baseline_program)["workflow-run-by-other"] is Outcome.FAIL


def test_validate_reports_a_template_error_without_a_traceback(baseline_program: Path) -> None:
    spec = baseline_program / "workflows" / "summary.yaml"
    spec.write_text(
        spec.read_text().replace("Ticket: {{ ticket }}", "Ticket:\n{{ ticket | allcaps }}")
    )
    result = cli("workflow", "validate", "summary", code=2)
    assert (
        "workflows/summary.yaml: prompt.user: template error on line 1: No filter named 'allcaps'"
        in (" ".join(result.stderr.split()))
    )


def test_validate_says_what_a_valid_spec_still_lacks_here(baseline_program: Path) -> None:
    """A spec can be valid and still not run here: its owner off the roster, or its model one
    the program's lock does not bless. validate says both, beside "valid"."""
    result = cli("workflow", "validate", "summary")
    assert "is valid" in result.stdout and "note:" not in result.stdout
    spec = baseline_program / "workflows" / "summary.yaml"
    text = spec.read_text()
    spec.write_text(text.replace("owner: omar", "owner: omr").replace(
        "model: inhouse-test-model", "model: another-model"))  # fmt: skip
    said = " ".join(cli("workflow", "validate", "summary").stdout.split())
    assert "is valid" in said
    assert "note: its owner 'omr' is not on this program's roster" in said
    assert "note: its model 'another-model' is not blessed by the program's lock " \
        "(inhouse-test-model)" in said  # fmt: skip
