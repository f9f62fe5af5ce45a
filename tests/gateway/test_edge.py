"""The gateway's own HTTP/1.1 server (inhouse.gateway.edge), over real loopback sockets: what
HTTP/1.1 asks of it beyond a well-behaved client (pipelining, Expect, Connection: close, bytes
that are not HTTP, oversized heads, idle connections), and a client that goes away mid-stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from inhouse.gateway.edge import EdgeServer, Reply, Request
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    chat,
    digest_of,
    in_process,
    key_for,
    make_program,
    model_file,
    usage_rows,
    weights_root,
)


async def _echo(request: Request, reply: Reply) -> None:
    """A handler that answers what it was asked (after a turn of the loop)."""
    await asyncio.sleep(0)
    if request.path == "/boom":
        raise RuntimeError("a bug in the handler")
    if request.path == "/stream":
        reply.start_stream([(b"content-type", b"text/plain")])
        reply.part(b"one ")
        await asyncio.sleep(0.01)
        reply.end(b"two")
        return
    body = json.dumps({"method": request.method, "path": request.path,
                       "body": request.body.decode(), "too_large": request.too_large})  # fmt: skip
    reply.whole(200, body.encode(), [(b"content-type", b"application/json")])


async def _slow_echo(request: Request, reply: Reply) -> None:
    await asyncio.sleep(0.3)
    reply.whole(200, b"late", [])


@asynccontextmanager
async def _server(**options: float) -> AsyncIterator[tuple[int, EdgeServer]]:
    server = EdgeServer(_echo, max_body=int(options.pop("max_body", 1024)), **options)
    port = await server.listen("127.0.0.1", 0)
    try:
        yield port, server
    finally:
        await server.close(grace=2.0)


async def _exchange(port: int, data: bytes, *, wait: float = 2.0) -> bytes:
    """Send ``data`` and read until the server closes the connection (or ``wait`` passes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    received = b""
    try:
        async with asyncio.timeout(wait):
            while chunk := await reader.read(65536):
                received += chunk
    except TimeoutError:
        pass
    writer.close()
    return received


def _post(path: str, body: bytes, *extra: bytes) -> bytes:
    head = b"POST %b HTTP/1.1\r\nhost: x\r\ncontent-length: %d\r\n" % (path.encode(), len(body))
    return head + b"".join(extra) + b"\r\n" + body


def test_pipelined_requests_are_answered_in_order() -> None:
    async def run() -> None:
        async with _server() as (port, _):
            data = (
                _post("/first", b"1")
                + _post("/second", b"22")
                + _post("/third", b"333", b"connection: close\r\n")
            )
            received = await _exchange(port, data)
        answers = received.split(b"HTTP/1.1 200 OK\r\n")[1:]
        assert [json.loads(a.split(b"\r\n\r\n", 1)[1])["path"] for a in answers] == [
            "/first", "/second", "/third",
        ]  # fmt: skip
        assert b"connection: close" in answers[2] and b"connection: close" not in answers[0]

    asyncio.run(run())


def test_expect_100_continue_is_answered_before_the_body() -> None:
    async def run() -> None:
        async with _server() as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
                         b"expect: 100-continue\r\n\r\n")  # fmt: skip
            interim = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
            writer.write(b"hello")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2.0)
            assert head.startswith(b"HTTP/1.1 200 OK")
            length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
            assert json.loads(await reader.readexactly(length))["body"] == "hello"
            writer.close()

    asyncio.run(run())


def test_http_1_0_and_a_stream_end_as_http_says() -> None:
    async def run() -> None:
        async with _server() as (port, _):
            old = await _exchange(port, b"GET /old HTTP/1.0\r\n\r\n")
            streamed = await _exchange(
                port, b"GET /stream HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
            )
            old_stream = await _exchange(port, b"GET /stream HTTP/1.0\r\n\r\n")
            # an upgrade (curl --http2 asks for h2c) is not taken: answered as HTTP/1.1
            h2c = await _exchange(port, b"GET /h2c HTTP/1.1\r\nhost: x\r\nconnection: Upgrade, "
                                  b"HTTP2-Settings\r\nupgrade: h2c\r\n\r\n", wait=0.5)  # fmt: skip
            # a request after a "Connection: close" one: the first is still answered
            after_close = await _exchange(
                port,
                b"GET /a HTTP/1.1\r\nhost: x\r\nconnection: "
                b"close\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\n\r\n",
            )
        assert old.startswith(b"HTTP/1.1 200 OK") and b"connection: close" in old
        assert b"transfer-encoding: chunked" in streamed
        assert streamed.endswith(b"4\r\none \r\n3\r\ntwo\r\n0\r\n\r\n")
        # HTTP/1.0 knows no chunks: the stream's body ends with the connection
        assert b"transfer-encoding" not in old_stream and old_stream.endswith(b"\r\n\r\none two")
        assert h2c.startswith(b"HTTP/1.1 200 OK") and b'"/h2c"' in h2c
        assert b'"/a"' in after_close and b'"/b"' not in after_close

    asyncio.run(run())


def test_what_is_not_a_request_gets_an_openai_shaped_error_and_the_connection_closes() -> None:
    async def run() -> None:
        async with _server() as (port, _):
            garbage = await _exchange(port, b"\x16\x03\x01 hello, TLS here\r\n\r\n")
            huge = await _exchange(
                port, b"GET /x HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 70_000 + b"\r\n\r\n"
            )
            crashed = await _exchange(port, b"GET /boom HTTP/1.1\r\nhost: x\r\n\r\n")
        assert garbage.startswith(b"HTTP/1.1 400 Bad Request")
        error = json.loads(garbage.split(b"\r\n\r\n", 1)[1])["error"]
        assert "not HTTP/1.1" in error["message"] and error["type"] == "invalid_request_error"
        assert huge.startswith(b"HTTP/1.1 431 ") and b"65536 bytes" in huge
        # a handler that fails without answering: a bare 500, then the connection is closed
        assert crashed.startswith(b"HTTP/1.1 500 ") and b"connection: close" in crashed

    asyncio.run(run())


def test_a_head_that_never_ends_is_refused_not_kept() -> None:
    """llhttp keeps a header line until it ends: one that never does is counted as it comes."""

    async def run() -> None:
        async with _server() as (port, server):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /x HTTP/1.1\r\nhost: x\r\nx-endless: ")
            answer = b""
            with contextlib.suppress(ConnectionError):
                for _ in range(40):  # 40 x 8 KiB: well past the 64 KiB limit
                    writer.write(b"a" * 8192)
                    await writer.drain()
            async with asyncio.timeout(5.0):
                while chunk := await reader.read(65536):
                    answer += chunk
            writer.close()
            assert answer.startswith(b"HTTP/1.1 431 ")
            async with asyncio.timeout(5.0):
                while server.edges:
                    await asyncio.sleep(0.05)

    asyncio.run(run())


def test_a_client_that_sends_requests_and_never_reads_is_not_read_either() -> None:
    """Pipelined requests are answered one at a time, and not while the client leaves its
    answers unread: the gateway's buffer for it stays bounded."""

    async def run() -> None:
        async with _server() as (port, server):
            _, writer = await _slow_reader(port)
            request = b"GET /x HTTP/1.1\r\nhost: x\r\n\r\n"
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(3.0):  # the sender blocks once nobody reads
                    for _ in range(100):
                        writer.write(request * 500)
                        await writer.drain()
            (edge,) = server.edges
            assert edge.transport is not None
            assert edge.transport.get_write_buffer_size() < 1 << 20
            writer.close()

    asyncio.run(run())


def test_shutdown_ends_the_answers_under_way_and_closes_their_connections() -> None:
    async def run() -> None:
        server = EdgeServer(_slow_echo, max_body=1024)
        port = await server.listen("127.0.0.1", 0)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        async with asyncio.timeout(5.0):
            while not server.answering:
                await asyncio.sleep(0.01)
        await server.close(grace=5.0)
        assert not server.answering  # the handler ended before close() returned
        answer = await asyncio.wait_for(reader.read(65536), 5.0)
        assert answer.startswith(b"HTTP/1.1 200 OK") and b"connection: close" in answer
        assert await asyncio.wait_for(reader.read(65536), 5.0) == b""  # and it was closed
        writer.close()

    asyncio.run(run())


def test_a_body_over_the_limit_is_not_kept_and_the_connection_closes_after_its_answer() -> None:
    async def run() -> None:
        async with _server(max_body=100) as (port, _):
            chunked = (b"POST /x HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
                       + b"64\r\n" + b"b" * 100 + b"\r\n" + b"1\r\nc\r\n0\r\n\r\n")  # fmt: skip
            over = await _exchange(port, chunked + _post("/never", b""))
        answer = json.loads(over.split(b"\r\n\r\n", 1)[1])
        assert answer["too_large"] is True and answer["body"] == ""
        assert b"connection: close" in over
        assert b"/never" not in over  # nothing is read after a body left unread

    asyncio.run(run())


def test_idle_connections_are_closed_after_the_keepalive() -> None:
    async def run() -> None:
        async with _server(keepalive=0.2) as (port, server):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /x HTTP/1.1\r\nhost: x\r\n\r\n")
            await reader.readuntil(b"\r\n\r\n")
            assert len(server.edges) == 1
            async with asyncio.timeout(5.0):  # the sweep runs every keepalive / 2
                while await reader.read(65536):
                    pass
            assert not server.edges
            writer.close()

    asyncio.run(run())


def test_a_head_trickled_a_byte_at_a_time_does_not_hold_its_connection() -> None:
    """Every byte arrives before the keep-alive runs out, but the head is never whole: the
    request is answered 408 and the connection closed once the head has taken the keep-alive
    (slowloris)."""

    async def run() -> None:
        async with _server(keepalive=0.4) as (port, server):
            head = b"GET /x HTTP/1.1\r\nhost: x\r\nx-slow: " + b"a" * 60  # 3.9 s at 50 ms a byte
            answer = await _trickle(port, b"", head, 0.05, 1)
            assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
            async with asyncio.timeout(5.0):
                while server.edges:
                    await asyncio.sleep(0.05)

    asyncio.run(run())


async def _trickle(port: int, head: bytes, body: bytes, every: float, step: int) -> bytes:
    """Send ``head`` at once, then ``body`` ``step`` bytes every ``every`` seconds, reading
    what comes back meanwhile; the answer, once the server has answered or closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    received = b""
    with contextlib.suppress(ConnectionError):
        for start in range(0, len(body), step):
            writer.write(body[start : start + step])
            await writer.drain()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    received += await reader.read(65536)
            if received or reader.at_eof():
                break
        async with asyncio.timeout(3.0):
            while chunk := await reader.read(65536):
                received += chunk
    writer.close()
    return received


def test_a_body_trickled_a_byte_at_a_time_is_answered_408_and_closed() -> None:
    """The head comes at once and every byte of the body before the keep-alive runs out, but
    at 20 bytes a second: the request has had its time well before its 400 bytes are in, and
    is answered 408 (in OpenAI's shape) instead of holding its connection (slowloris)."""

    async def run() -> None:
        async with _server(keepalive=0.4) as (port, server):
            body = b"x" * 400
            answer = await _trickle(
                port,
                _post("/slow", body)[: -len(body)],  # the head alone
                body,
                0.05,
                1,
            )
            assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
            error = json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
            assert "not sent whole in time" in error["message"]
            assert b"/slow" not in answer  # never handed to the handler
            async with asyncio.timeout(5.0):
                while server.edges:
                    await asyncio.sleep(0.05)

    asyncio.run(run())


def test_a_large_body_sent_at_a_steady_pace_is_read_whole() -> None:
    """A body that takes longer than the keep-alive to arrive, at a pace above the minimum
    rate (2,000 bytes a second against 500), is read whole and answered."""

    async def run() -> None:
        async with _server(keepalive=0.4, max_body=10_000) as (port, _):
            body = b"y" * 2_000
            answer = await _trickle(
                port,
                _post("/steady", body)[: -len(body)],  # the head alone
                body,
                0.05,
                100,
            )
            assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
            assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["body"] == body.decode()

    asyncio.run(run())


def test_a_request_behind_a_long_answer_is_not_charged_for_it() -> None:
    """A request pipelined behind an answer that takes longer than the keep-alive, asking for
    100 Continue: its time runs from when the gateway is free to read it, it gets its 100
    Continue then, and its body is read and answered (found by a review: it was answered 408
    as soon as the long answer ended, with no 100 Continue ever sent)."""

    async def handler(request: Request, reply: Reply) -> None:
        if request.path == "/long":
            await asyncio.sleep(1.2)  # three keep-alives
        reply.whole(200, b"ok:" + request.body, [])

    async def run() -> None:
        server = EdgeServer(handler, max_body=1024, keepalive=0.4)
        port = await server.listen("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(
                b"POST /long HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n"
                b"POST /next HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
                b"expect: 100-continue\r\n\r\n"
            )
            received = b""
            async with asyncio.timeout(5.0):
                while b"100 Continue" not in received:  # the body waits for it
                    chunk = await reader.read(65536)
                    assert chunk, received  # closed without it
                    received += chunk
                assert b"ok:" in received  # after the long answer
                writer.write(b"hello")
                while b"ok:hello" not in received:
                    chunk = await reader.read(65536)
                    assert chunk, received
                    received += chunk
            assert b" 408 " not in received
            writer.close()
        finally:
            await server.close(grace=2.0)

    asyncio.run(run())


def _runtime(folder: Path, upstream: StandinUpstream, **gateway: float) -> tuple[object, str]:
    weights = model_file(folder)
    runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
    program = make_program(folder, runtimes, {"tiny": digest_of(weights)}, gateway=gateway)
    return program, key_for(program)


async def _slow_reader(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection whose receive buffer is small: a client that reads slowly fills it soon."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await asyncio.open_connection(sock=sock)


async def _read_to_end(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """A chunked answer to its last chunk, read as fast as it comes, then the connection closed
    (closed too where the read fails: a socket left open met the next test). It fails where
    nothing arrives for 15 s, or the connection ends first: a stream that sticks, not one that
    a loaded machine sends slowly (a deadline for all of it failed under a load average of 15)."""
    received = b""
    try:
        while not received.endswith(b"0\r\n\r\n"):
            chunk = await asyncio.wait_for(reader.read(1 << 20), 15.0)
            assert chunk, f"the connection ended before the answer did: {received[-200:]!r}"
            received += chunk
    finally:
        writer.close()
    return received


def test_a_client_gone_mid_stream_closes_the_runtime_connection_at_once(_isolated: Path) -> None:
    """The client closes its connection after the first event. The runtime's next event is
    3 s away: the gateway must not wait for it to notice. The call is logged as 499 with the
    time it really took, and the runtime's connection is closed, not kept."""

    async def run() -> None:
        slow = StandinTiming(ttft_ms=0, tpot_ms=3000, tokens=3)
        async with StandinUpstream(slow, model="tiny", root=weights_root(_isolated)) as upstream:
            program, key = _runtime(_isolated, upstream)
            async with in_process(_isolated) as (gateway, _):
                reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
                body = json.dumps(chat("tiny", stream=True)).encode()
                writer.write(_post("/v1/chat/completions", body,
                                   f"authorization: Bearer {key}\r\n".encode(),
                                   b"content-type: application/json\r\n"))  # fmt: skip
                await asyncio.wait_for(reader.readuntil(b"\n\n"), 5.0)  # the first event
                # the stream's own connection: the health probe's, every 2 s, is kept idle
                pool = gateway.upstream.pool
                streams = [c for c in pool._all if c.status == 200 and not c.complete
                           and "event-stream" in c.headers.get("content-type", "")]  # fmt: skip
                assert len(streams) == 1, [(c.status, c.headers) for c in pool._all]
                writer.close()
                async with asyncio.timeout(2.0):
                    while not (gateway.usage.backlog or gateway.usage.written):
                        await asyncio.sleep(0.02)
                await gateway.usage.flush()
                node = gateway.router.nodes()[0]
                assert gateway.upstream.in_flight(node) == 0
                kept = [c for idle in pool._idle.values() for c in idle]
                assert streams[0] not in kept and not streams[0].open  # closed, not kept
            rows = usage_rows(program)
            assert [r["status"] for r in rows] == [499]
            assert rows[0]["latency_ms"] < 2500  # ended when the client left, not at the event

    asyncio.run(run())


def test_a_client_that_reads_slowly_pauses_the_runtime_connection_and_nothing_sticks(
    _isolated: Path,
) -> None:
    """A client with a small receive buffer that stops reading: the gateway stops reading the
    runtime too (it does not hold the answer in memory). When the client reads again the
    stream completes, and the runtime's connection goes back to the pool reading again: the
    next request on it is answered."""

    async def run() -> None:
        many = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=20_000)
        async with StandinUpstream(many, model="tiny", root=weights_root(_isolated)) as upstream:
            _, key = _runtime(_isolated, upstream)
            async with in_process(_isolated) as (gateway, client):
                reader, writer = await _slow_reader(gateway.port)
                body = json.dumps(chat("tiny", stream=True, max_tokens=20_000)).encode()
                writer.write(_post("/v1/chat/completions", body,
                                   f"authorization: Bearer {key}\r\n".encode(),
                                   b"content-type: application/json\r\n"))  # fmt: skip
                pool = gateway.upstream.pool
                async with asyncio.timeout(30.0):  # 10 s ran out under load
                    while not any(c._held for c in pool._all):
                        await asyncio.sleep(0.01)
                received = await _read_to_end(reader, writer)
                assert b"data: [DONE]" in received
                async with asyncio.timeout(5.0):  # the stream's end goes back to the pool
                    while not any(pool._idle.values()):
                        await asyncio.sleep(0.01)
                assert not any(c._held or c._paused for c in pool._all)
                again = await asyncio.wait_for(client.post(
                    "/v1/chat/completions", json=chat("tiny", max_tokens=2), headers=auth(key)
                ), 10.0)  # fmt: skip
                assert again.status_code == 200, again.text

    asyncio.run(run())


def test_a_client_gone_before_a_whole_answer_is_recorded_once_as_499(_isolated: Path) -> None:
    """The record is made before an answer is written: a client gone by then must not leave
    two records (200, then 499) nor settle its key's reservation twice."""

    async def run() -> None:
        slow = StandinTiming(ttft_ms=600, tpot_ms=0, tokens=2)
        async with StandinUpstream(slow, model="tiny", root=weights_root(_isolated)) as upstream:
            program, key = _runtime(_isolated, upstream)
            async with in_process(_isolated) as (gateway, _):
                _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
                body = json.dumps(chat("tiny")).encode()
                writer.write(_post("/v1/chat/completions", body,
                                   f"authorization: Bearer {key}\r\n".encode()))  # fmt: skip
                await asyncio.sleep(0.2)
                writer.close()
                await asyncio.sleep(1.0)  # the runtime answers meanwhile
                await gateway.usage.flush()
                assert gateway.usage.last_error is None
        assert [r["status"] for r in usage_rows(program)] == [499]  # type: ignore[arg-type]

    asyncio.run(run())


def test_a_client_gone_while_its_whole_answer_is_made_stops_the_runtime(_isolated: Path) -> None:
    """Not only streams: a client that leaves while the runtime prepares a whole answer has its
    request cut at once (the runtime's connection closed, so it stops), recorded as 499."""

    async def run() -> None:
        slow = StandinTiming(ttft_ms=3000, tpot_ms=0, tokens=2)
        async with StandinUpstream(slow, model="tiny", root=weights_root(_isolated)) as upstream:
            program, key = _runtime(_isolated, upstream)
            async with in_process(_isolated) as (gateway, _):
                _, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
                body = json.dumps(chat("tiny")).encode()
                writer.write(_post("/v1/chat/completions", body,
                                   f"authorization: Bearer {key}\r\n".encode()))  # fmt: skip
                node = gateway.router.nodes()[0]
                async with asyncio.timeout(5.0):
                    while not gateway.upstream.in_flight(node):
                        await asyncio.sleep(0.01)
                writer.close()
                async with asyncio.timeout(1.5):  # the runtime would answer after 3 s
                    while gateway.upstream.in_flight(node):
                        await asyncio.sleep(0.01)
                await gateway.usage.flush()
        rows = usage_rows(program)  # type: ignore[arg-type]
        assert [r["status"] for r in rows] == [499] and rows[0]["latency_ms"] < 2500

    asyncio.run(run())


def test_a_client_that_stops_reading_is_not_blamed_on_the_runtime(_isolated: Path) -> None:
    """The runtime's read timeout counts the runtime's silence only: while the client does not
    read (the runtime's connection held), the timer waits."""

    async def run() -> None:
        many = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=20_000)
        async with StandinUpstream(many, model="tiny", root=weights_root(_isolated)) as upstream:
            program, key = _runtime(_isolated, upstream, read_timeout=1.0)
            async with in_process(_isolated) as (gateway, _):
                reader, writer = await _slow_reader(gateway.port)
                body = json.dumps(chat("tiny", stream=True, max_tokens=20_000)).encode()
                writer.write(_post("/v1/chat/completions", body,
                                   f"authorization: Bearer {key}\r\n".encode()))  # fmt: skip
                await asyncio.sleep(2.5)  # not reading, for over the read timeout
                received = await _read_to_end(reader, writer)
                assert b"data: [DONE]" in received and b'"error"' not in received
                await gateway.usage.flush()
        assert [r["status"] for r in usage_rows(program)] == [200]  # type: ignore[arg-type]

    asyncio.run(run())


def test_an_http_1_0_request_expecting_100_continue_is_not_sent_one() -> None:
    """RFC 9110 (10.1.1): a server ignores the expectation of an HTTP/1.0 request (its client
    would take an HTTP/1.1 100 for the answer)."""

    async def run() -> None:
        async with _server() as (port, _):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"POST /x HTTP/1.0\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    assert await reader.read(100) == b""  # nothing, until the body
            writer.write(b"hello")
            answer = await reader.read(65536)
            assert answer.startswith(b"HTTP/1.0 200 ") or answer.startswith(b"HTTP/1.1 200 ")
            assert b"100 Continue" not in answer and b'"body": "hello"' in answer
            writer.close()

    asyncio.run(run())


async def _big(request: Request, reply: Reply) -> None:
    """An answer larger than the sockets' buffers and the write buffer's high-water mark."""
    await asyncio.sleep(0)
    reply.whole(200, b"x" * (24 << 20), [])


async def _sweeping(server: EdgeServer, seconds: float) -> None:
    """Run the connection sweep every 0.1 s for ``seconds`` (its own timer runs every
    ``keepalive / 2`` or ``send_timeout / 2``; a test's pace should not hang on it)."""
    for _ in range(int(seconds / 0.1)):
        server.sweep()
        await asyncio.sleep(0.1)


def test_a_client_that_takes_nothing_of_its_answer_is_cut_off_whatever_it_sends() -> None:
    """A client leaves a large answer unread while it trickles a next request a byte at a
    time: it has taken nothing for the send timeout, so its connection is cut (what it sends
    does not keep it); before, it held the connection and the 24 MB answer for ever."""

    async def run() -> None:
        server = EdgeServer(_big, max_body=1024, keepalive=0.4, send_timeout=0.4)
        port = await server.listen("127.0.0.1", 0)
        try:
            reader, writer = await _slow_reader(port)
            writer.write(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
            sweeping = asyncio.create_task(_sweeping(server, 10.0))
            head = b"POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n"
            async with asyncio.timeout(8.0):
                for byte in head * 20:
                    with contextlib.suppress(ConnectionError):
                        writer.write(bytes([byte]))
                        await writer.drain()
                    await asyncio.sleep(0.1)
                    if not server.edges:
                        break
            sweeping.cancel()
            assert not server.edges  # cut off
            with contextlib.suppress(ConnectionError):
                received = await reader.read(1 << 20)
                assert len(received) < 24 << 20
            writer.close()
        finally:
            await server.close(grace=2.0)

    asyncio.run(run())


def test_a_client_that_reads_slowly_but_steadily_keeps_its_connection() -> None:
    """What a client has taken is counted past the process's buffer, in the kernel's send
    queue (megabytes on loopback): a client that reads 32 KiB every 0.1 s never goes a send
    timeout (0.4 s) without taking something, and is not cut off, while one that stops is
    (found by a review of an earlier rule that looked at the process's buffer only: it cut
    this client off mid-answer)."""

    async def run() -> None:
        server = EdgeServer(_big, max_body=1024, send_timeout=0.4)
        port = await server.listen("127.0.0.1", 0)
        try:
            reader, writer = await _slow_reader(port)
            writer.write(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
            sweeping = asyncio.create_task(_sweeping(server, 30.0))
            received = 0
            for _ in range(30):  # 3 s: more than seven send timeouts
                chunk = await reader.read(32 << 10)
                assert chunk, f"cut off after {received} bytes"
                received += len(chunk)
                await asyncio.sleep(0.1)
            assert len(server.edges) == 1
            async with asyncio.timeout(5.0):  # now it stops reading: cut off
                while server.edges:
                    await asyncio.sleep(0.05)
            sweeping.cancel()
            writer.close()
        finally:
            await server.close(grace=2.0)

    asyncio.run(run())


def test_a_stream_whose_client_stops_reading_is_ended_and_logged_as_499(_isolated: Path) -> None:
    """Through the gateway: a client that stops reading a stream holds the runtime's
    connection (it is paused, not read). Once it has taken nothing for the send timeout, its
    connection is cut, the runtime's connection closed (so the runtime stops) and the request
    logged as 499; before, both were held for as long as the client stayed connected."""

    async def run() -> None:
        many = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=20_000)
        async with StandinUpstream(many, model="tiny", root=weights_root(_isolated)) as upstream:
            program, key = _runtime(_isolated, upstream)
            async with in_process(_isolated) as (gateway, _):
                server = gateway.server
                assert server is not None
                server.send_timeout = 0.5
                _, writer = await _slow_reader(gateway.port)
                body = json.dumps(chat("tiny", stream=True, max_tokens=20_000)).encode()
                writer.write(_post("/v1/chat/completions", body,
                                   f"authorization: Bearer {key}\r\n".encode()))  # fmt: skip
                node = gateway.router.nodes()[0]
                async with asyncio.timeout(5.0):
                    while not gateway.upstream.in_flight(node):
                        await asyncio.sleep(0.01)
                sweeping = asyncio.create_task(_sweeping(server, 10.0))
                async with asyncio.timeout(5.0):
                    while gateway.upstream.in_flight(node):
                        await asyncio.sleep(0.05)
                sweeping.cancel()
                assert not gateway.upstream.pool._all or not any(
                    c._held for c in gateway.upstream.pool._all
                )
                writer.close()
                await gateway.usage.flush()
        assert [r["status"] for r in usage_rows(program)] == [499]  # type: ignore[arg-type]

    asyncio.run(run())


def test_a_request_behind_an_answer_its_client_is_still_reading_is_not_late() -> None:
    """A request pipelined behind a 4 MiB answer, asking for 100 Continue: most of that answer
    waits in the kernel's send queue once the process has handed it on, and the client reads
    it for longer than the keep-alive and the send timeout. The request's time runs from when
    its client has taken
    the answer before it; before, it was answered 408 while its client was still reading."""

    async def handler(request: Request, reply: Reply) -> None:
        await asyncio.sleep(0)
        reply.whole(200, b"x" * (4 << 20) if request.path == "/big" else b"ok:" + request.body,
                    [])  # fmt: skip

    async def run() -> None:
        server = EdgeServer(handler, max_body=1024, keepalive=0.4, send_timeout=0.4)
        port = await server.listen("127.0.0.1", 0)
        try:
            reader, writer = await _slow_reader(port)
            writer.write(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n"
                         b"POST /next HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
                         b"expect: 100-continue\r\n\r\n")  # fmt: skip
            sweeping = asyncio.create_task(_sweeping(server, 30.0))
            received = b""
            async with asyncio.timeout(20.0):
                while b"100 Continue" not in received[-4096:]:
                    chunk = await reader.read(256 << 10)  # 2.5 MB/s: ~1.6 s in all
                    assert chunk, received[-300:]
                    received += chunk
                    await asyncio.sleep(0.1)
                writer.write(b"hello")
                while b"ok:hello" not in received[-4096:]:
                    chunk = await reader.read(1 << 20)
                    assert chunk, received[-300:]
                    received += chunk
            assert b" 408 " not in received[-4096:]
            sweeping.cancel()
            writer.close()
        finally:
            await server.close(grace=2.0)

    asyncio.run(run())


async def _reads_at(port: int, rate: int, seconds: float, server: EdgeServer) -> int:
    """A client with the system's default buffers asks for a 24 MB answer and reads ``rate``
    bytes a second of it, in tenths, for ``seconds`` (or until it is cut off), the sweep
    running every 0.1 s; returns what it received."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /big HTTP/1.1\r\nhost: x\r\n\r\n")
    sweeping = asyncio.create_task(_sweeping(server, seconds + 1.0))
    received = 0
    try:
        for _ in range(int(seconds * 10)):
            chunk = await reader.read(rate // 10)
            if not chunk:
                break
            received += len(chunk)
            await asyncio.sleep(0.1)
    except ConnectionError:
        pass
    finally:
        sweeping.cancel()
        writer.close()
    return received


def test_a_slow_reader_with_default_buffers_is_kept_while_it_frees_a_window_step() -> None:
    """With the system's default buffers, a closed window reopens only once the client has
    freed enough of it (at least a segment, and a share of a receive buffer Linux grows on its
    own: steps of 64 to 420 KB measured on loopback), so what it has taken moves in those steps.
    One that reads 320 KB/s frees a step at least every ~1.3 s and keeps its connection through
    a send timeout of 3 s, over 6 s (two of them); one that reads 4 KB/s frees none in 3 s and
    is cut off: the rule's real guarantee, as documented."""

    async def run() -> None:
        server = EdgeServer(_big, max_body=1024, send_timeout=3.0)
        port = await server.listen("127.0.0.1", 0)
        try:
            steady = await _reads_at(port, 320_000, 6.0, server)
            assert steady >= 1_400_000, steady  # it read all along, nothing cut it off
            async with asyncio.timeout(5.0):
                while server.edges:  # its close is seen
                    await asyncio.sleep(0.05)
            crawling = asyncio.create_task(_reads_at(port, 4_000, 12.0, server))
            async with asyncio.timeout(12.0):
                while not server.edges:
                    await asyncio.sleep(0.01)
                while server.edges:  # cut off, long before its 12 s are up
                    await asyncio.sleep(0.05)
            crawling.cancel()
        finally:
            await server.close(grace=2.0)

    asyncio.run(run())


def test_a_sweep_that_fails_is_logged_and_the_next_one_runs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One pass of the connection sweep raising must not end the sweeps: an idle connection
    is still closed after its keep-alive."""

    async def run() -> None:
        server = EdgeServer(_echo, max_body=1024, keepalive=0.2)
        sweep, failed = server.sweep, []

        def failing_once() -> None:
            if not failed:
                failed.append(True)
                raise RuntimeError("a connection the sweep could not look at")
            sweep()

        server.sweep = failing_once  # type: ignore[method-assign]
        port = await server.listen("127.0.0.1", 0)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            async with asyncio.timeout(3.0):
                assert await reader.read(100) == b""  # closed by a later pass
            writer.close()
            assert failed
        finally:
            await server.close(grace=1.0)

    with caplog.at_level("ERROR", logger="inhouse.gateway"):
        asyncio.run(run())
    assert "the gateway's connection sweep failed" in caplog.text


async def _slow_first_token(request: Request, reply: Reply) -> None:
    """A runtime that takes 2 s before anything is written (a long prompt), or before the first
    event once the stream's head is out."""
    if request.path == "/whole":
        await asyncio.sleep(2.0)
        reply.whole(200, b"late but whole", [])
        return
    reply.start_stream([(b"content-type", b"text/event-stream")])
    await asyncio.sleep(2.0)
    reply.part(b"data: first\n\n")
    reply.end(b"data: [DONE]\n\n")


def test_a_long_wait_for_the_first_token_is_not_the_client_stalling() -> None:
    """The send timeout judges what the client takes of what was written to it: while the
    runtime has written nothing yet (or nothing beyond a head the client took), waiting longer
    than the send timeout cuts nobody off."""

    async def run() -> None:
        server = EdgeServer(_slow_first_token, max_body=1024, send_timeout=0.4)
        port = await server.listen("127.0.0.1", 0)
        try:
            for path in ("/whole", "/stream"):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                sweeping = asyncio.create_task(_sweeping(server, 3.0))
                writer.write(
                    f"GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n".encode()
                )
                async with asyncio.timeout(10.0):
                    answer = await reader.read(-1)
                sweeping.cancel()
                writer.close()
                assert answer.startswith(b"HTTP/1.1 200"), (path, answer)
                assert b"late but whole" in answer or b"data: [DONE]" in answer, (path, answer)
        finally:
            await server.close(grace=2.0)

    asyncio.run(run())
