"""A step's time is its writer's clock, but not its place in the log: a step is dated no
earlier than the one it follows. The support owner (the resolver being judged) dates each
resolution three weeks back, so the opener's reopening the next day would fall outside the
reopen window; a receiver backdates his acceptance to move a play's first exit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.queue import COLLECTOR, open_ticket, reopen_ticket, resolve_ticket
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.people import enrol


def backdated(omar: Program, clock: Clock, ticket: str, note: str) -> None:
    omar.clock = lambda: clock.now - timedelta(days=21)  # type: ignore[method-assign]
    try:
        omar.record_fact(None, "ticket.resolved",
                         {"ticket": ticket, "category": "it-broke", "note": note},
                         provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip
    finally:
        omar.clock = clock  # type: ignore[method-assign]


pytestmark = pytest.mark.usefixtures("on_database")


def _judge(program: Program) -> Outcome:
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def test_a_backdated_resolution_is_dated_no_earlier_than_the_step_before_it(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.record_fact(
        None,
        "baseline.lock",
        lock_payload("lena"),
        provenance=Provenance.MEASURED,
        collector="inhouse baseline lock",
    )  # fmt: skip  (lena built the baseline)
    omar = enrol(lena, "omar", team="support", roles=["support-owner"])
    pia = enrol(lena, "pia", team="sales")

    ticket = open_ticket(pia, "model answers garbage", category="it-broke", component="baseline")

    clock.advance(hours=2)
    # FORGERY: omar writes each resolution (the fact `inhouse support resolve` records) with
    # his own clock three weeks behind: a few lines around the API, his own key
    backdated(omar, clock, ticket.id, "restarted the server")
    clock.advance(days=1)
    reopen_ticket(pia, ticket.id, reason="still broken")
    clock.advance(days=1)
    backdated(omar, clock, ticket.id, "really fixed now")

    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "reopened 1 day after omar resolved it" in result.reason


def test_the_same_walk_on_honest_clocks_fails(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.record_fact(None, "baseline.lock", lock_payload("lena"), provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    omar = enrol(lena, "omar", team="support", roles=["support-owner"])
    pia = enrol(lena, "pia", team="sales")
    ticket = open_ticket(pia, "model answers garbage", category="it-broke", component="baseline")
    clock.advance(hours=2)
    resolve_ticket(omar, ticket.id, note="restarted the server")
    clock.advance(days=1)
    reopen_ticket(pia, ticket.id, reason="still broken")
    clock.advance(days=1)
    resolve_ticket(omar, ticket.id, note="really fixed now")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "reopened 1 day after omar resolved it" in result.reason


def test_a_backdated_acceptance_moves_no_exit_before_the_offer(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The receiver accepts with her clock two hours back (after the evidence, before the
    offer): the play's first exit, from which play 5's widening demand and play 6's use beyond
    the pilot are counted, stays no earlier than the offer it answers."""
    from tests.test_engine import prove

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.change_roles(None, "lena", add=["play-owner"])
    prove(lena)
    clock.advance(hours=3)
    lena.offer_handoff(None, 1, to="lena")  # play 2 is play 1's owner's
    offered = lena.state().handoffs["prove-value"].offered_at
    lena.clock = lambda: clock.now - timedelta(hours=2)  # type: ignore[method-assign]
    lena.accept_handoff(None, 1, comment="I build on this")
    lena.clock = clock  # type: ignore[method-assign]
    fresh = Program.open(lena.folder, clock=clock)
    try:
        state = fresh.state()
        assert state.handoffs["prove-value"].decided_at == offered
        assert state.first_exited["prove-value"][0] == offered
    finally:
        fresh.close()
