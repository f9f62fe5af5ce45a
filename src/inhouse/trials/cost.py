"""What each side of a trial costs per task, from inputs a person can read in the report.

Nothing here is invented and nothing defaults: an API costs its tokens times its listed prices;
a local runtime costs its energy (watts x busy time x price per kWh) plus its hardware
amortisation (price ÷ lifetime hours x busy hours ÷ utilisation: idle hours are paid for by the
busy ones); the manual process costs the person's minutes (as the trial's author recorded them)
times their hourly cost. A cost of
exactly zero is refused unless the person set every cost input of that side to zero, and then
:attr:`CostBreakdown.zero_note` says so for the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict, Field, model_validator

from inhouse import figures

__all__ = [
    "MAX_PER_MTOK",
    "RECORDED",
    "ApiPrices",
    "CostBreakdown",
    "CostData",
    "CostInput",
    "CostInputData",
    "LocalCostInputs",
    "ManualCostInputs",
    "api_cost",
    "local_cost",
    "manual_cost",
]

#: the source of a figure the trial's author typed in (the manual process's minutes): their
#: word about their own timings, never shown as measured
RECORDED = "recorded by the trial's author"
_SECONDS_PER_HOUR = 3600.0
_WH_PER_KWH = 1000.0


def _missing(data: Any, names: Sequence[str], what: str) -> Any:
    """Refuse a cost table that leaves inputs out, naming them all at once (no defaults)."""
    if isinstance(data, dict):
        absent = [name for name in names if data.get(name) is None]
        if absent:
            raise ValueError(
                f"missing {what} cost {figures.unit(len(absent), 'inputs')}: {', '.join(absent)} "
                "(inhouse never invents a cost; set each one, zero included, explicitly)"
            )
    return data


#: the most a typed amount of money (a price per kWh, a machine's price, an hour of a person's
#: time) may be, in any currency: far above any real one, even in currencies of small units, and
#: low enough that the costs figured from it stay finite numbers (``inf`` made every cost inf)
MAX_AMOUNT = 1e12
#: the most power a machine may be said to draw while generating: a megawatt
MAX_WATTS = 1e6
#: the most hours a machine may be written off over: over a century of running day and night,
#: past any real machine's life (a lifetime of 1e300 hours made its price vanish from every
#: cost, so any candidate was "cheaper")
MAX_LIFETIME_HOURS = 1e6
#: the least a machine's lifetime (hours) or its busy share may be: the hardware's price is
#: divided by both, so 1e-300 of either made every cost inf as surely as an inf price did
MIN_DIVISOR = 1e-6


class LocalCostInputs(BaseModel):
    """What running the candidate on this machine costs."""

    model_config = ConfigDict(extra="forbid")

    #: average power draw while generating (W), e.g. from a wall meter or the GPU's board power
    watts: float = Field(ge=0, le=MAX_WATTS, allow_inf_nan=False)
    #: electricity price per kWh, in the trial's currency
    price_per_kwh: float = Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    #: what the machine (or its share of it) cost to buy
    hardware_price: float = Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    #: hours the hardware is written off over (e.g. 3 years = 26 280 h)
    lifetime_hours: float = Field(ge=MIN_DIVISOR, le=MAX_LIFETIME_HOURS, allow_inf_nan=False)
    #: the share of its lifetime the machine does useful work (0..1]; idle hours are charged to
    #: the busy ones
    utilisation: float = Field(ge=MIN_DIVISOR, le=1, allow_inf_nan=False)
    currency: str = Field("USD", min_length=1, max_length=8)

    @model_validator(mode="before")
    @classmethod
    def _all_given(cls, data: Any) -> Any:
        return _missing(
            data,
            ("watts", "price_per_kwh", "hardware_price", "lifetime_hours", "utilisation"),
            "local",
        )

    @model_validator(mode="after")
    def _zero_only_by_choice(self) -> LocalCostInputs:
        energy_zero = self.watts == 0 or self.price_per_kwh == 0
        if energy_zero and self.hardware_price == 0 and not self.all_zero:
            zeros = [
                name
                for name in ("watts", "price_per_kwh", "hardware_price")
                if getattr(self, name) == 0
            ]
            raise ValueError(
                f"these inputs would make the local cost exactly zero: {', '.join(zeros)} = 0. "
                "Give their real values, or set watts, price_per_kwh and hardware_price all to "
                "0 to declare the local cost zero on purpose"
            )
        return self

    @property
    def all_zero(self) -> bool:
        return self.watts == 0 and self.price_per_kwh == 0 and self.hardware_price == 0


#: the most a price per 1M tokens may be, in any currency: far above any API's list price (the
#: dearest are hundreds of dollars, some millions in currencies of small units), and low enough
#: that any count of tokens times it stays a finite number (1e308 made every cost inf)
MAX_PER_MTOK = 1e9


class ApiPrices(BaseModel):
    """An API's listed prices per million tokens (at most :data:`MAX_PER_MTOK`)."""

    model_config = ConfigDict(extra="forbid")

    price_input_per_mtok: float = Field(ge=0, le=MAX_PER_MTOK, allow_inf_nan=False)
    price_output_per_mtok: float = Field(ge=0, le=MAX_PER_MTOK, allow_inf_nan=False)
    currency: str = Field("USD", min_length=1, max_length=8)

    @model_validator(mode="before")
    @classmethod
    def _all_given(cls, data: Any) -> Any:
        return _missing(data, ("price_input_per_mtok", "price_output_per_mtok"), "API")


class ManualCostInputs(BaseModel):
    """What the person doing the task by hand costs."""

    model_config = ConfigDict(extra="forbid")

    #: fully loaded cost of one hour of the person's time
    hourly_cost: float = Field(ge=0, le=MAX_AMOUNT, allow_inf_nan=False)
    currency: str = Field("USD", min_length=1, max_length=8)

    @model_validator(mode="before")
    @classmethod
    def _all_given(cls, data: Any) -> Any:
        return _missing(data, ("hourly_cost",), "manual")


@dataclass(frozen=True)
class CostInput:
    """One input of a cost, as the report lists it."""

    name: str
    value: float
    unit: str
    #: "configured" (the trial spec), "measured" (this run) or :data:`RECORDED`
    source: str


class CostInputData(TypedDict):
    name: str
    value: float
    unit: str
    source: str


class CostData(TypedDict):
    """A :class:`CostBreakdown` as JSON."""

    method: str
    currency: str
    formula: str
    total: float
    per_task_mean: float
    per_task: list[float]
    parts: dict[str, float]
    inputs: list[CostInputData]
    zero_note: str | None


@dataclass(frozen=True)
class CostBreakdown:
    """A side's cost: per task (aligned with the task inputs), the total, and every input."""

    method: str  # "local", "api" or "manual"
    currency: str
    per_task: list[float]
    inputs: list[CostInput]
    #: named parts of the total (energy and hardware for local; input/output tokens for API)
    parts: dict[str, float] = field(default_factory=dict)
    #: set only when the total is zero because the person set every input to zero
    zero_note: str | None = None
    formula: str = ""

    @property
    def total(self) -> float:
        return sum(self.per_task)

    @property
    def mean(self) -> float:
        return self.total / len(self.per_task) if self.per_task else 0.0

    def to_dict(self) -> CostData:
        return {
            "method": self.method,
            "currency": self.currency,
            "formula": self.formula,
            "total": self.total,
            "per_task_mean": self.mean,
            "per_task": list(self.per_task),
            "parts": dict(self.parts),
            "inputs": [
                {"name": i.name, "value": i.value, "unit": i.unit, "source": i.source}
                for i in self.inputs
            ],
            "zero_note": self.zero_note,
        }


def local_cost(
    inputs: LocalCostInputs, busy_seconds: Sequence[float], *, wall_seconds: float | None = None
) -> CostBreakdown:
    """The candidate's cost per task from the seconds the machine was busy with each task.

    ``busy_seconds`` are the tasks' end-to-end times. When requests overlapped (concurrency >
    1), ``wall_seconds`` — the measured span the machine was busy with the whole run — is what
    the machine was really occupied for; it is shared out over the tasks in proportion to their
    own times, so the per-task costs add up to the run's real busy time.
    """
    busy = [max(0.0, float(s)) for s in busy_seconds]
    summed = sum(busy)
    span = summed if wall_seconds is None else max(0.0, float(wall_seconds))
    share = span / summed if summed > 0 else 0.0
    seconds = [s * share for s in busy]
    energy_rate = inputs.watts / _WH_PER_KWH * inputs.price_per_kwh / _SECONDS_PER_HOUR
    hardware_rate = (
        inputs.hardware_price / inputs.lifetime_hours / inputs.utilisation / _SECONDS_PER_HOUR
    )
    energy = [s * energy_rate for s in seconds]
    hardware = [s * hardware_rate for s in seconds]
    per_task = [e + h for e, h in zip(energy, hardware, strict=True)]
    note = None
    if inputs.all_zero:
        note = (
            "Every local cost input (watts, price per kWh, hardware price) was set to zero in "
            "the trial spec, so the local cost shows as zero by that choice; it was not measured."
        )
    return CostBreakdown(
        method="local",
        currency=inputs.currency,
        per_task=per_task,
        parts={"energy": sum(energy), "hardware": sum(hardware)},
        inputs=[
            CostInput("watts", inputs.watts, "W", "configured"),
            CostInput(
                "price per kWh", inputs.price_per_kwh, f"{inputs.currency}/kWh", "configured"
            ),
            CostInput("hardware price", inputs.hardware_price, inputs.currency, "configured"),
            CostInput("lifetime", inputs.lifetime_hours, "h", "configured"),
            CostInput(
                "utilisation assumption", inputs.utilisation, "share of lifetime busy", "configured"
            ),
            CostInput("busy time (all tasks)", sum(seconds), "s", "measured"),
        ],
        zero_note=note,
        formula=(
            "per task: busy s * (watts / 1000 * price per kWh / 3600) "
            "+ busy s * (hardware price / lifetime h / utilisation / 3600)"
        ),
    )


def api_cost(
    prices: ApiPrices,
    input_tokens: Sequence[int],
    output_tokens: Sequence[int],
    *,
    estimated: int = 0,
) -> CostBreakdown:
    """An API's cost per task: its tokens times its listed prices. ``estimated`` counts the
    tasks whose token counts the server did not report (the report says so)."""
    ins = [prices.price_input_per_mtok * t / 1e6 for t in input_tokens]
    outs = [prices.price_output_per_mtok * t / 1e6 for t in output_tokens]
    note = None
    if prices.price_input_per_mtok == 0 and prices.price_output_per_mtok == 0:
        note = (
            "Both listed token prices were set to zero in the trial spec, so the API cost shows "
            "as zero by that choice."
        )
    source = (
        "measured" if not estimated else f"measured ({figures.count(estimated, 'tasks')} estimated)"
    )
    return CostBreakdown(
        method="api",
        currency=prices.currency,
        per_task=[i + o for i, o in zip(ins, outs, strict=True)],
        parts={"input tokens": sum(ins), "output tokens": sum(outs)},
        inputs=[
            CostInput(
                "price per 1M input tokens",
                prices.price_input_per_mtok,
                f"{prices.currency}/Mtok",
                "configured",
            ),
            CostInput(
                "price per 1M output tokens",
                prices.price_output_per_mtok,
                f"{prices.currency}/Mtok",
                "configured",
            ),
            CostInput("input tokens (all tasks)", float(sum(input_tokens)), "tokens", source),
            CostInput("output tokens (all tasks)", float(sum(output_tokens)), "tokens", source),
        ],
        zero_note=note,
        formula="per task: input tokens * input price / 1e6 + output tokens * output price / 1e6",
    )


def manual_cost(inputs: ManualCostInputs, minutes: Sequence[float]) -> CostBreakdown:
    """The manual process's cost per task: the minutes the trial's author recorded times the
    person's hourly cost."""
    per_task = [m / 60.0 * inputs.hourly_cost for m in minutes]
    note = None
    if inputs.hourly_cost == 0:
        note = (
            "The person's hourly cost was set to zero in the trial spec, so the manual cost "
            "shows as zero by that choice."
        )
    return CostBreakdown(
        method="manual",
        currency=inputs.currency,
        per_task=per_task,
        inputs=[
            CostInput("hourly cost", inputs.hourly_cost, f"{inputs.currency}/h", "configured"),
            CostInput("minutes (all tasks)", float(sum(minutes)), "min", RECORDED),
        ],
        zero_note=note,
        formula="per task: minutes / 60 * hourly cost",
    )
