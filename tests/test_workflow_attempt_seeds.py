"""Exit rule 37 (``WORKFLOW_ATTEMPT_SEEDS``): rule 35 for the seed each attempt of a repeated case
sends.

``workflow test`` now sends each attempt of a case (``repeat: N``) a seed of its own, derived
from the run's (:func:`~inhouse.workflows.runner.attempt_seed`), and records that it did
(``attempt_seeds``). Play 3 read none of it: a colleague's run by an inhouse from before (his
stale install, or the release the lock pins) sent one seed to every attempt of a version at 0.7
with ``repeat: 5, min-pass: 5``, and "passes 5 of 5" was one draw that counted as five; and a
run that sent, as its own, a seed derived from the version's (the seed its author's second
attempt sent) replayed that lucky draw, since only the version's seed itself was refused.
"""

from __future__ import annotations

from typing import Any

import pytest

from inhouse.program.checks import WORKFLOW_ATTEMPT_SEEDS, WORKFLOW_TEXTLESS_REPEAT, Outcome
from inhouse.workflows.runner import attempt_seed
from inhouse.workflows.spec import hashed_text, text_hash
from tests.test_playchecks import NOW, lock, run, spec
from tests.test_review_wseed import WITH_PAM
from tests.test_workflow_seed_hashed import DRAWN, judged, sent, wrun


def version(repeat: int | None = None, *, files: bool = False) -> tuple[str, str]:
    """A triage version at 0.7 with seed 11 (``repeat`` written for the spec; ``files``: its
    cases read from a test file), its hashed text and content hash."""
    data: dict[str, Any] = {
        "name": "triage",
        "owner": "omar",
        "model": "m0",
        "parameters": {"temperature": 0.7, "seed": 11},
        "prompt": {"user": "Ticket: {{ ticket }}"},
        "variables": {"ticket": "string"},
        "tests": "file://tests/triage.csv"
        if files
        else [{"vars": {"ticket": "x"}, "checks": [{"type": "contains", "value": "x"}]}],
    }
    if repeat is not None:
        data["repeat"] = repeat
    text = hashed_text(data, {"tests/triage.csv": "ab" * 32} if files else None)
    return text, text_hash(text)


def test_a_run_that_sent_one_seed_to_every_attempt_of_a_repeated_case_is_one_draw() -> None:
    text, content = version(5)
    omars = wrun("omar", content, sent(11, 0.7), text)
    stale = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))  # no attempt_seeds: before
    result = judged(spec(content=content), omars, stale)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "does not say each attempt of a repeated case drew a seed of its own" in result.reason
    assert f"sent {DRAWN} to every attempt" in result.reason
    assert f"(exit rule {WORKFLOW_ATTEMPT_SEEDS})" in result.reason
    # a run that says it did not (its word against the version's own text) is no better
    lying = wrun("vic", content, sent(DRAWN, 0.7, drawn=True), text)
    lying.payload["attempt_seeds"] = False
    assert judged(spec(content=content), omars, lying).outcome is Outcome.FAIL
    # today's run, each attempt a draw of its own, counts
    fresh = wrun("vic", content, sent(DRAWN, 0.7, drawn=True), text)
    fresh.payload["attempt_seeds"] = True
    result = judged(spec(content=content), omars, fresh)
    assert result.outcome is Outcome.PASS, result.reason


def test_a_version_that_runs_each_case_once_asks_no_attempt_seeds() -> None:
    """Nothing repeats: one seed sent once is one draw, whichever inhouse sent it."""
    text, content = version()
    omars = wrun("omar", content, sent(11, 0.7), text)
    older = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    result = judged(spec(content=content), omars, older)
    assert result.outcome is Outcome.PASS, result.reason
    # a test file's rows may say repeat, which the text holds only the hash of
    text, content = version(files=True)
    omars = wrun("omar", content, sent(11, 0.7), text)
    older = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    result = judged(spec(content=content), omars, older)
    assert result.outcome is Outcome.FAIL, result.reason


def test_a_seed_derived_from_the_versions_replays_its_authors_attempt() -> None:
    """The seed omar's second attempt of each case sent (derived from the version's 11), sent
    as vic's run's own, replays that draw: refused as the version's own seed is."""
    text, content = version(3)
    omars = wrun("omar", content, sent(11, 0.7), text)
    second = attempt_seed(11, 1)
    replay = wrun("vic", content, sent(second, 0.7, drawn=True), text)
    replay.payload["attempt_seeds"] = True
    result = judged(spec(content=content), omars, replay)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"sent the seed attempt 2 of a repeated case sends at the version's own seed (11), " \
        f"{second}" in result.reason  # fmt: skip
    assert f"(exit rule {WORKFLOW_ATTEMPT_SEEDS})" in result.reason


def test_a_seed_derived_from_an_earlier_runs_replays_its_attempt() -> None:
    text, content = version(3)
    omars = wrun("omar", content, sent(11, 0.7), text)
    vics = wrun("vic", content, sent(DRAWN, 0.7, drawn=True), text, passed=False)
    vics.payload["attempt_seeds"] = True
    third = attempt_seed(DRAWN, 2)
    replay = wrun("pam", content, sent(third, 0.7, drawn=True), text)
    replay.payload["attempt_seeds"] = True
    result = judged(spec(content=content), omars, vics, replay)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"sent the seed vic's run (fact #{vics.id}) sent before for attempt 3 of a repeated " \
        f"case ({third})" in result.reason  # fmt: skip


def test_without_the_versions_text_one_seed_to_every_attempt_is_still_one_draw() -> None:
    """Exit rule 38: no run of the version carries its text (runs of an inhouse from before
    runs did), so nothing says its cases run once; vic's run at 0.7, which does not say each
    attempt drew its own, may have sent one seed to every attempt of `repeat: 5`."""
    _, content = version(5)
    omars = wrun("omar", content, sent(11, 0.7))
    stale = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    result = judged(spec(content=content), omars, stale)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "no run of its version carries the text its hash covers" in result.reason
    assert f"it may have sent {DRAWN} to every attempt" in result.reason
    assert f"(exit rule {WORKFLOW_TEXTLESS_REPEAT})" in result.reason
    assert "`inhouse workflow test triage` again" in result.reason


def test_a_run_refused_for_its_attempts_seeds_is_told_to_upgrade_not_to_draw() -> None:
    """vic's inhouse drew his run a seed of its own (``drawn``): what rules 37 and 38 refuse is
    that it did not say each attempt's, which only a current inhouse does. Telling him to run
    again "with an inhouse that draws a seed of its own" sent him back to the one he has."""
    for text in (version(5)[0], ""):  # the text says a case repeats (37), no text (38)
        content = version(5)[1]
        omars = wrun("omar", content, sent(11, 0.7), text)
        stale = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
        result = judged(spec(content=content), omars, stale)
        assert result.outcome is Outcome.FAIL, result.reason
        assert f"vic's run (fact #{stale.id})" in result.reason
        assert "vic runs `inhouse workflow test triage` again with a current inhouse" in \
            result.reason  # fmt: skip
        assert "an inhouse that draws a seed of its own" not in result.reason


def test_without_the_versions_text_a_run_whose_attempts_drew_their_own_counts() -> None:
    """The honest paths beside rule 38: a run that says each attempt drew a seed of its own
    counts without the text; one at temperature 0 replays no draw; and once a current inhouse's
    run carries the text of a version whose cases run once, the older run counts as before."""
    _, content = version(5)
    omars = wrun("omar", content, sent(11, 0.7))
    own = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    own.payload["attempt_seeds"] = True
    result = judged(spec(content=content), omars, own)
    assert result.outcome is Outcome.PASS, result.reason
    zero = wrun("vic", content, sent(11, 0.0))
    result = judged(spec(content=content), wrun("omar", content, sent(11, 0.0)), zero)
    assert result.outcome is Outcome.PASS, result.reason
    text, content = version()
    omars = wrun("omar", content, sent(11, 0.7), text)
    older = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    result = judged(spec(content=content), omars, older)
    assert result.outcome is Outcome.PASS, result.reason


def test_a_play_3_exit_judged_before_rule_38_keeps_its_verdict() -> None:
    """play 3 exited by rule 37 on vic's run with no text anywhere: it keeps its verdict; one
    judged by rule 38 does not."""
    _, content = version(5)
    omars = wrun("omar", content, sent(11, 0.7))
    stale = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    exited = {"workflow": (NOW, stale.id)}
    for rules, outcome in ((WORKFLOW_TEXTLESS_REPEAT - 1, Outcome.PASS),
                           (WORKFLOW_TEXTLESS_REPEAT, Outcome.FAIL)):  # fmt: skip
        result = run(
            "workflow-run-by-other", lock(), spec(content=content), omars, stale,
            people=WITH_PAM, exited=exited, rules=rules,
        )  # fmt: skip
        assert result.outcome is outcome, (rules, result.reason)


def test_a_run_recorded_after_an_exit_judged_before_rule_38_is_rule_38s() -> None:
    """The exit spares what it was judged on, not vic's text-less run recorded since: a play 3
    exit under rule 37 is no way to have a later run of an older inhouse count."""
    _, content = version(5)
    omars = wrun("omar", content, sent(11, 0.7))
    stale = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    assert omars.id < stale.id
    result = run(
        "workflow-run-by-other", lock(), spec(content=content), omars, stale,
        people=WITH_PAM, exited={"workflow": (NOW, omars.id)},
        rules=WORKFLOW_TEXTLESS_REPEAT - 1,
    )  # fmt: skip
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"(exit rule {WORKFLOW_TEXTLESS_REPEAT})" in result.reason


def test_a_play_3_exit_judged_on_one_seed_to_every_attempt_keeps_its_verdict() -> None:
    """play 3 exited on vic's run of an older inhouse (one seed to every attempt) before rule
    37; a run of today's inhouse since carries the version's text, which says it repeats: the
    exit keeps its verdict, and one judged by rule 37 (or a run it left out) does not."""
    text, content = version(5)
    omars = wrun("omar", content, sent(11, 0.7))
    stale = wrun("vic", content, sent(DRAWN, 0.7, drawn=True))
    since = wrun("omar", content, sent(11, 0.7), text)
    exited = {"workflow": (NOW, stale.id)}
    kept = run(
        "workflow-run-by-other", lock(), spec(content=content), omars, stale, since,
        people=WITH_PAM, exited=exited, rules=WORKFLOW_ATTEMPT_SEEDS - 1,
    )  # fmt: skip
    assert kept.outcome is Outcome.PASS, kept.reason
    now = run(
        "workflow-run-by-other", lock(), spec(content=content), omars, stale, since,
        people=WITH_PAM, exited=exited, rules=WORKFLOW_ATTEMPT_SEEDS,
    )  # fmt: skip
    assert now.outcome is Outcome.FAIL, now.reason


def best_of(repeat: int, min_pass: int) -> tuple[str, str]:
    """A triage version at temperature 1.2 whose one case runs ``repeat`` times and passes when
    ``min_pass`` attempts do: its hashed text and content hash."""
    data: dict[str, Any] = {
        "name": "triage",
        "owner": "omar",
        "model": "m0",
        "parameters": {"temperature": 1.2, "seed": 11},
        "prompt": {"user": "Ticket: {{ ticket }}"},
        "variables": {"ticket": "string"},
        "tests": [{"vars": {"ticket": "x"}, "checks": [{"type": "contains", "value": "x"}],
                   "repeat": repeat, "min-pass": min_pass}],
    }  # fmt: skip
    text = hashed_text(data)
    return text, text_hash(text)


def test_a_case_that_needs_most_of_its_drawn_attempts_counts() -> None:
    """The honest side of the hole below: `repeat: 5, min-pass: 4` at 1.2, each attempt a draw
    of its own, is a colleague's pass."""
    text, content = best_of(5, 4)
    omars = wrun("omar", content, sent(11, 1.2), text)
    vics = wrun("vic", content, sent(DRAWN, 1.2, drawn=True), text)
    vics.payload["attempt_seeds"] = True
    result = judged(spec(content=content), omars, vics)
    assert result.outcome is Outcome.PASS, result.reason


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (made wider by exit rule 37): the author writes a case's `repeat` "
    "and `min-pass`, and a case passes when min-pass of its attempts do; at `repeat: 50, "
    "min-pass: 1` and a temperature above 0, each attempt now a draw of its own, a colleague's "
    "honest run passes a case the model gets right once in 20 tries about nine times in ten "
    "(best of 50), and play 3 read it as '100% of cases' (now its reasons say 'a best of 50': "
    "tests/test_workflow_best_of.py). Before rule 37 one seed to every "
    "attempt was one draw, and repeat bought nothing. Play 3 could read each case's repeat and "
    "min-pass in the version's text and refuse a pass on fewer than most of its attempts, but "
    "that fails honest teams that test pass@k on purpose: the lead's to weigh",
)
def test_a_case_that_passes_on_one_of_fifty_drawn_attempts_is_no_pass() -> None:
    text, content = best_of(50, 1)
    omars = wrun("omar", content, sent(11, 1.2), text)
    vics = wrun("vic", content, sent(DRAWN, 1.2, drawn=True), text)
    vics.payload["attempt_seeds"] = True
    result = judged(spec(content=content), omars, vics)
    assert result.outcome is not Outcome.PASS, result.reason
