"""The gateway's HTTP/1.1 server: client connections as asyncio protocols, requests parsed by
httptools (llhttp, in C), answers written straight to the socket.

Why not uvicorn and ASGI, which it replaced (issue 16): a streamed answer's events went through
an ASGI message and a task wake-up each, and every request through uvicorn's generic request
cycle. Here a stream's events are written to the client in the same callback that read them
from the runtime (:meth:`inhouse.gateway.wire.Answer.pipe`), and a request is one task from its
last byte to its answer's end. The server does what the gateway needs and what HTTP/1.1 asks:

* keep-alive, closed after ``keepalive`` seconds without a byte; a client that takes none of
  the bytes written to it for ``send_timeout`` seconds (60, nginx's default) is cut off
  (nginx's ``send_timeout``): its answer's runtime connection is closed and the request logged
  as 499. What it has taken is counted past the process's buffer, in the kernel's send queue
  (``TIOCOUTQ``): bytes its host has acknowledged. A receiver's kernel reopens a closed window
  only once enough is free: at least a segment, and a share of its receive buffer, which Linux
  grows on its own (steps of hundreds of KB measured on loopback), so a client that reads
  slower than a few KB/s needs a small ``SO_RCVBUF`` to keep its connection, as with nginx
  (docs/gateway.md, "At the door"); on a system without ``TIOCOUTQ`` nobody is cut off (the
  kernel's share cannot be told from a stall);
  a request must arrive whole
  within ``keepalive`` seconds of its first byte, plus a second for every ``_MIN_RATE`` bytes
  of body received (so a client that trickles its head or body a byte at a time does not hold a
  connection, while a large body sent at any reasonable pace is read whole), else it is
  answered 408 and the connection closed;
  ``Connection: close`` honoured; HTTP/1.0 answered without chunked framing (a stream ends
  with the connection); pipelined requests answered one after another, in order
  (reading pauses meanwhile, and a client that does not read its answers is not read either);
* ``Expect: 100-continue`` answered at once, or once the answers under way have ended (a
  request's time to arrive runs from then too), and ignored in HTTP/1.0 (RFC 9110, 10.1.1); a
  body over ``max_body`` bytes is not
  kept: the request is handed on at once, marked ``too_large`` (the gateway answers 413), the
  rest of the body is read and dropped, and the connection closes after it; a request head over
  64 KiB is answered 431, bytes that are not HTTP/1.1 400, each in OpenAI's error shape (after
  the answers under way are written); an ``Upgrade`` is not taken (the request is answered as
  HTTP/1.1);
* flow control: a client that reads slowly pauses what feeds it (:attr:`Reply.on_pause`);
* a client gone mid-answer is told to the answer (:attr:`Reply.on_lost`) at once, and a write
  after it raises :class:`~inhouse.errors.ClientGone` (an ``OSError``, as the gateway has
  always taken it);
* shutdown: stop accepting and reading, answer what is under way with ``Connection: close``
  (bounded by a grace period; a second signal cuts it short), then close.

No TLS (put it in front, as for any loopback service), no HTTP/2, no WebSocket.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import struct
import termios
import time
from collections import deque
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

import httptools

from inhouse.errors import (
    BadRequest,
    ClientGone,
    InhouseError,
    RequestHeadTooLarge,
    RequestTimedOut,
)
from inhouse.gateway.answers import JSON, openai_error

__all__ = ["BACKLOG", "EdgeServer", "Headers", "Reply", "Request", "header_lines"]

log = logging.getLogger("inhouse.gateway")

#: the most a request's line and headers may take together
MAX_HEAD = 64 * 1024
#: how much of a body over the limit is read (and dropped) after its 413, before the connection
#: is closed anyway
_DRAIN = 1024 * 1024
#: seconds a refused connection's bytes are still read (and dropped) before it is closed
_LINGER = 1.0
#: bytes of body per second a request must keep up on average, beyond ``keepalive`` seconds
#: (Apache's mod_reqtimeout's MinRate): each 500 bytes received buy it one more second
_MIN_RATE = 500
#: the connections a listening socket queues before the gateway takes them
BACKLOG = 4096
#: the ioctl that reads how many bytes a socket's send queue holds (Linux; ``None`` elsewhere)
_OUTQ: int | None = getattr(termios, "TIOCOUTQ", None)


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


_STATUS_LINES: dict[int, bytes] = {int(status): _status_line(status) for status in HTTPStatus}


#: an answer's headers: (name, value) pairs, or their lines already joined (each ending in CRLF)
Headers = list[tuple[bytes, bytes]] | bytes


def header_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    """``headers`` as the lines of an answer's head, each ending in CRLF: what a fixed set of
    headers can be turned into once, not per answer."""
    return b"".join([b"%b: %b\r\n" % pair for pair in headers])


class Request:
    """One request: method, path (the query string cut off), headers (names in lower case) and
    body. ``too_large``: its body was over the limit and was not kept."""

    __slots__ = ("body", "headers", "http_1_0", "keep_alive", "method", "path", "too_large")

    def __init__(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = b""
        self.too_large = False
        self.keep_alive = True
        self.http_1_0 = False


class Reply:
    """The answer to one request, written to the client's connection as it is given: whole
    (:meth:`whole`), or as a stream (:meth:`start_stream`, :meth:`part`..., :meth:`end`)."""

    __slots__ = ("_edge", "chunked", "done", "head_only", "keep_alive", "on_lost", "on_pause",
                 "started")  # fmt: skip

    def __init__(self, edge: Edge, request: Request) -> None:
        self._edge = edge
        self.head_only = request.method == "HEAD"
        self.keep_alive = request.keep_alive and not request.too_large
        #: a stream is framed in chunks (HTTP/1.1); for HTTP/1.0 it ends with the connection
        self.chunked = not request.http_1_0
        self.started = False
        self.done = False
        #: called when the client goes away while the answer is under way (by default the
        #: handler's task is cancelled)
        self.on_lost: Callable[[], object] | None = None
        #: called with ``True`` when the client stops reading (its buffer is full), ``False``
        #: when it reads again: a stream pauses its runtime's connection meanwhile
        self.on_pause: Callable[[bool], None] | None = None

    @property
    def lost(self) -> bool:
        """The client closed its connection."""
        return self._edge.lost

    @property
    def paused(self) -> bool:
        """The client is not reading: what it was sent fills the connection's buffer."""
        return self._edge.writing_paused

    def _head(self, status: int, headers: Headers, extra: bytes) -> bytes:
        if self._edge.server.closing:
            self.keep_alive = False
        line = _STATUS_LINES.get(status) or _status_line(status)
        lines = headers if isinstance(headers, bytes) else header_lines(headers)
        end = b"\r\n" if self.keep_alive else b"connection: close\r\n\r\n"
        return b"".join((line, lines, extra, end))

    def whole(self, status: int, body: bytes, headers: Headers) -> None:
        """Write a whole answer (its length given) in one write."""
        if self._edge.lost:
            raise ClientGone("the client went away before its answer")
        assert not self.started, "the answer was started already"
        self.started = self.done = True
        head = self._head(status, headers, b"content-length: %d\r\n" % len(body))
        self._edge.write(head if self.head_only else head + body)

    def start_stream(self, headers: Headers) -> None:
        """Write a 200's head for an answer whose body follows in parts (``headers``: pairs, or
        their lines already joined by :func:`header_lines`)."""
        if self._edge.lost:
            raise ClientGone("the client went away before its answer")
        assert not self.started, "the answer was started already"
        self.started = True
        if not self.chunked:
            self.keep_alive = False  # an HTTP/1.0 client reads the body to the connection's end
        extra = b"transfer-encoding: chunked\r\n" if self.chunked else b""
        self._edge.write(self._head(200, headers, extra))

    def part(self, data: bytes) -> None:
        """Write one more part of a started stream (nothing for ``b""``)."""
        edge = self._edge
        if edge.lost:
            raise ClientGone("the client went away during its answer")
        if data and not self.head_only:  # Edge.write, inline: this runs for every event
            if self.chunked:
                data = b"%x\r\n%b\r\n" % (len(data), data)
            edge.written += len(data)
            edge.transport.write(data)  # type: ignore[union-attr]  # not lost: connected

    def end(self, data: bytes = b"") -> None:
        """Write a stream's last part, and its end."""
        if self._edge.lost:
            raise ClientGone("the client went away during its answer")
        self.done = True
        if self.head_only:
            return
        if not self.chunked:
            if data:
                self._edge.write(data)
        elif data:
            self._edge.write(b"%x\r\n%b\r\n0\r\n\r\n" % (len(data), data))
        else:
            self._edge.write(b"0\r\n\r\n")


Handler = Callable[[Request, Reply], Coroutine[Any, Any, None]]


class Edge(asyncio.Protocol):
    """One client connection: its requests, one answered at a time."""

    def __init__(self, server: EdgeServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.lost = False
        #: when a byte last came or an answer last ended (the keep-alive sweep reads it)
        self.idle_since = time.monotonic()
        self.writing_paused = False
        #: when the request being read began (its head must be whole within the keep-alive)
        self.head_started = 0.0
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        #: the bytes read while a request's head is not whole (llhttp keeps a header's name and
        #: value until they end, whatever their length: they are counted here instead)
        self._head_bytes = 0
        self._head_size = 0
        self._awaiting_head = True
        self._body: list[bytes] = []
        self._size = 0
        #: the request being read has been handed on already (its body is over the limit):
        #: the rest of its body is dropped
        self._handed_on = False
        self._parsing = False
        #: requests read whole and not yet answered (a client that pipelines)
        self._queue: deque[Request] = deque()
        self._reply: Reply | None = None
        self._reading_paused = False
        #: nothing more is read: close once the answers under way and queued are written
        self._closing = False
        #: the request being read asked for ``100 Continue`` while an answer was under way:
        #: it is sent once that answer has ended (a client may wait for it before its body)
        self._continue = False
        #: bytes handed to the transport; how many of them the client had taken (they had left
        #: the send queue: the client's host acknowledged them, so they fit its receive window)
        #: when the sweep last looked; and since when that has not moved while some were left
        #: (0: all were taken)
        self.written = 0
        self._taken = 0
        self._stuck_since = 0.0

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.edges.add(self)

    def data_received(self, data: bytes) -> None:
        self.idle_since = time.monotonic()
        if self._closing and not self._handed_on:
            return
        if self._awaiting_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            # not taken: the request was answered as HTTP/1.1; go on reading after it
            self.parser = httptools.HttpRequestParser(self)
            offset = upgrade.args[0] if upgrade.args and isinstance(upgrade.args[0], int) else -1
            if 0 <= offset < len(data):
                self.data_received(data[offset:])
            return
        except httptools.HttpParserCallbackError as err:
            cause = err.__context__
            self._refuse(cause if isinstance(cause, InhouseError) else BadRequest(str(err)))
            return
        except httptools.HttpParserError as err:
            self._refuse(BadRequest(f"the request is not HTTP/1.1 ({err})"))
            return
        if self._awaiting_head and self._head_bytes > MAX_HEAD:
            self._refuse(RequestHeadTooLarge(f"the request's line and headers are over "
                                             f"{MAX_HEAD} bytes"))  # fmt: skip

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.server.edges.discard(self)
        self._queue.clear()
        reply = self._reply
        if reply is not None and not reply.done and reply.on_lost is not None:
            reply.on_lost()

    def pause_writing(self) -> None:
        self.writing_paused = True
        reply = self._reply
        if reply is not None and reply.on_pause is not None:
            reply.on_pause(True)

    def resume_writing(self) -> None:
        self.writing_paused = False
        reply = self._reply
        if reply is None:
            self._next()  # an answer ended while the client was not reading: go on now
        elif reply.on_pause is not None:
            reply.on_pause(False)

    # -- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._parsing = True
        self.head_started = time.monotonic()
        self._url = b""
        self._headers = []
        self._head_size = 0
        self._body = []
        self._size = 0
        self._handed_on = False
        self._continue = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._grow_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))
        self._head_size += len(name) + len(value)  # _grow_head, inline: once per header
        if self._head_size > MAX_HEAD:
            raise RequestHeadTooLarge(f"the request's line and headers are over {MAX_HEAD} bytes")

    def _grow_head(self, size: int) -> None:
        """Count a head that arrived whole in one read (the bytes count only what is still
        unfinished after a read)."""
        self._head_size += size
        if self._head_size > MAX_HEAD:
            raise RequestHeadTooLarge(f"the request's line and headers are over {MAX_HEAD} bytes")

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._head_bytes = 0
        length = -1
        expect = False
        for name, value in self._headers:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
            elif name == b"expect" and value.lower() == b"100-continue":
                # an HTTP/1.0 request's expectation is ignored (RFC 9110, 10.1.1)
                expect = self.parser.get_http_version() != "1.0"
        if length > self.server.max_body:
            self._hand_on_too_large()
        elif expect and self._reply is None and not self._queue and self.transport is not None:
            self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        elif expect:
            self._continue = True  # after the answers under way (_next)

    def on_body(self, body: bytes) -> None:
        if self._handed_on:  # dropped; past _DRAIN more once answered, the connection closes
            self._size += len(body)
            if self._closing and self._size > self.server.max_body + _DRAIN:
                self._handed_on = False
                self._close_if_done()
            return
        self._size += len(body)
        if self._size > self.server.max_body:
            self._hand_on_too_large()
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._parsing = False
        self._awaiting_head = True
        self._head_bytes = 0
        if self._handed_on:  # its answer is under way or given: the connection closes after it
            self._handed_on = False
            self._closing = True
            self._close_if_done()
            return
        request = self._request()
        request.body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body = []
        self._take(request)

    def _request(self) -> Request:
        url = self._url
        query = url.find(b"?")
        path = (url if query < 0 else url[:query]).decode("latin-1")
        request = Request(self.parser.get_method().decode("latin-1"), path, self._headers)
        request.keep_alive = bool(self.parser.should_keep_alive())
        request.http_1_0 = self.parser.get_http_version() == "1.0"
        return request

    def _hand_on_too_large(self) -> None:
        """The body is over the limit: hand the request on now (its answer is a 413, given
        without waiting for the body), drop the rest of the body as it comes."""
        self._handed_on = True
        self._body = []
        request = self._request()
        request.too_large = True
        request.keep_alive = False
        self._take(request)

    def _take(self, request: Request) -> None:
        if self._reply is None and not self.writing_paused:
            self._answer(request)
        else:  # pipelined: answered after the one under way; read no further meanwhile
            self._queue.append(request)
            self._pause_reading()

    # -- answering ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.written += len(data)
        self.transport.write(data)

    def unsent(self) -> int | None:
        """Bytes written to the client that it has not taken yet: in the process's buffer
        and in the kernel's send queue; ``None`` where the kernel's share cannot be read."""
        transport = self.transport
        if transport is None or self.lost or _OUTQ is None:
            return None
        sock = transport.get_extra_info("socket")
        if sock is None:
            return None
        try:
            queued: int = struct.unpack("i", fcntl.ioctl(sock.fileno(), _OUTQ, b"\0\0\0\0"))[0]
        except (OSError, ValueError):  # closed meanwhile (a closed socket's fileno is -1)
            return None
        buffered: int = transport.get_write_buffer_size()
        return buffered + queued

    def _answer(self, request: Request) -> None:
        reply = self._reply = Reply(self, request)
        task = asyncio.get_running_loop().create_task(self.server.handler(request, reply))
        self.server.answering.add(task)
        task.add_done_callback(self._answered)
        # a client gone while its answer is prepared: stop preparing it (a stream's relay puts
        # its own, which closes the runtime's connection)
        reply.on_lost = task.cancel

    def _answered(self, task: asyncio.Task[None]) -> None:
        self.server.answering.discard(task)
        reply, self._reply = self._reply, None
        assert reply is not None
        error = None if task.cancelled() else task.exception()
        if error is not None and not isinstance(error, OSError):
            log.error("the gateway's handler failed", exc_info=error)
        if self.lost or self.transport is None:
            return
        if not reply.done:  # the handler ended without its answer: nothing more can be said
            if not reply.started:
                self.write(_STATUS_LINES[500] + b"content-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()
            return
        self.idle_since = time.monotonic()
        if not reply.keep_alive:
            self._closing = True
            self._queue.clear()
            if self._handed_on and self._size <= self.server.max_body + _DRAIN:
                # the body still coming is read (and dropped) first: a close with unread bytes
                # resets the connection, and the client might never read its 413
                if self._reading_paused:
                    self._reading_paused = False
                    self.transport.resume_reading()
                return
            self.transport.close()
            return
        self._next()

    def _next(self) -> None:
        """Answer the next queued request, or read on; nothing while the client does not read
        what it was sent."""
        if self._reply is not None or self.writing_paused or self.lost or self.transport is None:
            return
        if self._queue:
            self._answer(self._queue.popleft())
        elif self._closing:
            self.transport.close()
        else:
            if self._parsing:  # begun while the gateway was busy: its time runs from now
                self.head_started = self.idle_since = time.monotonic()
                if self._continue and not self._size and not self.transport.is_closing():
                    self.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                self._continue = False
            if self._reading_paused:
                self._reading_paused = False
                self.transport.resume_reading()

    def _close_if_done(self) -> None:
        if self._reply is None and not self._queue and self.transport is not None:
            self.transport.close()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _refuse(self, err: InhouseError) -> None:
        """Bytes that cannot be a request: read no more; answer them (in OpenAI's shape), or,
        when answers are under way or queued, let those be written and close after them."""
        if self.transport is None or self.lost:
            return
        self._closing = True
        self._pause_reading()
        if self._reply is not None or self._queue:
            return  # those answers are written first; the connection closes after them
        status, body = openai_error(err)
        head = _STATUS_LINES.get(status) or _status_line(status)
        headers = b"".join(b"%b: %b\r\n" % pair for pair in JSON)
        self.write(head + headers + b"content-length: %d\r\nconnection: close\r\n\r\n%b"
                   % (len(body), body))  # fmt: skip
        # a close with unread bytes resets the connection, and the client may lose the answer:
        # end our side, drop what still comes for a moment, then close
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
            asyncio.get_running_loop().call_later(_LINGER, transport.close)
            if self._reading_paused:  # read on, so what still comes is dropped (data_received)
                self._reading_paused = False
                transport.resume_reading()
        else:
            transport.close()

    def idle(self) -> bool:
        """Nothing under way: no answer, no request half read."""
        return self._reply is None and not self._parsing and not self._queue

    def stop_reading(self) -> None:
        """Shutdown: no new request is read; the answers under way end the connection."""
        self._closing = True
        self._pause_reading()


class EdgeServer:
    """The gateway's listening socket(s) and the connections on them."""

    def __init__(
        self, handler: Handler, *, max_body: int, keepalive: float = 30.0,
        send_timeout: float = 60.0,
    ) -> None:  # fmt: skip
        self.handler = handler
        self.max_body = max_body
        self.keepalive = keepalive
        #: seconds a client may take none of what was written to it before it is cut off
        self.send_timeout = send_timeout
        self.edges: set[Edge] = set()
        self.answering: set[asyncio.Task[None]] = set()
        #: shutting down: every answer ends its connection
        self.closing = False
        self._servers: list[asyncio.AbstractServer] = []
        self._sweeper: asyncio.Task[None] | None = None

    async def listen(
        self, host: str | None = None, port: int | None = None, *, sock: Any = None
    ) -> int:
        """Accept connections on ``host:port`` (or on ``sock``); returns the port."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            server = await loop.create_server(lambda: Edge(self), sock=sock, backlog=BACKLOG)
        else:
            server = await loop.create_server(lambda: Edge(self), host, port or 0, backlog=BACKLOG)
        self._servers.append(server)
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep(), name="inhouse-edge-keepalive")
        port_number: int = server.sockets[0].getsockname()[1]
        return port_number

    async def _sweep(self) -> None:
        """Close connections with nothing under way and no byte for ``keepalive`` seconds;
        answer 408 (and close) a request being read that has had its time: ``keepalive``
        seconds from its first byte, plus one for every ``_MIN_RATE`` bytes of its body
        received, or no byte for ``keepalive`` seconds (a client that trickles or stalls);
        cut off a client that has taken nothing written to it for ``send_timeout`` seconds;
        one timer for all of them. A pass that fails is logged and the next one runs."""
        while True:
            await asyncio.sleep(min(5.0, self.keepalive / 2, self.send_timeout / 2))
            try:
                self.sweep()
            except Exception:  # one bad connection must not end the sweeps for all of them
                log.exception("the gateway's connection sweep failed; it runs again")

    def sweep(self) -> None:
        """One pass of :meth:`_sweep`."""
        keepalive = self.keepalive
        now = time.monotonic()
        cutoff = now - keepalive
        stalled = now - self.send_timeout
        for edge in list(self.edges):
            transport = edge.transport
            if transport is None:
                continue
            if edge.written != edge._taken:  # it was not all taken at the last look
                unsent = edge.unsent()
                if unsent is not None:
                    taken = edge.written - unsent
                    if not unsent:  # all taken: nothing to watch until more is written
                        edge._taken, edge._stuck_since = taken, 0.0
                    elif taken != edge._taken or not edge._stuck_since:
                        edge._taken, edge._stuck_since = taken, now  # watched from now
                    elif edge._stuck_since < stalled:  # it has taken nothing: it reads no more
                        transport.abort()
                        continue
                    if unsent and edge._parsing:
                        # a request sent behind answers its client has not read yet is not
                        # late: its time runs from when it has read them
                        edge.head_started = edge.idle_since = now
            if edge._reply is not None or edge._queue:
                continue
            idle = edge.idle_since < cutoff
            # a request the gateway is not reading, or cannot answer yet (its client has not
            # read the answers before it), is not late; its clock starts again when the
            # gateway can go on (_next)
            late = (edge._parsing and not edge._reading_paused and not edge.writing_paused and (
                idle or edge.head_started + edge._size / _MIN_RATE < cutoff
            ))  # fmt: skip
            if late and not edge._closing:
                edge._refuse(RequestTimedOut(
                    f"the request was not sent whole in time: {edge._size} bytes of its body "
                    f"came in {time.monotonic() - edge.head_started:.0f} s; the gateway "
                    f"allows {keepalive:g} s from its first byte, and a second more for "
                    f"every {_MIN_RATE} bytes of body"
                ))  # fmt: skip
            elif late or idle:  # a body still coming after its answer, or nothing under way
                transport.close()

    async def close(self, grace: float = 30.0) -> None:
        """Stop accepting and reading; let the answers under way end (each closing its
        connection) for up to ``grace`` seconds, or until :meth:`abort`; then close everything."""
        self.closing = True
        for server in self._servers:
            server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for edge in list(self.edges):
            if edge.idle():
                if edge.transport is not None:
                    edge.transport.close()
            else:
                edge.stop_reading()
        deadline = time.monotonic() + grace
        while self.answering and (left := deadline - time.monotonic()) > 0:
            await asyncio.wait(set(self.answering), timeout=left)
        if self.answering:
            log.warning("%d answer(s) still under way after %g s: cut short",
                        len(self.answering), grace)  # fmt: skip
            self.abort()
            await asyncio.wait(set(self.answering), timeout=5.0)
        for edge in list(self.edges):
            if edge.transport is not None:
                edge.transport.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers = []

    def abort(self) -> None:
        """Cut every answer under way short (a second signal at shutdown)."""
        for task in list(self.answering):
            task.cancel()
