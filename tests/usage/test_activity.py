"""Active days read from the usage log by the database, on real SQLite and PostgreSQL: one row
per person and day however many requests, refused requests and agent keys not counted, windows
that include both ends, the last active day and the prompts each person sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inhouse.db import Store, open_store
from inhouse.errors import InvalidInput
from inhouse.usage import ActiveDay, active_days, last_active, prompts_used
from tests.usage.test_totals import _insert, _row


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    try:
        _insert(
            opened,
            [
                _row(1, "2026-10-31", "bob"),
                _row(2, "2026-11-01", "bob", prompt_id="triage@1"),
                _row(3, "2026-11-01", "bob", at="2026-11-01T17:30:00+00:00"),
                _row(4, "2026-11-02", "bob", status=429),  # refused: not use
                _row(5, "2026-11-03", "bob", agent="nightly-bot"),  # the agent's, not bob's
                _row(6, "2026-11-03", "bob", prompt_id="triage@2"),
                _row(7, "2026-11-02", "pia", prompt_id="summary@1", status=502),
                _row(8, "2026-11-05", "pia"),
                _row(9, "2026-11-02", "omar"),  # not asked about
            ],
        )
        yield opened
    finally:
        opened.close()


def test_active_days_per_person_and_day_in_a_window_with_both_ends(store: Store) -> None:
    found = active_days(store, ["bob", "pia"], since="2026-11-01", until="2026-11-05")
    assert found == [
        # each row 10 tokens in and 5 out: a day's tokens are its answered requests' own
        ActiveDay(
            person="bob",
            day="2026-11-01",
            requests=2,
            last_at="2026-11-01T17:30:00+00:00",
            tokens=30,
        ),
        ActiveDay(
            person="bob",
            day="2026-11-03",
            requests=1,
            last_at="2026-11-03T10:00:06+00:00",
            tokens=15,
        ),
        ActiveDay(
            person="pia",
            day="2026-11-05",
            requests=1,
            last_at="2026-11-05T10:00:08+00:00",
            tokens=15,
        ),
    ]
    with_agents = active_days(store, ["bob"], since="2026-11-03", until="2026-11-03", agents=True)
    assert [d.requests for d in with_agents] == [2]
    assert active_days(store, [], since="2026-11-01", until="2026-11-05") == []


def test_last_active_day_and_prompts_used(store: Store) -> None:
    assert last_active(store, ["bob", "pia", "zed"]) == {"bob": "2026-11-03", "pia": "2026-11-05"}
    assert last_active(store, ["bob", "pia"], until="2026-11-02") == {"bob": "2026-11-01"}
    crowd = [f"p{n:03d}" for n in range(450)]  # more people than one SQLite UNION takes
    assert last_active(store, ["pia", *crowd]) == {"pia": "2026-11-05"}
    used = prompts_used(store, ["bob", "pia"], since="2026-11-01", until="2026-11-30")
    assert used == {"bob": {"triage@1", "triage@2"}}  # pia's prompt was not answered


def test_a_day_that_is_not_one_is_named(store: Store) -> None:
    with pytest.raises(InvalidInput, match=r"since '2026-11' is not a day"):
        active_days(store, ["bob"], since="2026-11", until="2026-11-30")
