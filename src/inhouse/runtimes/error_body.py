"""What a model server said went wrong: the one reader of error bodies, for the runtime adapters,
the load generator and the gateway alike.

OpenAI-compatible servers answer errors in a few shapes: OpenAI's ``{"error": {"message": …}}``,
FastAPI's ``{"detail": …}`` and Ollama's ``{"error": "…"}``; the same shapes arrive as an event
in the middle of a stream.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["error_detail", "error_message", "snippet"]


def error_message(data: Any) -> str | None:
    """The message of an error body already decoded from JSON; ``None`` when it is none of the
    shapes above."""
    if not isinstance(data, dict):
        return None
    error = data.get("error", data.get("detail"))
    if isinstance(error, dict) and "message" in error:
        return str(error["message"])
    if error is not None:
        return str(error)[:300]
    return None


def error_detail(body: bytes) -> str:
    """The message of a raw error body, or the start of the body when it carries none."""
    try:
        data = json.loads(body)
    except ValueError:
        return snippet(body) if body else "(empty body)"
    message = error_message(data)
    return snippet(body) if message is None else message


def snippet(body: bytes, limit: int = 200) -> str:
    """The start of ``body`` as a quoted string, for messages about an answer nobody can read."""
    text = body.decode("utf-8", errors="replace").strip()
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
