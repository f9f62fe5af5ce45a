"""Review of the merged red-team work on plays 4 to 6 (review57): the gateway's host rule (a key
made there after a lead enrolled its key there is that lead's) reached plays 4 and 5's trigger,
not the other readers of the same enrolments (play 5's exit checks, play 6's trigger); and a
report's people beyond the pilot that is no number went unjudged. Each test is the forgery,
refused with a reason, beside the honest way that still passes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from tests.conftest import Clock
from tests.people import confirm_days, enrol, hold_gateway_key
from tests.pilot.gateway_days import Pilot
from tests.test_redteam4 import FOUR, _gateway_host
from tests.test_redteam56 import _october, _report, _reported


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    """tests.test_redteam4's pilot: four members; lena enrolled the gateway's key on its own
    host (``gateway-host``), and bob, who uses it, vouched for it."""
    from tests.pilot.gateway_days import start_pilot

    made = start_pilot(_isolated, clock, FOUR)
    try:
        yield made
    finally:
        made.lead.close()


# -- play 6's trigger: use beyond the pilot through a key made on the gateway's host -------------


def _used(pilot: Pilot, *names: str) -> None:
    """The gateway's own key signs a day's use, through their own keys, by ``names``."""
    day = pilot.clock().date().isoformat()
    people = {n: {"requests": 3, "tokens_in": 100, "tokens_out": 10, "own": 3} for n in names}
    service_program(pilot.lead).record_fact(
        None, "usage.daily", {"day": day, "people": people},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip


def _beyond(pilot: Pilot, exited: dict[str, tuple[datetime, int]]) -> tuple[Outcome, str]:
    ctx = build_context(pilot.lead.state(), pilot.clock())
    result = evaluate("use-beyond-pilot", replace(ctx, exited={**ctx.exited, **exited}))
    return result.outcome, result.reason


@pytest.mark.usefixtures("on_database")
def test_use_beyond_the_pilot_through_a_key_made_on_the_gateways_host_is_nobody_new(
    pilot: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 6's trigger reads the same enrolments plays 4 and 5 now judge by: a colleague
    "outside the program" who joined on the gateway's host, after lena enrolled its key there,
    left his key file where she runs things, and every request through his gateway key is
    hers to send. Plays 4 and 5 set such a key aside (a pilot member, an asker, an author, a
    newcomer widening access); use-beyond-pilot counted him as the tool in use beyond the
    pilot."""
    exited = {"support": (pilot.clock(), max(e.seq for e in pilot.lead.events()))}
    pilot.clock.advance(days=2)
    neo = enrol(pilot.lead, "neo", team="ops", machine=_gateway_host(monkeypatch))
    hold_gateway_key(pilot.lead, neo)
    _used(pilot, "neo")
    # he confirms it with his own key, which lies on the gateway's host too
    confirm_days(neo, pilot.clock().date().isoformat())
    outcome, reason = _beyond(pilot, exited)
    assert outcome is not Outcome.PASS, reason
    # his day counts for nobody before the check reads it: his confirmation was signed with a
    # key made on the gateway's host (the same host rule, where a person's use is counted)
    uncounted = build_context(pilot.lead.state(), pilot.clock()).uncounted
    assert any("neo" in u.why and "the gateway's host" in u.why for u in uncounted)

    # honest: ola, on a laptop of her own, uses it through her own key
    ola = enrol(pilot.lead, "ola", team="ops", machine="ola-laptop")
    hold_gateway_key(pilot.lead, ola)
    pilot.clock.advance(minutes=5)
    _used(pilot, "neo", "ola")
    confirm_days(ola, pilot.clock().date().isoformat())
    outcome, reason = _beyond(pilot, exited)
    assert outcome is Outcome.PASS, reason
    assert reason.startswith("1 person beyond the pilot uses it")


# -- play 6's exit: a report's people beyond the pilot that is no number ------------------------


@pytest.mark.parametrize("typed", [float("inf"), float("nan")])
def test_a_report_whose_people_beyond_the_pilot_is_no_count_fails(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, typed: float
) -> None:
    """The report's people beyond the pilot is bounded by the gateway's signed usage; a figure
    that is no whole count (``inf``, which the schema's float takes, and ``nan``) was read as
    not stated, and passed unjudged: a report of infinitely many colleagues beyond the pilot
    stood where one of forty fails."""
    clock.now = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    request.addfinalizer(lena.close)
    _october(lena, clock)
    _report(lena, typed)  # type: ignore[arg-type]
    result = _reported(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        f"the report counts {typed} people beyond the pilot in 2026-10-01..2026-10-31, but the "
        "gateway's signed daily usage shows 2 (kai, zoe) outside the program"
    ) in result.reason
    # honest: a report that leaves the figure out states nothing to judge; one that says 2 passes
    clock.advance(minutes=5)
    _report(lena, 2)
    assert _reported(lena).outcome is Outcome.PASS, _reported(lena).reason


# -- play 5's exit: a gateway ticket resolved with a key made on the gateway's host --------------


def test_a_gateway_ticket_resolved_with_a_key_made_on_its_host_is_resolved_by_its_builder(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway's builders include the lead who enrolled its key on its host (redteam56),
    and a key made on that host afterwards is hers to sign with (redteam4, for plays 4 and 5's
    trigger). The resolver was told apart from the builders by their own machines alone: rex,
    who joined on the gateway's host ("it is where the logs are"), resolved pia's gateway
    ticket, and the ticket read as resolved without its builders, lena alone behind both."""
    from inhouse.identity import SigningKey
    from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket
    from inhouse.usage.authentic import GATEWAY_SERVICE
    from tests.support.judging import judge_ticket, support_world

    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    rex = enrol(lena, "rex", team="ops", machine=_gateway_host(monkeypatch))
    broke = open_ticket(pia, "502 from the gateway", category="it-broke", component="gateway")
    clock.advance(hours=1)
    resolve_ticket(rex, broke.id, note="restarted the gateway")
    clock.advance(hours=1)
    confirm_fix(pia, broke.id)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"{broke.id} resolved by rex, whose keys were all enrolled from" in result.reason
    assert "the gateway's host" in result.reason
    # a play 5 exit judged on rex's resolution keeps it (the rule before)
    kept = judge_ticket(lena, exited=True)
    assert kept.outcome is Outcome.PASS, kept.reason

    # honest: sam, on his own laptop, resolves bea's, and bea confirms the fix
    again = open_ticket(bea, "the gateway times out", category="it-broke", component="gateway")
    clock.advance(hours=1)
    resolve_ticket(sam, again.id, note="raised the upstream timeout")
    clock.advance(hours=1)
    confirm_fix(bea, again.id)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason


def test_a_support_owner_whose_key_was_made_on_the_gateways_host_owns_nothing(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 5's queue owner is told apart from the lead who named them by their machines: gus,
    who joined on the gateway's host after lena enrolled its key there, "took on" the queue
    with a key lena holds. The same host rule sets him aside."""
    from inhouse.identity import SigningKey
    from inhouse.program.evaluation import context_for
    from inhouse.support.queue import accept_owner, name_owner
    from inhouse.usage.authentic import GATEWAY_SERVICE

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    gus = enrol(lena, "gus", team="ops", machine=_gateway_host(monkeypatch))
    name_owner(lena, "gus")
    accept_owner(gus)
    result = evaluate("support-queue-owned", context_for(lena.state(), lena.clock()))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "gus" in result.reason and "the gateway's host" in result.reason

    # honest: sam, on his own laptop, takes it on
    sam = enrol(lena, "sam", team="ops")
    name_owner(lena, "sam")
    accept_owner(sam)
    result = evaluate("support-queue-owned", context_for(lena.state(), lena.clock()))
    assert result.outcome is Outcome.PASS, result.reason


def test_a_review_attended_with_a_key_made_on_the_gateways_host_is_a_review_of_one(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Play 5's periodic review needs attendees who confirm with their own keys, each from a
    machine of their own: gus, who joined on the gateway's host after lena enrolled its key
    there (a drift review), confirmed with a key lena holds. The same host rule sets him
    aside, and the review is lena's alone."""
    from inhouse.support.review import attend_review, hold_review, schedule_review
    from tests.runtimes.standin import StandIn, fixture
    from tests.support.test_review import KEEP, judge, reviewed

    with StandIn() as ollama:
        ollama.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
        ollama.json("GET", "/api/ps", {"models": []})
        ollama.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
        lena = reviewed(_isolated, clock, ollama)  # the drift review enrolled the gateway's key
        try:
            gus = enrol(lena, "gus", team="support", roles=["support-owner"],
                        machine=_gateway_host(monkeypatch))  # fmt: skip
            schedule_review(lena)
            held = hold_review(lena, ["lena", "gus"], KEEP)
            attend_review(gus, held.id)
            result = judge(lena)
            assert result.outcome is Outcome.FAIL, result.reason
            assert "gus" in result.reason and "the gateway's host" in result.reason

            # honest: sam, on his own laptop, attends the next one
            sam = enrol(lena, "sam", team="support", roles=["support-owner"])
            clock.advance(days=1)
            held = hold_review(lena, ["lena", "sam"], KEEP)
            attend_review(sam, held.id)
            result = judge(lena)
            assert result.outcome is Outcome.PASS, result.reason
        finally:
            lena.close()
