"""Gateway keys: issued to a person (optionally bound to an agent), shown once, stored as hashes.

A key is ``ih_`` plus 43 URL-safe characters (256 random bits); only its SHA-256 is stored.
Its first characters (the *prefix*) are kept in clear to find the row and to tell keys apart in
listings; the hash is then compared in constant time. Issuing and revoking are events in the
program's log, so the audit trail shows who gave whom access and under which waiver.

Issuing a key to anyone but play 1's owner widens reach: it goes through the program's
scaling guard (:meth:`Program.check_reach`), which refuses with the missing evidence unless a
waiver covers it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, or_, select, update

from inhouse.db.schema import gateway_keys
from inhouse.errors import InvalidInput, UnknownPerson

if TYPE_CHECKING:
    from inhouse.db import Store
    from inhouse.program import Program

__all__ = [
    "KEY_ISSUED",
    "KEY_REVOKED",
    "GatewayKey",
    "KeyLimits",
    "KeyTable",
    "hash_key",
    "issue_key",
    "list_keys",
    "load_key_table",
    "revoke_key",
]

KEY_ISSUED = "gateway.key.issued"
KEY_REVOKED = "gateway.key.revoked"
_PREFIX_LEN = 11  # "ih_" + 8 random characters


@dataclass(frozen=True)
class KeyLimits:
    """Per-key limits; ``None`` means unlimited. ``models`` narrows the blessed models."""

    rpm: int | None = None
    tokens_per_day: int | None = None
    models: tuple[str, ...] | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "rpm": self.rpm,
                "tokens_per_day": self.tokens_per_day,
                "models": list(self.models) if self.models is not None else None,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> KeyLimits:
        data: dict[str, Any] = json.loads(text or "{}")
        models = data.get("models")
        return cls(
            rpm=data.get("rpm"),
            tokens_per_day=data.get("tokens_per_day"),
            models=tuple(models) if models is not None else None,
        )


@dataclass(frozen=True)
class GatewayKey:
    id: str
    person: str
    agent: str | None
    prefix: str
    created: str
    revoked: str | None
    limits: KeyLimits = field(default_factory=KeyLimits)
    hash: str = field(default="", repr=False)

    @property
    def active(self) -> bool:
        return self.revoked is None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _row_key(row: Any) -> GatewayKey:
    return GatewayKey(
        id=row.id,
        person=row.person,
        agent=row.agent,
        prefix=row.prefix,
        created=row.created,
        revoked=row.revoked,
        limits=KeyLimits.from_json(row.limits),
        hash=row.hash,
    )


def _positive(value: int | None, what: str) -> None:
    if value is not None and value < 1:
        raise InvalidInput(f"{what} must be at least 1 (leave it out for no limit), not {value}")


def issue_key(
    program: Program,
    actor: str | None,
    person: str,
    *,
    agent: str | None = None,
    limits: KeyLimits | None = None,
) -> tuple[GatewayKey, str]:
    """Issue a key to ``person``. Returns the stored record and the key itself, which is shown
    once and never stored. Raises ``AntiPattern`` when the reach guard refuses."""
    from inhouse.program import Reach
    from inhouse.program.events import append

    limits = limits or KeyLimits()
    _positive(limits.rpm, "--rpm")
    _positive(limits.tokens_per_day, "--tokens-per-day")
    who = program.actor(actor)
    state = program.state()
    if person not in state.people:
        known = ", ".join(sorted(state.people)) or "nobody yet"
        raise UnknownPerson(
            f"{person!r} is not on this program's roster (people: {known}); "
            f"add them first with `inhouse person add {person}`"
        )
    first = program.playbook.plays[0]
    record = state.plays.get(first.id)
    waivers: list[int] = []
    if record is None or record.owner != person:
        used = program.check_reach(
            who.name, Reach.PILOT, action=f"issue gateway key to {person}", person=person
        )
        waivers = [w.seq for w in used]
    key = "ih_" + secrets.token_urlsafe(32)
    created = program.clock().astimezone(UTC).isoformat()
    issued = GatewayKey(
        id="k_" + secrets.token_hex(6),
        person=person,
        agent=agent,
        prefix=key[:_PREFIX_LEN],
        created=created,
        revoked=None,
        limits=limits,
        hash=hash_key(key),
    )
    with program.store.engine.begin() as conn:
        conn.execute(
            insert(gateway_keys).values(
                id=issued.id,
                person=person,
                agent=agent,
                hash=issued.hash,
                prefix=issued.prefix,
                created=created,
                revoked=None,
                limits=limits.to_json(),
            )
        )
    append(
        program.store,
        KEY_ISSUED,
        who.name,
        {
            "key": issued.id,
            "prefix": issued.prefix,
            "person": person,
            "agent": agent,
            "limits": json.loads(limits.to_json()),
            "waivers": waivers,
        },
        at=program.clock(),
    )
    return issued, key


def _find(store: Store, ref: str) -> GatewayKey:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(gateway_keys).where(or_(gateway_keys.c.id == ref, gateway_keys.c.prefix == ref))
        ).all()
    if not rows:
        raise InvalidInput(f"no gateway key {ref!r}: give its id or prefix (`inhouse keys list`)")
    if len(rows) > 1:
        raise InvalidInput(f"{ref!r} matches {len(rows)} keys; give the key id instead")
    return _row_key(rows[0])


def revoke_key(program: Program, actor: str | None, ref: str) -> GatewayKey:
    """Revoke the key with id or prefix ``ref``; running gateways drop it on their next refresh."""
    from inhouse.program.events import append

    who = program.actor(actor)
    key = _find(program.store, ref)
    if key.revoked is not None:
        raise InvalidInput(f"key {key.id} ({key.person}) was already revoked at {key.revoked}")
    when = program.clock().astimezone(UTC).isoformat()
    with program.store.engine.begin() as conn:
        conn.execute(update(gateway_keys).where(gateway_keys.c.id == key.id).values(revoked=when))
    append(
        program.store,
        KEY_REVOKED,
        who.name,
        {"key": key.id, "prefix": key.prefix, "person": key.person},
        at=program.clock(),
    )
    return GatewayKey(**{**key.__dict__, "revoked": when})


def list_keys(store: Store, *, include_revoked: bool = True) -> list[GatewayKey]:
    with store.engine.connect() as conn:
        query = select(gateway_keys).order_by(gateway_keys.c.created, gateway_keys.c.id)
        if not include_revoked:
            query = query.where(gateway_keys.c.revoked.is_(None))
        return [_row_key(row) for row in conn.execute(query).all()]


class KeyTable:
    """The active keys, in memory, for the request path: a dict lookup by prefix and a
    constant-time hash comparison. Rebuilt from the store on every refresh."""

    def __init__(self, keys: list[GatewayKey]) -> None:
        self._by_prefix: dict[str, list[GatewayKey]] = {}
        for key in keys:
            if key.active:
                self._by_prefix.setdefault(key.prefix, []).append(key)

    def __len__(self) -> int:
        return sum(len(keys) for keys in self._by_prefix.values())

    def verify(self, presented: str) -> GatewayKey | None:
        candidates = self._by_prefix.get(presented[:_PREFIX_LEN])
        if not candidates:
            return None
        digest = hash_key(presented)
        for key in candidates:
            if hmac.compare_digest(digest, key.hash):
                return key
        return None


def load_key_table(store: Store) -> KeyTable:
    return KeyTable(list_keys(store, include_revoked=False))
