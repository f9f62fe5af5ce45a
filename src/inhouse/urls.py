"""Addresses a person types (``--url``, a Zammad's address, ``--api-url``): checked before a
request is made, so a typo is an error naming the address, never a traceback from deep inside
the HTTP client (an unclosed ``[`` of an IPv6 host, a port that is no number, a control
character pasted with it).

    base = http_url(url, what="--url")
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

from inhouse.errors import InvalidInput

__all__ = ["hidden_host", "http_url"]


def http_url(url: str, *, what: str) -> str:
    """``url`` without outer spaces, if it is an ``http(s)://HOST[:PORT][/PATH]`` address a
    request can be sent to; otherwise an :class:`InvalidInput` naming ``what`` and the address
    (written with its control characters spelled out)."""
    import httpx

    url = url.strip()
    expected = f"{what} {url!r}: expected http(s)://HOST[:PORT]"
    if any(char.isspace() or unicodedata.category(char) == "Cc" for char in url):
        raise InvalidInput(f"{expected}, without spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is no number, or out of range
        httpx.URL(url)  # what the client will parse
    except (ValueError, httpx.InvalidURL) as err:
        raise InvalidInput(f"{expected} ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(expected)
    return url


def hidden_host(url: str) -> str | None:
    """Why ``url`` does not name the host its requests reach as a reader reads it, or None: a
    ``user@`` part before the host (``https://api.openai.com@203.0.113.5`` reaches 203.0.113.5),
    or a host written in letters other than ASCII ("api.openai.com" with a Cyrillic a, U+0430,
    for its second a is ``api.xn--openi-7ve.com`` to DNS: another name than the one it reads
    as). A colleague who confirms an endpoint confirms what they read; inhouse writes an
    address as it is reached."""
    import httpx

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return None  # not an address at all: whatever reads it refuses it, naming that
    if "@" in parts.netloc:
        return (
            f"it names {parts.netloc.rsplit('@', 1)[0]!r} before an '@', so it reads as that "
            f"host while its requests go to {host or 'the host after it'}: write the host they "
            "reach, without a user part (an API key goes in `api_key_env`)"
        )
    if host.isascii():
        return None
    try:
        reached = httpx.URL(url.strip()).host
    except (httpx.InvalidURL, ValueError, UnicodeError):
        reached = ""
    said = f"DNS is asked for {reached}" if reached.isascii() and reached else "DNS reads it"
    return (
        f"its host {host} is written in letters other than ASCII, and {said}, another name "
        f"than it reads as: write {reached or 'its ASCII (IDNA) form'}, the name its requests "
        "reach"
    )
