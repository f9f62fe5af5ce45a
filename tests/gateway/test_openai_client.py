"""The official ``openai`` client, unchanged but for base URL and key, through a real
``inhouse gateway serve`` process in front of the real llama.cpp engine (llama-cpp-python's
server with the generated test model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from inhouse.program import Program
from tests.conftest import ENVIRONMENT, stand_in_elsewhere
from tests.engine import Engine, needs_engine
from tests.gateway.harness import (
    LEAD,
    ServedGateway,
    digest_of,
    key_for,
    make_program,
    usage_rows,
    wait_for,
)

pytestmark = needs_engine
NAME = "inhouse-test-model"


def _gateway(folder: Path, url: str, model: Path) -> tuple[ServedGateway, str]:
    folder.mkdir()
    runtimes = {"engine": {"family": "openai", "url": url, "model_path": str(model)}}
    with pytest.MonkeyPatch.context() as patch:  # the module's program, before any test's
        # own set-up: the suite's stand-in provider stands for the organisation's (conftest),
        # and the lead's key is made in a home of the module's own, not the real one
        stand_in_elsewhere(patch)
        patch.setenv("HOME", str(folder.parent / "home"))
        for name in ENVIRONMENT:
            patch.delenv(name, raising=False)
        program = make_program(folder, runtimes, {NAME: digest_of(model)})
        key = key_for(program)
        program.close()
    gateway = ServedGateway(folder, folder / "gateway.log")
    gateway.start()
    return gateway, key


@pytest.fixture(scope="module")
def through(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ServedGateway, str]]:
    gateway, key = _gateway(tmp_path_factory.mktemp("gw") / "program", engine.url, engine.model)
    try:
        yield gateway, key
    finally:
        gateway.stop()


def _client(gateway: ServedGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=key, max_retries=0)


def test_models_list_shows_the_blessed_model(through: tuple[ServedGateway, str]) -> None:
    gateway, key = through
    with _client(gateway, key) as client:
        assert [m.id for m in client.models.list()] == [NAME]


def test_chat_through_the_gateway(through: tuple[ServedGateway, str]) -> None:
    gateway, key = through
    with _client(gateway, key) as client:
        reply = client.chat.completions.create(
            model=NAME, messages=[{"role": "user", "content": "Say hello"}], max_tokens=8, seed=1
        )
    assert reply.model == NAME
    assert isinstance(reply.choices[0].message.content, str)
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    program = Program.open(gateway.folder)
    try:
        wait_for(lambda: any(r["tokens_out"] == reply.usage.completion_tokens  # type: ignore[union-attr]
                             and r["stream"] == 0 for r in usage_rows(program)),
                 what="the chat in the usage log")  # fmt: skip
    finally:
        program.close()


def test_streaming_through_the_gateway(through: tuple[ServedGateway, str]) -> None:
    gateway, key = through
    with _client(gateway, key) as client:
        stream = client.chat.completions.create(
            model=NAME, messages=[{"role": "user", "content": "Count"}], max_tokens=8,
            stream=True, seed=1,
        )  # fmt: skip
        chunks = list(stream)
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert pieces, "no content streamed"
    assert all(c.model == NAME for c in chunks)
    assert any(c.choices and c.choices[0].finish_reason for c in chunks)


def test_refusals_arrive_as_the_client_s_own_errors(through: tuple[ServedGateway, str]) -> None:
    gateway, key = through
    with _client(gateway, "ih_not-a-key") as client, pytest.raises(openai.AuthenticationError):
        client.models.list()
    with _client(gateway, key) as client, pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert "not a blessed model" in str(refused.value) and NAME in str(refused.value)


def test_embeddings_without_embedding_support_give_a_clear_error(
    through: tuple[ServedGateway, str],
) -> None:
    gateway, key = through
    with _client(gateway, key) as client, pytest.raises(openai.APIStatusError) as failed:
        client.embeddings.create(model=NAME, input="hello")
    assert failed.value.status_code == 502
    assert "runtime engine" in str(failed.value)


def test_embeddings_through_the_gateway(
    embedding_engine: Engine, engine: Engine, _isolated: Path
) -> None:
    gateway, key = _gateway(_isolated / "emb", embedding_engine.url, engine.model)
    try:
        with _client(gateway, key) as client:
            reply = client.embeddings.create(model=NAME, input=["hello", "world"])
        assert len(reply.data) == 2 and len(reply.data[0].embedding) > 0
    finally:
        gateway.stop()
    program = Program.open(_isolated / "emb")
    try:
        rows = usage_rows(program)
        assert [(r["endpoint"], r["person"], r["status"]) for r in rows] == [
            ("embeddings", LEAD, 200)
        ]
    finally:
        program.close()
