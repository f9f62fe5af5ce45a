"""The store: one SQLAlchemy schema, Alembic migrations, and the engine/session factory."""

from inhouse.db.schema import events, metadata
from inhouse.db.store import HEAD_REVISION, Store, open_store

__all__ = ["HEAD_REVISION", "Store", "events", "metadata", "open_store"]
