"""The dashboard's pilot and indicators pages against one lead typing usage into the store
(a red team's finding): the adoption headline and each member's "independent" are the
gateway's signed measurement, what play 4 counts; live figures from the summary tables, which
anyone with the database can write, are shown only as unsigned."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.adoption import record_adoption
from inhouse.program import Program
from inhouse.web.app import create_app
from tests.conftest import Clock
from tests.pilot.gateway_days import Use, start_pilot
from tests.web.world import signed_in

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "dora": ("hr", "support")}


def test_typed_usage_is_shown_unsigned_and_the_signed_measurement_leads(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    # bob really uses it through the gateway on three days; nobody else sends a request
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    # the lead types three days of use for pia and dora into the store
    forged = [
        UsageRecord(request_id=new_request_id(), at=f"2026-11-0{d}T11:00:00+00:00", person=p,
                    key_id=f"k_{p}", endpoint="chat/completions", model="tiny", status=200,
                    tokens_in=40, tokens_out=60)
        for p in ("pia", "dora") for d in (3, 4, 5)
    ]  # fmt: skip
    insert_usage(pilot.lead.store, forged)
    pilot.on("2026-11-06")
    report, fact = record_adoption(pilot.lead)
    assert fact is not None and report.independent == ["bob"]
    served = Program.open(pilot.folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    app = create_app(program=served)
    with (
        TestClient(app, follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        data = client.get("/pilot.json").json()
        html = client.get("/pilot").text
        indicators = client.get("/indicators.json").json()
        page = client.get("/indicators").text
    signed = data["adoption_signed"]
    assert signed["fact"] == fact.id and signed["independent"] == 1
    assert signed["members"]["bob"]["independent"]
    assert not signed["members"]["pia"]["independent"]
    assert not signed["members"]["dora"]["independent"]
    # the live figures do take the typed rows: the page says they are nobody's measurement
    live = {m["person"]: m for m in data["adoption"]["members"]}
    assert live["pia"]["independent"]
    assert "signed with its key (fact #" in html and ": 1 independent." in html
    assert "unsigned: they come from the usage summary tables" in html
    assert "unsigned" in indicators["usage_source"] and "usage.daily" in indicators["usage_source"]
    assert "they are unsigned" in page


def test_before_any_measurement_the_page_says_nothing_signed_counts(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    pilot = start_pilot(_isolated, clock, TEAMS)
    request.addfinalizer(pilot.lead.close)
    served = Program.open(pilot.folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    app = create_app(program=served)
    with (
        TestClient(app, follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        data = client.get("/pilot.json").json()
        html = client.get("/pilot").text
    assert data["adoption_signed"] is None
    assert "Not measured yet: nothing signed by the gateway counts" in html
