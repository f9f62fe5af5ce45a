"""Identities: each person's own Ed25519 key, machine fingerprints, and signed envelopes.

Nothing here knows about programs or plays; the engine (``inhouse.program``) binds keys to the
people on a program's roster and signs every event with the acting person's key.
"""

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
    "machine_fingerprint",
    "open_envelope",
    "seal",
    "verify_signature",
]
