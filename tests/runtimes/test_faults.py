"""Faults: each is a clear inhouse.errors exception naming the runtime and its URL.

Exact faults come from a stand-in upstream on loopback (tests.runtimes.standin), named as such;
"not running" uses a port nothing listens on; "killed mid-stream" kills a real stand-in process.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import aclosing
from pathlib import Path

import pytest

from inhouse.errors import (
    RuntimeBadResponse,
    RuntimeFault,
    RuntimeTimeout,
    RuntimeUnavailable,
)
from inhouse.runtimes import ChatRequest, RuntimeConfig, open_runtime
from tests.runtimes.standin import StandIn, chunk, free_port, start_events, write_event

pytestmark = pytest.mark.anyio

HELLO = ChatRequest.model_validate({"messages": [{"role": "user", "content": "hi"}]})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def config(url: str, family: str = "openai", **extra: object) -> RuntimeConfig:
    return RuntimeConfig.model_validate({"name": "gpu-box", "family": family, "url": url, **extra})


def assert_names_runtime(err: RuntimeFault, url: str) -> None:
    assert err.runtime == "gpu-box" and err.url == url
    assert "gpu-box" in str(err) and url in str(err)


@pytest.mark.parametrize("family", ["openai", "ollama", "llamacpp"])
async def test_runtime_not_running(family: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with open_runtime(config(url, family)) as runtime:
        with pytest.raises(RuntimeUnavailable, match="cannot connect") as chat:
            await runtime.chat(HELLO)
        with pytest.raises(RuntimeUnavailable):
            await runtime.inventory()
        health = await runtime.health()
    assert_names_runtime(chat.value, url)
    assert not health.ok and "cannot connect" in health.detail


async def test_stream_from_a_runtime_that_is_not_running() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with open_runtime(config(url)) as runtime:
        with pytest.raises(RuntimeUnavailable) as err:
            async for _ in runtime.stream_chat(HELLO):
                pass
    assert_names_runtime(err.value, url)


async def test_runtime_killed_mid_stream(tmp_path: Path) -> None:
    port = free_port()
    script = Path(__file__).with_name("standin.py")
    upstream = subprocess.Popen(
        [sys.executable, str(script), "slow-sse", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert upstream.stdout is not None and upstream.stdout.readline().strip() == "ready"
        url = f"http://127.0.0.1:{port}"
        received: list[str] = []
        async with open_runtime(config(url)) as runtime:
            with pytest.raises(RuntimeUnavailable, match="connection lost") as err:
                async with aclosing(runtime.stream_chat(HELLO)) as stream:
                    async for piece in stream:
                        received.append(piece.text)
                        if len(received) == 2:
                            upstream.kill()  # SIGKILL: the runtime dies mid-answer
        assert received == ["word ", "word "]
        assert_names_runtime(err.value, url)
    finally:
        upstream.kill()
        upstream.wait()
        assert upstream.stdout is not None
        upstream.stdout.close()


async def test_stream_that_ends_without_done_is_a_lost_connection(standin: StandIn) -> None:
    def truncated(h):  # type: ignore[no-untyped-def]
        start_events(h)
        write_event(h, chunk("half "))
        h.wfile.write(b"0\r\n\r\n")  # a clean end of body, but no [DONE]

    standin.routes[("POST", "/v1/chat/completions")] = truncated
    async with open_runtime(config(standin.url)) as runtime:
        with pytest.raises(RuntimeUnavailable, match="ended before"):
            async for _ in runtime.stream_chat(HELLO):
                pass


async def test_slow_beyond_timeout(standin: StandIn) -> None:
    standin.slow("POST", "/v1/chat/completions", seconds=30)
    async with open_runtime(config(standin.url, timeout=0.3)) as runtime:
        with pytest.raises(RuntimeTimeout, match="within the timeout") as err:
            await runtime.chat(HELLO)
    assert_names_runtime(err.value, standin.url)


async def test_slow_stream_beyond_timeout_between_chunks(standin: StandIn) -> None:
    def stalls(h):  # type: ignore[no-untyped-def]
        start_events(h)
        write_event(h, chunk("first "))
        standin.release.wait(30)

    standin.routes[("POST", "/v1/chat/completions")] = stalls
    async with open_runtime(config(standin.url, timeout=0.3)) as runtime:
        got: list[str] = []
        with pytest.raises(RuntimeTimeout):
            async for piece in runtime.stream_chat(HELLO):
                got.append(piece.text)
    assert got == ["first "]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"<html><body>502 Bad Gateway</body></html>", "text/html"), (b"", "application/json")],
)
async def test_non_json_reply(standin: StandIn, body: bytes, content_type: str) -> None:
    standin.raw("POST", "/v1/chat/completions", body, content_type)
    async with open_runtime(config(standin.url)) as runtime:
        with pytest.raises(RuntimeBadResponse, match="not JSON") as err:
            await runtime.chat(HELLO)
    assert_names_runtime(err.value, standin.url)


async def test_json_in_the_wrong_shape(standin: StandIn) -> None:
    standin.json("POST", "/v1/chat/completions", {"id": "x", "choices": []})
    async with open_runtime(config(standin.url)) as runtime:
        with pytest.raises(RuntimeBadResponse, match="unexpected shape: choices"):
            await runtime.chat(HELLO)


async def test_garbage_in_a_stream(standin: StandIn) -> None:
    def garbage(h):  # type: ignore[no-untyped-def]
        start_events(h)
        write_event(h, chunk("ok "))
        write_event(h, "{not json")

    standin.routes[("POST", "/v1/chat/completions")] = garbage
    async with open_runtime(config(standin.url)) as runtime:
        with pytest.raises(RuntimeBadResponse, match="not JSON"):
            async for _ in runtime.stream_chat(HELLO):
                pass


async def test_loading_runtime_is_unavailable_and_refusal_is_a_bad_response(
    standin: StandIn,
) -> None:
    standin.json("GET", "/health", {"error": {"code": 503, "message": "Loading model"}}, 503)
    standin.json(
        "POST", "/v1/chat/completions",
        {"error": {"message": "tools are not supported by this model", "type": "invalid"}}, 400,
    )  # fmt: skip
    async with open_runtime(config(standin.url, "llamacpp")) as runtime:
        health = await runtime.health()
        with pytest.raises(RuntimeBadResponse, match="HTTP 400: tools are not supported"):
            await runtime.chat(HELLO)
    assert not health.ok and "Loading model" in health.detail


async def test_an_html_page_instead_of_an_event_stream(standin: StandIn) -> None:
    standin.raw("POST", "/v1/chat/completions", b"<html>login</html>", "text/html")
    async with open_runtime(config(standin.url)) as runtime:
        with pytest.raises(RuntimeBadResponse, match="instead of an event stream"):
            async for _ in runtime.stream_chat(HELLO):
                pass
