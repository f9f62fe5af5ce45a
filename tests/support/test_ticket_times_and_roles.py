"""`ticket-resolved-without-builder` against a lead working alone (a red team's findings):

* a role granted for a moment to the colleague who filed the awkward tickets does not take
  their tickets back: whether an opener is judged (a lead, a support owner) is decided by the
  roles they held when the ticket came into the queue;
* an imported resolution dated back at the source does not put a reopening recorded here
  outside the reopen window: the window runs from when the resolution was recorded here at the
  latest, and nothing an import brings happened at the source after it was brought in;
* the lead who enrolled the gateway's service key is one of the gateway's builders.

Each forgery has its honest counterpart beside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.counting import build_context
from inhouse.program.playchecks._shared import enrolled_elsewhere
from inhouse.support.importers.mapping import (
    Account,
    ActorMap,
    SourceStep,
    SourceTicket,
    record_tickets,
)
from inhouse.support.queue import confirm_ticket, open_ticket, reopen_ticket, resolve_ticket
from tests.conftest import Clock
from tests.people import enrol, sign_in_as
from tests.support.test_ticket_word_order import _honest_world, _judge, _program


def _baseline_hit_three_times(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> Program:
    """pia's prompt ticket was fixed by bea (not its builder); cam hit the baseline twice and
    dan once, and only its builder omar fixed them: the baseline, hit by two people, is typical
    and the check fails. Taking cam's tickets back would leave one person on each component, a
    tie, and the prompt's fix would pass it."""
    lena, omar, _, _ = _honest_world(request, folder, clock)
    cam = enrol(lena, "cam", team="ops")
    dan = enrol(lena, "dan", team="finance")
    for opener in (cam, cam, dan):
        ticket = open_ticket(opener, "model answers garbage", category="it-broke",
                             component="baseline")  # fmt: skip
        clock.advance(hours=1)
        resolve_ticket(omar, ticket.id, note="restarted")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_TYPICAL)
    return lena


#: how the reason starts while cam's tickets pick the baseline
_TYPICAL = "baseline drew 3 it-broke tickets from 2 of the people using it"


def test_a_role_flashed_on_the_opener_afterwards_does_not_move_the_typical_component(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena = _baseline_hit_three_times(request, _isolated, clock)
    clock.advance(hours=1)
    lena.change_roles(None, "cam", add=["support-owner"])  # for a moment, nobody else signs
    lena.change_roles(None, "cam", remove=["support-owner"])
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith(_TYPICAL)


def test_tickets_filed_while_holding_the_role_still_do_not_pick(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The honest counterpart: a support owner's own tickets, filed while they held the role,
    are the judged's, and do not decide what is typical (the prompt stays the one hit)."""
    lena, omar, _, _ = _honest_world(request, _isolated, clock)
    cam = enrol(lena, "cam", team="ops", roles=["support-owner"])
    for _ in range(3):
        ticket = open_ticket(cam, "model answers garbage", category="it-broke",
                             component="baseline")  # fmt: skip
        clock.advance(hours=1)
        resolve_ticket(omar, ticket.id, note="restarted")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("prompt:triage drew 1 it-broke ticket")


def _import_resolved(lena: Program, clock: Clock, resolved_at: datetime) -> None:
    """lena imports pia's GitHub ticket (opened two hours ago at the source) with its
    resolution mapped to herself, dated ``resolved_at`` at the source."""
    fix = SourceStep("ticket.resolved", "c-1", resolved_at, Account("lena-gh"), text="restarted")
    ticket = SourceTicket(
        ticket="gh:acme/help#1", link="https://github.com/acme/help/issues/1",
        title="model answers garbage", category="it-broke", component="baseline",
        description="", opened_by=Account("pia-gh"), opened_at=clock.now - timedelta(hours=2),
        steps=[fix],
    )  # fmt: skip
    record_tickets(lena, "github", [ticket], ActorMap({"pia-gh": "pia", "lena-gh": "lena"}, []))


def _imported_resolution_then_reopened(
    request: pytest.FixtureRequest, folder: Path, clock: Clock, resolved_ago: timedelta
) -> Program:
    """lena imports pia's GitHub ticket with its resolution mapped to herself (her own word),
    dated ``resolved_ago`` at the source; pia confirms her opening, reopens it an hour later
    (the fix did not hold), and lena resolves it again here."""
    lena, _ = _program(request, folder, clock)
    pia = enrol(lena, "pia", team="sales")
    _import_resolved(lena, clock, clock.now - resolved_ago)
    clock.advance(minutes=10)
    confirm_ticket(pia, "gh:acme/help#1", text="yes, I opened it")
    clock.advance(hours=1)
    reopen_ticket(pia, "gh:acme/help#1", reason="still broken, the fix did not hold")
    clock.advance(hours=1)
    resolve_ticket(lena, "gh:acme/help#1", note="restarted again")
    return lena


@pytest.mark.parametrize("resolved_ago", [timedelta(minutes=30), timedelta(days=30)])
def test_a_resolution_dated_back_at_the_source_is_still_reopened_within_the_window(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, resolved_ago: timedelta
) -> None:
    """Dated honestly (30 minutes ago) or back (30 days, before the ticket was even opened):
    either way pia reopened it an hour after it was recorded here, and it does not count."""
    lena = _imported_resolution_then_reopened(request, _isolated, clock, resolved_ago)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "gh:acme/help#1 reopened 0 days after lena resolved it" in result.reason


def test_an_imported_step_happened_no_later_than_it_was_brought_in(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """A source time after the import (a resolution "next month") is taken as the time it was
    brought in: a step cannot have happened at the source after it was recorded here."""
    from inhouse.program.evaluation import context_for
    from inhouse.program.playchecks._shared import fold_tickets

    lena, _ = _program(request, _isolated, clock)
    enrol(lena, "pia", team="sales")
    _import_resolved(lena, clock, clock.now + timedelta(days=30))
    ctx = context_for(lena.state(), lena.clock())
    [found] = fold_tickets(ctx.facts, ctx.people, ctx.held_role_at).values()
    resolution = found.resolution
    assert resolution is not None and resolution.at == resolution.fact.at <= clock.now


def test_the_lead_who_runs_the_gateway_is_one_of_its_builders(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The lead enrolled the gateway's service key (she runs it and issues its keys): a gateway
    ticket she resolves herself is resolved by a builder, owner of plays 1-3 or not."""
    lena, _ = _program(request, _isolated, clock)
    lena.as_service("gateway")  # shares lena's store: closed with her
    pia = enrol(lena, "pia", team="sales")
    ticket = open_ticket(pia, "the gateway refuses my key", category="it-broke",
                         component="gateway")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(lena, ticket.id, note="re-issued it")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"{ticket.id} resolved by lena, a builder" in result.reason


def test_claiming_the_openers_machine_afterwards_takes_back_none_of_their_tickets(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The lead enrols a key of her own "from" cam's machine (its id is hers to state, and in
    the log), after cam filed his tickets: they were his, from his machine, when they came in.
    (A red team made prompt:triage typical this way before.)"""
    from inhouse.identity import SigningKey
    from tests.support.test_ticket_word_order import _judge

    lena = _baseline_hit_three_times(request, _isolated, clock)
    before = _judge(lena)
    assert before.outcome is Outcome.FAIL, before.reason
    cams = next(k.machine for k in lena.state().keys.values() if k.person == "cam")
    claim = SigningKey.generate()
    lena.join(str(lena.invite("lena")), claim, at_machine=cams)
    unsigned = _judge(lena)  # a key of hers not signed in: nobody is told apart from her
    assert unsigned.outcome is Outcome.FAIL, unsigned.reason
    sign_in_as(lena.using(claim))  # she signs it in as herself: the claim stands on machines
    after = _judge(lena)
    assert (after.outcome, after.reason) == (before.outcome, before.reason)


def test_a_play_owner_made_after_the_tickets_came_in_filed_them_as_a_user(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The lead makes cam, who filed the awkward tickets, a lead for a moment and the owner of
    play 6 (on waivers of her own): a play's owner is judged from the play's start, so his
    tickets, filed before, still pick what is typical. (A red team passed it before.)"""
    from inhouse.errors import AntiPattern
    from tests.support.test_ticket_word_order import _judge

    lena = _baseline_hit_three_times(request, _isolated, clock)
    before = _judge(lena)
    assert before.outcome is Outcome.FAIL, before.reason
    clock.advance(hours=1)
    lena.change_roles(None, "cam", add=["rollout-lead"])
    for _ in range(3):  # each guard the start meets, waived by lena herself
        try:
            lena.start_play(None, "measure", owner="cam")
            break
        except AntiPattern as refused:
            lena.grant_waiver(None, refused.guard, play="measure", reason="other",
                              note="time-boxed", expires=clock.now + timedelta(days=1))  # fmt: skip
    assert lena.state().owners.get("measure") == "cam"
    lena.change_roles(None, "cam", remove=["rollout-lead"])
    after = _judge(lena)
    assert (after.outcome, after.reason) == (before.outcome, before.reason)


def test_claiming_the_openers_machine_before_the_tickets_takes_none_of_them_either(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The same claim made early, right after cam joined and before he filed anything: a
    machine is whoever enrolled from it first, so cam is still nobody's alias."""
    from inhouse.identity import SigningKey
    from tests.support.test_ticket_word_order import _judge

    lena = _baseline_hit_three_times(request, _isolated, clock)
    before = _judge(lena)
    cams = next(k.machine for k in lena.state().keys.values() if k.person == "cam")
    first = min(k.seq for k in lena.state().keys.values() if k.person == "cam")
    claim = SigningKey.generate()
    lena.join(str(lena.invite("lena")), claim, at_machine=cams)
    sign_in_as(lena.using(claim))  # as herself: she is told apart by her machines alone
    claimed = max(k.seq for k in lena.state().keys.values() if k.person == "lena")
    context = build_context(lena.state(), lena.clock())
    assert claimed > first
    # judged over every machine she ever claimed, as for an opener filing after her claim
    assert enrolled_elsewhere(context, "cam", {"lena"}) is True
    assert (_judge(lena).outcome, _judge(lena).reason) == (before.outcome, before.reason)
