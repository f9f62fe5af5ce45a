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
    ["web", "approve", "CODE", "--url"],
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
        said = " ".join(cli("web", "approve", code, code=2).split())
        assert "is not an approval code" in said, said


def test_a_good_address_is_kept_as_typed() -> None:
    assert http_url(" https://[::1]:8077/base/ ", what="--url") == "https://[::1]:8077/base/"
    with pytest.raises(InvalidInput, match=r"^--url 'ftp://x': expected http\(s\)://HOST"):
        http_url("ftp://x", what="--url")


def test_a_gateway_status_with_no_answer_says_where_the_address_came_from(_isolated: Path) -> None:
    """The README's tour serves the gateway with `--port 8088`; `inhouse gateway status` asks the
    [gateway] table's port, and said only "no gateway answers at http://127.0.0.1:8400": it
    says that port is the table's, and to give another gateway's address with --url."""
    import socket

    cli("init", "Acme", "--lead", "lena")
    with socket.socket() as spare:  # a port nothing listens on: bound, never listened
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]
        with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as config:
            config.write(f"\n[gateway]\nport = {port}\n")
        said = " ".join(cli("gateway", "status", code=1).split())
    assert f"no gateway answers at http://127.0.0.1:{port}" in said, said
    assert "the [gateway] table's host and port" in said, said
    assert "give its address with --url" in said, said
    said = " ".join(cli("gateway", "status", "--url", f"http://127.0.0.1:{port}", code=1).split())
    assert "the [gateway] table's" not in said, said  # an address typed is the person's own
