"""The store: migrations from empty on SQLite and PostgreSQL build exactly the declared schema;
SQLite runs in WAL mode; concurrent writers never fork the chain, and each keeps its signature."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from inhouse.db import HEAD_REVISION, metadata, open_store
from inhouse.db import store as store_module
from inhouse.errors import StoreError
from inhouse.identity import SigningKey
from inhouse.program.audit import verify_chain
from inhouse.program.events import append, read_events
from tests.conftest import MIGRATE

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_migrations_from_empty_build_the_declared_schema(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "migrate", MIGRATE)  # Alembic's run, not the tests' copy
    store = open_store(database_url)
    try:
        with store.engine.connect() as conn:
            assert (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == HEAD_REVISION
            )
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
            assert diff == [], f"migrations and schema.py disagree: {diff}"
            assert {"events", "alembic_version"} <= set(inspect(conn).get_table_names())
    finally:
        store.close()


def _schema(url: str) -> list[tuple[str, ...]]:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name")
            )
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return [tuple(row) for row in rows] + [("version", str(version))]
    finally:
        store.close()


def test_the_suites_copied_sqlite_store_is_what_the_migrations_make(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suite's new SQLite stores are copies of one migrated store (tests/conftest.py): the
    copy holds every table, index and the head revision, as Alembic's own run makes them."""
    copied = _schema(f"sqlite:///{tmp_path / 'copied.db'}")
    monkeypatch.setattr(store_module, "migrate", MIGRATE)
    migrated = _schema(f"sqlite:///{tmp_path / 'migrated.db'}")
    assert copied == migrated
    assert ("version", HEAD_REVISION) in copied


def test_opening_again_is_a_no_op_and_keeps_data(database_url: str) -> None:
    store = open_store(database_url)
    append(store, "program.created", "lena", {"name": "x"}, at=AT, key=SigningKey.generate())
    store.close()
    again = open_store(database_url)
    try:
        assert [e.kind for e in read_events(again)] == ["program.created"]
    finally:
        again.close()


def test_sqlite_runs_in_wal_mode(tmp_path: object) -> None:
    store = open_store(f"sqlite:///{tmp_path}/s/inhouse.db")
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        store.close()


def test_concurrent_appends_keep_one_unbroken_chain(database_url: str) -> None:
    store = open_store(database_url)
    errors: list[BaseException] = []
    lead = SigningKey.generate()
    created = {"name": "x", "lead": "lena", "playbook": "p", "playbook_version": 1}
    append(store, "program.created", "lena", created, at=AT, key=lead)
    enrolment = {"name": "lena", "key_id": lead.key_id, "public_key": lead.public_key}
    append(store, "person.enrolled", "lena", enrolment, at=AT, key=lead)

    def writer(name: str) -> None:
        try:
            for index in range(15):
                # the signature covers the hash, which covers the place in the chain: a loser
                # of a race must sign again on top of the winner
                append(store, "test.appended", "lena", {"w": name, "n": index}, at=AT, key=lead)
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        events = read_events(store)
        assert [e.seq for e in events] == list(range(1, 63))
        report = verify_chain(store, lead_key=lead.key_id)
        assert report.ok and report.signed == 62, report.problem
    finally:
        store.close()


def test_a_bad_database_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        open_store("not a url")
    with pytest.raises(StoreError, match="cannot open the store"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")
