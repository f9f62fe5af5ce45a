"""Stand-ins for a connection that went to another host. This machine has no second host to
reach, so the tests make the real request to the runtime on loopback and let the connection
that carried the answer *say* it went elsewhere: ``server_addr`` reports :data:`ELSEWHERE` (an
RFC 5737 documentation address, bound by no test machine), or nothing at all. Everything from
there on (reading the peer, recording it, judging it) is inhouse's own code.

The forgery they stand for: a runtime URL whose name points at another host's server while the
requests are made and at 127.0.0.1 when anyone asks afterwards (a short DNS lifetime, an
``/etc/hosts`` edit, a name the judged person controls).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

__all__ = ["ELSEWHERE", "AnsweredFromElsewhere", "answers_from_elsewhere"]

#: TEST-NET-1 (RFC 5737): routed nowhere
ELSEWHERE = "192.0.2.10"


class _StreamFromElsewhere:
    """The real connection, except that it names ``address`` as its server (None: no server)."""

    def __init__(self, real: Any, address: str | None) -> None:
        self._real = real
        self._address = address

    def get_extra_info(self, info: str) -> Any:
        if info == "server_addr":
            return None if self._address is None else (self._address, 8080)
        return self._real.get_extra_info(info)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _relabelled(response: httpx.Response, address: str | None) -> httpx.Response:
    real = response.extensions.get("network_stream")
    assert real is not None, "the real transport carried this answer over a connection"
    response.extensions["network_stream"] = _StreamFromElsewhere(real, address)
    return response


class AnsweredFromElsewhere(httpx.AsyncBaseTransport):
    """Stand-in transport: httpx's real one, whose connections say they went to ``address``
    (None: a connection that does not say where it went)."""

    def __init__(self, address: str | None = ELSEWHERE) -> None:
        self._real = httpx.AsyncHTTPTransport(trust_env=False)
        self._address = address

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return _relabelled(await self._real.handle_async_request(request), self._address)

    async def aclose(self) -> None:
        await self._real.aclose()


def answers_from_elsewhere(
    monkeypatch: pytest.MonkeyPatch, address: str | None = ELSEWHERE, *, path: str = ""
) -> None:
    """Stand-in for the CLI, where no transport can be handed in: until the test ends, every
    answer httpx's async transport receives (to a request for ``path`` only, where given) comes
    over a connection that says it went to ``address`` (None: that says nothing)."""
    real = httpx.AsyncHTTPTransport.handle_async_request

    async def from_elsewhere(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        response = await real(self, request)
        if path and request.url.path != path:
            return response
        return _relabelled(response, address)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", from_elsewhere)
