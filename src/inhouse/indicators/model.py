"""What an indicators report is made of: indicators (a value, its unit and definition, or the
reason it has none) and, for lagging ones, every input with its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["CostsWord", "Indicator", "Input", "Side"]

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
class CostsWord:
    """Whose word the costs a money figure rests on are: those play 1's trial's author typed
    (the status quo's prices or hourly cost, the candidate's hardware and power), confirmed by
    the colleague who reran the trial (``confirmed_by``, in ``rerun_fact``, as play 2's
    ``trial-reproduced`` counts it), or the author's word alone."""

    trial: str
    trial_fact: int
    author: str
    confirmed_by: str | None = None
    rerun_fact: int | None = None
    comment: str = ""
    claimed_cheaper: bool = True

    @property
    def short(self) -> str:
        """The label beside the figure."""
        if self.confirmed_by is not None:
            return f"costs confirmed by {self.confirmed_by}"
        return f"costs: {self.author}'s word alone"

    @property
    def label(self) -> str:
        """The sentence saying whose word the costs are, and what would change it."""
        typed = (
            f"costs typed by trial {self.trial}'s author, {self.author} (trial.verdict "
            f"#{self.trial_fact})"
        )
        if self.confirmed_by is not None:
            return (
                f"{typed}, confirmed by {self.confirmed_by}, who reran the trial with their own "
                f"key (trial.rerun #{self.rerun_fact}; their word: {self.comment})"
            )
        if not self.claimed_cheaper:
            return (
                f"{typed}: their word alone (the trial claimed no 'cheaper', so no rerun "
                "confirmed its costs)"
            )
        return (
            f"{typed}: their word alone, which no colleague who reran the trial confirmed "
            f"(`inhouse prove {self.trial} --rerun --confirm-costs COMMENT`)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "trial_fact": self.trial_fact,
            "author": self.author,
            "confirmed_by": self.confirmed_by,
            "rerun_fact": self.rerun_fact,
            "comment": self.comment,
            "short": self.short,
            "label": self.label,
        }


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
    #: whose word the typed costs it rests on are (a money figure priced from play 1's trial)
    costs: CostsWord | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "value": self.value,
            "unit": self.unit,
            "definition": self.definition,
            "reason": self.reason,
            "inputs": [i.to_dict() for i in self.inputs],
            "costs": None if self.costs is None else self.costs.to_dict(),
        }
