"""The test model is told by its content, whatever its file is called: one reading
(``serves_test_model``) that ``baseline lock``, a trial's candidate side and the workflow runner
use. The cheapest disguise is a copy under a real model's name with the marker key removed by
the ``gguf`` package's own ``gguf-new-metadata``; its tensors still give it away. A llama.cpp
server on another host describes the weights it loaded (``/v1/models``' ``meta``), which gives
it away there too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from gguf import GGUFReader, GGUFWriter

from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.llamacpp import LlamaCppRuntime
from inhouse.runtimes.protocol import ModelInfo
from inhouse.runtimes.testmodel import is_test_model, make_test_model
from tests.runtimes.standin import fixture


def disguised(model: Path, folder: Path) -> Path:
    """A copy of the test model named as a real one, its ``inhouse.test_model`` keys removed
    and its name and description rewritten, by the ``gguf`` package's own tool."""
    copy = folder / "mistral-7b.gguf"
    subprocess.run(
        [sys.executable, "-m", "gguf.scripts.gguf_new_metadata", str(model), str(copy),
         "--remove-metadata", "inhouse.test_model", "--remove-metadata",
         "inhouse.test_model.seed", "--general-name", "Mistral 7B", "--general-description",
         "Mistral 7B Instruct", "--force"],
        check=True, capture_output=True,
    )  # fmt: skip
    reader = GGUFReader(copy)
    assert "inhouse.test_model" not in reader.fields
    assert bytes(reader.fields["general.name"].parts[-1]).decode() == "Mistral 7B"
    return copy


def test_a_renamed_copy_without_the_marker_is_still_the_test_model(
    test_model: Path, tmp_path: Path
) -> None:
    copy = disguised(test_model, tmp_path)
    assert is_test_model(copy)
    # any seed: the seed changes the weights, not the tensors' names and sizes
    other_seed = make_test_model(tmp_path / "seed7" / "inhouse-test-model.gguf", seed=7)
    assert is_test_model(disguised(other_seed, other_seed.parent))


def test_another_gguf_is_no_test_model(tmp_path: Path) -> None:
    """A small GGUF with other tensors is not the test model, whatever it is called."""
    path = tmp_path / "inhouse-test-model-lookalike.gguf"
    writer = GGUFWriter(path, "llama")
    writer.add_name("tiny")
    writer.add_tensor("token_embd.weight", np.zeros((682, 32), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    assert not is_test_model(path)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _meta_of(model: Path) -> dict[str, Any]:
    """What llama.cpp's server says in ``/v1/models``' ``meta`` of ``model`` once loaded, read
    from the file with the ``gguf`` package (not from inhouse's constants)."""
    reader = GGUFReader(model)
    return {
        "vocab_type": 1,
        "n_vocab": len(reader.fields["tokenizer.ggml.tokens"].data),
        "n_ctx_train": int(reader.fields["llama.context_length"].parts[-1][0]),
        "n_embd": int(reader.fields["llama.embedding_length"].parts[-1][0]),
        "n_params": sum(int(t.n_elements) for t in reader.tensors),
        "size": model.stat().st_size,
    }


@pytest.mark.anyio
async def test_a_remote_llama_server_serving_it_under_an_alias_is_told_by_its_weights(
    test_model: Path,
) -> None:
    """A llama.cpp server on another host serves the test model as ``mistral-7b`` (``-a``): no
    file here to read, no telling name; what it says of the weights it loaded gives it away
    (the recorded shape of llama.cpp's ``/v1/models``, with the test model's figures). A real
    model's figures do not."""
    from inhouse.runtimes.testmodel import serves_test_model

    listed = fixture("llamacpp-server-readme_v1_models.json")
    real_meta = dict(listed["data"][0]["meta"])
    listed["data"][0] |= {"id": "mistral-7b", "meta": _meta_of(test_model)}
    props = fixture("llamacpp-server-readme_props.json")
    props["model_path"] = "/srv/models/mistral-7b.gguf"  # on the server's disk, not here

    def stand_in(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"/props": props, "/v1/models": listed}[request.url.path])

    remote = RuntimeConfig(family="llamacpp", url="http://gpu-box.internal:8080")
    async with LlamaCppRuntime(remote, transport=httpx.MockTransport(stand_in)) as runtime:
        (served,) = await runtime.models()
    assert served.id == "mistral-7b" and not served.is_test_model  # the file was not read
    assert serves_test_model(served)
    other = served.model_copy(update={"details": {**served.details, "meta": real_meta}})
    assert not serves_test_model(other)
    assert not serves_test_model(ModelInfo(id="mistral-7b"))
    assert serves_test_model(ModelInfo(id="/srv/models/inhouse-test-model.gguf"))  # its name
