"""What ``inhouse prompts import`` brings in is recorded as imported: whoever ran the import (a
routine step after a pull) is not the author of a file someone else wrote into ``prompts/``. So
an import makes nobody a second author for play 4's ``prompt-library-seeded``, and is nobody's
decision to promote a version to production where a second person is required."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w
import yaml

from inhouse.pilot.library import add_prompt, library, move_label, new_version
from inhouse.pilot.library_files import export_prompts, import_prompts
from inhouse.pilot.library_views import list_prompts
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import Clock
from tests.people import enrol
from tests.pilot.world import PROMPT

SUMMARISE = """\
# inhouse prompt library: `inhouse prompts import` reads this file back
name: summarise
versions:
- description: Summarise a contract clause
  messages:
  - content: 'Summarise this clause for a non-lawyer: {{ clause }}'
    role: user
  variables:
    clause:
      type: string
  version: 1
"""


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    program = Program.init(_isolated, "Acme", "lena", clock=clock)
    yield program
    program.close()


def _seeded(lena: Program) -> Result:
    return evaluate("prompt-library-seeded", context_for(lena.state(), lena.clock()))


def test_a_colleagues_import_makes_nobody_an_author(lena: Program, _isolated: Path) -> None:
    """The forgery: lena writes a second prompt into prompts/ and never adds it; bob's routine
    import after a pull would sign it. It is recorded as imported: bob is not its author, the
    library is still lena's alone, until bob adds a prompt he wrote."""
    bob = enrol(lena, "bob", team="legal")
    add_prompt(lena, "triage", PROMPT, where="triage.yaml")
    (_isolated / "prompts").mkdir()
    (_isolated / "prompts" / "summarise.yaml").write_text(SUMMARISE, encoding="utf-8")
    (line,) = import_prompts(bob)
    result = _seeded(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("prompts from 1 author (lena); the library needs 2")
    assert "not counted: bob for what they brought in with `inhouse prompts import` (an " \
           "import makes nobody its author)" in result.reason  # fmt: skip
    assert line.startswith("summarise@1: added (sha256:") and line.endswith("…), imported")
    version = library(lena).resolve("summarise@1")
    assert (version.author, version.signer) == (None, "bob")
    rows = {row["name"]: row["author"] for row in list_prompts(lena)}
    assert rows == {"summarise": "unknown (imported by bob)", "triage": "lena"}
    # the honest way: bob adds a prompt of his own, with his own key
    add_prompt(bob, "clause", PROMPT.replace("Triage", "Explain"), where="clause.yaml")
    result = _seeded(lena)
    assert result.outcome is Outcome.PASS
    assert result.reason == "2 prompts from 2 authors (bob, lena)"
    assert verify_chain(lena.store).ok


def _second_person(lena: Program) -> None:
    with (lena.folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + tomli_w.dumps({"prompts": {"promote_needs_second_person": True}}))


def _write_version(lena: Program, number: int, production: int) -> None:
    """lena's hand edit of prompts/triage.yaml: a version ``number`` written in (no content
    hash) when the library lacks it, and production moved to ``production``."""
    path = lena.folder / "prompts" / "triage.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if number > len(data["versions"]):
        data["versions"].append({
            "version": number,
            "messages": [{"role": "user", "content": f"Ticket, take {number}: {{{{ ticket }}}}"}],
            "variables": {"ticket": {"type": "string"}},
        })  # fmt: skip
    data["labels"] = {**data.get("labels", {}), "production": production}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")


def test_an_import_is_not_the_second_person_for_production(lena: Program) -> None:
    """With a second person required for production: lena's own content, brought in by bob's
    routine import, does not let her move production alone (the importer is no author she is
    "someone other than"), nor does the import's move of production count as anyone's."""
    _second_person(lena)
    bob = enrol(lena, "bob", team="legal")
    omar = enrol(lena, "omar", team="support")
    add_prompt(lena, "triage", PROMPT, where="triage.yaml")
    move_label(omar, "triage@1", "production")  # omar, not its author, lets v1 through
    export_prompts(lena)
    # lena writes v2 into the export and labels it production; bob imports after a pull
    _write_version(lena, 2, production=2)
    lines = import_prompts(bob)
    assert library(lena).resolve("triage@production").version == 1
    # lena alone: a request (its author is unknown: two people move production)
    asked = move_label(lena, "triage@2", "production")
    assert (asked.state, asked.effective) == ("requested", False)
    assert asked.note == "waits for someone other than lena: v2 was imported, its author unknown"
    assert lines[1:] == [
        "triage@2: production not moved: a second person moves it, never an import "
        "(`inhouse prompts label triage@2 production`)"
    ]
    # the Python API: her plain move takes no effect either
    lena.record_fact(None, "prompt.label", {"prompt": "triage", "label": "production",
                                            "version": 2},
                     provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    forged = library(lena).prompt("triage")
    assert forged.labels["production"] == 1
    assert forged.moves[-1].note.startswith("v2 was imported, its author unknown: two people")
    # a second person, on purpose, confirms it
    confirmed = move_label(omar, "triage@2", "production")
    assert confirmed.effective and confirmed.note == "confirms lena's request"
    assert library(lena).resolve("triage@production").version == 2

    # lena's own version 3, added by her, labelled production in the file: bob's import is not
    # the second person either
    new_version(lena, "triage", PROMPT.replace("into queues.", "briefly."), where="t.yaml")
    export_prompts(lena)
    _write_version(lena, 3, production=3)
    lines = import_prompts(bob)
    assert library(lena).resolve("triage@production").version == 2
    assert lines == [
        "triage@3: production not moved: a second person moves it, never an import "
        "(`inhouse prompts label triage@3 production`)"
    ]
    assert not move_label(lena, "triage@3", "production").effective
    assert move_label(bob, "triage@3", "production").effective
    assert verify_chain(lena.store).ok


def test_an_imported_prompt_has_no_author_for_play_six_either(
    lena: Program, _isolated: Path
) -> None:
    """Play 6's "library prompt uses by non-authors" tells an author's own use apart: for a
    prompt bob imported, lena (who wrote the file) would count as a non-author, and bob as its
    author. Its author is unknown, so none of its use counts as by non-authors."""
    from inhouse.indicators.leading import Authors

    bob = enrol(lena, "bob", team="legal")
    add_prompt(lena, "triage", PROMPT, where="triage.yaml")
    (_isolated / "prompts").mkdir()
    (_isolated / "prompts" / "summarise.yaml").write_text(SUMMARISE, encoding="utf-8")
    import_prompts(bob)
    authors = Authors.of(context_for(lena.state(), lena.clock()))
    assert authors.prompts == {"triage": {"lena"}}
    assert authors.unknown == frozenset({"summarise@1"})
