"""Red team of plays 5 and 6 (rt56q): what one person can do alone to play 5's support checks.
The lagging figures of play 6's report, which one person typed alone, are closed in
tests/indicators/test_reported_lagging.py.

One pilot user alone held play 5's exit back for everyone: the typical component was the one
that drew the most it-broke tickets, counted per ticket, and each typical one needed a
resolution its opener confirmed. bea filed two tickets on the gateway (nobody else hit it), let
them be resolved and never confirmed a fix, so ticket-resolved-without-builder failed though
pia's baseline ticket was resolved and confirmed, and the reach guard refused every widening
beyond the pilot. Exit rule 21 (``TYPICAL_OPENERS``): the typical component is counted by
distinct openers (people), and one confirmed resolution in one of the typical components
suffices where a tie makes several typical. One person alone still cannot pass it: she makes no
component typical alone against one that more people hit, however often she files, and she
cannot confirm the fix of a ticket someone else opened. A play 5 that exited before keeps the
ticket it was judged on."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from inhouse.errors import Refused
from inhouse.program import Program, Provenance
from inhouse.program.checks import TYPICAL_OPENERS, Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.queue import confirm_fix, find_ticket, open_ticket, resolve_ticket
from tests.conftest import Clock
from tests.people import enrol
from tests.support.judging import judge_ticket, support_world


def test_one_user_who_never_confirms_her_fixes_holds_play_five_back(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    baseline = open_ticket(pia, "install fails", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(sam, baseline.id, note="fixed the install script")
    clock.advance(hours=1)
    confirm_fix(pia, baseline.id)
    assert judge_ticket(lena).outcome is Outcome.PASS  # support works: pia's fix, confirmed
    for n in range(2):  # bea's tickets, resolved by sam; she never confirms a fix
        ticket = open_ticket(bea, f"gateway 502 ({n})", category="it-broke", component="gateway")
        clock.advance(hours=1)
        resolve_ticket(sam, ticket.id, note="restarted the gateway")
        clock.advance(hours=1)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason
    # a tie (one person each) makes both typical, and one of them has its confirmed fix
    assert result.reason.startswith(
        f"baseline drew 1 it-broke ticket from 1 of the people using it; {baseline.id} "
        "resolved by sam"
    ), result.reason
    assert "fix confirmed by pia" in result.reason
    assert (
        "gateway drew as many people's it-broke tickets, none counted yet: one typical "
        "component's ticket suffices" in result.reason
    )


def _judge_exited_under(lena: Program, rules: int) -> Result:
    """The check as the reach guards judge a play 5 whose exit, now, says it was judged by
    ``rules`` (:data:`~inhouse.program.checks.EXIT_RULES`)."""
    ctx = context_for(lena.state(), lena.clock()).with_params({"reopen_days": 14})
    mark = (lena.clock(), lena.state().head_seq)
    ctx = dataclasses.replace(
        ctx, exited={**ctx.exited, "support": mark}, exit_rules={"support": rules}
    )
    return evaluate("ticket-resolved-without-builder", ctx)


def _one_user_files_again_and_again(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program, Program, str]:
    """pia and bea each hit the gateway, and nobody resolved either; dan alone files three
    tickets on the baseline, which sam (no builder) resolves and dan confirms. Returns lena,
    sam, pia, dan and pia's gateway ticket."""
    lena, _, sam, pia, bea = support_world(request, folder, clock)
    dan = enrol(lena, "dan", team="finance")
    gateway = [
        open_ticket(who, "gateway 502", category="it-broke", component="gateway")
        for who in (pia, bea)
    ]
    for n in range(3):
        ticket = open_ticket(dan, f"install fails ({n})", category="it-broke",
                             component="baseline")  # fmt: skip
        clock.advance(hours=1)
        resolve_ticket(sam, ticket.id, note="fixed the install script")
        clock.advance(hours=1)
        confirm_fix(dan, ticket.id)
    return lena, sam, pia, dan, gateway[0].id


def test_one_user_filing_again_and_again_makes_no_component_typical(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The forgery the other way: three tickets of dan's on an easy component (fixed, and he
    confirms) against two people's on the gateway. Counted per ticket, the baseline was typical
    and passed; counted by people, the gateway is, and nobody has fixed it yet."""
    lena, sam, pia, _, gateway = _one_user_files_again_and_again(request, _isolated, clock)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith(
        "gateway drew 2 it-broke tickets from 2 of the people using it; none resolved"
    ), result.reason
    assert "baseline" not in result.reason
    # honest: sam resolves pia's gateway ticket and pia, who hit it, confirms the fix
    clock.advance(hours=1)
    resolve_ticket(sam, gateway, note="restarted the gateway")
    clock.advance(hours=1)
    confirm_fix(pia, gateway)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{gateway} resolved by sam" in result.reason and "fix confirmed by pia" in result.reason


def test_an_exit_judged_before_keeps_the_ticket_it_was_judged_on(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """A play 5 that exited under the rules before (the baseline, which drew the most tickets,
    typical alone, and dan's confirmed fix there) keeps its exit for the grants made since; one
    that exited under rule 21 is judged by it (the gateway, hit by more people, is typical)."""
    lena, *_ = _one_user_files_again_and_again(request, _isolated, clock)
    before = _judge_exited_under(lena, TYPICAL_OPENERS - 1)
    assert before.outcome is Outcome.PASS, before.reason
    assert "baseline drew 3 it-broke tickets from the people using it" in before.reason
    assert "exited while the components that drew the most tickets were typical" in before.reason
    assert "today the most people hit gateway" in before.reason
    assert judge_ticket(lena, exited=True).outcome is Outcome.PASS  # an exit saying no rules
    now = _judge_exited_under(lena, TYPICAL_OPENERS)
    assert now.outcome is Outcome.FAIL, now.reason
    assert now.reason.startswith("gateway drew 2 it-broke tickets from 2 of the people")
    assert judge_ticket(lena).outcome is Outcome.FAIL  # and before any exit


def test_an_exit_judged_before_needed_each_component_that_drew_the_most_tickets(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The earlier rule is kept whole, not half: two components that drew the most tickets
    each needed one. dan's baseline fix alone, beside cam's three gateway tickets nobody fixed
    (and pia and bea on the model, typical today), kept no exit then and keeps none now."""
    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    cam = enrol(lena, "cam", team="ops")
    for n in range(3):
        fixed = open_ticket(dan, f"install ({n})", category="it-broke", component="baseline")
        open_ticket(cam, f"gateway 502 ({n})", category="it-broke", component="gateway")
        clock.advance(hours=1)
        resolve_ticket(sam, fixed.id, note="fixed the install script")
        clock.advance(hours=1)
        confirm_fix(dan, fixed.id)
    for who in (pia, bea):
        open_ticket(who, "triage sorts wrong", category="it-broke", component="model:m")
    result = _judge_exited_under(lena, TYPICAL_OPENERS - 1)
    assert result.outcome is Outcome.FAIL, result.reason
    assert result.reason.startswith("model:m drew 2 it-broke tickets from 2 of the")


def test_she_cannot_confirm_the_fix_of_a_ticket_someone_else_opened(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """bea and pia tie (one ticket each); sam resolves both and bea confirms neither her own
    nor, by any route, pia's: the command refuses her, and a ticket.fixed she signs herself
    around it counts for nobody. pia's own confirmation passes it."""
    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    theirs = {
        who: open_ticket(key, "it broke", category="it-broke", component=component).id
        for who, key, component in (("pia", pia, "baseline"), ("bea", bea, "gateway"))
    }
    clock.advance(hours=1)
    for ticket in theirs.values():
        resolve_ticket(sam, ticket, note="fixed")
    clock.advance(hours=1)
    with pytest.raises(Refused, match="only the person who hit the problem"):
        confirm_fix(bea, theirs["pia"])
    resolution = find_ticket(lena, theirs["pia"]).resolution
    assert resolution is not None
    bea.record_fact(None, "ticket.fixed", {"ticket": theirs["pia"],
                    "resolution": resolution.fact.id, "text": ""},
                    provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    result = judge_ticket(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"pia runs `inhouse support confirm-fix {theirs['pia']}`" in result.reason
    assert f"bea runs `inhouse support confirm-fix {theirs['bea']}`" in result.reason
    confirm_fix(pia, theirs["pia"])
    assert judge_ticket(lena).outcome is Outcome.PASS


def test_an_honest_team_passes_with_one_typical_fix_confirmed(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """An honest team: pia and bea hit the baseline, dan and cam the gateway (a tie), eve the
    model once. sam fixes bea's baseline ticket and bea confirms; the gateway's fixes are not
    confirmed yet. Play 5's ticket check holds, and names what is still open."""
    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    cam = enrol(lena, "cam", team="ops")
    eve = enrol(lena, "eve", team="hr")
    opened = {
        who: open_ticket(key, "it broke", category="it-broke", component=component).id
        for who, key, component in (
            ("pia", pia, "baseline"), ("bea", bea, "baseline"), ("dan", dan, "gateway"),
            ("cam", cam, "gateway"), ("eve", eve, "model:m"),
        )
    }  # fmt: skip
    clock.advance(hours=1)
    for who in ("bea", "dan", "eve"):
        resolve_ticket(sam, opened[who], note="fixed")
    clock.advance(hours=1)
    assert judge_ticket(lena).outcome is Outcome.FAIL  # nobody confirmed a fix yet
    confirm_fix(eve, opened["eve"])  # the model, which one person hit, is not typical
    result = judge_ticket(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "model:m" not in result.reason
    confirm_fix(bea, opened["bea"])
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith(
        f"baseline drew 2 it-broke tickets from 2 of the people using it; {opened['bea']} "
        "resolved by sam"
    )
    assert "gateway drew as many people's it-broke tickets, none counted yet" in result.reason
