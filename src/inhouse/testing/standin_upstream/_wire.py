"""The stand-in's HTTP/1.1 on raw non-blocking sockets: read requests (stamped with the
kernel's receive time), parse them, and write JSON answers and chunked event streams.

Not an asyncio transport, because reading with ``recvmsg`` is what gives the kernel's receive
timestamp of a request. Keep-alive, pipelining, ``Content-Length`` bodies; no chunked uploads.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inhouse.testing.standin_upstream.server import StandinUpstream

__all__ = ["Connection", "Request", "chunk", "error_body"]

_MAX_HEADER = 64 * 1024
_READ_SIZE = 256 * 1024
# Kernel receive timestamps (Linux): SO_TIMESTAMPNS hands a struct timespec with each recvmsg.
_SO_TIMESTAMPNS: int | None = getattr(
    socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None
)
_TIMESPEC_FORMAT = struct.Struct("@ll")
_TIMESPEC = _TIMESPEC_FORMAT.size
_ANCILLARY_SIZE = socket.CMSG_SPACE(_TIMESPEC) if hasattr(socket, "CMSG_SPACE") else 0
_MAX_BODY = 32 * 1024 * 1024
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            411: "Length Required", 413: "Content Too Large"}  # fmt: skip


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float  # loop.time() when its first bytes arrived


class Connection:
    """One client connection on a raw non-blocking socket: parse requests in order, answer each
    on its own schedule. Not an asyncio transport, because reading with ``recvmsg`` is what gives
    the kernel's receive timestamp of a request (see :meth:`_arrival`)."""

    def __init__(self, upstream: StandinUpstream, sock: socket.socket) -> None:
        self._upstream = upstream
        self._loop = upstream.loop
        self._sock = sock
        self._fd = sock.fileno()
        self._buffer = bytearray()
        self._out = bytearray()
        self._arrived = 0.0
        self._busy = False  # answering a request; later (pipelined) requests wait in the buffer
        self._timer: asyncio.TimerHandle | None = None
        self._open = True
        self._close_after = False
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if _SO_TIMESTAMPNS is not None:
            sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        upstream.connections.add(self)
        self._loop.add_reader(self._fd, self._on_readable)

    def _on_readable(self) -> None:
        try:
            data, ancillary, _flags, _address = self._sock.recvmsg(_READ_SIZE, _ANCILLARY_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        if not data:
            self.close()
            return
        if not self._buffer:
            self._arrived = self._arrival(ancillary)
        self._buffer += data
        if not self._busy:
            self._next_request()

    def _arrival(self, ancillary: list[tuple[int, int, bytes]]) -> float:
        """When the request's first bytes reached this machine, on the loop's clock: the
        kernel's receive timestamp where the system gives one (Linux), so a busy moment of this
        process does not make the request look late; otherwise now."""
        now = self._loop.time()
        for level, kind, raw in ancillary:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(raw) >= _TIMESPEC:
                seconds, nanoseconds = _TIMESPEC_FORMAT.unpack(raw[:_TIMESPEC])
                # the kernel stamps with the wall clock: move it onto the loop's monotonic clock
                kernel: float = seconds + nanoseconds / 1e9 - (time.time() - now)
                return min(now, kernel)
        return now

    def close(self) -> None:
        if not self._open:
            return
        self._open = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._loop.remove_reader(self._fd)
        self._loop.remove_writer(self._fd)
        self._sock.close()
        self._upstream.connections.discard(self)

    # -- parsing --------------------------------------------------------------------------------

    def _next_request(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > _MAX_HEADER:
                self._fail(413, "request headers too large")
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        try:
            method, path, _version = head[0].split(" ", 2)
        except ValueError:
            self._fail(400, "malformed request line")
            return
        headers: dict[str, str] = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._fail(411, "send the body with a Content-Length")
            return
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._fail(400, "bad Content-Length")
            return
        if length > _MAX_BODY:
            self._fail(413, "request body too large")
            return
        if len(self._buffer) < end + 4 + length:
            return  # wait for the rest of the body
        body = bytes(self._buffer[end + 4 : end + 4 + length])
        del self._buffer[: end + 4 + length]
        request = Request(method, path.split("?", 1)[0], headers, body, self._arrived)
        if self._buffer:
            self._arrived = self._loop.time()  # a pipelined request already began arriving
        self._close_after = headers.get("connection", "").lower() == "close"
        self._busy = True
        self._upstream.dispatch(self, request)

    def _fail(self, status: int, message: str) -> None:
        self._buffer.clear()
        self._close_after = True
        self.send_json(status, error_body(message, "invalid_request_error"))

    # -- answering ------------------------------------------------------------------------------

    def send_json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"{'connection: close' if self._close_after else 'connection: keep-alive'}\r\n\r\n"
        )
        self.write(head.encode() + body)
        self.finish()

    def start_events(self, first: bytes) -> None:
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            "transfer-encoding: chunked\r\n"
            f"{'connection: close' if self._close_after else 'connection: keep-alive'}\r\n\r\n"
        )
        self.write(head.encode() + chunk(first))

    def write(self, data: bytes) -> None:
        if not self._open:
            return
        if self._out:
            self._out += data
            return
        try:
            sent = self._sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self._out += data[sent:]
            self._loop.add_writer(self._fd, self._on_writable)

    def _on_writable(self) -> None:
        try:
            sent = self._sock.send(self._out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self.close()
            return
        del self._out[:sent]
        if not self._out:
            self._loop.remove_writer(self._fd)
            if self._close_after and not self._busy:
                self.close()

    def call_at(self, when: float, callback: Callable[[], None]) -> None:
        if self._open:
            self._timer = self._loop.call_at(when, callback)

    def finish(self) -> None:
        self._timer = None
        self._busy = False
        if not self._open:
            return
        if self._close_after:
            if not self._out:
                self.close()
        elif self._buffer:
            self._next_request()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": f"standin: {message}", "type": kind, "param": None, "code": None}}
