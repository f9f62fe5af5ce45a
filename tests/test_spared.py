"""A rule kept from before, for a play that exited under it, spares only the facts its exit was
judged on (``CheckContext.spared``: the facts its exit named), not every fact recorded up to the
exit's mark. A fact recorded before the exit but left out of it (recorded between the
handoff's acceptance and the exit, or carried in sealed earlier) is judged by today's rule,
else one person uses the laxer rule for evidence no exit ever looked at.

Each site is tested both ways: the fact the exit left out is judged by today's rule (a test
that fails where the check spared by the exit's mark), and the fact it cited is kept as it was
(its accepted handoff hashed it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from inhouse.program.checks import CheckContext, Outcome, Result, evaluate
from inhouse.program.facts import Fact, FactSet
from inhouse.program.playchecks.pilot import adoption_too_old, survey_too_old
from tests.test_exit_scope import (
    NOW,
    _agent_day,
    _enabled,
    _wide_verdict,
    context,
    fact,
    lead_and_owner,
)
from tests.test_playchecks import (
    EXITED,
    OWNERS,
    ROSTER,
    _finding,
    _rerun,
    _tested,
    _workflow,
    signed_in,
)
from tests.test_playchecks import person as roster_person

# -- value-proven: a floor over the cap ------------------------------------------------------------


def _proven(floor: float) -> Fact:
    return fact("trial.verdict", by="lena", trial="t", verdict="proven", proven_on=["faster"],
                quality_ok=True, quality_floor=floor)  # fmt: skip


def _verdicts(cited: str) -> Result:
    """Play 1 exited after an honest verdict and a wide one (its floor over today's cap) were
    both recorded; its exit named the one ``cited`` ("honest" or "wide")."""
    honest, wide = _proven(10.0), _wide_verdict()
    exited = {"prove-value": (NOW, wide.id)}
    judged = {"prove-value": frozenset({(honest if cited == "honest" else wide).id})}
    ctx = replace(context([honest, wide], lead_and_owner(), exited), judged=judged)
    return evaluate("value-proven", ctx)


def test_value_proven_judges_a_verdict_its_exit_left_out_by_todays_rule() -> None:
    """The forgery: play 1's handoff is accepted on an honest verdict; before the exit is
    recorded, the trial's author records another with a floor over the cap. It is before the
    exit's mark, but the exit was not judged on it: today's cap judges it."""
    result = _verdicts(cited="honest")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "set `quality_floor` to at most 20" in result.reason


def test_value_proven_keeps_the_wide_verdict_its_exit_cited() -> None:
    kept = _verdicts(cited="wide")
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "(play 1 exited before the cap)" in kept.reason


# -- pilot-enabled: a step resting on a day only a member's agent used -----------------------------


def _steps(cite_late: bool) -> Result:
    """p1's honest step and p0's step on a day only p0's agent used, both before play 4's
    exit's mark; the exit named p1's (and p0's, with ``cite_late``)."""
    people, members, day = _agent_day()
    honest, late = _enabled("p1", day), _enabled("p0", day)
    exited = {"pilot": (NOW, late[-1].id)}
    named = {day.id, *(f.id for f in honest), *((f.id for f in late) if cite_late else ())}
    ctx = context([*members, day, *honest, *late], people, exited)
    return evaluate("pilot-enabled", replace(ctx, judged={"pilot": frozenset(named)}))


def test_pilot_enabled_judges_a_step_its_exit_left_out_by_todays_rule() -> None:
    """The forgery: p0 records their first-request step, naming a day only their agent used,
    after play 4's handoff was accepted on other evidence but before its exit was recorded: by
    the rule before it is borne out. A step the exit was not judged on is today's rule's."""
    result = _steps(cite_late=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "none through p0's own" in result.reason


def test_pilot_enabled_keeps_the_step_its_exit_cited() -> None:
    kept = _steps(cite_late=True)
    assert kept.outcome is Outcome.PASS, kept.reason


# -- pilot-independent-use and pilot-would-resist-losing: a report or survey gone stale ------------

OLD = (NOW - timedelta(days=40)).date().isoformat()


def _report(as_of: str) -> Fact:
    members = [{"person": p, "active_days": 3, "independent": True, "reason": ""}
               for p in ("p0", "p1")]  # fmt: skip
    return fact("pilot.adoption", by="lena", as_of=as_of, window_days=28, min_days=3,
                members=members)  # fmt: skip


def _stale(latest: Fact, cited: Fact, mark: int) -> CheckContext:
    ctx = context([cited, latest], lead_and_owner(), {"pilot": (NOW, mark)})
    return replace(ctx, judged={"pilot": frozenset({cited.id})})


def test_adoption_report_its_exit_left_out_is_asked_to_be_fresh() -> None:
    """The forgery: play 4's exit was judged on a fresh report; before the exit was recorded, a
    lead records one as of a good month long gone. It is the latest, before the exit's mark,
    but no exit was judged on it: it must be fresh, as in any program."""
    cited = _report(NOW.date().isoformat())
    backdated = _report(OLD)
    why = adoption_too_old(_stale(backdated, cited, backdated.id), backdated)
    assert why is not None
    assert f"fact #{backdated.id}) is as of {OLD}" in why


def test_adoption_report_its_exit_cited_is_not_asked_to_be_fresh() -> None:
    cited = _report(OLD)
    ctx = context([cited], lead_and_owner(), {"pilot": (NOW, cited.id)})
    assert adoption_too_old(replace(ctx, judged={"pilot": frozenset({cited.id})}), cited) is None


def _survey(opened_days_ago: int) -> Fact:
    at = NOW - timedelta(days=opened_days_ago)
    return fact("survey.opened", at=at, survey=f"s{opened_days_ago}", closes=at + timedelta(14))


def test_survey_its_exit_left_out_is_asked_to_be_fresh() -> None:
    """The forgery, for the survey: one opened long ago, recorded before the exit's mark but
    not the one its exit was judged on, must be fresh."""
    cited, old = _survey(1), _survey(400)
    why = survey_too_old(_stale(old, cited, old.id), old)
    assert why is not None
    assert f"fact #{old.id}) was opened on" in why


def test_survey_its_exit_cited_is_not_asked_to_be_fresh() -> None:
    cited = _survey(400)
    ctx = context([cited], lead_and_owner(), {"pilot": (NOW, cited.id)})
    assert survey_too_old(replace(ctx, judged={"pilot": frozenset({cited.id})}), cited) is None


# -- findings-fed-back: a confirmation dated by the log's time -------------------------------------


def _confirmed(cite_confirmation: bool) -> Result:
    """omar's version (150 days old) closing zoe's finding, and zoe's confirming run sealed on
    her machine an hour after it and carried in yesterday, before play 6's exit's mark; its
    exit named the confirmation (``cite_confirmation``) or only the rest."""
    people = {**ROSTER, "zoe": roster_person("zoe", "sales")}
    v1 = _workflow("a", at=NOW - timedelta(days=300))
    finding = _finding("workflow:triage", at=NOW - timedelta(days=200))
    v2 = _workflow("b", closes=(finding.id,), at=NOW - timedelta(days=150))
    sealed = _rerun(v2)
    confirming = replace(sealed, at=NOW - timedelta(days=1), imported=True, sealed_at=sealed.at)
    facts = (v1, finding, v2, _tested(v2), confirming)
    named = {f.id for f in facts if cite_confirmation or f is not confirming}
    params: dict[str, Any] = {"period_days": 92}
    ctx = CheckContext(
        facts=FactSet(facts), people=people, owners=OWNERS, now=NOW, params=params,
        machines={who: frozenset({f"{who}-laptop"}) for who in people},
        exited={**EXITED, "measure": (NOW - timedelta(days=1), confirming.id)},
        judged={"measure": frozenset(named)}, signed_in=signed_in(people), sign_in_issuer="x",
    )  # fmt: skip
    return evaluate("findings-fed-back", ctx)


def test_findings_fed_back_dates_a_confirmation_its_exit_left_out_by_its_seal() -> None:
    """The forgery: a confirming run sealed months ago is carried in after play 6's handoff was
    accepted, before its exit was recorded: by the log's time it is within the period. The exit
    was not judged on it, so it is dated as sealed, outside the period."""
    result = _confirmed(cite_confirmation=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "none closed by a change in the last 92 days" in result.reason


def test_findings_fed_back_keeps_the_log_time_of_the_confirmation_its_exit_cited() -> None:
    kept = _confirmed(cite_confirmation=True)
    assert kept.outcome is Outcome.PASS, kept.reason
