"""The engine folds the event log once per process, then applies each new event: recording
10,000 facts must not refold the log (which made every action O(events))."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from inhouse.program import Program
from tests.people import enrol


@pytest.fixture
def fast_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite on a memory-backed folder where there is one: this test counts folds, not fsyncs."""
    shm = Path("/dev/shm")
    base = tempfile.mkdtemp(dir=shm if shm.is_dir() else None)
    monkeypatch.setenv("INHOUSE_DATABASE_URL", f"sqlite:///{base}/inhouse.db")


def test_ten_thousand_facts_fold_the_log_once(fast_store: None, _isolated: Path) -> None:
    program = Program.init(_isolated, "Acme", "lena")
    omar = enrol(program, "omar", team="support")
    for number in range(5_000):
        program.attest(None, "review.held", {"notes": f"lena {number}"}, "we met")
        omar.attest(None, "review.held", {"notes": f"omar {number}"}, "we met")
    # each process folded once, and kept up with the other's appends without refolding
    assert program.full_folds == 1 and omar.full_folds == 1
    held = [f for f in program.state().facts if f.kind == "review.held"]
    assert len(held) == 10_000
    assert {f.by for f in held} == {"lena", "omar"}
    assert program.state().head_seq == omar.state().head_seq
    # and the status a fresh process folds from the same log agrees
    fresh = Program.open(_isolated, key=program.key)
    assert fresh.status()["facts"]["live"] == program.status()["facts"]["live"] == 10_000
