"""`ticket-resolved-without-builder`: the ticket that counts is a problem someone using the tool
hit, not one the judged filed themselves. A rollout lead files a made-up "it broke" ticket on
the typical component and the support owner (play 5's owner) resolves it, while every ticket the
people using it filed was fixed by its builder; or she files it under a second name on her own
laptop and a colleague resolves it. Each is refused, naming the opener and why; a user's ticket
resolved by the support owner passes. A play 5 exit already in the log keeps the ticket it was
judged on (the reach guards re-judge exits by the checks loaded now)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.identity.machine import machine_fingerprint
from inhouse.program.checks import Outcome
from inhouse.support.queue import (
    confirm_fix,
    open_ticket,
    resolve_ticket,
)
from tests.conftest import Clock
from tests.people import enrol
from tests.support.judging import judge_ticket as _judge
from tests.support.judging import support_world as _world


@pytest.mark.parametrize("users", [0, 2], ids=["nobody-else-filed", "users-fixed-by-builder"])
def test_a_ticket_the_lead_files_for_the_support_owner_to_fix_does_not_count(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, users: int
) -> None:
    lena, omar, sam, pia, _ = _world(request, _isolated, clock)
    for _ in range(users):  # what people hit: the baseline broke, and its builder fixed it
        broke = open_ticket(pia, "model answers garbage", category="it-broke",
                            component="baseline")  # fmt: skip
        clock.advance(hours=1)
        resolve_ticket(omar, broke.id, note="restarted")
    # the forgery: lena files a made-up baseline ticket, and sam, who built nothing, fixes it
    made_up = open_ticket(lena, "a typo in the install notes", category="it-broke",
                          component="baseline")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(sam, made_up.id, note="fixed the typo")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert (
        f"{made_up.id} was opened by lena, who held rollout-lead then: it counts when someone "
        "using it hit the problem" in result.reason
    )
    # honest: a problem pia hit, fixed by sam
    broke = open_ticket(pia, "the model is gone", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(sam, broke.id, note="the node had restarted; pulled the model again")
    confirm_fix(pia, broke.id)  # pia, who hit it, says it is fixed
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{broke.id} resolved by sam" in result.reason


def test_a_ticket_filed_under_a_second_name_on_the_leads_laptop_does_not_count(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, _, _, bea = _world(request, _isolated, clock)
    # lena invites a second name and joins it from her own machine; it files the ticket, and a
    # colleague who built nothing resolves it
    sock = enrol(lena, "sock", team="ops", machine=machine_fingerprint())
    made_up = open_ticket(sock, "model answers garbage", category="it-broke",
                          component="baseline")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(bea, made_up.id, note="restarted")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert f"{made_up.id} was opened by sock, whose keys were all enrolled from a machine" in (
        result.reason
    )


def test_a_play_five_exit_already_judged_keeps_its_ticket(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """Upgrade: a program whose play 5 exited on a ticket its lead filed is not set back (its
    exit set aside, every grant beyond the pilot since held back); the reason says why it
    counts."""
    lena, _, sam, _, _ = _world(request, _isolated, clock)
    ticket = open_ticket(lena, "model answers garbage", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(sam, ticket.id, note="restarted")
    assert _judge(lena).outcome is Outcome.FAIL
    result = _judge(lena, exited=True)
    assert result.outcome is Outcome.PASS, result.reason
    assert (
        f"{ticket.id} resolved by sam, not one of its builders (omar) (opened by lena, who held "
        "rollout-lead then: it counts because play 5 (support) exited before" in result.reason
    )
