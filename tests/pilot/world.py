"""A program for the roster, track, guide and champion tests: led by lena (play 1's owner; omar of
support is enrolled too, with a key the tests do not hold), with
a lock blessing model ``tiny``, data rules that redact e-mail addresses, a workflow, and two role
tracks in ``enablement/``. People enrol with keys of their own (``tests.people.enrol``).

Requests go through the **real gateway** (in-process, on a loopback port) to a **stand-in upstream**
(no model needed: these tests are about who sent what, and what the rules did to it), each with
the sender's own gateway key, dated by the test's clock: the usage rows, their prompt ids and
their policy column are the gateway's own; nobody writes one by hand. The gateway's key, enrolled
from a host of its own (tests.conftest), signs what they add up to (:meth:`World.sign`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.identity import load_key
from inhouse.pilot.library import add_prompt
from inhouse.pilot.library_views import record_prompt_usage
from inhouse.program import Program, Provenance
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.conftest import Clock
from tests.gateway.harness import auth, chat, digest_of, in_process, make_program, model_file
from tests.locks import HERE
from tests.people import confirm_own_use, enrol, enrol_cli
from tests.runtimes.standin import free_port

LEAD = "lena"
RULES = {"data_rules": {"default": "allow", "classes": {"email": "redact"}}}

WORKFLOW = """\
name: ticket-summary
description: Summarise a support ticket for the weekly report
owner: omar
frequency: daily
model: tiny
variables:
  ticket: {type: string}
prompt:
  user: "Summarise: {{ ticket }}"
tests:
  - vars: {ticket: "Printer on floor 2 is jammed."}
    checks:
      - {type: length, max: 400}
"""

SUPPORT_TRACK = """\
title: Support engineers
role: support
description: Answer tickets faster with the local models.
workflows: [ticket-summary]
prompts: [triage]
steps:
  - id: first-request
    type: first-answered-request
  - id: summarise-a-ticket
    type: ran-workflow
    workflow: ticket-summary
  - id: shared-prompt
    type: used-shared-prompt
    others: true
  - id: redaction
    type: read-a-redaction
  - id: pair-with-a-champion
    type: attested
    title: Spent half an hour with your team's champion
"""

LEGAL_TRACK = """\
title: Legal
role: legal
steps:
  - id: first-request
    type: first-answered-request
"""

PROMPT = """\
description: Triage a ticket into a queue
variables:
  ticket: string
messages:
  - {role: system, content: You sort support tickets into queues.}
  - {role: user, content: "Ticket: {{ ticket }}"}
"""


@dataclass
class World:
    folder: Path
    clock: Clock
    lead: Program
    port: int  # the stand-in upstream's, fixed for the program's runtime table
    people: dict[str, Program] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    #: whether each person confirms their use once the gateway signs it (`inhouse usage
    #: confirm`, with their own key): the gateway's figures count for a person only on their word
    confirms: bool = True

    def waive(self) -> None:
        """A rollout lead lets the pilot in before plays 1-3 exit, on the record."""
        self.lead.grant_waiver(
            None,
            "scaling-before-proving",
            reason="time-boxed-experiment",
            note="the pilot starts before play 3 exits, for this test",
            expires=self.clock() + timedelta(days=120),
        )

    def enrol(self, name: str, team: str) -> Program:
        self.people[name] = enrol(self.lead, name, team=team)
        return self.people[name]

    def enrol_cli(self, name: str, team: str) -> dict[str, str]:
        """Enrol ``name`` with a key file; returns the environment a CLI call acting as them
        needs (and keeps their program for the gateway key)."""
        env = enrol_cli(self.lead, name, self.folder.parent / "keys", team=team)
        self.people[name] = self.lead.using(load_key(Path(env["INHOUSE_KEY"])))
        return env

    def key(self, name: str) -> str:
        """A gateway key for ``name``, granted by lena, fetched with ``name``'s own key."""
        if name not in self.keys:
            holder = self.people.get(name, self.lead)
            _, self.keys[name] = issue_key(self.lead, None, name, holder=holder)
        return self.keys[name]

    def send(
        self,
        name: str,
        when: datetime,
        text: str = "hello",
        prompt: str | None = None,
        workflow: str | None = None,
    ) -> None:
        """One chat request from ``name`` through the gateway at ``when``."""
        self.clock.now = when
        asyncio.run(self._send(name, text, prompt, workflow))

    async def _send(
        self, name: str, text: str, prompt: str | None, workflow: str | None = None
    ) -> None:
        headers = auth(self.key(name))
        if prompt is not None:
            headers["x-inhouse-prompt"] = prompt
        if workflow is not None:
            headers["x-inhouse-workflow"] = workflow
        standin = StandinUpstream(StandinTiming(0, 0, 2), model="tiny", port=self.port,
                                   root=str(self.folder / "weights.gguf"))  # fmt: skip
        async with standin, in_process(self.folder, clock=self.clock) as (gateway, client):
            reply = await client.post("/v1/chat/completions", json=chat("tiny", text),
                                      headers=headers)  # fmt: skip
            assert reply.status_code == 200, reply.text
            await gateway.usage.flush()

    def sign(self) -> None:
        """What the gateway's host does on its timer: its key signs the days' use
        (``usage.daily``) and library prompt use (``prompt.usage``) from the rows it sealed."""
        rollup_usage(self.lead)
        record_prompt_usage(self.lead)
        if self.confirms:
            confirm_own_use(*self.people.values())

    def workflow_run(self, name: str, *, passed: bool = True) -> None:
        """``name`` ran the workflow's tests: the fact the real collector records, signed by
        their own key."""
        self.people[name].record_fact(
            None,
            "workflow.run",
            {"workflow": "ticket-summary", "content_hash": "sha256:0123456789", "passed": passed,
             "pass_rate": 1.0 if passed else 0.0, "cases": 1, **HERE},
            provenance=Provenance.MEASURED,
            collector="inhouse workflow test",
        )  # fmt: skip

    def share_prompt(self, author: str, name: str = "triage") -> str:
        """``author`` adds a prompt to the library with their own key; returns its id."""
        program = self.people.get(author, self.lead)
        return add_prompt(program, name, PROMPT, where=f"{name}.yaml").id


def make_world(folder: Path, clock: Clock, *, demo: bool = False) -> World:
    port = free_port()
    weights = model_file(folder)
    runtimes = {"local": {"family": "openai", "url": f"http://127.0.0.1:{port}",
                          "model_path": str(weights)}}  # fmt: skip
    lead = make_program(folder, runtimes, {"tiny": digest_of(weights)}, extra=RULES, clock=clock,
                        demo=demo)  # fmt: skip
    (folder / "workflows").mkdir()
    (folder / "workflows" / "ticket-summary.yaml").write_text(WORKFLOW, encoding="utf-8")
    (folder / "enablement").mkdir()
    (folder / "enablement" / "support.yaml").write_text(SUPPORT_TRACK, encoding="utf-8")
    (folder / "enablement" / "legal.yaml").write_text(LEGAL_TRACK, encoding="utf-8")
    world = World(folder, clock, lead, port)
    world.people[LEAD] = lead
    return world
