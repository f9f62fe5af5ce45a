"""The status quo a trial's candidate is measured against, one strategy per kind of status quo
(the spec's ``status_quo.kind``); each is a :class:`~inhouse.trials.sides.Side`:

* :class:`ApiStatusQuoSide` — another OpenAI-compatible endpoint (e.g. a hosted API), answering
  through the load generator like the candidate and costing its tokens at its listed prices;
* :class:`ManualStatusQuoSide` — a person doing the task by hand: the minutes per task the
  trial's author recorded in a CSV (their timings, never shown as measured), costed at the
  person's hourly rate, with the outputs they wrote where the CSV has them. It sends nothing
  over the network.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Literal, TypedDict

from inhouse.errors import InvalidInput
from inhouse.runtimes.protocol import Runtime
from inhouse.trials.cost import RECORDED, CostBreakdown, api_cost, manual_cost
from inhouse.trials.load import PhaseProgress
from inhouse.trials.metrics import Stats
from inhouse.trials.plan import TrialPlan
from inhouse.trials.privacy import SidePrivacy, TextScanner, manual_side
from inhouse.trials.sides import (
    MEASURED,
    Answers,
    EndpointSection,
    EndpointSide,
    Side,
    TimingRows,
    aligned,
)
from inhouse.trials.spec import ApiStatusQuo, ManualStatusQuo, read_minutes

__all__ = [
    "ApiStatusQuoSection",
    "ApiStatusQuoSide",
    "ManualStatusQuoSection",
    "ManualStatusQuoSide",
    "StatusQuoSection",
    "StatusQuoSide",
    "status_quo_side",
]


class ApiStatusQuoSection(EndpointSection):
    kind: Literal["api"]
    #: where the status quo's times per task come from
    timings: str


class ManualStatusQuoSection(TypedDict):
    kind: Literal["manual"]
    #: the CSV of minutes (and outputs) in the program folder
    minutes: str
    timings: str


StatusQuoSection = ApiStatusQuoSection | ManualStatusQuoSection


class StatusQuoSide(Side):
    """What a trial's status quo is, beyond being a side."""

    label = "status quo"

    @property
    def stated_pass_rate(self) -> float | None:
        """The pass rate the trial's author states, where the outputs are not checked."""
        return None

    @abstractmethod
    def describe(self, answers: Answers) -> StatusQuoSection: ...


def status_quo_side(plan: TrialPlan) -> StatusQuoSide:
    """The strategy for the trial's status quo, by its ``kind``."""
    spec = plan.spec.status_quo
    if spec.kind == "manual":
        return ManualStatusQuoSide(plan, spec)
    return ApiStatusQuoSide(plan, spec)


class ApiStatusQuoSide(EndpointSide, StatusQuoSide):
    kind = "api"
    where = "status_quo"

    def __init__(self, plan: TrialPlan, spec: ApiStatusQuo) -> None:
        super().__init__(plan, spec)
        self.spec = spec

    async def _inspect(self, runtime: Runtime, model: str) -> None:
        return None  # nothing more to know of it: its prices are in the spec

    def cost(self, answers: Answers) -> CostBreakdown:
        if answers.load is None:
            raise RuntimeError("an API side's answers carry its load run")
        samples = aligned(answers.load, len(self.plan.inputs))
        estimated = sum(1 for s in samples if s.input_tokens_estimated or s.output_tokens_estimated)
        return api_cost(
            self.spec,
            [s.input_tokens or 0 for s in samples],
            [s.output_tokens for s in samples],
            estimated=estimated,
        )

    def describe(self, answers: Answers) -> ApiStatusQuoSection:
        return {"kind": "api", **self.endpoint_section(answers), "timings": MEASURED}


class ManualStatusQuoSide(StatusQuoSide):
    kind = "manual"
    timings_source = RECORDED

    def __init__(self, plan: TrialPlan, spec: ManualStatusQuo) -> None:
        self.plan = plan
        self.spec = spec
        self.record = read_minutes(plan.folder, spec.minutes, len(plan.inputs))
        if self.record.outputs is None and spec.pass_rate is None:
            raise InvalidInput(
                f"{plan.shown}: status_quo: {spec.minutes} has no `output` column, so the manual "
                "process's quality cannot be checked; add the outputs, or state its "
                "`pass_rate` (shown in the report as stated, not measured)"
            )

    async def connect(self) -> None:
        return None  # a person, not a server: nothing to reach

    async def run(self, progress: PhaseProgress | None = None) -> Answers:
        count = len(self.plan.inputs)
        outputs = self.record.outputs
        return Answers(
            seconds=[m * 60.0 for m in self.record.minutes],
            ok=[True] * count,
            errors=[None] * count,
            outputs=list(outputs) if outputs is not None else [None] * count,
        )

    @property
    def checks_outputs(self) -> bool:
        return self.record.outputs is not None

    @property
    def stated_pass_rate(self) -> float | None:
        return self.spec.pass_rate

    def cost(self, answers: Answers) -> CostBreakdown:
        return manual_cost(self.spec, self.record.minutes)

    def privacy(self, answers: Answers, scanner: TextScanner) -> SidePrivacy:
        return manual_side()

    def timings(self, answers: Answers) -> TimingRows:
        values = [s for s in answers.seconds if s is not None]
        return [(f"time per task (minutes {RECORDED})", Stats.of(values))]

    def describe(self, answers: Answers) -> ManualStatusQuoSection:
        return {"kind": "manual", "minutes": self.spec.minutes, "timings": RECORDED}

    def caveats(self) -> list[str]:
        return [
            f"status quo: the minutes per task in {self.spec.minutes} were {RECORDED} — "
            "their timings, not measured by inhouse"
        ]
