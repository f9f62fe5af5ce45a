"""Who was active on which day, as a grid a report can slice: one row per person, one column
per day, ``True`` where the person had a request answered through a key of their own that day.
Read in one query over the per-person-day sums, so daily, weekly and monthly active counts over
any window, for several periods, cost one scan; and per library prompt or workflow, who used it
how often, answered requests only.

    grid = activity_grid(store, since="2026-09-02", until="2026-11-30")
    grid.active_between(date(2026, 11, 1), date(2026, 11, 30))   # {"bob", "pia", ...}
    grid.rolling(date(2026, 11, 1), date(2026, 11, 30), width=7)   # WAU for each day
    reference_use(store, "prompt", since=..., until=...)           # [("triage@2", "bob", 3)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select

from inhouse.db import Store
from inhouse.db.schema import usage_daily, usage_people_daily
from inhouse.usage.totals import day_text

__all__ = ["ActivityGrid", "activity_grid", "reference_use"]


@dataclass(frozen=True)
class ActivityGrid:
    first: date
    days: int
    people: tuple[str, ...]
    active: npt.NDArray[np.bool_]  # people x days

    def _column(self, day: date) -> int:
        return (day - self.first).days

    def active_between(self, since: date, until: date) -> set[str]:
        """Everyone active on at least one day from ``since`` to ``until``."""
        start, end = max(0, self._column(since)), min(self.days, self._column(until) + 1)
        if start >= end:
            return set()
        rows = np.flatnonzero(self.active[:, start:end].any(axis=1))
        return {self.people[i] for i in rows}

    def rolling(self, since: date, until: date, *, width: int) -> npt.NDArray[np.int64]:
        """For each day from ``since`` to ``until``, how many people were active in the
        ``width`` days ending that day (the grid must start ``width - 1`` days before)."""
        if self._column(since) - (width - 1) < 0 or self._column(until) >= self.days:
            raise ValueError("the grid does not cover the window")
        seen = np.zeros((len(self.people), self.days + 1), dtype=np.int32)
        np.cumsum(self.active, axis=1, out=seen[:, 1:])
        ends = np.arange(self._column(since), self._column(until) + 1) + 1
        in_window = seen[:, ends] - seen[:, ends - width]
        counts: npt.NDArray[np.int64] = (in_window > 0).sum(axis=0, dtype=np.int64)
        return counts


def activity_grid(
    store: Store, *, since: date | str, until: date | str, agents: bool = False
) -> ActivityGrid:
    """The grid of days from ``since`` to ``until``; with ``agents``, requests through agent
    keys make their person active too."""
    first = date.fromisoformat(day_text(since, "since"))
    last = date.fromisoformat(day_text(until, "until"))
    days = max(0, (last - first).days + 1)
    people = usage_people_daily.c
    count = people.requests if agents else people.own_requests
    query = select(people.person, people.day).where(
        count > 0, people.day >= first.isoformat(), people.day <= last.isoformat()
    )
    with store.engine.connect() as conn:
        pairs = conn.execute(query).all()
    index: dict[str, int] = {}
    columns = {(first + timedelta(days=n)).isoformat(): n for n in range(days)}
    rows = [index.setdefault(person, len(index)) for person, _ in pairs]
    cols = [columns[day] for _, day in pairs]
    active = np.zeros((len(index), days), dtype=np.bool_)
    active[rows, cols] = True
    return ActivityGrid(first, days, tuple(index), active)


def reference_use(
    store: Store, kind: Literal["prompt", "workflow"], *, since: date | str, until: date | str
) -> list[tuple[str, str, int]]:
    """Answered requests per (library prompt or workflow id, person) from ``since`` to
    ``until``; requests that named none are left out."""
    column = usage_daily.c.prompt_id if kind == "prompt" else usage_daily.c.workflow_id
    query = (
        select(column, usage_daily.c.person, func.sum(usage_daily.c.requests))
        .where(
            column != "",
            usage_daily.c.answered == 1,
            usage_daily.c.day >= day_text(since, "since"),
            usage_daily.c.day <= day_text(until, "until"),
        )
        .group_by(column, usage_daily.c.person)
    )
    with store.engine.connect() as conn:
        return [(str(ref), str(person), int(n)) for ref, person, n in conn.execute(query)]
