"""Identities: each person's own Ed25519 key, machine fingerprints, and signed envelopes.

Nothing here knows about programs or plays; the engine (``inhouse.program``) binds keys to the
people on a program's roster and signs every event with the acting person's key.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inhouse.identity import machine
    from inhouse.identity.envelopes import (
        ENROLMENT_TYPE,
        Envelope,
        fact_predicate_type,
        open_envelope,
        seal,
    )
    from inhouse.identity.keys import (
        SigningKey,
        adopt_key,
        create_key,
        default_key_path,
        key_id_of,
        load_key,
        verify_signature,
    )
    from inhouse.identity.machine import machine_fingerprint

__all__ = [
    "ENROLMENT_TYPE",
    "Envelope",
    "SigningKey",
    "adopt_key",
    "create_key",
    "default_key_path",
    "fact_predicate_type",
    "key_id_of",
    "load_key",
    "machine",
    "machine_fingerprint",
    "open_envelope",
    "seal",
    "verify_signature",
]

# Loaded on first use: `inhouse status` never needs the cryptography library, and importing it
# costs a CLI command tens of milliseconds.
_WHERE = {
    "ENROLMENT_TYPE": "envelopes",
    "Envelope": "envelopes",
    "fact_predicate_type": "envelopes",
    "open_envelope": "envelopes",
    "seal": "envelopes",
    "SigningKey": "keys",
    "adopt_key": "keys",
    "create_key": "keys",
    "default_key_path": "keys",
    "key_id_of": "keys",
    "load_key": "keys",
    "verify_signature": "keys",
    "machine_fingerprint": "machine",
}


def __getattr__(name: str) -> Any:
    if name == "machine":
        return import_module("inhouse.identity.machine")
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'inhouse.identity' has no attribute {name!r}")
    found = getattr(import_module(f"inhouse.identity.{module}"), name)
    globals()[name] = found  # found once: the fold asks for verify_signature at every event
    return found
