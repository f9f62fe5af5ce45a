"""The playbook a program runs is named in inhouse.toml (the program folder, in git); the log
records its name, version and what it decides (``Playbook.rules``). A lead who copies the shipped
playbook under the same name and version, eases a check's parameters and points inhouse.toml at
the copy is named by status on every machine."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import trigger_results
from tests.conftest import Clock


def _use_beyond(program: Program) -> Outcome:
    play = program.playbook.play("measure")
    found = trigger_results(play, program.state(), program.clock())
    return next(c.result for c in found if c.ref.check == "use-beyond-pilot").outcome


pytestmark = pytest.mark.usefixtures("on_database")


def test_a_playbook_eased_under_the_same_name_and_version_is_named(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    assert _use_beyond(lena) is Outcome.FAIL  # nobody uses it: nobody beyond the pilot
    assert lena.state().playbook_rules == lena.playbook.rules()

    shipped = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    weak = shipped.replace(
        "      - check: use-beyond-pilot\n        title: the tool is in real use beyond the "
        "pilot\n        params: {min_people: 1}",
        "      - check: use-beyond-pilot\n        title: the tool is in real use beyond the "
        "pilot\n        params: {min_people: 0}",
    )
    assert weak != shipped
    (_isolated / "playbook.yaml").write_text(weak)
    toml = (_isolated / "inhouse.toml").read_text()
    toml = toml.replace('playbook = "local-model-program"', 'playbook = "playbook.yaml"')
    if 'playbook = "playbook.yaml"' not in toml:
        toml = toml.replace("[program]\n", '[program]\nplaybook = "playbook.yaml"\n')
    (_isolated / "inhouse.toml").write_text(toml)

    again = Program.open(_isolated, clock=clock)
    assert again.playbook.name == "local-model-program" and again.playbook.version == 1
    assert _use_beyond(again) is Outcome.PASS  # the loaded playbook judges: shown, not hidden
    warnings = again.status()["warnings"]
    [said] = [w for w in warnings if "decides otherwise than the one the program was created" in w]
    assert f"recorded {lena.state().playbook_rules}" in said
    again.close()


def test_the_shipped_playbook_reworded_decides_the_same(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """Only what the playbook decides is recorded: a title reworded changes nothing."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.close()
    shipped = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    reworded = shipped.replace("title: the tool is in real use beyond the pilot",
                               "title: people beyond the pilot really use it")  # fmt: skip
    assert reworded != shipped
    (_isolated / "playbook.yaml").write_text(reworded)
    toml = (_isolated / "inhouse.toml").read_text()
    toml = toml.replace('playbook = "local-model-program"', 'playbook = "playbook.yaml"')
    if 'playbook = "playbook.yaml"' not in toml:
        toml = toml.replace("[program]\n", '[program]\nplaybook = "playbook.yaml"\n')
    (_isolated / "inhouse.toml").write_text(toml)
    again = Program.open(_isolated, clock=clock)
    assert not any("playbook" in w for w in again.status()["warnings"])
    again.close()
