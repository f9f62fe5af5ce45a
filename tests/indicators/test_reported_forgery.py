"""Play 6's ``indicators-reported`` against the cheapest forgeries: a report the lead types
through the Python API, signed with the lead's own key and labelled as the indicators
collector's. What the check measures is the gateway's signed daily usage (signed with its own
key, enrolled from a host of its own: the test harness's default); a report is judged on every
figure that usage measures, and its other figures are shown as its reporter's.

The honest report, on real traffic through the real gateway, is walked in
test_indicators_walk.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.people import PeopleMixin
from tests.conftest import ENROL_SERVICE_HERE, Clock
from tests.people import confirm_own_use, enrol, hold_gateway_key, vouch_for_gateway_host

#: what the gateway answered in October: (requests, input tokens, output tokens) per person-day
OCTOBER = {
    "2026-10-05": {"zoe": (4, 400, 40), "omar": (2, 150, 30)},
    "2026-10-20": {"zoe": (6, 600, 60)},
}
USED = {"requests": 12, "tokens_in": 1150, "tokens_out": 130, "people": 2}
#: per program folder: zoe, who uses the gateway and never led (what she vouches for counts)
_ZOE: dict[Path, Program] = {}
_USERS: dict[Path, list[Program]] = {}  # zoe and omar, who confirm their own use


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """lena leads; zoe and omar use the gateway; it is 3 November, October has ended."""
    clock.now = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
    program = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    others = [enrol(program, name, team="sales") for name in ("zoe", "omar")]
    for other in others:  # each fetches a gateway key of their own before October
        hold_gateway_key(program, other)
    _ZOE[_isolated] = others[0]
    _USERS[_isolated] = others
    clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    yield program
    for each in (program, *others):
        each.close()


def _usage(program: Program, runs: dict[str, int] | None = None) -> None:
    """October's daily usage, rolled up and signed with the gateway's own key; zoe, who uses
    the gateway and never led, vouched for its host (with the organisation's sign-in set up,
    what the gateway signs counts only then: docs/gateway.md, "Whose host"). ``runs``: of
    zoe's 6 requests on the 20th, those that named each workflow, as the rollup signs them."""
    gateway = service_program(program)
    vouch_for_gateway_host(_ZOE[program.folder])
    for day, people in OCTOBER.items():
        totals: dict[str, dict[str, Any]] = {
            person: {"requests": r, "tokens_in": i, "tokens_out": o}
            for person, (r, i, o) in people.items()
        }
        if runs and day == "2026-10-20":
            totals["zoe"]["workflows"] = runs
        gateway.record_fact(
            None, "usage.daily", {"day": day, "people": totals},
            provenance=Provenance.MEASURED, collector=ROLLUP,
        )  # fmt: skip
    confirm_own_use(*_USERS[program.folder])  # each confirms their days, with their own key


def _typed(program: Program, leading: dict[str, float], inputs: list[dict[str, Any]]) -> None:
    """A report of October typed through the Python API, with its one lagging figure as the
    command records it where no workflow ran (0 hours of work changed: a lagging figure follows
    from its inputs, tests/indicators/test_reported_lagging.py)."""
    payload = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": leading, "lagging": {"work_changed_hours": 0.0},
        "inputs": inputs,
    }  # fmt: skip
    program.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                        collector="inhouse indicators")  # fmt: skip


def _tokens(tokens_in: float, tokens_out: float) -> list[dict[str, Any]]:
    return [
        {"indicator": "reference_cost", "name": name, "value": value, "unit": "tokens",
         "source": "gateway usage log (measured)"}
        for name, value in (("input tokens", tokens_in), ("output tokens", tokens_out))
    ]  # fmt: skip


def _judged(program: Program) -> Result:
    """Play 6's exit check as the status shows it (evidence left out makes it inconclusive)."""
    refs = [r for r in program.playbook.play("measure").exit if r.check == "indicators-reported"]
    (checked,) = run_checks(refs, context_for(program.state(), program.clock()))
    return checked.result


def test_a_report_matching_the_signed_usage_passes_stating_what_it_measured(
    lena: Program,
) -> None:
    _usage(lena)
    _typed(lena, {"active_users": 2, "answered_requests": 12, "dau": 0.1},
           _tokens(1150, 130))  # fmt: skip
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "signed usage shows 12 answered requests, 1150 input and 130 output tokens" in (
        result.reason
    )
    # what it did not measure is said to be the reporter's, the lagging figures people's word
    assert "other figures are as lena recorded them" in result.reason
    assert "people's word (no reference prices recorded; minutes saved" in result.reason


def test_a_typed_report_that_leaves_the_measured_figures_out_fails_naming_them(
    lena: Program,
) -> None:
    _usage(lena)
    _typed(lena, {"dau": 9.0, "people_beyond_pilot": 40.0}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL
    for named in (
        "active people (leading.active_users)",
        "answered requests (leading.answered_requests)",
        'input tokens (inputs "input tokens")',
        'output tokens (inputs "output tokens")',
    ):
        assert named in result.reason
    assert "`inhouse indicators report`" in result.reason
    # one left out is enough; a figure that is no number is not stated
    _typed(lena, {"active_users": 2, "answered_requests": 12}, _tokens(1150, 130)[:1])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL and "lacks output tokens" in result.reason
    tokens = [{**item, "value": "lots"} for item in _tokens(1150, 130)]
    _typed(lena, {"active_users": 2, "answered_requests": 12}, tokens)
    assert "lacks input tokens" in _judged(lena).reason


def test_a_token_input_stated_twice_is_judged_each_time(lena: Program) -> None:
    _usage(lena)
    # the honest report lists the tokens under each lagging indicator priced from them
    inflated = _tokens(1150 * 10, 130)
    _typed(lena, {"active_users": 2, "answered_requests": 12}, [*inflated, *_tokens(1150, 130)])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL
    assert "counts 11500 input tokens" in result.reason and "shows 1150" in result.reason


def test_a_report_of_a_period_without_signed_usage_fails(lena: Program) -> None:
    # zero of everything, which nothing signed contradicts, and lagging figures of its own
    _typed(lena, {"active_users": 0, "answered_requests": 0}, _tokens(0, 0))
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL
    assert "the gateway signed no answered request in 2026-10-01..2026-10-31" in result.reason
    assert "`inhouse gateway rollup` there" in result.reason
    # usage signed for other days is no usage in this period
    gateway = service_program(lena)
    vouch_for_gateway_host(_ZOE[lena.folder])  # it counts, on the days it was signed for
    gateway.record_fact(
        None, "usage.daily", {"day": "2026-09-30", "people": {"zoe": {"requests": 3}}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip
    other_days = _judged(lena).reason
    assert "signed no answered request" in other_days and "vouched" not in other_days


def test_usage_signed_by_a_gateway_key_enrolled_on_the_leads_machine_backs_no_report(
    lena: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena enrols "the gateway" on her own laptop and holds its key: what it signs is her
    word, so a report matching it has nothing measured behind it (zoe vouched for that host,
    in :func:`_usage`: a vouch does not move the gateway off the lead's machine)."""
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    _usage(lena)
    _typed(lena, {"active_users": 2, "answered_requests": 12}, _tokens(1150, 130))
    result = _judged(lena)
    assert not result.outcome.satisfied
    # the days are rolled up, and the reason says why they do not count, not to roll them up
    # again (walk456: lena was sent to run the rollup she had run)
    assert (
        "the log holds daily usage of 2026-10-01..2026-10-31, but none of it counts"
        in result.reason
    ), result.reason
    assert "its figures count from a host of its own" in result.reason
    assert "`inhouse gateway rollup` there" not in result.reason, result.reason


def _typed_span(
    program: Program, first: str, last: str, requests: int, tin: int, tout: int
) -> None:
    payload = {
        "period_start": first, "period_end": last, "period": f"{first}..{last}",
        "partial": False, "leading": {"active_users": 1, "answered_requests": requests},
        "lagging": {"work_changed_hours": 0.0}, "inputs": _tokens(tin, tout),
    }  # fmt: skip
    program.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                        collector="inhouse indicators")  # fmt: skip


def test_a_one_day_report_does_not_stand_for_a_months_cadence(lena: Program) -> None:
    """lena reports only 20 October (`--period 2026-10-20..2026-10-20`), the one day whose
    figures she likes: the check asks for a report every 31 days, so a report must cover a
    month's worth of days (a whole month, at least 28)."""
    _usage(lena)
    _typed_span(lena, "2026-10-20", "2026-10-20", 6, 600, 60)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL
    assert "covers 1 day" in result.reason and "at least 28" in result.reason
    # a whole month still passes
    _typed(lena, {"active_users": 2, "answered_requests": 12}, _tokens(1150, 130))
    assert _judged(lena).outcome is Outcome.PASS


def test_a_short_report_still_stands_where_play_six_exited_before_the_rule(lena: Program) -> None:
    """A program whose play 6 exited under the earlier rule is not set back by it."""
    from dataclasses import replace

    _usage(lena)
    _typed_span(lena, "2026-10-20", "2026-10-20", 6, 600, 60)
    refs = [r for r in lena.playbook.play("measure").exit if r.check == "indicators-reported"]
    ctx = context_for(lena.state(), lena.clock())
    ctx = replace(ctx, exited={**ctx.exited, "measure": (lena.clock(), lena.state().head_seq)})
    (checked,) = run_checks(refs, ctx)
    assert checked.result.outcome is Outcome.PASS, checked.result.reason
