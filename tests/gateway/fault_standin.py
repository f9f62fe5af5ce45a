"""A stand-in runtime that misbehaves on purpose (it is NOT a model): the faults a real runtime
shows only by accident, made exact so the gateway's handling of each can be tested.

    no-done        a stream of good events that ends with a clean EOF, without [DONE]
    not-json       a stream with an event whose data is not JSON (then [DONE])
    html           status 200 with an HTML page, for whole answers and streams alike
    error-200      status 200 with an OpenAI error object instead of an answer
    frozen         a stream that sends two events and then nothing (a hung runtime); a whole
                   answer that never comes
    invalid-500    what llama-cpp-python answers to a request its own validation refuses: 500
                   with its ``internal_server_error`` body
    ok             a good answer (whole, or a stream ending with [DONE])

It records every request body it receives (``received``), so a test can check what reached it.
Given ``root``, its model list names that file as the weights it serves (as vLLM's does), which
is what gives the model a digest.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

__all__ = ["FaultyRuntimeStandin", "model_entry"]


def model_entry(model: str, root: str | None) -> dict[str, str]:
    """A ``/v1/models`` entry: the model, and the file it says it serves when it names one."""
    return {"id": model} if root is None else {"id": model, "root": root}


class FaultyRuntimeStandin:
    def __init__(self, mode: str, *, model: str = "tiny", root: str | None = None) -> None:
        self.mode = mode
        self.model = model
        self.root = root
        self.received: list[dict[str, Any]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    async def __aenter__(self) -> FaultyRuntimeStandin:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._release.set()
        assert self._runner is not None
        await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [model_entry(self.model, self.root)]})

    def _event(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {
            "id": "chatcmpl-faulty", "object": "chat.completion.chunk", "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }  # fmt: skip
        return f"data: {json.dumps(data)}\n\n".encode()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.received.append(body)
        mode = self.mode
        if mode == "html":
            return web.Response(
                status=200, text="<html><body>Bad gateway of a proxy</body></html>",
                content_type="text/html",
            )  # fmt: skip
        if mode == "error-200":
            return web.json_response({"error": {"message": "model is loading", "type": "busy"}})
        if mode == "invalid-500":
            message = (
                "1 validation error for CreateChatCompletionRequest\nmessages.0.role\n  Input "
                "should be 'system', 'user', 'assistant', 'tool' or 'function'"
            )
            return web.json_response(
                {"error": {"message": message, "type": "internal_server_error",
                           "param": None, "code": None}},
                status=500,
            )  # fmt: skip
        if not body.get("stream"):
            if mode == "frozen":
                await self._release.wait()
            return web.json_response({
                "id": "chatcmpl-faulty", "object": "chat.completion", "created": 0,
                "model": self.model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "fine"}}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            })  # fmt: skip
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(self._event({"role": "assistant", "content": ""}))
        await response.write(self._event({"content": "Half an"}))
        if mode == "frozen":
            await self._release.wait()
            return response
        if mode == "not-json":
            await response.write(b"data: <html>upstream hiccup</html>\n\n")
        await response.write(self._event({"content": " answer"}, finish="stop"))
        if mode != "no-done":
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
