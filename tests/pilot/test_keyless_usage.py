"""The gateway's figures count for a person only while they held a gateway key of their own.

The gateway's key and its usage log live on its host. Whoever runs that host (a rollout lead,
as deployed) can seal usage rows and sign them with the gateway's key: without a link to
anything the people named did themselves, five colleagues who never fetched a key "reached
the tool on their own". A person's use, adoption or prompt use now counts only for the days
they held a key they fetched with their own signing key (its ``gateway.key.issued``, answering
a lead's grant; an agent's key is not a person's), until it was revoked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from inhouse.gateway.keys import revoke_key
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from tests.conftest import Clock
from tests.people import confirm_days, enrol, hold_gateway_key, vouch_for_gateway_host

ROLLUP = "inhouse gateway rollup"


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """lena leads and runs the gateway; zoe fetched a key on 5 October; omar never did. Both
    signed in, and zoe vouched for the gateway's host: what it signs counts at all."""
    clock.now = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    people = {name: enrol(lena, name, team="sales") for name in ("zoe", "omar")}
    hold_gateway_key(lena, people["zoe"])
    service_program(lena)  # the gateway's key enrolled on its host
    vouch_for_gateway_host(people["zoe"])
    clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    # each says, with their own key, they used it every day since 1 October (and triage v1):
    # what these tests are about is the key-holder rule alone
    days = [(date(2026, 10, 1) + timedelta(days=n)).isoformat() for n in range(34)]
    for person in people.values():
        confirm_days(person, *days, prompts=[("triage", 1)], shown=(3, 39))  # as _day signs
    yield {"lena": lena, **people}
    lena.close()


def _day(lena: Program, day: str, *people: str) -> None:
    service_program(lena).record_fact(
        None, "usage.daily",
        {"day": day, "people": {p: {"requests": 3, "tokens_in": 30, "tokens_out": 9}
                                for p in people}},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip


def _counted(lena: Program, kind: str) -> list[dict]:
    context = build_context(lena.state(), lena.clock())
    return [dict(f.payload) for f in context.facts.of(kind)]


def _why(lena: Program, kind: str) -> list[str]:
    context = build_context(lena.state(), lena.clock())
    return [u.why for u in context.uncounted if u.fact.kind == kind]


def test_a_day_counts_only_for_those_who_held_a_key_that_day(cast: dict[str, Program]) -> None:
    lena = cast["lena"]
    _day(lena, "2026-10-04", "zoe")  # the day before she fetched it
    _day(lena, "2026-10-06", "zoe", "omar")  # omar never fetched one
    counted = _counted(lena, "usage.daily")
    assert [sorted(f["people"]) for f in counted] == [[], ["zoe"]]
    why = _why(lena, "usage.daily")
    assert any("not counted for zoe, who held no gateway key of their own on 2026-10-04" in w
               for w in why), why  # fmt: skip
    assert any("not counted for omar" in w and "2026-10-06" in w for w in why), why


def test_a_revoked_key_counts_no_day_after_it(cast: dict[str, Program]) -> None:
    lena = cast["lena"]
    (key,) = [e.payload["key"] for e in lena.events() if e.kind == "gateway.key.issued"]
    lena.clock.now = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    revoke_key(lena, None, key)
    lena.clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    _day(lena, "2026-10-10", "zoe")
    _day(lena, "2026-10-12", "zoe")
    assert [sorted(f["people"]) for f in _counted(lena, "usage.daily")] == [["zoe"], []]


def test_adoption_is_independent_only_for_a_key_holder(cast: dict[str, Program]) -> None:
    lena = cast["lena"]
    service_program(lena).record_fact(
        None, "pilot.adoption",
        {"as_of": "2026-11-02", "window_days": 28, "min_days": 2,
         "members": [{"person": "zoe", "active_days": 9, "independent": True},
                     {"person": "omar", "active_days": 9, "independent": True}]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    (report,) = _counted(lena, "pilot.adoption")
    rows = {row["person"]: row for row in report["members"]}
    assert rows["zoe"]["independent"] is True
    assert (rows["omar"]["independent"], rows["omar"]["reason"]) == (
        False, "held a gateway key of their own on 0 of the window's days")  # fmt: skip


def test_adoption_counts_no_more_active_days_than_key_holding_days(
    cast: dict[str, Program],
) -> None:
    """omar fetches his first key on 31 October; a report as of 2 November says he was active
    on 9 of the last 28 days: he could have been on 3 at most."""
    lena, omar = cast["lena"], cast["omar"]
    lena.clock.now = datetime(2026, 10, 31, 9, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    hold_gateway_key(lena, omar)
    lena.clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    service_program(lena).record_fact(
        None, "pilot.adoption",
        {"as_of": "2026-11-02", "window_days": 28, "min_days": 2,
         "members": [{"person": "omar", "active_days": 9, "independent": True}]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    (report,) = _counted(lena, "pilot.adoption")
    (row,) = report["members"]
    assert (row["independent"], row["reason"]) == (
        False, "held a gateway key of their own on 3 of the window's days")  # fmt: skip


def test_a_malformed_figure_is_not_counted_and_takes_nothing_down(
    cast: dict[str, Program],
) -> None:
    """Appended around the API with the gateway's key: the fold holds it to its schema, sets
    it aside, and status says which event and field; status still answers."""
    from inhouse.program.events import EventKind, append
    from inhouse.program.facts import FACT_KINDS

    lena = cast["lena"]
    gateway = service_program(lena)
    append(lena.store, EventKind.FACT_RECORDED, "gateway",
           {"kind": "usage.daily", "version": FACT_KINDS["usage.daily"].version,
            "provenance": "measured", "collector": ROLLUP,
            "payload": {"day": "yesterday", "people": {"zoe": {"requests": 3}}}},
           at=lena.clock(), key=gateway.key)  # fmt: skip
    assert _counted(lena, "usage.daily") == []
    (said,) = lena.state().malformed
    assert "(fact.recorded, usage.daily) is not what inhouse writes: payload.day:" in said
    assert any(
        w.startswith("not what inhouse writes: payload.day") for w in _why(lena, "usage.daily")
    )
    status = lena.status()
    assert status["plays"] and said in status["warnings"]


def test_a_prompts_users_are_counted_only_with_keys(cast: dict[str, Program]) -> None:
    lena = cast["lena"]
    service_program(lena).record_fact(
        None, "prompt.usage",
        {"prompt": "triage", "version": 1, "uses": 4, "users": 2, "uses_by_others": 4,
         "people": ["omar", "zoe"]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    (usage,) = _counted(lena, "prompt.usage")
    assert usage["people"] == ["zoe"]
