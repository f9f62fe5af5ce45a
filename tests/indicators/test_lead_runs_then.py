"""Exit rule ``LEAD_RUNS`` (23) read the rollout leads as everyone who ever held the role: zoe,
made a lead in December, turned her October runs into "a lead's" and an honest October
report (not yet exited on) into a failure, and a team that hands the lead role on was failed
for it. A run is a lead's where its runner had been a rollout lead by the time the gateway
signed it (exit rule ``LEAD_RUNS_THEN``): the role's grant and the run's ``usage.daily`` fact
are both places in the log, read as rules 17 and 20 read them, never a writer's clock. The
forgeries one person could try with role timing stay closed: a lead who hands the role on and
then runs is still a lead for those runs; a grant written on a clock set forward does not
move the grant; the gateway's operator re-signing a day from before a grant with more runs
adds none.
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
from tests.people import confirm_own_use, vouch_for_gateway_host

#: lena leads; zoe and omar used the gateway in October; it is 3 November
lena = forgery.lena

#: zoe's three triage runs of 20 October at play 1's trial's 9.5 minutes a task
HONEST_HOURS = 3 * 9.5 / 60


def _report(program: Program, runs: int, hours: float) -> None:
    """October's report, listing ``runs`` triage runs and ``hours`` of work changed."""
    payload: dict[str, Any] = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": {"active_users": 2, "answered_requests": 12},
        "lagging": {"work_changed_hours": hours},
        "inputs": [*_tokens(1150, 130), {"indicator": "work_changed_hours",
                   "name": "triage: runs", "value": runs, "unit": "runs", "source": "gateway"}],
    }  # fmt: skip
    program.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                        collector="inhouse indicators")  # fmt: skip


def _promote(program: Program, clock: Clock, when: datetime, name: str = "zoe") -> None:
    """lena makes ``name`` a rollout lead, her clock reading ``when``; omar, who never led,
    vouched for the gateway's host too (a vouch by someone who is or was a lead counts for
    nothing, whenever they led: not this rule's to change)."""
    vouch_for_gateway_host(forgery._USERS[program.folder][1])
    now = clock.now
    clock.now = when
    program.change_roles(None, name, add=["rollout-lead"])
    clock.now = now


def test_a_colleague_made_lead_since_ran_her_october_runs_before(
    lena: Program, clock: Clock
) -> None:
    """The honest path: zoe's 3 triage runs were signed in October, the report recorded; lena
    hands zoe the lead's role in December. The report still passes: the role does not reach
    back over runs signed before it."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _report(lena, 3, round(HONEST_HOURS, 4))
    _promote(lena, clock, datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    assert "rollout-lead" in lena.state().people["zoe"].roles
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason


def test_the_command_counts_the_runs_a_lead_made_before_she_led(
    lena: Program, clock: Clock
) -> None:
    """`inhouse indicators report` reads them so: zoe's 3 runs change work after she leads."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _promote(lena, clock, datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    report = build_report(lena, "2026-10")
    assert report.value("work_changed_hours") == pytest.approx(HONEST_HOURS)


def test_a_day_re_signed_with_more_runs_after_the_grant_adds_none(
    lena: Program, clock: Clock
) -> None:
    """The forgery: zoe's 20 October was signed with 3 of her 6 requests triage runs before she
    led; made a lead, the gateway's host (its operator's) signs the day again with the figures
    she confirmed, all 6 now runs. Only the 3 the log held before the grant count: a report of
    6 fails, and the command counts 3."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    _promote(lena, clock, datetime(2026, 11, 3, 10, 0, tzinfo=UTC))
    again = {"requests": 6, "tokens_in": 600, "tokens_out": 60, "workflows": {"triage": 6}}
    service_program(lena).record_fact(
        None, "usage.daily", {"day": "2026-10-20", "people": {"zoe": again}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip
    _report(lena, 6, round(6 * 9.5 / 60, 4))
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "triage 6 (signed: 3)" in result.reason, result.reason
    assert "the runs signed once zoe had been one are a lead's" in result.reason
    report = build_report(lena, "2026-10")
    assert report.value("work_changed_hours") == pytest.approx(HONEST_HOURS)


def test_a_lead_who_handed_the_role_on_before_her_runs_is_still_a_lead(
    lena: Program, clock: Clock
) -> None:
    """The forgery: zoe was made a lead and gave the role back before her October day was
    signed (lena granting it on a clock set a year ahead, to "date" the grant after the runs):
    she had been a lead by then, and her runs change no work."""
    gateway = service_program(lena)
    vouch_for_gateway_host(forgery._USERS[lena.folder][1])  # omar, who never led
    now = clock.now
    clock.now = datetime(2027, 11, 3, 10, 0, tzinfo=UTC)  # a clock set forward
    lena.change_roles(None, "zoe", add=["rollout-lead"])
    clock.now = now
    lena.change_roles(None, "zoe", remove=["rollout-lead"])
    for day, people in forgery.OCTOBER.items():
        totals: dict[str, dict[str, Any]] = {
            person: {"requests": r, "tokens_in": i, "tokens_out": o}
            for person, (r, i, o) in people.items()
        }
        if day == "2026-10-20":
            totals["zoe"]["workflows"] = {"triage": 3}
        gateway.record_fact(
            None, "usage.daily", {"day": day, "people": totals},
            provenance=Provenance.MEASURED, collector=ROLLUP,
        )  # fmt: skip
    confirm_own_use(*forgery._USERS[lena.folder])
    _verdict(lena)
    _report(lena, 3, round(HONEST_HOURS, 4))
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "triage 3 (signed: 0)" in result.reason, result.reason
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0.0)


def test_a_period_only_a_colleague_made_lead_since_used_was_used_by_someone_else(
    lena: Program, clock: Clock
) -> None:
    """The honest path, for the use itself: in October only zoe used the gateway (6 requests,
    3 of them triage runs), signed and confirmed then; made a lead in December, her October is
    still someone's other than the leads', and the report of it passes."""
    users = forgery._USERS[lena.folder]
    gateway = service_program(lena)
    vouch_for_gateway_host(users[1])  # omar, who never led
    hers = {"requests": 6, "tokens_in": 600, "tokens_out": 60, "workflows": {"triage": 3}}
    gateway.record_fact(
        None, "usage.daily", {"day": "2026-10-20", "people": {"zoe": hers}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip
    confirm_own_use(users[0])
    _verdict(lena)
    payload: dict[str, Any] = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": {"active_users": 1, "answered_requests": 6},
        "lagging": {"work_changed_hours": round(HONEST_HOURS, 4)},
        "inputs": [*_tokens(600, 60), {"indicator": "work_changed_hours",
                   "name": "triage: runs", "value": 3, "unit": "runs", "source": "gateway"}],
    }  # fmt: skip
    lena.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                     collector="inhouse indicators")  # fmt: skip
    now = clock.now
    clock.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    lena.change_roles(None, "zoe", add=["rollout-lead"])
    clock.now = now
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason
