"""A trial spec: ``trials/NAME.yaml`` in the program folder, the head-to-head play 1 runs.

It names the task (a prompt template and the real inputs it is filled with), the **candidate**
(a local runtime and the inputs of its cost), the **status quo** (another OpenAI-compatible
endpoint with its listed prices, or the current manual process with the minutes per task its
author recorded), the quality checks, and what counts as *meaningful* per dimension. Every error
names the file and the field. Templates render in a Jinja2 sandbox; data paths cannot leave the
program folder.

    task:
      prompt: "Summarise this ticket in one line: {{ text }}"
      inputs: data/tickets.jsonl          # or .csv; one task per line/row
    candidate:
      runtime: local                      # a [runtimes.local] table, or url/family/model inline
      cost: {watts: 65, price_per_kwh: 0.30, hardware_price: 1800,
             lifetime_hours: 26280, utilisation: 0.4}
    status_quo:
      kind: api
      url: https://api.example.com
      model: big-model
      api_key_env: EXAMPLE_API_KEY
      price_input_per_mtok: 0.15
      price_output_per_mtok: 0.60
    checks: [{type: icontains, value: "{{ product }}"}]
    meaningful: {faster: 30, cheaper: 30, more_private: true}
    quality_floor: 5                      # pass-rate points the candidate may trail by
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from inhouse.errors import InvalidInput, validation_problem_list, validation_problems
from inhouse.jsonfiles import load_yaml, read_jsonl_objects, read_text
from inhouse.location import safe_join
from inhouse.program.payloads import MAX_QUALITY_FLOOR, MIN_MEANINGFUL
from inhouse.runtimes.config import RuntimeConfig, named_runtime
from inhouse.trials.cost import ApiPrices, LocalCostInputs, ManualCostInputs

__all__ = [
    "ApiStatusQuo",
    "Candidate",
    "Endpoint",
    "Generation",
    "ManualRecord",
    "ManualStatusQuo",
    "Meaningful",
    "StatusQuoSpec",
    "TaskInput",
    "TaskSpec",
    "TrialSpec",
    "load_trial",
    "read_inputs",
    "read_minutes",
    "render_prompt",
    "resolve_endpoint",
    "trial_path",
]

TRIALS_DIR = "trials"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskSpec(_Strict):
    #: Jinja2 template filled with each input's fields (sandboxed, undefined names are errors)
    prompt: str = Field(min_length=1)
    #: optional system message, also a template
    system: str | None = None
    #: JSONL (one object per line) or CSV (header row) inside the program folder
    inputs: str = Field(min_length=1)


class Endpoint(_Strict):
    """An OpenAI-compatible endpoint: a ``[runtimes.NAME]`` table by name, or inline."""

    runtime: str | None = Field(None, description="name of a [runtimes.NAME] table")
    family: str = "openai"
    url: str | None = None
    model: str | None = None
    api_key_env: str | None = None
    timeout: float = Field(default=120.0, gt=0)

    @model_validator(mode="after")
    def _one_source(self) -> Endpoint:
        if self.runtime is None and self.url is None:
            raise ValueError("name a runtime (`runtime: NAME`) or give its `url` inline")
        if self.runtime is not None and self.url is not None:
            raise ValueError("give either `runtime` or an inline `url`, not both")
        return self


class Candidate(Endpoint):
    """The local runtime under trial and what running it costs."""

    cost: LocalCostInputs


class ApiStatusQuo(Endpoint, ApiPrices):
    """The status quo is another OpenAI-compatible endpoint (e.g. a hosted API)."""

    kind: Literal["api"]


class ManualStatusQuo(ManualCostInputs):
    """The status quo is a person doing the task by hand."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["manual"]
    #: CSV with a ``minutes`` column, one row per task input (same order); an optional
    #: ``output`` column holds what the person produced, so the quality checks can score it
    minutes: str = Field(min_length=1)
    #: without ``output`` in the CSV: the manual process's pass rate (0..1) as stated by the
    #: trial's author; the report labels it stated, not measured
    pass_rate: float | None = Field(None, ge=0, le=1)


StatusQuo = Annotated[ApiStatusQuo | ManualStatusQuo, Field(discriminator="kind")]
#: the status quo as a trial runs it (the union, without pydantic's discriminator)
StatusQuoSpec = ApiStatusQuo | ManualStatusQuo


class Meaningful(_Strict):
    """What counts as a meaningful win, per dimension. Leave a dimension out to not claim it."""

    #: the candidate's end-to-end time per task is at least this many % lower
    faster: float | None = Field(None, gt=0, lt=100)
    #: the candidate's cost per task is at least this many % lower
    cheaper: float | None = Field(None, gt=0, lt=100)
    #: the candidate keeps task data on this machine or network while the status quo does not
    more_private: bool = False

    @field_validator("faster", "cheaper")
    @classmethod
    def _meaningful(cls, value: float | None) -> float | None:
        if value is not None and value < MIN_MEANINGFUL:
            raise ValueError(
                f"{value:g} % is below the {MIN_MEANINGFUL:g} % a trial may call a meaningful "
                'win: a candidate a hair better than the status quo would "prove value" '
                f"there; set at least {MIN_MEANINGFUL:g} (or leave the dimension out to not "
                "claim it)"
            )
        return value

    @property
    def thresholds(self) -> dict[str, float]:
        """The claimed numeric dimensions' thresholds, in %, as a verdict and a rerun record
        them (play 1 and play 2 hold them to :data:`MIN_MEANINGFUL`)."""
        claimed = {"faster": self.faster, "cheaper": self.cheaper}
        return {name: float(value) for name, value in claimed.items() if value is not None}

    @model_validator(mode="after")
    def _something(self) -> Meaningful:
        if self.faster is None and self.cheaper is None and not self.more_private:
            raise ValueError("claim at least one dimension: faster, cheaper or more_private")
        return self


#: the highest ``generation.temperature`` a trial sends: above it, what the same figure does
#: hangs on each server's own sampler (llama.cpp's default top-k and min-p keep a hot answer
#: coherent, a hosted API sampling its whole vocabulary writes gibberish), so one number asks
#: the two sides differently
MAX_TEMPERATURE = 1.0


class Generation(_Strict):
    """How both sides are asked to answer: the same settings go to each (what a trial varies
    between them is only which endpoint and model answers)."""

    temperature: float | None = Field(0.0, ge=0)
    max_tokens: int | None = Field(256, gt=0)
    top_p: float | None = Field(None, gt=0, le=1)
    #: where the answers are a draw (a temperature above 0, or none), ``prove --rerun`` sends a
    #: seed of its own instead (exit rule 33): this one may have been picked for its draw
    seed: int | None = 0
    #: sent to both sides; no server says when one cut an answer, so every status quo answer
    #: that fails counts as maybe cut (:attr:`TrialOutcome.status_quo_cut_short
    #: <inhouse.trials.headtohead.TrialOutcome.status_quo_cut_short>`)
    stop: list[str] | None = None

    @field_validator("temperature")
    @classmethod
    def _same_on_both_sides(cls, value: float | None) -> float | None:
        if value is not None and value > MAX_TEMPERATURE:
            raise ValueError(
                f"{value:g} is above {MAX_TEMPERATURE:g}: there each server's own sampler "
                "decides what the figure does (a local runtime's default top-k and min-p keep "
                "its answers coherent where a hosted API sampling its whole vocabulary writes "
                "gibberish), so the two sides would not be asked the same way; set at most "
                f"{MAX_TEMPERATURE:g} (0 compares the sides' best answers). A verdict proven "
                "on such a spec cannot be rerun for play 2: the changed spec is another trial, "
                "so prove it again (`inhouse prove NAME`) and have that verdict rerun"
            )
        return value


class TrialSpec(_Strict):
    description: str = ""
    task: TaskSpec
    candidate: Candidate
    status_quo: StatusQuo
    #: inhouse.checks specs, run on every output of both sides
    checks: list[dict[str, Any]] = Field(default_factory=list)
    #: a case passes when its weighted check score reaches this (default: every check passes)
    threshold: float | None = Field(None, ge=0, le=1)
    meaningful: Meaningful
    #: pass-rate points (0..MAX_QUALITY_FLOOR) the candidate may trail the status quo by and
    #: still be "at acceptable quality"; a rerun elsewhere is held to it too
    quality_floor: float = Field(5.0, ge=0)
    generation: Generation = Field(default_factory=Generation)
    #: requests sent before measuring (excluded from every figure)
    warmup: int = Field(1, ge=0, le=100)
    #: 1 = one request at a time; more = that many in flight
    concurrency: int = Field(1, ge=1, le=256)
    #: bootstrap resamples and seed for the confidence intervals
    resamples: int = Field(10_000, ge=1_000, le=100_000)
    seed: int = 0

    @field_validator("quality_floor")
    @classmethod
    def _sane_floor(cls, value: float) -> float:
        if value > MAX_QUALITY_FLOOR:
            raise ValueError(
                f"{value:g} points is more than the {MAX_QUALITY_FLOOR:g} a trial may allow: "
                'beyond it, "at acceptable quality" says nothing (and a rerun\'s pass rate '
                "would match almost any claim); set a floor of at most "
                f"{MAX_QUALITY_FLOOR:g}"
            )
        return value

    @model_validator(mode="after")
    def _one_currency(self) -> TrialSpec:
        ours, theirs = self.candidate.cost.currency, self.status_quo.currency
        if ours != theirs:
            raise ValueError(
                f"candidate.cost.currency is {ours} but status_quo.currency is {theirs}: "
                "costs are compared in one currency; convert one side's inputs"
            )
        return self


@dataclass(frozen=True)
class TaskInput:
    """One real task input: its position, an id for the report, and its template fields."""

    index: int
    id: str
    fields: dict[str, Any]


def trial_path(folder: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            f"trial name {name!r}: use letters, digits, '.', '_' or '-' (the file is "
            f"{TRIALS_DIR}/NAME.yaml)"
        )
    return safe_join(folder, f"{TRIALS_DIR}/{name}.yaml")


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"api", "manual"} and text.endswith("status_quo"):
            continue  # the discriminator's branch name is noise to a person
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def load_trial(folder: Path, name: str) -> TrialSpec:
    """Read and validate ``trials/NAME.yaml``; the checks are parsed by :mod:`inhouse.checks`
    when the trial is planned (see :func:`inhouse.trials.plan.plan_trial`)."""
    path = trial_path(folder, name)
    shown = f"{TRIALS_DIR}/{name}.yaml"
    if not path.exists():
        found = sorted(p.stem for p in (folder / TRIALS_DIR).glob("*.yaml"))
        raise InvalidInput(
            f"no trial {shown} in {folder}"
            + (f"; trials here: {', '.join(found)}" if found else "")
            + "; write one (docs/trials.md shows the format)"
        )
    # the loader workflows, tracks and prompts share: the file and line, then the problem,
    # not PyYAML's own text ('in "<unicode string>"' and a caret under an empty line)
    raw = load_yaml(read_text(path, shown=shown), where=shown)
    if not isinstance(raw, dict):
        raise InvalidInput(f"{shown}: expected a mapping of fields at the top level")
    try:
        return TrialSpec.model_validate(raw)
    except ValidationError as err:
        problems = "; ".join(f"{_where(p.loc)}: {p.message}" for p in validation_problem_list(err))
        raise InvalidInput(f"{shown}: {problems}") from None


def resolve_endpoint(
    folder: Path, endpoint: Endpoint, config: dict[str, Any], *, where: str, spec: str = ""
) -> RuntimeConfig:
    """The runtime an endpoint names: a ``[runtimes.NAME]`` table of inhouse.toml, or the
    endpoint's inline fields. ``spec`` is the trial's file as a person names it: the error for
    a missing table is about inhouse.toml, and without it the field read as one of that file's."""
    if endpoint.runtime is not None:
        referrer = f"{where}.runtime" + (f" in {spec}" if spec else "")
        return named_runtime(folder, endpoint.runtime, config, referrer=referrer)
    try:
        return RuntimeConfig(
            name=where,
            family=endpoint.family,
            url=endpoint.url,
            model=endpoint.model,
            api_key_env=endpoint.api_key_env,
            timeout=endpoint.timeout,
        )
    except ValidationError as err:
        raise InvalidInput(validation_problems(err, f"{where}.")) from None


def read_inputs(folder: Path, relative: str, *, where: str = "task.inputs") -> list[TaskInput]:
    """The task's real inputs, in file order. JSONL lines must be objects; CSV needs a header.
    A field named ``id`` names the input in the report (else its line/row number)."""
    try:
        path = safe_join(folder, relative)
    except InvalidInput as err:
        raise InvalidInput(f"{where}: {err}") from None
    suffix = path.suffix.lower()
    if suffix not in {".jsonl", ".ndjson", ".csv"}:
        raise InvalidInput(f"{where}: {relative} must be .jsonl or .csv")
    try:
        if suffix == ".csv":
            reader = csv.DictReader(read_text(path, shown=relative).splitlines())
            if not reader.fieldnames:
                raise InvalidInput(f"{relative}: the CSV needs a header row naming the fields")
            rows = [dict(row) for row in reader]
        else:
            lines = read_jsonl_objects(path, shown=relative, what="a JSON object of fields")
            rows = [row for _, row in lines]
    except InvalidInput as err:
        raise InvalidInput(f"{where}: {err}") from None
    if not rows:
        raise InvalidInput(f"{where}: {relative} holds no inputs")
    return [
        TaskInput(index=i, id=str(row.get("id", i + 1)), fields=row) for i, row in enumerate(rows)
    ]


@dataclass(frozen=True)
class ManualRecord:
    """The manual status quo, task by task: the minutes the trial's author recorded (their
    timings, not measured by inhouse) and, where recorded, output."""

    minutes: list[float]
    outputs: list[str] | None


def read_minutes(folder: Path, relative: str, count: int) -> ManualRecord:
    """Read the manual process's CSV: a ``minutes`` column, typed by the trial's author, with one
    row per task input."""
    where = "status_quo.minutes"
    try:
        text = read_text(safe_join(folder, relative), shown=relative)
    except InvalidInput as err:
        raise InvalidInput(f"{where}: {err}") from None
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "minutes" not in reader.fieldnames:
        raise InvalidInput(f"{where}: {relative} needs a header with a `minutes` column")
    has_output = "output" in reader.fieldnames
    minutes: list[float] = []
    outputs: list[str] = []
    for number, row in enumerate(reader, start=2):
        value = (row.get("minutes") or "").strip()
        try:
            amount = float(value)
        except ValueError:
            raise InvalidInput(
                f"{relative} row {number}: minutes {value!r} is not a number"
            ) from None
        if not amount > 0:
            raise InvalidInput(f"{relative} row {number}: minutes must be above zero")
        minutes.append(amount)
        outputs.append(row.get("output") or "")
    if len(minutes) != count:
        raise InvalidInput(
            f"{where}: {relative} has {len(minutes)} rows of minutes but the task has {count} "
            "inputs; record one row per input, in the same order"
        )
    return ManualRecord(minutes=minutes, outputs=outputs if has_output else None)


_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def render_prompt(template: str, item: TaskInput, *, where: str = "task.prompt") -> str:
    """Fill ``template`` with one input's fields, in Jinja2's sandbox; a name the input lacks is
    an error naming the input and the field."""
    try:
        return _ENV.from_string(template).render(**item.fields)
    except TemplateError as err:
        raise InvalidInput(f"{where} for input {item.id}: {err.message or err}") from None
