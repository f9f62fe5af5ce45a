"""Data-handling rules and agent tool boundaries at the gateway: blocked data never leaves (the
recording stand-in upstream shows what arrived), redaction is applied, disallowed tools are
refused or stripped, tool calls that break the boundary are blocked, streamed or not, and a key
of an agent that has no boundary is refused outright."""

from __future__ import annotations

import asyncio
import json
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    chat,
    error_of,
    in_process,
    key_for,
    one_runtime,
    sse_events,
    usage_rows,
    weights_root,
)
from tests.gateway.toolcall_standin import ToolCallStandin

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=3)
CARD = "4111 1111 1111 1111"
RULES = {
    "data_rules": {
        "default": "allow",
        "classes": {"email": "redact", "card": "block"},
        "models": {"tiny": {"store_bodies": True, "retention_days": 30}},
    },
    "policy": {
        "agents": {
            "reader": {"tools": {"read_file": {"path": {"path_prefix": ["/srv/docs"]}}}},
            "stripper": {"on_disallowed_tool": "strip", "tools": ["search"]},
        }
    },
}
TOOL = {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
SHELL = {"type": "function", "function": {"name": "run_shell", "parameters": {"type": "object"}}}


def _program(folder: Path, url: str) -> Any:
    return one_runtime(folder, url, extra=RULES)


def test_a_blocked_data_class_never_reaches_the_upstream(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                for stream in (False, True):
                    reply = await client.post(
                        "/v1/chat/completions",
                        json=chat("tiny", f"charge my card {CARD} today", stream=stream),
                        headers=auth(key),
                    )
                    assert reply.status_code == 451
                    error = error_of(reply)
                    assert error["code"] == "data_class_blocked" and "card" in error["message"]
                assert upstream.received == []  # nothing at all left the gateway
            rows = usage_rows(program)
            assert [r["status"] for r in rows] == [451, 451]
            assert all(CARD not in (r["body"] or "") for r in rows)

    asyncio.run(run())


def test_redaction_is_applied_before_the_request_leaves(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                reply = await client.post(
                    "/v1/chat/completions",
                    json=chat("tiny", "write to anna.berg@example.com about the plan"),
                    headers=auth(key),
                )
                assert reply.status_code == 200
            (_path, sent) = upstream.received[0]
            text = sent["messages"][0]["content"]
            assert "anna.berg@example.com" not in json.dumps(sent)
            assert "[REDACTED:email]" in text
            (row,) = usage_rows(program)
            assert json.loads(row["policy"]) == ["redact:email"]
            assert "[REDACTED:email]" in row["body"]  # stored: the rules allow it for tiny
            assert "anna.berg" not in row["body"]

    asyncio.run(run())


def test_a_disallowed_tool_in_a_request_is_refused_or_stripped(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            reader = key_for(program, agent="reader")
            stripper = key_for(program, agent="stripper")
            async with in_process(_isolated) as (_, client):
                refused = await client.post(
                    "/v1/chat/completions", json=chat("tiny", tools=[TOOL, SHELL]),
                    headers=auth(reader),
                )  # fmt: skip
                assert refused.status_code == 403
                error = error_of(refused)
                assert error["code"] == "tool_not_allowed" and "run_shell" in error["message"]
                assert upstream.received == []
                allowed = await client.post(
                    "/v1/chat/completions", json=chat("tiny", tools=[TOOL]), headers=auth(reader)
                )
                assert allowed.status_code == 200
                stripped = await client.post(
                    "/v1/chat/completions",
                    json=chat("tiny", tools=[SHELL], tool_choice="auto"),
                    headers=auth(stripper),
                )
                assert stripped.status_code == 200
            sent = upstream.received[-1][1]
            assert "tools" not in sent and "tool_choice" not in sent
            actions = [json.loads(r["policy"]) for r in usage_rows(program)]
            assert ["strip-tools:run_shell"] in actions

    asyncio.run(run())


def test_a_disallowed_tool_call_in_a_streamed_answer_is_blocked(_isolated: Path) -> None:
    async def run() -> None:
        async with ToolCallStandin(
            "read_file", {"path": "/etc/shadow"}, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, agent="reader")
            async with in_process(_isolated) as (_, client):
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True, tools=[TOOL]),
                    headers=auth(key),
                )  # fmt: skip
                events = sse_events(reply.text)
                # the content went through as it came; the tool call never did
                assert "Let me check." in reply.text
                assert not any("tool_calls" in e for e in events[:-1])
                error = json.loads(events[-1])["error"]
                assert error["code"] == "tool_call_blocked" and "path" in error["message"]
                whole = await client.post(
                    "/v1/chat/completions", json=chat("tiny", tools=[TOOL]), headers=auth(key)
                )
                assert whole.status_code == 403
                assert error_of(whole)["code"] == "tool_call_blocked"
            # refused before any usage of the runtime's was read: the token counts are estimates
            assert [json.loads(r["policy"]) for r in usage_rows(program)] == [
                ["tool-call-blocked", "estimated:tokens"],
                ["tool-call-blocked", "estimated:tokens"],
            ]  # fmt: skip

    asyncio.run(run())


def test_an_allowed_tool_call_streams_through_whole(_isolated: Path) -> None:
    async def run() -> None:
        async with ToolCallStandin(
            "read_file", {"path": "/srv/docs/plan.md"}, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program, agent="reader")
            async with in_process(_isolated) as (_, client):
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True, tools=[TOOL]),
                    headers=auth(key),
                )  # fmt: skip
            events = sse_events(reply.text)
            assert events[-1] == "[DONE]"
            arguments = "".join(
                call["function"].get("arguments", "")
                for e in events[:-1]
                for call in json.loads(e)["choices"][0]["delta"].get("tool_calls") or []
            )
            assert json.loads(arguments) == {"path": "/srv/docs/plan.md"}

    asyncio.run(run())


def _drop_boundary(folder: Path, agent: str) -> None:
    path = folder / "inhouse.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    del config["policy"]["agents"][agent]
    path.write_text(tomli_w.dumps(config), encoding="utf-8")


def test_a_key_of_an_agent_without_a_boundary_is_refused_at_the_door(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            bounded = key_for(program, agent="reader")
            # the honest way: the key was issued while the agent had a boundary; the boundary
            # is gone from inhouse.toml since, which must not leave the agent unbounded
            unbounded = key_for(program, agent="stripper")
            _drop_boundary(_isolated, "stripper")
            async with in_process(_isolated) as (_, client):
                for stream in (False, True):
                    refused = await client.post(
                        "/v1/chat/completions",
                        json=chat("tiny", stream=stream, tools=[SHELL]),
                        headers=auth(unbounded),
                    )
                    assert refused.status_code == 403
                    error = error_of(refused)
                    assert error["code"] == "no_tool_boundary"
                    assert "'stripper'" in error["message"]
                    assert "[policy.agents.stripper]" in error["message"]
                listed = await client.get("/v1/models", headers=auth(unbounded))
                assert listed.status_code == 403
                assert upstream.received == []  # nothing left the gateway
                allowed = await client.post(
                    "/v1/chat/completions", json=chat("tiny", tools=[TOOL]), headers=auth(bounded)
                )
                assert allowed.status_code == 200
            rows = usage_rows(program)
            assert [(r["agent"], r["status"]) for r in rows] == [
                ("stripper", 403), ("stripper", 403), ("reader", 200),
            ]  # fmt: skip
            assert json.loads(rows[0]["policy"]) == ["block:no_tool_boundary"]

    asyncio.run(run())
