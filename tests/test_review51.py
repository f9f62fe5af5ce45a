"""review51: the last session's merges (d2e5313..60e556b), reviewed.

``survey results`` said it shows "the pilot as the check hears it", but once play 4 had exited
it spared every answer by the exit's mark from the signed-use rule, while play 4's check (since
fb23b8b) judges by today's rule first and spares only the answers the exit was judged on, and
only where today's rule falls short. An exit judged by today's rule left carl's answer out (it
rests on use lena typed into the laptop's tables); ``survey results`` counted it, showing a
pilot keener than the check finds it, and the lead a different share than the check's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inhouse.pilot import survey as survey_module
from inhouse.pilot.survey import survey_results
from inhouse.program.checks import CheckContext
from tests.pilot.gateway_days import Pilot
from tests.test_outsider_21 import _checked, _keen_exit, _surveyed, six  # noqa: F401


def _exited(
    monkeypatch: pytest.MonkeyPatch, pilot: Pilot, mark: int, judged: frozenset[int] | None
) -> None:
    """``survey results`` reads a program whose play 4 exited at ``mark``, judged on
    ``judged`` (None: an exit recorded before exits named their facts), as _checked does."""
    build = survey_module._context

    def exited(program: object) -> CheckContext:
        ctx = build(program)  # type: ignore[arg-type]
        ctx = replace(ctx, exited={**ctx.exited, "pilot": (pilot.lead.clock(), mark)})
        if judged is not None:
            ctx = replace(ctx, judged={**ctx.judged, "pilot": judged})
        return ctx

    monkeypatch.setattr(survey_module, "_context", exited)


def _carl(pilot: Pilot) -> int:
    return max(
        f.id
        for f in pilot.lead.state().facts
        if f.kind == "survey.response" and f.payload["person"] == "carl"
    )


def _counted(pilot: Pilot) -> tuple[float, set[int]]:
    found = survey_results(pilot.lead)
    return found.pilot.pilot_share, {fact for fact, _ in found.uncounted}


def test_survey_results_leave_out_an_answer_the_exit_left_out(
    six: Pilot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Play 4 exits by today's rule on four of six, carl's answer left out: the check still
    counts four after the exit, and so do the results (carl's answer named as not counted)."""
    _surveyed(six)
    (at_exit,) = _checked(six, None)
    judged = frozenset(f.id for f in at_exit.result.evidence)
    mark = six.lead.state().head_seq
    (now,) = _checked(six, mark, judged)
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    _exited(monkeypatch, six, mark, judged)
    share, uncounted = _counted(six)
    assert _carl(six) in uncounted
    assert share == pytest.approx(4 / 6)


def test_survey_results_of_an_older_exit_count_as_its_check_does(
    six: Pilot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exit recorded before exits named their facts: today's rule passes on four, and the
    check says four of six (its earlier rule asked only where today's falls short); the results
    say so too, not five."""
    _surveyed(six)
    mark = six.lead.state().head_seq
    (now,) = _checked(six, mark)
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    _exited(monkeypatch, six, mark, None)
    share, uncounted = _counted(six)
    assert _carl(six) in uncounted
    assert share == pytest.approx(4 / 6)


def test_survey_results_count_what_an_older_exit_keeps_once_today_s_rule_falls_short(
    six: Pilot,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same older exit, bob cooler since: today's rule finds three of six, the rule the
    exit was judged by counts carl's answer (by its mark) and passes on four; the results
    count it as the check does."""
    mark, _ = _keen_exit(six)
    (now,) = _checked(six, mark)
    assert now.result.reason.startswith("4 of 6"), now.result.reason
    _exited(monkeypatch, six, mark, None)
    share, uncounted = _counted(six)
    assert _carl(six) not in uncounted
    assert share == pytest.approx(4 / 6)
