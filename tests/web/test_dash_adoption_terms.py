"""The dashboard's pilot page against the adoption report the gateway's operator signs alone.
The page shows the latest signed ``pilot.adoption`` as "what play 4 counts": *3 of 3 members
reach it on their own*. But a row's "independent" is its signer's word, and lena runs the
gateway's host: play 4's ``pilot-independent-use`` sets aside a member whose own confirmed days
do not bear it out (exit rule 9, ``CONFIRMED_TERMS``: a day since their enablement finished that
is not the day they were onboarded), while the page showed the operator's word. An owner who
reads the page to decide read 3 of 3 where play 4 counted 0. The page now counts the members as
the check does, with its reason (tests/test_redteam34.py walks the check itself).
"""

from __future__ import annotations

import pytest

from inhouse.pilot.adoption import record_adoption
from inhouse.web.pages import pilot_page
from tests.pilot.gateway_days import Pilot, Use
from tests.test_redteam34 import TEAMS, _forged_report, _independent_use, pilot

pytestmark = pytest.mark.usefixtures("on_database")

__all__ = ["pilot"]  # the fixture: onboarded on 2 November, used that day and the next two


def test_the_operators_word_is_not_shown_as_what_play_4_counts(pilot: Pilot) -> None:
    """The forgery: enabled on 5 November, never back; lena signs all three on their own."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-05T10:00")
    pilot.on("2026-11-06")
    _forged_report(pilot.lead, "2026-11-06")
    _, reason = _independent_use(pilot)
    assert reason.startswith("0 of 3 pilot members reach it on their own"), reason
    shown = pilot_page(pilot.lead)["adoption"]
    assert shown["independent"] == 0, shown
    for row in shown["members"]:
        assert not row["independent"], row
        assert "confirmed their own use on no day of the window since enablement" in row["reason"]


def test_members_who_confirmed_use_after_enablement_show_as_counted(pilot: Pilot) -> None:
    """The honest path: enabled on the onboarding day, back on two more days, each confirmed;
    the gateway's own report counts them, and so does the page, as the check does."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T15:00")
    pilot.use(Use(p, f"2026-11-0{d}T11:00") for p in TEAMS for d in (5, 6))
    pilot.on("2026-11-07")
    _, fact = record_adoption(pilot.lead)
    assert fact is not None
    _, reason = _independent_use(pilot)
    assert reason.startswith("3 of 3 pilot members reach it on their own"), reason
    assert pilot_page(pilot.lead)["adoption"]["independent"] == 3
