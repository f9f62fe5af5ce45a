"""The usage log: one record per request, durable before the answer ends, in the database soon.

The request path never waits on the database. Each record is appended to a local **spool** (an
append-only file under ``.inhouse/gateway/spool``) *before* the last bytes of its answer are sent,
so a gateway killed at any moment (``kill -9``) has every answered request on disk. A background
task moves the spool to the database in batches; a failed batch (database down) stays in the
spool and is retried, so requests keep being answered. On start the spool is replayed; every
record carries a unique request id and inserts ignore ids already present, so a record written to
the database just before a crash is never counted twice.

Durability: with ``spool_sync = "batch"`` (the default) the record is written with one
``write(2)`` before the answer's last bytes (the kernel keeps it if the process dies) and fsynced
with its batch; with ``"request"`` every record is fsynced before its answer's last bytes, which
also survives a power cut, at the cost measured in ``benchmarks/gateway``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import json
import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import BigInteger, Integer, case, cast, delete, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from inhouse.db import Store
from inhouse.db.schema import (
    gateway_usage,
    usage_daily,
    usage_days,
    usage_people_daily,
    usage_people_monthly,
    usage_prompts,
    usage_refs_monthly,
)
from inhouse.errors import ConfigError
from inhouse.gateway.answers import json_bytes
from inhouse.usage.authentic import Seal, authentic_rows, row_mac
from inhouse.usage.totals import ANSWERED_BELOW

__all__ = [
    "ROLLUP_TABLES",
    "Clock",
    "Spool",
    "UsageRecord",
    "UsageWriter",
    "day_deltas",
    "insert_usage",
    "month_deltas",
    "new_request_id",
    "people_deltas",
    "prompt_deltas",
    "rebuild_rollups",
    "reference_deltas",
    "rollup_deltas",
    "tokens_today",
    "utcnow",
]

log = logging.getLogger("inhouse.gateway")

#: Where a usage record's time (and so its day) comes from: the real UTC clock when serving, a
#: clock a test moves when it needs requests on several days.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    """A request's id: 128 random bits (``uuid4``'s randomness without building a UUID)."""
    return "req_" + os.urandom(16).hex()


@dataclass(slots=True)
class UsageRecord:
    """One request as the usage log keeps it (the columns of ``gateway_usage``)."""

    request_id: str
    at: str
    person: str
    key_id: str
    endpoint: str
    model: str
    status: int
    agent: str | None = None
    digest: str | None = None
    prompt_id: str | None = None
    workflow_id: str | None = None
    stream: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    ttft_ms: float | None = None
    latency_ms: float = 0.0
    overhead_ms: float = 0.0
    policy: list[str] = field(default_factory=list)
    upstream: str | None = None
    body: str | None = None
    #: the tool calls the request and answer carried (:mod:`inhouse.gateway.toolcalls`): an
    #: agent key's, and the tool names a key bound to no agent offered (None: it offered none)
    tool_calls: list[dict[str, Any]] | None = None
    #: the gateway's MAC over the row (:meth:`seal`); None: not sealed, never counted in a
    #: signed figure
    mac: str | None = None
    #: whether the gateway sent the version ``prompt_id`` names (rendered it, or the client
    #: pinned ``NAME@VERSION``): False when the header only named the prompt and the client
    #: sent its own messages; None for no prompt (and in spool lines written before)
    prompt_sent: bool | None = None

    @property
    def day(self) -> str:
        return self.at[:10]

    def line(self) -> bytes:
        """The record as one spool line: a JSON object of its fields (what :meth:`from_line`
        reads, as it reads lines written by ``json.dumps`` before), and a newline."""
        try:  # orjson encodes the slots dataclass itself: ~10x json.dumps(asdict(...))
            return orjson.dumps(self, option=orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:  # what only json can write (an int over 64 bits)
            text = json.dumps(self._fields(), separators=(",", ":"))
            return (text + "\n").encode("utf-8")

    def _fields(self) -> dict[str, Any]:
        # the fields as they are (no deep copy as asdict makes: they are encoded at once)
        return {name: getattr(self, name) for name in _FIELD_NAMES}

    def seal(self, key: bytes) -> None:
        """Set :attr:`mac`: the HMAC under the gateway's MAC key of the columns the row will
        have (:func:`inhouse.usage.authentic.row_mac`), made once, where the record is made."""
        self.mac = row_mac(
            key,
            (
                self.request_id, self.at, self.at[:10], self.person, self.key_id, self.agent,
                self.endpoint, self.model, self.digest, self.prompt_id, self.workflow_id,
                int(self.stream), self.tokens_in, self.tokens_out,
                None if self.ttft_ms is None else float(self.ttft_ms), float(self.latency_ms),
                float(self.overhead_ms), self.status, _json_text(self.policy), self.upstream,
                None if self.tool_calls is None else _json_text(self.tool_calls),
                *_sent_field(self.prompt_sent),
            ),
        )  # fmt: skip

    def row(self) -> dict[str, Any]:
        data = self._fields()
        data["day"] = self.day
        data["stream"] = int(self.stream)
        data["policy"] = _json_text(self.policy)
        data["tool_calls"] = None if self.tool_calls is None else _json_text(self.tool_calls)
        data["prompt_sent"] = None if self.prompt_sent is None else int(self.prompt_sent)
        return data

    def values(self) -> tuple[Any, ...]:
        """:meth:`row`'s values in ``gateway_usage``'s column order (what a bulk write sends),
        without the dictionary."""
        return (
            self.request_id, self.at, self.at[:10], self.person, self.key_id, self.agent,
            self.endpoint, self.model, self.digest, self.prompt_id, self.workflow_id,
            int(self.stream), self.tokens_in, self.tokens_out, self.ttft_ms, self.latency_ms,
            self.overhead_ms, self.status, _json_text(self.policy), self.upstream, self.body,
            None if self.tool_calls is None else _json_text(self.tool_calls), self.mac,
            None if self.prompt_sent is None else int(self.prompt_sent),
        )  # fmt: skip

    @classmethod
    def from_line(cls, line: bytes) -> UsageRecord | None:
        """Parse one spool line; ``None`` for a line cut short by a crash."""
        try:
            data = json.loads(line)
            return cls(**data)
        except (ValueError, TypeError):
            return None

    @staticmethod
    def now(clock: Clock = utcnow) -> str:
        """``clock``'s time as a record's ``at``: ISO-8601 in UTC, so its first ten characters
        are the UTC day the record counts on."""
        if clock is utcnow:
            return _utc_text(time.time())
        return clock().astimezone(UTC).isoformat()


#: the second :func:`_utc_text` last wrote, and its text up to the seconds
_last_second: tuple[int, str] = (-1, "")


def _utc_text(now: float) -> str:
    """``now`` (seconds since the epoch) as ``datetime.isoformat`` writes it in UTC, with its
    microseconds always written. ``isoformat`` formats every field anew (~15,000 instructions
    a call, once per request: ``benchmarks/gateway/count_instructions.py``); here the text
    up to the seconds is made once a second."""
    global _last_second
    fraction, whole = math.modf(now)  # split and rounded as datetime.fromtimestamp does
    second, micro = int(whole), round(fraction * 1_000_000)
    if micro >= 1_000_000:
        second, micro = second + 1, micro - 1_000_000
    last, text = _last_second
    if second != last:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _last_second = (second, text)
    return f"{text}.{micro:06d}+00:00"


_FIELD_NAMES = tuple(f.name for f in fields(UsageRecord))


def _json_text(value: Any) -> str:
    return json_bytes(value).decode()


def _sent_field(sent: bool | None) -> tuple[int, ...]:
    """``prompt_sent`` as the MAC covers it: absent where None, so a row without it (no
    prompt, or written before the column) is sealed as rows were before it."""
    return () if sent is None else (int(sent),)


#: ``gateway_usage``'s columns in table order (a record's :meth:`UsageRecord.row` gives them all)
_COLUMNS = tuple(column.name for column in gateway_usage.columns)


def insert_usage(
    store: Store, records: Iterable[UsageRecord], fresh: Iterable[UsageRecord] = ()
) -> int:
    """Insert records, ignoring request ids already stored (replays are idempotent), and add
    the ones really inserted to the daily rollups in the same transaction: a crash between the
    two cannot happen, and a record replayed from the spool is neither lost nor counted twice.
    Returns how many records were new.

    ``fresh`` are records this process made since it last wrote (request ids it drew itself,
    never sent to the database before): they go in without asking which ids were new, with
    ``COPY`` on PostgreSQL and multi-row ``INSERT`` statements of at most 256 rows on SQLite,
    about ten times cheaper than the insert that reports which ids were new
    (``benchmarks/gateway/bench_usage_insert.py``). Should one be stored after all, the whole
    transaction is rolled back and every record written again the careful way."""
    by_id = {record.request_id: record for record in records}
    new = [record for record in fresh if record.request_id not in by_id]
    if not by_id and not new:
        return 0
    if not new:
        return _insert(store, by_id, [])
    driver = store.engine.dialect.dbapi
    assert driver is not None
    try:
        return _insert(store, by_id, new)
    except driver.IntegrityError:  # the driver's own (PEP 249): the bulk path bypasses SQLAlchemy
        log.warning("usage log: a record taken for new was stored already; writing the batch "
                    "again, ignoring ids already stored")  # fmt: skip
        by_id.update((record.request_id, record) for record in new)
        return _insert(store, by_id, [])


def _insert(store: Store, by_id: dict[str, UsageRecord], new: list[UsageRecord]) -> int:
    inserted: list[UsageRecord] = []
    with store.engine.begin() as conn:
        if by_id:
            make = pg_insert if store.dialect == "postgresql" else sqlite_insert
            statement = (
                make(gateway_usage)
                .on_conflict_do_nothing(index_elements=["request_id"])
                .returning(gateway_usage.c.request_id)
            )
            ids = conn.execute(statement, [r.row() for r in by_id.values()]).scalars().all()
            inserted = [by_id[str(request_id)] for request_id in ids]
        if new:
            cursor = conn.connection.cursor()
            try:
                if store.dialect == "postgresql":
                    _copy(cursor, new)
                else:
                    _insert_rows(cursor, new)
            finally:
                cursor.close()
            inserted.extend(new)
        deltas = rollup_deltas(inserted)
        if deltas:
            conn.execute(_rollup_upsert(store.dialect), deltas)
            people = people_deltas(deltas)
            if people:
                # the upsert hands back each person-day's own requests after it: where that is
                # this batch's own requests and above zero, the person became active that day
                after = {
                    (str(day), str(person)): int(own)
                    for day, person, own in conn.execute(_people_upsert(store.dialect), people)
                }
                conn.execute(_days_upsert(store.dialect), day_deltas(people, after))
            months = month_deltas(people)
            if months:
                conn.execute(_months_upsert(store.dialect), months)
            references = reference_deltas(deltas)
            if references:
                conn.execute(_references_upsert(store.dialect), references)
                prompts = prompt_deltas(references)
                if prompts:
                    conn.execute(_prompts_upsert(store.dialect), prompts)
    return len(inserted)


def _copy(cursor: Any, records: list[UsageRecord]) -> None:
    """Write records none of which is stored yet with PostgreSQL's ``COPY``, through the
    driver's cursor in the transaction under way (a duplicate id raises the driver's
    ``IntegrityError``)."""
    with cursor.copy(f"COPY gateway_usage ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
        for record in records:
            copy.write_row(record.values())


#: the most rows one multi-row INSERT on SQLite carries (24 columns: 6,144 parameters, within
#: SQLite's 32,766)
_SQLITE_ROWS = 256


def _row_counts(total: int) -> list[int]:
    """How ``total`` rows are cut into multi-row INSERTs on SQLite: statements of powers of two
    rows (at most ``_SQLITE_ROWS``), largest first. A batch holds however many records came
    since the last flush, and a statement of each size is new SQL that SQLite parses and plans
    again (~4 µs a row: more than the row's insert); with sizes from this fixed set, at most
    nine texts, each connection's statement cache keeps them prepared (issue 16)."""
    counts = [_SQLITE_ROWS] * (total // _SQLITE_ROWS)
    left = total % _SQLITE_ROWS
    while left:
        size = 1 << (left.bit_length() - 1)
        counts.append(size)
        left -= size
    return counts


def _insert_rows(cursor: Any, records: list[UsageRecord]) -> None:
    """Write records none of which is stored yet on SQLite: a plain multi-row ``INSERT`` per
    part (:func:`_row_counts`), through the driver's cursor in the transaction under way (a
    duplicate id raises the driver's ``IntegrityError``). One statement is one step of SQLite's,
    so the driver gives up the GIL once per statement, not once per row as ``executemany`` (and
    an ``INSERT … RETURNING``) does."""
    start = 0
    for count in _row_counts(len(records)):
        values: list[Any] = []
        for record in records[start : start + count]:
            values.extend(record.values())
        cursor.execute(_insert_sql(count), values)
        start += count


@functools.cache
def _insert_sql(rows: int) -> str:
    """The multi-row INSERT of ``rows`` rows (one of :func:`_row_counts`' sizes)."""
    row_marks = "(" + ", ".join("?" * len(_COLUMNS)) + ")"
    head = f"INSERT INTO gateway_usage ({', '.join(_COLUMNS)}) VALUES "
    return head + ", ".join([row_marks] * rows)


#: every table the writer keeps beside the raw rows, in the order :func:`rebuild_rollups` fills them
ROLLUP_TABLES = (
    usage_daily, usage_people_daily, usage_days, usage_people_monthly, usage_refs_monthly,
    usage_prompts,
)  # fmt: skip

#: the columns of ``usage_daily`` a rollup row is keyed by, in primary-key order
_ROLLUP_KEY = ("day", "person", "key_id", "agent", "model", "prompt_id", "workflow_id", "answered")


def rollup_deltas(records: Iterable[UsageRecord]) -> list[dict[str, Any]]:
    """``records`` summed into ``usage_daily`` rows, sorted by key (so two writers upserting
    the same rows take their locks in the same order and cannot deadlock). A request whose
    client only named a library prompt (``prompt_sent`` False) is summed as one that carried
    none: the gateway sent it nothing of that version, and the summaries' prompt use is the
    use it sent (its row keeps the id)."""
    sums: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in records:
        key = (
            r.day, r.person, r.key_id, r.agent or "", r.model,
            (r.prompt_id or "") if r.prompt_sent is not False else "", r.workflow_id or "",
            1 if r.status < ANSWERED_BELOW else 0,
        )  # fmt: skip
        row = sums.get(key)
        if row is None:
            sums[key] = {
                **dict(zip(_ROLLUP_KEY, key, strict=True)),
                "requests": 1,
                "tokens_in": r.tokens_in,
                "tokens_out": r.tokens_out,
                "busy_ms": r.latency_ms,
                "last_at": r.at,
            }
            continue
        row["requests"] += 1
        row["tokens_in"] += r.tokens_in
        row["tokens_out"] += r.tokens_out
        row["busy_ms"] += r.latency_ms
        row["last_at"] = max(row["last_at"], r.at)
    return [sums[key] for key in sorted(sums)]


def people_deltas(deltas: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rollup rows summed per (day, person), answered requests only, sorted by key."""
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for delta in deltas:
        if not delta["answered"]:
            continue
        key = (delta["day"], delta["person"])
        row = sums.setdefault(
            key,
            {"day": key[0], "person": key[1], "requests": 0, "own_requests": 0,
             "tokens_in": 0, "tokens_out": 0, "busy_ms": 0.0},
        )  # fmt: skip
        row["requests"] += delta["requests"]
        row["own_requests"] += 0 if delta["agent"] else delta["requests"]
        row["tokens_in"] += delta["tokens_in"]
        row["tokens_out"] += delta["tokens_out"]
        row["busy_ms"] += delta["busy_ms"]
    return [sums[key] for key in sorted(sums)]


def day_deltas(
    people: Iterable[dict[str, Any]], after: dict[tuple[str, str], int]
) -> list[dict[str, Any]]:
    """Person-day deltas summed per day, sorted; ``active`` counts the people whose own
    requests went from zero to above it (``after`` is each person-day's own requests once the
    deltas were added)."""
    sums: dict[str, dict[str, Any]] = {}
    for row in people:
        day = sums.setdefault(
            row["day"],
            {"day": row["day"], "requests": 0, "active": 0, "tokens_in": 0, "tokens_out": 0,
             "busy_ms": 0.0},
        )  # fmt: skip
        for name in ("requests", "tokens_in", "tokens_out", "busy_ms"):
            day[name] += row[name]
        own = row["own_requests"]
        if own > 0 and after[row["day"], row["person"]] == own:
            day["active"] += 1
    return [sums[day] for day in sorted(sums)]


def month_deltas(people: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (month, person), a bit for each day the person was active (own keys), sorted."""
    masks: dict[tuple[str, str], int] = {}
    for row in people:
        if row["own_requests"] > 0:
            key = (row["day"][:7], row["person"])
            masks[key] = masks.get(key, 0) | 1 << (int(row["day"][8:10]) - 1)
    return [
        {"month": month, "person": person, "active_days": masks[month, person]}
        for month, person in sorted(masks)
    ]


def reference_deltas(deltas: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Answered requests that named a prompt or a workflow, per (month, person, prompt,
    workflow), sorted."""
    sums: dict[tuple[str, str, str, str], int] = {}
    last: dict[tuple[str, str, str, str], str] = {}
    for d in deltas:
        if d["answered"] and (d["prompt_id"] or d["workflow_id"]):
            key = (d["day"][:7], d["person"], d["prompt_id"], d["workflow_id"])
            sums[key] = sums.get(key, 0) + d["requests"]
            last[key] = max(last.get(key, ""), d["day"])
    return [
        {"month": m, "person": p, "prompt_id": pr, "workflow_id": w,
         "requests": sums[m, p, pr, w], "last_day": last[m, p, pr, w]}
        for m, p, pr, w in sorted(sums)
    ]  # fmt: skip


def prompt_deltas(references: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reference deltas that carried a prompt, summed per (prompt id, person), sorted."""
    sums: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], str] = {}
    for r in references:
        if r["prompt_id"]:
            key = (r["prompt_id"], r["person"])
            sums[key] = sums.get(key, 0) + r["requests"]
            last[key] = max(last.get(key, ""), r["last_day"])
    return [
        {"prompt_id": p, "person": who, "requests": sums[p, who], "last_day": last[p, who]}
        for p, who in sorted(sums)
    ]


@functools.cache  # built once: building ``excluded`` cost a fifth of a batch's write
def _prompts_upsert(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(usage_prompts)
    return statement.on_conflict_do_update(
        index_elements=["prompt_id", "person"],
        set_={
            "requests": usage_prompts.c.requests + statement.excluded.requests,
            "last_day": (func.greatest if dialect == "postgresql" else func.max)(
                usage_prompts.c.last_day, statement.excluded.last_day
            ),
        },
    )


@functools.cache  # built once: building ``excluded`` cost a fifth of a batch's write
def _months_upsert(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(usage_people_monthly)
    return statement.on_conflict_do_update(
        index_elements=["month", "person"],
        set_={
            "active_days": usage_people_monthly.c.active_days.op("|")(
                statement.excluded.active_days
            )
        },
    )


@functools.cache  # built once: building ``excluded`` cost a fifth of a batch's write
def _references_upsert(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(usage_refs_monthly)
    return statement.on_conflict_do_update(
        index_elements=["month", "person", "prompt_id", "workflow_id"],
        set_={
            "requests": usage_refs_monthly.c.requests + statement.excluded.requests,
            "last_day": (func.greatest if dialect == "postgresql" else func.max)(
                usage_refs_monthly.c.last_day, statement.excluded.last_day
            ),
        },
    )


@functools.cache  # built once: building ``excluded`` cost a fifth of a batch's write
def _people_upsert(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(usage_people_daily)
    new = statement.excluded
    table = usage_people_daily.c
    return statement.on_conflict_do_update(
        index_elements=["day", "person"],
        set_={
            name: getattr(table, name) + getattr(new, name)
            for name in ("requests", "own_requests", "tokens_in", "tokens_out", "busy_ms")
        },
    ).returning(table.day, table.person, table.own_requests)


@functools.cache  # built once: building ``excluded`` cost a fifth of a batch's write
def _days_upsert(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(usage_days)
    return statement.on_conflict_do_update(
        index_elements=["day"],
        set_={
            name: getattr(usage_days.c, name) + getattr(statement.excluded, name)
            for name in ("requests", "active", "tokens_in", "tokens_out", "busy_ms")
        },
    )


@functools.cache  # built once: building ``excluded`` cost a fifth of a batch's write
def _rollup_upsert(dialect: str) -> Any:
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = make(usage_daily)
    new = statement.excluded
    latest = func.greatest if dialect == "postgresql" else func.max  # SQLite's max(a, b)
    return statement.on_conflict_do_update(
        index_elements=list(_ROLLUP_KEY),
        set_={
            "requests": usage_daily.c.requests + new.requests,
            "tokens_in": usage_daily.c.tokens_in + new.tokens_in,
            "tokens_out": usage_daily.c.tokens_out + new.tokens_out,
            "busy_ms": usage_daily.c.busy_ms + new.busy_ms,
            "last_at": latest(usage_daily.c.last_at, new.last_at),
        },
    )


def rebuild_rollups(store: Store) -> int:
    """Recompute ``usage_daily`` from the raw rows (after a bulk load that bypassed the writer,
    e.g. the benchmark's). Only right while no raw row has been compacted away. Returns the
    number of rollup rows."""
    u = gateway_usage.c
    answered = case((u.status < ANSWERED_BELOW, 1), else_=0)
    # a prompt only named is summed as none, as the writer sums it (:func:`rollup_deltas`)
    sent_prompt = case((u.prompt_sent == 0, ""), else_=func.coalesce(u.prompt_id, ""))
    keys = (
        u.day, u.person, u.key_id, func.coalesce(u.agent, ""), u.model, sent_prompt,
        func.coalesce(u.workflow_id, ""), answered,
    )  # fmt: skip
    summed = select(
        *keys,
        func.count(),
        func.coalesce(func.sum(u.tokens_in), 0),
        func.coalesce(func.sum(u.tokens_out), 0),
        func.coalesce(func.sum(u.latency_ms), 0.0),
        func.max(u.at),
    ).group_by(*keys)
    columns = [*_ROLLUP_KEY, "requests", "tokens_in", "tokens_out", "busy_ms", "last_at"]
    d = usage_daily.c
    per_person = (
        select(
            d.day, d.person, func.sum(d.requests),
            func.sum(case((d.agent == "", d.requests), else_=0)),
            func.sum(d.tokens_in), func.sum(d.tokens_out), func.sum(d.busy_ms),
        )
        .where(d.answered == 1)
        .group_by(d.day, d.person)
    )  # fmt: skip
    people = ["day", "person", "requests", "own_requests", "tokens_in", "tokens_out", "busy_ms"]
    p = usage_people_daily.c
    month = func.substr(p.day, 1, 7)
    bit = literal(1, BigInteger).op("<<")(cast(func.substr(p.day, 9, 2), Integer) - 1)
    per_month = (
        select(month, p.person, func.sum(bit)).where(p.own_requests > 0).group_by(month, p.person)
    )
    ref_month = func.substr(d.day, 1, 7)
    references = (
        select(
            ref_month, d.person, d.prompt_id, d.workflow_id, func.sum(d.requests), func.max(d.day)
        )
        .where(d.answered == 1, or_(d.prompt_id != "", d.workflow_id != ""))
        .group_by(ref_month, d.person, d.prompt_id, d.workflow_id)
    )
    per_day = select(
        p.day, func.sum(p.requests), func.sum(case((p.own_requests > 0, 1), else_=0)),
        func.sum(p.tokens_in), func.sum(p.tokens_out), func.sum(p.busy_ms),
    ).group_by(p.day)  # fmt: skip
    with store.engine.begin() as conn:
        for table in ROLLUP_TABLES:
            conn.execute(delete(table))
        conn.execute(insert(usage_daily).from_select(columns, summed))
        conn.execute(insert(usage_people_daily).from_select(people, per_person))
        conn.execute(
            insert(usage_days).from_select(
                ["day", "requests", "active", "tokens_in", "tokens_out", "busy_ms"], per_day
            )
        )
        conn.execute(
            insert(usage_people_monthly).from_select(["month", "person", "active_days"], per_month)
        )
        conn.execute(
            insert(usage_refs_monthly).from_select(
                ["month", "person", "prompt_id", "workflow_id", "requests", "last_day"],
                references,
            )
        )
        r = usage_refs_monthly.c
        conn.execute(
            insert(usage_prompts).from_select(
                ["prompt_id", "person", "requests", "last_day"],
                select(r.prompt_id, r.person, func.sum(r.requests), func.max(r.last_day))
                .where(r.prompt_id != "")
                .group_by(r.prompt_id, r.person),
            )
        )
        return int(conn.execute(select(func.count()).select_from(usage_daily)).scalar_one())


def tokens_today(store: Store, day: str, seal: Seal | None = None) -> dict[str, int]:
    """Tokens (in + out) each key used on ``day``, to seed the per-key daily limits: with
    ``seal`` (the gateway's own key, as it starts), in the rows it sealed only, so that a row
    typed into the shared database under a colleague's key spends none of their day's tokens."""
    if seal is not None:
        used: dict[str, int] = {}
        for row in authentic_rows(store, seal, days=[day]).rows:
            used[str(row.key_id)] = (
                used.get(str(row.key_id), 0) + int(row.tokens_in) + int(row.tokens_out)
            )
        return used
    query = (
        select(
            gateway_usage.c.key_id,
            func.sum(gateway_usage.c.tokens_in + gateway_usage.c.tokens_out),
        )
        .where(gateway_usage.c.day == day)
        .group_by(gateway_usage.c.key_id)
    )
    with store.engine.connect() as conn:
        return {str(key): int(total or 0) for key, total in conn.execute(query).all()}


class Spool:
    """Append-only segment files in one folder, owned by one gateway process at a time."""

    def __init__(self, folder: Path, *, sync_each: bool = False) -> None:
        self.folder = folder
        self.sync_each = sync_each
        self._fd: int | None = None
        self._lock_fd: int | None = None
        self._current: Path | None = None
        self._written = 0
        self._counter = 0

    def open(self) -> tuple[list[UsageRecord], list[Path]]:
        """Take the folder's lock; return what earlier runs left (records and their segments)
        and start a fresh segment."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            lock_fd = os.open(self.folder / "lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:  # a file where the folder goes, a folder it may not write
            raise ConfigError(
                f"cannot keep the usage spool at {self.folder}: {err.strerror or err}; give "
                "gateway.spool_dir (or --spool-dir) a folder this gateway may write"
            ) from None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise ConfigError(
                f"another gateway is using the usage spool at {self.folder}; give this one its "
                "own (gateway.spool_dir)"
            ) from None
        self._lock_fd = lock_fd
        leftovers = sorted(self.folder.glob("*.jsonl"))
        records: list[UsageRecord] = []
        for path in leftovers:
            for line in path.read_bytes().splitlines():
                record = UsageRecord.from_line(line)
                if record is not None:
                    records.append(record)
        self._start_segment()
        return records, leftovers

    def _start_segment(self) -> None:
        self._counter += 1
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        self._current = self.folder / f"{stamp}-{os.getpid()}-{self._counter:06d}.jsonl"
        self._fd = os.open(self._current, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._written = 0

    def append(self, record: UsageRecord) -> None:
        """Write one record (one ``write(2)``; fsynced too with ``sync_each``)."""
        assert self._fd is not None, "spool not open"
        os.write(self._fd, record.line())
        self._written += 1
        if self.sync_each:
            os.fsync(self._fd)

    def seal(self) -> Path | None:
        """Fsync and close the current segment and start a new one; return the sealed segment
        (None when nothing was written to it)."""
        if self._fd is None or self._current is None or self._written == 0:
            return None
        os.fsync(self._fd)
        os.close(self._fd)
        sealed = self._current
        self._start_segment()
        return sealed

    def close(self) -> None:
        if self._fd is not None:
            os.fsync(self._fd)
            os.close(self._fd)
            if self._written == 0 and self._current is not None:
                self._current.unlink(missing_ok=True)
            self._fd = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    @staticmethod
    def discard(segments: Iterable[Path]) -> None:
        for path in segments:
            path.unlink(missing_ok=True)


class UsageWriter:
    """Spool each record at once; move them to the database in batches, off the event loop.
    With ``mac_key`` (the gateway's, :func:`inhouse.usage.authentic.mac_key`) each record is
    sealed before it is spooled, so its MAC survives a crash and a replay; a replayed record is
    never sealed afterwards."""

    def __init__(
        self,
        store: Store,
        spool: Spool,
        *,
        mac_key: bytes | None = None,
        flush_seconds: float = 0.5,
        batch_size: int = 500,
        leftovers: Sequence[Path] = (),
    ) -> None:
        self.store = store
        self.spool = spool
        #: other spool folders whose leftovers this writer replays at start: those of gateway
        #: processes an earlier ``serve`` ran and this one does not (:func:`left_spools`)
        self.leftovers = tuple(leftovers)
        self.mac_key = mac_key
        self.flush_seconds = flush_seconds
        self.batch_size = batch_size
        self._pending: list[UsageRecord] = []
        #: how many of ``_pending``'s first records may be in the database already (replayed
        #: from the spool, or in a batch whose write failed: its commit may have gone through)
        self._unsure = 0
        self._sealed: list[Path] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # one flush at a time: a caller's flush waits for the flusher's batch to be written
        # instead of returning while it is still in flight
        self._flushing = asyncio.Lock()
        self._stopping = False
        self.written = 0
        self.failures = 0
        self.last_error: str | None = None

    @property
    def backlog(self) -> int:
        return len(self._pending)

    async def start(self) -> int:
        """Open the spool, queue what a previous run left, and start the flusher. Returns the
        number of records found in the spool."""
        # a leftover is written as it was spooled: never sealed now. The spool is a folder
        # anyone who edits inhouse.toml can point elsewhere and fill, so only a MAC made when
        # the request was answered vouches for a record (one without is written, never counted)
        leftovers, segments = self.spool.open()
        self._pending.extend(leftovers)
        for folder in self.leftovers:
            records, theirs = _take_over(folder)
            self._pending.extend(records)
            segments.extend(theirs)
            leftovers.extend(records)
        self._unsure = len(self._pending)
        self._sealed.extend(segments)
        await self.flush()
        self._task = asyncio.create_task(self._run(), name="inhouse-usage-writer")
        return len(leftovers)

    def record(self, record: UsageRecord) -> None:
        """Called on the request path before the answer's last bytes: durable on return."""
        if self.mac_key is not None:
            record.seal(self.mac_key)
        self.spool.append(record)
        self._pending.append(record)
        if len(self._pending) >= self.batch_size:
            self._wake.set()

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Seal the spool segment and write everything pending; on failure keep it for later.
        Returns once everything recorded before the call is written (or kept for a retry)."""
        async with self._flushing:
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending:
            return
        sealed = self.spool.seal()
        if sealed is not None:
            self._sealed.append(sealed)
        batch, self._pending = self._pending, []
        unsure, self._unsure = self._unsure, 0
        segments, self._sealed = self._sealed, []
        try:
            await asyncio.to_thread(insert_usage, self.store, batch[:unsure], batch[unsure:])
        except Exception as err:  # a database outage must not fail requests: retry later
            self.failures += 1
            self.last_error = f"{type(err).__name__}: {err}"
            log.warning("usage log: database write failed, kept in the spool: %s", err)
            self._pending[:0] = batch
            self._unsure = len(batch)
            self._sealed[:0] = segments
            return
        self.written += len(batch)
        self.last_error = None
        Spool.discard(segments)

    async def stop(self) -> None:
        # the flusher is asked to end, never cancelled: a cancelled flush would leave its batch
        # half-way (written by a thread nobody waits for, its segments neither discarded nor
        # re-queued)
        if self._task is not None:
            self._stopping = True
            self._wake.set()
            await self._task
            self._task = None
        await self.flush()
        self.spool.close()


def left_spools(base: Path, workers: int, worker: int | None) -> list[Path]:
    """The spools under ``base`` (``gateway.spool_dir``) that no process of a ``serve`` of
    ``workers`` uses, for its first process (``worker`` 0, or None: the only one) to replay:
    ``base`` itself where it has workers (one process's spool, from a run with one), and each
    ``worker-K`` it does not run. A ``serve`` with fewer workers than the last one (or one
    process after several, or several after one) left what those processes had spooled and not
    yet written where nothing read it again: usage answered and never counted."""
    if worker not in (0, None) or not base.is_dir():
        return []
    found = [base] if worker is not None else []
    for folder in sorted(base.glob("worker-*")):
        index = folder.name.removeprefix("worker-")
        if folder.is_dir() and (worker is None or not index.isdigit() or int(index) >= workers):
            found.append(folder)
    return found


def _take_over(folder: Path) -> tuple[list[UsageRecord], list[Path]]:
    """What another process's spool at ``folder`` holds (records and their segments), read
    under its lock and released; nothing where a running gateway holds it (another ``serve``
    on the same ``spool_dir``). Replaying a record twice doubles nothing: inserts skip the
    request ids already stored. A folder with no segment holds nothing to replay, and is left
    as it is (no lock file made in it: a serve with workers would leave one in the spools'
    base at every start)."""
    if not any(folder.glob("*.jsonl")):
        return [], []
    spool = Spool(folder)
    try:
        records, segments = spool.open()
    except ConfigError as err:
        log.warning("usage spool %s not replayed: %s", folder, err)
        return [], []
    spool.close()  # its fresh segment, empty, removed; its lock released
    if records:
        from inhouse.figures import count

        log.warning("replaying %s left in %s by a gateway process this serve does not run",
                    count(len(records), "usage records"), folder)  # fmt: skip
    return records, segments
