"""Figures as a person reads them, one way everywhere: the CLI, the dashboard and the reports
write a share and a count through here, so "3.3%" in one place never sits beside "17.9 %" in
another, nor "1 people" beside "2 people".

    share(0.179)           # '17.9 %'
    count(1, "people")     # '1 person'
    count(0.194, "people") # '0.194 people'
"""

from __future__ import annotations

__all__ = ["count", "share"]

#: a count's unit (plural, as the indicators name it) and its singular
_SINGULAR = {
    "people": "person",
    "requests": "request",
    "prompts": "prompt",
    "runs": "run",
    "tickets": "ticket",
    "hours": "hour",
    "days": "day",
    "members": "member",
    "teams": "team",
    "events": "event",
}


def share(value: float | None, missing: str = "-") -> str:
    """A share (0.179) in percent, one decimal and a space before the sign: ``17.9 %``."""
    if value is None:
        return missing
    return f"{float(value) * 100:.1f} %"


def count(value: float, unit: str = "") -> str:
    """A number with its unit, singular for exactly one (``1 person``, ``0.194 people``):
    whole numbers with thousands separators, others to three decimals."""
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}"
    if unit and float(value) == 1:
        unit = _SINGULAR.get(unit, unit)
    return f"{number} {unit}".strip()
