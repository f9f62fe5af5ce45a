"""The Ollama, vLLM and llama.cpp-server adapters against recorded shapes of their real APIs
(fixtures/README.md names each source and API version), served by a stand-in on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from inhouse.errors import RuntimeBadResponse
from inhouse.runtimes import ChatRequest, RuntimeConfig, open_runtime
from inhouse.runtimes.digests import file_sha256
from inhouse.runtimes.llamacpp import LlamaCppRuntime
from tests.runtimes.standin import StandIn, fixture

pytestmark = pytest.mark.anyio

HELLO = ChatRequest.model_validate({"messages": [{"role": "user", "content": "hi"}]})


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ollama(standin: StandIn) -> StandIn:
    standin.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
    standin.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
    standin.json("POST", "/v1/chat/completions", fixture("ollama-0.12.6_v1_chat_completions.json"))
    return standin


async def test_ollama_inventory_carries_manifest_digests_and_version(ollama: StandIn) -> None:
    config = RuntimeConfig(name="ollama", family="ollama", url=ollama.url + "/v1")
    async with open_runtime(config) as runtime:
        inventory = await runtime.inventory()
    assert inventory.version == "0.12.6"
    assert [m.id for m in inventory.models] == ["gemma3", "llama3.2:latest"]
    gemma = inventory.models[0]
    assert gemma.digest == (
        "sha256:a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a"
    )
    assert gemma.digest_source == "ollama-manifest"
    assert gemma.size == 3338801804
    assert gemma.details["details"]["quantization_level"] == "Q4_K_M"


async def test_ollama_chat_goes_through_its_openai_endpoint_with_the_configured_model(
    ollama: StandIn,
) -> None:
    config = RuntimeConfig(family="ollama", url=ollama.url, model="llama3.2:latest")
    async with open_runtime(config) as runtime:
        reply = await runtime.chat(HELLO.model_copy(update={"temperature": 0.2}))
        health = await runtime.health()
    assert reply.text == "Hello! How can I help you today?"
    assert reply.model_extra == {"system_fingerprint": "fp_ollama"}  # kept, not dropped
    method, path, body = ollama.seen[0]
    assert (method, path) == ("POST", "/v1/chat/completions")
    assert json.loads(body) == {
        "model": "llama3.2:latest", "stream": False, "temperature": 0.2,
        "messages": [{"role": "user", "content": "hi"}],
    }  # fmt: skip
    assert health.ok and health.detail == "Ollama 0.12.6"


async def test_ollama_digest_that_is_not_a_sha256_is_refused(standin: StandIn) -> None:
    tags = fixture("ollama-0.12.6_api_tags.json")
    tags["models"][0]["digest"] = "latest"
    standin.json("GET", "/api/tags", tags)
    async with open_runtime(RuntimeConfig(family="ollama", url=standin.url)) as runtime:
        with pytest.raises(RuntimeBadResponse, match="gemma3 a digest that is not a SHA-256"):
            await runtime.models()


async def test_vllm_served_from_a_hub_snapshot_is_pinned_by_its_revision(standin: StandIn) -> None:
    standin.json("GET", "/v1/models", fixture("vllm-0.6.3_v1_models_snapshot.json"))
    standin.json("GET", "/version", fixture("vllm-0.6.3_version.json"))
    async with open_runtime(RuntimeConfig(family="openai", url=standin.url)) as runtime:
        inventory = await runtime.inventory()
    (model,) = inventory.models
    assert model.id == "llama-3.1-8b"
    assert model.digest == "hf-revision:0e9e39f249a16976918f6564b8830bc894c89659"
    assert model.digest_source == "hf-revision"
    assert model.details["max_model_len"] == 8192
    assert inventory.version == "0.6.3.post1"


async def test_vllm_served_by_bare_repo_id_has_no_digest_rather_than_a_wrong_one(
    standin: StandIn,
) -> None:
    standin.json("GET", "/v1/models", fixture("vllm-0.6.3_v1_models_repo.json"))
    async with open_runtime(RuntimeConfig(family="openai", url=standin.url)) as runtime:
        inventory = await runtime.inventory()
    (model,) = inventory.models
    assert model.id == "meta-llama/Llama-3.1-8B-Instruct"
    assert model.digest is None and model.digest_source is None
    assert inventory.version is None  # this stand-in has no /version: reported as unknown


async def test_llamacpp_props_names_the_file_and_build(standin: StandIn, test_model: Path) -> None:
    props = fixture("llamacpp-server-readme_props.json")
    props["model_path"] = str(test_model)
    standin.json("GET", "/props", props)
    standin.json("GET", "/health", {"status": "ok"})
    standin.json("GET", "/v1/models", fixture("llamacpp-server-readme_v1_models.json"))
    async with open_runtime(RuntimeConfig(family="llamacpp", url=standin.url)) as runtime:
        inventory = await runtime.inventory()
        health = await runtime.health()
    assert inventory.build == "b6700-3df2244d"
    (model,) = inventory.models
    assert model.id == "test-model-alias"
    assert model.digest == f"sha256:{file_sha256(test_model, cached=False)}"
    assert model.path == str(test_model.resolve())
    assert model.details["owned_by"] == "llamacpp"
    assert health.ok and health.detail == "status ok"


async def test_a_remote_servers_path_is_not_hashed_from_this_disk(test_model: Path) -> None:
    # The same path exists here, but a server on another host names a file on *its* disk:
    # hashing ours would pin the wrong bytes. A configured model_path of that file's name is
    # this machine's copy of it, and is pinned.
    props = fixture("llamacpp-server-readme_props.json")
    props["model_path"] = str(test_model)
    answers = {"/props": props, "/v1/models": fixture("llamacpp-server-readme_v1_models.json")}

    def stand_in(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    remote = RuntimeConfig(family="llamacpp", url="http://gpu-box.internal:8080")
    async with LlamaCppRuntime(remote, transport=httpx.MockTransport(stand_in)) as runtime:
        (unpinned,) = await runtime.models()
    pinned_config = remote.model_copy(update={"model_path": test_model})
    async with LlamaCppRuntime(pinned_config, transport=httpx.MockTransport(stand_in)) as runtime:
        (pinned,) = await runtime.models()
    assert unpinned.digest is None
    assert pinned.digest == f"sha256:{file_sha256(test_model, cached=False)}"
