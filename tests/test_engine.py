"""The engine end to end through its Python API, on SQLite and PostgreSQL: handoffs, staleness,
the guards, waivers and their expiry, the honest stop. Each person acts with their own key
(``tests.people.enrol``); a name typed where the actor goes only ever means "on behalf of"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inhouse.baseline.lock import Lock, lock_fact_payload
from inhouse.errors import (
    AntiPattern,
    InvalidInput,
    NotAllowed,
    PlaybookError,
    ProgramStopped,
    Refused,
    UnknownPerson,
)
from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance, Reach
from inhouse.program.collectors import BUILTIN_COLLECTORS
from inhouse.program.guards import start_blockers
from tests.conftest import Clock
from tests.locks import HERE, made_lock
from tests.people import confirm_days, enrol, hold_gateway_key, vouch_for_gateway_host

pytestmark = pytest.mark.usefixtures("on_database")

DIGEST = "sha256:" + "b" * 64
#: the registered collector that measures each kind (a made-up one is refused)
COLLECTOR = {kind: c.name for c in BUILTIN_COLLECTORS for kind in c.kinds}


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """The program acted on by each person with their own key: lena (lead), omar, sam."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    sam = enrol(lena, "sam", team="it", roles=["support-owner"])
    yield {"lena": lena, "omar": omar, "sam": sam}
    lena.close()


@pytest.fixture
def program(cast: dict[str, Program]) -> Program:
    """The program as lena, its lead."""
    return cast["lena"]


@pytest.fixture
def omar(cast: dict[str, Program]) -> Program:
    """The program as omar, with omar's own key from his own machine."""
    return cast["omar"]


def measured(program: Program, kind: str, **payload: Any) -> Any:
    """A measured fact signed by whoever holds ``program``'s key, from the kind's collector."""
    return program.record_fact(
        None, kind, payload, provenance=Provenance.MEASURED, collector=COLLECTOR[kind]
    )


#: the spec hash :func:`prove`'s verdict measured, which :func:`reproduce` reruns
SPEC = "sha256:" + "d" * 64
#: what :func:`prove`'s claimed advantage was measured against (status quo, costs, thresholds)
CLAIM = "sha256:" + "c" * 64


def prove(program: Program, verdict: str = "proven") -> None:
    """Play 1 started and its verdict recorded, naming the weights (``DIGEST``) and the spec a
    rerun must reproduce (``SPEC``)."""
    program.record_hypothesis(None, "triage locally", aim="replace-dependency", target="OpenAI")
    program.start_play(None, 1)
    measured(
        program,
        "trial.verdict",
        trial="triage",
        verdict=verdict,
        proven_on=["cheaper"],
        quality_ok=True,
        candidate={"model": "m0", "digest": DIGEST},
        spec_hash=SPEC,
        candidate_pass_rate=0.9,
        inputs=10,
        quality_floor=5.0,
        claim_hash=CLAIM,
    )


#: what a rerun by an inhouse from before reruns said what their checks did on an answer given for
#: nothing, whether they judge time or cost, how many of its inputs are distinct tasks, or what a
#: claimed advantage had to clear, records of it: nothing
OLDER_RERUN: dict[str, Any] = {"proved": None, "on_topic": None, "timed_checks": None,
                               "distinct_inputs": None, "thresholds": None}  # fmt: skip


def reproduce(person: Program, **changes: Any) -> Any:
    """``person`` reran :func:`prove`'s trial on their own machine (``inhouse prove --rerun``):
    the same spec, on the proven weights, its quality held (play 2's trial-reproduced)."""
    rerun = {"trial": "triage", "spec_hash": SPEC, "model": "m0", "digest": DIGEST,
             "pass_rate": 0.9, "inputs": 10, "passed": 9, "quality_floor": 5.0,
             "runtime": "http://127.0.0.1:8080", "runtime_local": True,
             "runtime_peers": ["127.0.0.1"], "claim_hash": CLAIM, "status_quo": "api",
             "proven_on": ["cheaper"], "status_quo_pass_rate": 0.9, "status_quo_measured": True,
             "quality_ok": True, "costs_confirmed": "our invoice lists these prices",
             "api_confirmed": "we send these tickets to this API today",
             # what today's inhouse says of its checks (an older one's rerun: None)
             "proved": 9, "on_topic": 9, "timed_checks": [], "distinct_inputs": 10,
             "thresholds": {"cheaper": 30.0}}  # fmt: skip
    return measured(person, "trial.rerun", **{**rerun, **changes})


def through_play_one(program: Program) -> None:
    prove(program)
    program.offer_handoff(None, 1, to="lena")
    program.accept_handoff(None, 1, comment="I can build on this")


def _lock(version: str) -> Lock:
    return made_lock(
        "lena", models=[("m0", DIGEST)], family="llamacpp", version=version, rules_hash="r" * 64
    )


LOCK = _lock("b4500").lock_hash


def lock_baseline(program: Program, version: str = "b4500") -> None:
    """Lock the baseline on runtime ``version`` (another version: another lock)."""
    lock = _lock(version)
    measured(program, "baseline.lock", **lock_fact_payload(lock))
    measured(program, "baseline.install_script", lock_hash=lock.lock_hash, sha256="c" * 64)


def through_play_two(program: Program, omar: Program) -> None:
    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    program.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2, comment="stood it up from the docs")


def play(program: Program, number: int) -> dict[str, Any]:
    return program.status()["plays"][number - 1]


# -- handoffs -------------------------------------------------------------------------------------


def test_play_one_to_two_is_the_same_person_by_design(program: Program) -> None:
    prove(program)
    with pytest.raises(NotAllowed, match="same person"):
        program.offer_handoff(None, 1, to="omar")
    program.offer_handoff(None, 1, to="lena")
    program.accept_handoff(None, 1)
    assert play(program, 1)["state"] == "exited"
    assert play(program, 1)["handoff"]["decided_by"] == "lena"


def test_a_handoff_needs_the_exit_met(program: Program) -> None:
    program.record_hypothesis(None, "x", aim="replace-dependency", target="OpenAI")
    program.start_play(None, 1)
    with pytest.raises(Refused) as err:
        program.offer_handoff(None, 1, to="lena")
    assert "trial.verdict" in str(err.value.missing)


def test_self_accepted_handoff_is_refused_where_owners_differ(
    program: Program, omar: Program
) -> None:
    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    with pytest.raises(NotAllowed, match="different owner"):
        program.offer_handoff(None, 2, to="lena")
    program.offer_handoff(None, 2, to="omar")
    with pytest.raises(NotAllowed, match="only the receiver, omar"):
        program.accept_handoff(None, 2)
    # typing the receiver's name no longer makes lena omar: a decision needs omar's own key
    with pytest.raises(NotAllowed, match="needs omar's own key"):
        program.accept_handoff("omar", 2)
    assert play(program, 2)["handoff"]["status"] == "offered"
    omar.accept_handoff(None, 2, comment="works from the docs")
    assert play(program, 2)["state"] == "exited"
    assert play(program, 2)["handoff"]["decided_by"] == "omar"


def test_receiver_can_reject_with_a_reason_and_the_next_play_stays_shut(
    program: Program, omar: Program
) -> None:
    prove(program)
    program.offer_handoff(None, 1, to="lena")
    with pytest.raises(InvalidInput, match="say why"):
        program.reject_handoff(None, 1, comment=" ")
    program.reject_handoff(None, 1, comment="report lacks the quality numbers")
    omar.request_access(reason="I want the triage model")
    with pytest.raises(AntiPattern, match="rejected play 1's handoff: report lacks"):
        program.start_play(None, 2)


def test_acceptance_goes_stale_when_exit_evidence_changes(program: Program, omar: Program) -> None:
    through_play_two(program, omar)
    assert play(program, 2)["handoff"]["stale"] is False
    # a second verify does not change what the exit rested on…
    lock_baseline(program, version="b4600")  # …but a re-lock does
    view = play(program, 2)
    assert view["handoff"]["status"] == "accepted"
    assert view["handoff"]["stale"] is True
    assert view["exit_met"] is False  # the earlier verify is for the old lock
    measured(omar, "task.named", task="triage", frequency="daily")
    with pytest.raises(AntiPattern, match="stale"):
        omar.start_play(None, 3)


def test_status_records_who_did_what(program: Program) -> None:
    through_play_one(program)
    actors = [(e.kind, e.actor, e.signer) for e in program.events()]
    assert ("handoff.accepted", "lena", program.key.key_id) in actors
    assert all(actor and signer for _, actor, signer in actors)  # every event signed


# -- guards ---------------------------------------------------------------------------------------


def test_calendar_driven_advance_is_refused_naming_the_missing_trigger(program: Program) -> None:
    with pytest.raises(AntiPattern) as err:
        program.start_play(None, 1)
    assert err.value.guard == "calendar-driven-advance"
    assert any("hypothesis" in item for item in err.value.missing)
    refusals = program.status()["refusals"]
    assert refusals[-1]["guards"] == ["calendar-driven-advance"]


def test_botched_handoff_is_refused_naming_the_handoff(program: Program, omar: Program) -> None:
    prove(program)
    omar.request_access(reason="I want the triage model")  # the trigger of play 2 now holds
    with pytest.raises(AntiPattern) as err:
        program.start_play(None, 2)
    assert err.value.guard == "botched-handoff"
    assert err.value.missing == ["play 1 (prove-value) handoff accepted by its receiver"]
    assert "has not offered its handoff" in str(err.value)


def test_scaling_before_proving_refuses_pilot_members(program: Program) -> None:
    through_play_one(program)
    with pytest.raises(AntiPattern) as err:
        program.add_person(None, "pia", team="legal", roles=["pilot-user"])
    assert err.value.guard == "scaling-before-proving"
    assert "play 2 (baseline)" in str(err.value) and "play 3 (workflow)" in str(err.value)
    assert "play 1" not in " ".join(err.value.missing)  # play 1 exited: not missing
    assert "pia" not in program.state().people  # nothing half-done
    # the attempt is recorded as lena's refusal; it is no longer pia's access request (only
    # pia, with her own key, can ask: the owner's own attempt used to count as demand)
    assert program.status()["refusals"][-1]["action"] == "add pia to the pilot"
    assert [f for f in program.state().facts if f.kind == "access.request"] == []


def test_scaling_guard_for_later_issues_refuses_and_returns_waivers(
    program: Program, clock: Clock
) -> None:
    with pytest.raises(AntiPattern, match="scaling before proving"):
        program.check_reach(None, Reach.PILOT, action="issue a gateway key to omar")
    assert program.check_reach(None, Reach.OWNER, action="issue a key to lena") == []


def test_skipping_play_five_refuses_and_records_the_refusal_not_a_request(
    program: Program,
) -> None:
    with pytest.raises(AntiPattern) as err:
        program.check_reach(None, Reach.BEYOND_PILOT, action="issue a key to zoe", person="zoe")
    assert err.value.guard == "skipping-play-five"
    assert "play 5 (support)" in str(err.value)
    assert program.status()["refusals"][-1]["action"] == "issue a key to zoe"
    # the lead's attempt no longer records zoe's access request: only zoe's own key can
    assert [f for f in program.state().facts if f.kind == "access.request"] == []


def test_governance_theater_is_flagged_before_real_usage(program: Program) -> None:
    program.attest(None, "support.queue", {"queue": "#help", "owner": "sam"}, comment="set up")
    warnings = program.status()["warnings"]
    assert any("governance theater" in w and "support.queue" in w for w in warnings)


def test_governance_after_real_usage_is_not_flagged(program: Program, omar: Program) -> None:
    gateway = service_program(program)  # real usage is measured by the gateway's own key
    hold_gateway_key(program, omar)  # for someone who held a key of their own that day
    gateway.record_fact(
        None,
        "usage.daily",
        {"day": "2026-11-02", "person": "omar", "requests": 12},
        provenance=Provenance.MEASURED,
        collector=ROLLUP,
    )
    program.attest(None, "support.queue", {"queue": "#help", "owner": "sam"}, comment="set up")
    # with the sign-in set up, the gateway's figures count once someone who uses it and never
    # led vouched for its host: until then its usage is the lead's word, and nothing real
    assert any("governance theater" in w for w in program.status()["warnings"])
    vouch_for_gateway_host(omar)
    # and only on omar's own word that the day was his: the host's operator seals its rows
    assert any("governance theater" in w for w in program.status()["warnings"])
    confirm_days(omar, "2026-11-02")
    assert not any("governance theater" in w for w in program.status()["warnings"])


# -- waivers --------------------------------------------------------------------------------------


def test_only_the_rollout_lead_grants_waivers(
    program: Program, omar: Program, clock: Clock
) -> None:
    with pytest.raises(NotAllowed, match="rollout lead"):
        omar.grant_waiver(
            None,
            "scaling-before-proving",
            reason="other",
            note="x",
            expires=clock.now.replace(year=2027),
        )
    # naming the lead does not borrow her role: a waiver needs lena's own key
    with pytest.raises(NotAllowed, match="needs lena's own key"):
        omar.grant_waiver(
            "lena",
            "scaling-before-proving",
            reason="other",
            note="x",
            expires=clock.now.replace(year=2027),
        )
    with pytest.raises(InvalidInput, match="reason must be one of"):
        program.grant_waiver(
            None,
            "scaling-before-proving",
            reason="because",
            note="x",
            expires=clock.now.replace(year=2027),
        )
    with pytest.raises(InvalidInput, match="already past"):
        program.grant_waiver(
            None, "scaling-before-proving", reason="other", note="x", expires=clock.now
        )
    assert program.status()["waivers"] == []


def test_a_waiver_lets_the_action_through_is_shown_and_expires(
    program: Program, clock: Clock
) -> None:
    from datetime import timedelta

    waiver = program.grant_waiver(
        None,
        "calendar-driven-advance",
        play=1,
        reason="time-boxed-experiment",
        note="exec wants a demo on Friday; hypothesis comes after",
        expires=clock.now + timedelta(days=7),
    )
    program.start_play(None, 1)  # refused without the waiver (see above)
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
        None,
        "scaling-before-proving",
        reason="executive-decision",
        note="board pilot",
        expires=clock.now + timedelta(days=1),
    )
    program.add_person(None, "pia", team="legal", roles=["pilot-user"])
    clock.advance(days=2)
    with pytest.raises(AntiPattern, match="scaling before proving"):
        program.add_person(None, "raj", team="sales", roles=["pilot-user"])


def test_a_waiver_for_one_guard_does_not_cover_another(
    program: Program, omar: Program, clock: Clock
) -> None:
    from datetime import timedelta

    prove(program)
    program.grant_waiver(
        None,
        "botched-handoff",
        play=2,
        reason="evidence-recorded-elsewhere",
        note="handoff signed on paper",
        expires=clock.now + timedelta(days=3),
    )
    with pytest.raises(AntiPattern) as err:  # the trigger still fails: no access request
        program.start_play(None, 2)
    assert err.value.guard == "calendar-driven-advance"
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    assert play(program, 2)["state"] == "running"


# -- the honest stop ------------------------------------------------------------------------------


def test_not_worth_it_stops_the_program_as_a_success(program: Program) -> None:
    prove(program, verdict="not-worth-it")
    assert play(program, 1)["exit"][0]["outcome"] == "fail"
    verdict = program.stop_not_worth_it(None, comment="hosted API stays")
    status = program.status()
    stop = status["program"]["stopped"]
    assert status["program"]["state"] == "stopped"
    assert stop["success"] is True and stop["reason"] == "not-worth-it"
    assert stop["evidence"][0]["fact"] == verdict.id
    with pytest.raises(ProgramStopped):
        program.add_person(None, "late", roles=[])


def test_stop_needs_a_not_worth_it_verdict(program: Program) -> None:
    prove(program, verdict="proven")
    with pytest.raises(Refused, match="verdict proven"):
        program.stop_not_worth_it(None)
    assert program.status()["program"]["state"] == "running"


# -- identity and input ---------------------------------------------------------------------------


def test_unknown_people_and_bad_input_are_clear_errors(program: Program) -> None:
    with pytest.raises(UnknownPerson, match="'ghost' is not on this program's roster"):
        program.attest("ghost", "task.named", {"task": "t", "frequency": "daily"}, comment="x")
    # a typed name is never an actor: lena cannot add people as ghost
    with pytest.raises(NotAllowed, match="needs ghost's own key"):
        program.add_person("ghost", "x")
    with pytest.raises(InvalidInput, match="unknown role 'boss'"):
        program.add_person(None, "x", roles=["boss"])
    with pytest.raises(InvalidInput, match=r"bad trial\.verdict payload: verdict"):
        measured(program, "trial.verdict", trial="t", verdict="great", quality_ok=True)
    with pytest.raises(InvalidInput, match="needs a comment"):
        program.attest(None, "task.named", {"task": "t", "frequency": "daily"}, comment="")
    before = len(program.events())
    with pytest.raises(InvalidInput):
        program.attest(None, "nope.kind", {}, comment="x")
    assert len(program.events()) == before


def test_a_measurement_needs_a_registered_collector_and_its_own_runner(program: Program) -> None:
    verdict = {"trial": "t", "verdict": "proven", "proven_on": ["cheaper"], "quality_ok": True}
    before = len(program.events())
    # a made-up collector used to record a "measured" fact through the Python API
    with pytest.raises(InvalidInput, match="no collector named 'test' is registered"):
        program.record_fact(
            None, "trial.verdict", verdict, provenance=Provenance.MEASURED, collector="test"
        )
    with pytest.raises(InvalidInput, match=r"measures baseline\.verify, not trial\.verdict"):
        program.record_fact(
            None,
            "trial.verdict",
            verdict,
            provenance=Provenance.MEASURED,
            collector="inhouse baseline verify",
        )
    with pytest.raises(NotAllowed, match="cannot record one on behalf of omar"):
        program.record_fact(
            "omar",
            "baseline.verify",
            {"lock_hash": LOCK, "passed": True},
            provenance=Provenance.MEASURED,
            collector="inhouse baseline verify",
        )
    assert len(program.events()) == before


def test_attested_facts_are_marked_and_expire(omar: Program, clock: Clock) -> None:
    from datetime import timedelta

    fact = omar.attest(
        None,
        "task.named",
        {"task": "contract review", "frequency": "weekly"},
        "I do this every Monday",
        expires=clock.now + timedelta(days=1),
    )
    assert fact.provenance is Provenance.ATTESTED and "attested by omar" in fact.label
    assert len(omar.state().live_facts(clock.now)) == 1
    clock.advance(days=2)
    assert len(omar.state().live_facts(clock.now)) == 0
    assert omar.status()["facts"]["expired"] == [fact.id]


def test_an_attestation_on_behalf_is_labelled_as_such(program: Program) -> None:
    fact = program.attest(
        "omar", "task.named", {"task": "triage", "frequency": "daily"}, comment="omar said so"
    )
    assert (fact.by, fact.on_behalf_of) == ("lena", "omar")
    assert fact.label == 'attested by lena on behalf of omar: "omar said so"'


def _first_shipped() -> str:
    """The shipped playbook as v1 was: play 2's exit without trial-reproduced."""
    from importlib import resources

    text = resources.files("inhouse.playbooks").joinpath("local-model-program.yaml").read_text()
    text = text.replace("version: 2\n", "version: 1\n", 1)
    start = text.index("      - check: trial-reproduced\n")
    end = text.index("    hands_on:", start)
    return text[:start] + text[end:]


def _as_first_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Programs initialised now are created with the shipped playbook as v1 was (what a
    program made before v2 recorded at its creation)."""
    from inhouse.program import engine
    from inhouse.program.playbook import parse_playbook

    first = parse_playbook(_first_shipped(), source="local-model-program.yaml")
    first._shipped = True
    monkeypatch.setattr(engine, "load_playbook", lambda ref=None: first)


def test_a_program_cannot_be_created_now_under_the_first_playbook(_isolated: Path) -> None:
    """The way around trial-reproduced for a new program: create it with a file of the shipped
    playbook as v1 was, under its name. Refused: a file under a shipped playbook's name must be
    that playbook (its version and rules), so only a program an older release created is v1."""
    (_isolated / "first.yaml").write_text(_first_shipped(), encoding="utf-8")
    with pytest.raises(PlaybookError, match="the name of a playbook inhouse ships"):
        Program.init(_isolated, "Acme", "lena", playbook="first.yaml")
    assert not (_isolated / ".inhouse").exists()


def test_a_program_created_before_play_two_asked_for_a_rerun_is_not_judged_by_it(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade must not re-judge a running program by a rule it was not created with: the
    reach guards judge exits by the checks loaded now, so a play 2 that exited without a rerun
    would stop counting as exited, and every pilot grant since would be held back (the gateway
    would refuse the pilot's keys). A program created under v1 whose play 2 exited under it is
    told the check does not apply to it, and why (one whose play 2 has not exited yet is held
    to it: the next test)."""
    with monkeypatch.context() as patch:
        _as_first_shipped(patch)
        Program.init(_isolated, "Acme", "lena", team="platform", clock=clock).close()
        lena = Program.open(_isolated, clock=clock)  # the release it was created with
        lena.change_roles(None, "lena", add=["play-owner"])
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        through_play_one(lena)
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(
            omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True
        )  # no rerun: v1 asked none
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
        lena.close()
    lena = Program.open(_isolated, clock=clock)  # as it loads after the upgrade
    try:
        assert lena.state().playbook_version == 1 and lena.playbook.version == 2
        assert play(lena, 2)["state"] == "exited"
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "not-applicable"
        assert "created with playbook local-model-program v1" in rows["trial-reproduced"]["reason"]
        assert play(lena, 2)["exit_met"]
        assert not lena.state().unmet_exits
        # the handoff omar accepted under v1 saw no such check: the upgrade leaves it current,
        # so play 3 is his to start (it was "stale: re-offer and re-accept")
        assert play(lena, 2)["handoff"]["stale"] is False
        blockers = start_blockers(lena.playbook, lena.playbook.play("workflow"), lena.state(),
                                  clock())  # fmt: skip
        assert not any("stale" in b.message for b in blockers), blockers
    finally:
        lena.close()


def test_plays_that_exited_before_the_claim_had_to_be_reproduced_stay_exited(
    program: Program, omar: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrade effect of the stricter play 1 and 2 rules: a program whose play 1 exited on a
    verdict allowing a 30-point quality floor and naming no claim hash, and whose play 2 exited
    on omar's rerun of the candidate alone, was judged by the checks of its day. After the
    upgrade both plays stay exited, their handoffs current (the checks pass on the same
    evidence, saying why), and play 3 is omar's to start; a program still in play 2 would need
    the whole trial rerun (tests/test_playchecks.py)."""
    from functools import partial

    from inhouse.program.playchecks import baseline
    from inhouse.program.playchecks import prove as prove_checks

    with monkeypatch.context() as before:  # the checks as they were
        before.setattr(prove_checks, "_wide_floor", lambda verdict: None)
        before.setattr(baseline, "_reproduced", partial(baseline._reproduced, claim=False))
        program.record_hypothesis(None, "triage locally", aim="replace-dependency",
                                  target="OpenAI")  # fmt: skip
        program.start_play(None, 1)
        measured(program, "trial.verdict", trial="triage", verdict="proven",
                 proven_on=["cheaper"], quality_ok=True,
                 candidate={"model": "m0", "digest": DIGEST}, spec_hash=SPEC,
                 candidate_pass_rate=0.9, inputs=10, quality_floor=30.0)  # fmt: skip
        program.offer_handoff(None, 1, to="lena")
        program.accept_handoff(None, 1, comment="I can build on this")
        omar.request_access(reason="I want the triage model")
        program.start_play(None, 2)
        lock_baseline(program)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        reproduce(omar, claim_hash=None, status_quo=None, proven_on=None)  # the candidate alone
        program.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up, reran the trial")
    for number, check, note in (
        (1, "value-proven", "(play 1 exited before the cap)"),
        (2, "trial-reproduced", "play 2 exited before a rerun had to reproduce"),
    ):
        row = {r["check"]: r for r in play(program, number)["exit"]}[check]
        assert row["outcome"] == "pass" and note in row["reason"], row
        assert play(program, number)["state"] == "exited"
        assert play(program, number)["handoff"]["stale"] is False
    assert not program.state().unmet_exits
    measured(omar, "task.named", task="triage", frequency="daily")
    omar.start_play(None, 3)


def test_a_play_two_that_exited_keeps_its_pass_on_a_rerun_whose_checks_pass_any_text(
    program: Program, omar: Program
) -> None:
    """Upgrade effect of the off-topic rule (tests/test_outsider_15.py): verdicts and reruns
    recorded before it say nothing of off-topic prose (no ``on_topic``) and count as before, so
    a program whose play 2 exited on one stays exited on the same evidence; a rerun recorded
    since on checks such prose passes (``on_topic`` 0) neither counts nor takes that away."""
    through_play_two(program, omar)
    before = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    assert before["outcome"] == "pass", before
    reproduce(omar, proved=9, on_topic=0)
    row = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    assert row["outcome"] == "pass" and row["evidence"] == before["evidence"], row
    assert play(program, 2)["state"] == "exited"
    assert play(program, 2)["handoff"]["stale"] is False


def _reran_twice_before_play_two(program: Program, omar: Program) -> None:
    """Play 1 exited on a verdict that says ``proved``; omar reran it on his current inhouse,
    then on a stale install (no ``proved``): both before play 2's handoff."""
    prove(program)
    verdict = program.state().facts[-1].payload
    measured(program, "trial.verdict", **{**verdict, "proved": 9})
    program.offer_handoff(None, 1, to="lena")
    program.accept_handoff(None, 1)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar, proved=9)  # his laptop's current inhouse
    reproduce(omar, **OLDER_RERUN)  # then a stale install's


def test_a_play_two_that_exits_today_stays_on_the_evidence_it_exited_on(
    program: Program, omar: Program
) -> None:
    """The other side of the test below: a play 2 accepted under today's rule (the stale
    install's rerun set aside, omar's earlier one the evidence) keeps that evidence."""
    _reran_twice_before_play_two(program, omar)
    before = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    program.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2, comment="stood it up from the docs")
    row = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    assert row["outcome"] == "pass" and row["evidence"] == before["evidence"], row
    assert play(program, 2)["handoff"]["stale"] is False


def test_a_play_two_that_exited_on_a_stale_install_s_rerun_keeps_the_same_evidence(
    program: Program, omar: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrade effect of the older-inhouse rule for reruns: before it, a rerun recorded without
    ``proved`` after a verdict that said it (a colleague's stale install) counted, and play 2
    exited on the latest one. Today's rule sets it aside and passes on omar's earlier rerun,
    which was not what the acceptance hashed: the handoff went stale. The same log accepted
    under today's rule hashed that earlier rerun (the test above): the check cannot tell which
    was accepted, so it names the earlier rule's evidence beside today's (``Result.earlier``),
    and an acceptance of either saw the same."""
    from inhouse.program.playchecks import baseline as checks

    _reran_twice_before_play_two(program, omar)  # every rerun counted before the rule
    with monkeypatch.context() as before_the_rule:
        before_the_rule.setattr(checks, "_older_rerun", lambda ctx, rerun: None)
        # (and before a colleague's reruns were pooled, which came after it)
        before_the_rule.setattr(checks, "_pools", _unpooled)
        before = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
        assert before["outcome"] == "pass", before
        program.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
    row = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    assert row["outcome"] == "pass" and row["evidence"] != before["evidence"], row
    assert play(program, 2)["state"] == "exited"
    assert play(program, 2)["handoff"]["stale"] is False


def _unpooled(reruns: list[Any], **_: Any) -> dict[int, list[Any]]:
    """trial-reproduced's reruns as before a colleague's were pooled: each on its own."""
    return {f.id: [f] for f in reruns}


def test_a_play_two_that_exited_before_reruns_were_pooled_keeps_the_same_evidence(
    program: Program, omar: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upgrade effect of pooling a colleague's reruns: before it, play 2 exited on omar's
    latest rerun alone; today both of his (each holds) are the evidence. The check names the
    earlier rule's evidence beside today's (``Result.earlier``): the handoff does not go
    stale."""
    from inhouse.program.playchecks import baseline as checks

    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    reproduce(omar)
    with monkeypatch.context() as before_the_rule:
        before_the_rule.setattr(checks, "_pools", _unpooled)
        before = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
        assert before["outcome"] == "pass", before
        program.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
    row = {r["check"]: r for r in play(program, 2)["exit"]}["trial-reproduced"]
    assert row["outcome"] == "pass" and row["evidence"] != before["evidence"], row
    assert "judged together" in row["reason"], row
    assert play(program, 2)["state"] == "exited"
    assert play(program, 2)["handoff"]["stale"] is False


@pytest.mark.parametrize("said_first", [False, True], ids=["stale-only", "said-then-stale"])
def test_a_play_two_that_exited_on_a_verify_that_does_not_say_where_keeps_its_exit(
    program: Program, omar: Program, monkeypatch: pytest.MonkeyPatch, said_first: bool
) -> None:
    """Upgrade effect of the rule that a verify must say its runtime answered on the verifier's
    machine: before it, omar's verify from a stale install (a lock pinning an old release),
    which says nothing of where it was answered, counted, and play 2 exited on it (the latest,
    where a verify that says so came first). Play 2 exited: the exit keeps its outcome and the
    evidence its acceptance hashed, and the handoff does not go stale."""
    from inhouse.program.playchecks import baseline as checks

    through_play_one(program)
    omar.request_access(reason="I want the triage model")
    program.start_play(None, 2)
    lock_baseline(program)
    if said_first:
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    measured(omar, "baseline.verify", lock_hash=LOCK, passed=True)  # a stale install's
    reproduce(omar)
    with monkeypatch.context() as before_the_rule:
        before_the_rule.setattr(checks, "unsaid_here", lambda verify: None)
        before = {r["check"]: r for r in play(program, 2)["exit"]}["second-person-verified"]
        assert before["outcome"] == "pass", before
        program.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
    row = {r["check"]: r for r in play(program, 2)["exit"]}["second-person-verified"]
    assert row["outcome"] == "pass", row
    if said_first:  # today's rule passes on the verify that says so; the exit hashed the other
        assert row["evidence"] != before["evidence"], row
        assert "play 2 exited before" not in row["reason"], row
    else:  # the rule it exited on, said beside today's
        assert row["evidence"] == before["evidence"], row
        assert "note: play 2 exited before a verify had to say its runtime answered on the " \
            "verifier's own machine" in row["reason"]  # fmt: skip
        assert "`inhouse baseline install`" in row["reason"]
    assert play(program, 2)["state"] == "exited"
    assert play(program, 2)["handoff"]["stale"] is False


def test_a_start_for_someone_else_than_the_receiver_stops_the_fold_in_a_v1_program(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fold holds a start around the API to who accepted the previous play's handoff
    (the handoff names who builds on it), whichever playbook version the program was created
    with: the API has refused any other owner since its first version. A program whose first
    event names v1 (its lead's to write) was spared: omar accepted play 2, and lena started
    play 3 in her own name around the API, owning the play after hers that needs another."""
    from inhouse.program.events import EventKind

    with monkeypatch.context() as patch:
        _as_first_shipped(patch)
        Program.init(_isolated, "Acme", "lena", team="platform", clock=clock).close()
    lena = Program.open(_isolated, clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    try:
        through_play_one(lena)
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        reproduce(omar)
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up, reran the trial")
        measured(omar, "task.named", task="triage", frequency="daily")
        with pytest.raises(InvalidInput, match="play 3's owner is omar"):
            lena.start_play(None, 3, owner="lena")
        lena._append(EventKind.PLAY_STARTED, "lena",
                     {"play": "workflow", "owner": "lena", "waivers": []})  # fmt: skip
        fresh = Program.open(_isolated, clock=clock)
        try:
            tampered = fresh.state().tampered
            assert tampered is not None, "the fold accepted it"
            assert "omar accepted play 2's handoff: the play is omar's to start" in tampered[0]
        finally:
            fresh.close()
    finally:
        lena.close()


def test_a_program_claiming_the_first_playbook_still_in_play_two_needs_the_rerun(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The way around trial-reproduced a file cannot take, taken in Python: the lead creates a
    program today whose first event says playbook v1 (her own process hands ``Program.init``
    the first playbook; its log is hers to write). A log cannot tell it from a program created
    before v2, so what spares a v1 program is an exit it already made: one whose play 2 has not
    exited is judged by the check like any program created now, and its owner's handoff is
    refused until someone else reran the trial."""
    with monkeypatch.context() as patch:
        _as_first_shipped(patch)
        Program.init(_isolated, "Acme", "lena", team="platform", clock=clock).close()
    lena = Program.open(_isolated, clock=clock)
    assert lena.state().playbook_version == 1
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    try:
        through_play_one(lena)
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "fail"
        assert "playbook local-model-program v1" in rows["trial-reproduced"]["reason"]
        assert "--rerun" in rows["trial-reproduced"]["reason"]
        assert not play(lena, 2)["exit_met"]
        with pytest.raises(Refused, match="exit criteria are not met") as refused:
            lena.offer_handoff(None, 2, to="omar")
        assert any("--rerun" in item for item in refused.value.missing)
        reproduce(omar)  # the honest way: someone else reran it on their own machine
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up, reran the trial")
        assert play(lena, 2)["state"] == "exited"
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "pass"  # its exit does not turn it stale
        measured(omar, "task.named", task="triage", frequency="daily")
        omar.start_play(None, 3)
    finally:
        lena.close()


def test_a_rerun_the_test_model_answered_reproduces_no_real_verdict(
    cast: dict[str, Program],
) -> None:
    """The verdict's ``test_model`` is its author's word: lena proves random weights under a
    verdict that does not say so (typed, or from a runtime that could not tell), and omar's
    routine rerun on those weights, whose own runtime saw the project's test model, held its
    quality: play 2 exited on random weights outside a demo. The rerun's own finding counts
    against the verdict."""
    from dataclasses import replace

    from inhouse.program.checks import Outcome, evaluate
    from inhouse.program.evaluation import context_for

    lena, omar = cast["lena"], cast["omar"]
    through_play_one(lena)
    omar.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    rerun = reproduce(omar, test_model=True)
    rows = {row["check"]: row for row in play(lena, 2)["exit"]}
    reproduced = rows["trial-reproduced"]
    assert reproduced["outcome"] == "fail", reproduced["reason"]
    assert "test model" in reproduced["reason"] and f"fact #{rerun.id}" in reproduced["reason"]
    assert not play(lena, 2)["exit_met"]
    with pytest.raises(Refused, match="exit criteria are not met"):
        lena.offer_handoff(None, 2, to="omar")
    # a later rerun on those weights that did not see the test model changes nothing: the
    # digest names the same weights
    reproduce(omar)
    rows = {row["check"]: row for row in play(lena, 2)["exit"]}
    assert rows["trial-reproduced"]["outcome"] == "fail", rows["trial-reproduced"]
    # a program whose play 2 exited before such a finding counted keeps its exit, and is told
    ctx = context_for(lena.state(), lena.clock())
    ctx = replace(ctx, exited={**ctx.exited, "baseline": (lena.clock(), rerun.id + 1)})
    kept = evaluate("trial-reproduced", ctx)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert f"fact #{rerun.id}, found the project's test model" in kept.reason


#: other weights than :data:`DIGEST`, proven after a v1 program's play 2 exited
OTHER = "sha256:" + "e" * 64


def _exited_under_v1(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> tuple[Program, Program]:
    """A program created under v1 whose play 2 exited under it (no rerun), as it loads after
    the upgrade: lena (lead, both early plays' owner) and omar, who verified the baseline."""
    with monkeypatch.context() as patch:
        _as_first_shipped(patch)
        Program.init(_isolated, "Acme", "lena", team="platform", clock=clock).close()
        lena = Program.open(_isolated, clock=clock)
        lena.change_roles(None, "lena", add=["play-owner"])
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        through_play_one(lena)
        omar.request_access(reason="I want the triage model")
        lena.start_play(None, 2)
        lock_baseline(lena)
        measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
        lena.offer_handoff(None, 2, to="omar")
        omar.accept_handoff(None, 2, comment="stood it up from the docs")
        lena.close()
    lena = Program.open(_isolated, clock=clock)
    return lena, lena.using(omar.key)


def _prove_again(program: Program, digest: str, **changes: Any) -> Any:
    """Trial triage proven again, on the weights ``digest`` (``inhouse prove``'s verdict)."""
    verdict = {"trial": "triage", "verdict": "proven", "proven_on": ["cheaper"],
               "quality_ok": True, "candidate": {"model": "m1", "digest": digest},
               "spec_hash": SPEC, "candidate_pass_rate": 0.9, "inputs": 10,
               "quality_floor": 5.0, "claim_hash": CLAIM}  # fmt: skip
    return measured(program, "trial.verdict", **{**verdict, **changes})


def _relock_on(program: Program, digest: str) -> str:
    """A re-lock blessing ``digest`` (baseline-pinned ties it to the verdict that proved it)."""
    lock = made_lock("lena", models=[("m1", digest)], family="llamacpp", version="b4500",
                     rules_hash="r" * 64)  # fmt: skip
    measured(program, "baseline.lock", **lock_fact_payload(lock))
    measured(program, "baseline.install_script", lock_hash=lock.lock_hash, sha256="c" * 64)
    return lock.lock_hash


def test_a_v1_programs_exit_does_not_spare_a_verdict_proven_after_it(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The v1 exemption stretched too far: lena, whose v1 program's play 2 exited without a
    rerun, proves other weights after the upgrade, re-locks them (baseline-pinned passes: the
    lock blesses what was proven) and omar's routine verify of the new lock passes. Nobody
    reran the new claim, and play 2 held. The exit spares only the weights it was judged on:
    the new claim needs someone else's rerun, as in a program created now."""
    lena, omar = _exited_under_v1(_isolated, clock, monkeypatch)
    try:
        new = _prove_again(lena, OTHER)
        relock = _relock_on(lena, OTHER)
        measured(omar, "baseline.verify", **HERE, lock_hash=relock, passed=True,
                 models=[{"name": "m1", "digest": OTHER}])  # fmt: skip
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["baseline-pinned"]["outcome"] == "pass", rows["baseline-pinned"]
        assert rows["second-person-verified"]["outcome"] == "pass"
        reproduced = rows["trial-reproduced"]
        assert reproduced["outcome"] == "fail", reproduced["reason"]
        assert f"fact #{new.id}" in reproduced["reason"] and "--rerun" in reproduced["reason"]
        assert "spares only the weights it was judged on" in reproduced["reason"]
        assert not play(lena, 2)["exit_met"]
        # lena's own rerun of her claim reproduces nothing
        reproduce(lena, digest=OTHER)
        assert play(lena, 2)["exit"][-1]["outcome"] == "fail"
        # a later verdict that names no weights does not hide the one the lock is tied to
        _prove_again(lena, OTHER, candidate=None, spec_hash=None, candidate_pass_rate=None)
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "fail", rows["trial-reproduced"]
        assert f"fact #{new.id}" in rows["trial-reproduced"]["reason"]
        # the honest way: omar reruns the new claim on his own machine
        reproduce(omar, digest=OTHER)
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "pass", rows["trial-reproduced"]
        assert play(lena, 2)["exit_met"]
    finally:
        lena.close()


def test_a_v1_program_keeps_its_exemption_for_the_weights_its_exit_was_judged_on(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the upgrade leaves alone: a v1 program that proved its trial again after play 2
    exited on the weights its exit was judged on (before the upgrade, a verdict naming no spec
    hash, as releases then recorded; or after it) is still spared: the lock blesses what it
    blessed. A verdict of the earlier release on other weights is not (nobody can rerun it:
    its owner proves it again, and someone reruns it)."""
    lena, _ = _exited_under_v1(_isolated, clock, monkeypatch)
    try:
        _prove_again(lena, DIGEST, spec_hash=None, candidate_pass_rate=None)
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "not-applicable", rows["trial-reproduced"]
        _prove_again(lena, DIGEST)
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "not-applicable", rows["trial-reproduced"]
        assert play(lena, 2)["exit_met"]
        _prove_again(lena, OTHER, spec_hash=None, candidate_pass_rate=None)
        rows = {row["check"]: row for row in play(lena, 2)["exit"]}
        assert rows["trial-reproduced"]["outcome"] == "fail", rows["trial-reproduced"]
        assert "before verdicts named the spec" in rows["trial-reproduced"]["reason"]
    finally:
        lena.close()


def test_an_acceptance_is_current_only_where_a_dropped_check_was_never_seen() -> None:
    """What an upgrade leaves current: a check the acceptance never saw, which does not apply
    and rests on nothing. A check it saw passing that does not apply now is a change (else a
    check turned not-applicable would hide what the acceptance rested on)."""
    from inhouse.program.checks import not_applicable, passed
    from inhouse.program.evaluation import CheckedRef, evidence_hash, saw_the_same
    from inhouse.program.playbook import CheckRef

    def item(check: str, result: Any) -> CheckedRef:
        return CheckedRef(CheckRef(check=check, title=check), result)

    verify = item("second-person-verified", passed("omar verified"))
    added = item("trial-reproduced", not_applicable("created with v1"))
    accepted = evidence_hash([verify])
    assert saw_the_same([verify], accepted)
    assert saw_the_same([verify, added], accepted)
    was_passing = evidence_hash([verify, item("trial-reproduced", passed("reran"))])
    assert not saw_the_same([verify, added], was_passing)
    assert not saw_the_same([item("second-person-verified", passed("x")), added], None)


def test_a_lead_whose_every_key_is_revoked_leaves_the_last_lead_the_role(
    program: Program, omar: Program
) -> None:
    """The last-lead guard counted anyone holding the role, though omar, who left (every key of
    his revoked), can sign nothing: lena dropping the role then left the program with no lead
    who could invite, change roles or grant waivers again, and nobody to invite omar back. A
    lead with no key in use does not count; with his key in use, the hand-over goes through."""
    program.change_roles(None, "omar", add=["rollout-lead"])
    for key in program.state().keys_of("omar"):
        program.revoke_key(key.key_id)
    with pytest.raises(InvalidInput, match="lena is the program's last rollout lead"):
        program.change_roles(None, "lena", remove=["rollout-lead"])
    assert "rollout-lead" in program.state().people["lena"].roles
    program.change_roles(None, "sam", add=["rollout-lead"])
    program.change_roles(None, "lena", remove=["rollout-lead"])


def test_the_last_lead_cannot_revoke_her_last_key_in_use(program: Program, omar: Program) -> None:
    """Revoking the last rollout lead's last key in use locks the program as dropping her role
    would: nobody could invite, change roles or grant waivers again. Refused, nothing recorded;
    with another lead who can sign, it goes through."""
    last = r"last key in use of the program's last rollout lead \(lena\)"
    with pytest.raises(InvalidInput, match=last):
        program.revoke_key(program.key.key_id)
    assert program.state().keys[program.key.key_id].revoked_at is None
    program.change_roles(None, "omar", add=["rollout-lead"])
    program.revoke_key(program.key.key_id)
    assert program.state().keys[program.key.key_id].revoked_at is not None
