"""Facts: timestamped, provenance-carrying evidence that checks read.

A fact is *measured* (a named collector — a trial, a verify run, the gateway — produced it) or
*attested* (a named person said so, with a comment, possibly until an expiry). Each kind has a
versioned payload schema declared here, once; collectors in later packages produce these kinds,
and until they exist a person may attest one (shown as such everywhere).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse.errors import InvalidInput, validation_problems

__all__ = [
    "FACT_KINDS",
    "Fact",
    "FactKind",
    "FactSet",
    "Provenance",
    "fact_kind",
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


# -- payload schemas ----------------------------------------------------------------------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Hypothesis(_Payload):
    statement: str = Field(min_length=1)
    aim: Literal["replace-dependency", "unlock-private-workflow"]
    target: str = Field(min_length=1, description="the dependency or workflow, by name")


class AccessRequest(_Payload):
    person: str = Field(description="who asked to get in")
    reason: str = ""


class TrialVerdict(_Payload):
    trial: str
    verdict: Literal["proven", "not-worth-it", "inconclusive"]
    proven_on: list[Literal["faster", "cheaper", "more-private"]] = Field(default_factory=list)
    quality_ok: bool
    summary: str = ""
    report: str | None = None
    test_model: bool = False


class ModelPin(_Payload):
    name: str
    digest: str = Field(min_length=8)


class RuntimePin(_Payload):
    family: str
    version: str


class BaselineLock(_Payload):
    lock_hash: str = Field(min_length=8)
    runtime: RuntimePin
    models: list[ModelPin]
    rules_hash: str = ""
    owner: str = Field("", description="the baseline's owner, as the manifest names them")


class InstallScript(_Payload):
    lock_hash: str
    sha256: str
    path: str = "install.sh"


class BaselineVerify(_Payload):
    lock_hash: str
    passed: bool
    machine: str = ""
    failures: list[str] = Field(default_factory=list)


class TaskNamed(_Payload):
    task: str = Field(min_length=1)
    frequency: str = Field(min_length=1, description="e.g. daily, 3/week")


class WorkflowSpec(_Payload):
    workflow: str
    content_hash: str
    author: str
    model: str
    model_digest: str


class WorkflowRun(_Payload):
    workflow: str
    content_hash: str
    lock_hash: str = ""
    passed: bool
    pass_rate: float = Field(ge=0, le=1)
    cases: int = Field(ge=0, default=0)


class EnablementCompleted(_Payload):
    person: str
    track: str = Field(min_length=1, description="the role-specific enablement taken")


class PromptShared(_Payload):
    prompt: str
    author: str


class UsageDaily(_Payload):
    day: date
    person: str
    requests: int = Field(ge=0)
    tokens_in: int = Field(ge=0, default=0)
    tokens_out: int = Field(ge=0, default=0)


class SurveyResponse(_Payload):
    person: str
    would_resist_losing: bool = Field(description="the answer was 'very disappointed'")
    comment: str = ""
    survey: str = ""
    answer: Literal["very", "somewhat", "not", "no-longer-use"] | None = Field(
        None, description="how would you feel if you could no longer use it? (Sean Ellis)"
    )
    benefit: str = Field("", description="what is the main benefit? (free text)")


class SurveyOpened(_Payload):
    survey: str = Field(min_length=1)
    closes: datetime


class PilotMember(_Payload):
    person: str
    track: str = Field(min_length=1, description="the role track (enablement/TRACK.yaml)")
    action: Literal["added", "removed"] = "added"


class EnablementStep(_Payload):
    person: str
    track: str
    step: str = Field(min_length=1)
    how: str = Field("", description="the evidence that met it, or 'attested' for a word")


class PromptMessage(_Payload):
    role: Literal["system", "user", "assistant"]
    content: str = Field(description="a Jinja2 template over the declared variables")


class PromptVariable(_Payload):
    type: Literal["string", "integer", "number", "boolean", "list", "object"] = "string"
    description: str = ""
    default: Any = Field(None, description="a variable with a default may be left out")


class PromptBody(_Payload):
    """What a library prompt's content hash covers: its messages and typed variables."""

    messages: list[PromptMessage] = Field(min_length=1)
    variables: dict[str, PromptVariable] = Field(default_factory=dict)


class PromptVersion(_Payload):
    prompt: str = Field(min_length=1)
    version: int = Field(ge=1)
    content_hash: str = Field(min_length=8)
    variables: list[str] = Field(default_factory=list)
    description: str = ""
    body: PromptBody | None = Field(
        None, description="the messages and typed variables; content_hash is their hash"
    )


class PromptLabel(_Payload):
    prompt: str
    label: str = Field(min_length=1)
    version: int = Field(ge=1)
    state: Literal["moved", "requested", "rollback"] = Field(
        "moved",
        description="moved: takes effect; requested: production waits for a second person; "
        "rollback: production back to the version it held before",
    )


class AdoptionRow(_Payload):
    person: str
    active_days: int = Field(ge=0)
    independent: bool
    reason: str = ""


class PilotAdoption(_Payload):
    as_of: date
    window_days: int = Field(ge=1)
    min_days: int = Field(ge=1)
    members: list[AdoptionRow]


class PromptUsage(_Payload):
    prompt: str
    version: int = Field(ge=1)
    uses: int = Field(ge=0)
    users: int = Field(ge=0)
    uses_by_others: int = Field(ge=0, description="uses by people other than its author")
    last_used: date | None = None


class PilotChampion(_Payload):
    person: str
    team: str


class PilotFinding(_Payload):
    finding: str = Field(min_length=1)
    kind: Literal["docs", "prompt", "workflow", "baseline", "other"] = "other"


class SupportQueue(_Payload):
    queue: str
    owner: str


class DriftFinding(_Payload):
    node: str = Field(description="the runtime node, by name and URL")
    model: str = ""
    problem: Literal["missing", "digest-mismatch", "runtime-version-drift", "unpinned-extra"]
    detail: str = ""


class DriftReview(_Payload):
    lock_hash: str
    passed: bool
    drifted: list[str] = Field(default_factory=list)
    findings: list[DriftFinding] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list, description="the nodes asked")
    pinning_enforced: bool | None = Field(None, description="the gateway refuses drifted digests")


class AgentRegistered(_Payload):
    agent: str


class AgentBoundary(_Payload):
    agent: str
    tools: list[str]


class ReviewScheduled(_Payload):
    every_days: int = Field(ge=1)
    roles: list[str] = Field(default_factory=list, description="who attends, by role")


class ReviewDecision(_Payload):
    item: str
    decision: Literal["keep", "upgrade", "retire"]
    reason: str = Field(min_length=1)


class ReviewHeld(_Payload):
    notes: str = ""
    attendees: list[str] = Field(default_factory=list)
    decisions: list[ReviewDecision] = Field(default_factory=list)
    next_due: date | None = None


TicketCategory = Literal["it-broke", "how-to", "request"]


class TicketOpened(_Payload):
    ticket: str = Field(min_length=1)
    title: str = Field(min_length=1)
    category: TicketCategory
    component: str = Field(min_length=1, description="baseline, gateway, workflow:N, prompt:N…")
    description: str = ""
    external: str | None = Field(None, description="the ticket's link where it is kept")
    actor: str | None = Field(None, description="imported: who did it, mapped from the source")
    at: datetime | None = Field(None, description="imported: when it happened at the source")


class TicketStep(_Payload):
    """assigned, commented, reopened: who did it is the signer (or, imported, ``actor``)."""

    ticket: str
    to: str | None = Field(None, description="assigned: the assignee")
    text: str = ""
    actor: str | None = None
    external: str | None = Field(None, description="imported: the step's id at the source")
    at: datetime | None = Field(None, description="imported: when it happened at the source")


class TicketResolved(_Payload):
    ticket: str
    category: str = "it-broke"
    resolver: str = Field("", description="ignored: the resolver is the signer")
    builder: str | None = Field(None, description="ignored: builders come from the log")
    note: str = ""
    actor: str | None = Field(None, description="imported: the resolver, mapped from the source")
    external: str | None = Field(None, description="imported: the step's id at the source")
    at: datetime | None = Field(None, description="imported: when it happened at the source")


class IndicatorsReport(_Payload):
    period_start: date
    period_end: date
    leading: dict[str, float]
    lagging: dict[str, float]


class FeedbackApplied(_Payload):
    finding: str
    target: Literal["baseline", "workflow"]
    ref: str = ""


@dataclass(frozen=True)
class FactKind:
    name: str
    version: int
    schema: type[BaseModel]
    produced_by: str  # the collector that measures it (or "attestation only")
    description: str


FACT_KINDS: dict[str, FactKind] = {}

P = TypeVar("P", bound=type[BaseModel])


def fact_kind(
    name: str, *, version: int = 1, produced_by: str, description: str
) -> Callable[[P], P]:
    """Declare a fact kind and its payload schema (the one seam for new kinds)."""

    def register(schema: P) -> P:
        FACT_KINDS[name] = FactKind(name, version, schema, produced_by, description)
        return schema

    return register


for _name, _schema, _by, _description in (
    ("hypothesis", Hypothesis, "inhouse hypothesis", "what a local model should replace or unlock"),
    ("access.request", AccessRequest, "the reach guards", "someone asked to get in"),
    ("trial.verdict", TrialVerdict, "inhouse prove", "the head-to-head trial's verdict"),
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
    ("pilot.adoption", PilotAdoption, "inhouse pilot", "who reaches the tool on their own"),
    ("pilot.champion", PilotChampion, "inhouse pilot", "a team's champion, named"),
    ("pilot.finding", PilotFinding, "attestation only", "what the pilot taught"),
    ("survey.opened", SurveyOpened, "inhouse survey", "a 'would you miss it' survey opened"),
    ("usage.daily", UsageDaily, "inhouse gateway", "a person's gateway use on one day"),
    ("survey.response", SurveyResponse, "inhouse survey", "would you resist losing it?"),
    ("support.queue", SupportQueue, "inhouse support", "a support queue and its owner"),
    ("drift.review", DriftReview, "inhouse support drift-review", "served vs locked, per node"),
    ("agent.registered", AgentRegistered, "inhouse gateway", "a local agent uses the gateway"),
    ("agent.boundary", AgentBoundary, "inhouse gateway", "an agent's tool allowlist"),
    ("review.scheduled", ReviewScheduled, "inhouse review", "a periodic review's cadence"),
    ("review.held", ReviewHeld, "inhouse review", "a periodic review took place"),
    ("ticket.resolved", TicketResolved, "inhouse support", "a support ticket was resolved"),
    ("ticket.opened", TicketOpened, "inhouse support", "a support ticket was opened"),
    ("ticket.assigned", TicketStep, "inhouse support", "a ticket was assigned"),
    ("ticket.commented", TicketStep, "inhouse support", "someone commented on a ticket"),
    ("ticket.reopened", TicketStep, "inhouse support", "a resolved ticket was reopened"),
    ("indicators.report", IndicatorsReport, "inhouse indicators", "a period's indicators"),
    ("feedback.applied", FeedbackApplied, "attestation only", "a finding changed something"),
):
    fact_kind(_name, produced_by=_by, description=_description)(_schema)


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
        fields = ", ".join(spec.schema.model_fields)
        raise InvalidInput(f"bad {kind} payload: {problems} (fields: {fields})") from None
    return model.model_dump(mode="json")
