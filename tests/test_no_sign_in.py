"""Outside a demo, a program without the organisation's sign-in tells nobody apart: a key and
the machine id it reports are anyone's to make, so one person (the lead) could invent every
"someone else" a check asks for, and hold a "service" key on a machine of her own. What each
part of the program does then, and that a demo program (one machine playing every part) is
judged by machines alone. The one-person walk itself is in tests/test_forgery.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.gateway.rollup import service_program
from inhouse.gateway.vouch import vouch_for_gateway
from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from inhouse.support.drift import COLLECTOR
from tests.clitools import cli
from tests.conftest import Clock
from tests.locks import lock_payload

NOBODY_APART = "without the organisation's sign-in nobody is told apart from them"


def _gateway_signs_a_review(program: Program) -> int:
    lock = lock_payload("lena")
    program.record_fact(None, "baseline.lock", lock, provenance=Provenance.MEASURED,
                        collector="inhouse baseline lock")  # fmt: skip
    review = {"lock_hash": lock["lock_hash"], "passed": True, "drifted": [], "findings": [],
              "nodes": ["local at http://127.0.0.1:1"], "pinning_enforced": True}  # fmt: skip
    fact = service_program(program).record_fact(
        None, "drift.review", review, provenance=Provenance.MEASURED, collector=COLLECTOR
    )
    return fact.id


@pytest.mark.parametrize("demo", [False, True], ids=["program", "demo"])
def test_what_the_gateway_signs_counts_only_where_someone_could_vouch_for_its_host(
    _isolated: Path, clock: Clock, demo: bool
) -> None:
    """The gateway's key was enrolled by the lead; with no sign-in, nobody can be told apart
    from her to vouch that it lives on a host of its own, so what it signs is shown, not
    counted, saying what to do; a demo counts it."""
    program = Program.init(_isolated, "Acme", "lena", clock=clock, demo=demo)
    signed = _gateway_signs_a_review(program)
    context = build_context(program.state(), clock.now)
    counted = [f.id for f in context.facts.of("drift.review")]
    shown = [u.why for u in context.uncounted if u.fact.id == signed]
    warned = [w for w in program.status()["warnings"] if "vouched for the host" in w]
    if demo:
        assert counted == [signed] and shown == [] and warned == []
    else:
        assert counted == []
        assert len(shown) == 1 and NOBODY_APART in shown[0], shown
        assert "`inhouse sign-in setup`" in shown[0]
        assert (
            len(warned) == 1 and "once a lead has set up the organisation's sign-in" in (warned[0])
        )
    program.close()


def test_a_vouch_without_a_sign_in_is_refused_before_the_gateway_is_asked(
    _isolated: Path, clock: Clock
) -> None:
    """A colleague's vouch would count for nothing (they are told apart from nobody, the lead
    included), so the command refuses, saying why, before any request and without recording."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    _gateway_signs_a_review(lena)
    key = SigningKey.generate()
    lena.join(str(lena.invite("vic", team="ops")), key, at_machine="vic-laptop")
    vic = lena.using(key)
    facts = len(lena.state().facts)
    with pytest.raises(NotAllowed, match="the organisation's sign-in is not set up"):
        vouch_for_gateway(vic, "http://127.0.0.1:9")  # nothing listens: never asked
    assert len(lena.state().facts) == facts
    lena.close()


@pytest.mark.parametrize("demo", [False, True], ids=["program", "demo"])
def test_init_says_the_sign_in_comes_before_play_two(_isolated: Path, demo: bool) -> None:
    out = cli("init", "Acme", "--lead", "lena", *(["--demo"] if demo else []))
    said = "Before play 2, set up your organisation's sign-in (`inhouse sign-in setup`)"
    assert (said in " ".join(out.split())) is not demo, out
