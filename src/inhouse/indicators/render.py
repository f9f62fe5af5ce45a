"""The indicators report as one self-contained HTML page: tables, the inputs of every lagging
indicator with their sources, and trend charts drawn as inline SVG (no script, no network), so
it opens offline and can be mailed as a file."""

from __future__ import annotations

from html import escape
from typing import Any

from jinja2 import (
    Environment,
    FileSystemBytecodeCache,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from markupsafe import Markup

from inhouse.figures import count, share
from inhouse.program.state import DEMO_NOTE
from inhouse.trials.report import format_money

__all__ = ["fmt", "fmt_change", "render_html", "trend_chart"]

_WIDTH, _BAR = 640, 26
_COLOUR, _TEXT, _MUTED = "#2f6f9f", "#1d2733", "#5b6673"


def fmt(value: Any, unit: str = "") -> str:
    """A figure as a person reads it, with its unit; n/a for none."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    if unit and unit.isupper() and len(unit) <= 4:  # a currency
        return format_money(value, unit)
    if unit == "ratio":
        return share(value)
    return count(value, unit)


def fmt_change(change: float | None, change_pct: float | None, unit: str = "") -> str:
    """The change from the previous period as a person reads it, in the figure's own terms: a
    share changes by percentage points (``-14.5 pts``, never ``-0.1453`` beside ``3.3 %``), money
    in its currency's digits (never ``-4.6e-05``); the relative change after it."""
    if change is None:
        return "n/a"
    sign = "-" if change < 0 else "+"
    if unit == "ratio":
        text = f"{change * 100:+.1f} pts"
    elif unit and unit.isupper() and len(unit) <= 4:  # a currency
        text = sign + format_money(abs(change), unit)
    elif float(change).is_integer():
        text = f"{change:+,.0f}"
    else:
        text = f"{change:+,.3f}"
    return text if change_pct is None else f"{text} ({change_pct:+.1f} %)"


def trend_chart(trend: list[dict[str, Any]], key: str, title: str) -> Markup:
    """One bar per period (oldest first), its value written beside it; a period without a
    value says so in words."""
    top = 8
    height = top + _BAR * len(trend) + 8
    values = [row[key] for row in trend if row[key] is not None]
    biggest = max(values, default=0) or 1
    left, right = 110.0, _WIDTH - 120.0
    parts = []
    for i, row in enumerate(trend):
        y = top + _BAR * i
        value = row[key]
        parts.append(_text(8, y + 17, str(row["period"])))
        if value is None:
            parts.append(_text(left, y + 17, "no value", fill=_MUTED))
            continue
        width = (right - left) * float(value) / biggest
        shown = fmt(value, row.get("currency") or "") if key == "reference_cost" else fmt(value)
        parts.append(
            f'<rect x="{left:.1f}" y="{y + 4}" width="{max(width, 1):.1f}" height="{_BAR - 8}" '
            f'fill="{_COLOUR}"><title>{escape(shown)}</title></rect>'
        )
        parts.append(_text(left + width + 6, y + 17, shown))
    label = f"{title}, per period: " + "; ".join(
        f"{row['period']} {row[key] if row[key] is not None else 'no value'}" for row in trend
    )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" aria-label="{escape(label)}" '
        f'font-family="system-ui, sans-serif" font-size="12">{"".join(parts)}</svg>'
    )


def _text(x: float, y: float, text: str, *, fill: str = _TEXT) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" fill="{fill}">{escape(text)}</text>'


def render_html(data: dict[str, Any]) -> str:
    env = Environment(
        loader=PackageLoader("inhouse.indicators", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # the compiled template is kept between runs (Jinja's per-user cache folder, checked
        # against the template's source): compiling it cost each report ~20 ms
        bytecode_cache=FileSystemBytecodeCache(),
    )
    env.filters["fmt"] = fmt
    env.filters["fmt_change"] = fmt_change
    env.globals["chart"] = trend_chart
    env.globals["demo_note"] = DEMO_NOTE
    return env.get_template("report.html.j2").render(report=data)
