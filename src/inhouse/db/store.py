"""Open the database, bring its schema to the newest migration, hand out connections.

SQLite runs in WAL mode (readers never block the writer) with a busy timeout, so a CLI command and
a long-running gateway can share one file. PostgreSQL is used as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from inhouse.errors import StoreError

__all__ = ["HEAD_REVISION", "Store", "open_store"]

#: The newest migration. Checked first so an up-to-date store opens without loading Alembic.
HEAD_REVISION = "0011_usage_prompt_sent"

_MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class Store:
    """An open store: the SQLAlchemy engine and the URL it came from (password hidden)."""

    engine: Engine
    url: str

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreError(f"not a database URL: {url!r} ({err})") from None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            folder = Path(database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(
                    f"cannot create the store's folder {folder}: {err.strerror or err}"
                ) from None
        engine = create_engine(parsed, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ModuleNotFoundError) as err:
        raise StoreError(
            f"no driver for {parsed.get_backend_name()} ({err}); for PostgreSQL install "
            "inhouse[postgres] and use a postgresql+psycopg:// URL"
        ) from None


def _current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


def _known_revisions() -> set[str]:
    """The schema revisions this release's migrations define (each file is named for its own)."""
    return {path.stem for path in (_MIGRATIONS / "versions").glob("[0-9]*.py")}


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` with Alembic (append-only, named migrations)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open the store at ``url``; migrate it to the newest schema unless ``upgrade`` is False."""
    engine = _make_engine(url)
    safe_url = make_url(url).render_as_string(hide_password=True)
    try:
        current = _current_revision(engine) if upgrade else HEAD_REVISION
        if current is not None and current != HEAD_REVISION and current not in _known_revisions():
            # a newer inhouse migrated it (a colleague upgraded first): never write to a schema
            # this release cannot read, and never try to "downgrade" what it does not know
            engine.dispose()
            raise StoreError(
                f"the store at {safe_url} has schema {current!r}, newer than this inhouse "
                f"knows (up to {HEAD_REVISION!r}): a newer inhouse upgraded it. Upgrade "
                "inhouse here (`pip install -U inhouse`); nothing was changed"
            )
        if current != HEAD_REVISION:
            migrate(engine)
    except OperationalError as err:
        engine.dispose()
        raise StoreError(f"cannot open the store at {safe_url}: {err.orig}") from None
    return Store(engine=engine, url=safe_url)
