"""Play 6, measure and iterate: leading and lagging indicators per period, read from the
gateway's daily rollups through :mod:`inhouse.usage` (never by folding the event log), dated
price snapshots, and findings that are closed only by a change that names them.

    report = build_report(program, "2026-11")       # inhouse.indicators.report
    files = write_report(program, report)
    record_report(program, report, files)           # the measured indicators.report fact

Definitions of every indicator: docs/indicators.md.
"""

from inhouse.indicators.findings import close_by_hand, findings, open_finding, require_open
from inhouse.indicators.model import Indicator, Input
from inhouse.indicators.periods import Period, last_ended_month, parse_period
from inhouse.indicators.prices import Prices, prices_for, prices_from_trial, set_prices
from inhouse.indicators.report import (
    IndicatorsReport,
    ReportFiles,
    build_report,
    record_report,
    write_report,
)

__all__ = [
    "Indicator",
    "IndicatorsReport",
    "Input",
    "Period",
    "Prices",
    "ReportFiles",
    "build_report",
    "close_by_hand",
    "findings",
    "last_ended_month",
    "open_finding",
    "parse_period",
    "prices_for",
    "prices_from_trial",
    "record_report",
    "require_open",
    "set_prices",
    "write_report",
]
