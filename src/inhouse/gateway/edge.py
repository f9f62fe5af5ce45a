"""The gateway's HTTP/1.1 server: client connections as asyncio protocols, requests parsed by
httptools (llhttp, in C), answers written straight to the socket.

Why not uvicorn and ASGI, which it replaced (issue 16): a streamed answer's events went through
an ASGI message and a task wake-up each, and every request through uvicorn's generic request
cycle. Here a stream's events are written to the client in the same callback that read them
from the runtime (:meth:`inhouse.gateway.wire.Answer.pipe`), and a request is one task from its
last byte to its answer's end. The server does what the gateway needs and what HTTP/1.1 asks:

* keep-alive, closed after ``keepalive`` idle seconds; ``Connection: close`` and HTTP/1.0
  honoured; pipelined requests answered one after another, in order (reading pauses meanwhile);
* ``Expect: 100-continue`` answered; a body over ``max_body`` bytes neither kept nor read on
  (the request is answered 413 by the gateway and the connection closed); a request head over
  64 KiB answered 431; bytes that are not HTTP/1.1 answered 400; each in OpenAI's error shape;
* flow control: a client that reads slowly pauses what feeds it (:attr:`Reply.on_pause`);
* a client gone mid-answer is told to the answer (:attr:`Reply.on_lost`) at once, and a write
  after it raises :class:`ClientGone` (an ``OSError``, as the gateway has always taken it);
* shutdown: stop accepting, close idle connections, let answers under way finish (bounded).

No TLS (put it in front, as for any loopback service), no HTTP/2, no WebSocket.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from http import HTTPStatus
from typing import Any

import httptools

from inhouse.errors import BadRequest, ClientGone, InhouseError, RequestHeadTooLarge
from inhouse.gateway.answers import JSON, openai_error

__all__ = ["EdgeServer", "Reply", "Request"]

log = logging.getLogger("inhouse.gateway")

#: the most a request's line and headers may take together
MAX_HEAD = 64 * 1024


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


_STATUS_LINES: dict[int, bytes] = {int(status): _status_line(status) for status in HTTPStatus}


class Request:
    """One request, read whole: method, path (the query string cut off), headers (names in
    lower case) and body. ``too_large``: its body was over the limit and was not kept."""

    __slots__ = ("body", "headers", "keep_alive", "method", "path", "too_large")

    def __init__(self, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = b""
        self.too_large = False
        self.keep_alive = True


class Reply:
    """The answer to one request, written to the client's connection as it is given: whole
    (:meth:`whole`), or as a stream (:meth:`start_stream`, :meth:`part`..., :meth:`end`)."""

    __slots__ = ("_edge", "done", "head_only", "keep_alive", "on_lost", "on_pause", "started")

    def __init__(self, edge: Edge, request: Request) -> None:
        self._edge = edge
        self.head_only = request.method == "HEAD"
        self.keep_alive = request.keep_alive and not request.too_large
        self.started = False
        self.done = False
        #: called when the client goes away while the answer is under way
        self.on_lost: Callable[[], None] | None = None
        #: called with ``True`` when the client stops reading (its buffer is full), ``False``
        #: when it reads again: a stream pauses its runtime's connection meanwhile
        self.on_pause: Callable[[bool], None] | None = None

    @property
    def lost(self) -> bool:
        """The client closed its connection."""
        return self._edge.lost

    def _head(self, status: int, headers: list[tuple[bytes, bytes]], extra: bytes) -> bytes:
        line = _STATUS_LINES.get(status) or _status_line(status)
        parts = [line]
        for name, value in headers:
            parts.append(b"%b: %b\r\n" % (name, value))
        parts.append(extra)
        if not self.keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    def whole(self, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        """Write a whole answer (its length given) in one write."""
        if self._edge.lost:
            raise ClientGone("the client went away before its answer")
        assert not self.started, "the answer was started already"
        self.started = self.done = True
        head = self._head(status, headers, b"content-length: %d\r\n" % len(body))
        self._edge.write(head if self.head_only else head + body)

    def start_stream(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Write a 200's head for an answer whose body follows in parts (chunked)."""
        if self._edge.lost:
            raise ClientGone("the client went away before its answer")
        assert not self.started, "the answer was started already"
        self.started = True
        self._edge.write(self._head(200, headers, b"transfer-encoding: chunked\r\n"))

    def part(self, data: bytes) -> None:
        """Write one more part of a started stream (nothing for ``b""``)."""
        if self._edge.lost:
            raise ClientGone("the client went away during its answer")
        if data:
            self._edge.write(b"%x\r\n%b\r\n" % (len(data), data))

    def end(self, data: bytes = b"") -> None:
        """Write a stream's last part, and its end."""
        if self._edge.lost:
            raise ClientGone("the client went away during its answer")
        self.done = True
        if data:
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
        self.idle_since = time.monotonic()
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_size = 0
        self._body: list[bytes] = []
        self._size = 0
        self._too_large = False
        self._parsing = False
        #: requests read whole and not yet answered (a client that pipelines)
        self._queue: deque[Request] = deque()
        self._reply: Reply | None = None
        self._reading_paused = False
        self._writing_paused = False

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.server.edges.add(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(BadRequest("the gateway does not upgrade connections"))
        except RequestHeadTooLarge as err:
            self._refuse(err)
        except httptools.HttpParserCallbackError as err:
            cause = err.__context__
            self._refuse(cause if isinstance(cause, InhouseError) else BadRequest(str(err)))
        except httptools.HttpParserError as err:
            self._refuse(BadRequest(f"the request is not HTTP/1.1 ({err})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.server.edges.discard(self)
        self._queue.clear()
        reply = self._reply
        if reply is not None and not reply.done and reply.on_lost is not None:
            reply.on_lost()

    def pause_writing(self) -> None:
        self._writing_paused = True
        reply = self._reply
        if reply is not None and reply.on_pause is not None:
            reply.on_pause(True)

    def resume_writing(self) -> None:
        self._writing_paused = False
        reply = self._reply
        if reply is not None and reply.on_pause is not None:
            reply.on_pause(False)

    # -- httptools callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._parsing = True
        self._url = b""
        self._headers = []
        self._head_size = 0
        self._body = []
        self._size = 0
        self._too_large = False

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._grow_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.lower(), value))
        self._grow_head(len(name) + len(value))

    def _grow_head(self, size: int) -> None:
        self._head_size += size
        if self._head_size > MAX_HEAD:
            raise RequestHeadTooLarge(f"the request's line and headers are over {MAX_HEAD} bytes")

    def on_headers_complete(self) -> None:
        length = -1
        expect = False
        for name, value in self._headers:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
            elif name == b"expect" and value.lower() == b"100-continue":
                expect = True
        if length > self.server.max_body:
            self._too_large = True
        elif expect and self.transport is not None:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def on_body(self, body: bytes) -> None:
        if self._too_large:
            return
        self._size += len(body)
        if self._size > self.server.max_body:
            self._too_large = True
            self._body = []
            return
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._parsing = False
        url = self._url
        query = url.find(b"?")
        path = (url if query < 0 else url[:query]).decode("latin-1")
        request = Request(self.parser.get_method().decode("latin-1"), path, self._headers)
        request.body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        request.too_large = self._too_large
        request.keep_alive = bool(self.parser.should_keep_alive())
        self._body = []
        if self._reply is None:
            self._answer(request)
        else:  # pipelined: answered after the one under way; read no further meanwhile
            self._queue.append(request)
            self._pause_reading()

    # -- answering ---------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    def _answer(self, request: Request) -> None:
        reply = self._reply = Reply(self, request)
        task = asyncio.get_running_loop().create_task(self.server.handler(request, reply))
        self.server.answering.add(task)
        task.add_done_callback(self._answered)

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
        if not reply.keep_alive:
            self.transport.close()
            return
        self.idle_since = time.monotonic()
        if self._queue:
            self._answer(self._queue.popleft())
        elif self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def _pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def _refuse(self, err: InhouseError) -> None:
        """Answer bytes that cannot be a request (and close): only when nothing is being
        answered on this connection, else just close."""
        if self.transport is None or self.lost:
            return
        if self._reply is None:
            status, body = openai_error(err)
            head = _STATUS_LINES.get(status) or _status_line(status)
            headers = b"".join(b"%b: %b\r\n" % pair for pair in JSON)
            self.write(head + headers + b"content-length: %d\r\nconnection: close\r\n\r\n%b"
                       % (len(body), body))  # fmt: skip
        self.transport.close()

    def idle(self) -> bool:
        """Nothing under way: no answer, no request half read."""
        return self._reply is None and not self._parsing and not self._queue


class EdgeServer:
    """The gateway's listening socket(s) and the connections on them."""

    def __init__(self, handler: Handler, *, max_body: int, keepalive: float = 30.0) -> None:
        self.handler = handler
        self.max_body = max_body
        self.keepalive = keepalive
        self.edges: set[Edge] = set()
        self.answering: set[asyncio.Task[None]] = set()
        self._servers: list[asyncio.AbstractServer] = []
        self._sweeper: asyncio.Task[None] | None = None

    async def listen(
        self, host: str | None = None, port: int | None = None, *, sock: Any = None
    ) -> int:
        """Accept connections on ``host:port`` (or on ``sock``); returns the port."""
        loop = asyncio.get_running_loop()
        if sock is not None:
            server = await loop.create_server(lambda: Edge(self), sock=sock, backlog=4096)
        else:
            server = await loop.create_server(lambda: Edge(self), host, port or 0, backlog=4096)
        self._servers.append(server)
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep(), name="inhouse-edge-keepalive")
        port_number: int = server.sockets[0].getsockname()[1]
        return port_number

    async def _sweep(self) -> None:
        """Close connections idle for ``keepalive`` seconds (one timer for all of them)."""
        while True:
            await asyncio.sleep(min(5.0, self.keepalive / 2))
            cutoff = time.monotonic() - self.keepalive
            for edge in [e for e in self.edges if e.idle() and e.idle_since < cutoff]:
                if edge.transport is not None:
                    edge.transport.close()

    async def close(self, grace: float = 30.0) -> None:
        """Stop accepting, close idle connections, wait up to ``grace`` seconds for the answers
        under way, then close everything."""
        for server in self._servers:
            server.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        for edge in [e for e in self.edges if e.idle()]:
            if edge.transport is not None:
                edge.transport.close()
        if self.answering:
            _, late = await asyncio.wait(set(self.answering), timeout=grace)
            if late:
                log.warning("%d answer(s) still under way after %g s: closing", len(late), grace)
                for task in late:
                    task.cancel()
                await asyncio.wait(late, timeout=5.0)
        for edge in list(self.edges):
            if edge.transport is not None:
                edge.transport.close()
        for server in self._servers:
            await server.wait_closed()
        self._servers = []
