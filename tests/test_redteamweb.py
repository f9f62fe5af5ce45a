"""A survey answer counted as what its member read and chose (red team of the dashboard, as
the judged lead who runs its host).

bob answers lena's survey in the dashboard lena hosts and approves the answer with his own key:
``inhouse web approve`` shows him ``answer: somewhat``. The event his key agrees to is the one
lena's host proposed, and beside the answer it carries ``would_resist_losing``, which the
host types: true. The exit check of play 4 counted that field, not the answer, so bob's
"somewhat disappointed", approved as such, counted as "very". The answer decides now; a survey
answer whose two fields disagree is refused when recorded, and one written around the API
counts by its answer."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from inhouse.errors import InvalidInput
from inhouse.program.checks import Outcome
from inhouse.program.facts import Fact, validate_payload
from tests.test_playchecks import NOW, fact, roster, run, used

#: play 4 not exited on these answers (an exit whose mark is before them spares none)
NOT_YET = {"pilot": (NOW - timedelta(days=30), 0)}


def _answer(name: str, answer: str, keen: bool) -> Fact:
    """``name``'s signed answer ``answer``, with ``would_resist_losing`` set to ``keen`` (what
    the dashboard's host typed beside it: written around the API, unchecked)."""
    honest = fact("survey.response", by=name, person=name, would_resist_losing=answer == "very",
                  survey="ellis", answer=answer)  # fmt: skip
    return replace(honest, payload={**honest.payload, "would_resist_losing": keen})


def _survey() -> tuple[dict[str, object], list[Fact]]:
    people, added = roster(4, 2)
    opened = fact("survey.opened", survey="ellis", closes=NOW + timedelta(days=14))
    return people, [*added, *used(*(f"p{i}" for i in range(4))), opened]


def test_a_somewhat_approved_as_such_does_not_count_as_very() -> None:
    """Three of four answered "somewhat" (and approved that), the host typed
    would_resist_losing true beside each: most of the pilot is not very disappointed."""
    people, added = _survey()
    forged = [_answer(f"p{i}", "somewhat", True) for i in range(3)]
    result = run("pilot-would-resist-losing", *added, *forged, _answer("p3", "very", True),
                 people=people, exited=NOT_YET)  # fmt: skip
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("1 of 4"), result.reason


def test_an_exit_judged_on_such_answers_is_not_undone() -> None:
    """Play 4 exited on those answers, read as would_resist_losing said then: the exit keeps
    its reading (a stricter reading does not undo a recorded exit), and says so."""
    people, added = _survey()
    forged = [_answer(f"p{i}", "somewhat", True) for i in range(3)]
    result = run("pilot-would-resist-losing", *added, *forged, _answer("p3", "very", True),
                 people=people)  # fmt: skip
    assert result.outcome is Outcome.PASS, result.reason


def test_honest_answers_still_pass() -> None:
    people, added = _survey()
    honest = [_answer(f"p{i}", "very", True) for i in range(3)]
    result = run("pilot-would-resist-losing", *added, *honest, _answer("p3", "not", False),
                 people=people, exited=NOT_YET)  # fmt: skip
    assert result.outcome is Outcome.PASS, result.reason


def test_an_answer_whose_fields_disagree_is_refused_when_recorded() -> None:
    with pytest.raises(InvalidInput, match="would_resist_losing"):
        validate_payload("survey.response", {
            "person": "bob", "would_resist_losing": True, "survey": "ellis",
            "answer": "somewhat", "benefit": ""})  # fmt: skip
    kept = validate_payload("survey.response", {"person": "bob", "would_resist_losing": True,
                                                "survey": "ellis", "answer": "very"})  # fmt: skip
    assert kept["answer"] == "very"
    # an answer from before answers were named keeps its one field
    assert validate_payload("survey.response", {"person": "bob", "would_resist_losing": True})


def _unnamed(name: str) -> Fact:
    """``name``'s signed answer to the survey with no ``answer`` at all, only
    ``would_resist_losing`` true: what the dashboard's host proposes in place of the
    "somewhat" its member chose (every answer given to an opened survey names its answer)."""
    honest = _answer(name, "very", True)
    return replace(honest, payload={k: v for k, v in honest.payload.items() if k != "answer"})


def test_an_answer_with_no_answer_does_not_count_as_very() -> None:
    """Dropping ``answer`` beside a typed would_resist_losing read as "very" in the exit check
    while the survey's results (`inhouse survey results`) counted no answer at all: two
    readings of one fact. An answer to an opened survey counts by the answer it names."""
    people, added = _survey()
    forged = [_unnamed(f"p{i}") for i in range(3)]
    result = run("pilot-would-resist-losing", *added, *forged, _answer("p3", "very", True),
                 people=people, exited=NOT_YET)  # fmt: skip
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("1 of 4"), result.reason


def test_an_exit_judged_on_answers_with_no_answer_is_not_undone() -> None:
    people, added = _survey()
    forged = [_unnamed(f"p{i}") for i in range(3)]
    result = run("pilot-would-resist-losing", *added, *forged, _answer("p3", "very", True),
                 people=people)  # fmt: skip
    assert result.outcome is Outcome.PASS, result.reason
