"""Totals over the gateway's usage log, summed by the database (``GROUP BY``), never by folding
the event log: requests and tokens per person, day, key, prompt or workflow, or any mix of them.

    totals(store, ("day", "person"), since="2026-11-01")   # one row per (day, person)
    totals(store, "person", since=..., until=...)           # a window, both ends included
    totals(store, ())                                       # one row: everything

By default only answered requests count (status below 400): a refused or failed request is not
use. The sums are read from the daily rollups (``usage_daily``) the gateway's writer keeps as it
inserts the raw rows (:mod:`inhouse.gateway.usage`), so they hold after the raw rows are
compacted and stay quick over millions of requests; this module only reads them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import ColumnElement, func, select

from inhouse.db import Store
from inhouse.db.schema import usage_daily, usage_days, usage_people_daily
from inhouse.errors import InvalidInput

__all__ = ["ANSWERED_BELOW", "DIMENSIONS", "Dimension", "UsageTotals", "day_text", "totals"]

#: What usage can be grouped by: ``key`` is the gateway key's id, ``prompt`` and ``workflow`` the
#: prompt-library and workflow ids a request carried (``None`` where it carried none).
Dimension = Literal["day", "person", "key", "prompt", "workflow"]
DIMENSIONS: tuple[Dimension, ...] = get_args(Dimension)

#: A request counts as answered when its status is below this.
ANSWERED_BELOW = 400

_COLUMNS: dict[Dimension, ColumnElement[Any]] = {
    "day": usage_daily.c.day,
    "person": usage_daily.c.person,
    "key": usage_daily.c.key_id,
    "prompt": usage_daily.c.prompt_id,
    "workflow": usage_daily.c.workflow_id,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageTotals:
    """The requests in one group and their tokens. A dimension the totals were not grouped by
    is ``None``; so are ``prompt`` and ``workflow`` for the requests that named none."""

    requests: int
    tokens_in: int
    tokens_out: int
    #: the requests' end-to-end times summed, in ms (more than the wall time where they overlap)
    busy_ms: float = 0.0
    day: str | None = None
    person: str | None = None
    key: str | None = None
    prompt: str | None = None
    workflow: str | None = None

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out


def totals(
    store: Store,
    by: Dimension | Sequence[Dimension] = ("day", "person"),
    *,
    since: date | str | None = None,
    until: date | str | None = None,
    answered_only: bool = True,
) -> list[UsageTotals]:
    """Requests and tokens per group of ``by``, ordered by the groups in ``by``'s order (a
    missing prompt or workflow first). ``since`` and ``until`` are days (``YYYY-MM-DD`` or a
    date), both included. Grouped by nothing (``()``), one row sums everything, zeros included."""
    dimensions = _dimensions(by)
    # answered requests in all, or by day: the per-day sums (a row per day); by person too: the
    # per-person-day sums (a row per person-day); anything else: the full rollups
    table = (
        usage_days if answered_only and set(dimensions) <= {"day"}
        else usage_people_daily if answered_only and set(dimensions) <= {"day", "person"}
        else usage_daily
    )  # fmt: skip
    columns = [table.c[_COLUMNS[d].name] for d in dimensions]
    query = select(
        *columns,
        func.coalesce(func.sum(table.c.requests), 0),
        func.coalesce(func.sum(table.c.tokens_in), 0),
        func.coalesce(func.sum(table.c.tokens_out), 0),
        func.coalesce(func.sum(table.c.busy_ms), 0.0),
    ).group_by(*columns)
    query = query.order_by(*(column.asc() for column in columns))  # '' (none) sorts first
    if answered_only and table is usage_daily:
        query = query.where(usage_daily.c.answered == 1)
    if since is not None:
        query = query.where(table.c.day >= day_text(since, "since"))
    if until is not None:
        query = query.where(table.c.day <= day_text(until, "until"))
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    width = len(dimensions)
    return [
        UsageTotals(
            requests=int(row[width]),
            tokens_in=int(row[width + 1]),
            tokens_out=int(row[width + 2]),
            busy_ms=float(row[width + 3]),
            **{d: str(v) or None for d, v in zip(dimensions, row, strict=False)},
        )
        for row in rows
    ]


def _dimensions(by: Dimension | Sequence[Dimension]) -> list[Dimension]:
    names: Sequence[str] = (by,) if isinstance(by, str) else by
    dimensions: list[Dimension] = []
    for name in names:
        dimension = next((d for d in DIMENSIONS if d == name), None)
        if dimension is None:
            raise InvalidInput(f"usage cannot be totalled by {name!r}: use {', '.join(DIMENSIONS)}")
        if dimension in dimensions:
            raise InvalidInput(f"usage totals name {name!r} twice")
        dimensions.append(dimension)
    return dimensions


def day_text(value: date | str, name: str) -> str:
    """``value`` as the usage log writes a day (``YYYY-MM-DD``); ``name`` is the argument's, for
    the message when it is not one."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    try:
        ok = len(value) == 10 and date.fromisoformat(value).isoformat() == value
    except ValueError:
        ok = False
    if not ok:
        raise InvalidInput(f"usage: {name} {value!r} is not a day (YYYY-MM-DD)")
    if not 1900 <= int(value[:4]) <= 9998:  # the windows read before and after it must exist
        raise InvalidInput(f"usage: {name} {value!r}: the year is not 1900 to 9998")
    return value
