"""A trial's report: one self-contained HTML file (no CDN, no script, charts as inline SVG drawn
here) and its JSON twin, both under ``.inhouse/reports/<trial>-<timestamp>.*``.

The JSON twin is the data the HTML is rendered from (see ``docs/trials.md`` for its shape), so
the two never disagree. The template autoescapes; every SVG below escapes its text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from inhouse.figures import count, share
from inhouse.location import DATA_DIR

if TYPE_CHECKING:
    from inhouse.trials.reportdata import TrialReport
    from inhouse.trials.verdict import DimensionData

__all__ = [
    "REPORTS_DIR",
    "ReportFiles",
    "format_money",
    "format_seconds",
    "render_html",
    "reserve_report",
    "write_report",
]

REPORTS_DIR = "reports"
_CANDIDATE = "#2563eb"
_STATUS_QUO = "#d97706"
_GRID = "#d1d5db"
_TEXT = "#111827"
_WIDTH = 720


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    json: Path


def reserve_report(folder: Path, trial: str, *, when: datetime) -> ReportFiles:
    """The paths the report of ``trial`` run at ``when`` will be written to (a run in the same
    second as an earlier one gets its own names), so the verdict fact can name the report
    before it is written."""
    target = folder / DATA_DIR / REPORTS_DIR
    target.mkdir(parents=True, exist_ok=True)
    stem = f"{trial}-{when:%Y%m%dT%H%M%S}"
    html, twin = target / f"{stem}.html", target / f"{stem}.json"
    counter = 1
    while html.exists() or twin.exists():
        counter += 1
        html, twin = target / f"{stem}-{counter}.html", target / f"{stem}-{counter}.json"
    html.touch()  # claim the names
    twin.touch()
    return ReportFiles(html=html, json=twin)


def write_report(files: ReportFiles, data: TrialReport, *, folder: Path) -> None:
    """Write the JSON twin (``data`` plus where both files are) and the HTML rendered from it."""
    data["report"] = {"html": _rel(folder, files.html), "json": _rel(folder, files.json)}
    files.json.write_text(
        json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    files.html.write_text(render_html(data), encoding="utf-8")


def _rel(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("inhouse.trials", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = format_money
    env.filters["seconds"] = format_seconds
    env.filters["pct"] = lambda v: "n/a" if v is None or _nan(v) else f"{v:+.1f} %"
    env.filters["num"] = lambda v: f"{v:,.6g}" if isinstance(v, int | float) else str(v)
    env.filters["nbytes"] = _bytes
    env.filters["count"] = count
    return env


def render_html(data: TrialReport) -> str:
    """The HTML report for ``data`` (the JSON twin's content)."""
    charts = {
        "latency": _latency_chart(data),
        "intervals": _interval_chart(data["dimensions"]),
        "cost": _cost_chart(data),
        "quality": _quality_chart(data),
        "privacy": _privacy_chart(data),
    }
    template = _environment().get_template("report.html.j2")
    return template.render(d=data, charts=charts)


# -- formatting ----------------------------------------------------------------------------------


def _nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def format_money(value: Any, currency: str = "") -> str:
    """A cost as a person reads it; a tiny cost keeps three significant digits, never 0."""
    if value is None or _nan(value):
        return "n/a"
    amount = float(value)
    if 0 < abs(amount) < 0.01:  # tiny costs keep three significant digits: never "0.0000"
        text = f"{amount:.{2 - math.floor(math.log10(abs(amount)))}f}"
    else:
        text = f"{amount:,.4f}"
    return f"{text} {currency}".strip()


def format_seconds(value: Any) -> str:
    """A duration in ms, s or min, whichever reads best."""
    if value is None or _nan(value):
        return "n/a"
    s = float(value)
    if s >= 120:
        return f"{s / 60:.1f} min"
    if s >= 1:
        return f"{s:.2f} s"
    return f"{s * 1000:.0f} ms"


def _bytes(value: Any) -> str:
    n = float(value or 0)
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} MiB"


# -- SVG -----------------------------------------------------------------------------------------


def _svg(height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'width="{_WIDTH}" height="{height}" role="img" aria-label="{escape(label)}" '
        f'font-family="system-ui, sans-serif" font-size="12">' + "".join(body) + "</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    fill: str = _TEXT,
    size: int = 12,
    weight: str = "normal",
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{size}" font-weight="{weight}">{escape(text)}</text>'
    )


def _line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    *,
    stroke: str = _GRID,
    width: float = 1,
    dash: str = "",
) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{extra}/>'
    )


def _rect(
    x: float,
    y: float,
    w: float,
    h: float,
    fill: str,
    *,
    opacity: float = 1.0,
    stroke: str = "none",
    title: str = "",
) -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}" '
        f'fill-opacity="{opacity}" stroke="{stroke}">{tip}</rect>'
    )


_MIN_LABEL_GAP = 56.0  # px between two axis labels, so they never overlap


class _Scale:
    """Maps values onto [left, right]; logarithmic when the values span more than 20x."""

    def __init__(self, low: float, high: float, left: float, right: float, *, log: bool) -> None:
        if log:
            low, high = math.log10(low), math.log10(high)
        if high <= low:
            high = low + (abs(low) or 1.0)
        self.low, self.high, self.left, self.right, self.log = low, high, left, right, log

    def __call__(self, value: float) -> float:
        v = math.log10(max(value, 1e-12)) if self.log else value
        return self.left + (v - self.low) / (self.high - self.low) * (self.right - self.left)

    def ticks(self) -> list[float]:
        if self.log:
            decades = range(math.floor(self.low), math.ceil(self.high) + 1)
            ticks = [m * 10.0**e for e in decades for m in (1, 2, 5)]
            return [t for t in ticks if self.low <= math.log10(t) <= self.high]
        span = self.high - self.low
        step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 1.0
        for factor in (1, 2, 5, 10):
            if span / (step * factor) <= 6:
                step *= factor
                break
        first = math.ceil(self.low / step) * step
        return [first + i * step for i in range(int((self.high - first) / step) + 1)]


def _band(
    scale: _Scale,
    low: float,
    high: float,
    mid: float,
    half: float,
    colour: str,
    *,
    opacity: float,
    title: str,
) -> str:
    """A range on the scale drawn as a band ``2 x half`` high around ``mid``, outlined in its own
    colour (a box plot's quartiles, an interval)."""
    width = scale(high) - scale(low)
    return _rect(scale(low), mid - half, width, 2 * half, colour, opacity=opacity, stroke=colour,
                 title=title)  # fmt: skip


def _quantile(values: Sequence[float], q: float) -> float:
    data = sorted(values)
    pos = (len(data) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def _latency_chart(data: TrialReport) -> Markup:
    """Box plots with every input as a dot: the candidate's and the status quo's time per task."""
    latency = data["latency"]
    series = [
        ("candidate", [v for v in latency["candidate_s"] if v is not None], _CANDIDATE),
        (
            "status quo" + (" (manual)" if latency["status_quo_kind"] == "manual" else ""),
            [v for v in latency["status_quo_s"] if v is not None],
            _STATUS_QUO,
        ),
    ]
    series = [s for s in series if s[1]]
    if not series:
        return _svg(40, [_text(10, 24, "no completed requests to chart")], "no latency data")
    values = [v for _, vs, _ in series for v in vs]
    low, high = min(values), max(values)
    log = low > 0 and high / low > 20
    left, right = 140.0, _WIDTH - 20.0
    scale = _Scale(low * (0.8 if log else 0), high * 1.05, left, right, log=log)
    row, top = 70, 20
    height = top + row * len(series) + 40
    body: list[str] = []
    axis_y = top + row * len(series)
    labelled = -math.inf
    for tick in scale.ticks():
        x = scale(tick)
        if left - 1 <= x <= right + 1:
            body.append(_line(x, top - 5, x, axis_y))
            if x - labelled >= _MIN_LABEL_GAP:  # a wide log axis has more ticks than room
                body.append(_text(x, axis_y + 16, format_seconds(tick), anchor="middle", size=11))
                labelled = x
    for i, (label, vs, colour) in enumerate(series):
        mid = top + row * i + row / 2
        q1, med, q3 = _quantile(vs, 0.25), _quantile(vs, 0.5), _quantile(vs, 0.75)
        body.append(_text(10, mid + 4, label, weight="bold"))
        body.append(_line(scale(min(vs)), mid, scale(max(vs)), mid, stroke=colour, width=1.5))
        quartiles = (
            f"{label}: p25 {format_seconds(q1)}, median {format_seconds(med)}, "
            f"p75 {format_seconds(q3)}"
        )
        body.append(_band(scale, q1, q3, mid, 14, colour, opacity=0.25, title=quartiles))
        body.append(_line(scale(med), mid - 14, scale(med), mid + 14, stroke=colour, width=3))
        for j, v in enumerate(vs):
            jitter = ((j * 7919) % 17 - 8) * 1.2  # deterministic spread so dots do not overlap
            body.append(
                f'<circle cx="{scale(v):.1f}" cy="{mid + jitter:.1f}" r="2.5" fill="{colour}" '
                f'fill-opacity="0.7"><title>{escape(format_seconds(v))}</title></circle>'
            )
    scale_note = "log scale" if log else "linear scale"
    body.append(_text(right, height - 6, f"time per task ({scale_note})", anchor="end", size=11))
    return _svg(height, body, "time per task, candidate and status quo")


def _interval_chart(dimensions: Sequence[DimensionData]) -> Markup:
    """Each dimension's improvement with its 95 % interval against its threshold."""
    dims = [
        d
        for d in dimensions
        if d["improvement"]["point"] is not None and not _nan(d["improvement"]["point"])
    ]
    if not dims:
        return _svg(40, [_text(10, 24, "no intervals: too few paired inputs")], "no intervals")
    floor = -200.0
    points = [
        max(floor, min(100.0, float(d["improvement"][k]))) for d in dims for k in ("low", "high")
    ]
    points += [float(d["threshold"]) for d in dims if d["threshold"] is not None] + [0.0]
    left, right = 140.0, _WIDTH - 30.0
    scale = _Scale(min(points) - 5, max(points) + 5, left, right, log=False)
    row, top = 50, 20
    height = top + row * len(dims) + 40
    axis_y = top + row * len(dims)
    body: list[str] = []
    for tick in scale.ticks():
        body.append(_line(scale(tick), top - 5, scale(tick), axis_y))
        body.append(_text(scale(tick), axis_y + 16, f"{tick:g} %", anchor="middle", size=11))
    body.append(_line(scale(0), top - 5, scale(0), axis_y, stroke="#6b7280", width=1.5))
    for i, d in enumerate(dims):
        mid = top + row * i + row / 2
        imp = d["improvement"]
        lo, hi = (max(floor, min(100.0, float(imp[k]))) for k in ("low", "high"))
        colour = {"cleared": "#16a34a", "below": "#dc2626"}.get(d["outcome"], "#ca8a04")
        body.append(_text(10, mid + 4, str(d["name"]), weight="bold"))
        interval = f"95 % CI {imp['low']:+.1f} % to {imp['high']:+.1f} %"
        body.append(_band(scale, lo, hi, mid, 6, colour, opacity=0.35, title=interval))
        point = max(floor, min(100.0, float(imp["point"])))
        body.append(f'<circle cx="{scale(point):.1f}" cy="{mid:.1f}" r="5" fill="{colour}"/>')
        if d["threshold"] is not None:
            x = scale(float(d["threshold"]))
            body.append(_line(x, mid - 16, x, mid + 16, stroke=_TEXT, width=2, dash="4 3"))
            body.append(_text(x + 4, mid - 9, f"threshold {d['threshold']:g} %", size=10))
    body.append(
        _text(
            right,
            height - 6,
            "improvement of the candidate (higher is better)",
            anchor="end",
            size=11,
        )
    )
    return _svg(height, body, "improvement per dimension with 95 % intervals")


def _bars(rows: Sequence[tuple[str, float, str, str]], caption: str) -> Markup:
    """Horizontal bars: (label, value, colour, value text)."""
    if not rows:
        return _svg(40, [_text(10, 24, "nothing to chart")], caption)
    left, right = 190.0, _WIDTH - 150.0
    top, row = 10, 34
    height = top + row * len(rows) + 24
    biggest = max((v for _, v, _, _ in rows), default=0.0) or 1.0
    body: list[str] = []
    for i, (label, value, colour, shown) in enumerate(rows):
        y = top + row * i
        body.append(_text(10, y + 17, label))
        body.append(_rect(left, y + 4, (right - left) * value / biggest, 20, colour, title=shown))
        body.append(_text(left + (right - left) * value / biggest + 6, y + 18, shown, size=11))
    body.append(_text(_WIDTH - 10, height - 4, caption, anchor="end", size=11))
    return _svg(height, body, caption)


#: the two sides of a trial as the report's data names them, their labels and colours
_SIDES: tuple[tuple[Literal["candidate", "status_quo"], str, str], ...] = (
    ("candidate", "candidate", _CANDIDATE),
    ("status_quo", "status quo", _STATUS_QUO),
)


def _cost_chart(data: TrialReport) -> Markup:
    cost = data["cost"]
    rows = []
    for key, label, colour in _SIDES:
        side = cost[key]
        mean = float(side["per_task_mean"])
        rows.append((label, mean, colour, format_money(mean, side["currency"])))
    return _bars(rows, "mean cost per task")


def _quality_chart(data: TrialReport) -> Markup:
    quality = data["quality"]
    stated = "" if quality["status_quo_measured"] else " (stated)"
    rows = [
        (
            "candidate",
            float(quality["candidate_pass_rate"]),
            _CANDIDATE,
            f"{share(quality['candidate_pass_rate'])}",
        ),
        (
            "status quo" + stated,
            float(quality["status_quo_pass_rate"]),
            _STATUS_QUO,
            f"{share(quality['status_quo_pass_rate'])}",
        ),
    ]
    return _bars(rows, "share of inputs whose output passed the quality checks")


def _privacy_chart(data: TrialReport) -> Markup:
    privacy = data["privacy"]
    rows = []
    for key, label, colour in _SIDES:
        side = privacy[key]
        left = int(side["bytes_left_machine"])
        shown = _bytes(left) if side["network"] else "no network (manual)"
        rows.append((f"{label}: left the machine", float(left), colour, shown))
    return _bars(rows, "bytes of task data sent beyond this machine")
