"""What ties a digest to the weights a runtime serves: the runtime naming the file (by path in
``/v1/models``, or llama-server's ``/props``), or inhouse having started it on that file (the
embedded runtime). A ``model_path`` only the config names ties nothing, and nothing that is not a
GGUF model file is hashed as weights. Honest paths on the real llama.cpp engine; the forgeries
are the cheapest ones: a config naming a file the server never named, a 12-byte ``.gguf``."""

from __future__ import annotations

import json
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from inhouse.location import run_dir
from inhouse.runtimes import RuntimeConfig, open_runtime, serve_embedded, stop_embedded
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.embedded import EmbeddedRuntime
from inhouse.runtimes.llamacpp import LlamaCppRuntime
from inhouse.runtimes.testmodel import make_test_model
from tests.engine import HAS_ENGINE, Engine, needs_engine, serve_test_model
from tests.runtimes.standin import StandIn, fixture

pytestmark = pytest.mark.anyio

ALIAS = "qwen2.5-7b-instruct"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def aliased(test_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The real engine started with ``--model_alias``: its ``/v1/models`` names no file."""
    if not HAS_ENGINE:
        pytest.skip("needs the embedded extra (llama-cpp-python[server])")
    log = tmp_path_factory.mktemp("aliased") / "server.log"
    with serve_test_model(test_model, log, "--n_ctx", "256", "--model_alias", ALIAS) as served:
        yield served


def twelve_bytes(folder: Path, name: str = "blessed.gguf") -> Path:
    path = folder / name
    path.write_bytes(b"not a model.")
    return path


@needs_engine
@pytest.mark.parametrize("family", ["openai", "llamacpp"])
async def test_a_model_path_counts_only_where_the_server_names_it(
    aliased: Engine, engine: Engine, tmp_path: Path, family: str
) -> None:
    """The forgery: a real GGUF committed beside inhouse.toml and named as model_path, against
    a server that lists one model under an alias. Even the very file the server loaded is only
    the config's word there, so neither is pinned; the reason says what would pin it. The
    honest way: the same server started on the file's path names it, and it is pinned."""
    other = make_test_model(tmp_path / "weights" / "blessed.gguf", seed=3)
    for named in (other, aliased.model):
        config = RuntimeConfig(name="local", family=family, url=aliased.url, model_path=named)
        async with open_runtime(config) as runtime:
            (model,) = await runtime.models()
        assert model.id == ALIAS
        assert model.digest is None and model.digest_source is None
        why = model.why_no_digest or ""
        assert f"the configured model_path {named} is no file runtime local names for" in why
        assert "serve the model by its file's absolute path" in why
        assert "`inhouse runtime serve MODEL.gguf`" in why

    config = RuntimeConfig(name="local", family=family, url=engine.url, model_path=engine.model)
    async with open_runtime(config) as runtime:
        (model,) = await runtime.models()
    assert model.id == str(engine.model)
    assert model.digest == sha256_digest(engine.model, cached=False)
    assert model.digest_source == "file-sha256" and model.why_no_digest is None


async def test_llama_servers_props_ties_the_configured_file(
    standin: StandIn, test_model: Path, tmp_path: Path
) -> None:
    """llama-server lists an alias but ``/props`` names the file it loaded (recorded API
    shapes). Named on this disk, that file is pinned, whatever other file the config names.
    Named inside a container (a path absent here), the configured copy of that file, by its
    name, is pinned; a configured file of another name is not."""
    props = fixture("llamacpp-server-readme_props.json")
    standin.json("GET", "/props", props)
    standin.json("GET", "/v1/models", fixture("llamacpp-server-readme_v1_models.json"))
    other = make_test_model(tmp_path / "blessed.gguf", seed=2)

    async def pinned(named: str, configured: Path) -> tuple[str | None, str | None]:
        props["model_path"] = named
        config = RuntimeConfig(family="llamacpp", url=standin.url, model_path=configured)
        async with open_runtime(config) as runtime:
            (model,) = await runtime.models()
        return model.digest, model.why_no_digest

    served = sha256_digest(test_model, cached=False)
    assert (await pinned(str(test_model), other))[0] == served
    in_container = "/models/inhouse-test-model.gguf"
    assert (await pinned(in_container, test_model))[0] == served
    digest, why = await pinned(in_container, other)
    assert digest is None
    assert f"the configured model_path {other} is no file runtime default names" in (why or "")


async def test_a_file_that_is_not_gguf_is_never_hashed_as_weights(
    standin: StandIn, tmp_path: Path
) -> None:
    """The cheapest forgery of weights: 12 bytes named ``.gguf``, named by the server itself
    (its /v1/models id is the path) and by the config. Neither is hashed; the reason says the
    file is no GGUF model."""
    blob = twelve_bytes(tmp_path)
    standin.json("GET", "/v1/models", {"object": "list", "data": [{"id": str(blob)}]})
    config = RuntimeConfig(family="openai", url=standin.url, model_path=blob)
    async with open_runtime(config) as runtime:
        (model,) = await runtime.models()
    assert model.digest is None
    assert f"{blob} is not a GGUF model file (12 bytes, without GGUF's header)" in (
        model.why_no_digest or ""
    )


def test_gguf_problem_tells_models_from_files_that_only_look_like_them(
    test_model: Path, tmp_path: Path
) -> None:
    from inhouse.runtimes.digests import gguf_problem  # imported here: new with this check

    assert gguf_problem(test_model) is None
    assert "without GGUF's header" in (gguf_problem(twelve_bytes(tmp_path)) or "")
    magic_only = tmp_path / "magic.gguf"
    magic_only.write_bytes(b"GGUF" + bytes(64))
    assert "GGUF version 0" in (gguf_problem(magic_only) or "")
    no_tensors = tmp_path / "empty.gguf"
    no_tensors.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))
    assert "holds no tensors" in (gguf_problem(no_tensors) or "")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(test_model.read_bytes()[:4096])  # a real header, its tables cut short
    assert "do not parse" in (gguf_problem(cut) or "")


async def test_a_server_on_another_host_ties_the_configured_copy_by_its_file_name(
    test_model: Path, tmp_path: Path
) -> None:
    """A remote llama-server's ``/props`` names a file on its own disk: the configured copy
    here is pinned when it is a file of that name, and not otherwise."""
    props = fixture("llamacpp-server-readme_props.json")
    props["model_path"] = "/srv/models/inhouse-test-model.gguf"
    answers = {"/props": props, "/v1/models": fixture("llamacpp-server-readme_v1_models.json")}

    def remote(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=answers[request.url.path])

    renamed = tmp_path / "blessed.gguf"
    shutil.copyfile(test_model, renamed)
    found = {}
    for configured in (test_model, renamed):
        config = RuntimeConfig(
            family="llamacpp", url="http://gpu-box.internal:8080", model_path=configured
        )
        async with LlamaCppRuntime(config, transport=httpx.MockTransport(remote)) as runtime:
            (found[configured.name],) = await runtime.models()
    assert found["inhouse-test-model.gguf"].digest == sha256_digest(test_model, cached=False)
    assert found["blessed.gguf"].digest is None
    assert "is no file runtime default names" in (found["blessed.gguf"].why_no_digest or "")


@needs_engine
async def test_the_embedded_runtime_pins_the_file_it_was_started_on(
    test_model: Path, tmp_path: Path
) -> None:
    """The embedded server lists an alias; its digest is the file ``serve`` launched it with
    (and the running process still names), not one the config names. A state file rewritten
    to name another file is refused: the process was not started on it."""
    other = make_test_model(tmp_path / "other.gguf", seed=4)
    serve_embedded(test_model)
    try:
        config = RuntimeConfig(name="local", family="embedded", model_path=other)
        async with EmbeddedRuntime(config) as runtime:
            (model,) = await runtime.models()
        assert model.id == test_model.stem
        assert model.digest == sha256_digest(test_model, cached=False)
        assert model.path == str(test_model.resolve())

        state_file = run_dir(None) / "embedded.json"
        state = json.loads(state_file.read_text())
        forged = {**state, "model_path": str(other), "model_digest": sha256_digest(other)}
        state_file.write_text(json.dumps(forged))
        async with EmbeddedRuntime(RuntimeConfig(name="local", family="embedded")) as runtime:
            (model,) = await runtime.models()
        assert model.digest is None
        why = model.why_no_digest or ""
        assert f"is not the server `inhouse runtime serve` started on {other}" in why
        assert "restart it (`inhouse runtime stop`" in why
        state_file.write_text(json.dumps(state))
    finally:
        stop_embedded()


async def test_llama_server_started_with_a_relative_model_path_ties_it_by_file_name(
    tmp_path: Path,
) -> None:
    """``cd ~/llm && llama-server -m models/blessed.gguf``, as llama.cpp's README writes it:
    ``/props`` names a path relative to the folder the server started in, which inhouse cannot
    know, so it ties the configured file by its name, as for a path in a container."""
    real = make_test_model(tmp_path / "llm" / "models" / "blessed.gguf", seed=2)
    with StandIn() as standin:
        props = fixture("llamacpp-server-readme_props.json")
        props["model_path"] = "models/blessed.gguf"
        standin.json("GET", "/props", props)
        standin.json("GET", "/v1/models", fixture("llamacpp-server-readme_v1_models.json"))
        config = RuntimeConfig(family="llamacpp", url=standin.url, model_path=real)
        async with open_runtime(config) as runtime:
            (model,) = await runtime.models()
        assert model.digest == sha256_digest(real, cached=False), model.why_no_digest
        props["model_path"] = "models/other.gguf"  # another file's name ties nothing
        async with open_runtime(config) as runtime:
            (model,) = await runtime.models()
        assert model.digest is None and model.why_no_digest
