"""A pilot member the adoption report signs as reaching the tool on their own, whose own
confirmed days do not bear it out (exit rule 9), is set aside by play 4's
``pilot-independent-use``: their part (use it on days of their own since enablement, and
confirm them) is theirs. ``inhouse status`` took the report's word and told them nothing: the
forgery (lena, running the gateway's host, signs all three on their own) left the members
without a step and the play standing still. The pilot is the real one of
tests/test_redteam34.py (gateway, each member's own key and confirmations)."""

from __future__ import annotations

from inhouse.program.checks import Outcome
from tests.next_steps_support import running, steps_by_person
from tests.pilot.gateway_days import Pilot
from tests.test_redteam34 import TEAMS, _forged_report, _independent_use, pilot

__all__ = ["pilot"]  # the fixture: onboarded on 2 November, used that day and the next two


def test_a_member_the_report_overstates_is_told_their_part(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-05T10:00")
    pilot.on("2026-11-06")
    _forged_report(pilot.lead, "2026-11-06")
    outcome, reason = _independent_use(pilot)
    assert outcome is not Outcome.PASS, reason
    status = running(pilot.lead, "pilot", "lena", "pilot-independent-use")
    steps = steps_by_person(pilot.lead, status)
    for person in TEAMS:
        (text,) = steps[person]
        assert "your part: use the tool through your own gateway key on 3 days" in text, text
        assert "(the report's word does not count: " in text, text
