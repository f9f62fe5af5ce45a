"""The outsider, round 19: plays 1 and 2 the earlier walks do not try.

Same lena as tests/test_outsider.py (one laptop, one account at the organisation's identity
provider, full control of her machine, the program folder, its database and the Python API; she
leads the program and owns its plays). omar is a real colleague, signed in with his own account:
he does only what he would honestly do, run, once, on his own machine, the command lena asks him
to run, on the files she prepared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Program
from inhouse.testing.standin_idp import StandinIdP
from tests.engine import Engine, needs_engine
from tests.test_engine import measured, prove, reproduce
from tests.test_outsider import _alias, clock, lena  # noqa: F401
from tests.test_outsider_more import _judge, _judge_trigger
from tests.test_sign_in import _sign_in

# -- plays 1 and 2: a status quo that could not answer -----------------------------------------

#: what the trial records where its API status quo (a real hosted API, the one the tickets go to
#: today) gave no answer on any input: lena's `status_quo.timeout` (which the claim hash leaves
#: out) is below its answering time, so every request failed, and each failed request counted
#: as a failed case of its quality (0 %); the candidate's 40 % is "acceptable" beside it
UNANSWERED = {"status_quo_pass_rate": 0.0, "status_quo_measured": True, "quality_ok": True,
              "status_quo_unanswered": 10}  # fmt: skip


def _prove_against_silence(lena: Program) -> dict[str, Any]:  # noqa: F811
    """lena's verdict (after :func:`prove`'s): "more private" (a local model against a hosted
    API, by rule), at a quality the candidate only "holds" because the status quo answered
    nothing."""
    verdict = dict(lena.state().facts[-1].payload)
    verdict.update(proven_on=["more-private"], candidate_pass_rate=0.4, proved=4, on_topic=4,
                   **UNANSWERED)  # fmt: skip
    return verdict


@pytest.mark.own_sign_in
def test_a_status_quo_that_answered_nothing_proves_no_quality(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena's trial runs a weak candidate against the hosted API the tickets really go to
    today, with a `status_quo.timeout` shorter than that API takes to answer: every status quo
    request fails, counts as a failed case, and the candidate's 40 % is within the floor of the
    status quo's 0 %. omar, asked to rerun it, does so honestly from his own machine with his own
    key, and truthfully confirms that this is the API the tickets go to today; his rerun fails
    the status quo the same way. Both facts say how many inputs the status quo gave no answer to
    (`status_quo_unanswered`); counting those as its passes, the candidate trails by 60 points:
    value-proven fails (play 1 not exited) and so does trial-reproduced, naming it."""
    prove(lena)
    verdict = _prove_against_silence(lena)
    measured(lena, "trial.verdict", **verdict)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "fail", reason
    assert "the status quo gave no answer on 10 of 10 inputs" in reason, reason
    assert "would trail it by 60 points, more than the quality floor (5 points)" in reason, reason
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")  # a real colleague, signed in with his own account
    reproduce(omar, pass_rate=0.4, passed=4, proved=4, on_topic=4, proven_on=["more-private"],
              **UNANSWERED)  # fmt: skip
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "on omar's own rerun of trial triage the status quo gave no answer on 10 of 10" in (
        reason
    )
    assert "acceptable quality did not hold against a status quo that answered" in reason


@pytest.mark.own_sign_in
def test_a_status_quo_that_failed_a_few_inputs_the_candidate_beats_anyway_still_counts(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """The honest path: a hosted API that failed 2 of 10 requests (an outage), beside a
    candidate whose quality holds even were those two its passes, proves and reproduces as
    before; so do facts from before trials said (no `status_quo_unanswered`)."""
    prove(lena)
    verdict = dict(lena.state().facts[-1].payload)
    honest = {"status_quo_pass_rate": 0.7, "status_quo_measured": True, "quality_ok": True,
              "status_quo_unanswered": 2}  # fmt: skip
    verdict.update(proven_on=["more-private"], candidate_pass_rate=0.9, proved=9, on_topic=9,
                   **honest)  # fmt: skip
    measured(lena, "trial.verdict", **verdict)
    assert _judge_trigger(lena, "value-proven")[0] == "pass"
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")
    reproduce(omar, proved=9, on_topic=9, proven_on=["more-private"], **honest)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "pass", reason
    # a rerun from before reruns said how many inputs the status quo did not answer
    reproduce(omar, proved=9, on_topic=9, proven_on=["more-private"], status_quo_pass_rate=0.0,
              status_quo_measured=True, quality_ok=True)  # fmt: skip
    assert _judge(lena, "trial-reproduced")[0] == "pass"


def test_a_play_one_that_exited_before_the_rule_keeps_its_pass(
    lena: Program,  # noqa: F811
) -> None:
    """Programs already running: a play 1 that exited keeps value-proven's pass on a verdict
    whose quality held only on the status quo's unanswered inputs, saying what today's rule
    asks (the reach guards judge exits by the checks loaded now)."""
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    measured(lena, "trial.verdict", **_prove_against_silence(lena))
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "pass", reason
    assert "note: its quality held only on inputs the status quo gave no answer to" in reason


@needs_engine
def test_a_trial_records_the_inputs_its_status_quo_did_not_answer(
    _isolated: Path, engine: Engine
) -> None:
    """What the facts above rest on, measured: a status quo whose `timeout` lena set below its
    answering time (the claim hash leaves the timeout out, so she may change it between her
    verdict and omar's rerun) answers nothing, its quality counts 0 %, and the candidate's
    "holds" beside it; the outcome says how many inputs went unanswered."""
    import asyncio

    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
    from inhouse.trials.headtohead import run_planned
    from inhouse.trials.plan import plan_trial
    from tests.trials.test_rerun import EASY, point_runtime, run, write_trial

    run("init", "Acme", "--lead", "lena", "--demo")
    point_runtime(_isolated, engine)
    with spawn_standin(StandinTiming(3000, 10, 4), model="standin-hosted") as stand_in:
        hosted = {"kind": "api", "url": stand_in.url, "model": "standin-hosted", "timeout": 0.5,
                  "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}  # fmt: skip
        write_trial(_isolated, EASY, status_quo=hosted, meaningful={"faster": 30}, warmup=0)
        outcome = asyncio.run(run_planned(plan_trial(_isolated, "tickets")))
    assert not any(outcome.status_quo.answers.ok)
    assert outcome.status_quo_unanswered == 6
    assert outcome.verdict.quality.status_quo_pass_rate == 0.0 and outcome.verdict.quality_ok
