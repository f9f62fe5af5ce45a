"""`ticket-resolved-without-builder`: a resolution is the resolver's word that the problem is
fixed. The support owner (play 5's owner, judged by this check, who built nothing) resolves a
user's open "it broke" ticket on the typical component with a made-up note, and the check
passes at once: the reopen window never has to pass, and the user's reopen afterwards cannot
undo play 5's exit. A resolution now counts once the ticket's opener (who hit the problem)
confirms the fix with their own key (`inhouse support confirm-fix`); a confirmation anyone else
signs (the support owner, a lead, on the opener's behalf, a second name on the lead's machine)
does not count, and a reopening afterwards still takes it back. A play 5 exit already in the log
keeps the unconfirmed resolution it was judged on."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import Refused
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.support.queue import (
    confirm_fix,
    open_ticket,
    reopen_ticket,
    resolve_ticket,
)
from tests.conftest import Clock
from tests.people import enrol
from tests.support.judging import judge_ticket as _judge
from tests.support.judging import support_world


def _world(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> tuple[Program, Program, Program, str]:
    """The play 5 world (tests/support/judging.py); pia's ticket is resolved by sam. Returns
    lena, sam, pia and the ticket's id."""
    lena, _, sam, pia, _ = support_world(request, _isolated, clock)
    broke = open_ticket(pia, "the model is gone", category="it-broke", component="baseline")
    clock.advance(hours=1)
    # the forgery: sam marks pia's ticket fixed with a made-up note; pia has said nothing
    resolve_ticket(sam, broke.id, note="fixed")
    return lena, sam, pia, broke.id


def _awaits(ticket: str) -> str:
    return (
        f"{ticket} resolved by sam; pia, who opened it, has not confirmed the fix: pia runs "
        f"`inhouse support confirm-fix {ticket}` with their own key (or reopens it)"
    )


def test_the_support_owner_resolving_a_users_ticket_alone_does_not_pass(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, pia, ticket = _world(request, _isolated, clock)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert _awaits(ticket) in result.reason
    # honest: pia, who hit it, says it is fixed with her own key
    clock.advance(hours=1)
    confirm_fix(pia, ticket, text="works again")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{ticket} resolved by sam, not one of" in result.reason
    assert "fix confirmed by pia" in result.reason
    # her reopening afterwards still takes it back
    clock.advance(days=1)
    reopen_ticket(pia, ticket, reason="broke again")
    assert _judge(lena).outcome is Outcome.FAIL


def test_a_fix_confirmed_by_anyone_but_the_opener_does_not_count(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, sam, _, ticket = _world(request, _isolated, clock)
    for who in (sam, lena):  # the support owner, a lead: refused by the command
        with pytest.raises(Refused, match="only the person who hit the problem"):
            confirm_fix(who, ticket)
    resolution = next(f for f in lena.state().facts if f.kind == "ticket.resolved")
    payload = {"ticket": ticket, "resolution": resolution.id, "text": "fixed"}
    # through the Python API: sam, and lena on pia's behalf
    sam.record_fact(None, "ticket.fixed", payload,
                    provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    lena.record_fact("pia", "ticket.fixed", payload, provenance=Provenance.ATTESTED,
                     comment="pia told me it works")  # fmt: skip
    # a second name joined on lena's laptop
    alias = enrol(lena, "pia2", team="sales", machine="lena-laptop")
    alias.record_fact(None, "ticket.fixed", payload,
                      provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert _awaits(ticket) in result.reason


def test_a_play_five_exit_already_in_the_log_keeps_its_unconfirmed_resolution(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, _, ticket = _world(request, _isolated, clock)
    assert _judge(lena).outcome is Outcome.FAIL
    result = _judge(lena, exited=True)
    assert result.outcome is Outcome.PASS, result.reason
    assert (
        f"{ticket} resolved by sam, not one of its builders (omar) (pia has not confirmed the "
        "fix: it counts because play 5 (support) exited before the opener's confirmation was "
        "asked for)" in result.reason
    )
