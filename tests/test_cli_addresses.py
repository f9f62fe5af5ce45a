"""Addresses a person types (`--url`, `--api-url`, a Zammad's address) and the approval code
that goes into a path: an unclosed IPv6 bracket, a port out of range or no number, a control
character pasted in. Most were a traceback from the HTTP client (``httpx.InvalidURL``, or
``ValueError: Invalid IPv6 URL``); now the error names the address and what an address is,
before any request is made."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.urls import http_url
from tests.clitools import cli

_BAD = ["http://[::1", "http://127.0.0.1:99999", "http://host:port", "http://a\x00b\x1b[31m"]

#: each command that takes an address, with the address last
_TAKES = [
    ["gateway", "status", "--url"],
    ["web", "login", "--print", "--url"],
    ["web", "approve", "CODE", "--yes", "--url"],
    ["support", "import", "github", "acme/app", "--label", "support", "--api-url"],
    ["support", "import", "zammad"],
]


@pytest.mark.parametrize("command", _TAKES, ids=lambda c: " ".join(c[:3]))
@pytest.mark.parametrize("url", _BAD)
def test_an_address_that_is_no_url_is_named(_isolated: Path, command: list[str], url: str) -> None:
    cli("init", "Acme", "--lead", "lena")
    said = " ".join(cli(*command, url, code=2).split())
    assert f"{url!r}: expected http(s)://HOST[:PORT]" in said, said


def test_an_approval_code_is_the_dashboards_letters_only(_isolated: Path) -> None:
    """The code goes into the request's path: a control character was a traceback, and a
    `../` would have sent the key's signature to another of the dashboard's pages."""
    cli("init", "Acme", "--lead", "lena")
    for code in ("a\x00b", "../login/challenge", "a b"):
        said = " ".join(cli("web", "approve", code, "--yes", code=2).split())
        assert "is not an approval code" in said, said


def test_a_good_address_is_kept_as_typed() -> None:
    assert http_url(" https://[::1]:8077/base/ ", what="--url") == "https://[::1]:8077/base/"
    with pytest.raises(InvalidInput, match=r"^--url 'ftp://x': expected http\(s\)://HOST"):
        http_url("ftp://x", what="--url")
