"""The floor of a proxy written in Python: what any Python gateway pays at least on this machine.

Not a gateway, and not part of inhouse: a reference the gateway benchmark runs beside nginx, so
its report can tell what is Python's cost from what is the gateway's. It does the least a
streaming LLM proxy must do, in the leanest way Python offers:

* raw ``asyncio.Protocol`` callbacks on uvloop on both sides (no ASGI server, no HTTP client
  library, no task or future per chunk: an upstream read is written to the client in the same
  callback);
* httptools (llhttp, in C) parses the client's requests and the upstream's answers;
* the request body is parsed and re-encoded once (orjson), as a gateway reads the model;
* each upstream read is split into its server-sent events and every event's JSON is parsed
  (orjson), as the gateway's integrity check does; the events go out chunked.

No keys, limits, data rules, tool boundaries, usage log or metrics; no error handling beyond
closing a connection. One request at a time per client connection, upstream connections kept
alive in a pool.

    python benchmarks/gateway/python_floor.py --upstream http://127.0.0.1:8099 --port 8100
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any
from urllib.parse import urlsplit

import httptools
import orjson
import uvloop

_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
)


class Upstream(asyncio.Protocol):
    """One keep-alive connection to the upstream, lent to one client request at a time."""

    def __init__(self, pool: list[Upstream]) -> None:
        self.pool = pool
        self.transport: Any = None
        self.client: Edge | None = None
        self.parser: Any = None
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def send(self, client: Edge, request: bytes) -> None:
        self.client = client
        self.parser = httptools.HttpResponseParser(self)
        self.buffer = b""
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_headers_complete(self) -> None:
        assert self.client is not None
        self.client.transport.write(_HEAD)

    def on_body(self, body: bytes) -> None:
        buffer = self.buffer + body
        out = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            event, start = buffer[start : end + 2], end + 2
            data = event[5:].strip()
            if data != b"[DONE]":
                orjson.loads(data)  # the integrity check every event gets
            out.append(event)
        self.buffer = buffer[start:]
        if out and self.client is not None:
            chunk = b"".join(out)
            self.client.transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))

    def on_message_complete(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.transport.write(b"0\r\n\r\n")
        self.pool.append(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.pool:
            self.pool.remove(self)
        if self.client is not None:
            self.client.transport.close()


class Edge(asyncio.Protocol):
    """One client connection."""

    def __init__(self, upstream: tuple[str, int], pool: list[Upstream]) -> None:
        self.upstream = upstream
        self.pool = pool
        self.transport: Any = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body, self.body = b"".join(self.body), []
        data = orjson.dumps(orjson.loads(body)) if body else b""  # a GET (readiness) has none
        method = self.parser.get_method()
        head = b"%b %b HTTP/1.1\r\nhost: upstream\r\ncontent-type: application/json\r\n" % (
            method,
            self.url,
        )
        message = head + b"content-length: %d\r\n\r\n%b" % (len(data), data)
        if self.pool:
            self.pool.pop().send(self, message)
        else:
            asyncio.get_running_loop().create_task(self._connect_and_send(message))

    async def _connect_and_send(self, message: bytes) -> None:
        pool = self.pool
        _, connection = await asyncio.get_running_loop().create_connection(
            lambda: Upstream(pool), *self.upstream
        )
        connection.send(self, message)


async def serve(upstream: str, host: str, port: int) -> None:
    parts = urlsplit(upstream)
    target = (parts.hostname or "127.0.0.1", parts.port or 80)
    pool: list[Upstream] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Edge(target, pool), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="the stand-in's URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvloop.run(serve(args.upstream, args.host, args.port))


if __name__ == "__main__":
    main()
