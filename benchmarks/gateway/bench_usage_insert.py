"""The gateway's usage writer: what moving one usage record into the database costs.

The writer inserts each batch in one transaction with the daily rollups. Records it made itself
since its last write go in without asking which ids were new: ``COPY`` on PostgreSQL, plain
multi-row ``INSERT`` statements of 256, 128, … 1 rows on SQLite (one statement is one step of
SQLite's: the driver gives up the GIL once, where an ``executemany`` gave it up for every row
and cost the gateway's event loop more than it saved; and those few sizes stay prepared in each
connection's statement cache). Records that may be stored already (replayed from the spool, or a
batch whose write failed) take the careful path, an ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` that reports which ids were new. This times the paths on a fresh store, batch after
batch of gateway-like records (a few people, one model, policy labels, no bodies), and prints
the CPU of the writing thread and the wall time per record.

    python benchmarks/gateway/bench_usage_insert.py [--records 20000] [--batch 500]
                                                   [--postgres URL]

PostgreSQL is used when ``--postgres`` or ``INHOUSE_TEST_POSTGRES_URL`` names a server (a private
schema, dropped afterwards). Figures are this machine's; tests never assert them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench_gateway import postgres_schema  # this folder's benchmark
from sqlalchemy import delete

from inhouse.db import open_store
from inhouse.db.schema import gateway_usage
from inhouse.gateway.usage import ROLLUP_TABLES, UsageRecord, insert_usage, new_request_id


def _records(count: int) -> list[UsageRecord]:
    return [
        UsageRecord(
            request_id=new_request_id(),
            at=f"2026-12-02T10:{n % 60:02d}:00.123456+00:00",
            person=f"person{n % 7}",
            key_id=f"k{n % 7}",
            endpoint="chat/completions",
            model="tiny",
            status=200,
            digest="sha256:" + "0" * 64,
            stream=True,
            tokens_in=12,
            tokens_out=16,
            ttft_ms=20.5,
            latency_ms=51.2,
            overhead_ms=0.9,
            policy=["redact:email"] if n % 5 == 0 else [],
            upstream="http://127.0.0.1:8080",
        )
        for n in range(count)
    ]


def _bench(url: str, records: int, batch: int) -> None:
    bulk = "COPY" if url.startswith("postgresql") else "multi-row INSERT"
    paths = [("careful", "INSERT … RETURNING (replays)"), ("bulk", f"{bulk} (own records)")]
    for path, label in paths:
        store = open_store(url)
        try:
            made = _records(records)
            cpu, wall = time.thread_time(), time.perf_counter()
            for start in range(0, records, batch):
                part = made[start : start + batch]
                new = (
                    insert_usage(store, part)
                    if path == "careful"
                    else insert_usage(store, [], part)
                )
                assert new == len(part)
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        finally:
            with store.engine.begin() as conn:  # the next path starts from an empty table
                for table in (gateway_usage, *ROLLUP_TABLES):
                    conn.execute(delete(table))
            store.close()
        per_record = f"{1e6 * cpu / records:7.1f} µs CPU, {1e6 * wall / records:7.1f} µs wall"
        print(f"  {label:34} {per_record} per record ({records:,} in batches of {batch})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500, help="the writer's batch_size")
    parser.add_argument("--postgres", default=os.environ.get("INHOUSE_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("SQLite (WAL)")
        _bench(f"sqlite:///{Path(tmp) / 'inhouse.db'}", args.records, args.batch)
    if args.postgres:
        print("PostgreSQL")
        with postgres_schema(args.postgres) as url:
            assert url is not None
            _bench(url, args.records, args.batch)


if __name__ == "__main__":
    main()
