"""The templates: one Jinja2 environment (autoescaped, strict), the page layout, and the
filters the templates share (times the viewer's browser shows in its own zone, shares)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from inhouse.figures import share
from inhouse.program.state import DEMO_NOTE
from inhouse.program.status_shape import owner_words, role_words, state_words
from inhouse.web import charts
from inhouse.web.pages import PAGES

__all__ = ["render_page"]


def _when(value: str | None) -> Markup:
    """A ``<time>`` the page's script shows in the viewer's zone; UTC until it does (and
    without script)."""
    if not value:
        return Markup("-")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return escape(value)
    if moment.tzinfo is None:
        return escape(value)
    text = moment.strftime("%Y-%m-%d %H:%M UTC") if len(value) > 10 else value
    return Markup(f'<time datetime="{escape(value)}">{escape(text)}</time>')


def _indicator_rows(items: list[dict[str, Any]]) -> list[charts.BarRow]:
    """The chartable indicators (those whose value is a number), by their titles, their
    figures written as ``inhouse indicators report`` writes them."""
    from inhouse.indicators.render import fmt

    rows = []
    for item in items:
        value, previous, unit = item.get("value"), item.get("previous"), str(item.get("unit", ""))
        if isinstance(value, int | float) and not isinstance(value, bool):
            before = previous if isinstance(previous, int | float) else None
            rows.append(
                charts.BarRow(
                    label=str(item.get("title") or item.get("name", "")),
                    value=float(value),
                    previous=None if before is None else float(before),
                    unit=unit,
                    shown=fmt(value, unit),
                    shown_previous=None if before is None else fmt(before, unit),
                )
            )
    return rows


def _finding_closed(finding: dict[str, Any]) -> str:
    """What closed a finding, as ``inhouse finding list`` says it."""
    from inhouse.indicators.findings import closed_text

    return closed_text(finding)


def _figure(value: Any, unit: str = "") -> str:
    """An indicator's figure with its unit, as ``inhouse indicators report`` prints it (n/a
    for none, a ratio as a share, money in its currency)."""
    from inhouse.indicators.render import fmt

    return fmt(value, unit)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str, sort_keys=True)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("inhouse.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["percent"] = share
    env.filters["state_words"] = state_words
    env.filters["owner_words"] = owner_words
    env.filters["role_words"] = role_words
    env.filters["pretty"] = _pretty
    env.filters["figure"] = _figure
    env.filters["finding_closed"] = _finding_closed
    env.globals["nav"] = PAGES
    env.globals["demo_note"] = DEMO_NOTE
    env.globals["activity_strip"] = charts.activity_strip
    env.globals["bar_pairs"] = charts.bar_pairs
    env.globals["indicator_rows"] = _indicator_rows
    return env


def render_page(
    name: str, data: dict[str, Any], *, viewer: dict[str, Any] | None, csrf: str, path: str
) -> str:
    """The HTML of page ``name`` from the data its JSON twin returns."""
    return (
        _environment()
        .get_template(f"{name}.html")
        .render(data=data, viewer=viewer, csrf=csrf, path=path, page=name)
    )
