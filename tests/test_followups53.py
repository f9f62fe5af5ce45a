"""followups53: a review's findings on the last merges.

Play 3's exit spared every run recorded by its mark from today's runner (the decoy answers),
not the runs it was judged on: a colleague's run by a stale install, recorded before the exit
and left out of it, counted as the exit's own. ``CheckContext.spared`` is the rule."""

from __future__ import annotations

from dataclasses import replace

from inhouse.program.checks import Outcome, evaluate
from inhouse.program.playchecks._shared import stale_runner
from tests.test_exit_scope import NOW, _lock, _run, _spec, context, person


def _people() -> dict[str, object]:
    return {
        "lena": person("lena", "platform", "rollout-lead", "play-owner"),
        "omar": person("omar", "support", "play-owner"),
        "zoe": person("zoe", "sales"),
        "carl": person("carl", "finance"),
    }


def test_a_run_play_3s_exit_left_out_is_judged_by_todays_runner() -> None:
    """Play 3 exited on omar's and zoe's runs (a runner from before decoys, the rule kept for
    them); carl's run, by the same stale runner, was recorded before the exit's mark but the
    exit was not judged on it. It is today's rule's: it judged no decoy answers, so it proves
    nothing, and zoe's run is the one that passes the check, as at the exit. An exit recorded
    before exits named their facts spares every run by its mark, as before."""
    lock, spec = _lock(), _spec()
    omar, zoe = _run("omar", 2, [], []), _run("zoe", 2, [], [])
    carl = _run("carl", 2, [], [])
    facts = [lock, spec, omar, zoe, carl]
    exited = {"workflow": (NOW, carl.id)}
    before = context(facts, _people(), exited)  # type: ignore[arg-type]
    named = replace(before, judged={"workflow": frozenset({lock.id, spec.id, omar.id, zoe.id})})
    runs = [omar, zoe, carl]
    why = stale_runner(named, runs, carl)
    assert why is not None and f"carl's run (fact #{carl.id}) was made by an inhouse older" in why
    assert stale_runner(named, runs, zoe) is None  # the exit's own run keeps the rule before
    assert stale_runner(before, runs, carl) is None  # every run by the mark, as before
    result = evaluate("workflow-run-by-other", named)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("zoe (not the author, omar) passed it"), result.reason
    assert carl.id not in {f.id for f in result.evidence}
    tests = evaluate("workflow-tests-pass", named)
    assert tests.outcome is Outcome.PASS and tests.reason.startswith("zoe passed it"), tests.reason
    assert evaluate("workflow-run-by-other", before).reason.startswith("carl (not the author")
