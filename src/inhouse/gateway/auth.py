"""Who is calling: the gateway key in a request's ``Authorization`` header, checked against the
key table (issued, not revoked). Keys themselves are made in :mod:`inhouse.gateway.keys`."""

from __future__ import annotations

from collections.abc import Iterable

from inhouse.errors import InvalidApiKey, NoApiKey
from inhouse.gateway.keys import GatewayKey, KeyTable

__all__ = ["authenticate"]


def authenticate(keys: KeyTable, headers: Iterable[tuple[bytes, bytes]]) -> GatewayKey:
    """The key a request presents as ``Authorization: Bearer <key>``; a 401 without a valid one."""
    header = b""
    for name, value in headers:
        if name == b"authorization":
            header = value
            break
    scheme, _, token = header.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NoApiKey(
            "no gateway key: send it as 'Authorization: Bearer <key>' (a rollout lead grants "
            "you one with `inhouse keys issue NAME`; you fetch it with `inhouse keys fetch`)"
        )
    key = keys.verify(token.strip())
    if key is None:
        refused = keys.why_refused(token.strip())
        if refused is not None:
            raise InvalidApiKey(
                f"this gateway key ({refused.key.id}, {refused.key.person}'s) is not served: "
                f"{refused.reason} (a rollout lead sees it in `inhouse keys list`)"
            )
        if keys.was_revoked(token.strip()):
            # told to try again in a few seconds, its holder waited for a key that will never
            # work again; revoked is all it is told (the key's holder only: its hash matched)
            raise InvalidApiKey(
                "this gateway key was revoked: it is not served any more. Ask a rollout lead "
                "for a new one (`inhouse keys issue NAME`), then fetch it (`inhouse keys fetch`)"
            )
        # a member who fetched a key a moment ago and asked at once heard only "invalid or
        # revoked", and read it as a fetch that failed: say when a new key starts to work (it
        # names nothing about the key, so an unknown one learns nothing from it)
        raise InvalidApiKey(
            "invalid or revoked gateway key (a key fetched with `inhouse keys fetch` is served "
            "from the gateway's next key refresh, within [gateway] keys_refresh_seconds, 5 s "
            "unless set: if you fetched it just now, try again in a few seconds)"
        )
    return key
