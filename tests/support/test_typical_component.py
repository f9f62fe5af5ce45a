"""Which component is "typical" for `ticket-resolved-without-builder` is what the people using
it hit, as they said it: a ticket counts under the category and component its opener filed here
or confirmed (`inhouse support confirm`). An import recording a ticket's opening again (the
importer alone, a rollout lead or the support owner) neither takes back nor moves what its
opener confirmed, nor puts a hit where they did not; and it never changes a ticket opened here.

Each forgery has its honest counterpart beside it: the opener confirming the change.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import Refused
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.support.importers.mapping import (
    COLLECTOR,
    Account,
    ActorMap,
    SourceStep,
    SourceTicket,
    record_tickets,
)
from inhouse.support.queue import (
    confirm_fix,
    confirm_ticket,
    find_ticket,
    open_ticket,
    resolve_ticket,
)
from tests.conftest import Clock
from tests.people import enrol
from tests.support.test_ticket_word_order import _honest_world as _world


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"reopen_days": 14})
    return evaluate("ticket-resolved-without-builder", ctx)


def _link(n: int) -> str:
    return f"https://github.com/acme/help/issues/{n}"


def _src(
    clock: Clock,
    n: int,
    opener: str,
    *,
    category: str = "it-broke",
    component: str = "baseline",
    steps: list[SourceStep] | None = None,
) -> SourceTicket:
    return SourceTicket(
        ticket=f"gh:acme/help#{n}", link=_link(n), title="model answers garbage",
        category=category, component=component, description="", opened_by=Account(opener),
        opened_at=clock.now - timedelta(hours=1), steps=steps or [],
    )  # fmt: skip


def _opened_again(
    lena: Program,
    ticket: str,
    actor: str,
    at: str,
    *,
    category: str,
    component: str,
    link: str,
) -> None:
    """An opening recorded again by lena alone, as the importer records one (its collector,
    the ticket's link), saying another category or component."""
    lena.record_fact(None, "ticket.opened", {
        "ticket": ticket, "title": "model answers garbage", "category": category,
        "component": component, "description": "", "external": link, "actor": actor, "at": at,
    }, provenance=Provenance.MEASURED, collector=COLLECTOR)  # fmt: skip


def _confirm_as_before_stated(pia: Program, ticket: str, name: str = "pia") -> None:
    """pia's (``name``'s) confirmation as programs recorded one before confirmations named the
    opening they were given for (no ``stated``): the steps in her name, signed with her key."""
    found = find_ticket(pia, ticket)
    steps = [s.fact.id for s in found.imported_in_name_of(name)]
    pia.record_fact(None, "ticket.confirmed", {"ticket": ticket, "steps": steps, "text": "yes"},
                    provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip


@pytest.mark.parametrize("legacy", [False, True], ids=["confirmed", "confirmed-before-stated"])
@pytest.mark.parametrize(
    "rewrite", [("how-to", "baseline"), ("it-broke", "prompt:triage")], ids=["how-to", "moved"]
)
def test_an_import_recategorising_or_moving_confirmed_tickets_leaves_the_typical_component(
    request: pytest.FixtureRequest,
    _isolated: Path,
    clock: Clock,
    rewrite: tuple[str, str],
    legacy: bool,
) -> None:
    lena, omar, pia, _ = _world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    # what people hit: the baseline broke three times (GitHub tickets pia and dan confirmed),
    # and only its builder omar fixed it
    openers = {1: "pia", 2: "pia", 3: "dan"}
    keys = {"pia": pia, "dan": dan}
    record_tickets(lena, "github", [_src(clock, n, f"{who}-gh") for n, who in openers.items()],
                   ActorMap({"pia-gh": "pia", "dan-gh": "dan"}, []))  # fmt: skip
    clock.advance(hours=1)
    for n, who in openers.items():
        if legacy:
            _confirm_as_before_stated(keys[who], f"gh:acme/help#{n}", who)
        else:
            confirm_ticket(keys[who], f"gh:acme/help#{n}", text="yes, this broke for me")
        resolve_ticket(omar, f"gh:acme/help#{n}", note="restarted")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_3)
    # the forgery: lena records the three openings again, as how-to questions or on the prompt
    # bea fixed; nobody else acts
    clock.advance(hours=1)
    at = (clock.now - timedelta(hours=4)).isoformat()
    category, component = rewrite
    for n, who in openers.items():
        _opened_again(lena, f"gh:acme/help#{n}", who, at, category=category,
                      component=component, link=_link(n))  # fmt: skip
    result = _judge(lena)  # what pia and dan confirmed they hit stays where they put it
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_3)
    assert "gh:acme/help#1 resolved by omar, a builder" in result.reason
    assert "prompt:triage" not in result.reason
    # honest: they confirm the tickets as they stand now, with their own keys: their word moves
    for n, who in openers.items():
        confirm_ticket(keys[who], f"gh:acme/help#{n}", text="right, it was that")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "prompt:triage drew" in result.reason and "resolved by bea" in result.reason
    assert verify_chain(lena.store).ok


#: how the reason starts while pia's and dan's three baseline tickets pick the component
_BASELINE_3 = "baseline drew 3 it-broke tickets from 2 of the people using it"
#: the same for one ticket each
_BASELINE_2 = "baseline drew 2 it-broke tickets from 2 of the people using it"


def test_an_import_turning_confirmed_questions_into_it_broke_tickets_adds_no_hit(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The other way round: the importer makes confirmed how-to questions on the easy component
    "it broke" tickets, so it would draw the most."""
    lena, omar, pia, _ = _world(request, _isolated, clock)
    cam = enrol(lena, "cam", team="ops")
    dan = enrol(lena, "dan", team="finance")
    for opener in (pia, dan):  # what people hit: the baseline, fixed by its builder
        broke = open_ticket(opener, "model answers garbage", category="it-broke",
                            component="baseline")  # fmt: skip
        clock.advance(hours=1)
        resolve_ticket(omar, broke.id, note="restarted")
    # cam asked two questions about the prompt on GitHub, and confirmed them as questions
    questions = [_src(clock, n, "cam-gh", category="how-to", component="prompt:triage")
                 for n in (1, 2)]  # fmt: skip
    record_tickets(lena, "github", questions, ActorMap({"cam-gh": "cam"}, []))
    clock.advance(hours=1)
    for n in (1, 2):
        confirm_ticket(cam, f"gh:acme/help#{n}", text="how do I use it?")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_2)
    # the forgery: lena records both openings again as "it broke" on the prompt
    clock.advance(hours=1)
    at = (clock.now - timedelta(hours=3)).isoformat()
    for n in (1, 2):
        _opened_again(lena, f"gh:acme/help#{n}", "cam", at, category="it-broke",
                      component="prompt:triage", link=_link(n))  # fmt: skip
    result = _judge(lena)  # cam confirmed questions, not breakages: the baseline stays typical
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_2)
    assert "prompt:triage" not in result.reason
    # honest: cam says, with her own key, that they did break: the prompt drew 3 tickets from
    # pia and cam, as many people as the baseline, and one typical component's fix suffices
    for n in (1, 2):
        confirm_ticket(cam, f"gh:acme/help#{n}", text="it did break, yes")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith(
        "prompt:triage drew 3 it-broke tickets from 2 of the people using it"
    )
    assert "resolved by bea" in result.reason


def test_the_reason_names_what_an_import_changed_since_the_opener_confirmed(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, pia, bea = _world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    # an it-broke GitHub ticket of pia's on the baseline, fixed there by bea; both confirm. dan
    # hit the baseline too (still open): the baseline is typical alone
    fix = SourceStep("ticket.resolved", "c-1", clock.now - timedelta(minutes=30),
                     Account("bea-gh"), text="pinned the old weights")  # fmt: skip
    sources = [_src(clock, 1, "pia-gh", steps=[fix]), _src(clock, 2, "dan-gh")]
    record_tickets(lena, "github", sources,
                   ActorMap({"pia-gh": "pia", "bea-gh": "bea", "dan-gh": "dan"}, []))  # fmt: skip
    confirm_ticket(dan, "gh:acme/help#2")
    confirm_ticket(pia, "gh:acme/help#1")
    confirm_ticket(bea, "gh:acme/help#1")
    confirm_fix(pia, "gh:acme/help#1")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    # lena records it again as a how-to question: it still counts as pia's breakage, but not as
    # a fix until pia says what it was
    clock.advance(hours=1)
    at = (clock.now - timedelta(hours=2)).isoformat()
    _opened_again(lena, "gh:acme/help#1", "pia", at, category="how-to", component="baseline",
                  link=_link(1))  # fmt: skip
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_2)
    assert (
        "gh:acme/help#1: only the import says pia opened it (run by lena) as how-to on baseline; "
        "pia confirmed it as it-broke on baseline, and confirms the change with their own key: "
        "`inhouse support confirm gh:acme/help#1`" in result.reason
    )
    # pia confirms it was a question: the prompt's ticket, which bea fixed, is what as many
    # people hit as the baseline (dan's), and one typical component's fix suffices
    confirm_ticket(pia, "gh:acme/help#1")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("prompt:triage drew 1 it-broke ticket")
    assert "baseline drew as many people's it-broke tickets, none counted yet" in result.reason


def test_an_import_never_changes_a_ticket_opened_here_whatever_link_it_carries(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, omar, pia, _ = _world(request, _isolated, clock)
    dan = enrol(lena, "dan", team="finance")
    # dan and pia file a baseline ticket each here, pia's with the link of the issue she also
    # wrote on GitHub (her own Python API call: the ticket is still hers, opened here); omar
    # fixes both. Moved to the prompt, hers would make the prompt (two of hers) typical alone
    plain = open_ticket(dan, "model answers garbage", category="it-broke", component="baseline")
    linked = pia.record_fact(None, "ticket.opened", {
        "ticket": "T-9", "title": "model answers garbage", "category": "it-broke",
        "component": "baseline", "description": "", "external": _link(9),
    }, provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    clock.advance(hours=1)
    for ticket in (plain.id, "T-9"):
        resolve_ticket(omar, ticket, note="restarted")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_2)
    # the forgery: lena, as the importer, records its opening again by that link, on the prompt
    clock.advance(hours=1)
    _opened_again(lena, "T-9", "pia", linked.at.isoformat(), category="it-broke",
                  component="prompt:triage", link=_link(9))  # fmt: skip
    ticket = find_ticket(lena, "T-9")
    assert (ticket.category, ticket.component) == ("it-broke", "baseline")
    with pytest.raises(Refused, match="T-9 was opened here, not imported"):
        confirm_ticket(pia, "T-9")  # nothing on it is the import's word
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith(_BASELINE_2)
