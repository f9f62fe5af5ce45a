"""A guarded action is judged no earlier than the log's floor: a waiver does not outlive its
expiry by a clock set back.

A start (or any guarded action) was judged at its writer's clock, held only to her own latest
event: the lead, who wrote nothing meanwhile, set her clock back into an expired one-day
waiver's day after two signed-in colleagues had written a month later, and started a play whose
trigger did not hold; the API let it through and no fold held it back. Facts and handoff
decisions were already held to the floor (ten minutes before what two other signed-in people
had written); guarded actions now are too, in the fold and in the API alike.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import AntiPattern
from inhouse.program import Program
from inhouse.program.events import EventKind
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import measured


def _waived_play_one(_isolated: Path, clock: Clock) -> tuple[Program, Program, Program]:
    """lena (a play owner) waives calendar-driven-advance for play 1 for one day; omar and sam
    are signed in."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    sam = enrol(lena, "sam", team="it", roles=["support-owner"])
    lena.grant_waiver(
        None,
        "calendar-driven-advance",
        play=1,
        reason="time-boxed-experiment",
        note="a demo tomorrow; the hypothesis comes after",
        expires=clock.now + timedelta(days=1),
    )
    return lena, omar, sam


def test_a_start_backdated_into_an_expired_waiver_over_two_colleagues_events_is_held_back(
    _isolated: Path, clock: Clock
) -> None:
    """The forgery: a month after the waiver expired, omar and sam having written since, lena
    (who wrote nothing meanwhile) sets her clock back into the waiver's day and starts play 1.
    The API refuses it; appended around the API, every fold holds it back."""
    lena, omar, sam = _waived_play_one(_isolated, clock)
    clock.advance(days=30)
    omar.request_access(reason="I want the triage model")
    sam.request_access(reason="so do I")
    measured(omar, "task.named", task="triage", frequency="daily")
    clock.advance(days=-30, hours=2)  # lena's machine, set back into the waiver's day
    with pytest.raises(AntiPattern, match="calendar-driven advance") as refused:
        lena.start_play(None, 1)  # no hypothesis: the trigger does not hold
    assert "two other signed-in people wrote later than this machine's clock" in str(refused.value)
    assert "prove-value" not in lena.state().plays
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "prove-value", "owner": "lena",
                                                  "waivers": []})  # fmt: skip
    clock.advance(days=30)
    fresh = Program.open(lena.folder, clock=clock)  # another machine's fold, from scratch
    try:
        assert [g for g, _ in fresh.state().unwaived_start("prove-value")] == [
            "calendar-driven-advance"
        ]
    finally:
        fresh.close()
    lena.close()


def test_a_start_inside_its_waiver_is_let_through(_isolated: Path, clock: Clock) -> None:
    """The honest path: colleagues write during the waiver's day, and lena starts play 1 inside
    it, on the waiver: let through, nothing held back."""
    lena, omar, sam = _waived_play_one(_isolated, clock)
    clock.advance(hours=1)
    omar.request_access(reason="I want the triage model")
    sam.request_access(reason="so do I")
    clock.advance(hours=1)
    lena.start_play(None, 1)
    assert "prove-value" in lena.state().plays
    fresh = Program.open(lena.folder, clock=clock)
    try:
        assert fresh.state().unwaived_start("prove-value") == []
    finally:
        fresh.close()
    lena.close()
