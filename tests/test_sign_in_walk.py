"""The honest walk of a real program with the organisation's sign-in set up from the start:
plays 1 to 3 exit, and play 4 starts and takes its first pilot members, without one waiver.

lena leads and owns plays 1, 2 and 4; omar owns play 3; bob stands the baseline up from the docs
and reruns omar's workflow; pia, dan and eve ask to get in and join the pilot. Each acts with a
key of their own from their own laptop (``tests.people.enrol``) and signs in with an account of
their own at the stand-in identity provider (:mod:`inhouse.testing.standin_idp`, on loopback:
no real provider can run here). Evidence is recorded as its collector records it, signed by
whoever measured it. bob signs in late: until he does, his verify is shown and not counted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import AntiPattern, NotAllowed, Refused
from inhouse.identity import SigningKey
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Reach
from inhouse.program.evaluation import context_for
from inhouse.program.playchecks.pilot import set_aside
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.locks import JUDGED
from tests.pilot.test_play_four_walk import TRACK
from tests.test_delegation_machine import _session
from tests.test_engine import DIGEST, HERE, LOCK, lock_baseline, measured, prove, reproduce
from tests.test_forgery import _checks
from tests.test_sign_in import _sign_in, signed_in_team

TEAMS = {"omar": "support", "bob": "ops", "pia": "legal", "dan": "finance", "eve": "sales"}


def _plays(program: Program) -> list[str]:
    """Each play's state, as `inhouse status` shows it."""
    return [play["state"] for play in program.status()["plays"]]


def _outcomes(status: dict[str, Any], number: int, part: str = "exit") -> dict[str, str]:
    return {name: row["outcome"] for name, row in _checks(status, number, part).items()}


def test_a_signed_in_program_walks_to_its_pilot_without_a_waiver(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    (_isolated / "enablement").mkdir()
    (_isolated / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        # -- the sign-in, set up by the lead before anything else, and everyone on it -----------
        people = signed_in_team(lena, idp, TEAMS, later=("bob",))  # bob: after his verify
        assert set(lena.state().signed_in) == {"lena", "omar", "pia", "dan", "eve"}
        waiting = [w for w in lena.status()["warnings"] if w.startswith("not signed in with")]
        # this walk's log is SQLite, on lena's machine: nobody signs in to it from their own
        # (tests/test_walk56.py pins what it says instead, and what PostgreSQL's says)
        assert len(waiting) == 1, waiting
        assert waiting[0].startswith(
            f"not signed in with {idp.issuer}: bob; what they sign counts once they have, with "
            "`inhouse sign-in login` where the log is. This program's log is SQLite"
        ), waiting
        omar, bob, pia = people["omar"], people["bob"], people["pia"]

        # -- play 1: lena's hypothesis, her trial's verdict, handed on to herself ---------------
        prove(lena)
        status = lena.status()
        assert _outcomes(status, 1, "trigger") == {"hypothesis-recorded": "pass"}
        assert _outcomes(status, 1) == {"value-proven": "pass"}
        assert _plays(lena)[:2] == ["exit-met", "not-started"]
        lena.offer_handoff(None, 1, to="lena")
        # from her desktop, before that key signed in: refused, told where to sign in (through
        # a dashboard session that key started, not "this machine": the dashboard's host)
        desktop = SigningKey.generate()
        lena.join(str(lena.invite("lena")), desktop, at_machine="lena-desktop")
        with pytest.raises(NotAllowed, match="`inhouse sign-in login` on this machine first"):
            lena.using(desktop).accept_handoff(None, 1)
        # (this walk's log is SQLite, on lena's laptop: the session's key signs in there only)
        with pytest.raises(NotAllowed, match="where the log is, on this machine: this program's"):
            _session(lena.using(desktop)).accept_handoff(None, 1)
        _sign_in(lena.using(desktop), idp, "u-lena")
        lena.accept_handoff(None, 1, comment="the trial report is the use case")
        assert _plays(lena)[:2] == ["exited", "not-started"]

        # -- play 2: pia asks in; lena locks; bob verifies, and counts once he signs in ---------
        trigger = _checks(lena.status(), 2, "trigger")
        assert trigger["access-requested"]["outcome"] == "fail"
        pia.request_access(reason="legal wants contract summaries off the cloud")
        trigger = _checks(lena.status(), 2, "trigger")
        assert trigger["access-requested"]["outcome"] == "pass"
        assert trigger["access-requested"]["reason"] == "access requested by pia"
        assert _plays(lena)[1] == "ready"
        lena.start_play(None, 2)
        lock_baseline(lena)
        verify = measured(bob, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        reproduce(bob)  # he reran play 1's trial there too (trial-reproduced)
        second = _checks(lena.status(), 2)["second-person-verified"]
        # shown beside the check, not counted: the check asks a person instead of passing
        assert second["outcome"] == "inconclusive"
        assert (
            f"not counted: fact #{verify.id} baseline.verify: signed by bob, who has not signed "
            f"in with {idp.issuer}"
        ) in second["reason"]
        with pytest.raises(Refused, match="exit criteria are not met") as refused:
            lena.offer_handoff(None, 2, to="omar")
        missing, rerun = refused.value.missing
        assert missing.startswith("a second person stood the environment up from the docs")
        assert "(needs a person: " in missing and "signed by bob, who has not signed in" in missing
        assert rerun.startswith("that second person reran play 1's proven trial")
        assert "signed by bob, who has not signed in" in rerun
        _sign_in(bob, idp, "u-bob")
        status = lena.status()
        assert _outcomes(status, 2) == dict.fromkeys(
            ("baseline-pinned", "install-script-written", "data-rules-written",
             "second-person-verified", "trial-reproduced"), "pass",
        )  # fmt: skip
        second = _checks(status, 2)["second-person-verified"]
        assert second["reason"].startswith(f"bob verified lock {LOCK[:12]} on their own machine")
        assert not any(w.startswith("not signed in with") for w in status["warnings"])
        assert _plays(lena)[1] == "exit-met"
        lena.offer_handoff(None, 2, to="omar", comment="the lock, the script, the docs")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
        assert _plays(lena)[1:3] == ["exited", "not-started"]

        # -- play 3: omar names his task, publishes a workflow on the lock, bob reruns it -------
        measured(omar, "task.named", task="ticket-summary", frequency="daily")
        assert _outcomes(lena.status(), 3, "trigger") == {
            "baseline-pinned": "pass", "recurring-task-named": "pass"
        }  # fmt: skip
        omar.start_play(None, 3)
        measured(omar, "workflow.spec", workflow="ticket-summary", content_hash="v1",
                 author="omar", model="m0", model_digest=DIGEST)  # fmt: skip
        run = {"workflow": "ticket-summary", "content_hash": "v1", "lock_hash": LOCK,
               "passed": True, "pass_rate": 1.0, "cases": 3, **HERE, **JUDGED}  # fmt: skip
        measured(omar, "workflow.run", **run)
        by_other = _checks(lena.status(), 3)["workflow-run-by-other"]
        assert by_other["outcome"] == "fail" and "its author (omar" in by_other["reason"]
        # the pilot is still shut, for play 3 alone: the sign-in is set up, so that is no blocker
        with pytest.raises(AntiPattern, match="scaling before proving") as early:
            add_member(lena, "pia", track="everyone")
        assert early.value.guard == "scaling-before-proving"
        assert "needs play 3 (workflow) to exit first" in str(early.value)
        assert "play 1" not in str(early.value) and "play 2" not in str(early.value)
        assert "sign-in" not in str(early.value)
        assert early.value.missing == [
            "someone other than its author ran the workflow's tests and passed (missing: "
            f"{by_other['reason']})"
        ]
        assert "pilot-user" not in lena.state().people["pia"].roles
        measured(bob, "workflow.run", **run)
        status = lena.status()
        assert _outcomes(status, 3) == dict.fromkeys(
            ("workflow-pinned", "workflow-tests-pass", "workflow-run-by-other"), "pass"
        )
        assert (
            "bob (not the author, omar) passed it"
            in _checks(status, 3)["workflow-run-by-other"]["reason"]
        )
        omar.offer_handoff(None, 3, to="lena", comment="the workflow")
        lena.accept_handoff(None, 3, comment="ready for a pilot")
        assert _plays(lena)[:4] == ["exited", "exited", "exited", "not-started"]

        # -- play 4: demand spreads, lena starts it and lets the pilot in ------------------------
        demand = _checks(lena.status(), 4, "trigger")["demand-spreading"]
        assert demand["outcome"] == "fail" and "by 1 distinct person, need 3" in demand["reason"]
        people["dan"].request_access(reason="finance wants the invoice workflow")
        people["eve"].request_access(reason="sales wants to try it")
        assert _outcomes(lena.status(), 4, "trigger") == {
            "workflow-tests-pass": "pass", "demand-spreading": "pass"
        }  # fmt: skip
        lena.start_play(None, 4)
        # the guard lets the pilot in on the evidence alone: it uses no waiver
        assert lena.check_reach(None, Reach.PILOT, action="add the pilot") == []
        for name in ("pia", "dan", "eve"):
            add_member(lena, name, track="everyone")
        status = lena.status()
        assert _plays(lena)[:4] == ["exited", "exited", "exited", "running"]
        assert status["plays"][3]["started_under_waivers"] == []
        assert status["waivers"] == []
        roles = {n: lena.state().people[n].roles for n in ("pia", "dan", "eve")}
        assert all("pilot-user" in held for held in roles.values()), roles
        assert set_aside(context_for(lena.state(), lena.clock())) == {}
        size = _checks(status, 4)["pilot-size"]
        assert size["outcome"] == "fail"
        assert size["reason"].startswith("the pilot has 3 members; the play wants 5 to 10: add "), (
            size
        )
        demand = _checks(status, 4, "trigger")["demand-spreading"]
        assert demand["reason"] == "3 people asked for access"  # nobody set aside
        assert not any("not signed in" in w for w in status["warnings"])
        refusals = [r["guards"] for r in status["refusals"]]
        assert refusals == [["scaling-before-proving"]]  # only the early attempt in play 3
    # a full fold, in another process's shoes, reads the same walk from the log
    again = Program.open(lena.folder, clock=clock)
    assert again.state().tampered is None
    assert _plays(again)[:4] == ["exited", "exited", "exited", "running"]
    assert set(again.state().signed_in) == {"lena", *TEAMS}
    again.close()
    lena.close()
