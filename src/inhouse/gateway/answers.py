"""What the gateway answers in: JSON, and the one mapper from an error to OpenAI's error shape.

Code behind the edge raises :mod:`inhouse.errors` exceptions; each class carries its HTTP status
and OpenAI error ``type`` and ``code``. :func:`openai_error` turns any exception into the status
and body a client sees, ``{"error": {"message", "type", "param", "code"}}``; anything that is not
an :class:`~inhouse.errors.InhouseError` is a bug, logged and answered as a 500 of the same shape
that names the request id (the log line carries it too), never a plain-text 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import orjson

from inhouse.errors import InhouseError

__all__ = ["JSON", "json_bytes", "openai_error"]

log = logging.getLogger("inhouse.gateway")

JSON = [(b"content-type", b"application/json")]


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
