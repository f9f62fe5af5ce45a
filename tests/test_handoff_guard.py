"""The botched-handoff guard judges what a handoff hands on, not only that one was accepted: an
offer to oneself, or an acceptance of exits that do not hold, appended around the API (the
fold only checks who signed it), starts nothing and exits nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import InhouseError
from inhouse.program import Program, Provenance
from inhouse.program.evaluation import evidence_hash, exit_results
from inhouse.program.events import EventKind
from tests.conftest import Clock
from tests.locks import lock_payload

LOCK = lock_payload("lena")


def _play_two_unmet(_isolated: Path, clock: Clock) -> Program:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    for guard in ("calendar-driven-advance", "botched-handoff"):  # play 1 skipped, on record
        lena.grant_waiver(None, guard, reason="executive-decision", note="setup",
                          expires=clock.now + timedelta(days=30), play="baseline")  # fmt: skip
    lena.start_play(None, 2)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    task = {"task": "triage", "frequency": "daily"}
    lena.record_fact(None, "task.named", task, provenance=Provenance.MEASURED,
                     collector="inhouse workflow validate")  # fmt: skip
    return lena


def test_a_handoff_to_oneself_of_unmet_exits_starts_nothing(_isolated: Path, clock: Clock) -> None:
    lena = _play_two_unmet(_isolated, clock)
    digest = evidence_hash(exit_results(lena.playbook.play(2), lena.state(), lena.clock()))
    offer = {"play": "baseline", "to": "lena", "evidence_hash": digest, "comment": ""}
    lena._append(EventKind.HANDOFF_OFFERED, "lena", offer)
    lena._append(EventKind.HANDOFF_ACCEPTED, "lena", {"play": "baseline", "evidence_hash": digest})
    lena._append(EventKind.PLAY_EXITED, "lena", {"play": "baseline", "evidence_hash": digest})
    with pytest.raises(InhouseError, match="play 2's exit criteria do not hold"):
        lena.start_play(None, 3)
    assert "workflow" not in lena.state().plays
    plays = {p["id"]: p for p in lena.status()["plays"]}
    assert plays["baseline"]["state"] != "exited"
