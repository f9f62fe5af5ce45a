"""The workflow spec: ``workflows/NAME.yaml``, validated, with errors that name the file and
the field.

    name: ticket-summary
    description: Summarise a support ticket for the weekly report
    owner: omar                 # the person who does the task most (the workflow's author)
    frequency: daily
    model: inhouse-test-model   # blessed by the current lock; for play 3, weights a proven
                                #   trial names and someone else reproduced (workflow-pinned)
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

Several **prompt variants** replace ``prompt:`` with ``prompts:`` (each with a ``label``) and
name the one people use with ``use:``; ``workflow test`` runs every case against each variant
and reports them side by side, and play 3 judges the variant in use::

    prompts:
      - {label: short, user: "Summarise: {{ ticket }}"}
      - {label: careful, system: You are careful., user: "Summarise in two sentences: {{ ticket }}"}
    use: short

A case without checks is a **comparison case**: its outputs are shown side by side, and it
counts neither as a pass nor as a fail. ``tests:`` (or an entry of it) may name **test files**
inside the program folder — ``file://tests/*.csv``, ``.jsonl``, ``.json``, ``.yaml`` — in
promptfoo's format (:mod:`inhouse.workflows.pfformat`); a case's ``vars:`` may name a YAML/JSON
file, and a var ``file://notes.txt`` reads the file. JavaScript (``javascript`` checks, a
case's or a check's ``transform``) may be ``file://checks.js[:function]``. ``cost:`` gives the
trial's local cost model (watts, price per kWh, hardware price, lifetime hours, utilisation),
from which each output's cost is measured; a ``cost`` check needs it.

The content hash (``sha256:…`` of the spec's data, not its bytes: comments and layout do not
make a new version, **and of every file it reads**: a changed test file is a new version)
names the version that test runs are recorded against.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from inhouse.checks import CheckSpec, parse_checks
from inhouse.errors import InhouseError, InvalidInput, first_validation_problem
from inhouse.jsonfiles import load_yaml, read_text
from inhouse.location import safe_join
from inhouse.program.events import canonical_json
from inhouse.program.feedback import run_hash, template_key
from inhouse.trials.cost import LocalCostInputs
from inhouse.workflows.pfformat import (
    Defaults,
    Files,
    Row,
    convert_tests,
    is_reference,
    read_test_file,
)
from inhouse.workflows.template import (
    VariableType,
    bind,
    coerce,
    render,
    short_variables,
    template_names,
)

__all__ = [
    "DEFAULT_VARIANT",
    "WORKFLOWS_DIR",
    "Case",
    "Parameters",
    "Prompt",
    "Variable",
    "Variant",
    "Workflow",
    "WorkflowSpec",
    "best_of",
    "best_of_cases",
    "list_workflows",
    "load_workflow",
    "parse_workflow",
    "workflow_path",
    "workflow_summaries",
]

WORKFLOWS_DIR = "workflows"
#: the label of a workflow's one prompt (``prompt:``)
DEFAULT_VARIANT = "default"
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


class Message(_Spec):
    role: str = Field(pattern=r"^(system|user|assistant)$")
    content: str


class Prompt(_Spec):
    """A system and a user template, or a whole conversation (``messages``)."""

    system: str = ""
    user: str = ""
    messages: list[Message] | None = None

    @model_validator(mode="after")
    def _something_to_send(self) -> Prompt:
        if self.messages is not None:
            if self.system or self.user:
                raise ValueError("give messages, or system and user, not both")
            if not self.messages:
                raise ValueError("messages: at least one message")
        elif not self.user:
            raise ValueError("user: the user message's template is required")
        return self

    def templates(self) -> list[tuple[str, str, str]]:
        """(role, field name for errors, template) for each message, in order."""
        if self.messages is not None:
            return [(m.role, f"messages[{i}]", m.content) for i, m in enumerate(self.messages)]
        both = [("system", "system", self.system)] if self.system else []
        return [*both, ("user", "user", self.user)]


class Variant(Prompt):
    """One of several prompts a workflow compares, by its label."""

    label: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/-]{0,63}$")


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
    #: tools offered to the model (OpenAI's shape); an answer of tool calls is their JSON
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    #: the answer's format, as OpenAI's API names it: ``{type: json_object, schema: {...}}``
    #: asks the runtime for JSON matching a schema (llama.cpp holds sampling to it), which an
    #: ``is-json`` check with the same schema then judges
    response_format: dict[str, Any] | None = None

    def request_fields(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class CaseSpec(_Spec):
    name: str | None = None
    description: str = ""
    #: the variables, or a YAML/JSON file of them (``file://vars/x.yaml``)
    vars: dict[str, Any] | str = Field(default_factory=dict)
    #: none: a comparison case (outputs shown, counted neither pass nor fail)
    checks: list[Any] = Field(default_factory=list)
    threshold: float | None = Field(default=None, ge=0, le=1)
    repeat: int | None = Field(default=None, ge=1, le=100)
    min_pass: int | None = Field(default=None, ge=1)
    #: JavaScript that reshapes the output before the checks (promptfoo's ``transform``)
    transform: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


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
    prompt: Prompt | None = None
    #: several labelled prompt variants, compared side by side …
    prompts: list[Variant] | None = None
    #: … and the label of the one people use (what play 3 judges)
    use: str | None = None
    #: the trial's local cost model, from which each output's cost is measured
    cost: LocalCostInputs | None = None
    repeat: int = Field(default=1, ge=1, le=100)
    min_pass: int | None = Field(default=None, ge=1)
    threshold: float | None = Field(default=None, ge=0, le=1)
    pass_rate: float = Field(default=1.0, gt=0, le=1)
    #: cases, test files (``file://tests/*.csv``), or a list of both
    tests: list[CaseSpec | str] | str = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_prompt_in_use(self) -> WorkflowSpec:
        if (self.prompt is None) == (self.prompts is None):
            raise ValueError("give prompt (one) or prompts (labelled variants), not both")
        if self.prompts is not None:
            labels = [variant.label for variant in self.prompts]
            if not labels:
                raise ValueError("prompts: at least one variant")
            twice = sorted({label for label in labels if labels.count(label) > 1})
            if twice:
                raise ValueError(f"prompts: the label {twice[0]!r} is used twice")
            if self.use is None and len(labels) > 1:
                raise ValueError(
                    f"use: name the variant people use, one of {', '.join(labels)} (required "
                    "with several prompts; play 3 judges that one)"
                )
            if self.use is not None and self.use not in labels:
                raise ValueError(
                    f"use: {self.use!r} is not a label of prompts ({', '.join(labels)})"
                )
        elif self.use not in (None, DEFAULT_VARIANT):
            raise ValueError("use: names one of prompts' labels, and there is one prompt")
        return self

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
    #: JavaScript source that reshapes the output before the checks
    transform: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def comparison(self) -> bool:
        """No checks: its outputs are compared by a person, never counted pass or fail."""
        return not self.checks


@dataclass(frozen=True)
class Workflow:
    """A loaded, validated workflow."""

    spec: WorkflowSpec
    #: how errors and reports name the file (``workflows/NAME.yaml``)
    where: str
    content_hash: str
    cases: list[Case]
    #: every file the spec reads (tests, vars, scripts) and its SHA-256, by path
    files: dict[str, str] = field(default_factory=dict)
    #: the text :attr:`content_hash` is the SHA-256 of (:func:`hashed_text`): what the version
    #: itself says, which a run records so that play 3 reads its parameters from it, not from
    #: anyone's word ("": not known, as in a workflow built by hand)
    hashed: str = ""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def run_hash(self) -> str:
        """``sha256:…`` of what this version runs: the model, judge, parameters, cost model and
        pass rate; each prompt variant's messages (templates without their comments, whitespace
        runs one space; which one is in use); each variable's type and default; each case's
        variables (files read), checks (scripts read), transform, threshold and repeats, in no
        particular order. Not what only describes it: its description, owner and frequency, a
        variable's description, a case's name, description and metadata, a check's metric
        name. Play 6 reads it: a version that runs what the workflow ran before is no fix."""
        spec = self.spec
        kept = spec.model_dump(
            mode="json",
            include={"model", "judge", "parameters", "cost", "pass_rate"},
        )
        in_use = self.in_use
        variants = sorted(
            [
                [variant.label == in_use,
                 [[role, template_key(source)] for role, _, source in variant.templates()]]
                for variant in self.variants
            ],
            key=canonical_json,
        )  # fmt: skip
        variables = {
            name: {"type": v.type, "default": v.default} for name, v in spec.variables.items()
        }
        cases = sorted(
            (
                {"vars": case.vars,
                 "checks": sorted(({k: v for k, v in check.to_raw().items() if k != "metric"}
                                   for check in case.checks), key=canonical_json),
                 "transform": case.transform, "threshold": case.threshold,
                 "repeat": case.repeat, "min_pass": case.min_pass}
                for case in self.cases
            ),
            key=canonical_json,
        )  # fmt: skip
        return run_hash({**kept, "variants": variants, "variables": variables, "cases": cases})

    @property
    def variants(self) -> list[Variant]:
        """The prompt variants, the one in use first."""
        spec = self.spec
        if spec.prompts is None:
            assert spec.prompt is not None
            return [Variant(label=DEFAULT_VARIANT, **spec.prompt.model_dump())]
        in_use = self.in_use
        return sorted(spec.prompts, key=lambda v: v.label != in_use)

    @property
    def in_use(self) -> str:
        """The label of the variant people use (what play 3 judges)."""
        spec = self.spec
        if spec.prompts is None:
            return DEFAULT_VARIANT
        return spec.use or spec.prompts[0].label

    def variant(self, label: str | None = None) -> Variant:
        """The variant ``label`` (default: the one in use)."""
        wanted = label or self.in_use
        for variant in self.variants:
            if variant.label == wanted:
                return variant
        labels = ", ".join(v.label for v in self.variants)
        raise InvalidInput(f"workflow {self.name} has no prompt variant {wanted!r} ({labels})")

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

    def messages(
        self, values: Mapping[str, Any], variant: str | None = None
    ) -> list[dict[str, str]]:
        """The chat messages for ``values`` (already bound), with the variant ``variant``
        (default: the one in use)."""
        chosen = self.variant(variant)
        place = "prompt" if self.spec.prompts is None else f"prompts[{chosen.label}]"
        return [
            {"role": role, "content": render(source, values, where=f"{self.where}: {place}.{at}")}
            for role, at, source in chosen.templates()
        ]


#: what a spec's YAML may hold: JSON's values, and YAML's dates, which the version's text
#: records as the text a template renders them as (``datetime`` is a ``date``)
_PLAIN = (str, int, float, bool, type(None), date)
#: the YAML tags that make the values a spec may not hold
_TAGS = {bytes: "!!binary", set: "!!set", tuple: "!!pairs or !!omap"}


def _odd_value(data: Any) -> str | None:
    """Where ``data``, a spec's YAML, holds a value its version's text (:func:`hashed_text`,
    JSON) records as something other than what the spec runs with, and what: a ``!!binary``
    temperature ran at 0.7 and was recorded as the text ``"b'0.7'"``, which no reading of the
    version takes as a number, so exit rule 35 fell back to the runs' own word on whether it
    samples; a key that is not text is recorded as text. None where there is none. A value
    YAML shares between places (an alias) is looked at once."""
    seen: set[int] = set()
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(data, ())]
    while stack:
        value, at = stack.pop()
        if isinstance(value, dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, list):
                stack.extend((item, (*at, i)) for i, item in enumerate(value))
                continue
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"{_field(at)}: the key {key!r} is not text"
                stack.append((item, (*at, key)))
        elif not isinstance(value, _PLAIN):
            tag = next((t for kind, t in _TAGS.items() if isinstance(value, kind)), "odd")
            return f"{_field(at)}: a YAML {tag} value ({type(value).__name__})"
    return None


def _field(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def hashed_text(data: Any, files: Mapping[str, str] | None = None) -> str:
    """The text a version's :func:`content_hash` is the SHA-256 of: the spec's data, and the
    hash of every file it reads (none: the data's alone, so a spec without files keeps the
    version it always had)."""
    return canonical_json({"spec": data, "files": dict(files)} if files else data)


def content_hash(data: Any, files: Mapping[str, str] | None = None) -> str:
    """The version: ``sha256:`` of :func:`hashed_text`."""
    return text_hash(hashed_text(data, files))


def text_hash(text: str) -> str:
    """``sha256:…`` of ``text``, as :func:`content_hash` names a version."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def hashed_spec(text: Any, version: str) -> dict[str, Any] | None:
    """The spec's data a run's recorded ``hashed`` text (:attr:`Workflow.hashed`) says, where it
    hashes as ``version`` (the run's content hash); None where it is not such a text: anyone can
    type a run saying what its version's parameters are, and only the text the version's hash
    covers says it for the version."""
    if not isinstance(text, str) or not text or text_hash(text) != version:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and set(data) == {"spec", "files"}:  # a spec has a name, a model…
        data = data["spec"]
    return data if isinstance(data, dict) else None


def parse_workflow(
    text: str, *, where: str, expected_name: str | None = None, folder: Path | None = None
) -> Workflow:
    """Validate a spec's YAML text; ``where`` names the file in every error. ``folder`` is the
    program folder that test files and scripts are read from (None: a spec that names files
    is refused)."""
    data = load_yaml(text, where=where)
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a workflow spec is a YAML mapping (name, owner, prompt, …)")
    odd = _odd_value(data)
    if odd is not None:
        raise InvalidInput(
            f"{where}: {odd}, which the version's text (what its hash covers, and what play 3's "
            "checks read its temperature and seed from) would record as other than the workflow "
            "runs with: write it as plain YAML (a number, text, true/false, a list or a mapping)"
        )
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
    files = Files(folder, folder) if folder is not None else None
    workflow = Workflow(spec, where, "", [])
    cases = [_case(workflow, label, test, files) for label, test in _expanded(spec, where, files)]
    names = [case.name for case in cases]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidInput(f"{where}: tests: the name {twice[0]!r} is used twice")
    hashes = files.hashes() if files is not None else {}
    text = hashed_text(data, hashes)
    return Workflow(spec, where, text_hash(text), cases, hashes, text)


def _needs_folder(files: Files | None, where: str, reference: str) -> Files:
    if files is None:
        raise InvalidInput(
            f"{where}: {reference} names a file, and this spec is read without its program "
            "folder to read it from"
        )
    return files


def _expanded(spec: WorkflowSpec, where: str, files: Files | None) -> list[tuple[str, CaseSpec]]:
    """Every case with the label errors name it by: written ones as ``tests[i]``, those read
    from files (promptfoo's format) as ``FILE row N``."""
    entries = [spec.tests] if isinstance(spec.tests, str) else spec.tests
    out: list[tuple[str, CaseSpec]] = []
    for index, entry in enumerate(entries):
        label = f"{where}: tests[{index}]" if not isinstance(spec.tests, str) else f"{where}: tests"
        if isinstance(entry, CaseSpec):
            out.append((label, entry))
            continue
        found = _needs_folder(files, label, entry)
        rows = read_test_file(found, entry, label)
        converted = convert_tests(rows, found, Defaults())
        if converted.problems:
            more = len(converted.problems) - 1
            raise InvalidInput(
                f"{where}: {converted.problems[0]}" + (f" (+{more} more)" if more else "")
            )
        for row, case in zip(_row_labels(rows, converted.cases), converted.cases, strict=True):
            try:
                out.append((f"{where}: {row}", CaseSpec.model_validate(case)))
            except ValidationError as err:
                first = first_validation_problem(err)
                raise InvalidInput(f"{where}: {row}: {first.field}: {first.message}") from None
    return out


def _row_labels(rows: list[Row], cases: list[dict[str, Any]]) -> list[str]:
    """Each case's row (a list var makes several cases of one row)."""
    if len(rows) == len(cases):
        return [row.where for row in rows]
    return [f"tests: {case['name']}" for case in cases]


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
    prompts: list[tuple[str, Prompt]] = (
        [("prompt", spec.prompt)] if spec.prompt is not None
        else [(f"prompts[{i}]", v) for i, v in enumerate(spec.prompts or [])]
    )  # fmt: skip
    for place, prompt in prompts:
        for _, at, source in prompt.templates():
            used = template_names(source, where=f"{where}: {place}.{at}")
            unknown = sorted(used - declared)
            if unknown:
                raise InvalidInput(
                    f"{where}: {place}.{at}: uses {{{{ {unknown[0]} }}}}, which is not declared "
                    f"under variables (declared: {', '.join(sorted(declared)) or 'none'})"
                )


def _script(files: Files | None, value: str, where: str) -> str:
    """JavaScript as written, or the source of ``file://x.js[:function]`` (read, hashed)."""
    if not is_reference(value):
        return value
    found = _needs_folder(files, where, value)
    reference = value.removeprefix("file://")
    file, _, function = reference.partition(":")
    [path] = found.resolve(file, where)
    source = found.text(path, where)
    if function:  # a module exporting several functions: call the one named
        source += f"\n;module.exports = module.exports[{json.dumps(function)}];\n"
    elif "module.exports" not in source and "exports." not in source:
        raise InvalidInput(f"{where}: {value}: the file exports no function (module.exports)")
    return source


def _read_scripts(raw: Any, files: Files | None, where: str) -> Any:
    """A check with its JavaScript file references read."""
    if not isinstance(raw, dict):
        return raw
    check = dict(raw)
    if isinstance(check.get("transform"), str):
        check["transform"] = _script(files, check["transform"], f"{where}.transform")
    kind = str(check.get("type", "")).removeprefix("not-")
    if kind == "javascript" and isinstance(check.get("value"), str):
        check["value"] = _script(files, check["value"], f"{where}.value")
    return check


def _case_vars(test: CaseSpec, files: Files | None, where: str) -> dict[str, Any]:
    """A case's vars with file references read (a vars file, ``file://`` values)."""
    raw = test.vars
    values = raw.values() if isinstance(raw, dict) else []
    needs_files = is_reference(raw) or any(is_reference(v) for v in values)
    if not needs_files:
        assert isinstance(raw, dict)
        return raw
    found = _needs_folder(files, where, str(raw))
    converted = convert_tests([Row(where, {"vars": raw}, found.base)], found, Defaults())
    if converted.problems:
        raise InvalidInput(converted.problems[0])
    read: dict[str, Any] = converted.cases[0]["vars"]
    return read


def _case(workflow: Workflow, where: str, test: CaseSpec, files: Files | None) -> Case:
    spec = workflow.spec
    values = workflow.bind(_case_vars(test, files, f"{where}.vars"), where=f"{where}.vars")
    repeat, min_pass = _attempts_asked(test, spec.repeat, spec.min_pass)
    if min_pass > repeat:
        field_name = "min-pass" if test.min_pass else "repeat"
        raise InvalidInput(
            f"{where}.{field_name}: min-pass ({min_pass}) is more than repeat ({repeat})"
        )
    raw = [_read_scripts(c, files, f"{where}.checks[{i}]") for i, c in enumerate(test.checks)]
    checks = parse_checks(raw, where=f"{where}.checks")
    for check in checks:
        if check.base == "cost" and spec.cost is None:
            raise InvalidInput(
                f"{check.where}: a cost check needs the workflow's cost: inputs (the trial's "
                "local cost model: watts, price_per_kwh, hardware_price, lifetime_hours, "
                "utilisation); without them no cost is measured"
            )
        if check.base == "select-best" and len(workflow.variants) < 2:
            raise InvalidInput(
                f"{check.where}: select-best picks the best of several prompt variants' "
                "outputs, and this workflow has one prompt (give prompts: with labels)"
            )
    index = where.rsplit("[", 1)[-1].rstrip("]")
    return Case(
        name=test.name or (f"case-{int(index) + 1}" if index.isdigit() else "case"),
        description=test.description,
        vars=values,
        checks=checks,
        threshold=test.threshold if test.threshold is not None else spec.threshold,
        repeat=repeat,
        min_pass=min_pass,
        transform=_script(files, test.transform, f"{where}.transform") if test.transform else None,
        metadata=dict(test.metadata),
    )


def _attempts_asked(test: CaseSpec, repeat: int, min_pass: int | None) -> tuple[int, int]:
    """A case's ``repeat`` and ``min-pass``, the spec's own (``repeat``, ``min_pass``) applied
    where the case says none (a case's ``repeat`` without ``min-pass`` asks every attempt to
    pass)."""
    asked = test.repeat or repeat
    return asked, test.min_pass or (min_pass if test.repeat is None else None) or asked


def best_of(min_pass: int, repeat: int) -> str | None:
    """The words "a best of N" where a case passes on under half its ``repeat`` attempts (at a
    temperature above 0, each a draw of its own, `repeat: 50, min-pass: 1` passes a case the
    model gets right once in 20 tries about nine times in ten); None where it needs at least
    half. Teams that test pass@k mean it: it is shown, never refused."""
    return f"a best of {repeat}" if 2 * min_pass < repeat else None


class _Attempts(BaseModel):
    """The spec's own ``repeat`` and ``min-pass``, read from a version's text alone."""

    model_config = ConfigDict(alias_generator=_kebab, populate_by_name=True)

    repeat: int = Field(default=1, ge=1, le=100)
    min_pass: int | None = Field(default=None, ge=1)


def best_of_cases(data: Mapping[str, Any] | None) -> list[str]:
    """Each case a version passes on a best of N (:func:`best_of`), in words ("case X needs 1
    of its 50 attempts to pass: a best of 50"), as the version's spec data ``data`` says: the
    text its content hash covers (:func:`hashed_spec`), never a run's word. Cases read from
    test files, whose rows only their hashes are in that text, are said at the spec's own
    ``repeat`` and ``min-pass``; a row of a YAML or JSON file may set its own, which that text
    cannot show, so where the spec's own are no best of N such a file is said to be one whose
    cases cannot be told (a CSV row sets neither); comparison cases count neither way and are
    left out. Where ``data`` says no cases this inhouse reads, that it cannot be told; nothing
    where ``data`` is None (the caller says why it has none). Names are written out as
    :func:`~inhouse.terminal.shown` text: a case's name is its writer's, and a line break in
    it would start a line of a reason of its own."""
    from pydantic import TypeAdapter, ValidationError

    from inhouse.terminal import shown

    if data is None:
        return []
    try:
        spec = _Attempts.model_validate({k: data[k] for k in ("repeat", "min-pass") if k in data})
        tests = data.get("tests", [])
        entries = TypeAdapter(list[CaseSpec | str]).validate_python(
            [tests] if isinstance(tests, str) else tests
        )
    except ValidationError:
        return [
            "whether a case passes on a best of N cannot be told: the version's text says no "
            "cases this inhouse reads"
        ]
    said: list[str] = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            repeat, min_pass = spec.repeat, spec.min_pass or spec.repeat
            best = best_of(min_pass, repeat)
            rows_may_say = not entry.lower().endswith(".csv")  # a CSV row sets neither
            if best is not None:
                said.append(
                    f"cases read from {shown(entry)} need {min_pass} of their {repeat} attempts "
                    f"to pass{' unless a row says otherwise' if rows_may_say else ''}: {best}"
                )
            elif rows_may_say:
                said.append(
                    f"cases read from {shown(entry)} may each set their own repeat and min-pass, "
                    "which the version's text does not hold (only the file's hash): whether one "
                    "passes on a best of N cannot be told"
                )
        elif entry.checks:
            repeat, min_pass = _attempts_asked(entry, spec.repeat, spec.min_pass)
            if (best := best_of(min_pass, repeat)) is not None:
                name = entry.name or f"case-{index + 1}"
                said.append(
                    f"case {shown(name)} needs {min_pass} of its {repeat} attempts to pass: {best}"
                )
    return said


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
    if not path.exists():
        known = ", ".join(list_workflows(folder)) or "none yet"
        raise InvalidInput(
            f"no workflow {name!r}: {where} does not exist (workflows: {known}); write one, or "
            "import a promptfoo config with `inhouse workflow import-promptfoo`"
        )
    text = read_text(path, shown=where)
    return parse_workflow(text, where=where, expected_name=name, folder=folder)


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
