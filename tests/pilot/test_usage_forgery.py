"""What the gateway's key signs is computed from the rows the gateway wrote: usage rows typed
into the shared database (or edited there), and summary figures edited beside them, are left
out of ``usage.daily`` and ``pilot.adoption`` and named, however consistent the forger made the
summary tables. The honest rows come from requests through the real gateway (in-process, to a
stand-in upstream), on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from inhouse.db.schema import gateway_usage, usage_daily, usage_people_daily
from inhouse.gateway.rollup import rollup_usage
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.pilot.adoption import record_adoption
from inhouse.program.facts import daily_usage
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "dora": ("hr", "support")}
DAYS = ("2026-11-03", "2026-11-04", "2026-11-05")
ONE = {"requests": 1, "tokens_in": 1, "tokens_out": 2}  # one request to the stand-in


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    for person in TEAMS:
        made.enable(person, "2026-11-02T10:00")
    # bob and pia really use it, three days each; dora never does
    made.use(Use(p, f"{day}T10:00") for p in ("bob", "pia") for day in DAYS)
    made.on("2026-11-06")
    yield made
    made.lead.close()


def _signed(pilot: Pilot) -> dict[tuple[str, str], dict[str, int]]:
    """The latest usage.daily totals per (day, person), as the gateway signed them."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for fact in pilot.lead.state().facts:
        if fact.kind == "usage.daily":
            assert fact.by == "gateway"
            for person, totals in daily_usage(fact).items():
                found[(str(fact.payload["day"]), person)] = totals
    return found


def _independent(pilot: Pilot) -> dict[str, tuple[int, bool]]:
    _, fact = record_adoption(pilot.lead)
    latest = fact or next(
        f for f in reversed(pilot.lead.state().facts) if f.kind == "pilot.adoption"
    )
    return {m["person"]: (m["active_days"], m["independent"]) for m in latest.payload["members"]}


def _rows(pilot: Pilot, person: str) -> list[Any]:
    with pilot.lead.store.engine.connect() as conn:
        return list(
            conn.execute(
                select(gateway_usage).where(gateway_usage.c.person == person).order_by("at")
            )
        )


def test_rows_typed_in_for_someone_who_never_used_it_are_not_signed(pilot: Pilot) -> None:
    """The audit's forgery: a lead inserts usage rows (the summary tables kept consistent, as
    the writer's own insert keeps them) for a colleague who never sent a request, three
    made-up days; one row even carries a made-up MAC."""
    forged = [
        UsageRecord(request_id=new_request_id(), at=f"{day}T11:00:00+00:00", person="dora",
                    key_id="k_dora", endpoint="chat/completions", model="tiny", status=200,
                    tokens_in=40, tokens_out=60)
        for day in DAYS
    ]  # fmt: skip
    forged[0].mac = "0" * 32
    insert_usage(pilot.lead.store, forged)
    rollup = rollup_usage(pilot.lead)
    signed = _signed(pilot)
    assert {person for _, person in signed} == {"bob", "pia"}
    assert signed[("2026-11-04", "bob")] == ONE
    assert {r["person"] for r in rollup.recorded} == {"bob", "pia"}
    (rows, disagree) = rollup.notes()
    assert rows.startswith("3 usage rows not written by this gateway were left out: ")
    assert f"{forged[0].request_id} (dora, 2026-11-03, wrong MAC)" in rows
    assert f"{forged[1].request_id} (dora, 2026-11-04, no MAC)" in rows
    assert "2026-11-03 dora" in disagree  # the summary tables say she used it: not signed
    report, fact = record_adoption(pilot.lead)
    assert fact is not None and report.independent == ["bob", "pia"]
    dora = next(m for m in fact.payload["members"] if m["person"] == "dora")
    assert (dora["active_days"], dora["independent"]) == (0, False)
    assert report.notes and "(dora, 2026-11-05, no MAC)" in report.notes[0]


def test_an_edited_row_is_left_out(pilot: Pilot) -> None:
    """Rows the gateway wrote, edited afterwards (tokens, person, day), with the summary
    tables moved to match: the edited rows no longer verify."""
    bob, pia = _rows(pilot, "bob"), _rows(pilot, "pia")
    store = pilot.lead.store
    u, p = gateway_usage.c, usage_people_daily.c
    with store.engine.begin() as conn:
        conn.execute(update(gateway_usage).where(u.request_id == bob[0].request_id)
                     .values(tokens_in=9999))  # fmt: skip
        conn.execute(update(usage_people_daily).where(p.day == DAYS[0], p.person == "bob")
                     .values(tokens_in=9999))  # fmt: skip
        for row in pia:  # pia's three days become dora's
            conn.execute(update(gateway_usage).where(u.request_id == row.request_id)
                         .values(person="dora"))  # fmt: skip
        conn.execute(update(usage_people_daily).where(p.person == "pia").values(person="dora"))
        conn.execute(update(usage_daily).where(usage_daily.c.person == "pia")
                     .values(person="dora"))  # fmt: skip
        conn.execute(update(gateway_usage).where(u.request_id == bob[1].request_id)
                     .values(day="2026-11-03"))  # fmt: skip
    rollup = rollup_usage(pilot.lead)
    signed = _signed(pilot)
    assert {person for _, person in signed} == {"bob"}  # nothing for dora, or for pia
    assert ("2026-11-03", "bob") not in signed  # its only row edited, and one moved onto it
    assert signed[("2026-11-05", "bob")] == ONE
    named = rollup.notes()[0]
    assert named.startswith("5 usage rows not written by this gateway were left out")
    assert f"{bob[0].request_id} (bob, 2026-11-03, wrong MAC)" in named
    assert f"{pia[0].request_id} (dora, 2026-11-03, wrong MAC)" in named
    assert _independent(pilot) == {"bob": (1, False), "pia": (0, False), "dora": (0, False)}


def test_a_summary_figure_edited_alone_is_not_signed(pilot: Pilot) -> None:
    rollup_usage(pilot.lead)
    before = _signed(pilot)
    assert before[("2026-11-03", "bob")] == ONE
    store = pilot.lead.store
    p = usage_people_daily.c
    with store.engine.begin() as conn:
        conn.execute(update(usage_people_daily).where(p.day == DAYS[0], p.person == "bob")
                     .values(requests=50, tokens_in=5000))  # fmt: skip
        for day in DAYS:  # dora, three days, in the tables adoption and the rollup read
            conn.execute(insert(usage_people_daily).values(
                day=day, person="dora", requests=2, own_requests=2, tokens_in=10, tokens_out=10,
                busy_ms=5.0))  # fmt: skip
            conn.execute(insert(usage_daily).values(
                day=day, person="dora", key_id="k_dora", agent="", model="tiny", prompt_id="",
                workflow_id="", answered=1, requests=2, tokens_in=10, tokens_out=10,
                busy_ms=5.0, last_at=f"{day}T12:00:00+00:00"))  # fmt: skip
    rollup = rollup_usage(pilot.lead)
    assert rollup.recorded == [] and _signed(pilot) == before  # nothing new was signed
    (disagree,) = rollup.notes()
    assert "2026-11-03 bob" in disagree and "2026-11-05 dora" in disagree
    assert _independent(pilot) == {"bob": (3, True), "pia": (3, True), "dora": (0, False)}


def test_a_day_someone_else_wrote_up_first_is_still_signed_by_the_gateway(pilot: Pilot) -> None:
    """The rollup signs a day only where its totals changed since they were last signed: a
    ``usage.daily`` fact anyone else signs (dora, with her own key, through the Python API),
    giving the day's real totals, which the summary tables show her, must not count as
    "signed already". Else the gateway never signs bob's and pia's day, and every check that
    reads their signed use (an enablement step, play 6's active users) loses it."""
    from inhouse.gateway.rollup import COLLECTOR
    from inhouse.program import Provenance

    dora = pilot.people["dora"]
    for day in DAYS:
        dora.record_fact(
            None, "usage.daily", {"day": day, "people": {"bob": ONE, "pia": ONE}},
            provenance=Provenance.MEASURED, collector=COLLECTOR,
        )  # fmt: skip
    rollup = rollup_usage(pilot.lead)
    assert {(r["day"], r["person"]) for r in rollup.recorded} == {
        (day, person) for day in DAYS for person in ("bob", "pia")
    }
    signed: dict[tuple[str, str], dict[str, int]] = {}
    for fact in pilot.lead.state().facts:
        if fact.kind == "usage.daily" and fact.by == "gateway":
            for person, totals in daily_usage(fact).items():
                signed[(str(fact.payload["day"]), person)] = totals
    assert signed[("2026-11-04", "bob")] == ONE and signed[("2026-11-05", "pia")] == ONE
    # and a second run signs nothing again: what the gateway signed is what it compares with
    assert rollup_usage(pilot.lead).recorded == []
