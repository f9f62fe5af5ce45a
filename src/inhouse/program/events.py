"""The append-only, hash-chained event log: the program's only state.

Each event carries the hash of the one before it; its own hash covers its sequence number, time,
actor, kind, payload and that previous hash. Appends never update or delete. Two writers racing
for the same sequence number collide on the unique ``prev_hash`` and the loser retries on top of
the winner, so the chain never forks (on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from inhouse.db import Store, events
from inhouse.errors import StoreError

__all__ = [
    "GENESIS",
    "Event",
    "EventKind",
    "append",
    "canonical_json",
    "count_events",
    "event_hash",
    "format_time",
    "read_events",
]

GENESIS = "0" * 64
_LOCK_KEY = 0x1A40_05E0  # PostgreSQL advisory lock id for appends to the event log


class EventKind(StrEnum):
    PROGRAM_CREATED = "program.created"
    PERSON_ADDED = "person.added"
    PERSON_CHANGED = "person.changed"
    HYPOTHESIS_RECORDED = "hypothesis.recorded"
    FACT_RECORDED = "fact.recorded"
    PLAY_STARTED = "play.started"
    HANDOFF_OFFERED = "handoff.offered"
    HANDOFF_ACCEPTED = "handoff.accepted"
    HANDOFF_REJECTED = "handoff.rejected"
    PLAY_EXITED = "play.exited"
    WAIVER_GRANTED = "waiver.granted"
    ACTION_REFUSED = "action.refused"
    PROGRAM_STOPPED = "program.stopped"


@dataclass(frozen=True)
class Event:
    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_time(moment: datetime) -> str:
    """Fixed-width ISO-8601 in UTC with microseconds: the exact text that is hashed."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def event_hash(seq: int, at: str, actor: str, kind: str, payload: str, prev_hash: str) -> str:
    material = "\n".join((str(seq), at, actor, kind, payload, prev_hash))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _row_to_event(row: Any) -> Event:
    return Event(
        seq=row.seq,
        at=_parse_time(row.at),
        actor=row.actor,
        kind=row.kind,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def append(
    store: Store,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    *,
    at: datetime,
    attempts: int = 50,
) -> Event:
    """Append one event at the head of the chain and return it."""
    body = canonical_json(payload)
    when = format_time(at)
    for attempt in range(attempts):
        try:
            with store.engine.begin() as conn:
                if store.dialect == "postgresql":
                    # Serialise appenders for this transaction: no lost races, no retries.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                head = conn.execute(
                    select(events.c.seq, events.c.hash).order_by(events.c.seq.desc()).limit(1)
                ).first()
                seq = 1 if head is None else head.seq + 1
                prev = GENESIS if head is None else head.hash
                digest = event_hash(seq, when, actor, kind, body, prev)
                conn.execute(
                    insert(events).values(
                        seq=seq,
                        at=when,
                        actor=actor,
                        kind=kind,
                        payload=body,
                        prev_hash=prev,
                        hash=digest,
                    )
                )
        except IntegrityError:
            # another writer took this place in the chain; build on theirs after a short,
            # jittered pause so racing writers spread out instead of colliding again
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))
            continue
        except OperationalError as err:
            if "locked" not in str(err.orig).lower():
                raise StoreError(f"cannot write to the store at {store.url}: {err.orig}") from None
            time.sleep(0.01 * (attempt + 1))  # SQLite: a concurrent writer holds the lock
            continue
        return Event(seq, _parse_time(when), actor, kind, payload, prev, digest)
    raise StoreError(f"could not append to the event log after {attempts} attempts (contention)")


def read_events(store: Store) -> list[Event]:
    """Every event, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(events).order_by(events.c.seq)).all()
    return [_row_to_event(row) for row in rows]


def count_events(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
