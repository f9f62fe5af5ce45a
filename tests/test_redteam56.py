"""Red team of plays 5 and 6: the rollout lead, who holds the gateway's host and every key a lead
may have, tries to pass their exits alone. Each test is the forgery, refused with a reason a
user can act on, beside the honest way that still passes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput, Refused
from inhouse.gateway.rollup import COLLECTOR as ROLLUP
from inhouse.gateway.rollup import service_program
from inhouse.identity import SigningKey
from inhouse.indicators.findings import open_finding
from inhouse.pilot.library import add_prompt, new_version
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.events import EventKind
from inhouse.support.drift import record_drift_review
from inhouse.support.queue import (
    accept_owner,
    confirm_fix,
    name_owner,
    open_ticket,
    resolve_ticket,
)
from inhouse.support.review import COLLECTOR as REVIEWS
from inhouse.support.review import attend_review, hold_review, schedule_review
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests.conftest import OTHER_COMPUTER, Clock
from tests.people import confirm_own_use, enrol, hold_gateway_key, vouch_for_gateway_host
from tests.pilot.test_play_four_walk import TRACK
from tests.runtimes.standin import StandIn, fixture
from tests.support.judging import judge_ticket, support_world
from tests.support.test_review import KEEP, reviewed
from tests.support.test_review import judge as review_judged

# -- play 5: a gateway ticket resolved by a lead who enrolled its key ---------------------------


def test_a_lead_who_enrolled_the_gateways_current_key_is_one_of_its_builders(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """The gateway's builders are the owners of plays 1-3, the lock's signers and whoever
    enrolled its key: the lead who runs its host and issues its keys is no outsider to it.
    The forgery: the gateway's host is rebuilt (a replica, a new machine) and rob, a second
    rollout lead, enrols its new key there and runs it; only the lead who enrolled its FIRST
    key was counted, so rob resolving the gateway's "it broke" ticket read as resolved without
    its builders."""
    lena, _, sam, pia, bea = support_world(request, _isolated, clock)
    first = SigningKey.generate()
    lena.enrol_service(GATEWAY_SERVICE, first)
    rob = enrol(lena, "rob", team="platform", roles=["rollout-lead"])
    clock.advance(hours=1)
    # the host rebuilt: lena revokes the old key, rob enrols the new one on his host and runs it
    lena.revoke_key(first.key_id)
    rob.enrol_service(GATEWAY_SERVICE, SigningKey.generate())
    broke = open_ticket(pia, "502 from the gateway", category="it-broke", component="gateway")
    clock.advance(hours=1)
    resolve_ticket(rob, broke.id, note="restarted the gateway on its new host")
    clock.advance(hours=1)
    confirm_fix(pia, broke.id)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"{broke.id} resolved by rob, a builder" in result.reason
    assert "rob" in result.reason.split("its builders (")[1].split(")")[0]
    # a play 5 exit judged on rob's resolution by the rule before keeps it, and says why
    kept = judge_ticket(lena, exited=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "rob enrolled a key of the gateway's: it counts because play 5 (support) exited" in (
        kept.reason
    )

    # honest: sam, who never ran the gateway's host, resolves bea's, and bea confirms the fix
    again = open_ticket(bea, "the gateway times out", category="it-broke", component="gateway")
    clock.advance(hours=1)
    resolve_ticket(sam, again.id, note="raised the upstream timeout")
    clock.advance(hours=1)
    confirm_fix(bea, again.id)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{again.id} resolved by sam, not one of its builders" in result.reason


# -- play 6: people beyond the pilot a report types ------------------------------------------------


def _october(lead: Program, clock: Clock) -> tuple[Program, Program]:
    """lena leads and lists pia as the pilot; zoe and kai, who hold no role, fetch gateway keys
    of their own in September (beyond the pilot, on a waiver) and use the gateway in October,
    signed by its own key (zoe vouched for its host). It is 3 November. Returns zoe and kai."""
    (lead.folder / "enablement").mkdir(exist_ok=True)
    (lead.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    lead.grant_waiver(None, "scaling-before-proving", reason="time-boxed-experiment",
                      note="a two-week pilot", expires=clock() + timedelta(days=60))  # fmt: skip
    enrol(lead, "pia", team="legal")
    add_member(lead, "pia", track="everyone")
    zoe, kai = (enrol(lead, name, team="sales") for name in ("zoe", "kai"))
    for person in (zoe, kai):
        hold_gateway_key(lead, person)
    clock.now = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    gateway = service_program(lead)
    vouch_for_gateway_host(zoe)
    for day, people in {"2026-10-05": ("zoe", "kai"), "2026-10-20": ("zoe",)}.items():
        totals = {p: {"requests": 3, "tokens_in": 100, "tokens_out": 10} for p in people}
        gateway.record_fact(None, "usage.daily", {"day": day, "people": totals},
                            provenance=Provenance.MEASURED, collector=ROLLUP)  # fmt: skip
    confirm_own_use(zoe, kai)  # each confirms their own use, with their own key
    return zoe, kai


def _report(lead: Program, beyond: int) -> None:
    """October's report typed through the Python API: every measured figure right (2 active,
    9 answered requests, 300 input and 30 output tokens), ``beyond`` people beyond the pilot."""
    leading = {"active_users": 2, "answered_requests": 9, "people_beyond_pilot": beyond}
    inputs = [
        {"indicator": "reference_cost", "name": name, "value": value, "unit": "tokens",
         "source": "gateway usage log (measured)"}
        for name, value in (("input tokens", 300), ("output tokens", 30))
    ]  # fmt: skip
    payload = {
        "period_start": "2026-10-01", "period_end": "2026-10-31", "period": "2026-10",
        "partial": False, "leading": leading, "lagging": {"work_changed_hours": 0.0},
        "inputs": inputs,
    }  # fmt: skip
    lead.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                     collector="inhouse indicators")  # fmt: skip


def _reported(lead: Program) -> Result:
    return evaluate("indicators-reported", context_for(lead.state(), lead.clock()))


def test_a_report_counting_more_people_beyond_the_pilot_than_used_it_fails(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    """``people_beyond_pilot`` is what play 6 is about (the tool in use beyond the pilot), and
    the gateway's signed usage bounds it: a person outside the program whose requests it
    signed through a key of their own. The forgery: lena types October's report with every
    measured figure right and forty colleagues "beyond the pilot"; the check compared only
    active people, requests and tokens, and passed it."""
    clock.now = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    request.addfinalizer(lena.close)
    _october(lena, clock)
    _report(lena, 40)
    result = _reported(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "the report counts 40 people beyond the pilot in 2026-10-01..2026-10-31, but the "
        "gateway's signed daily usage shows 2 (kai, zoe) outside the program"
    ) in result.reason
    assert "`inhouse indicators report`" in result.reason

    # a play 6 exit judged on that report keeps it (the rule before)
    ctx = context_for(lena.state(), lena.clock())
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("indicators-reported", dataclasses.replace(ctx, exited={"measure": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason

    # honest: the figure the signed usage bears out passes
    clock.advance(minutes=5)
    _report(lena, 2)
    assert _reported(lena).outcome is Outcome.PASS, _reported(lena).reason
    # and a role given since (kai made a champion in November) does not reach back over it
    clock.advance(minutes=5)
    lena.change_roles(None, "kai", add=["champion"])
    assert _reported(lena).outcome is Outcome.PASS, _reported(lena).reason
    # a report recorded after it counts kai inside
    clock.advance(minutes=5)
    _report(lena, 2)
    again = _reported(lena)
    assert again.outcome is Outcome.FAIL and "shows 1 (zoe) outside the program" in again.reason


def test_use_beyond_the_pilot_the_gateways_operator_signs_for_a_key_holder_is_nobodys_use(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    clock.now = datetime(2026, 9, 20, 9, 0, tzinfo=UTC)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    request.addfinalizer(lena.close)
    _october(lena, clock)
    exited = (lena.clock(), lena.state().head_seq)  # play 5 exited on 3 November
    clock.advance(days=2)
    # the forgery: the gateway's key, on lena's host, signs kai's "use" on 4 November
    totals = {"kai": {"requests": 5, "tokens_in": 200, "tokens_out": 20, "own": 5}}
    service_program(lena).record_fact(
        None, "usage.daily", {"day": "2026-11-04", "people": totals},
        provenance=Provenance.MEASURED, collector=ROLLUP,
    )  # fmt: skip
    ctx = context_for(lena.state(), lena.clock())
    result = evaluate("use-beyond-pilot", dataclasses.replace(ctx, exited={"support": exited}))
    assert result.outcome is not Outcome.PASS, result.reason
    left = ctx.uncounted_of(["usage.daily"])
    assert any("not confirmed by kai for 2026-11-04" in u.why for u in left), left


# -- play 5: a periodic review without the support queue's owner -----------------------------


@pytest.fixture
def ollama_node() -> Iterator[StandIn]:
    """An Ollama node (a stand-in with Ollama 0.12.6's recorded answers), as in
    tests/support/test_review.py."""
    with StandIn() as server:
        server.json("GET", "/api/tags", fixture("ollama-0.12.6_api_tags.json"))
        server.json("GET", "/api/ps", {"models": []})
        server.json("GET", "/api/version", fixture("ollama-0.12.6_api_version.json"))
        yield server


def test_a_review_the_lead_holds_as_both_roles_without_the_queues_owner_is_no_review_of_support(
    _isolated: Path, clock: Clock, ollama_node: StandIn
) -> None:
    lena = reviewed(_isolated, clock, ollama_node)
    sam = enrol(lena, "sam", team="support")
    name_owner(lena, "sam")
    accept_owner(sam)
    pia = enrol(lena, "pia", team="sales")
    lena.change_roles(None, "lena", add=["support-owner"])  # one command, nobody else signs
    schedule_review(lena)
    clock.advance(days=1)
    # `inhouse review hold` refuses it, recording nothing
    before = len(lena.state().facts)
    with pytest.raises(InvalidInput, match="needs the support queue's owner, sam, among its"):
        hold_review(lena, ["lena", "pia"], KEEP)
    assert len(lena.state().facts) == before
    # recorded around it (the Python API), with pia's own confirmation: the check says why not
    held = lena.record_fact(None, "review.held", {"attendees": ["lena", "pia"], "decisions": [
        {"item": "llama3.2:latest", "decision": "keep", "reason": "fine"},
        {"item": "gemma3", "decision": "retire", "reason": "unpinned"},
    ]}, provenance=Provenance.MEASURED, collector=REVIEWS)  # fmt: skip
    attend_review(pia, held.id)
    result = review_judged(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "sam, the support queue's owner, did not attend by their own signature (lena, pia did)"
    ) in result.reason
    # a play 5 exit judged on that review keeps it (any holder of the role, the rule before)
    ctx = context_for(lena.state(), lena.clock())
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("review-held", dataclasses.replace(ctx, exited={"support": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason

    # honest: sam attends and confirms with his own key
    clock.advance(days=1)
    again = hold_review(lena, ["lena", "sam"], KEEP)
    attend_review(sam, again.id)
    assert review_judged(lena).outcome is Outcome.PASS, review_judged(lena).reason


# -- play 6: a finding "confirmed" by use the gateway's operator signs -----------------------------

PROMPT = """\
description: Triage a ticket
variables:
  text: string
messages:
  - {role: user, content: "Triage: {{ text }}"}
"""


def test_a_prompt_fix_confirmed_by_use_the_gateways_operator_signs_feeds_nothing_back(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    request.addfinalizer(lena.close)
    pia = enrol(lena, "pia", team="sales")
    add_prompt(lena, "triage", PROMPT, where="triage.yaml")
    hold_gateway_key(lena, pia)
    service_program(lena)
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    vouch_for_gateway_host(pia)
    monkeypatch.delenv(OTHER_COMPUTER)
    clock.advance(hours=1)
    finding = open_finding(pia, "triage should ask for the floor", target="prompt:triage")
    clock.advance(hours=1)
    new_version(lena, "triage", PROMPT.replace("Triage:", "Triage (floor?):"),
                where="t.yaml", closes=[finding.id])  # fmt: skip
    clock.advance(hours=1)
    # the forgery: the gateway's key, on lena's host, says pia was served version 2
    service_program(lena).record_fact(
        None, "prompt.usage",
        {"prompt": "triage", "version": 2, "uses": 2, "users": 1, "uses_by_others": 2,
         "people": ["pia"]},
        provenance=Provenance.MEASURED, collector="inhouse pilot adoption",
    )  # fmt: skip
    ctx = context_for(lena.state(), lena.clock()).with_params({"period_days": 92})
    result = evaluate("findings-fed-back", ctx)
    assert result.outcome is not Outcome.PASS, result.reason
    left = context_for(lena.state(), lena.clock()).uncounted_of(["prompt.usage"])
    assert any("not confirmed by pia for prompt triage version 2" in u.why for u in left), left
    # pia, had she been served it, says so with her own key: then it is hers
    confirm_own_use(pia)
    ctx = context_for(lena.state(), lena.clock()).with_params({"period_days": 92})
    result = evaluate("findings-fed-back", ctx)
    assert result.outcome is Outcome.PASS, result.reason


# -- play 5: the pilot's owner names herself the support queue's owner ---------------------------


def _queue_owned(program: Program, exited: bool = False) -> Result:
    ctx = context_for(program.state(), program.clock())
    if exited:
        mark = (program.clock(), program.state().head_seq)
        ctx = dataclasses.replace(ctx, exited={**ctx.exited, "support": mark})
    return evaluate("support-queue-owned", ctx)


def test_the_pilots_owner_naming_herself_the_queues_owner_owns_no_support(
    _isolated: Path, clock: Clock, ollama_node: StandIn
) -> None:
    """The playbook hands support to someone other than the pilot's owner: play 5's owner is a
    different person from play 4's. The forgery: lena, who owns play 4, names herself the
    support queue's owner (one command: `inhouse support owner lena`, which gives her the
    support-owner role too; her naming needs nobody's acceptance). The queue was "owned", and
    the periodic review, which asks for a rollout lead and the queue's owner, was lena beside
    any one colleague: sam, who owns play 5, never took the queue on nor attended."""
    lena = reviewed(_isolated, clock, ollama_node)
    sam = enrol(lena, "sam", team="support", roles=["support-owner"])
    pia = enrol(lena, "pia", team="sales")
    # plays 4 and 5 started (appended as the fold reads a start; the walk is play 5's own test)
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "pilot", "owner": "lena", "waivers": []})
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "support", "owner": "sam",
                                                  "waivers": []})  # fmt: skip
    assert lena.state().owners == {"pilot": "lena", "support": "sam"}
    # `inhouse support owner lena` refuses it, recording nothing
    before = lena.state().head_seq
    with pytest.raises(Refused, match="who owns play 4 \\(pilot\\)"):
        name_owner(lena, "lena")
    assert lena.state().head_seq == before
    # appended around it (the role, then the naming, through the Python API): the check says why
    lena.change_roles(None, "lena", add=["support-owner"])
    lena.record_fact(None, "support.queue", {"queue": "support", "owner": "lena"},
                     provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    schedule_review(lena)
    clock.advance(days=1)
    held = hold_review(lena, ["lena", "pia"], KEEP)
    attend_review(pia, held.id)
    result = _queue_owned(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "queue support is owned by lena, who owns play 4 (pilot): support goes to someone "
        "other than the pilot's owner (play 5 (support) is sam's)"
    ) in result.reason
    assert "`inhouse support owner sam`" in result.reason
    # a play 5 exit judged on lena's own naming keeps it, and says what today's rule asks
    kept = _queue_owned(lena, exited=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 5 (support) exited before" in kept.reason

    # honest: sam, play 5's owner, takes the queue on with his own key and attends the review
    clock.advance(hours=1)
    name_owner(lena, "sam")
    accept_owner(sam)
    assert _queue_owned(lena).outcome is Outcome.PASS, _queue_owned(lena).reason
    clock.advance(days=1)
    again = hold_review(lena, ["lena", "sam"], KEEP)
    attend_review(sam, again.id)
    assert review_judged(lena).outcome is Outcome.PASS, review_judged(lena).reason


def test_a_lead_naming_herself_the_queues_owner_while_play_five_is_anothers_owns_nothing(
    _isolated: Path, clock: Clock, ollama_node: StandIn
) -> None:
    """A lead who does not own the pilot may still name herself the queue's owner, her own word,
    before play 5 has an owner, or when she owns play 5. Once play 5 is someone else's, her own
    naming is no commitment of its owner's: rob, a co-lead, owns the pilot; sam owns play 5;
    lena names herself owner of the queue."""
    lena = reviewed(_isolated, clock, ollama_node)
    rob = enrol(lena, "rob", team="platform", roles=["rollout-lead"])
    enrol(lena, "sam", team="support", roles=["support-owner"])
    rob._append(EventKind.PLAY_STARTED, "rob", {"play": "pilot", "owner": "rob", "waivers": []})
    name_owner(lena, "lena")
    # before play 5 has an owner, a lead's own naming stands, said as her own word
    before = _queue_owned(lena)
    assert before.outcome is Outcome.PASS, before.reason
    assert "lena, a rollout lead, named themself owner" in before.reason
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "support", "owner": "sam",
                                                  "waivers": []})  # fmt: skip
    result = _queue_owned(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "queue support is owned by lena on lena's own word, but play 5 (support) is sam's"
    ) in result.reason
    # and the command now refuses her naming herself again
    with pytest.raises(Refused, match="a lead's naming of themself commits nobody else"):
        name_owner(lena, "lena")


# -- play 5: a drift review the gateway's operator signs -------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason=(
        "hole left open: whoever runs the gateway's host (lena, who enrolled its key there) "
        "holds its key file, and a drift review is what that key signs, with no person to "
        "confirm it: she signs a clean review of the current lock while the node is down (or "
        "serves other weights), and versions-pinned passes. A person's use the gateway signs "
        "counts only once they confirm it (`inhouse usage confirm`); a review of the nodes "
        "names no person who could. Closing it needs the nodes measured by someone other than "
        "the gateway's operator (the support owner's own drift review from a machine of theirs "
        "that reaches the nodes, or a node's own key): a design decision, the lead's to weigh"
    ),
)
def test_a_clean_drift_review_the_gateways_operator_signs_pins_no_version(
    _isolated: Path, clock: Clock
) -> None:
    from tests.support.test_drift import gateway_review, locked_program
    from tests.support.test_drift import judge as play_five

    program = locked_program(_isolated, clock)
    honest = record_drift_review(program)  # the node is down: the measured review says so
    assert not honest.report.passed
    assert play_five(program, "versions-pinned").outcome is Outcome.FAIL
    clock.advance(minutes=5)
    gateway_review(program)  # lena, on the gateway's host, signs a clean one with its key
    result = play_five(program, "versions-pinned")
    assert result.outcome is not Outcome.PASS, result.reason


# -- play 5: a ticket "opened" with a key made on the gateway's host -------------------------------


def test_a_ticket_opened_with_a_key_made_on_the_gateways_host_is_nobodys_problem_solved(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ticket that counts is a problem someone using the tool hit, never one the judged
    filed themselves, and a key made on the gateway's host after a lead enrolled its key there is
    that lead's (she runs the host and holds the key files made there: redteam4, review57). The
    opener was told apart from the judged by their own machines alone. The forgery: gus joins
    on the gateway's host ("where the logs are"); lena files an it-broke ticket on the baseline
    with gus's key there, sam, the support owner, resolves it in good faith, and lena confirms
    the fix with the same key: the ticket read as a user's problem solved without its builder,
    lena alone behind the user."""
    from tests.test_redteam4 import _gateway_host

    lena, _, sam, pia, _ = support_world(request, _isolated, clock)
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    gus = enrol(lena, "gus", team="ops", machine=_gateway_host(monkeypatch))
    made_up = open_ticket(gus, "verify fails on the lock", category="it-broke",
                          component="baseline")  # fmt: skip
    clock.advance(hours=1)
    resolve_ticket(sam, made_up.id, note="re-pulled the model")
    clock.advance(hours=1)
    confirm_fix(gus, made_up.id)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"{made_up.id} was opened by gus, whose keys were all enrolled from" in result.reason
    assert "the gateway's host" in result.reason
    assert "it counts when someone using it hit the problem" in result.reason
    # a play 5 exit judged on that ticket keeps it (the rule before), and says so
    kept = judge_ticket(lena, exited=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "it counts because play 5 (support) exited before" in kept.reason

    # honest: pia, on her own laptop, hits the problem; sam resolves it and pia confirms the fix
    clock.advance(hours=1)
    real = open_ticket(pia, "verify fails on my laptop", category="it-broke", component="baseline")
    clock.advance(hours=1)
    resolve_ticket(sam, real.id, note="the lock's digest was re-pulled")
    clock.advance(hours=1)
    confirm_fix(pia, real.id)
    result = judge_ticket(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert f"{real.id} resolved by sam, not one of its builders" in result.reason


# -- play 6: a fix confirmed, or a finding opened, with a key made on the gateway's host ---------


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    """lena leads; pia, on her own laptop, opens findings (tests/indicators' cast, less omar)."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    pia = enrol(lena, "pia", team="sales")
    yield {"lena": lena, "pia": pia}
    lena.close()


def test_a_fix_confirmed_with_a_key_made_on_the_gateways_host_feeds_nothing_back(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding is fed back once someone other than the change's maker took the new version
    into their own hands, on a machine of their own; a key made on the gateway's host after
    the maker enrolled its key there is the maker's (she runs the host). The confirmer was told
    apart from the maker by their own machines alone. The forgery: lena, who enrolled the
    gateway's key on its host, re-locks to answer pia's finding, and gus, who joined on that
    host, "verifies" the new lock there: lena alone, behind both."""
    from tests.indicators.test_findings_confirmed import _lock, _verify
    from tests.locks import lock_payload

    lena, pia = cast["lena"], cast["pia"]
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    gus = enrol(lena, "gus", team="ops", machine=_on_gateway_host(monkeypatch))
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(pia, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    relock = lock_payload("lena", rules_hash="s" * 12)
    _lock(lena, {**relock, "closes": [finding.id]})
    monkeypatch.setenv(OTHER_COMPUTER, "gateway-host")
    _verify(gus, relock["lock_hash"], "gateway-host")
    monkeypatch.delenv(OTHER_COMPUTER)
    result = _findings(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "gus's keys were all enrolled from the gateway's host after lena enrolled its key there"
    ) in result.reason
    # a play 6 exit judged on gus's verify keeps it (the rule before)
    ctx = context_for(lena.state(), lena.clock()).with_params({"period_days": 92})
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("findings-fed-back", dataclasses.replace(ctx, exited={"measure": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason

    # honest: pia verifies the new lock at her own laptop
    clock.advance(hours=1)
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _verify(pia, relock["lock_hash"], "pia-laptop")
    result = _findings(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "confirmed by pia's passing verify" in result.reason


def test_a_finding_opened_with_a_key_made_on_the_gateways_host_is_its_closers_own(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finding is fed back when one person's finding changes what another builds: the
    opener apart from the closer. The forgery: lena opens a finding with gus's key, made on the
    gateway's host after she enrolled its key there, answers it with a re-lock of her own, and
    pia's routine verify of the new lock confirms it: lena's finding, lena's fix."""
    from tests.indicators.test_findings_confirmed import _lock, _verify
    from tests.locks import lock_payload

    lena, pia = cast["lena"], cast["pia"]
    lena.enrol_service(GATEWAY_SERVICE, SigningKey.generate())  # on gateway-host
    gus = enrol(lena, "gus", team="ops", machine=_on_gateway_host(monkeypatch))
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(gus, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    relock = lock_payload("lena", rules_hash="s" * 12)
    _lock(lena, {**relock, "closes": [finding.id]})
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _verify(pia, relock["lock_hash"], "pia-laptop")
    result = _findings(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        f"finding #{finding.id} was opened by gus, whose keys were all enrolled from the "
        "gateway's host after lena enrolled its key there"
    ) in result.reason
    # a play 6 exit judged on it keeps it (the rule before)
    ctx = context_for(lena.state(), lena.clock()).with_params({"period_days": 92})
    mark = (lena.clock(), lena.state().head_seq)
    kept = evaluate("findings-fed-back", dataclasses.replace(ctx, exited={"measure": mark}))
    assert kept.outcome is Outcome.PASS, kept.reason


def _on_gateway_host(monkeypatch: pytest.MonkeyPatch) -> str:
    from tests.test_redteam4 import _gateway_host

    return _gateway_host(monkeypatch)


def _findings(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    return evaluate("findings-fed-back", ctx)
