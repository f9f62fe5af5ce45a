"""A ``pilot.adoption`` report is judged by the check's terms, never by the ones it states.

The gateway's key and its usage log live on its host, whose operator (a rollout lead, as
deployed) can sign any report with that key. Her pilot fetched their keys on 2 November and
barely used them. Each forgery below passed ``pilot-independent-use`` before: a report that
asks for one active day (or none, written around the API), one over a shorter window, one whose
rows claim independence on no active day, and one dated a month ahead, where a key nobody has
revoked "holds" every day to come. Each is refused now, and says why; the gateway's honest
report of the same days still counts what it measured.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.gateway.rollup import service_program
from inhouse.pilot.adoption import COLLECTOR, record_adoption
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.counting import build_context
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.people import confirm_days
from tests.pilot.gateway_days import Pilot, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "dora": ("finance", "analyst")}
ROLLUP = "inhouse gateway rollup"


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    for person in TEAMS:
        made.enable(person, "2026-11-02T10:00")
    yield made
    made.lead.close()


def _sign(lead: Program, kind: str, payload: dict, collector: str = COLLECTOR) -> None:
    """What the gateway host's operator can do alone: sign with the gateway's key."""
    service_program(lead).record_fact(
        None, kind, payload, provenance=Provenance.MEASURED, collector=collector
    )


def _report(as_of: str, active_days: int, min_days: int = 3, window_days: int = 28) -> dict:
    return {"as_of": as_of, "window_days": window_days, "min_days": min_days,
            "members": [{"person": p, "active_days": active_days, "independent": True}
                        for p in TEAMS]}  # fmt: skip


def _confirm(pilot: Pilot, until: int) -> None:
    """Each member confirms, with their own key, the days from 2 November to ``until``: the
    rule these tests are about is the report's own, not a member's word."""
    for person in TEAMS:
        confirm_days(pilot.people[person], *(f"2026-11-0{d}" for d in range(2, until + 1)))


def _independent_use(pilot: Pilot) -> tuple[Outcome, str]:
    lead = pilot.lead
    refs = [r for r in lead.playbook.play("pilot").exit if r.check == "pilot-independent-use"]
    (checked,) = run_checks(refs, context_for(lead.state(), lead.clock()))
    return checked.result.outcome, checked.result.reason


def _why(lead: Program, kind: str) -> list[str]:
    context = build_context(lead.state(), lead.clock())
    return [u.why for u in context.uncounted if u.fact.kind == kind]


@pytest.mark.parametrize(("min_days", "window_days"), [(1, 28), (2, 28), (3, 7), (3, 90)])
def test_a_report_on_laxer_terms_than_the_checks_does_not_pass(
    pilot: Pilot, min_days: int, window_days: int
) -> None:
    """Four days with a key each (2-5 November): enough for a report asking one or two days,
    or any count over a window other than the playbook's."""
    pilot.on("2026-11-05")
    _confirm(pilot, 5)
    _sign(pilot.lead, "pilot.adoption", _report("2026-11-05", min_days, min_days, window_days))
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL, reason
    days = "1 active day" if min_days == 1 else f"{min_days} active days"
    assert f"counts {days} in {window_days}" in reason
    assert "this check asks for 3 in 28" in reason


def test_a_threshold_of_no_days_written_around_the_api_counts_for_nobody(pilot: Pilot) -> None:
    from inhouse.program.events import EventKind, append
    from inhouse.program.facts import FACT_KINDS

    lead = pilot.lead
    pilot.on("2026-11-05")
    gateway = service_program(lead)
    append(lead.store, EventKind.FACT_RECORDED, "gateway",
           {"kind": "pilot.adoption", "version": FACT_KINDS["pilot.adoption"].version,
            "provenance": "measured", "collector": COLLECTOR,
            "payload": _report("2026-11-05", 0, min_days=0)},
           at=lead.clock(), key=gateway.key)  # fmt: skip
    (why,) = _why(lead, "pilot.adoption")  # set aside by the fold: its schema says at least 1
    assert why.startswith("not what inhouse writes: payload.min_days: Input should be")
    outcome, reason = _independent_use(pilot)  # not counted beside it: a person looks
    assert outcome is Outcome.INCONCLUSIVE and "no adoption measured yet" in reason


def test_a_row_claiming_independence_on_fewer_days_than_the_threshold_is_not(
    pilot: Pilot,
) -> None:
    pilot.on("2026-11-06")  # five days held each: the key-holder rule alone lets it through
    _confirm(pilot, 6)  # and each confirms them: the row's own figure is what fails it
    _sign(pilot.lead, "pilot.adoption", _report("2026-11-06", active_days=0))
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL, reason
    assert reason.startswith("0 of 3 pilot members reach it on their own")


def test_a_report_dated_ahead_counts_no_day_to_come(pilot: Pilot) -> None:
    """Recorded on 3 November, as of 3 December: the keys, unrevoked, would hold 28 days."""
    pilot.on("2026-11-03")
    _sign(pilot.lead, "pilot.adoption", _report("2026-12-03", active_days=5))
    (why,) = _why(pilot.lead, "pilot.adoption")
    assert why.startswith("its as_of 2026-12-03 is after the day it was recorded (2026-11-03)")
    outcome, reason = _independent_use(pilot)  # not counted beside it: a person looks
    assert outcome is Outcome.INCONCLUSIVE and "no adoption measured yet" in reason
    # nor once December comes: held days are counted up to the day it was recorded
    pilot.on("2026-12-04")
    assert _independent_use(pilot)[0] is Outcome.INCONCLUSIVE


def test_the_honest_report_still_counts(pilot: Pilot) -> None:
    """The same fixture, really used on three days by two of three: the gateway's own report
    passes, on the playbook's terms."""
    from tests.pilot.gateway_days import Use

    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in ("bob", "pia") for d in (3, 4, 5))
    pilot.on("2026-11-06")
    _, fact = record_adoption(pilot.lead)
    assert fact is not None and (fact.payload["min_days"], fact.payload["window_days"]) == (3, 28)
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.PASS and reason.startswith("2 of 3 pilot members"), reason


def test_the_command_refuses_a_day_to_come(pilot: Pilot) -> None:
    pilot.on("2026-11-03")
    with pytest.raises(InvalidInput, match=r"--as-of 2026-11-04 is after today \(2026-11-03"):
        record_adoption(pilot.lead, date(2026, 11, 4))
    assert not [f for f in pilot.lead.state().facts if f.kind == "pilot.adoption"]


def test_a_days_usage_or_a_prompts_last_use_dated_ahead_is_not_counted(pilot: Pilot) -> None:
    pilot.on("2026-11-03")
    people = {p: {"requests": 3, "tokens_in": 30, "tokens_out": 9} for p in TEAMS}
    _sign(pilot.lead, "usage.daily", {"day": "2026-11-20", "people": people}, ROLLUP)
    _sign(pilot.lead, "prompt.usage",
          {"prompt": "triage", "version": 1, "uses": 4, "users": 3, "uses_by_others": 4,
           "last_used": "2026-11-20", "people": sorted(TEAMS)})  # fmt: skip
    pilot.on("2026-11-25")  # their days have come; they were still typed ahead of them
    context = build_context(pilot.lead.state(), pilot.lead.clock())
    assert not context.facts.of("usage.daily") and not context.facts.of("prompt.usage")
    assert any("its day 2026-11-20 is after the day it was recorded" in w
               for w in _why(pilot.lead, "usage.daily"))  # fmt: skip
    assert any("its last_used 2026-11-20 is after" in w for w in _why(pilot.lead, "prompt.usage"))
