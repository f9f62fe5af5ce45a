"""Evaluate a play's trigger and exit checks against the folded state, and hash the evidence a
handoff acceptance is bound to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from inhouse.program.checks import CheckContext, Outcome, Result, evaluate
from inhouse.program.events import canonical_json
from inhouse.program.playbook import CheckRef, Play
from inhouse.program.state import ProgramState

__all__ = [
    "CheckedRef",
    "context_for",
    "describe_missing",
    "evidence_hash",
    "exit_results",
    "failing",
    "run_checks",
    "satisfied",
    "trigger_results",
]


@dataclass(frozen=True)
class CheckedRef:
    ref: CheckRef
    result: Result


def context_for(state: ProgramState, now: datetime) -> CheckContext:
    return CheckContext(
        facts=state.live_facts(now), people=state.people, owners=state.owners, now=now
    )


def run_checks(refs: list[CheckRef], base: CheckContext) -> list[CheckedRef]:
    return [CheckedRef(ref, evaluate(ref.check, base.with_params(ref.params))) for ref in refs]


def satisfied(checked: list[CheckedRef]) -> bool:
    """The weakest link: every check must pass (or not apply). Never an average."""
    return all(item.result.outcome.satisfied for item in checked)


def evidence_hash(checked: list[CheckedRef]) -> str:
    """What an acceptance saw: each exit check's outcome and the facts it rested on."""
    material = [
        [item.ref.check, item.result.outcome.value, sorted(f.id for f in item.result.evidence)]
        for item in checked
    ]
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


def exit_results(play: Play, state: ProgramState, now: datetime) -> list[CheckedRef]:
    return run_checks(play.exit, context_for(state, now))


def trigger_results(play: Play, state: ProgramState, now: datetime) -> list[CheckedRef]:
    return run_checks(play.trigger, context_for(state, now))


def failing(checked: list[CheckedRef]) -> list[CheckedRef]:
    return [item for item in checked if not item.result.outcome.satisfied]


def describe_missing(checked: list[CheckedRef]) -> list[str]:
    """One line per unsatisfied check: its deliverable and why it is not there."""
    lines = []
    for item in failing(checked):
        label = "needs a person" if item.result.outcome is Outcome.INCONCLUSIVE else "missing"
        lines.append(f"{item.ref.title} ({label}: {item.result.reason})")
    return lines
