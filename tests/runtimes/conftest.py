"""Fixtures for the runtime layer: isolated model and run folders, and stand-in upstreams. The
real engine (``engine``, ``test_model``) comes from ``tests/engine.py``, shared by the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtimes.standin import StandIn


@pytest.fixture(autouse=True)
def _runtime_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own models and run folders, outside any program."""
    monkeypatch.delenv("INHOUSE_PROGRAM", raising=False)
    monkeypatch.setenv("INHOUSE_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("INHOUSE_RUN_DIR", str(tmp_path / "run"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    work = tmp_path / "cwd"
    work.mkdir(exist_ok=True)
    monkeypatch.chdir(work)
    yield


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A stand-in upstream on loopback for recorded shapes and exact faults (not a runtime)."""
    with StandIn() as server:
        yield server
