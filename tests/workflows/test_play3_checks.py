"""Play 3's checks over workflow facts: several workflows, runs against an old lock, and the
recurring task its trigger names."""

from __future__ import annotations

from typing import Any

from inhouse.program.checks import CheckContext, Outcome, evaluate
from inhouse.program.facts import FactSet
from tests.locks import AT_ZERO, HERE, JUDGED
from tests.test_playchecks import ISSUER, NOW, ROSTER, fact, lock, run3, signed_in, spec

OLD_LOCK = "lock" + "a" * 60
NEW_LOCK = "lock" + "c" * 60


def wrun(
    by: str, workflow: str = "triage", lock_hash: str = OLD_LOCK, passed: bool = True
) -> object:
    """``by``'s run of ``workflow`` v1, as today's runner records it: answered on their machine."""
    return fact(
        "workflow.run",
        **HERE,
        by=by,
        workflow=workflow,
        content_hash="v1",
        lock_hash=lock_hash,
        passed=passed,
        pass_rate=1.0 if passed else 0.0,
        **JUDGED,
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
    proven = wrun("vic")  # someone else passed triage
    second = other_spec()  # a newer workflow, tested only by its author so far
    by_author = wrun("lena", workflow="replies")
    for check in ("workflow-pinned", "workflow-tests-pass", "workflow-run-by-other"):
        result = run3(check, lock(), first, proven, second, by_author)
        assert result.outcome is Outcome.PASS, (check, result.reason)
        assert "triage" in result.reason or "vic" in result.reason
    # with no workflow proven by another person, the newest workflow is the one judged
    alone = run3("workflow-run-by-other", lock(), first, second, by_author)
    assert alone.outcome is Outcome.FAIL and "replies" in alone.reason


def test_runs_against_an_earlier_lock_do_not_prove_the_current_baseline() -> None:
    old, workflow, old_run = lock(), spec(), wrun("vic", lock_hash=OLD_LOCK)
    current = lock(lock_hash=NEW_LOCK)  # re-locked after the run
    stale = run3("workflow-run-by-other", old, workflow, old_run, current)
    assert stale.outcome is Outcome.FAIL
    assert run3("workflow-tests-pass", old, workflow, old_run, current).outcome is Outcome.FAIL
    assert run3("workflow-run-by-other", old, workflow, old_run).outcome is Outcome.PASS
    fresh = run3("workflow-run-by-other", current, spec(), wrun("vic", lock_hash=NEW_LOCK))
    assert fresh.outcome is Outcome.PASS


def test_a_run_that_names_no_lock_proves_no_lock() -> None:
    """A colleague's run that names no lock (an older build's, or one written around the
    runner) does not stand for the baseline as it stands after a re-lock to other weights."""
    current = lock(lock_hash=NEW_LOCK)
    lockless = wrun("vic", lock_hash="")
    assert run3("workflow-run-by-other", current, spec(), lockless).outcome is Outcome.FAIL
    assert run3("workflow-tests-pass", current, spec(), wrun("omar", lock_hash="")).outcome is (
        Outcome.FAIL
    )
    # without a lock at all there is nothing to name: as before
    assert run3("workflow-run-by-other", spec(), lockless).outcome is Outcome.PASS


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


DECOYS = ["empty", "off-topic", "off-topic-length", "echoed-prompt", "echoed-input",
          "other-answer"]  # fmt: skip


def judged_run(by: str, proved: int | None, untested: list[dict[str, str]] | None = None,
               decoys: list[str] | None = None) -> Any:  # fmt: skip
    """A passing run of triage v1 on the current lock, as the runner records it: judged on the
    decoy answers (``decoys``; [] as a runner before decoys recorded it, which did not say whether
    the test model answered either), answered on ``by``'s machine (runners said so before they
    recorded ``proved``)."""
    return fact(
        "workflow.run",
        **HERE,
        by=by,
        workflow="triage",
        content_hash="v1",
        lock_hash=lock().payload["lock_hash"],
        passed=True,
        pass_rate=1.0,
        cases=2,
        proved=proved,
        inputs=2,
        decoys=DECOYS if decoys is None else decoys,
        untested=untested or [],
        # today's runner says whether the test model answered, and which seed it sent (exit
        # rule 35); an older one's run does not
        **({"test_model": False, "seed": AT_ZERO} if decoys is None else {}),
    )


def test_tests_any_answer_passes_but_the_empty_one_prove_nothing() -> None:
    """omar's cases are `length min 1` and `regex .+`: an empty answer fails them, so the
    runner before decoys counted his run and vic's rerun as proof; an off-topic sentence and
    the case's own prompt pass them, so nothing in either run needed the model."""
    untested = [{"case": "short", "decoy": "off-topic"}, {"case": "echo", "decoy": "echoed-prompt"}]
    runs = (judged_run("omar", 0, untested), judged_run("vic", 0, untested))
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        result = run3(check, lock(), spec(), *runs)
        assert result.outcome is Outcome.FAIL, check
        assert (
            "case short passes on an off-topic sentence; case echo passes on its own prompt "
            "echoed back"
        ) in result.reason
        assert "its tests do not need the model" in result.reason
    # a case that fails on every decoy needs the model: the same runs with one count
    honest = (judged_run("omar", 1, untested[:1]), judged_run("vic", 1, untested[:1]))
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        assert run3(check, lock(), spec(), *honest).outcome is Outcome.PASS, check


def test_a_play_three_that_exited_on_the_empty_answer_alone_keeps_its_exit() -> None:
    """A program whose play 3 exited before runs were judged on decoys keeps the exit: a run
    that passes today's rule is judged by it (the evidence its handoff saw, unchanged); where
    today's falls short, by the rule it exited on, saying what today's asks, for the runs the
    exit was judged on only: a run recorded since is today's rule's (tests/test_exit_scope.py)."""
    current, workflow = lock(), spec()
    before = (judged_run("omar", 2, decoys=[]), judged_run("vic", 2, decoys=[]))
    exited = {"workflow": (NOW, before[-1].id)}
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        # before the exit, an older runner's run counts for nothing (tests/test_redteam123.py)
        today = run3(check, current, workflow, *before)
        assert today.outcome is Outcome.FAIL, check
        assert "was made by an inhouse older than this one: it judged no decoy" in today.reason
        kept = run3(check, current, workflow, *before, exited=exited)
        assert kept.outcome is Outcome.PASS, check
        assert {f.id for f in kept.evidence} - {workflow.id} <= {f.id for f in before}
        assert "note" not in kept.reason  # the runs it exited on pass as they did
    # runs recorded by the exit on a runner that judged decoys, whose cases only the empty
    # answer fails (an exit mark after them, and no decoy run recorded before it exited)
    untested = [{"case": "short", "decoy": "off-topic"}]
    since = (judged_run("omar", 0, untested), judged_run("vic", 0, untested))
    at_exit = {"workflow": (NOW, since[-1].id)}
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        assert run3(check, lock(), spec(), *since).outcome is Outcome.FAIL, check
        kept = run3(check, lock(), spec(), *since, exited=at_exit)
        assert kept.outcome is Outcome.FAIL, check  # it exited on today's rule
    # the same runs recorded since an exit judged before decoys: today's rule's, as in any
    # program; the runs the exit was judged on still stand beside them
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        alone = run3(check, lock(), spec(), *since, exited=exited)
        assert alone.outcome is Outcome.FAIL, check
        assert "case short passes on an off-topic sentence" in alone.reason
        kept = run3(check, current, workflow, *before, *since, exited=exited)
        assert kept.outcome is Outcome.PASS, (check, kept.reason)
        assert {f.id for f in kept.evidence} - {workflow.id} <= {f.id for f in before}
    # a play 3 that exited once the program's runs were judged on decoys exited on today's rule
    since = (judged_run("omar", 0, untested), judged_run("vic", 0, untested))
    later = {"workflow": (NOW, since[-1].id + 1)}
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        assert run3(check, lock(), spec(), *since, exited=later).outcome is Outcome.FAIL, check
    # the rule it exited on sets aside what it set aside: tests an empty answer passes
    blank = [{"case": "short", "decoy": "empty"}]
    hollow = (judged_run("omar", 0, blank), judged_run("vic", 0, blank))
    kept = run3("workflow-tests-pass", lock(), spec(), *hollow, exited=exited)
    assert kept.outcome is Outcome.FAIL
    assert "case short passes on an empty answer" in kept.reason


def test_a_rerun_by_an_older_runner_once_the_programs_runs_judge_decoys_does_not_count() -> None:
    """vic reruns omar's version with an inhouse from before decoys (which judges the empty
    answer alone), after omar's run was judged on them: her run cannot show the tests need the
    model. One recorded before any was judged on them is as old (tests/test_redteam123.py):
    only a play 3 that exited after it keeps it."""
    author = judged_run("omar", 1)
    downgraded = judged_run("vic", 2, decoys=[])
    result = run3("workflow-run-by-other", lock(), spec(), author, downgraded)
    assert result.outcome is Outcome.FAIL
    assert (
        f"vic's run (fact #{downgraded.id}) was made by an inhouse older than the program's "
        f"run #{author.id}: it judged no decoy answers"
    ) in result.reason
    before = judged_run("vic", 2, decoys=[])
    early = run3("workflow-run-by-other", lock(), spec(), before, judged_run("omar", 1))
    assert early.outcome is Outcome.FAIL
    assert f"vic's run (fact #{before.id}) was made by an inhouse older than this one" in (
        early.reason
    )
    exited = {"workflow": (NOW, before.id)}
    kept = run3(
        "workflow-run-by-other", lock(), spec(), before, judged_run("omar", 1), exited=exited
    )
    assert kept.outcome is Outcome.PASS, kept.reason


def test_a_rerun_by_a_runner_before_off_topic_prose_once_the_programs_runs_judge_it() -> None:
    """omar's run was judged on off-topic prose as long as the model's answer too; vic's
    colleague reruns it with an inhouse from before (a lock pinning an old release installs
    one), whose run names every decoy but that one: a length window of vic's passes there as
    "needing the model", so the run cannot show it and does not count. A run of that older
    runner recorded before any was judged on the prose is as old: only a play 3 that exited
    after it keeps it."""
    older = [d for d in DECOYS if d != "off-topic-length"]
    author = judged_run("omar", 1)
    downgraded = judged_run("vic", 2, decoys=older)
    result = run3("workflow-run-by-other", lock(), spec(), author, downgraded)
    assert result.outcome is Outcome.FAIL
    assert (
        f"vic's run (fact #{downgraded.id}) was made by an inhouse older than the program's "
        f"run #{author.id}: it was not judged on off-topic prose as long as the model's answer"
    ) in result.reason
    before = judged_run("vic", 2, decoys=older)
    early = run3("workflow-run-by-other", lock(), spec(), before, judged_run("omar", 1))
    assert early.outcome is Outcome.FAIL
    assert "older than this one: it was not judged on off-topic prose as long" in early.reason
    exited = {"workflow": (NOW, before.id)}
    kept = run3(
        "workflow-run-by-other", lock(), spec(), before, judged_run("omar", 1), exited=exited
    )
    assert kept.outcome is Outcome.PASS, kept.reason


def test_runs_from_before_the_other_cases_answers_were_decoys_keep_what_they_recorded() -> None:
    """A play 3 that exited on runs of shape-only cases (JSON in the workflow's schema), judged
    before the model's answers to the other cases were decoys, keeps its exit: those runs
    recorded `proved` 2, and are judged on it. Once a run judged on the other cases' answers is
    recorded, a colleague's rerun by the release before (every decoy but that one) is set
    aside: its shape-only cases "need the model" only there."""
    older = [d for d in DECOYS if d != "other-answer"]
    author, rerun = judged_run("omar", 2, decoys=older), judged_run("vic", 2, decoys=older)
    exited = {"workflow": (NOW, rerun.id + 10**9)}
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        kept = run3(check, lock(), spec(), author, rerun, exited=exited)
        assert kept.outcome is Outcome.PASS, (check, kept.reason)
    # the author's shape-only cases, judged on the other case's answer: they do not need the model
    shapes = [
        {"case": "printer", "decoy": "other-answer"},
        {"case": "vpn", "decoy": "other-answer"},
    ]
    judged = judged_run("omar", 0, shapes)
    result = run3("workflow-tests-pass", lock(), spec(), judged)
    assert result.outcome is Outcome.FAIL
    assert "case printer passes on the model's answers to its other cases" in result.reason
    downgraded = judged_run("vic", 2, decoys=older)
    result = run3("workflow-run-by-other", lock(), spec(), judged, downgraded)
    assert result.outcome is Outcome.FAIL
    assert (
        f"vic's run (fact #{downgraded.id}) was made by an inhouse older than the program's "
        f"run #{judged.id}: it was not judged on the model's answers to its other cases"
    ) in result.reason


def test_a_workflow_of_one_case_is_told_to_add_another() -> None:
    """A workflow of one case has no other case's answer to be told apart from: play 3 says to
    add a case with another input and another right answer."""
    single = judged_run("omar", 0, [{"case": "printer", "decoy": "other-answer"}])
    single.payload["cases"] = 1
    result = run3("workflow-tests-pass", lock(), spec(), single)
    assert result.outcome is Outcome.FAIL
    assert "(it has one case: add a case with another input and another right answer)" in (
        result.reason
    )
