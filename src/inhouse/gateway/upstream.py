"""The gateway's side of the runtimes: one pooled keep-alive ``aiohttp`` session, failover
between the nodes of a route, health probes, and the one place where aiohttp's faults become
:mod:`inhouse.errors` exceptions (as httpx's transports do for httpx).

    cannot connect            the node is marked down and the next healthy node is tried;
                              none left: NoRuntimeAnswers (503)
    pooled connection closed  sent once more (the runtime closed a keep-alive connection)
    no answer in time         RuntimeTimeout (504)
    connection lost           RuntimeUnavailable (502)
    error status              RuntimeAnsweredError (502), or RuntimeRejected with the runtime's 4xx
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import aiohttp

from inhouse.errors import (
    NoRuntimeAnswers,
    RuntimeAnsweredError,
    RuntimeFault,
    RuntimeRejected,
    RuntimeTimeout,
    RuntimeUnavailable,
)
from inhouse.gateway.calls import Call
from inhouse.gateway.routing import Node, Route
from inhouse.runtimes.error_body import error_detail

__all__ = ["Upstream"]

log = logging.getLogger("inhouse.gateway")


class Upstream:
    """Requests to the runtimes, over one session opened by :meth:`open`."""

    def __init__(self, timeout: float) -> None:
        #: seconds to wait for an answer (for a stream: between two chunks)
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=self.timeout),
            auto_decompress=False,
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "Upstream.open() first"
        return self._session

    # -- faults ------------------------------------------------------------------------------

    def timed_out(self, node: Node) -> RuntimeTimeout:
        return RuntimeTimeout(
            f"runtime {node.runtime} at {node.url} did not answer within {self.timeout:g} s"
        )

    @contextmanager
    def faults(self, node: Node) -> Iterator[None]:
        """Turn what aiohttp raises while reading ``node``'s answer into an inhouse error."""
        try:
            yield
        except TimeoutError:
            raise self.timed_out(node) from None
        except aiohttp.ClientError as err:
            raise _lost(node, err) from None

    # -- requests ----------------------------------------------------------------------------

    async def post(
        self, call: Call, route: Route, node: Node, body: dict[str, Any]
    ) -> aiohttp.ClientResponse:
        """Send the request to ``node`` (or, when it refuses connections, the next healthy
        node); returns the response with its headers read. ``call`` learns the node that
        answered and the time spent waiting."""
        session = self.session
        tried: list[Node] = []
        stale_retry = True
        while True:
            body["model"] = node.model_id
            headers = {"content-type": "application/json"}
            if node.api_key:
                headers["authorization"] = f"Bearer {node.api_key}"
            call.node = node
            sent = time.perf_counter()
            try:
                response = await session.post(
                    f"{node.url}/v1/{call.endpoint}", data=json.dumps(body), headers=headers
                )
            except aiohttp.ClientConnectorError as err:
                call.upstream_wait += time.perf_counter() - sent
                node.healthy, node.detail = False, f"cannot connect: {err.os_error}"
                tried.append(node)
                others = [n for n in route.others(node) if n not in tried]
                if not others:
                    raise NoRuntimeAnswers(
                        f"no runtime serving {route.name!r} answers: {node.runtime} at "
                        f"{node.url}: cannot connect ({err.os_error})"
                    ) from None
                node = others[0]
                continue
            except TimeoutError:
                raise self.timed_out(node) from None
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as err:
                call.upstream_wait += time.perf_counter() - sent
                if stale_retry:  # a pooled keep-alive connection the runtime had closed
                    stale_retry = False
                    continue
                raise _lost(node, err) from None
            except aiohttp.ClientError as err:
                raise _lost(node, err) from None
            call.upstream_wait += time.perf_counter() - sent
            if response.status >= 400:
                data = await response.read()
                response.release()
                raise _answered_error(node, response.status, data)
            return response

    async def read(self, call: Call, response: aiohttp.ClientResponse) -> bytes:
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

    async def probe(self, node: Node, timeout: float = 2.0) -> tuple[bool, str]:
        """GET /v1/models on a node: (answers, detail)."""
        try:
            async with self.session.get(
                node.url + "/v1/models", timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                await response.read()
                if response.status >= 500:
                    return False, f"answered {response.status}"
                return True, ""
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            return False, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__

    async def check_health(self, nodes: Sequence[Node]) -> None:
        """Probe every node at once; a node that fails is skipped until it answers again."""
        results = await asyncio.gather(*(self.probe(node) for node in nodes))
        for node, (ok, detail) in zip(nodes, results, strict=True):
            if ok != node.healthy:
                log.warning("runtime %s at %s is %s %s", node.runtime, node.url,
                            "back" if ok else "down", detail)  # fmt: skip
            node.healthy, node.detail = ok, detail


def _lost(node: Node, err: Exception) -> RuntimeUnavailable:
    return RuntimeUnavailable(
        f"runtime {node.runtime} at {node.url} dropped the request ({type(err).__name__}: {err})"
    )


def _answered_error(node: Node, status: int, data: bytes) -> RuntimeFault:
    message = f"runtime {node.runtime} at {node.url} answered {status}: {error_detail(data)}"
    if status >= 500:
        return RuntimeAnsweredError(message)
    return RuntimeRejected(message, status=status)
