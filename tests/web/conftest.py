"""Fixtures for the dashboard's tests: the world (tests/web/world.py) and the app in-process
(``starlette.testclient``, a real httpx client on the ASGI app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.web.app import create_app
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot
from tests.web.world import dashboard_program, make_world


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = make_world(_isolated, clock)
    yield made
    made.lead.close()


@pytest.fixture
def served(world: Pilot) -> Iterator[Program]:
    program = dashboard_program(world)
    yield program
    program.close()


@pytest.fixture
def client(served: Program) -> Iterator[TestClient]:
    with TestClient(create_app(program=served), follow_redirects=False) as made:
        yield made
