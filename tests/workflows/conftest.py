"""A program with a locked baseline on the real llama.cpp engine (the test model), for workflow
tests: ``inhouse.toml`` names the engine as runtime ``local`` and blesses the test model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.program import Program
from tests.engine import Engine
from tests.people import enrol_cli

SUMMARY = """\
name: summary
description: Summarise a support ticket
owner: omar
frequency: daily
model: inhouse-test-model
parameters: {max_tokens: 24, temperature: 0.7, seed: 11}
variables:
  ticket: {type: string, description: the ticket's text}
  priority: {type: integer, default: 3}
prompt:
  system: You summarise support tickets.
  user: "Priority {{ priority }}. Ticket: {{ ticket }}"
tests:
  - name: plain-text
    vars: {ticket: The printer on floor 2 is jammed again.}
    checks:
      - {type: regex, value: ".+"}
      - {type: not-contains, value: "§never-in-output§"}
      - {type: length, min: 1, max: 4000}
      - {type: latency, threshold: 600000}
  - name: no-json
    vars: {ticket: Refund for order 1234, priority: 1}
    checks:
      - {type: not-is-json}
      - {type: word-count, min: 1}
"""

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
    own key from their own machine; the baseline is locked."""
    from inhouse.baseline.lock import lock_baseline

    folder = _isolated
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
    yield folder
