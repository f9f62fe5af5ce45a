"""Reporting periods: a month (``2026-11``), an ISO week (``2026-W47``) or any span of days
(``2026-11-01..2026-11-15``), each with the period of the same length just before it.

A period has *ended* once its last day is over (UTC, the usage log's days). A period that has
not ended is reported as partial: its figures can still change, so it cannot satisfy play 6's
``indicators-reported`` check.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from inhouse.errors import InvalidInput

__all__ = ["Period", "PeriodKind", "last_ended_month", "parse_period"]

PeriodKind = Literal["month", "week", "days"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_SPAN = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True, slots=True)
class Period:
    """Days ``start`` to ``end``, both included."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%Y-%m")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def ended(self, today: date) -> bool:
        """Whether the period's last day is over on ``today``."""
        return self.end < today

    def previous(self) -> Period:
        """The period of the same kind (and length) just before this one."""
        if self.kind == "month":
            end = self.start - timedelta(days=1)
            return Period("month", end.replace(day=1), end)
        if self.kind == "week":
            return Period("week", self.start - timedelta(days=7), self.start - timedelta(days=1))
        return Period("days", self.start - timedelta(days=self.days), self.start - timedelta(1))

    def back(self, count: int) -> list[Period]:
        """This period and the ``count - 1`` before it, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]


#: the years a period may fall in: a report also reads the periods before it, and the days
#: after its end, which the calendar's first and last years do not have
YEARS = (1900, 9998)


def parse_period(text: str) -> Period:
    """``2026-11``, ``2026-W47`` or ``2026-11-01..2026-11-15``, within :data:`YEARS`."""
    first, last = YEARS
    for year in re.findall(r"(?:^|\.\.)\s*(\d{4})", text.strip()):
        if not first <= int(year) <= last:
            raise InvalidInput(f"period {text!r}: the year {int(year)} is not {first} to {last}")
    return _parse_period(text)


def _parse_period(text: str) -> Period:
    value = text.strip()
    if match := _MONTH.match(value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise InvalidInput(f"period {text!r}: month {month} is not 01 to 12")
        last = calendar.monthrange(year, month)[1]
        return Period("month", date(year, month, 1), date(year, month, last))
    if match := _WEEK.match(value):
        try:
            start = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise InvalidInput(f"period {text!r}: {match[1]} has no ISO week {match[2]}") from None
        return Period("week", start, start + timedelta(days=6))
    if match := _SPAN.match(value):
        try:
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError as err:
            raise InvalidInput(f"period {text!r}: {err}") from None
        if end < start:
            raise InvalidInput(f"period {text!r} ends before it starts")
        if (end - start).days > 366:
            raise InvalidInput(f"period {text!r} is longer than a year; report year by month")
        return Period("days", start, end)
    raise InvalidInput(
        f"period {text!r} is not a month (2026-11), an ISO week (2026-W47) or a span of days "
        "(2026-11-01..2026-11-15)"
    )


def last_ended_month(today: date) -> Period:
    """The month before ``today``'s: the latest month that can be reported whole."""
    return parse_period((today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))
