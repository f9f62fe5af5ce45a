"""Red team (rt14), plays 1 to 4, one person alone: three holes, each closed by an exit rule
(23 ``VERSION_IN_CHARGE``, 24 ``POOLED_ADVANTAGE``, 25 ``MACHINES_THEN``; each section below
says its attack).

**One colleague alone un-does play 3 with an edited copy of the workflow.**

The cast of tests/workflows/test_author_flip.py: lena leads the program and owned plays 1 and
2, vic asked to get in and stood the baseline up, omar owns play 3; each signed in with their
own account at the organisation's provider. lena wrote the triage workflow (v1) and vic reran
it: play 3 exited, and play 4 started. pia, who only asked to get in (no role, nobody put her in
charge of anything), edits her checkout's copy of the workflow and runs `inhouse workflow test
triage` on her laptop: the runner publishes her edit as a new version (v2), with her failing
run. Play 3 was judged on the workflow's latest published version whoever published it, so v2,
which nobody else ran, was the one judged: play 3's exit no longer held, and the reach guards
held the whole pilot back. A colleague's own trial verdict once did the same to play 1
(tests/test_redteam12q.py): a verdict counts only from play 1's owner or someone in charge.

Exit rule 27 (:data:`~inhouse.program.checks.VERSION_IN_CHARGE`): a version published since a
workflow's first displaces the one judged only where it is the program's: published or run by
someone a lead put in charge then, or passed by someone other than its author.

Real parts: SQLite, each person's own key from their own laptop, the stand-in identity provider
on loopback, runs recorded through the runner's own recording code.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.guards import reach_blockers
from inhouse.program.playbook import Reach
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_redteam_lead_second import team  # noqa: F401
from tests.test_sign_in import _judge, _sign_in
from tests.workflows.test_author_flip import _play_three, _test_run

_PLAY_THREE = ("workflow-pinned", "workflow-tests-pass", "workflow-run-by-other")


def _checks(program: Program) -> dict[str, tuple[Outcome, str]]:
    results = {name: _judge(program, "workflow", name) for name in _PLAY_THREE}
    return {name: (r.outcome, r.reason) for name, r in results.items()}


def _exited_cast(_isolated: Path, clock: Clock, idp: StandinIdP) -> dict[str, Program]:
    """lena's v1, vic's rerun, play 3 handed to lena and play 4 started on three colleagues'
    asking (pia among them)."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    _test_run(lena, "v1", passed=True)
    _test_run(vic, "v1", passed=True)
    omar.offer_handoff(None, 3, to="lena")
    lena.accept_handoff(None, 3)
    for name, works_in in (("pia", "legal"), ("carl", "sales"), ("dan", "hr")):
        cast[name] = enrol(lena, name, team=works_in)
        _sign_in(cast[name], idp, f"u-{name}")
        cast[name].request_access(reason="I want the triage model")
    lena.start_play(None, 4)
    assert [p["state"] for p in lena.status()["plays"][:3]] == ["exited"] * 3
    assert reach_blockers(lena.playbook, Reach.PILOT, lena.state(), lena.clock()) == []
    return cast


def test_a_colleague_s_edited_copy_does_not_undo_play_three(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    cast = _exited_cast(_isolated, clock, idp)
    lena, pia = cast["lena"], cast["pia"]
    try:
        # the forgery: pia edits her copy and runs its tests; her run publishes v2 and fails
        facts = _test_run(pia, "v2", passed=False)
        assert [f.kind for f in facts] == ["workflow.spec", "workflow.run"]
        checks = _checks(lena)
        assert {name: outcome for name, (outcome, _) in checks.items()} == dict.fromkeys(
            _PLAY_THREE, Outcome.PASS
        ), checks
        assert checks["workflow-run-by-other"][1].startswith("vic (not the author, lena)")
        assert lena.status()["plays"][2]["state"] == "exited"
        assert reach_blockers(lena.playbook, Reach.PILOT, lena.state(), lena.clock()) == []
        # nor does her passing run of it, on her own, nor a run of it by another colleague
        # nobody put in charge who fails it
        _test_run(pia, "v2", passed=True)
        _test_run(cast["carl"], "v2", passed=False)
        assert lena.status()["plays"][2]["state"] == "exited"
    finally:
        lena.close()


def test_a_version_someone_in_charge_publishes_is_judged(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """Honest: omar, play 3's owner, publishes v2: the program's next version is judged, as
    before, and needs its rerun by someone other than its author."""
    cast = _exited_cast(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _test_run(omar, "v2", passed=True)
        checks = _checks(lena)
        assert checks["workflow-run-by-other"][0] is Outcome.FAIL, checks
        assert "(omar, who published this version)" in checks["workflow-run-by-other"][1]
        _test_run(vic, "v2", passed=True)
        checks = _checks(lena)
        assert checks["workflow-run-by-other"][0] is Outcome.PASS, checks
        assert checks["workflow-run-by-other"][1].startswith("vic (not the author, omar)")
    finally:
        lena.close()


def test_a_colleague_s_version_someone_in_charge_ran_or_another_passed_is_judged(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """Honest: a version a colleague with no role published is the program's once play 3's
    owner runs it (passing or not), or once someone other than its author passed it."""
    cast = _exited_cast(_isolated, clock, idp)
    lena, omar, pia, carl = cast["lena"], cast["omar"], cast["pia"], cast["carl"]
    try:
        _test_run(pia, "v2", passed=True)
        _test_run(omar, "v2", passed=False)  # the owner tries it: it is the one judged now
        checks = _checks(lena)
        assert checks["workflow-tests-pass"][0] is Outcome.PASS, checks  # pia's own pass
        assert checks["workflow-run-by-other"][0] is Outcome.FAIL, checks
        assert "(pia, who published this version)" in checks["workflow-run-by-other"][1]
        # v3, pia's again, passed by carl (no role either) beside her own pass: proven
        _test_run(pia, "v3", passed=True)
        _test_run(carl, "v3", passed=True)
        checks = _checks(lena)
        assert checks["workflow-run-by-other"][0] is Outcome.PASS, checks
        assert checks["workflow-run-by-other"][1].startswith("carl (not the author, pia)")
    finally:
        lena.close()


def test_a_colleague_s_first_version_is_the_workflow_s_own(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """Honest: a workflow's first version is judged whoever published it (vic, who asked in,
    runs omar's checkout first: he is its author), as tests/workflows/test_author_flip.py
    walks it."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _test_run(vic, "v1", passed=True)
        _test_run(omar, "v1", passed=True)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
        assert result.reason.startswith("omar (not the author, vic)"), result.reason
    finally:
        lena.close()


def test_the_rule_is_numbered() -> None:
    from inhouse.program import checks

    assert checks.EXIT_RULES >= checks.VERSION_IN_CHARGE == 27
    assert checks.EXIT_RULES >= checks.POOLED_ADVANTAGE == 28
    assert checks.EXIT_RULES >= checks.MACHINES_THEN == 29


# -- play 2: the claimed advantage of a colleague's pooled reruns ----------------------------------
#
# lena's verdict claims her candidate is faster (by at least 30 %) at acceptable quality. omar
# reruns it on his laptop three times: quality holds each time, but "faster" does not clear (the
# hosted status quo answers about as fast as her model, +4 %). His reruns are one pool (exit
# rule before: his quality is judged on all his inputs), yet the claimed advantage was read from
# his latest rerun alone: lena asks him to run it once more "after the network settles", one
# noisy draw clears +45 %, and play 2's trial-reproduced passed on a pool of which a quarter of
# the inputs showed the candidate faster.


def _faster(improvement: float, cleared: bool) -> Any:
    from tests.test_playchecks import rerun

    return rerun(
        proven_on=["faster"] if cleared else [],
        improvement={"faster": improvement},
        thresholds={"faster": 30.0},
    )


def _faster_verdict() -> Any:
    from tests.test_playchecks import reproducible

    return reproducible(proven_on=["faster"])


def test_the_one_draw_that_cleared_faster_among_three_that_did_not_reproduces_nothing() -> None:
    from tests.test_playchecks import run as check

    verdict = _faster_verdict()
    trailed = [_faster(4.0, cleared=False) for _ in range(3)]
    alone = check("trial-reproduced", verdict, *trailed)
    assert alone.outcome is Outcome.FAIL, alone.reason
    # the forgery: a fourth draw clears it
    lucky = check("trial-reproduced", verdict, *trailed, _faster(45.0, cleared=True))
    assert lucky.outcome is Outcome.FAIL, lucky.reason
    assert "did not clear its threshold (faster cleared on reruns holding 10 of their 40 " \
        "inputs, fewer than half)" in lucky.reason, lucky.reason  # fmt: skip
    assert "(omar's 4 reruns of it judged together: facts #" in lucky.reason, lucky.reason


def test_a_colleague_s_draws_that_clear_faster_together_reproduce_it() -> None:
    """Honest: omar's three reruns, one draw of them just under the threshold and the latest
    clearing it: reruns holding 20 of his 30 inputs cleared "faster", and his pool reproduces
    the claim. One rerun alone reads as before."""
    from tests.test_playchecks import run as check

    verdict = _faster_verdict()
    draws = [_faster(28.0, cleared=False), _faster(45.0, cleared=True), _faster(40.0, True)]
    pooled = check("trial-reproduced", verdict, *draws)
    assert pooled.outcome is Outcome.PASS, pooled.reason
    assert "judged together" in pooled.reason
    one = check("trial-reproduced", verdict, _faster(45.0, cleared=True))
    assert one.outcome is Outcome.PASS, one.reason
    # the latest draw still has to clear it (its interval, which a point does not show)
    unsettled = check("trial-reproduced", verdict, _faster(45.0, True), _faster(31.0, False))
    assert unsettled.outcome is Outcome.FAIL, unsettled.reason


def test_a_play_two_that_exited_on_the_lucky_draw_keeps_its_exit() -> None:
    """The rule came after programs exited: a play 2 that exited on the verdict keeps the
    latest rerun's reading of the advantage, said."""
    from tests.test_playchecks import NOW
    from tests.test_playchecks import run as check

    verdict = _faster_verdict()
    reruns = [*(_faster(4.0, cleared=False) for _ in range(3)), _faster(45.0, cleared=True)]
    exited = {"baseline": (NOW - timedelta(days=2), 10**9)}
    kept = check("trial-reproduced", verdict, *reruns, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "claimed advantage was judged together" in kept.reason, kept.reason


# -- a machine enrolled afterwards -----------------------------------------------------------------
#
# lena leads; omar, whom she put in charge of plays 1 and 2, typed the trial and the lock; pia,
# who asked to get in, verified the lock and reran the trial on her own laptop: play 2 holds.
# lena then enrols a key of hers stating pia's machine id (a fingerprint is its enroller's to
# state). Evidence from a machine a judged person enrolled from was set aside whenever they
# enrolled from it, so pia's honest verify and rerun no longer counted: one person's enrolment
# un-did a colleague's measure after the fact (and, where that colleague measured from two
# machines, set aside only the draws from one of them: the reruns that trailed, out of the pool
# rule 28 judges together). Exit rule 29: such a machine sets aside only what was recorded after
# a judged person enrolled from it.


def test_a_machine_the_lead_enrolled_from_afterwards_does_not_undo_a_colleague_s_measure(
    team: Any,  # noqa: F811
) -> None:
    from inhouse.identity import SigningKey
    from tests.test_engine import HERE, measured, reproduce
    from tests.test_redteam_lead_second import LOCK, _puppet_owner
    from tests.test_redteam_lead_second import _judge as judge_two

    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(pia)
    names = ("second-person-verified", "trial-reproduced")
    for name in names:
        assert judge_two(lena, name).outcome is Outcome.PASS, name
    laptop = sorted(lena.state().machines("pia"))[0]
    # the forgery: a key of lena's, enrolled "from" pia's laptop after her measures
    vm = SigningKey.generate()
    lena.join(str(lena.invite("lena")), vm, at_machine=laptop)
    _sign_in(lena.using(vm), idp, "u-lena")
    for name in names:
        result = judge_two(lena, name)
        assert result.outcome is Outcome.PASS, (name, result.reason)
        assert result.reason.startswith("pia "), (name, result.reason)
    # what pia measures there since counts too: she enrolled from it first, and a machine is
    # whoever enrolled from it first (exit rule 31, tests/test_redteam_rtid2.py)
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks._shared import other_person_elsewhere

    since = measured(pia, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    ctx = build_context(lena.state(), lena.clock())
    assert other_person_elsewhere(ctx, since, {"lena"}, play="baseline") is None


def test_a_colleague_at_a_machine_the_lead_enrolled_from_first_is_still_set_aside(
    team: Any,  # noqa: F811
) -> None:
    """Honest rule kept: carl joins at lena's laptop, after her: his verify is set aside."""
    from inhouse.identity import SigningKey
    from tests.test_engine import HERE, measured
    from tests.test_redteam_lead_second import LOCK, _puppet_owner
    from tests.test_redteam_lead_second import _judge as judge_two

    lena, omar, pia, idp = team
    _puppet_owner(lena, omar, pia)
    laptop = sorted(lena.state().machines("lena"))[0]
    key = SigningKey.generate()
    lena.join(str(lena.invite("carl", team="ops")), key, at_machine=laptop)
    carl = lena.using(key)
    _sign_in(carl, idp, "u-carl")
    measured(carl, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    result = judge_two(lena, "second-person-verified")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "carl's evidence came from a machine lena enrolled" in result.reason
