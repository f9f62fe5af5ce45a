"""The activity grid that DAU, WAU and MAU are computed from: read from the monthly masks on
real SQLite and PostgreSQL across a month boundary, and its window arithmetic (bits spread over
a window, one popcount per person) checked against counting the same days one by one."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from inhouse.db import Store, open_store
from inhouse.usage import ActivityGrid, activity_grid, reference_summary, reference_use
from tests.usage.test_activity import store  # noqa: F401  (the fixture: rows over Oct/Nov)
from tests.usage.test_totals import _insert, _row


def _days(grid: ActivityGrid) -> dict[str, set[date]]:
    """Each person's active days, read from the grid bit by bit: the slow, obvious way."""
    return {
        person: {grid.first + timedelta(days=n) for n in range(grid.days) if mask >> n & 1}
        for person, mask in zip(grid.people, grid.masks, strict=True)
    }


def _window_counts(days: dict[str, set[date]], since: date, until: date, width: int) -> list[int]:
    counts = []
    end = since
    while end <= until:
        window = {end - timedelta(days=k) for k in range(width)}
        counts.append(sum(1 for active in days.values() if active & window))
        end += timedelta(days=1)
    return counts


def test_the_grid_holds_each_own_answered_day_across_a_month_boundary(store: Store) -> None:  # noqa: F811
    grid = activity_grid(store, since="2026-10-25", until="2026-11-10")
    assert _days(grid) == {
        "bob": {date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 3)},  # not the agent's
        "pia": {date(2026, 11, 5)},  # her refused request is not a day
        "omar": {date(2026, 11, 2)},
    }
    assert grid.active_between(date(2026, 11, 1), date(2026, 11, 2)) == {"bob", "omar"}
    assert grid.active_between(date(2026, 11, 4), date(2026, 11, 4)) == set()
    week = grid.rolling(date(2026, 11, 1), date(2026, 11, 10), width=7)
    assert week == [1, 2, 2, 2, 3, 3, 3, 3, 2, 1]  # counted by hand from the rows above
    assert grid.mean_active(date(2026, 11, 1), date(2026, 11, 10), width=7) == sum(week) / 10
    with pytest.raises(ValueError, match="does not cover"):
        grid.mean_active(date(2026, 11, 1), date(2026, 11, 10), width=30)


@pytest.mark.parametrize("seed", range(5))
def test_window_counts_equal_counting_day_by_day(seed: int) -> None:
    rng = random.Random(seed)
    days = rng.randrange(40, 200)
    people = tuple(f"p{n}" for n in range(rng.randrange(1, 60)))
    density = rng.random()
    masks = tuple(sum(1 << n for n in range(days) if rng.random() < density * 0.3) for _ in people)
    grid = ActivityGrid(date(2026, 1, 1), days, people, masks)
    slow = _days(grid)
    for width in (1, 7, 30):
        since = grid.first + timedelta(days=width - 1 + rng.randrange(0, 5))
        until = grid.first + timedelta(days=days - 1 - rng.randrange(0, 5))
        expected = _window_counts(slow, since, until, width)
        assert grid.rolling(since, until, width=width) == expected
        assert grid.mean_active(since, until, width=width) == pytest.approx(
            sum(expected) / len(expected)
        )
        inside = {p for p, active in slow.items() if any(since <= d <= until for d in active)}
        assert grid.active_between(since, until) == inside


@pytest.fixture
def busy(database_url: str) -> Iterator[Store]:
    """Two months of random prompt and workflow use by fifteen people (some refused)."""
    rng = random.Random(7)
    opened = open_store(database_url)
    rows = []
    for n in range(600):
        day = date(2026, 10, 1) + timedelta(days=rng.randrange(61))
        prompt = f"p{rng.randrange(5)}@{rng.randrange(1, 3)}" if rng.random() < 0.6 else None
        workflow = f"w{rng.randrange(3)}" if rng.random() < 0.4 else None
        status = 200 if rng.random() < 0.9 else 429
        person = f"u{rng.randrange(15)}"
        rows.append(
            _row(n, day.isoformat(), person, prompt_id=prompt, workflow_id=workflow, status=status)
        )
    _insert(opened, rows)
    try:
        yield opened
    finally:
        opened.close()


@pytest.mark.parametrize(
    ("since", "until"),
    [("2026-11-01", "2026-11-30"), ("2026-10-01", "2026-11-30"), ("2026-10-20", "2026-11-10")],
    ids=["a-month", "two-months", "a-span"],
)
def test_the_summary_sums_what_every_person_s_rows_sum(busy: Store, since: str, until: str) -> None:
    rows = reference_use(busy, since=since, until=until)
    assert rows, "the fixture's span holds no use"
    few = {"u1", "u4", "u9"}
    summary = reference_summary(busy, since=since, until=until, people=few)
    prompts: dict[str, tuple[int, set[str]]] = {}
    workflows: dict[str, int] = {}
    for row in rows:
        if row.prompt is not None:
            n, who = prompts.get(row.prompt, (0, set()))
            prompts[row.prompt] = (n + row.requests, who | {row.person})
        if row.workflow is not None:
            workflows[row.workflow] = workflows.get(row.workflow, 0) + row.requests
    assert summary.prompts == {p: (n, len(who)) for p, (n, who) in prompts.items()}
    assert summary.workflows == workflows
    assert sorted(summary.of, key=repr) == sorted((r for r in rows if r.person in few), key=repr)
