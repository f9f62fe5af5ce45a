"""Review of exit rules 32 (RUNS_CONFIRMED) and 34 (LEAD_RUNS_THEN) together: what a colleague
whose confirmed chat the gateway's operator relabelled as runs can answer, and whether being
asked again ends."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from inhouse.indicators import build_report
from inhouse.pilot.usage_confirm import attributed_use, awaiting_confirmation, confirm_usage
from inhouse.program import Program
from tests.conftest import Clock
from tests.indicators import test_reported_forgery as forgery
from tests.indicators.test_lead_runs import _relabel, lena
from tests.indicators.test_lead_runs_then import _promote
from tests.indicators.test_reported_forgery import _usage
from tests.indicators.test_reported_lagging import _verdict

__all__ = ["lena"]

TWENTIETH = date(2026, 10, 20)


def test_a_relabelled_day_left_out_is_not_asked_about_again(lena: Program) -> None:
    """zoe confirmed her 6 chat requests of the 20th (no runs); lena, the gateway's operator,
    signs the day again with 6 triage runs, and zoe is asked about it again. She made no runs:
    she leaves the day out (`inhouse usage confirm --except 2026-10-20`). That is her answer:
    she is not asked about the day again, and it counts no runs."""
    _usage(lena)
    _verdict(lena)
    _relabel(lena, 6)
    zoe = forgery._ZOE[lena.folder]
    assert TWENTIETH in awaiting_confirmation(lena)["zoe"]
    assert attributed_use(zoe).days == [TWENTIETH]
    confirm_usage(zoe, leave_out=[TWENTIETH])
    assert TWENTIETH not in awaiting_confirmation(lena).get("zoe", [])
    assert TWENTIETH not in attributed_use(zoe).days
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0)


def test_runs_confirmed_signed_before_a_grant_re_signed_and_confirmed_after_count_once(
    lena: Program, clock: Clock
) -> None:
    """Rules 22, 23, 32 and 34 in one count: zoe's 3 confirmed triage runs of the 20th were
    signed before lena made her a lead; the gateway's host signs the day again with 6, and zoe,
    a lead now, is asked about it and confirms the 6. Her 3 from before the grant count (0.475
    hours), not the 6 her own word as a lead bound; nothing more is asked of her."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _promote(lena, clock, datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    _relabel(lena, 6)
    zoe = forgery._ZOE[lena.folder]
    assert TWENTIETH in awaiting_confirmation(lena)["zoe"]
    confirm_usage(zoe)
    assert "zoe" not in awaiting_confirmation(lena)
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0.475)
