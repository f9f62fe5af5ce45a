"""The gateway's HTTP/1.1 client to its runtimes: pooled keep-alive connections on asyncio
protocols, answers parsed by httptools (llhttp, in C).

Why not aiohttp, which it replaced: on the gateway's hot path every request built a client
request object, merged headers, and armed a read timer per chunk, and every chunk went through a
stream reader; at 32 and 100 concurrent streams that client was about a fifth of the gateway's
CPU (docs/gateway-performance.md, "What Python allows on this machine, and a client of its
own"). This one does what the gateway needs and nothing else: a prepared request written in one
``write``, the answer's head, its body whole or read as it arrives (one future per wait, and a
timer only while waiting), a connection kept for the next request once its answer was read to
the end, TLS for ``https`` runtimes. No redirects, proxies, cookies, compression or HTTP/2; the
runtimes are the program's own.

What can go wrong is raised as one of three errors of :mod:`inhouse.errors`, which
:mod:`inhouse.gateway.upstream` words for the client: ``ConnectFailed`` (nothing listens, or the
name does not resolve), ``ConnectionLost`` (closed or reset; ``answered`` says whether any of
the answer had arrived, ``reused`` whether the connection was a kept one) and ``NotHttp`` (the
bytes are not an HTTP/1.1 answer); a wait longer than its timeout raises ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

import httptools

from inhouse.errors import ConnectFailed, ConnectionLost, NotHttp, RuntimeFault
from inhouse.tls import client_context

__all__ = ["Answer", "Endpoint", "Pool"]

#: body bytes held unread before the connection stops reading (a client that reads slowly must
#: not make the gateway hold a whole answer), and the level at which it reads again
_HIGH_WATER = 256 * 1024
_LOW_WATER = 64 * 1024
#: an answer whose content was all read (a stream's ``[DONE]``) while the runtime's last bytes
#: (the chunked body's terminator) had not yet arrived: how long, and how many bytes, the pool
#: waits for them in the background before it gives the connection up
_FINISH_SECONDS = 1.0
_FINISH_BYTES = 64 * 1024


class Endpoint:
    """A runtime's base URL, parsed once: where to connect and what each request line says."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.url = base_url
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.tls else 80)
        self.prefix = parts.path.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.tls else 80
        self.authority = host if self.port == default else f"{host}:{self.port}"
        self._heads: dict[tuple[str, str], bytes] = {}

    def head(self, method: str, path: str) -> bytes:
        """The request line and the headers every request to ``path`` carries."""
        head = self._heads.get((method, path))
        if head is None:
            head = self._heads[(method, path)] = (
                f"{method} {self.prefix}{path} HTTP/1.1\r\nhost: {self.authority}\r\n"
                "user-agent: inhouse-gateway\r\naccept-encoding: identity\r\n"
            ).encode("latin-1")
        return head


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self, pool: Pool, key: tuple[str, int, bool]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.open = False
        #: the runtime closed its side cleanly (not a reset, not our own close)
        self._eof = False
        self.idle_since = 0.0
        self._parser: Any = None
        #: the parser of the answer a kept connection read to its end, for the next one
        self._kept_parser: Any = None
        self.status = 0
        self.headers: dict[str, str] = {}
        #: the answer being parsed is an interim one (1xx: 100 Continue, 103 Early Hints)
        self._interim = False
        self._head: asyncio.Future[None] | None = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._paused = False
        self._waiter: asyncio.Future[None] | None = None
        #: the timer that watches the waits (:meth:`_watch`), kept from one wait to the next and
        #: from one request to the next, and when it looks (``time.monotonic()``)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due = 0.0
        #: seconds of silence the wait under way allows (``None``: no limit)
        self._timeout: float | None = None
        #: when the request was sent (the answer's head must come within the timeout of it)
        self._sent = 0.0
        self.complete = False
        self.keep_alive = False
        self._error: Exception | None = None
        #: while an answer is piped (:meth:`pipe`): what each body read is handed to, at once
        self._sink: Callable[[bytes], bool] | None = None
        #: the sink saw the end of what its caller wants (a stream's ``[DONE]``)
        self._sunk = False
        #: when the runtime last sent something (its head, body bytes), for the read timeout:
        #: silence is counted from there, not from the start of a wait
        self._last_read = 0.0
        #: reading paused because the client the answer is piped to reads slowly
        self._held = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.open = True

    def data_received(self, data: bytes) -> None:
        if self._parser is None:
            self.close()  # bytes outside an answer: this connection is not to be trusted
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as err:
            self._fail(NotHttp(f"answered with something that is not HTTP/1.1 ({err})"))
            self.close()

    def eof_received(self) -> bool:
        self.open = False
        self._eof = True
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.pool.forget(self)
        if self._parser is not None and not self.complete and self._error is None:
            answered = self._head is not None and self._head.done()
            if answered and self._eof and _ends_with_connection(self.headers):
                self.complete = True  # a body without a length ends when the connection does
                self._wake()
                return
            reason = f" ({type(exc).__name__}: {exc})" if exc else ""
            self._fail(
                ConnectionLost(
                    "the connection closed before the answer ended" + reason, answered=answered
                )
            )

    # -- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second answer to one request: this connection is not to be trusted
            raise NotHttp("another answer after the answer")

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self.headers[key] = f"{self.headers[key]}, {text}" if key in self.headers else text

    def on_headers_complete(self) -> None:
        self.status = self._parser.get_status_code()
        if 100 <= self.status < 200:
            self._interim = True  # the answer itself comes after it
            return
        self._last_read = time.monotonic()
        if self._head is not None and not self._head.done():
            self._head.set_result(None)

    def on_body(self, body: bytes) -> None:
        self._last_read = time.monotonic()
        sink = self._sink
        if sink is not None:
            try:
                if sink(body):
                    self._sink = None  # what follows is not the caller's: it waits, buffered
                    self._sunk = True
                    self._wake()
            except BaseException as err:  # the sink's own refusal ends the piping
                self._sink = None
                self._fail(err)  # type: ignore[arg-type]
            return
        self._chunks.append(body)
        self._buffered += len(body)
        if self._buffered > _HIGH_WATER and not self._paused and self.transport is not None:
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self._interim:
            self._interim = False
            self.headers = {}
            return
        self.complete = True
        self.keep_alive = bool(self._parser.should_keep_alive())
        self._wake()

    # -- the request -------------------------------------------------------------------------

    def start(self, request: bytes, timeout: float | None = None) -> asyncio.Future[None]:
        """Send ``request``; the future is done when the answer's head has arrived, or fails
        with ``TimeoutError`` when it has not within ``timeout`` seconds."""
        assert self.transport is not None
        # a kept connection's parser read its last answer to the end (:meth:`Pool.put`): it
        # reads the next one as it is, without a new parser (its callbacks looked up again)
        # per request (issue 16)
        parser, self._kept_parser = self._kept_parser, None
        self._parser = parser if parser is not None else httptools.HttpResponseParser(self)
        self.status = 0
        self.headers = {}
        self._chunks = []
        self._buffered = 0
        self.complete = False
        self.keep_alive = False
        self._error = None
        self._interim = False
        self._sink = None
        self._sunk = False
        self._head = asyncio.get_running_loop().create_future()
        self._sent = time.monotonic()
        self.transport.write(request)
        self._watch(timeout)
        return self._head

    async def next_chunk(self, timeout: float | None) -> bytes:
        """The body bytes that arrived since the last call (waiting up to ``timeout`` seconds
        for some), or ``b""`` once the answer has ended."""
        while True:
            if self._chunks:
                chunks, self._chunks = self._chunks, []
                self._buffered = 0
                if self._paused and self.transport is not None:
                    self._paused = False
                    self.transport.resume_reading()
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            if self.complete:
                return b""
            if self._error is not None:
                raise self._error
            await self._wait(timeout)

    async def pipe(self, sink: Callable[[bytes], bool], timeout: float | None) -> bool:
        """Hand every body read to ``sink`` as it arrives, in the protocol's own callback (no
        wait, no task wake-up per read), until ``sink`` returns ``True`` (it has what it
        wanted: returns ``True``) or the body ends (returns ``False``). What ``sink`` raises,
        or the connection fails with, is raised here; so is :class:`TimeoutError` when the
        runtime sends nothing for ``timeout`` seconds."""
        if self._chunks:  # what arrived before the piping began
            chunks, self._chunks = self._chunks, []
            self._buffered = 0
            if self._paused and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
            if sink(chunks[0] if len(chunks) == 1 else b"".join(chunks)):
                return True
        self._sunk = False
        self._last_read = time.monotonic()
        self._sink = sink
        try:
            while True:
                if self._sunk:
                    return True
                if self._error is not None:
                    raise self._error
                if self.complete:
                    return False
                waiter = self._waiter = asyncio.get_running_loop().create_future()
                self._watch(timeout)
                try:  # self._wait(timeout), inline
                    await waiter
                finally:
                    self._waiter = None
        finally:
            self._sink = None

    def pause(self, paused: bool) -> None:
        """Stop (or go on) reading the answer: the client it is piped to reads slowly."""
        if self.transport is None or not self.open or paused == self._held:
            return
        self._held = paused
        if paused:
            self.transport.pause_reading()
        else:
            self._last_read = time.monotonic()  # the client's wait was not the runtime's
            if not self._paused:
                self.transport.resume_reading()

    def abort(self, error: Exception) -> None:
        """End the piping with ``error`` and close the connection (the client went away:
        a runtime still generating sees the close and stops)."""
        self._sink = None
        self._fail(error)
        self.close()

    async def _wait(self, timeout: float | None) -> None:
        """Wait for the next wake-up; ``TimeoutError`` once nothing was read for
        ``timeout`` seconds."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        self._watch(timeout)
        try:
            await waiter
        finally:
            self._waiter = None

    def _watch(self, timeout: float | None) -> None:
        """See that the wait just begun (for the answer's head, or for body bytes) ends with
        ``TimeoutError`` after ``timeout`` seconds of silence. One timer watches every wait of
        the connection, and stays from one wait and one request to the next (it stops when it
        finds nothing waiting): a timer armed and cancelled per wait cost two event-loop
        timers per request, ~17k instructions (issue 16)."""
        self._timeout = timeout
        if timeout is None:
            return
        head = self._head
        since = self._sent if head is not None and not head.done() else self._last_read
        due = since + timeout
        if self._timer is not None:
            if self._timer_due <= due:
                return  # it looks before this wait is due, and will look again
            self._timer.cancel()
        self._arm(due)

    def _arm(self, due: float) -> None:
        self._timer_due = due
        delay = max(due - time.monotonic(), 0.0)
        self._timer = asyncio.get_running_loop().call_later(delay, self._look)

    def _look(self) -> None:
        """The watching timer: expire the wait under way once it has had its silence, else
        look again when it would have; stop when nothing waits."""
        self._timer = None
        timeout = self._timeout
        head = self._head
        if head is not None and not head.done():
            target, since = head, self._sent
        elif (waiter := self._waiter) is not None and not waiter.done():
            if self._held:  # not read because the client is not reading: not the runtime's
                if timeout is not None:
                    self._arm(time.monotonic() + timeout)
                return
            target, since = waiter, self._last_read
        else:
            return  # nothing waits: the next wait arms it again
        if timeout is None:
            return
        if time.monotonic() - since >= timeout:
            _expire(target)
        else:
            self._arm(since + timeout)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _fail(self, error: Exception) -> None:
        self._error = error
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
            self._head.exception()  # retrieved here: nobody may be waiting on it any more
        self._wake()

    def reusable(self) -> bool:
        return self.open and self.complete and self.keep_alive and self._error is None

    def close(self) -> None:
        self.open = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()


def _ends_with_connection(headers: dict[str, str]) -> bool:
    """Whether an answer's body has no length of its own: neither ``content-length`` nor
    chunked, so it ends when the runtime closes the connection (HTTP/1.0's way)."""
    coding = headers.get("transfer-encoding", "").lower()
    return "content-length" not in headers and "chunked" not in coding


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Answer:
    """A runtime's answer whose head has arrived: read its body with :meth:`read` or
    :meth:`next_chunk`, then :meth:`release` it (the connection is kept for another request
    only when the answer was read to its end)."""

    __slots__ = ("_connection", "_pool", "_timeout", "headers", "status")

    def __init__(self, pool: Pool, connection: _Connection, timeout: float | None) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._timeout = timeout
        self.status = connection.status
        #: the answer's headers, names in lower case
        self.headers = connection.headers

    # next_chunk and pipe hand back the connection's own coroutine rather than awaiting it in
    # one of their own: a coroutine layer fewer on every request (issue 16)

    def next_chunk(self) -> Coroutine[Any, Any, bytes]:
        """The body bytes that arrived since the last call, or ``b""`` once the body ended
        (awaited). Raises :class:`TimeoutError` when the runtime sends nothing for the read
        timeout."""
        assert self._connection is not None, "the answer was released"
        return self._connection.next_chunk(self._timeout)

    def pipe(self, sink: Callable[[bytes], bool]) -> Coroutine[Any, Any, bool]:
        """Hand the body to ``sink`` read by read, in the connection's own callback, until
        ``sink`` returns ``True`` (then ``True``) or the body ends (``False``), awaited; see
        :meth:`_Connection.pipe`."""
        assert self._connection is not None, "the answer was released"
        return self._connection.pipe(sink, self._timeout)

    def pause(self, paused: bool) -> None:
        """Stop (``True``) or go on (``False``) reading the runtime's answer."""
        if self._connection is not None:
            self._connection.pause(paused)

    def abort(self, error: Exception) -> None:
        """Fail a :meth:`pipe` under way with ``error`` and close the connection."""
        if self._connection is not None:
            self._connection.abort(error)

    async def read(self) -> bytes:
        """The whole body (what is left of it)."""
        parts = []
        while chunk := await self.next_chunk():
            parts.append(chunk)
        return b"".join(parts)

    def release(self, *, read_all: bool = False) -> None:
        """Give the connection back. ``read_all``: everything the caller wanted was read (a
        stream's ``[DONE]``) even if the runtime's last bytes have not arrived; the pool then
        waits for them briefly, in the background, and keeps the connection if they come.
        A server on uvicorn writes a chunked body's terminator on its own, after the last
        event; on loopback it arrived in the same read as ``[DONE]`` (llama-cpp-python, 5 of 5
        streams), across a network it can come a segment later, and the next request would
        pay for a new connection. Otherwise an answer not read to its end closes its
        connection (a runtime that is still generating sees the close and stops)."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if read_all and not connection.complete and connection.open and connection._error is None:
            self._pool.finish(connection)
        else:
            self._pool.put(connection)


class Pool:
    """Keep-alive connections to every runtime, reused last-in first-out; a connection idle for
    ``keepalive`` seconds is closed rather than reused."""

    def __init__(self, *, connect_timeout: float = 5.0, keepalive: float = 60.0) -> None:
        self.connect_timeout = connect_timeout
        self.keepalive = keepalive
        self._idle: dict[tuple[str, int, bool], list[_Connection]] = {}
        self._all: set[_Connection] = set()
        #: connections waiting, in the background, for their answer's last bytes
        self._finishing: set[asyncio.Task[None]] = set()

    async def request(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        body: bytes = b"",
        headers: bytes = b"",
        *,
        timeout: float | None,
        fresh: bool = False,
    ) -> Answer:
        """Send a request and wait (up to ``timeout`` seconds) for the answer's head; the
        same ``timeout`` bounds each wait for the body's bytes. ``headers`` are extra header
        lines, each ending in CRLF; ``fresh`` opens a new connection instead of taking a kept
        one (a request sent again because a kept connection had died)."""
        # a kept connection is taken without a coroutine of its own (the usual case)
        connection = None if fresh else self._kept(endpoint)
        reused = connection is not None
        if connection is None:
            connection = await self._connect(endpoint)
        request = b"%b%bcontent-length: %d\r\n\r\n%b" % (
            endpoint.head(method, path),
            headers,
            len(body),
            body,
        )
        head = connection.start(request, timeout)
        try:
            await head
        except BaseException as err:
            if isinstance(err, ConnectionLost):
                err.reused = reused
            connection.close()
            self.forget(connection)
            raise
        return Answer(self, connection, timeout)

    def _kept(self, endpoint: Endpoint) -> _Connection | None:
        """A kept connection to ``endpoint`` that may be reused, if there is one."""
        idle = self._idle.get((endpoint.host, endpoint.port, endpoint.tls))
        if not idle:
            return None
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.open and now - connection.idle_since < self.keepalive:
                return connection
            connection.close()
            self._all.discard(connection)
        return None

    async def _connect(self, endpoint: Endpoint) -> _Connection:
        """A new connection to ``endpoint``."""
        key = (endpoint.host, endpoint.port, endpoint.tls)
        loop = asyncio.get_running_loop()
        tls = None
        if endpoint.tls:
            # the authorities every client of inhouse trusts (inhouse.tls), as the store holds
            # them now: a new connection, not each request, asks (microseconds, no file read)
            tls = client_context()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, key),
                    endpoint.host,
                    endpoint.port,
                    ssl=tls,
                    server_hostname=endpoint.host if tls else None,
                )
        except TimeoutError:  # nothing answered the connection at all: as good as refused
            raise ConnectFailed(
                f"{endpoint.authority}: no connection within {self.connect_timeout:g} s"
            ) from None
        except OSError as err:
            raise ConnectFailed(f"{endpoint.authority}: {err.strerror or err}") from err
        self._all.add(connection)
        return connection

    def put(self, connection: _Connection) -> None:
        """Keep ``connection`` for the next request, or close it if it cannot be reused."""
        if connection.reusable():
            # bytes while idle are not an answer (data_received closes it); its parser, at the
            # end of a whole answer, is kept for the next request's
            connection._kept_parser, connection._parser = connection._parser, None
            connection._chunks = []
            connection._buffered = 0
            if (connection._paused or connection._held) and connection.transport is not None:
                connection._paused = connection._held = False  # it read its answer's end
                connection.transport.resume_reading()  # while paused: read on
            connection.idle_since = time.monotonic()
            self._idle.setdefault(connection.key, []).append(connection)
        else:
            connection.close()
            self._all.discard(connection)

    def finish(self, connection: _Connection) -> None:
        """Read what is left of ``connection``'s answer in the background (at most
        ``_FINISH_BYTES`` within ``_FINISH_SECONDS``), then keep it, or close it."""
        connection.pause(False)  # its client may have paused it: the rest is the pool's
        task = asyncio.get_running_loop().create_task(self._finish(connection))
        self._finishing.add(task)
        task.add_done_callback(self._finishing.discard)

    async def _finish(self, connection: _Connection) -> None:
        left = _FINISH_BYTES
        try:
            async with asyncio.timeout(_FINISH_SECONDS):
                while chunk := await connection.next_chunk(None):
                    left -= len(chunk)
                    if left < 0:
                        break
        except (TimeoutError, RuntimeFault):
            pass
        finally:
            self.put(connection)  # kept only if its answer ended

    def forget(self, connection: _Connection) -> None:
        """``connection`` closed: it is no longer kept."""
        self._all.discard(connection)
        idle = self._idle.get(connection.key)
        if idle and connection in idle:
            idle.remove(connection)

    async def close(self) -> None:
        for task in list(self._finishing):
            task.cancel()
        connections = list(self._all)
        self._all.clear()
        self._idle.clear()
        for connection in connections:
            connection.close()
        await asyncio.sleep(0)
