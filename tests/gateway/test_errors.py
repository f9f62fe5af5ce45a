"""The gateway's one error mapper: every error a client sees is OpenAI's error JSON with the
status its class carries, including a bug's (a 500 of the same shape, recorded as usage).
Upstream faults that need exact timings or statuses use the stand-in upstream."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import inhouse.gateway
from inhouse.errors import (
    AgentWithoutBoundary,
    BadRequest,
    DataClassBlocked,
    InhouseError,
    InvalidApiKey,
    ModelDrifted,
    NoApiKey,
    NoRuntimeAnswers,
    RateLimited,
    RequestTooLarge,
    RuntimeAnsweredError,
    RuntimeRejected,
    RuntimeTimeout,
    TokenBudgetSpent,
    ToolCallBlocked,
    ToolNotAllowed,
)
from inhouse.gateway.answers import openai_error
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

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def _body(status_and_body: tuple[int, bytes]) -> tuple[int, dict[str, Any]]:
    status, body = status_and_body
    data = json.loads(body)
    assert set(data) == {"error"} and set(data["error"]) == {"message", "type", "param", "code"}
    return status, data["error"]


@pytest.mark.parametrize(
    ("error", "status", "kind", "code", "param"),
    [
        (NoApiKey("no key"), 401, "authentication_error", "missing_api_key", None),
        (InvalidApiKey("bad key"), 401, "authentication_error", "invalid_api_key", None),
        (BadRequest("no model", param="model"), 400, "invalid_request_error", None, "model"),
        (RequestTooLarge("too big"), 413, "invalid_request_error", None, None),
        (AgentWithoutBoundary("no boundary"), 403, "permission_error", "no_tool_boundary", None),
        (ToolNotAllowed("shell"), 403, "permission_error", "tool_not_allowed", "tools"),
        (ToolCallBlocked("path"), 403, "permission_error", "tool_call_blocked", None),
        (DataClassBlocked("card"), 451, "policy_error", "data_class_blocked", None),
        (RateLimited("rpm"), 429, "rate_limit_error", "rate_limit_exceeded", None),
        (TokenBudgetSpent("day"), 429, "rate_limit_error", "tokens_per_day_exceeded", None),
        (ModelDrifted("drift"), 503, "upstream_error", "model_drifted", None),
        (NoRuntimeAnswers("down"), 503, "upstream_error", "runtime_unavailable", None),
        (RuntimeTimeout("slow"), 504, "upstream_error", "runtime_timeout", None),
        (RuntimeAnsweredError("500"), 502, "upstream_error", "runtime_error", None),
        (RuntimeRejected("422", status=422), 422, "invalid_request_error", "runtime_error", None),
        (InhouseError("other"), 500, "server_error", "internal_error", None),
    ],
)
def test_each_error_class_carries_its_status_type_and_code(
    error: InhouseError, status: int, kind: str, code: str | None, param: str | None
) -> None:
    got, body = _body(openai_error(error))
    assert (got, body["type"], body["code"], body["param"]) == (status, kind, code, param)
    assert body["message"] == str(error)


def test_an_unexpected_exception_is_a_500_that_does_not_leak_its_message() -> None:
    status, body = _body(openai_error(KeyError("secret-internal-detail")))
    assert (status, body["type"], body["code"]) == (500, "server_error", "internal_error")
    assert "KeyError" in body["message"] and "secret-internal-detail" not in body["message"]


def test_no_exception_class_is_defined_in_the_gateway_package() -> None:
    folder = Path(inhouse.gateway.__file__).parent
    defined = [
        f"{path.name}:{node.name}"
        for path in sorted(folder.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
        and any(
            isinstance(base, ast.Name) and ("Error" in base.id or "Exception" in base.id)
            for base in node.bases
        )
    ]
    assert defined == [], "gateway errors belong in inhouse.errors"


_program = one_runtime


def test_a_bug_answers_500_in_openai_shape_and_is_recorded(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):

                def broken(*_: Any) -> None:
                    raise ZeroDivisionError("division by zero in a policy")

                monkeypatch.setattr(gateway.policy, "apply", broken)
                reply = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                )
                assert reply.status_code == 500
                error = error_of(reply)
                assert (error["type"], error["code"]) == ("server_error", "internal_error")
                assert "ZeroDivisionError" in error["message"]
                monkeypatch.setattr(gateway, "health", broken)
                health = await client.get("/healthz")
                assert health.status_code == 500
                assert error_of(health)["code"] == "internal_error"
            assert [r["status"] for r in usage_rows(program)] == [500]

    asyncio.run(run())


def test_routes_and_methods_are_refused_in_openai_shape(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            _program(_isolated, upstream.url)
            async with in_process(_isolated) as (_, client):
                missing = await client.get("/v1/nothing")
                assert missing.status_code == 404
                assert error_of(missing)["code"] == "not_found"
                wrong = await client.get("/v1/chat/completions")
                assert wrong.status_code == 405
                assert error_of(wrong)["code"] == "method_not_allowed"

    asyncio.run(run())


def test_a_runtime_s_4xx_reaches_the_client_with_the_runtime_s_message_standin(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                # token ids are a valid input at the door (OpenAI takes them); this runtime
                # takes only text
                reply = await client.post(
                    "/v1/embeddings",
                    json={"model": "tiny", "input": [1, 2, 3]},
                    headers=auth(key),
                )
            assert reply.status_code == 400
            error = error_of(reply)
            assert (error["type"], error["code"]) == ("invalid_request_error", "runtime_error")
            # the message read out of the runtime's own OpenAI error body, not its raw JSON
            assert error["message"].endswith(
                "answered 400: standin: 'input' must be a string or a list of strings"
            )

    asyncio.run(run())


def test_a_slow_standin_gives_the_same_504_before_and_during_a_stream(_isolated: Path) -> None:
    async def run() -> None:
        slow = StandinTiming(ttft_ms=3000, tpot_ms=0, tokens=2)
        async with StandinUpstream(slow, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url, gateway={"upstream_timeout": 0.3})
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                whole = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                )
                assert whole.status_code == 504
                before = error_of(whole)
                streamed = await client.post(
                    "/v1/chat/completions", json=chat("tiny", stream=True), headers=auth(key)
                )
                assert streamed.status_code == 200  # the headers went before the runtime stalled
                during = json.loads(sse_events(streamed.text)[-1])["error"]
            for error in (before, during):
                assert (error["type"], error["code"]) == ("upstream_error", "runtime_timeout")
                assert error["message"].endswith("did not answer within 0.3 s")
            assert sorted(r["status"] for r in usage_rows(program)) == [504, 504]

    asyncio.run(run())
