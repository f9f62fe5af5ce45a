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

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select

from inhouse.db import Store
from inhouse.db.schema import usage_daily, usage_people_monthly, usage_refs_monthly
from inhouse.usage.activity import unowned_days
from inhouse.usage.totals import day_text

__all__ = [
    "ActivityGrid",
    "ReferenceSummary",
    "ReferenceUse",
    "activity_grid",
    "reference_summary",
    "reference_use",
]


def _spread(mask: int, width: int) -> int:
    """``mask`` with each set bit also set in the ``width - 1`` bits above it: bit ``e`` of the
    result says whether any bit from ``e - width + 1`` to ``e`` was set (log2(width) shifts)."""
    covered = 1
    while covered < width:
        step = min(covered, width - covered)
        mask |= mask << step
        covered += step
    return mask


@dataclass(frozen=True)
class ActivityGrid:
    """Each person's active days as the bits of one integer (bit ``n``: day ``first + n``).

    Python integers rather than a numpy array: a grid is a few thousand people by a few
    hundred days, and the bit operations over it take milliseconds, where importing numpy
    cost every ``inhouse indicators report`` about 100 ms."""

    first: date
    days: int
    people: tuple[str, ...]
    masks: tuple[int, ...]  # one per person, in the order of ``people``

    def _column(self, day: date) -> int:
        return (day - self.first).days

    def _span(self, since: date, until: date) -> int:
        start, end = max(0, self._column(since)), min(self.days, self._column(until) + 1)
        return ((1 << (end - start)) - 1) << start if start < end else 0

    def active_between(self, since: date, until: date) -> set[str]:
        """Everyone active on at least one day from ``since`` to ``until``."""
        window = self._span(since, until)
        return {person for person, mask in zip(self.people, self.masks, strict=True)
                if mask & window}  # fmt: skip

    def rolling(self, since: date, until: date, *, width: int) -> list[int]:
        """For each day from ``since`` to ``until``, how many people were active in the
        ``width`` days ending that day (the grid must start ``width - 1`` days before)."""
        self._covers(since, until, width)
        spread = [_spread(mask, width) for mask in self.masks]
        return [sum((mask >> column) & 1 for mask in spread)
                for column in range(self._column(since), self._column(until) + 1)]  # fmt: skip

    def mean_active(self, since: date, until: date, *, width: int) -> float:
        """The mean over the days from ``since`` to ``until`` of :meth:`rolling`: each person
        counts the days whose window they were active in (one popcount per person)."""
        self._covers(since, until, width)
        ends = self._span(since, until)
        total = sum((_spread(mask, width) & ends).bit_count() for mask in self.masks)
        return total / ((until - since).days + 1)

    def only(
        self, kept: Mapping[str, int], *, sure: Mapping[str, int] | None = None
    ) -> ActivityGrid:
        """This grid with each person's days kept only where ``kept`` (a mask per person, in
        this grid's columns) sets them too, and every day ``sure`` sets, whatever this grid
        says: nobody neither names stays active."""
        found = {person: mask & kept.get(person, 0)
                 for person, mask in zip(self.people, self.masks, strict=True)}  # fmt: skip
        inside = (1 << self.days) - 1
        for person, mask in (sure or {}).items():
            found[person] = found.get(person, 0) | (mask & inside)
        both = [(person, mask) for person, mask in found.items() if mask]
        return ActivityGrid(
            self.first, self.days, tuple(p for p, _ in both), tuple(m for _, m in both)
        )

    def _covers(self, since: date, until: date, width: int) -> None:
        if self._column(since) - (width - 1) < 0 or self._column(until) >= self.days:
            raise ValueError("the grid does not cover the window")


def activity_grid(
    store: Store, *, since: date | str, until: date | str, not_own: Collection[str] = ()
) -> ActivityGrid:
    """The grid of days from ``since`` to ``until``, read from the monthly masks (a few rows per
    person whatever the traffic): a month's mask, shifted to the month's first column, is that
    person's bits for the month. A day a person was active only through the keys ``not_own``
    names is not set (:func:`inhouse.usage.activity.unowned_days`)."""
    first = date.fromisoformat(day_text(since, "since"))
    last = date.fromisoformat(day_text(until, "until"))
    days = max(0, (last - first).days + 1)
    months = usage_people_monthly.c
    query = select(months.month, months.person, months.active_days).where(
        months.month >= first.isoformat()[:7], months.month <= last.isoformat()[:7]
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    grid: dict[str, int] = {}
    for month, person, mask in rows:
        offset = (date.fromisoformat(f"{month}-01") - first).days
        bits = int(mask) << offset if offset >= 0 else int(mask) >> -offset
        grid[str(person)] = grid.get(str(person), 0) | bits
    for day, person in unowned_days(store, not_own, since=first, until=last):
        grid[person] = grid.get(person, 0) & ~(1 << (date.fromisoformat(day) - first).days)
    inside = (1 << days) - 1
    return ActivityGrid(first, days, tuple(grid), tuple(m & inside for m in grid.values()))


@dataclass(frozen=True, slots=True)
class ReferenceUse:
    """Answered requests of one person that named a library prompt, a workflow or both."""

    prompt: str | None
    workflow: str | None
    person: str
    requests: int


def _references(since: date | str, until: date | str) -> tuple[Any, list[Any], Any, Any, Any]:
    """The table a span's prompt and workflow use is read from, the conditions that select the
    span's answered rows there, and its person, prompt and workflow columns: whole months from
    the monthly sums, any other span from the daily rollups."""
    first = date.fromisoformat(day_text(since, "since"))
    last = date.fromisoformat(day_text(until, "until"))
    if first.day == 1 and (last + timedelta(days=1)).day == 1:
        m = usage_refs_monthly.c
        where = [m.month >= first.isoformat()[:7], m.month <= last.isoformat()[:7]]
        return usage_refs_monthly, where, m.person, m.prompt_id, m.workflow_id
    d = usage_daily.c
    where = [
        d.answered == 1,
        d.day >= first.isoformat(),
        d.day <= last.isoformat(),
        or_(d.prompt_id != "", d.workflow_id != ""),
    ]
    return usage_daily, where, d.person, d.prompt_id, d.workflow_id


def reference_use(
    store: Store,
    *,
    since: date | str,
    until: date | str,
    people: Collection[str] | None = None,
) -> list[ReferenceUse]:
    """Answered requests per (library prompt, workflow, person) from ``since`` to ``until``;
    requests that named neither are left out; only ``people``'s where given."""
    table, where, person, prompt, workflow = _references(since, until)
    if people is not None:
        where = [*where, person.in_(sorted(people))]
    query = (
        select(prompt, workflow, person, func.sum(table.c.requests))
        .where(*where)
        .group_by(person, prompt, workflow)  # the monthly key's order: no sort
    )
    with store.engine.connect() as conn:
        return [
            ReferenceUse(prompt or None, workflow or None, str(person), int(n))
            for prompt, workflow, person, n in conn.execute(query)
        ]


@dataclass(frozen=True)
class ReferenceSummary:
    """A span's library prompt and workflow use summed by the database: per prompt version its
    answered requests and how many people sent them, per workflow its runs, and the rows of a
    few named people (the authors, whose own use a report sets apart)."""

    prompts: dict[str, tuple[int, int]]  # prompt id -> (requests, distinct people)
    workflows: dict[str, int]  # workflow id -> requests
    of: list[ReferenceUse]  # per (prompt, workflow, person), only the named people's
    #: per (prompt, workflow, person), the requests through the keys ``not_own`` named: counted
    #: above (they were answered), nobody's own use; their people are in ``of`` too
    not_own: list[ReferenceUse] = field(default_factory=list)


def reference_summary(
    store: Store,
    *,
    since: date | str,
    until: date | str,
    people: Collection[str],
    not_own: Collection[str] = (),
) -> ReferenceSummary:
    """:class:`ReferenceSummary` of the span: a few rows per prompt and workflow, whatever
    the number of people (reading every person's rows cost a monthly report ~40 ms per period
    at 2,000 people). The requests through the keys ``not_own`` names are set apart, from the
    daily rollups (which keep each key apart), and their people's rows read with the named
    people's: a reader tells who used a prompt or workflow through a key of their own."""
    table, where, person, prompt, workflow = _references(since, until)
    requests = func.sum(table.c.requests)
    prompts = (
        select(prompt, requests, func.count(person.distinct()))
        .where(*where, prompt != "")
        .group_by(prompt)
    )
    workflows = select(workflow, requests).where(*where, workflow != "").group_by(workflow)
    with store.engine.connect() as conn:
        by_prompt = {str(p): (int(n), int(k)) for p, n, k in conn.execute(prompts)}
        by_workflow = {str(w): int(n) for w, n in conn.execute(workflows)}
    aside = _through(store, not_own, since, until)
    named = set(people) | {use.person for use in aside}
    of = reference_use(store, since=since, until=until, people=named) if named else []
    return ReferenceSummary(by_prompt, by_workflow, of, aside)


def _through(
    store: Store, keys: Collection[str], since: date | str, until: date | str
) -> list[ReferenceUse]:
    """Answered requests through ``keys`` that named a library prompt or a workflow, per
    (prompt, workflow, person), from ``since`` to ``until``."""
    if not keys:
        return []
    d = usage_daily.c
    query = (
        select(d.prompt_id, d.workflow_id, d.person, func.sum(d.requests))
        .where(
            d.key_id.in_(sorted(keys)), d.answered == 1,
            d.day >= day_text(since, "since"), d.day <= day_text(until, "until"),
            or_(d.prompt_id != "", d.workflow_id != ""),
        )
        .group_by(d.person, d.prompt_id, d.workflow_id)
    )  # fmt: skip
    with store.engine.connect() as conn:
        return [
            ReferenceUse(prompt or None, workflow or None, str(person), int(n))
            for prompt, workflow, person, n in conn.execute(query)
        ]
