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
from inhouse.program.playchecks import prove as prove_checks
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


@pytest.mark.own_sign_in
def test_a_status_quo_cut_short_by_max_tokens_proves_no_quality(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena's trial shares a `generation.max_tokens` below the length of the hosted API's
    answers: they arrive, but cut mid-answer, and fail the checks their whole answers pass, so
    the weak candidate's 40 % is within the floor of the status quo's 0 %. The verdict and
    omar's honest rerun say how many inputs were cut and then failed (`status_quo_cut_short`,
    measured as the test above shows); counting them as its passes, the candidate trails by 60
    points: value-proven and trial-reproduced fail, naming it. A fact from before trials said
    counts as before."""
    prove(lena)
    verdict = dict(lena.state().facts[-1].payload)
    cut = {"status_quo_pass_rate": 0.0, "status_quo_measured": True, "quality_ok": True,
           "status_quo_unanswered": 0, "status_quo_cut_short": 10}  # fmt: skip
    verdict.update(proven_on=["more-private"], candidate_pass_rate=0.4, proved=4, on_topic=4,
                   **cut)  # fmt: skip
    measured(lena, "trial.verdict", **verdict)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "fail", reason
    assert "the status quo was cut short at the trial's max_tokens (or may have been, at its " in (
        reason
    )
    assert "stop sequences) on 10 of 10 inputs" in reason, reason
    assert "would trail it by 60 points, more than the quality floor (5 points)" in reason, reason
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")
    reproduce(omar, pass_rate=0.4, passed=4, proved=4, on_topic=4, proven_on=["more-private"],
              **cut)  # fmt: skip
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "stop sequences) on 10 of 10" in reason, reason
    del verdict["status_quo_cut_short"]  # recorded before trials said
    measured(lena, "trial.verdict", **verdict)
    assert _judge_trigger(lena, "value-proven")[0] == "pass"


def test_a_play_one_that_exited_before_the_rule_keeps_its_pass(
    lena: Program,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Programs already running: a play 1 that exited, before the rule, on a verdict whose
    quality held only on the status quo's unanswered inputs keeps value-proven's pass on it,
    saying what today's rule asks (the reach guards judge exits by the checks loaded now); a
    verdict recorded since the exit is judged by today's rule."""
    prove(lena)
    silence = _prove_against_silence(lena)
    with monkeypatch.context() as before:  # the check as it was
        before.setattr(prove_checks, "quality_on_unanswered", lambda payload, candidate: None)
        measured(lena, "trial.verdict", **silence)
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "pass", reason
    assert "note: its quality held only on inputs the status quo gave no answer to" in reason
    measured(lena, "trial.verdict", **silence)
    assert _judge_trigger(lena, "value-proven")[0] == "fail"


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
    assert any("the status quo gave no answer on 6 of 6 inputs" in c for c in outcome.caveats)


@needs_engine
def test_a_trial_counts_the_status_quo_answers_its_max_tokens_cut_short(
    _isolated: Path, engine: Engine
) -> None:
    """lena's trial shares one `generation.max_tokens` between both sides, set below the length
    of the hosted API's answers (a stand-in: 40 tokens, cut at 8): its answers arrive, not
    empty, but cut mid-answer, and fail checks their whole answers pass, so the status quo's
    quality is 0 % beside a terse candidate. Its server says why it stopped (`finish_reason:
    length`): the outcome counts each such input (`status_quo_cut_short`), which play 1 and
    play 2 count as the status quo's passes, whatever the candidate's answer did: one cut as well
    and failed too is no draw (tests/test_redteam14.py)."""
    import asyncio

    from inhouse.checks.function import python_checks_allowed
    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
    from inhouse.trials.headtohead import TrialOutcome, run_planned
    from inhouse.trials.plan import plan_trial
    from tests.trials.test_rerun import EASY, point_runtime, run, write_trial

    run("init", "Acme", "--lead", "lena", "--demo")
    point_runtime(_isolated, engine)

    def outcome(function: str) -> TrialOutcome:
        check = {"type": "python", "value": f"tests.checks.pyfuncs:{function}"}
        with spawn_standin(StandinTiming(50, 1, 40), model="standin-hosted") as stand_in:
            hosted = {"kind": "api", "url": stand_in.url, "model": "standin-hosted",
                      "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}  # fmt: skip
            write_trial(_isolated, [*EASY, check], status_quo=hosted,
                        meaningful={"faster": 30}, warmup=0)  # fmt: skip
            with python_checks_allowed(True):
                return asyncio.run(run_planned(plan_trial(_isolated, "tickets")))

    cut = outcome("whole_or_none")
    assert all(cut.status_quo.answers.ok) and cut.status_quo_unanswered == 0
    assert cut.verdict.quality.status_quo_pass_rate == 0.0
    assert any("cut short at the trial's generation.max_tokens on 6 of 6" in c for c in cut.caveats)
    assert cut.status_quo_cut_short == 6
    assert cut.status_quo.answers.finish == ["length"] * 6
    both = outcome("whole")  # the candidate fails every input: cut too or not, each counts
    candidate_cut = [both.candidate.answers.cut_short(i) for i in range(6)]
    assert any(candidate_cut), both.candidate.answers.finish  # the test model writes on
    assert both.status_quo_cut_short == 6


# -- plays 1 and 2: quality checks that judge the status quo's speed and price ------------------

#: lena's checks: one that judges what the answer says (an empty answer and off-topic prose fail
#: it, so `proved` and `on_topic` count every input the candidate passed), and a latency bound
#: an answer given for nothing, instantly, passes, which the hosted API's answers (slower than
#: 2 seconds from anywhere, honestly) never meet: its 95 % on the content counts 0 %
TIMED = ["latency threshold=2000.0"]


@pytest.mark.own_sign_in
def test_quality_checks_that_judge_the_status_quo_s_speed_prove_no_quality(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena's trial pits a weak candidate (40 % on what the answers say) against the hosted API
    the tickets really go to (95 %), with a `latency` check of 2000 ms among its quality checks:
    every API answer fails it, so the status quo's quality is 0 % and the candidate's "holds";
    her verdict claims "faster at acceptable quality". omar's honest rerun from his machine
    measures the same (the API is as slow from there), and he truthfully confirms it is the
    API the tickets go to. Both facts name the checks that judge time or cost
    (`timed_checks`): value-proven (play 1 not exited) and trial-reproduced fail, naming them."""
    prove(lena)
    verdict = dict(lena.state().facts[-1].payload)
    claim = {"status_quo_pass_rate": 0.0, "status_quo_measured": True, "quality_ok": True,
             "timed_checks": TIMED}  # fmt: skip
    verdict.update(proven_on=["faster"], candidate_pass_rate=0.4, proved=4, on_topic=4, **claim)
    measured(lena, "trial.verdict", **verdict)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "fail", reason
    assert "its quality checks judge how long an answer took or what it cost (latency " \
        "threshold=2000.0)" in reason  # fmt: skip
    assert "take those checks out of trials/triage.yaml" in reason
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")  # a real colleague, signed in with his own account
    reproduce(omar, pass_rate=0.4, passed=4, proved=4, on_topic=4, proven_on=["faster"],
              costs_confirmed=None, **claim)  # fmt: skip
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "on omar's own rerun of trial triage its quality checks judge how long" in reason
    # the same checks without the latency bound judge the answers: the rerun counts
    reproduce(omar, pass_rate=0.4, passed=4, proved=4, on_topic=4, proven_on=["faster"],
              costs_confirmed=None, **{**claim, "timed_checks": []})  # fmt: skip
    assert _judge(lena, "trial-reproduced")[0] == "pass"


@pytest.mark.own_sign_in
def test_a_rerun_that_does_not_say_whether_its_checks_judge_time_reproduces_nothing(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena's verdict comes from a current inhouse (it names its timed checks: none); she pins
    the previous release in the lock, whose rerun does not say whether its checks judge time or
    cost (and would count a latency bound as quality). Such a rerun, recorded after a trial
    fact that said it, was made by an older inhouse: it reproduces nothing until omar upgrades;
    a verdict with no timed checks proves as before, and the status quo stated by its author
    (a manual one without outputs) is judged on nothing a latency bound decides."""
    prove(lena)
    verdict = dict(lena.state().facts[-1].payload)
    measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 9, "timed_checks": []})
    assert _judge_trigger(lena, "value-proven")[0] == "pass"
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")
    reproduce(omar, proved=9, on_topic=9, timed_checks=None)  # the previous release
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "fail", reason
    assert "did not say whether its checks judge how long an answer took" in reason, reason
    assert "upgrades inhouse and reruns it" in reason
    reproduce(omar, proved=9, on_topic=9, timed_checks=[])
    assert _judge(lena, "trial-reproduced")[0] == "pass"
    stated = {"status_quo_measured": False, "timed_checks": TIMED}
    measured(lena, "trial.verdict", **{**verdict, "proved": 9, "on_topic": 9, **stated})
    assert _judge_trigger(lena, "value-proven")[0] == "pass"


def test_a_play_one_that_exited_on_timed_checks_keeps_its_pass(
    lena: Program,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Programs already running: a play 1 that exited, before the rule, on a verdict whose
    quality checks judge time keeps value-proven's pass on it, said; one recorded since the
    exit is judged by today's rule."""
    prove(lena)
    verdict = dict(lena.state().facts[-1].payload)
    timed = {"status_quo_measured": True, "status_quo_pass_rate": 0.9, "timed_checks": TIMED}
    with monkeypatch.context() as before:  # the check as it was
        before.setattr(prove_checks, "quality_on_time", lambda payload: None)
        measured(lena, "trial.verdict", **{**verdict, **timed})
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert outcome == "pass", reason
    assert "note: its quality checks judge how long an answer took or what it cost" in reason
    measured(lena, "trial.verdict", **{**verdict, **timed})
    assert _judge_trigger(lena, "value-proven")[0] == "fail"


@needs_engine
def test_a_trial_names_its_quality_checks_that_judge_time_or_cost(
    _isolated: Path, engine: Engine
) -> None:
    """What the facts above rest on: the plan names its `latency` and `cost` checks, and
    `inhouse prove` records them and says why its quality is not measured."""
    import json

    from inhouse.trials.plan import plan_trial
    from tests.trials.test_rerun import EASY, point_runtime, run, write_trial

    run("init", "Acme", "--lead", "lena", "--demo")
    point_runtime(_isolated, engine)
    timed = [*EASY, {"type": "latency", "threshold": 2000}, {"type": "cost", "threshold": 0.01}]
    write_trial(_isolated, timed, status_quo={"kind": "manual", "minutes": "data/minutes.csv",
                                              "hourly_cost": 42})  # fmt: skip
    assert plan_trial(_isolated, "tickets").timed_checks == [
        "latency threshold=2000.0", "cost threshold=0.01"
    ]  # fmt: skip
    out = run("prove", "tickets")
    assert "the quality checks judge how long an answer took or what it cost" in out
    verdict = json.loads(run("fact", "list", "--kind", "trial.verdict", "--json"))[-1]["payload"]
    assert verdict["timed_checks"] == ["latency threshold=2000.0", "cost threshold=0.01"]
    assert verdict["status_quo_measured"] is True  # the manual outputs, checked


@needs_engine
def test_a_python_check_that_judges_time_is_named_with_the_timed_checks(
    _isolated: Path, engine: Engine
) -> None:
    """A `python` check is handed each answer's `latency_ms` and `cost`: lena's fails any answer
    that took over a minute, which every one of the manual status quo's outputs did (minutes
    each), whatever it says, so the candidate's quality "holds" beside 0 %. The trial names it
    with the timed checks (play 1 and play 2's rerun fail on it, above), as it names a `latency`
    check. Each answer is judged at the other side's time and cost too, the four judgments of
    an input in an order drawn at random, so a function that tells the sides apart by the order
    it is asked in (passing the first answer of an input) shows itself the same way. A python
    check that reads neither is not named: an honest trial with one still counts."""
    import asyncio

    from inhouse.checks.function import python_checks_allowed
    from inhouse.trials.headtohead import TrialOutcome, run_planned
    from inhouse.trials.plan import plan_trial
    from tests.trials.test_rerun import EASY, point_runtime, run, write_trial

    run("init", "Acme", "--lead", "lena", "--demo")
    point_runtime(_isolated, engine)

    def outcome(function: str) -> TrialOutcome:
        write_trial(
            _isolated, [*EASY, {"type": "python", "value": f"tests.checks.pyfuncs:{function}"}]
        )
        with python_checks_allowed(True):
            return asyncio.run(run_planned(plan_trial(_isolated, "tickets")))

    timed = outcome("quick_and_said")
    assert timed.plan.timed_checks == []  # what the plan alone can tell
    assert timed.verdict.quality.status_quo_pass_rate == 0.0
    assert any("judge how long an answer took or what it cost (python" in c for c in timed.caveats)
    assert timed.timed_checks == ["python 'tests.checks.pyfuncs:quick_and_said'"]
    ordered = outcome("first_seen")  # no side is judged first, nor one of an answer's two
    assert ordered.timed_checks == ["python 'tests.checks.pyfuncs:first_seen'"]
    honest = outcome("said")
    assert honest.timed_checks == []
    assert not any("how long an answer took" in c for c in honest.caveats)
    assert honest.verdict.quality.status_quo_pass_rate == 1.0


# -- play 2: a manual status quo's outputs, typed by the trial's author ---------------------------


#: what a verdict and a rerun record of lena's manual status quo whose `output` column she
#: typed: every output fails the trial's checks, so its "measured" quality is 0 %
TYPED = {"status_quo_pass_rate": 0.0, "status_quo_measured": True, "quality_ok": True,
         "status_quo_unanswered": 0, "timed_checks": []}  # fmt: skip
MINUTES = "I clear these jams by hand: 3-7 minutes each is right"


def _prove_on_typed_outputs(lena: Program) -> None:  # noqa: F811
    """lena's verdict: "faster" than a manual status quo whose quality is 0 % on the outputs
    she typed, beside a weak candidate's acceptable 40 %."""
    prove(lena)
    verdict = dict(lena.state().facts[-1].payload)
    economics = {"status_quo": "manual", "currency": "EUR"}
    verdict.update(proven_on=["faster"], candidate_pass_rate=0.4, proved=4, on_topic=4,
                   economics=economics, **TYPED)  # fmt: skip
    measured(lena, "trial.verdict", **verdict)


def _rerun_typed(person: Program, **changes: Any) -> Any:
    """``person``'s honest rerun of :func:`_prove_on_typed_outputs`'s trial, confirming the
    minutes they know."""
    return reproduce(person, pass_rate=0.4, passed=4, proved=4, on_topic=4,
                     proven_on=["faster"], status_quo="manual", api_confirmed=None,
                     costs_confirmed=None, status_quo_confirmed=MINUTES,
                     **{**TYPED, **changes})  # fmt: skip


@pytest.mark.own_sign_in
def test_a_manual_status_quo_s_typed_outputs_need_more_than_a_word_on_its_minutes(
    lena: Program,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """lena's manual status quo: the minutes per ticket (true: omar clears these jams by hand in
    3-7 minutes) and an `output` column she typed, every one of which fails the trial's checks,
    so the status quo's "measured" quality is 0 % and a weak candidate's 40 % is acceptable.
    omar's honest rerun confirms the minutes he knows, with `--confirm-minutes`; the outputs
    the quality comparison rests on are nobody's word but lena's: trial-reproduced is
    inconclusive, naming whose word they are and what to run, until omar (not lena) confirms
    them with `--confirm-outputs`."""
    _prove_on_typed_outputs(lena)
    outcome, reason = _judge_trigger(lena, "value-proven")
    assert (
        "the status quo 0.0 % (measured on outputs lena typed into the manual process's CSV: "
        "their word, until the colleague who reruns the trial confirms them)" in reason
    ), reason
    omar = _alias(lena, "omar", "support")
    _sign_in(omar, idp, "u-omar")
    _rerun_typed(omar)
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "inconclusive", reason
    assert (
        "its status quo's quality was judged on the outputs lena typed into the manual "
        "process's CSV: their word alone" in reason
    ), reason
    assert "`inhouse prove triage --rerun --confirm-outputs COMMENT`" in reason, reason
    # lena's own rerun confirming her outputs is her word again: it counts for nothing
    _rerun_typed(lena, outputs_confirmed="these are the answers we gave")
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "inconclusive", reason
    assert "--confirm-outputs COMMENT" in reason, reason
    # omar's word on the outputs, with what it rests on, counts, shown as his
    _rerun_typed(omar, outputs_confirmed="I checked them against the tracker")
    outcome, reason = _judge(lena, "trial-reproduced")
    assert outcome == "pass", reason
    assert (
        "its quality rests on the outputs lena typed, which omar confirmed (their word: I "
        "checked them against the tracker)" in reason
    ), reason
