"""Events appended to a program's log in one insert, each hashed, chained and signed as the
API writes them: how the benchmarks build a log of many thousands of events without the API's
cost per event (what the API would check is checked once, by the fold being measured)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from inhouse.db import Store, events
from inhouse.identity import SigningKey
from inhouse.program.events import canonical_json, event_hash, format_time, signed_material


def append_signed(
    store: Store,
    after: tuple[int, str],
    entries: Iterable[tuple[str, SigningKey, str, dict[str, Any]]],
    start: datetime,
) -> None:
    """Append ``entries`` (actor, signing key, event kind, payload) after the event ``after``
    names (its seq and hash), one second apart from ``start``."""
    seq, prev = after
    rows = []
    for k, (actor, key, kind, payload) in enumerate(entries):
        seq += 1
        at = format_time(start + timedelta(seconds=k))
        body = canonical_json(payload)
        digest = event_hash(seq, at, actor, str(kind), body, prev, key.key_id)
        rows.append({"seq": seq, "at": at, "actor": actor, "kind": str(kind), "payload": body,
                     "prev_hash": prev, "hash": digest, "signer": key.key_id,
                     "signature": key.sign(signed_material(digest))})  # fmt: skip
        prev = digest
    with store.engine.begin() as conn:
        conn.execute(insert(events), rows)
