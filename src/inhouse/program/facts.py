"""Facts: timestamped, provenance-carrying evidence that checks read.

A fact is *measured* (a named collector — a trial, a verify run, the gateway — produced it) or
*attested* (a named person said so, with a comment, possibly until an expiry). Each kind has a
versioned payload schema declared here, once; collectors in later packages produce these kinds,
and until they exist a person may attest one (shown as such everywhere).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from inhouse.errors import (
    InvalidInput,
    PluginError,
    validation_problem_list,
    validation_problems,
)
from inhouse.program.payloads import (
    READING,
    AccessRequest,
    AgentBoundary,
    AgentRegistered,
    BaselineLock,
    BaselineVerify,
    CodeTrusted,
    DriftReview,
    EnablementCompleted,
    EnablementStep,
    FeedbackApplied,
    FindingClosed,
    FindingOpened,
    Hypothesis,
    IndicatorsReport,
    InstallScript,
    MinutesSaved,
    PilotAdoption,
    PilotChampion,
    PilotFinding,
    PilotMember,
    PilotRosterTeam,
    PilotTeam,
    PriceSnapshot,
    PromptBody,
    PromptLabel,
    PromptMessage,
    PromptShared,
    PromptUsage,
    PromptVariable,
    PromptVersion,
    ReviewAttended,
    ReviewHeld,
    ReviewScheduled,
    ServiceVouched,
    SupportQueue,
    SurveyOpened,
    SurveyResponse,
    TaskNamed,
    TicketConfirmation,
    TicketFixed,
    TicketOpened,
    TicketResolved,
    TicketStep,
    TrialRerun,
    TrialVerdict,
    UsageConfirmed,
    UsageDaily,
    WorkflowRun,
    WorkflowSpec,
)

__all__ = [
    "FACT_KINDS",
    "Fact",
    "FactKind",
    "FactSet",
    "PilotFinding",
    "PromptBody",
    "PromptMessage",
    "PromptVariable",
    "Provenance",
    "daily_usage",
    "envelope_problem",
    "fact_kind",
    "fact_problem",
    "latest_usage",
    "newer_fields",
    "own_requests",
    "own_use",
    "payload_problem",
    "prompt_users",
    "reading_of",
    "standing_usage",
    "validate_payload",
]


class Provenance(StrEnum):
    MEASURED = "measured"
    ATTESTED = "attested"


@dataclass(frozen=True)
class Fact:
    """One piece of evidence. ``id`` is the sequence number of the event that recorded it."""

    id: int
    kind: str
    version: int
    payload: dict[str, Any]
    provenance: Provenance
    by: str  # the person who ran the collector, or who attests
    collector: str | None  # measured: which collector
    comment: str | None  # attested: what the person says
    expires: datetime | None
    at: datetime
    signed: bool = True  # False: written before identities, or by a key no longer on the roster
    on_behalf_of: str | None = None  # a lead recorded it for this person: never that person's act
    machine: str | None = None  # the machine the signer's key was enrolled from
    imported: bool = False  # arrived as a signed envelope from another machine
    #: the enrolled key behind its signature (a session's: the key that delegated to it)
    key: str | None = None
    #: signed by a dashboard session's key, which the dashboard's host holds: a check that
    #: needs its person's own act treats it as the host's word until they confirm it
    session: bool = False
    #: a session signed it with its person's own approval of exactly this fact
    #: (:mod:`inhouse.identity.approval`): their act, as if signed with their own key
    approved: bool = False
    #: an import's time as its signer sealed it, where the log dated it later (no earlier than
    #: its floor as of the import); None otherwise. Whoever carries an envelope chooses when
    #: it is imported: a rule that asks "made after" or "still fresh" reads :attr:`made`
    sealed_at: datetime | None = None

    @property
    def made(self) -> datetime:
        """When it was made, at the latest: its time in the log, or the earlier time an import
        was sealed at (a colleague's envelope held back is no later, nor fresher, for it)."""
        return self.at if self.sealed_at is None else min(self.at, self.sealed_at)

    @property
    def host_alone(self) -> bool:
        """Whether the dashboard's host could have recorded it alone: a session signed it and
        its person did not approve it with their own key."""
        return self.session and not self.approved

    def expired(self, now: datetime) -> bool:
        return self.expires is not None and now >= self.expires

    @property
    def label(self) -> str:
        """How a person should read its provenance, e.g. ``measured by trial`` or
        ``attested by bob: "ran it on my laptop"``."""
        if not self.signed:
            who = f"unsigned (before identities), recorded as {self.by}"
            if self.provenance is Provenance.MEASURED:
                return f"{who}: says measured by {self.collector or 'inhouse'}; counts as a word"
            return f'{who}: "{self.comment}"'
        if self.provenance is Provenance.MEASURED:
            return f"measured by {self.collector or 'inhouse'} (run by {self.by})"
        if self.on_behalf_of:
            return f'attested by {self.by} on behalf of {self.on_behalf_of}: "{self.comment}"'
        return f'attested by {self.by}: "{self.comment}"'


class FactSet:
    """The live facts a check sees (expired attestations already removed), oldest first."""

    def __init__(self, facts: Iterable[Fact], *, ordered: bool = False) -> None:
        """``ordered``: the facts already come oldest first (the fold appends them so)."""
        self._facts = list(facts) if ordered else sorted(facts, key=lambda fact: fact.id)

    def __iter__(self) -> Iterator[Fact]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)

    def of(self, *kinds: str) -> list[Fact]:
        return [fact for fact in self._facts if fact.kind in kinds]

    def latest(self, kind: str, where: Callable[[Fact], bool] | None = None) -> Fact | None:
        for fact in reversed(self._facts):
            if fact.kind == kind and (where is None or where(fact)):
                return fact
        return None


@dataclass(frozen=True)
class FactKind:
    name: str
    version: int
    schema: type[BaseModel]
    produced_by: str  # the collector that measures it (or "attestation only")
    description: str
    #: a dashboard session may sign it: what the dashboard's own forms record (a survey answer,
    #: a ticket's steps). Nothing else: a session key lives on the dashboard's host, so a
    #: measurement or a step only its person's own machine makes is never a session's
    from_dashboard: bool = False
    #: a session signs it only with its person's own approval of exactly that fact, signed on
    #: their machine (``inhouse web approve``): a decision or an answer a check counts as theirs
    #: (a survey answer), which the dashboard's host must not be able to make alone
    needs_approval: bool = False

    @property
    def fields(self) -> list[str]:
        """Its payload's fields as inhouse writes them: a retired one it still reads in older
        facts, and never stores again (``exclude``), left out."""
        return [name for name, info in self.schema.model_fields.items() if not info.exclude]


FACT_KINDS: dict[str, FactKind] = {}


def daily_usage(fact: Fact) -> dict[str, dict[str, int]]:
    """Each person's totals in a ``usage.daily`` fact (``requests``, ``tokens_in``,
    ``tokens_out``): a day's fact holds everyone's; one from before that holds one person's."""
    payload = fact.payload
    people = payload.get("people")
    if isinstance(people, dict):
        return {
            str(name): {key: int(totals.get(key, 0))
                        for key in ("requests", "tokens_in", "tokens_out")}
            for name, totals in people.items()
        }  # fmt: skip
    return {
        str(payload["person"]): {
            "requests": int(payload.get("requests", 0)),
            "tokens_in": int(payload.get("tokens_in", 0)),
            "tokens_out": int(payload.get("tokens_out", 0)),
        }
    }


def latest_usage(
    facts: Iterable[Fact], first: str, last: str
) -> dict[str, tuple[dict[str, Any], list[Fact]]]:
    """Per day from ``first`` to ``last`` (ISO days), each person's latest totals in the
    ``usage.daily`` facts of ``facts`` (a rollup records a new fact when a day's totals change,
    so for each person the last fact naming them stands), and the facts that stand for someone,
    in log order. The totals are the facts' own mappings, not copies: a department's quarter is
    ~180,000 person-days, and copying each into a record of its own took most of a read.

    A fact that holds the whole day (``people``: everyone's totals, as every rollup since one
    fact a day signs them) replaces every earlier reading of that day: a day re-signed
    without someone (their rows no longer bear the figures out) no longer counts them, and
    what an earlier reading said does not add to the later one."""
    by_day: dict[str, list[Fact]] = {}
    for fact in facts:
        if fact.kind == "usage.daily" and first <= (day := str(fact.payload["day"])) <= last:
            by_day.setdefault(day, []).append(fact)
    found: dict[str, tuple[dict[str, Any], list[Fact]]] = {}
    for day, written in by_day.items():
        people: dict[str, Any] = {}
        standing: list[Fact] = []
        for fact in reversed(written):  # the latest first: an earlier one stands only for
            given = fact.payload.get("people")  # those no later one names
            whole = isinstance(given, dict)
            named: dict[str, Any] = given if isinstance(given, dict) else daily_usage(fact)
            if named.keys() <= people.keys():
                if whole:
                    break
                continue
            standing.append(fact)
            people = {**named, **people}
            if whole:  # the whole day as it was then: nothing before it stands
                break
        found[day] = (people, standing[::-1])
    return found


def standing_usage(facts: Iterable[Fact]) -> dict[str, dict[str, tuple[Fact, dict[str, Any]]]]:
    """Per day, each person's latest reading in the ``usage.daily`` facts of ``facts`` (the
    rule of :func:`latest_usage`): the fact that stands for them and their totals in it."""
    found: dict[str, dict[str, tuple[Fact, dict[str, Any]]]] = {}
    for day, (people, standing) in latest_usage(facts, "", "\uffff").items():
        readings: dict[str, tuple[Fact, dict[str, Any]]] = {}
        for fact in reversed(standing):
            named = fact.payload.get("people")
            for person in named if isinstance(named, dict) else daily_usage(fact):
                if person not in readings and person in people:
                    readings[str(person)] = (fact, people[person])
        found[day] = readings
    return found


def reading_of(facts: Iterable[Fact], day: str, person: str) -> tuple[Fact, dict[str, Any]] | None:
    """``person``'s reading of ``day`` (an ISO day) that stands in the ``usage.daily`` facts of
    ``facts`` (the rule of :func:`latest_usage`): the fact and their totals in it; None where
    the day's latest reading does not name them (signed again without them)."""
    on_day = (f for f in facts if f.kind == "usage.daily" and str(f.payload["day"]) == day)
    return standing_usage(on_day).get(day, {}).get(person)


def own_use(totals: Mapping[str, Any]) -> bool:
    """Whether a person's totals in a ``usage.daily`` reading hold requests through a key of
    their own: where the gateway did not count them (``own``, signed before the rollup did),
    any answered request counts, as it did then."""
    own = totals.get("own")
    return int(own if own is not None else totals.get("requests", 0)) > 0


def own_requests(fact: Fact, person: str) -> int | None:
    """How many of ``person``'s answered requests in a ``usage.daily`` fact came through a key
    of their own, not an agent's; None where the fact does not say (signed before the rollup
    counted them, or naming one person only)."""
    people = fact.payload.get("people")
    if not isinstance(people, dict):
        return None
    mine = (people.get(person) or {}).get("own")
    return None if mine is None else int(mine)


def prompt_users(fact: Fact, since: str) -> list[str]:
    """Who the gateway's ``prompt.usage`` ``fact`` says it sent its version through a key of
    their own on ``since`` (an ISO day) or later: each person's own last use (``used_by``). A
    fact from before it said so names its ``people``, all dated by its ``last_used`` (the
    version's latest use, anyone's, agents' included): read as it was."""
    used_by = fact.payload.get("used_by")
    if isinstance(used_by, dict):
        return sorted(str(p) for p, day in used_by.items() if str(day) >= since)
    last = fact.payload.get("last_used")
    if last is not None and str(last) < since:
        return []
    return sorted(str(p) for p in fact.payload.get("people") or [])


P = TypeVar("P", bound=type[BaseModel])


def fact_kind(
    name: str,
    *,
    version: int = 1,
    produced_by: str,
    description: str,
    from_dashboard: bool = False,
    needs_approval: bool = False,
) -> Callable[[P], P]:
    """Declare a fact kind and its payload schema (the one seam for new kinds);
    ``from_dashboard``: a dashboard session may sign it (:attr:`FactKind.from_dashboard`);
    ``needs_approval``: only with its person's approval (:attr:`FactKind.needs_approval`).
    A kind is declared once, as every registry's name is: a second declaration (code a person
    installed, re-declaring ``survey.response`` without its approval, or ``trial.rerun`` with a
    looser schema) is refused, naming the kind."""

    def register(schema: P) -> P:
        if name in FACT_KINDS:
            raise PluginError(
                f"fact kind {name!r} is declared twice: by {FACT_KINDS[name].schema.__module__} "
                f"and by {schema.__module__}; a new kind takes a name of its own"
            )
        FACT_KINDS[name] = FactKind(name, version, schema, produced_by, description,
                                    from_dashboard, needs_approval)  # fmt: skip
        return schema

    return register


#: what the dashboard's forms record (``inhouse web``): the only facts a session key signs
_DASHBOARD_FACTS = frozenset(
    {"survey.response", "ticket.opened", "ticket.assigned", "ticket.commented", "ticket.resolved",
     "ticket.reopened"}
)  # fmt: skip
#: what a session records only with its person's own approval (a survey answer counts as their
#: word in play 4 and 6): the dashboard's host proposes it, the person's key agrees
_APPROVED_FACTS = frozenset({"survey.response"})

for _name, _schema, _by, _description in (
    ("hypothesis", Hypothesis, "inhouse hypothesis", "what a local model should replace or unlock"),
    ("access.request", AccessRequest, "inhouse access request", "someone asked to get in"),
    ("trial.verdict", TrialVerdict, "inhouse prove", "the head-to-head trial's verdict"),
    ("trial.rerun", TrialRerun, "inhouse prove --rerun", "a proven trial, rerun elsewhere"),
    (
        "code.trusted",
        CodeTrusted,
        "inhouse trust-python",
        "a key ran code another's spec names",
    ),
    ("baseline.lock", BaselineLock, "inhouse baseline lock", "runtime and models pinned"),
    ("baseline.install_script", InstallScript, "inhouse baseline", "install script written"),
    ("baseline.verify", BaselineVerify, "inhouse baseline verify", "a machine checked vs the lock"),
    ("task.named", TaskNamed, "inhouse workflow validate", "a recurring task, its frequency"),
    ("workflow.spec", WorkflowSpec, "inhouse workflow", "a workflow's current version"),
    ("workflow.run", WorkflowRun, "inhouse workflow test", "a workflow's tests were run"),
    ("enablement.completed", EnablementCompleted, "inhouse pilot", "role-specific enablement"),
    ("enablement.step", EnablementStep, "inhouse pilot", "one step of a role's enablement met"),
    ("prompt.shared", PromptShared, "inhouse prompts", "a prompt added to the shared library"),
    ("prompt.version", PromptVersion, "inhouse prompts", "a library prompt's immutable version"),
    ("prompt.label", PromptLabel, "inhouse prompts", "a label moved to a prompt version"),
    ("prompt.usage", PromptUsage, "inhouse gateway", "a prompt version's use at the gateway"),
    ("pilot.member", PilotMember, "inhouse pilot", "a pilot member added or removed"),
    ("pilot.team", PilotTeam, "inhouse pilot team", "the team a person says they work in"),
    ("pilot.roster_team", PilotRosterTeam, "inhouse pilot", "a member's team, corrected by a lead"),
    ("pilot.adoption", PilotAdoption, "inhouse pilot", "who reaches the tool on their own"),
    ("pilot.champion", PilotChampion, "inhouse pilot", "a team's champion, named"),
    ("pilot.finding", PilotFinding, "attestation only", "what the pilot taught"),
    ("survey.opened", SurveyOpened, "inhouse survey", "a 'would you miss it' survey opened"),
    ("usage.daily", UsageDaily, "inhouse gateway", "one day's gateway use, per person"),
    ("survey.response", SurveyResponse, "inhouse survey", "would you resist losing it?"),
    ("support.queue", SupportQueue, "inhouse support", "a support queue and its owner"),
    ("drift.review", DriftReview, "inhouse support drift-review", "served vs locked, per node"),
    ("service.vouched", ServiceVouched, "inhouse gateway vouch", "a service's host, vouched for"),
    (
        "agent.registered",
        AgentRegistered,
        "inhouse keys issue --agent",
        "a local agent uses the gateway",
    ),
    ("agent.boundary", AgentBoundary, "inhouse keys issue --agent", "an agent's tool allowlist"),
    ("review.scheduled", ReviewScheduled, "inhouse review", "a periodic review's cadence"),
    ("review.held", ReviewHeld, "inhouse review", "a periodic review took place"),
    ("review.attended", ReviewAttended, "inhouse review", "an attendee confirms a review held"),
    ("usage.confirmed", UsageConfirmed, "inhouse usage confirm", "a person confirms their own use"),
    ("ticket.resolved", TicketResolved, "inhouse support", "a support ticket was resolved"),
    ("ticket.opened", TicketOpened, "inhouse support", "a support ticket was opened"),
    ("ticket.assigned", TicketStep, "inhouse support", "a ticket was assigned"),
    ("ticket.commented", TicketStep, "inhouse support", "someone commented on a ticket"),
    ("ticket.reopened", TicketStep, "inhouse support", "a resolved ticket was reopened"),
    ("ticket.confirmed", TicketConfirmation, "inhouse support", "an import's word, confirmed"),
    ("ticket.disputed", TicketConfirmation, "inhouse support", "an import's word, disputed"),
    ("ticket.fixed", TicketFixed, "inhouse support", "a ticket's opener confirms the fix"),
    ("indicators.report", IndicatorsReport, "inhouse indicators", "a period's indicators"),
    ("feedback.applied", FeedbackApplied, "attestation only", "legacy: a finding applied, by word"),
    ("indicators.prices", PriceSnapshot, "attestation only", "a reference API's dated prices"),
    (
        "indicators.minutes_saved",
        MinutesSaved,
        "attestation only",
        "minutes one workflow run saves",
    ),
    ("finding.opened", FindingOpened, "attestation only", "a finding to feed back, and its target"),
    ("finding.closed", FindingClosed, "attestation only", "a finding ticked off by hand"),
):
    fact_kind(_name, produced_by=_by, description=_description,
              from_dashboard=_name in _DASHBOARD_FACTS,
              needs_approval=_name in _APPROVED_FACTS)(_schema)  # fmt: skip


def validate_payload(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Check ``payload`` against ``kind``'s schema; return it normalised to JSON-safe values."""
    spec = FACT_KINDS.get(kind)
    if spec is None:
        raise InvalidInput(
            f"unknown fact kind {kind!r}; known kinds: {', '.join(sorted(FACT_KINDS))}"
        )
    try:
        model = spec.schema.model_validate(payload)
    except ValidationError as err:
        problems = validation_problems(err, empty="(payload)")
        fields = ", ".join(spec.fields)
        raise InvalidInput(f"bad {kind} payload: {problems} (fields: {fields})") from None
    return model.model_dump(mode="json")


#: what a fact's own fields must be, beside its payload, as inhouse writes them
_ENVELOPE_TEXTS = ("collector", "comment", "expires", "on_behalf_of")


def fact_problem(data: Any) -> str | None:
    """Why a fact as the log holds it (``data``: a ``fact.recorded`` event's payload, or the
    fact an envelope carries) is not one inhouse writes, naming the field; None where it is:
    its own fields (:func:`envelope_problem`), then its payload (:func:`payload_problem`)."""
    if (why := envelope_problem(data)) is not None:
        return why
    return payload_problem(data["kind"], data["payload"])


def envelope_problem(data: Any) -> str | None:
    """Why a fact's own fields (its kind, provenance, version, texts, expiry, and that its
    payload is an object) are not what inhouse writes, or None: a fact that passes can be
    read into a :class:`Fact`."""
    if not isinstance(data, dict):
        return "the fact is not an object"
    kind = data.get("kind")
    if not isinstance(kind, str):
        return f"kind: {kind!r} is no fact kind's name"
    provenance = data.get("provenance")
    # a list or an object is no member of the set, and unhashable: asked as it was, it raised
    if not isinstance(provenance, str) or provenance not in {p.value for p in Provenance}:
        return f"provenance: {provenance!r} is neither measured nor attested"
    version = data.get("version", 1)
    if type(version) is not int:
        return f"version: {version!r} is not a whole number"
    for name in _ENVELOPE_TEXTS:
        if not isinstance(data.get(name, ""), str | None):
            return f"{name}: {data[name]!r} is not text"
    if data.get("expires") is not None:
        try:
            datetime.fromisoformat(data["expires"])
        except ValueError:
            return f"expires: {data['expires']!r} is not an ISO-8601 time"
    if not isinstance(data.get("payload"), dict):
        return "payload: not an object"
    return None


def newer_fields(kind: str, payload: dict[str, Any]) -> list[str]:
    """The fields of ``payload`` that ``kind``'s schema here lacks (``payload.place``), where
    they are all that keeps it from being what this inhouse writes; else none. A newer inhouse
    writes fields an older one's schema lacks (a rerun's ``place`` and ``seed``, a
    confirmation's ``runs``), and the older one sets the fact aside as it does one made around
    inhouse's API: its message says to upgrade, naming them, rather than call a colleague's
    honest fact a forgery. Which it is, only an inhouse that knows the fields can say."""
    spec = FACT_KINDS.get(kind)
    if spec is None:
        return []
    text = json.dumps(payload, default=str)
    try:
        spec.schema.model_validate_json(text, strict=True, context={READING: True})
    except ValidationError as err:
        problems = validation_problem_list(err)
        if all(problem.kind == "extra_forbidden" for problem in problems):
            return [".".join(("payload", *(str(part) for part in p.loc))) for p in problems]
    return []


def payload_problem(kind: str, payload: dict[str, Any]) -> str | None:
    """Why ``payload`` is not what inhouse writes for a fact of ``kind``, naming the field;
    None where it is.

    The writer validates a payload with its kind's schema, which coerces (``"5"`` becomes 5)
    and stores what it made. Read back, it is held to the same schema *strictly*: a string
    where a flag or a count belongs, a fraction for a count, ``true`` for a number, a list for
    a name, NaN for a count, a field the schema lacks, are what an event appended around the
    API carries, never what inhouse wrote, and a check reading them as Python does would
    misread them (``"0" == 0`` is false, ``"false"`` is true). A kind this process does not
    know (a plugin it lacks) has no schema here: its payload is taken as it is."""
    spec = FACT_KINDS.get(kind)
    if spec is None:
        return None
    # as JSON, as the log holds it: strict JSON reads an ISO text as a date, as the writer
    # dumped one. NaN and Infinity stay what the schema makes of them: the writer's floats take
    # them (an improvement over a status quo that cost nothing), its whole numbers never
    text = json.dumps(payload, default=str)
    try:
        spec.schema.model_validate_json(text, strict=True, context={READING: True})
    except ValidationError as err:
        return "; ".join(
            f"{'.'.join(('payload', *(str(part) for part in problem.loc)))}: {problem.message}"
            for problem in validation_problem_list(err)
        )
    return None
