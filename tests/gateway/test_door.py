"""Client mistakes are 4xx at the door, in OpenAI's error shape naming the field (issue 17,
case 4); a bug is a 500 of the same shape with the request id; the gateway serves its own
OpenAPI document, and schemathesis, fuzzing a real ``inhouse gateway serve`` against it, finds
no 5xx and no answer outside OpenAI's error shape.

The runtime is the stand-in upstream (``inhouse.testing.standin_upstream``, not a model): what
is tested is the door, and every request the fuzzer makes valid would otherwise ask a real
model for an answer."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream, standin_in_thread
from tests.gateway.harness import (
    ServedGateway,
    auth,
    chat,
    error_of,
    in_process,
    key_for,
    one_runtime,
    usage_rows,
    weights_root,
)

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


_program = one_runtime


async def _raw(client: httpx.AsyncClient, body: bytes, key: str) -> httpx.Response:
    headers = {**auth(key), "content-type": "application/json"}
    return await client.post("/v1/chat/completions", content=body, headers=headers)


@pytest.mark.parametrize(
    ("body", "param", "said"),
    [
        # nested deeper than the parser allows: once a RecursionError, a plain-text 500
        (b'{"model": "tiny", "messages": ' + b"[" * 5000 + b"]" * 5000 + b"}", None,
         "not valid JSON: recursion limit exceeded"),
        # the wrong type where a list belongs: once a TypeError, a 500
        (b'{"model": "tiny", "messages": 5}', "messages", "Input should be a valid list"),
        (b'{"model": "tiny", "messages": [{"role": "user", "content": 5}]}',
         "messages.0.content", "a valid string or a valid list"),
        (b'{"model": "tiny", "messages": [{"role": "robot", "content": "x"}]}',
         "messages.0.role", "Input should be"),
        (b'{"model": "tiny", "messages": [{"role": "user", "content": "x"}], '
         b'"max_tokens": "5"}', "max_tokens", "valid integer"),
        (b'{"model": 7, "messages": []}', "model", "valid string"),
        (b'{"model": "tiny", "messages": [{"role": "user", "content": "\\ud800"}]}', None,
         "not valid JSON"),  # a lone surrogate: llama-cpp-python answers it with a 500
        # not JSON at all (RFC 8259), though Python's json writes them: never passed on
        (b'{"model": "tiny", "messages": [{"role": "user", "content": "x"}], "x": NaN}', None,
         "not valid JSON"),
        (b'{"model": "tiny", "messages": [{"role": "user", "content": "x"}], '
         b'"logit_bias": {"5": -Infinity}}', None, "not valid JSON"),
        (b"[1, 2]", None, "must be a JSON object"),
        (b'{"model": "tiny", "messages": []}', "messages", "no messages"),
    ],
)  # fmt: skip
def test_client_mistakes_are_400s_naming_the_field_and_never_reach_the_runtime(
    _isolated: Path, body: bytes, param: str | None, said: str
) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                reply = await _raw(client, body, key)
                await gateway.usage.flush()
            assert reply.status_code == 400, reply.text
            error = error_of(reply)
            assert error["type"] == "invalid_request_error"
            assert error["param"] == param and said in error["message"], error
            assert reply.headers["x-inhouse-request-id"].startswith("req_")
            assert upstream.received == []
            rows = usage_rows(program)
            assert [(r["status"], r["request_id"]) for r in rows] == [
                (400, reply.headers["x-inhouse-request-id"])
            ]
            program.close()

    asyncio.run(run())


def test_completions_and_embeddings_are_checked_at_the_door_too(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (_, client):
                bad = await client.post("/v1/completions", json={"model": "tiny"},
                                        headers=auth(key))  # fmt: skip
                assert bad.status_code == 400 and error_of(bad)["param"] == "prompt"
                bad = await client.post("/v1/embeddings",
                                        json={"model": "tiny", "input": {"text": "x"}},
                                        headers=auth(key))  # fmt: skip
                assert bad.status_code == 400 and error_of(bad)["param"] == "input"
                good = await client.post("/v1/embeddings", json={"model": "tiny", "input": "x"},
                                         headers=auth(key))  # fmt: skip
                assert good.status_code == 200
            assert [path for path, _ in upstream.received] == ["/v1/embeddings"]
            program.close()

    asyncio.run(run())


def test_fields_the_door_does_not_know_reach_the_runtime_untouched(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            # an integer over 64 bits and text outside ASCII come out as they went in
            sent = chat("tiny", logit_bias={"42": -100}, user="ü-1", mirostat_tau=5.0,
                        x_big=2**70)  # fmt: skip
            async with in_process(_isolated) as (_, client):
                reply = await client.post("/v1/chat/completions", json=sent, headers=auth(key))
            assert reply.status_code == 200
            assert upstream.received == [("/v1/chat/completions", sent)]
            program.close()

    asyncio.run(run())


def test_a_bug_is_a_500_in_openai_shape_naming_the_request_id(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):

                def broken(*_: Any) -> None:
                    raise TypeError("'int' object is not iterable")

                monkeypatch.setattr(gateway.prompts, "prepare", broken)
                reply = await client.post("/v1/chat/completions", json=chat("tiny"),
                                          headers=auth(key))  # fmt: skip
            assert reply.status_code == 500
            error = error_of(reply)
            request_id = reply.headers["x-inhouse-request-id"]
            assert error["message"].endswith(f"its log has the details under request id "
                                             f"{request_id}")  # fmt: skip
            assert [r["request_id"] for r in usage_rows(program)] == [request_id]
            program.close()

    asyncio.run(run())


#: a client's text that would forge a log line of its own and clear the screen of who reads it
FORGED = "bob\n2026-12-06 WARNING inhouse.gateway all clear\x1b[2J"


def test_a_clients_text_in_the_gateways_log_forges_no_line(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug's exception quotes what the client sent (its ``user`` field here); the gateway's
    log writes it out as codes, on the record's own lines, indented (no line of its own)."""

    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            program = _program(_isolated, upstream.url)
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):

                def broken(endpoint: str, body: dict[str, Any], prompt: object) -> None:
                    raise ValueError(f"cannot prepare for {body['user']}")

                monkeypatch.setattr(gateway.prompts, "prepare", broken)
                with caplog.at_level("ERROR", logger="inhouse.gateway"):
                    sent = chat("tiny", user=FORGED)
                    reply = await client.post("/v1/chat/completions", json=sent, headers=auth(key))
            assert reply.status_code == 500
            program.close()

    asyncio.run(run())
    logged = caplog.text
    # the exception's own line break stays inside its traceback, indented like the rest of it
    assert "\n  2026-12-06 WARNING" in logged, logged
    assert "\x1b" not in logged and "\\u001b[2J" in logged
    assert not any(line.startswith("2026-12-06") for line in logged.splitlines()), logged


def test_every_answer_carries_the_request_id_refusals_and_451_included(_isolated: Path) -> None:
    async def run() -> None:
        async with StandinUpstream(
            FAST, model="tiny", record=True, root=weights_root(_isolated)
        ) as upstream:
            program = _program(_isolated, upstream.url, extra={"data_rules": {"default": "block"}})
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                card = chat("tiny", "my card is 4111 1111 1111 1111")
                answers = {
                    "blocked": await client.post("/v1/chat/completions", json=card,
                                                 headers=auth(key)),
                    "no key": await client.post("/v1/chat/completions", json=chat("tiny")),
                    "no route": await client.get("/v1/nothing"),
                    "health": await client.get("/healthz"),
                    "models": await client.get("/v1/models", headers=auth(key)),
                    "openapi": await client.get("/openapi.json"),
                    "answered": await client.post("/v1/chat/completions", json=chat("tiny"),
                                                  headers=auth(key)),
                }  # fmt: skip
                await gateway.usage.flush()
            ids = {name: reply.headers.get("x-inhouse-request-id") for name, reply in
                   answers.items()}  # fmt: skip
            assert all(i and i.startswith("req_") for i in ids.values()), ids
            assert len(set(ids.values())) == len(ids)
            assert answers["blocked"].status_code == 451
            # the refusal is logged under the id the client was given
            rows = {r["request_id"]: r["status"] for r in usage_rows(program)}
            assert rows == {ids["blocked"]: 451, ids["answered"]: 200}
            program.close()

    asyncio.run(run())


def test_the_openapi_document_names_the_blessed_models_and_the_error_shape(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
            _program(_isolated, upstream.url).close()
            async with in_process(_isolated) as (_, client):
                reply = await client.get("/openapi.json")
        document = reply.json()
        assert document["openapi"].startswith("3.1")
        assert set(document["paths"]) >= {
            "/v1/chat/completions",
            "/v1/completions",
            "/v1/embeddings",
            "/v1/models",
            "/openapi.json",
        }
        schemas = document["components"]["schemas"]
        assert schemas["ChatRequest"]["properties"]["model"]["enum"] == ["tiny"]
        assert "messages" in schemas["ChatRequest"]["properties"]
        assert schemas["Error"]["properties"]["error"]["required"] == [
            "message", "type", "param", "code"]  # fmt: skip

    asyncio.run(run())


def test_schemathesis_finds_no_5xx_at_the_door(_isolated: Path) -> None:
    with standin_in_thread(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        program = _program(_isolated, upstream.url)
        key = key_for(program)
        program.close()
        gateway = ServedGateway(_isolated, _isolated / "gateway.log")
        gateway.start()
        try:
            schema = schemathesis.openapi.from_url(f"{gateway.url}/openapi.json")
            failures: list[str] = []
            operations = [result.ok() for result in schema.get_all_operations()]
            labels = {operation.label for operation in operations}
            assert labels >= {"POST /v1/chat/completions", "POST /v1/completions",
                              "POST /v1/embeddings", "GET /v1/models"}  # fmt: skip
            for operation in operations:
                modes = [GenerationMode.POSITIVE]
                if operation.method.upper() == "POST":  # a GET has nothing to make invalid
                    modes.append(GenerationMode.NEGATIVE)
                for mode in modes:
                    strategy = operation.as_strategy(generation_mode=mode)

                    @given(case=strategy)
                    @settings(max_examples=60, deadline=None, database=None,
                              suppress_health_check=list(HealthCheck))  # fmt: skip
                    def fuzz(case: Any) -> None:
                        response = case.call(base_url=gateway.url, headers=auth(key))
                        where = f"{case.method} {case.path} {case.body!r:.300}"
                        if response.status_code >= 500:
                            failures.append(f"{response.status_code} for {where}: "
                                            f"{response.text[:300]}")  # fmt: skip
                        elif response.status_code >= 400:
                            body = json.loads(response.text)  # never plain text
                            assert set(body["error"]) == {"message", "type", "param", "code"}
                        headers = {k.lower(): v for k, v in response.headers.items()}
                        assert headers["x-inhouse-request-id"][0].startswith("req_")

                    fuzz()
            assert failures == []
        finally:
            gateway.stop()
        assert "Traceback" not in (_isolated / "gateway.log").read_text()
