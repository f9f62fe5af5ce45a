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

__all__ = ["http_url"]


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
