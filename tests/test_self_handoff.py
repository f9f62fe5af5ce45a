"""A play handed by its owner to himself, where the next play needs another owner, exits
nothing: three events signed with the owner's own key around the API (an offer to himself,
its acceptance, the exit) fold, but neither status nor the reach guards take the play as
exited. Found by a red-team pass: play 3 showed exited, and the pilot opened without play 4's
owner ever accepting and without a waiver."""

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
from tests.locks import JUDGED
from tests.people import enrol
from tests.test_engine import (
    DIGEST,
    HERE,
    LOCK,
    lock_baseline,
    measured,
    reproduce,
    through_play_one,
)
from tests.test_sign_in import _sign_in


def _play_three_met(_isolated: Path, clock: Clock, idp: StandinIdP) -> tuple[Program, Program]:
    """Honest plays 1-3 under the sign-in: lena (lead) owns 1-2, omar (a co-lead and
    play-owner, the lone human of this test) owns 3; vic, a real colleague, verified the
    baseline and reran omar's workflow. Returns (lena, omar)."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    through_play_one(lena)
    vic = enrol(lena, "vic", team="ops")
    _sign_in(vic, idp, "u-vic")
    vic.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(vic, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(vic)
    omar = enrol(lena, "omar", team="support", roles=["play-owner", "rollout-lead"])
    _sign_in(omar, idp, "u-omar")
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2)
    measured(omar, "task.named", task="triage", frequency="daily")
    omar.start_play(None, 3)
    measured(
        omar,
        "workflow.spec",
        workflow="triage",
        content_hash="v1",
        author="omar",
        model="m0",
        model_digest=DIGEST,
    )
    for who in (omar, vic):
        measured(
            who,
            "workflow.run",
            **HERE,
            **JUDGED,
            workflow="triage",
            content_hash="v1",
            lock_hash=LOCK,
            passed=True,
            pass_rate=1.0,
            cases=3,
            variant="default",
        )
    return lena, omar


def test_a_play_handed_to_its_own_owner_around_the_api_exits_nothing(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    lena, omar = _play_three_met(_isolated, clock, idp)
    state = omar.state()
    play3 = omar.playbook.play(3)
    digest = evidence_hash(exit_results(play3, state, omar.clock()))
    omar._append(
        EventKind.HANDOFF_OFFERED,
        "omar",
        {"play": "workflow", "to": "omar", "evidence_hash": digest, "comment": ""},
    )
    omar._append(EventKind.HANDOFF_ACCEPTED, "omar", {"play": "workflow", "evidence_hash": digest})
    omar._append(EventKind.PLAY_EXITED, "omar", {"play": "workflow", "evidence_hash": digest})
    fresh = Program.open(omar.folder, clock=clock)  # any reader's fold
    try:
        state = fresh.state()
        view = {p["id"]: p for p in fresh.status()["plays"]}
        assert view["workflow"]["state"] == "exit-met"  # its exits hold; it is not handed on
        blockers = reach_blockers(fresh.playbook, Reach.PILOT, state, fresh.clock())
        assert [b.guard.value for b in blockers] == ["scaling-before-proving"]
        dora = enrol(lena, "dora", team="legal")
        _sign_in(dora, idp, "u-dora")
        with pytest.raises(AntiPattern, match="scaling before proving"):
            lena.change_roles(None, "dora", add=["pilot-user"])
    finally:
        fresh.close()
    lena.close()


def test_a_receiver_who_leaves_later_undoes_no_exit(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """Only what time does not change is asked of an exit: omar, who received play 2's
    handoff, leaves later (his keys revoked); play 2 stays exited and the pilot stays open."""
    lena, omar = _play_three_met(_isolated, clock, idp)
    dana = enrol(lena, "dana", team="ops", roles=["rollout-lead"])
    _sign_in(dana, idp, "u-dana")
    omar.offer_handoff(None, 3, to="dana")
    dana.accept_handoff(None, 3)
    for key in lena.state().keys_of("omar"):
        lena.revoke_key(key.key_id)
    view = {p["id"]: p["state"] for p in lena.status()["plays"]}
    assert view["baseline"] == "exited" and view["workflow"] == "exited"
    assert reach_blockers(lena.playbook, Reach.PILOT, lena.state(), lena.clock()) == []
    lena.close()
