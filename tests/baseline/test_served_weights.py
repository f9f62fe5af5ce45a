"""A lock pins, and a verify checks, the weights the runtime serves, never a file inhouse.toml
names on its own. The forgery: the lead commits a file beside inhouse.toml, names it as the
runtime's ``model_path`` and blesses whatever one model a colleague's local server already lists;
the colleague's verify, with nothing installed, must not pass on that file's hash. Honest and
forged on the real llama.cpp engine; the 12-byte file on a stand-in server (a server cannot load
it, so only a stand-in can name it)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.runtimes.digests import sha256_digest
from tests.conftest import OTHER_COMPUTER
from tests.engine import HAS_ENGINE, Engine, needs_engine, serve_test_model
from tests.people import enrol_cli, lead_env
from tests.runtimes.standin import StandIn, fixture

runner = CliRunner()
NAME = "inhouse-test-model"


def cli(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    return result.exit_code, " ".join(out.split())


@pytest.fixture(scope="module")
def aliased(test_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The real engine on the test model, listing it under an alias: no file named."""
    if not HAS_ENGINE:
        pytest.skip("needs the embedded extra (llama-cpp-python[server])")
    log = tmp_path_factory.mktemp("aliased") / "server.log"
    with serve_test_model(test_model, log, "--n_ctx", "256", "--model_alias", NAME) as served:
        yield served


def configure(folder: Path, url: str, model_path: str) -> None:
    config = folder / "inhouse.toml"
    text = config.read_text().split("\n[runtimes.local]")[0]
    config.write_text(
        text
        + f'\n[runtimes.local]\nfamily = "openai"\nurl = "{url}"\nmodel_path = "{model_path}"\n\n'
        + f'[baseline]\nowner = "lena"\nruntime = "local"\nmodels = ["{NAME}"]\n\n'
        + '[data_rules]\ndefault = "redact"\n'
    )


@needs_engine
def test_a_verify_passes_only_where_the_runtime_names_the_locked_file(
    _isolated: Path, engine: Engine, aliased: Engine
) -> None:
    lena = Program.init(_isolated, "Acme", "lena")
    try:
        # the lead commits the blessed file, byte for byte the one the engines loaded
        (_isolated / "weights").mkdir()
        committed = _isolated / "weights" / f"{NAME}.gguf"
        shutil.copyfile(engine.model, committed)
        digest = sha256_digest(committed, cached=False)

        # against a server that lists the model under an alias, nothing can be locked
        configure(_isolated, aliased.url, f"weights/{NAME}.gguf")
        code, out = cli("baseline", "lock", env=lead_env(lena))
        assert code == 2, out
        assert f"baseline.models.0: runtime local serves '{NAME}' without a content digest" in out
        assert f"the configured model_path {committed} is no file runtime local names" in out
        assert "serve the model by its file's absolute path" in out

        # locked honestly: the server was started on the file's path, and names it
        configure(_isolated, engine.url, str(engine.model))
        code, out = cli("baseline", "lock", env=lead_env(lena))
        assert code == 0 and digest in out, out

        # bob: his own key, his own machine, an aliased server and the committed file named
        # in inhouse.toml; the file has the locked bytes, but nothing ties it to his server
        bob = {**enrol_cli(lena, "bob", _isolated.parent / "keys"), OTHER_COMPUTER: "bob-laptop"}
        configure(_isolated, aliased.url, f"weights/{NAME}.gguf")
        code, out = cli("baseline", "verify", env=bob)
        assert code == 1, out
        assert f"FAIL model {NAME}: runtime local at {aliased.url} serves it but cannot say" in out
        assert "stand the runtime up so that it names the weights it loaded" in out
        ctx = build_context(lena.state(), lena.clock())
        verify = ctx.facts.latest("baseline.verify")
        assert verify.by == "bob" and not verify.payload["passed"]
        assert verify.payload["models"] == []
        assert evaluate("second-person-verified", ctx).outcome is not Outcome.PASS

        # bob stands it up from the docs: the server started on the file's path
        configure(_isolated, engine.url, f"weights/{NAME}.gguf")
        code, out = cli("baseline", "verify", env=bob)
        assert code == 0, out
        ctx = build_context(lena.state(), lena.clock())
        verify = ctx.facts.latest("baseline.verify")
        assert verify.payload["models"] == [{"name": NAME, "digest": digest}]
        assert evaluate("second-person-verified", ctx).outcome is Outcome.PASS
    finally:
        lena.close()


def test_a_file_that_is_not_a_model_cannot_be_locked_on_a_stand_in_server(
    _isolated: Path,
) -> None:
    """Twelve bytes named ``.gguf``, named by the server itself (a stand-in: no real server
    loads it) and by inhouse.toml: refused as weights, saying why."""
    lena = Program.init(_isolated, "Acme", "lena")
    try:
        (_isolated / "weights").mkdir()
        blob = _isolated / "weights" / f"{NAME}.gguf"
        blob.write_bytes(b"not a model.")
        with StandIn() as server:
            server.json("GET", "/v1/models", {"object": "list", "data": [{"id": str(blob)}]})
            configure(_isolated, server.url, f"weights/{NAME}.gguf")
            code, out = cli("baseline", "lock", env=lead_env(lena))
        assert code == 2, out
        assert f"{blob} is not a GGUF model file (12 bytes, without GGUF's header)" in out
        assert not (_isolated / "inhouse.lock").exists()
    finally:
        lena.close()


def test_a_path_that_names_no_file_is_refused_at_lock_time(_isolated: Path) -> None:
    """[baseline] names where a blessed model's file lives, and nothing is there, nor a source
    to fetch it from: the lock took it and the install script stopped on it later, on the
    second person's machine. Refused at lock time, naming the path; nothing is written or
    recorded. With the file there, the same manifest locks."""
    lena = Program.init(_isolated, "Acme", "lena")
    try:
        with StandIn() as server:
            server.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
            server.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
            config = _isolated / "inhouse.toml"
            config.write_text(
                config.read_text().split("\n[runtimes.local]")[0]
                + f'\n[runtimes.local]\nfamily = "ollama"\nurl = "{server.url}"\n\n'
                + '[baseline]\nowner = "lena"\nruntime = "local"\n'
                + 'models = [{ name = "gemma3", path = "models/gemma3.gguf" }]\n\n'
                + '[data_rules]\ndefault = "redact"\n'
            )
            before = lena.state().head_seq
            code, out = cli("baseline", "lock", env=lead_env(lena))
            assert code == 2, out
            assert "baseline.models.0.path: 'models/gemma3.gguf' (blessed model gemma3)" in out
            assert "names no file in" in out and "nothing was locked" in out
            assert not (_isolated / "inhouse.lock").exists()
            assert lena.state().head_seq == before
            assert server.seen == []  # refused before the runtime was asked

            (_isolated / "models").mkdir()
            (_isolated / "models" / "gemma3.gguf").write_bytes(b"GGUF")
            code, out = cli("baseline", "lock", env=lead_env(lena))
            assert code == 0, out
            assert (_isolated / "inhouse.lock").exists()
    finally:
        lena.close()
