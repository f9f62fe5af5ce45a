"""`ticket-resolved-without-builder` against one lead working alone (a red team's findings):

* only a confirmation (`inhouse support confirm`) by the person an imported resolution names,
  after it was imported, confirms it: not a comment of hers, before it ("looking into it") or
  after it ("I never fixed this, who imported that?"), nor her confirmation of an earlier one;
* an import that turns an honestly confirmed how-to ticket into an "it broke" one needs the
  people it names to confirm again;
* tickets the lead files herself do not decide which component is "typical".

Each forgery has its honest counterpart beside it, which passes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.identity.machine import machine_fingerprint
from inhouse.pilot.library import add_prompt
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.playchecks._shared import TicketStep
from inhouse.support.importers.mapping import (
    COLLECTOR,
    Account,
    ActorMap,
    SourceStep,
    SourceTicket,
    record_tickets,
)
from inhouse.support.queue import (
    comment_on_ticket,
    confirm_fix,
    confirm_ticket,
    open_ticket,
    resolve_ticket,
)
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.people import enrol
from tests.pilot.world import PROMPT

LINK = "https://github.com/acme/help/issues/1"


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def _program(request: pytest.FixtureRequest, folder: Path, clock: Clock) -> tuple[Program, Program]:
    """lena leads; omar built the baseline (he signed its lock)."""
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    omar.record_fact(None, "baseline.lock", lock_payload("omar"),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    return lena, omar


def _source(
    clock: Clock, steps: list[SourceStep], *, opener: str = "lena-gh", category: str = "it-broke"
) -> SourceTicket:
    return SourceTicket(
        ticket="gh:acme/help#1", link=LINK, title="model answers garbage", category=category,
        component="baseline", description="", opened_by=Account(opener),
        opened_at=clock.now - timedelta(hours=1), steps=steps,
    )  # fmt: skip


def _opened_again(
    lena: Program, number: int, actor: str, at: str, *, description: str = ""
) -> None:
    """The opening of imported ticket ``gh:acme/help#NUMBER`` recorded again as the importer
    records it (its collector, its link), by lena: an it-broke ticket on the baseline."""
    lena.record_fact(None, "ticket.opened", {
        "ticket": f"gh:acme/help#{number}", "title": "model answers garbage",
        "category": "it-broke", "component": "baseline", "description": description,
        "external": f"https://github.com/acme/help/issues/{number}", "actor": actor, "at": at,
    }, provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip


def test_a_comment_before_the_imported_resolution_does_not_confirm_it(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _ = _program(request, _isolated, clock)
    pia = enrol(lena, "pia", team="sales")
    bea = enrol(lena, "bea", team="legal")
    actors = ActorMap({"bea-gh": "bea", "pia-gh": "pia"}, [])
    record_tickets(lena, "github", [_source(clock, [], opener="bea-gh")], actors)
    confirm_ticket(bea, "gh:acme/help#1")  # bea's problem, as she says with her own key
    clock.advance(hours=1)
    comment_on_ticket(pia, "gh:acme/help#1", "looking into it, no idea yet")
    # nor does a confirmation signed before the step it names was imported (pia's own Python
    # API call naming the next fact): she confirms what she has seen, never a blank cheque
    ahead = lena.state().head_seq + 2
    pia.record_fact(None, "ticket.confirmed", {"ticket": "gh:acme/help#1", "steps": [ahead]},
                    provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    clock.advance(hours=1)
    fix = SourceStep("ticket.resolved", "c-99", clock.now - timedelta(minutes=5),
                     Account("pia-gh"), text="fixed the lock")  # fmt: skip
    record_tickets(lena, "github", [_source(clock, [fix])], actors)
    resolution = _resolution(lena)
    assert resolution.fact.id == ahead  # the blank cheque named it
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert (
        "only the import says pia resolved it (run by lena); pia confirms with their own key: "
        "`inhouse support confirm gh:acme/help#1`" in result.reason
    )
    # the forgery: pia's comment after the import, whatever it says, confirms nothing
    clock.advance(hours=1)
    comment_on_ticket(pia, "gh:acme/help#1", "I never fixed this, who imported that?")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "`inhouse support confirm gh:acme/help#1`" in result.reason
    # pia's confirmation after the resolution was imported in her name is her word (and bea,
    # who hit it, says it is fixed)
    confirm_ticket(pia, "gh:acme/help#1")
    confirm_fix(bea, "gh:acme/help#1")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "resolved by pia" in result.reason


def _resolution(program: Program) -> TicketStep:
    from inhouse.support.queue import find_ticket

    resolution = find_ticket(program, "gh:acme/help#1").resolution
    assert resolution is not None
    return resolution


def test_a_confirmation_does_not_cover_a_later_imported_resolution(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """pia confirmed the resolution imported in her name; weeks later the source shows the ticket
    reopened and resolved again "by pia": her confirmation names the first, not the second."""
    lena, _ = _program(request, _isolated, clock)
    pia = enrol(lena, "pia", team="sales")
    bea = enrol(lena, "bea", team="legal")
    actors = ActorMap({"bea-gh": "bea", "lena-gh": "lena", "pia-gh": "pia"}, [])
    first = SourceStep("ticket.resolved", "c-1", clock.now - timedelta(minutes=30),
                       Account("pia-gh"), text="fixed the lock")  # fmt: skip
    record_tickets(lena, "github", [_source(clock, [first], opener="bea-gh")], actors)
    confirm_ticket(bea, "gh:acme/help#1")
    confirm_ticket(pia, "gh:acme/help#1")
    confirm_fix(bea, "gh:acme/help#1")
    assert _judge(lena).outcome is Outcome.PASS
    clock.advance(days=30)
    again = SourceStep("ticket.reopened", "c-2", clock.now - timedelta(hours=2),
                       Account("lena-gh"), text="broke again")  # fmt: skip
    second = SourceStep("ticket.resolved", "c-3", clock.now - timedelta(hours=1),
                        Account("pia-gh"), text="fixed it again")  # fmt: skip
    record_tickets(lena, "github", [_source(clock, [first, again, second])], actors)
    # neither her confirmation of the first nor a comment of hers since covers the second
    comment_on_ticket(pia, "gh:acme/help#1", "did I? checking")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "only the import says pia resolved it (run by lena)" in result.reason
    confirm_ticket(pia, "gh:acme/help#1")
    assert "bea runs `inhouse support confirm-fix gh:acme/help#1`" in _judge(lena).reason
    confirm_fix(bea, "gh:acme/help#1")  # her word on the first fix does not cover the second
    assert _judge(lena).outcome is Outcome.PASS


def test_an_import_turning_a_confirmed_how_to_into_it_broke_asks_again(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _ = _program(request, _isolated, clock)
    bea = enrol(lena, "bea", team="legal")
    pia = enrol(lena, "pia", team="sales")
    actors = ActorMap({"bea-gh": "bea", "pia-gh": "pia"}, [])
    answered = SourceStep("ticket.resolved", "c-1", clock.now - timedelta(minutes=30),
                          Account("pia-gh"), text="add 'in French' to the prompt")  # fmt: skip
    record_tickets(lena, "github", [_source(clock, [answered], opener="bea-gh",
                                            category="how-to")], actors)  # fmt: skip
    confirm_ticket(bea, "gh:acme/help#1")
    confirm_ticket(pia, "gh:acme/help#1")
    assert 'no "it broke" ticket' in _judge(lena).reason
    # the lead records the opening again, as the importer does, now in the it-broke category
    clock.advance(hours=1)
    opened_at = (clock.now - timedelta(hours=2)).isoformat()
    _opened_again(lena, 1, "bea", opened_at)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "only the import says bea opened it (run by lena)" in result.reason
    # the same opening recorded again unchanged is no change: the confirmations stand
    clock.advance(hours=1)
    confirm_ticket(bea, "gh:acme/help#1", text="yes, it broke for me")
    confirm_ticket(pia, "gh:acme/help#1", text="and I fixed it")
    confirm_fix(bea, "gh:acme/help#1")
    _opened_again(lena, 1, "bea", opened_at)
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason


def test_tickets_the_lead_files_do_not_pick_the_typical_component(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, omar = _program(request, _isolated, clock)
    add_prompt(omar, "triage", PROMPT, where="triage.yaml")
    pia = enrol(lena, "pia", team="sales")
    bea = enrol(lena, "bea", team="legal")
    dan = enrol(lena, "dan", team="finance")
    # what people hit: the baseline broke for two of them, and its builder fixed it each time
    for opener in (pia, dan):
        broke = open_ticket(opener, "model answers garbage", category="it-broke",
                            component="baseline")  # fmt: skip
        clock.advance(hours=1)
        resolve_ticket(omar, broke.id, note="restarted")
    # one prompt ticket, fixed by someone who did not build it
    odd = open_ticket(pia, "triage sorts wrong", category="it-broke", component="prompt:triage")
    clock.advance(hours=1)
    resolve_ticket(bea, odd.id, note="the ticket text was empty")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE)
    # lena files two tickets against the prompt: the baseline stays what people hit
    for _ in range(2):
        open_ticket(lena, "triage odd", category="it-broke", component="prompt:triage")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert "baseline drew 2" in result.reason and "prompt:triage" not in result.reason
    # a second user's ticket on the prompt, filed by bea herself, does make it typical with it
    open_ticket(bea, "triage again", category="it-broke", component="prompt:triage")
    result = _judge(lena)
    assert "prompt:triage drew 2 it-broke tickets from 2 of the people using it" in result.reason


#: how the reason starts while pia and dan's baseline tickets pick the typical component
_BASELINE = "baseline drew 2 it-broke tickets from 2 of the people using it"


def _honest_world(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program, Program]:
    lena, omar = _program(request, folder, clock)
    add_prompt(omar, "triage", PROMPT, where="triage.yaml")
    pia = enrol(lena, "pia", team="sales")
    bea = enrol(lena, "bea", team="legal")
    odd = open_ticket(pia, "triage sorts wrong", category="it-broke", component="prompt:triage")
    clock.advance(hours=1)
    resolve_ticket(bea, odd.id, note="the ticket text was empty")
    confirm_fix(pia, odd.id)
    return lena, omar, pia, bea


def test_a_second_name_on_the_leads_machine_does_not_pick_the_typical_component(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, omar, pia, _ = _honest_world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    for opener in (pia, dan):  # what people really hit: the baseline, fixed by its builder
        t = open_ticket(opener, "model answers garbage", category="it-broke", component="baseline")
        clock.advance(hours=1)
        resolve_ticket(omar, t.id, note="restarted")
    assert _judge(lena).outcome is Outcome.FAIL
    # lena invites a second name and joins it from her own machine; it files 2 prompt tickets
    # (as a person of its own, with pia's it would tie the prompt, whose fix pia confirmed)
    sock = enrol(lena, "sock", team="ops", machine=machine_fingerprint())
    for _ in range(2):
        open_ticket(sock, "triage odd", category="it-broke", component="prompt:triage")
    result = _judge(lena)  # a second name on lena's laptop is lena: the baseline stays typical
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE)


def _src(clock: Clock, n: int, description: str = "", opener: str = "pia-gh") -> SourceTicket:
    return SourceTicket(
        ticket=f"gh:acme/help#{n}",
        link=f"https://github.com/acme/help/issues/{n}",
        title="model answers garbage",
        category="it-broke",
        component="baseline",
        description=description,
        opened_by=Account(opener),
        opened_at=clock.now - timedelta(hours=1),
        steps=[],
    )


def test_an_import_changing_a_ticket_does_not_take_back_what_its_opener_hit(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, omar, pia, _ = _honest_world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    actors = ActorMap({"pia-gh": "pia", "dan-gh": "dan"}, [])
    # pia's and dan's baseline tickets come from GitHub; each confirms theirs with their own key
    record_tickets(lena, "github", [_src(clock, 1), _src(clock, 2, opener="dan-gh")], actors)
    clock.advance(hours=1)
    for n, opener in ((1, pia), (2, dan)):
        confirm_ticket(opener, f"gh:acme/help#{n}", text="yes, this broke for me")
        resolve_ticket(omar, f"gh:acme/help#{n}", note="restarted")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert _BASELINE in result.reason
    # lena re-imports both with a one-character description edit: Ticket.stated moves past
    # pia's confirmations, so they are no longer 'hit by a user' and baseline drops to 0
    clock.advance(hours=1)
    at = (clock.now - timedelta(hours=3)).isoformat()
    for n, who in ((1, "pia"), (2, "dan")):  # as the importer records one, description changed
        _opened_again(lena, n, who, at, description=".")
    result = _judge(lena)  # what they confirmed they hit stays theirs: the baseline stays typical
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE)
