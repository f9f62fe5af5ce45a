"""Fixtures for the output-quality checks: async tests on asyncio. The engine with embeddings
on (``embedding_engine``, for ``similar`` and the ``llm-rubric`` judge) is in tests/engine.py."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
