"""The real llama.cpp engine for any test that needs one: the generated test model and
llama-cpp-python's OpenAI-compatible server on loopback, started once per session (the suite
runs on 2 cores). Registered for the whole suite by ``tests/conftest.py``.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from inhouse.runtimes.testmodel import make_test_model
from tests.runtimes.standin import free_port

__all__ = ["HAS_ENGINE", "Engine", "needs_engine", "serve_test_model"]

HAS_ENGINE = all(
    importlib.util.find_spec(name) is not None
    for name in ("llama_cpp", "uvicorn", "fastapi", "sse_starlette")
)
# Locally a missing extra skips these tests; in CI (CI=true) they run and fail instead.
needs_engine = pytest.mark.skipif(
    not HAS_ENGINE and os.environ.get("CI") != "true",
    reason="needs the embedded extra (llama-cpp-python[server]): scripts/install-embedded.sh",
)


#: one thread for every llama-cpp-python server the suite starts (``tests/engine.py``'s, and the
#: embedded runtime's ``inhouse runtime serve`` starts, which reads them from its environment as
#: llama-cpp-python's settings do). Its default batch threads are all the cores, and llama.cpp's
#: threads spin at each step's barrier for one another: on the suite's 2 cores, shared by two
#: workers' engines, gateways and tests, a thread that lost its core stalls the others, and an
#: 8-token answer took from 0.02 s to 7 s (``inhouse prove``'s "faster" is measured on it). The
#: test model needs no second thread.
ENGINE_THREADS = {"N_THREADS": "1", "N_THREADS_BATCH": "1"}


def pytest_configure(config: pytest.Config) -> None:
    for name, value in ENGINE_THREADS.items():
        os.environ.setdefault(name, value)


def _engine_or_skip() -> None:
    """Locally a missing extra skips; in CI (CI=true) it fails, never a silent skip."""
    if HAS_ENGINE:
        return
    message = "needs the embedded extra (llama-cpp-python[server]): scripts/install-embedded.sh"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def test_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated test model (seed 0), made once per session."""
    return make_test_model(tmp_path_factory.mktemp("model") / "inhouse-test-model.gguf")


@dataclass(frozen=True)
class Engine:
    url: str
    model: Path
    #: the server's process, for a test that stops it partway (a runtime that died)
    process: subprocess.Popen[bytes] | None = None


@contextmanager
def serve_test_model(model: Path, log: Path, *options: str) -> Iterator[Engine]:
    """llama-cpp-python's OpenAI-compatible server on loopback with ``model`` and extra server
    ``options`` (e.g. ``--n_ctx 256``), until the block ends."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model),
             "--host", "127.0.0.1", "--port", str(port), "--interrupt_requests", "false",
             "--n_threads", "1", "--n_threads_batch", "1", *options],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        with httpx.Client(trust_env=False) as client:
            while True:
                if server.poll() is not None:
                    pytest.fail(f"llama-cpp-python server exited:\n{log.read_text()[-2000:]}")
                try:
                    if client.get(f"{url}/v1/models").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"llama-cpp-python server not ready:\n{log.read_text()[-2000:]}")
                time.sleep(0.1)
        yield Engine(url=url, model=model, process=server)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def engine(test_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """The real llama.cpp engine: llama-cpp-python's OpenAI-compatible server with the test
    model, started once for the session (the suite runs on 2 cores) and stopped at the end."""
    _engine_or_skip()
    log = tmp_path_factory.mktemp("engine") / "server.log"
    with serve_test_model(test_model, log, "--n_ctx", "256") as served:
        yield served


@pytest.fixture(scope="session")
def embedding_engine(
    test_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """llama-cpp-python's server with the test model, ``--embedding true`` and a 1024-token
    context, started once for the session and stopped at its end."""
    _engine_or_skip()
    log = tmp_path_factory.mktemp("embedding-engine") / "server.log"
    with serve_test_model(test_model, log, "--n_ctx", "1024", "--embedding", "true") as served:
        yield served
