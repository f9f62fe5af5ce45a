"""Delegations: a person's key lets a short-lived session key act for them, in one program.

The dashboard (``inhouse web``) never holds a person's private key. At sign-in it makes a fresh
Ed25519 *session key* and proposes a statement; ``inhouse web login``, holding the person's own
key, checks it and signs it. The server then signs that person's browser actions with the
session key, and every such event carries the signed statement. Whoever verifies the log (the
fold, ``inhouse audit verify``) accepts an event signed by a session key only with a delegation
that names exactly that key, this program, a key the roster holds for the actor, and an expiry
after the event. What this proves, and what it cannot, is in docs/concepts.md ("Signing in to the
dashboard").

Before it names the person, the dashboard asks the key to sign a *sign-in request*
(:func:`sign_in_request`: the program, the key id, a nonce, a time), the same for any key id,
so that nobody learns whose a key is without holding it; its own prefix makes that signature
count for nothing else.

Nothing here knows about rosters or plays: :func:`delegation_problem` takes a lookup from key id
to (public key, person).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from inhouse.identity.keys import SigningKey, key_id_of, verify_signature
from inhouse.identity.statements import read_statement, signed_material, utc_text

__all__ = [
    "DELEGATION_TYPE",
    "MAX_DELEGATION",
    "SIGN_IN_REQUEST_TYPE",
    "SIGN_IN_SKEW",
    "Delegation",
    "delegation_problem",
    "delegation_statement",
    "read_delegation",
    "read_sign_in_request",
    "sign_delegation",
    "sign_in_request",
    "sign_in_request_material",
    "sign_sign_in_request",
]

DELEGATION_TYPE = "inhouse-session-delegation-v1"
#: the longest a person's signature lets a session key act for them, in seconds
MAX_DELEGATION = 12 * 3600
#: how far a delegation's start may be from the signer's clock (clocks disagree a little)
SIGN_IN_SKEW = timedelta(minutes=5)
_FIELDS = ("type", "program", "person", "key_id", "session_key", "session_key_id", "nonce",
           "issued", "expires")  # fmt: skip


@dataclass(frozen=True)
class Delegation:
    """A signed statement: ``key_id`` (``person``'s key) lets ``session_key_id`` act for them
    in ``program`` from ``issued`` until ``expires``."""

    program: str
    person: str
    key_id: str
    session_key: str  # base64 raw Ed25519 public key
    session_key_id: str
    nonce: str
    issued: datetime
    expires: datetime
    signature: str

    def statement(self) -> dict[str, str]:
        return {
            "type": DELEGATION_TYPE,
            "program": self.program,
            "person": self.person,
            "key_id": self.key_id,
            "session_key": self.session_key,
            "session_key_id": self.session_key_id,
            "nonce": self.nonce,
            "issued": _text(self.issued),
            "expires": _text(self.expires),
        }

    def to_dict(self) -> dict[str, Any]:
        """The form an event carries (``payload["delegation"]``)."""
        return {"statement": self.statement(), "signature": self.signature}


_text = utc_text


def _material(statement: Mapping[str, Any]) -> bytes:
    return signed_material(b"inhouse-delegation-v1", statement)


def delegation_statement(
    *,
    program: str,
    person: str,
    key_id: str,
    session_key: str,
    nonce: str,
    issued: datetime,
    expires: datetime,
) -> dict[str, str]:
    """The statement a sign-in proposes (the server) and the person's key signs (the CLI)."""
    return {
        "type": DELEGATION_TYPE,
        "program": program,
        "person": person,
        "key_id": key_id,
        "session_key": session_key,
        "session_key_id": key_id_of(session_key),
        "nonce": nonce,
        "issued": _text(issued),
        "expires": _text(expires),
    }


SIGN_IN_REQUEST_TYPE = "inhouse-sign-in-request-v1"
_REQUEST_FIELDS = ("type", "program", "key_id", "nonce", "issued")


def sign_in_request(*, program: str, key_id: str, nonce: str, issued: str) -> dict[str, str]:
    """What a dashboard asks a key to sign before it names the key's person: that the key is
    held by whoever asks to sign in (the server), and nothing else."""
    return {
        "type": SIGN_IN_REQUEST_TYPE,
        "program": program,
        "key_id": key_id,
        "nonce": nonce,
        "issued": issued,
    }


def sign_in_request_material(request: Mapping[str, Any]) -> bytes:
    """The bytes a key signs for a sign-in request: a prefix of their own, so that the
    signature counts for nothing else (no event, delegation or approval)."""
    return signed_material(b"inhouse-sign-in-request-v1", request)


def read_sign_in_request(data: Any) -> tuple[dict[str, str], str]:
    """The request and signature ``data`` (``{request, signature}``) carries;
    :class:`IdentityError` naming what is wrong with its shape."""
    from inhouse.errors import IdentityError

    if not isinstance(data, Mapping) or not isinstance(data.get("request"), Mapping):
        raise IdentityError("a signed sign-in request is {request, signature}")
    request, signature = dict(data["request"]), data.get("signature")
    if set(request) != set(_REQUEST_FIELDS) or not all(
        isinstance(v, str) for v in request.values()
    ):
        raise IdentityError(f"a sign-in request carries exactly {', '.join(_REQUEST_FIELDS)}")
    if request["type"] != SIGN_IN_REQUEST_TYPE:
        raise IdentityError(f"not a sign-in request (type {request['type']!r})")
    if not isinstance(signature, str):
        raise IdentityError("the sign-in request carries no signature")
    return request, signature


def sign_sign_in_request(key: SigningKey, request: Mapping[str, Any]) -> dict[str, Any]:
    """Sign the sign-in request a dashboard asked ``key`` to sign; refused unless it is one,
    naming that key."""
    from inhouse.errors import IdentityError

    read, _ = read_sign_in_request({"request": request, "signature": ""})
    if read["key_id"] != key.key_id:
        raise IdentityError(
            f"the sign-in request names key {read['key_id']}, not this shell's key "
            f"{key.key_id}: it was made for someone else"
        )
    return {"request": read, "signature": key.sign(sign_in_request_material(read))}


def sign_delegation(
    key: SigningKey, statement: Mapping[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """Sign ``statement`` with ``key`` (the person's own); refused unless it names that key and
    lasts at most :data:`MAX_DELEGATION`, and (given the signer's clock, ``now``) unless its
    window starts now, within :data:`SIGN_IN_SKEW` either way: a dashboard that proposes a
    window weeks ahead would hold a key acting for its person on a day they never signed in."""
    from inhouse.errors import IdentityError

    delegation = read_delegation({"statement": dict(statement), "signature": ""})
    if delegation.key_id != key.key_id:
        raise IdentityError(
            f"the sign-in statement names key {delegation.key_id}, not this shell's key "
            f"{key.key_id}: it was made for someone else"
        )
    if now is not None and abs(delegation.issued - now) > SIGN_IN_SKEW:
        proposed, here = delegation.issued.astimezone(UTC), now.astimezone(UTC)
        raise IdentityError(
            f"the dashboard proposes a session from {proposed:%Y-%m-%d %H:%M} UTC, but this "
            f"machine's clock says {here:%Y-%m-%d %H:%M} UTC: a sign-in delegates from now "
            f"(within {SIGN_IN_SKEW.seconds // 60} minutes), so nothing was signed; if a clock "
            "is wrong, set it right and sign in again"
        )
    return {
        "statement": delegation.statement(),
        "signature": key.sign(_material(delegation.statement())),
    }


def read_delegation(data: Any) -> Delegation:
    """Parse a delegation as an event carries it; :class:`IdentityError` naming the problem."""
    from inhouse.errors import IdentityError

    statement, issued, expires = read_statement(
        data, what="delegation", type_=DELEGATION_TYPE, fields=_FIELDS
    )
    try:
        session_id = key_id_of(statement["session_key"])
    except ValueError as err:
        raise IdentityError(f"the delegation's session key does not parse: {err}") from None
    if session_id != statement["session_key_id"]:
        raise IdentityError("the delegation's session key does not match its key id")
    if not issued < expires or (expires - issued).total_seconds() > MAX_DELEGATION:
        raise IdentityError(
            f"a delegation lasts more than nothing and at most {MAX_DELEGATION // 3600} hours"
        )
    return Delegation(
        program=statement["program"],
        person=statement["person"],
        key_id=statement["key_id"],
        session_key=statement["session_key"],
        session_key_id=statement["session_key_id"],
        nonce=statement["nonce"],
        issued=issued,
        expires=expires,
        signature=str(data.get("signature") or ""),
    )


def delegation_problem(
    data: Any,
    *,
    signer: str,
    program_id: str,
    at: datetime,
    owner_of: Callable[[str], tuple[str, str] | None],
) -> tuple[str | None, Delegation | None]:
    """Why ``data`` does not let key ``signer`` act at ``at`` in ``program_id`` (None when it
    does), and the delegation. ``owner_of`` maps an enrolled, unrevoked key id to (public key,
    person)."""
    from inhouse.errors import IdentityError

    try:
        delegation = read_delegation(data)
    except IdentityError as err:
        return str(err), None
    if delegation.session_key_id != signer:
        return f"its delegation is for session key {delegation.session_key_id}, not {signer}", None
    if delegation.program != program_id:
        return "its delegation was signed for another program", None
    owner = owner_of(delegation.key_id)
    if owner is None:
        return (
            f"its delegation is signed by key {delegation.key_id}, which no enrolment names "
            "(or which was revoked)",
            None,
        )
    public, person = owner
    if person != delegation.person:
        return (
            f"its delegation names {delegation.person} but key {delegation.key_id} is {person}'s",
            None,
        )
    if not verify_signature(public, _material(delegation.statement()), delegation.signature):
        return f"its delegation does not carry a valid signature of {person}'s key", None
    if not delegation.issued <= at < delegation.expires:
        return (
            f"its delegation from {person} holds from {_text(delegation.issued)} to "
            f"{_text(delegation.expires)}, not at {_text(at)}",
            None,
        )
    return None, delegation
