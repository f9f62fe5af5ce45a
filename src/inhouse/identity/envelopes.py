"""Signed envelopes: evidence that travels between machines without trusting the channel.

The format is the in-toto attestation framework's: a DSSE envelope
(``payloadType`` ``application/vnd.in-toto+json``, base64 payload, signatures over DSSE's
pre-authentication encoding) around an in-toto Statement v1 whose subject is the program (its
id: the hash of its first event, so an envelope cannot be replayed into another program) and
whose predicate is one inhouse fact or enrolment, with one predicate type per fact kind:
``https://inhouse.dev/fact/<kind>/v<version>`` and ``https://inhouse.dev/enrolment/v1``.
The signature, not the channel, says who made it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inhouse.errors import IdentityError
from inhouse.jsonfiles import loads

if TYPE_CHECKING:  # the keys (and the cryptography library) load only to seal or check
    from inhouse.identity.keys import SigningKey

__all__ = [
    "ENROLMENT_TYPE",
    "PAYLOAD_TYPE",
    "STATEMENT_TYPE",
    "Envelope",
    "fact_predicate_type",
    "open_envelope",
    "read_statement",
    "seal",
]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
ENROLMENT_TYPE = "https://inhouse.dev/enrolment/v1"
_FACT_PREFIX = "https://inhouse.dev/fact/"


def fact_predicate_type(kind: str, version: int) -> str:
    return f"{_FACT_PREFIX}{kind}/v{version}"


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True)
class Envelope:
    """An opened, signature-checked envelope."""

    key_id: str
    public_key: str
    program_id: str
    predicate_type: str
    predicate: dict[str, Any]
    digest: str  # SHA-256 of the envelope's payload: the same envelope imported twice is one

    @property
    def fact_kind(self) -> str | None:
        if not self.predicate_type.startswith(_FACT_PREFIX):
            return None
        return self.predicate_type.removeprefix(_FACT_PREFIX).rsplit("/v", 1)[0]


def seal(
    key: SigningKey, *, program_id: str, predicate_type: str, predicate: dict[str, Any]
) -> dict[str, Any]:
    """Sign ``predicate`` about ``program_id`` with ``key``; returns the DSSE envelope (JSON)."""
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"inhouse-program:{program_id}", "digest": {"sha256": program_id}}],
        "predicateType": predicate_type,
        "predicate": {**predicate, "public_key": key.public_key},
    }
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key.key_id, "sig": key.sign(_pae(PAYLOAD_TYPE, payload))}],
    }


def read_statement(envelope: dict[str, Any]) -> dict[str, Any]:
    """The statement inside an envelope already checked on import (no signature check here)."""
    statement: dict[str, Any] = json.loads(base64.b64decode(str(envelope["payload"])))
    return statement


def open_envelope(envelope: Any, *, where: str = "envelope") -> Envelope:
    """Check an envelope's shape and signature; refuse anything else, naming what is wrong."""
    from inhouse.identity.keys import key_id_of, verify_signature

    if not isinstance(envelope, dict):
        raise IdentityError(f"{where}: not a DSSE envelope (a JSON object)")
    if envelope.get("payloadType") != PAYLOAD_TYPE:
        raise IdentityError(f"{where}: payloadType must be {PAYLOAD_TYPE}")
    try:
        payload = base64.b64decode(str(envelope["payload"]), validate=True)
        statement = loads(payload)
        signatures = envelope["signatures"]
    except (KeyError, ValueError) as err:
        raise IdentityError(f"{where}: unreadable payload ({err})") from None
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise IdentityError(f"{where}: the payload is not an in-toto Statement v1")
    predicate = statement.get("predicate")
    subject = statement.get("subject")
    if not isinstance(predicate, dict) or not isinstance(subject, list) or len(subject) != 1:
        raise IdentityError(f"{where}: the statement needs one subject and a predicate")
    public_key = str(predicate.get("public_key", ""))
    try:
        key_id = key_id_of(public_key)
    except ValueError:
        raise IdentityError(f"{where}: the predicate names no valid public key") from None
    if not isinstance(signatures, list) or not any(
        isinstance(s, dict)
        and s.get("keyid") == key_id
        and verify_signature(public_key, _pae(PAYLOAD_TYPE, payload), str(s.get("sig", "")))
        for s in signatures
    ):
        raise IdentityError(
            f"{where}: no valid signature by key {key_id}: the envelope was altered or not "
            "signed by the key it names"
        )
    program_id = str(subject[0].get("digest", {}).get("sha256", ""))
    return Envelope(
        key_id=key_id,
        public_key=public_key,
        program_id=program_id,
        predicate_type=str(statement.get("predicateType", "")),
        predicate={k: v for k, v in predicate.items() if k != "public_key"},
        digest=hashlib.sha256(payload).hexdigest(),
    )
