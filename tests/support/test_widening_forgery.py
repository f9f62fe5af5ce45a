"""Who is "outside the pilot" for play 5's widening demand and play 6's use beyond the pilot,
through the real program and its folded state: inside once is inside for good. The forgery is
one command of the lead's alone, `inhouse person role olga --remove pilot-user`: it turns a
real pilot member's pilot-time request and use into "new" demand unless the state remembers
every role ever held. And only requests made after the pilot (play 4) exited are widening: a
request from before was the pilot's own demand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import Refused
from inhouse.gateway.rollup import service_program
from inhouse.pilot.roster import remove_member
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import trigger_results
from inhouse.support.queue import name_owner
from tests.conftest import Clock
from tests.engine import Engine, needs_engine
from tests.people import confirm_own_use, enrol, hold_gateway_key, vouch_for_gateway_host
from tests.pilot.test_play_four_walk import walk_play_four


def _trigger(program: Program, play_id: str, check: str) -> Result:
    """A play's trigger check as status and the start guard judge it."""
    play = program.playbook.play(play_id)
    state = program.state()
    found = trigger_results(play, state, program.clock())
    return next(item.result for item in found if item.ref.check == check)


def test_a_pilot_member_whose_role_is_taken_away_stays_inside(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    olga = enrol(lena, "olga", team="sales")  # a real colleague on her own laptop
    olga.request_access(reason="I want in")  # her request, for the pilot: play 4's demand
    lena.grant_waiver(None, "scaling-before-proving", reason="executive-decision", note="n",
                      expires=clock.now + timedelta(days=30))  # fmt: skip
    lena.change_roles(None, "olga", add=["pilot-user"])
    hold_gateway_key(lena, olga)
    service_program(lena).record_fact(None, "usage.daily", {"day": "2026-11-02", "people": {
        "olga": {"requests": 12, "tokens_in": 300, "tokens_out": 400}}},
        provenance=Provenance.MEASURED, collector="inhouse gateway rollup")  # fmt: skip
    vouch_for_gateway_host(olga)  # she uses the gateway: what it signs counts from then on
    confirm_own_use(olga)  # and says so with her own key
    # lena alone, one command: `inhouse person role olga --remove pilot-user`
    lena.change_roles(None, "olga", remove=["pilot-user"])
    assert lena.state().people["olga"].roles == frozenset()
    assert lena.state().roles_held["olga"] == frozenset({"pilot-user"})
    widening = _trigger(lena, "support", "widening-requested")
    assert widening.outcome is Outcome.FAIL
    assert "olga held pilot-user before: inside the program once, not someone new" in (
        widening.reason
    )
    beyond = _trigger(lena, "measure", "use-beyond-pilot")
    assert beyond.outcome is Outcome.FAIL
    assert "olga held pilot-user before: inside the program once, not a new user" in beyond.reason


@pytest.mark.usefixtures("real_model")
@needs_engine
def test_widening_is_asked_after_the_pilot_exited_by_someone_never_inside(
    engine: Engine, _isolated: Path, clock: Clock
) -> None:
    lena, people = walk_play_four(engine, _isolated, clock)
    sam, dan = people["sam"], people["dan"]
    zed = enrol(lena, "zed", team="sales")
    zed.request_access(reason="sales wants it too")  # while the pilot runs: its demand
    running = _trigger(lena, "support", "widening-requested")
    assert running.outcome is Outcome.FAIL
    assert running.reason.startswith("play 4 (pilot) has not exited")
    assert "zed asked before play 4 (pilot) exited" in running.reason

    name_owner(lena, "sam")
    lena.offer_handoff(None, "pilot", to="sam", comment="findings, champions, the library")
    sam.accept_handoff(None, "pilot", comment="I take the queue")
    clock.advance(hours=1)
    exited = _trigger(lena, "support", "widening-requested")
    assert exited.outcome is Outcome.FAIL
    assert "zed asked before play 4 (pilot) exited" in exited.reason

    # the forgery: a pilot member asks again, and the lead takes him out of the pilot (his
    # gateway key revoked with it: the API refuses to leave it open before play 5 exits)
    dan.request_access(reason="more of it")
    remove_member(lena, "dan")
    forged = _trigger(lena, "support", "widening-requested")
    assert forged.outcome is Outcome.FAIL
    assert "dan held pilot-user before: inside the program once" in forged.reason
    with pytest.raises(Refused, match="calendar-driven advance"):
        sam.start_play(None, "support")

    # the honest way: zed, never inside, asks again now that the pilot has exited
    zed.request_access(reason="sales still wants it")
    honest = _trigger(lena, "support", "widening-requested")
    assert honest.outcome is Outcome.PASS, honest.reason
    assert honest.reason.startswith("zed asked; not counted: dan held pilot-user before")
    # dan's removal changed play 4's evidence: its handoff is offered and accepted again, and
    # zed's request, made after play 4 first exited, still counts
    clock.advance(hours=1)
    lena.offer_handoff(None, "pilot", to="sam", comment="dan left the pilot")
    sam.accept_handoff(None, "pilot", comment="still mine")
    assert _trigger(lena, "support", "widening-requested").outcome is Outcome.PASS
    sam.start_play(None, "support")
