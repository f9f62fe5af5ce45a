"""Play 6's work changed against the workflow runs a rollout lead signs for herself: exit rule
``SIGNED_RUNS`` (22) counts each workflow's runs as the gateway's key signs them, never as a
report lists them. But the gateway's host is its operator's (lena enrolled its key there and
holds the key file, and the MAC key its rows are sealed with), and a lead's own use counts on
her own word (`inhouse usage confirm`): she seals a day of 100,000 requests of her own naming
triage (or sends them, a loop on her laptop), confirms it, and the report's work changed is
15,833 hours of a workflow nobody else ran three times. ``indicators-reported`` already says a
period only the leads used has nothing measured to stand on; a workflow's runs are the same
word, so those not told apart from the leads' count for no work changed (exit rule
``LEAD_RUNS``), and ``inhouse indicators report`` counts them so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.indicators import build_report
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from tests.conftest import Clock
from tests.indicators import test_reported_forgery as forgery
from tests.indicators.test_reported_forgery import _judged, _tokens, _usage
from tests.indicators.test_reported_lagging import _verdict
from tests.people import confirm_own_use, hold_gateway_key

#: lena leads; zoe and omar used the gateway in October; it is 3 November
lena = forgery.lena


def _hers(program: Program, clock: Clock, requests: int) -> None:
    """A day of lena's own in October, every request naming triage, sealed and signed by the
    gateway whose host she runs; she confirms it with her own key."""
    now = clock.now
    clock.now = datetime(2026, 9, 21, 9, 0, tzinfo=UTC)  # her key fetched before October
    hold_gateway_key(program, program)
    clock.now = now
    totals = {"requests": requests, "tokens_in": 0, "tokens_out": 0, "own": requests,
              "workflows": {"triage": requests}}  # fmt: skip
    service_program(program).record_fact(
        None, "usage.daily", {"day": "2026-10-21", "people": {"lena": totals}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip
    confirm_own_use(program)


def _report(program: Program, requests: int, runs: int, hours: float) -> None:
    payload: dict[str, Any] = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": {"active_users": 3, "answered_requests": requests},
        "lagging": {"work_changed_hours": hours},
        "inputs": [*_tokens(1150, 130), {"indicator": "work_changed_hours",
                   "name": "triage: runs", "value": runs, "unit": "runs", "source": "gateway"}],
    }  # fmt: skip
    program.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                        collector="inhouse indicators")  # fmt: skip


def test_runs_the_lead_signed_for_herself_change_no_work(lena: Program, clock: Clock) -> None:
    """The forgery: zoe's 3 signed triage runs and lena's 100,000 of her own; the report
    counting all 100,003 (15,833.8083 hours at the trial's 9.5 minutes) fails, naming hers."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _hers(lena, clock, 100_000)
    _report(lena, 100_012, 100_003, round(100_003 * 9.5 / 60, 4))
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "triage 100003 (signed: 3); lena's own runs change no work (lena is or was a rollout lead)"
        in (result.reason)
    )


def test_runs_of_the_people_using_it_change_work_beside_the_leads(
    lena: Program, clock: Clock
) -> None:
    """The honest path: the same log, reported with zoe's 3 runs (0.475 hours): it passes."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _hers(lena, clock, 100_000)
    _report(lena, 100_012, 3, 0.475)
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason


def test_the_command_counts_the_runs_of_the_people_using_it(lena: Program, clock: Clock) -> None:
    """`inhouse indicators report` counts the runs so: zoe's 3 (0.475 hours), not lena's."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _hers(lena, clock, 100_000)
    report = build_report(lena, "2026-10")
    assert report.value("work_changed_hours") == pytest.approx(3 * 9.5 / 60)


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a confirmation (`inhouse usage confirm`) binds a day's requests "
    "and tokens, not which of them named a workflow. The gateway's operator (lena, who holds "
    "its key and the rows' MAC key) signs zoe's confirmed day again with the same figures, "
    "every request of it now a triage run: her six chat requests are six runs of work "
    "changed. Closing it needs the confirmation to bind each day's runs per workflow (a new "
    "field an older inhouse refuses, and an exit rule for days confirmed before it): the "
    "lead's to weigh",
)
def test_a_colleague_s_confirmed_chat_relabelled_as_runs_changes_no_work(lena: Program) -> None:
    _usage(lena)  # zoe's 6 requests on the 20th, no workflow named; she confirmed them
    _verdict(lena)
    again = {"requests": 6, "tokens_in": 600, "tokens_out": 60, "workflows": {"triage": 6}}
    service_program(lena).record_fact(
        None, "usage.daily", {"day": "2026-10-20", "people": {"zoe": again}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip
    payload: dict[str, Any] = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": {"active_users": 2, "answered_requests": 12},
        "lagging": {"work_changed_hours": 0.95},
        "inputs": [*_tokens(1150, 130), {"indicator": "work_changed_hours",
                   "name": "triage: runs", "value": 6, "unit": "runs", "source": "gateway"}],
    }  # fmt: skip
    lena.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                     collector="inhouse indicators")  # fmt: skip
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
