"""The stand-in server in this event loop: its timing, its listener and its routes."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from inhouse.testing.standin_upstream._answers import Events, Stream, count_words, embedding, token
from inhouse.testing.standin_upstream._wire import Connection, Request, error_body

__all__ = ["StandinTiming", "StandinUpstream"]

_ACCEPTS_PER_WAKEUP = 128


@dataclass(frozen=True)
class StandinTiming:
    """The latency the stand-in injects, and how long its answers are."""

    ttft_ms: float = 200.0
    tpot_ms: float = 20.0
    tokens: int = 16

    def __post_init__(self) -> None:
        if self.ttft_ms < 0 or self.tpot_ms < 0:
            raise ValueError("ttft_ms and tpot_ms must be >= 0")
        if self.tokens < 1:
            raise ValueError("tokens must be >= 1")


@dataclass
class _Stats:
    requests: int = 0
    bodies: list[tuple[str, Any]] = field(default_factory=list)


class StandinUpstream:
    """The stand-in server, run in the current event loop.

    ``async with StandinUpstream(StandinTiming(200, 20, 16)) as upstream:`` then talk to
    ``upstream.url``. With ``record=True`` it keeps every request body it received (path, JSON),
    so a test can check what reached the upstream. With ``root`` it names the file it says it
    serves in its ``/v1/models`` entry, as vLLM does: the runtime's own word that ties a model to
    its weights (and so gives it a digest); without it, the model names no file."""

    def __init__(
        self,
        timing: StandinTiming | None = None,
        *,
        model: str = "standin-model",
        host: str = "127.0.0.1",
        port: int = 0,
        record: bool = False,
        root: str | None = None,
    ) -> None:
        self.timing = timing or StandinTiming()
        self.model = model
        self.root = root
        self.host = host
        self.port = port
        self.record = record
        self.stats = _Stats()
        self._listener: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connections: set[Connection] = set()
        self._events: dict[tuple[str, bool], Events] = {}
        self._created = int(time.time())

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        assert self._loop is not None, "start() first"
        return self._loop

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests_served(self) -> int:
        return self.stats.requests

    @property
    def received(self) -> list[tuple[str, Any]]:
        """(path, decoded JSON body) of every POST received, when ``record=True``."""
        return self.stats.bodies

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        listener = socket.create_server((self.host, self.port), backlog=2048)
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._loop.add_reader(listener.fileno(), self._accept)

    def _accept(self) -> None:
        assert self._listener is not None
        for _ in range(_ACCEPTS_PER_WAKEUP):
            try:
                sock, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # e.g. out of file descriptors: the client sees a refused connection
            Connection(self, sock)

    async def aclose(self) -> None:
        if self._listener is not None:
            self.loop.remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
        for conn in list(self.connections):
            conn.close()

    async def __aenter__(self) -> StandinUpstream:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- routes ---------------------------------------------------------------------------------

    def dispatch(self, conn: Connection, request: Request) -> None:
        """Answer one parsed request (its connection calls this)."""
        self.stats.requests += 1
        route = (request.method, request.path.rstrip("/") or "/")
        if route == ("GET", "/v1/models"):
            entry = {
                "id": self.model,
                "object": "model",
                "created": 0,
                "owned_by": "inhouse-standin",
            }
            if self.root is not None:
                entry["root"] = self.root
            conn.send_json(200, {"object": "list", "data": [entry]})
            return
        if route == ("GET", "/healthz"):
            conn.send_json(200, {"status": "ok", "standin": True})
            return
        handlers = {
            "/v1/chat/completions": self._completion,
            "/v1/completions": self._completion,
            "/v1/embeddings": self._embeddings,
        }
        handler = handlers.get(route[1])
        if handler is None:
            conn.send_json(404, error_body(f"no route {request.path}", "not_found_error"))
            return
        if request.method != "POST":
            conn.send_json(405, error_body(f"use POST for {request.path}", "invalid_request_error"))
            return
        try:
            body = json.loads(request.body)
        except ValueError:
            conn.send_json(400, error_body("the body is not JSON", "invalid_request_error"))
            return
        if not isinstance(body, dict):
            conn.send_json(
                400, error_body("the body must be a JSON object", "invalid_request_error")
            )
            return
        if self.record:
            self.stats.bodies.append((request.path, body))
        handler(conn, request, body)

    def _completion(self, conn: Connection, request: Request, body: dict[str, Any]) -> None:
        chat = request.path.rstrip("/").endswith("chat/completions")
        if chat and not isinstance(body.get("messages"), list):
            conn.send_json(400, error_body("'messages' must be a list", "invalid_request_error"))
            return
        if not chat and not isinstance(body.get("prompt"), str | list):
            conn.send_json(400, error_body("'prompt' is required", "invalid_request_error"))
            return
        # a stop sequence ends the answer before it (the server keeps it out and says `stop`,
        # as for an answer that ended on its own); max_tokens cuts what is left (`length`)
        tokens = _before_stop(self.timing.tokens, body.get("stop"))
        finish = "stop"
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        if isinstance(limit, int) and 1 <= limit < tokens:
            tokens, finish = limit, "length"
        prompt_tokens = count_words(body.get("messages") if chat else body.get("prompt"))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": tokens,
                 "total_tokens": prompt_tokens + tokens}  # fmt: skip
        model = str(body.get("model") or self.model)
        ttft = self.timing.ttft_ms / 1000
        tpot = self.timing.tpot_ms / 1000
        if body.get("stream"):
            options = body.get("stream_options")
            with_usage = isinstance(options, dict) and bool(options.get("include_usage"))
            events = self._events.get((model, chat))
            if events is None:
                events = self._events[(model, chat)] = Events(model, chat, self._created)
            frames = events.frames(tokens, finish, usage if with_usage else None)
            Stream(conn, request.arrived, ttft, tpot, frames).begin(events.first)
            return
        text = "".join(token(i) for i in range(tokens))
        choice: dict[str, Any] = {"index": 0, "finish_reason": finish, "logprobs": None}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
        else:
            choice["text"] = text
        reply = {
            "id": "standin-0", "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()), "model": model, "choices": [choice], "usage": usage,
        }  # fmt: skip
        due = request.arrived + ttft + max(tokens - 1, 0) * tpot
        conn.call_at(due, lambda: conn.send_json(200, reply))

    def _embeddings(self, conn: Connection, request: Request, body: dict[str, Any]) -> None:
        raw = body.get("input")
        inputs = [raw] if isinstance(raw, str) else raw
        if not isinstance(inputs, list) or not all(isinstance(x, str) for x in inputs):
            conn.send_json(400, error_body("'input' must be a string or a list of strings",
                                       "invalid_request_error"))  # fmt: skip
            return
        data = [
            {"object": "embedding", "index": i, "embedding": embedding(text)}
            for i, text in enumerate(inputs)
        ]
        words = sum(count_words(text) for text in inputs)
        reply = {"object": "list", "data": data, "model": str(body.get("model") or self.model),
                 "usage": {"prompt_tokens": words, "total_tokens": words}}  # fmt: skip
        conn.call_at(
            request.arrived + self.timing.ttft_ms / 1000, lambda: conn.send_json(200, reply)
        )


def _before_stop(tokens: int, stop: Any) -> int:
    """How many of the stand-in's ``tokens`` answer tokens come whole before the first of the
    request's ``stop`` sequences (a string or a list of them) in its answer, else all of them."""
    stops = [stop] if isinstance(stop, str) else stop if isinstance(stop, list) else []
    text = "".join(token(i) for i in range(tokens))
    found = [text.find(s) for s in stops if isinstance(s, str) and s and s in text]
    if not found:
        return tokens
    cut, end, whole = min(found), 0, 0
    for i in range(tokens):
        end += len(token(i))
        if end > cut:
            break
        whole += 1
    return whole
