"""Play 6's "work changed" takes a task's minutes from play 1's trial where no estimate names
them: those figures are what the trial's author's own run measured, signed by them alone, and
the indicator's input says so (not just "measured")."""

from __future__ import annotations

from pathlib import Path

from inhouse.indicators.lagging import _trial_minutes
from inhouse.program import Program, Provenance
from tests.conftest import Clock


def test_a_trials_minutes_name_whose_run_measured_them(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    try:
        fact = lena.record_fact(
            None, "trial.verdict",
            {"trial": "triage", "verdict": "proven", "proven_on": ["faster"], "quality_ok": True,
             "economics": {"status_quo": "api", "currency": "USD",
                           "status_quo_seconds_per_task": 900, "candidate_seconds_per_task": 4}},
            provenance=Provenance.MEASURED, collector="inhouse prove",
        )  # fmt: skip
        minutes, source = _trial_minutes(fact)
        assert minutes is not None and round(minutes, 2) == 14.93
        assert "measured in the run of the trial's author, lena" in source, source
    finally:
        lena.close()
