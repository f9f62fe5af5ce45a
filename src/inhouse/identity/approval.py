"""Approvals: a person's own key agrees to one exact event a dashboard session will sign.

A dashboard session key lives on the dashboard's host (:mod:`inhouse.identity.delegation`):
while it lasts, whoever runs that host could sign with it. For what a session may sign that is a
decision a check rests on (a handoff accepted or rejected, a survey answer), the session's
signature is not enough: the event must also carry an **approval**, a statement the person's
own key signed on their own machine (``inhouse web approve``), naming this program, that
session, the event's kind and a digest of exactly the payload it records. The host can propose
a decision; only the person's key can agree to it.

Each approval is used once (its nonce), lasts minutes, and the event must be written inside
its window. Nothing here knows about rosters or plays: the caller supplies the person's public
key and the delegation the session acts on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from inhouse.identity.keys import SigningKey, verify_signature
from inhouse.identity.statements import read_statement, signed_material, utc_text

if TYPE_CHECKING:
    from inhouse.identity.delegation import Delegation

__all__ = [
    "APPROVAL_LASTS",
    "APPROVAL_TYPE",
    "Approval",
    "approval_problem",
    "approval_statement",
    "payload_digest",
    "read_approval",
    "sign_approval",
]

APPROVAL_TYPE = "inhouse-session-approval-v1"
#: how long an approval waits to be used: a decision is agreed to, then recorded at once
APPROVAL_LASTS = timedelta(minutes=10)
#: what an event carries besides what it records (never part of the approved digest)
_ENVELOPE = ("delegation", "approval")
_FIELDS = ("type", "program", "person", "key_id", "session_key_id", "kind", "payload_sha256",
           "nonce", "issued", "expires")  # fmt: skip


def payload_digest(kind: str, payload: Mapping[str, Any]) -> str:
    """The SHA-256 of an event's kind and the payload it records (without the delegation and
    the approval it carries), as canonical JSON: what an approval agrees to."""
    body = {key: value for key, value in payload.items() if key not in _ENVELOPE}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{kind}\n{text}".encode()).hexdigest()


@dataclass(frozen=True)
class Approval:
    """``person``'s key ``key_id`` agrees that session ``session_key_id`` records one event of
    ``kind`` whose payload digests to ``payload_sha256``, in ``program``, between ``issued`` and
    ``expires``."""

    program: str
    person: str
    key_id: str
    session_key_id: str
    kind: str
    payload_sha256: str
    nonce: str
    issued: datetime
    expires: datetime
    signature: str

    def statement(self) -> dict[str, str]:
        return {
            "type": APPROVAL_TYPE,
            "program": self.program,
            "person": self.person,
            "key_id": self.key_id,
            "session_key_id": self.session_key_id,
            "kind": self.kind,
            "payload_sha256": self.payload_sha256,
            "nonce": self.nonce,
            "issued": _text(self.issued),
            "expires": _text(self.expires),
        }

    def to_dict(self) -> dict[str, Any]:
        """The form an event carries (``payload["approval"]``)."""
        return {"statement": self.statement(), "signature": self.signature}


_text = utc_text


def _material(statement: Mapping[str, Any]) -> bytes:
    return signed_material(b"inhouse-approval-v1", statement)


def approval_statement(
    delegation: Delegation,
    *,
    kind: str,
    payload: Mapping[str, Any],
    nonce: str,
    issued: datetime,
) -> dict[str, str]:
    """The statement the dashboard proposes for one event its session would sign."""
    return {
        "type": APPROVAL_TYPE,
        "program": delegation.program,
        "person": delegation.person,
        "key_id": delegation.key_id,
        "session_key_id": delegation.session_key_id,
        "kind": kind,
        "payload_sha256": payload_digest(kind, payload),
        "nonce": nonce,
        "issued": _text(issued),
        "expires": _text(issued + APPROVAL_LASTS),
    }


def read_approval(data: Any) -> Approval:
    """Parse an approval as an event carries it; :class:`IdentityError` naming the problem."""
    from inhouse.errors import IdentityError

    statement, issued, expires = read_statement(
        data, what="approval", type_=APPROVAL_TYPE, fields=_FIELDS
    )
    if not issued < expires or expires - issued > APPROVAL_LASTS:
        minutes = int(APPROVAL_LASTS.total_seconds() // 60)
        raise IdentityError(f"an approval lasts more than nothing and at most {minutes} minutes")
    return Approval(
        program=statement["program"],
        person=statement["person"],
        key_id=statement["key_id"],
        session_key_id=statement["session_key_id"],
        kind=statement["kind"],
        payload_sha256=statement["payload_sha256"],
        nonce=statement["nonce"],
        issued=issued,
        expires=expires,
        signature=str(data.get("signature") or ""),
    )


def sign_approval(
    key: SigningKey,
    statement: Mapping[str, Any],
    payload: Mapping[str, Any],
    *,
    now: datetime,
    skew: timedelta = timedelta(minutes=5),
) -> dict[str, Any]:
    """Sign ``statement`` with ``key`` (the person's own), once it is checked against what it
    claims: it names that key, digests exactly ``payload`` (the event the person was shown), and
    its window opens now (``now``: this machine's clock, within ``skew`` either way). The event
    is written inside the window at a time its dashboard's host says: a window that opened a
    while before would let the host date the event before the person agreed to it."""
    from inhouse.errors import IdentityError

    approval = read_approval({"statement": dict(statement), "signature": ""})
    if approval.key_id != key.key_id:
        raise IdentityError(
            f"the approval names key {approval.key_id}, not this shell's key {key.key_id}: it "
            "was made for someone else"
        )
    if payload_digest(approval.kind, payload) != approval.payload_sha256:
        raise IdentityError(
            "the approval's digest is not that of the event shown: the dashboard asks you to "
            "agree to something else than it shows, so nothing was signed"
        )
    if abs(approval.issued - now) > skew:
        minutes = int(skew.total_seconds() // 60)
        raise IdentityError(
            f"the approval opens at {_text(approval.issued)} (until {_text(approval.expires)}), "
            f"and this machine's clock says {_text(now)}: an approval opens now (within "
            f"{minutes} minutes), or the event could be dated before you agreed to it; nothing "
            "signed, ask for it again from the dashboard (if a clock is wrong, set it right)"
        )
    agreed = approval.statement()
    return {"statement": agreed, "signature": key.sign(_material(agreed))}


def approval_problem(
    data: Any,
    *,
    delegation: Delegation,
    public_key: str,
    kind: str,
    payload: Mapping[str, Any],
    at: datetime,
) -> str | None:
    """Why ``data`` does not approve the event of ``kind`` recording ``payload`` at ``at``,
    signed by the session of ``delegation`` (``public_key``: the key that signed the
    delegation), or None when it does. Whether its nonce was used before is the caller's."""
    from inhouse.errors import IdentityError

    try:
        approval = read_approval(data)
    except IdentityError as err:
        return str(err)
    if (approval.program, approval.person, approval.key_id, approval.session_key_id) != (
        delegation.program, delegation.person, delegation.key_id, delegation.session_key_id,
    ):  # fmt: skip
        return "its approval names another program, person, key or session than its delegation"
    if approval.kind != kind or approval.payload_sha256 != payload_digest(kind, payload):
        return (
            f"its approval is for another event than this one: {approval.person} did not "
            "approve what it records"
        )
    if not verify_signature(public_key, _material(approval.statement()), approval.signature):
        return f"its approval does not carry a valid signature of {approval.person}'s key"
    if not approval.issued <= at <= approval.expires:
        return (
            f"its approval holds from {_text(approval.issued)} to {_text(approval.expires)}, not "
            f"at {_text(at)}"
        )
    return None
