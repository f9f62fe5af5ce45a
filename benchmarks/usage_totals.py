"""Usage totals over a big usage log: the query plays 4 to 6 run most (answered requests and
tokens per person over a 28-day window), timed on SQLite and, when one is named, PostgreSQL.

Fills a fresh store, migrated to the newest schema, with N usage rows (default 1,000,000: 200
people over 365 days, a few keys each, some prompts and workflows, 3% refused or failed), bulk
inserted in chunks and vacuumed, then times :func:`inhouse.usage.totals` per person over the
last 28 days and per (day, person) since then (the daily rollup), and prints each query's plan.

    python benchmarks/usage_totals.py [--rows 1000000] [--runs 7] [--postgres URL]
                                      [--revision 0003_signed_events]

PostgreSQL is used when ``--postgres`` or ``INHOUSE_TEST_POSTGRES_URL`` names a server; the rows
go to a private schema that is dropped afterwards. ``--revision`` migrates the store only that
far, to time the schema as it was before a migration (0004 added the covering index); since
migration 0007 the totals read the daily rollups, so only ``head`` (or 0007 and later) can be
timed with this code. Timings are wall-clock on this machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, inspect, text

from inhouse.db import Store, open_store
from inhouse.db.schema import gateway_usage
from inhouse.db.store import migrate
from inhouse.gateway.usage import rebuild_rollups
from inhouse.usage import totals

FIRST_DAY = date(2026, 1, 1)
DAYS = 365
PEOPLE = 200
CHUNK = 20_000


def _rows(count: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """The usage log in chunks: rows spread evenly over the days, people weighted unevenly."""
    rng = random.Random(seed)
    people = [f"person{n:03d}" for n in range(PEOPLE)]
    weights = [1 + (n % 10) for n in range(PEOPLE)]  # some people use it ten times as much
    prompts = [None] * 6 + [f"prompt-{n}" for n in range(20)]
    workflows = [None] * 8 + [f"workflow-{n}" for n in range(5)]
    chunk: list[dict[str, Any]] = []
    for n in range(count):
        day = FIRST_DAY + timedelta(days=n * DAYS // count)
        person = rng.choices(people, weights)[0]
        status = 200 if rng.random() > 0.03 else rng.choice((429, 403, 502))
        chunk.append(
            {
                "request_id": f"req_{n:012d}",
                "at": f"{day.isoformat()}T{n % 24:02d}:{n % 60:02d}:00+00:00",
                "day": day.isoformat(),
                "person": person,
                "key_id": f"k_{person}_{rng.randrange(3)}",
                "agent": None,
                "endpoint": "chat/completions",
                "model": "local-model",
                "digest": None,
                "prompt_id": rng.choice(prompts),
                "workflow_id": rng.choice(workflows),
                "stream": 1,
                "tokens_in": rng.randrange(20, 2000),
                "tokens_out": rng.randrange(5, 800),
                "ttft_ms": 80.0,
                "latency_ms": 900.0,
                "overhead_ms": 0.4,
                "status": status,
                "policy": "[]",
                "upstream": "http://127.0.0.1:8080",
                "body": None,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _fill(store: Store, count: int) -> float:
    began = time.perf_counter()
    with store.engine.begin() as conn:
        for chunk in _rows(count):
            conn.execute(insert(gateway_usage), chunk)
    inserted = time.perf_counter() - began
    # the rows bypassed the gateway's writer: build the rollups the totals read, as migration
    # 0007 does for rows already stored (a store migrated only to an older revision has none)
    if inspect(store.engine).has_table("usage_daily"):
        rebuild_rollups(store)
    # the steady state autovacuum reaches on PostgreSQL: statistics, and the visibility map that
    # lets a covering index answer without visiting the table
    vacuum = "ANALYZE" if store.dialect == "sqlite" else "VACUUM ANALYZE"
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(vacuum))
    return inserted


def _time(query: Callable[[], object], runs: int) -> tuple[float, float]:
    query()  # warm the page cache
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        query()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000, min(times) * 1000


def _plan(store: Store, since: str, until: str) -> str:
    sql = (
        "SELECT person, count(*), sum(tokens_in), sum(tokens_out) FROM gateway_usage "
        "WHERE status < 400 AND day >= :since AND day <= :until GROUP BY person ORDER BY person"
    )
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.engine.connect() as conn:
        rows = conn.execute(text(explain + sql), {"since": since, "until": until}).all()
    return "\n".join("    " + str(row[-1]) for row in rows)


def bench(store: Store, count: int, runs: int) -> None:
    print(f"{store.dialect}: inserting {count:,} usage rows ...", flush=True)
    seconds = _fill(store, count)
    print(f"  inserted in {seconds:.1f} s ({count / seconds:,.0f} rows/s)")
    with store.engine.connect() as conn:
        indexes = [
            str(name)
            for (name,) in conn.execute(
                text(
                    "SELECT name FROM sqlite_master WHERE type = 'index' "
                    "AND tbl_name = 'gateway_usage' AND sql IS NOT NULL"
                    if store.dialect == "sqlite"
                    else "SELECT indexname FROM pg_indexes WHERE tablename = 'gateway_usage' "
                    "AND schemaname = current_schema() AND indexname NOT LIKE '%pkey'"
                )
            )
        ]
    print(f"  indexes on gateway_usage: {', '.join(sorted(indexes)) or 'none'}")
    until = FIRST_DAY + timedelta(days=DAYS - 1)
    since = until - timedelta(days=27)
    people = totals(store, "person", since=since, until=until)
    window = sum(t.requests for t in people)
    print(f"  28-day window {since} .. {until}: {window:,} answered requests, {len(people)} people")
    print("  plan:\n" + _plan(store, since.isoformat(), until.isoformat()))
    median, best = _time(lambda: totals(store, "person", since=since, until=until), runs)
    print(f"  per person, 28 days:    median {median:7.1f} ms, best {best:7.1f} ms ({runs} runs)")
    median, best = _time(lambda: totals(store, ("day", "person"), since=since), runs)
    print(f"  per day and person:     median {median:7.1f} ms, best {best:7.1f} ms ({runs} runs)")


@contextmanager
def _postgres_schema(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("INHOUSE_TEST_POSTGRES_URL"))
    parser.add_argument("--revision", default="head", help="migrate the store only this far")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        _run(f"sqlite:///{Path(tmp) / 'inhouse.db'}", args)
    if args.postgres:
        with _postgres_schema(args.postgres) as url:
            _run(url, args)


def _run(url: str, args: argparse.Namespace) -> None:
    store = open_store(url, upgrade=False)
    try:
        migrate(store.engine, args.revision)
        if not inspect(store.engine).has_table("usage_daily"):
            raise SystemExit(
                f"the totals read the rollups of migration 0007; a store at {args.revision} has "
                "none: time it with the code of that time (git checkout of the revision's commit)"
            )
        print(f"schema at {args.revision}")
        bench(store, args.rows, args.runs)
    finally:
        store.close()


if __name__ == "__main__":
    main()
