"""The outsider through the dashboard's host and the exit event: lena runs the dashboard (its
process, its session keys), the program's database and her own key.

A handoff's acceptance is its receiver's act, approved with their own key when it goes through
a dashboard session; the exit event written beside it (``play.exited``) is not approved by
anyone: the session signs it alone, and through the Python API whoever accepted may append it
whenever they like. Every rule an exit spares by its mark (an earlier rule kept for a play that
exited under it, ``CheckContext.spared`` and the checks reading ``ctx.exited``) read that mark
from the exit event. So an exit appended after the acceptance, once lena had recorded more,
spared facts the receiver never saw: what was accepted is the log as it stood at the
acceptance (closed: the first exit's mark is the acceptance it follows, and the facts an exit
names are kept only where they are by it).

An exit event that names no facts at all read as one written before exits named them, and
spared every fact by its mark (closed: where the log before its acceptance shows an inhouse
that says its rules, every one of which names an exit's facts, it is read as naming none).
Left open: the list an exit names is
its writer's, not its receiver's: through a session the host writes it, unapproved, and may
name any fact by the acceptance, including ones today's rule left out (which leave the
acceptance's hash as it was); with the omission open, narrowing that list to what the fold's
own judgment of the exit cites would close nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.evaluation import context_for
from inhouse.program.events import EventKind, append, read_events
from inhouse.program.state import fold
from tests.conftest import Clock
from tests.test_engine import HERE, LOCK, measured
from tests.test_exit_evidence import PROVE, _another_fact, _offered
from tests.test_session_approval import _acceptance, _approval, _fresh, _session, cast  # noqa: F401

pytestmark = pytest.mark.usefixtures("on_database")

#: play 2's id
BASELINE = "baseline"


@pytest.fixture
def program(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """lena's program, she alone: play 1 is hers to prove, offer and receive."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    yield lena
    lena.close()


def _refolded(who: Program) -> Any:
    return fold(read_events(who.store), lead_key=who.settings.lead_key)


def test_an_exit_she_appends_after_more_facts_spares_none_of_them(
    program: Program,
) -> None:
    """lena accepts play 1's handoff (hers to receive here), records a fact, and only then
    appends the exit, naming that fact among those it was judged on: the exit's mark is her
    acceptance, and the fact recorded after it is spared by no earlier rule."""
    verdict, digest = _offered(program)
    accepted = program._append(
        EventKind.HANDOFF_ACCEPTED, "lena", {"play": PROVE, "evidence_hash": digest, "comment": ""}
    )
    later = _another_fact(program)
    program._append(
        EventKind.PLAY_EXITED,
        "lena",
        {"play": PROVE, "evidence_hash": digest, "evidence": [verdict, later.id]},
    )
    ctx = context_for(program.state(), program.clock())
    assert not ctx.spared(PROVE, later)
    assert ctx.exited[PROVE][1] < later.id  # the mark every earlier rule reads
    facts = {f.id: f for f in program.state().facts}
    assert ctx.spared(PROVE, facts[verdict])
    for state in (program.state(), _refolded(program)):
        assert state.first_exited[PROVE][1] == accepted.seq
        assert state.first_judged[PROVE] == frozenset({verdict})
    assert verify_chain(program.store, lead_key=program.settings.lead_key).ok


def test_the_host_holding_back_a_receivers_exit_spares_nothing_recorded_meanwhile(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """omar accepts play 2's handoff through lena's dashboard, approving exactly that
    acceptance with his own key. Her server writes the acceptance, holds the exit back, lets
    her record a verify of her own, then signs the exit with omar's session key (an exit needs
    no approval), naming it and dated after it: neither the exit's mark nor its list reaches
    her verify. The receiver accepted the log as it stood at his acceptance."""
    lena, omar = cast["lena"], cast["omar"]
    _, key, delegation = _session(lena, omar)
    payload = _acceptance(lena)
    approval = _approval(omar.key, delegation, EventKind.HANDOFF_ACCEPTED, payload, lena.clock())
    accepted = append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
                      {**payload, "delegation": delegation, "approval": approval},
                      at=lena.clock(), key=key)  # fmt: skip
    hers = measured(lena, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    cited = [f.id for f in lena.state().facts if f.kind == "baseline.verify"]
    assert hers.id in cited
    append(lena.store, EventKind.PLAY_EXITED, "omar",
           {"play": BASELINE, "evidence_hash": payload["evidence_hash"], "evidence": cited,
            "delegation": delegation}, at=lena.clock(), key=key)  # fmt: skip
    fresh = _fresh(lena)
    try:
        state = fresh.state()
        assert state.tampered is None
        assert state.handoffs[BASELINE].decided_by == "omar"
        ctx = context_for(state, fresh.clock())
        assert not ctx.spared(BASELINE, next(f for f in state.facts if f.id == hers.id))
        assert ctx.exited[BASELINE][1] < hers.id  # the mark every earlier rule reads
        assert state.first_exited[BASELINE][1] == accepted.seq
        assert hers.id not in state.first_judged[BASELINE]
        assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


def test_an_honest_exit_keeps_its_mark_and_every_fact_it_names(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """omar accepts play 2's handoff with his own key: the exit, written right after, names
    his verify, which its mark reaches and the earlier rules spare."""
    lena, omar = cast["lena"], cast["omar"]
    omar.accept_handoff(None, 2, comment="ok")
    state = _refolded(lena)
    exits = [e for e in read_events(lena.store) if e.kind == EventKind.PLAY_EXITED]
    (exit_,) = [e for e in exits if e.payload["play"] == BASELINE]
    assert state.first_exited[BASELINE][1] == exit_.seq - 1  # the acceptance, just before
    verify = next(f for f in state.facts if f.kind == "baseline.verify" and f.by == "omar")
    assert state.first_judged[BASELINE] == frozenset(exit_.payload["evidence"])
    assert verify.id in state.first_judged[BASELINE]
    assert context_for(state, lena.clock()).spared(BASELINE, verify)


def test_an_exit_she_appends_naming_no_facts_spares_no_more_than_one_naming_them(
    program: Program,
) -> None:
    """lena drops the list from the exit she appends around the API, in a program this inhouse
    created (its creation and her colleagues' enrolments say the rules it judges by): the exit
    is read as naming none, not as an older inhouse's, and status says so."""
    verdict, digest = _offered(program)
    hypothesis = next(
        f for f in program.state().facts if f.kind == "hypothesis" and f.id != verdict
    )
    program._append(
        EventKind.HANDOFF_ACCEPTED, "lena", {"play": PROVE, "evidence_hash": digest, "comment": ""}
    )
    program._append(EventKind.PLAY_EXITED, "lena", {"play": PROVE, "evidence_hash": digest})
    ctx = context_for(program.state(), program.clock())
    assert not ctx.spared(PROVE, hypothesis)  # the play 1 exit was judged on its verdict
    warnings = " ".join(program.status()["warnings"])
    assert "names none of the facts it was judged on, though the events before it" in warnings
