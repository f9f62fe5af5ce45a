"""``inhouse indicators report`` over ten million usage events, on SQLite and PostgreSQL.

A generator this project owns writes N usage events (default 10,000,000) for a department:
2,000 people over the 91 days from 1 September to 30 November 2026, each with a key, a few
favourite library prompts (about a third of their requests carry one) and a workflow (one in
ten), 2% refused. Rows are bulk-loaded (SQLite: one transaction of executemany; PostgreSQL:
COPY), then the daily rollups are built from them (``rebuild_rollups``, the same sums the
gateway's writer keeps at ingest). A program is created on the store, and the report of
November (beside October, with a six-month trend) is timed two ways:

- in process: :func:`inhouse.indicators.build_report` (the figures, nothing written);
- the command a person runs: ``inhouse indicators report --period 2026-11``
  (a fresh process: start-up, fold, every query, HTML/JSON/CSV written, the fact recorded).

    python benchmarks/indicators_report.py [--events 10000000] [--runs 5] [--postgres URL]
                                           [--sqlite-only | --postgres-only]

Target: under 1 s each. Figures are wall-clock on this machine; tests never assert them.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

FIRST = date(2026, 9, 1)
DAYS = 91
PEOPLE = 2000
PROMPTS = 40
WORKFLOWS = 10
COLUMNS = (
    "request_id", "at", "day", "person", "key_id", "agent", "endpoint", "model", "digest",
    "prompt_id", "workflow_id", "stream", "tokens_in", "tokens_out", "ttft_ms", "latency_ms",
    "overhead_ms", "status", "policy", "upstream", "body", "tool_calls",
)  # fmt: skip


def events(count: int, seed: int = 11) -> Iterator[tuple[object, ...]]:
    """The usage log, oldest first: ``count`` events spread over the days."""
    rng = random.Random(seed)
    people = [f"person{n:04d}" for n in range(PEOPLE)]
    favourite = {p: rng.sample(range(PROMPTS), 3) for p in people}
    flow = {p: f"workflow-{rng.randrange(WORKFLOWS)}" for p in people}
    per_day = count / DAYS
    for n in range(count):
        day = FIRST + timedelta(days=int(n / per_day))
        person = people[rng.randrange(PEOPLE)]
        roll = rng.random()
        prompt = f"prompt-{favourite[person][rng.randrange(3)]}@1" if roll < 0.33 else None
        workflow = flow[person] if 0.33 <= roll < 0.43 else None
        status = 200 if rng.random() > 0.02 else 429
        second = n % 86400
        yield (
            f"req_{n:010d}", f"{day.isoformat()}T{second // 3600:02d}:{second // 60 % 60:02d}:"
            f"{second % 60:02d}+00:00", day.isoformat(), person, f"k_{person}", None,
            "chat/completions", "local-model", None, prompt, workflow, 1,
            rng.randrange(20, 2000), rng.randrange(5, 800), 80.0, float(rng.randrange(200, 4000)),
            0.4, status, "[]", None, None, None,
        )  # fmt: skip


def _program(folder: Path, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "inhouse", "init", "Acme", "--lead", "lena"],
        cwd=folder, env=env, check=True, capture_output=True,
    )  # fmt: skip


def load_sqlite(path: Path, count: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    marks = ", ".join("?" * len(COLUMNS))
    statement = f"INSERT INTO gateway_usage ({', '.join(COLUMNS)}) VALUES ({marks})"
    with conn:
        batch: list[tuple[object, ...]] = []
        for row in events(count):
            batch.append(row)
            if len(batch) == 200_000:
                conn.executemany(statement, batch)
                batch.clear()
        conn.executemany(statement, batch)
    conn.close()


def load_postgres(url: str, schema: str, count: int) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        with conn.cursor().copy(f"COPY gateway_usage ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in events(count):
                copy.write_row(row)


def _time(what: str, runs: int, call: object) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    print(
        f"  {what}: median {statistics.median(timings) * 1000:.0f} ms, "
        f"min {min(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms ({runs} runs)"
    )
    return timings  # fmt: skip


def bench(label: str, folder: Path, env: dict[str, str], load: object, runs: int,
          count: int) -> None:  # fmt: skip
    from inhouse.gateway.usage import rebuild_rollups
    from inhouse.program import Program

    print(f"{label}:")
    _program(folder, env)
    started = time.perf_counter()
    load()  # type: ignore[operator]
    print(f"  loaded {count:,} events in {time.perf_counter() - started:.0f} s")
    old = dict(os.environ)
    os.environ.update(env)
    try:
        program = Program.open(folder)
        started = time.perf_counter()
        rollups = rebuild_rollups(program.store)
        print(f"  rollups: {rollups:,} rows, built in {time.perf_counter() - started:.0f} s")
        with program.store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        program.close()
    finally:
        os.environ.clear()
        os.environ.update(old)
    time_report(label, folder, env, runs)


def time_report(label: str, folder: Path, env: dict[str, str], runs: int) -> None:
    from inhouse.indicators import build_report
    from inhouse.program import Program

    old = dict(os.environ)
    os.environ.update(env)
    try:
        program = Program.open(folder)
        report = build_report(program, "2026-11")
        values = {i.name: i.value for i in report.current}
        print(f"  {label}, November: {values['answered_requests']:,.0f} answered requests, "
              f"{values['active_users']:.0f} active people, "
              f"{values['prompt_uses']:,.0f} prompt uses")  # fmt: skip
        _time("build_report (in process)", runs, lambda: build_report(program, "2026-11"))
        program.close()
    finally:
        os.environ.clear()
        os.environ.update(old)
    command = [sys.executable, "-m", "inhouse", "indicators", "report", "--period", "2026-11"]
    _time(
        "`inhouse indicators report` (new process, files written, fact recorded)",
        runs,
        lambda: subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", default=os.environ.get("INHOUSE_TEST_POSTGRES_URL"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--data",
        type=Path,
        help="keep the SQLite program (and the PostgreSQL schema) here and reuse them when they "
        "exist (to time again without loading ten million events again)",
    )
    args = parser.parse_args()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("INHOUSE_")}
    with tempfile.TemporaryDirectory() as scratch:
        tmp = str(args.data) if args.data else scratch
        if not args.postgres_only:
            folder = Path(tmp) / "sqlite"
            env = {**base_env, "INHOUSE_KEY": str(Path(tmp) / "lena.key")}
            if (folder / "inhouse.toml").exists():
                time_report("SQLite (kept data)", folder, env, args.runs)
            else:
                folder.mkdir(parents=True)
                bench("SQLite", folder, env,
                      lambda: load_sqlite(folder / ".inhouse" / "inhouse.db", args.events),
                      args.runs, args.events)  # fmt: skip
        if args.postgres and not args.sqlite_only:
            folder = Path(tmp) / "postgres"
            bench_postgres(args.postgres, folder, base_env, args, keep=bool(args.data))


def bench_postgres(admin_url: str, folder: Path, base_env: dict[str, str],
                   args: argparse.Namespace, *, keep: bool) -> None:  # fmt: skip
    """Load and time on PostgreSQL in a schema of its own; with ``--data`` the schema is kept
    (its name in ``postgres/schema.txt``) and timed again on the next run without loading."""
    import sqlalchemy as sa

    kept = folder / "schema.txt"
    schema = kept.read_text().strip() if kept.exists() else f"bench_{uuid.uuid4().hex[:8]}"
    sep = "&" if "?" in admin_url else "?"
    url = f"{admin_url}{sep}options=-csearch_path%3D{schema}"
    env = {**base_env, "INHOUSE_DATABASE_URL": url,
           "INHOUSE_KEY": str(folder.parent / "lena-pg.key")}  # fmt: skip
    if kept.exists():
        time_report("PostgreSQL (kept data)", folder, env, args.runs)
        return
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    folder.mkdir(parents=True)
    try:
        bench("PostgreSQL", folder, env, lambda: load_postgres(admin_url, schema, args.events),
              args.runs, args.events)  # fmt: skip
        if keep:
            kept.write_text(schema + "\n")
    finally:
        if not kept.exists():
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
