"""The project's test model under a real model's name, against the real llama.cpp engine: a
copy called ``mistral-7b.gguf``, its ``inhouse.test_model`` keys removed with the ``gguf``
package's own ``gguf-new-metadata``, served as ``mistral-7b``. ``baseline lock`` went by the
blessed name alone, so a real program was not told that plays 1-3 do not pass on it, and the
workflow runner read only the marker, so its runs recorded ``test_model: false`` and play 3
counted them. Both now read it by content (``serves_test_model``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.runtimes.testmodel import TEST_MODEL_REAL_PROGRAM
from tests.engine import Engine, needs_engine, serve_test_model
from tests.runtimes.test_test_model_reading import disguised
from tests.workflows.conftest import SUMMARY

pytestmark = needs_engine
runner = CliRunner()


@pytest.fixture
def disguised_engine(test_model: Path, tmp_path: Path) -> Iterator[Engine]:
    """The real engine serving the disguised copy (as ``mistral-7b``: its file's stem)."""
    folder = tmp_path / "weights"
    folder.mkdir()
    with serve_test_model(disguised(test_model, folder), tmp_path / "server.log",
                          "--n_ctx", "256") as served:  # fmt: skip
        yield served


def cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result


def test_the_test_model_under_a_real_name_is_told_by_lock_and_runner(
    disguised_engine: Engine, _isolated: Path
) -> None:
    folder = _isolated
    program = Program.init(folder, "Acme", "lena")
    program.change_roles("lena", "lena", add=["play-owner"])
    program.close()
    with (folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write(
            f'\n[runtimes.local]\nfamily = "openai"\nurl = "{disguised_engine.url}"\n'
            f'model_path = "{disguised_engine.model}"\n\n'
            '[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["mistral-7b"]\n'
        )
    locked = cli("baseline", "lock")
    said = " ".join(locked.stdout.split())
    assert "model mistral-7b" in said
    assert " ".join(TEST_MODEL_REAL_PROGRAM.split()) in said, said
    (folder / "workflows").mkdir()
    spec = SUMMARY.replace("model: inhouse-test-model", "model: mistral-7b").replace(
        "owner: omar", "owner: lena"
    )
    (folder / "workflows" / "summary.yaml").write_text(spec, encoding="utf-8")
    cli("workflow", "test", "summary")
    program = Program.open(folder)
    try:
        (run,) = [f for f in program.state().facts if f.kind == "workflow.run"]
        assert run.payload["passed"] and run.payload["test_model"] is True
        result = evaluate("workflow-tests-pass", build_context(program.state(), program.clock()))
    finally:
        program.close()
    assert result.outcome is Outcome.FAIL, result.reason
    assert "answered by the project's test model (random weights)" in result.reason
    relocked = json.loads(cli("baseline", "lock", "--json").stdout)
    assert relocked["test_models"] == ["mistral-7b"]
