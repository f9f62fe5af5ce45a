"""Shared fixtures: every test runs in its own temporary folder with a clean environment, and
store/engine tests run on SQLite and (when INHOUSE_TEST_POSTGRES_URL is set) on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect as sa_inspect

from inhouse.db import store as store_module
from inhouse.identity import SigningKey
from inhouse.identity import signin as signin_module
from inhouse.program import state as state_module
from inhouse.program.checks import Person
from inhouse.program.people import PeopleMixin
from inhouse.testing.standin_idp import StandinIdP

pytest_plugins = ["tests.engine"]

#: what points inhouse at a person's data: unset in every test (a home of the test's own)
ENVIRONMENT = (
    "INHOUSE_PROGRAM",
    "INHOUSE_USER",
    "INHOUSE_DATABASE_URL",
    "INHOUSE_MODELS_DIR",
    "INHOUSE_KEY",
    "INHOUSE_MACHINE_ID",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "INHOUSE_TEST_OS_MACHINE_ID",
)

#: a test's stand-in for another computer, in this process: the machine id the OS reports
#: (``/etc/machine-id``) replaced, as on a second laptop. Not ``INHOUSE_MACHINE_ID``: outside a
#: demo program that one no longer makes one computer two (inhouse.identity.machine)
OTHER_COMPUTER = "INHOUSE_TEST_OS_MACHINE_ID"


#: a service enrolled where the test runs, on the machine of the lead who enrols it (a forgery
#: test puts it back: ``monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)``)
ENROL_SERVICE_HERE = PeopleMixin.enrol_service


def _enrol_service_on_its_host(
    program: PeopleMixin, name: str, key: SigningKey, **how: Sequence[str]
) -> Person:
    """A service's key enrolled on a host of its own, as the gateway is deployed: its figures
    count only from a machine none of the leads who vouch for it enrolled from
    (inhouse.program.counting)."""
    before = os.environ.get(OTHER_COMPUTER)
    os.environ[OTHER_COMPUTER] = f"{name}-host"
    try:
        return ENROL_SERVICE_HERE(program, name, key, **how)
    finally:
        if before is None:
            del os.environ[OTHER_COMPUTER]
        else:
            os.environ[OTHER_COMPUTER] = before


#: Alembic's own run of the migrations (:func:`_sqlite_stores_from_a_template` copies a new
#: SQLite store instead; a test of the migrations themselves puts this back)
MIGRATE = store_module.migrate


#: outside a demo, a sign-in on a loopback address vouches for nobody (inhouse.program.state),
#: and `sign-in setup` and `login` refuse a provider whose host resolves to this machine
#: (inhouse.identity.signin.provider_here); tests run the stand-in identity provider there
#: because no other can run here, standing for the organisation's provider elsewhere
#: (:func:`stand_in_elsewhere`). A test of the rules themselves puts them back:
#: ``monkeypatch.setattr(state_module, "vouches_for_nobody", VOUCHES_FOR_NOBODY)``, and
#: ``monkeypatch.setattr(signin_module, "provider_here", PROVIDER_HERE)``
VOUCHES_FOR_NOBODY = state_module.vouches_for_nobody
PROVIDER_HERE = signin_module.provider_here


def stand_in_elsewhere(patch: pytest.MonkeyPatch) -> None:
    """The stand-in identity provider on loopback stands for the organisation's elsewhere."""
    patch.setattr(state_module, "vouches_for_nobody", lambda issuer, demo: False)
    patch.setattr(signin_module, "provider_here", lambda issuer: None)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point everything that resolves data at a temporary folder."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    from inhouse.identity import machine

    real = machine._os_machine_id
    monkeypatch.setattr(machine, "_os_machine_id", lambda: os.environ.get(OTHER_COMPUTER) or real())
    monkeypatch.setattr(PeopleMixin, "enrol_service", _enrol_service_on_its_host)
    stand_in_elsewhere(monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "200")
    yield work


@pytest.fixture(autouse=True, scope="session")
def _sqlite_stores_from_a_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A new, empty SQLite store starts as a copy of one migrated once per worker, not by
    running every migration again: thousands of tests make a store, and each migration's run
    cost ~30-60 ms here, the copy (SQLite's backup) ~5. Only a store with no tables at all and
    migrated to the head is copied; every other migration (an older schema brought up, a chosen
    revision, PostgreSQL, a CLI run in a subprocess) runs Alembic as the product does, and
    tests/test_store.py holds the copy to what the migrations make."""
    import sqlite3

    real = MIGRATE
    template = tmp_path_factory.mktemp("store-template") / "inhouse.db"
    engine = store_module._make_engine(f"sqlite:///{template}")
    try:
        real(engine)
    finally:
        engine.dispose()

    def migrate(engine: Any, revision: str = "head") -> None:
        database = engine.url.database
        if (
            revision != "head"
            or engine.dialect.name != "sqlite"
            or database in (None, "", ":memory:")
        ):
            real(engine, revision)
            return
        with engine.connect() as conn:
            empty = not sa_inspect(conn).get_table_names()
        if not empty:
            real(engine, revision)
            return
        raw = engine.raw_connection()
        source = sqlite3.connect(template)
        try:
            source.backup(raw.driver_connection)
        finally:
            source.close()
            raw.close()

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "migrate", migrate)
        yield


@pytest.fixture(autouse=True, scope="session")
def _suite_idp() -> Iterator[None]:
    """The suite's stand-in identity provider (tests.people.suite_idp), stopped at the end."""
    from tests.people import stop_suite_idp

    yield
    stop_suite_idp()


@pytest.fixture(autouse=True)
def _own_sign_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test marked ``own_sign_in`` sets up its own provider: ``enrol`` signs nobody in."""
    if request.node.get_closest_marker("own_sign_in") is not None:
        monkeypatch.setattr("tests.people.AUTO_SIGN_IN", False)


class Clock:
    """A clock tests move by hand, so expiry and review windows are exact."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    """A stand-in for the organisation's identity provider, on loopback, on the test's clock
    (a test whose provider needs a realm's path defines its own)."""
    with StandinIdP(clock=clock) as provider:
        yield provider


def _postgres_base() -> str | None:
    url = os.environ.get("INHOUSE_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must test PostgreSQL: set INHOUSE_TEST_POSTGRES_URL (see .ci/run)")
        pytest.skip("INHOUSE_TEST_POSTGRES_URL is not set: PostgreSQL run skipped locally")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database per test: a SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'inhouse.db'}"
        return
    base = _postgres_base()
    assert base is not None
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as err:  # fail, never skip: CI asked for PostgreSQL
        admin.dispose()
        pytest.fail(f"PostgreSQL at {base} is unreachable: {err.orig}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        try:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        finally:  # the admin connection is closed even when the drop fails
            admin.dispose()


@pytest.fixture
def on_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Programs created in this test store their events in ``database_url``."""
    if not database_url.startswith("sqlite"):
        monkeypatch.setenv("INHOUSE_DATABASE_URL", database_url)
    return database_url


@pytest.fixture
def real_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's model (the project's test model) standing in for a real one, as the
    runner reads it: outside a demo play 3 (and play 4's trigger) counts no workflow run on the
    test model, and a test that judges their other rules on the engine needs its runs to
    count."""
    import inhouse.runtimes.openai_compat as served
    import inhouse.workflows.runner as runner

    monkeypatch.setattr(runner, "serves_test_model", lambda *served: False)
    monkeypatch.setattr(served, "is_test_model", lambda path: False)


@pytest.fixture
def log_before_team_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every event of the test's log written by an inhouse from before exit rules 6
    (``TEAM_READING``): there an account whose bindings were all revoked binds another name
    with no release, as it did, so what a test shows of such a log still reads as before."""
    from inhouse.program import engine, handoffs, people, waivers
    from inhouse.program.checks import TEAM_READING

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", TEAM_READING - 1)
