"""The outsider, round 15: paths through plays 1 to 4 the earlier walks do not try.

Same lena as tests/test_outsider.py (one laptop, one account at the organisation's identity
provider, full control of her machine, the program folder, its database and the Python API; she
leads the program and owns its plays). Where a walk needs a real colleague (omar, signed in with
his own account), he does only what he would honestly do: run, once, on his own machine, the
command lena asks him to run, on the files she prepared.
"""

from __future__ import annotations

import pytest

from inhouse.program import Program
from inhouse.program.playchecks import prove as prove_checks
from inhouse.testing.standin_idp import StandinIdP
from tests.test_engine import OLDER_RERUN, measured, prove, reproduce
from tests.test_outsider import _alias, clock, lena  # noqa: F401
from tests.test_outsider_more import _judge, _judge_trigger
from tests.test_sign_in import _sign_in

pytestmark = pytest.mark.own_sign_in


# -- plays 1 and 2: quality checks of hers that pass any answer at all -----------------------------


def test_quality_checks_any_sentence_passes_prove_no_quality(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """The last round made a trial's quality rest on checks an empty answer fails. The
    cheapest such check is `length min 1`: an empty answer fails it, so `proved` counts every
    input, yet any sentence at all passes it, so "at acceptable quality" still says nothing, and
    omar's honest rerun of lena's trial (his own machine, the proven weights, her checks) "holds"
    whatever his model answers. `inhouse prove` now also judges the checks on off-topic prose
    exactly as long as the candidate's own answer (so `length min 80`, which a fixed sentence
    would fail by its length, passes it too) and records `on_topic`, how many inputs the
    candidate passed that both fail; 0 fails value-proven and trial-reproduced, naming it.
    Checks that judge what the answer says still prove it."""
    prove(lena)
    verdict = lena.state().facts[-1].payload
    measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 0})
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "fail", reason
    assert "pass off-topic prose as long as the candidate's answer on every input" in reason
    measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 9})
    assert _judge_trigger(lena, "value-proven")[0] == "pass"
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")  # a real colleague, signed in with his own account
    reproduce(omar, proved=9, on_topic=0)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "pass a case off-topic prose as long as its answer fails" in reason, reason
    # omar's reruns of one spec are one body of evidence: his next, whose checks judged what
    # his answers said, is pooled with the first, whose passes judged nothing (counted failed)
    reproduce(omar, proved=9, on_topic=9)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail" and "judged together" in reason, reason
    # a colleague's own rerun on checks that judge what the answer says reproduces it
    sam = _alias(lena, "sam", "support")
    _sign_in(sam, idp, "u-sam")
    reproduce(sam, proved=9, on_topic=9)
    assert _judge(lena, "trial-reproduced")[0] == "pass"


def test_a_play_one_that_exited_before_the_rule_keeps_its_pass(
    lena: Program,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Programs already running: a play 1 that exited, before the rule, on a verdict whose
    checks pass off-topic prose keeps value-proven's pass on it, saying what today's rule asks
    (the reach guards re-judge exits by the checks loaded now). A verdict recorded before
    verdicts said (no `on_topic`) counts as it did; one recorded since the exit is judged by
    today's rule (tests/test_exit_scope.py)."""
    prove(lena)
    assert _judge_trigger(lena, "value-proven")[0] == "pass"  # no on_topic: as before
    verdict = lena.state().facts[-1].payload
    with monkeypatch.context() as before:  # the check as it was
        before.setattr(prove_checks, "_off_topic_passes", lambda ctx, verdict: False)
        measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 0})
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "pass", reason
    assert "note: its quality checks pass off-topic prose" in reason, reason
    measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 0})
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "fail", reason
    assert "pass off-topic prose as long as the candidate's answer on every input" in reason


def test_a_rerun_by_an_older_inhouse_after_a_newer_verdict_reproduces_nothing(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena's verdict says what its checks did on answers given for nothing (her inhouse is
    current); she pins an older inhouse in the lock, so the install script omar runs gives him
    one that judges neither (its rerun records no `proved`, no `on_topic`), and his honest rerun
    of her checks would count "as before". A rerun that does not say it, recorded after a trial
    fact that did, was made by an older inhouse than the program's (as workflows' runs are
    judged): it reproduces nothing, saying so; his rerun after upgrading does."""
    prove(lena)
    verdict = lena.state().facts[-1].payload
    measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 9})
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")  # a real colleague, signed in with his own account
    reproduce(omar, **OLDER_RERUN)  # an older inhouse: neither field
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "was made by an inhouse older than the one that recorded fact #" in reason, reason
    assert "upgrades inhouse and reruns it" in reason, reason
    reproduce(omar, proved=9, on_topic=9)
    assert _judge(lena, "trial-reproduced")[0] == "pass"
