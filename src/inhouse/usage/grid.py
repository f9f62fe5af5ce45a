"""Who was active on which day, as a grid a report can slice: one row per person, one column
per day, ``True`` where the person had a request answered through a key of their own that day.
Read in one query over the monthly masks (a bit per day a person was active), so daily, weekly
and monthly active counts over any window, for several periods, cost a few rows per person; and
per library prompt or workflow, who used it how often, answered requests only.

    grid = activity_grid(store, since="2026-09-02", until="2026-11-30")
    grid.active_between(date(2026, 11, 1), date(2026, 11, 30))   # {"bob", "pia", ...}
    grid.rolling(date(2026, 11, 1), date(2026, 11, 30), width=7)   # WAU for each day
    reference_use(store, since=..., until=...)   # [ReferenceUse("triage@2", None, "bob", 3)]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, or_, select

from inhouse.db import Store
from inhouse.db.schema import usage_daily, usage_people_monthly, usage_refs_monthly
from inhouse.usage.totals import day_text

__all__ = ["ActivityGrid", "ReferenceUse", "activity_grid", "reference_use"]


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


def activity_grid(store: Store, *, since: date | str, until: date | str) -> ActivityGrid:
    """The grid of days from ``since`` to ``until``, read from the monthly masks (a few rows per
    person whatever the traffic)."""
    first = date.fromisoformat(day_text(since, "since"))
    last = date.fromisoformat(day_text(until, "until"))
    days = max(0, (last - first).days + 1)
    months = usage_people_monthly.c
    query = select(months.month, months.person, months.active_days).where(
        months.month >= first.isoformat()[:7], months.month <= last.isoformat()[:7]
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    index: dict[str, int] = {}
    by_month: dict[str, tuple[list[int], list[int]]] = {}
    for month, person, mask in rows:
        people, masks = by_month.setdefault(str(month), ([], []))
        people.append(index.setdefault(str(person), len(index)))
        masks.append(int(mask))
    active = np.zeros((len(index), days), dtype=np.bool_)
    for n in range(days):
        day = first + timedelta(days=n)
        found = by_month.get(day.isoformat()[:7])
        if found is not None:
            bits = (np.asarray(found[1], dtype=np.int64) >> (day.day - 1)) & 1
            active[np.asarray(found[0], dtype=np.int64), n] = bits.astype(np.bool_)
    return ActivityGrid(first, days, tuple(index), active)


@dataclass(frozen=True, slots=True)
class ReferenceUse:
    """Answered requests of one person that named a library prompt, a workflow or both."""

    prompt: str | None
    workflow: str | None
    person: str
    requests: int


def reference_use(store: Store, *, since: date | str, until: date | str) -> list[ReferenceUse]:
    """Answered requests per (library prompt, workflow, person) from ``since`` to ``until``;
    requests that named neither are left out. Whole months are read from the monthly sums, any
    other span from the daily rollups."""
    first = date.fromisoformat(day_text(since, "since"))
    last = date.fromisoformat(day_text(until, "until"))
    whole_months = first.day == 1 and (last + timedelta(days=1)).day == 1
    if whole_months:
        m = usage_refs_monthly.c
        query = (
            select(m.prompt_id, m.workflow_id, m.person, func.sum(m.requests))
            .where(m.month >= first.isoformat()[:7], m.month <= last.isoformat()[:7])
            .group_by(m.person, m.prompt_id, m.workflow_id)  # the key's order: no sort
        )
    else:
        d = usage_daily.c
        query = (
            select(d.prompt_id, d.workflow_id, d.person, func.sum(d.requests))
            .where(
                d.answered == 1,
                d.day >= first.isoformat(),
                d.day <= last.isoformat(),
                or_(d.prompt_id != "", d.workflow_id != ""),
            )
            .group_by(d.prompt_id, d.workflow_id, d.person)
        )
    with store.engine.connect() as conn:
        return [
            ReferenceUse(prompt or None, workflow or None, str(person), int(n))
            for prompt, workflow, person, n in conn.execute(query)
        ]
