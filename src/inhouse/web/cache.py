"""Pages kept between requests, rebuilt as soon as anything they read may have changed.

A page is kept only where everything it shows is a function of the program's database, its
settings file and the folded log, and of nothing else (not the clock, not the viewer): the
prompt library is (its versions and labels, and each version's use summed from the usage
rollups, ~200 ms to read at a million usage rows). A kept page is served again only while

- the database has seen **no commit at all** since it was built (:class:`DatabaseVersion`: on
  SQLite the ``data_version`` of a connection that never writes, which any other connection's
  commit changes — the gateway's process, this server's own writes; on PostgreSQL the
  transaction snapshot, whose horizon and in-progress list change with every commit),
- the log's head is the same event, and
- ``inhouse.toml`` holds the same bytes.

Where the database cannot tell (an in-memory SQLite, another dialect), nothing is kept. The
version is read *before* the page is built, so a commit landing during the build makes the
next request rebuild: a kept page may be fresher than its key, never older.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from inhouse.location import CONFIG_NAME

if TYPE_CHECKING:
    from inhouse.db import Store
    from inhouse.program import Program

__all__ = ["DatabaseVersion", "PageCache"]


class DatabaseVersion:
    """A value that differs whenever a transaction committed to ``store`` since it was last
    read; ``None`` where the database cannot tell."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._watcher: sqlite3.Connection | None = None
        self._path: Path | None = None
        url = store.engine.url
        if store.dialect == "sqlite" and url.database and url.database != ":memory:":
            self._path = Path(url.database)

    def __call__(self) -> Hashable | None:
        if self._store.dialect == "postgresql":
            with self._store.engine.connect() as conn:
                return str(conn.execute(text("SELECT txid_current_snapshot()::text")).scalar())
        if self._path is None:
            return None
        with self._lock:
            try:
                # the file itself too: a database restored over this one is another database
                stat = self._path.stat()
                if self._watcher is None:
                    # a connection of its own that never writes: its data_version changes with
                    # every commit made on any other connection, in any process
                    self._watcher = sqlite3.connect(self._path, check_same_thread=False)
                row = self._watcher.execute("PRAGMA data_version").fetchone()
            except (OSError, sqlite3.Error):
                return None
            return (stat.st_dev, stat.st_ino, int(row[0]))

    def close(self) -> None:
        with self._lock:
            if self._watcher is not None:
                self._watcher.close()
                self._watcher = None


class PageCache:
    """The last build of each kept page, with the key it was built under."""

    def __init__(self, store: Store) -> None:
        self.version = DatabaseVersion(store)
        self._kept: dict[Hashable, tuple[Hashable, dict[str, Any]]] = {}
        #: pages built and pages served from the cache (a test reads them)
        self.builds = 0
        self.hits = 0

    def page(
        self, name: Hashable, program: Program, build: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        """``build()``'s page, or the one kept under the same key. The page is shared between
        requests: the caller renders it and never changes it."""
        version = self.version()
        if version is None:
            self.builds += 1
            return build()
        state = program.state()
        try:
            settings = (program.folder / CONFIG_NAME).read_bytes()
        except OSError:
            self.builds += 1
            return build()  # the page reports the problem as it would without a cache
        key = (version, state.head_seq, hashlib.sha256(settings).hexdigest())
        kept = self._kept.get(name)
        if kept is not None and kept[0] == key:
            self.hits += 1
            return kept[1]
        data = build()
        self.builds += 1
        self._kept[name] = (key, data)
        return data

    def close(self) -> None:
        self.version.close()
