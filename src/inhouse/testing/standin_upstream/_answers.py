"""What the stand-in answers: made-up tokens, timed as told, in OpenAI's shapes (streamed
events serialised once per model and reused), word-count usage and hash embeddings."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

from inhouse.testing.standin_upstream._wire import Connection, chunk

__all__ = ["Events", "Stream", "count_words", "embedding", "token"]

_EMBEDDING_DIMENSIONS = 8


class Stream:
    """One streamed answer: a role chunk now, then token *i* at ``arrived + ttft + i * tpot``.

    Every event is serialised and framed when the answer starts (token events once per model,
    shared by all answers), so a due token costs one ``send`` and no formatting."""

    def __init__(
        self,
        conn: Connection,
        arrived: float,
        ttft: float,
        tpot: float,
        frames: list[bytes],
    ) -> None:
        self.conn = conn
        self.arrived = arrived
        self.ttft = ttft
        self.tpot = tpot
        self.frames = frames
        self.sent = 0

    def begin(self, first: bytes) -> None:
        self.conn.start_events(first)
        self.conn.call_at(self.arrived + self.ttft, self.tick)

    def tick(self) -> None:
        frame = self.frames[self.sent]
        self.sent += 1
        if self.sent < len(self.frames):
            self.conn.write(frame)
            self.conn.call_at(self.arrived + self.ttft + self.sent * self.tpot, self.tick)
            return
        self.conn.write(frame)
        self.conn.finish()


class Events:
    """The server-sent events of one model's answers, serialised once and kept."""

    def __init__(self, model: str, chat: bool, created: int) -> None:
        self.chat = chat
        kind = "chat.completion.chunk" if chat else "text_completion"
        self.prefix = (
            f'data: {{"id":"standin-0","object":"{kind}","created":{created},'
            f'"model":{json.dumps(model)},"choices":'
        ).encode()
        self.tokens: list[bytes] = []  # framed token events, grown on demand
        self.first = (
            self.event(
                '[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]'
            )
            if chat
            else b": standin\n\n"
        )

    def event(self, choices: str, extra: str = "") -> bytes:
        return self.prefix + choices.encode() + extra.encode() + b"}\n\n"

    def choice(self, text: str | None, finish: str | None = None) -> str:
        reason = "null" if finish is None else f'"{finish}"'
        if self.chat:
            delta = "{}" if text is None else json.dumps({"content": text})
            return f'[{{"index":0,"delta":{delta},"finish_reason":{reason}}}]'
        return f'[{{"index":0,"text":{json.dumps(text or "")},"finish_reason":{reason}}}]'

    def frames(self, tokens: int, finish: str, usage: dict[str, int] | None) -> list[bytes]:
        """Token 0 … n-1 framed as HTTP chunks; the last also ends the answer."""
        while len(self.tokens) < tokens:
            self.tokens.append(chunk(self.event(self.choice(token(len(self.tokens))))))
        out = self.tokens[: max(tokens - 1, 0)]
        tail = self.event(self.choice(token(tokens - 1))) if tokens else b""  # a stop at once
        tail += self.event(self.choice(None if self.chat else "", finish))
        if usage is not None:
            tail += self.event("[]", f',"usage":{json.dumps(usage)}')
        out.append(chunk(tail + b"data: [DONE]\n\n") + b"0\r\n\r\n")
        return out


def token(index: int) -> str:
    return f"tok{index} "


def count_words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(count_words(item) for item in value)
    if isinstance(value, dict):
        return count_words(value.get("content"))
    return 0


def embedding(text: str) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    vector = [(b - 127.5) / 127.5 for b in digest[:_EMBEDDING_DIMENSIONS]]
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]
