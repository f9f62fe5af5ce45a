"""Red team: one team's name written three ways is three teams to play 4's spread.

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

import pytest

from inhouse.program.checks import Outcome, Person, evaluate
from inhouse.program.facts import Fact
from tests.test_exit_scope import LIMITS, added, context, lead_and_owner, person, says

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
    assert "spans 1 team(s)" in result.reason, result.reason


def test_three_teams_are_still_three() -> None:
    people, facts = _pilot(["ops", "HR", "sales", "Ops ", "hr"])
    result = evaluate("pilot-size", context(facts, people, {}, **LIMITS))
    assert result.outcome is Outcome.PASS, result.reason
    assert "5 members across 3 teams" in result.reason


@pytest.mark.parametrize(("rules", "outcome"), [(4, Outcome.PASS), (5, Outcome.FAIL)])
def test_an_exit_judged_before_teams_were_read_keeps_its_count(
    rules: int, outcome: Outcome
) -> None:
    """A recorded exit keeps its verdict: play 4 exited (under rules 4) on these members, so
    their teams count as they were counted then; an exit made under this rule counts them as
    they read."""
    people, facts = _pilot(OPS)
    exited = {"pilot": (facts[-1].at, facts[-1].id)}
    ctx = replace(context(facts, people, exited, **LIMITS), exit_rules={"pilot": rules})
    result = evaluate("pilot-size", ctx)
    assert result.outcome is outcome, result.reason
