"""A case passed on a best of N is shown as one (the strict xfail beside
``test_a_case_that_passes_on_one_of_fifty_drawn_attempts_is_no_pass`` stays open: teams test
pass@k on purpose). Where a colleague's run passes a version whose text (what its content hash
covers, never a run's word) has a case with ``min-pass`` under half its ``repeat``, play 3's
reasons say so, and the verdict and the evidence an acceptance hashes stay as they were."""

from __future__ import annotations

from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import CheckedRef, evidence_hash
from inhouse.program.playbook import CheckRef
from tests.test_playchecks import lock, run, spec
from tests.test_review_wseed import WITH_PAM
from tests.test_workflow_attempt_seeds import best_of
from tests.test_workflow_seed_hashed import DRAWN, judged, sent, wrun

SAID = "case case-1 passes on 1 of 50 attempts: a best of 50"


def _runs(content: str, omars_text: str, vics_text: str) -> tuple[object, ...]:
    omars = wrun("omar", content, sent(11, 1.2), omars_text)
    vics = wrun("vic", content, sent(DRAWN, 1.2, drawn=True), vics_text)
    vics.payload["attempt_seeds"] = True
    return spec(content=content), omars, vics


def test_a_colleagues_pass_on_a_best_of_fifty_says_so_and_still_passes() -> None:
    text, content = best_of(50, 1)
    facts = _runs(content, text, text)
    result = judged(*facts)
    assert result.outcome is Outcome.PASS, result.reason
    assert SAID in result.reason, result.reason
    # the author's own pass says it too, beside its "100% of cases"
    own = run("workflow-tests-pass", lock(), *facts, people=WITH_PAM)
    assert own.outcome is Outcome.PASS and SAID in own.reason, own.reason
    # the evidence is the spec and vic's run, as before: an acceptance's hash is unchanged
    assert [f.id for f in result.evidence] == [facts[0].id, facts[2].id]
    plain = Result(Outcome.PASS, "vic passed it", result.evidence)
    assert _hash(result) == _hash(plain)


def test_a_run_typing_another_text_for_the_version_hides_nothing() -> None:
    """The author's run carries the text of a `repeat: 5, min-pass: 4` version under the
    best-of-50 version's hash, first in the log: it hashes as no version, and the colleague's
    run, which carries the real text, says what the version asks."""
    text, content = best_of(50, 1)
    other, _ = best_of(5, 4)
    result = judged(*_runs(content, other, text))
    assert result.outcome is Outcome.PASS and SAID in result.reason, result.reason


def test_a_case_that_needs_most_of_its_attempts_says_nothing_more() -> None:
    text, content = best_of(5, 4)
    result = judged(*_runs(content, text, text))
    assert result.outcome is Outcome.PASS and "best of" not in result.reason, result.reason
    # at exactly half it needs as many passes as fails: no best of N either
    text, content = best_of(4, 2)
    result = judged(*_runs(content, text, text))
    assert result.outcome is Outcome.PASS and "best of" not in result.reason, result.reason


def _hash(result: Result) -> str:
    return evidence_hash(
        [CheckedRef(CheckRef(check="workflow-run-by-other", title="run by another"), result)]
    )


def test_cases_from_a_test_file_and_comparison_cases_are_said_as_the_text_allows() -> None:
    """A test file's rows are only a hash in the version's text: they are said at the spec's
    own repeat and min-pass, which a row may override; a case without checks counts neither
    way; a text that is no spec says nothing."""
    from inhouse.workflows.spec import best_of_cases

    data = {
        "repeat": 10,
        "min-pass": 2,
        "tests": [
            "file://tests/triage.csv",
            {"name": "shown", "vars": {"ticket": "x"}},  # a comparison case
            {"vars": {"ticket": "y"}, "checks": [{"type": "contains", "value": "y"}]},
            {"vars": {"ticket": "z"}, "repeat": 3, "checks": [{"type": "contains", "value": "z"}]},
        ],
    }
    assert best_of_cases(data) == [
        "cases read from file://tests/triage.csv pass on 2 of 10 attempts unless a row says "
        "otherwise: a best of 10",
        "case case-3 passes on 2 of 10 attempts: a best of 10",
    ]
    assert best_of_cases({"tests": [{"repeat": "many"}]}) == []
    assert best_of_cases(None) == []
