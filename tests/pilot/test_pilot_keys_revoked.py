"""Play 4's outcomes with the organisation's sign-in set up: revoking a member's key after
reading what they said does not take it out of the count.

A sign-in's binding holds while a key that signed in with it is active, so a member whose
every key a lead revoked is no longer signed in, and was set aside as one who never was a
member: the lead read the signed answers, revoked a detractor's key (one command, nobody else
signs) and 3 of 6 became 3 of 5. A red team proved it for the survey and the adoption report;
a member whose sign-in was released is gone from the pilot now, and counted as measured then.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.pilot.adoption import record_adoption
from inhouse.pilot.survey import answer_survey, open_survey
from inhouse.program.checks import Outcome
from tests.conftest import Clock
from tests.gateway.test_vouch import _vouch
from tests.pilot.gateway_days import SIX, Pilot, Use, at, exit_check, signed_in_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = SIX
KEEN = {"bob", "pia", "dora"}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        made.signs = True  # an answer counts from use the gateway signed
        yield made


def test_revoking_a_detractors_key_leaves_their_answer_counted(pilot: Pilot) -> None:
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-30T17:00"))
    for person in TEAMS:
        answer_survey(pilot.people[person], "very" if person in KEEN else "not")
    pilot.clock.now = at("2026-11-17T09:00")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    pilot.lead.revoke_key(pilot.people["carl"].key.key_id)  # the lead alone
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "counting carl" in reason
    # and a new survey over the pilot left hears carl as he answered the first
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS.keys() - {"carl"} for d in (24, 26))
    pilot.clock.now = at("2026-12-01T09:00")
    open_survey(pilot.lead, at("2026-12-10T17:00"))
    for person in TEAMS.keys() - {"carl"}:
        answer_survey(pilot.people[person], "very" if person in KEEN else "not")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "counting carl as they answered an earlier survey while in the pilot" in reason


def test_revoking_a_members_key_after_the_report_leaves_their_row_counted(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in KEEN for d in (3, 4, 5))
    pilot.on("2026-11-06")
    _, report = record_adoption(pilot.lead)
    assert report is not None
    # an honest member vouches for the gateway's host through the real gateway (start_pilot
    # has bob vouch already, its request stood in; what makes its figures count)
    assert not isinstance(_vouch(pilot.people["bob"], pilot.folder, pilot.clock), Exception)
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    pilot.lead.revoke_key(pilot.people["carl"].key.key_id)
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "though no longer members: carl" in reason
