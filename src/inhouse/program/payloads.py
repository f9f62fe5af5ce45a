"""The payload schema of every fact kind, one pydantic model each: what a fact of that kind
carries. A declaration table: ``inhouse.program.facts`` binds each to its kind and version."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    model_serializer,
    model_validator,
)

__all__ = [
    "MAX_QUALITY_FLOOR",
    "MIN_INPUTS",
    "MIN_MEANINGFUL",
    "READING",
    "AccessRequest",
    "AdoptionRow",
    "AgentBoundary",
    "AgentRegistered",
    "BaselineLock",
    "BaselineVerify",
    "CodeTrusted",
    "DriftFinding",
    "DriftReview",
    "EnablementCompleted",
    "EnablementStep",
    "FeedbackApplied",
    "FindingClosed",
    "FindingOpened",
    "Hypothesis",
    "IndicatorInput",
    "IndicatorsReport",
    "InhouseOrigin",
    "InstallScript",
    "LocalCostRates",
    "MinutesSaved",
    "ModelPin",
    "PilotAdoption",
    "PilotChampion",
    "PilotFinding",
    "PilotMember",
    "PilotRosterTeam",
    "PilotTeam",
    "PriceSnapshot",
    "PromptBody",
    "PromptLabel",
    "PromptMessage",
    "PromptShared",
    "PromptUsage",
    "PromptVariable",
    "PromptVersion",
    "RerunPlace",
    "ReviewAttended",
    "ReviewDecision",
    "ReviewHeld",
    "ReviewScheduled",
    "RuntimePin",
    "ServiceVouched",
    "SupportQueue",
    "SurveyOpened",
    "SurveyResponse",
    "TaskNamed",
    "TicketConfirmation",
    "TicketFixed",
    "TicketOpened",
    "TicketResolved",
    "TicketStep",
    "TrialEconomics",
    "TrialRerun",
    "TrialVerdict",
    "UsageDaily",
    "WorkflowRun",
    "WorkflowSpec",
]


#: the validation context in which a payload is read back from the log (``{READING: True}``):
#: a rule only the writer holds (a survey answer's two fields agreeing) is not applied there
READING = "reading"

#: the most pass-rate points a trial's candidate may trail the status quo by and still be "at
#: acceptable quality" (a spec's ``quality_floor``). It is also a rerun's tolerance (play 2's
#: trial-reproduced): at 100, a candidate that passes nothing matches one that passes all. At
#: 20 a candidate may fail one task in five more than the status quo, the widest gap a reader
#: would still call acceptable, and a small trial (six inputs: one is 17 points) can still
#: absorb one answer that flips on a rerun.
MAX_QUALITY_FLOOR = 20.0

#: the least improvement, in %, a trial may call a meaningful win on a numeric dimension (a
#: spec's ``meaningful.faster`` and ``meaningful.cheaper``). Below it "meaningfully faster"
#: says nothing: at 0.5 % a candidate a hair quicker than the status quo on the trial's own
#: inputs "proves value", and a colleague's honest rerun reproduces that as readily. One task
#: in ten done faster or cheaper is the least a reader would call a difference worth a program.
MIN_MEANINGFUL = 10.0

#: the fewest task inputs a trial's verdict may rest on: fewer paired inputs than this and no
#: interval of a numeric dimension is trusted, and fewer inputs in all and no pass rate says
#: what the candidate's quality is (one input is 0 % or 100 %). "More private" is decided by
#: rule, with no interval, so without this a trial of one input claiming it alone proved
#: value: a local model answering one ticket beside any hosted API, on its author's run and a
#: colleague's honest rerun alike
MIN_INPUTS = 5


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class Hypothesis(_Payload):
    statement: str = Field(min_length=1)
    aim: Literal["replace-dependency", "unlock-private-workflow"]
    target: str = Field(min_length=1, description="the dependency or workflow, by name")


class AccessRequest(_Payload):
    person: str = Field(description="who asked to get in")
    reason: str = ""


class CodeTrusted(_Payload):
    """A key about to run code a spec someone else wrote names (its ``python`` checks, on its
    runner's ``--trust-python``): recorded before the code runs, since from then on whoever
    wrote that code could sign anything with the key (exit rule 36)."""

    person: str = Field(description="whose key runs it")
    spec: str = Field(min_length=1, description="the spec naming the code, as the folder holds it")
    calls: list[str] = Field(min_length=1, description="the functions it names")


class LocalCostRates(_Payload):
    """The candidate's cost inputs from the trial spec (see :mod:`inhouse.trials.cost`)."""

    watts: float = Field(ge=0)
    price_per_kwh: float = Field(ge=0)
    hardware_price: float = Field(ge=0)
    lifetime_hours: float = Field(gt=0)
    utilisation: float = Field(gt=0, le=1)
    currency: str = "USD"


class TrialEconomics(_Payload):
    """What a trial measured and was told about time and money, kept with its verdict so play
    6 prices real use with the same figures (and a later edit of the spec cannot move them)."""

    status_quo: Literal["api", "manual"]
    currency: str
    #: manual: the minutes the trial's author recorded; api: measured end-to-end
    status_quo_seconds_per_task: float | None = None
    candidate_seconds_per_task: float | None = None  # measured
    api_price_input_per_mtok: float | None = None  # api status quo: its listed prices
    api_price_output_per_mtok: float | None = None
    local: LocalCostRates | None = None
    #: api: where the status quo answered from, as the trial saw it (a "cloud" on this machine
    #: or the private network is said beside the verdict); None for a manual status quo
    status_quo_scope: Literal["loopback", "private-network", "public"] | None = None
    #: api: the most private scope any of its answers came from, by the address each
    #: connection reached (a name resolving to a public address and to 127.0.0.1 answers from
    #: this machine); None for a manual status quo, or a verdict from before it was recorded
    status_quo_nearest: Literal["loopback", "private-network", "public"] | None = None


class TrialCandidate(_Payload):
    """The weights a trial measured, as the candidate's runtime named them: play 2's lock must
    bless these (a digest) for the baseline to be what play 1 proved."""

    model: str
    digest: str | None = None  # None: the runtime could not say which weights it served
    digest_source: str | None = None


class SeedSent(_Payload):
    """The seed a trial's requests carried (``sent``), and the spec's ``generation.temperature``
    and ``generation.seed``, which its ``spec_hash`` covers (``temperature`` None: the spec sends
    none, and the server samples at its default). A workflow's test run records the same of its
    version's ``parameters`` (``temperature``, ``seed``), which its content hash covers."""

    sent: int | None = None
    spec: int | None = None
    temperature: float | None = Field(None, ge=0)
    #: whether ``sent`` was drawn for this run (where the spec samples), not the spec's
    drawn: bool = False


class TrialVerdict(_Payload):
    trial: str
    verdict: Literal["proven", "not-worth-it", "inconclusive"]
    proven_on: list[Literal["faster", "cheaper", "more-private"]] = Field(default_factory=list)
    quality_ok: bool
    summary: str = ""
    report: str | None = None
    test_model: bool = False
    economics: TrialEconomics | None = None
    candidate: TrialCandidate | None = None  # None: recorded before candidates were named
    #: what a rerun by someone else compares with (``inhouse prove NAME --rerun``): the hash of
    #: the spec's candidate side (prompt, inputs, generation, checks, threshold, floor), the
    #: candidate's measured pass rate over ``inputs`` task inputs, and the quality floor in
    #: points. None: recorded before verdicts named them, and such a verdict cannot be rerun
    spec_hash: str | None = None
    candidate_pass_rate: float | None = Field(None, ge=0, le=1)
    inputs: int | None = Field(None, ge=1)
    #: (a spec caps its floor at :data:`MAX_QUALITY_FLOOR`; a fact keeps the wider bound it
    #: was recorded under, so a log from before the cap still folds, and the checks judge it)
    quality_floor: float | None = Field(None, ge=0, le=100)
    #: the status quo's pass rate the candidate's was held to, and whether it was measured
    #: (an api status quo) or stated by the trial's author (a manual one); None: recorded
    #: before verdicts named it
    status_quo_pass_rate: float | None = Field(None, ge=0, le=1)
    status_quo_measured: bool | None = None
    #: the hash of what the claimed advantage was measured against (the status quo, the manual
    #: minutes as read, the candidate's cost inputs, the thresholds): a rerun's own figures
    #: must come from the same (``TrialPlan.claim_hash``). None: recorded before verdicts named it
    claim_hash: str | None = None
    #: how many inputs the candidate passed that an empty answer fails (0: the quality checks
    #: pass whatever the model says). None: recorded before verdicts said
    proved: int | None = Field(None, ge=0)
    #: how many of those off-topic prose as long as the answer fails too (0: the quality checks
    #: pass any answer at all, a length bound say). None: recorded before verdicts said
    on_topic: int | None = Field(None, ge=0)
    #: how many inputs a status quo whose answers were checked (an API, a manual process's
    #: recorded outputs) gave no answer to (a failed request, an empty answer), each a failed
    #: case of its quality. None: a stated pass rate, or recorded before verdicts said
    status_quo_unanswered: int | None = Field(None, ge=0)
    #: how many inputs the status quo's server cut at ``generation.max_tokens``, or may have cut
    #: at a ``generation.stop`` sequence, whose answer then failed (whatever the candidate's did;
    #: before these rules: ``max_tokens`` cuts only, not where the candidate's was cut and
    #: failed too). None: a stated pass rate, or recorded before trials said
    status_quo_cut_short: int | None = Field(None, ge=0)
    #: the quality checks that judge how long an answer took or what it cost (``latency``,
    #: ``cost``), as a person reads them: they fail a slow or dear status quo's answers whatever
    #: they say. None: recorded before verdicts said
    timed_checks: list[str] | None = None
    #: how many of ``inputs`` are distinct tasks (an input asking what an earlier one asks is a
    #: copy, refused before a trial runs). None: recorded before verdicts said
    distinct_inputs: int | None = Field(None, ge=1)
    #: the improvement, in %, each claimed numeric dimension had to clear (the spec's
    #: ``meaningful``; a spec holds it to at least :data:`MIN_MEANINGFUL`, a fact keeps the
    #: threshold it was recorded under, and the checks judge it). None: recorded before
    #: verdicts said
    thresholds: dict[Literal["faster", "cheaper"], float] | None = None
    #: the seed its requests carried, and the spec's temperature (exit rule 33, ``FRESH_SEED``:
    #: a rerun at a temperature above 0 draws its own). None: recorded before verdicts said
    seed: SeedSent | None = None


class InhouseOrigin(_Payload):
    """Where the inhouse that ran a verify, a trial's rerun or a workflow's tests came from, as
    its own installed files say."""

    version: str
    #: ``index``: pip installed it from a package index (no ``direct_url.json``); ``url``: pip
    #: installed it from a folder or URL (``inhouse @ …``; its ``direct_url.json`` names it);
    #: ``checkout``: it runs from a source tree that no installed distribution holds
    installed_from: Literal["index", "url", "checkout"]
    url: str = ""


class RerunPlace(_Payload):
    """Which of its signer's key's reruns of one spec a rerun is: its number in that key's
    series (1 for the first, or the first after the series file beside the key was lost) and
    the hash of the one before (:func:`~inhouse.program.rerun_series.rerun_hash`), so a rerun
    imported without those before it shows the gap."""

    number: int = Field(ge=1)
    #: ``sha256:`` and the hex digest of the previous rerun's payload; None for number 1
    previous: str | None = Field(None, pattern=r"^sha256:[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _linked(self) -> RerunPlace:
        if (self.number == 1) != (self.previous is None):
            raise ValueError(
                "a series' first rerun names no previous one, and every later one names it"
            )
        return self


class TrialRerun(_Payload):
    """A proven trial, run again head to head by someone else from their own machine
    (``inhouse prove NAME --rerun``): play 2's ``trial-reproduced`` compares it with the
    verdict."""

    trial: str
    #: the trial.verdict fact it reran; None: run in a checkout without the program's log,
    #: which the program's side matches by spec hash and weights
    verdict: int | None = Field(None, ge=1)
    spec_hash: str = Field(min_length=8)
    model: str = ""
    #: the weights the runtime served, by its inventory (None: it could not say)
    digest: str | None = None
    test_model: bool = False
    pass_rate: float = Field(ge=0, le=1)
    inputs: int = Field(ge=1)
    passed: int = Field(ge=0)
    #: the spec's quality floor, in points (covered by ``spec_hash``)
    quality_floor: float = Field(ge=0, le=100)
    machine: str = ""
    #: the runtime that answered, and whether every answer came from this machine (the
    #: addresses the connections reached, ``runtime_peers``)
    runtime: str = ""
    runtime_local: bool | None = None
    runtime_peers: list[str] = Field(default_factory=list)
    #: the whole head-to-head, run again from this machine: the hash of what the advantage was
    #: measured against (as the verdict's ``claim_hash``), the status quo's kind, and the
    #: dimensions this run's own figures cleared (an api status quo answered from this machine;
    #: a manual one's minutes as recorded). None: recorded before reruns ran the status quo
    claim_hash: str | None = None
    status_quo: Literal["api", "manual"] | None = None
    proven_on: list[Literal["faster", "cheaper", "more-private"]] | None = None
    #: this run's improvement over the status quo, in %, per numeric dimension (point estimates)
    improvement: dict[str, float] = Field(default_factory=dict)
    #: an API status quo as this run reached it ("MODEL at URL"); None: a manual one, or
    #: recorded before reruns named it
    status_quo_endpoint: str | None = None
    #: a manual status quo is a person's word: the rerunner's own, confirming the minutes (and
    #: stated pass rate) the claim hash covers, with what they base it on. None: not confirmed
    status_quo_confirmed: str | None = None
    #: an API status quo is its author's choice: the rerunner's own word that it (the endpoint
    #: and model ``status_quo_endpoint`` names) is how the task is done today, with what they
    #: base it on. None: not confirmed
    api_confirmed: str | None = None
    #: a manual status quo's quality, where its CSV holds the outputs the process gave, is
    #: judged on outputs its author typed: the rerunner's own word that they are what the
    #: process gave, with what they base it on. None: not confirmed, or recorded before reruns
    #: asked for it
    outputs_confirmed: str | None = None
    #: the functions of its ``python`` checks, which ran in the rerunner's inhouse on their
    #: ``--trust-python``: code the trial's writer chose, so not the rerunner's own measure
    #: ([]: none, or recorded before reruns said)
    python_checks: list[str] = Field(default_factory=list)
    #: this run's own quality judgment: the status quo's pass rate (measured from its outputs,
    #: or stated where the spec states it) and whether the candidate trailed it by no more than
    #: the quality floor. None: recorded before reruns compared the two sides' quality
    status_quo_pass_rate: float | None = Field(None, ge=0, le=1)
    status_quo_measured: bool | None = None
    quality_ok: bool | None = None
    #: how many inputs this run's candidate passed that an empty answer fails (0: the quality
    #: checks pass whatever the model says). None: recorded before reruns said
    proved: int | None = Field(None, ge=0)
    #: how many of those off-topic prose as long as the answer fails too (0: the quality checks
    #: pass any answer at all). None: recorded before reruns said
    on_topic: int | None = Field(None, ge=0)
    #: how many inputs the status quo gave no answer to on this run (a failed request, an empty
    #: answer or recorded output), each a failed case of its quality. None: a stated pass rate,
    #: or recorded before reruns said
    status_quo_unanswered: int | None = Field(None, ge=0)
    #: how many inputs the status quo's server cut at ``generation.max_tokens``, or may have cut
    #: at a ``generation.stop`` sequence, whose answer then failed (whatever the candidate's did;
    #: before these rules: ``max_tokens`` cuts only, not where the candidate's was cut and
    #: failed too). None: a stated pass rate, or recorded before trials said
    status_quo_cut_short: int | None = Field(None, ge=0)
    #: the quality checks that judge how long an answer took or what it cost, as a person reads
    #: them (always recorded: a rerun without it was made by an older inhouse). None: recorded
    #: before reruns said
    timed_checks: list[str] | None = None
    #: the costs a "cheaper" claim multiplies the measured tokens and busy time by (an API's
    #: prices, the manual hourly cost, the candidate's hardware and power inputs) are the
    #: trial author's typing: the rerunner's own word that they are true, with what they base
    #: it on. None: not confirmed
    costs_confirmed: str | None = None
    #: the inhouse that ran the rerun (a build from a folder or URL runs the trial, judges the
    #: answers and says where they came from however its author wrote it); None: recorded
    #: before reruns named it
    inhouse: InhouseOrigin | None = None
    #: the improvement, in %, each claimed numeric dimension had to clear on this run (the
    #: spec's ``meaningful``, which ``claim_hash`` covers; always recorded: a rerun without it
    #: was made by an older inhouse). None: recorded before reruns said
    thresholds: dict[Literal["faster", "cheaper"], float] | None = None
    #: how many of ``inputs`` are distinct tasks (an input asking what an earlier one asks is a
    #: copy, refused before a rerun runs). None: recorded before reruns said
    distinct_inputs: int | None = Field(None, ge=1)
    #: which of its key's reruns of this spec it is (exit rule 25, ``RERUN_SERIES``): a rerun
    #: made without the program's log reaches it only as an envelope someone imports, and one
    #: imported without those before it would pool alone. None: recorded before reruns said
    place: RerunPlace | None = None
    #: the seed its requests carried, beside the spec's temperature and seed (exit rule 33,
    #: ``FRESH_SEED``): where the spec samples, a rerun draws a seed of its own, so a seed its
    #: author picked among many private tries cannot reproduce its lucky draw. None: recorded
    #: before reruns said (judged as before)
    seed: SeedSent | None = None


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
    closes: list[int] = Field(default_factory=list, description="findings this re-lock answers")
    #: the lock as ``inhouse.lock`` holds it, less its hash: ``lock_hash`` must be its hash and
    #: the fields above what it pins (:mod:`inhouse.program.counting`); None: recorded before
    #: lock facts carried it, and such a fact counts for nothing
    body: dict[str, Any] | None = None


class InstallScript(_Payload):
    lock_hash: str
    sha256: str
    path: str = "install.sh"


class BaselineVerify(_Payload):
    lock_hash: str
    passed: bool
    machine: str = ""
    failures: list[str] = Field(default_factory=list)
    #: the blessed models' digests the machine's runtime served, as the verify found them;
    #: None: recorded before verifies named them
    models: list[ModelPin] | None = None
    #: the inhouse that ran the verify; None: recorded before verifies named it
    inhouse: InhouseOrigin | None = None
    #: whether every answer of the runtime came from this machine (the addresses the
    #: connections reached, ``runtime_peers``); None: the runtime did not answer, or recorded
    #: before verifies said (one that names its ``inhouse`` was made by a release that failed
    #: any verify answered elsewhere)
    runtime_local: bool | None = None
    runtime_peers: list[str] = Field(default_factory=list)


class TaskNamed(_Payload):
    task: str = Field(min_length=1)
    frequency: str = Field(min_length=1, description="e.g. daily, 3/week")


class WorkflowSpec(_Payload):
    workflow: str
    content_hash: str
    author: str
    model: str
    model_digest: str
    closes: list[int] = Field(default_factory=list, description="findings this version answers")
    #: a random token the ``workflow.run`` recorded with it names (its ``spec``): the spec
    #: publishes its version only beside that run ("": recorded before runs named their spec)
    nonce: str = ""
    #: what the version runs, apart from what only describes it (``Workflow.run_hash``): a
    #: finding is not fed back by a version that runs what the workflow ran before ("":
    #: recorded before specs said)
    run_hash: str = ""


class WorkflowRun(_Payload):
    workflow: str
    content_hash: str
    lock_hash: str = ""
    passed: bool
    pass_rate: float = Field(ge=0, le=1)
    cases: int = Field(ge=0, default=0)
    #: how many of those cases passed though every decoy answer fails them (a case a decoy
    #: passes would pass whatever the model said); None: recorded before runs said. Where
    #: ``decoys`` is empty (recorded before runs were judged on decoys), the empty answer alone
    proved: int | None = Field(ge=0, default=None)
    #: the decoy answers each case was judged on (:data:`inhouse.workflows.decoys.DECOYS`;
    #: []: recorded before runs were)
    decoys: list[str] = Field(default_factory=list)
    #: each case that passed though a decoy passes it too: ``{case, decoy}`` (the first decoy)
    untested: list[dict[str, str]] = Field(default_factory=list)
    #: how many different prompts those cases sent the model (one for several cases: its
    #: template ignores what they give it); None: recorded before runs said
    inputs: int | None = Field(ge=0, default=None)
    #: the prompt variant in use, which ``passed`` and ``pass_rate`` judge ("": one prompt)
    variant: str = ""
    #: the machine it ran on (a run by someone other than the author must not run at theirs)
    machine: str = ""
    #: the runtime that answered, and whether it was on the machine the run was made on (a
    #: rerun answered by another host's server measured that host; None: recorded before
    #: runs said)
    runtime: str = ""
    runtime_local: bool | None = None
    #: the IP address of each server whose answers the run received, read from the connections
    #: that carried them ("unknown": one that did not say); runtime_local judges these, not the
    #: runtime's name resolved again ([]: recorded before runs said)
    runtime_peers: list[str] = Field(default_factory=list)
    #: the ``nonce`` of the ``workflow.spec`` its runner recorded with it, which publishes the
    #: version ("": the version was published before, or the run was recorded before runs said)
    spec: str = ""
    #: what the version it ran runs, as its runner measured it from the files (the spec's
    #: ``run_hash`` is its publisher's word; "": recorded before runs said)
    run_hash: str = ""
    #: the inhouse that ran the tests (a build from a folder or URL judges and reports whatever
    #: its author wrote); None: recorded before runs named it
    inhouse: InhouseOrigin | None = None
    #: retired: how many cases an empty answer fails, which runs recorded for a while before
    #: ``proved`` replaced it. Read, so that an older inhouse's honest run is not set aside as
    #: "not what inhouse writes" (a field the schema lacks); never stored again, never counted
    can_fail: int | None = Field(ge=0, default=None, exclude=True)
    #: the functions of its ``python`` checks, which ran in the runner's inhouse on their
    #: ``--trust-python``: code the spec's writer chose, so not the runner's own measure ([]:
    #: none, or recorded before runs said)
    python_checks: list[str] = Field(default_factory=list)
    #: whether the model that answered was the project's test model (random weights), by the
    #: same reading trials use (the GGUF's own marker, else the name it is served under): play
    #: 3 counts such a run only in a demo program; None: recorded before runs said
    test_model: bool | None = None
    #: the model and the digest its runner pinned from the lock for the model the version's
    #: file names (the spec's ``model_digest`` is its signer's word, and play 3 judges a version
    #: by the weights its runs ran on); "": recorded before runs said
    model: str = ""
    model_digest: str = ""
    #: the seed its requests carried, beside the version's temperature and seed (exit rule 35,
    #: ``WORKFLOW_FRESH_SEED``): where the version samples, a run by anyone but its author
    #: draws a seed of its own, so a seed its author picked among many private tries cannot
    #: replay its lucky draw. None: recorded before runs said
    seed: SeedSent | None = None
    #: the text its ``content_hash`` is the SHA-256 of (the version's spec, and the hashes of
    #: the files it reads): what the version itself says, which play 3 reads whether it samples
    #: from (exit rule 35), never from a run's word on its temperature. "": recorded before
    #: runs carried it
    hashed: str = ""
    #: whether each attempt of a case (its ``repeat``) sent a seed of its own, derived from
    #: ``seed.sent`` and the attempt's index (:func:`~inhouse.workflows.runner.attempt_seed`):
    #: where the version samples at a seed sent, its attempts are as many draws. False: every
    #: request sent ``seed.sent`` (temperature 0, or no seed sent); None: recorded before runs
    #: said, when every attempt sent ``seed.sent`` (at a seed above temperature 0, one draw
    #: repeated)
    attempt_seeds: bool | None = None


class EnablementCompleted(_Payload):
    person: str
    track: str = Field(min_length=1, description="the role-specific enablement taken")
    steps: list[str] = Field(
        default_factory=list, description="the track's steps it rests on, each an enablement.step"
    )


class PromptShared(_Payload):
    prompt: str
    author: str


class PersonUsage(_Payload):
    requests: int = Field(ge=0)
    tokens_in: int = Field(ge=0, default=0)
    tokens_out: int = Field(ge=0, default=0)
    #: of ``requests``, those through a key of the person's own, not an agent's (what makes
    #: them active that day); None in facts from before the rollup counted them
    own: int | None = Field(ge=0, default=None)
    #: of ``requests``, those that named a workflow, per workflow id (``name`` or
    #: ``name@version``): its runs through the gateway that day, which play 6's work changed
    #: counts; None in facts from before the rollup signed them (and where none named one)
    workflows: dict[str, Annotated[int, Field(ge=1)]] | None = None

    @model_validator(mode="after")
    def _own_within(self) -> PersonUsage:
        if self.own is not None and self.own > self.requests:
            raise ValueError("own requests cannot be more than the requests")
        if self.workflows is not None and sum(self.workflows.values()) > self.requests:
            raise ValueError("workflow runs cannot be more than the requests")
        return self

    @model_serializer(mode="wrap")
    def _without_unknown_own(self, handler: Any) -> dict[str, Any]:
        """Stored without ``own`` or ``workflows`` where not given (as facts from before)."""
        data: dict[str, Any] = handler(self)
        if self.own is None:
            data.pop("own", None)
        if self.workflows is None:
            data.pop("workflows", None)
        return data


class UnboundTools(_Payload):
    """A person's answered requests in a day that offered the model tools through a key of
    theirs bound to no agent, and those tools' names (sorted): an agent run without a boundary."""

    requests: int = Field(ge=1)
    tools: list[str] = Field(min_length=1)
    #: how many more names were offered than ``tools`` lists (a day's fact names at most
    #: :data:`inhouse.gateway.rollup.TOOLS_NAMED`: a client inventing names cannot swell the log)
    more: int = Field(ge=0, default=0)

    @model_serializer(mode="wrap")
    def _without_zero_more(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if not self.more:
            data.pop("more", None)
        return data


class UsageDaily(_Payload):
    """One day's answered use through the gateway: every person's totals that day in one fact
    (``people``), as the gateway's rollup records it; or, as facts from before that change
    hold it, one person's (``person`` with ``requests`` and tokens). Read both with
    :func:`inhouse.program.facts.daily_usage`. ``unbound_tools``: per person, the tools offered
    through their keys bound to no agent that day (absent: none; facts from before the gateway
    recorded them never carry it)."""

    day: date
    people: dict[str, PersonUsage] | None = None
    unbound_tools: dict[str, UnboundTools] | None = None
    person: str | None = None
    requests: int | None = Field(ge=0, default=None)
    tokens_in: int = Field(ge=0, default=0)
    tokens_out: int = Field(ge=0, default=0)

    @model_validator(mode="after")
    def _one_shape(self) -> UsageDaily:
        if (self.people is None) == (self.person is None):
            raise ValueError("give either people (each person's totals) or one person")
        if self.person is not None and self.requests is None:
            raise ValueError("requests is required with person")
        if self.person is not None and self.unbound_tools is not None:
            raise ValueError("unbound_tools is a day's, beside people")
        return self

    @model_serializer(mode="wrap")
    def _as_given(self, handler: Any) -> dict[str, Any]:
        """Stored in the shape it came in: a day's ``{day, people}``, or one person's."""
        data: dict[str, Any] = handler(self)
        if self.people is not None:
            day = {"day": data["day"], "people": data["people"]}
            if self.unbound_tools is not None:
                day["unbound_tools"] = data["unbound_tools"]
            return day
        return {k: v for k, v in data.items() if k not in ("people", "unbound_tools")}


class SurveyResponse(_Payload):
    person: str
    would_resist_losing: bool = Field(description="the answer was 'very disappointed'")
    comment: str = ""
    survey: str = ""
    answer: Literal["very", "somewhat", "not", "no-longer-use"] | None = Field(
        None, description="how would you feel if you could no longer use it? (Sean Ellis)"
    )
    benefit: str = Field("", description="what is the main benefit? (free text)")

    @model_validator(mode="after")
    def _one_answer(self, info: ValidationInfo) -> SurveyResponse:
        if (info.context or {}).get(READING):
            # a rule of the writer's, not a type: read back, such an answer counts by its
            # ``answer`` (play 4's exit keeps the reading it exited on). Set aside as "not what
            # inhouse writes", the dashboard's host who typed the flag would void a member's
            # later answer, their earlier one standing, and undo an exit judged on them
            return self
        # the answer is what its person reads and chooses; would_resist_losing, what the exit
        # check counted, must say the same: a dashboard's host proposing "somewhat" beside
        # would_resist_losing true had a member's approval counted as "very disappointed"
        if self.answer is not None and self.would_resist_losing != (self.answer == "very"):
            raise ValueError(
                f"would_resist_losing is {str(self.would_resist_losing).lower()} but the answer "
                f"is {self.answer!r}: it is true exactly when the answer is 'very'"
            )
        return self


class SurveyOpened(_Payload):
    survey: str = Field(min_length=1)
    closes: datetime


class ServiceVouched(_Payload):
    """Someone other than the lead who enrolled a service's key checked that the key answers
    at the service they use (``inhouse gateway vouch``): the service's challenge, signed."""

    service: str = Field(min_length=1)
    key_id: str = Field(min_length=1)
    url: str = Field(min_length=1, description="where the service answered")
    nonce: str = Field(min_length=32, max_length=64, pattern=r"^[0-9a-f]+$")
    signature: str = Field(min_length=1, description="the service key's, over its challenge")


class TrackStepTerms(_Payload):
    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    rests_on: list[str] = Field(
        default_factory=list,
        description="the kinds of counted fact a measured step rests on; empty: the member's word",
    )
    params: dict[str, Any] = Field(default_factory=dict)


class PilotMember(_Payload):
    person: str
    track: str = Field(min_length=1, description="the role track (enablement/TRACK.yaml)")
    action: Literal["added", "removed"] = "added"
    team: str | None = Field(
        None,
        description="their team as the roster named it when they were added: the pilot's "
        "checks count teams by it (None: added before facts recorded it; the roster's now)",
    )
    steps: list[TrackStepTerms] = Field(
        default_factory=list,
        description="the track's steps as they stood when the member was added: what "
        "pilot-enabled holds their enablement to",
    )


class EnablementStep(_Payload):
    person: str
    track: str
    step: str = Field(min_length=1)
    how: str = Field("", description="the evidence that met it, or 'attested' for a word")
    evidence: list[int] = Field(
        default_factory=list,
        description="the counted facts a measured step rests on (usage.daily, prompt.usage, "
        "workflow.run); none for a word",
    )


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
    closes: list[int] = Field(default_factory=list, description="findings this version answers")
    imported: bool = Field(
        False, description="brought in by `inhouse prompts import`: its author is unknown"
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
    people: list[str] = Field(default_factory=list, description="who used it, by name")
    named_only: list[str] = Field(
        default_factory=list,
        description="who only named it in X-Inhouse-Prompt (by name or label) with messages of "
        "their own: the gateway never sent it to them, so none of it is counted as their use "
        "(absent in facts recorded before: everyone named was counted)",
    )
    #: each person's last day the gateway sent them the version through a key of their own (an
    #: agent's requests are nobody's use); None in facts from before it was signed, which
    #: dated everyone in ``people`` by ``last_used``, the version's latest use by anyone
    used_by: dict[str, date] | None = None

    @model_serializer(mode="wrap")
    def _without_unknown_used_by(self, handler: Any) -> dict[str, Any]:
        """Stored without ``used_by`` where it is not given (as facts from before it were)."""
        data: dict[str, Any] = handler(self)
        if self.used_by is None:
            data.pop("used_by", None)
        return data


class PromptVersionRef(_Payload):
    prompt: str = Field(min_length=1)
    version: int = Field(ge=1)
    #: in a confirmation, the latest day of its use the person was shown (the gateway's signed
    #: day, else the day they confirmed): a use the gateway dates later counts once they confirm
    #: it again. None: a confirmation from before they were dated, which covers any day
    last: date | None = None


class UsageConfirmed(_Payload):
    """A person's own word, signed with their key, on the use the gateway's signed figures give
    them (``inhouse usage confirm``): the gateway's host is its operator's, who could seal usage
    rows in anyone's name, so a person's day (or prompt version) counts only where they
    confirmed it."""

    person: str = Field(description="whose use: counts only signed by that person")
    days: list[date] = Field(default_factory=list, description="days they used the gateway")
    prompts: list[PromptVersionRef] = Field(
        default_factory=list, description="library prompt versions the gateway served them"
    )
    left_out: list[date] = Field(
        default_factory=list,
        description="days the gateway's figures give them that they say they did not use it",
    )
    requests: dict[date, int] = Field(
        default_factory=dict,
        description="per day confirmed, the most answered requests it confirms: the figure "
        "they were shown (the gateway's signed one, else the usage log's); a day's usage "
        "signed since with more counts for them only once they confirm it again. A day with "
        "none named (a confirmation from before figures were bound) counts whatever its count "
        "where the log shows exit rule 19 not in force, and up to none where it is",
    )
    tokens: dict[date, int] = Field(
        default_factory=dict,
        description="per day confirmed, the most tokens (input and output) it confirms, as "
        "the gateway's signed figures gave them then, else the usage log's (an older inhouse's "
        "named none for a day not signed yet: under exit rule 19, up to none)",
    )
    runs: dict[date, dict[str, Annotated[int, Field(ge=1)]]] | None = Field(
        default=None,
        description="per day confirmed, the most runs of each workflow (by name) it confirms: "
        "the signed day's (else the usage log's), as `inhouse usage confirm` showed them (a "
        "day named none of, none; "
        "exit rule 32). None (absent) in a confirmation from before it, which bounds no runs "
        "until its person confirms the day again. Every confirmation recorded since names it "
        "(``{}``: no runs), and an older inhouse sets such a one aside (a field its schema "
        "lacks): a team upgrades every machine that judges the program",
    )
    left_out_prompts: list[PromptVersionRef] = Field(
        default_factory=list,
        description="library prompt versions the gateway's figures give them that they say "
        "they were not sent (`--except-prompt`), each with the latest day of its use they were "
        "shown: none counts, and `inhouse status` no longer asks about it until the gateway "
        "dates a use of it later. Stored only where there is one (an older inhouse sets such a "
        "confirmation aside: a field its schema lacks)",
    )

    @model_serializer(mode="wrap")
    def _without_unknown_runs(self, handler: Any) -> dict[str, Any]:
        """Stored without ``runs`` where not given (as confirmations from before it were), and
        without ``left_out_prompts`` where none was left out (an older inhouse reads it)."""
        data: dict[str, Any] = handler(self)
        if self.runs is None:
            data.pop("runs", None)
        if not self.left_out_prompts:
            data.pop("left_out_prompts", None)
        return data


class PilotTeam(_Payload):
    person: str
    team: str = Field(
        min_length=1,
        description="the team the person says they work in, in their own signed word: "
        "pilot-size counts a member's team only where it agrees with the lead's roster",
    )


class PilotRosterTeam(_Payload):
    person: str
    team: str = Field(
        min_length=1,
        description="the team a rollout lead corrects the roster to name for the person (never "
        "their own): the pilot's checks count it where the person's own word agrees",
    )


class PilotChampion(_Payload):
    person: str
    team: str
    accepted: bool = Field(
        False, description="the champion's own acceptance (signed by them), not the naming"
    )


class PilotFinding(_Payload):
    finding: str = Field(min_length=1)
    kind: Literal["docs", "prompt", "workflow", "baseline", "other"] = "other"


class SupportQueue(_Payload):
    queue: str
    owner: str
    accepted: bool = Field(
        False, description="the owner's own acceptance (signed by them), not the naming"
    )


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
    agents: dict[str, list[str]] | None = Field(
        None, description="each agent's tool allowlist the gateway serves (its host's inhouse.toml)"
    )


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


class ReviewAttended(_Payload):
    review: int = Field(ge=1, description="the review.held fact it confirms, by id")
    person: str = Field(description="who attended: counts only signed by that person")
    comment: str = ""


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


class TicketConfirmation(_Payload):
    """confirmed, disputed: the person an import named says, with their own key, whether the
    imported steps in their name are theirs. Counts only signed by that person, never imported."""

    ticket: str
    steps: list[int] = Field(min_length=1, description="the imported steps' fact ids")
    stated: int | None = Field(None, description="the ticket.opened its content stood on then")
    text: str = ""


class TicketFixed(_Payload):
    """fixed: the ticket's opener (who hit the problem) says, with their own key, that the
    resolution it stands on fixed it. Counts only signed by the opener, never imported."""

    ticket: str
    resolution: int = Field(description="the ticket.resolved fact it confirms")
    text: str = ""


class IndicatorInput(_Payload):
    """One input of a lagging indicator, and where it came from."""

    indicator: str
    name: str
    value: float | str
    unit: str = ""
    source: str


class IndicatorsReport(_Payload):
    period_start: date
    period_end: date
    period: str = Field("", description="the period's label: 2026-11, 2026-W47, or a span")
    partial: bool = Field(False, description="the period had not ended: figures may change")
    leading: dict[str, float]
    #: a lagging indicator inhouse could not compute (no prices, no minutes saved) is absent
    lagging: dict[str, float]
    inputs: list[IndicatorInput] = Field(default_factory=list)
    report: str = Field("", description="the JSON report's path in the program folder")
    sha256: str = Field("", description="the JSON report's SHA-256")


class PriceSnapshot(_Payload):
    """A reference API's listed prices, as someone recorded them on a day: spend avoided for a
    period is priced with the snapshot in force at its end, so later changes never move it."""

    reference: str = Field(min_length=1, description="what is priced, e.g. 'gpt-4o-mini'")
    price_input_per_mtok: float = Field(ge=0)
    price_output_per_mtok: float = Field(ge=0)
    currency: str = Field("USD", min_length=1, max_length=8)
    source: str = Field(min_length=1, description="where the prices come from")
    trial_fact: int | None = Field(None, description="copied from this trial.verdict's status quo")


class MinutesSaved(_Payload):
    """A workflow owner's estimate of the minutes one run saves (their word, shown as such)."""

    workflow: str = Field(min_length=1)
    minutes: float = Field(gt=0, le=24 * 60)


class FindingOpened(_Payload):
    finding: str = Field(min_length=1)
    target: str = Field(description="baseline, workflow:NAME or prompt:NAME")
    source: str = Field("", description="where it came from: an indicator, a ticket, the pilot")


class FindingClosed(_Payload):
    """A finding ticked off by hand: shown, never counted as fed back."""

    finding: int = Field(ge=1, description="the finding.opened fact's id")
    note: str = ""


class FeedbackApplied(_Payload):
    finding: str
    target: Literal["baseline", "workflow"]
    ref: str = ""
