"""The prompt library in git: ``prompts/NAME.yaml``, one file per prompt, exported and imported.

::

    labels:
      production: 1
    name: ticket-summary
    versions:
    - content_hash: sha256:…
      description: Summarise a support ticket
      messages:
      - content: You summarise support tickets in two sentences.
        role: system
      - content: 'Ticket: {{ ticket }}'
        role: user
      variables:
        ticket:
          type: string
      version: 1

Keys are sorted, versions in order, multi-line texts written as blocks, so a new version or a
moved label is a small diff. ``latest`` is not written (it is the newest version). A file holds
content, not who wrote it or when: the signed log keeps that.

Import brings a folder of such files into the log. It is idempotent: a version whose content
hash the library already has is nothing new; a new version (a prompt's next number, whose
``content_hash`` may be left out when writing one by hand) is scanned like any shared prompt
and signed by the importer's key **as imported**: whoever ran the import (a routine step after
a pull) did not write it, so the version has no known author and makes nobody one (to be a
prompt's author, add it with ``inhouse prompts add`` or ``new-version``). Labels move to where
the files put them, except ``production`` where a second person is required: an import is
nobody's decision to promote, so the line says to move it with ``inhouse prompts label``. A
file that contradicts the library (a version with other content under a number the library
has) refuses the whole import, naming it: nothing is recorded.

Export never overwrites a file holding what the library lacks (a version written by hand, a
label moved by hand to where the library never moved it): it names the file and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import InvalidInput, first_validation_problem
from inhouse.jsonfiles import load_yaml, read_text
from inhouse.location import safe_join
from inhouse.pilot.library import (
    PRODUCTION,
    Draft,
    Library,
    PromptVersion,
    body_hash,
    check_body,
    check_label,
    check_name,
    library,
    move_state,
    record_move,
    scan_draft,
    share_version,
)
from inhouse.pilot.library_views import dump_yaml, plain_body
from inhouse.program.facts import PromptBody, PromptMessage, PromptVariable
from inhouse.workflows.template import short_variables

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["PROMPTS_DIR", "export_prompts", "import_prompts", "prompt_file_text"]

PROMPTS_DIR = "prompts"
HEADER = "# inhouse prompt library: `inhouse prompts import` reads this file back\n"


def _folder(program: Program, where: str | Path) -> Path:
    """``where`` (relative to the program folder, or absolute) inside the program folder."""
    return safe_join(program.folder, where)


def prompt_file_text(found: Library, name: str) -> str:
    """The export of one prompt: its file's exact text."""
    prompt = found.prompt(name)
    versions = []
    for version in prompt.versions.values():
        entry = plain_body(version)
        entry["version"] = version.version
        entry["content_hash"] = version.content_hash
        versions.append(entry)
    labels = {label: at for label, at in prompt.labels.items() if label != "latest"}
    data: dict[str, Any] = {"name": name, "versions": versions}
    if labels:
        data["labels"] = labels
    return HEADER + dump_yaml(data)


def export_prompts(program: Program, where: str | Path = PROMPTS_DIR) -> list[Path]:
    """Write every library prompt to ``where/NAME.yaml`` (default ``prompts/`` in the program
    folder); returns the files written. Files of other names are left alone."""
    folder = _folder(program, where)
    found = library(program)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InvalidInput(f"cannot export to {folder}: it is a file, not a folder") from None
    texts = {
        folder / f"{name}.yaml": prompt_file_text(found, name) for name in sorted(found.prompts)
    }
    changed = [path for path, text in texts.items() if _differs(path, text)]
    for path in changed:  # all checked before anything is written
        if path.exists():
            _not_ahead(found, path, program.folder)
    for path in changed:
        path.write_text(texts[path], encoding="utf-8")
    return list(texts)


def _differs(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") != text
    except FileNotFoundError:
        return True
    except (OSError, UnicodeDecodeError):
        return True  # unreadable: _not_ahead names it


def _not_ahead(found: Library, path: Path, root: Path) -> None:
    """Refuse to overwrite an exported file that holds what the library does not (a version
    written by hand and not imported yet, a label moved by hand, an edit, a file that no longer
    reads): it would be lost. What the library holds alone is rewritten freely."""
    try:
        shown = str(path.relative_to(root.resolve()))
    except ValueError:
        shown = str(path)
    then = "nothing was written: import it first (`inhouse prompts import`), or move it away"
    try:
        read = _read(path, shown)
        fresh = _new_versions(found, read)
    except InvalidInput as err:
        raise InvalidInput(f"{err}; {then}") from None
    if fresh:
        numbers = ", ".join(str(number) for number, _ in fresh)
        raise InvalidInput(f"{shown} holds version {numbers}, which the library lacks; {then}")
    for label, number in _moved_by_hand(found, read):
        ref = f"{read.name}@{number}"
        how = then
        if label == PRODUCTION and found.second_person:  # an import does not move it
            how = (
                f"nothing was written: move it (`inhouse prompts label {ref} {label}`, which a "
                "second person confirms), or put the file's label back"
            )
        raise InvalidInput(
            f"{shown} puts label {label} at {ref}, where the library never moved it; {how}"
        )


def _moved_by_hand(found: Library, read: _Read) -> list[tuple[str, int]]:
    """The labels ``read`` puts where the library never moved them, nor was asked to (moved by
    hand, or in another checkout). A label at a version it once held, or was asked to hold, is
    an older export: the library knows it, and the file is rewritten freely."""
    prompt = found.prompts.get(read.name)
    if prompt is None:
        return list(read.labels.items())
    known = {(move.label, move.version) for move in prompt.moves}
    return [
        (label, number)
        for label, number in read.labels.items()
        if prompt.labels.get(label) != number and (label, number) not in known
    ]


# -- reading a folder ----------------------------------------------------------------------------


class _FileVersion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)
    content_hash: str | None = None
    description: str = ""
    messages: list[PromptMessage] = Field(min_length=1)
    variables: dict[str, PromptVariable] = Field(default_factory=dict)

    @field_validator("variables", mode="before")
    @classmethod
    def _short_variables(cls, value: Any) -> Any:
        return short_variables(value)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    labels: dict[str, int] = Field(default_factory=dict)
    versions: list[_FileVersion] = Field(min_length=1)


@dataclass(frozen=True)
class _Read:
    name: str
    where: str
    versions: list[tuple[int, Draft]]
    labels: dict[str, int]


def _read(path: Path, shown: str) -> _Read:
    data = load_yaml(read_text(path, shown=shown), where=shown)
    if not isinstance(data, dict):
        raise InvalidInput(f"{shown}: a library export is a YAML mapping (name, versions, labels)")
    try:
        spec = _File.model_validate(data)
    except ValidationError as err:
        problem = first_validation_problem(err)
        raise InvalidInput(
            f"{shown}: {problem.field or '(top level)'}: {problem.message}"
        ) from None
    if check_name(spec.name) != path.stem:
        raise InvalidInput(f"{shown}: name: {spec.name!r} differs from the file's name")
    versions = []
    for index, item in enumerate(spec.versions):
        where = f"{shown}: versions[{index}]"
        if item.version != index + 1:
            raise InvalidInput(f"{where}: version {item.version} where {index + 1} comes next")
        body = PromptBody(messages=item.messages, variables=item.variables)
        check_body(body, where=where)
        draft = Draft(description=item.description, body=body)
        if item.content_hash is not None and item.content_hash != body_hash(body):
            raise InvalidInput(
                f"{where}: content_hash does not match the messages and variables (edited by "
                "hand? a change is a new version: add one, without a content_hash)"
            )
        versions.append((item.version, draft))
    for label, number in spec.labels.items():
        check_label(label)
        if not 1 <= number <= len(versions):
            raise InvalidInput(f"{shown}: labels.{label}: no version {number} in this file")
    return _Read(spec.name, shown, versions, dict(sorted(spec.labels.items())))


def _new_versions(found: Library, read: _Read) -> list[tuple[int, Draft]]:
    """The versions of ``read`` the library lacks; a contradiction refuses the import."""
    prompt = found.prompts.get(read.name)
    have: dict[int, PromptVersion] = dict(prompt.versions) if prompt is not None else {}
    fresh = []
    for number, draft in read.versions:
        known = have.get(number)
        if known is None:
            fresh.append((number, draft))
        elif known.content_hash != draft.content_hash:
            raise InvalidInput(
                f"{read.where}: version {number} differs from the library's {known.id} "
                f"({known.content_hash[:19]}…): versions never change; write the change as "
                f"version {max(have) + 1}"
            )
    return fresh


def import_prompts(program: Program, where: str | Path = PROMPTS_DIR) -> list[str]:
    """Bring ``where/*.yaml`` (default ``prompts/``) into the library, signed by this program's
    key; returns one line per thing recorded (none when the library already holds it all)."""
    folder = _folder(program, where)
    if not folder.is_dir():
        raise InvalidInput(
            f"no folder {folder}: export the library first (`inhouse prompts export`)"
        )
    paths = sorted(folder.glob("*.yaml"))
    shown = {path: str(path.relative_to(program.folder.resolve())) for path in paths}
    reads = [_read(path, shown[path]) for path in paths]
    from inhouse.program.config import read_config

    config = read_config(program.folder)
    found = library(program)
    plans = [(read, _new_versions(found, read)) for read in reads]
    for read, fresh in plans:  # everything is checked before anything is recorded
        for number, draft in fresh:
            scan_draft(config, draft, where=f"{read.where}: version {number}")
    lines = []
    who = program.whoami().name
    for read, fresh in plans:
        for _, draft in fresh:
            version = share_version(program, read.name, draft, where=read.where, imported=True)
            lines.append(f"{version.id}: added ({version.content_hash[:19]}…), imported")
        found = library(program)
        for label, number in read.labels.items():
            prompt = found.prompts[read.name]
            version = prompt.versions[number]
            if prompt.labels.get(label) == number:
                continue
            if label == PRODUCTION and found.second_person:
                lines.append(
                    f"{version.id}: production not moved: a second person moves it, never an "
                    f"import (`inhouse prompts label {version.id} production`)"
                )
                continue
            state = move_state(found, version, label, who)
            if state is None:
                continue  # already asked for: waiting for a second person
            move = record_move(program, version, label, state)
            what = "moved" if move.effective else f"requested ({move.note})"
            lines.append(f"{version.id}: {label} {what}")
            found = library(program)
    return lines
