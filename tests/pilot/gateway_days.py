"""A pilot whose members send requests through the real gateway (in-process, on loopback) to a
**stand-in upstream** (no model needed: these tests are about who used it on which day), each
with their own gateway key, on the days a test clock picks. The usage rows are the gateway's
own; nobody writes one by hand.

The program is dated by the same clock: people are enrolled and given the pilot-user role on
30 October 2026 (a scaling-before-proving waiver lets the pilot in early), and onboarded on
2 November (their ``pilot.member`` facts, as a rollout lead's roster does), their keys granted
then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.gateway import issue_key
from inhouse.identity import load_key
from inhouse.pilot.roster import state_team
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for, run_checks
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.conftest import Clock
from tests.gateway.harness import auth, chat, digest_of, in_process, make_program, model_file
from tests.people import confirm_own_use, enrol_cli, vouch_for_gateway_host
from tests.runtimes.standin import steady_port

PROMPT = """\
description: Sort a ticket into a queue
variables:
  ticket: string
messages:
  - {role: user, content: "Ticket: {{ ticket }}"}
"""
ENROLLED = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)
ONBOARDED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    """``2026-11-03T10:00`` (UTC) as a time."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Use:
    """One request: who, when (by the gateway's clock), and what it carries."""

    person: str
    when: str
    model: str = "tiny"
    prompt: str | None = None
    status: int = 200  # what the gateway should answer
    #: the tools the request offers the model (an agent's request), if any
    tools: list[dict[str, Any]] | None = None
    #: the workflow the request names (X-Inhouse-Workflow), if any
    workflow: str | None = None


@dataclass
class Pilot:
    folder: Path
    clock: Clock
    lead: Program
    port: int  # the stand-in upstream's, fixed for the program's runtime table
    people: dict[str, Program] = field(default_factory=dict)
    tracks: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    env: dict[str, dict[str, str]] = field(default_factory=dict)  # a CLI call acting as them
    #: whether the gateway's host signs the days after each batch of requests (`inhouse
    #: gateway rollup`): what a survey answer's counting reads
    signs: bool = False
    #: whether each member confirms their use after each batch (`inhouse usage confirm`, with
    #: their own key): the gateway's figures count for a person only on their own word
    confirms: bool = True

    def enable(self, person: str, when: str) -> None:
        """``person`` finished their track's enablement at ``when``."""
        self.clock.now = at(when)
        self.people[person].record_fact(
            None,
            "enablement.completed",
            {"person": person, "track": self.tracks[person]},
            provenance=Provenance.MEASURED,
            collector="inhouse pilot enablement",
        )

    def share_prompt(self, author: str, name: str) -> str:
        """``author`` shares a prompt in the library with their own key; returns its id (the
        gateway refuses a request naming a prompt the library does not hold)."""
        from inhouse.pilot.library import add_prompt

        return add_prompt(self.people[author], name, PROMPT, where=f"{name}.yaml").id

    def use(self, uses: Iterable[Use]) -> None:
        """Send each request through the gateway, its clock set to the request's time."""
        asyncio.run(self._use(list(uses)))

    async def _use(self, uses: list[Use]) -> None:
        standin = StandinUpstream(StandinTiming(0, 0, 2), model="tiny", port=self.port,
                                   root=str(self.folder / "weights.gguf"))  # fmt: skip
        async with standin, in_process(self.folder, clock=self.clock) as (gateway, client):
            for use in uses:
                self.clock.now = at(use.when)
                headers = auth(self.keys[use.person])
                if use.prompt:
                    headers["x-inhouse-prompt"] = use.prompt
                if use.workflow:
                    headers["x-inhouse-workflow"] = use.workflow
                body = chat(use.model, **({"tools": use.tools} if use.tools else {}))
                reply = await client.post("/v1/chat/completions", json=body, headers=headers)
                assert reply.status_code == use.status, reply.text
            await gateway.usage.flush()
        if self.signs:
            from inhouse.gateway.rollup import rollup_usage

            rollup_usage(self.lead)
        if self.confirms:  # each person who sent one, the lead too (not an agent's key)
            programs = {**self.people, self.lead.whoami().name: self.lead}
            confirm_own_use(
                *{u.person: programs[u.person] for u in uses if u.person in programs}.values()
            )

    def on(self, day: str) -> None:
        """Move the clock to the end of ``day`` (what a report "as of today" reads)."""
        self.clock.now = at(f"{day}T23:00")


def start_pilot(folder: Path, clock: Clock, members: dict[str, tuple[str, str]]) -> Pilot:
    """A program with ``members`` (name -> (team, track)) enrolled, keyed and onboarded."""
    clock.now = ENROLLED
    port = steady_port()  # bound again on every day's use
    weights = model_file(folder)
    runtimes = {"local": {"family": "openai", "url": f"http://127.0.0.1:{port}",
                          "model_path": str(weights)}}  # fmt: skip
    lead = make_program(folder, runtimes, {"tiny": digest_of(weights)}, clock=clock)
    lead.grant_waiver(
        None,
        "scaling-before-proving",
        reason="time-boxed-experiment",
        note="the pilot starts before play 3 exits, for this test",
        expires=ENROLLED + timedelta(days=120),
    )
    pilot = Pilot(folder, clock, lead, port)
    for name, (team, track) in members.items():
        pilot.env[name] = enrol_cli(
            lead, name, folder.parent / "keys", team=team, roles=["pilot-user"]
        )
        pilot.people[name] = lead.using(load_key(Path(pilot.env[name]["INHOUSE_KEY"])))
        pilot.tracks[name] = track
        state_team(pilot.people[name], team)  # each says, with their own key, where they work
    clock.now = ONBOARDED
    for name, track in pilot.tracks.items():
        lead.record_fact(
            None,
            "pilot.member",
            {"person": name, "track": track, "action": "added"},
            provenance=Provenance.MEASURED,
            collector="inhouse pilot",
        )
    for name in pilot.tracks:  # once the pilot is listed: keys granted to an unlisted pilot
        # user would reach beyond it the moment the list leaves them out
        _, pilot.keys[name] = issue_key(lead, None, name, holder=pilot.people[name])
    if pilot.people:  # the gateway's key enrolled on its host, and a member vouches for it
        lead.as_service("gateway")
        vouch_for_gateway_host(next(iter(pilot.people.values())))
    return pilot


#: six members on six teams, the pilot play 4's outcome tests judge: (team, track)
SIX = {
    "bob": ("support", "support"),
    "pia": ("legal", "support"),
    "dora": ("finance", "analyst"),
    "carl": ("sales", "analyst"),
    "eve": ("hr", "analyst"),
    "fay": ("ops", "analyst"),
}


@contextmanager
def signed_in_pilot(
    folder: Path, clock: Clock, members: dict[str, tuple[str, str]]
) -> Iterator[Pilot]:
    """:func:`start_pilot` (the lead and every member signed in with an account of their own,
    by the suite's stand-in provider: tests.people), closed after."""
    made = start_pilot(folder, clock, members)
    try:
        yield made
    finally:
        made.lead.close()


def exit_check(pilot: Pilot, name: str) -> tuple[Outcome, str]:
    """Play 4's exit check ``name`` judged now, as the lead's program sees it."""
    lead = pilot.lead
    refs = [r for r in lead.playbook.play("pilot").exit if r.check == name]
    (checked,) = run_checks(refs, context_for(lead.state(), lead.clock()))
    return checked.result.outcome, checked.result.reason


def commands_on_the_tests_clock(pilot: Pilot, monkeypatch: pytest.MonkeyPatch) -> None:
    """``inhouse pilot adoption`` run in-process opens the program on the test's clock: a
    recorded report is of the day it is recorded, and the test picks that day."""
    from inhouse.cli._common import state as cli_state

    def opened(program: str | None = None) -> Program:
        found = Program.open(pilot.folder, clock=pilot.clock)
        cli_state.opened.append(found)  # closed by the command, as its own would be
        return found

    monkeypatch.setattr("inhouse.cli.pilot_adoption.open_program", opened)
