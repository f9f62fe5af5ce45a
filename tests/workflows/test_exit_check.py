"""A test run carries the engine's own verdict on play 3's "someone other than the author", read
from the status shape docs/json.md pins, so no command works that rule out a second time."""

from __future__ import annotations

from typing import Any

from inhouse.workflows import RUN_BY_OTHER, ExitCheck
from inhouse.workflows.runner import exit_check


class _Program:
    """Only what exit_check reads: ``status()`` in the documented ``status --json`` shape."""

    def __init__(self, plays: list[dict[str, Any]]) -> None:
        self._plays = plays

    def status(self) -> dict[str, Any]:
        return {"schema": 1, "plays": self._plays}


def _check(name: str, outcome: str, reason: str) -> dict[str, Any]:
    return {"check": name, "title": "", "outcome": outcome, "reason": reason, "basis": None,
            "evidence": [], "waived_by": []}  # fmt: skip


def test_the_started_play_that_checks_it_answers() -> None:
    reason = "no passing run of workflow summary by anyone but its author (omar)"
    program = _Program([
        {"number": 2, "exit": [_check("second-person-verified", "pass", "pia verified")]},
        {"number": 3, "exit": [_check("workflow-pinned", "pass", "pinned"),
                               _check(RUN_BY_OTHER, "fail", reason)]},
    ])  # fmt: skip
    assert exit_check(program, RUN_BY_OTHER) == ExitCheck(3, RUN_BY_OTHER, "fail", reason)


def test_nothing_to_say_before_the_play_starts() -> None:
    program = _Program([{"number": 3, "exit": None}, {"number": 4, "exit": []}])
    assert exit_check(program, RUN_BY_OTHER) is None
