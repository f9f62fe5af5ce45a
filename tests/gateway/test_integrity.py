"""A broken answer is never passed on as complete (issue 17, case 1), and the runtime's own
validation failure is a 400, not a 502 a client would retry (case 4).

The official ``openai`` client talks to the gateway in-process; the runtime is the named
:class:`FaultyRuntimeStandin`, since these faults cannot be made to happen on a real engine."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from inhouse.gateway import Gateway
from tests.gateway.fault_standin import FaultyRuntimeStandin
from tests.gateway.harness import (
    auth,
    chat,
    digest_of,
    in_process,
    key_for,
    make_program,
    model_file,
    usage_rows,
    weights_root,
)

USER = [{"role": "user", "content": "hello"}]


@asynccontextmanager
async def through(
    folder: Path, mode: str, **gateway: Any
) -> AsyncIterator[tuple[openai.AsyncOpenAI, FaultyRuntimeStandin, Any, Gateway, str]]:
    """The faulty stand-in behind an in-process gateway, and the openai client in front."""
    async with FaultyRuntimeStandin(mode, root=weights_root(folder)) as runtime:
        weights = model_file(folder)
        runtimes = {"faulty": {"family": "openai", "url": runtime.url, "model_path": str(weights)}}
        program = make_program(folder, runtimes, {"tiny": digest_of(weights)}, gateway=gateway)
        key = key_for(program)
        async with (
            in_process(folder) as (app, served),
            httpx.AsyncClient(trust_env=False) as http,
            openai.AsyncOpenAI(
                base_url=f"{served.base_url}/v1", api_key=key, max_retries=0, http_client=http
            ) as client,
        ):
            yield client, runtime, program, app, key
        program.close()


def _statuses(program: Any) -> list[int]:
    return [row["status"] for row in usage_rows(program)]


@pytest.mark.parametrize(
    ("mode", "said"),
    [
        ("no-done", "ended the stream without [DONE]: the answer is incomplete"),
        ("not-json", "sent an event that is not JSON: '<html>upstream hiccup</html>'"),
    ],
)
def test_a_stream_the_runtime_did_not_finish_ends_with_an_error_not_done(
    _isolated: Path, mode: str, said: str
) -> None:
    async def run() -> None:
        async with through(_isolated, mode) as (client, _runtime, program, app, key):
            pieces: list[str] = []
            stream = await client.chat.completions.create(model="tiny", messages=USER,
                                                          stream=True)  # fmt: skip
            with pytest.raises(openai.APIError) as broken:
                async for chunk in stream:
                    pieces.extend(c.delta.content or "" for c in chunk.choices)
            assert said in broken.value.message and "runtime faulty at" in broken.value.message
            assert pieces[:2] == ["", "Half an"]  # what came is passed on, as it came
            # the raw stream: the error is the last event, and no [DONE] of the gateway's own
            async with httpx.AsyncClient(trust_env=False) as http:
                raw = await http.post(
                    f"http://127.0.0.1:{app.port}/v1/chat/completions",
                    json=chat("tiny", stream=True), headers=auth(key),
                )  # fmt: skip
            assert raw.status_code == 200 and "data: [DONE]" not in raw.text
            assert raw.text.rstrip().splitlines()[-1].startswith('data: {"error"')
            await app.usage.flush()
            assert _statuses(program) == [502, 502]  # what the clients got: a broken answer

    asyncio.run(run())


def test_an_html_page_with_status_200_is_a_502_naming_the_runtime(_isolated: Path) -> None:
    async def run() -> None:
        async with through(_isolated, "html") as (client, runtime, program, app, _):
            for stream in (False, True):
                with pytest.raises(openai.APIStatusError) as failed:
                    await client.chat.completions.create(model="tiny", messages=USER,
                                                         stream=stream)  # fmt: skip
                assert failed.value.status_code == 502
                message = str(failed.value)
                assert "runtime faulty at" in message and "<html>" in message
                assert failed.value.response.headers["x-inhouse-request-id"].startswith("req_")
            assert len(runtime.received) == 2
            await app.usage.flush()
            assert _statuses(program) == [502, 502]

    asyncio.run(run())


def test_an_error_object_with_status_200_is_a_502(_isolated: Path) -> None:
    async def run() -> None:
        async with through(_isolated, "error-200") as (client, _runtime, _program, _app, _):
            with pytest.raises(openai.APIStatusError) as failed:
                await client.chat.completions.create(model="tiny", messages=USER)
            assert failed.value.status_code == 502
            assert "not a chat/completions answer (an error: model is loading)" in str(failed.value)

    asyncio.run(run())


def test_a_good_stream_still_ends_with_the_runtime_s_done(_isolated: Path) -> None:
    async def run() -> None:
        async with through(_isolated, "ok") as (client, _runtime, program, app, _key):
            stream = await client.chat.completions.create(model="tiny", messages=USER,
                                                          stream=True)  # fmt: skip
            text = "".join([c.choices[0].delta.content or "" async for c in stream])
            assert text == "Half an answer"
            await app.usage.flush()
            assert _statuses(program) == [200]

    asyncio.run(run())


def test_the_runtime_s_own_validation_error_is_a_400_the_client_does_not_retry(
    _isolated: Path,
) -> None:
    async def run() -> None:
        async with through(_isolated, "invalid-500") as (client, runtime, program, app, _):
            with pytest.raises(openai.BadRequestError) as refused:
                await client.chat.completions.create(model="tiny", messages=USER)
            assert refused.value.status_code == 400
            assert "answered 500: 1 validation error" in str(refused.value)
            assert len(runtime.received) == 1  # sent once: a 400 is not retried
            await app.usage.flush()
            assert _statuses(program) == [400]

    asyncio.run(run())


def test_a_runtime_frozen_mid_answer_ends_the_request_at_the_read_timeout(
    _isolated: Path,
) -> None:
    async def run() -> None:
        # the total timeout is far off: what ends the request is the silence between chunks
        settings = {"read_timeout": 0.5, "upstream_timeout": 600}
        async with through(_isolated, "frozen", **settings) as (client, _, program, app, _):
            stream = await client.chat.completions.create(model="tiny", messages=USER,
                                                          stream=True)  # fmt: skip
            pieces: list[str] = []
            with pytest.raises(openai.APIError) as frozen:
                async for chunk in stream:
                    pieces.extend(c.delta.content or "" for c in chunk.choices)
            assert pieces == ["", "Half an"]
            assert "sent nothing for 0.5 s (gateway.read_timeout)" in frozen.value.message
            with pytest.raises(openai.APIStatusError) as whole:
                await client.chat.completions.create(model="tiny", messages=USER)
            assert whole.value.status_code == 504
            assert "sent nothing for 0.5 s" in str(whole.value)
            await app.usage.flush()
            assert _statuses(program) == [504, 504]

    asyncio.run(run())
