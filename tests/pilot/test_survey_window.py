"""``pilot-would-resist-losing`` counts the answers to the latest survey a lead opened, by
its name. Opened again around the API under an old name (the API names them ellis-1, ellis-2,
...), an old survey's favourable answers would pass for the new one; and an answer counts only
when given while its survey was open."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.gateway import issue_key
from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.pilot.survey import COLLECTOR as SURVEY
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import Clock
from tests.people import confirm_own_use, enrol, vouch_for_gateway_host

pytestmark = pytest.mark.usefixtures("on_database")


def _judge(program: Program) -> Outcome:
    ctx = context_for(program.state(), program.clock()).with_params({"share": 0.5})
    return evaluate("pilot-would-resist-losing", ctx)


def test_an_old_survey_name_opened_again_counts_no_old_answer(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.grant_waiver(None, "scaling-before-proving", reason="executive-decision", note="n",
                      expires=clock.now + timedelta(days=90))  # fmt: skip
    people = {}
    for name, team in (("ann", "sales"), ("ben", "ops"), ("cat", "legal")):
        people[name] = enrol(lena, name, team=team)
        lena.change_roles(None, name, add=["pilot-user"])
        lena.record_fact(None, "pilot.member", {"person": name, "track": "t", "action": "added"},
                         provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip

    for name in ("ann", "ben"):  # each with a gateway key of their own
        issue_key(lena, None, name, holder=people[name])

    def opened(name: str) -> None:
        lena.record_fact(None, "survey.opened",
                         {"survey": name, "closes": (clock.now + timedelta(days=7)).isoformat()},
                         provenance=Provenance.MEASURED, collector=SURVEY)  # fmt: skip

    def answer(who: str, survey: str, keen: bool) -> None:
        people[who].record_fact(None, "survey.response", {
            "person": who, "would_resist_losing": keen, "survey": survey,
            "answer": "very" if keen else "not", "benefit": ""},
            provenance=Provenance.MEASURED, collector=SURVEY)  # fmt: skip

    opened("ellis-1")  # month 1: the novelty
    for who, keen in (("ann", True), ("ben", True), ("cat", False)):
        answer(who, "ellis-1", keen)
    clock.advance(days=60)
    opened("ellis-2")  # month 3: nobody would miss it
    for who in people:
        answer(who, "ellis-2", False)
    assert _judge(lena).outcome is Outcome.FAIL

    clock.advance(days=8)
    opened("ellis-1")  # the forgery: one fact, the lead's own key
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "reuses the name of one opened before" in result.reason

    opened("ellis-3")  # a new survey: ellis-1's old answers are not its answers
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL and "no survey answers" in result.reason
    gateway = service_program(lena)  # ann and ben used it these two days, the gateway signs
    vouch_for_gateway_host(people["cat"])  # and someone who uses it vouched for its host
    for back in (1, 0):
        day = (clock.now - timedelta(days=back)).date().isoformat()
        gateway.record_fact(None, "usage.daily", {"day": day, "people": {
            p: {"requests": 2, "tokens_in": 9, "tokens_out": 9, "own": 2} for p in ("ann", "ben")
        }}, provenance=Provenance.MEASURED, collector=ROLLUP)  # fmt: skip
    confirm_own_use(people["ann"], people["ben"])  # each confirms their days, own key
    answer("ann", "ellis-3", True)
    clock.advance(days=8)  # ellis-3 closed: an answer given now is outside its window
    answer("ben", "ellis-3", True)
    result = _judge(lena)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "1 of 3 pilot members" in result.reason
