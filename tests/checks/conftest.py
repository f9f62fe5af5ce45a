"""Fixtures for the output-quality checks: async tests on asyncio, and a second llama.cpp engine
started with embeddings on (the shared ``engine`` serves chat only) for ``similar`` and the
``llm-rubric`` judge, whose prompt needs more context than the shared engine's 256 tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine import HAS_ENGINE, Engine, serve_test_model


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def embedding_engine(
    test_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """llama-cpp-python's server with the test model, ``--embedding true`` and a 1024-token
    context, started once for the session and stopped at its end."""
    if not HAS_ENGINE:
        pytest.skip("needs the embedded extra (llama-cpp-python[server])")
    log = tmp_path_factory.mktemp("embedding-engine") / "server.log"
    with serve_test_model(test_model, log, "--n_ctx", "1024", "--embedding", "true") as served:
        yield served
