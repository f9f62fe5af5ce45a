"""A fact's payload is held to its kind's schema when the log is read, strictly, as well as when
inhouse writes it. The writer coerces (``"5"`` becomes 5) and stores what it made; an event
appended around the API, signed with a real key (the person judged holds their own), can carry
any JSON at all. Read as Python reads it, ``"0" == 0`` is false and ``"false"`` is true: a check
would misread it, in its writer's favour, or raise and take every command down. Such a fact is
set aside, never counted, and ``status`` names its event and field; the fold goes on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import InvalidInput
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from inhouse.program.evaluation import context_for
from inhouse.program.events import EventKind
from inhouse.program.facts import FACT_KINDS
from inhouse.program.playchecks.prove import value_proven
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol

MEASURED, ATTESTED = Provenance.MEASURED, Provenance.ATTESTED
#: a proven verdict whose quality checks pass an empty answer (``proved`` 0): value-proven
#: fails it, as a verdict that proves nothing of what the model says
EMPTY_PASSES = {"trial": "t", "verdict": "proven", "proven_on": ["faster"], "quality_ok": True,
                "proved": 0, "candidate_pass_rate": 0.9, "status_quo_pass_rate": 0.9,
                "quality_floor": 5.0}  # fmt: skip


def _verdict(
    program: Program, payload: Any, actor: str = "lena", fact: dict[str, Any] | None = None
) -> int:
    """A trial verdict appended around the API's validation, signed with ``program``'s key
    (``fact``: its fact's own fields, changed)."""
    data = {"kind": "trial.verdict", "version": 1, "payload": payload, "provenance": "measured",
            "collector": "inhouse prove", **(fact or {})}  # fmt: skip
    return program._append(EventKind.FACT_RECORDED, actor, data).seq


def _value(program: Program) -> tuple[str, str]:
    result = value_proven(context_for(program.state(), program.clock()))
    return result.outcome.value, result.reason


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Program:
    return Program.init(_isolated, "Acme", "lena", clock=clock)


def test_a_count_typed_as_text_does_not_pass_play_1s_value_check(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """The forgery: lena's trial's quality checks pass an empty answer (``proved`` 0, which
    value-proven fails); she appends the verdict with ``proved`` as the text ``"0"``, which is
    not 0 to Python, and the check passed it."""
    honest = lena.record_fact(None, "trial.verdict", EMPTY_PASSES, provenance=MEASURED,
                              collector="inhouse prove")  # fmt: skip
    assert _value(lena)[0] == "fail"
    seq = _verdict(lena, {**EMPTY_PASSES, "proved": "0"})
    fresh = Program.open(_isolated, clock=clock)
    outcome, reason = _value(fresh)
    assert outcome == "fail" and "pass an empty answer" in reason
    assert [f.id for f in fresh.state().facts if f.kind == "trial.verdict"] == [honest.id]
    (said,) = fresh.state().malformed
    assert f"event {seq} (fact.recorded, trial.verdict)" in said
    assert "payload.proved: Input should be a valid integer" in said
    assert said in cli("status")
    # beside the check that reads it, as every fact it does not count is
    (aside,) = build_context(fresh.state(), fresh.clock()).uncounted_of(["trial.verdict"])
    assert aside.fact.id == seq and aside.why.startswith("not what inhouse writes: payload.proved")


#: fields of types inhouse never writes, each as a verdict (or its fact) would carry it
MALFORMED: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "a flag as text": ({"quality_ok": "false"}, {}, "payload.quality_ok"),
    "a rate as text (value-proven raised)": (
        {"candidate_pass_rate": "0.9"},
        {},
        "payload.candidate_pass_rate",
    ),
    "a count as a fraction": ({"inputs": 5.0}, {}, "payload.inputs"),
    "a count as true": ({"proved": True}, {}, "payload.proved"),
    "a negative count": ({"proved": -1}, {}, "payload.proved"),
    "a list for a name": ({"trial": ["t"]}, {}, "payload.trial"),
    "a dict for a choice": ({"verdict": {"is": "proven"}}, {}, "payload.verdict"),
    "a text for a list": ({"proven_on": "faster"}, {}, "payload.proven_on"),
    "NaN for a count": ({"proved": float("nan")}, {}, "payload.proved"),
    "Infinity for a count": ({"inputs": float("inf")}, {}, "payload.inputs"),
    "Infinity beyond a bound": ({"quality_floor": float("inf")}, {}, "payload.quality_floor"),
    "an unknown field": ({"approved_by": "omar"}, {}, "payload.approved_by"),
    "a provenance nobody writes (stopped the fold)": ({}, {"provenance": "sworn"}, "provenance"),
    "a version as text": ({}, {"version": "1"}, "version"),
    "an expiry as a number": ({}, {"expires": 5}, "expires"),
    "a payload that is a list": ({}, {"payload": [1]}, "payload: not an object"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_fact_is_set_aside_and_the_fold_goes_on(
    case: str, lena: Program, _isolated: Path, clock: Clock
) -> None:
    """Any enrolled person can append one; it must not count, crash a command, or stop the
    fold (a log that stops there records nothing more: everyone's program frozen)."""
    omar = enrol(lena, "omar", team="ops")
    change, fact, field = MALFORMED[case]
    seq = _verdict(omar, {**EMPTY_PASSES, **change}, "omar", fact)
    after = lena.record_fact(None, "task.named", {"task": "triage", "frequency": "daily"},
                             provenance=ATTESTED, comment="we do it daily")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None
    assert [f.kind for f in state.facts if f.id == seq] == []
    assert after.id in {f.id for f in state.facts}
    (said,) = state.malformed
    assert f"event {seq} (fact.recorded, trial.verdict)" in said and field in said
    assert _value(fresh)[0] == "fail"  # no verdict counts
    shown = json.loads(cli("status", "--json"))
    assert said in shown["warnings"]
    assert f"event {seq}" in cli("status")


def test_every_fact_the_api_writes_reads_back_as_valid(lena: Program) -> None:
    """The writer's own output (coerced, then dumped) passes the strict reading: a flag typed
    as text, a count as a number with a point, an ISO date, all become what the schema says."""
    for kind, payload in (
        ("trial.verdict", {**EMPTY_PASSES, "proved": "3", "quality_ok": "true", "inputs": 6.0}),
        ("usage.daily", {"day": "2026-10-01", "person": "omar", "requests": "4"}),
        ("usage.daily", {"day": "2026-10-01", "people": {"omar": {"requests": 4, "own": 2}}}),
        ("review.held", {"attendees": ["lena"], "next_due": "2026-11-01"}),
        ("survey.opened", {"survey": "s", "closes": "2030-01-01T00:00:00+00:00"}),
    ):
        fact = lena.record_fact(None, kind, payload, comment="said", provenance=ATTESTED)
        assert fact.id in {f.id for f in lena.state().facts}
    assert lena.state().malformed == []


def test_a_kind_this_process_does_not_know_is_taken_as_it_is() -> None:
    """A plugin's kind, its plugin not installed here: nothing to hold it to."""
    from inhouse.program.facts import fact_problem

    assert "plugin.thing" not in FACT_KINDS
    fact = {"kind": "plugin.thing", "payload": {"n": "5"}, "provenance": "attested"}
    assert fact_problem(fact) is None


def test_an_envelope_carrying_a_malformed_fact_is_refused_and_set_aside(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """omar seals, on his machine, a verdict whose ``proved`` is text: ``evidence import``
    refuses it, naming the field; appended as an import around the command, the fold sets it
    aside and goes on."""
    from inhouse.errors import IdentityError
    from inhouse.identity import fact_predicate_type, seal
    from inhouse.identity.envelopes import open_envelope

    omar = enrol(lena, "omar", team="ops")
    fact = {"kind": "trial.verdict", "version": 1, "provenance": "measured",
            "collector": "inhouse prove", "payload": {**EMPTY_PASSES, "proved": "0"}}  # fmt: skip
    envelope = seal(omar.key, program_id=lena.state().program_id,
                    predicate_type=fact_predicate_type("trial.verdict", 1),
                    predicate={"fact": fact, "at": clock.now.isoformat(),
                               "machine": "omar-laptop"})  # fmt: skip
    with pytest.raises(IdentityError, match=r"payload\.proved: Input should be a valid integer"):
        lena.import_evidence([envelope])
    digest = open_envelope(envelope).digest
    carried = {"envelope": envelope, "digest": digest, "key_id": omar.key.key_id}
    seq = lena._append(EventKind.EVIDENCE_IMPORTED, "lena", carried).seq
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and not [f for f in state.facts if f.id == seq]
    (said,) = state.malformed
    assert f"event {seq} (evidence.imported, trial.verdict)" in said and "payload.proved" in said


def test_an_older_inhouses_honest_workflow_run_is_not_set_aside(lena: Program) -> None:
    """Held strictly on read, a field the schema has since dropped read as one "not what
    inhouse writes": a workflow run an older inhouse recorded (``can_fail``, which ``proved``
    replaced) was set aside, voiding a colleague's honest run of play 3's workflow in every
    log that holds one. It counts as it did; the writer still never stores the field."""
    run = {"workflow": "triage", "content_hash": "c" * 64, "lock_hash": "l" * 64,
           "passed": True, "pass_rate": 1.0, "cases": 4, "can_fail": 4, "variant": "",
           "machine": "m1"}  # fmt: skip
    data = {"kind": "workflow.run", "version": 1, "payload": run, "provenance": "measured",
            "collector": "inhouse workflow"}  # fmt: skip
    seq = lena._append(EventKind.FACT_RECORDED, "lena", data).seq
    state = lena.state()
    assert state.malformed == []
    (counted,) = [f for f in state.facts if f.kind == "workflow.run"]
    assert counted.id == seq and counted.payload["can_fail"] == 4
    written = lena.record_fact(None, "workflow.run", run, provenance=MEASURED,
                               collector="inhouse workflow test")  # fmt: skip
    assert "can_fail" not in written.payload


def test_a_survey_answer_whose_flag_the_host_typed_is_read_by_its_answer_not_set_aside(
    lena: Program,
) -> None:
    """bob answered "very", then, in the dashboard lena hosts, "somewhat", and approved what he
    read; her host typed ``would_resist_losing`` true beside it. Play 4 counts such an answer
    by its ``answer`` (tests/test_redteamweb.py), and a play 4 exit judged on one keeps its
    reading. Set aside as "not what inhouse writes", it vanished from the log's facts: bob's
    earlier "very" stood as his answer, and an exit judged on it lost its answers."""
    bob = enrol(lena, "bob", team="ops")
    base = {"person": "bob", "survey": "ellis", "benefit": ""}
    first = bob.record_fact(None, "survey.response", {**base, "answer": "very",
                            "would_resist_losing": True}, comment="my answer",
                            provenance=ATTESTED)  # fmt: skip
    typed = {**base, "answer": "somewhat", "would_resist_losing": True}
    data = {"kind": "survey.response", "version": 1, "payload": typed, "provenance": "attested",
            "comment": "approved in the dashboard"}  # fmt: skip
    seq = bob._append(EventKind.FACT_RECORDED, "bob", data).seq
    state = lena.state()
    assert state.malformed == []
    answers = [f for f in state.facts if f.kind == "survey.response"]
    assert [f.id for f in answers] == [first.id, seq]
    assert answers[-1].payload["answer"] == "somewhat"
    # the writer still refuses it
    with pytest.raises(InvalidInput, match="would_resist_losing"):
        bob.record_fact(None, "survey.response", typed, comment="mine", provenance=ATTESTED)


def test_a_newer_inhouses_fields_say_to_upgrade_naming_them(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """A colleague's newer inhouse writes fields this one's schema lacks (a rerun's ``place``
    and ``seed``, a confirmation's ``runs``): this one cannot read the fact and sets it aside,
    and ``status`` called it one "made around inhouse's API", so its reader, told nothing of an
    upgrade, could not clear what status asked about. It names the fields and says an upgrade
    reads them; the fact still counts for nothing here (an unknown field is also the cheapest
    forgery: it softens the words, never the count). A field of the wrong type beside one
    unknown is what inhouse never writes, said as before."""
    omar = enrol(lena, "omar", team="ops")
    newer = _verdict(omar, {**EMPTY_PASSES, "drawn": 7, "place": {"number": 1}}, "omar")
    both = _verdict(omar, {**EMPTY_PASSES, "drawn": 7, "proved": "0"}, "omar")
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert not {f.id for f in state.facts} & {newer, both}
    upgrade, forged = state.malformed
    assert upgrade.startswith(
        f"event {newer} (fact.recorded, trial.verdict) holds payload.drawn, payload.place, which "
        "this inhouse ("
    )
    assert "upgrade inhouse on this machine and run it again" in upgrade
    assert upgrade.endswith("until then it is not counted")
    assert "made around inhouse's API and is not counted" not in upgrade
    assert f"event {both} (fact.recorded, trial.verdict) is not what inhouse writes" in forged
    assert forged.endswith("it was made around inhouse's API and is not counted")
    assert upgrade in json.loads(cli("status", "--json"))["warnings"]
    aside = build_context(state, fresh.clock()).uncounted_of(["trial.verdict"])
    assert [item.fact.id for item in aside] == [newer, both]
    assert aside[0].why.startswith("holds payload.drawn, payload.place, which this inhouse (")
    assert aside[1].why.startswith("not what inhouse writes: ")
    assert _value(fresh)[0] == "fail"


def test_an_envelope_a_newer_inhouse_sealed_says_to_upgrade(
    lena: Program, _isolated: Path, clock: Clock
) -> None:
    """The command ``status`` suggests for a colleague's rerun, ``evidence import``, refused
    an envelope a newer inhouse sealed (a field this one's schema lacks) as "not what inhouse
    writes": it names the fields and says an upgrade imports it; nothing is imported. A field
    of the wrong type beside one unknown is refused as before."""
    from inhouse.errors import IdentityError
    from inhouse.identity import fact_predicate_type, seal

    omar = enrol(lena, "omar", team="ops")

    def sealed(payload: dict[str, Any]) -> bytes:
        fact = {"kind": "trial.verdict", "version": 1, "provenance": "measured",
                "collector": "inhouse prove", "payload": payload}  # fmt: skip
        return seal(omar.key, program_id=lena.state().program_id,
                    predicate_type=fact_predicate_type("trial.verdict", 1),
                    predicate={"fact": fact, "at": clock.now.isoformat(),
                               "machine": "omar-laptop"})  # fmt: skip

    before = len(lena.state().facts)
    with pytest.raises(IdentityError) as refused:
        lena.import_evidence([sealed({**EMPTY_PASSES, "place": {"number": 1}, "drawn": 7})])
    said = str(refused.value)
    assert "its trial.verdict holds payload.drawn, payload.place, which this inhouse (" in said
    assert "upgrade inhouse on this machine and import it again (nothing was imported)" in said
    with pytest.raises(IdentityError, match=r"is not what inhouse writes: payload\.proved"):
        lena.import_evidence([sealed({**EMPTY_PASSES, "drawn": 7, "proved": "0"})])
    assert len(lena.state().facts) == before
