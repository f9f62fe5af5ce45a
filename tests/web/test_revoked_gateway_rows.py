"""Rows sealed with a gateway key the log revoked count for nothing, whatever time they give.

A row's ``at`` and ``day`` are the gateway host's clock, its operator's (a rollout lead's) to
set, so a row dated before the revocation proves nothing about when it was sealed: whoever kept
the revoked key file seals one dated the day before, the day after. What cannot be back-dated is
the log: what the key signed from its rows before the revocation event (here the adoption the
gateway measured) stands; the rows themselves read as not sealed, on the dashboard too, with why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from inhouse.errors import ServiceKeyRevoked
from inhouse.gateway.rollup import SERVICE, gateway_seal
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.adoption import adoption_report, record_adoption
from inhouse.program import Program
from inhouse.program.core import read_service_key
from inhouse.usage.authentic import mac_key
from inhouse.web.app import create_app
from tests.conftest import Clock
from tests.pilot.gateway_days import Use, at, start_pilot
from tests.web.world import signed_in

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support")}


def test_a_row_back_dated_before_the_revocation_and_sealed_after_it_counts_for_nothing(
    _isolated: Path, clock: Clock, request: pytest.FixtureRequest
) -> None:
    pilot = start_pilot(_isolated, clock, TEAMS)
    lead = pilot.lead
    request.addfinalizer(lead.close)
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    # the honest path: bob uses the gateway on three days, measured and signed on the fourth
    pilot.use(Use("bob", f"2026-11-0{d}T10:00") for d in (3, 4, 5))
    pilot.on("2026-11-05")
    report, adoption = record_adoption(lead)
    assert adoption is not None and report.independent == ["bob"]
    own = read_service_key(pilot.folder, SERVICE)
    assert own is not None
    # the gateway's key leaks: a rollout lead revokes it on the 6th (its file stays on the host)
    clock.now = at("2026-11-06T09:00")
    lead.revoke_key(own.key_id)
    # the forgery: whoever kept the key seals three days of use for pia on the 7th, dated
    # before the revocation, on days nobody could tell from bob's
    clock.now = at("2026-11-07T09:00")
    forged = [
        UsageRecord(request_id=new_request_id(), at=f"2026-11-0{d}T11:00:00+00:00",
                    person="pia", key_id="k_pia", endpoint="chat/completions", model="tiny",
                    status=200, tokens_in=40, tokens_out=60)
        for d in (3, 4, 5)
    ]  # fmt: skip
    for record in forged:
        record.seal(mac_key(own.private))
    insert_usage(lead.store, forged)

    # one rule where rows are verified: no row the revoked key sealed counts, bob's honest ones
    # neither (their time is the same word), and each says why
    seal = gateway_seal(lead, make=False)
    assert seal is not None and seal.key_id == own.key_id
    assert seal.revoked is not None and f"revoked for {SERVICE} by lena" in seal.revoked
    live = adoption_report(lead, mac_key=seal)
    assert {m.person: m.active_days for m in live.members} == {"bob": 0, "pia": 0}
    left_out = {r.request_id: r.why for r in live.left_out}
    assert {r.request_id for r in forged} <= set(left_out)
    assert set(left_out.values()) == {"sealed with a revoked key"}
    note = " ".join(live.notes)
    assert f"sealed with the gateway's key {own.key_id}, which was revoked" in note
    # nor is anything signed with it again
    with pytest.raises(ServiceKeyRevoked):
        record_adoption(lead)

    # the dashboard on the gateway's host: the live figures say they are not sealed, and why;
    # the adoption the key signed before its revocation stands
    data, html = _pilot_page(pilot.folder, pilot, request)
    assert data["adoption"]["fact"] == adoption.id
    assert {r["person"]: r["independent"] for r in data["adoption"]["members"]} == {
        "bob": True, "pia": False
    }  # fmt: skip
    shown = data["live"]
    assert shown["source"] == "revoked"
    assert shown["short"] == "not sealed: the gateway's key was revoked"
    assert f"holds key {own.key_id}, which was revoked for {SERVICE} by lena" in shown["label"]
    assert "whatever time the row gives" in shown["label"]
    assert {m["person"]: m["active_days"] for m in shown["report"]["members"]} == {
        "bob": 0, "pia": 0
    }  # fmt: skip
    assert not any(m["independent"] for m in shown["report"]["members"])
    assert shown["disagree"] == []
    assert all(r.request_id in shown["left_out"] for r in forged)
    text = " ".join(html.split())
    assert "not sealed: the gateway&#39;s key was revoked" in text
    assert f"holds key {own.key_id}, which was revoked for {SERVICE} by lena" in text
    assert "Left out of the live figures:" in text


def _pilot_page(
    folder: Path, pilot: Any, request: pytest.FixtureRequest
) -> tuple[dict[str, Any], str]:
    """The pilot page, JSON and HTML, as the lead sees it on the gateway's host."""
    served = Program.open(folder, clock=pilot.clock)
    request.addfinalizer(served.close)
    with (
        TestClient(create_app(program=served), follow_redirects=False) as client,
        signed_in(client, pilot, "lena"),
    ):
        return client.get("/pilot.json").json(), client.get("/pilot").text
