"""Red team of plays 3 and 4: lena, the rollout lead, alone, who runs the gateway's host (a
colleague vouched for it with one command, `inhouse gateway vouch`, as the pilot's first member
in tests/pilot/gateway_days.py does) and so holds the gateway's key.

Play 4's ``pilot-independent-use`` reads the adoption report the gateway's key signs. A member
counts as reaching the tool on their own when the gateway signed requests of theirs on three
days of the window, one of them after their enablement finished and not the day they were
onboarded, and when they confirmed their own use on three days with their own key (`inhouse
usage confirm`, since the host's operator could seal rows in anyone's name).

What the walk found: the confirmations were held to the report's count only. Three members
tried the tool on the day lena onboarded them and the two days after, while she walked them
through it, then finished their enablement and never came back. Each confirmed, truthfully,
the three days they used it. The gateway's honest report says none of them is on their own
(*no use since enablement finished*); lena signed one with the gateway's key saying all three
are, each on three active days, and the check passed: its "independent" was the host's word on
the two terms the members' own confirmations did not speak to. Now the days a member confirmed
must include one on or after the day their enablement finished that is not the day they were
onboarded (exit rule 9, :data:`~inhouse.program.checks.CONFIRMED_TERMS`; a play 4 that exited
on such a report under the rules before keeps it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.gateway.rollup import service_program
from inhouse.pilot.adoption import COLLECTOR, record_adoption
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for, run_checks
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot, Use, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = {"bob": ("support", "support"), "pia": ("legal", "support"), "dora": ("finance", "analyst")}


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """Onboarded on 2 November (09:00 UTC), each member tries the tool with lena that day and
    the next two, and confirms those days with their own key (the fixture's members do, after
    each batch: `inhouse usage confirm`)."""
    made = start_pilot(_isolated, clock, TEAMS)
    made.use(Use(p, f"2026-11-0{d}T11:00") for p in TEAMS for d in (2, 3, 4))
    yield made
    made.lead.close()


def _independent_use(pilot: Pilot) -> tuple[Outcome, str]:
    lead = pilot.lead
    refs = [r for r in lead.playbook.play("pilot").exit if r.check == "pilot-independent-use"]
    (checked,) = run_checks(refs, context_for(lead.state(), lead.clock()))
    return checked.result.outcome, checked.result.reason


def _forged_report(lead: Program, as_of: str) -> None:
    """What the gateway host's operator signs alone: every member on their own, on three
    active days (as many as the members confirmed)."""
    members = [{"person": p, "active_days": 3, "independent": True, "reason": ""} for p in TEAMS]
    service_program(lead).record_fact(
        None,
        "pilot.adoption",
        {"as_of": as_of, "window_days": 28, "min_days": 3, "members": members},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def test_the_operators_report_of_use_before_enablement_does_not_pass(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-05T10:00")
    pilot.on("2026-11-06")
    _, honest = record_adoption(pilot.lead)  # what the gateway measures
    assert honest is not None
    assert not any(row["independent"] for row in honest.payload["members"])
    assert _independent_use(pilot)[0] is Outcome.FAIL
    _forged_report(pilot.lead, "2026-11-06")
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL, reason
    assert reason.startswith("0 of 3 pilot members reach it on their own"), reason
    assert "confirmed their own use on no day of the window since enablement finished " in reason
    assert "(2026-11-05) other than the day they were onboarded (2026-11-02)" in reason


def test_the_operators_report_of_a_member_never_enabled_does_not_pass(pilot: Pilot) -> None:
    pilot.on("2026-11-05")
    _forged_report(pilot.lead, "2026-11-05")
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL, reason
    assert "enablement (support) not finished when the report was recorded" in reason
    assert "enablement (analyst) not finished when the report was recorded" in reason


def test_use_confirmed_after_enablement_on_another_day_passes(pilot: Pilot) -> None:
    """The honest walk: enablement finished on the onboarding day, and two more days' use
    after it; the gateway's own report and the members' own confirmations agree."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.on("2026-11-05")
    record_adoption(pilot.lead)
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.PASS, reason
    assert reason.startswith("3 of 3 pilot members reach it on their own"), reason


def test_a_day_of_use_on_the_day_enablement_finished_counts(pilot: Pilot) -> None:
    """A confirmation names days, not times: the day the track was finished, not the
    onboarding day, is one (the report's rule, a request later that day, is the gateway's)."""
    for person in TEAMS:
        pilot.enable(person, "2026-11-04T10:00")
    pilot.on("2026-11-05")
    record_adoption(pilot.lead)
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.PASS, reason


@pytest.mark.parametrize(("rules", "kept"), [(8, True), (9, False)])
def test_an_exit_judged_on_such_a_report_before_rule_9_keeps_it(
    pilot: Pilot, rules: int, kept: bool
) -> None:
    """A play 4 that exited on such a report under the rules before (8) keeps its exit; one
    that says it was judged by rule 9 (or a report its exit did not name) never ran under them.
    """
    from dataclasses import replace

    from inhouse.program.checks import CONFIRMED_TERMS

    assert CONFIRMED_TERMS == 9
    for person in TEAMS:
        pilot.enable(person, "2026-11-05T10:00")
    pilot.on("2026-11-06")
    _forged_report(pilot.lead, "2026-11-06")
    lead = pilot.lead
    (report,) = [f for f in lead.state().facts if f.kind == "pilot.adoption"]
    ctx = context_for(lead.state(), lead.clock())
    exited = replace(
        ctx,
        exited={**ctx.exited, "pilot": (lead.clock(), report.id + 1)},
        judged={**ctx.judged, "pilot": frozenset({report.id})},
        exit_rules={**ctx.exit_rules, "pilot": rules},
    )
    refs = [r for r in lead.playbook.play("pilot").exit if r.check == "pilot-independent-use"]
    (checked,) = run_checks(refs, exited)
    assert (checked.result.outcome is Outcome.PASS) is kept, checked.result.reason
    # a report the exit did not name is today's rule's, whatever rules the exit says
    unnamed = replace(exited, judged={**ctx.judged, "pilot": frozenset()})
    (checked,) = run_checks(refs, unnamed)
    assert checked.result.outcome is Outcome.FAIL, checked.result.reason


def _list_again(pilot: Pilot, when: str) -> None:
    """The lead records each member added to the pilot again (on their track), at ``when``."""
    from tests.pilot.gateway_days import at

    pilot.clock.now = at(when)
    for person, track in pilot.tracks.items():
        pilot.lead.record_fact(
            None,
            "pilot.member",
            {"person": person, "track": track, "action": "added"},
            provenance=Provenance.MEASURED,
            collector="inhouse pilot",
        )


def test_listing_a_member_again_frees_no_day_they_were_onboarded(pilot: Pilot) -> None:
    """The forgery: each member was listed (again) on 4 November, walked through their track
    by lena that morning, and used it that day, their only day since; the report's rule left
    that day out as the day they were onboarded, so no member was on their own. lena alone
    lists them again the next day: their latest listing moved, and the onboarding day their
    own confirmations named counted as a day on their own. Every day they were listed before
    the report is a day they were onboarded."""
    _list_again(pilot, "2026-11-04T09:00")
    for person in TEAMS:
        pilot.enable(person, "2026-11-04T10:00")
    pilot.on("2026-11-05")
    _forged_report(pilot.lead, "2026-11-05")
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL, reason
    _list_again(pilot, "2026-11-05T09:00")
    pilot.on("2026-11-05")
    _forged_report(pilot.lead, "2026-11-05")
    outcome, reason = _independent_use(pilot)
    assert outcome is Outcome.FAIL, reason
    assert "other than a day they were onboarded (2026-11-02, 2026-11-04, 2026-11-05)" in reason


@pytest.mark.parametrize(("rules", "kept"), [(11, True), (12, False)])
def test_an_exit_judged_on_a_relisting_before_rule_12_keeps_it(
    pilot: Pilot, rules: int, kept: bool
) -> None:
    """A play 4 that exited on such a report under rules 9 to 11 (the latest listing read)
    keeps its exit; one judged by rule 12 never ran under them."""
    from dataclasses import replace

    from inhouse.program.checks import EVERY_ONBOARDING

    assert EVERY_ONBOARDING == 12
    _list_again(pilot, "2026-11-04T09:00")
    for person in TEAMS:
        pilot.enable(person, "2026-11-04T10:00")
    _list_again(pilot, "2026-11-05T09:00")
    pilot.on("2026-11-05")
    _forged_report(pilot.lead, "2026-11-05")
    lead = pilot.lead
    (report,) = [f for f in lead.state().facts if f.kind == "pilot.adoption"]
    ctx = context_for(lead.state(), lead.clock())
    exited = replace(
        ctx,
        exited={**ctx.exited, "pilot": (lead.clock(), report.id + 1)},
        judged={**ctx.judged, "pilot": frozenset({report.id})},
        exit_rules={**ctx.exit_rules, "pilot": rules},
    )
    refs = [r for r in lead.playbook.play("pilot").exit if r.check == "pilot-independent-use"]
    (checked,) = run_checks(refs, exited)
    assert (checked.result.outcome is Outcome.PASS) is kept, checked.result.reason
