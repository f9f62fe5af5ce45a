"""The program's log as the gateway follows it, for the keys, the library prompts and the
recorded lock (which the gateway routes) to read.

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
    from inhouse.baseline import Lock
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = ["ProgramLog"]

T = TypeVar("T")


class ProgramLog:
    """The verified state of ``program``'s log, shared by the gateway's refreshes."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._lock = threading.Lock()
        #: the log's head, and the recorded lock (or why its lock facts do not count) there
        self._recorded: tuple[int, Lock | None, str | None] | None = None

    def read(self, reader: Callable[[ProgramState], T]) -> T:
        """``reader`` applied to the state as the log stands now. Blocking: call it off the
        event loop; do not keep the state past ``reader``."""
        with self._lock:
            return reader(self.program.state())

    def recorded_lock(self) -> tuple[Lock | None, str | None]:
        """The lock the log records now (:func:`inhouse.baseline.recorded_lock`; None: none
        counts), and where it records lock facts none of which counts, why; judged again only
        when the log has grown since. Blocking, like :meth:`read`."""
        from inhouse.baseline.lock import recorded_lock, uncounted_lock

        with self._lock:
            state = self.program.state()
            if self._recorded is None or self._recorded[0] != state.head_seq:
                now = self.program.clock()
                self._recorded = (state.head_seq, recorded_lock(state, now),
                                  uncounted_lock(state, now))  # fmt: skip
            return self._recorded[1], self._recorded[2]
