"""Play 4's outcomes hear everyone the pilot held, whenever they joined, whatever they became.

A second red team (the lead alone, the organisation's sign-in set up) found five ways around
the rule that a member removed since still counts as they answered: a pilot listed before play
4 started was never "former"; a survey name opened again moved the first one's answers out of
its window; a detractor made play 4's owner became "never a member"; and a removed member's
old adoption row froze a better month. Each now fails as the honest count does; the control
shows the lapsed pilot failing without any removal.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.pilot.adoption import adoption_report, record_adoption
from inhouse.pilot.roster import remove_member
from inhouse.pilot.survey import answer_survey, open_survey
from inhouse.program import Program, Provenance
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


def _waive_into_play_four(lead: Program) -> None:
    """Play 4 started early, on the lead's own waivers (the forgeries' way in)."""
    for guard in ("botched-handoff", "calendar-driven-advance"):
        lead.grant_waiver(
            None,
            guard,
            play="pilot",
            reason="time-boxed-experiment",
            note="started early",
            expires=lead.clock() + timedelta(days=90),
        )


def _start_play_four(pilot: Pilot) -> None:
    _waive_into_play_four(pilot.lead)
    pilot.lead.start_play(None, "pilot")


def _answer_all(pilot: Pilot, who: Iterable[str]) -> None:
    for person in who:
        answer_survey(pilot.people[person], "very" if person in KEEN else "not")


def test_members_listed_before_play_four_started_still_count_once_removed(pilot: Pilot) -> None:
    """The pilot was listed before the lead started play 4 (the fixture's order): a detractor
    removed after answering, then a new survey: still 3 of 6."""
    pilot.clock.now = at("2026-11-09T09:00")
    _start_play_four(pilot)  # after the members were added (2 Nov)
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    _answer_all(pilot, TEAMS)
    pilot.clock.now = at("2026-11-21T09:00")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    remove_member(pilot.lead, "carl")
    pilot.clock.now = at("2026-11-23T09:00")
    open_survey(pilot.lead, at("2026-11-30T17:00"))
    _answer_all(pilot, TEAMS.keys() - {"carl"})
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert exit_check(pilot, "pilot-size")[0] is Outcome.PASS


def test_a_survey_name_opened_again_keeps_the_first_ones_answers(pilot: Pilot) -> None:
    """The lead reads ellis-1, removes carl, appends a short survey.opened named ellis-1 again
    with her own key, lets it close, then opens another: carl's ellis-1 answer is carried."""
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    _answer_all(pilot, TEAMS)
    pilot.clock.now = at("2026-11-21T09:00")
    remove_member(pilot.lead, "carl")
    pilot.lead.record_fact(None, "survey.opened",
                           {"survey": "ellis-1", "closes": "2026-11-21T10:00:00+00:00"},
                           provenance=Provenance.MEASURED, collector="inhouse survey")  # fmt: skip
    pilot.clock.now = at("2026-11-23T09:00")
    s = open_survey(pilot.lead, at("2026-11-30T17:00"))
    assert s.name != "ellis-1"
    _answer_all(pilot, TEAMS.keys() - {"carl"})
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason


def _vouched(pilot: Pilot) -> None:
    # an honest member vouches for the gateway's host through the real gateway (start_pilot
    # has bob vouch already, its request stood in; what makes any adoption report count)
    assert not isinstance(_vouch(pilot.people["bob"], pilot.folder, pilot.clock), Exception)


def test_a_report_counts_members_listed_before_play_four_started(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.clock.now = at("2026-11-02T12:00")
    _start_play_four(pilot)
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in KEEN for d in (3, 4, 5))
    pilot.on("2026-11-06")
    _, first = record_adoption(pilot.lead)
    assert first is not None
    _vouched(pilot)
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    remove_member(pilot.lead, "carl")
    pilot.use(Use(p, "2026-11-07T10:00") for p in KEEN)
    pilot.on("2026-11-08")
    _, second = record_adoption(pilot.lead)
    assert second is not None
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason


def test_removing_a_lapsed_member_does_not_freeze_their_old_row(pilot: Pilot) -> None:
    """All six were independent in November; carl, eve and fay stopped. Measured now, 3 of 6
    fail. The lead removes carl before recording: he counts, not independent in this window
    (his November row would have made it 4 of 6)."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in TEAMS for d in (3, 4, 5))
    pilot.on("2026-11-06")
    _, first = record_adoption(pilot.lead)
    assert first is not None
    _vouched(pilot)
    assert exit_check(pilot, "pilot-independent-use")[0] is Outcome.PASS
    # January: only the keen three still use it
    pilot.use(Use(p, f"2027-01-{d:02d}T10:00") for p in KEEN for d in (10, 11, 12))
    pilot.on("2027-01-13")
    remove_member(pilot.lead, "carl")
    _, second = record_adoption(pilot.lead)
    assert second is not None
    rows = {r["person"]: r for r in second.payload["members"]}
    assert "carl" not in rows and not rows["eve"]["independent"]
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "counted as not independent, removed from the pilot within this report" in reason
    assert exit_check(pilot, "pilot-size")[0] is Outcome.PASS


def test_control_without_removal_the_lapsed_pilot_fails(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in TEAMS for d in (3, 4, 5))
    pilot.on("2026-11-06")
    record_adoption(pilot.lead)
    _vouched(pilot)
    pilot.use(Use(p, f"2027-01-{d:02d}T10:00") for p in KEEN for d in (10, 11, 12))
    pilot.on("2027-01-13")
    record_adoption(pilot.lead)
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason


def test_a_detractor_made_play_fours_owner_still_counts(pilot: Pilot) -> None:
    """The survey runs before play 4 starts; the lead reads it and starts play 4 with carl as
    its owner: carl is judged from then on, but what he said before still counts."""
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    _answer_all(pilot, TEAMS)
    pilot.clock.now = at("2026-11-21T09:00")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    lead = pilot.lead
    lead.change_roles(None, "carl", add=["rollout-lead"])
    _waive_into_play_four(lead)
    lead.start_play(None, "pilot", owner="carl")
    lead.change_roles(None, "carl", remove=["rollout-lead"])  # and straight back
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert exit_check(pilot, "pilot-size")[0] is Outcome.PASS


def test_removing_a_non_user_seen_in_the_figures_before_any_report_changes_nothing(
    pilot: Pilot,
) -> None:
    """A third red team: the lead reads the figures without recording them, removes a member
    who does not use it, then records the first report: a member removed within the report's
    window counts, not independent, whether or not a report measured them before."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in KEEN for d in (3, 4, 5))
    pilot.on("2026-11-06")
    preview = adoption_report(pilot.lead)  # nothing recorded
    assert sorted(set(TEAMS) - set(preview.independent)) == ["carl", "eve", "fay"]
    remove_member(pilot.lead, "carl")
    _, report = record_adoption(pilot.lead)
    assert report is not None
    _vouched(pilot)
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "removed from the pilot within this report's window: carl" in reason
    # removed before the window of a later report began, he is out of the pilot it measures
    pilot.use(Use(p, f"2026-12-{d:02d}T10:00") for p in {*KEEN, "eve"} for d in (10, 11, 12))
    pilot.on("2026-12-13")
    _, later = record_adoption(pilot.lead)
    assert later is not None
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.PASS and reason.startswith("4 of 5"), reason


def test_a_member_removed_the_day_before_a_report_s_window_is_not_in_it(pilot: Pilot) -> None:
    """A report's window is its ``window_days`` days ending on its as_of, both ends included
    (inhouse.pilot.adoption): a member removed the day before its first day was not in the pilot
    it measured, and is not counted against it as "removed within this report's window" (an
    honest lead who removed carl on 6 November is held to him by a report as of 3 December,
    whose window starts that day, and not by one as of the 4th, whose window starts on the
    7th)."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in KEEN for d in (3, 4, 5))
    pilot.on("2026-11-06")
    remove_member(pilot.lead, "carl")
    _vouched(pilot)
    pilot.use(Use(p, f"2026-12-0{d}T10:00") for p in KEEN for d in (1, 2, 3))
    # removed on the window's first day, he was in the pilot it measured: not independent
    pilot.on("2026-12-03")
    _, report = record_adoption(pilot.lead)
    assert report is not None
    assert report.payload["as_of"] == "2026-12-03" and report.payload["window_days"] == 28
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "removed from the pilot within this report's window: carl" in reason
    # the next day's report measured a window he left before
    pilot.use([Use("bob", "2026-12-04T10:00")])
    pilot.on("2026-12-04")
    _, report = record_adoption(pilot.lead)
    assert report is not None and report.payload["as_of"] == "2026-12-04"
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert "carl" not in reason, reason
    assert outcome is Outcome.PASS and reason.startswith("3 of 5"), reason
