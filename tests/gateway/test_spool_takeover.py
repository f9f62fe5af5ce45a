"""The first process of a serve replays the spools no process of it uses (inhouse.gateway.usage
.left_spools); one that holds no segment is left exactly as it was."""

from __future__ import annotations

from pathlib import Path

from inhouse.gateway.usage import Spool, _take_over, left_spools


def test_a_spool_folder_with_nothing_spooled_is_left_as_it_was(tmp_path: Path) -> None:
    base = tmp_path / "spool"
    (base / "worker-0").mkdir(parents=True)
    (base / "worker-1").mkdir()
    found = left_spools(base, workers=2, worker=0)
    assert found == [base]  # one process's spool, from a run with one, is read first
    assert _take_over(base) == ([], [])
    assert sorted(p.name for p in base.iterdir()) == ["worker-0", "worker-1"]


def test_a_spool_folder_with_a_segment_is_replayed(tmp_path: Path) -> None:
    base = tmp_path / "spool"
    spool = Spool(base)
    spool.open()
    spool.close()
    segment = base / "20260101T000000000000-1-000001.jsonl"
    segment.write_bytes(b"")  # a segment nothing was written to: taken over, nothing in it
    records, segments = _take_over(base)
    assert records == [] and segments == [segment]
