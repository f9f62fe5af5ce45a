"""The daily rollups the gateway's writer keeps as it inserts usage rows, on real SQLite and
PostgreSQL: a replayed spool (the same records again, after a crash between the database commit
and the spool's cleanup) neither loses nor doubles a count; rollups kept at ingest equal the
rollups rebuilt from the raw rows; the rows the totals read are the rollups, so they survive the
raw rows being compacted away."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from inhouse.db import Store, open_store
from inhouse.db.schema import gateway_usage, usage_days, usage_people_monthly
from inhouse.gateway import usage as usage_module
from inhouse.gateway.usage import ROLLUP_TABLES, UsageRecord, insert_usage, rebuild_rollups
from inhouse.usage import active_days, totals


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    try:
        yield opened
    finally:
        opened.close()


def _record(n: int, day: str, person: str, **extra: object) -> UsageRecord:
    values: dict[str, object] = {
        "request_id": f"req_{n}", "at": f"{day}T10:{n % 60:02d}:00+00:00", "person": person,
        "key_id": f"k_{person}", "endpoint": "chat/completions", "model": "tiny",
        "status": 200, "tokens_in": 10, "tokens_out": 4, "latency_ms": 100.0,
    }  # fmt: skip
    values.update(extra)
    return UsageRecord(**values)  # type: ignore[arg-type]


def _rollups(store: Store) -> list[tuple[object, ...]]:
    """Every row of the rollup tables, table by table."""
    found: list[tuple[object, ...]] = []
    with store.engine.connect() as conn:
        for table in ROLLUP_TABLES:
            query = select(table).order_by(*table.primary_key.columns)
            found += [(table.name, *row) for row in conn.execute(query)]
    return found


BATCH = [
    _record(1, "2026-11-02", "sam", prompt_id="triage@1"),
    _record(2, "2026-11-02", "sam", prompt_id="triage@1", tokens_in=5),
    _record(3, "2026-11-02", "pia", workflow_id="ticket-summary"),
    _record(4, "2026-11-02", "pia", status=429),
    _record(5, "2026-11-03", "sam", agent="coder", key_id="k_agent"),
]


def test_a_replayed_batch_neither_loses_nor_doubles_a_count(store: Store) -> None:
    assert insert_usage(store, BATCH[:3]) == 3
    kept = _rollups(store)
    # the crash: the first three reached the database, the spool still holds all five
    assert insert_usage(store, BATCH) == 2
    assert insert_usage(store, BATCH) == 0
    (everything,) = totals(store, (), answered_only=False)
    assert (everything.requests, everything.tokens_in) == (5, 45)
    assert [(t.person, t.requests) for t in totals(store, "person")] == [("pia", 1), ("sam", 3)]
    assert len(_rollups(store)) > len(kept)
    sam = next(r for r in totals(store, ("person", "prompt")) if r.prompt == "triage@1")
    assert (sam.requests, sam.tokens_in, sam.busy_ms) == (2, 15, 200.0)


def test_rollups_kept_at_ingest_equal_rollups_rebuilt_from_the_rows(store: Store) -> None:
    for record in BATCH:  # one at a time, as batches of one would arrive
        insert_usage(store, [record])
    insert_usage(store, BATCH[2:])  # and a replay
    at_ingest = _rollups(store)
    daily = [row for row in at_ingest if row[0] == "usage_daily"]
    assert rebuild_rollups(store) == len(daily)
    assert _rollups(store) == at_ingest
    # sam was active on Nov 2 through his own key (bit 1); his agent's Nov 3 request sets none
    with store.engine.connect() as conn:
        masks = dict(conn.execute(select(usage_people_monthly.c.person,
                                         usage_people_monthly.c.active_days)).all())  # fmt: skip
    assert masks == {"sam": 1 << 1, "pia": 1 << 1}
    with store.engine.connect() as conn:
        per_day = conn.execute(select(usage_days).order_by(usage_days.c.day)).all()
    # Nov 2: sam's two and pia's workflow answered (her 429 is not), both active; Nov 3: the
    # agent's request is answered use, and makes nobody active
    assert [(d.day, d.requests, d.active, d.tokens_in) for d in per_day] == [
        ("2026-11-02", 3, 2, 25), ("2026-11-03", 1, 0, 10),
    ]  # fmt: skip


def test_fresh_records_take_the_bulk_path_and_keep_the_rollups_exact(store: Store) -> None:
    """The writer's own new records go in through COPY on PostgreSQL, a plain multi-row INSERT
    on SQLite: the rows and the rollups are what the careful insert gives, field for field."""
    careful = [_record(100 + n, "2026-11-04", "ana", tool_calls=[{"name": "ls"}],
                       policy=["redact:email"], ttft_ms=1.5, body='{"é": 1}')
               for n in range(3)]  # fmt: skip
    assert insert_usage(store, careful) == 3
    fresh = [_record(200 + n, "2026-11-04", "ana", tool_calls=[{"name": "ls"}],
                     policy=["redact:email"], ttft_ms=1.5, body='{"é": 1}')
             for n in range(3)]  # fmt: skip
    assert insert_usage(store, BATCH[:2], fresh) == 5
    with store.engine.connect() as conn:
        rows = {r.request_id: r._asdict() for r in conn.execute(select(gateway_usage))}
    for n in range(3):
        old, new = rows[f"req_{100 + n}"], rows[f"req_{200 + n}"]
        assert {**old, "request_id": "", "at": ""} == {**new, "request_id": "", "at": ""}
    at_ingest = _rollups(store)
    rebuild_rollups(store)
    assert _rollups(store) == at_ingest
    ana = next(t for t in totals(store, "person") if t.person == "ana")
    assert (ana.requests, ana.tokens_in) == (6, 60)


def test_a_batch_of_fresh_records_larger_than_one_statement_is_written_whole(
    store: Store,
) -> None:
    """SQLite's bulk path writes at most 256 rows per statement: 1,201 records take eight, and
    every one of them is stored and counted once (a duplicate in the last statement rolls back
    all)."""
    people = ("ana", "sam", "pia")
    fresh = [_record(1000 + n, f"2026-11-{1 + n % 3:02d}", people[n % 3]) for n in range(1201)]
    assert insert_usage(store, [], fresh) == 1201
    (everything,) = totals(store, (), answered_only=False)
    assert (everything.requests, everything.tokens_in) == (1201, 12010)
    at_ingest = _rollups(store)
    rebuild_rollups(store)
    assert _rollups(store) == at_ingest
    again = [_record(5000 + n, "2026-11-05", "ana") for n in range(1100)] + fresh[-1:]
    assert insert_usage(store, [], again) == 1100  # the last statement met a stored id
    (everything,) = totals(store, (), answered_only=False)
    assert everything.requests == 2301


def test_sqlites_bulk_path_sends_a_few_statement_texts_whatever_the_batch_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch holds however many records came since the last flush; a multi-row INSERT of
    each new size was new SQL for SQLite to parse and plan (~4 µs a row, more than the row's
    insert). The statements come from a fixed set of sizes instead, which each connection's
    statement cache keeps prepared, and every record is still stored once."""
    texts: set[str] = set()
    real = usage_module._insert_rows

    class Recording:
        def __init__(self, cursor: Any) -> None:
            self.cursor = cursor

        def execute(self, sql: str, values: Any) -> Any:
            texts.add(sql)
            return self.cursor.execute(sql, values)

    monkeypatch.setattr(usage_module, "_insert_rows",
                        lambda cursor, records: real(Recording(cursor), records))  # fmt: skip
    store = open_store(f"sqlite:///{tmp_path / 'inhouse.db'}")
    try:
        sizes = [*range(1, 41), 300, 517]
        n = 0
        for size in sizes:
            fresh = [_record(n + i, "2026-11-06", "ana") for i in range(size)]
            n += size
            assert insert_usage(store, [], fresh) == size
        (everything,) = totals(store, (), answered_only=False)
        assert (everything.requests, everything.tokens_in) == (n, 10 * n)
    finally:
        store.close()
    # one text per power of two up to 256 at most, not one per batch size (42 here)
    assert len(texts) <= 9, sorted(len(t) for t in texts)


def test_a_record_taken_for_fresh_that_is_stored_already_is_neither_doubled_nor_lost(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """A commit that went through but was reported failed (the connection dropped on the way)
    leaves the writer believing its batch unwritten; even if such records come back as fresh,
    the bulk path's duplicate rolls the whole batch back and it is written the careful way."""
    assert insert_usage(store, [], BATCH[:3]) == 3
    kept = _rollups(store)
    assert insert_usage(store, [], BATCH) == 2  # three of them stored already
    assert "stored already; writing the batch again" in caplog.text
    (everything,) = totals(store, (), answered_only=False)
    assert (everything.requests, everything.tokens_in) == (5, 45)
    assert len(_rollups(store)) > len(kept)
    at_ingest = _rollups(store)
    rebuild_rollups(store)
    assert _rollups(store) == at_ingest


def test_writers_at_once_count_each_person_day_active_once(store: Store) -> None:
    """Six writers insert overlapping people's requests for the same days at the same time (on
    PostgreSQL really at once): each person-day's first own request makes it active exactly
    once, whichever writer's upsert got there first."""
    people = [f"p{n}" for n in range(12)]
    batches = [
        [
            _record(1000 * w + 10 * b + n, f"2026-11-0{1 + (b + n) % 3}",
                    people[(w * 5 + b * 3 + n) % len(people)],
                    agent="bot" if (w + n) % 7 == 0 else None)
            for n in range(8)
        ]
        for w in range(6) for b in range(15)
    ]  # fmt: skip
    start = threading.Barrier(6)

    def write(w: int) -> None:
        start.wait()
        for batch in batches[w * 15 : (w + 1) * 15]:
            insert_usage(store, batch)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    at_ingest = _rollups(store)
    rebuild_rollups(store)
    assert _rollups(store) == at_ingest
    active = [row for row in at_ingest if row[0] == "usage_days"]
    assert sum(int(str(row[3])) for row in active) > len(people)  # several days, many people


def test_totals_and_active_days_hold_after_raw_rows_are_compacted(store: Store) -> None:
    insert_usage(store, BATCH)
    before = (
        totals(store, ("day", "person")),
        active_days(store, ["sam", "pia"], since="2026-11-01", until="2026-11-30"),
    )
    with store.engine.begin() as conn:
        conn.execute(delete(gateway_usage))
        assert conn.execute(select(func.count()).select_from(gateway_usage)).scalar_one() == 0
    after = (
        totals(store, ("day", "person")),
        active_days(store, ["sam", "pia"], since="2026-11-01", until="2026-11-30"),
    )
    assert after == before
    # the agent's request on Nov 3 makes nobody active; the refused one is no use
    assert [(d.person, d.day, d.requests) for d in after[1]] == [
        ("pia", "2026-11-02", 1), ("sam", "2026-11-02", 2),
    ]  # fmt: skip


def test_a_prompt_the_client_only_named_is_no_prompt_use_in_the_rollups(store: Store) -> None:
    """sam's client names triage in its header with its own messages (the gateway sent nothing
    of triage@1: ``prompt_sent`` False); pia's pins triage@1, and a row from before the gateway
    told them apart has no word (None, read as sent). The rollups count only those two as
    triage@1's use, at ingest (careful and bulk paths) as rebuilt from the rows, which keep
    the id and the word."""
    named = [_record(300, "2026-11-05", "sam", prompt_id="triage@1", prompt_sent=False)]
    pinned = [_record(301, "2026-11-05", "pia", prompt_id="triage@1", prompt_sent=True),
              _record(302, "2026-11-05", "ana", prompt_id="triage@1")]  # fmt: skip
    assert insert_usage(store, named) == 1
    assert insert_usage(store, [], pinned) == 2
    by_prompt = {(t.person, t.prompt): t.requests for t in totals(store, ("person", "prompt"))}
    assert by_prompt == {("sam", None): 1, ("pia", "triage@1"): 1, ("ana", "triage@1"): 1}
    at_ingest = _rollups(store)
    assert ("usage_prompts", "triage@1", "sam", 1, "2026-11-05") not in at_ingest
    rebuild_rollups(store)
    assert _rollups(store) == at_ingest
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                gateway_usage.c.person, gateway_usage.c.prompt_id, gateway_usage.c.prompt_sent
            ).order_by(gateway_usage.c.request_id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("sam", "triage@1", 0), ("pia", "triage@1", 1), ("ana", "triage@1", None),
    ]  # fmt: skip
