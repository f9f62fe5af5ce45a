"""The shared prompt library: named prompts, immutable versions, movable labels, measured use.

A prompt is a YAML file a person writes (messages, or one ``template``, over declared, typed
variables)::

    description: Summarise a support ticket for the weekly report
    variables:
      ticket: {type: string, description: the ticket's text}
      priority: {type: integer, default: 3}
    messages:
      - {role: system, content: You summarise support tickets in two sentences.}
      - {role: user, content: "Priority {{ priority }}. Ticket: {{ ticket }}"}

Each version is a ``prompt.version`` fact carrying its body and the body's content hash; the
first one comes with a ``prompt.shared`` fact. A version's **author is its signer**, never a
typed name. Labels move with ``prompt.label`` facts: ``latest`` is automatic (the newest
version), ``production`` and any other label point where their last effective move put them.
The library is a fold over those facts (:func:`fold_library`), never a table of its own.

With ``[prompts] promote_needs_second_person = true`` in ``inhouse.toml``, moving ``production``
needs a second key: the version's author's own move is recorded as *requested* and takes effect
only when someone else (another signer) moves it there too; a rollback returns production to
the version it held before, which a second person already let through, so it takes effect at
once. The fold applies these rules, so a move recorded through the Python API is held to them
as well.

Before a version is shared it is scanned with :mod:`inhouse.policy`: a data class that the
data-handling rules block for any model is refused, naming the class and where it is.

Use is measured at the gateway, which records ``NAME@VERSION`` on every request that used a
library prompt; :func:`prompt_usage` sums it per version from the usage log, and
:func:`record_prompt_usage` records the changed sums as ``prompt.usage`` facts signed by the
gateway's own key.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import ConfigError, InvalidInput, UnknownPrompt, first_validation_problem
from inhouse.jsonfiles import load_yaml
from inhouse.location import CONFIG_NAME
from inhouse.program.events import canonical_json
from inhouse.program.facts import (
    Fact,
    PromptBody,
    PromptMessage,
    PromptVariable,
    Provenance,
    validate_payload,
)
from inhouse.usage.prompts import prompt_use
from inhouse.workflows.template import bind, render, short_variables, template_names

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

__all__ = [
    "COLLECTOR",
    "LATEST",
    "PRODUCTION",
    "USAGE_COLLECTOR",
    "Draft",
    "LabelMove",
    "Library",
    "LibrarySettings",
    "Prompt",
    "PromptVersion",
    "add_prompt",
    "body_hash",
    "check_body",
    "check_label",
    "check_name",
    "diff_prompts",
    "dump_yaml",
    "fold_library",
    "library",
    "library_settings",
    "list_prompts",
    "move_label",
    "move_state",
    "new_version",
    "parse_prompt",
    "parse_ref",
    "plain_body",
    "prompt_usage",
    "record_move",
    "record_prompt_usage",
    "rollback",
    "scan_draft",
    "share_version",
    "show_prompt",
]

COLLECTOR = "inhouse prompts"
USAGE_COLLECTOR = "inhouse pilot adoption"
GATEWAY = "gateway"  # the service whose key signs measured use
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


def _settings(program: Program) -> LibrarySettings:
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


def body_hash(body: PromptBody) -> str:
    """``sha256:…`` of the canonical JSON of the messages and typed variables (the description
    is not content: a version's text and variables are)."""
    text = canonical_json(body.model_dump(mode="json"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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


# -- the fold ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PromptVersion:
    """One immutable version of a library prompt."""

    prompt: str
    version: int
    content_hash: str
    description: str
    body: PromptBody
    author: str  # whoever signed the version: never a typed name
    at: datetime
    fact: int  # the id of the prompt.version fact

    @property
    def id(self) -> str:
        """How the gateway's usage log names it: ``NAME@VERSION``."""
        return f"{self.prompt}@{self.version}"

    def bind(self, given: Mapping[str, Any], *, where: str = "prompt.variables") -> dict[str, Any]:
        """``given`` checked against the declared variables (an unknown one, a missing one,
        each type), defaults filled in."""
        return bind(self.body.variables, given, where=where, subject=f"prompt {self.id}")

    def messages(
        self, given: Mapping[str, Any], *, where: str = "prompt.variables"
    ) -> list[dict[str, str]]:
        """The chat messages for ``given`` variables, rendered in the workflows' sandbox."""
        values = self.bind(given, where=where)
        return [
            {
                "role": message.role,
                "content": render(
                    message.content, values, where=f"prompt {self.id}: messages[{index}]"
                ),
            }
            for index, message in enumerate(self.body.messages)
        ]


@dataclass(frozen=True)
class LabelMove:
    """One ``prompt.label`` fact and what it did."""

    prompt: str
    label: str
    version: int
    state: MoveState
    by: str
    at: datetime
    fact: int
    effective: bool
    #: why it did not take effect, or whose request it confirmed
    note: str = ""

    @property
    def ref(self) -> str:
        return f"{self.prompt}@{self.version}"


@dataclass
class Prompt:
    """A library prompt: its versions, where its labels point, and every label move."""

    name: str
    versions: dict[int, PromptVersion] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)  # latest included
    moves: list[LabelMove] = field(default_factory=list)
    #: production's effective versions, oldest first; a rollback returns to the one before
    production_history: list[int] = field(default_factory=list)

    @property
    def author(self) -> str:
        """Who shared it: the signer of its first version."""
        return self.versions[1].author

    @property
    def latest(self) -> PromptVersion:
        return self.versions[max(self.versions)]

    def current(self) -> PromptVersion:
        """The version to use when none is named: production if labelled, else the latest."""
        return self.versions[self.labels.get(PRODUCTION, self.labels[LATEST])]

    def labels_of(self, version: int) -> list[str]:
        return sorted(label for label, at in self.labels.items() if at == version)

    @property
    def pending(self) -> list[LabelMove]:
        """Requested moves of production that no second person has confirmed yet."""
        waiting: dict[int, LabelMove] = {}
        for move in self.moves:
            if move.state == "requested" and move.label == PRODUCTION:
                waiting.setdefault(move.version, move)
            elif move.effective and move.label == PRODUCTION:
                waiting.pop(move.version, None)
        return [m for v, m in waiting.items() if self.labels.get(PRODUCTION) != v]


@dataclass
class Library:
    """Every library prompt, by name."""

    prompts: dict[str, Prompt] = field(default_factory=dict)
    second_person: bool = False

    def prompt(self, name: str) -> Prompt:
        found = self.prompts.get(name)
        if found is None:
            known = ", ".join(sorted(self.prompts)) or "none yet"
            raise UnknownPrompt(
                f"no prompt {name!r} in the library (prompts: {known})", param="prompt"
            )
        return found

    def resolve(self, ref: str, *, param: str | None = "prompt") -> PromptVersion:
        """The version ``NAME@VERSION`` or ``NAME@LABEL`` names (``NAME`` alone: production if
        labelled, else the latest); an unknown one is an :class:`UnknownPrompt` naming it."""
        try:
            name, version, label = parse_ref(ref)
        except InvalidInput as err:
            raise UnknownPrompt(str(err), param=param) from None
        found = self.prompts.get(name)
        if found is None:
            known = ", ".join(sorted(self.prompts)) or "none yet"
            raise UnknownPrompt(
                f"no prompt {name!r} in the library (prompts: {known})", param=param
            )
        if version is not None:
            if version not in found.versions:
                raise UnknownPrompt(
                    f"prompt {name!r} has no version {version} (versions 1 to "
                    f"{max(found.versions)})",
                    param=param,
                )
            return found.versions[version]
        if label is not None:
            if label not in found.labels:
                raise UnknownPrompt(
                    f"prompt {name!r} has no label {label!r} (labels: "
                    f"{', '.join(sorted(found.labels))})",
                    param=param,
                )
            return found.versions[found.labels[label]]
        return found.current()

    def find(self, prompt_id: str) -> PromptVersion | None:
        """The version an exact ``NAME@VERSION`` id names (what the gateway records), or None."""
        name, _, tail = prompt_id.partition("@")
        found = self.prompts.get(name)
        if found is None or not tail.isdigit():
            return None
        return found.versions.get(int(tail))


def _counts(fact: Fact, services: set[str]) -> bool:
    """A library fact counts when the library's collector measured it, signed, by a person in
    their own name (a service authors no prompts)."""
    return (
        fact.signed
        and fact.provenance is Provenance.MEASURED
        and fact.collector == COLLECTOR
        and fact.on_behalf_of is None
        and fact.by not in services
    )


def fold_library(state: ProgramState, *, second_person: bool = False) -> Library:
    """The library as the ``prompt.version`` and ``prompt.label`` facts make it, oldest first.

    A version counts when it is the next number for its prompt and its body hashes to its
    content hash; a label move counts when its prompt and version exist then and the rules
    allow it (``second_person``: production moves need a signer other than the author)."""
    services = {name for name, person in state.people.items() if person.service}
    found = Library(second_person=second_person)
    for fact in state.facts:
        if fact.kind not in ("prompt.version", "prompt.label") or not _counts(fact, services):
            continue
        if fact.kind == "prompt.version":
            _add_version(found, fact)
        else:
            _move(found, fact, second_person)
    return found


def _add_version(found: Library, fact: Fact) -> None:
    payload = fact.payload
    raw = payload.get("body")
    if raw is None:
        return
    name, number = str(payload["prompt"]), int(payload["version"])
    prompt = found.prompts.get(name) or Prompt(name)
    if number != len(prompt.versions) + 1:
        return  # a number someone else took first, or a gap: not a version of this library
    try:
        body = PromptBody.model_validate(raw)
    except ValidationError:
        return
    if body_hash(body) != payload["content_hash"]:
        return  # a body that does not hash to its content hash is not that version
    prompt.versions[number] = PromptVersion(
        prompt=name,
        version=number,
        content_hash=str(payload["content_hash"]),
        description=str(payload.get("description") or ""),
        body=body,
        author=fact.by,
        at=fact.at,
        fact=fact.id,
    )
    prompt.labels[LATEST] = number
    found.prompts[name] = prompt


def _move(found: Library, fact: Fact, second_person: bool) -> None:
    payload = fact.payload
    prompt = found.prompts.get(str(payload["prompt"]))
    label, number = str(payload["label"]), int(payload["version"])
    state: MoveState = payload.get("state") or "moved"
    if prompt is None or number not in prompt.versions or label == LATEST:
        return
    author = prompt.versions[number].author
    effective, note = True, ""
    history = prompt.production_history
    if state == "requested":
        effective, note = False, f"waits for someone other than {author}, its author"
    elif state == "rollback":
        if label != PRODUCTION or len(history) < 2 or history[-2] != number:
            effective, note = False, "not the version production held before"
    elif label == PRODUCTION and second_person and fact.by == author:
        effective, note = False, f"{author} wrote v{number}: a second person moves production"
    elif label == PRODUCTION:
        asked = next(
            (m for m in reversed(prompt.pending) if m.version == number and m.by != fact.by), None
        )
        if asked is not None:
            note = f"confirms {asked.by}'s request"
    if effective:
        if label == PRODUCTION and state == "rollback":
            history.pop()
        elif label == PRODUCTION and prompt.labels.get(PRODUCTION) != number:
            history.append(number)
        prompt.labels[label] = number
    prompt.moves.append(
        LabelMove(
            prompt=prompt.name,
            label=label,
            version=number,
            state=state,
            by=fact.by,
            at=fact.at,
            fact=fact.id,
            effective=effective,
            note=note,
        )
    )


def library(program: Program) -> Library:
    """The program's library now (its ``[prompts]`` settings applied)."""
    return fold_library(
        program.state(), second_person=_settings(program).promote_needs_second_person
    )


# -- recording -----------------------------------------------------------------------------------


def _version_payload(name: str, number: int, draft: Draft) -> dict[str, Any]:
    return validate_payload(
        "prompt.version",
        {
            "prompt": name,
            "version": number,
            "content_hash": draft.content_hash,
            "variables": sorted(draft.body.variables),
            "description": draft.description,
            "body": draft.body.model_dump(mode="json"),
        },
    )


def _record(program: Program, kind: str, payload: dict[str, Any]) -> Fact:
    return program.record_fact(
        None, kind, payload, provenance=Provenance.MEASURED, collector=COLLECTOR
    )


def share_version(program: Program, name: str, draft: Draft, *, where: str) -> PromptVersion:
    """Scan ``draft`` and record it as ``name``'s next version (and, for a first version, the
    prompt's sharing), signed by this program's key."""
    from inhouse.program.config import read_config

    scan_draft(read_config(program.folder), draft, where=where)
    before = library(program).prompts.get(name)
    number = len(before.versions) + 1 if before is not None else 1
    payload = _version_payload(name, number, draft)
    who = program.whoami()
    _record(program, "prompt.version", payload)
    if number == 1:
        _record(program, "prompt.shared", {"prompt": name, "author": who.name})
    after = library(program).prompt(name)
    return after.versions[number]


def add_prompt(program: Program, name: str, text: str, *, where: str) -> PromptVersion:
    """Share a new prompt: its version 1, signed by (and so authored by) this program's key.
    ``text`` is the prompt file's content, ``where`` how errors name it."""
    check_name(name)
    draft = parse_prompt(text, where=where)
    existing = library(program).prompts.get(name)
    if existing is not None:
        raise InvalidInput(
            f"prompt {name!r} is already in the library (v{existing.latest.version}, shared by "
            f"{existing.author}): add a version with `inhouse prompts new-version {name} "
            "--file F`"
        )
    return share_version(program, name, draft, where=where)


def new_version(program: Program, name: str, text: str, *, where: str) -> PromptVersion:
    """Record ``name``'s next version; the same content as an existing version is refused
    (versions are immutable: nothing new to record)."""
    prompt = library(program).prompt(check_name(name))
    draft = parse_prompt(text, where=where)
    same = next((v for v in prompt.versions.values() if v.content_hash == draft.content_hash), None)
    if same is not None:
        raise InvalidInput(
            f"{where}: the same messages and variables as {same.id}: nothing new to record"
        )
    return share_version(program, name, draft, where=where)


def move_label(program: Program, ref: str, label: str) -> LabelMove:
    """Point ``label`` at the version ``ref`` names (``NAME@VERSION`` or ``NAME@LABEL``).

    With ``promote_needs_second_person``, the version's author moving ``production`` records a
    request; someone else moving it there makes it take effect (confirming the request)."""
    check_label(label)
    found = library(program)
    version = found.resolve(ref, param=None)
    if found.prompts[version.prompt].labels.get(label) == version.version:
        raise InvalidInput(f"{label} already points at {version.id}")
    who = program.whoami().name
    state = move_state(found, version, label, who)
    if state is None:
        raise InvalidInput(
            f"{who} already asked for production at {version.id}: someone other than {who} "
            f"(its author) confirms it with `inhouse prompts label {version.id} production`"
        )
    return record_move(program, version, label, state)


def move_state(found: Library, version: PromptVersion, label: str, who: str) -> MoveState | None:
    """What ``who`` moving ``label`` to ``version`` records: a move, or (production, a second
    person needed, ``who`` its author) a request; None when ``who`` already asked for it."""
    if label != PRODUCTION or not found.second_person or who != version.author:
        return "moved"
    pending = found.prompts[version.prompt].pending
    if any(m.version == version.version and m.by == who for m in pending):
        return None
    return "requested"


def rollback(program: Program, name: str) -> LabelMove:
    """Move ``production`` back to the version it held before its current one."""
    found = library(program)
    prompt = found.prompt(check_name(name))
    history = prompt.production_history
    if len(history) < 2:
        where = f"at {name}@{history[-1]}" if history else "not labelled yet"
        raise InvalidInput(
            f"{name}: production has no earlier version to return to (it is {where})"
        )
    return record_move(program, prompt.versions[history[-2]], PRODUCTION, "rollback")


def record_move(
    program: Program, version: PromptVersion, label: str, state: MoveState
) -> LabelMove:
    """Record a ``prompt.label`` fact and return what the fold made of it."""
    payload = {"prompt": version.prompt, "label": label, "version": version.version}
    if state != "moved":
        payload["state"] = state
    fact = _record(program, "prompt.label", payload)
    moves = library(program).prompt(version.prompt).moves
    return next(m for m in reversed(moves) if m.fact == fact.id)


# -- reading ---------------------------------------------------------------------------------


def plain_body(version: PromptVersion) -> dict[str, Any]:
    """A version's messages and variables as a person writes them (defaults left out): what
    ``show``, ``diff`` and the export print."""
    variables: dict[str, Any] = {}
    for name, variable in version.body.variables.items():
        entry: dict[str, Any] = {"type": variable.type}
        if variable.description:
            entry["description"] = variable.description
        if variable.default is not None:
            entry["default"] = variable.default
        variables[name] = entry
    data: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in version.body.messages]
    }
    if variables:
        data["variables"] = variables
    if version.description:
        data["description"] = version.description
    return data


def list_prompts(program: Program) -> list[dict[str, Any]]:
    """One row per prompt: its author, versions, labels and production requests waiting."""
    rows = []
    for name, prompt in sorted(library(program).prompts.items()):
        rows.append(
            {
                "name": name,
                "author": prompt.author,
                "versions": len(prompt.versions),
                "labels": dict(sorted(prompt.labels.items())),
                "pending": [f"{m.ref} by {m.by}" for m in prompt.pending],
                "description": prompt.current().description,
            }
        )
    return rows


def show_prompt(program: Program, ref: str) -> dict[str, Any]:
    """The version ``ref`` names (its body, author, hash, labels) and its prompt's history."""
    found = library(program)
    version = found.resolve(ref, param=None)
    prompt = found.prompts[version.prompt]
    return {
        "prompt": version.prompt,
        "version": version.version,
        "id": version.id,
        "content_hash": version.content_hash,
        "author": version.author,
        "at": version.at.isoformat(),
        "labels": prompt.labels_of(version.version),
        **plain_body(version),
        "versions": [
            {"version": v.version, "author": v.author, "at": v.at.isoformat(),
             "labels": prompt.labels_of(v.version)}
            for v in prompt.versions.values()
        ],
        "moves": [
            {"label": m.label, "version": m.version, "state": m.state, "by": m.by,
             "at": m.at.isoformat(), "effective": m.effective, "note": m.note}
            for m in prompt.moves
        ],
        "pending": [f"{m.ref} by {m.by}" for m in prompt.pending],
    }  # fmt: skip


def dump_yaml(data: Any) -> str:
    """YAML with sorted keys and multi-line texts as blocks: stable, readable diffs."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def diff_prompts(program: Program, a: str, b: str) -> str:
    """A unified diff of two versions (messages, variables, description), each named by
    ``NAME@VERSION`` or ``NAME@LABEL``; empty when they are the same."""
    found = library(program)
    old, new = found.resolve(a, param=None), found.resolve(b, param=None)
    lines = difflib.unified_diff(
        dump_yaml(plain_body(old)).splitlines(keepends=True),
        dump_yaml(plain_body(new)).splitlines(keepends=True),
        fromfile=old.id,
        tofile=new.id,
    )
    return "".join(lines)


# -- measured use --------------------------------------------------------------------------------


def prompt_usage(program: Program) -> list[dict[str, Any]]:
    """Per library prompt version used through the gateway: answered uses, distinct users,
    uses by people other than the version's author, and the last day it was used (the
    ``prompt.usage`` payloads), from the usage log by SQL; ordered by prompt and version."""
    found = library(program)
    sums: dict[tuple[str, int], dict[str, Any]] = {}
    for row in prompt_use(program.store):
        version = found.find(row.prompt)
        if version is None:
            continue  # an id no library version has: not a library prompt
        entry = sums.setdefault(
            (version.prompt, version.version),
            {"prompt": version.prompt, "version": version.version, "uses": 0, "users": 0,
             "uses_by_others": 0, "last_used": row.last_day},
        )  # fmt: skip
        entry["uses"] += row.requests
        entry["users"] += 1
        if row.person != version.author:
            entry["uses_by_others"] += row.requests
        entry["last_used"] = max(entry["last_used"], row.last_day)
    return [sums[key] for key in sorted(sums)]


def record_prompt_usage(program: Program) -> list[dict[str, Any]]:
    """Record a ``prompt.usage`` fact for every version whose use is new or changed since the
    last one, signed by the gateway's own key (a rollout lead enrols it the first time).
    Returns the payloads recorded."""
    program.actor()  # whoever runs it must be enrolled
    service = program.as_service(GATEWAY)
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for fact in program.state().facts:
        if fact.kind == "prompt.usage" and fact.by == GATEWAY:
            payload = fact.payload
            seen[(str(payload["prompt"]), int(payload["version"]))] = dict(payload)
    recorded = []
    for usage in prompt_usage(program):
        if seen.get((usage["prompt"], usage["version"])) == usage:
            continue
        service.record_fact(
            None, "prompt.usage", usage, provenance=Provenance.MEASURED, collector=USAGE_COLLECTOR
        )
        recorded.append(usage)
    return recorded
