"""A stand-in upstream (not a model) whose answers call a tool: the exact tool-call shapes an
OpenAI-compatible server sends, streamed in pieces or whole, so the gateway's tool-call checks
can be tested. Serves ``/v1/models`` and ``/v1/chat/completions`` on loopback; given ``root``,
its model list names that file as the weights it serves (as vLLM's does), which is what gives
the model a digest."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.gateway.fault_standin import model_entry


class ToolCallStandin:
    def __init__(
        self, tool: str, arguments: dict[str, Any], *, model: str = "tiny", root: str | None = None
    ) -> None:
        self.tool = tool
        self.arguments = json.dumps(arguments)
        self.model = model
        self.root = root
        self.received: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> ToolCallStandin:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [model_entry(self.model, self.root)]})

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        data = {
            "id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }  # fmt: skip
        return f"data: {json.dumps(data)}\r\n\r\n".encode()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.received.append(body)
        call = {"id": "call_1", "type": "function",
                "function": {"name": self.tool, "arguments": self.arguments}}  # fmt: skip
        if not body.get("stream"):
            return web.json_response({
                "id": "chatcmpl-standin", "object": "chat.completion", "created": 0,
                "model": self.model,
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": None, "tool_calls": [call]}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
            })  # fmt: skip
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(self._chunk({"role": "assistant", "content": "Let me check."}))
        half = len(self.arguments) // 2
        pieces = [
            {"index": 0, "id": "call_1", "type": "function",
             "function": {"name": self.tool, "arguments": self.arguments[:half]}},
            {"index": 0, "function": {"arguments": self.arguments[half:]}},
        ]  # fmt: skip
        for piece in pieces:
            await response.write(self._chunk({"tool_calls": [piece]}))
        await response.write(self._chunk({}, finish="tool_calls"))
        await response.write(b"data: [DONE]\r\n\r\n")
        await response.write_eof()
        return response
