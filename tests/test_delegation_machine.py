"""What a dashboard session signs comes from the machine of the person who signed it in.

A session key is never enrolled, so the machine of a fact it signs is the enrolment machine of
the key that signed its delegation (:mod:`inhouse.identity.delegation`). The rules that read a
fact's machine (another person *elsewhere*, a service on a host of its own) hold through a
session as they hold for the key itself: an alias on the owner's laptop stays the owner's
laptop, and a service never signs in at all. The cheapest forgeries go through the Python API:
a session key of one's own making, delegated by one's own key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import IdentityError
from inhouse.gateway.rollup import service_program
from inhouse.identity import SigningKey, machine
from inhouse.identity.delegation import delegation_statement, sign_delegation
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome, Result
from inhouse.program.collectors import measured_kinds
from inhouse.program.counting import why_uncounted
from inhouse.program.evaluation import exit_results, trigger_results
from inhouse.program.events import EventKind, append
from inhouse.program.people import PeopleMixin
from inhouse.support.drift import COLLECTOR
from tests.conftest import ENROL_SERVICE_HERE, Clock
from tests.locks import lock_payload
from tests.people import enrol

LOCK = lock_payload("lena")
REVIEW = {"lock_hash": LOCK["lock_hash"], "passed": True, "drifted": [], "findings": [],
          "nodes": ["n1"], "pinning_enforced": True}  # fmt: skip
VERIFY = {"lock_hash": LOCK["lock_hash"], "passed": True}


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """The lead, with the baseline locked."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    yield lena
    lena.close()


def _judge(program: Program, play_id: str, check: str, *, trigger: bool = False) -> Result:
    play = next(p for p in program.playbook.plays if p.id == play_id)
    results = trigger_results if trigger else exit_results
    for item in results(play, program.state(), program.clock()):
        if item.ref.check == check:
            return item.result
    raise AssertionError(f"{play_id} has no check {check}")


def _delegation(signer: Program, session: SigningKey) -> dict[str, Any]:
    """What ``inhouse web login`` would sign, made by the key holder alone with their own key."""
    now = signer.clock()
    person = signer.state().person_of_key(signer.key.key_id)
    statement = delegation_statement(
        program=signer.state().program_id,
        person=str(person),
        key_id=signer.key.key_id,
        session_key=session.public_key,
        nonce="self-made",
        issued=now,
        expires=now + timedelta(hours=2),
    )
    return sign_delegation(signer.key, statement)


def _session(signer: Program) -> Program:
    session = SigningKey.generate()
    return signer.delegated(session, _delegation(signer, session))


def _verify_through_a_session(bob: Program) -> None:
    _session(bob).record_fact(None, "baseline.verify", VERIFY, provenance=Provenance.MEASURED,
                              collector="inhouse baseline verify")  # fmt: skip


def test_a_sessions_fact_carries_the_machine_of_the_key_that_signed_it_in(
    lena: Program,
) -> None:
    """The honest way: bob, on his own laptop, verifies the baseline from the dashboard."""
    bob = enrol(lena, "bob", team="ops")
    _verify_through_a_session(bob)
    fact = lena.state().facts[-1]
    assert (fact.by, fact.signed, fact.machine) == ("bob", True, "bob-laptop")
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is Outcome.PASS, result.reason
    # a full fold, in another process's shoes, finds the same machine
    again = Program.open(lena.folder, clock=lena.clock)
    assert again.state().facts[-1].machine == "bob-laptop"
    again.close()


def test_an_alias_on_the_owners_laptop_is_no_second_person_through_a_session(
    lena: Program,
) -> None:
    here = machine.machine_fingerprint()  # lena's own laptop
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"], machine=here)
    _verify_through_a_session(bob)
    assert lena.state().facts[-1].machine == here
    result = _judge(lena, "baseline", "second-person-verified")
    assert result.outcome is Outcome.FAIL
    assert "came from a machine lena enrolled" in result.reason


def test_a_workflow_run_by_the_authors_laptop_alias_through_a_session_is_not_by_another(
    lena: Program,
) -> None:
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"],
                machine=machine.machine_fingerprint())  # fmt: skip
    version = {"workflow": "w", "content_hash": "c" * 12, "model": "m",
               "model_digest": "sha256:" + "b" * 64, "author": "lena"}  # fmt: skip
    lena.record_fact(None, "workflow.spec", version, provenance=Provenance.MEASURED,
                     collector="inhouse workflow test")  # fmt: skip
    run = {"workflow": "w", "content_hash": "c" * 12, "lock_hash": LOCK["lock_hash"],
           "passed": True, "pass_rate": 1.0, "cases": 2}  # fmt: skip
    _session(bob).record_fact(None, "workflow.run", run, provenance=Provenance.MEASURED,
                              collector="inhouse workflow test")  # fmt: skip
    result = _judge(lena, "workflow", "workflow-run-by-other")
    assert result.outcome is Outcome.FAIL
    assert "came from a machine lena enrolled" in result.reason


def test_a_service_key_signs_no_session_in(lena: Program, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway's key (here on lena's laptop, so its own facts do not count) delegating to a
    session of its own making: refused before anything is appended."""
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    enrol(lena, "olga", team="sales")  # a colleague outside the pilot, who signs nothing more
    gateway = service_program(lena)
    head = lena.state().head_seq
    usage = {"day": "2026-11-01", "people": {"olga": {"requests": 40, "tokens_in": 900,
             "tokens_out": 1200}}}  # fmt: skip
    with pytest.raises(IdentityError, match="a service never signs in to the dashboard"):
        _session(gateway).record_fact(None, "usage.daily", usage, provenance=Provenance.MEASURED,
                                      collector="inhouse gateway rollup")  # fmt: skip
    with pytest.raises(IdentityError, match="a service never signs in"):
        _session(gateway).record_fact(
            None, "drift.review", REVIEW, provenance=Provenance.MEASURED, collector=COLLECTOR
        )
    assert lena.state().head_seq == head
    assert _judge(lena, "support", "versions-pinned").outcome is not Outcome.PASS
    assert _judge(lena, "measure", "use-beyond-pilot", trigger=True).outcome is not Outcome.PASS


def test_a_session_event_a_service_delegated_is_refused_by_the_verifier(lena: Program) -> None:
    """Written straight into the store (what someone with the gateway's key and the database
    could do), even from a gateway on a host of its own: the fold stops there and
    ``inhouse audit verify`` names why."""
    gateway = service_program(lena)
    session = SigningKey.generate()
    payload = {"kind": "drift.review", "version": 1, "payload": REVIEW,
               "provenance": "measured", "collector": COLLECTOR,
               "delegation": _delegation(gateway, session)}  # fmt: skip
    event = append(lena.store, EventKind.FACT_RECORDED, "gateway", payload, at=lena.clock(),
                   key=session)  # fmt: skip
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert not report.ok and report.first_bad_seq == event.seq
    assert report.problem is not None and "a service never signs in" in report.problem
    again = Program.open(lena.folder, clock=lena.clock)
    assert again.state().tampered is not None
    again.close()


def test_a_service_fact_with_no_machine_on_record_does_not_count(lena: Program) -> None:
    """A lead's hand-made service enrolment that names no machine (the Python API): its
    figures count for nothing outside a demo, rather than escaping the own-host rule."""
    key = SigningKey.generate()
    state = lena.state()
    lena._append(EventKind.PERSON_ENROLLED, "lena", {
        "name": "gateway", "key_id": key.key_id, "public_key": key.public_key, "service": True,
        "enrolled_by": "lena",
        "proof": key.sign(f"inhouse-service:{state.program_id}:gateway".encode()),
    })  # fmt: skip
    lena.using(key).record_fact(None, "drift.review", REVIEW, provenance=Provenance.MEASURED,
                                collector=COLLECTOR)  # fmt: skip
    assert not lena.state().facts[-1].machine
    result = _judge(lena, "support", "versions-pinned")
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    why = why_uncounted(lena.state().facts[-1], lena.state(), measured_kinds())
    assert why is not None and "no enrolled machine on record" in why
