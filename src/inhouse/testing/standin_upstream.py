"""A stand-in OpenAI-compatible upstream with injected, exact latency. It is not a model.

It answers ``/v1/chat/completions`` and ``/v1/completions`` (streamed and not), ``/v1/embeddings``,
``/v1/models`` and ``/healthz`` with made-up text, and takes exactly the time it is told to: the
first content token ``ttft_ms`` after the request arrived, then one token every ``tpot_ms``.
The load generator's accuracy test and the gateway benchmark measure against it.

Why it is built this way:

* **Absolute deadlines.** Token *i* is due at ``arrival + ttft + i * tpot``, each scheduled with
  ``loop.call_at`` from the request's arrival time, so a late wake-up never pushes the later
  tokens back (delays do not accumulate).
* **Arrival is the kernel's receive time.** Each connection reads with ``recvmsg`` and
  ``SO_TIMESTAMPNS`` (Linux), so a request that arrives while the stand-in is busy with others
  is still timed from when it reached the machine; elsewhere it is stamped on reading.
* **Lean.** Raw non-blocking sockets on the event loop's ``add_reader``, a minimal HTTP/1.1
  parser (keep-alive, ``Content-Length`` bodies, chunked responses) and timer callbacks instead
  of a coroutine per token: it holds its timing under 256 concurrent streams on a small machine
  (measured, see ``docs/bench.md``). It needs a selector event loop (asyncio's default on
  Linux and macOS, or uvloop).
* The first streamed event is a role-only chunk sent at once, as real servers do; it carries no
  content, so a client that measured "first byte" instead of "first content token" is caught.

Usage reported (``usage`` in replies; in streams only with ``stream_options.include_usage``):
``completion_tokens`` is the number of tokens sent; ``prompt_tokens`` counts whitespace-separated
words of the input — the stand-in has no tokenizer, and says so here.

Run it on its own (another process, so it does not share a GIL with a load generator)::

    python -m inhouse.testing.standin_upstream --port 8099 --ttft-ms 200 --tpot-ms 20 --tokens 16

or from Python: :class:`StandinUpstream` (in this event loop), :func:`standin_in_thread`
(in a background thread) or :func:`spawn_standin` (in a subprocess).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import math
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "StandinProcess",
    "StandinTiming",
    "StandinUpstream",
    "spawn_standin",
    "standin_in_thread",
]

_READY = "standin upstream listening on "
_MAX_HEADER = 64 * 1024
_READ_SIZE = 256 * 1024
_ACCEPTS_PER_WAKEUP = 128
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
_EMBEDDING_DIMENSIONS = 8


@dataclass(frozen=True)
class StandinTiming:
    """The latency the stand-in injects, and how long its answers are."""

    ttft_ms: float = 200.0
    tpot_ms: float = 20.0
    tokens: int = 16

    def __post_init__(self) -> None:
        if self.ttft_ms < 0 or self.tpot_ms < 0:
            raise ValueError("ttft_ms and tpot_ms must be >= 0")
        if self.tokens < 1:
            raise ValueError("tokens must be >= 1")


@dataclass
class _Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float  # loop.time() when its first bytes arrived


@dataclass
class _Stats:
    requests: int = 0
    bodies: list[tuple[str, Any]] = field(default_factory=list)


class _Connection:
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
        upstream._connections.add(self)
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
        self._upstream._connections.discard(self)

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
        request = _Request(method, path.split("?", 1)[0], headers, body, self._arrived)
        if self._buffer:
            self._arrived = self._loop.time()  # a pipelined request already began arriving
        self._close_after = headers.get("connection", "").lower() == "close"
        self._busy = True
        self._upstream._dispatch(self, request)

    def _fail(self, status: int, message: str) -> None:
        self._buffer.clear()
        self._close_after = True
        self.send_json(status, _error(message, "invalid_request_error"))

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
        self.write(head.encode() + _chunk(first))

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


class StandinUpstream:
    """The stand-in server, run in the current event loop.

    ``async with StandinUpstream(StandinTiming(200, 20, 16)) as upstream:`` then talk to
    ``upstream.url``. With ``record=True`` it keeps every request body it received (path, JSON),
    so a test can check what reached the upstream."""

    def __init__(
        self,
        timing: StandinTiming | None = None,
        *,
        model: str = "standin-model",
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = False,
    ) -> None:
        self.timing = timing or StandinTiming()
        self.model = model
        self.host = host
        self.port = port
        self.record = record
        self.stats = _Stats()
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connections: set[_Connection] = set()
        self._events: dict[tuple[str, bool], _Events] = {}
        self._created = int(time.time())

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "start() first"
        return self._loop

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests_served(self) -> int:
        return self.stats.requests

    @property
    def received(self) -> list[tuple[str, Any]]:
        """(path, decoded JSON body) of every POST received, when ``record=True``."""
        return self.stats.bodies

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        listener = socket.create_server((self.host, self.port), backlog=2048)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._loop.add_reader(listener.fileno(), self._accept)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(_ACCEPTS_PER_WAKEUP):
            try:
                sock, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. out of file descriptors: the client sees a refused connection
            _Connection(self, sock)

    async def aclose(self) -> None:
        if self._listener is not None:
            self.loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        for conn in list(self._connections):
            conn.close()

    async def __aenter__(self) -> StandinUpstream:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- routes ---------------------------------------------------------------------------------

    def _dispatch(self, conn: _Connection, request: _Request) -> None:
        self.stats.requests += 1
        route = (request.method, request.path.rstrip("/") or "/")
        if route == ("GET", "/v1/models"):
            conn.send_json(200, {"object": "list", "data": [
                {"id": self.model, "object": "model", "created": 0, "owned_by": "inhouse-standin"}
            ]})  # fmt: skip
            return
        if route == ("GET", "/healthz"):
            conn.send_json(200, {"status": "ok", "standin": True})
            return
        handlers = {
            "/v1/chat/completions": self._completion,
            "/v1/completions": self._completion,
            "/v1/embeddings": self._embeddings,
        }
        handler = handlers.get(route[1])
        if handler is None:
            conn.send_json(404, _error(f"no route {request.path}", "not_found_error"))
            return
        if request.method != "POST":
            conn.send_json(405, _error(f"use POST for {request.path}", "invalid_request_error"))
            return
        try:
            body = json.loads(request.body)
        except ValueError:
            conn.send_json(400, _error("the body is not JSON", "invalid_request_error"))
            return
        if not isinstance(body, dict):
            conn.send_json(400, _error("the body must be a JSON object", "invalid_request_error"))
            return
        if self.record:
            self.stats.bodies.append((request.path, body))
        handler(conn, request, body)

    def _completion(self, conn: _Connection, request: _Request, body: dict[str, Any]) -> None:
        chat = request.path.rstrip("/").endswith("chat/completions")
        if chat and not isinstance(body.get("messages"), list):
            conn.send_json(400, _error("'messages' must be a list", "invalid_request_error"))
            return
        if not chat and not isinstance(body.get("prompt"), str | list):
            conn.send_json(400, _error("'prompt' is required", "invalid_request_error"))
            return
        tokens = self.timing.tokens
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if isinstance(limit, int) and limit >= 1:
            tokens = min(tokens, limit)
        finish = "length" if tokens < self.timing.tokens else "stop"
        prompt_tokens = _count_words(body.get("messages") if chat else body.get("prompt"))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens,
                 "total_tokens": prompt_tokens + tokens}  # fmt: skip
        model = str(body.get("model") or self.model)
        ttft = self.timing.ttft_ms / 1000
        tpot = self.timing.tpot_ms / 1000
        if body.get("stream"):
            options = body.get("stream_options")
            with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            events = self._events.get((model, chat))
            if events is None:
                events = self._events[(model, chat)] = _Events(model, chat, self._created)
            frames = events.frames(tokens, finish, usage if with_usage else None)
            _Stream(conn, request.arrived, ttft, tpot, frames).begin(events.first)
            return
        text = "".join(_token(i) for i in range(tokens))
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish, "logprobs": None}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        reply = {
            "id": "standin-0", "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()), "model": model, "choices": [choice], "usage": usage,
        }  # fmt: skip
        due = request.arrived + ttft + (tokens - 1) * tpot
        conn.call_at(due, lambda: conn.send_json(200, reply))

    def _embeddings(self, conn: _Connection, request: _Request, body: dict[str, Any]) -> None:
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) else raw
        if not isinstance(inputs, list) or not all(isinstance(x, str) for x in inputs):
            conn.send_json(400, _error("'input' must be a string or a list of strings",
                                       "invalid_request_error"))  # fmt: skip
            return
        data = [
            {"object": "embedding", "index": i, "embedding": _embedding(text)}
            for i, text in enumerate(inputs)
        ]
        words = sum(_count_words(text) for text in inputs)
        reply = {"object": "list", "data": data, "model": str(body.get("model") or self.model),
                 "usage": {"prompt_tokens": words, "total_tokens": words}}  # fmt: skip
        conn.call_at(
            request.arrived + self.timing.ttft_ms / 1000, lambda: conn.send_json(200, reply)
        )


class _Stream:
    """One streamed answer: a role chunk now, then token *i* at ``arrived + ttft + i * tpot``.

    Every event is serialised and framed when the answer starts (token events once per model,
    shared by all answers), so a due token costs one ``send`` and no formatting."""

    def __init__(
        self,
        conn: _Connection,
        arrived: float,
        ttft: float,
        tpot: float,
        frames: list[bytes],
    ) -> None:
        self.conn = conn
        self.arrived = arrived
        self.ttft = ttft
        self.tpot = tpot
        self.frames = frames
        self.sent = 0

    def begin(self, first: bytes) -> None:
        self.conn.start_events(first)
        self.conn.call_at(self.arrived + self.ttft, self.tick)

    def tick(self) -> None:
        frame = self.frames[self.sent]
        self.sent += 1
        if self.sent < len(self.frames):
            self.conn.write(frame)
            self.conn.call_at(self.arrived + self.ttft + self.sent * self.tpot, self.tick)
            return
        self.conn.write(frame)
        self.conn.finish()


class _Events:
    """The server-sent events of one model's answers, serialised once and kept."""

    def __init__(self, model: str, chat: bool, created: int) -> None:
        self.chat = chat
        kind = "chat.completion.chunk" if chat else "text_completion"
        self.prefix = (
            f'data: {{"id":"standin-0","object":"{kind}","created":{created},'
            f'"model":{json.dumps(model)},"choices":'
        ).encode()
        self.tokens: list[bytes] = []  # framed token events, grown on demand
        self.first = (
            self.event(
                '[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]'
            )
            if chat
            else b": standin\n\n"
        )

    def event(self, choices: str, extra: str = "") -> bytes:
        return self.prefix + choices.encode() + extra.encode() + b"}\n\n"

    def choice(self, text: str | None, finish: str | None = None) -> str:
        reason = "null" if finish is None else f'"{finish}"'
        if self.chat:
            delta = "{}" if text is None else json.dumps({"content": text})
            return f'[{{"index":0,"delta":{delta},"finish_reason":{reason}}}]'
        return f'[{{"index":0,"text":{json.dumps(text or "")},"finish_reason":{reason}}}]'

    def frames(self, tokens: int, finish: str, usage: dict[str, int] | None) -> list[bytes]:
        """Token 0 … n-1 framed as HTTP chunks; the last also ends the answer."""
        while len(self.tokens) < tokens:
            self.tokens.append(_chunk(self.event(self.choice(_token(len(self.tokens))))))
        out = self.tokens[: tokens - 1]
        tail = self.event(self.choice(_token(tokens - 1)))
        tail += self.event(self.choice(None if self.chat else "", finish))
        if usage is not None:
            tail += self.event("[]", f',"usage":{json.dumps(usage)}')
        out.append(_chunk(tail + b"data: [DONE]\n\n") + b"0\r\n\r\n")
        return out


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def _token(index: int) -> str:
    return f"tok{index} "


def _count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_count_words(item) for item in value)
    if isinstance(value, dict):
        return _count_words(value.get("content"))
    return 0


def _embedding(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    vector = [(b - 127.5) / 127.5 for b in digest[:_EMBEDDING_DIMENSIONS]]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": f"standin: {message}", "type": kind, "param": None, "code": None}}


# -- running it ---------------------------------------------------------------------------------


@contextlib.contextmanager
def standin_in_thread(
    timing: StandinTiming | None = None, **options: Any
) -> Iterator[StandinUpstream]:
    """Run a :class:`StandinUpstream` in a background thread with its own event loop; stop it
    on exit. Shares the GIL with the caller: for exact timings under load use
    :func:`spawn_standin`."""
    upstream = StandinUpstream(timing, **options)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(upstream.start())
        except BaseException as err:  # reported to the caller below
            failure.append(err)
            started.set()
            return
        started.set()
        loop.run_forever()
        loop.run_until_complete(upstream.aclose())
        loop.close()

    thread = threading.Thread(target=run, name="standin-upstream", daemon=True)
    thread.start()
    started.wait(10)
    if failure:
        thread.join(5)
        raise failure[0]
    try:
        yield upstream
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@dataclass
class StandinProcess:
    """A stand-in running in its own process (see :func:`spawn_standin`)."""

    url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@contextlib.contextmanager
def spawn_standin(
    timing: StandinTiming | None = None,
    *,
    model: str = "standin-model",
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 30.0,
) -> Iterator[StandinProcess]:
    """Run the stand-in in a subprocess (its own interpreter and GIL) and stop it on exit."""
    timing = timing or StandinTiming()
    command = [
        sys.executable, "-m", "inhouse.testing.standin_upstream", "--host", host,
        "--port", str(port), "--ttft-ms", repr(timing.ttft_ms), "--tpot-ms", repr(timing.tpot_ms),
        "--tokens", str(timing.tokens), "--model", model,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    handle = StandinProcess(url="", process=process)
    try:
        handle.url = _wait_ready(process, startup_timeout)
        yield handle
    finally:
        handle.stop()


def _wait_ready(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(_READY):
                found.append(line[len(_READY) :].strip())
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    if not found:
        process.kill()
        process.wait()
        raise RuntimeError(f"the stand-in upstream did not start: {''.join(lines)[-2000:]}")
    return found[0]


async def _serve(upstream: StandinUpstream) -> None:
    await upstream.start()
    print(f"{_READY}{upstream.url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await upstream.aclose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m inhouse.testing.standin_upstream",
        description="A stand-in OpenAI-compatible upstream with injected TTFT and per-token delay "
        "(not a model).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (printed)")
    parser.add_argument("--ttft-ms", type=float, default=200.0)
    parser.add_argument("--tpot-ms", type=float, default=20.0)
    parser.add_argument("--tokens", type=int, default=16, help="tokens per answer")
    parser.add_argument("--model", default="standin-model")
    args = parser.parse_args(argv)
    timing = StandinTiming(ttft_ms=args.ttft_ms, tpot_ms=args.tpot_ms, tokens=args.tokens)
    upstream = StandinUpstream(timing, model=args.model, host=args.host, port=args.port)
    asyncio.run(_serve(upstream))


if __name__ == "__main__":
    main()
