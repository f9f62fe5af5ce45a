"""The program's sequence against forgeries one person (the program's lead, or a co-lead who owns a
play) makes with her own keys, appended around the API, in a real (non-demo) program with the
organisation's sign-in set up: a self-handoff re-offered to someone else, a not-worth-it stop
over a proven verdict, and the playbook renamed to hide a held-back start. Each test asserts the
refusal or the non-exit the rules promise (docs/concepts.md); each failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import AntiPattern
from inhouse.program import Program
from inhouse.program.evaluation import evidence_hash, exit_results
from inhouse.program.events import EventKind
from inhouse.program.guards import reach_blockers
from inhouse.program.playbook import Reach
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import prove
from tests.test_self_handoff import _play_three_met
from tests.test_sign_in import _sign_in


def _fresh(program: Program, clock: Clock) -> Program:
    """Any reader's fold from scratch (another machine, no fold cache of the writer's)."""
    return Program.open(program.folder, clock=clock)


# -- 1. a self-handoff, then a re-offer: the play counts as exited to the reach guards ----------


def test_a_self_handed_play_re_offered_to_someone_else_still_holds_the_pilot_shut(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """omar (a co-lead, play 3's owner) hands play 3 to himself around the API (offer, accept,
    exit: the fold takes them, status shows 'exit-met', the reach guards wait). He then appends
    one more offer, to anyone else (here lena; a name off the roster works as well). Nobody
    accepts it. The play is still not handed on: the guards judge the hand it exited to (it
    once read the current offer's receiver, and the pilot opened with no waiver)."""
    lena, omar = _play_three_met(_isolated, clock, idp)
    play3 = omar.playbook.play(3)
    digest = evidence_hash(exit_results(play3, omar.state(), omar.clock()))
    offer = {"play": "workflow", "evidence_hash": digest, "comment": ""}
    omar._append(EventKind.HANDOFF_OFFERED, "omar", {**offer, "to": "omar"})
    omar._append(EventKind.HANDOFF_ACCEPTED, "omar", {"play": "workflow", "evidence_hash": digest})
    omar._append(EventKind.PLAY_EXITED, "omar", {"play": "workflow", "evidence_hash": digest})
    # the re-offer: to lena, who never accepts it
    omar._append(EventKind.HANDOFF_OFFERED, "omar", {**offer, "to": "lena"})

    fresh = _fresh(omar, clock)
    try:
        state = fresh.state()
        assert state.tampered is None
        view = {p["id"]: p for p in fresh.status()["plays"]}
        assert view["workflow"]["state"] == "handoff-offered"  # status: not exited…
        # …and the reach guards must agree: play 3 was never handed on to another owner
        blockers = reach_blockers(fresh.playbook, Reach.PILOT, state, fresh.clock())
        assert [b.guard.value for b in blockers] == ["scaling-before-proving"]
    finally:
        fresh.close()
    dora = enrol(lena, "dora", team="legal")
    _sign_in(dora, idp, "u-dora")
    with pytest.raises(AntiPattern, match="scaling before proving"):
        omar.change_roles(None, "dora", add=["pilot-user"])  # through the API
    lena.close()


# -- 2. a not-worth-it stop the API refuses, appended around it ---------------------------------


def test_a_not_worth_it_stop_appended_over_a_proven_verdict_is_no_success(
    _isolated: Path, clock: Clock
) -> None:
    """The API stops a program as 'not worth it' only on play 1's latest counted verdict saying
    so. lena appends one over a *proven* verdict, citing that very verdict as its evidence: the
    fold stops there, as at any forgery (it once checked only who signed the stop, and every
    status presented the program as 'stopped: not worth it … a successful outcome')."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    enrol(lena, "omar", team="support", roles=["play-owner"])  # sets up the sign-in
    prove(lena, verdict="proven")
    verdict = lena.state().facts[-1]
    assert verdict.kind == "trial.verdict" and verdict.payload["verdict"] == "proven"
    lena._append(
        EventKind.PROGRAM_STOPPED,
        "lena",
        {"reason": "not-worth-it", "evidence": [verdict.id], "comment": "hosted API stays"},
    )
    fresh = _fresh(lena, clock)
    try:
        state = fresh.state()
        assert state.tampered is not None
        assert "cites a trial verdict saying so (it cites #11 proven)" in state.tampered[0]
        assert state.stopped is None
        assert fresh.status()["program"]["stopped"] is None
    finally:
        fresh.close()
    lena.close()


# -- 4. the playbook renamed mid-program, an exact copy: starts are no longer judged ------------


def test_an_exact_copy_of_the_playbook_under_another_name_still_shows_a_held_back_start(
    _isolated: Path, clock: Clock
) -> None:
    """lena appends play 2's start around the API while play 1 was never handed off: every
    fold shows it held back (botched handoff) and the API offers no handoff of play 2. She then
    points ``inhouse.toml`` at an exact copy of the shipped playbook under a name of her own
    ('acme'): ``dropped_from_shipped`` finds nothing eased, status says only that the program
    now loads acme v1, and ``_held_back`` returns None for every start because the recorded
    playbook name differs (state.py, "another playbook's play"), so the held-back start, its
    warning and the refusal of its handoff were gone. A playbook that decides exactly what the
    program's did (its rules' hash, recorded at creation) is the same playbook by any name."""
    import re
    from importlib import resources

    import yaml

    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    prove(lena)  # play 1 proven, its handoff never offered or accepted
    omar.request_access(reason="I want the triage model")  # play 2's trigger holds
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "baseline", "owner": "lena",
                                                  "waivers": []})  # fmt: skip
    assert "baseline" in lena.state().held_back  # shown, as the rules promise
    lena.close()

    text = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    book = yaml.safe_load(text)
    book["name"] = "acme"
    (_isolated / "acme.yaml").write_text(yaml.safe_dump(book, sort_keys=False))
    toml = _isolated / "inhouse.toml"
    toml.write_text(re.sub(r'playbook = "[^"]*"', 'playbook = "acme.yaml"', toml.read_text()))

    fresh = _fresh(lena, clock)
    try:
        from inhouse.program.playbook import dropped_from_shipped

        assert dropped_from_shipped(fresh.playbook) == []  # nothing eased: an exact copy
        assert "baseline" in fresh.state().held_back
        assert [h["guard"] for h in fresh.status()["plays"][1]["held_back"]] == ["botched-handoff"]
    finally:
        fresh.close()
