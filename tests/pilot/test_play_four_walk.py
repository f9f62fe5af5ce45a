"""Play 4 walked to its exit on evidence nobody typed: six enrolled people on three teams, each
with their own key, send real requests through the gateway to the real llama.cpp engine (the
project's test model) over several days (the days move through the gateway's and the program's
clock, never by editing rows), which the gateway's key signs; two of them share library prompts
the others use; each finishes their track; they answer the survey in their own names. Every
play-4 check, trigger and exit, then passes on measured facts and signed answers alone.

Plays 1 to 3 are not walked here (tests/test_demo.py walks them on the same engine): a rollout
lead starts play 4 under a botched-handoff waiver, on the record; the waiver lets the play start
and passes no check.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.baseline.lock import lock_baseline
from inhouse.gateway.rollup import rollup_usage
from inhouse.pilot.adoption import record_adoption
from inhouse.pilot.enablement import record_enablement, step_done
from inhouse.pilot.library import add_prompt
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.pilot.roster import add_member, state_team
from inhouse.pilot.survey import answer_survey, open_survey
from inhouse.program import Program
from inhouse.workflows.runner import run_workflow_tests
from tests.conftest import Clock
from tests.engine import Engine, needs_engine
from tests.gateway.harness import auth, chat, digest_of, in_process, make_program
from tests.people import confirm_own_use, enrol, vouch_for_gateway_host

pytestmark = needs_engine

NAME = "inhouse-test-model"
TEAMS = {"sam": "support", "gus": "support", "pia": "legal", "dan": "legal", "eve": "finance",
         "fay": "finance"}  # fmt: skip

TRACK = """\
title: Everyone in the pilot
role: all
prompts: [triage, clause]
steps:
  - {id: first-request, type: first-answered-request}
  - {id: someone-elses-prompt, type: used-shared-prompt, others: true}
  - {id: a-redaction, type: read-a-redaction}
"""

WORKFLOW = f"""\
name: ticket-summary
description: Summarise a support ticket in one line
owner: omar
frequency: daily
model: {NAME}
parameters:  # JSON in a schema: the test model writes nonsense, held to it by the runtime
  max_tokens: 24
  temperature: 0
  seed: 1
  response_format:
    type: json_object
    schema: {{type: object, required: [ok], properties: {{ok: {{type: boolean}}}}}}
variables:
  ticket: {{type: string}}
prompt:
  user: "Summarise: {{{{ ticket }}}}"
# JSON in the schema alone is in every answer (the other ticket's too): each case checks the
# "ok" the test model gives its ticket (nonsense, but a different answer to each)
tests:
  - vars: {{ticket: The printer jams.}}
    checks:
      - type: is-json
        value: {{type: object, required: [ok], properties: {{ok: {{enum: [false]}}}}}}
  - vars: {{ticket: Refund for order 1234.}}
    checks:
      - type: is-json
        value: {{type: object, required: [ok], properties: {{ok: {{enum: [true]}}}}}}
"""


def _prompt(topic: str) -> str:
    return (
        f"description: {topic}\nvariables:\n  text: string\nmessages:\n"
        f'  - {{role: user, content: "{topic}: {{{{ text }}}}"}}\n'
    )


async def _requests(
    folder: Path, clock: Clock, sends: list[tuple[str, dict[str, str], str]]
) -> None:
    """Each (key, extra headers, text) as one chat through the gateway to the real engine."""
    async with in_process(folder, clock=clock) as (gateway, client):
        for key, headers, text in sends:
            body = chat(NAME, text, max_tokens=4, temperature=0)
            reply = await client.post(
                "/v1/chat/completions", json=body, headers={**auth(key), **headers}
            )
            assert reply.status_code == 200, reply.text
        await gateway.usage.flush()


def walk_play_four(
    engine: Engine, folder: Path, clock: Clock
) -> tuple[Program, dict[str, Program]]:
    """Play 4 walked to exit-met; returns lena's program and each member's."""
    runtimes = {"engine": {"family": "openai", "url": engine.url, "model_path": str(engine.model)}}
    rules = {
        "data_rules": {"default": "allow", "classes": {"email": "redact"}},
        "baseline": {"owner": "lena", "runtime": "engine", "models": [NAME]},
    }
    lena = make_program(folder, runtimes, {NAME: digest_of(engine.model)}, extra=rules,
                        clock=clock)  # fmt: skip
    (folder / "enablement").mkdir()
    (folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    (folder / "workflows").mkdir()
    (folder / "workflows" / "ticket-summary.yaml").write_text(WORKFLOW, encoding="utf-8")

    lock_baseline(lena, None)  # the baseline, measured on the engine: lena is its builder
    # six people, each with their own key on their own machine
    people = {name: enrol(lena, name, team=team) for name, team in TEAMS.items()}

    # play 4's trigger, measured: the workflow's tests pass on the real engine, and demand
    # spreads: three people ask in their own names
    run_workflow_tests(people["sam"], "ticket-summary")
    for name in ("pia", "dan", "eve"):
        people[name].request_access(reason="I want what support has")
    later = clock() + timedelta(days=60)
    lena.grant_waiver(None, "botched-handoff", play="pilot", reason="time-boxed-experiment",
                      note="plays 1-3 are walked elsewhere", expires=later)  # fmt: skip
    lena.grant_waiver(None, "scaling-before-proving", reason="time-boxed-experiment",
                      note="the pilot starts before play 3 exits", expires=later)  # fmt: skip
    lena.start_play(None, "pilot")

    # day 0: onboarding; two authors seed the library
    triage = add_prompt(people["sam"], "triage", _prompt("Triage"), where="triage.yaml").id
    clause = add_prompt(people["pia"], "clause", _prompt("Explain the clause"), where="c.yaml").id
    for name in TEAMS:
        add_member(lena, name, track="everyone")
        state_team(people[name], TEAMS[name])  # each member's own word on where they work
    keys = {name: _gateway_key(lena, people[name], name) for name in TEAMS}
    # the gateway's key enrolled on its host, which a member who never led vouches for: with the
    # organisation's sign-in set up, what that key signs counts only then
    lena.as_service("gateway")
    vouch_for_gateway_host(people["sam"])

    # day 1: everyone's first request, someone else's prompt, and a redacted request
    clock.advance(days=1)
    sends = []
    for name in TEAMS:
        other = clause if name == "sam" else triage
        sends += [
            (keys[name], {}, "hello"),
            (keys[name], {"x-inhouse-prompt": other}, "a ticket"),
            (keys[name], {}, f"reach me at {name}@example.com"),
        ]
    asyncio.run(_requests(folder, clock, sends))
    # the gateway's host signs what its rows add up to: each day's use, and library prompt use
    rollup_usage(lena)
    record_prompt_usage(lena)
    # each member confirms, on their own machine, the use the gateway's figures give them
    confirm_own_use(*(people[name] for name in TEAMS))
    for name in TEAMS:
        step_done(people[name], "a-redaction", comment="read why my address was redacted")
    # each member records their own track (a lead's record would be the lead's word)
    recorded = [f for name in TEAMS for f in record_enablement(people[name])[1]]
    assert {f.payload["person"] for f in recorded if f.kind == "enablement.completed"} == set(TEAMS)

    # days 2 to 4: everyone comes back on their own, except gus after day 2
    for day in (2, 3, 4):
        clock.advance(days=1)
        who = [n for n in TEAMS if n != "gus" or day == 2]
        asyncio.run(_requests(folder, clock, [(keys[n], {}, f"day {day}") for n in who]))
    rollup_usage(lena)  # the gateway's host signs the days: what the survey's answers rest on
    confirm_own_use(*(people[name] for name in TEAMS))
    _, adoption = record_adoption(lena)
    assert adoption is not None and adoption.by == "gateway"

    # the survey: five would be very disappointed, one somewhat
    open_survey(lena, clock() + timedelta(days=7))
    for name in TEAMS:
        answer_survey(people[name], "somewhat" if name == "gus" else "very", "faster tickets")

    return lena, people


@pytest.mark.usefixtures("real_model")
def test_play_four_exits_on_measured_use_and_signed_answers(
    engine: Engine, _isolated: Path, clock: Clock
) -> None:
    lena, _ = walk_play_four(engine, _isolated, clock)
    status = lena.status()
    play = next(p for p in status["plays"] if p["id"] == "pilot")
    rows = {row["check"]: row for row in [*play["trigger"], *(play["exit"] or [])]}
    assert {name: row["outcome"] for name, row in rows.items()} == dict.fromkeys(rows, "pass")
    assert {row["basis"] for row in rows.values()} == {"measured"}, rows
    assert play["state"] == "exit-met"
    assert "5 of 6 pilot members reach it on their own" in rows["pilot-independent-use"]["reason"]
    assert "gus" in rows["pilot-independent-use"]["reason"]
    assert "6 members across 3 teams" in rows["pilot-size"]["reason"]
    # the steps the gateway measured rest on its signed facts; reading a redaction is a word
    assert rows["pilot-enabled"]["reason"] == (
        "all 6 pilot members finished their tracks; on the member's own word, not measured: "
        "a-redaction (dan, eve, fay, gus, pia, sam)"
    )


def _gateway_key(lena: Program, holder: Program, name: str) -> str:
    from inhouse.gateway import issue_key

    return issue_key(lena, None, name, holder=holder)[1]
