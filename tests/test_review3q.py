"""Review of rt12q and rt34q (plays 1 to 3): what an honest team is told, and said true.

**A colleague's ``inhouse prove`` ran for minutes, then read as if no trial had run.** rt12q set
aside a ``trial.verdict`` whose signer had no say over play 1 (a colleague who asked in, a pilot
user): right, but ``inhouse prove`` ran the whole trial first, printed "Recorded fact #N
(trial.verdict)", and then play 1's exit line said "no trial.verdict yet: run a head-to-head
trial (`inhouse prove`)" (or, beside an earlier verdict, said nothing of theirs at all). Now
``prove`` says before it runs that the verdict will not count, and why, and after it says the
fact was not counted, in the words ``inhouse status`` uses; the report is still the runner's.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import TEST_MODEL_SAY, Outcome, Result, evaluate
from inhouse.program.counting import build_context
from inhouse.program.evaluation import context_for
from inhouse.testing.standin_idp import StandinIdP
from inhouse.testing.standin_upstream import StandinTiming, standin_in_thread
from inhouse.workflows.runner import RUN_BY_OTHER
from tests.conftest import Clock
from tests.people import enrol, enrol_cli
from tests.test_engine import cast, prove  # noqa: F401
from tests.test_playchecks import NOW
from tests.test_redteam12q import _bob_s_trial, _value_proven
from tests.test_sign_in import _sign_in
from tests.trials.test_prove import COST, program, tickets, write_inputs, write_trial  # noqa: F401
from tests.workflows.test_author_flip import _play_three, _test_run

runner = CliRunner()


def _said(text: str) -> str:
    return " ".join(text.split())


def test_a_colleague_s_prove_says_up_front_and_after_that_it_will_not_count(
    program: Path,  # noqa: F811
) -> None:
    """bob asked in and holds no role: his trial still runs (its report is his to read), but he
    is told before it runs, and after, that plays 1 and 2 set its verdict aside, and why; lena,
    the lead who owns play 1, is told nothing of the kind."""
    lena = Program.open(program)
    bob = enrol_cli(lena, "bob", program.parent / "keys", team="sales")
    write_inputs(program, tickets(5))
    with (
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-a") as candidate,
        standin_in_thread(StandinTiming(0, 0, 2), model="standin-b") as status_quo,
    ):
        write_trial(
            program,
            {"kind": "api", "url": status_quo.url, "price_input_per_mtok": 1.0,
             "price_output_per_mtok": 1.0},
            candidate={"url": candidate.url, "cost": COST},
        )  # fmt: skip
        result = runner.invoke(app, ["prove", "tickets"], env=bob)
        assert result.exit_code == 0, result.stdout + result.stderr
        before = _said(result.stderr)
        assert "note: this trial's verdict will not count for plays 1 and 2" in before, before
        assert "recorded by bob, who held none of the roles" in before
        after = _said(result.stdout)
        assert "Not counted for plays 1 and 2 (fact #" in after, after
        assert "bob's trial is theirs to read (its report)" in after
        facts = json.loads(runner.invoke(app, ["fact", "list", "--json"]).stdout)
        assert [f["by"] for f in facts if f["kind"] == "trial.verdict"] == ["bob"]
        # lena's run of the same trial counts, and says nothing of the kind
        mine = runner.invoke(app, ["prove", "tickets"])
        assert mine.exit_code == 0, mine.stdout + mine.stderr
        assert "will not count" not in _said(mine.stderr)
        assert "Not counted" not in _said(mine.stdout)
    from inhouse.program.counting import verdict_refusal  # what the CLI asks before it runs
    from inhouse.trials.prove import verdict_set_aside

    assert verdict_set_aside(lena) is None
    assert "recorded by bob" in str(verdict_refusal(lena.state(), "bob"))


# -- exit rules 17 and 20: a lead by then, stepped down since or not ------------------------------


def _run_by_other(lead: Program) -> Result:
    return evaluate(RUN_BY_OTHER, build_context(lead.state(), lead.clock()))


def test_a_lead_who_stepped_down_before_rerunning_is_told_so_truly(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """Rules 17 and 20 read the same: whoever had been a rollout lead by the time they measured
    (:func:`~inhouse.program.playchecks._shared.held_by`). ada co-led, put omar in charge of
    play 3 with lena, and stepped down; her rerun of the version omar published still checks
    what she had him type (and stepping down for one rerun, a co-lead giving the role back
    after, is two leads' to do alone). It is refused, saying what is true: she had been a lead,
    not that she was one when she ran it. vic, who never led, reruns it: it counts."""
    people = _play_three(_isolated, clock, idp)
    lena, omar, vic = people["lena"], people["omar"], people["vic"]
    try:
        ada = enrol(lena, "ada", team="platform", roles=["rollout-lead"])
        _sign_in(ada, idp, "u-ada")
        _test_run(omar, "v1", passed=True)
        # nobody else ran it yet: the way out names who may (no lead), and a small team's way
        alone = _run_by_other(lena)
        assert alone.outcome is Outcome.FAIL, alone.reason
        assert "someone else, who is no rollout lead (exit rule 20), runs" in alone.reason
        assert "a lead publishes the next version, her own run first" in alone.reason
        lena.change_roles(None, "ada", remove=["rollout-lead"])
        assert "rollout-lead" not in lena.state().people["ada"].roles
        _test_run(ada, "v1", passed=True)
        result = _run_by_other(lena)
        assert result.outcome is Outcome.FAIL, result.reason
        said = (
            "ada had been a rollout lead before it was measured (stepping down does not undo "
            "whom she put in charge)"
        )
        assert said in result.reason and "exit rule 20" in result.reason, result.reason
        assert "ada was a rollout lead when" not in result.reason
        _test_run(vic, "v1", passed=True)
        honest = _run_by_other(lena)
        assert honest.outcome is Outcome.PASS, honest.reason
        assert honest.reason.startswith("vic (not the author, omar) passed it"), honest.reason
        # vic made a lead afterwards: what he measured before it stays a colleague's
        lena.change_roles(None, "vic", add=["rollout-lead"])
        later = _run_by_other(lena)
        assert later.outcome is Outcome.PASS, later.reason
    finally:
        lena.close()


# -- a trial of exactly 5 inputs, one of whose requests failed ------------------------------------


def test_five_inputs_with_one_failed_request_says_why_four_are_too_few() -> None:
    """An honest trial of 5 tickets whose status quo failed one request pairs 4 for time and
    cost: the verdict is inconclusive, and says that a failed request left the input out (the
    trial's author counted 5, and "at least 5 are needed" alone reads as a contradiction)."""
    from inhouse.trials.verdict import PrivacyClaim, compare_dimension, compare_quality, decide

    faster = compare_dimension("faster", [1.0] * 4, [9.0] * 4, threshold=30, unit="s")
    quality = compare_quality([True] * 5, [True, True, True, True, False], floor_points=5)
    verdict = decide([faster], quality, PrivacyClaim(claimed=False, more_private=True, reason=""))
    assert verdict.verdict == "inconclusive", verdict.summary
    said = " ".join(verdict.reasons)
    assert "faster: only 4 paired inputs (answered on both sides: an input whose request" in said
    assert "(add inputs, or prove it again once both sides answer)" in said


# -- whose verdict counts, over time (rt12q) ------------------------------------------------------


def test_a_verdict_is_judged_by_the_roles_its_signer_held_then(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """omar, a play owner a lead put in charge, records a verdict and later loses the role: it
    still counts (what he did with the role stays done). bob records one with no role and is
    made a play owner afterwards: the role does not reach back over it. Role changes are a
    lead's to sign (the fold refuses anyone else's), so nobody gives themself a say."""
    lena = cast["lena"]
    prove(lena)
    bob = enrol(lena, "bob", team="sales")
    fact = _bob_s_trial(bob)
    lena.change_roles(None, "bob", add=["play-owner"])
    held = _value_proven(lena)
    assert held.outcome is Outcome.PASS, held.reason
    ctx = context_for(lena.state(), lena.clock())
    (aside,) = [u for u in ctx.uncounted_of(["trial.verdict"]) if u.fact.id == fact.id]
    assert "recorded by bob, who held none of the roles" in aside.why
    _bob_s_trial(cast["omar"])
    lena.change_roles(None, "omar", remove=["play-owner"])
    kept = _value_proven(lena)  # omar's verdict decides it (bob's is named, set aside)
    assert kept.outcome is not Outcome.PASS, kept.reason
    assert kept.reason.startswith("trial bobs-laptop concluded not worth it"), kept.reason
    assert kept.evidence[0].by == "omar", kept.evidence


# -- closed by exit rule TEST_MODEL_SAY: a pilot user's rerun no longer un-does play 2 ----------


def test_a_pilot_user_s_rerun_saying_test_model_does_not_undo_play_two() -> None:
    from tests.test_playchecks import ROSTER, person, reproducible, rerun
    from tests.test_playchecks import run as check

    verdict = reproducible()
    honest = rerun()  # omar's, before play 2 exited on it
    roster = {**ROSTER, "pia": person("pia", "legal", "pilot-user")}
    exited = {"baseline": (NOW - timedelta(days=2), honest.id)}
    rules = TEST_MODEL_SAY  # play 2 exited with the rule in force
    judged = check("trial-reproduced", verdict, honest, people=roster, exited=exited, rules=rules)
    assert judged.outcome is Outcome.PASS, judged.reason
    forged = rerun(by="pia", test_model=True)
    result = check(
        "trial-reproduced", verdict, honest, forged, people=roster, exited=exited, rules=rules
    )
    assert result.outcome is Outcome.PASS, result.reason
    # shown as her word, with the command that checks it
    assert f"pia's rerun (fact #{forged.id}) says the weights the verdict proved" in result.reason
    assert "pia's word" in result.reason and "`inhouse status` in the program folder" in (
        result.reason
    )
