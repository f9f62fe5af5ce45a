"""An exit's ``rules`` (which stricter readings judged it) is typed by whoever writes the exit,
the very person its play judges: an exit appended around the API saying fewer rules (or none)
would buy the laxer readings an honest exit written before a rule keeps. The fold reads an
exit as judged by no fewer rules than the log shows were in force at its mark: the rules every
event inhouse writes says (the program's creation, a person's enrolment, a handoff's offer and
decision, an exit), and a fact of a kind that came with a rule (``usage.confirmed``). A
colleague's event is not the judged person's to lower; an honest exit written before any of
it keeps its earlier rules."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Program
from inhouse.program.checks import (
    AUTHOR_MEASURED,
    CONFIRMED_USE,
    EVERY_ENROLLER,
    EXIT_RULES,
    GATEWAY_HOST,
    OWN_USE,
    RUNS_CONFIRMED,
    TEAM_READING,
)
from inhouse.program.evaluation import context_for
from inhouse.program.events import Event, EventKind, read_events
from inhouse.program.facts import Fact, Provenance
from inhouse.program.state import _rules_shown, fold
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import cast, omar, program, prove  # noqa: F401
from tests.test_exit_evidence import PROVE, _exit_by_hand, _offered

pytestmark = pytest.mark.usefixtures("on_database")

#: every rule kept for exits judged before it
RULES = (OWN_USE, CONFIRMED_USE, GATEWAY_HOST, AUTHOR_MEASURED, TEAM_READING, EVERY_ENROLLER)


def _refolded(who: Program) -> Any:
    return fold(read_events(who.store), lead_key=who.settings.lead_key, playbook=who.playbook)


def _older_inhouse(monkeypatch: pytest.MonkeyPatch, rules: int = 0) -> None:
    """What an inhouse from before the rules (or judging by ``rules``) writes: each writer of
    the stamp reads it from its own module."""
    from inhouse.program import engine, handoffs, people, waivers

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", rules)


@pytest.fixture
def old_cast(request: pytest.FixtureRequest) -> Iterator[dict[str, Program]]:
    """lena's program, created and joined by an inhouse from before exits said their rules
    (the stamp put back afterwards: the upgrade)."""
    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older)
        found: dict[str, Program] = request.getfixturevalue("cast")
    yield found


@pytest.mark.parametrize("said", [None, 0, 1])
def test_an_exit_claiming_fewer_rules_than_the_program_was_created_under_spares_nothing(
    program: Program,  # noqa: F811
    said: int | None,
) -> None:
    """The forgery: lena, created her program with this inhouse, accepts play 1 and appends its
    exit herself with her own key, saying fewer rules (or none), so that every rule kept for
    exits judged before it spares the facts it names. The creation (and omar's and sam's
    enrolments) say the rules this inhouse judges by: the exit is read as judged by them."""
    verdict, digest = _offered(program)
    _exit_by_hand(program, digest, evidence=[verdict], **({} if said is None else {"rules": said}))
    for state in (program.state(), _refolded(program)):
        assert state.first_rules[PROVE] == EXIT_RULES
        assert PROVE in state.first_exited  # it exited: play 1's checks held
    ctx = context_for(program.state(), program.clock())
    facts = {f.id: f for f in program.state().facts}
    assert ctx.spared(PROVE, facts[verdict])  # today's rules judged it
    for rule in RULES:
        assert not ctx.spared(PROVE, facts[verdict], rule=rule)
        assert not ctx.exited_before(PROVE, rule)


def test_an_honest_exit_written_before_the_rules_keeps_them(
    old_cast: dict[str, Program], clock: Clock
) -> None:
    """An inhouse from before the rules runs play 1 through its API: its exit says none, and
    the log before it shows none. After the upgrade colleagues write events that say the rules,
    and the exit keeps its earlier ones (it stays exited, its facts spared); a later exit
    appended around the API saying none is read as judged by them."""
    lena = old_cast["lena"]
    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older)
        prove(lena)
        lena.offer_handoff(None, 1, to="lena")
        lena.accept_handoff(None, 1, comment="I can build on this")
    # the upgrade
    (verdict,) = [f for f in lena.state().facts if f.kind == "trial.verdict"]
    enrol(lena, "ben", team="ops", roles=["play-owner"])  # joins with today's inhouse
    for state in (lena.state(), _refolded(lena)):
        assert PROVE in state.first_exited
        assert state.first_rules.get(PROVE, 0) == 0
        assert state.rules_seen == EXIT_RULES
    ctx = context_for(lena.state(), clock.now)
    for rule in RULES:
        assert ctx.spared(PROVE, verdict, rule=rule)
        assert ctx.exited_before(PROVE, rule)


def test_a_colleagues_event_bounds_an_exit_in_a_program_created_before_the_rules(
    old_cast: dict[str, Program], clock: Clock
) -> None:
    """The program was created (and omar and sam joined) before exits said their rules; ben
    joins with today's inhouse, his enrolment signed by his own new key saying the rules it
    judges by. lena then appends play 1's exit herself saying none: the log showed the rules in
    force before her acceptance, and her exit is read as judged by them."""
    lena = old_cast["lena"]
    enrol(lena, "ben", team="ops", roles=["play-owner"])
    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older)  # lena's own events say none
        verdict, digest = _offered(lena)
    _exit_by_hand(lena, digest, evidence=[verdict])
    for state in (lena.state(), _refolded(lena)):
        assert state.first_rules[PROVE] == EXIT_RULES
    facts = {f.id: f for f in lena.state().facts}
    ctx = context_for(lena.state(), clock.now)
    for rule in RULES:
        assert not ctx.spared(PROVE, facts[verdict], rule=rule)


def test_an_exit_is_bounded_by_the_log_at_its_acceptance_not_after(
    old_cast: dict[str, Program], clock: Clock
) -> None:
    """The mark is the acceptance: a colleague's event written between an acceptance (by an
    inhouse from before the rules) and its exit event, appended later, does not reach back."""
    lena = old_cast["lena"]
    with pytest.MonkeyPatch.context() as older:
        _older_inhouse(older)
        verdict, digest = _offered(lena)
    lena._append(EventKind.HANDOFF_ACCEPTED, "lena",
                 {"play": PROVE, "evidence_hash": digest, "comment": ""})  # fmt: skip
    enrol(lena, "ben", team="ops", roles=["play-owner"])
    lena._append(EventKind.PLAY_EXITED, "lena",
                 {"play": PROVE, "evidence_hash": digest, "evidence": [verdict]})  # fmt: skip
    for state in (lena.state(), _refolded(lena)):
        assert PROVE in state.first_exited
        assert state.first_rules.get(PROVE, 0) == 0


def _event(kind: str, payload: dict[str, Any]) -> Event:
    return Event(1, datetime(2026, 1, 1, tzinfo=UTC), "lena", kind, payload, "0" * 64, "h")


def _fact(kind: str) -> Fact:
    return Fact(
        id=1,
        kind=kind,
        version=1,
        payload={},
        provenance=Provenance.MEASURED,
        by="omar",
        collector="inhouse usage confirm",
        comment=None,
        expires=None,
        at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_what_an_event_shows_of_the_rules() -> None:
    """The stamp counts on the events inhouse stamps, as a whole number above 0; a person's
    own usage confirmation came with the confirmed-use rule; anything else shows none."""
    assert _rules_shown(_event(EventKind.PERSON_ENROLLED, {"rules": 3}), []) == 3
    assert _rules_shown(_event(EventKind.PROGRAM_CREATED, {"rules": "3"}), []) == 0
    assert _rules_shown(_event(EventKind.FACT_RECORDED, {"rules": 3}), []) == 0
    confirmed = _rules_shown(_event(EventKind.FACT_RECORDED, {}), [_fact("usage.confirmed")])
    assert confirmed == CONFIRMED_USE
    assert _rules_shown(_event(EventKind.FACT_RECORDED, {}), [_fact("ticket.opened")]) == 0


def test_a_confirmation_that_binds_its_runs_shows_the_rule() -> None:
    """A confirmation naming its runs (``runs``, even none) was written by an inhouse that
    judges by exit rule 32 (``RUNS_CONFIRMED``): an exit after it saying fewer spares none."""
    bound = replace(_fact("usage.confirmed"), payload={"runs": {}})
    assert _rules_shown(_event(EventKind.FACT_RECORDED, {}), [bound]) == RUNS_CONFIRMED


def test_a_new_program_and_its_people_say_the_rules(_isolated: Path, clock: Clock) -> None:
    """What the bound reads: the creation and every enrolment say the rules this inhouse
    judges by."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    try:
        enrol(lena, "omar", team="support", roles=["play-owner"])
        events = read_events(lena.store)
        created = next(e for e in events if e.kind == EventKind.PROGRAM_CREATED)
        joined = next(
            e for e in events if e.kind == EventKind.PERSON_ENROLLED and e.actor == "omar"
        )
        said = [created.payload["rules"], joined.payload["rules"]]
        assert said == [EXIT_RULES, EXIT_RULES]
    finally:
        lena.close()
