"""Prove the event log untampered: every hash, every link, every signature; and anchors.

Walking from the first event, the audit recomputes each hash and link, and checks each signed
event's Ed25519 signature against the key the roster held for its signer at that point (keys
come from enrolments: the lead's at creation, each person's own at joining, a service's vouched
for by a lead). Rewriting an event and re-chaining the hashes after it is caught at the first
signature that no longer verifies. The first event's key is compared with ``lead_key`` in
``inhouse.toml`` (kept in git), so a store rebuilt from scratch by someone else is caught too.
Cutting events off the end leaves a valid chain; an *anchor* (the head's seq and hash, written
to a file kept in git) catches that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from inhouse.db import Store, events
from inhouse.errors import IdentityError, InvalidInput
from inhouse.identity import key_id_of, open_envelope, verify_signature
from inhouse.program.events import GENESIS, EventKind, event_hash, signed_material

__all__ = [
    "Anchor",
    "AuditReport",
    "check_anchor",
    "read_anchor",
    "verify_chain",
    "write_anchor",
]


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    head_hash: str | None = None
    head_seq: int = 0
    signed: int = 0
    unsigned: int = 0


@dataclass(frozen=True)
class Anchor:
    program_id: str
    seq: int
    hash: str


class _Keys:
    """The roster's keys as the log stood at each event."""

    def __init__(self) -> None:
        self.public: dict[str, tuple[str, str]] = {}  # key id -> (public key, person)
        self.revoked: set[str] = set()
        self.invitations: dict[str, str] = {}  # token hash -> invited name
        self.first: Any = None  # event 1, until the enrolment of its key lets us verify it

    def owner(self, key_id: str) -> tuple[str, str] | None:
        return None if key_id in self.revoked else self.public.get(key_id)


def _check_signed(row: Any, payload: dict[str, Any], keys: _Keys) -> str | None:
    """Why a signed event does not verify, or None; learns the keys it introduces."""
    signer = str(row.signer)
    self_enrolled = row.kind == EventKind.PERSON_ENROLLED and not payload.get("service")
    if self_enrolled and payload.get("key_id") == signer:
        public = str(payload.get("public_key", ""))
        if key_id_of(public) != signer:
            return f"event {row.seq} enrols a public key that is not key {signer}"
        if payload.get("claimed") and keys.public:
            return f"event {row.seq} claims the lead's first key, but keys were enrolled before"
        if row.seq > 2 and not payload.get("claimed"):
            invited = keys.invitations.pop(str(payload.get("token_hash", "")), None)
            if invited != payload.get("name"):
                return f"event {row.seq} enrols {payload.get('name')} without an invitation"
        known = (public, str(payload["name"]))
        first = keys.first
        if first is not None and first.signer == signer:
            keys.first = None
            if not verify_signature(public, signed_material(first.hash), str(first.signature)):
                return "event 1 (program.created) does not carry a valid signature of its key"
    else:
        found = keys.owner(signer)
        if found is None:
            return (
                f"event {row.seq} ({row.kind}) is signed by key {signer}, which no "
                "enrolment before it names (or which was revoked)"
            )
        known = found
    public, person = known
    if not verify_signature(public, signed_material(row.hash), str(row.signature or "")):
        return (
            f"event {row.seq} ({row.kind} by {row.actor}) does not carry a valid signature of "
            f"{person}'s key {signer}: it was altered or re-chained after it was written"
        )
    if row.actor != person and row.kind != EventKind.PERSON_ENROLLED:
        return f"event {row.seq} names {row.actor} as its actor but was signed by {person}'s key"
    keys.public[signer] = known
    return _learn(row, payload, keys)


def _learn(row: Any, payload: dict[str, Any], keys: _Keys) -> str | None:
    if row.kind == EventKind.PERSON_INVITED:
        keys.invitations[str(payload["token_hash"])] = str(payload["name"])
    elif row.kind == EventKind.KEY_REVOKED:
        keys.revoked.add(str(payload["key_id"]))
    elif row.kind == EventKind.PERSON_ENROLLED and payload.get("service"):
        public = str(payload.get("public_key", ""))
        if key_id_of(public) != payload.get("key_id"):
            return f"event {row.seq} enrols a service key that does not match its key id"
        keys.public[str(payload["key_id"])] = (public, str(payload["name"]))
    elif row.kind == EventKind.EVIDENCE_IMPORTED:
        try:
            envelope = open_envelope(payload["envelope"], where=f"event {row.seq}")
        except (IdentityError, KeyError) as err:
            return str(err)
        if envelope.key_id != payload.get("key_id"):
            return f"event {row.seq} attributes its envelope to another key than signed it"
        if "token_hash" in envelope.predicate and "fact" not in envelope.predicate:
            invited = keys.invitations.pop(str(envelope.predicate["token_hash"]), None)
            if invited != envelope.predicate.get("name"):
                return f"event {row.seq} imports an enrolment without an invitation"
            keys.public[envelope.key_id] = (envelope.public_key, str(invited))
    return None


def _row_problem(
    row: Any, expected_seq: int, prev: str, keys: _Keys, any_signed: bool, lead_key: str | None
) -> tuple[str, int] | None:
    """What is wrong with one stored event, and the seq to blame; None when it holds."""
    if row.seq != expected_seq:
        return f"event {expected_seq} is missing (next stored event is {row.seq})", expected_seq
    if row.prev_hash != prev:
        return (
            f"event {row.seq} does not link to event {row.seq - 1}: event {row.seq - 1} was "
            "altered or replaced after it was written",
            row.seq - 1,
        )
    recomputed = event_hash(
        row.seq, row.at, row.actor, row.kind, row.payload, row.prev_hash, row.signer
    )
    if recomputed != row.hash:
        return f"event {row.seq} ({row.kind} by {row.actor}) was altered", row.seq
    if row.signer is None:
        if any_signed:
            return (
                f"event {row.seq} ({row.kind} by {row.actor}) carries no signature, after "
                "identities began: it was written or stripped by hand",
                row.seq,
            )
        return None
    if row.seq == 1:
        if lead_key and row.signer != lead_key:
            return (
                f"event 1 is signed by key {row.signer}, not by the lead's key {lead_key} that "
                "inhouse.toml names: this log was rebuilt by someone else",
                1,
            )
        keys.first = row  # verified once the lead's key is enrolled (event 2)
        return None
    problem = _check_signed(row, json.loads(row.payload), keys)
    return (problem, row.seq) if problem else None


def verify_chain(store: Store, *, lead_key: str | None = None) -> AuditReport:
    """Walk the log from the start; stop at the first event whose contents, links or signature
    do not hold."""
    prev = GENESIS
    checked = signed = unsigned = 0
    keys = _Keys()
    with store.engine.connect() as conn:
        for row in conn.execute(select(events).order_by(events.c.seq)):
            found = _row_problem(row, checked + 1, prev, keys, signed > 0, lead_key)
            if found is not None:
                problem, seq = found
                return AuditReport(False, checked, seq, problem, signed=signed, unsigned=unsigned)
            if row.signer is None:
                unsigned += 1
            else:
                signed += 1
            prev = row.hash
            checked += 1
    if keys.first is not None:
        return AuditReport(
            False, checked, 1, "event 1's key is never enrolled: its signature cannot be checked"
        )
    return AuditReport(
        True,
        checked,
        head_hash=None if checked == 0 else prev,
        head_seq=checked,
        signed=signed,
        unsigned=unsigned,
    )


def write_anchor(path: Path, program_id: str, report: AuditReport) -> Anchor:
    """Record the verified head in ``path`` (kept in git): a later cut-off tail shows."""
    if not report.ok or report.head_hash is None:
        raise InvalidInput("anchor only a log that verifies and has events")
    anchor = Anchor(program_id, report.head_seq, report.head_hash)
    body = {"program": program_id, "seq": anchor.seq, "hash": anchor.hash}
    path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return anchor


def read_anchor(path: Path) -> Anchor:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(str(data["program"]), int(data["seq"]), str(data["hash"]))
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise InvalidInput(f"cannot read the anchor {path}: {err}") from None


def check_anchor(store: Store, anchor: Anchor, report: AuditReport) -> str | None:
    """Why the log disagrees with ``anchor``, or None."""
    if report.head_seq < anchor.seq:
        return (
            f"events {report.head_seq + 1} to {anchor.seq} are missing: the log was cut off "
            f"after event {report.head_seq} (the anchor saw {anchor.seq})"
        )
    with store.engine.connect() as conn:
        found = conn.execute(select(events.c.hash).where(events.c.seq == anchor.seq)).scalar()
    if found != anchor.hash:
        return f"event {anchor.seq} is not the one the anchor saw: the log was rewritten"
    return None
