"""A program with a locked baseline on the real llama.cpp engine (the test model), for workflow
tests: ``inhouse.toml`` names the engine as runtime ``local`` and blesses the test model."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.program import Program
from inhouse.trials import rerun
from tests.engine import Engine
from tests.people import enrol_cli

#: the test model writes nonsense, so no check can judge what its summary says; what a case can
#: judge is the JSON the workflow asks for, in a schema llama.cpp holds sampling to (a nonsense
#: model so held still answers in it). A shape alone judges nothing of the ticket (every answer
#: in the schema, the model's answer to another ticket too, has it), so each case checks the
#: queue its ticket belongs in: at seed 11 the test model puts the printer ticket in "it" and
#: the refund in "billing" (as on the test model, which happens to pick the right queue for
#: these two). Each case's checks fail the other's answer and every decoy: the cases need the
#: model
TRIAGE_SCHEMA = (
    "{type: object, required: [queue, summary], properties: {queue: {enum: [it, billing]}, "
    "summary: {type: string, maxLength: 30}}}"
)


def queue_schema(queue: str) -> str:
    """TRIAGE_SCHEMA with ``queue`` its one queue: what a case checks its answer names."""
    return TRIAGE_SCHEMA.replace("enum: [it, billing]", f"enum: [{queue}]")


SUMMARY = f"""\
name: summary
description: Summarise a support ticket
owner: omar
frequency: daily
model: inhouse-test-model
parameters:
  max_tokens: 80
  temperature: 0.7
  seed: 11
  response_format: {{type: json_object, schema: {TRIAGE_SCHEMA}}}
variables:
  ticket: {{type: string, description: the ticket's text}}
  priority: {{type: integer, default: 3}}
prompt:
  system: You summarise support tickets as JSON.
  user: "Priority {{{{ priority }}}}. Ticket: {{{{ ticket }}}}"
tests:
  - name: printer
    vars: {{ticket: The printer on floor 2 is jammed again.}}
    checks:
      - {{type: is-json, value: {queue_schema("it")}}}
      - {{type: not-contains, value: "§never-in-output§"}}
      - {{type: length, min: 1, max: 4000}}
      - {{type: latency, threshold: 600000}}
  - name: refund
    vars: {{ticket: Refund for order 1234, priority: 1}}
    checks:
      - {{type: is-json, value: {queue_schema("billing")}}}
      - {{type: word-count, min: 1}}
"""

#: the seeds other than 11 at which the test model passes SUMMARY's cases too (few do: its
#: nonsense picks either queue). Where a version samples, a `workflow test` by anyone but its
#: author draws a seed of its own (exit rule 35), so a colleague's rerun of SUMMARY on a real
#: draw passes about one time in ten: the tests' colleagues draw from these, in turn, where
#: ``baseline_program`` serves (tests/workflows/test_workflow_seed.py takes the real draw)
PASSING_SEEDS = (5, 14, 21, 60, 65, 73, 80, 114)
#: the operating system's draw (:func:`inhouse.trials.rerun.fresh_seed`)
REAL_FRESH_SEED = rerun.fresh_seed

IMPOSSIBLE_CASE = """\
  - name: impossible
    vars: {ticket: anything}
    checks:
      - {type: contains, value: "§never-in-output§"}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def people() -> dict[str, dict[str, str]]:
    """Each enrolled person's shell (``INHOUSE_KEY``) for a CLI call, by name; the lead's is
    the default key. Filled in by ``baseline_program``."""
    return {}


@pytest.fixture
def baseline_program(
    engine: Engine, _isolated: Path, people: dict[str, dict[str, str]]
) -> Iterator[Path]:
    """A program in the test's folder: lena leads and owns the baseline, omar does the task
    (and authors the workflow when he tests it first), pia is a second person, each with their
    own key from their own machine; the baseline is locked. A colleague's draw of a seed (exit
    rule 35) comes from :data:`PASSING_SEEDS`."""
    from inhouse.baseline.lock import lock_baseline
    from inhouse.identity import machine

    folder = _isolated
    # lena's laptop is not this machine, where every person's CLI call runs: a lead's machine
    # counts against play 3's rerunner (exit rule 20), and pia reruns on hers, not at lena's
    with pytest.MonkeyPatch.context() as elsewhere:
        elsewhere.setattr(machine, "machine_fingerprint", lambda: "lena-laptop")
        program = Program.init(folder, "Acme", "lena")
    program.change_roles("lena", "lena", add=["play-owner"])
    keys = folder.parent / "keys"
    people["omar"] = enrol_cli(program, "omar", keys, team="support", roles=["play-owner"])
    people["pia"] = enrol_cli(program, "pia", keys, team="finance")
    with (folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write(
            f'\n[runtimes.local]\nfamily = "openai"\nurl = "{engine.url}"\n'
            f'model_path = "{engine.model}"\n\n'
            '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["inhouse-test-model"]\n'
        )
    lock_baseline(program, "lena")
    program.close()
    (folder / "workflows").mkdir()
    (folder / "workflows" / "summary.yaml").write_text(SUMMARY, encoding="utf-8")
    seeds = itertools.cycle(PASSING_SEEDS)
    with pytest.MonkeyPatch.context() as draws:  # a draw the test model passes at (above)
        draws.setattr(rerun, "fresh_seed", lambda spec_seed: next(seeds))
        yield folder
