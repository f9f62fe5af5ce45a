"""An indicators report: every leading and lagging indicator of a period beside the period
before it, a trend over the last periods, written as JSON, CSV and a self-contained HTML page,
and recorded as a measured ``indicators.report`` fact (the JSON's SHA-256 with it).

    report = build_report(program, "2026-11")
    files = write_report(program, report)     # .inhouse/reports/indicators-2026-11-<time>.*
    fact = record_report(program, report, files)

A period that has not ended is *partial*: its figures can still change, the report says so,
and play 6's ``indicators-reported`` check does not accept it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput
from inhouse.indicators.lagging import lagging_indicators
from inhouse.indicators.leading import (
    Authors,
    PeriodUsage,
    Signed,
    leading_indicators,
    signed_grid,
)
from inhouse.indicators.model import Indicator
from inhouse.indicators.periods import Period, last_ended_month, parse_period
from inhouse.indicators.prices import prices_for
from inhouse.location import DATA_DIR
from inhouse.program.checks import CheckContext
from inhouse.program.facts import Fact, Provenance
from inhouse.usage import ActivityGrid

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "COLLECTOR",
    "TREND_PERIODS",
    "IndicatorsReport",
    "ReportFiles",
    "build_report",
    "record_report",
    "write_report",
]

COLLECTOR = "inhouse indicators"
TREND_PERIODS = 6
SCHEMA = 1


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path
    csv: Path


@dataclass
class IndicatorsReport:
    """One period's indicators, the previous period's, and a trend."""

    program: str
    period: Period
    previous: Period
    partial: bool
    made_at: datetime
    current: list[Indicator]
    before: list[Indicator]
    trend: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    #: the program is a demo: the report says so where it says anything (nothing in it is
    #: evidence)
    demo: bool = False

    def value(self, name: str) -> float | None:
        return next((i.value for i in self.current if i.name == name), None)

    def rows(self) -> list[dict[str, Any]]:
        """Each indicator with the previous period's value and the change."""
        earlier = {i.name: i.value for i in self.before}
        rows = []
        for indicator in self.current:
            previous = earlier.get(indicator.name)
            change = None
            if indicator.value is not None and previous is not None:
                change = indicator.value - previous
            rows.append(
                {
                    "side": indicator.side,
                    **indicator.to_dict(),
                    "previous": previous,
                    "change": change,
                    "change_pct": None
                    if change is None or not previous
                    else round(change / abs(previous) * 100, 2),
                }
            )
        return rows

    def to_dict(self) -> dict[str, Any]:
        rows = self.rows()
        return {
            "schema": SCHEMA,
            "program": self.program,
            "demo": self.demo,
            "period": _period(self.period),
            "previous": _period(self.previous),
            "partial": self.partial,
            "made_at": self.made_at.isoformat(timespec="seconds"),
            "leading": [r for r in rows if r["side"] == "leading"],
            "lagging": [r for r in rows if r["side"] == "lagging"],
            "trend": self.trend,
            "files": self.files,
        }


def _period(period: Period) -> dict[str, str]:
    return {
        "label": period.label,
        "kind": period.kind,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }


def build_report(
    program: Program, period: str | Period | None = None, now: datetime | None = None
) -> IndicatorsReport:
    """The indicators of ``period`` (default: the last month that has ended), made at ``now``
    (default: the clock's)."""
    from inhouse.program.counting import build_context, not_their_fetch

    now = program.clock() if now is None else now
    chosen = (
        last_ended_month(now.date())
        if period is None
        else parse_period(period)
        if isinstance(period, str)
        else period
    )
    state = program.state()
    ctx = build_context(state, now)
    # keys fetched in someone's name by a key that never signed in as them: nobody's own use,
    # as the rollup counts them, where the report reads the summary tables
    not_own = not_their_fetch(state)
    store = program.store
    previous = chosen.previous()
    # what the gateway's key signed, read once for both periods and the trend, and one scan of
    # who was active for all of them (the monthly window before the previous period included):
    # only on the days the gateway's key signed
    trend_periods = chosen.back(TREND_PERIODS)
    since = min(previous.start - timedelta(days=29), trend_periods[0].start)
    signed = Signed.read(ctx, since, chosen.end)
    grid = signed_grid(store, signed, since=since, until=chosen.end, not_own=not_own)
    authors = Authors.of(ctx)
    this = PeriodUsage.read(store, chosen, authors, ctx, signed, not_own)
    last = PeriodUsage.read(store, previous, authors, ctx, signed, not_own)
    return IndicatorsReport(
        program=state.name,
        period=chosen,
        previous=previous,
        partial=not chosen.ended(now.date()),
        made_at=now,
        current=[
            *leading_indicators(store, ctx, chosen, grid, this),
            *lagging_indicators(store, ctx, chosen, this),
        ],
        before=[
            *leading_indicators(store, ctx, previous, grid, last),
            *lagging_indicators(store, ctx, previous, last),
        ],
        trend=_trend(ctx, trend_periods, signed, grid),
        demo=ctx.demo,
    )


def _trend(
    ctx: CheckContext, periods: list[Period], signed: Signed, grid: ActivityGrid
) -> list[dict[str, Any]]:
    """Mean daily active people, answered requests and what their tokens would have cost at the
    reference prices, for the last periods, oldest first, as the gateway's key signed them
    (``signed`` and ``grid``, the days it signed, cover them): the requests and tokens are its
    signed daily totals, and a person is active on a day it signed their answered requests and
    the summary tables say some were through their own key."""
    rows = []
    for each in periods:
        inside = signed.within(each.start, each.end)
        tokens_in = sum(d.tokens_in for d in inside)
        tokens_out = sum(d.tokens_out for d in inside)
        prices = prices_for(ctx, each)
        reference = None if prices is None else prices.cost(tokens_in, tokens_out)
        rows.append(
            {
                "period": each.label,
                "dau": round(grid.mean_active(each.start, each.end, width=1), 3),
                "answered_requests": sum(d.requests for d in inside),
                "reference_cost": reference,
                "currency": None if prices is None else prices.currency,
            }
        )
    return rows


def write_report(program: Program, report: IndicatorsReport) -> ReportFiles:
    """Write the JSON, CSV and HTML files under ``.inhouse/reports`` (a new set each time, so
    the file a recorded fact names is never overwritten)."""
    from inhouse.indicators.render import render_html

    target = program.folder / DATA_DIR / "reports"
    where = target.relative_to(program.folder).as_posix()
    if target.exists() and not target.is_dir():
        raise InvalidInput(
            f"{where} is a file, not a folder: the report's HTML, JSON and CSV files go in it. "
            "Move that file away (it was left as it is; nothing was written or recorded)"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInput(f"cannot make {where}: {err.strerror or err}") from None
    stem = f"indicators-{report.period.label.replace('..', '_')}-{report.made_at:%Y%m%dT%H%M%S}"
    counter = 1
    base = stem
    while (target / f"{stem}.json").exists():
        counter += 1
        stem = f"{base}-{counter}"
    files = ReportFiles(
        html=target / f"{stem}.html", json=target / f"{stem}.json", csv=target / f"{stem}.csv"
    )
    report.files = {
        kind: path.relative_to(program.folder).as_posix()
        for kind, path in (("html", files.html), ("json", files.json), ("csv", files.csv))
    }
    data = report.to_dict()
    try:
        files.json.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        files.csv.write_text(_csv(report), encoding="utf-8")
        files.html.write_text(render_html(data), encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot write the report in {where}: {err.strerror or err}") from None
    return files


def _csv(report: IndicatorsReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # a money figure priced with the costs play 1's author typed says whose word they are, as
    # the text, JSON and HTML reports do: the label beside it, and the sentence behind it
    writer.writerow(
        ["period", "side", "indicator", "value", "unit", "previous", "change", "reason", "costs",
         "costs_word"]
    )  # fmt: skip
    for row in report.rows():
        costs = row["costs"] or {}
        writer.writerow(
            [report.period.label, row["side"], row["name"], _cell(row["value"]), row["unit"],
             _cell(row["previous"]), _cell(row["change"]), row["reason"],
             costs.get("short", ""), costs.get("label", "")]
        )  # fmt: skip
    writer.writerow([])
    writer.writerow(["period", "indicator", "input", "value", "unit", "source"])
    for indicator in report.current:
        for item in indicator.inputs:
            writer.writerow(
                [report.period.label, indicator.name, item.name, item.value, item.unit,
                 item.source]
            )  # fmt: skip
    return out.getvalue()


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def record_report(program: Program, report: IndicatorsReport, files: ReportFiles) -> Fact:
    """Record the report as a measured ``indicators.report`` fact, signed by whoever ran it."""
    digest = hashlib.sha256(files.json.read_bytes()).hexdigest()
    payload = {
        "period_start": report.period.start.isoformat(),
        "period_end": report.period.end.isoformat(),
        "period": report.period.label,
        "partial": report.partial,
        "leading": {i.name: i.value for i in report.current if i.side == "leading" and
                    i.value is not None},
        "lagging": {i.name: i.value for i in report.current if i.side == "lagging" and
                    i.value is not None},
        "inputs": [
            {"indicator": i.name, **item.to_dict()}
            for i in report.current
            for item in i.inputs
        ],
        "report": files.json.relative_to(program.folder).as_posix(),
        "sha256": digest,
    }  # fmt: skip
    return program.record_fact(
        None, "indicators.report", payload, provenance=Provenance.MEASURED, collector=COLLECTOR
    )
