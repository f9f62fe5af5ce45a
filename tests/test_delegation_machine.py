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

from inhouse.errors import IdentityError, NotAllowed
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
from tests.locks import HERE, lock_payload
from tests.people import enrol

LOCK = lock_payload("lena")
REVIEW = {"lock_hash": LOCK["lock_hash"], "passed": True, "drifted": [], "findings": [],
          "nodes": ["n1"], "pinning_enforced": True}  # fmt: skip
VERIFY = {"lock_hash": LOCK["lock_hash"], "passed": True, **HERE}


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


def _ticket_through_a_session(bob: Program) -> None:
    """bob opens a ticket from the dashboard (one of the things its forms do)."""
    ticket = {"ticket": "T-1", "title": "Summaries are empty", "category": "it-broke",
              "component": "baseline"}  # fmt: skip
    _session(bob).record_fact(None, "ticket.opened", ticket, provenance=Provenance.MEASURED,
                              collector="inhouse support")  # fmt: skip


def test_a_sessions_fact_carries_the_machine_of_the_key_that_signed_it_in(
    lena: Program,
) -> None:
    """The honest way: bob, on his own laptop, opens a ticket from the dashboard."""
    bob = enrol(lena, "bob", team="ops")
    _ticket_through_a_session(bob)
    fact = lena.state().facts[-1]
    assert (fact.kind, fact.by, fact.signed, fact.machine) == (
        "ticket.opened", "bob", True, "bob-laptop")  # fmt: skip
    # a full fold, in another process's shoes, finds the same machine
    again = Program.open(lena.folder, clock=lena.clock)
    assert again.state().facts[-1].machine == "bob-laptop"
    again.close()


def test_an_alias_on_the_owners_laptop_signs_from_the_owners_laptop_through_a_session(
    lena: Program,
) -> None:
    here = machine.machine_fingerprint()  # lena's own laptop
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"], machine=here)
    _ticket_through_a_session(bob)
    assert lena.state().facts[-1].machine == here


#: what a session must never sign for its person: measurements, and the steps only their own
#: machine makes (the dashboard's forms make none of them)
_NOT_A_SESSIONS = [
    ("baseline.verify", VERIFY, "inhouse baseline verify"),
    ("workflow.run", {"workflow": "w", "content_hash": "c" * 12, "lock_hash": LOCK["lock_hash"],
                      "passed": True, "pass_rate": 1.0, "cases": 2, **HERE},
     "inhouse workflow test"),
    ("access.request", {"person": "bob"}, "inhouse access"),
    ("enablement.completed", {"person": "bob", "track": "legal"}, "inhouse pilot enablement"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "payload", "collector"), _NOT_A_SESSIONS,
                         ids=[k for k, _, _ in _NOT_A_SESSIONS])  # fmt: skip
def test_a_session_signs_no_measurement_and_no_step_of_ones_own_machine(
    lena: Program, kind: str, payload: dict[str, Any], collector: str
) -> None:
    """bob signs in once to the dashboard lena hosts; the host holds his session key for its
    window. It may not sign, as bob, his verify of the baseline, his rerun of her workflow, his
    access request or his enablement: the program refuses before anything is written, and one
    appended around it never counts, and ``inhouse audit verify`` names why. It no longer stops
    the fold: bob, a member, makes such a session alone, with his own key, and would freeze the
    program for everyone (tests/test_fold_no_freeze.py)."""
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"])
    head = lena.state().head_seq
    with pytest.raises(NotAllowed, match=f"a session may not sign {kind} facts"):
        _session(bob).record_fact(None, kind, payload, provenance=Provenance.MEASURED,
                                  collector=collector)  # fmt: skip
    assert lena.state().head_seq == head
    session = SigningKey.generate()
    body = {"kind": kind, "version": 1, "payload": payload, "provenance": "measured",
            "collector": collector, "delegation": _delegation(bob, session)}  # fmt: skip
    event = append(lena.store, EventKind.FACT_RECORDED, "bob", body, at=lena.clock(),
                   key=session)  # fmt: skip
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert not report.ok and report.first_bad_seq == event.seq
    assert report.problem is not None and f"a session may not sign {kind} facts" in report.problem
    again = Program.open(lena.folder, clock=lena.clock)
    assert again.state().tampered is None
    assert [seq for seq, _ in again.state().unauthorized] == [event.seq]
    assert not any(f.kind == kind for f in again.state().facts)
    again.close()


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
    could do), even from a gateway on a host of its own: the fold sets it aside as the
    gateway's (whoever runs its host made it; it stopped the fold, so whoever runs the gateway
    froze the program), counts it for nothing, and ``inhouse audit verify`` names why."""
    gateway = service_program(lena)
    session = SigningKey.generate()
    comment = {"ticket": "T-1", "text": "all fine here"}  # a kind the dashboard's forms make
    payload = {"kind": "ticket.commented", "version": 1, "payload": comment,
               "provenance": "measured", "collector": "inhouse support",
               "delegation": _delegation(gateway, session)}  # fmt: skip
    event = append(lena.store, EventKind.FACT_RECORDED, "gateway", payload, at=lena.clock(),
                   key=session)  # fmt: skip
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert not report.ok and report.first_bad_seq == event.seq
    assert report.problem is not None and "a service never signs in" in report.problem
    again = Program.open(lena.folder, clock=lena.clock)
    state = again.state()
    assert state.tampered is None and not any(f.kind == "ticket.commented" for f in state.facts)
    (named,) = [why for at, why in state.unauthorized if at == event.seq]
    assert "a service never signs in" in named
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
