"""Play 6's ``indicators-reported`` on the honest path: the report counts the use the gateway's
key signs, by the rollup's own rules. Use of weights no recorded lock blessed that day is set
aside by the rollup (src/inhouse/gateway/rollup.py); an honest report must not count it, or
the check, which compares the report with the signed usage, fails a report nobody forged.
Requests go through the real gateway to a stand-in upstream (tests/pilot/gateway_days.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.gateway.rollup import rollup_usage
from inhouse.indicators import build_report, record_report, set_prices, write_report
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.gateway.harness import digest_of, model_file
from tests.pilot.gateway_days import Pilot, Use, start_pilot
from tests.pilot.test_unblessed_use import _record_lock

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(
        _isolated, clock, {"bob": ("support", "support"), "pia": ("legal", "support")}
    )
    yield made
    made.lead.close()


def _judged(pilot: Pilot) -> tuple[Outcome, str]:
    lead = pilot.lead
    refs = [r for r in lead.playbook.play("measure").exit if r.check == "indicators-reported"]
    (checked,) = run_checks(refs, context_for(lead.state(), lead.clock()))
    return checked.result.outcome, checked.result.reason


def test_an_honest_report_leaves_out_use_of_weights_no_lock_blessed(
    pilot: Pilot, _isolated: Path
) -> None:
    """bob uses the routed weights on 3 and 4 November, before any lock is recorded; the first
    lock, recorded on the 6th, blesses other weights; the one recorded on the 7th blesses the
    routed ones, and he uses them again on the 9th. The rollup signs the 9th only; the report,
    made as `inhouse indicators report` makes it, counts what was signed and says what it left
    out."""
    pilot.use(Use("bob", f"2026-11-0{day}T10:00") for day in (3, 4))
    pilot.use([Use("pia", "2026-11-04T11:00")])  # her only use: on weights no lock blessed
    pilot.on("2026-11-06")
    _record_lock(pilot, digest_of(model_file(_isolated, "verified.gguf", seed=7)))
    pilot.on("2026-11-07")
    _record_lock(pilot, digest_of(_isolated / "weights.gguf"))
    pilot.use([Use("bob", "2026-11-09T10:00")])
    pilot.on("2026-12-02")
    assert len(rollup_usage(pilot.lead).recorded) == 1
    set_prices(pilot.lead, reference="hosted-mini", input_per_mtok=2.0, output_per_mtok=6.0,
               source="the vendor's price page")  # fmt: skip
    report = build_report(pilot.lead, "2026-11")
    record_report(pilot.lead, report, write_report(pilot.lead, report))
    assert report.value("answered_requests") == 1
    assert report.value("active_users") == 1  # pia's only use was set aside
    (answered,) = [i for i in report.current if i.name == "answered_requests"]
    assert "3 answered requests in the usage log left out" in answered.definition
    outcome, reason = _judged(pilot)
    assert outcome is Outcome.PASS, reason
