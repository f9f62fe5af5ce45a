"""The gateway's ASGI edge: reading a request body, sending an answer, and the one mapper from an
error to OpenAI's error shape.

Code behind the edge raises :mod:`inhouse.errors` exceptions; each class carries its HTTP status
and OpenAI error ``type`` and ``code``. :func:`openai_error` turns any exception into the status
and body a client sees, ``{"error": {"message", "type", "param", "code"}}``; anything that is not
an :class:`~inhouse.errors.InhouseError` is a bug, logged and answered as a 500 of the same shape
that names the request id (the log line carries it too), never a plain-text 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from inhouse.errors import BadRequest, InhouseError, RequestTooLarge

__all__ = [
    "JSON",
    "MAX_BODY",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "body_part",
    "json_bytes",
    "openai_error",
    "read_body",
    "respond",
]

log = logging.getLogger("inhouse.gateway")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

JSON = [(b"content-type", b"application/json")]
MAX_BODY = 32 * 1024 * 1024


def openai_error(err: BaseException, request_id: str | None = None) -> tuple[int, bytes]:
    """The HTTP status and OpenAI-shaped JSON body that answer ``err`` (for a bug, naming
    ``request_id``, under which the gateway's log has the details)."""
    if not isinstance(err, InhouseError):
        where = f" under request id {request_id}" if request_id else ""
        log.error("the gateway failed on request %s", request_id or "?", exc_info=err)
        err = InhouseError(
            f"the gateway failed on this request ({type(err).__name__}); its log has the "
            f"details{where}"
        )
    body = {
        "error": {
            "message": str(err),
            "type": err.error_type,
            "param": err.param,
            "code": err.code,
        }
    }
    return err.http_status, json.dumps(body).encode()


def json_bytes(value: Any) -> bytes:
    """``value`` as compact JSON, UTF-8: orjson (~5x json.dumps; this runs for every request),
    or json for what only json writes (an integer over 64 bits)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def body_part(data: bytes) -> Message:
    """One more part of an answer whose headers are sent (a streamed answer's events)."""
    return {"type": "http.response.body", "body": data, "more_body": True}


async def respond(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    request_id: str | None = None,
) -> None:
    """Send a whole answer: status, headers (with its length) and body."""
    extra = [(b"x-inhouse-request-id", request_id.encode())] if request_id else []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    """The whole request body; refuses one over ``limit`` bytes or one the client abandoned."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BadRequest("the client went away before sending its request")
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            raise RequestTooLarge(
                f"the request body is over this gateway's limit of {limit} bytes "
                "(gateway.max_body_bytes); it was refused before it was read whole"
            )
        parts.append(part)
        if not message.get("more_body", False):
            return b"".join(parts)
