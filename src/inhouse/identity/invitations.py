"""An invitation's own key: what lets a joiner show they hold the invitation, not its hash.

An invitation is a one-time token; the log keeps only its SHA-256, which every writer of the
store reads. An enrolment naming that hash alone was enough to join, so whoever writes the store
(a lead with the database's password) could enrol a key of hers on a member's open invitation
for a machine of his own and sign as him. So the token also seeds an Ed25519 key (the
invitation's key): the invitation's event logs its public half (``join_key``), and a joining
key's enrolment carries that key's signature over the joining key's id (``join_proof``). The
store holds neither the token nor the seed: only whoever received the invitation can sign, and a
proof binds one joining key, so an enrolment read in the log cannot be moved to another key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from inhouse.identity.keys import SigningKey, verify_signature

__all__ = ["invitation_key", "join_material", "join_proof", "join_proof_holds"]


def invitation_key(token: str) -> SigningKey:
    """The key an invitation's token seeds (its public half is logged with the invitation)."""
    seed = hashlib.sha256(b"inhouse-invitation-key:" + token.encode("ascii")).digest()
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed))


def join_material(program_id: str, token_hash: str, key_id: str) -> bytes:
    """What an invitation's key signs to let key ``key_id`` join with it, in one program."""
    return f"inhouse-join:{program_id}:{token_hash}:{key_id}".encode()


def join_proof(token: str, *, program_id: str, token_hash: str, key_id: str) -> str:
    """The invitation's signature letting key ``key_id`` join with it (an enrolment's
    ``join_proof``)."""
    return invitation_key(token).sign(join_material(program_id, token_hash, key_id))


def join_proof_holds(
    join_key: str, proof: Any, *, program_id: str, token_hash: str, key_id: str
) -> bool:
    """Whether ``proof`` is the signature of the invitation's key ``join_key`` letting key
    ``key_id`` join (False for anything that is no such signature, a missing one included)."""
    if not isinstance(proof, str) or not proof:
        return False
    material = join_material(program_id, token_hash, key_id)
    try:
        return verify_signature(join_key, material, proof)
    except (ValueError, TypeError):
        return False
