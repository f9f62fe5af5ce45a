"""The dashboard's governance page against a lead who hashes a lock of other weights into
``inhouse.lock`` without recording it (a red team's finding): the page showed the file as "the
lock", while play 2's checks, every verify and the install script follow the latest counted
``baseline.lock`` fact. The page now shows the recorded lock beside the file and says when the
file is not it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from inhouse.baseline.lock import lock_fact_payload, write_lock
from inhouse.program import Program
from inhouse.program.facts import Provenance
from inhouse.web.app import create_app
from tests.conftest import Clock
from tests.locks import made_lock
from tests.pilot.gateway_days import Pilot
from tests.web.world import signed_in

VERIFIED = "sha256:" + "a" * 64
OTHER = "sha256:" + "c" * 64


def _governance(world: Pilot, request: pytest.FixtureRequest) -> tuple[dict[str, Any], str]:
    served = Program.open(world.folder, clock=world.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, world, "lena"),
    ):
        return client.get("/governance.json").json(), client.get("/governance").text


def _record(world: Pilot) -> Any:
    lock = made_lock("lena", models=(("m", VERIFIED),))
    write_lock(world.folder, lock)
    fact = world.lead.record_fact(None, "baseline.lock", lock_fact_payload(lock),
                                  provenance=Provenance.MEASURED,
                                  collector="inhouse baseline lock")  # fmt: skip
    return lock, fact


def test_a_lock_file_the_log_does_not_hold_is_not_shown_as_the_lock(
    world: Pilot, clock: Clock, _isolated: Path, request: pytest.FixtureRequest
) -> None:
    recorded, fact = _record(world)
    # the forgery: a well-hashed lock of other weights, written into the folder, never recorded
    swapped = made_lock("lena", models=(("m", OTHER),))
    write_lock(world.folder, swapped)

    data, html = _governance(world, request)
    assert data["lock"]["lock_hash"] == swapped.lock_hash
    assert data["lock"]["recorded"] is False
    shown = data["recorded_lock"]
    assert shown["fact"] == fact.id and shown["lock_hash"] == recorded.lock_hash
    assert shown["models"] == [{"name": "m", "digest": VERIFIED}]
    assert "is not the lock the program records" in html
    assert recorded.lock_hash[:19] in html


def test_the_recorded_lock_is_shown_as_it_is(
    world: Pilot, clock: Clock, _isolated: Path, request: pytest.FixtureRequest
) -> None:
    recorded, fact = _record(world)
    data, html = _governance(world, request)
    assert data["lock"]["lock_hash"] == recorded.lock_hash and data["lock"]["recorded"] is True
    assert data["recorded_lock"]["fact"] == fact.id
    assert "is not the lock the program records" not in html
    assert "The lock play 2 judges" not in html


def test_a_lock_never_recorded_says_so(
    world: Pilot, clock: Clock, _isolated: Path, request: pytest.FixtureRequest
) -> None:
    write_lock(world.folder, made_lock("lena", models=(("m", OTHER),)))
    data, html = _governance(world, request)
    assert data["lock"]["recorded"] is False and data["recorded_lock"] is None
    assert "is not the lock the program records" in html


DRIFT_REVIEW = {"passed": True, "drifted": [], "findings": [], "nodes": ["local"],
                "pinning_enforced": True}  # fmt: skip


def _review(world: Pilot, lock_hash: str) -> Any:
    from inhouse.support.drift import COLLECTOR

    return world.lead.as_service("gateway").record_fact(
        None, "drift.review", {**DRIFT_REVIEW, "lock_hash": lock_hash},
        provenance=Provenance.MEASURED, collector=COLLECTOR,
    )  # fmt: skip


def test_a_drift_review_of_another_lock_is_not_shown_as_the_current_ones(
    world: Pilot, clock: Clock, _isolated: Path, request: pytest.FixtureRequest
) -> None:
    """A passing drift review of an earlier lock, then a re-lock to other weights: the page
    showed "passed" under "against the lock", where play 5's versions-pinned counts no review
    of the current lock."""
    old = made_lock("lena", models=(("m", OTHER),))
    review = _review(world, old.lock_hash)
    _record(world)
    data, html = _governance(world, request)
    shown = data["drift_review"]
    assert shown["fact"] == review.id and shown["current"] is False
    assert "not the lock the program records" in html and old.lock_hash[:19] in html


def test_a_drift_review_of_the_current_lock_is_shown_as_it_is(
    world: Pilot, clock: Clock, _isolated: Path, request: pytest.FixtureRequest
) -> None:
    recorded, _ = _record(world)
    review = _review(world, recorded.lock_hash)
    data, html = _governance(world, request)
    assert data["drift_review"]["fact"] == review.id and data["drift_review"]["current"] is True
    assert "not the lock the program records" not in html
