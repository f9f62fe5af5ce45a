"""The gateway's HTTP/1.1 client (inhouse.gateway.wire) at its edges: a connection paused by a
slow reader and then kept, a body without a length cut by a reset or by the pool's close, the
error a bad chunked body raises, bytes after an answer, cancellation at each wait, a chunked
answer split at every byte."""

from __future__ import annotations

import asyncio
import gc
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, suppress

import pytest

from inhouse.errors import ConnectionLost, NotHttp
from inhouse.gateway.wire import Endpoint, Pool

ANSWER = b'{"choices": []}'
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


@pytest.fixture(autouse=True)
def _nothing_logged_by_asyncio(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """ "Future exception was never retrieved", "Task was destroyed but it is pending" and
    unclosed transports are logged by asyncio, not warned: none may be."""
    yield
    gc.collect()
    records = [*caplog.get_records("call"), *caplog.records]
    assert not [r.getMessage() for r in records if r.name == "asyncio"]


def ok(body: bytes = ANSWER) -> bytes:
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%b" % (len(body), body)


async def request_of(reader: asyncio.StreamReader) -> None:
    """Read one request (head and content-length body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)


@asynccontextmanager
async def stand_in(handle: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A stand-in runtime: ``handle(reader, writer, n)`` serves its n-th connection (from 0).
    Yields its URL and the connections it took."""
    connections: list[int] = []
    serving: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        n = len(connections)
        connections.append(n)
        serving.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handle(reader, writer, n)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield f"http://127.0.0.1:{port}", connections
        # each handler ends once its client closed: none is left for asyncio.run to cancel
        if serving:
            await asyncio.wait(serving, timeout=1)


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset, as a runtime that crashed."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def fetch(pool: Pool, url: str, timeout: float = 2) -> bytes:
    answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=timeout)
    try:
        return await answer.read()
    finally:
        answer.release()


def test_a_kept_connection_paused_by_a_slow_reader_reads_the_next_answer() -> None:
    """The whole answer arrived while nobody read it (reading paused past the high-water
    mark); it is released unread (a client gone mid-stream) and its connection kept: the next
    request on it must read its answer, not wait with the connection still paused."""
    body = b"x" * (256 * 1024 + 4096)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)
        writer.write(head + body[:-8192])  # under the high-water mark
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(body[-8192:])  # over it, and the answer's end, in one read
        await writer.drain()
        while True:
            await request_of(reader)
            writer.write(ok())
            await writer.drain()

    async def main() -> None:
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=2)
            await asyncio.sleep(0.3)
            connection = answer._connection
            assert connection is not None and connection.complete and connection._paused
            answer.release()
            assert await fetch(pool, url, timeout=1) == ANSWER
            await pool.close()
        assert connections == [0]

    asyncio.run(main())


def test_a_body_without_a_length_cut_by_a_reset_is_lost_not_whole() -> None:
    """Only the runtime's clean close ends a body without a length; a reset cuts it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: {}\n\n")
        await writer.drain()
        await asyncio.sleep(0.1)
        reset(writer)

    async def main() -> None:
        async with stand_in(handle) as (url, _):
            with pytest.raises(ConnectionLost) as lost:
                await fetch(Pool(), url)
            assert lost.value.answered

    asyncio.run(main())


def test_a_body_without_a_length_being_read_when_the_pool_closes_is_lost_not_whole() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\ndata: {}\n\n")
        await writer.drain()
        await reader.read()  # until the client closes

    async def main() -> None:
        async with stand_in(handle) as (url, _):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=2)
            assert await answer.next_chunk() == b"data: {}\n\n"
            reading = asyncio.create_task(answer.next_chunk())
            await asyncio.sleep(0.05)
            await pool.close()
            with pytest.raises(ConnectionLost):
                await reading
            answer.release()

    asyncio.run(main())


def test_a_chunked_body_cut_by_a_close_is_lost_whatever_the_case_of_its_header() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()

    async def main() -> None:
        async with stand_in(handle) as (url, _):
            with pytest.raises(ConnectionLost) as lost:
                await fetch(Pool(), url)
            assert lost.value.answered

    asyncio.run(main())


def test_a_bad_chunked_body_is_not_http_even_when_read_after_the_close() -> None:
    """The parser's error comes first; the close it causes must not replace it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n")
        await writer.drain()
        await reader.read()  # until the client closes

    async def main() -> None:
        async with stand_in(handle) as (url, _):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=2)
            await asyncio.sleep(0.1)  # busy elsewhere (sending to the client)
            with pytest.raises(NotHttp):
                await answer.read()
            answer.release()
            await pool.close()

    asyncio.run(main())


def test_an_answer_after_the_answer_is_not_taken_for_part_of_it() -> None:
    """A runtime that answers twice: the second answer's bytes are not the first one's body,
    and the connection is not kept."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await request_of(reader)
            writer.write(ok(b"first") + ok(b"second") if n == 0 else ok())
            await writer.drain()

    async def main() -> None:
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=2)
            await asyncio.sleep(0.05)
            assert await answer.read() == b"first"
            assert answer.headers["content-length"] == "5"
            answer.release()
            assert await fetch(pool, url) == ANSWER
            await pool.close()
        assert connections == [0, 1]

    asyncio.run(main())


def test_a_chunked_answer_split_at_every_byte_is_read_whole_and_kept() -> None:
    body = b"data: {}\n\n" * 3
    wire = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
    wire += b"".join(b"%x\r\n%b\r\n" % (len(part), part) for part in (body[:7], body[7:]))
    wire += b"0\r\n\r\n"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await request_of(reader)
            for i in range(len(wire)):
                writer.write(wire[i : i + 1])
                await writer.drain()
                await asyncio.sleep(0)

    async def main() -> None:
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            assert [await fetch(pool, url) for _ in range(2)] == [body] * 2
            await pool.close()
        assert connections == [0]

    asyncio.run(main())


def test_a_request_given_up_at_each_wait_closes_its_connection() -> None:
    """Given up waiting for the head, then for the body, by the gateway's deadline (a
    cancellation) and by the read timeout: each connection is closed, never kept, and the next
    request gets its own answer on a new one, nothing left pending or unretrieved."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await request_of(reader)
            if n < 2:
                await asyncio.sleep(0.2)  # late: the wait for the head is given up first
                writer.write(ok())
            elif n < 4:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc")
            else:
                writer.write(ok())
            await writer.drain()

    async def main() -> None:
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.05):
                    await fetch(pool, url)
            with pytest.raises(TimeoutError):
                await fetch(pool, url, timeout=0.05)
            for timeout in (None, 0.05):
                answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=timeout)
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await answer.read()
                answer.release()
            assert await fetch(pool, url) == ANSWER
            assert len(pool._all) == 1
            await asyncio.sleep(0.3)  # the late answers arrive at closed connections
            assert await fetch(pool, url) == ANSWER
            await pool.close()
        assert connections == [0, 1, 2, 3, 4]

    asyncio.run(main())


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
)
DONE = b"data: [DONE]\n\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


async def _read_to_done(pool: Pool, url: str) -> None:
    """Read a stream as the relay does: up to its [DONE], then give it back as read."""
    answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=2)
    seen = b""
    while DONE not in seen:
        seen += await answer.next_chunk()
    answer.release(read_all=True)


def test_a_stream_read_to_its_done_keeps_its_connection_when_the_terminator_comes_later() -> None:
    """As a runtime on uvicorn sends it: the last event, then the chunked terminator in a
    write of its own. The connection is kept once the terminator arrives."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await request_of(reader)
            writer.write(STREAM_HEAD + _chunk(b'data: {"x": 1}\n\n') + _chunk(DONE))
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"0\r\n\r\n")
            await writer.drain()

    async def main() -> None:
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            for _ in range(3):
                await _read_to_done(pool, url)
                await asyncio.sleep(0.1)  # the terminator arrives meanwhile
            await pool.close()
        assert connections == [0]

    asyncio.run(main())


def test_a_stream_whose_terminator_never_comes_gives_its_connection_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("inhouse.gateway.wire._FINISH_SECONDS", 0.2)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(STREAM_HEAD + _chunk(DONE))
        await writer.drain()
        with suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.read()  # holds the connection open, saying nothing more

    async def main() -> None:
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            await _read_to_done(pool, url)
            await asyncio.sleep(0.4)  # past the wait: the connection was closed
            await _read_to_done(pool, url)
            await pool.close()
        assert connections == [0, 1]

    asyncio.run(main())


def test_a_pool_closed_while_a_stream_waits_for_its_terminator_closes_it() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(STREAM_HEAD + _chunk(DONE))
        await writer.drain()
        with suppress(asyncio.IncompleteReadError, ConnectionError):
            await reader.read()

    async def main() -> None:
        async with stand_in(handle) as (url, _):
            pool = Pool()
            await _read_to_done(pool, url)
            assert pool._finishing
            await pool.close()
            await asyncio.sleep(0.05)
            assert not pool._finishing and not pool._all

    asyncio.run(main())


def test_a_kept_connection_s_later_requests_still_time_out_at_each_wait() -> None:
    """One timer watches a connection's waits, kept from one request to the next (issue 16):
    on a kept connection, a runtime silent before the head, then silent inside a body, is given
    up on after the read timeout each time, however long the timer had been kept; an interim
    answer (100 Continue) does not restart the head's time."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await request_of(reader)
        writer.write(ok())  # the first request: answered, the connection kept
        await request_of(reader)
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # then silent: no head
        await reader.read()  # until the gateway gives up and closes

    async def handle_body(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int
    ) -> None:
        await request_of(reader)
        writer.write(ok())
        await request_of(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")  # then silent
        await reader.read()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with stand_in(handle) as (url, connections):
            pool = Pool()
            try:
                assert await fetch(pool, url, timeout=0.3) == ANSWER
                await asyncio.sleep(0.2)  # the timer kept from the first request is due sooner
                started = loop.time()
                with pytest.raises(TimeoutError):
                    await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=0.3)
                assert 0.25 <= loop.time() - started < 2
                assert connections == [0]  # the second request went on the kept connection
            finally:
                await pool.close()
        async with stand_in(handle_body) as (url, connections):
            pool = Pool()
            try:
                assert await fetch(pool, url, timeout=0.3) == ANSWER
                answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=0.3)
                assert await answer.next_chunk() == b"abc"
                started = loop.time()
                with pytest.raises(TimeoutError):
                    await answer.next_chunk()
                assert 0.25 <= loop.time() - started < 2
                answer.release()
                assert connections == [0]
            finally:
                await pool.close()

    asyncio.run(main())
