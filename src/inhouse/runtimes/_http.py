"""The HTTP underneath every adapter: one pooled client, the single place where transport
errors, bad statuses and garbage bodies become :class:`~inhouse.errors.RuntimeFault`, and the
record of which addresses answered (:attr:`HttpClient.peers`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import httpx

from inhouse.errors import (
    EndpointNotServed,
    RuntimeBadResponse,
    RuntimeFault,
    RuntimeTimeout,
    RuntimeUnavailable,
)
from inhouse.runtimes.error_body import error_detail, snippet
from inhouse.runtimes.local import PeerRecorder

__all__ = ["HttpClient", "NotServed"]

NotServed = EndpointNotServed  # the adapters' name for it

#: statuses that mean "the runtime is there but cannot serve now" (loading, overloaded, proxy)
_UNAVAILABLE_STATUSES = frozenset({502, 503, 504})


class HttpClient:
    """A pooled ``httpx.AsyncClient`` that speaks JSON and server-sent events to one runtime,
    recording the peer address of every answer it receives (:attr:`peers`)."""

    def __init__(
        self,
        *,
        runtime: str,
        url: str,
        timeout: float,
        connect_timeout: float,
        api_key: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        look_behind: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``headers``: sent with every request, beside the API key's (the inhouse gateway's
        ``X-Inhouse-Workflow``, a person's own gateway key)."""
        self.runtime = runtime
        self.url = url
        sent = dict(headers or {})
        if api_key:
            sent["Authorization"] = f"Bearer {api_key}"
        self._peers = PeerRecorder(transport, look_behind=look_behind)
        self._client = httpx.AsyncClient(
            base_url=url,
            headers=sent,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=self._peers,
            # Runtimes are local or on a private network; a system proxy would only get in the way.
            trust_env=False,
        )

    @property
    def peers(self) -> frozenset[str]:
        """The IP address of each server that answered a request so far, read from the
        connection that carried the answer (``"unknown"`` where none could be seen: a given
        in-process ``transport``). :func:`inhouse.runtimes.local.answered_here` judges them."""
        return self._peers.peers

    @property
    def served_files(self) -> frozenset[str]:
        """The model files of the inhouse runtimes found behind the answers (``look_behind``)."""
        return self._peers.served_files

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- faults ---------------------------------------------------------------------------------

    def fault(self, cls: type[RuntimeFault], message: str) -> RuntimeFault:
        return cls(message, runtime=self.runtime, url=self.url)

    @contextmanager
    def _faults(self, what: str) -> Iterator[None]:
        """Turn what httpx raises into the matching RuntimeFault, naming what we were doing."""
        try:
            yield
        except httpx.TimeoutException as err:
            kind = "connecting" if isinstance(err, httpx.ConnectTimeout) else "waiting for"
            raise self.fault(
                RuntimeTimeout,
                f"no answer to {what} within the timeout ({kind}: {type(err).__name__})",
            ) from err
        except httpx.ConnectError as err:
            raise self.fault(
                RuntimeUnavailable, f"cannot connect for {what}: is the runtime running? ({err})"
            ) from err
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as err:
            raise self.fault(
                RuntimeUnavailable, f"connection lost during {what} ({type(err).__name__}: {err})"
            ) from err
        except httpx.TransportError as err:
            raise self.fault(
                RuntimeUnavailable, f"transport error during {what} ({type(err).__name__}: {err})"
            ) from err

    def _raise_status(self, response: httpx.Response, body: bytes, what: str) -> NoReturn:
        detail = error_detail(body)
        if response.status_code in _UNAVAILABLE_STATUSES:
            cls: type[RuntimeFault] = RuntimeUnavailable
        else:
            cls = RuntimeBadResponse
        raise self.fault(cls, f"answered {what} with HTTP {response.status_code}: {detail}")

    def _parse_json(self, response: httpx.Response, body: bytes, what: str) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            kind = response.headers.get("content-type", "no content-type")
            raise self.fault(
                RuntimeBadResponse,
                f"answered {what} with something that is not JSON ({kind}): {snippet(body)}",
            ) from None

    # -- requests -------------------------------------------------------------------------------

    async def get_json(self, path: str, what: str, *, optional: bool = False) -> Any:
        """GET ``path`` and decode JSON. With ``optional``, 404/405 raise :class:`NotServed`."""
        with self._faults(what):
            response = await self._client.get(path)
        if optional and response.status_code in (404, 405):
            raise NotServed(path)
        if response.is_error:
            self._raise_status(response, response.content, what)
        return self._parse_json(response, response.content, what)

    async def post_json(self, path: str, body: dict[str, Any], what: str) -> Any:
        with self._faults(what):
            response = await self._client.post(path, json=body)
        if response.is_error:
            self._raise_status(response, response.content, what)
        return self._parse_json(response, response.content, what)

    async def stream_events(
        self, path: str, body: dict[str, Any], what: str
    ) -> AsyncIterator[dict[str, Any]]:
        """POST ``body`` and yield each server-sent ``data:`` event as a JSON object, until
        ``[DONE]``. A stream that stops before ``[DONE]`` is a lost connection, not an end."""
        with self._faults(what):
            async with self._client.stream("POST", path, json=body) as response:
                if response.is_error:
                    self._raise_status(response, await response.aread(), what)
                kind = response.headers.get("content-type", "")
                if "text/event-stream" not in kind:
                    raw = await response.aread()
                    raise self.fault(
                        RuntimeBadResponse,
                        f"answered {what} with {kind or 'no content-type'} instead of an event "
                        f"stream: {snippet(raw)}",
                    )
                async for line in response.aiter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments (": ping"), event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    event = self._parse_json(response, data.encode(), what)
                    if not isinstance(event, dict):
                        raise self.fault(
                            RuntimeBadResponse, f"sent a non-object event in {what}: {data[:200]}"
                        )
                    if "error" in event and "choices" not in event:
                        detail = error_detail(data.encode())
                        raise self.fault(
                            RuntimeBadResponse, f"reported an error mid-stream in {what}: {detail}"
                        )
                    yield event
        raise self.fault(
            RuntimeUnavailable, f"the stream for {what} ended before [DONE] (connection closed)"
        )
