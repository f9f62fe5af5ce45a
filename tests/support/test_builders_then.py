"""ticket-resolved-without-builder judges a resolution by the component's builders as the log
stood when it was resolved, not as it stands now.

Read now, the builders were the signers of the building facts that count today. A fact can stop
counting after the resolution: here the lead revokes the builder's first key, whose sign-in
binding goes with it, and the lock he signed with it counts for nobody any more. The builder
vanished, and his own resolution of a ticket on what he built (made with his second machine's
key) counted as one made without him: one command by the lead, nobody else signing. The other
direction is no forgery but an honest exit taken back: a colleague who resolved a ticket as an
outsider and signs a later version afterwards became a builder of what he fixed before.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.queue import (
    confirm_fix,
    find_ticket,
    open_ticket,
    resolve_ticket,
    ticket_dict,
)
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.people import enrol, sign_in_as, suite_sign_in

pytestmark = pytest.mark.usefixtures("on_database")


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def _lock(person: Program) -> None:
    name = person.whoami().name
    payload = lock_payload(name)
    collector = "inhouse baseline lock"
    person.record_fact(None, "baseline.lock", payload, provenance=Provenance.MEASURED,
                       collector=collector)  # fmt: skip


def _world(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program]:
    """lena leads and locked the baseline, omar locked it too; cam uses it. Each signed in."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    cam = enrol(lena, "cam", team="ops")
    _lock(lena)
    _lock(omar)
    return lena, omar, cam


def _fixed(resolver: Program, cam: Program, clock: Clock) -> str:
    """cam's baseline broke; ``resolver`` fixed it and cam confirmed the fix."""
    ticket = open_ticket(cam, "model answers garbage", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(resolver, ticket.id, note="restarted the runtime")
    confirm_fix(cam, ticket.id)
    return ticket.id


@pytest.mark.own_sign_in
def test_a_builder_made_to_vanish_after_his_resolution_is_still_its_builder(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """omar built the baseline with the key of his laptop, and resolves cam's ticket with the
    key of a second machine of his, before the program has the organisation's sign-in: omar is
    a builder, it does not count. The lead then revokes his laptop's key, sets up the sign-in,
    and omar signs in with the one key he holds: what his laptop's key signed counts for nobody
    any more (it never signed in), and, read now, omar built nothing. His resolution still
    does not count: he had built the baseline when he resolved it."""
    lena, omar, cam = _world(request, _isolated, clock)
    desk = SigningKey.generate()
    omar.join(str(omar.invite("omar")), desk, at_machine="omar-desktop")
    omar_desk = omar.using(desk)
    ticket = _fixed(omar_desk, cam, clock)
    before = _judge(lena)
    assert before.outcome is Outcome.FAIL, before.reason
    assert f"{ticket} resolved by omar, a builder" in before.reason
    lena.revoke_key(omar.key.key_id)  # what it signed while enrolled still counts
    assert suite_sign_in(lena)
    sign_in_as(omar_desk)  # the only key he holds
    sign_in_as(cam)
    ctx = context_for(lena.state(), lena.clock())
    assert not any(f.kind == "baseline.lock" and f.by == "omar" for f in ctx.facts)  # vanished
    assert any(f.kind == "ticket.resolved" and f.by == "omar" for f in ctx.facts)
    after = _judge(lena)
    assert after.outcome is Outcome.FAIL, after.reason
    assert f"{ticket} resolved by omar, a builder" in after.reason
    shown = ticket_dict(lena, find_ticket(lena, ticket))["without_builders"]  # the queue too
    assert shown == {"counts": False, "why_not": f"{ticket} resolved by omar, a builder"}


def test_one_who_builds_after_resolving_does_not_take_his_resolution_back(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """ben, no builder, resolves cam's ticket and cam confirms the fix: it counts. ben locks a
    later baseline afterwards: he is a builder of what comes next, not of what he fixed then,
    and the resolution still counts (an exit judged on it would otherwise be taken back)."""
    lena, _, cam = _world(request, _isolated, clock)
    ben = enrol(lena, "ben", team="it", roles=["play-owner"])
    ticket = _fixed(ben, cam, clock)
    assert _judge(lena).outcome is Outcome.PASS
    clock.advance(days=1)
    _lock(ben)
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{ticket} resolved by ben, not one of its builders (lena, omar)" in result.reason


def test_one_who_built_before_resolving_is_a_builder(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The honest reading keeps its edge: ben locked the baseline before he resolved the
    ticket, so he is one of its builders."""
    lena, _, cam = _world(request, _isolated, clock)
    ben = enrol(lena, "ben", team="it", roles=["play-owner"])
    _lock(ben)
    ticket = _fixed(ben, cam, clock)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert f"{ticket} resolved by ben, a builder" in result.reason
