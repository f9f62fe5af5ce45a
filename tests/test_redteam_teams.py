"""Red team: one team's name written three ways is three teams to play 4's spread (and one
ticket written three ways three tasks to play 1's trial).

pilot-size wants five to ten members from at least three teams, and counts a member's team only
where the lead's roster and the member's own word (`inhouse pilot team TEAM`, with their key)
agree. lena has five real colleagues, all in ops. She lists them under "ops", "ops" with a
zero-width space after it, and "ops" with a Cyrillic o, and sends each the command to paste
(one harmless-looking favour: `inhouse pilot team ops`, as her message shows it). Roster and
word agree, every page shows "ops", and the spread counted three teams: it folded only case
and spaces. A team now counts by how its name reads (:func:`inhouse.plaintext.reading`). A
pilot whose play 4 exited before that (rules below :data:`TEAM_READING`) keeps the count it
exited on, for the members it was judged on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inhouse.program.checks import TEAM_READING, Outcome, Person, evaluate
from inhouse.program.facts import Fact
from inhouse.trials.plan import plan_trial
from tests.test_exit_scope import LIMITS, added, context, lead_and_owner, person, says
from tests.trials.test_prove import COST, program, write_inputs, write_trial  # noqa: F401

#: "ops" as the pilot's five members read it, written three ways
OPS = ["ops", "ops\u200b", "\u043eps", "ops", "\uff4fps"]


def _pilot(teams: list[str]) -> tuple[dict[str, Person], list[Fact]]:
    people = lead_and_owner()
    facts: list[Fact] = []
    for i, team in enumerate(teams):
        people[f"p{i}"] = person(f"p{i}", team, "pilot-user")
        facts += [added(f"p{i}", team), says(f"p{i}", team)]
    return people, facts


def test_one_team_written_three_ways_is_one_team() -> None:
    people, facts = _pilot(OPS)
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "spans 1 team" in result.reason, result.reason


def test_three_teams_are_still_three() -> None:
    people, facts = _pilot(["ops", "HR", "sales", "Ops ", "hr"])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.PASS, result.reason
    assert "5 members across 3 teams" in result.reason


@pytest.mark.parametrize(
    ("rules", "outcome"), [(TEAM_READING - 1, Outcome.PASS), (TEAM_READING, Outcome.FAIL)]
)
def test_an_exit_judged_before_teams_were_read_keeps_its_count(
    rules: int, outcome: Outcome
) -> None:
    """A recorded exit keeps its verdict: play 4 exited (under the rules before TEAM_READING)
    on these members, so their teams count as they were counted then; an exit made under this
    rule counts them as they read."""
    people, facts = _pilot(OPS)
    exited = {"pilot": (facts[-1].at, facts[-1].id)}
    ctx = replace(context(facts, people, exited, **LIMITS), exit_rules={"pilot": rules})
    result = evaluate("pilot-size", ctx)
    assert result.outcome is outcome, result.reason


# -- play 1's trial: a ticket copied with a character nobody reads is the same ticket -------------


def test_a_ticket_copied_with_an_invisible_or_lookalike_letter_is_one_task(
    program: Path,  # noqa: F811
) -> None:
    """Five copies of one ticket are refused as one task (tests/test_redteam13.py); lena's
    copies put a zero-width space inside a word, a Cyrillic e or fullwidth letters in it: a
    model (and the colleague who reruns the trial) reads the same ticket, but the words
    compared held other letters, so each copy was a distinct task and narrowed every interval.
    They read alike now; tickets that differ in what they say still differ."""
    text = "The printer on floor 2 jams on every duplex job"
    rows = [
        {"id": "T-1", "text": text},
        {"id": "T-2", "text": text.replace("printer", "prin\u200bter")},
        {"id": "T-3", "text": text.replace("every", "\u0435very")},
        {"id": "T-4", "text": text.replace("jams", "\uff4a\uff41\uff4d\uff53")},
        {"id": "T-5", "text": text.replace("duplex", "dup\u00adlex")},  # a soft hyphen
        {"id": "T-6", "text": "The printer on floor 3 jams on every duplex job"},
    ]
    write_inputs(program, rows)
    write_trial(program, {"kind": "api", "url": "http://127.0.0.1:9", "model": "m",
                          "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0},
                candidate={"url": "http://127.0.0.1:9", "cost": COST})  # fmt: skip
    repeated = plan_trial(program, "tickets").repeated
    assert [(a.id, b.id) for a, b in repeated] == [("T-2", "T-1"), ("T-3", "T-1"),
                                                   ("T-4", "T-1"), ("T-5", "T-1")]  # fmt: skip
