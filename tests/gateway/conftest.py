"""Fixtures of the gateway's tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

#: the real Redis the replica tests share (started before the session; see .ci/run)
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A namespace of this test's own in the shared Redis, emptied afterwards."""
    name = f"inhouse-test:{uuid.uuid4().hex[:12]}"
    yield name
    with redis.Redis.from_url(REDIS) as client:
        for found in client.scan_iter(f"{name}:*"):
            client.delete(found)
