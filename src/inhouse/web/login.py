"""The client side of sign-in (``inhouse web login``): fetch the server's challenge, check it,
sign it with this person's own key, and get the one-time link back.

The key never leaves this machine: what travels is the signed statement, which lets the server's
session key act for this person, in this program, until it expires
(:mod:`inhouse.identity.delegation`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from inhouse.errors import IdentityError, InhouseError, NotAllowed, RuntimeUnavailable

if TYPE_CHECKING:
    import httpx

    from inhouse.identity import SigningKey

__all__ = ["sign_in"]


def _answer(reply: httpx.Response, step: str) -> dict[str, Any]:
    try:
        body = reply.json()
    except ValueError:
        body = None
    if reply.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        message = error.get("message") if isinstance(error, dict) else reply.text[:200]
        raise NotAllowed(f"the dashboard refused the {step} ({reply.status_code}): {message}")
    return body


def sign_in(
    url: str,
    key: SigningKey,
    *,
    program_id: str | None = None,
    client: httpx.Client | None = None,
    now: datetime | None = None,
) -> str:
    """Sign in to the dashboard at ``url`` with ``key``; returns the one-time link. With
    ``program_id`` (from ``inhouse.toml``), a server running another program is refused; a
    session that does not start now (``now``: this machine's clock, by default the real one)
    is refused before anything is signed."""
    import httpx

    from inhouse.identity.delegation import sign_delegation

    base = url.rstrip("/")
    own = client or httpx.Client(timeout=10.0)
    try:
        reply = own.get(f"{base}/login/challenge.json", params={"key_id": key.key_id})
        statement = _answer(reply, "challenge").get("statement")
        if not isinstance(statement, dict):
            raise IdentityError("the dashboard's challenge carries no statement")
        if program_id and statement.get("program") != program_id:
            raise IdentityError(
                f"the dashboard at {base} runs another program ({statement.get('program')}), "
                f"not this folder's ({program_id}): nothing signed"
            )
        signed = sign_delegation(key, statement, now=now or datetime.now(UTC))
        reply = own.post(f"{base}/login/delegation.json", json=signed)
        link = _answer(reply, "signature").get("link")
    except httpx.HTTPError as err:
        raise RuntimeUnavailable(f"cannot reach the dashboard at {base}: {err}") from None
    finally:
        if client is None:
            own.close()
    if not isinstance(link, str):
        raise InhouseError("the dashboard answered no link")
    return link
