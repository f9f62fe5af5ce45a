"""Charts as inline SVG drawn on the server (no script, no library), each with a title and a
description for assistive technology; the page beside each chart shows the same numbers as
text. Every text that goes into an SVG is escaped here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = ["BarRow", "activity_strip", "bar_pairs"]

_ACTIVE = "#1d4ed8"
_IDLE = "#d1d5db"
_PREVIOUS = "#6b7280"
_TEXT = "#111827"


def _svg(width: int, height: int, title: str, desc: str, body: str, ident: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'class="chart"><title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(desc)}</desc>{body}</svg>'
    )


def activity_strip(ident: str, person: str, days: Sequence[str], counts: dict[str, int]) -> Markup:
    """One bar per day of the window: tall and dark on a day ``person`` used the tool (its
    height grows with the requests that day), a short grey tick on a day they did not."""
    step, height = 6, 28
    top = max(counts.values(), default=0) or 1
    bars = []
    for n, day in enumerate(days):
        used = counts.get(day, 0)
        if used:
            tall = 8 + int((height - 8) * used / top)
            bars.append(
                f'<rect x="{n * step}" y="{height - tall}" width="{step - 1}" '
                f'height="{tall}" fill="{_ACTIVE}"/>'
            )
        else:
            bars.append(
                f'<rect x="{n * step}" y="{height - 3}" width="{step - 1}" height="3" '
                f'fill="{_IDLE}"/>'
            )
    active = [d for d in days if counts.get(d)]
    desc = f"{person} used it on {len(active)} of {len(days)} days" + (
        ": " + ", ".join(f"{d} ({counts[d]} requests)" for d in active) if active else ""
    )
    return _svg(len(days) * step, height, f"{person}'s active days", desc, "".join(bars), ident)


@dataclass(frozen=True, slots=True)
class BarRow:
    """One row of :func:`bar_pairs`: its label, this period's value and the previous one's,
    the unit both are in, and both as a person reads them (``3.3%``, ``0.00000800 USD``)."""

    label: str
    value: float
    previous: float | None
    unit: str
    shown: str
    shown_previous: str | None


def bar_pairs(ident: str, title: str, rows: Sequence[BarRow]) -> Markup:
    """Horizontal bars, one row per indicator: the value dark, the previous period's as a thin
    grey bar under it. Rows in one unit share a scale; a share or a sum of money is drawn to
    a scale of its own (0.033 beside 6 requests drew a share as no bar at all), and each
    value is written as the table beside it writes it."""
    # room for the longest title ("Library prompt uses by non-authors") and the longest
    # figure ("0.00000800 USD") beside its bar: at 180 and 70 pixels both were cut
    width, label_w, row_h = 640, 230, 30
    tops: dict[str, float] = {}
    for row in rows:
        biggest = max(abs(row.value), abs(row.previous or 0))
        tops[row.unit] = max(tops.get(row.unit, 0.0), biggest)
    span = width - label_w - 120
    body = []
    for n, row in enumerate(rows):
        top = tops[row.unit] or 1
        y = n * row_h + 4
        label = escape(row.label[:40])
        body.append(f'<text x="0" y="{y + 13}" fill="{_TEXT}" font-size="12">{label}</text>')
        body.append(
            f'<rect x="{label_w}" y="{y}" width="{max(1, int(span * abs(row.value) / top))}" '
            f'height="14" fill="{_ACTIVE}"/>'
        )
        if row.previous is not None:
            body.append(
                f'<rect x="{label_w}" y="{y + 17}" '
                f'width="{max(1, int(span * abs(row.previous) / top))}" height="5" '
                f'fill="{_PREVIOUS}"/>'
            )
        body.append(
            f'<text x="{label_w + span + 6}" y="{y + 13}" fill="{_TEXT}" '
            f'font-size="12">{escape(row.shown)}</text>'
        )
    desc = "; ".join(
        f"{row.label}: {row.shown}"
        + ("" if row.shown_previous is None else f" (previous {row.shown_previous})")
        for row in rows
    )
    return _svg(
        width, max(row_h * len(rows), row_h), title, desc or "no data", "".join(body), ident
    )
