"""The outsider, round 18: play 4 and the handoffs on either side of it, the rollout lead alone.

lena leads the program and owns play 4 (tests/test_outsider.py's lena: one laptop, one account
at the organisation's identity provider, full control of her machine, the program folder, its
database and the Python API). Her pilot members are real colleagues, each signed in with an
account of their own on a laptop of their own; each does only what they would honestly do: run,
once, the one command lena asks them to run.

What the walk found: the survey's rule that only members who used the tool on two distinct days
in the last fourteen may answer lived only in ``inhouse survey answer``, which read the usage
tables anyone with the database writes (the gateway's MAC key, which tells its rows from typed
ones, is on the gateway's host, not on the member's laptop). Lena typed two days of use for
colleagues who never used it; each, asked to, answered "very disappointed"; and play 4's check
counted the answers of people who never used the tool. (Closed: the check counts an answer only
where the gateway's signed daily usage shows its person's own use on two days of the fourteen
before it, as the command asks.)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from inhouse.db.schema import usage_daily, usage_people_daily
from inhouse.errors import Refused
from inhouse.gateway.rollup import rollup_usage
from inhouse.pilot.survey import answer_survey, open_survey, survey_results
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import Clock
from tests.locks import lock_payload
from tests.people import enrol
from tests.pilot.gateway_days import SIX, Pilot, Use, at, exit_check, signed_in_pilot
from tests.test_handoff_machines import _play_two_met

pytestmark = pytest.mark.usefixtures("on_database")

USERS = ("bob", "pia", "dora")  # use it through the gateway, on two days each
NEVER = ("carl", "eve", "fay")  # never send a request
LOCK = lock_payload("lena")


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    with signed_in_pilot(_isolated, clock, SIX) as made:
        made.use(Use(p, f"2026-11-{d}T10:00") for p in USERS for d in (10, 12))
        rollup_usage(made.lead)  # the gateway signs its days
        yield made


def _type_use(pilot: Pilot, person: str, days: tuple[str, ...]) -> None:
    """lena writes ``person``'s "use" into the tables the survey's command reads: no request
    went through the gateway."""
    with pilot.lead.store.engine.begin() as conn:
        for day in days:
            conn.execute(insert(usage_people_daily).values(
                day=day, person=person, requests=2, own_requests=2, tokens_in=10,
                tokens_out=10, busy_ms=5.0))  # fmt: skip
            conn.execute(insert(usage_daily).values(
                day=day, person=person, key_id=f"k_{person}", agent="", model="tiny",
                prompt_id="", workflow_id="", answered=1, requests=2, tokens_in=10,
                tokens_out=10, busy_ms=5.0, last_at=f"{day}T12:00:00+00:00"))  # fmt: skip


def test_answers_of_members_who_never_used_it_do_not_count(pilot: Pilot) -> None:
    """Three real users answer honestly (two keen); lena types use for three who never used
    it, who answer "very disappointed" when asked. Their answers are not the pilot's: 2 of 6,
    not 5 of 6."""
    for person in NEVER:
        _type_use(pilot, person, ("2026-11-10", "2026-11-12"))
    rollup_usage(pilot.lead)  # the gateway signs nothing of what she typed
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    answer_survey(pilot.people["bob"], "very")
    answer_survey(pilot.people["pia"], "very")
    answer_survey(pilot.people["dora"], "not")
    for person in NEVER:  # the command lets them: the tables say two days each
        answer_survey(pilot.people[person], "very")
    pilot.clock.now = at("2026-11-21T09:00")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is not Outcome.PASS, reason
    assert reason.startswith("2 of 6"), reason
    assert "carl, eve, fay" in reason and "signed daily usage" in reason, reason
    results = survey_results(pilot.lead)  # what `inhouse survey results` shows agrees
    assert (results.pilot.answered, results.pilot.very) == (3, 2)
    assert len(results.uncounted) == 3 and "carl's own use" in results.uncounted[0][1]


def test_a_play_four_that_exited_keeps_the_rule_it_exited_on(pilot: Pilot) -> None:
    """Upgrade: a program whose play 4 exited before this rule is judged as it exited (its
    handoff hashed those answers): the same answers pass there."""
    for person in NEVER:
        _type_use(pilot, person, ("2026-11-10", "2026-11-12"))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    for person, answer in (("bob", "very"), ("pia", "very"), ("dora", "not")):
        answer_survey(pilot.people[person], answer)
    for person in NEVER:
        answer_survey(pilot.people[person], "very")
    pilot.clock.now = at("2026-11-21T09:00")
    lead = pilot.lead
    ctx = context_for(lead.state(), lead.clock())
    mark = max(f.id for f in lead.state().facts)  # play 4 exited after every answer
    exited = replace(ctx, exited={**ctx.exited, "pilot": (lead.clock(), mark)})
    result = evaluate("pilot-would-resist-losing", exited.with_params({"share": 0.5}))
    assert result.outcome is Outcome.PASS and result.reason.startswith("5 of 6"), result.reason


def test_answers_given_since_play_four_exited_need_signed_use(pilot: Pilot) -> None:
    """The exit's rule spares only the answers it was judged on: after play 4 exited, lena
    types use for three who never used it and they answer "very disappointed"; their answers,
    given since, are judged by today's rule and do not count (2 of 6, not 5 of 6)."""
    for person in NEVER:
        _type_use(pilot, person, ("2026-11-10", "2026-11-12"))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    for person, answer in (("bob", "very"), ("pia", "very"), ("dora", "not")):
        answer_survey(pilot.people[person], answer)
    lead = pilot.lead
    mark = max(f.id for f in lead.state().facts)  # play 4 exited here
    for person in NEVER:
        answer_survey(pilot.people[person], "very")
    pilot.clock.now = at("2026-11-21T09:00")
    ctx = context_for(lead.state(), lead.clock())
    exited = replace(ctx, exited={**ctx.exited, "pilot": (lead.clock(), mark)})
    result = evaluate("pilot-would-resist-losing", exited.with_params({"share": 0.5}))
    assert result.outcome is not Outcome.PASS, result.reason
    assert result.reason.startswith("2 of 6"), result.reason
    assert "carl, eve, fay" in result.reason, result.reason


def test_survey_results_hear_answers_given_since_play_four_exited_as_the_check_does(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse survey results` shows the pilot as play 4's check hears it: after play 4
    exited, the answers of three who never used it, given since, are listed as not counted
    (the check does not count them), not shown among the pilot's 5 of 6."""
    import inhouse.pilot.survey as survey

    for person in NEVER:
        _type_use(pilot, person, ("2026-11-10", "2026-11-12"))
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    for person, answer in (("bob", "very"), ("pia", "very"), ("dora", "not")):
        answer_survey(pilot.people[person], answer)
    lead = pilot.lead
    mark = max(f.id for f in lead.state().facts)  # play 4 exited here
    for person in NEVER:
        answer_survey(pilot.people[person], "very")
    pilot.clock.now = at("2026-11-21T09:00")
    built = survey._context

    def exited_context(program: Program, now: datetime | None = None) -> object:
        ctx = built(program, now)
        return replace(ctx, exited={**ctx.exited, "pilot": (program.clock(), mark)})

    monkeypatch.setattr(survey, "_context", exited_context)
    results = survey_results(lead)
    assert (results.pilot.answered, results.pilot.very) == (3, 2)
    assert [why.split("'")[0] for _, why in results.uncounted] == list(sorted(NEVER))
    # marked after them, the answers the exit was judged on count as they did
    mark = max(f.id for f in lead.state().facts)
    assert survey_results(lead).pilot.answered == 6


def test_answers_of_members_who_used_it_count(pilot: Pilot) -> None:
    """The control: the same answers from members whose use the gateway signed pass."""
    pilot.use(Use(p, f"2026-11-{d}T10:00") for p in NEVER for d in (11, 13))
    rollup_usage(pilot.lead)
    pilot.clock.now = at("2026-11-16T09:00")
    open_survey(pilot.lead, at("2026-11-20T17:00"))
    answer_survey(pilot.people["bob"], "very")
    answer_survey(pilot.people["pia"], "very")
    answer_survey(pilot.people["dora"], "not")
    for person in NEVER:
        answer_survey(pilot.people[person], "very")
    pilot.clock.now = at("2026-11-21T09:00")
    outcome, reason = exit_check(pilot, "pilot-would-resist-losing")
    assert outcome is Outcome.PASS and reason.startswith("5 of 6"), reason


# -- a handoff: what the receiver accepts is what was offered ------------------------------------


def test_evidence_swapped_between_offer_and_acceptance_is_not_accepted(
    _isolated: Path, clock: Clock
) -> None:
    """lena offers play 2's handoff to omar, who reviews it (the install script he will live
    with); before he runs `inhouse handoff accept`, she records another install script. His one
    command would accept evidence he never saw, bound to its hash as if he had: refused,
    naming the change, until she offers again (what he then sees is what he accepts)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    try:
        _play_two_met(lena, clock)
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        offered = lena.offer_handoff(None, 2, to="omar")
        lena.record_fact(None, "baseline.install_script",
                         {"lock_hash": LOCK["lock_hash"], "sha256": "t" * 64},
                         provenance=Provenance.MEASURED,
                         collector="inhouse baseline install-script")  # fmt: skip
        with pytest.raises(Refused, match="changed since lena offered it"):
            omar.accept_handoff(None, 2)
        assert lena.state().handoffs["baseline"].status == "offered"
        # offered again, on what is there now: omar accepts what he was shown
        again = lena.offer_handoff(None, 2, to="omar")
        assert again != offered
        assert omar.accept_handoff(None, 2) == again
    finally:
        lena.close()


def test_an_unchanged_offer_is_accepted(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    try:
        _play_two_met(lena, clock)
        omar = enrol(lena, "omar", team="support", roles=["play-owner"])
        offered = lena.offer_handoff(None, 2, to="omar")
        with pytest.raises(Refused, match="already offered"):
            lena.offer_handoff(None, 2, to="omar")  # nothing changed: nothing to offer again
        assert omar.accept_handoff(None, 2) == offered
    finally:
        lena.close()
