"""The collector's pace: a command's is slow (few young collections while it imports), a
server's is the interpreter's own again, with what start-up built frozen out of its walks."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from inhouse import gctuning


@pytest.fixture(autouse=True)
def _restore() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_a_command_collects_rarely_and_a_server_at_the_default_pace() -> None:
    default = gctuning._DEFAULT
    gctuning.for_a_command()
    assert gc.get_threshold()[0] > 10 * default[0]
    gctuning.for_a_server()
    assert gc.get_threshold() == default
    assert gc.get_freeze_count() > 0
