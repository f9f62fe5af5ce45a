"""The gateway as a raw ASGI app: OpenAI's API in front of the blessed models.

Raw ASGI (no framework routing or middleware) because every microsecond here is added to every
request of every user; upstream requests go through one pooled keep-alive ``aiohttp`` session.
Streams are passed on event by event as they arrive, never buffered, except tool-call deltas an
agent boundary must check first. The usage record of a request is spooled *before* the last
bytes of its answer are sent (the ``[DONE]`` event of a stream, the body otherwise), so a client
that got a complete answer is in the usage log even if the gateway is killed right after.

    routes: POST /v1/chat/completions  /v1/completions  /v1/embeddings
            GET  /v1/models  /healthz  /metrics
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from inhouse.db import Store
from inhouse.gateway.config import GatewaySettings
from inhouse.gateway.errors import ApiError
from inhouse.gateway.keys import GatewayKey, KeyTable, load_key_table
from inhouse.gateway.limits import Limiter
from inhouse.gateway.metrics import CONTENT_TYPE_LATEST, Metrics
from inhouse.gateway.policies import RequestPolicy, StreamToolGuard, check_answer_tool_calls
from inhouse.gateway.routing import Node, Route, Router, check_health
from inhouse.gateway.usage import UsageRecord, UsageWriter, new_request_id

__all__ = ["Gateway"]

log = logging.getLogger("inhouse.gateway")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PROXIED = {
    "/v1/chat/completions": "chat/completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}
_JSON = [(b"content-type", b"application/json")]
_SSE = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
_CONTENT = re.compile(rb'"content"\s*:\s*"(?!")')
_PROMPT_TOKENS = re.compile(rb'"prompt_tokens"\s*:\s*(\d+)')
_COMPLETION_TOKENS = re.compile(rb'"completion_tokens"\s*:\s*(\d+)')
_MAX_BODY = 32 * 1024 * 1024


def _event_end(buffer: bytes) -> int:
    """Index just past the first complete server-sent event in ``buffer``, or -1."""
    lf = buffer.find(b"\n\n")
    crlf = buffer.find(b"\n\r\n")
    if lf < 0 and crlf < 0:
        return -1
    if crlf < 0 or 0 <= lf < crlf:
        return lf + 2
    return crlf + 3


@dataclass
class _Call:
    """What one proxied request measured, for its usage record and metrics."""

    started: float
    endpoint: str
    key: GatewayKey
    model: str = ""
    prompt_id: str | None = None
    workflow_id: str | None = None
    stream: bool = False
    status: int = 200
    actions: list[str] = field(default_factory=list)
    node: Node | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    ttft: float | None = None
    upstream_wait: float = 0.0
    body: str | None = None
    request_id: str = field(default_factory=new_request_id)


class Gateway:
    """The app and the state its requests share. Use ``async with gateway:`` (or ASGI lifespan,
    which does the same) to start its background work: the usage writer, digest and health
    checks, key refresh."""

    def __init__(
        self,
        *,
        store: Store,
        router: Router,
        policy: RequestPolicy,
        settings: GatewaySettings,
        usage: UsageWriter,
        limiter: Limiter | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.policy = policy
        self.settings = settings
        self.usage = usage
        self.limiter = limiter or Limiter()
        self.metrics = Metrics()
        self.keys = KeyTable([])
        self._session: aiohttp.ClientSession | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.replayed = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.keys = await asyncio.to_thread(load_key_table, self.store)
        self.replayed = await self.usage.start()
        connector = aiohttp.TCPConnector(limit=0, keepalive_timeout=60, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=5, sock_read=self.settings.upstream_timeout
            ),
            auto_decompress=False,
            trust_env=False,
        )
        await self.router.check_digests()
        await check_health(self._session, self.router.nodes())
        self._tasks = [
            asyncio.create_task(self._every(self.settings.digest_check_seconds, self._digests)),
            asyncio.create_task(self._every(self.settings.health_check_seconds, self._health)),
            asyncio.create_task(self._every(self.settings.keys_refresh_seconds, self.reload_keys)),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.usage.stop()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # a failed check must not stop the next one
                log.exception("gateway background job %s failed", job.__name__)

    async def _digests(self) -> None:
        await self.router.check_digests()
        assert self._session is not None
        await check_health(self._session, self.router.nodes())

    async def _health(self) -> None:
        assert self._session is not None
        await check_health(self._session, self.router.nodes())

    async def reload_keys(self) -> None:
        """Re-read keys from the store (issued and revoked ones take effect)."""
        self.keys = await asyncio.to_thread(load_key_table, self.store)

    # -- ASGI --------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.start()
                except Exception as err:
                    await send({"type": "lifespan.startup.failed", "message": str(err)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        method: str = scope["method"]
        try:
            endpoint = _PROXIED.get(path)
            if endpoint is not None:
                if method != "POST":
                    raise ApiError(405, f"{path} takes POST", code="method_not_allowed")
                await self._proxy(scope, receive, send, endpoint)
            elif path == "/v1/models" and method == "GET":
                await self._models(scope, send)
            elif path == "/healthz":
                await _respond(send, 200, json.dumps(self.health()).encode(), _JSON)
            elif path == "/metrics":
                self.metrics.spool_backlog.set(self.usage.backlog)
                headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
                await _respond(send, 200, self.metrics.render(), headers)
            else:
                raise ApiError(404, f"no route {method} {path}", code="not_found")
        except ApiError as err:
            await _respond(send, err.status, err.body(), _JSON)

    def health(self) -> dict[str, Any]:
        routes = {}
        for name, route in self.router.routes.items():
            routes[name] = {
                "digest": route.digest,
                "nodes": [
                    {"runtime": n.runtime, "url": n.url, "healthy": n.healthy, "detail": n.detail}
                    for n in route.nodes
                ],
                "problems": route.problems,
            }
        serving = any(n.healthy for r in self.router.routes.values() for n in r.nodes)
        return {
            "status": "ok" if serving else "degraded",
            "models": routes,
            "keys": len(self.keys),
            "usage": {
                "backlog": self.usage.backlog,
                "written": self.usage.written,
                "replayed": self.replayed,
                "last_error": self.usage.last_error,
            },
        }

    # -- auth and models ---------------------------------------------------------------------

    def _authenticate(self, scope: Scope) -> GatewayKey:
        header = b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        scheme, _, token = header.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "no gateway key: send it as 'Authorization: Bearer <key>' "
                "(ask for one with `inhouse keys issue`)",
                type="authentication_error",
                code="missing_api_key",
            )
        key = self.keys.verify(token.strip())
        if key is None:
            raise ApiError(
                401,
                "invalid or revoked gateway key",
                type="authentication_error",
                code="invalid_api_key",
            )
        return key

    def _allowed(self, key: GatewayKey) -> list[str]:
        names = self.router.blessed
        if key.limits.models is not None:
            names = [n for n in names if n in key.limits.models]
        return names

    async def _models(self, scope: Scope, send: Send) -> None:
        key = self._authenticate(scope)
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "inhouse"}
            for name in self._allowed(key)
        ]
        body = json.dumps({"object": "list", "data": data}).encode()
        await _respond(send, 200, body, _JSON)

    def _route(self, key: GatewayKey, model: Any) -> Route:
        if not isinstance(model, str) or not model:
            raise ApiError(400, "the request names no model", param="model")
        route = self.router.route(model)
        if route is None or (key.limits.models is not None and model not in key.limits.models):
            allowed = ", ".join(self._allowed(key)) or "none"
            why = "is not a blessed model" if route is None else "is not allowed for this key"
            raise ApiError(
                403,
                f"model {model!r} {why}; models this key may use: {allowed}",
                type="permission_error",
                code="model_not_allowed",
                param="model",
            )
        return route

    # -- proxying ----------------------------------------------------------------------------

    async def _proxy(self, scope: Scope, receive: Receive, send: Send, endpoint: str) -> None:
        started = time.perf_counter()
        key = self._authenticate(scope)
        call = _Call(started=started, endpoint=endpoint, key=key)
        for name, value in scope["headers"]:
            if name == b"x-inhouse-prompt":
                call.prompt_id = value.decode("latin-1")[:200]
            elif name == b"x-inhouse-workflow":
                call.workflow_id = value.decode("latin-1")[:200]
        try:
            raw = await _read_body(receive)
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, "the request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError(400, "the request body must be a JSON object")
            call.model = str(body.get("model") or "")
            route = self._route(key, body.get("model"))
            self.limiter.admit(key)
            call.actions = self.policy.apply(endpoint, route.name, body, key.agent)
            call.stream = bool(body.get("stream")) and endpoint != "embeddings"
            if self.policy.store_bodies(route.name):
                call.body = json.dumps(body)
            call.tokens_in = _estimate_tokens(endpoint, body)
            node = route.pick()
            if call.stream:
                await self._stream(call, route, node, body, send)
            else:
                await self._once(call, route, node, body, send)
        except ApiError as err:
            call.status = err.status
            if err.code in ("data_class_blocked", "tool_not_allowed"):
                call.actions.append(f"block:{err.code}")
            self._finish(call)
            await _respond(send, err.status, err.body(), _JSON)
        except OSError:  # the client went away mid-answer (uvicorn's ClientDisconnected)
            call.status = 499
            self._finish(call)

    async def _post(
        self, call: _Call, route: Route, node: Node, body: dict[str, Any]
    ) -> aiohttp.ClientResponse:
        """Send the request to ``node`` (or, when it refuses connections, the next healthy
        node); returns the response with its headers read."""
        assert self._session is not None
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
                response = await self._session.post(
                    f"{node.url}/v1/{call.endpoint}", data=json.dumps(body), headers=headers
                )
            except aiohttp.ClientConnectorError as err:
                call.upstream_wait += time.perf_counter() - sent
                node.healthy, node.detail = False, f"cannot connect: {err.os_error}"
                tried.append(node)
                others = [n for n in route.others(node) if n not in tried]
                if not others:
                    raise ApiError(
                        503,
                        f"no runtime serving {route.name!r} answers: {node.runtime} at "
                        f"{node.url}: cannot connect ({err.os_error})",
                        type="upstream_error",
                        code="runtime_unavailable",
                    ) from None
                node = others[0]
                continue
            except TimeoutError:
                raise ApiError(
                    504,
                    f"runtime {node.runtime} at {node.url} did not answer within "
                    f"{self.settings.upstream_timeout:.0f} s",
                    type="upstream_error",
                    code="runtime_timeout",
                ) from None
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as err:
                call.upstream_wait += time.perf_counter() - sent
                if stale_retry:  # a pooled keep-alive connection the runtime had closed
                    stale_retry = False
                    continue
                raise _upstream_lost(node, err) from None
            except aiohttp.ClientError as err:
                raise _upstream_lost(node, err) from None
            call.upstream_wait += time.perf_counter() - sent
            if response.status >= 400:
                data = await response.read()
                response.release()
                raise _upstream_error(node, response.status, data)
            return response

    async def _once(
        self, call: _Call, route: Route, node: Node, body: dict[str, Any], send: Send
    ) -> None:
        response = await self._post(call, route, node, body)
        waited = time.perf_counter()
        try:
            data = await response.read()
        except TimeoutError:
            raise ApiError(504, f"runtime {node.runtime} at {node.url} timed out",
                           type="upstream_error", code="runtime_timeout") from None  # fmt: skip
        except aiohttp.ClientError as err:
            raise _upstream_lost(node, err) from None
        finally:
            response.release()
        call.upstream_wait += time.perf_counter() - waited
        assert call.node is not None
        boundary = self.policy.boundary(call.key.agent)
        if boundary is not None and call.endpoint == "chat/completions":
            try:
                answer = json.loads(data)
            except ValueError:
                answer = {}
            if isinstance(answer, dict):
                try:
                    check_answer_tool_calls(boundary, call.key.agent or "", answer)
                except ApiError:
                    call.actions.append("tool-call-blocked")
                    raise
        data = _rename_model(data, call.node.model_id, route.name)
        _count_usage(call, data)
        self._finish(call)  # spooled before the answer is sent
        await _respond(send, 200, data, _JSON, call.request_id)

    async def _stream(
        self, call: _Call, route: Route, node: Node, body: dict[str, Any], send: Send
    ) -> None:
        response = await self._post(call, route, node, body)
        assert call.node is not None
        renames = _renames(call.node.model_id, route.name)
        boundary = self.policy.boundary(call.key.agent)
        guard = StreamToolGuard(boundary, call.key.agent or "") if boundary is not None else None
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_SSE, (b"x-inhouse-request-id", call.request_id.encode())],
            }
        )
        buffer = b""
        done: bytes | None = None
        counted_out = 0
        reported_out: int | None = None
        try:
            try:
                waited = time.perf_counter()
                async for chunk in response.content.iter_any():
                    now = time.perf_counter()
                    call.upstream_wait += now - waited
                    buffer += chunk
                    out: list[bytes] = []  # the events of one upstream read go out in one send
                    while (end := _event_end(buffer)) >= 0:
                        event, buffer = buffer[:end], buffer[end:]
                        if b"[DONE]" in event:
                            done = event
                            continue
                        if _CONTENT.search(event):
                            counted_out += 1
                            if call.ttft is None:
                                call.ttft = now - call.started
                        if b'"usage"' in event:
                            match = _COMPLETION_TOKENS.search(event)
                            reported_out = int(match.group(1)) if match else reported_out
                            match = _PROMPT_TOKENS.search(event)
                            call.tokens_in = int(match.group(1)) if match else call.tokens_in
                        for seen, wanted in renames:
                            event = event.replace(seen, wanted)
                        if guard is not None and guard.wants(event):
                            if out:  # content before a tool call is never held back
                                await send(_chunk(b"".join(out)))
                                out = []
                            out.extend(guard.feed(event))
                        else:
                            out.append(event)
                    if out:
                        await send(_chunk(b"".join(out)))
                    waited = time.perf_counter()
            except TimeoutError:
                raise ApiError(504, f"runtime {node.runtime} at {node.url} stopped answering",
                               type="upstream_error", code="runtime_timeout") from None  # fmt: skip
            except aiohttp.ClientError as err:
                raise _upstream_lost(node, err) from None
            finally:
                response.release()
            if guard is not None and (held := guard.finish()):
                await send(_chunk(b"".join(held)))
            if buffer.strip():
                await send(_chunk(buffer))
        except ApiError as err:
            # headers are gone: the error travels as an event the OpenAI clients raise on
            call.status = err.status
            if err.code == "tool_call_blocked":
                call.actions.append("tool-call-blocked")
            call.tokens_out = reported_out if reported_out is not None else counted_out
            self._finish(call)
            payload = b"data: " + err.body() + b"\n\n"
            await send({"type": "http.response.body", "body": payload, "more_body": False})
            return
        call.tokens_out = reported_out if reported_out is not None else counted_out
        self._finish(call)  # spooled before the last bytes ([DONE]) are sent
        await send(
            {"type": "http.response.body", "body": done or b"data: [DONE]\n\n", "more_body": False}
        )

    def _finish(self, call: _Call) -> None:
        """Spool the usage record and update metrics; runs before the answer's last bytes."""
        elapsed = time.perf_counter() - call.started
        overhead = max(elapsed - call.upstream_wait, 0.0)
        key = call.key
        if call.status < 400:
            self.limiter.spend(key.id, call.tokens_in + call.tokens_out)
        record = UsageRecord(
            request_id=call.request_id,
            at=UsageRecord.now(),
            person=key.person,
            key_id=key.id,
            agent=key.agent,
            endpoint=call.endpoint,
            model=call.model,
            status=call.status,
            digest=call.node.digest if call.node else None,
            prompt_id=call.prompt_id,
            workflow_id=call.workflow_id,
            stream=call.stream,
            tokens_in=call.tokens_in,
            tokens_out=call.tokens_out,
            ttft_ms=None if call.ttft is None else round(call.ttft * 1000, 3),
            latency_ms=round(elapsed * 1000, 3),
            overhead_ms=round(overhead * 1000, 3),
            policy=call.actions,
            upstream=call.node.url if call.node else None,
            body=call.body,
        )
        self.usage.record(record)
        self.metrics.observe(
            model=call.model,
            person=key.person,
            status=call.status,
            latency=elapsed,
            overhead=overhead,
            ttft=call.ttft,
            tokens_in=call.tokens_in,
            tokens_out=call.tokens_out,
            actions=call.actions,
        )


# -- helpers ------------------------------------------------------------------------------------


def _chunk(data: bytes) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": True}


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    request_id: str | None = None,
) -> None:
    extra = [(b"x-inhouse-request-id", request_id.encode())] if request_id else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, "the client went away before sending its request")
        part = message.get("body", b"")
        size += len(part)
        if size > _MAX_BODY:
            raise ApiError(413, f"request body over {_MAX_BODY // (1024 * 1024)} MiB")
        parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts)


def _renames(upstream_id: str, name: str) -> list[tuple[bytes, bytes]]:
    """Byte replacements that make an answer name the blessed model, not the runtime's id
    (often a file path); none when they are the same."""
    if upstream_id == name:
        return []
    seen, wanted = json.dumps(upstream_id).encode(), json.dumps(name).encode()
    return [
        (b'"model":' + seen, b'"model":' + wanted),
        (b'"model": ' + seen, b'"model": ' + wanted),
    ]


def _rename_model(data: bytes, upstream_id: str, name: str) -> bytes:
    for seen, wanted in _renames(upstream_id, name):
        data = data.replace(seen, wanted)
    return data


def _count_usage(call: _Call, data: bytes) -> None:
    match = _PROMPT_TOKENS.search(data)
    if match:
        call.tokens_in = int(match.group(1))
    match = _COMPLETION_TOKENS.search(data)
    if match:
        call.tokens_out = int(match.group(1))


def _estimate_tokens(endpoint: str, body: dict[str, Any]) -> int:
    """Prompt tokens as ~4 characters each, until the runtime reports the real count."""
    from inhouse.gateway.policies import _texts

    chars = sum(len(str(container[key])) for container, key in _texts(endpoint, body))
    return max(1, chars // 4) if chars else 0


def _upstream_lost(node: Node, err: Exception) -> ApiError:
    return ApiError(
        502,
        f"runtime {node.runtime} at {node.url} dropped the request ({type(err).__name__}: {err})",
        type="upstream_error",
        code="runtime_unavailable",
    )


def _upstream_error(node: Node, status: int, data: bytes) -> ApiError:
    message = data[:500].decode("utf-8", "replace")
    try:
        parsed = json.loads(data)
        if isinstance(parsed, dict):
            error = parsed.get("error")
            if isinstance(error, dict) and error.get("message"):
                message = str(error["message"])
            elif isinstance(parsed.get("detail"), str):
                message = parsed["detail"]
    except ValueError:
        pass
    client_status = 502 if status >= 500 else status
    return ApiError(
        client_status,
        f"runtime {node.runtime} at {node.url} answered {status}: {message}",
        type="upstream_error" if status >= 500 else "invalid_request_error",
        code="runtime_error",
    )
