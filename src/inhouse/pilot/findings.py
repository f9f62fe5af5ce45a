"""Findings: what the pilot taught (docs to harden, prompts to add, a workflow or the baseline to
change), each a person's own signed word. Anyone enrolled records one; nobody records one in
someone else's name. Play 4 hands them on with the champions and the library export.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

from inhouse.errors import InvalidInput
from inhouse.plaintext import check_plain
from inhouse.program.facts import Fact, PilotFinding

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.program import Program

__all__ = ["FINDING_KINDS", "Finding", "list_findings", "record_finding"]

FINDING_KINDS: tuple[str, ...] = get_args(PilotFinding.model_fields["kind"].annotation)


@dataclass(frozen=True)
class Finding:
    id: int
    day: str
    by: str
    kind: str
    finding: str
    note: str  # the comment it was recorded with, where it says more than the finding

    @classmethod
    def of(cls, fact: Fact) -> Finding:
        text = str(fact.payload["finding"])
        note = fact.comment or ""
        return cls(
            id=fact.id,
            day=fact.at.date().isoformat(),
            by=f"{fact.by} on behalf of {fact.on_behalf_of}" if fact.on_behalf_of else fact.by,
            kind=str(fact.payload["kind"]),
            finding=text,
            note="" if note == text else note,
        )


def record_finding(program: Program, text: str, *, kind: str = "other", note: str = "") -> Fact:
    """Record a finding in the acting person's own signed word."""
    finding = check_plain(text, what="the finding").strip()
    check_plain(note, what="the note")
    if not finding:
        raise InvalidInput("a finding says what the pilot taught: it cannot be empty")
    if kind not in FINDING_KINDS:
        raise InvalidInput(f"a finding's kind is one of {', '.join(FINDING_KINDS)}, not {kind!r}")
    return program.attest(
        None, "pilot.finding", {"finding": finding, "kind": kind}, note.strip() or finding
    )


def list_findings(program: Program, now: datetime | None = None) -> list[Finding]:
    """The findings live at ``now`` (default: the clock's), oldest first (one a lead recorded
    on someone's behalf says so)."""
    state = program.state()
    live = state.live_facts(program.clock() if now is None else now)
    return [Finding.of(fact) for fact in live.of("pilot.finding")]
