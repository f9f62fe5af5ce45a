"""Play 4's outcomes are judged over the pilot they measured, by the surveys and reports of
their own time, from a gateway on a host of its own: what a rollout lead can no longer do alone.

Each forgery here passed its check before (a red team proved them): removing the members who
answered "not disappointed" after reading their signed answers; taking a co-lead's role away
so the check falls back to an older, kinder survey; recording today an adoption report "as of"
last month's peak; and a co-lead enrolling the gateway's key on the lead's own laptop, or the
lead enrolling a key of her own from the gateway's host after it. Each is refused now.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.identity import SigningKey
from inhouse.pilot.adoption import COLLECTOR, record_adoption
from inhouse.pilot.roster import remove_member
from inhouse.pilot.survey import answer_survey, open_survey
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.counting import build_context
from inhouse.program.people import PeopleMixin
from tests.conftest import ENROL_SERVICE_HERE, Clock
from tests.people import enrol
from tests.pilot.gateway_days import SIX, Pilot, Use, at, exit_check, start_pilot

pytestmark = pytest.mark.usefixtures("on_database")

TEAMS = SIX


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    made = start_pilot(_isolated, clock, TEAMS)
    made.signs = True  # an answer counts from use the gateway signed
    yield made
    made.lead.close()


def _survey(pilot: Pilot, by: Program, opens: str, closes: str, keen: set[str]) -> None:
    pilot.clock.now = at(opens)
    open_survey(by, at(closes))
    for person in TEAMS:
        answer_survey(pilot.people[person], "very" if person in keen else "not")


def test_removing_who_answered_no_after_the_survey_opened_changes_nothing(pilot: Pilot) -> None:
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    _survey(pilot, pilot.lead, "2026-11-16T09:00", "2026-11-30T17:00", {"bob", "pia", "dora"})
    pilot.clock.now = at("2026-11-17T09:00")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    remove_member(pilot.lead, "carl")  # read the signed answers, removed a detractor
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL, reason
    assert reason.startswith("3 of 6 pilot members would be very disappointed to lose it")
    assert "(counting carl, removed from the pilot since the survey opened)" in reason
    assert exit_check(pilot, "pilot-size")[0] is Outcome.PASS  # the roster itself is the lead's


def test_removing_who_was_not_independent_after_the_report_changes_nothing(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in ("bob", "pia", "dora") for d in (3, 4, 5))
    pilot.on("2026-11-06")
    _, report = record_adoption(pilot.lead)
    assert report is not None
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    remove_member(pilot.lead, "carl")
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "counted as the report measured them, though no longer members: carl" in reason


def test_a_survey_counts_as_its_opener_held_the_role_then(pilot: Pilot) -> None:
    lead = pilot.lead
    pilot.clock.now = at("2026-11-03T09:00")
    cal = enrol(lead, "cal", team="platform", roles=["rollout-lead"], machine="cal-laptop")
    pilot.use(Use(p, f"2026-11-{d:02d}T10:00") for p in TEAMS for d in (10, 12))
    _survey(pilot, lead, "2026-11-13T09:00", "2026-11-14T17:00", set(TEAMS))
    pilot.use(Use(p, f"2026-12-{d:02d}T10:00") for p in TEAMS for d in (10, 12))
    _survey(pilot, cal, "2026-12-13T09:00", "2026-12-20T17:00", set())
    pilot.clock.now = at("2026-12-21T09:00")
    assert exit_check(pilot, "pilot-would-resist-losing")[0] is Outcome.FAIL
    lead.change_roles(None, "cal", remove=["rollout-lead"])  # the co-lead's survey "never was"
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL and reason.startswith("0 of 6"), reason


def test_a_report_as_of_an_old_peak_does_not_count(pilot: Pilot) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    pilot.use(Use(p, f"2026-11-{d:02d}T10:00") for p in TEAMS for d in (3, 4, 5, 6))
    pilot.on("2027-02-27")
    _, honest = record_adoption(pilot.lead)  # nobody used it in the last 28 days
    assert honest is not None
    assert exit_check(pilot, "pilot-independent-use")[0] is Outcome.FAIL
    with pytest.raises(InvalidInput, match=r"--as-of 2026-11-10 is more than 1 day before today"):
        record_adoption(pilot.lead, date(2026, 11, 10))
    # signed with the gateway's key around the command: set aside, saying why
    from inhouse.gateway.rollup import service_program

    peak = dict(honest.payload, as_of="2026-11-10", members=[
        {"person": p, "active_days": 4, "independent": True} for p in TEAMS])  # fmt: skip
    service_program(pilot.lead).record_fact(
        None, "pilot.adoption", peak, provenance=Provenance.MEASURED, collector=COLLECTOR
    )
    context = build_context(pilot.lead.state(), pilot.lead.clock())
    (why,) = [u.why for u in context.uncounted if u.fact.kind == "pilot.adoption"]
    assert why.startswith("its as_of 2026-11-10 is more than 1 day before the day it was")
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is not Outcome.PASS and reason.startswith("0 of 6"), reason


def _forged() -> dict:
    rows = [{"person": p, "active_days": 3, "independent": True} for p in TEAMS]
    return {"as_of": "2026-11-06", "window_days": 28, "min_days": 3, "members": rows}


def _service_why(pilot: Pilot) -> list[str]:
    """Why the adoption reports count for nobody (the members' own confirmation of their days,
    which trims a report per person, is another rule)."""
    context = build_context(pilot.lead.state(), pilot.lead.clock())
    reports = [u.why for u in context.uncounted if u.fact.kind == "pilot.adoption"]
    return [why for why in reports if not why.startswith("not confirmed by")]


def _vouch(person: Program, service: Program) -> None:
    """``person`` (a member who never led) vouches for ``service``'s host, as `inhouse gateway
    vouch` records it for the gateway's: the service's key signed a fresh nonce on its host."""
    from inhouse.gateway.vouch import COLLECTOR as VOUCH
    from inhouse.identity.hosts import host_challenge

    state = person.state()
    name, nonce = service.whoami().name, "0" * 32
    signature = service.key.sign(host_challenge(state.program_id, name, nonce))
    person.record_fact(
        None, "service.vouched",
        {"service": name, "key_id": service.key.key_id, "url": "http://usage-bot.test",
         "nonce": nonce, "signature": signature},
        provenance=Provenance.MEASURED, collector=VOUCH,
    )  # fmt: skip


def test_a_co_lead_enrolling_the_gateway_on_the_leads_laptop_measures_nothing(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    pilot.on("2026-11-06")
    cal = enrol(pilot.lead, "cal", team="platform", roles=["rollout-lead"], machine="cal-laptop")
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)  # lena's machine
    gateway = cal.as_service("usage-bot")
    gateway.record_fact(
        None, "pilot.adoption", _forged(), provenance=Provenance.MEASURED, collector=COLLECTOR
    )
    (why,) = _service_why(pilot)
    assert "whose host nobody but cal has vouched for" in why  # with the sign-in set up
    _vouch(pilot.people["bob"], gateway)  # a member vouches for its host: still on lena's laptop
    assert any("a rollout lead, enrolled a key of their own from" in w for w in _service_why(pilot))
    assert exit_check(pilot, "pilot-independent-use")[0] is not Outcome.PASS


def test_a_lead_who_enrols_from_the_gateways_host_later_makes_it_hers(pilot: Pilot) -> None:
    pilot.on("2026-11-06")
    lead = pilot.lead
    gateway = lead.as_service("gateway")  # enrolled from a host of its own, bob vouched for it
    gateway.record_fact(
        None, "pilot.adoption", _forged(), provenance=Provenance.MEASURED, collector=COLLECTOR
    )
    assert _service_why(pilot) == []  # it counts, from a host of its own
    host = gateway.state().keys[gateway.key.key_id].machine
    me = lead.whoami().name
    lead.join(str(lead.invite(me)), SigningKey.generate(), at_machine=host)
    (why,) = _service_why(pilot)
    assert f"{me}, a rollout lead, enrolled a key of their own from" in why


def test_removing_who_answered_no_then_asking_again_changes_nothing(pilot: Pilot) -> None:
    """The lead reads the signed answers, removes a detractor, and opens a new survey over the
    kinder pilot that is left: the removed member counts as they answered the first one."""
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    _survey(pilot, pilot.lead, "2026-11-16T09:00", "2026-11-20T17:00", {"bob", "pia", "dora"})
    pilot.clock.now = at("2026-11-21T09:00")
    remove_member(pilot.lead, "carl")
    pilot.clock.now = at("2026-11-23T09:00")
    open_survey(pilot.lead, at("2026-11-30T17:00"))
    for person in TEAMS.keys() - {"carl"}:
        answer_survey(pilot.people[person], "very" if person in {"bob", "pia", "dora"} else "not")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.FAIL, reason
    assert reason.startswith("3 of 6 pilot members would be very disappointed"), reason
    assert "counting carl as they answered an earlier survey while in the pilot" in reason
    assert exit_check(pilot, "pilot-size")[0] is Outcome.PASS  # five members are still a pilot


def test_a_member_removed_before_answering_anything_is_not_counted(pilot: Pilot) -> None:
    """Someone who left before any survey asked them said nothing: they count for nobody."""
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in TEAMS for d in (10, 12))
    remove_member(pilot.lead, "carl")
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-30T17:00"))
    for person in TEAMS.keys() - {"carl"}:
        answer_survey(pilot.people[person], "very" if person in {"bob", "pia", "dora"} else "not")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.PASS and reason.startswith("3 of 5"), reason


def test_removing_who_was_not_independent_then_measuring_again_changes_nothing(
    pilot: Pilot,
) -> None:
    for person in TEAMS:
        pilot.enable(person, "2026-11-02T10:00")
    keen = ("bob", "pia", "dora")
    pilot.use(Use(p, f"2026-11-0{d}T10:00") for p in keen for d in (3, 4, 5))
    pilot.on("2026-11-06")
    record_adoption(pilot.lead)
    remove_member(pilot.lead, "carl")
    pilot.use(Use(p, "2026-11-07T10:00") for p in keen)
    pilot.on("2026-11-08")
    _, report = record_adoption(pilot.lead)
    assert report is not None and "carl" not in {r["person"] for r in report.payload["members"]}
    outcome, reason = exit_check(pilot, "pilot-independent-use")
    assert outcome is Outcome.FAIL and reason.startswith("3 of 6"), reason
    assert "counted as not independent, removed from the pilot within this report" in reason
