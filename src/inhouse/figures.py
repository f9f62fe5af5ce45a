"""Figures as a person reads them, one way everywhere: the CLI, the dashboard and the reports
write a share and a count through here, so "3.3%" in one place never sits beside "17.9 %" in
another, nor "1 people" beside "2 people".

    share(0.179)           # '17.9 %'
    count(1, "people")     # '1 person'
    count(0.194, "people") # '0.194 people'
    count(1, "test cases") # '1 test case' (the last word of a unit agrees)
    unit(2, "teams")       # 'teams' (the unit alone, where the number stands elsewhere)
"""

from __future__ import annotations

__all__ = ["count", "share", "unit"]

#: a count's unit (plural, as the indicators name it) and its singular; a unit of several
#: words ("test cases") agrees by its last word
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
    "agents": "agent",
    "answers": "answer",
    "authors": "author",
    "calls": "call",
    "cases": "case",
    "champions": "champion",
    "decisions": "decision",
    "envelopes": "envelope",
    "facts": "fact",
    "findings": "finding",
    "fixes": "fix",
    "inputs": "input",
    "keys": "key",
    "models": "model",
    "nodes": "node",
    "places": "place",
    "problems": "problem",
    "reads": "read",
    "records": "record",
    "reruns": "rerun",
    "steps": "step",
    "tasks": "task",
    "tokens": "token",
    "tools": "tool",
    "verifies": "verify",
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
    return f"{number} {_agreeing(value, unit)}".strip()


def unit(value: float, plural: str) -> str:
    """The unit alone, agreeing with ``value`` (``team`` for one, ``teams`` otherwise), for a
    phrase whose number stands elsewhere or not at all ("no champion for teams a, b")."""
    return _agreeing(value, plural)


def _agreeing(value: float, plural: str) -> str:
    if not plural or float(value) != 1:
        return plural
    head, _, last = plural.rpartition(" ")
    return f"{head} {_SINGULAR.get(last, last)}".strip()
