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

from datetime import UTC, date, datetime
from typing import Any

import pytest

from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.indicators import build_report
from inhouse.pilot.usage_confirm import attributed_use, awaiting_confirmation, confirm_usage
from inhouse.program import Program, Provenance
from inhouse.program.checks import RUNS_CONFIRMED, Outcome
from tests.conftest import Clock
from tests.indicators import test_reported_forgery as forgery
from tests.indicators.test_reported_forgery import _judged, _tokens, _usage
from tests.indicators.test_reported_lagging import _verdict
from tests.people import confirm_days, confirm_own_use, hold_gateway_key, vouch_for_gateway_host

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


def _relabel(program: Program, runs: int) -> None:
    """lena, the gateway's operator (its key, the rows' MAC key), signs zoe's 20th again with
    the totals zoe confirmed, ``runs`` of its 6 requests now triage runs."""
    again = {"requests": 6, "tokens_in": 600, "tokens_out": 60, "workflows": {"triage": runs}}
    service_program(program).record_fact(
        None, "usage.daily", {"day": "2026-10-20", "people": {"zoe": again}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip


def _six_runs(program: Program) -> None:
    """October reported with zoe's and omar's use and 6 triage runs (0.95 hours)."""
    payload: dict[str, Any] = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": {"active_users": 2, "answered_requests": 12},
        "lagging": {"work_changed_hours": 0.95},
        "inputs": [*_tokens(1150, 130), {"indicator": "work_changed_hours",
                   "name": "triage: runs", "value": 6, "unit": "runs", "source": "gateway"}],
    }  # fmt: skip
    program.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                        collector="inhouse indicators")  # fmt: skip


def test_a_colleague_s_confirmed_chat_relabelled_as_runs_changes_no_work(lena: Program) -> None:
    """The forgery (exit rule RUNS_CONFIRMED): zoe confirmed her 6 chat requests of the 20th,
    no workflow named; lena signs the day again, same totals, every request a triage run. The
    report listing 6 runs (0.95 hours) fails: zoe confirmed none, and `inhouse indicators
    report` counts none; zoe is asked about the day again."""
    _usage(lena)  # zoe's 6 requests on the 20th, no workflow named; she confirmed them
    _verdict(lena)
    (said,) = [f for f in lena.state().facts if f.kind == "usage.confirmed" and f.by == "zoe"]
    assert said.payload["runs"] == {}  # she bound the day's runs: none
    _relabel(lena, 6)
    _six_runs(lena)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "listing workflow runs no signed fact backs (triage 6 (signed: 0))" in result.reason
    assert build_report(lena, "2026-10").value("work_changed_hours") == 0
    assert date(2026, 10, 20) in awaiting_confirmation(lena)["zoe"]


def test_a_colleague_s_confirmed_runs_count_and_no_more(lena: Program, clock: Clock) -> None:
    """The honest path: 3 of zoe's 6 requests on the 20th ran triage; `inhouse usage confirm`
    shows her the 3 runs and binds them, and `inhouse indicators report` counts them (0.475
    hours). lena signs the day again with 6: it still counts the 3 zoe confirmed."""
    _usage(lena, {"triage": 3})
    _verdict(lena)
    (said,) = [f for f in lena.state().facts if f.kind == "usage.confirmed" and f.by == "zoe"]
    assert said.payload["runs"] == {"2026-10-20": {"triage": 3}}
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0.475)
    _relabel(lena, 6)
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0.475)
    _six_runs(lena)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "triage 6 (signed: 3)" in result.reason


def test_the_confirmation_shows_the_runs_it_binds(lena: Program) -> None:
    """What `inhouse usage confirm` shows zoe before she answers names the day's runs."""
    _usage(lena, {"triage": 3})
    _relabel(lena, 6)
    (line,) = attributed_use(forgery._ZOE[lena.folder]).lines()
    assert line.endswith("of them 6 runs of workflow triage"), line


def _confirmed_by_an_older_inhouse(program: Program, runs: dict[str, int]) -> None:
    """October signed as :func:`_usage` signs it (``runs``: zoe's on the 20th), each day
    confirmed by zoe and omar as an inhouse from before exit rule RUNS_CONFIRMED did: its
    requests and tokens bound, no runs."""
    gateway = service_program(program)
    vouch_for_gateway_host(forgery._ZOE[program.folder])
    for day, people in forgery.OCTOBER.items():
        totals: dict[str, dict[str, Any]] = {
            person: {"requests": r, "tokens_in": i, "tokens_out": o}
            for person, (r, i, o) in people.items()
        }
        if day == "2026-10-20":
            totals["zoe"]["workflows"] = runs
        gateway.record_fact(
            None, "usage.daily", {"day": day, "people": totals},
            provenance=Provenance.MEASURED, collector=ROLLUP,
        )  # fmt: skip
    for person in forgery._USERS[program.folder]:
        name = person.whoami().name
        confirm_days(person, *(day for day, used in forgery.OCTOBER.items() if name in used))


def test_a_day_confirmed_before_runs_were_bound_counts_its_runs_as_before(lena: Program) -> None:
    """The upgrade, the hole it leaves: zoe's confirmation of the 20th from before the rule
    names no runs and bounds none, as before: lena's relabelled day counts 6 runs (0.95
    hours). zoe is asked about the day again (`inhouse status`, `inhouse usage confirm`)."""
    _confirmed_by_an_older_inhouse(lena, {"triage": 3})
    _verdict(lena)
    assert date(2026, 10, 20) in awaiting_confirmation(lena)["zoe"]
    _relabel(lena, 6)
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0.95)


def test_confirming_the_day_again_binds_its_runs(lena: Program) -> None:
    """The upgrade, closed: asked again, zoe confirms the 20th today (its 3 signed triage
    runs); lena's relabelling to 6 then counts her 3 (0.475 hours), and omar, whose days had
    no runs, is not asked again."""
    _confirmed_by_an_older_inhouse(lena, {"triage": 3})
    _verdict(lena)
    zoe = forgery._ZOE[lena.folder]
    assert attributed_use(zoe).days == [date(2026, 10, 20)]
    confirm_usage(zoe)
    assert "omar" not in awaiting_confirmation(lena)
    _relabel(lena, 6)
    assert build_report(lena, "2026-10").value("work_changed_hours") == pytest.approx(0.475)


@pytest.mark.parametrize(
    ("rules", "outcome"), [(RUNS_CONFIRMED - 1, Outcome.PASS), (RUNS_CONFIRMED, Outcome.FAIL)]
)
def test_a_play_six_judged_before_the_rule_keeps_the_runs_it_was_judged_on(
    lena: Program, rules: int, outcome: Outcome
) -> None:
    """A program whose play 6 exited under the rules before RUNS_CONFIRMED (its exit says one
    fewer), on the relabelled day, keeps the runs it was judged on (a report since passes on
    them): the rule only takes runs away. An exit saying RUNS_CONFIRMED spares no runs zoe
    did not confirm."""
    from dataclasses import replace

    from inhouse.program.evaluation import context_for, run_checks

    _usage(lena)
    _verdict(lena)
    _relabel(lena, 6)
    mark = lena.state().head_seq  # the exit was judged on the relabelled day
    _six_runs(lena)  # a report since, judged now
    state = lena.state()
    state = replace(
        state,
        first_exited={**state.first_exited, "measure": (lena.clock(), mark)},
        first_rules={**state.first_rules, "measure": rules},
    )
    refs = [r for r in lena.playbook.play("measure").exit if r.check == "indicators-reported"]
    (checked,) = run_checks(refs, context_for(state, lena.clock()))
    assert checked.result.outcome is outcome, checked.result.reason
