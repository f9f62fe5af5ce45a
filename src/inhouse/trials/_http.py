"""The load generator's HTTP/1.1 client: pooled keep-alive connections that send a prepared
request and keep every fragment of the answer's body with the ``time.perf_counter()`` moment its
bytes were read.

Why not httpx or aiohttp: measured against the stand-in upstream at 256 concurrent streams on a
2-core machine, httpx's pool spent ~2 s of CPU per round (its connection bookkeeping grows with
the pool) and aiohttp's per-chunk path (stream reader, a future and a task wake-up per chunk)
left TTFT medians 1.3 to 7.8 % high; this client, which stamps each read in the protocol's
``data_received`` before anything else and parses with httptools (llhttp, in C), measured
+0.6 to +2.6 % alongside it (docs/bench.md). It does only what the load generator
needs: ``Content-Length`` requests, chunked / length / close-delimited answers, TLS for https,
a connect timeout and a whole-request timeout. No proxies, redirects or HTTP/2.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httptools

from inhouse.errors import TransportFailed
from inhouse.runtimes.local import is_own_address, normalised_address, vouched_peer
from inhouse.tls import client_context

__all__ = ["Answer", "HttpError", "StreamClient"]

HttpError = TransportFailed  # what this client raises when a request cannot complete


@dataclass
class Answer:
    """One request's answer: status, headers (lower-case names) and the body fragments, each
    with the perf_counter time of the read that brought it."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    fragments: list[tuple[float, bytes]] = field(default_factory=list)
    #: perf_counter when the request began to leave (connect start on a new connection)
    sent: float = 0.0
    #: perf_counter of the read that completed the answer
    ended: float = 0.0
    #: the address the connection that carried it reached (its peer), as the socket says
    peer: str | None = None

    @property
    def body(self) -> bytes:
        return b"".join(data for _, data in self.fragments)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.open = False
        self.lost: asyncio.Future[None]
        self._answer: Answer | None = None
        self._done: asyncio.Future[None] | None = None
        self._parser: Any = None
        self._stamp = 0.0
        self._header_name = ""
        self._headers_done = False
        self.keep_alive = False
        self.peer: str | None = None
        #: (client, server) (address, port) of the socket, as this side sees them
        self.ends: tuple[tuple[str, int], tuple[str, int]] | None = None
        #: the peer as a runtime inhouse serves records it, once looked behind
        self.vouched: str | None = None

    # -- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.open = True
        self.lost = asyncio.get_running_loop().create_future()
        peer = transport.get_extra_info("peername")
        # (host, port[, flow, scope]) for IP; whom a name resolved to is what this says, not
        # what a second lookup of the name might say
        # as every recorder of an answer's address writes it (no zone, IPv4 not mapped)
        self.peer = normalised_address(str(peer[0])) if isinstance(peer, tuple) and peer else None
        own = transport.get_extra_info("sockname")
        if isinstance(peer, tuple) and isinstance(own, tuple) and len(peer) > 1 and len(own) > 1:
            self.ends = ((str(own[0]), int(own[1])), (str(peer[0]), int(peer[1])))

    def data_received(self, data: bytes) -> None:
        self._stamp = time.perf_counter()  # first: the time these bytes were read
        if self._parser is None:
            return  # bytes outside a request: the connection is not reused (see release)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as err:
            self._fail(HttpError(f"answered with something that is not HTTP/1.1 ({err})"))

    def eof_received(self) -> bool:
        self.open = False  # the server closed its side: never reuse this connection
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if not self.lost.done():
            self.lost.set_result(None)
        if self._done is None or self._done.done():
            return
        answer = self._answer
        if (
            answer is not None
            and self._headers_done
            and "content-length" not in answer.headers
            and "chunked" not in answer.headers.get("transfer-encoding", "")
        ):
            answer.ended = self._stamp or time.perf_counter()
            self._done.set_result(None)  # a close-delimited body ends with the connection
            return
        reason = f" ({type(exc).__name__}: {exc})" if exc else ""
        self._fail(HttpError(f"the server closed the connection before the answer ended{reason}"))

    # -- httptools callbacks --------------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        assert self._answer is not None
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._answer.headers[key] = (
            f"{self._answer.headers[key]}, {text}" if key in self._answer.headers else text
        )

    def on_headers_complete(self) -> None:
        assert self._answer is not None
        self._answer.status = self._parser.get_status_code()
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        assert self._answer is not None
        self._answer.fragments.append((self._stamp, body))

    def on_message_complete(self) -> None:
        assert self._answer is not None and self._done is not None
        self._answer.ended = self._stamp
        self.keep_alive = bool(self._parser.should_keep_alive())
        if not self._done.done():
            self._done.set_result(None)

    # -- requests -------------------------------------------------------------------------------

    def start(self, request: bytes, answer: Answer) -> asyncio.Future[None]:
        assert self.transport is not None
        self._answer = answer
        self._done = asyncio.get_running_loop().create_future()
        self._parser = httptools.HttpResponseParser(self)
        self._headers_done = False
        self.keep_alive = False
        if not answer.sent:
            answer.sent = time.perf_counter()
        self.transport.write(request)
        return self._done

    def finish(self) -> None:
        self._parser = None
        self._answer = None
        self._done = None

    def _fail(self, error: Exception) -> None:
        if self._done is not None and not self._done.done():
            self._done.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def close(self) -> None:
        if self.transport is not None and self.open:
            self.transport.close()
        self.open = False


class StreamClient:
    """A pool of at most ``size`` keep-alive connections to one server."""

    def __init__(
        self,
        base_url: str,
        *,
        size: int,
        timeout: float,
        connect_timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        look_behind: bool = False,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.prefix = parts.path.rstrip("/")
        # the authorities the gateway and every other client of inhouse trust (inhouse.tls)
        self._tls = client_context() if parts.scheme == "https" else None
        default_port = 443 if parts.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._authority = host if self.port == default_port else f"{host}:{self.port}"
        self._headers = {"user-agent": "inhouse-bench", **(headers or {})}
        self.timeout = timeout
        self.connect_timeout = min(connect_timeout, timeout)
        self._slots = asyncio.Semaphore(max(size, 1))
        self._idle: list[_Connection] = []
        self._all: set[_Connection] = set()
        #: a runtime inhouse serves: an answer from this machine is recorded as its own only
        #: where inhouse's runtime holds the other end (:func:`vouched_peer`)
        self._look_behind = look_behind

    def prepare(self, method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
        """The request's bytes, built once: send the same prepared request many times."""
        lines = [f"{method} {self.prefix}{path} HTTP/1.1", f"host: {self._authority}"]
        for name, value in {**self._headers, **headers}.items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"content-length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, request: bytes, *, reached: list[str] | None = None) -> Answer:
        """Send a prepared request and wait for the whole answer. Raises :class:`HttpError`
        (or ``TimeoutError`` after ``timeout`` seconds). ``reached``: each connection the
        request went out on appends the address it reached, so a request that failed after
        leaving still says where its bytes went."""
        async with self._slots, asyncio.timeout(self.timeout):
            answer = Answer()
            conn, reused = await self._connection(answer)
            answer.peer = conn.peer
            if reached is not None and conn.peer:
                reached.append(conn.peer)
            try:
                await conn.start(request, answer)
            except HttpError:
                self._drop(conn)
                if not (reused and answer.status == 0 and not answer.fragments):
                    raise
                # A kept-alive connection the server had already closed: the request never got
                # an answer, so send it again on a new connection, timed from there.
                answer = Answer()
                conn, _ = await self._connection(answer, fresh=True)
                answer.peer = conn.peer
                if reached is not None and conn.peer:
                    reached.append(conn.peer)
                try:
                    await conn.start(request, answer)
                except BaseException:
                    self._drop(conn)
                    raise
            except BaseException:
                self._drop(conn)
                raise
            finally:
                conn.finish()
            if self._look_behind and conn.peer and is_own_address(conn.peer):
                # after the answer (its times are taken), on the connection that carried it,
                # still open: the server's end of it is what is looked at
                if conn.vouched is None:
                    try:
                        conn.vouched, _ = await asyncio.to_thread(
                            vouched_peer, conn.peer, conn.ends
                        )
                    except BaseException:
                        self._drop(conn)
                        raise
                answer.peer = conn.vouched
            if conn.keep_alive and conn.open:
                self._idle.append(conn)
            else:
                self._drop(conn)
        return answer

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        self._all.discard(conn)

    async def _connection(self, answer: Answer, *, fresh: bool = False) -> tuple[_Connection, bool]:
        """A kept-alive connection (and True), else a new one (and False)."""
        while self._idle and not fresh:
            conn = self._idle.pop()
            if conn.open:
                return conn, True
            self._all.discard(conn)
        answer.sent = time.perf_counter()  # a new connection: the request starts with it
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(
                    _Connection,
                    self.host,
                    self.port,
                    ssl=self._tls,
                    server_hostname=self.host if self._tls else None,
                )
        except TimeoutError:
            raise HttpError(
                f"cannot connect to {self._authority} within {self.connect_timeout:g} s"
            ) from None
        except OSError as err:
            raise HttpError(f"cannot connect to {self._authority}: {err.strerror or err}") from err
        self._all.add(conn)
        return conn, False

    async def aclose(self) -> None:
        """Close every connection and wait (briefly) until they are closed: a TLS connection
        says goodbye to the server first. What has not closed after a second is aborted."""
        conns = list(self._all)
        self._all.clear()
        self._idle.clear()
        for conn in conns:
            conn.close()
        waiting = [conn.lost for conn in conns if hasattr(conn, "lost") and not conn.lost.done()]
        if waiting:
            await asyncio.wait(waiting, timeout=1.0)
        for conn in conns:
            if conn.transport is not None and not conn.lost.done():
                conn.transport.abort()
        await asyncio.sleep(0)

    async def __aenter__(self) -> StreamClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
