"""Whether a runtime answered on this machine: what a second person's verify, and a colleague's
rerun of a workflow, must have measured.

A verify that reached a runtime at someone else's address measured that host, not an install
of the verifier's own, and a rerun answered by a server the workflow's author runs could be
served canned answers: both are the author's work, presented as the colleague's.

The judgement rests on the peer address of each connection that actually carried an answer
(:class:`PeerRecorder` reads it as the answer arrives), never on the URL's host name resolved
again afterwards: a name with a short DNS lifetime, an ``/etc/hosts`` edit or a name the judged
person controls can point at another host during the run and at 127.0.0.1 when asked later.
Answers came from this machine when every peer is a loopback address or one of this machine's
own (a socket can be bound to it). An answer whose peer cannot be seen (no network connection
carried it: an in-process transport, a transport that does not say) is :data:`UNKNOWN_PEER`,
and a judgement that cannot be made does not count as this machine's: neither does a set of
peers that is empty (nothing answered, so nothing was measured here).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpx

__all__ = [
    "UNKNOWN_PEER",
    "PeerRecorder",
    "answered_here",
    "is_own_address",
    "peer_address",
    "peers_of",
]

#: the peer of an answer no network connection inhouse could see carried
UNKNOWN_PEER = "unknown"


def peer_address(response: httpx.Response) -> str:
    """The IP address of the server that sent ``response``, read from the connection that
    carried it, or :data:`UNKNOWN_PEER`. Ask while the response is open (as its headers
    arrive): a connection the server has closed no longer says whom it was with."""
    stream = response.extensions.get("network_stream")
    getter = getattr(stream, "get_extra_info", None)
    if getter is None:  # an in-process transport (ASGI, a mock): no connection to ask
        return UNKNOWN_PEER
    try:
        server = getter("server_addr")
    except OSError:
        return UNKNOWN_PEER
    # (host, port) for TCP, IPv6 included; anything else (a Unix socket's path) names no host
    if not isinstance(server, tuple) or not server or not isinstance(server[0], str):
        return UNKNOWN_PEER
    return _normalised(server[0])


class PeerRecorder(httpx.AsyncBaseTransport):
    """A transport that records the peer address of every answer it hands back (see
    :func:`peer_address`), around ``inner`` (default: httpx's own, proxies from the
    environment left out). Give it to an ``httpx.AsyncClient`` as ``transport``."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self._inner = inner if inner is not None else httpx.AsyncHTTPTransport(trust_env=False)
        self._peers: set[str] = set()

    @property
    def peers(self) -> frozenset[str]:
        """The addresses that answered so far (:data:`UNKNOWN_PEER` for an unseen one)."""
        return frozenset(self._peers)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        # read now, before the body: once read, the server may have closed the connection
        self._peers.add(peer_address(response))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def peers_of(runtime: object) -> frozenset[str]:
    """The addresses that answered ``runtime`` (its ``peers``, part of the runtime protocol);
    an adapter of a plugin written before runtimes said so gives :data:`UNKNOWN_PEER`, which
    is never this machine, rather than an error."""
    peers = getattr(runtime, "peers", None)
    return frozenset(peers) if peers is not None else frozenset({UNKNOWN_PEER})


def answered_here(peers: Iterable[str]) -> bool:
    """Whether answers from ``peers`` (what :class:`PeerRecorder` recorded) came from this
    machine: at least one, and each a loopback address or one of this machine's own.
    :data:`UNKNOWN_PEER` is not: a judgement that cannot be made does not count as local."""
    found = set(peers)
    return bool(found) and all(is_own_address(peer) for peer in found)


def is_own_address(address: str) -> bool:
    """Whether ``address`` (an IP address) is a loopback address or one of this machine's."""
    try:
        parsed = ipaddress.ip_address(_normalised(address))
    except ValueError:  # UNKNOWN_PEER, a host name: not an address this machine can vouch for
        return False
    if parsed.is_loopback:
        return True
    family = socket.AF_INET6 if parsed.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(parsed), 0))  # only an address of this machine's can be bound
    except OSError:
        return False
    return True


def _normalised(address: str) -> str:
    """``address`` without an IPv6 zone, and an IPv4-mapped IPv6 address as the IPv4 one."""
    address = address.split("%")[0]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)
