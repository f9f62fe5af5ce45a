"""Red team of plays 1 and 2, round rt12p: lena, the rollout lead, alone, on the trial's claim.

**A proven verdict that claims nothing.** ``inhouse prove`` records a verdict "proven" only
with each dimension whose threshold the trial cleared (``proven_on``). lena types one through the
Python API (or an inhouse she edited) that says "proven" and names no dimension, with the spec
and claim hashes of a real trial of hers and the weights her runtime serves. Play 1's
``value-proven`` passed it ("proved the local model unspecified dimensions"), and play 2's
``trial-reproduced`` held it reproduced by a colleague's honest rerun in which the candidate
cleared nothing: it compared the dimensions the verdict claimed with the rerun's, and there were
none to miss. omar's rerun of a trial whose only claim is "more private" than the manual process
(which sends nothing anywhere, so the candidate is never more private) measures a candidate that
proves no value; he confirms the minutes and outputs, which are true, and play 2 exited on a
head-to-head nobody won. Closed: a proven verdict must name what it proved, in play 1 and for the
rerun alike; a play that exited on such a verdict keeps its exit, said.

**A meaningful win of half a percent.** A trial says what counts as a meaningful win per
dimension (``meaningful.faster``, ``meaningful.cheaper``), and any threshold above 0 was taken:
lena writes ``faster: 0.5``, and a candidate a hair quicker than the status quo on her inputs
"proves value", on her run and on omar's honest rerun alike (the claim hash binds the threshold,
so his rerun clears the same half percent, and he confirms a status quo that is truly how the
task is done today). The quality floor was capped for the same reason (beyond 20 points
"acceptable quality" says nothing); the threshold had no floor. Closed: a spec's threshold is at
least :data:`~inhouse.program.payloads.MIN_MEANINGFUL` (10 %), refused before anything runs;
verdicts and reruns record their thresholds, play 1 and play 2 refuse a claim that cleared less,
and a rerun by an inhouse that does not say (the release the lock pins) is an older inhouse's,
set aside as such. A play that exited on such a claim keeps its exit, said.

**Checks that judge one input in twenty.** A trial's quality counted only where its checks fail
an answer given for nothing somewhere: ``proved`` (inputs the candidate passed that an empty
answer fails) and ``on_topic`` (and off-topic prose too) had to be above 0. A check's verdict
can hang on each input's fields, though (a ``javascript`` check reads ``context.vars``): lena's
``context.vars.judge ? <a real test> : true`` passes any answer on the nineteen inputs she
leaves unmarked and judges the twentieth, so a candidate that writes nonsense on nineteen tasks
holds "acceptable quality" beside any status quo, on her run and on omar's honest rerun alike.
Closed: as a status quo's unanswered inputs count as its passes, the candidate's passes on inputs
whose checks pass an answer given for nothing count as its failed cases, and its quality must
still hold within the floor (play 1 and play 2's rerun); a play that exited keeps its exit, said.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.program.checks import Outcome
from inhouse.program.engine import Program
from inhouse.program.facts import Provenance
from inhouse.trials.plan import plan_trial
from inhouse.trials.spec import load_trial
from tests.test_playchecks import NOW, reproducible, rerun
from tests.test_playchecks import run as check
from tests.trials.test_rerun import (  # noqa: F401
    EASY,
    omar,
    program,
    reproduced,
    run,
    served_digest,
    write_trial,
)

# -- a proven verdict that names no dimension ------------------------------------------------------


def test_a_proven_verdict_naming_no_dimension_is_no_proof_of_value() -> None:
    """Play 1: lena's typed verdict says proven and names nothing it proved."""
    typed = check("value-proven", reproducible(proven_on=[]))
    assert typed.outcome is Outcome.FAIL, typed.reason
    assert "names no dimension it proved" in typed.reason
    assert "`inhouse prove t`" in typed.reason
    # the honest verdict names what it proved
    honest = check("value-proven", reproducible())
    assert honest.outcome is Outcome.PASS and "cheaper" in honest.reason


def test_a_rerun_that_cleared_nothing_does_not_reproduce_a_verdict_that_claimed_nothing() -> None:
    """Play 2: omar's honest rerun, in which the candidate cleared no threshold, beside lena's
    typed verdict claiming none: nothing was reproduced."""
    typed = reproducible(proven_on=[])
    nothing = rerun(proven_on=[], improvement={"cheaper": -12.0}, costs_confirmed=None)
    result = check("trial-reproduced", typed, nothing)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "names no dimension it proved" in result.reason
    assert "`inhouse prove t`" in result.reason
    # the next cheapest: claiming a dimension the rerun did not clear is missed as before
    claimed = check("trial-reproduced", reproducible(), nothing)
    assert claimed.outcome is Outcome.FAIL
    assert "cheaper did not clear its threshold" in claimed.reason
    # the honest verdict and rerun still pass
    assert check("trial-reproduced", reproducible(), rerun()).outcome is Outcome.PASS


def test_a_play_that_exited_on_a_verdict_naming_no_dimension_keeps_its_exit() -> None:
    """The rule came after programs exited: an exit judged on such a verdict stands, said."""
    typed = reproducible(proven_on=[])
    exited = {"prove-value": (NOW - timedelta(days=3), 10**9)}
    kept = check("value-proven", typed, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "names no dimension it proved (play 1 exited before" in kept.reason
    both = {**exited, "baseline": (NOW - timedelta(days=2), 10**9)}
    nothing = rerun(proven_on=[], improvement={}, costs_confirmed=None)
    stays = check("trial-reproduced", typed, nothing, exited=both)
    assert stays.outcome is Outcome.PASS, stays.reason
    assert "play 2 exited before a rerun had to reproduce the verdict's claimed" in stays.reason


def test_a_typed_verdict_claiming_nothing_is_not_reproduced_by_an_honest_rerun(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """Walked with the real engine: lena's trial claims only "more private" than the manual
    process, which sends nothing anywhere, so no run of it proves anything; she types a proven
    verdict naming no dimension, and omar reruns it honestly, confirming the minutes and the
    outputs (both true). Nothing he measured proves value, and play 2 does not count it."""
    write_trial(program, EASY, meaningful={"more_private": True})
    plan = plan_trial(program, "tickets")
    digest = served_digest(program)
    opened = Program.open(program)
    try:
        opened.record_fact(
            None, "trial.verdict",
            {"trial": "tickets", "verdict": "proven", "proven_on": [], "quality_ok": True,
             "test_model": True, "candidate": {"model": "m", "digest": digest},
             "spec_hash": plan.spec_hash, "candidate_pass_rate": 1.0, "inputs": 6,
             "quality_floor": 5.0, "status_quo_pass_rate": 1.0, "status_quo_measured": True,
             "proved": 6, "on_topic": 6, "claim_hash": plan.claim_hash},
            provenance=Provenance.MEASURED, collector="inhouse prove",
        )  # fmt: skip
    finally:
        opened.close()
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", "3-7 minutes a jam is right",
              "--confirm-outputs", "we answer 'Printer jam cleared'", env=omar,
              answer="y\n")  # fmt: skip
    assert "candidate passed 6 of 6 inputs (100.0 %)" in out
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "names no dimension it proved" in result.reason
    status = json.loads(run("status", "--json"))
    value = next(r for r in status["plays"][0]["exit"] if r["check"] == "value-proven")
    assert value["outcome"] == "fail" and "names no dimension" in value["reason"]


# -- a meaningful win of half a percent -----------------------------------------------------------


def test_a_spec_calling_half_a_percent_meaningful_is_refused_before_anything_runs(
    tmp_path: Path,
) -> None:
    """Each machine's inhouse refuses the spec: neither lena's prove nor omar's rerun runs it."""
    write_trial(tmp_path, EASY, meaningful={"faster": 0.5, "cheaper": 30})
    with pytest.raises(InvalidInput) as refused:
        load_trial(tmp_path, "tickets")
    assert "trials/tickets.yaml: meaningful.faster" in str(refused.value)
    assert "0.5 % is below the 10 % a trial may call a meaningful win" in str(refused.value)
    write_trial(tmp_path, EASY, meaningful={"faster": 10, "cheaper": 30})
    assert load_trial(tmp_path, "tickets").meaningful.thresholds == {"faster": 10, "cheaper": 30}


def test_a_verdict_that_cleared_half_a_percent_proves_no_value() -> None:
    """Play 1: a verdict whose claim cleared a threshold below the floor (one an older inhouse
    let through, or typed) proves nothing; one at the floor or above does."""
    low = check("value-proven", reproducible(proven_on=["faster"], thresholds={"faster": 0.5}))
    assert low.outcome is Outcome.FAIL, low.reason
    assert "it called faster at 0.5 % a meaningful win, below the 10 %" in low.reason
    assert "`inhouse prove t`" in low.reason
    # a dimension it did not claim is not judged by its threshold
    other = reproducible(proven_on=["cheaper"], thresholds={"faster": 0.5, "cheaper": 30})
    assert check("value-proven", other).outcome is Outcome.PASS
    assert check("value-proven", reproducible(thresholds={"cheaper": 10})).outcome is Outcome.PASS


def test_a_rerun_that_cleared_half_a_percent_reproduces_no_value() -> None:
    """Play 2: omar's honest rerun by the release lena's lock pins, which let her threshold
    through, cleared the half percent she claimed: it reproduces nothing worth a program. A
    rerun that does not say what its claim had to clear was made by an older inhouse."""
    verdict = reproducible(proven_on=["faster"], thresholds={"faster": 0.5})
    hair = rerun(proven_on=["faster"], improvement={"faster": 0.8}, thresholds={"faster": 0.5},
                 costs_confirmed=None)  # fmt: skip
    result = check("trial-reproduced", verdict, hair)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "on omar's own rerun of trial t the verdict" in result.reason
    assert "it called faster at 0.5 % a meaningful win, below the 10 %" in result.reason
    # the next cheapest: the verdict says nothing of its thresholds, and the rerun by an older
    # inhouse does not either
    unsaid = rerun(proven_on=["faster"], improvement={"faster": 0.8}, thresholds=None,
                   costs_confirmed=None)  # fmt: skip
    older = check("trial-reproduced", reproducible(proven_on=["faster"]), unsaid)
    assert older.outcome is Outcome.FAIL, older.reason
    assert "was made by an inhouse older than this one: it did not say what each claimed " \
        "advantage had to clear (at least 10 %)" in older.reason  # fmt: skip
    # the honest rerun of a meaningful claim passes
    assert check("trial-reproduced", reproducible(), rerun()).outcome is Outcome.PASS


def test_a_play_that_exited_on_half_a_percent_keeps_its_exit() -> None:
    """The floor came after programs exited: an exit judged on such a claim stands, said."""
    verdict = reproducible(proven_on=["faster"], thresholds={"faster": 0.5})
    exited = {"prove-value": (NOW - timedelta(days=3), 10**9)}
    kept = check("value-proven", verdict, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "(play 1 exited before a win had to be 10 %)" in kept.reason
    both = {**exited, "baseline": (NOW - timedelta(days=2), 10**9)}
    hair = rerun(proven_on=["faster"], improvement={"faster": 0.8}, thresholds={"faster": 0.5},
                 costs_confirmed=None)  # fmt: skip
    stays = check("trial-reproduced", verdict, hair, exited=both)
    assert stays.outcome is Outcome.PASS, stays.reason
    assert "play 2 exited before a claimed advantage's threshold had to be at least 10 %" in (
        stays.reason
    )


# -- checks that judge one input in twenty ---------------------------------------------------------


def test_a_verdict_whose_checks_judge_one_input_proves_no_quality() -> None:
    """Play 1: lena's checks pass any answer on nine of ten inputs (off-topic prose too), and
    judge the tenth: quality held only on answers nobody judged."""
    one = check("value-proven", reproducible(candidate_pass_rate=1.0, status_quo_pass_rate=1.0,
                                             proved=10, on_topic=1))  # fmt: skip
    assert one.outcome is Outcome.FAIL, one.reason
    assert "9 of the 10 inputs the candidate passed have checks that pass an empty answer or " \
        "off-topic prose as long as its answer there" in one.reason  # fmt: skip
    assert "the candidate (10.0 %) would trail the status quo (100.0 %) by 90 points" in one.reason
    # the next cheapest: checks that pass an empty answer on nine inputs, not only prose
    empty = check("value-proven", reproducible(candidate_pass_rate=1.0, status_quo_pass_rate=1.0,
                                               proved=1, on_topic=1))  # fmt: skip
    assert empty.outcome is Outcome.FAIL and "9 of the 10 inputs" in empty.reason
    # every pass judged: the honest verdict
    judged = reproducible(candidate_pass_rate=1.0, status_quo_pass_rate=1.0, proved=10,
                          on_topic=10)  # fmt: skip
    assert check("value-proven", judged).outcome is Outcome.PASS
    # one unjudged pass that the floor absorbs still holds
    floor = reproducible(candidate_pass_rate=1.0, status_quo_pass_rate=0.9, proved=10,
                         on_topic=9)  # fmt: skip
    assert check("value-proven", floor).outcome is Outcome.PASS


def test_a_rerun_whose_checks_judge_one_input_reproduces_no_quality() -> None:
    """Play 2: omar's honest rerun of the same checks measures the same nothing."""
    one = rerun(proved=9, on_topic=1)
    result = check("trial-reproduced", reproducible(), one)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "on omar's own rerun of trial t 8 of the 9 inputs the candidate passed" in result.reason
    assert "acceptable quality did not hold on answers its checks judged" in result.reason
    exited = {"baseline": (NOW - timedelta(days=2), 10**9)}
    kept = check("trial-reproduced", reproducible(), one, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "counted as failed cases" in kept.reason
    assert check("trial-reproduced", reproducible(), rerun()).outcome is Outcome.PASS


def test_a_javascript_check_that_judges_one_input_is_walked_with_the_real_engine(
    program: Path,  # noqa: F811
) -> None:
    """lena's trial: one javascript check that passes any answer where the input is not marked
    ``judge`` and wants some answer where it is. The test model's nonsense passes it everywhere,
    and an empty answer fails it on one input: before, that was enough."""
    write_trial(
        program,
        [{"type": "javascript", "value": "context.vars.judge ? output.trim().length > 0 : true"}],
    )
    rows = [{"id": f"T-{i}", "text": f"printer {i} on floor {i % 3} jams", "judge": i == 0}
            for i in range(6)]  # fmt: skip
    (program / "data" / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run("prove", "tickets")
    verdict = json.loads(run("fact", "list", "--kind", "trial.verdict", "--json"))[-1]["payload"]
    assert verdict["verdict"] == "proven" and verdict["proved"] == 1, verdict
    status = json.loads(run("status", "--json"))
    value = next(r for r in status["plays"][0]["exit"] if r["check"] == "value-proven")
    assert value["outcome"] == "fail", value
    assert "5 of the 6 inputs the candidate passed have checks that pass an empty answer " \
        "there" in value["reason"]  # fmt: skip
