"""The gateway's own HTTP/1.1 client to its runtimes (inhouse.gateway.wire), against small
servers on loopback that misbehave on purpose (named stand-ins, each a few lines of asyncio):
connections kept and reused, a kept connection the runtime closed, a client that reads slowly,
bytes that are not HTTP, TLS."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inhouse.errors import ConnectFailed, ConnectionLost, NotHttp, RuntimeUnavailable
from inhouse.gateway.calls import Call
from inhouse.gateway.keys import GatewayKey, KeyLimits
from inhouse.gateway.routing import Node, Route
from inhouse.gateway.upstream import Upstream
from inhouse.gateway.wire import Endpoint, Pool

ANSWER = b'{"choices": []}'


def ok(body: bytes = ANSWER, *, close: bool = False) -> bytes:
    extra = b"connection: close\r\n" if close else b""
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%b\r\n%b" % (len(body), extra, body)


@asynccontextmanager
async def server(
    answer: Callable[[int], bytes | None],
    *,
    close_after: bool = False,
    tls: ssl.SSLContext | None = None,
    requests: list[int] | None = None,
) -> AsyncIterator[tuple[str, list[int]]]:
    """A stand-in runtime: the n-th request on a connection (any bytes ending a blank line,
    plus its body) gets ``answer(n)`` (``None``: the connection is closed instead);
    ``close_after`` closes the connection after each answer without saying so (a runtime
    dropping a keep-alive connection); ``requests`` collects each request's n. Yields its URL
    and the connections it took."""
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                served += 1
                if requests is not None:
                    requests.append(served)  # each request's number on its connection
                reply = answer(served)
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    listening = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = listening.sockets[0].getsockname()[1]
    scheme = "https" if tls else "http"
    async with listening:
        yield f"{scheme}://127.0.0.1:{port}", connections


async def fetch(pool: Pool, url: str) -> bytes:
    answer = await pool.request(Endpoint(url), "POST", "/v1/chat/completions", b"{}", timeout=5)
    try:
        return await answer.read()
    finally:
        answer.release()


def test_a_connection_is_kept_and_reused_once_its_answer_was_read() -> None:
    async def main() -> None:
        async with server(lambda n: ok()) as (url, connections):
            pool = Pool()
            assert [await fetch(pool, url) for _ in range(3)] == [ANSWER] * 3
            await pool.close()
        assert connections == [0]

    asyncio.run(main())


def test_a_kept_connection_reads_each_answer_whole_with_the_parser_it_kept() -> None:
    """A kept connection's parser, at the end of a whole answer, reads the next one (no new
    parser per request, issue 16): each answer is read whole with its own status and headers
    (none left over from the one before: chunked, then with a length, then after an interim
    answer), and a connection whose answer was not read to its end is not kept, nor its parser."""
    chunked = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-first: 1\r\n\r\n"
               b"5\r\nhello\r\n0\r\n\r\n")  # fmt: skip
    early = b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n"
    answers = {1: chunked, 2: ok(), 3: early + ok(b"third"), 4: ok(b"x" * 4 * 1024 * 1024)}

    async def main() -> None:
        async with server(lambda n: answers.get(n, ok())) as (url, connections):
            pool = Pool()
            endpoint = Endpoint(url)
            parsers = []
            for wanted, header in ((b"hello", "x-first"), (ANSWER, None), (b"third", None)):
                answer = await pool.request(endpoint, "POST", "/v1/x", b"{}", timeout=5)
                connection = answer._connection
                assert connection is not None
                parsers.append(connection._parser)
                assert answer.status == 200 and "link" not in answer.headers
                assert (header in answer.headers) if header else "x-first" not in answer.headers
                assert await answer.read() == wanted
                answer.release()
            assert parsers[0] is parsers[1] is parsers[2]  # one connection, one parser
            answer = await pool.request(endpoint, "POST", "/v1/x", b"{}", timeout=5)
            answer.release()  # its body is still coming: the connection is not kept
            assert await fetch(pool, url) == b"hello"  # a new connection's first answer
            await pool.close()
        assert connections == [0, 1]

    asyncio.run(main())


def test_an_answer_released_unread_does_not_leave_its_connection_for_the_next() -> None:
    async def main() -> None:
        big = b"x" * 4 * 1024 * 1024  # more than arrives before the head is handed over
        async with server(lambda n: ok(big)) as (url, connections):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=5)
            answer.release()  # the rest of its body is still coming: never reused
            assert await fetch(pool, url) == big
            await pool.close()
        assert connections == [0, 1]

    asyncio.run(main())


def _upstream_call(url: str) -> tuple[Upstream, Call, Route, Node]:
    node = Node(runtime="stand-in", url=url, model_id="tiny", digest="d")
    route = Route(name="tiny", digest="d", nodes=[node])
    key = GatewayKey(id="k", person="ann", agent=None, prefix="ih_k", created="", revoked=None,
                     limits=KeyLimits())  # fmt: skip
    call = Call(started=0.0, endpoint="chat/completions", key=key)
    return Upstream(5.0), call, route, node


def test_a_kept_connection_the_runtime_closed_is_sent_again_on_a_new_one() -> None:
    """The stand-in closes every connection after answering, without ``connection: close``:
    the second request finds the kept connection dead and goes out once more, answered."""

    async def main() -> None:
        async with server(lambda n: ok(), close_after=True) as (url, connections):
            upstream, call, route, node = _upstream_call(url)
            await upstream.open()
            for _ in range(2):
                answer = await upstream.post(call, route, node, {"messages": []})
                assert await upstream.read(call, answer) == ANSWER
                upstream.finished(node)
                await asyncio.sleep(0.05)  # the runtime's close arrives
            await upstream.close()
        assert len(connections) == 2

    asyncio.run(main())


def test_a_request_on_a_kept_connection_the_runtime_drops_goes_again_on_a_new_one() -> None:
    """Two connections are kept; the stand-in drops any connection's second request (as a
    runtime closing idle connections does). The request sent again must not take the other
    kept connection, which would die the same way: it goes out on a new one."""

    async def main() -> None:
        seen: list[int] = []
        async with server(lambda n: ok() if n == 1 else None, requests=seen) as (url, conns):
            upstream, call, route, node = _upstream_call(url)
            await upstream.open()

            async def one() -> bytes:
                answer = await upstream.post(call, route, node, {"messages": []})
                try:
                    return await upstream.read(call, answer)
                finally:
                    upstream.finished(node)

            assert await asyncio.gather(one(), one()) == [ANSWER, ANSWER]  # two kept
            assert await one() == ANSWER
            await upstream.close()
        assert len(conns) == 3 and seen.count(2) == 1

    asyncio.run(main())


def test_a_request_whose_new_connection_drops_is_not_sent_twice() -> None:
    async def main() -> None:
        seen: list[int] = []
        async with server(lambda n: None, requests=seen) as (url, _):
            upstream, call, route, node = _upstream_call(url)
            await upstream.open()
            with pytest.raises(RuntimeUnavailable, match="dropped the request"):
                await upstream.post(call, route, node, {"messages": []})
            await upstream.close()
        assert seen == [1]  # the runtime saw it once: it may have started on it

    asyncio.run(main())


@contextmanager
def no_connection_completes() -> Iterator[str]:
    """A port whose connections never complete: a listener whose accept queue is full (the
    kernel drops further SYNs, as a host that drops packets does). Yields its URL."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        waiting = []
        try:
            for _ in range(3):  # more than the queue holds
                client = socket.socket()
                client.setblocking(False)
                with suppress(BlockingIOError):
                    client.connect(("127.0.0.1", port))
                waiting.append(client)
            yield f"http://127.0.0.1:{port}"
        finally:
            for client in waiting:
                client.close()


def test_a_connection_nothing_answers_fails_over_like_a_refused_one() -> None:
    """A connect that times out marks the node down and tries the route's next node, as a
    refused one does, instead of a 504 after the read timeout."""

    async def main(silent: str) -> None:
        async with server(lambda n: ok()) as (good, _):
            upstream, call, route, slow = _upstream_call(silent)
            other = Node(runtime="second", url=good, model_id="tiny", digest="d")
            route.nodes.append(other)
            await upstream.open()
            upstream.pool.connect_timeout = 0.2
            answer = await upstream.post(call, route, slow, {"messages": []})
            assert await upstream.read(call, answer) == ANSWER
            upstream.finished(other)
            assert not slow.healthy and "no connection within 0.2 s" in slow.detail
            assert call.node is other
            await upstream.close()

    with no_connection_completes() as silent:
        asyncio.run(main(silent))


def test_a_kept_connection_lost_is_marked_so_and_a_refused_one_is_a_connect_failure() -> None:
    async def main() -> None:
        async with server(lambda n: ok(), close_after=True) as (url, _):
            pool = Pool()
            assert await fetch(pool, url) == ANSWER
            # the close has not been read yet: the pool still holds the connection
            with pytest.raises(ConnectionLost) as lost:
                await fetch(pool, url)
            assert lost.value.reused and not lost.value.answered
            await pool.close()
        with pytest.raises(ConnectFailed, match=r"127\.0\.0\.1"):
            await fetch(Pool(), url)  # the server is gone

    asyncio.run(main())


def test_a_body_without_a_length_ends_with_the_connection_and_is_not_kept() -> None:
    """HTTP/1.0's way: no content-length, not chunked, the connection closed after the body.
    That is a whole answer; a cut one (a length promised and not sent) is not."""

    async def main() -> None:
        whole = b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n" + ANSWER
        async with server(lambda n: whole, close_after=True) as (url, connections):
            pool = Pool()
            assert [await fetch(pool, url) for _ in range(2)] == [ANSWER] * 2
            await pool.close()
        assert len(connections) == 2
        cut = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n" + ANSWER
        async with server(lambda n: cut, close_after=True) as (url, _):
            with pytest.raises(ConnectionLost, match="closed before the answer ended") as lost:
                await fetch(Pool(), url)
            assert lost.value.answered

    asyncio.run(main())


def test_an_interim_answer_is_passed_over_for_the_answer_after_it() -> None:
    early = b"HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n"

    async def main() -> None:
        async with server(lambda n: early + ok()) as (url, _):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=5)
            assert answer.status == 200 and "link" not in answer.headers
            assert await answer.read() == ANSWER
            answer.release()
            await pool.close()

    asyncio.run(main())


def test_bytes_that_are_not_http_are_refused_and_upstream_names_the_runtime() -> None:
    async def main() -> None:
        async with server(lambda n: b"SSH-2.0-OpenSSH_9.6\r\n\r\n") as (url, _):
            with pytest.raises(NotHttp, match=r"not HTTP/1\.1"):
                await fetch(Pool(), url)
            upstream, call, route, node = _upstream_call(url)
            await upstream.open()
            with pytest.raises(RuntimeUnavailable, match=f"stand-in at {url}"):
                await upstream.post(call, route, node, {"messages": []})
            await upstream.close()

    asyncio.run(main())


def test_a_client_that_reads_slowly_pauses_the_runtime_s_connection() -> None:
    """Body bytes pile up only to the high-water mark; the connection stops reading, and
    reads again once the relay takes them: nothing is lost or reordered."""
    body = bytes(range(256)) * 8192  # 2 MiB

    async def main() -> None:
        async with server(lambda n: ok(body)) as (url, _):
            pool = Pool()
            answer = await pool.request(Endpoint(url), "POST", "/v1/x", b"{}", timeout=5)
            await asyncio.sleep(0.3)  # the runtime sends all it can; nobody reads
            connection = answer._connection
            assert connection is not None
            assert connection._paused
            assert connection._buffered < 1024 * 1024
            assert await answer.read() == body
            answer.release()
            await pool.close()

    asyncio.run(main())


def _self_signed(folder: Path, *, expired: bool = False) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (``cert.pem``, ``key.pem``), valid
    now, or (``expired``) one that expired an hour ago: only its dates are wrong."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    if expired:  # its hour of validity ended an hour ago
        now -= datetime.timedelta(hours=2)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_an_https_runtime_is_reached_over_tls_and_its_certificate_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = _self_signed(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    async def main(trusted: bool) -> None:
        async with server(lambda n: ok(), tls=tls) as (url, _):
            assert url.startswith("https://")
            pool = Pool()
            if trusted:
                assert await fetch(pool, url) == ANSWER
            else:
                with pytest.raises(ConnectFailed, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
                    await fetch(pool, url)
            await pool.close()

    asyncio.run(main(trusted=False))  # a certificate nobody vouches for is refused
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trusted, as a system CA store would
    asyncio.run(main(trusted=True))
