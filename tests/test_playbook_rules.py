"""The playbook a program runs is named in inhouse.toml (the program folder, in git); the log
records its name, version and what it decides (``Playbook.rules``). A lead who copies the shipped
playbook under the same name and version, eases a check's parameters and points inhouse.toml at
the copy is named by status on every machine."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import trigger_results
from tests.conftest import Clock


def _shipped_book() -> dict[str, Any]:
    """The shipped playbook's YAML, parsed, for a test to turn into one of its own."""
    text = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    book: dict[str, Any] = yaml.safe_load(text)
    return book


def _own_playbook_warning(
    request: pytest.FixtureRequest, folder: Path, clock: Clock, book: dict[str, Any]
) -> str:
    """Create a program on ``book`` (a playbook of its own) and return status's warning about
    what it leaves out of the shipped one."""
    path = folder / "acme.yaml"
    path.write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    lena = Program.init(folder, "Acme", "lena", clock=clock, playbook=str(path))
    request.addfinalizer(lena.close)
    [said] = [w for w in lena.status()["warnings"] if "a playbook of its own" in w]
    return said


def _use_beyond(program: Program) -> Outcome:
    play = program.playbook.play("measure")
    found = trigger_results(play, program.state(), program.clock())
    return next(c.result for c in found if c.ref.check == "use-beyond-pilot").outcome


pytestmark = pytest.mark.usefixtures("on_database")


def test_a_playbook_eased_under_the_same_name_and_version_is_named(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """A program created with a playbook of its own (acme v1); the file is edited afterwards,
    keeping its name and version, to ease play 6's check. Under the shipped name the same edit
    does not load at all."""
    from inhouse.errors import PlaybookError

    shipped = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    own = shipped.replace("name: local-model-program", "name: acme", 1)
    assert own != shipped
    (_isolated / "acme.yaml").write_text(own)
    lena = Program.init(_isolated, "Acme", "lena", clock=clock, playbook="acme.yaml")
    request.addfinalizer(lena.close)
    assert _use_beyond(lena) is Outcome.FAIL  # nobody uses it: nobody beyond the pilot
    assert lena.state().playbook_rules == lena.playbook.rules()

    def eased(text: str) -> str:
        return text.replace(
            "      - check: use-beyond-pilot\n        title: the tool is in real use beyond the "
            "pilot\n        params: {min_people: 1}",
            "      - check: use-beyond-pilot\n        title: the tool is in real use beyond the "
            "pilot\n        params: {min_people: 0}",
        )

    assert eased(own) != own
    (_isolated / "acme.yaml").write_text(eased(own))
    again = Program.open(_isolated, clock=clock)
    request.addfinalizer(again.close)
    assert _use_beyond(again) is Outcome.PASS  # the loaded playbook judges: shown, not hidden
    warnings = again.status()["warnings"]
    [said] = [w for w in warnings if "decides otherwise than the one the program was created" in w]
    assert f"recorded {lena.state().playbook_rules}" in said

    (_isolated / "shipped-copy.yaml").write_text(eased(shipped))
    toml = (_isolated / "inhouse.toml").read_text()
    (_isolated / "inhouse.toml").write_text(toml.replace("acme.yaml", "shipped-copy.yaml"))
    with pytest.raises(PlaybookError, match="the name of a playbook inhouse ships"):
        Program.open(_isolated, clock=clock)


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


def _eased(folder: Path, name: str) -> Path:
    """A copy of the shipped playbook that keeps every title but swaps each check someone else
    must give evidence for with one the lead passes alone, hands every play to the same owner,
    and drops the reach gates."""
    book = _shipped_book()
    book["name"] = name
    book.pop("reach", None)
    swap = {"second-person-verified": "data-rules-written",
            "workflow-run-by-other": "workflow-tests-pass"}  # fmt: skip
    for play in book["plays"]:
        if "previous" in play["owner"]:
            play["owner"]["previous"] = "same"
        for part in ("trigger", "exit"):
            for ref in play.get(part) or []:
                if ref["check"] in swap:  # the title stays: status reads as before
                    ref["check"], ref["params"] = swap[ref["check"]], {}
    path = folder / "playbooks" / f"{name}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    return path


def test_a_file_under_the_shipped_name_must_decide_what_the_shipped_one_does(
    _isolated: Path, clock: Clock
) -> None:
    """Chosen at `inhouse init`, such a copy was recorded as the program's own rules, so status
    compared it with itself: one key walked plays 1 to 4 with nothing said."""
    from inhouse.errors import PlaybookError

    eased = _eased(_isolated, "local-model-program")
    with pytest.raises(PlaybookError, match="a playbook of your own takes a name of its own"):
        Program.init(_isolated, "Acme", "lena", clock=clock, playbook=str(eased))
    assert not (_isolated / "inhouse.toml").exists()  # refused before anything was written


def test_a_playbook_of_its_own_says_what_it_leaves_out(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """Under a name of its own the copy loads, and every status names what it drops; without a
    reach gate, widening to a pilot waits for a waiver naming what it drops, and for the
    organisation's sign-in."""
    from inhouse.program.guards import reach_blockers
    from inhouse.program.playbook import Reach

    eased = _eased(_isolated, "acme-easy")
    lena = Program.init(_isolated, "Acme", "lena", clock=clock, playbook=str(eased))
    request.addfinalizer(lena.close)
    assert not lena.playbook.shipped
    [said] = [w for w in lena.status()["warnings"] if "a playbook of its own" in w]
    assert "second-person-verified (play 2's exit)" in said
    assert "workflow-run-by-other (play 3's exit)" in said
    assert "the pilot reach gate" in said and "the beyond-pilot reach gate" in said
    assert "another owner for workflow" in said
    blockers = reach_blockers(lena.playbook, Reach.PILOT, lena.state(), clock.now)
    assert [b.guard.value for b in blockers] == ["scaling-before-proving"] * 2
    # its gates are its lead's: what it drops before the pilot asks a waiver on the record
    assert "a playbook of the program's own" in blockers[0].message
    assert "second-person-verified (play 2's exit)" in blockers[0].missing
    assert "the pilot reach gate at workflow" in blockers[0].missing
    assert not [m for m in blockers[0].missing if "beyond-pilot" in m]
    assert "the organisation's sign-in" in blockers[1].missing[0]


def test_a_playbook_of_its_own_that_keeps_every_name_but_eases_the_parameters_is_named(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """Renamed to read like the shipped one, every check name kept, but pilot-size made
    1-1000 across one team and play 4's survey check moved out of its exit: status names both
    (and the pilot's places are the playbook's, so the size is what widened)."""
    book = _shipped_book()
    book["name"] = "local-model-program-acme"
    for play in book["plays"]:
        for ref in play["exit"]:
            if ref["check"] == "pilot-size":
                ref["params"] = {"min": 1, "max": 1000, "min_teams": 1}
        play["exit"] = [r for r in play["exit"] if r["check"] != "pilot-would-resist-losing"]
    said = _own_playbook_warning(request, _isolated, clock, book)
    assert "pilot-size (play 4's exit) with {'min': 1, 'max': 1000, 'min_teams': 1}" in said
    assert "pilot-would-resist-losing (play 4's exit)" in said


def test_a_playbook_of_its_own_without_the_triggers_that_wait_for_others_is_named(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """A copy under its own name that keeps every exit, gate and owner rule but drops play 2's
    `access-requested` and play 4's `demand-spreading` triggers (someone else asking in, demand
    spreading) lets one lead start plays nobody asked for: status names both, and a play whose
    owner's role changed."""
    book = _shipped_book()
    book["name"] = "acme-program"
    waiting = {"access-requested", "demand-spreading"}
    for play in book["plays"]:
        kept = [r for r in play["trigger"] if r["check"] not in waiting]
        play["trigger"] = kept
    book["plays"][2]["owner"]["role"] = "rollout-lead"
    said = _own_playbook_warning(request, _isolated, clock, book)
    assert "access-requested (play 2's trigger)" in said
    assert "demand-spreading (play 4's trigger)" in said
    assert "play 3's owner as play-owner (it names rollout-lead)" in said


def test_a_playbook_of_its_own_that_reorders_or_loosens_its_plays_is_named(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """Every check and gate kept, but the workflow play moved first (the pilot's gate waits for
    its play and those before it), play 2 handed to anyone instead of the same owner, and
    play 6's exit no longer ongoing: status names each."""
    book = _shipped_book()
    book["name"] = "acme-program"
    plays = book["plays"]
    plays.insert(0, plays.pop(2))
    for play in plays:
        if play["id"] == "baseline":
            play["owner"]["previous"] = "any"
        if play["id"] == "measure":
            play["ongoing"] = False
    said = _own_playbook_warning(request, _isolated, clock, book)
    assert "the plays' order (prove-value, baseline, workflow," in said
    assert "it has workflow, prove-value, baseline," in said
    assert "the same owner for baseline (it asks any owner)" in said
    assert "play 6's ongoing exit (on)" in said
