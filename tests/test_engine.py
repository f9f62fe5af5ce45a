"""The engine end to end through its Python API, on SQLite and PostgreSQL: handoffs, staleness,
the guards, waivers and their expiry, the honest stop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import (
    AntiPattern,
    InvalidInput,
    NotAllowed,
    ProgramStopped,
    Refused,
    UnknownPerson,
)
from inhouse.program import Program, Provenance, Reach
from tests.conftest import Clock

pytestmark = pytest.mark.usefixtures("on_database")

LOCK = "lock" + "a" * 60
DIGEST = "sha256:" + "b" * 64


@pytest.fixture
def program(_isolated: Path, clock: Clock) -> Iterator[Program]:
    prog = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    prog.change_roles("lena", "lena", add=["play-owner"])
    prog.add_person("lena", "omar", team="support", roles=["play-owner"])
    prog.add_person("lena", "sam", team="it", roles=["support-owner"])
    yield prog
    prog.close()


def measured(program: Program, kind: str, by: str = "lena", **payload: Any) -> Any:
    return program.record_fact(by, kind, payload, provenance=Provenance.MEASURED, collector="test")


def prove(program: Program, verdict: str = "proven") -> None:
    program.record_hypothesis("lena", "triage locally", aim="replace-dependency", target="OpenAI")
    program.start_play("lena", 1)
    measured(
        program,
        "trial.verdict",
        trial="triage",
        verdict=verdict,
        proven_on=["cheaper"],
        quality_ok=True,
    )


def through_play_one(program: Program) -> None:
    prove(program)
    program.offer_handoff("lena", 1, to="lena")
    program.accept_handoff("lena", 1, comment="I can build on this")


def lock_baseline(program: Program, lock_hash: str = LOCK) -> None:
    measured(
        program,
        "baseline.lock",
        lock_hash=lock_hash,
        runtime={"family": "llamacpp", "version": "b4500"},
        models=[{"name": "m0", "digest": DIGEST}],
        rules_hash="r" * 64,
    )
    measured(program, "baseline.install_script", lock_hash=lock_hash, sha256="c" * 64)


def through_play_two(program: Program) -> None:
    through_play_one(program)
    measured(program, "access.request", person="omar")
    program.start_play("lena", 2)
    lock_baseline(program)
    measured(program, "baseline.verify", by="omar", lock_hash=LOCK, passed=True)
    program.offer_handoff("lena", 2, to="omar")
    program.accept_handoff("omar", 2, comment="stood it up from the docs")


def play(program: Program, number: int) -> dict[str, Any]:
    return program.status()["plays"][number - 1]


# -- handoffs -------------------------------------------------------------------------------------


def test_play_one_to_two_is_the_same_person_by_design(program: Program) -> None:
    prove(program)
    with pytest.raises(NotAllowed, match="same person"):
        program.offer_handoff("lena", 1, to="omar")
    program.offer_handoff("lena", 1, to="lena")
    program.accept_handoff("lena", 1)
    assert play(program, 1)["state"] == "exited"
    assert play(program, 1)["handoff"]["decided_by"] == "lena"


def test_a_handoff_needs_the_exit_met(program: Program) -> None:
    program.record_hypothesis("lena", "x", aim="replace-dependency", target="OpenAI")
    program.start_play("lena", 1)
    with pytest.raises(Refused) as err:
        program.offer_handoff("lena", 1, to="lena")
    assert "trial.verdict" in str(err.value.missing)


def test_self_accepted_handoff_is_refused_where_owners_differ(program: Program) -> None:
    through_play_one(program)
    measured(program, "access.request", person="omar")
    program.start_play("lena", 2)
    lock_baseline(program)
    measured(program, "baseline.verify", by="omar", lock_hash=LOCK, passed=True)
    with pytest.raises(NotAllowed, match="different owner"):
        program.offer_handoff("lena", 2, to="lena")
    program.offer_handoff("lena", 2, to="omar")
    with pytest.raises(NotAllowed, match="only the receiver, omar"):
        program.accept_handoff("lena", 2)
    assert play(program, 2)["handoff"]["status"] == "offered"
    program.accept_handoff("omar", 2, comment="works from the docs")
    assert play(program, 2)["state"] == "exited"


def test_receiver_can_reject_with_a_reason_and_the_next_play_stays_shut(program: Program) -> None:
    prove(program)
    program.offer_handoff("lena", 1, to="lena")
    with pytest.raises(InvalidInput, match="say why"):
        program.reject_handoff("lena", 1, comment=" ")
    program.reject_handoff("lena", 1, comment="report lacks the quality numbers")
    measured(program, "access.request", person="omar")
    with pytest.raises(AntiPattern, match="rejected play 1's handoff: report lacks"):
        program.start_play("lena", 2)


def test_acceptance_goes_stale_when_exit_evidence_changes(program: Program) -> None:
    through_play_two(program)
    assert play(program, 2)["handoff"]["stale"] is False
    # a second verify does not change what the exit rested on…
    lock_baseline(program, lock_hash="lock" + "9" * 60)  # …but a re-lock does
    view = play(program, 2)
    assert view["handoff"]["status"] == "accepted"
    assert view["handoff"]["stale"] is True
    assert view["exit_met"] is False  # the earlier verify is for the old lock
    measured(program, "task.named", task="triage", frequency="daily")
    with pytest.raises(AntiPattern, match="stale"):
        program.start_play("omar", 3)


def test_status_records_who_did_what(program: Program) -> None:
    through_play_one(program)
    actors = [(e.kind, e.actor) for e in program.events()]
    assert ("handoff.accepted", "lena") in actors
    assert all(actor for _, actor in actors)


# -- guards ---------------------------------------------------------------------------------------


def test_calendar_driven_advance_is_refused_naming_the_missing_trigger(program: Program) -> None:
    with pytest.raises(AntiPattern) as err:
        program.start_play("lena", 1)
    assert err.value.guard == "calendar-driven-advance"
    assert any("hypothesis" in item for item in err.value.missing)
    refusals = program.status()["refusals"]
    assert refusals[-1]["guards"] == ["calendar-driven-advance"]


def test_botched_handoff_is_refused_naming_the_handoff(program: Program) -> None:
    prove(program)
    measured(program, "access.request", person="omar")  # the trigger of play 2 now holds
    with pytest.raises(AntiPattern) as err:
        program.start_play("lena", 2)
    assert err.value.guard == "botched-handoff"
    assert err.value.missing == ["play 1 (prove-value) handoff accepted by its receiver"]
    assert "has not offered its handoff" in str(err.value)


def test_scaling_before_proving_refuses_pilot_members(program: Program) -> None:
    through_play_one(program)
    with pytest.raises(AntiPattern) as err:
        program.add_person("lena", "pia", team="legal", roles=["pilot-user"])
    assert err.value.guard == "scaling-before-proving"
    assert "play 2 (baseline)" in str(err.value) and "play 3 (workflow)" in str(err.value)
    assert "play 1" not in " ".join(err.value.missing)  # play 1 exited: not missing
    assert "pia" not in program.state().people  # nothing half-done
    # ...but the attempt is demand, measured: someone other than the owner wants in (play 2)
    [request] = [f for f in program.state().facts if f.kind == "access.request"]
    assert (request.payload["person"], request.provenance.value) == ("pia", "measured")
    assert request.payload["reason"] == "add pia to the pilot"


def test_scaling_guard_for_later_issues_refuses_and_returns_waivers(
    program: Program, clock: Clock
) -> None:
    with pytest.raises(AntiPattern, match="scaling before proving"):
        program.check_reach("lena", Reach.PILOT, action="issue a gateway key to omar")
    assert program.check_reach("lena", Reach.OWNER, action="issue a key to lena") == []


def test_skipping_play_five_refuses_and_keeps_the_request_as_evidence(program: Program) -> None:
    with pytest.raises(AntiPattern) as err:
        program.check_reach("lena", Reach.BEYOND_PILOT, action="issue a key to zoe", person="zoe")
    assert err.value.guard == "skipping-play-five"
    assert "play 5 (support)" in str(err.value)
    requests = [f for f in program.state().facts if f.kind == "access.request"]
    assert [(f.payload["person"], f.collector) for f in requests] == [("zoe", "inhouse.guards")]


def test_governance_theater_is_flagged_before_real_usage(program: Program) -> None:
    measured(program, "support.queue", queue="#help", owner="sam")
    warnings = program.status()["warnings"]
    assert any("governance theater" in w and "support.queue" in w for w in warnings)


def test_governance_after_real_usage_is_not_flagged(program: Program) -> None:
    measured(program, "usage.daily", day="2026-11-01", person="omar", requests=12)
    measured(program, "support.queue", queue="#help", owner="sam")
    assert not any("governance theater" in w for w in program.status()["warnings"])


# -- waivers --------------------------------------------------------------------------------------


def test_only_the_rollout_lead_grants_waivers(program: Program, clock: Clock) -> None:
    with pytest.raises(NotAllowed, match="rollout lead"):
        program.grant_waiver(
            "omar",
            "scaling-before-proving",
            reason="other",
            note="x",
            expires=clock.now.replace(year=2027),
        )
    with pytest.raises(InvalidInput, match="reason must be one of"):
        program.grant_waiver(
            "lena",
            "scaling-before-proving",
            reason="because",
            note="x",
            expires=clock.now.replace(year=2027),
        )
    with pytest.raises(InvalidInput, match="already past"):
        program.grant_waiver(
            "lena", "scaling-before-proving", reason="other", note="x", expires=clock.now
        )


def test_a_waiver_lets_the_action_through_is_shown_and_expires(
    program: Program, clock: Clock
) -> None:
    from datetime import timedelta

    waiver = program.grant_waiver(
        "lena",
        "calendar-driven-advance",
        play=1,
        reason="time-boxed-experiment",
        note="exec wants a demo on Friday; hypothesis comes after",
        expires=clock.now + timedelta(days=7),
    )
    program.start_play("lena", 1)  # refused without the waiver (see above)
    view = play(program, 1)
    assert view["started_under_waivers"] == [waiver.seq]
    trigger = view["trigger"][0]
    assert trigger["outcome"] == "fail"  # never turned into a pass…
    assert trigger["waived_by"] == [waiver.seq]  # …but shown beside the check it waives
    status = program.status()
    assert status["waivers"][0]["active"] is True
    clock.advance(days=8)
    assert program.status()["waivers"][0]["active"] is False
    assert play(program, 1)["trigger"][0]["waived_by"] == [waiver.seq]  # history stays visible


def test_an_expired_waiver_no_longer_lets_the_action_through(
    program: Program, clock: Clock
) -> None:
    from datetime import timedelta

    program.grant_waiver(
        "lena",
        "scaling-before-proving",
        reason="executive-decision",
        note="board pilot",
        expires=clock.now + timedelta(days=1),
    )
    program.add_person("lena", "pia", team="legal", roles=["pilot-user"])
    clock.advance(days=2)
    with pytest.raises(AntiPattern, match="scaling before proving"):
        program.add_person("lena", "raj", team="sales", roles=["pilot-user"])


def test_a_waiver_for_one_guard_does_not_cover_another(program: Program, clock: Clock) -> None:
    from datetime import timedelta

    prove(program)
    program.grant_waiver(
        "lena",
        "botched-handoff",
        play=2,
        reason="evidence-recorded-elsewhere",
        note="handoff signed on paper",
        expires=clock.now + timedelta(days=3),
    )
    with pytest.raises(AntiPattern) as err:  # the trigger still fails: no access request
        program.start_play("lena", 2)
    assert err.value.guard == "calendar-driven-advance"
    measured(program, "access.request", person="omar")
    program.start_play("lena", 2)
    assert play(program, 2)["state"] == "running"


# -- the honest stop ------------------------------------------------------------------------------


def test_not_worth_it_stops_the_program_as_a_success(program: Program) -> None:
    prove(program, verdict="not-worth-it")
    assert play(program, 1)["exit"][0]["outcome"] == "fail"
    verdict = program.stop_not_worth_it("lena", comment="hosted API stays")
    status = program.status()
    stop = status["program"]["stopped"]
    assert status["program"]["state"] == "stopped"
    assert stop["success"] is True and stop["reason"] == "not-worth-it"
    assert stop["evidence"][0]["fact"] == verdict.id
    with pytest.raises(ProgramStopped):
        program.add_person("lena", "late", roles=[])


def test_stop_needs_a_not_worth_it_verdict(program: Program) -> None:
    prove(program, verdict="proven")
    with pytest.raises(Refused, match="verdict proven"):
        program.stop_not_worth_it("lena")
    assert program.status()["program"]["state"] == "running"


# -- identity and input ---------------------------------------------------------------------------


def test_unknown_people_and_bad_input_are_clear_errors(program: Program) -> None:
    with pytest.raises(UnknownPerson, match="'ghost' is not on this program's roster"):
        program.add_person("ghost", "x")
    with pytest.raises(InvalidInput, match="unknown role 'boss'"):
        program.add_person("lena", "x", roles=["boss"])
    with pytest.raises(InvalidInput, match=r"bad trial\.verdict payload: verdict"):
        measured(program, "trial.verdict", trial="t", verdict="great", quality_ok=True)
    with pytest.raises(InvalidInput, match="needs a comment"):
        program.attest("lena", "task.named", {"task": "t", "frequency": "daily"}, comment="")
    before = len(program.events())
    with pytest.raises(InvalidInput):
        program.attest("lena", "nope.kind", {}, comment="x")
    assert len(program.events()) == before


def test_attested_facts_are_marked_and_expire(program: Program, clock: Clock) -> None:
    from datetime import timedelta

    fact = program.attest(
        "omar",
        "task.named",
        {"task": "contract review", "frequency": "weekly"},
        "I do this every Monday",
        expires=clock.now + timedelta(days=1),
    )
    assert fact.provenance is Provenance.ATTESTED and "attested by omar" in fact.label
    assert len(program.state().live_facts(clock.now)) == 1
    clock.advance(days=2)
    assert len(program.state().live_facts(clock.now)) == 0
    assert program.status()["facts"]["expired"] == [fact.id]
