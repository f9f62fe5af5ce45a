"""The workflow spec: ``workflows/NAME.yaml``, validated, with errors that name the file and
the field.

    name: ticket-summary
    description: Summarise a support ticket for the weekly report
    owner: omar                 # the person who does the task most (the workflow's author)
    frequency: daily
    model: inhouse-test-model   # a blessed model of the current lock
    parameters: {temperature: 0.2, max_tokens: 120, seed: 7}
    variables:
      ticket: {type: string, description: the ticket's text}
      priority: {type: integer, default: 3}
    prompt:
      system: You summarise support tickets in two sentences.
      user: "Priority {{ priority }}. Ticket: {{ ticket }}"
    repeat: 3                   # run every test case 3 times …
    min-pass: 2                 # … and pass it when 2 of them pass
    pass-rate: 1.0              # share of test cases that must pass (default: all)
    tests:
      - name: short-ticket
        vars: {ticket: "Printer on floor 2 is jammed again."}
        threshold: 0.75         # optional: weighted score that passes the case
        checks:
          - {type: length, max: 400}
          - {type: not-icontains, value: "as an ai"}

The content hash (``sha256:…`` of the spec's data, not its bytes: comments and layout do not
make a new version) names the version that test runs are recorded against.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.checks import CheckSpec, parse_checks
from inhouse.errors import InhouseError, InvalidInput, first_validation_problem
from inhouse.jsonfiles import load_yaml
from inhouse.location import safe_join
from inhouse.program.events import canonical_json
from inhouse.workflows.template import (
    VariableType,
    bind,
    coerce,
    render,
    short_variables,
    template_names,
)

__all__ = [
    "WORKFLOWS_DIR",
    "Case",
    "Parameters",
    "Prompt",
    "Variable",
    "Workflow",
    "WorkflowSpec",
    "list_workflows",
    "load_workflow",
    "parse_workflow",
    "workflow_path",
    "workflow_summaries",
]

WORKFLOWS_DIR = "workflows"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _kebab(name: str) -> str:
    return name.replace("_", "-")


class _Spec(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, alias_generator=_kebab, populate_by_name=True
    )


class Variable(_Spec):
    type: VariableType = "string"
    description: str = ""
    #: a variable with a default may be left out
    default: Any = None


class Prompt(_Spec):
    system: str = ""
    user: str = Field(min_length=1)


class Parameters(_Spec):
    """Generation parameters, as OpenAI's API names them (``top_k`` and ``repeat_penalty``
    are llama.cpp's and Ollama's)."""

    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    repeat_penalty: float | None = Field(default=None, gt=0)

    def request_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CaseSpec(_Spec):
    name: str | None = None
    description: str = ""
    vars: dict[str, Any] = Field(default_factory=dict)
    checks: list[Any] = Field(min_length=1)
    threshold: float | None = Field(default=None, ge=0, le=1)
    repeat: int | None = Field(default=None, ge=1, le=100)
    min_pass: int | None = Field(default=None, ge=1)


class WorkflowSpec(_Spec):
    name: str
    description: str = ""
    owner: str = Field(min_length=1)
    frequency: str = Field(min_length=1)
    model: str = Field(min_length=1)
    #: a blessed model that grades llm-rubric checks (default: ``model``)
    judge: str | None = None
    parameters: Parameters = Field(default_factory=Parameters)
    variables: dict[str, Variable] = Field(default_factory=dict)
    prompt: Prompt
    repeat: int = Field(default=1, ge=1, le=100)
    min_pass: int | None = Field(default=None, ge=1)
    threshold: float | None = Field(default=None, ge=0, le=1)
    pass_rate: float = Field(default=1.0, gt=0, le=1)
    tests: list[CaseSpec] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                "must be lower-case letters, digits, '-' or '_' (it names the file too)"
            )
        return value

    @field_validator("variables", mode="before")
    @classmethod
    def _short_variables(cls, value: Any) -> Any:
        return short_variables(value)


@dataclass(frozen=True)
class Case:
    """A test case with the workflow's defaults applied and its checks parsed."""

    name: str
    description: str
    vars: dict[str, Any]
    checks: list[CheckSpec]
    threshold: float | None
    repeat: int
    min_pass: int


@dataclass(frozen=True)
class Workflow:
    """A loaded, validated workflow."""

    spec: WorkflowSpec
    #: how errors and reports name the file (``workflows/NAME.yaml``)
    where: str
    content_hash: str
    cases: list[Case]

    @property
    def name(self) -> str:
        return self.spec.name

    def bind(
        self, given: Mapping[str, Any], *, where: str = "vars", from_text: bool = False
    ) -> dict[str, Any]:
        """``given`` checked against the declared variables (missing, extra, type) with
        defaults filled in."""
        return bind(
            self.spec.variables,
            given,
            where=where,
            subject=f"workflow {self.name}",
            declared_in=self.where,
            hint=lambda name: f"; give it with --var {name}=…",
            from_text=from_text,
        )

    def messages(self, values: Mapping[str, Any]) -> list[dict[str, str]]:
        """The chat messages for ``values`` (already bound)."""
        prompt = self.spec.prompt
        rendered = []
        if prompt.system:
            system = render(prompt.system, values, where=f"{self.where}: prompt.system")
            rendered.append({"role": "system", "content": system})
        user = render(prompt.user, values, where=f"{self.where}: prompt.user")
        rendered.append({"role": "user", "content": user})
        return rendered


def _field(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def content_hash(data: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical_json(data).encode()).hexdigest()


def parse_workflow(text: str, *, where: str, expected_name: str | None = None) -> Workflow:
    """Validate a spec's YAML text; ``where`` names the file in every error."""
    data = load_yaml(text, where=where)
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a workflow spec is a YAML mapping (name, owner, prompt, …)")
    try:
        spec = WorkflowSpec.model_validate(data)
    except ValidationError as err:
        first = first_validation_problem(err)
        field = _field(tuple(_kebab(p) if isinstance(p, str) else p for p in first.loc))
        message = first.message
        if first.kind == "extra_forbidden":
            message = "not a field of a workflow spec here (a typo?)"
        elif first.kind == "missing":
            message = "missing (required)"
        more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise InvalidInput(f"{where}: {field}: {message}{more}") from None
    if expected_name is not None and spec.name != expected_name:
        raise InvalidInput(
            f"{where}: name: {spec.name!r} differs from the file's name {expected_name!r}"
        )
    _check_variables(spec, where)
    workflow = Workflow(spec, where, content_hash(data), [])
    cases = [_case(workflow, index, test) for index, test in enumerate(spec.tests)]
    names = [case.name for case in cases]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"{where}: tests: the name {twice[0]!r} is used twice")
    return Workflow(spec, where, workflow.content_hash, cases)


def _check_variables(spec: WorkflowSpec, where: str) -> None:
    for name, variable in spec.variables.items():
        if not _VARIABLE.match(name):
            raise InvalidInput(
                f"{where}: variables.{name}: a variable name is letters, digits and '_', "
                "starting with a letter"
            )
        if variable.default is not None:
            coerce(variable.type, variable.default, where=f"{where}: variables.{name}.default")
    declared = set(spec.variables)
    for field in ("system", "user"):
        source = getattr(spec.prompt, field)
        used = template_names(source, where=f"{where}: prompt.{field}")
        unknown = sorted(used - declared)
        if unknown:
            raise InvalidInput(
                f"{where}: prompt.{field}: uses {{{{ {unknown[0]} }}}}, which is not declared "
                f"under variables (declared: {', '.join(sorted(declared)) or 'none'})"
            )


def _case(workflow: Workflow, index: int, test: CaseSpec) -> Case:
    spec, where = workflow.spec, f"{workflow.where}: tests[{index}]"
    values = workflow.bind(test.vars, where=f"{where}.vars")
    repeat = test.repeat or spec.repeat
    min_pass = test.min_pass or (spec.min_pass if test.repeat is None else None) or repeat
    if min_pass > repeat:
        field = "min-pass" if test.min_pass else "repeat"
        raise InvalidInput(f"{where}.{field}: min-pass ({min_pass}) is more than repeat ({repeat})")
    return Case(
        name=test.name or f"case-{index + 1}",
        description=test.description,
        vars=values,
        checks=parse_checks(test.checks, where=f"{where}.checks"),
        threshold=test.threshold if test.threshold is not None else spec.threshold,
        repeat=repeat,
        min_pass=min_pass,
    )


def workflow_path(folder: Path, name: str) -> Path:
    """``workflows/NAME.yaml`` in the program folder (a name cannot point elsewhere)."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a workflow name: lower-case letters, digits, '-' or '_'"
        )
    return safe_join(folder, f"{WORKFLOWS_DIR}/{name}.yaml")


def load_workflow(folder: Path, name: str) -> Workflow:
    """The workflow ``name`` of the program at ``folder``, validated."""
    path = workflow_path(folder, name)
    where = f"{WORKFLOWS_DIR}/{name}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        known = ", ".join(list_workflows(folder)) or "none yet"
        raise InvalidInput(
            f"no workflow {name!r}: {where} does not exist (workflows: {known}); write one, or "
            "import a promptfoo config with `inhouse workflow import-promptfoo`"
        ) from None
    return parse_workflow(text, where=where, expected_name=name)


def list_workflows(folder: Path) -> list[str]:
    """The names of the program's workflow specs."""
    found = folder / WORKFLOWS_DIR
    if not found.is_dir():
        return []
    return sorted(path.stem for path in found.glob("*.yaml") if _NAME.match(path.stem))


def workflow_summaries(folder: Path) -> list[dict[str, Any]]:
    """``workflow list``: each spec's name, owner, frequency, model, test count and version,
    or its name and the error for a spec that does not load (one bad file hides no other)."""
    rows: list[dict[str, Any]] = []
    for name in list_workflows(folder):
        try:
            flow = load_workflow(folder, name)
        except InhouseError as err:
            rows.append({"name": name, "error": str(err)})
            continue
        spec = flow.spec
        rows.append(
            {"name": name, "owner": spec.owner, "frequency": spec.frequency, "model": spec.model,
             "tests": len(flow.cases), "content_hash": flow.content_hash}
        )  # fmt: skip
    return rows
