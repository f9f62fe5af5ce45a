"""Server-sent events as the gateway passes them on: where one event ends in the bytes read so
far, the JSON ``data:`` of an event, and the framing of the events the gateway writes itself.

Events are kept as the upstream's bytes (never re-encoded), so a stream goes out as it came.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

__all__ = ["HEADERS", "HEADER_LINES", "error_event", "event_data", "event_end", "is_done"]

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]
#: :data:`HEADERS` as the lines of a head, joined once (a stream's head is built per request)
HEADER_LINES = b"".join([b"%b: %b\r\n" % pair for pair in HEADERS])


def event_end(buffer: bytes, start: int = 0) -> int:
    """Index just past the first complete event in ``buffer`` from ``start`` on, or -1."""
    lf = buffer.find(b"\n\n", start)
    if lf < 0:
        crlf = buffer.find(b"\n\r\n", start)
        return -1 if crlf < 0 else crlf + 3
    # a CRLF ending comes first only if it lies wholly before the LF one (no scan past it)
    crlf = buffer.find(b"\n\r\n", start, lf + 1)
    return lf + 2 if crlf < 0 else crlf + 3


def is_done(event: bytes) -> bool:
    """Whether ``event`` is the stream's ``[DONE]`` (its data is exactly that, so an answer
    whose text says "[DONE]" does not end the stream)."""
    return event.find(b"[DONE]") >= 0 and any(
        line[5:].strip() == b"[DONE]" for line in event.splitlines() if line.startswith(b"data:")
    )


def event_data(event: bytes) -> Iterator[dict[str, Any]]:
    """The JSON objects in the ``data:`` lines of one event (``[DONE]`` and garbage skipped)."""
    for line in event.splitlines():
        if line.startswith(b"data:"):
            text = line[5:].strip()
            if text and text != b"[DONE]":
                try:
                    data = json.loads(text)
                except ValueError:
                    continue
                if isinstance(data, dict):
                    yield data


def error_event(body: bytes) -> bytes:
    """An error body framed as the event that ends a stream (the OpenAI clients raise on it)."""
    return b"data: " + body + b"\n\n"
