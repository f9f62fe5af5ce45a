"""Charts as inline SVG drawn on the server (no script, no library), each with a title and a
description for assistive technology; the page beside each chart shows the same numbers as
text. Every text that goes into an SVG is escaped here."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

__all__ = ["activity_strip", "bar_pairs"]

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


def bar_pairs(
    ident: str, title: str, rows: Sequence[tuple[str, float, float | None]], unit: str = ""
) -> Markup:
    """Horizontal bars, one row per (label, value, previous): the value dark, the previous
    period's as a thin grey bar under it, both to one scale."""
    width, label_w, row_h = 520, 180, 30
    top = max([abs(v) for _, v, _ in rows] + [abs(p) for _, _, p in rows if p is not None] + [1])
    span = width - label_w - 70
    body = []
    for n, (label, value, previous) in enumerate(rows):
        y = n * row_h + 4
        body.append(
            f'<text x="0" y="{y + 13}" fill="{_TEXT}" font-size="12">{escape(label[:28])}</text>'
        )
        body.append(
            f'<rect x="{label_w}" y="{y}" width="{max(1, int(span * abs(value) / top))}" '
            f'height="14" fill="{_ACTIVE}"/>'
        )
        if previous is not None:
            body.append(
                f'<rect x="{label_w}" y="{y + 17}" '
                f'width="{max(1, int(span * abs(previous) / top))}" height="5" '
                f'fill="{_PREVIOUS}"/>'
            )
        body.append(
            f'<text x="{label_w + span + 6}" y="{y + 13}" fill="{_TEXT}" '
            f'font-size="12">{escape(_number(value))}{escape(unit)}</text>'
        )
    desc = "; ".join(
        f"{label}: {_number(value)}{unit}"
        + ("" if previous is None else f" (previous {_number(previous)}{unit})")
        for label, value, previous in rows
    )
    return _svg(
        width, max(row_h * len(rows), row_h), title, desc or "no data", "".join(body), ident
    )


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
