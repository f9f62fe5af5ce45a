"""``indicators-reported`` takes a report of a period the calendar fixes (a month; a week where
the period is a week), not a span of days its reporter placed. A span of 28 to 31 days passed:
its reporter slid it to end up to 27 days after the tool's last use, and the check, overdue
only 31 days after a report's end, kept passing for a tool nobody had used since. A program
whose play 6 exited on such a report keeps it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from inhouse.program.checks import Outcome, Person
from inhouse.program.facts import Fact
from tests.test_playchecks import NOW, ROSTER, fact, run, usage

#: zoe, enrolled from a laptop of her own, signed in: a colleague who is no lead (a period only a
#: lead used has nothing measured to stand on: tests/test_redteam56p.py)
PEOPLE = {
    **ROSTER,
    "gateway": Person(name="gateway", service=True),
    "zoe": Person(name="zoe", team="sales"),
}
#: zoe's last use of the tool: 8 to 10 September (4 requests a day); nobody used it since
DEAD = usage("zoe", 3, date(2026, 9, 8))


def _report(start: str, end: str, made: datetime, requests: int) -> Fact:
    return fact(
        "indicators.report", at=made, period_start=start, period_end=end, partial=False,
        leading={"active_users": 1, "answered_requests": requests},
        # no workflow ran: 0 hours of work changed, as the command records it (a lagging
        # figure follows from its inputs: tests/indicators/test_reported_lagging.py)
        lagging={"work_changed_hours": 0.0},
        inputs=[{"indicator": "reference_cost", "name": name, "value": 0, "unit": "",
                 "source": ""} for name in ("input tokens", "output tokens")],
    )  # fmt: skip


def test_a_window_slid_past_the_last_use_keeps_no_dead_tool_reported() -> None:
    """On 2 November the honest September report is overdue and October had no use. The
    forgery: 10 September to 7 October, 28 days, made on 8 October, holds zoe's last day
    (4 requests) and ended only 26 days ago."""
    september = _report("2026-09-01", "2026-09-30", datetime(2026, 10, 1, tzinfo=UTC), 12)
    result = run("indicators-reported", september, *DEAD, people=PEOPLE, period_days=31)
    assert result.outcome is Outcome.FAIL and "overdue" in result.reason
    october = _report("2026-10-01", "2026-10-31", NOW, 0)
    result = run("indicators-reported", october, *DEAD, people=PEOPLE, period_days=31)
    assert result.outcome is Outcome.FAIL and "signed no answered request" in result.reason
    slid = _report("2026-09-10", "2026-10-07", datetime(2026, 10, 8, tzinfo=UTC), 4)
    result = run("indicators-reported", slid, *DEAD, people=PEOPLE, period_days=31)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "the report of 2026-09-10..2026-10-07 is a span of days its reporter chose" in (
        result.reason
    )
    assert "--period YYYY-MM" in result.reason


def test_a_month_passes_and_a_span_stands_where_play_six_exited_on_it() -> None:
    """A calendar month (31 days or 30) passes; a slid span play 6's exit was judged on is
    kept, one recorded since is judged by today's rule."""
    use = usage("zoe", 3, date(2026, 10, 8))
    october = _report("2026-10-01", "2026-10-31", NOW, 12)
    result = run("indicators-reported", october, *use, people=PEOPLE, period_days=31)
    assert result.outcome is Outcome.PASS, result.reason
    slid = _report("2026-10-04", "2026-10-31", NOW, 12)
    result = run("indicators-reported", slid, *use, people=PEOPLE, period_days=31)
    assert result.outcome is Outcome.FAIL and "a span of days" in result.reason
    kept = run("indicators-reported", slid, *use, people=PEOPLE, period_days=31,
               exited={"measure": (NOW, slid.id)})  # fmt: skip
    assert kept.outcome is Outcome.PASS, kept.reason
    since = run("indicators-reported", slid, *use, people=PEOPLE, period_days=31,
                exited={"measure": (NOW, slid.id - 1)})  # fmt: skip
    assert since.outcome is Outcome.FAIL and "a span of days" in since.reason


def test_a_calendar_period_passes_whatever_period_days_an_organisation_s_playbook_sets() -> None:
    """An organisation's playbook may set `period_days`: a quarterly one (92) reports a
    calendar quarter, which the calendar fixes as it does a month; a 30-day one reports
    October, a calendar month of 31 days, which is still one period (no span of days is left
    to report in a 31-day month). A span its reporter placed still fails both."""
    quarter = _report("2026-07-01", "2026-09-30", datetime(2026, 10, 1, tzinfo=UTC), 12)
    result = run("indicators-reported", quarter, *DEAD, people=PEOPLE, period_days=92)
    assert result.outcome is Outcome.PASS, result.reason
    result = run("indicators-reported", quarter, *DEAD, people=PEOPLE, period_days=90)
    assert result.outcome is Outcome.PASS, result.reason  # Q3 has 92 days: one quarter still
    slid = _report("2026-07-03", "2026-10-02", datetime(2026, 10, 3, tzinfo=UTC), 12)
    result = run("indicators-reported", slid, *DEAD, people=PEOPLE, period_days=92)
    assert result.outcome is Outcome.FAIL and "a span of days" in result.reason
    use = usage("zoe", 3, date(2026, 10, 8))
    october = _report("2026-10-01", "2026-10-31", NOW, 12)
    result = run("indicators-reported", october, *use, people=PEOPLE, period_days=30)
    assert result.outcome is Outcome.PASS, result.reason
    # two months at once is no period of 30 days, nor of 31
    autumn = _report("2026-09-01", "2026-10-31", NOW, 24)
    both = usage("zoe", 3, date(2026, 9, 8)) + use
    for days in (30, 31):
        result = run("indicators-reported", autumn, *both, people=PEOPLE, period_days=days)
        assert result.outcome is Outcome.FAIL and "covers 61 days" in result.reason
