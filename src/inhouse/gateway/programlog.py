"""The program's log as the gateway follows it, for the keys and the library prompts to read.

The state is folded and verified once (from this host's fold cache where it keeps one,
:mod:`inhouse.program.foldcache`), pinned to the lead's key that ``inhouse.toml`` names, then
brought up to date one new event at a time: a refresh on a long log costs the events since the
last one. Its readers run in worker threads, so one reads (and applies new events) at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = ["ProgramLog"]

T = TypeVar("T")


class ProgramLog:
    """The verified state of ``program``'s log, shared by the gateway's refreshes."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._lock = threading.Lock()

    def read(self, reader: Callable[[ProgramState], T]) -> T:
        """``reader`` applied to the state as the log stands now. Blocking: call it off the
        event loop; do not keep the state past ``reader``."""
        with self._lock:
            return reader(self.program.state())
