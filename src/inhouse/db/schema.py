"""The schema as SQLAlchemy Core tables. Migrations in ``migrations/versions`` build exactly this;
a test compares the two so they cannot drift apart."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, MetaData, String, Table, Text

__all__ = ["events", "metadata"]

metadata = MetaData()

#: The program's append-only, hash-chained event log: the only source of program state.
#: ``at`` and ``payload`` are stored as the exact text that was hashed (ISO-8601 UTC and canonical
#: JSON) so verification recomputes the same bytes on SQLite and PostgreSQL alike.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
    Index("ix_events_kind", "kind"),
)
