"""Play 6's ``indicators-reported`` against lagging figures typed from nothing: the lead types a
report through the Python API whose leading figures match the gateway's signed usage, and whose
lagging figures (spend avoided, work changed) are numbers of her own. The check asked only that
some lagging figure was there, and said the lagging ones "rest on people's word (prices,
minutes saved)": a figure with no price, estimate or cost model recorded behind it rests on
nobody's word but the reporter's. A lagging figure counts where it follows from what the log
records (the reference prices in force at the period's end, the trial's cost model, each
workflow's minutes saved from its author or the trial) and the signed tokens, by the report's
own formula; a workflow's runs are the ones the gateway's key signed per day (exit rule
``SIGNED_RUNS``: the runs a report lists count for nothing), and the usage log's unsigned busy
time stays the reporter's, and the reason says so.

The honest report, computed by `inhouse indicators report` on real traffic, is walked in
test_indicators_walk.py (it prices spend avoided and work changed, and passes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import build_report, record_report, write_report
from inhouse.indicators.prices import set_prices
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.gateway.harness import digest_of
from tests.indicators import test_reported_forgery as forgery
from tests.indicators.test_reported_forgery import _judged, _tokens, _usage
from tests.pilot.gateway_days import Use, start_pilot
from tests.pilot.test_unblessed_use import _record_lock

#: lena leads; zoe and omar used the gateway in October; it is 3 November (the fixture of
#: test_reported_forgery.py)
lena = forgery.lena
#: the figures October's signed usage measures (test_reported_forgery.OCTOBER)
LEADING = {"active_users": 2, "answered_requests": 12}


def _report(program: Program, lagging: dict[str, float], inputs: list[dict[str, Any]]) -> None:
    """October's report typed through the Python API: its leading figures and tokens as the
    gateway signed them, its lagging figures and their other inputs the lead's."""
    payload = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": LEADING, "lagging": lagging,
        "inputs": [*_tokens(1150, 130), *inputs],
    }  # fmt: skip
    program.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                        collector="inhouse indicators")  # fmt: skip


def _input(indicator: str, name: str, value: float) -> dict[str, Any]:
    return {"indicator": indicator, "name": name, "value": value, "unit": "", "source": "mine"}


def test_a_spend_avoided_typed_with_no_prices_recorded_is_nobodys_word(lena: Program) -> None:
    """No reference price was ever recorded and no trial priced an API: the honest command
    leaves spend avoided out. lena types 250,000 of it, and the check passed, calling it
    people's word."""
    _usage(lena)
    _report(lena, {"spend_avoided": 250_000.0}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spend_avoided" in result.reason
    assert "no reference prices" in result.reason
    assert "`inhouse indicators prices set`" in result.reason


def test_a_reference_cost_other_than_the_signed_tokens_at_the_recorded_prices_fails(
    lena: Program,
) -> None:
    """lena recorded a price list (her word, shown as such); the reference cost of October's
    signed tokens at those prices is (1150 x 2.5 + 130 x 10) / 1e6 = 0.004175. A report
    saying 5,000 does not follow from it; one saying 0.004175 does."""
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.5, output_per_mtok=10.0,
               source="the vendor's price page")  # fmt: skip
    _usage(lena)
    _report(lena, {"reference_cost": 5000.0}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "reference_cost 5000" in result.reason and "0.004175" in result.reason
    assert "price snapshot" in result.reason
    _report(lena, {"reference_cost": 0.004175}, [])
    honest = _judged(lena)
    assert honest.outcome is Outcome.PASS, honest.reason
    # what it rests on is said: the price list is a person's word, runs and busy time unsigned
    assert "people's word" in honest.reason


def test_a_price_recorded_after_the_report_does_not_move_it(lena: Program) -> None:
    """The prices are the ones in force when the report was recorded: a later snapshot dated
    inside the period (a clock set back) does not set an honest report aside."""
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.5, output_per_mtok=10.0,
               source="the vendor's price page")  # fmt: skip
    _usage(lena)
    _report(lena, {"reference_cost": 0.004175}, [])
    set_prices(lena, reference="hosted-mini", input_per_mtok=25.0, output_per_mtok=100.0,
               source="a later look")  # fmt: skip
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason


def test_prices_that_lapsed_after_the_report_still_price_it(lena: Program, clock: Clock) -> None:
    """lena attests the vendor's prices until 10 November (a quote valid a week) and reports
    October on the 3rd, priced with them. On the 20th the quote has lapsed: the report was
    priced with the prices in force when it was recorded, and still follows from them (it
    failed, "no reference prices were recorded", once the attestation expired). A quote that
    had lapsed before the report was recorded prices nothing, then or later."""
    payload = {"reference": "hosted-mini", "price_input_per_mtok": 2.5,
               "price_output_per_mtok": 10.0, "currency": "USD",
               "source": "a week's quote"}  # fmt: skip
    lena.attest(None, "indicators.prices", payload, "the quote",
                expires=datetime(2026, 11, 10, tzinfo=UTC))  # fmt: skip
    _usage(lena)
    _report(lena, {"reference_cost": 0.004175}, [])
    assert _judged(lena).outcome is Outcome.PASS, _judged(lena).reason
    clock.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason
    _report(lena, {"reference_cost": 0.004175}, [])  # recorded once the quote had lapsed
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL and "no reference prices" in result.reason, result.reason


def test_work_changed_typed_with_no_runs_or_no_minutes_recorded_fails(lena: Program) -> None:
    """400 hours of work changed with no workflow run signed, or runs of a workflow nobody
    recorded the minutes of (no estimate by its author, no trial's time per task): the
    honest command says 0 hours, or leaves the figure out."""
    _usage(lena)
    _report(lena, {"work_changed_hours": 400.0}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "work_changed_hours 400" in result.reason and "0" in result.reason
    # no lagging figure at all is refused as before; 0 hours with no workflow run is honest
    _report(lena, {"work_changed_hours": 0.0}, [])
    assert _judged(lena).outcome is Outcome.PASS
    _usage(lena, {"triage": 6})  # the gateway signed 6 runs of triage on the 20th
    runs = [
        _input("work_changed_hours", "triage: runs", 6),
        _input("work_changed_hours", "triage: minutes saved per run", 500),
    ]
    _report(lena, {"work_changed_hours": 400.0}, runs)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "no minutes saved recorded for triage" in result.reason
    # nor does 0 hours stand once the gateway signed runs nobody recorded the minutes of
    _report(lena, {"work_changed_hours": 0.0}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL and "no minutes saved" in result.reason, result.reason


def test_lagging_figures_beyond_the_trials_figures_fail(lena: Program) -> None:
    """Play 1's trial recorded its economics (its author's word): 600 s a task by hand, 30 s
    by the model, so a workflow run saves 9.5 minutes; and its cost inputs, 0.23 an hour busy.
    lena's report prices the 6 signed runs at 500 minutes each (50 hours; 6 x 9.5 / 60 = 0.95
    follows), and a spend avoided above what the tokens would have cost at all."""
    _verdict(lena)
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.5, output_per_mtok=10.0,
               source="the vendor's price page")  # fmt: skip
    _usage(lena, {"triage": 6})
    runs = [
        _input("work_changed_hours", "triage: runs", 6),
        _input("work_changed_hours", "triage: minutes saved per run", 500),
    ]
    _report(lena, {"work_changed_hours": 50.0}, runs)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "work_changed_hours 50" in result.reason and "0.95" in result.reason
    honest_runs = [runs[0], _input("work_changed_hours", "triage: minutes saved per run", 9.5)]
    _report(lena, {"work_changed_hours": 0.95}, honest_runs)
    assert _judged(lena).outcome is Outcome.PASS, _judged(lena).reason
    # spend avoided: the reference cost (0.004175) less 2 busy hours at 0.23 is -0.455825;
    # 1,000 is more than the tokens would have cost at all
    busy = [_input("spend_avoided", "busy time", 2.0)]
    _report(lena, {"spend_avoided": 1000.0}, busy)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spend_avoided 1000" in result.reason and "-0.455825" in result.reason
    _report(lena, {"spend_avoided": -0.455825, "local_cost": 0.46}, busy)
    assert _judged(lena).outcome is Outcome.PASS, _judged(lena).reason
    # without the busy time it is priced from, a spend avoided follows from nothing measured
    _report(lena, {"spend_avoided": 0.004175}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL and "busy time" in result.reason, result.reason


def _verdict(program: Program) -> None:
    """Play 1's trial verdict with its economics (as test_indicators_walk records it)."""
    local = {"watts": 300.0, "price_per_kwh": 0.1, "hardware_price": 2000.0,
             "lifetime_hours": 10000.0, "utilisation": 1.0, "currency": "USD"}  # fmt: skip
    economics = {"status_quo": "manual", "currency": "USD", "status_quo_seconds_per_task": 600.0,
                 "candidate_seconds_per_task": 30.0, "local": local}  # fmt: skip
    program.record_fact(
        None, "trial.verdict",
        {"trial": "ticket-summary", "verdict": "proven", "proven_on": ["faster"],
         "quality_ok": True, "economics": economics},
        provenance=Provenance.MEASURED, collector="inhouse prove",
    )  # fmt: skip


# -- the honest path: the report as `inhouse indicators report` computes it ----------------------


def test_the_commands_report_of_runs_tokens_and_busy_time_passes(
    _isolated: Path, clock: Clock, on_database: str
) -> None:
    """bob and pia send requests through the real gateway (a stand-in upstream), three of them
    naming a workflow; the lead recorded play 1's trial (its economics) and a price list. The
    report computed by the command states every lagging figure, each following from those
    words, the signed tokens and the usage log's runs and busy time: it passes."""
    pilot = start_pilot(
        _isolated, clock, {"bob": ("support", "support"), "pia": ("legal", "support")}
    )
    try:
        pilot.on("2026-11-01")
        _record_lock(pilot, digest_of(_isolated / "weights.gguf"))
        _verdict(pilot.lead)
        set_prices(pilot.lead, reference="hosted-mini", input_per_mtok=2.0, output_per_mtok=6.0,
                   source="the vendor's price page")  # fmt: skip
        pilot.use([
            Use("bob", "2026-11-03T10:00", workflow="ticket-summary"),
            Use("pia", "2026-11-03T11:00", workflow="ticket-summary"),
            Use("pia", "2026-11-04T11:00", workflow="ticket-summary"),
            Use("bob", "2026-11-05T10:00"),
        ])  # fmt: skip
        pilot.on("2026-12-02")
        assert rollup_usage(pilot.lead).recorded  # the gateway's key signs November's days
        report = build_report(pilot.lead, "2026-11")
        record_report(pilot.lead, report, write_report(pilot.lead, report))
        assert report.value("work_changed_hours") == pytest.approx(3 * 9.5 / 60)
        for name in ("spend_avoided", "reference_cost", "local_cost"):
            assert report.value(name) is not None, name
        refs = [r for r in pilot.lead.playbook.play("measure").exit
                if r.check == "indicators-reported"]  # fmt: skip
        (checked,) = run_checks(refs, context_for(pilot.lead.state(), pilot.lead.clock()))
        assert checked.result.outcome is Outcome.PASS, checked.result.reason
        assert "unsigned busy time" in checked.result.reason
        assert "workflow runs are the gateway's signed ones" in checked.result.reason
        # and whose word the prices are: the lead's, who attested the price list
        lead = pilot.lead.actor().name
        assert f"the vendor's price page (attested by {lead}" in checked.result.reason
    finally:
        pilot.lead.close()


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a price is a person's word, and the reporter may hold it herself. "
    "lena records a price list of her own (or one after the period, which prices it where "
    "none was in force): the reference cost follows, and passes, its prices named as hers "
    "('attested by lena'). Closing it needs a price word someone other than the reporter "
    "attested or confirmed: the product owner accepts it where shown whose word it is",
)
def test_a_reporter_who_holds_every_word_alone_is_not_held_by_it(lena: Program) -> None:
    _usage(lena)
    # a thousand times the vendor's: 4.175 of "reference cost"
    set_prices(lena, reference="hosted-mini", input_per_mtok=2500.0,
               output_per_mtok=10000.0, source="my reading of the vendor")  # fmt: skip
    _report(lena, {"reference_cost": 4.175}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason


def test_her_own_prices_pass_named_as_hers(lena: Program) -> None:
    """Where the hole above stays open, the reason says whose word the prices are: a reader
    of the status sees the reference cost rests on lena's price list, not a vendor's."""
    _usage(lena)
    set_prices(lena, reference="hosted-mini", input_per_mtok=2500.0,
               output_per_mtok=10000.0, source="my reading of the vendor")  # fmt: skip
    _report(lena, {"reference_cost": 4.175}, [])
    result = _judged(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "my reading of the vendor (attested by lena on 2026-11-03" in result.reason, (
        result.reason
    )


@pytest.mark.parametrize("signed", [{}, {"triage": 3}])
def test_typed_runs_no_signed_fact_backs_fail_naming_the_way(
    lena: Program, signed: dict[str, int]
) -> None:
    """lena types 100,000 runs of triage (play 1's trial: 9.5 minutes a run, 15,833.3333
    hours) where the gateway's key signed none, or 3: the usage log's summary tables are
    anyone's with the database's password, and a run counts only as the gateway signed it.
    The report stating what the 3 signed runs come to passes."""
    _usage(lena, signed)
    _verdict(lena)
    runs = [_input("work_changed_hours", "triage: runs", 100_000)]
    _report(lena, {"work_changed_hours": round(100_000 * 9.5 / 60, 4)}, runs)
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"triage 100000 (signed: {signed.get('triage', 0)})" in result.reason
    assert "no signed fact backs" in result.reason
    assert "X-Inhouse-Workflow: NAME" in result.reason and "gateway rollup" in result.reason
    # the hours alone, with the runs left out, are held to the signed runs too
    _report(lena, {"work_changed_hours": round(100_000 * 9.5 / 60, 4)}, [])
    assert _judged(lena).outcome is Outcome.FAIL
    if signed:
        _report(lena, {"work_changed_hours": 0.475},
                [_input("work_changed_hours", "triage: runs", 3)])  # fmt: skip
        honest = _judged(lena)
        assert honest.outcome is Outcome.PASS, honest.reason
