"""Play 3's exit checks over workflow facts: several workflows, and runs against an old lock."""

from __future__ import annotations

from inhouse.program.checks import Outcome
from tests.test_playchecks import fact, lock, run, spec

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
