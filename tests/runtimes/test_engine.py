"""The OpenAI-compatible and llama.cpp adapters against the real llama.cpp engine
(llama-cpp-python's server, test model, loopback): chat, streaming, tools, inventory."""

from __future__ import annotations

import json
from contextlib import aclosing

import pytest

from inhouse.runtimes import ChatRequest, RuntimeConfig, open_runtime
from inhouse.runtimes.digests import file_sha256
from tests.engine import Engine, needs_engine

pytestmark = [needs_engine, pytest.mark.anyio]

FAMILIES = ["openai", "llamacpp"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def hello(**fields: object) -> ChatRequest:
    return ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": "Hello, who are you?"}], **fields}
    )


@pytest.mark.parametrize("family", FAMILIES)
async def test_chat_answers_in_openai_shape(engine: Engine, family: str) -> None:
    config = RuntimeConfig(name="local", family=family, url=engine.url)
    async with open_runtime(config) as runtime:
        reply = await runtime.chat(hello(max_tokens=16, temperature=0.8, seed=7))
    assert reply.choices[0].message.role == "assistant"
    assert reply.text  # the test model writes (nonsense) text
    assert reply.choices[0].finish_reason in ("stop", "length")
    assert reply.usage is not None and 0 < reply.usage.completion_tokens <= 16


async def test_same_seed_same_answer(engine: Engine) -> None:
    config = RuntimeConfig(family="openai", url=engine.url)
    async with open_runtime(config) as runtime:
        first = await runtime.chat(hello(max_tokens=24, seed=42))
        second = await runtime.chat(hello(max_tokens=24, seed=42))
    assert first.text == second.text


async def test_stop_sequence_and_max_tokens_are_honoured(engine: Engine) -> None:
    config = RuntimeConfig(family="openai", url=engine.url)
    async with open_runtime(config) as runtime:
        capped = await runtime.chat(hello(max_tokens=3, seed=1))
        full = await runtime.chat(hello(max_tokens=64, seed=1))
        stopped = await runtime.chat(hello(max_tokens=64, seed=1, stop=["e"]))
    assert capped.usage is not None and capped.usage.completion_tokens <= 3
    assert "e" in full.text  # the test model's word pieces make "e" near-certain
    assert stopped.text == full.text[: full.text.index("e")]


@pytest.mark.parametrize("family", FAMILIES)
async def test_stream_yields_the_same_text_as_chunks(engine: Engine, family: str) -> None:
    config = RuntimeConfig(family=family, url=engine.url)
    async with open_runtime(config) as runtime:
        whole = await runtime.chat(hello(max_tokens=20, seed=3))
        chunks = [chunk async for chunk in runtime.stream_chat(hello(max_tokens=20, seed=3))]
    assert len(chunks) > 2
    assert "".join(chunk.text for chunk in chunks) == whole.text
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


async def test_stream_can_be_abandoned_early_and_the_runtime_still_serves(engine: Engine) -> None:
    config = RuntimeConfig(family="openai", url=engine.url)
    async with open_runtime(config) as runtime:
        async with aclosing(runtime.stream_chat(hello(max_tokens=50, seed=5))) as stream:
            async for _chunk in stream:
                break
        # at temperature 0: the test model's most likely answer to it is words, whatever the
        # server answered before (unseeded, a draw hangs on the requests it served before)
        assert (await runtime.chat(hello(max_tokens=4, temperature=0))).text


@pytest.mark.parametrize("family", FAMILIES)
async def test_tool_shaped_request_gets_a_tool_call(engine: Engine, family: str) -> None:
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "maxLength": 12}},
                "required": ["city"],
            },
        },
    }]  # fmt: skip
    request = hello(
        max_tokens=60, seed=1, tools=tools,
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )  # fmt: skip
    async with open_runtime(RuntimeConfig(family=family, url=engine.url)) as runtime:
        reply = await runtime.chat(request)
    calls = reply.choices[0].message.tool_calls
    assert calls, reply
    assert calls[0].function.name == "get_weather"
    assert set(json.loads(calls[0].function.arguments)) == {"city"}


async def test_tool_result_messages_are_accepted(engine: Engine) -> None:
    request = ChatRequest.model_validate({
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"},
            }]},
            {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp_c\": 4}"},
        ],
        "max_tokens": 8,
        "seed": 2,
    })  # fmt: skip
    async with open_runtime(RuntimeConfig(family="openai", url=engine.url)) as runtime:
        reply = await runtime.chat(request)
    assert reply.choices[0].message.role == "assistant"


@pytest.mark.parametrize("family", FAMILIES)
async def test_inventory_pins_the_served_file_by_sha256(engine: Engine, family: str) -> None:
    async with open_runtime(RuntimeConfig(family=family, url=engine.url)) as runtime:
        inventory = await runtime.inventory()
    assert inventory.family == family and inventory.url == engine.url
    (model,) = inventory.models
    assert model.digest == f"sha256:{file_sha256(engine.model, cached=False)}"
    assert model.digest_source == "file-sha256"
    assert model.path == str(engine.model.resolve())
    assert model.size == engine.model.stat().st_size
    assert model.is_test_model


async def test_a_configured_model_path_the_server_names_is_pinned(engine: Engine) -> None:
    # The server names the file (its /v1/models id is the path), so the configured file is the
    # served one; a model_path it never names is no digest (tests/runtimes/test_digest_ties.py).
    config = RuntimeConfig(family="llamacpp", url=engine.url, model_path=engine.model)
    async with open_runtime(config) as runtime:
        (model,) = await runtime.models()
    assert model.digest == f"sha256:{file_sha256(engine.model, cached=False)}"


@pytest.mark.parametrize("family", FAMILIES)
async def test_health_reports_a_serving_runtime(engine: Engine, family: str) -> None:
    async with open_runtime(RuntimeConfig(family=family, url=engine.url)) as runtime:
        health = await runtime.health()
    assert health.ok, health.detail
    assert "1 model" in health.detail
