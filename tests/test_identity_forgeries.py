"""One person's forgeries of the record, each appended around the API with their own key, that
the fold (and ``audit verify``) once took: a session key kept past its session, an envelope
imported again under a made-up digest, a waiver of a guard that does not exist, someone's team
rewritten by a non-lead, and a self-handoff that set a play's first exit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import InvalidInput
from inhouse.identity import SigningKey, fact_predicate_type, seal
from inhouse.identity.delegation import delegation_statement, sign_delegation
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome
from inhouse.program.counting import build_context
from inhouse.program.evaluation import trigger_results
from inhouse.program.events import EventKind, append
from inhouse.program.facts import FACT_KINDS, Provenance
from tests.conftest import Clock
from tests.engine import Engine, needs_engine
from tests.people import enrol
from tests.test_engine import (
    HERE,
    LOCK,
    lock_baseline,
    measured,
    play,
    prove,
    reproduce,
    through_play_one,
)

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    yield {"lena": lena, "omar": omar}
    lena.close()


def _stops(program: Program, *, at: int, saying: str) -> None:
    """A fresh fold refuses event ``at``: it stops there (a lead's forgery), or sets it aside
    (a member's: never counted, the fold goes on); the audit names it either way."""
    fresh = Program.open(program.folder, clock=program.clock)
    try:
        state = fresh.state()
        aside = next(((why, seq) for seq, why in state.unauthorized if seq == at), None)
        found = state.tampered or aside
        assert found is not None
        problem, seq = found
        assert seq == at and saying in problem, problem
        assert not verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    finally:
        fresh.close()


def test_a_session_key_kept_past_its_session_signs_nothing_dated_back_into_it(
    cast: dict[str, Program], clock: Clock
) -> None:
    """omar signs in to the dashboard lena runs, for two hours. Weeks later lena, holding the
    session key still, signs omar's acceptance of play 2's handoff dated inside his old window
    and appends it at the head of the log."""
    lena, omar = cast["lena"], cast["omar"]
    session = SigningKey.generate()
    window_start = clock.now
    statement = delegation_statement(
        program=lena.state().program_id, person="omar", key_id=omar.key.key_id,
        session_key=session.public_key, nonce="n-1", issued=clock.now,
        expires=clock.now + timedelta(hours=2),
    )  # fmt: skip
    delegation = sign_delegation(omar.key, statement)
    clock.advance(hours=3)
    through_play_one(lena)
    omar.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    clock.advance(days=20)
    lock_baseline(lena)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    lena.offer_handoff(None, 2, to="omar")
    digest = lena.state().handoffs["baseline"].offer_hash
    accepted = append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
                      {"play": "baseline", "evidence_hash": digest, "comment": "ok",
                       "delegation": delegation},
                      at=window_start + timedelta(minutes=30), key=session)  # fmt: skip
    _stops(lena, at=accepted.seq, saying="a session key kept past its session")


def _answer(person: str, answer: str) -> dict[str, Any]:
    return {"kind": "survey.response", "version": FACT_KINDS["survey.response"].version,
            "provenance": Provenance.MEASURED.value, "collector": "inhouse survey",
            "payload": {"person": person, "would_resist_losing": answer == "very",
                        "survey": "ellis-1", "answer": answer, "benefit": ""}}  # fmt: skip


def test_an_envelope_imported_again_under_another_digest_is_refused(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """omar's "very" came in as an envelope; he later answered "not" in the log. Imported again
    around the API with a made-up digest, his withdrawn word would be his latest again."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    request.addfinalizer(lena.close)
    omar_key = SigningKey.generate()
    lena.join(str(lena.invite("omar", team="support")), omar_key, at_machine="omar-laptop")
    omar = lena.using(omar_key)
    lena.record_fact(None, "survey.opened",
                     {"survey": "ellis-1", "closes": (clock.now + timedelta(days=7)).isoformat()},
                     provenance=Provenance.MEASURED, collector="inhouse survey")  # fmt: skip
    envelope = seal(omar_key, program_id=lena.state().program_id,
                    predicate_type=fact_predicate_type("survey.response",
                                                       FACT_KINDS["survey.response"].version),
                    predicate={"fact": _answer("omar", "very"), "at": clock.now.isoformat(),
                               "machine": "omar-laptop"})  # fmt: skip
    lena.import_evidence([envelope])
    clock.advance(hours=2)
    omar.record_fact(None, "survey.response", _answer("omar", "not")["payload"],
                     provenance=Provenance.MEASURED, collector="inhouse survey")  # fmt: skip
    assert "already imported" in lena.import_evidence([envelope])[0]
    forged = {"envelope": envelope, "digest": "f" * 64, "key_id": omar_key.key_id}
    replay = lena._append(EventKind.EVIDENCE_IMPORTED, "lena", forged)
    _stops(lena, at=replay.seq, saying="another digest than the envelope's own")
    latest = build_context(lena.state(), clock.now).facts.latest("survey.response")
    assert latest is not None and latest.payload["answer"] == "not"


def test_a_waiver_of_no_guard_clears_nothing(cast: dict[str, Program], clock: Clock) -> None:
    """A start held back as a botched handoff; lena appends a waiver of "unchecked" (no guard:
    the API refuses the name), which once cleared every held-back action program-wide."""
    lena, omar = cast["lena"], cast["omar"]
    prove(lena)
    omar.request_access(reason="I want the triage model")
    lena._append(EventKind.PLAY_STARTED, "lena",
                 {"play": "baseline", "owner": "lena", "waivers": []})  # fmt: skip
    assert [h["guard"] for h in play(lena, 2)["held_back"]] == ["botched-handoff"]
    with pytest.raises(InvalidInput):
        lena.grant_waiver(None, "unchecked", reason="other", note="x",
                          expires=clock.now + timedelta(days=1))  # fmt: skip
    waiver = lena._append(EventKind.WAIVER_GRANTED, "lena", {
        "guard": "unchecked", "play": None, "reason": "other", "note": "tidy",
        "expires": (clock.now + timedelta(days=1)).isoformat()})  # fmt: skip
    _stops(lena, at=waiver.seq, saying="which is no guard")


def test_only_a_lead_changes_someones_team_or_e_mail(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """Teams feed pilot-size's team spread and champions; the API has no way for a non-lead to
    change one, but a person.changed keeping the roles once passed the fold."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    request.addfinalizer(lena.close)
    ada = enrol(lena, "ada", team="support")
    enrol(lena, "bo", team="support")
    ada.change_roles(None, "bo")  # the API's no-op: the same roles, team and e-mail
    moved = {"name": "bo", "email": "bo@elsewhere", "team": "legal", "roles": []}
    changed = ada._append(EventKind.PERSON_CHANGED, "ada", moved)
    _stops(lena, at=changed.seq, saying="only a lead changes someone's roles, team or e-mail")


@pytest.mark.usefixtures("real_model")
@needs_engine
def test_a_self_handoff_marks_no_first_exit(
    request: pytest.FixtureRequest, engine: Engine, _isolated: Path, clock: Clock
) -> None:
    """While the pilot runs, lena hands play 4 to herself around the API. Play 5's
    widening-requested counts requests made after play 4 first exited, so the pilot's own
    demand (zed's) would become widening demand once the real handoff came."""
    from inhouse.support.queue import name_owner
    from tests.pilot.test_play_four_walk import walk_play_four

    lena, people = walk_play_four(engine, _isolated, clock)
    request.addfinalizer(lena.close)
    sam = people["sam"]
    for kind, body in ((EventKind.HANDOFF_OFFERED, {"to": "lena", "comment": ""}),
                       (EventKind.HANDOFF_ACCEPTED, {"comment": ""}),
                       (EventKind.PLAY_EXITED, {})):  # fmt: skip
        lena._append(kind, "lena", {"play": "pilot", "evidence_hash": "x", **body})
    assert "pilot" not in lena.state().first_exited
    clock.advance(hours=1)
    zed = enrol(lena, "zed", team="sales")
    zed.request_access(reason="sales wants it too")  # the pilot's own demand
    clock.advance(hours=1)
    name_owner(lena, "sam")
    lena.offer_handoff(None, "pilot", to="sam", comment="findings")
    sam.accept_handoff(None, "pilot", comment="mine")
    clock.advance(hours=1)
    found = trigger_results(lena.playbook.play("support"), lena.state(), lena.clock())
    widening = next(i.result for i in found if i.ref.check == "widening-requested")
    assert widening.outcome is Outcome.FAIL
    assert "zed asked before play 4 (pilot) exited" in widening.reason


def test_a_colleagues_fast_clock_stops_no_session(cast: dict[str, Program], clock: Clock) -> None:
    """omar uses the dashboard four minutes before his session ends; lena's laptop clock runs
    twenty minutes fast and she wrote a minute earlier. One fast clock stops nothing."""
    lena, omar = cast["lena"], cast["omar"]
    session = SigningKey.generate()
    statement = delegation_statement(
        program=lena.state().program_id, person="omar", key_id=omar.key.key_id,
        session_key=session.public_key, nonce="n-2", issued=clock.now,
        expires=clock.now + timedelta(hours=2),
    )  # fmt: skip
    delegation = sign_delegation(omar.key, statement)
    clock.advance(hours=1, minutes=55)
    lena.clock = lambda: clock.now + timedelta(minutes=20)  # type: ignore[method-assign]
    lena.change_roles(None, "omar", add=["champion"])
    lena.clock = clock  # type: ignore[method-assign]
    clock.advance(minutes=1)
    from inhouse.support.queue import open_ticket

    open_ticket(omar.delegated(session, delegation), "Summaries are empty",
                category="it-broke", component="baseline")  # fmt: skip
    fresh = Program.open(lena.folder, clock=clock)
    try:
        assert fresh.state().tampered is None, fresh.state().tampered
    finally:
        fresh.close()
