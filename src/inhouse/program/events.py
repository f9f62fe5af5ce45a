"""The append-only, hash-chained, signed event log: the program's only state.

Each event carries the hash of the one before it; its own hash covers its sequence number, time,
actor, kind, payload, that previous hash and the id of the key that signed it, and the signer's
Ed25519 signature covers that hash. Events written before identities have no signer: their hash
leaves it out, and they show as unsigned. Appends never update or delete. Two writers racing
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
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from inhouse.db import Store, events
from inhouse.errors import StoreError

if TYPE_CHECKING:
    from inhouse.identity import SigningKey

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
    "read_events_after",
    "signed_material",
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
    PERSON_INVITED = "person.invited"
    PERSON_ENROLLED = "person.enrolled"
    KEY_REVOKED = "key.revoked"
    EVIDENCE_IMPORTED = "evidence.imported"
    SIGN_IN_SET_UP = "sign-in.set-up"
    PERSON_SIGNED_IN = "person.signed-in"
    MAILBOX_RELEASED = "sign-in.mailbox-released"
    DASH_NAMES = "sign-in.dash-names"


@dataclass(frozen=True)
class Event:
    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str
    signer: str | None = None  # key id; None on events written before identities
    signature: str | None = None
    raw_at: str = ""  # the exact texts that were hashed (as stored)
    raw_payload: str = ""


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_time(moment: datetime) -> str:
    """Fixed-width ISO-8601 in UTC with microseconds: the exact text that is hashed."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_time(text: str) -> datetime:
    # the fixed format format_time writes; fromisoformat reads it ~20x faster than strptime
    return datetime.fromisoformat(text)


def event_hash(
    seq: int,
    at: str,
    actor: str,
    kind: str,
    payload: str,
    prev_hash: str,
    signer: str | None = None,
) -> str:
    parts = [str(seq), at, actor, kind, payload, prev_hash]
    if signer is not None:
        parts.append(signer)
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def signed_material(digest: str) -> bytes:
    """What an event's signature covers: its hash, which covers everything else."""
    return b"inhouse-event-v1\n" + digest.encode("ascii")


def _row_to_event(row: Any) -> Event:
    return Event(
        seq=row.seq,
        at=_parse_time(row.at),
        actor=row.actor,
        kind=row.kind,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
        signer=row.signer,
        signature=row.signature,
        raw_at=row.at,
        raw_payload=row.payload,
    )


def append(
    store: Store,
    kind: str,
    actor: str,
    payload: dict[str, Any],
    *,
    at: datetime,
    key: SigningKey | None,
    attempts: int = 50,
) -> Event:
    """Append one event at the head of the chain, signed by ``key``, and return it.

    ``key=None`` writes an unsigned event, as before identities; only tests that build an old
    program's log do that."""
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
                signer = key.key_id if key is not None else None
                digest = event_hash(seq, when, actor, kind, body, prev, signer)
                signature = key.sign(signed_material(digest)) if key is not None else None
                conn.execute(
                    insert(events).values(
                        seq=seq,
                        at=when,
                        actor=actor,
                        kind=kind,
                        payload=body,
                        prev_hash=prev,
                        hash=digest,
                        signer=signer,
                        signature=signature,
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
        return Event(
            seq,
            _parse_time(when),
            actor,
            kind,
            payload,
            prev,
            digest,
            signer,
            signature,
            when,
            body,
        )
    raise StoreError(f"could not append to the event log after {attempts} attempts (contention)")


def read_events(store: Store) -> list[Event]:
    """Every event, oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(events).order_by(events.c.seq)).all()
    return [_row_to_event(row) for row in rows]


def read_events_after(store: Store, seq: int) -> list[Event]:
    """The events after ``seq``, oldest first: what a process that folded up to ``seq`` lacks."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(events).where(events.c.seq > seq).order_by(events.c.seq)).all()
    return [_row_to_event(row) for row in rows]


def read_event_hash(store: Store, seq: int) -> str | None:
    """The stored hash of event ``seq``, or None where there is no such event."""
    with store.engine.connect() as conn:
        found = conn.execute(select(events.c.hash).where(events.c.seq == seq)).scalar_one_or_none()
    return None if found is None else str(found)


def payload_bytes(store: Store) -> int:
    """The length of every stored payload together (what folding the log has to parse)."""
    with store.engine.connect() as conn:
        found = conn.execute(select(func.sum(func.length(events.c.payload)))).scalar_one()
    return int(found or 0)


def count_events(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())
