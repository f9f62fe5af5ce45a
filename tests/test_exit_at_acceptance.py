"""A play's exit is judged where it is marked: at its acceptance, on the log as it stood there,
not at the exit event its receiver appends after it.

The forgery: lena owns play 1 and receives it (play 1 → 2 is the same person by design), so
she alone offers and accepts it. Around the API (which judges the exit checks before writing
the acceptance and the exit together) she accepts it while no trial verdict is on record,
gathers the evidence days later, and only then appends the exit event. The fold judged the
exit at that event, where the verdict was in the log: the exit counted, marked at her
acceptance, so the play had exited, and every window counted from its exit opened, before
anything showed it worth it. The reverse is an honest exit set aside: an acceptance whose
checks held, its exit event written after a later fact changed them."""

from __future__ import annotations

from pathlib import Path

from inhouse.program import Program
from inhouse.program.checks import EXIT_RULES
from inhouse.program.events import EventKind
from tests.conftest import Clock
from tests.test_engine import measured, prove

PLAY = "prove-value"
HASHED = {"play": PLAY, "evidence_hash": "x" * 64}


def _program(folder: Path, clock: Clock) -> Program:
    lena = Program.init(folder, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    return lena


def _accepted_around_the_api(lena: Program) -> int:
    """lena offers play 1 to herself and accepts it, each event appended around the API;
    returns the acceptance's seq."""
    lena._append(EventKind.HANDOFF_OFFERED, "lena", {**HASHED, "to": "lena", "comment": ""})
    return lena._append(EventKind.HANDOFF_ACCEPTED, "lena", {**HASHED, "comment": ""}).seq


def _exit(lena: Program, cited: list[int]) -> int:
    """The exit event, appended by its receiver as the engine writes one; returns its seq."""
    payload = {**HASHED, "evidence": cited, "rules": EXIT_RULES}
    return lena._append(EventKind.PLAY_EXITED, "lena", payload).seq


def test_an_exit_appended_after_the_evidence_its_acceptance_lacked_is_no_exit(
    _isolated: Path, clock: Clock
) -> None:
    lena = _program(_isolated, clock)
    lena.record_hypothesis(None, "triage locally", aim="replace-dependency", target="OpenAI")
    lena.start_play(None, 1)
    accepted = _accepted_around_the_api(lena)  # no verdict yet: the API would refuse it
    clock.advance(days=2)
    verdict = measured(
        lena, "trial.verdict", trial="triage", verdict="proven", proven_on=["cheaper"],
        quality_ok=True, candidate={"model": "m0", "digest": "sha256:" + "b" * 64},
        spec_hash="sha256:" + "d" * 64, candidate_pass_rate=0.9, inputs=10,
        quality_floor=5.0, claim_hash="sha256:" + "c" * 64,
    )  # fmt: skip
    exited = _exit(lena, [verdict.id])
    state = lena.state()
    assert state.tampered is None
    assert PLAY not in state.first_exited, state.first_exited  # no first exit: no window opens
    said = [w for w in lena.status()["warnings"] if "it did not exit there" in w]
    assert len(said) == 1, lena.status()["warnings"]
    assert f"event {exited} records play 1 (prove-value) as exited on its acceptance " in said[0]
    assert (
        f"(event {accepted}), but play 1 (prove-value)'s exit checks did not hold then" in (said[0])
    )
    # the honest way from here: offered and accepted again, now that the verdict holds; the
    # play exits at that acceptance, after the evidence it exited on
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1, comment="proven now")
    first = lena.state().first_exited[PLAY]
    assert first[1] > verdict.id
    lena.close()


def test_an_exit_whose_checks_held_at_its_acceptance_stands_whatever_came_after(
    _isolated: Path, clock: Clock
) -> None:
    """The acceptance saw play 1 proven; before its exit event was written (by its receiver, or
    the dashboard's host, later), a later verdict said "not worth it". The play exited at the
    acceptance, on what it saw: the exit stands there (the later verdict makes the acceptance
    stale for the next play, as any change of its evidence does)."""
    lena = _program(_isolated, clock)
    prove(lena)
    proven = lena.state().facts[-1].id
    accepted = _accepted_around_the_api(lena)
    clock.advance(hours=1)
    measured(
        lena, "trial.verdict", trial="triage", verdict="not-worth-it", proven_on=[],
        quality_ok=False, candidate={"model": "m0", "digest": "sha256:" + "b" * 64},
        spec_hash="sha256:" + "d" * 64, candidate_pass_rate=0.2, inputs=10,
        quality_floor=5.0, claim_hash="sha256:" + "c" * 64,
    )  # fmt: skip
    _exit(lena, [proven])
    state = lena.state()
    assert state.tampered is None and state.unmet_exits == [], state.unmet_exits
    assert state.first_exited[PLAY][1] == accepted
    assert state.first_judged[PLAY] == frozenset({proven})
    lena.close()


def test_an_exit_appended_twice_after_an_acceptance_that_did_not_hold_is_no_exit(
    _isolated: Path, clock: Clock
) -> None:
    """The acceptance's judgement stands for every exit event after it, not only the first:
    the first one set aside, lena appends the exit again (she is still its receiver, who
    accepted), and that one was read as the play's first exit, never judged, marked at her
    acceptance made before the evidence existed."""
    lena = _program(_isolated, clock)
    lena.record_hypothesis(None, "triage locally", aim="replace-dependency", target="OpenAI")
    lena.start_play(None, 1)
    accepted = _accepted_around_the_api(lena)  # no verdict yet: the API would refuse it
    clock.advance(days=2)
    verdict = measured(
        lena, "trial.verdict", trial="triage", verdict="proven", proven_on=["cheaper"],
        quality_ok=True, candidate={"model": "m0", "digest": "sha256:" + "b" * 64},
        spec_hash="sha256:" + "d" * 64, candidate_pass_rate=0.9, inputs=10,
        quality_floor=5.0, claim_hash="sha256:" + "c" * 64,
    )  # fmt: skip
    _exit(lena, [verdict.id])
    again = _exit(lena, [verdict.id])
    state = lena.state()
    assert state.tampered is None
    assert PLAY not in state.first_exited, state.first_exited
    said = [w for w in lena.status()["warnings"] if "it did not exit there" in w]
    assert len(said) == 2, lena.status()["warnings"]
    assert f"event {again} records play 1 (prove-value) as exited on its acceptance " in said[1]
    assert f"(event {accepted}), but" in said[1]
    lena.close()
