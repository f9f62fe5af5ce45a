# ruff: noqa: RUF001  (full-width characters are what these tests are about)
"""Every text a request carries to a model is scanned (issue 17, case 3): a card number in an
earlier assistant message's tool-call arguments, a tool result, a function name, a tool's
description, a completion prompt or an embedding input is refused (451) and never reaches the
runtime — checked at the recording stand-in upstream, which keeps every body it receives — and
so is one written in full-width digits or split by zero-width spaces. A request with nothing to
find reaches the runtime exactly as it was sent."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    digest_of,
    error_of,
    in_process,
    key_for,
    make_program,
    model_file,
    one_runtime,
    usage_rows,
    weights_root,
)

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)
CARD = "4111 1111 1111 1111"
FULL_WIDTH = CARD.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
ZERO_WIDTH = "\u200b".join(CARD.replace(" ", ""))


def _history(arguments: str, result: str = "done", name: str = "charge") -> dict[str, Any]:
    """A chat whose history carries an assistant's tool call and the tool's result."""
    return {
        "model": "tiny",
        "messages": [
            {"role": "user", "content": "Pay the invoice"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function",
                 "function": {"name": name, "arguments": arguments}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": result},
            {"role": "user", "content": "Thanks, what next?"},
        ],
    }  # fmt: skip


def _tools(description: str) -> dict[str, Any]:
    return {
        "model": "tiny",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {
            "name": "charge", "description": description,
            "parameters": {"type": "object", "properties": {"card": {"type": "string"}}}}}],
    }  # fmt: skip


CASES = {
    "tool-call arguments": ("/v1/chat/completions", _history(json.dumps({"card": CARD}))),
    "tool-call arguments, full-width": (
        "/v1/chat/completions", _history(json.dumps({"card": FULL_WIDTH}, ensure_ascii=False))),
    "tool-call arguments, zero-width": (
        "/v1/chat/completions", _history(json.dumps({"card": ZERO_WIDTH}))),
    "tool result": ("/v1/chat/completions", _history("{}", result=f"charged {CARD}")),
    "function name": ("/v1/chat/completions", _history("{}", name=f"charge {CARD}")),
    "tool description": ("/v1/chat/completions", _tools(f"charges card {CARD} by default")),
    "parameter schema": ("/v1/chat/completions", {**_tools("charges"), "tools": [
        {"type": "function", "function": {"name": "charge", "parameters": {
            "type": "object", "properties": {"card": {"type": "string",
                                                      "description": f"e.g. {FULL_WIDTH}"}}}}}]}),
    "message content, zero-width": ("/v1/chat/completions", {
        "model": "tiny", "messages": [{"role": "user", "content": f"my card: {ZERO_WIDTH}"}]}),
    "completion prompt": ("/v1/completions", {"model": "tiny", "prompt": f"card {FULL_WIDTH}"}),
    "completion prompts": ("/v1/completions", {"model": "tiny", "prompt": ["a", f"c {CARD}"]}),
    "embedding input": ("/v1/embeddings", {"model": "tiny", "input": ["ok", f"c {ZERO_WIDTH}"]}),
}  # fmt: skip


def _program(folder: Path, url: str) -> Any:
    return one_runtime(folder, url, extra={"data_rules": {"default": "block"}})


@pytest.mark.parametrize("where", list(CASES))
def test_a_card_anywhere_in_the_request_is_blocked_before_the_runtime(
    _isolated: Path, where: str
) -> None:
    path, body = CASES[where]

    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                reply = await client.post(path, json=body, headers=auth(key))
                await gateway.usage.flush()
            assert reply.status_code == 451, reply.text
            assert error_of(reply)["code"] == "data_class_blocked"
            assert "card" in error_of(reply)["message"]
            assert upstream.received == []  # the runtime never saw it
            [row] = usage_rows(program)
            assert (row["status"], json.loads(row["policy"])) == (451, ["block:data_class_blocked"])
            assert row["request_id"] == reply.headers["x-inhouse-request-id"]
            program.close()

    asyncio.run(run())


def test_redaction_reaches_into_tool_call_history_and_leaves_the_rest_as_sent(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            weights = model_file(_isolated)
            runtimes = {"local": {"family": "openai", "url": upstream.url,
                                  "model_path": str(weights)}}  # fmt: skip
            program = make_program(_isolated, runtimes, {"tiny": digest_of(weights)},
                                   extra={"data_rules": {"default": "redact"}})  # fmt: skip
            key = key_for(program)
            body = _history(json.dumps({"card": FULL_WIDTH, "memo": "ｆｏｒ ｒｅｎｔ"}))
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=body, headers=auth(key))
            assert reply.status_code == 200
            [(_, received)] = upstream.received
            arguments = received["messages"][1]["tool_calls"][0]["function"]["arguments"]
            assert json.loads(arguments) == {"card": "[REDACTED:card]", "memo": "ｆｏｒ ｒｅｎｔ"}
            received["messages"][1]["tool_calls"][0]["function"]["arguments"] = "-"
            body["messages"][1]["tool_calls"][0]["function"]["arguments"] = "-"
            assert received == body
            program.close()

    asyncio.run(run())


def test_a_request_with_nothing_to_find_reaches_the_runtime_exactly_as_sent(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            # disguise-like characters that hide nothing: they must not be normalised away
            body = _history(json.dumps({"ref": "ＩＮＶ－２０２６", "note": "zero\u200bwidth"},
                                       ensure_ascii=False), result="ok ١٢٣")  # fmt: skip
            body["tools"] = _tools("Ｆｕｌｌ－ｗｉｄｔｈ tool")["tools"]
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=body, headers=auth(key))
            assert reply.status_code == 200
            assert upstream.received == [("/v1/chat/completions", body)]
            program.close()

    asyncio.run(run())
