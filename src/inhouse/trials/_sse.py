"""Server-sent events out of a streamed answer's timed reads, parsed after the run so that
parsing never delays the timestamps of streams still running: each event takes the time of the
read that completed it, and the times of the events carrying generated tokens are kept."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Stream", "decoded", "parse_stream"]


def decoded(fragments: list[tuple[float, bytes]], encoding: str) -> list[tuple[float, bytes]]:
    """The body fragments decompressed (gzip/deflate), each keeping its read time. inhouse asks
    for no compression; this is for servers that compress anyway."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return fragments
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise zlib.error(f"unsupported content-encoding {encoding!r}")
    inflate = zlib.decompressobj(wbits=47 if "gzip" in encoding else 15)
    return [(stamp, inflate.decompress(data)) for stamp, data in fragments]


@dataclass
class Stream:
    content_times: list[float] = field(default_factory=list)
    text: str = ""
    usage: dict[str, Any] | None = None
    #: what went wrong, where the stream was not what an OpenAI server sends
    error: str | None = None
    #: the event the server reported an error in, mid-stream (the load generator words it)
    error_event: dict[str, Any] | None = None
    #: why the server says the answer ended (``stop``; ``length``: cut at ``max_tokens``);
    #: None where it did not say
    finish_reason: str | None = None


def parse_stream(reads: list[tuple[float, bytes]]) -> Stream:
    """Server-sent events out of timed reads: each event gets the time of the read that
    completed it; the times of events carrying content are kept."""
    out = Stream()
    parts: list[str] = []
    pending = b""
    for stamp, data in reads:
        pending = (pending + data).replace(b"\r\n", b"\n")
        if b"\n\n" not in pending:
            continue
        *events, pending = pending.split(b"\n\n")
        for event in events:
            payload = _event_data(event)
            if payload is None or payload == "[DONE]":
                continue
            try:
                message = json.loads(payload)
            except ValueError:
                out.error = f"sent an event that is not JSON: {payload[:200]!r}"
                return out
            if not isinstance(message, dict):
                continue
            if "error" in message and not message.get("choices"):
                out.error_event = message
                return out
            if isinstance(message.get("usage"), dict):
                out.usage = message["usage"]
            finish = _finish(message)
            if finish is not None:
                out.finish_reason = finish
            generated, text = _content(message)
            if generated:
                out.content_times.append(stamp)
                parts.append(text)
    out.text = "".join(parts)
    return out


def _event_data(event: bytes) -> str | None:
    lines = [
        line[5:].lstrip() if line.startswith("data:") else None
        for line in event.decode("utf-8", errors="replace").split("\n")
    ]
    data = [line for line in lines if line is not None]
    return "\n".join(data) if data else None


def _finish(message: dict[str, Any]) -> str | None:
    """The ``finish_reason`` one streamed event gives, if any."""
    choices = message.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    reason = choices[0].get("finish_reason")
    return reason if isinstance(reason, str) and reason else None


def _content(message: dict[str, Any]) -> tuple[bool, str]:
    """Whether one streamed event carries generated tokens, and the answer text it adds: chat
    ``delta.content`` or a completion's ``text``. Reasoning (``reasoning_content``) is generated
    output too, so it counts for the timings, but it is not part of the answer's text."""
    choices = message.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return False, ""
    choice = choices[0]
    delta = choice.get("delta")
    if isinstance(delta, dict):
        content = delta.get("content")
        if isinstance(content, str) and content:
            return True, content
        reasoning = delta.get("reasoning_content", delta.get("reasoning"))
        return isinstance(reasoning, str) and bool(reasoning), ""
    text = choice.get("text")
    return (True, text) if isinstance(text, str) and text else (False, "")
