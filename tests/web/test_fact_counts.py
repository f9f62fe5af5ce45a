"""The dashboard's fact page against a lead who records a ``baseline.lock`` fact whose lock hash
is a lock a colleague verified while its models list other weights (a red team's finding): the
checks do not count it (its hash is not its body's), and ``status`` says so beside play 2, but
the fact page showed it as measured evidence, payload and all. A fact page, and the evidence
list of a play, now say whether the checks count each fact, and why not."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.program.facts import Provenance
from inhouse.web.app import create_app
from tests.locks import lock_payload
from tests.pilot.gateway_days import Pilot
from tests.web.world import signed_in

OTHER = "sha256:" + "c" * 64


def _fact(
    world: Pilot, request: pytest.FixtureRequest, fact_id: int
) -> tuple[Any, str, dict[str, Any]]:
    served = Program.open(world.folder, clock=world.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, world, "lena"),
    ):
        return (
            client.get(f"/facts/{fact_id}.json").json()["fact"],
            client.get(f"/facts/{fact_id}").text,
            client.get("/plays/1.json").json()["evidence"],
        )


def test_a_lock_fact_whose_hash_is_not_its_body_is_shown_as_not_counted(
    world: Pilot, request: pytest.FixtureRequest
) -> None:
    honest = lock_payload("lena")
    # the forgery: the verified lock's hash and body, listing other weights
    forged = {**honest, "models": [{"name": "m", "digest": OTHER}]}
    fact = world.lead.record_fact(None, "baseline.lock", forged, provenance=Provenance.MEASURED,
                                  collector="inhouse baseline lock")  # fmt: skip
    shown, html, _ = _fact(world, request, fact.id)
    assert shown["counts"] is False
    assert "differ from what the lock it carries pins" in shown["not_counted"]
    assert "differ from what the lock it carries pins" in html and ">no<" in html


def test_a_counted_lock_fact_is_shown_as_counted(
    world: Pilot, request: pytest.FixtureRequest
) -> None:
    fact = world.lead.record_fact(None, "baseline.lock", lock_payload("lena"),
                                  provenance=Provenance.MEASURED,
                                  collector="inhouse baseline lock")  # fmt: skip
    shown, html, evidence = _fact(world, request, fact.id)
    assert shown["counts"] is True and shown["not_counted"] is None
    assert "yes: the checks read it" in html
    assert evidence and all(e["counts"] is True for e in evidence.values()), evidence
