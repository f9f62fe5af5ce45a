"""What play 4's commands look at, gathered once per command: the facts that count, the pilot's
members, the shared prompt library (each version's author is its signer, unknown for an
imported one), what the gateway's own key signed (``usage.daily`` and ``prompt.usage`` naming
a person), and the gateway's usage log read through :mod:`inhouse.usage` (active days, prompts
sent, requests the data rules redacted: SQL, never the fold).

The usage log's tables are unsigned: anyone with the database's password can type rows into
them. What a step of enablement counts as measured rests on what the gateway signed; the tables
only narrow it (a request through an agent's key is not the person's), and the requests the
data rules redacted are verified against the gateway's seal where its key is on this host.

Usage is read lazily and once: a command that evaluates ten members' tracks sums the log once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING

from inhouse.pilot.library import Library, PromptVersion
from inhouse.pilot.library import library as _library
from inhouse.program.checks import CheckContext
from inhouse.program.counting import build_context, not_their_fetch
from inhouse.program.facts import Fact, FactSet, Provenance, standing_usage
from inhouse.program.playchecks.pilot import members as _members
from inhouse.program.state import ProgramState
from inhouse.usage import active_days, prompts_used
from inhouse.usage.authentic import Seal, authentic_rows
from inhouse.usage.requests import PolicyRequest, policy_requests

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["PilotEvidence"]


class PilotEvidence:
    """One program's play-4 evidence at one moment: ``now``, by default the program's clock
    (a page that shows more than this passes its own moment, so all it shows is judged at it)."""

    def __init__(self, program: Program, now: datetime | None = None) -> None:
        self.program = program
        self.now = program.clock() if now is None else now
        self.state: ProgramState = program.state()
        self.context: CheckContext = build_context(self.state, self.now)

    @property
    def facts(self) -> FactSet:
        """The facts that count (measured kinds by their collector, and so on)."""
        return self.context.facts

    @cached_property
    def live(self) -> FactSet:
        """Every live fact, counted or not (a person's own word sits among the uncounted)."""
        return self.state.live_facts(self.now)

    @cached_property
    def members(self) -> dict[str, Fact]:
        """The pilot, as play 4's checks see it: each member with the fact that added them."""
        return _members(self.context)

    def onboarded(self, person: str) -> str | None:
        """The day (UTC) ``person`` was added to the pilot; None: not a member."""
        added = self.members.get(person)
        return None if added is None else added.at.astimezone(UTC).date().isoformat()

    # -- what the gateway's own key signed --------------------------------------------------

    @cached_property
    def _signed_days(self) -> dict[str, dict[str, Fact]]:
        found: dict[str, dict[str, Fact]] = {}
        # counted: signed by the gateway's key; each day as it last signed it (a day signed
        # again without someone's requests is no day of theirs, whatever it said before)
        for day, readings in standing_usage(self.facts.of("usage.daily")).items():
            for person, (fact, totals) in readings.items():
                if int(totals.get("requests", 0)) > 0:
                    found.setdefault(person, {})[day] = fact
        return found

    def signed_days(self, person: str) -> dict[str, Fact]:
        """Each day on which the gateway's own key signed answered requests of ``person``'s,
        with the counted ``usage.daily`` fact that stands for them that day (the day's latest
        reading, :func:`inhouse.program.facts.latest_usage`)."""
        return self._signed_days.get(person, {})

    @cached_property
    def _signed_prompts(self) -> dict[str, dict[str, Fact]]:
        return self._prompt_facts("people")

    @cached_property
    def _named_prompts(self) -> dict[str, dict[str, Fact]]:
        return self._prompt_facts("named_only")

    def _prompt_facts(self, field: str) -> dict[str, dict[str, Fact]]:
        found: dict[str, dict[str, Fact]] = {}
        for fact in self.facts.of("prompt.usage"):  # counted: signed by the gateway's key
            prompt_id = f"{fact.payload['prompt']}@{fact.payload['version']}"
            for person in fact.payload.get(field) or []:
                found.setdefault(str(person), {})[prompt_id] = fact
        return found

    def signed_prompts(self, person: str) -> dict[str, Fact]:
        """Each library prompt version (``NAME@VERSION``) the gateway's own key signed that
        ``person`` used, with the latest counted ``prompt.usage`` fact that names them."""
        return self._signed_prompts.get(person, {})

    def named_prompts(self, person: str) -> dict[str, Fact]:
        """Each library prompt version the gateway's own key signed that ``person`` only
        named (X-Inhouse-Prompt by name or label, with their own messages: never sent them),
        with the latest counted ``prompt.usage`` fact that says so."""
        return self._named_prompts.get(person, {})

    # -- the gateway's usage log -------------------------------------------------------------

    @cached_property
    def not_own(self) -> frozenset[str]:
        """The gateway keys whose requests are nobody's own use, besides agents' (fetched in
        their person's name by a key that never signed in as them): the tables are read by
        the rule the gateway's signed rollup counts by (:func:`not_their_fetch`)."""
        return not_their_fetch(self.state)

    def _window(self) -> tuple[str, str]:
        """From the program's first day to today: all the use there is."""
        start = self.state.created_at or self.now
        return min(start, self.now).date().isoformat(), self.now.date().isoformat()

    @cached_property
    def _days(self) -> dict[str, list[str]]:
        since, until = self._window()
        found: dict[str, list[str]] = {}
        people = [name for name, p in self.state.people.items() if not p.service]
        for row in active_days(
            self.program.store, people, since=since, until=until, not_own=self.not_own
        ):
            found.setdefault(row.person, []).append(row.day)
        return found

    def answered_days(self, person: str) -> list[str]:
        """The days (oldest first) on which ``person``'s own key (not an agent's) got answers."""
        return self._days.get(person, [])

    @cached_property
    def _prompts(self) -> dict[str, set[str]]:
        since, until = self._window()
        people = [name for name, p in self.state.people.items() if not p.service]
        return prompts_used(
            self.program.store, people, since=since, until=until, not_own=self.not_own
        )

    def prompts_used(self, person: str) -> set[str]:
        """The prompt ids ``person``'s answered requests carried (their own keys)."""
        return self._prompts.get(person, set())

    def prompt_users(self) -> dict[str, set[str]]:
        """Who sent each prompt id in answered requests."""
        found: dict[str, set[str]] = {}
        for person, prompts in self._prompts.items():
            for prompt in prompts:
                found.setdefault(prompt, set()).add(person)
        return found

    @cached_property
    def _seal(self) -> Seal | None:
        from inhouse.gateway.rollup import gateway_seal

        return gateway_seal(self.program, make=False)  # never made here

    @property
    def seal_here(self) -> bool:
        """Whether the gateway's key is on this host, to verify the rows it sealed."""
        return self._seal is not None

    @property
    def seal_revoked(self) -> str | None:
        """Where the gateway's key on this host is one the log revoked, its words: no row it
        sealed counts (:func:`~inhouse.usage.authentic.authentic_rows`)."""
        return None if self._seal is None else self._seal.revoked

    def redacted(self, person: str) -> list[PolicyRequest]:
        """``person``'s answered requests the data rules redacted, newest first: where the
        gateway's key is on this host, only those whose row the gateway sealed as it stands
        (:attr:`seal_here`); elsewhere as the (unsigned) usage log says. Through a key of
        their own, as :meth:`answered_days` (:attr:`not_own`)."""
        found = policy_requests(
            self.program.store, person=person, action="redact:", not_own=self.not_own
        )
        if self._seal is None or not found:
            return found
        sealed = authentic_rows(
            self.program.store, self._seal, days={r.day for r in found}, people=[person]
        )
        kept = {row.request_id for row in sealed.rows}
        return [r for r in found if r.request_id in kept]

    # -- the prompt library ------------------------------------------------------------------

    @cached_property
    def library(self) -> Library:
        """The shared prompt library now (its versions' authors are their signers)."""
        return _library(self.program)

    def resolve(self, prompt_id: str) -> PromptVersion | None:
        """The library version a usage row's ``NAME@VERSION`` names, or None when it names
        none (not a library prompt)."""
        return self.library.find(prompt_id)

    def current(self, name: str) -> PromptVersion | None:
        """The version of ``name`` to use: production if labelled, else the latest."""
        prompt = self.library.prompts.get(name)
        return prompt.current() if prompt is not None else None

    # -- a person's own word -----------------------------------------------------------------

    def own_word(self, person: str, kind: str, **match: str) -> Fact | None:
        """The latest live attestation of ``kind`` that ``person`` signed in their own name (not
        on anyone's behalf, nor a lead's on theirs) whose payload matches ``match``."""
        return self.live.latest(
            kind,
            lambda f: (
                f.provenance is Provenance.ATTESTED
                and f.signed
                and f.on_behalf_of is None
                and f.by == person
                and str(f.payload.get("person")) == person
                and all(str(f.payload.get(k)) == v for k, v in match.items())
            ),
        )
