"""The inventory against Ollama, vLLM and LM Studio, through the real adapters, served by a
stand-in that answers with their recorded, documented shapes (tests/runtimes/fixtures and
tests/support/fixtures name each API version): unpinned extras, a missing model, a digest
mismatch, runtime version drift, and a node that is down. The real llama.cpp engine is in
test_drift.py."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.testmodel import make_test_model
from inhouse.support.inventory import Finding, NodeInventory, ask_nodes, compare
from tests.runtimes.standin import StandIn, fixture, free_port

HERE = Path(__file__).parent / "fixtures"
LLAMA = "sha256:a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72"  # /api/tags
GEMMA = "sha256:a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a"
REVISION = "hf-revision:0e9e39f249a16976918f6564b8830bc894c89659"  # vLLM snapshot fixture


def recorded(name: str) -> object:
    return json.loads((HERE / name).read_text())


def lock(family: str, version: str | None, models: dict[str, str]) -> Lock:
    made = Lock(
        owner="lena",
        runtime=LockedRuntime(name="main", family=family, version=version),
        models=[LockedModel(name=n, digest=d) for n, d in models.items()],
        python="3.12",
        inhouse="0.1.0",
    )
    return made.model_copy(update={"lock_hash": made.computed_hash()})


def ask(*configs: RuntimeConfig) -> list[NodeInventory]:
    return asyncio.run(ask_nodes(list(configs), None))


def problems(findings: list[Finding]) -> set[tuple[str, str]]:
    return {(f.model, f.problem) for f in findings}


@pytest.fixture
def ollama() -> Iterator[StandIn]:
    with StandIn() as server:
        server.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
        server.json("GET", "/api/ps", recorded("ollama-0.12.6_api_ps.json"))
        server.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
        yield server


def test_ollama_node_serving_the_blessed_model_and_an_unpinned_extra(ollama: StandIn) -> None:
    config = RuntimeConfig(name="gpu1", family="ollama", url=ollama.url)
    [node] = ask(config)
    assert node.up and node.version == "0.12.6"
    assert {m.id: m.loaded for m in node.models} == {"gemma3": True, "llama3.2:latest": False}
    findings = compare(lock("ollama", "0.12.6", {"llama3.2:latest": LLAMA}), [node])
    [extra] = findings
    assert (extra.node, extra.model, extra.problem) == (
        f"gpu1 at {ollama.url}",
        "gemma3",
        "unpinned-extra",
    )
    assert GEMMA in extra.detail and "loaded" in extra.detail


def test_ollama_digest_mismatch_missing_model_and_version_drift_name_node_and_model(
    ollama: StandIn,
) -> None:
    [node] = ask(RuntimeConfig(name="gpu1", family="ollama", url=ollama.url))
    other = "sha256:" + "1" * 64
    locked = lock("ollama", "0.12.5", {"llama3.2:latest": other, "gemma3": GEMMA, "mistral": other})
    findings = compare(locked, [node])
    assert problems(findings) == {
        ("llama3.2:latest", "digest-mismatch"),
        ("mistral", "missing"),
        ("", "runtime-version-drift"),
    }
    mismatch = next(f for f in findings if f.problem == "digest-mismatch")
    assert mismatch.node == f"gpu1 at {ollama.url}"
    assert other in mismatch.detail and LLAMA in mismatch.detail
    drift = next(f for f in findings if f.problem == "runtime-version-drift")
    assert drift.detail == "version 0.12.6, the lock pins 0.12.5"


def test_vllm_node_pinned_by_hub_revision_with_an_unpinned_extra() -> None:
    models = fixture("vllm-0.6.3_v1_models_snapshot.json")
    extra = dict(fixture("vllm-0.6.3_v1_models_repo.json")["data"][0], id="qwen2.5-7b")
    models["data"].append(extra)
    with StandIn() as vllm:
        vllm.json("GET", "/v1/models", models)
        vllm.json("GET", "/version", fixture("vllm-0.6.3_version.json"))
        [node] = ask(RuntimeConfig(name="vllm", family="openai", url=vllm.url + "/v1"))
    assert node.version == "0.6.3.post1"
    served = {m.id: m.digest for m in node.models}
    assert served == {"llama-3.1-8b": REVISION, "qwen2.5-7b": None}
    assert problems(compare(lock("openai", "0.6.3.post1", {"llama-3.1-8b": REVISION}), [node]))\
        == {("qwen2.5-7b", "unpinned-extra")}  # fmt: skip
    stale = "hf-revision:" + "2" * 40
    [mismatch, _] = compare(lock("openai", "0.6.3.post1", {"llama-3.1-8b": stale}), [node])
    assert (mismatch.model, mismatch.problem) == ("llama-3.1-8b", "digest-mismatch")
    assert f"locked {stale}, served {REVISION}" == mismatch.detail


def test_lm_studio_gives_no_digest_and_says_why_even_for_the_configured_file(
    tmp_path: Path,
) -> None:
    """LM Studio's API names no file, so a model_path beside it is the config's word alone for
    what it loaded: the forgery (the config names the very GGUF whose hash the lock holds) must
    not pass, and the finding says why and what would pin the model."""
    weights = make_test_model(tmp_path / "Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf")
    with StandIn() as studio:
        studio.json("GET", "/api/v0/models", recorded("lmstudio-0.3.6_api_v0_models.json"))
        config = RuntimeConfig(
            name="studio", family="lmstudio", url=studio.url + "/v1",
            model="meta-llama-3.1-8b-instruct", model_path=weights,
        )  # fmt: skip
        [node] = ask(config)
    loaded = {m.id: (m.loaded, m.digest) for m in node.models}
    assert loaded == {
        "qwen2-vl-7b-instruct": (False, None),
        "meta-llama-3.1-8b-instruct": (True, None),
        "text-embedding-nomic-embed-text-v1.5": (False, None),
    }
    why = {m.id: m.why_no_digest or "" for m in node.models}
    assert all("LM Studio's /api/v0/models names no model file or digest" in w
               for w in why.values())  # fmt: skip
    assert all("use the embedded runtime" in w for w in why.values())  # what would pin it
    configured = why["meta-llama-3.1-8b-instruct"]
    assert f"the configured model_path {weights} is the config's word alone" in configured
    blessed = {"meta-llama-3.1-8b-instruct": sha256_digest(weights)}
    findings = compare(lock("lmstudio", None, blessed), [node])
    assert problems(findings) == {
        ("meta-llama-3.1-8b-instruct", "digest-mismatch"),
        ("qwen2-vl-7b-instruct", "unpinned-extra"),
        ("text-embedding-nomic-embed-text-v1.5", "unpinned-extra"),
    }
    [unpinned] = [f for f in findings if f.problem == "digest-mismatch"]
    assert "served without a digest, so its weights are unknown" in unpinned.detail
    assert blessed[unpinned.model] in unpinned.detail
    assert "the config's word alone" in unpinned.detail  # the finding says why


def test_a_node_that_is_down_is_reported_and_fails_every_blessed_model(ollama: StandIn) -> None:
    down = RuntimeConfig(
        name="gpu2", family="ollama", url=f"http://127.0.0.1:{free_port()}", connect_timeout=1
    )
    up, gone = ask(RuntimeConfig(name="gpu1", family="ollama", url=ollama.url), down)
    assert up.up and not gone.up and "gpu2" in gone.error
    findings = compare(
        lock("ollama", "0.12.6", {"llama3.2:latest": LLAMA, "gemma3": GEMMA}), [up, gone]
    )
    assert [(f.node, f.model, f.problem) for f in findings] == [
        (gone.node, "llama3.2:latest", "missing"),
        (gone.node, "gemma3", "missing"),
    ]
    assert all("did not answer" in f.detail for f in findings)


def test_a_node_of_another_runtime_family_is_version_drift(ollama: StandIn) -> None:
    [node] = ask(RuntimeConfig(name="gpu1", family="ollama", url=ollama.url))
    findings = compare(lock("llamacpp", None, {"llama3.2:latest": LLAMA, "gemma3": GEMMA}), [node])
    assert [(f.problem, f.detail) for f in findings] == [
        ("runtime-version-drift", "runtime family ollama, the lock pins llamacpp unreported")
    ]
