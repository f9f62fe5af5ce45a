"""Prove the event log untampered: recompute every hash and link, report the first break."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from inhouse.db import Store, events
from inhouse.program.events import GENESIS, event_hash

__all__ = ["AuditReport", "verify_chain"]


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str | None = None


def verify_chain(store: Store) -> AuditReport:
    """Walk the log from the start; stop at the first event whose contents or links were altered."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    with store.engine.connect() as conn:
        rows = conn.execute(select(events).order_by(events.c.seq))
        for row in rows:
            if row.seq != expected_seq:
                return AuditReport(
                    False,
                    checked,
                    expected_seq,
                    f"event {expected_seq} is missing (next stored event is {row.seq})",
                )
            if row.prev_hash != prev:
                return AuditReport(
                    False,
                    checked - 1,
                    row.seq - 1,
                    f"event {row.seq} does not link to event {row.seq - 1}: "
                    f"event {row.seq - 1} was altered or replaced after it was written",
                )
            recomputed = event_hash(
                row.seq, row.at, row.actor, row.kind, row.payload, row.prev_hash
            )
            if recomputed != row.hash:
                return AuditReport(
                    False,
                    checked,
                    row.seq,
                    f"event {row.seq} ({row.kind} by {row.actor}) was altered after it was written",
                )
            prev = row.hash
            expected_seq += 1
            checked += 1
    return AuditReport(True, checked, head_hash=None if checked == 0 else prev)
