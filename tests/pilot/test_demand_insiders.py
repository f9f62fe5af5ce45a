"""Play 4's trigger, demand spreading, counts people who want in: not those who built what they
would ask for. A forgery in a real program with the organisation's sign-in set up."""

from __future__ import annotations

from pathlib import Path

from inhouse.program import Program
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.test_engine import DIGEST, LOCK, lock_baseline, measured, prove
from tests.test_forgery import _checks
from tests.test_sign_in import signed_in_team

TEAMS = {"omar": "support", "bob": "ops", "pia": "legal", "dan": "finance"}


def _to_play_three(lena: Program, idp: StandinIdP) -> dict[str, Program]:
    """The honest walk of tests/test_sign_in_walk.py up to omar owning play 3: lena leads and
    owns plays 1-2, pia asked in (play 2's trigger), bob verified the lock, omar started play 3
    and published his workflow."""
    people = signed_in_team(lena, idp, TEAMS)
    omar, bob, pia = people["omar"], people["bob"], people["pia"]
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    pia.request_access(reason="legal wants contract summaries off the cloud")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(bob, "baseline.verify", lock_hash=LOCK, passed=True)
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2)
    measured(omar, "task.named", task="ticket-summary", frequency="daily")
    omar.start_play(None, 3)
    measured(omar, "workflow.spec", workflow="ticket-summary", content_hash="v1",
             author="omar", model="m0", model_digest=DIGEST)  # fmt: skip
    return people


def test_a_play_owner_asking_for_access_is_not_spreading_demand(
    _isolated: Path, clock: Clock
) -> None:
    """The owner of play 3 is an insider who already has the tool: his own `inhouse access
    request` is not one of the "several distinct people" asking in (it once was, so the pilot
    started on two real askers instead of three), and the reason says why he is set aside."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        people = _to_play_three(lena, idp)
        people["dan"].request_access(reason="finance wants the invoice workflow")
        before = _checks(lena.status(), 4, "trigger")["demand-spreading"]
        assert before["outcome"] == "fail", before
        assert "by 2 distinct people, need 3" in before["reason"], before
        # the forgery: play 3's owner, an insider, asks in himself
        people["omar"].request_access(reason="I own play 3")
        demand = _checks(lena.status(), 4, "trigger")["demand-spreading"]
        assert demand["outcome"] == "fail", demand["reason"]
        assert "by 2 distinct people" in demand["reason"], demand["reason"]
        assert "omar (a lead or a play's owner" in demand["reason"], demand["reason"]
    lena.close()
