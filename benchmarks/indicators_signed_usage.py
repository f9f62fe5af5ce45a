"""The Python side of reading the gateway's signed daily usage for a monthly indicators report:
91 ``usage.daily`` facts of 2,000 people each (the department of ``indicators_report.py``, whose
generated usage log has no signed facts), read as ``build_report`` reads them (one span for
both periods, their active days and the six-month trend) and, for comparison, as the two
periods' ``latest_daily_usage`` read them before.

    PYTHONPATH=src python benchmarks/indicators_signed_usage.py

Figures are wall-clock on this machine; tests never assert them.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from inhouse.indicators.leading import Signed
from inhouse.indicators.periods import parse_period
from inhouse.indicators.report import TREND_PERIODS
from inhouse.program.playchecks.measure import latest_daily_usage

PEOPLE = 2000
DAYS = 91


def _facts() -> list[Any]:
    rng = random.Random(1)
    people = [f"person{n:04d}" for n in range(PEOPLE)]
    made = []
    for n in range(DAYS):
        day = (date(2026, 9, 1) + timedelta(days=n)).isoformat()
        figures = {p: {"requests": rng.randrange(1, 80), "tokens_in": 1000, "tokens_out": 500,
                       "own": 1} for p in people}  # fmt: skip
        made.append(SimpleNamespace(kind="usage.daily", payload={"day": day, "people": figures},
                                    id=n, at=datetime(2026, 12, 1, tzinfo=UTC)))  # fmt: skip
    return made


def main() -> None:
    facts = _facts()
    ctx: Any = SimpleNamespace(facts=SimpleNamespace(of=lambda kind: facts))
    chosen = parse_period("2026-11")
    previous = chosen.previous()

    def before() -> None:
        for period in (chosen, previous):
            found = latest_daily_usage(ctx.facts, period.start.isoformat(), period.end.isoformat())
            sum(t["requests"] for _, t in found.values())

    def now() -> None:
        trend = chosen.back(TREND_PERIODS)
        since = min(previous.start - timedelta(days=29), trend[0].start)
        signed = Signed.read(ctx, since, chosen.end)
        signed.masks(since, (chosen.end - since).days + 1)
        for period in (chosen, previous, *trend):
            days = signed.within(period.start, period.end)
            sum(d.requests for d in days)
            frozenset().union(*(d.people for d in days))

    runs: list[tuple[str, Callable[[], None]]] = [
        ("two periods' latest_daily_usage (the report before)", before),
        ("Signed.read over the span, masks, every period's slice (the report now)", now),
    ]
    for label, call in runs:
        call()
        times = []
        for _ in range(7):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        print(f"{label}: median {statistics.median(times):.0f} ms "
              f"(min {min(times):.0f}, max {max(times):.0f}, 7 runs)")  # fmt: skip


if __name__ == "__main__":
    main()
