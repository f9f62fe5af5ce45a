"""The gateway's side of the runtimes: pooled keep-alive connections (:mod:`inhouse.gateway.wire`),
failover between the nodes of a route, health probes, and the one place where the connections'
faults become :mod:`inhouse.errors` exceptions (as httpx's transports do for httpx).

    cannot connect            the node is marked down and the next healthy node is tried (refused,
                              unreachable, or no connection within 5 s); none left:
                              NoRuntimeAnswers (503)
    kept connection closed    sent once more, on a new connection (the runtime had closed a
                              keep-alive connection); a new connection that drops is not resent
    silent for read_timeout   RuntimeTimeout (504): before the answer starts or between chunks
    not done by the deadline  RuntimeTimeout (504): the whole answer took over upstream_timeout
    connection lost           RuntimeUnavailable (502)
    error status              RuntimeAnsweredError (502), or RuntimeRejected with the runtime's 4xx
    a 5xx for a bad request   RuntimeRejected (400): the runtime's own validation failure (see
                              :func:`_answered_error`), which OpenAI's clients must not retry
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from inhouse.errors import (
    ConnectFailed,
    ConnectionLost,
    NoRuntimeAnswers,
    NotHttp,
    RuntimeAnsweredError,
    RuntimeFault,
    RuntimeRejected,
    RuntimeTimeout,
    RuntimeUnavailable,
)
from inhouse.gateway.answers import json_bytes
from inhouse.gateway.calls import Call
from inhouse.gateway.routing import Node, Route
from inhouse.gateway.wire import Answer, Endpoint, Pool
from inhouse.runtimes.error_body import error_detail

__all__ = ["CONNECTION_FAULTS", "Upstream"]

#: what a connection raises while an answer is read, besides ``TimeoutError``
CONNECTION_FAULTS = (ConnectionLost, NotHttp, ConnectFailed)

log = logging.getLogger("inhouse.gateway")


class Upstream:
    """Requests to the runtimes, over the connection pool opened by :meth:`open`."""

    def __init__(
        self, timeout: float, *, read_timeout: float | None = None, probe_timeout: float = 2.0
    ) -> None:
        #: seconds a whole answer may take (a stream to its last event)
        self.timeout = timeout
        #: seconds the runtime may stay silent: before the answer starts, between two chunks
        self.read_timeout = read_timeout if read_timeout is not None else timeout
        #: seconds a health probe may wait for its answer
        self.probe_timeout = probe_timeout
        self._pool: Pool | None = None
        #: each node's base URL, parsed once
        self._endpoints: dict[str, Endpoint] = {}
        #: the header lines each node's requests carry (its key, when it has one)
        self._headers: dict[str, bytes] = {}
        #: requests sent to each node (by URL) and not yet ended
        self._in_flight: dict[str, int] = {}

    async def open(self) -> None:
        self._pool = Pool(connect_timeout=5.0, keepalive=60.0)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> Pool:
        assert self._pool is not None, "Upstream.open() first"
        return self._pool

    # -- faults ------------------------------------------------------------------------------

    def timed_out(self, node: Node) -> RuntimeTimeout:
        """The runtime went silent for ``read_timeout`` (frozen, or stuck before its answer)."""
        return RuntimeTimeout(
            f"runtime {node.runtime} at {node.url} sent nothing for {self.read_timeout:g} s "
            "(gateway.read_timeout)"
        )

    def too_slow(self, node: Node | None) -> RuntimeTimeout:
        """The whole answer took longer than ``upstream_timeout``."""
        where = f"runtime {node.runtime} at {node.url}" if node is not None else "the runtime"
        return RuntimeTimeout(f"{where} did not answer within {self.timeout:g} s")

    @contextmanager
    def faults(self, node: Node) -> Iterator[None]:
        """Turn what a connection raises while reading ``node``'s answer into an inhouse
        error (:meth:`fault`)."""
        try:
            yield
        except (TimeoutError, *CONNECTION_FAULTS) as err:
            raise self.fault(node, err) from None

    def fault(self, node: Node, err: Exception) -> RuntimeFault:
        """What a connection raised while reading ``node``'s answer (a ``TimeoutError`` or one
        of :data:`CONNECTION_FAULTS`), as an inhouse error; a stream's relay catches them
        itself, without a context manager's generator per request."""
        if isinstance(err, TimeoutError):
            return self.timed_out(node)
        return _lost(node, err)

    # -- requests ----------------------------------------------------------------------------

    async def post(self, call: Call, route: Route, node: Node, body: dict[str, Any]) -> Answer:
        """Send the request to ``node`` (or, when it refuses connections, the next healthy
        node); returns the answer with its head read. ``call`` learns the node that answered
        and the time spent waiting. The request counts as in flight on its node until
        :meth:`finished` (called here when it fails)."""
        pool = self.pool
        path = "/v1/" + call.endpoint
        tried: list[Node] = []
        fresh = False  # once a kept connection died, the request goes out on a new one
        while True:
            body["model"] = node.model_id
            call.node = node
            sent = time.perf_counter()
            self._in_flight[node.url] = self._in_flight.get(node.url, 0) + 1
            try:
                try:
                    response = await pool.request(
                        self._endpoint(node), "POST", path, json_bytes(body),
                        self._header_lines(node), timeout=self.read_timeout, fresh=fresh,
                    )  # fmt: skip
                except BaseException:
                    self.finished(node)
                    raise
            except ConnectFailed as err:
                call.upstream_wait += time.perf_counter() - sent
                node.healthy, node.detail = False, f"cannot connect: {err}"
                tried.append(node)
                others = [n for n in route.others(node) if n not in tried]
                if not others:
                    raise NoRuntimeAnswers(
                        f"no runtime serving {route.name!r} answers: {node.runtime} at "
                        f"{node.url}: cannot connect ({err})"
                    ) from None
                node = others[0]
                continue
            except TimeoutError:
                raise self.timed_out(node) from None
            except ConnectionLost as err:
                call.upstream_wait += time.perf_counter() - sent
                if err.reused and not fresh:  # a kept connection the runtime had closed
                    fresh = True
                    continue
                raise _lost(node, err) from None  # a new connection dropped: not sent twice
            except NotHttp as err:
                raise _lost(node, err) from None
            call.upstream_wait += time.perf_counter() - sent
            if response.status >= 400:
                try:
                    with self.faults(node):
                        data = await response.read()
                finally:
                    response.release()
                    self.finished(node)
                raise _answered_error(node, response.status, data)
            return response

    def _endpoint(self, node: Node) -> Endpoint:
        endpoint = self._endpoints.get(node.url)
        if endpoint is None:
            endpoint = self._endpoints[node.url] = Endpoint(node.url)
        return endpoint

    def _header_lines(self, node: Node) -> bytes:
        lines = self._headers.get(node.api_key or "")
        if lines is None:
            text = "content-type: application/json\r\n"
            if node.api_key:
                text += f"authorization: Bearer {node.api_key}\r\n"
            lines = self._headers[node.api_key or ""] = text.encode("latin-1")
        return lines

    def finished(self, node: Node) -> None:
        """A request :meth:`post` sent to ``node`` (and returned the response of) ended."""
        left = self._in_flight.get(node.url, 1) - 1
        if left > 0:
            self._in_flight[node.url] = left
        else:
            self._in_flight.pop(node.url, None)

    def in_flight(self, node: Node) -> int:
        """Requests sent to ``node`` that have not ended."""
        return self._in_flight.get(node.url, 0)

    async def read(self, call: Call, response: Answer) -> bytes:
        """The whole body of a response from :meth:`post`; the wait counts as upstream time."""
        assert call.node is not None
        waited = time.perf_counter()
        try:
            with self.faults(call.node):
                data = await response.read()
        finally:
            response.release()
        call.upstream_wait += time.perf_counter() - waited
        return data

    # -- health ------------------------------------------------------------------------------

    async def probe(self, node: Node) -> tuple[bool, str, bool]:
        """GET /v1/models on a node: (answers, detail, only slow: it timed out)."""
        timeout = self.probe_timeout
        try:
            async with asyncio.timeout(timeout):
                response = await self.pool.request(
                    self._endpoint(node), "GET", "/v1/models", b"", self._header_lines(node),
                    timeout=None,
                )  # fmt: skip
                try:
                    await response.read()
                finally:
                    response.release()
            if response.status >= 500:
                return False, f"answered {response.status}", False
            return True, "", False
        except TimeoutError:
            return False, f"no answer to the health probe within {timeout:g} s", True
        except (RuntimeFault, OSError, ValueError) as err:
            detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            return False, detail, False

    async def check_health(self, nodes: Sequence[Node]) -> None:
        """Probe every node at once; a node that refuses connections (or answers 5xx) is
        skipped at once, one that is only slow to answer the probe after three misses in a row
        (a runtime busy with long answers is slow, not gone), and never while the gateway has
        requests in flight on it: a runtime answers its probe after the requests it is working
        on (llama-cpp-python serves ``/v1/models`` behind the lock its answers hold), so a
        probe starved by traffic says nothing about the node, and a node frozen with requests
        in flight is caught by their ``read_timeout``. A node that was down and answers again
        stays skipped here: the router re-admits it once its digest matches. A probe sent
        while requests were in flight is starved by them even if they ended before it timed
        out: the node was busy with the gateway's work, not gone."""
        busy = {id(node) for node in nodes if self.in_flight(node)}
        results = await asyncio.gather(*(self.probe(node) for node in nodes))
        for node, (ok, detail, slow) in zip(nodes, results, strict=True):
            node.misses = 0 if ok else node.misses + 1
            if slow and (node.misses < 3 or id(node) in busy or self.in_flight(node)):
                continue
            if ok and not node.healthy:
                continue  # re-admitted by the router, once its digest is checked again
            if not ok and node.healthy:
                log.warning("runtime %s at %s is down (%s): skipped until it answers with its "
                            "locked digest", node.runtime, node.url, detail)  # fmt: skip
            node.healthy, node.detail = ok, detail


def _lost(node: Node, err: Exception) -> RuntimeUnavailable:
    return RuntimeUnavailable(
        f"runtime {node.runtime} at {node.url} dropped the request ({type(err).__name__}: {err})"
    )


#: what a runtime's 5xx says when it was the request that was wrong: llama-cpp-python answers
#: 500 to every exception, its own request validation (pydantic, FastAPI) and a prompt its
#: tokenizer cannot encode (lone surrogates) included
_REQUEST_FAULTS = re.compile(
    r"validation error|Input should be|Field required|field required|Extra inputs are not"
    r"|surrogates not allowed|UnicodeEncodeError|can't encode character|exceed context window"
    r"|maximum context length|is not a valid|Unprocessable"
)


def _answered_error(node: Node, status: int, data: bytes) -> RuntimeFault:
    """The error for a runtime's error status: a 4xx is the request's fault and keeps its
    status (a 422 becomes 400: OpenAI's clients know 400); a 5xx whose message says the
    request was invalid is a 400 too (the runtime's own validation failure); any other 5xx is
    the runtime's fault, a 502."""
    detail = error_detail(data)
    message = f"runtime {node.runtime} at {node.url} answered {status}: {detail}"
    if status >= 500:
        if _REQUEST_FAULTS.search(detail):
            return RuntimeRejected(message, status=400)
        return RuntimeAnsweredError(message)
    return RuntimeRejected(message, status=400 if status == 422 else status)
