"""The gateway in front of the default runtime, the one ``inhouse runtime serve`` starts (the
real llama.cpp engine through llama-cpp-python, with the generated test model), through a real
``inhouse gateway serve`` and the official ``openai`` client (issue 17, cases 2 and 6):

* the runtime stopped and started again on a new port is served again within 5 s, without a
  gateway restart (the gateway reads the new place from the runtime's state file);
* ``/v1/embeddings`` works on it, and chat is unchanged by embeddings being on.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.runtimes.embedded import read_state
from inhouse.runtimes.testmodel import TEST_MODEL_NAME
from tests.engine import Engine, needs_engine
from tests.gateway.harness import (
    ServedGateway,
    digest_of,
    key_for,
    make_program,
    usage_rows,
    wait_for,
)
from tests.runtimes.standin import free_port

pytestmark = needs_engine
runner = CliRunner()
#: the context of the `engine` fixture, so the two servers' answers can be compared
CTX = "256"


def _serve_runtime(program: Path, model: Path, port: int | None = None) -> str:
    """``inhouse runtime serve`` for ``program``; the URL it recorded."""
    args = ["runtime", "serve", str(model), "--program", str(program), "--ctx", CTX, "--json"]
    started = runner.invoke(app, [*args, *(["--port", str(port)] if port else [])])
    assert started.exit_code == 0, started.output
    url: str = json.loads(started.output)["url"]
    return url


def _stop_runtime(program: Path) -> None:
    stopped = runner.invoke(app, ["runtime", "stop", "--program", str(program)])
    assert stopped.exit_code == 0, stopped.output


@contextmanager
def _gateway_on_the_default_runtime(folder: Path, model: Path) -> Iterator[tuple[str, str]]:
    """A program whose runtime is the embedded one (no URL in its table: where ``inhouse
    runtime serve`` recorded it), that runtime started, and ``inhouse gateway serve`` in front:
    yields (the gateway's URL, a key)."""
    runtimes = {"default": {"family": "embedded"}}
    program = make_program(folder, runtimes, {TEST_MODEL_NAME: digest_of(model)})
    key = key_for(program)
    program.close()
    _serve_runtime(folder, model)
    gateway = ServedGateway(folder, folder / "gateway.log")
    try:
        gateway.start()
        yield gateway.url, key
    finally:
        gateway.stop()
        _stop_runtime(folder)


def _client(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0)


def _ask(client: openai.OpenAI) -> str:
    reply = client.chat.completions.create(
        model=TEST_MODEL_NAME, messages=[{"role": "user", "content": "Hello there, how are you"}],
        max_tokens=12, temperature=0, seed=1,
    )  # fmt: skip
    return reply.choices[0].message.content or ""


def test_a_runtime_restarted_on_a_new_port_is_served_again_within_5_s(
    test_model: Path, _isolated: Path
) -> None:
    with _gateway_on_the_default_runtime(_isolated, test_model) as (url, key):
        first = read_state(_isolated)
        assert first is not None
        with _client(url, key) as client:
            assert _ask(client)
            _stop_runtime(_isolated)
            port = free_port()
            assert port != first.port
            moved = _serve_runtime(_isolated, test_model, port)
            assert moved == f"http://127.0.0.1:{port}"
            # the deadline the issue sets, counted from the runtime answering again
            deadline = time.monotonic() + 5.0
            seen: list[str] = []
            while True:
                try:
                    _ask(client)
                except openai.APIStatusError as refused:
                    seen.append(str(refused.status_code))
                else:
                    seen.append("answered")
                    break
                assert time.monotonic() < deadline, f"not served again within 5 s: {seen}"
                time.sleep(0.05)
    assert all(code == "503" for code in seen[:-1]), seen  # refused plainly while it moved
    program = Program.open(_isolated)
    try:
        wait_for(lambda: any(r["upstream"] == moved for r in usage_rows(program)),
                 what="a request answered at the runtime's new place")  # fmt: skip
        assert {r["upstream"] for r in usage_rows(program) if r["status"] == 200} == {
            first.url, moved}  # fmt: skip
    finally:
        program.close()


def test_embeddings_on_the_default_runtime(
    test_model: Path, engine: Engine, _isolated: Path
) -> None:
    with (
        _gateway_on_the_default_runtime(_isolated, test_model) as (url, key),
        _client(url, key) as client,
    ):
        reply = client.embeddings.create(model=TEST_MODEL_NAME, input=["hello", "world"])
        chat = _ask(client)
    assert reply.model == TEST_MODEL_NAME
    assert [item.index for item in reply.data] == [0, 1]
    vectors = [item.embedding for item in reply.data]
    # one vector per input (pooled), not one per token
    assert all(isinstance(x, float) and math.isfinite(x) for v in vectors for x in v)
    assert len(vectors[0]) == len(vectors[1]) > 1
    assert vectors[0] != vectors[1]
    assert reply.usage.prompt_tokens > 0
    # chat on the same server answers as a server without embeddings does
    with _client(engine.url, "unused") as direct:
        assert chat == _ask(direct)
    program = Program.open(_isolated)
    try:
        wait_for(lambda: len(usage_rows(program)) == 2, what="both requests in the usage log")
        rows = {r["endpoint"]: r for r in usage_rows(program)}
        assert rows["embeddings"]["status"] == 200
        # the runtime's own count, not the gateway's estimate
        assert rows["embeddings"]["tokens_in"] == reply.usage.prompt_tokens
        assert "estimated:tokens" not in json.loads(rows["embeddings"]["policy"] or "[]")
    finally:
        program.close()
