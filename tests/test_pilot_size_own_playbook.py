"""A pilot is no bigger than the shipped playbook's ``pilot-size`` maximum, whatever a
playbook of the program's own says, until play 5 exits or a waiver of *skipping play five* is
on the record.

The forgery, by the lead alone: she copies the shipped playbook, raises play 4's
``pilot-size`` maximum to 1000, and waives *scaling before proving* ("a pilot, early"): the
waiver names the pilot, but every key she then grants is "the pilot's", so the whole
organisation is keyed before play 5 with no *skipping play five* on the record. The gates up to
play 3 (the pilot's) never named play 4's exit, and the gate beyond the pilot was never asked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest

from inhouse.errors import AntiPattern, Refused
from inhouse.gateway.keys import issue_key
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.roster import add_member, members
from inhouse.program import Program
from inhouse.program.playbook import Reach
from tests.conftest import Clock
from tests.people import enrol

pytestmark = pytest.mark.usefixtures("on_database")

SHIPPED_SIZE = "params: {min: 5, max: 10, min_teams: 3}"
TEAMS = ("sales", "ops", "legal", "finance")


def _program(folder: Path, clock: Clock, size: str) -> Program:
    """lena's program on the shipped playbook copied as acme, play 4's pilot-size set to
    ``size``, with the pilot let in early on the record (a scaling-before-proving waiver)."""
    shipped = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml")
    text = shipped.read_text(encoding="utf-8").replace("name: local-model-program", "name: acme", 1)
    assert SHIPPED_SIZE in text
    (folder / "acme.yaml").write_text(text.replace(SHIPPED_SIZE, size), encoding="utf-8")
    lena = Program.init(
        folder, "Acme", "lena", team="platform", clock=clock, playbook=str(folder / "acme.yaml")
    )
    lena.grant_waiver(
        None,
        "scaling-before-proving",
        reason="time-boxed-experiment",
        note="a pilot before play 3 exits",
        expires=clock.now + timedelta(days=30),
    )
    return lena


@pytest.fixture
def raised(_isolated: Path, clock: Clock) -> Iterator[Program]:
    lena = _program(_isolated, clock, "params: {min: 5, max: 1000, min_teams: 3}")
    yield lena
    lena.close()


def _key_ten(lena: Program) -> None:
    for n in range(10):
        name = f"user{n}"
        person = enrol(lena, name, team=TEAMS[n % len(TEAMS)])
        issue_key(lena, None, name, holder=person)


def test_a_raised_pilot_size_does_not_key_an_eleventh_as_the_pilot(raised: Program) -> None:
    _key_ten(raised)
    kim = enrol(raised, "kim", team="sales")
    assert raised.reach_of("kim") is Reach.BEYOND_PILOT
    with pytest.raises(AntiPattern, match="skipping play five") as refused:
        issue_key(raised, None, "kim", holder=kim)
    assert "inhouse waiver grant skipping-play-five" in str(refused.value)
    assert "pilot-size (play 4's exit) with" in str(refused.value)  # names what it raised


def test_an_eleventh_key_granted_around_the_api_is_not_served(raised: Program) -> None:
    """The same key granted with the lead's key around `inhouse keys issue`: every fold holds it
    back as beyond the pilot (a grant held back is not served)."""
    _key_ten(raised)
    enrol(raised, "kim", team="sales")
    raised.log_event("gateway.key.granted", {"grant": "g_kim", "person": "kim", "agent": None,
                                             "limits": {}, "waivers": []})  # fmt: skip
    fresh = Program.open(raised.folder, clock=raised.clock)
    try:
        [held] = fresh.state().unwaived_reach()
        assert held[0].action == "grant a gateway key to kim (beyond-pilot)"
    finally:
        fresh.close()


def test_on_the_record_the_eleventh_goes_through(raised: Program, clock: Clock) -> None:
    """The honest path: a waiver of skipping play five, which everyone sees, lets her through."""
    _key_ten(raised)
    kim = enrol(raised, "kim", team="sales")
    raised.grant_waiver(
        None,
        "skipping-play-five",
        reason="executive-decision",
        note="our pilot is the whole sales floor",
        expires=clock.now + timedelta(days=30),
    )
    issue_key(raised, None, "kim", holder=kim)
    assert not raised.state().unwaived_reach()


def test_a_lowered_pilot_size_is_kept(_isolated: Path, clock: Clock) -> None:
    """A playbook of its own may keep a smaller pilot: its maximum holds as it did."""
    lena = _program(_isolated, clock, "params: {min: 3, max: 4, min_teams: 2}")
    try:
        for n in range(4):
            person = enrol(lena, f"user{n}", team=TEAMS[n])
            issue_key(lena, None, f"user{n}", holder=person)
        enrol(lena, "kim", team="sales")
        assert lena.reach_of("kim") is Reach.BEYOND_PILOT
    finally:
        lena.close()


TRACK = """\
title: Everyone
role: everyone
steps:
  - id: first-request
    type: first-answered-request
"""


def _add_ten(lena: Program) -> None:
    (lena.folder / "enablement").mkdir(exist_ok=True)
    (lena.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    for n in range(10):
        enrol(lena, f"user{n}", team=TEAMS[n % len(TEAMS)])
        add_member(lena, f"user{n}", track="everyone")


def test_pilot_add_refuses_the_eleventh_a_raised_size_would_seat(raised: Program) -> None:
    """`inhouse pilot add` says no at once to the place the reach guards would not give: an 11th
    member added under a raised maximum got no place (beyond the pilot, no key), yet the
    roster said she was in it."""
    _add_ten(raised)
    enrol(raised, "kim", team="sales")
    with pytest.raises(Refused, match="the pilot is full: it has 10 members") as full:
        add_member(raised, "kim", track="everyone")
    assert "at most 10 places" in str(full.value)  # names the cap, not the file's 1000
    assert full.value.missing == ["a free place in the pilot (at most 10 members)"]
    assert "kim" not in {m.person for m in members(PilotEvidence(raised))}


def test_pilot_add_under_a_lowered_size_stops_at_its_own(_isolated: Path, clock: Clock) -> None:
    lena = _program(_isolated, clock, "params: {min: 3, max: 4, min_teams: 2}")
    try:
        (lena.folder / "enablement").mkdir(exist_ok=True)
        (lena.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
        for n in range(4):
            enrol(lena, f"user{n}", team=TEAMS[n])
            add_member(lena, f"user{n}", track="everyone")
        enrol(lena, "kim", team="sales")
        with pytest.raises(Refused, match="the pilot is full: it has 4 members"):
            add_member(lena, "kim", track="everyone")
    finally:
        lena.close()
