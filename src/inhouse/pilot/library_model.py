"""The library's shape: a prompt version (immutable), a label move, a prompt with its
versions and labels, and the library they make. :mod:`inhouse.pilot.library` folds them from
the facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput, UnknownPrompt
from inhouse.program.facts import (
    PromptBody,
)
from inhouse.workflows.template import bind, render

if TYPE_CHECKING:
    pass

from inhouse.pilot.prompt_spec import (
    LATEST,
    PRODUCTION,
    MoveState,
    parse_ref,
)

__all__ = ["LabelMove", "Library", "Prompt", "PromptVersion"]


@dataclass(frozen=True)
class PromptVersion:
    """One immutable version of a library prompt."""

    prompt: str
    version: int
    content_hash: str
    description: str
    body: PromptBody
    #: whoever signed the version (never a typed name); None for one brought in by
    #: ``inhouse prompts import``: the file's author is unknown, and the importer is not it
    author: str | None
    at: datetime
    fact: int  # the id of the prompt.version fact
    signer: str = ""  # whoever signed it: its author, or its importer

    @property
    def id(self) -> str:
        """How the gateway's usage log names it: ``NAME@VERSION``."""
        return f"{self.prompt}@{self.version}"

    @property
    def byline(self) -> str:
        """Who wrote it, as people read it: the author, or that an import brought it in."""
        return self.author or f"unknown (imported by {self.signer})"

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
    def author(self) -> str | None:
        """Who shared it: the signer of its first version (None: an import brought it in)."""
        return self.versions[1].author

    @property
    def byline(self) -> str:
        return self.versions[1].byline

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
