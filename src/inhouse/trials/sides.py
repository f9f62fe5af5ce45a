"""The two sides of a head-to-head. A :class:`Side` owns how it answers the task inputs, what
that costs, where the task data went, how long each answer took and how the report names it; the
trial runs both sides the same way and never asks which kind a side is.

* :class:`CandidateSide` — the local runtime under trial (this module);
* the status quo (:mod:`inhouse.trials.statusquo`) — another OpenAI-compatible endpoint, or the
  manual process whose minutes the trial's author recorded.

Sides that are endpoints answer through the load generator (streamed requests, warm-up excluded,
one request per input); their warm-up requests carried task data too, so they count where data
went.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypedDict

from inhouse import figures
from inhouse.errors import InvalidInput, RuntimeUnavailable
from inhouse.runtimes import RuntimeConfig, open_runtime
from inhouse.runtimes.protocol import Runtime
from inhouse.runtimes.testmodel import TEST_MODEL_LABEL, serves_test_model
from inhouse.trials.cost import CostBreakdown, local_cost
from inhouse.trials.load import LoadResult, PhaseProgress, Progress, Prompt, run_load
from inhouse.trials.metrics import Sample, Stats
from inhouse.trials.plan import TrialPlan
from inhouse.trials.privacy import Send, SidePrivacy, TextScanner, account
from inhouse.trials.spec import Endpoint, resolve_endpoint
from inhouse.trials.target import Target

__all__ = [
    "MEASURED",
    "Answers",
    "CandidateSection",
    "CandidateSide",
    "EndpointSection",
    "EndpointSide",
    "InventorySection",
    "Side",
    "TimingRows",
    "aligned",
]

#: where an endpoint side's times come from
MEASURED = "measured by inhouse prove"
#: a side's time-per-task figures for the report: (metric, its statistics)
TimingRows = list[tuple[str, Stats | None]]


@dataclass
class Answers:
    """One side's answers, aligned with the task inputs."""

    seconds: list[float | None]  # per input; None where the request failed
    ok: list[bool]
    errors: list[str | None]
    outputs: list[str | None]  # None: no output to check (failed, or manual without outputs)
    load: LoadResult | None = None
    target: Target | None = None
    sends: list[Send] = field(default_factory=list)
    #: per input, why the side's server says its answer ended (``length``: cut at the trial's
    #: ``generation.max_tokens``); empty where no server answered (the manual process)
    finish: list[str | None] = field(default_factory=list)
    #: the requests carried the trial's stop sequences (``generation.stop``)
    stop_sent: bool = False

    def cut_short(self, index: int) -> bool:
        """Whether the answer to input ``index`` was, or may have been, cut short: its server
        says it reached ``max_tokens``, or the request carried stop sequences. A server strips
        the stop sequence it met and says ``stop``, as for an answer that ended on its own, so
        no answer to such a request can be told whole; and a stop sequence cuts each side where
        *its* words hold it (a wordier status quo's "printer" cut down to "The "), not the
        same way on both."""
        if index >= len(self.finish):
            return False  # no server answered: nothing was cut
        return self.finish[index] == "length" or (self.stop_sent and self.ok[index])


class Side(ABC):
    """One side of a trial. Built from a :class:`TrialPlan` (finding mistakes in the trial's
    files before anything runs), then connected, run, and accounted for."""

    #: how the report names the side
    label: ClassVar[str]
    #: the kind of side, as the report's data names it
    kind: ClassVar[str]
    #: where its times per task come from, said wherever they are shown
    timings_source: ClassVar[str] = MEASURED

    @abstractmethod
    async def connect(self) -> None:
        """Make sure this side can answer. Every side connects before any side is sent a task,
        so a trial fails before it starts, not halfway through."""

    @abstractmethod
    async def run(self, progress: PhaseProgress | None = None) -> Answers:
        """Answer every task input."""

    @property
    @abstractmethod
    def checks_outputs(self) -> bool:
        """Whether this side's outputs go through the quality checks (else its pass rate is
        stated, not measured)."""

    @abstractmethod
    def cost(self, answers: Answers) -> CostBreakdown:
        """What each answer cost, aligned with the task inputs."""

    @abstractmethod
    def privacy(self, answers: Answers, scanner: TextScanner) -> SidePrivacy:
        """Where the task data went to get these answers."""

    @abstractmethod
    def timings(self, answers: Answers) -> TimingRows:
        """The time-per-task statistics the report shows for this side."""

    @abstractmethod
    def describe(self, answers: Answers) -> Mapping[str, object]:
        """The report's section naming this side."""

    def caveats(self) -> list[str]:
        """What anyone reading this side's figures must be told (plain sentences)."""
        return []


class EndpointSection(TypedDict):
    family: str
    url: str | None
    model: str | None
    host: str | None


class InventorySection(TypedDict):
    runtime_version: str | None
    model: str
    digest: str | None
    digest_source: str | None


class CandidateSection(EndpointSection):
    #: the weights that were measured, as the runtime's inventory names them
    inventory: InventorySection | None
    #: the candidate was inhouse's own test model (random weights): the trial proves nothing
    test_model: bool


class EndpointSide(Side):
    """A side that is an OpenAI-compatible endpoint, reached through inhouse's runtimes."""

    #: the trial spec's field naming this endpoint
    where: ClassVar[str]

    def __init__(self, plan: TrialPlan, endpoint: Endpoint) -> None:
        self.plan = plan
        self.endpoint = endpoint
        self.config: RuntimeConfig = resolve_endpoint(
            plan.folder, endpoint, plan.config, where=self.where, spec=plan.shown
        )
        self._target: Target | None = None

    @property
    def target(self) -> Target:
        if self._target is None:
            raise RuntimeError(f"the {self.label} has not been connected")
        return self._target

    @property
    def checks_outputs(self) -> bool:
        return True  # a failed request is a failed case

    async def connect(self) -> None:
        """The load generator's target: the runtime's URL (the embedded runtime's from its
        recorded state), its model (the one it serves, when the spec names none), API key."""
        config, where = self.config, self.where
        if config.api_key_env and not config.api_key():
            raise InvalidInput(
                f"{where}.api_key_env: the environment variable {config.api_key_env} is not set"
            )
        async with open_runtime(config, program=self.plan.folder) as runtime:
            health = await runtime.health()
            if not health.ok:
                raise RuntimeUnavailable(f"{where} is not answering: {health.detail}")
            model = config.model
            if model is None:
                served = [m.id for m in await runtime.models()]
                if len(served) != 1:
                    raise InvalidInput(
                        f"{where}.model: name the model to use; {runtime.url} serves "
                        f"{', '.join(served) if served else 'none'}"
                    )
                model = served[0]
            await self._inspect(runtime, model)
            url = runtime.url
            look_behind = runtime.capabilities.served_by_inhouse
        generation = self.plan.generation
        max_tokens = generation.pop("max_tokens", None)
        self._target = Target(
            url=url,
            model=model,
            max_tokens=max_tokens,
            api_key=config.api_key(),
            timeout=config.timeout,
            extra_body=generation,
            look_behind=look_behind,
        )

    @abstractmethod
    async def _inspect(self, runtime: Runtime, model: str) -> None:
        """Learn what else this side must know of its runtime while it is open."""

    async def run(self, progress: PhaseProgress | None = None) -> Answers:
        plan, target, label = self.plan, self.target, self.label
        prompts, texts, warmup = plan.prompts, plan.texts, plan.spec.warmup
        tick: Progress | None = None
        if progress is not None:
            progress(label, 0, len(prompts))

            def tick(done: int, total: int) -> None:
                progress(label, done, total)

        typed: list[Prompt] = list(prompts)
        result = await run_load(target, typed, plan.mode, warmup=warmup, progress=tick)
        samples = aligned(result, len(prompts))
        # the warm-up requests carried task data too; each send says where its connection went
        sends = [
            Send(host=s.host or target.host, bytes_sent=s.bytes_sent, text=texts[s.index],
                 address=s.peer)
            for s in [*result.warmup_samples, *samples]
        ]  # fmt: skip
        return Answers(
            seconds=[s.e2e if s.ok else None for s in samples],
            ok=[s.ok for s in samples],
            errors=[s.error for s in samples],
            outputs=[s.output_text if s.ok else None for s in samples],
            load=result,
            target=target,
            sends=sends,
            finish=[s.finish_reason if s.ok else None for s in samples],
            stop_sent=bool(target.extra_body.get("stop")),
        )

    def privacy(self, answers: Answers, scanner: TextScanner) -> SidePrivacy:
        return account(self.label, answers.sends, scanner)

    def timings(self, answers: Answers) -> TimingRows:
        summary = _loaded(answers).summary
        return [("E2E", summary.e2e), ("TTFT", summary.ttft), ("TPOT", summary.tpot)]

    def endpoint_section(self, answers: Answers) -> EndpointSection:
        target, spec = answers.target, self.endpoint
        return {
            "family": spec.family if spec.runtime is None else f"runtime {spec.runtime}",
            "url": target.base_url if target else spec.url,
            "model": target.model if target else spec.model,
            "host": target.host if target else None,
        }


class CandidateSide(EndpointSide):
    """The local runtime under trial: it costs its machine's energy and hardware for the time
    it was busy, and its inventory names the weights that were measured."""

    label = "candidate"
    kind = "local"
    where = "candidate"

    def __init__(self, plan: TrialPlan) -> None:
        super().__init__(plan, plan.spec.candidate)
        self.inventory: InventorySection | None = None
        self.test_model = False

    async def _inspect(self, runtime: Runtime, model: str) -> None:
        listing = await runtime.inventory()
        info = next((m for m in listing.models if m.id == model), None)
        self.inventory = {
            "runtime_version": listing.version,
            "model": model,
            "digest": info.digest if info else None,
            "digest_source": str(info.digest_source) if info and info.digest_source else None,
        }
        # the GGUF's own content where the runtime could read the file, else what the server
        # says of its weights, else the served name
        self.test_model = serves_test_model(info, model)

    def cost(self, answers: Answers) -> CostBreakdown:
        load = _loaded(answers)
        spec = self.plan.spec
        return local_cost(
            spec.candidate.cost,
            [_busy(s) for s in aligned(load, len(self.plan.inputs))],
            wall_seconds=load.duration if spec.concurrency > 1 else None,
        )

    def describe(self, answers: Answers) -> CandidateSection:
        return {
            **self.endpoint_section(answers),
            "inventory": self.inventory,
            "test_model": self.test_model,
        }

    def caveats(self) -> list[str]:
        said: list[str] = []
        if self.test_model:
            said.append(f"candidate: {TEST_MODEL_LABEL} — this trial proves nothing about value")
        if self.inventory is not None and not self.inventory["digest"]:
            # said here, at play 1: play 2 refuses a rerun of such a verdict, after the
            # colleague's whole rerun, and the owner would only learn it then
            said.append(
                f"candidate: the runtime named no weights for {self.inventory['model']} (no "
                "digest), so play 2 cannot show a colleague's rerun ran the same model and "
                "counts none: give the trial a runtime that names its weights (the embedded "
                "runtime, Ollama, or a server given the file's absolute path: docs/runtimes.md; "
                "e.g. `runtime: local` naming a [runtimes.local] table) and prove it again"
            )
        return said


def aligned(result: LoadResult, count: int) -> list[Sample]:
    """The run's samples in input order (one request per input)."""
    by_index = {s.index: s for s in result.samples}
    missing = [i for i in range(count) if i not in by_index]
    if missing:
        raise InvalidInput(
            f"the load run has no answer for {figures.unit(len(missing), 'inputs')} {missing[:5]}"
        )
    return [by_index[i] for i in range(count)]


def _loaded(answers: Answers) -> LoadResult:
    if answers.load is None:
        raise RuntimeError("an endpoint side's answers carry its load run")
    return answers.load


def _busy(sample: Sample) -> float:
    """Seconds the machine worked on one request (a failed one occupied it too)."""
    if sample.e2e is not None:
        return sample.e2e
    return max(0.0, sample.end - sample.start)
