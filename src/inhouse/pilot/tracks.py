"""Role tracks: ``enablement/TRACK.yaml`` in the program folder, validated, with errors that
name the file and the field, and the step types a track's steps are checked with.

    title: Support engineers
    role: support                 # the job this track is for, in the organisation's words
    description: Answer tickets faster with the local models.
    workflows: [ticket-summary]   # workflows/NAME.yaml the role uses
    prompts: [ticket-reply]       # library prompts the role uses (by name)
    steps:
      - id: first-request
        type: first-answered-request
      - id: summarise-a-ticket
        type: ran-workflow
        workflow: ticket-summary
      - id: shared-prompt
        type: used-shared-prompt
        others: true              # a prompt someone else wrote
      - id: redaction
        type: read-a-redaction
      - id: pair-with-a-champion
        type: attested
        title: Spent half an hour with your team's champion

Each step is a check over evidence, of one of the registered **step types** (a registry, like
play checks: :func:`step_type` declares one). A measured step is met on facts that count, which
it names (:attr:`StepResult.evidence`, recorded in its ``enablement.step`` for play 4's
``pilot-enabled`` check to verify): what the gateway's own key signed (``usage.daily``,
``prompt.usage``) or the person's own ``workflow.run``, never a usage table alone, which anyone
with the database's password can write. ``attested`` is the person's own word; so is
``read-a-redaction``, whose reading only they can say (no signed fact records a redaction).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse.errors import InhouseError, InvalidInput, validation_problems
from inhouse.jsonfiles import load_yaml, read_text
from inhouse.location import safe_join
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.library import PromptVersion
from inhouse.program.facts import Fact, own_requests
from inhouse.program.playbook import Role
from inhouse.program.playchecks.pilot import GATEWAY_EVIDENCE
from inhouse.workflows.spec import list_workflows

__all__ = [
    "STEP_TYPES",
    "TRACKS_DIR",
    "Step",
    "StepResult",
    "StepType",
    "Track",
    "gateway_step_missing",
    "list_tracks",
    "load_track",
    "parse_track",
    "step_type",
    "track_path",
    "track_summaries",
]

TRACKS_DIR = "enablement"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


# -- step types -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    """Whether a step is met, and the evidence (or what is missing) in a person's words."""

    met: bool
    detail: str
    #: the counted facts that met a measured step (their ids); empty for a person's own word
    evidence: tuple[int, ...] = ()
    #: the person did what the step's ``how`` asks, and ``detail`` names what is left (a
    #: confirmation, a signature): ``how`` is not shown as theirs to do again
    acted: bool = False


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


P = TypeVar("P", bound=_Params)


@dataclass(frozen=True)
class StepType(Generic[P]):
    """A kind of step: its parameters, how a person meets it, and its check over evidence."""

    name: str
    params: type[P]
    summary: str  # the default title, with the parameters filled in (``str.format``)
    how: str  # how a person meets it, for the guide and an unmet step
    check: Callable[[PilotEvidence, str, Step, P], StepResult]
    #: for a step the person records themselves (``inhouse pilot step done``: their own word,
    #: or their reading of something the tool cannot see them read), what they are shown as
    #: they do; None for a measured step, which nobody records by hand
    on_done: Callable[[PilotEvidence, str], list[str]] | None = None
    #: the kinds of counted fact a measured step rests on (what play 4's ``pilot-enabled``
    #: accepts for it); empty for a step in the person's own word
    rests_on: tuple[str, ...] = ()


STEP_TYPES: dict[str, StepType[Any]] = {}


def step_type(
    name: str,
    *,
    params: type[P],
    summary: str,
    how: str,
    on_done: Callable[[PilotEvidence, str], list[str]] | None = None,
    rests_on: tuple[str, ...] = (),
) -> Callable[
    [Callable[[PilotEvidence, str, Step, P], StepResult]],
    Callable[[PilotEvidence, str, Step, P], StepResult],
]:
    """Declare a step type (the one seam for new ones); its check gets the evidence, the
    person, the step and its validated parameters. A measured step names the kinds of fact
    it ``rests_on``; a step the person records themselves has ``on_done`` and rests on none."""
    if (on_done is None) == (not rests_on):
        raise ValueError(
            f"step type {name!r}: a measured step rests on facts (rests_on), a word has on_done"
        )

    def register(
        check: Callable[[PilotEvidence, str, Step, P], StepResult],
    ) -> Callable[[PilotEvidence, str, Step, P], StepResult]:
        if name in STEP_TYPES:
            raise ValueError(f"step type {name!r} is declared twice")
        STEP_TYPES[name] = StepType(name, params, summary, how, check, on_done, rests_on)
        return check

    return register


class _NoParams(_Params):
    pass


class _Workflow(_Params):
    workflow: str = Field(min_length=1, description="workflows/NAME.yaml")


class _SharedPrompt(_Params):
    prompt: str | None = Field(None, description="that library prompt (default: any)")
    others: bool = Field(False, description="a prompt someone other than the person wrote")


@step_type(
    "first-answered-request",
    params=_NoParams,
    summary="Send your first request through the gateway with your own key",
    how="fetch your gateway key (`inhouse keys fetch`) and send one request with it",
    rests_on=("usage.daily",),
)
def _first_request(ev: PilotEvidence, person: str, step: Step, p: _NoParams) -> StepResult:
    # the gateway's signature decides, and where it signed how many of the day's requests came
    # through the person's own key (``own``), that too: a day only their agent used is no
    # request of theirs. A day signed before the rollup counted ``own`` falls back to the
    # (unsigned) log for whose key it was, and says so
    own = ev.answered_days(person)
    signed = ev.signed_days(person)
    since = ev.onboarded(person) or ""
    agents: list[str] = []
    for day in sorted(d for d in signed if d >= since):
        fact = signed[day]
        mine = own_requests(fact, person)
        if mine is None and day not in own:
            continue
        if mine == 0:
            agents.append(day)
            continue
        whose = (
            ""
            if mine is not None
            else "; signed before the rollup counted own-key requests: that one was through "
            "your own key, not an agent's, is the usage log's word"
        )
        return StepResult(
            True,
            f"first answered request through the gateway on {day} (signed by the "
            f"gateway: usage.daily #{fact.id}{whose})",
            (fact.id,),
        )
    later = [day for day in own if day >= since and day not in signed]
    if agents and not later:
        return StepResult(
            False,
            "the gateway signed requests of yours only through "
            f"{ev.context.not_own_key('your')}, on "
            f"{', '.join(agents)}: send one with your own gateway key (`inhouse keys fetch`)",
            acted=True,
        )
    if later:
        if (waiting := _awaits_confirmation(ev, person, later[0])) is not None:
            # rolled up already: asking for the rollup sends them to a lead for nothing
            return StepResult(
                False,
                f"the gateway signed your use of {later[0]} (usage.daily #{waiting.id}); it "
                "counts once you confirm it: `inhouse usage confirm` on your machine",
                acted=True,
            )
        return StepResult(
            False,
            f"a request answered on {later[0]} is not in the gateway's signed daily usage yet "
            "(`inhouse gateway rollup` on the gateway's host signs it), or not confirmed by you "
            "(`inhouse usage confirm` on your machine)",
            acted=True,
        )
    if own:
        return StepResult(False, f"no answered request with your own key since {since}, the "
                                 f"day you joined the pilot{_no_key(ev, person)}")  # fmt: skip
    return StepResult(
        False, f"no answered request with your own gateway key yet{_no_key(ev, person)}"
    )


def _no_key(ev: PilotEvidence, person: str) -> str:
    """What a member without a gateway key of their own is told first (empty where they hold
    one, or a grant waiting for their fetch): `inhouse keys fetch`, which the step's ``how``
    sends them to, finds nothing until a rollout lead grants them one. A member who is a
    rollout lead grants it themselves (told to wait for "a rollout lead", a lead waited for
    nobody), and one whose key was revoked holds none now, not "yet"."""
    from inhouse.gateway.keys import list_keys, pending_grants

    own = [k for k in list_keys(ev.program.store) if k.person == person and k.agent is None]
    if any(k.active for k in own):
        return ""
    if pending_grants(ev.program, person):
        return ""  # the step's ``how`` says what is left: fetch it
    held = (
        "you hold no gateway key now (yours was revoked)" if own else "you hold no gateway key yet"
    )
    member = ev.state.people.get(person)
    if member is not None and Role.ROLLOUT_LEAD in member.roles:
        return (
            f": {held}, and `inhouse keys fetch` finds none until one is granted; a rollout "
            f"lead, you grant yourself one (`inhouse keys issue {person}`)"
        )
    return (
        f": {held}, and `inhouse keys fetch` finds none until a rollout lead grants you one "
        f"(`inhouse keys issue {person}`)"
    )


def _awaits_confirmation(
    ev: PilotEvidence, person: str, day: str = "", prompt: PromptVersion | None = None
) -> Fact | None:
    """The gateway's ``usage.daily`` of ``day`` (or ``prompt.usage`` of ``prompt``) that names
    ``person`` and is left uncounted for them for want of their own confirmation (`inhouse
    usage confirm`), or None."""
    kind = "usage.daily" if prompt is None else "prompt.usage"
    for item in ev.context.uncounted_of([kind]):
        fact = item.fact
        if person not in (fact.payload.get("people") or {}):
            continue
        if prompt is None and str(fact.payload.get("day")) != day:
            continue
        if prompt is not None and f"{fact.payload.get('prompt')}@{fact.payload.get('version')}" != (
            prompt.id
        ):
            continue
        # theirs to fix: left out for them for want of their word alone (a day they held no
        # key of their own on is none of theirs to fix by confirming)
        if person in item.unconfirmed:
            return fact
    return None


@step_type(
    "ran-workflow",
    params=_Workflow,
    summary="Run the {workflow} workflow and see it pass",
    how="run `inhouse workflow test {workflow}` with your own key",
    rests_on=("workflow.run",),
)
def _ran_workflow(ev: PilotEvidence, person: str, step: Step, p: _Workflow) -> StepResult:
    from inhouse.program.playchecks._shared import on_test_model, unrecorded_lock

    since = ev.onboarded(person) or ""  # a run from before they joined shows them nothing new
    # (one sealed in their checkout before and imported after is no later for its import)
    runs = [
        f for f in ev.facts.of("workflow.run")
        if f.by == person and f.payload["workflow"] == p.workflow and f.payload["passed"]
        and f.made.astimezone(UTC).date().isoformat() >= since
    ]  # fmt: skip

    def aside(run: Fact) -> str | None:
        # a run on weights no recorded lock blessed is not the baseline's workflow run; one the
        # test model answered shows the member nothing of the workflow, outside a demo (play
        # 4's pilot-enabled judges the step by the same rules)
        return unrecorded_lock(ev.facts, run) or on_test_model(ev.context, run, play="pilot")

    why_not = {f.id: aside(f) for f in runs}
    run = next((f for f in reversed(runs) if why_not[f.id] is None), None)
    if run is None:
        set_aside = [why for why in why_not.values() if why]
        why = f" ({set_aside[-1]})" if set_aside else ""
        return StepResult(
            False, f"no passing run of workflow {p.workflow} signed by {person} since {since}{why}"
        )
    return StepResult(
        True, f"passing run of {p.workflow} (fact #{run.id}, {run.at:%Y-%m-%d})", (run.id,)
    )


@step_type(
    "used-shared-prompt",
    params=_SharedPrompt,
    summary="Use a shared prompt from the library",
    how="send a request naming a library prompt (header X-Inhouse-Prompt: NAME@VERSION)",
    rests_on=("prompt.usage",),
)
def _shared_prompt(ev: PilotEvidence, person: str, step: Step, p: _SharedPrompt) -> StepResult:
    from inhouse.program.facts import prompt_users

    signed = ev.signed_prompts(person)
    since = ev.onboarded(person) or ""
    unsigned = named = None
    early: tuple[PromptVersion, Fact, str] | None = None
    # a signed use dated before they joined, or later than their confirmation of it covers:
    # play 4's check reads each person's own dated use (``used_by``), and so does this
    undated: PromptVersion | None = None
    # the summaries count a prompt only named as none: the gateway's word names who named it
    for prompt_id in sorted(ev.prompts_used(person) | ev.named_prompts(person).keys()):
        found = ev.resolve(prompt_id)
        if found is None or (p.prompt is not None and found.prompt != p.prompt):
            continue
        # someone else's: a known author other than them (an import's author is unknown)
        if p.others and found.author in (person, None):
            continue
        fact = signed.get(found.id)
        if fact is not None and (day := _used_before(found, fact)) is not None:
            early = early or (found, fact, day)
            continue
        if fact is not None and person not in prompt_users(fact, since):
            undated = undated or found
            continue
        if fact is None:
            if found.id in ev.named_prompts(person):
                named = named or found
            else:
                unsigned = unsigned or found
            continue
        return StepResult(
            True,
            f"used library prompt {found.id} (by {found.byline}; signed by the gateway: "
            f"prompt.usage #{fact.id})",
            (fact.id,),
        )
    if early is not None:
        found, fact, day = early
        return StepResult(
            False,
            f"the gateway's signed use of {found.id} (prompt.usage #{fact.id}) dates its last "
            f"use {day}, before the version was recorded ({found.at:%Y-%m-%d}): a use of a "
            "version that did not exist yet is nobody's",
        )
    if undated is not None:
        if (waiting := _awaits_confirmation(ev, person, prompt=undated)) is not None:
            used = waiting.payload.get("used_by") or {}
            on = f" on {used[person]}" if isinstance(used, dict) and person in used else ""
            return StepResult(
                False,
                f"the gateway signed your use of {undated.id}{on} (prompt.usage "
                f"#{waiting.id}); it counts once you confirm that use: `inhouse usage confirm` "
                "on your machine, if you used it then",
                acted=True,
            )
        fact = signed[undated.id]
        used = fact.payload.get("used_by") or {}
        last = used.get(person) if isinstance(used, dict) else fact.payload.get("last_used")
        return StepResult(
            False,
            f"the gateway's signed use of {undated.id} (prompt.usage #{fact.id}) dates your "
            f"last use {last or 'nowhere'}, before you joined the pilot ({since}): send a "
            "request with it again through your own gateway key",
        )
    if named is not None:
        return StepResult(
            False,
            f"you only named {named.prompt} in X-Inhouse-Prompt, with messages of your own: "
            f"the gateway never sent you {named.id}, so it is none of your use; send the "
            f'request body\'s "prompt" for the gateway to render, or pin the version: '
            f"X-Inhouse-Prompt: {named.id}",
            acted=True,
        )
    if unsigned is not None:
        if (waiting := _awaits_confirmation(ev, person, prompt=unsigned)) is not None:
            return StepResult(
                False,
                f"the gateway signed your use of {unsigned.id} (prompt.usage #{waiting.id}); it "
                "counts once you confirm it: `inhouse usage confirm` on your machine",
                acted=True,
            )
        return StepResult(
            False,
            f"your use of {unsigned.id} is not in the gateway's signed prompt use yet "
            "(`inhouse prompts usage --record` on the gateway's host signs it), or not confirmed "
            "by you (`inhouse usage confirm` on your machine)",
            acted=True,
        )
    which = f"library prompt {p.prompt}" if p.prompt else "a library prompt"
    if p.others:
        which += " someone else wrote (added, not imported)"
    return StepResult(False, f"no answered request of yours with {which}")


def _used_before(version: PromptVersion, fact: Fact) -> str | None:
    """The last use the gateway's ``prompt.usage`` dates before ``version`` was recorded, or
    None: its people are counted on that day (whoever held a gateway key then), and a use of a
    version that did not exist yet is nobody's."""
    last = fact.payload.get("last_used")
    if last is None or date.fromisoformat(str(last)) >= version.at.astimezone(UTC).date():
        return None
    return str(last)


#: what a redaction rests on where the gateway's key is not on this host
_UNSEALED = (
    "as the usage log says, unsigned: the gateway's key is not on this host to check its seal"
)


def _why_redacted(ev: PilotEvidence, person: str) -> list[str]:
    """The person's latest redacted request, the classes redacted, and the rules that did it."""
    from inhouse.baseline.docs import rules_in_plain_words
    from inhouse.program.config import read_config

    found = ev.redacted(person)
    if not found:
        raise InvalidInput(
            f"no request of {person}'s was redacted yet: send one through the gateway that "
            "carries data the rules redact (an email address, say), then run this again"
        )
    latest = found[0]
    classes = ", ".join(a.removeprefix("redact:") for a in latest.actions)
    lines = [
        f"Request {latest.request_id} ({latest.at[:19]}, model {latest.model}) was answered "
        f"with {classes} replaced by [REDACTED:…] before it reached the model.",
        "The data-handling rules that did it (inhouse.toml [data_rules]):",
    ]
    if not ev.seal_here:
        lines.insert(1, _UNSEALED)
    words = rules_in_plain_words(read_config(ev.program.folder))
    lines += [f"  - {sentence}" for sentence in words] or ["  (no rules are written now)"]
    return lines


@step_type(
    "read-a-redaction",
    params=_NoParams,
    summary="Send a request the data rules redacted, and read why",
    how="send a request carrying data the rules redact, then `inhouse pilot step done {id}` "
    "shows you why",
    on_done=_why_redacted,
)
def _read_redaction(ev: PilotEvidence, person: str, step: Step, p: _NoParams) -> StepResult:
    # no signed fact records a redaction: the request is checked against the gateway's seal
    # where its key is here, and the step rests on the person's own word that they read why
    redacted = ev.redacted(person)
    if not redacted:
        sealed = " that the gateway sealed" if ev.seal_here else ""
        if ev.seal_revoked is not None:  # every row its key sealed is left out
            sealed = (
                f" that the gateway sealed with a key the log holds active (not {ev.seal_revoked})"
            )
        return StepResult(False, f"no request of yours{sealed} was redacted by the data rules yet")
    opened = ev.own_word(person, "enablement.step", step=step.id)
    if opened is None:
        return StepResult(
            False,
            f"request {redacted[0].request_id} was redacted; read why with "
            f"`inhouse pilot step done {step.id}`",
        )
    seal = "its row sealed by the gateway" if ev.seal_here else _UNSEALED
    return StepResult(
        True,
        f"request {redacted[0].request_id} redacted ({', '.join(redacted[0].actions)}; {seal}); "
        f"read why on {opened.at:%Y-%m-%d}, in {person}'s own word",
    )


@step_type(
    "attested",
    params=_NoParams,
    summary="(a step in your own words)",
    how="do it, then say so yourself: `inhouse pilot step done {id}`",
    on_done=lambda ev, person: [],
)
def _attested(ev: PilotEvidence, person: str, step: Step, p: _NoParams) -> StepResult:
    word = ev.own_word(person, "enablement.step", step=step.id)
    if word is None:
        return StepResult(False, f"{person} has not said it is done (their own word only)")
    return StepResult(True, f'{person}\'s own word on {word.at:%Y-%m-%d}: "{word.comment}"')


# -- the track file -------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StepSpec(BaseModel):
    """A step as written: its id, type, optional title, and the type's own parameters."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(pattern=_NAME.pattern, description="what `pilot step done` names")
    type: str
    title: str = ""


class TrackSpec(_Strict):
    title: str = Field(min_length=1)
    role: str = Field(min_length=1, description="the job this track is for")
    description: str = ""
    workflows: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)
    steps: list[StepSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Step:
    id: str
    type: str
    title: str
    params: _Params

    @property
    def kind(self) -> StepType[Any]:
        return STEP_TYPES[self.type]

    @property
    def how(self) -> str:
        """How a person meets it, with its parameters filled in."""
        return self.kind.how.format(id=self.id, **self.params.model_dump())

    def check(self, evidence: PilotEvidence, person: str) -> StepResult:
        return self.kind.check(evidence, person, self, self.params)

    def terms(self) -> dict[str, Any]:
        """What the step asks, as a lead's ``pilot.member`` fact records it for play 4's
        ``pilot-enabled`` check: its id, type, the kinds of fact it rests on (none: the
        member's word) and its parameters."""
        return {
            "id": self.id,
            "type": self.type,
            "rests_on": list(self.kind.rests_on),
            "params": self.params.model_dump(exclude_none=True),
        }


@dataclass(frozen=True)
class Track:
    name: str
    where: str  # ``enablement/NAME.yaml``, for messages
    title: str
    role: str
    description: str
    workflows: tuple[str, ...]  # those listed and those its steps run
    prompts: tuple[str, ...]
    steps: tuple[Step, ...]

    def gateway_steps(self) -> tuple[Step, ...]:
        """Its steps met only by what the gateway's own key signs of the member's use through
        a key of their own (``usage.daily``, ``prompt.usage``): the member reaching the tool."""
        return tuple(s for s in self.steps if _through_gateway(s.kind))

    def step(self, step_id: str) -> Step:
        found = next((s for s in self.steps if s.id == step_id), None)
        if found is None:
            raise InvalidInput(
                f"track {self.name} has no step {step_id!r} (steps: "
                f"{', '.join(s.id for s in self.steps)})"
            )
        return found


def _step(spec: StepSpec, index: int, where: str) -> Step:
    field = f"steps.{index}"
    kind = STEP_TYPES.get(spec.type)
    if kind is None:
        raise InvalidInput(
            f"{where}: {field}.type: unknown step type {spec.type!r}; step types: "
            f"{', '.join(sorted(STEP_TYPES))}"
        )
    try:
        params = kind.params.model_validate(spec.model_extra or {})
    except ValidationError as err:
        raise InvalidInput(f"{where}: {validation_problems(err, f'{field}.')}") from None
    if spec.type == "attested" and not spec.title:
        raise InvalidInput(f"{where}: {field}.title: an attested step says what to do (required)")
    title = spec.title or kind.summary.format(**params.model_dump())
    return Step(spec.id, spec.type, title, params)


def parse_track(text: str, *, name: str, where: str, workflows: list[str] | None = None) -> Track:
    """Validate a track's YAML ``text``; ``where`` names the file in every error, and
    ``workflows`` (when given) are the program's: a track naming another is refused."""
    data = load_yaml(text, where=where)
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a track is a YAML mapping (title, role, steps, …)")
    try:
        spec = TrackSpec.model_validate(data)
    except ValidationError as err:
        raise InvalidInput(f"{where}: {validation_problems(err)}") from None
    steps = tuple(_step(s, n, where) for n, s in enumerate(spec.steps))
    ids = [s.id for s in steps]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidInput(f"{where}: steps: the id {twice[0]!r} is used twice")
    # where each workflow is named, for an error that points at it
    named: dict[str, str] = {}
    for n, flow in enumerate(spec.workflows):
        named.setdefault(flow, f"workflows.{n}")
    for n, step in enumerate(steps):
        wanted = getattr(step.params, "workflow", None)
        if isinstance(wanted, str):
            named.setdefault(wanted, f"steps.{n}.workflow")
    if workflows is not None:
        for flow, at in named.items():
            if flow not in workflows:
                raise InvalidInput(
                    f"{where}: {at}: no workflow {flow!r} in this program (workflows: "
                    f"{', '.join(workflows) or 'none yet'})"
                )
    return Track(
        name=name,
        where=where,
        title=spec.title,
        role=spec.role,
        description=spec.description,
        workflows=tuple(named),
        prompts=tuple(dict.fromkeys(spec.prompts)),
        steps=steps,
    )


def _through_gateway(kind: StepType[Any]) -> bool:
    """Whether a step of ``kind`` is met only on the gateway's signed use of a person's key."""
    return bool(kind.rests_on) and set(kind.rests_on) <= set(GATEWAY_EVIDENCE)


def gateway_step_missing(track: Track) -> str | None:
    """Why ``track`` cannot take pilot members, or None: it holds no step the gateway measures
    (play 4's ``pilot-enabled`` counts a finished track only with one, exit rule 13), so its
    members would finish it on their own word. The message names the step to add."""
    if track.gateway_steps():
        return None
    measured = sorted(n for n, t in STEP_TYPES.items() if _through_gateway(t))
    return (
        f"{track.where}: steps: no step the gateway measures (the member's own request "
        f"through their own gateway key: a step of type {' or '.join(measured)}), so play 4's "
        "pilot-enabled would count nothing of its members' use, only their word; add one, "
        "such as\n  - id: first-request\n    type: first-answered-request"
    )


def track_path(folder: Path, name: str) -> Path:
    """``enablement/NAME.yaml`` in the program folder (a name cannot point elsewhere)."""
    if not _NAME.match(name):
        raise InvalidInput(f"{name!r} is not a track name: lower-case letters, digits, '-' or '_'")
    return safe_join(folder, f"{TRACKS_DIR}/{name}.yaml")


def list_tracks(folder: Path) -> list[str]:
    """The names of the program's tracks."""
    found = folder / TRACKS_DIR
    if not found.is_dir():
        return []
    return sorted(p.stem for p in found.glob("*.yaml") if _NAME.match(p.stem))


def load_track(folder: Path, name: str) -> Track:
    """The track ``name`` of the program at ``folder``, validated (its workflows must exist)."""
    path = track_path(folder, name)
    where = f"{TRACKS_DIR}/{name}.yaml"
    if not path.exists():
        known = ", ".join(list_tracks(folder)) or "none yet"
        raise InvalidInput(
            f"no track {name!r}: {where} does not exist (tracks: {known}); write one "
            "(docs/pilot.md shows the format)"
        )
    text = read_text(path, shown=where)
    return parse_track(text, name=name, where=where, workflows=list_workflows(folder))


def track_summaries(folder: Path) -> list[dict[str, Any]]:
    """``pilot tracks``: each track's title, role, steps, workflows and prompts, and why
    ``pilot add`` refuses it (``refused``: no step the gateway measures; None where it takes
    members), or its name and the error for one that does not load (one bad file hides no
    other)."""
    rows: list[dict[str, Any]] = []
    for name in list_tracks(folder):
        try:
            track = load_track(folder, name)
        except InhouseError as err:
            rows.append({"name": name, "error": str(err)})
            continue
        rows.append(
            {"name": name, "title": track.title, "role": track.role,
             "steps": [s.id for s in track.steps], "workflows": list(track.workflows),
             "prompts": list(track.prompts), "refused": gateway_step_missing(track)}
        )  # fmt: skip
    return rows
