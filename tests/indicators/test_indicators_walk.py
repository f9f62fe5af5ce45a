"""Play 6 on real traffic: people with keys of their own send requests through the real gateway
to the real llama.cpp engine (the generated test model) on days set by the test's clock; the
report's every indicator is checked against figures this test works out by hand from the
requests it sent (the tokens from each answer's own ``usage``, the busy time from each request's
row, found by the request id the gateway answered with).

Play 1's verdict is recorded here as ``inhouse prove`` records it (with its economics: a manual
status quo of 10 minutes a task, the candidate's 30 s and its cost inputs); the trial itself
runs on the same engine in tests/test_demo.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from inhouse.baseline.lock import lock_baseline
from inhouse.baseline.verify import run_verify
from inhouse.db.schema import gateway_usage
from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage, service_program
from inhouse.indicators import (
    build_report,
    close_by_hand,
    open_finding,
    record_report,
    set_prices,
    write_report,
)
from inhouse.pilot.library import add_prompt
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket
from inhouse.workflows import run_workflow_tests
from tests.conftest import OTHER_COMPUTER, Clock
from tests.engine import Engine, needs_engine
from tests.gateway.harness import auth, chat, digest_of, in_process, make_program
from tests.people import confirm_own_use, enrol, vouch_for_gateway_host

pytestmark = needs_engine
NAME = "inhouse-test-model"

WORKFLOW = """\
name: ticket-summary
description: Summarise a support ticket
owner: sam
frequency: daily
model: inhouse-test-model
variables:
  ticket: {type: string}
parameters:  # JSON in a schema: the test model writes nonsense, held to it by the runtime
  max_tokens: 24
  temperature: 0
  response_format:
    type: json_object
    schema: {type: object, required: [ok], properties: {ok: {type: boolean}}}
prompt:
  user: "Summarise: {{ ticket }}"
# JSON in the schema alone is in every answer (the other ticket's too): each case checks the
# "ok" the test model gives its ticket (nonsense, but a different answer to each)
tests:
  - vars: {ticket: The printer jams.}
    checks:
      - type: is-json
        value: {type: object, required: [ok], properties: {ok: {enum: [false]}}}
  - vars: {ticket: Refund for order 1234.}
    checks:
      - type: is-json
        value: {type: object, required: [ok], properties: {ok: {enum: [true]}}}
"""
PROMPT = """\
description: Triage a ticket
variables:
  text: string
messages:
  - {role: user, content: "Triage: {{ text }}"}
"""
LOCAL = {"watts": 100.0, "price_per_kwh": 0.3, "hardware_price": 2000.0,
         "lifetime_hours": 20000.0, "utilisation": 0.5, "currency": "USD"}  # fmt: skip
#: per busy hour: 100 W / 1000 * 0.3 = 0.03 energy, 2000 / 20000 / 0.5 = 0.2 hardware
RATE = 0.03 + 0.2


class Sent:
    """What the test sent, as it saw it: per request, who, the day, and the answer's usage."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []


async def _send(folder: Path, clock: Clock, sends: list[tuple[str, dict[str, str]]],
                sent: Sent, who: dict[str, str]) -> None:  # fmt: skip
    async with in_process(folder, clock=clock) as (gateway, client):
        for key, headers in sends:
            body = chat(NAME, "a ticket about the printer", max_tokens=4, temperature=0)
            reply = await client.post(
                "/v1/chat/completions", json=body, headers={**auth(key), **headers}
            )
            assert reply.status_code == 200, reply.text
            usage = reply.json()["usage"]
            sent.rows.append({
                "person": who[key], "day": clock().date().isoformat(),
                "request_id": reply.headers["x-inhouse-request-id"],
                "tokens_in": usage["prompt_tokens"], "tokens_out": usage["completion_tokens"],
                "prompt": headers.get("x-inhouse-prompt"),
                "workflow": headers.get("x-inhouse-workflow"),
            })  # fmt: skip
        # a refused request (a model nobody blessed) is no use and counts nowhere
        refused = await client.post("/v1/chat/completions", json=chat("nope"),
                                    headers=auth(sends[0][0]))  # fmt: skip
        assert refused.status_code >= 400
        await gateway.usage.flush()


def _verdict(lena: Program) -> None:
    economics = {"status_quo": "manual", "currency": "USD", "status_quo_seconds_per_task": 600.0,
                 "candidate_seconds_per_task": 30.0, "local": LOCAL}  # fmt: skip
    lena.record_fact(
        None, "trial.verdict",
        {"trial": "ticket-summary", "verdict": "proven", "proven_on": ["faster"],
         "quality_ok": True, "economics": economics},
        provenance=Provenance.MEASURED, collector="inhouse prove",
    )  # fmt: skip


def _confirm(people: dict[str, Program]) -> None:
    """The gateway's users confirm, each with their own key, the use its figures give them."""
    confirm_own_use(*(people[name] for name in ("sam", "pia", "zoe", "dan")))


@pytest.fixture
def world(
    engine: Engine, _isolated: Path, on_database: str, clock: Clock, real_model: None
) -> Iterator[dict[str, Any]]:
    """A program on the engine, whose model stands in for a real one (``real_model``): these
    walks judge play 6's own rules, and outside a demo a workflow run on the test model
    confirms no fix."""
    folder = _isolated
    clock.now = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    runtimes = {"engine": {"family": "openai", "url": engine.url, "model_path": str(engine.model)}}
    rules = {"baseline": {"owner": "lena", "runtime": "engine", "models": [NAME]}}
    lena = make_program(folder, runtimes, {NAME: digest_of(engine.model)}, extra=rules,
                        clock=clock)  # fmt: skip
    (folder / "workflows").mkdir()
    (folder / "workflows" / "ticket-summary.yaml").write_text(WORKFLOW, encoding="utf-8")
    lock_baseline(lena, None)
    for guard in ("scaling-before-proving", "skipping-play-five"):
        lena.grant_waiver(
            None,
            guard,
            reason="time-boxed-experiment",
            note="play 6 is walked alone here",
            expires=clock() + timedelta(days=120),
        )
    people: dict[str, Program] = {"lena": lena}
    for name, team, roles in (("sam", "support", ["pilot-user"]),
                              ("pia", "legal", ["pilot-user"]), ("zoe", "sales", []),
        ("dan", "finance", ["pilot-user"])):  # fmt: skip
        people[name] = enrol(lena, name, team=team, roles=roles)
    run_workflow_tests(people["sam"], "ticket-summary")  # sam publishes the workflow
    add_prompt(people["sam"], "triage", PROMPT, where="triage.yaml")  # sam authors the prompt
    _verdict(lena)
    keys = {name: issue_key(lena, None, name, holder=people[name])[1]
            for name in ("sam", "pia", "zoe", "dan")}  # fmt: skip
    # zoe uses the gateway and never led: with the sign-in set up, what the gateway signs
    # (usage, prompt use) counts once she vouched for its host (docs/gateway.md, "Whose host")
    service_program(lena)
    vouch_for_gateway_host(people["zoe"])
    who = {key: name for name, key in keys.items()}
    # October 15: the reference prices, as lena looked them up
    clock.now = datetime(2026, 10, 15, 9, 0, tzinfo=UTC)
    set_prices(lena, reference="hosted-mini", input_per_mtok=2.0, output_per_mtok=6.0,
               source="the vendor's price page, 15 Oct")  # fmt: skip
    sent = Sent()
    triage = {"x-inhouse-prompt": "triage@1"}
    flow = {"x-inhouse-workflow": "ticket-summary"}
    plan = [
        (datetime(2026, 10, 20, 10, tzinfo=UTC), [("sam", {}), ("sam", triage), ("zoe", {})]),
        (datetime(2026, 11, 3, 10, tzinfo=UTC),
         [("sam", flow), ("pia", triage), ("pia", flow), ("zoe", triage)]),
        (datetime(2026, 11, 10, 10, tzinfo=UTC), [("pia", {}), ("dan", flow)]),
        (datetime(2026, 11, 25, 10, tzinfo=UTC), [("zoe", {})]),
        (datetime(2026, 12, 1, 10, tzinfo=UTC), [("sam", {})]),
    ]  # fmt: skip
    for when, sends in plan:
        clock.now = when
        asyncio.run(_send(folder, clock, [(keys[n], h) for n, h in sends], sent, who))
        if when.day == 10:  # a ticket about the workflow: pia opens it, dan (no builder) fixes it
            ticket = open_ticket(people["pia"], "summary cut short", category="it-broke",
                                 component="workflow:ticket-summary")  # fmt: skip
            resolve_ticket(people["dan"], ticket.id, note="raised max_tokens in my call")
            confirm_fix(people["pia"], ticket.id)  # pia, who hit it, says it is fixed
    _confirm(people)  # each user confirms, on their own machine, the days they used it
    yield {"lena": lena, "people": people, "sent": sent, "clock": clock, "ticket": ticket,
           "keys": keys}  # fmt: skip
    for program in people.values():
        program.close()


def test_every_indicator_matches_the_requests_sent(world: dict[str, Any]) -> None:
    lena: Program = world["lena"]
    sent: Sent = world["sent"]
    clock: Clock = world["clock"]
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    rollup_usage(lena)  # the gateway's signed daily usage, which the check compares with
    _confirm(world["people"])

    report = build_report(lena, "2026-11")
    assert not report.partial and report.previous.label == "2026-10"
    value = {i.name: i.value for i in report.current}
    before = {i.name: i.value for i in report.before}
    november = [r for r in sent.rows if r["day"].startswith("2026-11")]
    october = [r for r in sent.rows if r["day"].startswith("2026-10")]

    assert value["answered_requests"] == len(november) == 7
    assert before["answered_requests"] == len(october) == 3
    assert value["active_users"] == len({r["person"] for r in november}) == 4
    # active days: Nov 3 {sam, pia, zoe}, Nov 10 {pia, dan}, Nov 25 {zoe}; Oct 20 {sam, zoe}
    assert value["dau"] == pytest.approx((3 + 2 + 1) / 30, abs=1e-3)
    # 7-day windows: Nov 3-9 see 3 people, Nov 10-16 see 2, Nov 25-30 see 1
    assert value["wau"] == pytest.approx((3 * 7 + 2 * 7 + 1 * 6) / 30, abs=1e-3)
    # 30-day windows: Nov 1-2 {sam, zoe} (from Oct 20), Nov 3-9 three, Nov 10-30 all four
    assert value["mau"] == pytest.approx((2 * 2 + 3 * 7 + 4 * 21) / 30, abs=1e-3)
    assert value["stickiness"] == pytest.approx((6 / 30) / (109 / 30), abs=1e-3)
    # zoe holds no role (sam and pia are pilot users; lena leads; omar owns play 3... or not)
    roles = {
        n for n, p in lena.state().people.items() if p.roles or n in lena.state().owners.values()
    }
    assert value["people_beyond_pilot"] == len({r["person"] for r in november} - roles)
    assert "zoe" not in roles
    # library prompt: pia and zoe used sam's triage in November; nobody but its author in Oct
    assert value["prompt_uses"] == 2 and value["prompt_uses_by_non_authors"] == 2
    assert value["prompts_reused"] == 1
    assert before["prompt_uses"] == 1 and before["prompt_uses_by_non_authors"] == 0
    # the workflow: sam (its publisher), pia and dan ran it through the gateway
    assert value["workflow_runs"] == 3 and value["workflow_runs_by_non_authors"] == 2
    assert value["tickets_opened"] == 1 and value["tickets_resolved"] == 1
    assert value["share_resolved_without_builders"] == 1.0  # dan never published the workflow

    # work changed: 3 runs x (600 s - 30 s) / 60 min, from the trial, / 60 = 0.475 h
    assert value["work_changed_hours"] == pytest.approx(3 * 9.5 / 60)
    work = next(i for i in report.current if i.name == "work_changed_hours")
    assert any("recorded by the trial's author" in item.source for item in work.inputs)

    # spend avoided: the tokens each answer reported, at the October snapshot's prices, minus
    # the busy time of the rows the gateway wrote for these very requests
    tokens_in = sum(r["tokens_in"] for r in november)
    tokens_out = sum(r["tokens_out"] for r in november)
    ids = [r["request_id"] for r in november]
    with lena.store.engine.connect() as conn:
        busy_ms = sum(conn.execute(select(gateway_usage.c.latency_ms).where(
            gateway_usage.c.request_id.in_(ids))).scalars())  # fmt: skip
    reference = (tokens_in * 2.0 + tokens_out * 6.0) / 1e6
    local = busy_ms / 3_600_000 * RATE
    assert tokens_in > 0 and busy_ms > 0
    assert value["reference_cost"] == pytest.approx(reference, abs=1e-6)
    assert value["local_cost"] == pytest.approx(local, abs=1e-6)
    assert value["spend_avoided"] == pytest.approx(reference - local, abs=2e-6)
    spend = next(i for i in report.current if i.name == "spend_avoided")
    sources = {item.name: item.source for item in spend.inputs}
    assert "attested by lena on 2026-10-15" in sources["price per 1M input tokens"]
    assert "gateway usage log" in sources["input tokens"]
    assert "trial.verdict" in sources["energy per busy hour"]

    # a price recorded after the period never moves it
    set_prices(lena, reference="hosted-mini", input_per_mtok=3.0, output_per_mtok=9.0,
               source="the vendor raised prices, 2 Dec")  # fmt: skip
    again = {i.name: i.value for i in build_report(lena, "2026-11").current}
    assert again["spend_avoided"] == value["spend_avoided"]
    december = build_report(lena, "2026-12")
    assert december.partial  # the month has not ended

    # recorded, the report satisfies play 6's check; the files say what the figures say
    files = write_report(lena, report)
    fact = record_report(lena, report, files)
    assert fact.collector == "inhouse indicators" and fact.by == "lena"
    assert "Spend avoided" in files.html.read_text() and "<svg" in files.html.read_text()
    assert "spend_avoided" in files.csv.read_text()
    ctx = build_context(lena.state(), lena.clock())
    result = evaluate("indicators-reported", ctx)
    assert result.outcome is Outcome.PASS, result.reason
    # its figures as the gateway's signed usage shows them, not as the report states them
    assert (f"signed usage shows {len(november)} answered requests, {tokens_in} input and "
            f"{tokens_out} output tokens, through 4 people's keys") in result.reason  # fmt: skip


def test_a_partial_or_inflated_report_does_not_pass(world: dict[str, Any]) -> None:
    lena: Program = world["lena"]
    clock: Clock = world["clock"]
    clock.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    rollup_usage(lena)
    december = build_report(lena, "2026-12")
    record_report(lena, december, write_report(lena, december))
    result = evaluate("indicators-reported", build_context(lena.state(), lena.clock()))
    assert result.outcome is Outcome.FAIL and "partial" in result.reason
    # the cheapest forgery: lena records a report of her own through the Python API
    honest = build_report(lena, "2026-11")
    fact = record_report(lena, honest, write_report(lena, honest))
    payload = {**fact.payload, "leading": {**fact.payload["leading"], "active_users": 40}}
    lena.record_fact(None, "indicators.report", payload, provenance=Provenance.MEASURED,
                     collector="inhouse indicators")  # fmt: skip
    result = evaluate("indicators-reported", build_context(lena.state(), lena.clock()))
    assert result.outcome is Outcome.FAIL
    assert "counts 40 active people" in result.reason and "shows 4" in result.reason
    # the figures spend is priced from: tokens the gateway never answered
    inputs = [
        {**item, "value": float(item["value"]) * 10} if item["name"] == "input tokens" else item
        for item in fact.payload["inputs"]
    ]
    lena.record_fact(None, "indicators.report", {**fact.payload, "inputs": inputs},
                     provenance=Provenance.MEASURED, collector="inhouse indicators")  # fmt: skip
    result = evaluate("indicators-reported", build_context(lena.state(), lena.clock()))
    assert result.outcome is Outcome.FAIL and "input tokens" in result.reason


def test_a_finding_closed_by_a_relock_that_names_it_is_fed_back(
    world: dict[str, Any], _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena: Program = world["lena"]
    zoe: Program = world["people"]["zoe"]
    ctx = lambda: build_context(lena.state(), lena.clock())  # noqa: E731
    finding = open_finding(zoe, "answers quote e-mail addresses", target="baseline",
                           source="ticket T-1")  # fmt: skip
    # ticked off by hand: shown, not evidence
    close_by_hand(lena, finding.id, note="told people to be careful")
    result = evaluate("findings-fed-back", ctx())
    assert result.outcome is Outcome.FAIL and "by hand" in result.reason
    # a re-lock that changes nothing cannot close it
    from inhouse.errors import InvalidInput

    with pytest.raises(InvalidInput, match="the lock is unchanged"):
        lock_baseline(lena, None, closes=[str(finding.id)])
    # the baseline really changes (the data rules now redact e-mail addresses) and the re-lock
    # names the finding: closed by evidence
    with (_isolated / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[data_rules]\ndefault = "allow"\n[data_rules.classes]\nemail = "redact"\n')
    relocked = lock_baseline(lena, None, closes=[f"F-{finding.id}"])
    assert relocked.fact is not None and relocked.fact.payload["closes"] == [finding.id]
    # lena's re-lock alone is a fix published: someone other than her confirms it
    result = evaluate("findings-fed-back", ctx())
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than lena" in result.reason
    assert "`inhouse baseline verify`" in result.reason
    # zoe, who opened it, verifies the new lock at her own laptop: closed by evidence
    monkeypatch.setenv(OTHER_COMPUTER, "zoe-laptop")
    verified = run_verify(zoe, None)
    assert verified.report.passed, verified.report.failures
    result = evaluate("findings-fed-back", ctx())
    assert result.outcome is Outcome.PASS, result.reason
    assert f"finding #{finding.id}" in result.reason and "lena" in result.reason
    assert "confirmed by zoe's passing verify" in result.reason


@pytest.mark.usefixtures("real_model")  # play 6 confirms no version on the test model
def test_workflow_and_prompt_findings_close_only_with_a_new_version(
    world: dict[str, Any], _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inhouse.errors import InvalidInput
    from inhouse.indicators import findings
    from inhouse.pilot.library import new_version

    sam: Program = world["people"]["sam"]
    zoe: Program = world["people"]["zoe"]
    flow = open_finding(zoe, "summaries run past 4 tokens", target="workflow:ticket-summary")
    prompt = open_finding(zoe, "triage should ask for the floor", target="prompt:triage")
    # the version sam already published answers nothing: refused before a test runs
    with pytest.raises(InvalidInput, match="was published before"):
        run_workflow_tests(sam, "ticket-summary", closes=[str(flow.id)])
    with pytest.raises(InvalidInput, match="is about prompt:triage"):
        run_workflow_tests(sam, "ticket-summary", closes=[str(prompt.id)])
    spec = _isolated / "workflows" / "ticket-summary.yaml"
    # nor does a new version that changes only what describes it: refused before a test runs
    published = spec.read_text()
    spec.write_text(published.replace("description: ", "description: (shorter) ", 1))
    with pytest.raises(InvalidInput, match="runs what workflow ticket-summary ran before"):
        run_workflow_tests(sam, "ticket-summary", closes=[str(flow.id)])
    spec.write_text(published.replace("Summarise:", "Summarise briefly:"))
    run_workflow_tests(sam, "ticket-summary", closes=[str(flow.id)])
    new_version(sam, "triage", PROMPT.replace("Triage:", "Triage (floor?):"), where="t.yaml",
                closes=[prompt.id])  # fmt: skip
    # sam's new versions alone are fixes published, which someone other than sam confirms
    state = {f.id: f for f in findings(sam)}
    for waiting in (flow, prompt):
        assert state[waiting.id].closed_by is None
        assert state[waiting.id].state == (
            "fix published, awaiting confirmation by someone other than sam"
        )
    result = evaluate("findings-fed-back", build_context(sam.state(), sam.clock()))
    assert result.outcome is Outcome.FAIL and "someone other than sam" in result.reason
    # zoe, at her own laptop, passes the new workflow version and is served triage@2
    monkeypatch.setenv(OTHER_COMPUTER, "zoe-laptop")
    run_workflow_tests(zoe, "ticket-summary")
    key = world["keys"]["zoe"]
    clock: Clock = world["clock"]
    asyncio.run(_send(_isolated, clock, [(key, {"x-inhouse-prompt": "triage@2"})], Sent(),
                      {key: "zoe"}))  # fmt: skip
    record_prompt_usage(world["lena"])  # on the gateway's host, signed by its key
    _confirm(world["people"])  # zoe confirms she was served triage@2
    state = {f.id: f for f in findings(sam)}
    assert state[flow.id].closed_by is not None
    assert state[flow.id].closed_by.kind == "workflow.spec"
    assert state[flow.id].confirmed_by is not None and state[flow.id].confirmed_by.by == "zoe"
    assert state[prompt.id].closed_by is not None
    assert state[prompt.id].closed_by.payload["version"] == 2
    assert state[prompt.id].confirmed_by is not None
    assert state[prompt.id].confirmed_by.kind == "prompt.usage"
    result = evaluate("findings-fed-back", build_context(sam.state(), sam.clock()))
    assert result.outcome is Outcome.PASS and "sam" in result.reason
