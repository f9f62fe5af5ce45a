"""The embedded runtime: inhouse starts llama-cpp-python's server on loopback, it answers, and
it stops without leaving a process behind — through the CLI and the Python API."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import ExtraNotInstalled, InvalidInput, RuntimeUnavailable
from inhouse.location import run_dir
from inhouse.runtimes import (
    ChatRequest,
    connect_embedded,
    embedded_status,
    serve_embedded,
    stop_embedded,
)
from inhouse.runtimes.digests import file_sha256
from inhouse.runtimes.testmodel import TEST_MODEL_LABEL
from tests.engine import needs_engine

runner = CliRunner()


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")


async def ask_and_inventory() -> tuple[str, str | None, str | None, bool]:
    async with connect_embedded() as runtime:
        reply = await runtime.chat(
            ChatRequest.model_validate(
                # temperature 0: the answer asserted below is not a draw (an answer that is
                # only its end-of-turn token has no text)
                {
                    "messages": [{"role": "user", "content": "Hello"}],
                    "max_tokens": 8,
                    "temperature": 0,
                }
            )
        )
        inventory = await runtime.inventory()
    (model,) = inventory.models
    return reply.text, model.digest, inventory.version, model.is_test_model


@needs_engine
def test_serve_answer_stop_leaves_no_process(test_model: Path) -> None:
    started = runner.invoke(app, ["runtime", "serve", str(test_model), "--json"])
    assert started.exit_code == 0, started.output
    state = json.loads(started.output)
    pid = state["pid"]
    try:
        assert state["url"].startswith("http://127.0.0.1:")
        assert (run_dir(None) / "embedded.pid").read_text().strip() == str(pid)
        text, digest, version, is_test = asyncio.run(ask_and_inventory())
        assert text
        assert digest == f"sha256:{file_sha256(test_model, cached=False)}" == state["model_digest"]
        assert version is not None and version.startswith("llama-cpp-python ")
        assert is_test

        status = runner.invoke(app, ["runtime", "status"])
        assert status.exit_code == 0
        assert f"pid {pid}" in status.output and TEST_MODEL_LABEL in status.output

        again = runner.invoke(app, ["runtime", "serve", str(test_model)])
        assert again.exit_code == 2 and "already running" in again.output
        assert "Starting" not in again.stdout  # refused before any wait is announced
    finally:
        stopped = runner.invoke(app, ["runtime", "stop"])
    assert stopped.exit_code == 0 and f"pid {pid}" in stopped.output
    assert not process_exists(pid)
    assert not (run_dir(None) / "embedded.pid").exists()
    assert "not running" in runner.invoke(app, ["runtime", "status"]).output
    with pytest.raises(RuntimeUnavailable, match="inhouse runtime serve"):
        connect_embedded()


@needs_engine
def test_serve_runs_llama_cpp_on_the_threads_asked_for(test_model: Path) -> None:
    started = runner.invoke(app, ["runtime", "serve", str(test_model), "--threads", "1", "--json"])
    assert started.exit_code == 0, started.output
    pid = json.loads(started.output)["pid"]
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        for flag in (b"--n_threads", b"--n_threads_batch"):
            assert argv[argv.index(flag) + 1] == b"1"
        text, *_ = asyncio.run(ask_and_inventory())  # llama-cpp-python took the flags
        assert text
    finally:
        assert runner.invoke(app, ["runtime", "stop"]).exit_code == 0
    refused = runner.invoke(app, ["runtime", "serve", str(test_model), "--threads", "0"])
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    with pytest.raises(InvalidInput, match="threads must be at least 1"):
        serve_embedded(test_model, threads=0)


@needs_engine
def test_serve_finds_a_model_by_name_in_the_models_folder() -> None:
    assert runner.invoke(app, ["models", "make-test-model"]).exit_code == 0
    started = runner.invoke(app, ["runtime", "serve", "inhouse-test-model", "--json"])
    assert started.exit_code == 0, started.output
    pid = json.loads(started.output)["pid"]
    report = stop_embedded()
    assert "stopped" in report.detail
    assert not process_exists(pid)


def test_stop_when_nothing_runs_and_stale_state_is_cleared(tmp_path: Path) -> None:
    assert "not running" in stop_embedded().detail
    folder = run_dir(None)
    folder.mkdir(parents=True)
    gone = 2**22 + 12345  # above the default pid_max: no such process
    (folder / "embedded.pid").write_text(f"{gone}\n")
    (folder / "embedded.json").write_text(json.dumps({
        "pid": gone, "url": "http://127.0.0.1:9", "host": "127.0.0.1", "port": 9,
        "model_id": "m", "model_path": "/nowhere/m.gguf", "model_digest": "sha256:00",
        "is_test_model": False, "engine": "llama-cpp-python 0", "python": sys.executable,
        "started_at": "2026-01-01T00:00:00+00:00", "log_path": "/nowhere/log",
    }))  # fmt: skip
    assert "process" in embedded_status().detail and not embedded_status().running
    assert "stale PID" in stop_embedded().detail
    assert not (folder / "embedded.pid").exists() and not (folder / "embedded.json").exists()


def test_serve_refuses_a_running_runtime_before_announcing_a_wait(test_model: Path) -> None:
    """A runtime already runs (its recorded process is alive: this one stands in for it):
    `inhouse runtime serve` refuses at once, and no longer says first that it is starting one
    and waiting up to 120 s; the record is left as it was."""
    folder = run_dir(None)
    folder.mkdir(parents=True)
    record = json.dumps({
        "pid": os.getpid(), "url": "http://127.0.0.1:9", "host": "127.0.0.1", "port": 9,
        "model_id": "m", "model_path": "/elsewhere/m.gguf", "model_digest": "sha256:00",
        "is_test_model": False, "engine": "llama-cpp-python 0", "python": sys.executable,
        "started_at": "2026-01-01T00:00:00+00:00", "log_path": "/elsewhere/log",
    })  # fmt: skip
    (folder / "embedded.json").write_text(record)
    refused = runner.invoke(app, ["runtime", "serve", str(test_model)])
    assert refused.exit_code == 2, refused.output
    assert "already running at http://127.0.0.1:9" in refused.output
    assert "inhouse runtime stop" in refused.output
    assert "Starting" not in refused.stdout and "waiting up to" not in refused.output
    assert (folder / "embedded.json").read_text() == record


def test_without_the_extra_serve_names_the_install_script(test_model: Path) -> None:
    bare = Path("/usr/bin/python3")
    if not bare.exists():
        pytest.skip("needs a Python without llama-cpp-python at /usr/bin/python3")
    with pytest.raises(ExtraNotInstalled, match=r"install-embedded\.sh"):
        serve_embedded(test_model, python=str(bare))
    assert not (run_dir(None) / "embedded.pid").exists()


def test_without_the_extra_serve_says_so_before_announcing_a_wait(
    test_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without llama-cpp-python, `runtime serve` said "Starting the embedded runtime …, waiting
    up to 120 s", then that the extra was missing: a wait for nothing. Now the error alone."""
    import inhouse.runtimes.embedded as embedded

    def missing(python: str) -> str:
        raise ExtraNotInstalled(embedded._install_hint(python))

    monkeypatch.setattr(embedded, "_engine_version", missing)
    refused = runner.invoke(app, ["runtime", "serve", str(test_model)])
    assert refused.exit_code == 2, refused.output
    assert "install-embedded.sh" in refused.output
    assert "Starting" not in refused.output and "waiting up to" not in refused.output


def test_without_the_extra_a_pip_install_is_told_the_pip_command(
    test_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hint named `scripts/install-embedded.sh`, which someone who installed inhouse with
    pip does not have: they are told the pip command of the extra, and the script only in a
    checkout (where it is, by its path)."""
    import inhouse.runtimes.embedded as embedded

    def missing(python: str) -> str:
        raise ExtraNotInstalled(embedded._install_hint(python))

    monkeypatch.setattr(embedded, "_engine_version", missing)
    monkeypatch.setattr(embedded, "_checkout_script", lambda: None)  # as pip installs it
    refused = runner.invoke(app, ["runtime", "serve", str(test_model)])
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert "-m pip install 'inhouse[embedded]'" in said, said
    assert "install-embedded.sh" not in said
    # from a checkout, the script is named too, by where it is
    monkeypatch.undo()
    script = Path(embedded.__file__).resolve().parents[3] / "scripts" / "install-embedded.sh"
    assert script.is_file()  # these tests run from the checkout
    assert str(script) in embedded._install_hint(sys.executable)
    assert "pip install 'inhouse[embedded]'" in embedded._install_hint(sys.executable)
    # the extra the command names is the one pyproject.toml declares, under the name it has
    import tomllib

    project = tomllib.loads((script.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["name"] == "inhouse"
    assert "llama-cpp-python" in " ".join(project["project"]["optional-dependencies"]["embedded"])


def test_serve_refuses_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model")
    with pytest.raises(InvalidInput, match="not a GGUF"):
        serve_embedded(fake)


@needs_engine
def test_serve_says_how_a_program_reaches_the_runtime(test_model: Path) -> None:
    """A program whose inhouse.toml names no runtime of family embedded does not use the one
    just started: `runtime serve` says what to add; where one is named, nothing is said."""
    from inhouse.program import Program

    folder = Path.cwd()  # a program here
    Program.init(folder, "Acme", "lena").close()
    started = runner.invoke(app, ["runtime", "serve", str(test_model)])
    try:
        assert started.exit_code == 0, started.output
        said = " ".join(started.stdout.split())
        assert "names no runtime of family embedded" in said, said
        assert '`[runtimes.local]` with `family = "embedded"`' in said
        assert '(`runtime = "local"`)' in said
    finally:
        assert runner.invoke(app, ["runtime", "stop"]).exit_code == 0
    from inhouse.cli.runtime import _reach_hint

    with (folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[runtimes.here]\nfamily = "embedded"\n')
    assert _reach_hint(folder) is None


@needs_engine
def test_serve_tells_a_real_program_the_test_model_passes_no_play(
    test_model: Path, tmp_path: Path
) -> None:
    """Serving the test model in a real program says, in one line, that plays 1-3 do not pass
    on it (before the refusals do); a demo program, whose plays count it, is told nothing."""
    from inhouse.cli.runtime import _test_model_hint
    from inhouse.program import Program

    folder = Path.cwd()  # a real program here
    Program.init(folder, "Acme", "lena").close()
    started = runner.invoke(app, ["runtime", "serve", str(test_model)])
    try:
        assert started.exit_code == 0, started.output
        said = " ".join(started.stdout.split())
        assert "a real program's plays 1-3 do not pass on it" in said, said
        assert "only a demo program, `inhouse init --demo`, counts the test model" in said
    finally:
        assert runner.invoke(app, ["runtime", "stop"]).exit_code == 0
    demo = tmp_path / "demo"
    demo.mkdir()
    Program.init(demo, "Demo", "lena", demo=True).close()
    assert _test_model_hint(demo) is None


def _program_blessing_a_model_under_models() -> Path:
    """A program here whose ``[baseline]`` keeps the test model at ``models/`` (as ``inhouse
    init --demo`` writes it), not in the models folder."""
    from inhouse.program import Program

    folder = Path.cwd()
    Program.init(folder, "Acme", "lena").close()
    with (folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write(
            '\n[runtimes.local]\nfamily = "embedded"\n\n[baseline]\nowner = "lena"\n'
            'runtime = "local"\nmodels = [{ name = "inhouse-test-model", '
            'path = "models/inhouse-test-model.gguf" }]\n'
        )
    return folder


@needs_engine
def test_serve_finds_a_blessed_model_by_its_name_in_the_baseline(test_model: Path) -> None:
    """The README's `inhouse runtime serve inhouse-test-model`, in a program whose baseline
    keeps the file at models/inhouse-test-model.gguf: it served nothing ("no model file ...
    looked ... in .inhouse/models"); it serves the file [baseline] names."""
    import shutil

    folder = _program_blessing_a_model_under_models()
    (folder / "models").mkdir()
    shutil.copyfile(test_model, folder / "models" / "inhouse-test-model.gguf")
    started = runner.invoke(app, ["runtime", "serve", "inhouse-test-model", "--json"])
    try:
        assert started.exit_code == 0, started.output
        assert json.loads(started.output)["model_digest"] == f"sha256:{file_sha256(test_model)}"
    finally:
        assert runner.invoke(app, ["runtime", "stop"]).exit_code == 0


def test_serve_names_where_the_baseline_says_a_missing_model_is() -> None:
    folder = _program_blessing_a_model_under_models()
    missing = runner.invoke(app, ["runtime", "serve", "inhouse-test-model"])
    assert missing.exit_code != 0
    said = " ".join(missing.output.split())
    assert "[baseline] names it at models/inhouse-test-model.gguf" in said, said
    assert not (folder / "models").exists()
