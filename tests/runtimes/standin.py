"""A stand-in upstream on loopback: a tiny HTTP server that answers with recorded API shapes or
exact faults. It is NOT a model runtime; tests that need a real one use the llama.cpp engine.

Run as a script (``python standin.py slow-sse PORT``) it serves a slow event stream from its own
process, so a test can kill that process mid-stream.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]
FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class StandIn:
    """Routes (method, path) → handler, on 127.0.0.1 and a free port, in a thread."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[tuple[str, str, bytes]] = []
        self.release = threading.Event()  # ends deliberate sleeps at shutdown
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _dispatch(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                outer.seen.append((self.command, self.path, body))
                route = outer.routes.get((self.command, self.path))
                if route is None:
                    send(self, 404, {"detail": "Not Found"})
                else:
                    route(self)

            do_GET = do_POST = do_HEAD = _dispatch

            def log_message(self, *args: Any) -> None:
                pass  # keep test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def json(self, method: str, path: str, data: Any, status: int = 200) -> None:
        self.routes[(method, path)] = lambda h: send(h, status, data)

    def raw(
        self, method: str, path: str, body: bytes, content_type: str, status: int = 200
    ) -> None:
        self.routes[(method, path)] = lambda h: send_bytes(h, status, body, content_type)

    def slow(self, method: str, path: str, seconds: float) -> None:
        def handler(h: BaseHTTPRequestHandler) -> None:
            self.release.wait(seconds)
            send(h, 200, {"late": True})

        self.routes[(method, path)] = handler

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


def send_bytes(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def send(h: BaseHTTPRequestHandler, status: int, data: Any) -> None:
    send_bytes(h, status, json.dumps(data).encode(), "application/json")


def start_events(h: BaseHTTPRequestHandler) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()


def write_event(h: BaseHTTPRequestHandler, payload: str) -> None:
    data = f"data: {payload}\n\n".encode()
    h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    h.wfile.flush()


def chunk(text: str, finish: str | None = None) -> str:
    return json.dumps({
        "id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 0,
        "model": "standin", "choices": [
            {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
        ],
    })  # fmt: skip


def _serve_slow_sse(port: int) -> None:
    """One endless, slow event stream: a chunk every 0.1 s until the process is killed."""

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            start_events(self)
            while True:
                write_event(self, chunk("word "))
                time.sleep(0.1)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    print("ready", flush=True)
    server.serve_forever()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def steady_port() -> int:
    """A free port below the kernel's ephemeral range, for a server a test binds again and
    again on one port (a program's runtime table names it): a port from :func:`free_port` lies
    in that range, where any client connection or port-0 bind of another test worker may take
    it between two binds ("Address already in use", seen once in CI)."""
    import random

    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    for _ in range(100):
        port = random.randrange(20000, max(low, 20001))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return free_port()


if __name__ == "__main__" and sys.argv[1] == "slow-sse":
    _serve_slow_sse(int(sys.argv[2]))
