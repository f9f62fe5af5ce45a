"""A library prompt as a person writes it: the file, its names and references, the
``[prompts]`` settings, and the scan that refuses a blocked data class before sharing.
The library itself (versions, labels, who wrote what) is :mod:`inhouse.pilot.library`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import ConfigError, InvalidInput, first_validation_problem
from inhouse.jsonfiles import load_yaml
from inhouse.location import CONFIG_NAME
from inhouse.program.events import canonical_json
from inhouse.program.facts import (
    PromptBody,
    PromptMessage,
    PromptVariable,
)

# the library's collector is defined beside the rule the library and the checks share
from inhouse.program.prompt_versions import COLLECTOR, body_hash
from inhouse.workflows.template import short_variables, template_names

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "COLLECTOR",
    "LATEST",
    "PRODUCTION",
    "Draft",
    "LibrarySettings",
    "MoveState",
    "body_hash",
    "check_body",
    "check_label",
    "check_name",
    "library_settings",
    "parse_prompt",
    "parse_ref",
    "program_settings",
    "scan_draft",
]

LATEST = "latest"
PRODUCTION = "production"

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

MoveState = Literal["moved", "requested", "rollback"]


# -- settings ------------------------------------------------------------------------------------


class LibrarySettings(BaseModel):
    """The ``[prompts]`` table of ``inhouse.toml``."""

    model_config = ConfigDict(extra="forbid")

    #: moving ``production`` needs a key other than the version's author's
    promote_needs_second_person: bool = False


def library_settings(config: Mapping[str, Any]) -> LibrarySettings:
    """``[prompts]`` from a parsed ``inhouse.toml`` (all defaults when it is absent)."""
    try:
        return LibrarySettings.model_validate(config.get("prompts") or {})
    except ValidationError as err:
        problem = first_validation_problem(err)
        raise ConfigError(f"{CONFIG_NAME}: prompts.{problem.field}: {problem.message}") from None


def program_settings(program: Program) -> LibrarySettings:
    """The ``[prompts]`` settings of ``program``'s ``inhouse.toml``."""
    from inhouse.program.config import read_config

    return library_settings(read_config(program.folder))


# -- names and references ----------------------------------------------------------------------


def check_name(name: str) -> str:
    """A prompt's name: lower-case letters, digits, ``-`` and ``_`` (it names its file too)."""
    if not _NAME.match(name):
        raise InvalidInput(
            f"{name!r} is not a prompt name: lower-case letters, digits, '-' or '_', at most 64"
        )
    return name


def check_label(label: str) -> str:
    """A label a person may move: a lower-case word starting with a letter; not ``latest``,
    which always names the newest version."""
    if not _LABEL.match(label):
        raise InvalidInput(
            f"{label!r} is not a label: lower-case letters, digits, '-' or '_', starting with a "
            "letter (a number would read as a version)"
        )
    if label == LATEST:
        raise InvalidInput("the latest label is automatic: it always names the newest version")
    return label


def parse_ref(ref: str) -> tuple[str, int | None, str | None]:
    """``NAME``, ``NAME@VERSION`` or ``NAME@LABEL`` as (name, version, label)."""
    name, sep, tail = ref.strip().partition("@")
    check_name(name)
    if not sep:
        return name, None, None
    if tail.isdigit():
        return name, int(tail), None
    if not _LABEL.match(tail):
        raise InvalidInput(f"{ref!r}: after '@' comes a version number or a label")
    return name, None, tail


# -- a prompt file ---------------------------------------------------------------------------


class _PromptFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    variables: dict[str, PromptVariable] = Field(default_factory=dict)
    messages: list[PromptMessage] | None = None
    template: str | None = Field(None, description="short for one user message")

    @field_validator("variables", mode="before")
    @classmethod
    def _short_variables(cls, value: Any) -> Any:
        return short_variables(value)


@dataclass(frozen=True)
class Draft:
    """A prompt as a person wrote it, validated: what a new version would record."""

    description: str
    body: PromptBody

    @property
    def content_hash(self) -> str:
        return body_hash(self.body)


def _validation_error(err: ValidationError, where: str) -> InvalidInput:
    problem = first_validation_problem(err)
    message = problem.message
    if problem.kind == "extra_forbidden":
        message = "not a field of a library prompt (description, variables, messages, template)"
    elif problem.kind == "missing":
        message = "missing (required)"
    return InvalidInput(f"{where}: {problem.field or '(top level)'}: {message}")


def parse_prompt(text: str, *, where: str) -> Draft:
    """A prompt file's text, validated: messages (or ``template``), declared typed variables
    that the templates use, templates that stay in the sandbox."""
    data = load_yaml(text, where=where)
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{where}: a library prompt is a YAML mapping (description, variables, messages)"
        )
    try:
        spec = _PromptFile.model_validate(data)
    except ValidationError as err:
        raise _validation_error(err, where) from None
    if (spec.messages is None) == (spec.template is None):
        raise InvalidInput(f"{where}: give messages (a list of role and content) or a template")
    messages = spec.messages
    if messages is None:
        messages = [PromptMessage(role="user", content=spec.template or "")]
    try:
        body = PromptBody(messages=messages, variables=spec.variables)
    except ValidationError as err:
        raise _validation_error(err, where) from None
    check_body(body, where=where)
    return Draft(description=spec.description, body=body)


def check_body(body: PromptBody, *, where: str) -> None:
    """Variable names and defaults, and templates that use only declared variables."""
    from inhouse.workflows.template import coerce

    for name, variable in body.variables.items():
        if not _VARIABLE.match(name):
            raise InvalidInput(
                f"{where}: variables.{name}: a variable name is letters, digits and '_', "
                "starting with a letter"
            )
        if variable.default is not None:
            coerce(variable.type, variable.default, where=f"{where}: variables.{name}.default")
    declared = set(body.variables)
    for index, message in enumerate(body.messages):
        spot = f"{where}: messages[{index}].content"
        unknown = sorted(template_names(message.content, where=spot) - declared)
        if unknown:
            raise InvalidInput(
                f"{spot}: uses {{{{ {unknown[0]} }}}}, which is not declared under variables "
                f"(declared: {', '.join(sorted(declared)) or 'none'})"
            )


def _texts(draft: Draft) -> Iterable[tuple[str, str]]:
    """Every text a version would share, with where it is."""
    if draft.description:
        yield "description", draft.description
    for index, message in enumerate(draft.body.messages):
        yield f"messages[{index}].content", message.content
    for name, variable in draft.body.variables.items():
        if variable.description:
            yield f"variables.{name}.description", variable.description
        if variable.default is not None:
            yield f"variables.{name}.default", canonical_json(variable.default)


def scan_draft(config: Mapping[str, Any], draft: Draft, *, where: str) -> None:
    """Refuse a prompt that carries a data class the data-handling rules block for any model
    (a shared prompt may be sent to any of them), naming the class and where it is."""
    from inhouse.policy import Scanner, load_rules

    scanner = Scanner.from_config(config)
    rules = load_rules(config)
    models = ["", *rules.models_named()]
    for spot, text in _texts(draft):
        found = {match.data_class for match in scanner.scan(text)}
        blocked = sorted(c for c in found if any(rules.action(m, c) == "block" for m in models))
        if blocked:
            classes = ", ".join(blocked)
            raise InvalidInput(
                f"{where}: refused: {spot} carries {classes}, which the data-handling rules "
                "block ([data_rules] in inhouse.toml); a shared prompt must not carry it: take "
                "it out, or make it a variable its user fills in"
            )
