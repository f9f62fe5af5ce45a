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

An address says nothing of what listens behind it: a relay on loopback (``ssh -L``, socat, a
few lines of Python) answers from 127.0.0.1 for a server on another host. For a runtime inhouse
serves itself (the embedded llama.cpp server ``inhouse runtime serve`` starts), a
:class:`PeerRecorder` told to ``look_behind`` also finds, as each answer arrives, the process
holding the server end of the very connection that carried it (:func:`runtime_behind`): it must
be one of this user's own processes running inhouse's runtime (``python -m llama_cpp.server
--model FILE``). Anything else (a relay, another user's or root's process, a container's port
proxy: none of which this user can look into) is recorded as a peer that is not this machine's,
named for what was seen. Runtimes inhouse does not serve (Ollama, vLLM, LM Studio) run as
whatever their installers make them, so nothing behind their port is checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import itertools
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from inhouse.tls import client_context

__all__ = [
    "UNKNOWN_PEER",
    "Behind",
    "PeerRecorder",
    "answered_here",
    "is_own_address",
    "normalised_address",
    "peer_address",
    "peers_of",
    "runtime_behind",
    "vouched_peer",
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
    return normalised_address(server[0])


class PeerRecorder(httpx.AsyncBaseTransport):
    """A transport that records the peer address of every answer it hands back (see
    :func:`peer_address`), around ``inner`` (default: httpx's own, proxies from the
    environment left out). Give it to an ``httpx.AsyncClient`` as ``transport``.

    ``look_behind`` (for a runtime inhouse serves itself): an answer from this machine counts
    as this machine's only when the process at the server end of its connection is inhouse's
    runtime (:func:`runtime_behind`); otherwise its peer is recorded as the address and what
    held it, which is no address of this machine's."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport | None = None, *, look_behind: bool = False
    ) -> None:
        # no proxy, but the authorities every client of inhouse trusts (inhouse.tls), as the
        # gateway reaching the same runtime does: httpx's own default is certifi's alone
        self._inner = (
            inner
            if inner is not None
            else httpx.AsyncHTTPTransport(trust_env=False, verify=client_context())
        )
        self._peers: set[str] = set()
        self._look_behind = look_behind
        #: what was behind each connection, by its two ends (a kept-alive one is looked at once)
        self._behind: dict[tuple[tuple[str, int], tuple[str, int]], Behind] = {}

    @property
    def peers(self) -> frozenset[str]:
        """The addresses that answered so far (:data:`UNKNOWN_PEER` for an unseen one)."""
        return frozenset(self._peers)

    @property
    def served_files(self) -> frozenset[str]:
        """The ``--model`` files of the inhouse runtimes found behind the answers' connections
        (``look_behind`` only)."""
        return frozenset(b.model for b in self._behind.values() if b.model is not None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        # read now, before the body: once read, the server may have closed the connection
        peer = peer_address(response)
        if self._look_behind and is_own_address(peer):
            try:
                peer = await asyncio.to_thread(self._vouched, response, peer)
            except BaseException:  # cancelled while looking: the answer goes back to no one
                await response.aclose()
                raise
        self._peers.add(peer)
        return response

    def _vouched(self, response: httpx.Response, peer: str) -> str:
        ends = _connection_ends(response)
        behind = self._behind.get(ends) if ends is not None else None
        peer, behind = vouched_peer(peer, ends, behind)
        if ends is not None:
            self._behind[ends] = behind
        return peer

    async def aclose(self) -> None:
        await self._inner.aclose()


def vouched_peer(
    peer: str, ends: tuple[tuple[str, int], tuple[str, int]] | None, behind: Behind | None = None
) -> tuple[str, Behind]:
    """``peer`` (an answer's address, this machine's) as a runtime inhouse serves must be
    recorded: itself where the process at the server end of the connection (``ends``: its
    client and server (address, port), None where they cannot be read) is inhouse's runtime,
    else ``peer`` with what held it, which is no machine's address (:func:`answered_here` says
    not here). ``behind``: what an earlier look at the same connection found. The one judge
    for every collector that asks whether inhouse's runtime answered here; the addresses may
    come as the socket gives them (:func:`normalised_address` is applied here)."""
    peer = normalised_address(peer)
    if behind is None:
        if ends is None:
            behind = Behind("the connection's ends cannot be read")
        else:
            behind = runtime_behind(ends[1], ends[0])
    return (peer if behind.problem is None else f"{peer} ({behind.problem})"), behind


@dataclass(frozen=True)
class Behind:
    """What holds the server end of a connection: inhouse's runtime on ``model`` (``problem``
    None), or why it is not."""

    problem: str | None
    model: str | None = None
    pid: int | None = None


def _connection_ends(response: httpx.Response) -> tuple[tuple[str, int], tuple[str, int]] | None:
    stream = response.extensions.get("network_stream")
    getter = getattr(stream, "get_extra_info", None)
    if getter is None:
        return None
    try:
        client, server = getter("client_addr"), getter("server_addr")
    except OSError:
        return None
    ends = []
    for end in (client, server):
        if not isinstance(end, tuple) or len(end) < 2 or not isinstance(end[0], str):
            return None
        ends.append((end[0], int(end[1])))
    return ends[0], ends[1]


def runtime_behind(server: tuple[str, int], client: tuple[str, int]) -> Behind:
    """What holds the server end of the open TCP connection from ``client`` to ``server``
    (both (address, port), as this side sees them): inhouse's runtime when it is one of this
    user's own processes running ``python -m llama_cpp.server`` with a ``--model`` file (what
    ``inhouse runtime serve`` runs). The very socket that carried the answer, not whatever
    listens on the port now: a relay that hands the port over between answers is still seen.
    The addresses may come as the socket gives them (:func:`normalised_address`)."""
    import psutil

    server = (normalised_address(server[0]), server[1])
    client = (normalised_address(client[0]), client[1])

    where = f"{server[0]}:{server[1]}"
    try:
        pid = _holder(psutil, server, client)
    except (psutil.Error, OSError) as err:
        return Behind(f"what holds {where} cannot be read ({err})")
    if pid is None:
        return Behind(
            f"no process of yours holds {where}: another user's, root's or a container's "
            "(a relay or port forward), not inhouse's runtime"
        )
    try:
        process = psutil.Process(pid)
        uid = process.uids().real
        argv = process.cmdline()
        name = process.name()
        config = process.environ().get("CONFIG_FILE") if uid == os.getuid() else None
    except (psutil.Error, OSError) as err:
        return Behind(f"the process holding {where} cannot be read ({err})", pid=pid)
    if uid != os.getuid():
        return Behind(f"{where} is held by {name} (pid {pid}), another user's process", pid=pid)
    model = None if config else _served_model(argv)
    if model is None:
        return Behind(f"{where} is held by {name} (pid {pid}), not inhouse's runtime", pid=pid)
    return Behind(None, model=model, pid=pid)


def _served_model(argv: list[str]) -> str | None:
    """The ``--model`` of ``argv`` when it runs inhouse's runtime (``PYTHON -m
    llama_cpp.server ...``), else None: the module named anywhere else on a command line (an
    argument to a relay's script) is anyone's to type. The file it serves, read as the server
    reads its arguments: named once (``--model FILE`` or ``--model=FILE``; a second, in either
    form, is the one it loads), and no ``--config_file`` (nor a prefix of it, which its parser
    takes), whose models it serves instead, whatever ``--model`` says. The caller refuses the
    server's ``CONFIG_FILE`` in its environment likewise."""
    if len(argv) < 3 or argv[1:3] != ["-m", "llama_cpp.server"]:
        return None
    options = argv[3:]
    if any(len(o.split("=", 1)[0]) > 3 and _CONFIG.startswith(o.split("=", 1)[0]) for o in options):
        return None
    found = [b for a, b in itertools.pairwise(options) if a == "--model"]
    found += [o.removeprefix("--model=") for o in options if o.startswith("--model=")]
    return found[0] if len(found) == 1 else None


#: the server's option that loads its models from a file, ``--model`` aside
_CONFIG = "--config_file"


def _holder(psutil: Any, server: tuple[str, int], client: tuple[str, int]) -> int | None:
    """The pid of this user's process whose socket is ``server`` connected to ``client``, or
    None. System-wide where the system allows it (Linux names the pid of a user's own
    processes only); else process by process, this user's own (macOS)."""

    def ours(conn: Any) -> bool:
        laddr, raddr = conn.laddr, conn.raddr
        return bool(
            laddr
            and raddr
            and (normalised_address(laddr.ip), laddr.port) == server
            and (normalised_address(raddr.ip), raddr.port) == client
        )

    try:
        return next((c.pid for c in psutil.net_connections(kind="tcp") if ours(c)), None)
    except psutil.AccessDenied:
        pass
    me = os.getuid()
    for process in psutil.process_iter():
        try:
            if process.uids().real != me:
                continue
            if any(ours(c) for c in process.net_connections(kind="tcp")):
                return int(process.pid)
        except (psutil.Error, OSError):
            continue
    return None


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
        parsed = ipaddress.ip_address(normalised_address(address))
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


def normalised_address(address: str) -> str:
    """``address`` without an IPv6 zone, and an IPv4-mapped IPv6 address as the IPv4 one: an
    answer's address as every recorder of one writes it (a socket on a dual-stack listener
    says ``::ffff:127.0.0.1`` for 127.0.0.1, a link-local one ``fe80::1%lo``)."""
    address = address.split("%")[0]
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(parsed)
