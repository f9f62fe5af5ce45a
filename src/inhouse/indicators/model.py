"""What an indicators report is made of: indicators (a value, its unit and definition, or the
reason it has none) and, for lagging ones, every input with its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Indicator", "Input", "Side"]

Side = Literal["leading", "lagging"]


@dataclass(frozen=True, slots=True)
class Input:
    """One figure a lagging indicator was computed from, and where it came from: the gateway's
    usage log (measured), a trial's recorded verdict, or a person's word (named)."""

    name: str
    value: float | str
    unit: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "unit": self.unit, "source": self.source}


@dataclass(frozen=True, slots=True)
class Indicator:
    """One indicator for one period. ``value`` is None when it cannot be computed; ``reason``
    then says why and what would make it computable."""

    name: str  # the key in JSON and in the recorded fact, e.g. "active_users"
    title: str
    side: Side
    value: float | None
    unit: str
    definition: str
    reason: str = ""
    inputs: tuple[Input, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "value": self.value,
            "unit": self.unit,
            "definition": self.definition,
            "reason": self.reason,
            "inputs": [i.to_dict() for i in self.inputs],
        }
