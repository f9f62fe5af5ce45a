"""findings-fed-back: a colleague's run confirms a workflow version only on weights a lock the
program recorded blessed. Before ``inhouse workflow test`` followed the recorded lock it pinned
its runner's ``inhouse.lock``, which anyone holding the folder can rewrite: such a run names a
lock the program never recorded, tested weights nobody verified, and confirms nothing. A run on
the recorded lock still closes the finding; while no lock is recorded none is set aside
(test_findings_served_elsewhere.py)."""

from __future__ import annotations

import pytest

from inhouse.baseline.lock import COLLECTOR as LOCKED
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.workflows.decoys import DECOYS
from inhouse.workflows.runner import COLLECTOR
from tests.conftest import Clock
from tests.indicators.conftest import judge_findings as _judge
from tests.indicators.test_findings_confirmed import _state
from tests.indicators.test_findings_served_elsewhere import _published
from tests.locks import HERE, lock_payload


def _run(pia: Program, lock_hash: str) -> None:
    pia.record_fact(
        "pia",
        "workflow.run",
        {"workflow": "triage", "content_hash": "b" * 64, "lock_hash": lock_hash, "passed": True,
         "pass_rate": 1.0, "cases": 3, "machine": "pia-laptop",
         # judged on decoy answers, as the program's other runs (an older runner's is not)
         "proved": 3, "decoys": list(DECOYS), **HERE},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip


def test_a_run_on_a_lock_the_program_never_recorded_confirms_nothing(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, pia = cast["lena"], cast["pia"]
    recorded = lock_payload()
    lena.record_fact("lena", "baseline.lock", recorded, provenance=Provenance.MEASURED,
                     collector=LOCKED)  # fmt: skip
    finding = _published(cast, clock, monkeypatch)
    unverified = "sha256:" + "f" * 64  # her own inhouse.lock, rewritten
    _run(pia, unverified)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"was on lock {unverified[:19]}, which the program never recorded" in result.reason
    assert _state(lena, finding).startswith("fix published, awaiting confirmation")
    _run(pia, str(recorded["lock_hash"]))
    assert _judge(lena).outcome is Outcome.PASS
    assert _state(lena, finding) == "closed"
