"""Play 3's checks over workflow facts: several workflows, runs against an old lock, and the
recurring task its trigger names."""

from __future__ import annotations

from typing import Any

from inhouse.program.checks import CheckContext, Outcome, evaluate
from inhouse.program.facts import FactSet
from tests.test_playchecks import ISSUER, NOW, ROSTER, fact, lock, run, signed_in, spec

OLD_LOCK = "lock" + "a" * 60
NEW_LOCK = "lock" + "c" * 60


def wrun(
    by: str, workflow: str = "triage", lock_hash: str = OLD_LOCK, passed: bool = True
) -> object:
    return fact(
        "workflow.run",
        by=by,
        workflow=workflow,
        content_hash="v1",
        lock_hash=lock_hash,
        passed=passed,
        pass_rate=1.0 if passed else 0.0,
    )


def other_spec(name: str = "replies") -> object:
    return fact(
        "workflow.spec",
        workflow=name,
        content_hash="v1",
        author="lena",
        model="m0",
        model_digest="sha256:" + "b" * 64,
    )


def test_testing_a_second_workflow_does_not_hide_the_first_ones_evidence() -> None:
    first = spec()  # triage, by omar
    proven = wrun("lena")  # someone else passed triage
    second = other_spec()  # a newer workflow, tested only by its author so far
    by_author = wrun("lena", workflow="replies")
    for check in ("workflow-pinned", "workflow-tests-pass", "workflow-run-by-other"):
        result = run(check, lock(), first, proven, second, by_author)
        assert result.outcome is Outcome.PASS, (check, result.reason)
        assert "triage" in result.reason or "lena" in result.reason
    # with no workflow proven by another person, the newest workflow is the one judged
    alone = run("workflow-run-by-other", lock(), first, second, by_author)
    assert alone.outcome is Outcome.FAIL and "replies" in alone.reason


def test_runs_against_an_earlier_lock_do_not_prove_the_current_baseline() -> None:
    old, workflow, old_run = lock(), spec(), wrun("lena", lock_hash=OLD_LOCK)
    current = lock(lock_hash=NEW_LOCK)  # re-locked after the run
    stale = run("workflow-run-by-other", old, workflow, old_run, current)
    assert stale.outcome is Outcome.FAIL
    assert run("workflow-tests-pass", old, workflow, old_run, current).outcome is Outcome.FAIL
    assert run("workflow-run-by-other", old, workflow, old_run).outcome is Outcome.PASS
    fresh = run("workflow-run-by-other", current, spec(), wrun("lena", lock_hash=NEW_LOCK))
    assert fresh.outcome is Outcome.PASS


def test_a_run_that_names_no_lock_proves_no_lock() -> None:
    """A colleague's run that names no lock (an older build's, or one written around the
    runner) does not stand for the baseline as it stands after a re-lock to other weights."""
    current = lock(lock_hash=NEW_LOCK)
    lockless = wrun("lena", lock_hash="")
    assert run("workflow-run-by-other", current, spec(), lockless).outcome is Outcome.FAIL
    assert run("workflow-tests-pass", current, spec(), wrun("omar", lock_hash="")).outcome is (
        Outcome.FAIL
    )
    # without a lock at all there is nothing to name: as before
    assert run("workflow-run-by-other", spec(), lockless).outcome is Outcome.PASS


def _trigger(*named: object, started: bool = False) -> Any:
    """``recurring-task-named`` over ``named``, with play 3 started or not."""
    owners = {"prove-value": "lena", "baseline": "lena"}
    if started:
        owners["workflow"] = "omar"
    context = CheckContext(
        facts=FactSet(named),  # type: ignore[arg-type]
        people=ROSTER,
        owners=owners,
        now=NOW,
        params={},
        machines={who: frozenset({f"{who}-laptop"}) for who in ROSTER},
        signed_in=signed_in(ROSTER),
        sign_in_issuer=ISSUER,
    )
    return evaluate("recurring-task-named", context)


def test_a_task_named_with_a_frequency_that_says_no_recurrence_triggers_nothing() -> None:
    """omar names "his" recurring task through the Python API (a measured task.named, as
    `workflow validate` records it), with a frequency that says nothing of how often: play 3's
    trigger is a task that recurs, and "once" or "ad hoc" names none."""
    for frequency in ("once", "ad hoc", "tbd", "the first time"):
        result = _trigger(fact("task.named", by="omar", task="triage", frequency=frequency))
        assert result.outcome is Outcome.FAIL, frequency
        assert f"its frequency {frequency!r} says no recurrence" in result.reason
    for frequency in ("daily", "3/week", "twice a month", "every 2 weeks", "on mondays"):
        result = _trigger(fact("task.named", by="omar", task="triage", frequency=frequency))
        assert result.outcome is Outcome.PASS, (frequency, result.reason)
        assert "named by omar (how often it happens is their word)" in result.reason
    # a program whose play 3 started on such a trigger under the rule before keeps its start
    kept = _trigger(fact("task.named", by="omar", task="triage", frequency="once"), started=True)
    assert kept.outcome is Outcome.PASS
    assert "play 3 started before a frequency had to say a recurrence" in kept.reason
