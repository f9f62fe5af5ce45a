"""A ticket opened or resolved through a dashboard session is the dashboard host's word until
its person confirms it with their own key. The host holds the session key of everyone signed in
(bea answered the survey, pia looked at the board: both honest sign-ins) and could open and
resolve a ticket in their names within their sessions; play 5's check would count it as theirs,
sidestepping the confirmation an imported step needs. Each confirms with ``inhouse support
confirm`` on their own machine, and then it counts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed, Refused
from inhouse.identity import SigningKey
from inhouse.identity.delegation import delegation_statement, sign_delegation
from inhouse.program import Program
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.queue import confirm_fix, confirm_ticket, open_ticket, resolve_ticket
from tests.conftest import Clock
from tests.people import enrol
from tests.support.test_ticket_word_order import _program


def _signed_in(person: Program) -> Program:
    """What ``inhouse web login`` makes: the person signs, with their own key, a delegation to
    a session key the dashboard's host made and keeps."""
    session = SigningKey.generate()
    now = person.clock()
    who = str(person.state().person_of_key(person.key.key_id))
    statement = delegation_statement(
        program=person.state().program_id, person=who, key_id=person.key.key_id,
        session_key=session.public_key, nonce=f"n-{who}", issued=now,
        expires=now + timedelta(hours=2),
    )  # fmt: skip
    return person.delegated(session, sign_delegation(person.key, statement, now=now))


def _cast(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program]:
    """lena leads; omar built the baseline; bea and pia, who built nothing, use it."""
    lena, _ = _program(request, folder, clock)
    return lena, enrol(lena, "bea", team="sales"), enrol(lena, "pia", team="sales")


def _judged(lena: Program) -> Result:
    ctx = context_for(lena.state(), lena.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def test_a_ticket_the_dashboard_host_filed_and_resolved_counts_once_each_person_confirms(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, bea, pia = _cast(request, _isolated, clock)
    ticket = open_ticket(_signed_in(bea), "model answers garbage", category="it-broke",
                         component="baseline")  # fmt: skip
    resolve_ticket(_signed_in(pia), ticket.id, note="re-pulled the weights")
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"bea opened it through a dashboard session (fact #{ticket.opened.fact.id})" in (
        result.reason
    )
    assert f"`inhouse support confirm {ticket.id}`" in result.reason
    # a session cannot confirm for its person: a confirmation is never the dashboard's to sign
    with pytest.raises(NotAllowed, match=r"a session may not sign ticket\.confirmed facts"):
        confirm_ticket(_signed_in(bea), ticket.id)
    confirm_ticket(bea, ticket.id)  # bea, on her own machine: she did file it
    result = _judged(lena)
    assert result.outcome is Outcome.FAIL and "pia resolved it through a dashboard session" in (
        result.reason
    )
    # what pia is asked before her key signs: the session, not an import, said she resolved it
    asked: list[str] = []
    with pytest.raises(NotAllowed, match="not confirmed, nothing recorded for pia"):
        confirm_ticket(pia, ticket.id, agree=lambda lines: bool(asked.extend(lines)))
    assert asked[-1].startswith(
        "a dashboard session signed in your name (its host holds the session's key): you "
        "resolved it, "
    ), asked
    assert asked[-1].endswith(": re-pulled the weights"), asked
    confirm_ticket(pia, ticket.id, agree=lambda lines: True)
    assert f"bea runs `inhouse support confirm-fix {ticket.id}`" in _judged(lena).reason
    # nor does a session say the fix worked for its person
    with pytest.raises(NotAllowed, match=r"a session may not sign ticket\.fixed facts"):
        confirm_fix(_signed_in(bea), ticket.id)
    confirm_fix(bea, ticket.id)
    assert _judged(lena).outcome is Outcome.PASS
    with pytest.raises(Refused, match="already confirmed"):
        confirm_ticket(pia, ticket.id)


def test_a_ticket_filed_with_ones_own_key_needs_only_the_openers_word_on_the_fix(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, bea, pia = _cast(request, _isolated, clock)
    ticket = open_ticket(bea, "model answers garbage", category="it-broke", component="baseline")
    resolve_ticket(pia, ticket.id, note="re-pulled the weights")
    confirm_fix(bea, ticket.id)
    assert _judged(lena).outcome is Outcome.PASS
    with pytest.raises(Refused, match="opened here, not imported"):
        confirm_ticket(pia, ticket.id)
