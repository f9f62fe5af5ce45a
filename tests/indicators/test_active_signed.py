"""Play 6's daily, weekly and monthly active people and the trend stand on what the gateway
sealed and signed, never on the usage log's rows alone: in a team deployment every enrolled
CLI writes to the shared database, so a row proves nothing by being there.

The honest path: bob's requests go through the real gateway (in-process, to a stand-in
upstream: tests/pilot/gateway_days.py), which seals each row, and the rollup signs his days.
The forgery: someone with the database's password (no gateway key) inserts rows, with no MAC,
a wrong one, or one made under a key of their own, for bob on other days and for people who
never sent a request. Neither the report's DAU, WAU, MAU nor its trend moves."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inhouse.gateway.rollup import rollup_usage
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.indicators import build_report
from tests.conftest import Clock
from tests.people import confirm_own_use
from tests.pilot.gateway_days import Pilot, Use, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "dora": ("hr", "support")}
ROLLING = ("dau", "wau", "mau", "stickiness")


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    yield made
    made.lead.close()


def _typed(person: str, day: int, mac: str | None = None, key: bytes | None = None) -> UsageRecord:
    """An answered request of ``person`` on ``day`` November, typed into the store."""
    record = UsageRecord(
        request_id=new_request_id(), at=f"2026-11-{day:02d}T11:00:00+00:00", person=person,
        key_id=f"k_{person}", endpoint="chat/completions", model="tiny", status=200,
        tokens_in=40, tokens_out=60, latency_ms=1000.0, mac=mac,
    )  # fmt: skip
    if key is not None:
        record.seal(key)  # a MAC, but under a key that is not the gateway's
    return record


def _forge(pilot: Pilot) -> None:
    """Rows nobody's request made: bob on days he did not use it, pia, dora and zed (who holds
    no key) every day of the second half of November."""
    rows = [_typed("bob", day) for day in range(10, 31)]
    rows += [_typed(p, day) for p in ("pia", "dora", "zed") for day in range(15, 31)]
    rows += [_typed("pia", 12, mac="0" * 32), _typed("dora", 12, key=os.urandom(32))]
    insert_usage(pilot.lead.store, rows)


def _figures(pilot: Pilot) -> dict[str, Any]:
    report = build_report(pilot.lead, "2026-11")
    figures: dict[str, Any] = {name: report.value(name) for name in ROLLING}
    figures["trend"] = report.trend
    figures["active_users"] = report.value("active_users")
    return figures


def test_typed_rows_move_no_active_count_nor_the_trend(pilot: Pilot) -> None:
    pilot.use(Use("bob", f"2026-11-0{day}T10:00") for day in (3, 4, 5))
    pilot.on("2026-12-02")
    rollup_usage(pilot.lead)
    honest = _figures(pilot)
    # the honest gateway's rows count: bob on 3 days; 7-day windows ending 3..11 November see
    # him; 30-day windows ending 3..30 November
    assert honest["dau"] == pytest.approx(3 / 30, abs=1e-3)
    assert honest["wau"] == pytest.approx(9 / 30, abs=1e-3)
    assert honest["mau"] == pytest.approx(28 / 30, abs=1e-3)
    assert honest["active_users"] == 1
    november = honest["trend"][-1]
    assert november["period"] == "2026-11" and november["answered_requests"] == 3
    assert november["dau"] == pytest.approx(3 / 30, abs=1e-3)

    _forge(pilot)
    # the rollup runs again, as `inhouse indicators report` runs it: it signs nothing new
    assert rollup_usage(pilot.lead).recorded == []
    assert _figures(pilot) == honest


def test_typed_rows_the_gateway_never_signed_make_nobody_active(pilot: Pilot) -> None:
    """No rollup after the typing: the summary tables show pia, dora and zed active and bob
    on more days, but nothing the gateway's key signed does."""
    pilot.use(Use("bob", f"2026-11-0{day}T10:00") for day in (3, 4, 5))
    pilot.on("2026-12-02")
    rollup_usage(pilot.lead)
    honest = _figures(pilot)
    _forge(pilot)
    forged = _figures(pilot)
    assert forged == honest
    assert all(row["dau"] == 0 for row in forged["trend"][:-1])


def test_sealed_rows_not_yet_rolled_up_are_not_counted(pilot: Pilot) -> None:
    """The gateway's own rows count once its key signed them (`inhouse indicators report`
    rolls up first); until then the report says nobody was active, rather than count the
    tables' word."""
    pilot.use(Use("bob", f"2026-11-0{day}T10:00") for day in (3, 4, 5))
    pilot.on("2026-12-02")
    before = _figures(pilot)
    assert before["dau"] == 0 and before["mau"] == 0 and before["trend"][-1]["dau"] == 0
    rollup_usage(pilot.lead)
    after = _figures(pilot)
    assert after["dau"] == pytest.approx(3 / 30, abs=1e-3)
    # pia's later request on the 3rd: the day is signed again, and the latest fact stands
    pilot.use([Use("pia", "2026-11-03T15:00")])
    pilot.on("2026-12-02")
    assert len(rollup_usage(pilot.lead).recorded) == 1
    again = _figures(pilot)
    assert again["dau"] == pytest.approx(4 / 30, abs=1e-3) and again["active_users"] == 2
    assert again["trend"][-1]["answered_requests"] == 4


def test_busy_time_is_labelled_unsigned(pilot: Pilot) -> None:
    """No signed figure carries the busy time: the report keeps it, and says whose word it is."""
    pilot.use([Use("bob", "2026-11-03T10:00")])
    pilot.on("2026-12-02")
    rollup_usage(pilot.lead)
    report = build_report(pilot.lead, "2026-11")
    (local,) = [i for i in report.current if i.name == "local_cost"]
    (busy,) = [item for item in local.inputs if item.name == "busy time"]
    assert busy.source.startswith("unsigned:"), busy.source


def test_a_typed_own_key_row_on_an_agents_day_makes_nobody_active(pilot: Pilot) -> None:
    """The gateway signs bob's agent's requests on the 4th: use, but not bob's own. A row
    typed in as bob's own-key request that day would make him active by the summary tables;
    the signed daily usage says how many of his requests were through his own key (none), and
    that is what counts. His own-key use on the 3rd counts even where the tables are cut."""
    from inhouse.db.schema import usage_people_monthly
    from inhouse.gateway import issue_key

    with (pilot.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
    _, pilot.keys["bob's agent"] = issue_key(
        pilot.lead, None, "bob", agent="triager", holder=pilot.people["bob"]
    )
    pilot.use([Use("bob", "2026-11-03T10:00"), Use("bob's agent", "2026-11-04T10:00")])
    pilot.on("2026-12-02")
    rollup_usage(pilot.lead)
    confirm_own_use(pilot.people["bob"])  # the signed days, his agent's too, in his own word
    insert_usage(pilot.lead.store, [_typed("bob", 4)])  # his "own" request on the agent's day
    figures = _figures(pilot)
    assert figures["dau"] == pytest.approx(1 / 30, abs=1e-3)
    assert figures["active_users"] == 1
    assert figures["trend"][-1]["answered_requests"] == 2  # the agent's request is use
    # someone with the database deletes bob's active days from the tables: what was signed
    # stands
    with pilot.lead.store.engine.begin() as conn:
        conn.execute(usage_people_monthly.delete())
    assert _figures(pilot) == figures


def test_own_requests_are_within_the_requests_and_absent_where_unknown() -> None:
    from inhouse.errors import InhouseError
    from inhouse.program.facts import validate_payload

    with pytest.raises((InhouseError, ValueError)):
        validate_payload(
            "usage.daily", {"day": "2026-11-03", "people": {"bob": {"requests": 1, "own": 2}}}
        )
    older = validate_payload(
        "usage.daily", {"day": "2026-11-03", "people": {"bob": {"requests": 1}}}
    )
    assert older["people"]["bob"] == {"requests": 1, "tokens_in": 0, "tokens_out": 0}
