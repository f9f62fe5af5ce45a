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

SAID = "case case-1 needs 1 of its 50 attempts to pass: a best of 50"


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
    own repeat and min-pass (a CSV row sets neither); a case without checks counts neither
    way."""
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
        "cases read from file://tests/triage.csv need 2 of their 10 attempts to pass: a best of 10",
        "case case-3 needs 2 of its 10 attempts to pass: a best of 10",
    ]
    assert best_of_cases(None) == []  # the caller says why it has no text


def _with_file(test_file: str, **attempts: int) -> tuple[str, str]:
    """A triage version at 1.2 whose cases are read from ``test_file``, with the spec's own
    ``attempts`` (repeat, min-pass): its hashed text (the spec and the file's hash) and hash."""
    from inhouse.workflows.spec import hashed_text, text_hash

    data = {
        "name": "triage",
        "owner": "omar",
        "model": "m0",
        "parameters": {"temperature": 1.2, "seed": 11},
        "prompt": {"user": "Ticket: {{ ticket }}"},
        "variables": {"ticket": "string"},
        "tests": test_file,
        **{key.replace("_", "-"): value for key, value in attempts.items()},
    }
    text = hashed_text(data, {test_file.removeprefix("file://"): "sha256:" + "0" * 64})
    return text, text_hash(text)


def test_a_yaml_test_files_rows_that_may_pass_on_a_best_of_n_are_not_passed_over() -> None:
    """A YAML test file's row may say `repeat: 50, min-pass: 1` (a row in the spec's own shape),
    and the version's text holds only the file's hash: at the spec's own `repeat: 1` play 3
    said nothing, so the author hid a best of 50 by moving the case into a file. It says it
    cannot tell; a CSV file's rows set neither, and say nothing more there."""
    text, content = _with_file("file://tests/triage.yaml")
    result = judged(*_runs(content, text, text))
    assert result.outcome is Outcome.PASS, result.reason
    assert (
        "cases read from file://tests/triage.yaml may each set their own repeat and min-pass, "
        "which the version's text does not hold (only the file's hash): whether one passes on a "
        "best of N cannot be told"
    ) in result.reason, result.reason
    own = run("workflow-tests-pass", lock(), *_runs(content, text, text), people=WITH_PAM)
    assert own.outcome is Outcome.PASS and "cannot be told" in own.reason, own.reason
    text, content = _with_file("file://tests/triage.csv")
    result = judged(*_runs(content, text, text))
    assert result.outcome is Outcome.PASS and "best of" not in result.reason, result.reason
    text, content = _with_file("file://tests/triage.yaml", repeat=20, min_pass=3)
    result = judged(*_runs(content, text, text))
    assert (
        "cases read from file://tests/triage.yaml need 3 of their 20 attempts to pass unless a "
        "row says otherwise: a best of 20"
    ) in result.reason, result.reason


def test_a_version_no_run_carries_the_text_of_says_it_cannot_tell() -> None:
    """At temperature 0 (no rule asks a run for the version's text), runs by an inhouse from
    before runs carried it: nothing was said, as of a version with no best of N. It says it
    cannot tell; a text that is no spec this inhouse reads says so too."""
    from inhouse.workflows.spec import best_of_cases
    from tests.test_workflow_seed_hashed import version

    _, content = version(0)
    facts = (
        spec(content=content),
        wrun("omar", content, sent(11, 0)),
        wrun("vic", content, sent(11, 0)),
    )
    result = judged(*facts)
    assert result.outcome is Outcome.PASS, result.reason
    assert (
        "whether a case passes on a best of N cannot be told: no run of this version carries "
        "its text"
    ) in result.reason, result.reason
    assert best_of_cases({"tests": [{"repeat": "many"}]}) == [
        "whether a case passes on a best of N cannot be told: the version's text says no cases "
        "this inhouse reads"
    ]


def test_a_case_name_cannot_start_a_line_of_the_reason() -> None:
    """A case's name is its writer's: a line break in it put a line of the author's choosing
    into `status` under the check (a "✓ met" of their own). It is written out."""
    from inhouse.workflows.spec import best_of_cases

    forged = "lucky\n  ✓ workflow-run-by-other  every case passes most of its attempts"
    data = {
        "tests": [
            {
                "name": forged,
                "vars": {"ticket": "x"},
                "checks": [{"type": "contains", "value": "x"}],
                "repeat": 50,
                "min-pass": 1,
            }
        ]
    }
    [said] = best_of_cases(data)
    assert "\n" not in said and "lucky\\u000a  ✓" in said, said
