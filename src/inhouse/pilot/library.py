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
typed name; one brought in by ``inhouse prompts import`` is marked ``imported`` and has no
known author (whoever ran the import did not write the file), so it makes nobody an author.
Labels move with ``prompt.label`` facts: ``latest`` is automatic (the newest version),
``production`` and any other label point where their last effective move put them. The library
is a fold over those facts (:func:`fold_library`), never a table of its own.

With ``[prompts] promote_needs_second_person = true`` in ``inhouse.toml``, moving ``production``
needs a second person: the version's author's own move is recorded as *requested* and takes
effect only when someone else moves it there too (another signer, and once the organisation's
sign-in is set up, one signed in with that key under an account the author never held); for an
imported version, whose author is unknown, two different people's moves (a request, then a
confirmation); a rollback
returns production to the version it held before, which a second person already let through,
so it takes effect at once. The fold applies these rules, so a move recorded through the
Python API is held to them as well.

Before a version is shared it is scanned with :mod:`inhouse.policy`: a data class that the
data-handling rules block for any model is refused, naming the class and where it is.

Use is measured at the gateway, which records ``NAME@VERSION`` on every request that used a
library prompt; :func:`prompt_usage` sums it per version from the usage log, and
:func:`record_prompt_usage` records the changed sums as ``prompt.usage`` facts signed by the
gateway's own key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput
from inhouse.program.facts import (
    Fact,
    Provenance,
    validate_payload,
)
from inhouse.program.prompt_versions import library_reads, next_version_problem

if TYPE_CHECKING:
    from inhouse.program import Program
    from inhouse.program.state import ProgramState

from inhouse.pilot.library_model import LabelMove, Library, Prompt, PromptVersion
from inhouse.pilot.prompt_spec import (
    COLLECTOR,
    LATEST,
    PRODUCTION,
    Draft,
    LibrarySettings,
    MoveState,
    body_hash,
    check_body,
    check_label,
    check_name,
    library_settings,
    parse_prompt,
    parse_ref,
    program_settings,
    scan_draft,
)

__all__ = [
    "COLLECTOR",
    "LATEST",
    "PRODUCTION",
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
    "fold_library",
    "library",
    "library_settings",
    "move_label",
    "move_state",
    "new_version",
    "parse_prompt",
    "parse_ref",
    "record_move",
    "rollback",
    "scan_draft",
    "share_version",
]


# -- the fold ------------------------------------------------------------------------------------


def _counts(fact: Fact, services: set[str]) -> bool:
    """A library fact counts when the library's collector measured it, signed, by a person in
    their own name (a service authors no prompts): the rule the checks number versions by too
    (:func:`inhouse.program.prompt_versions.library_reads`)."""
    return library_reads(fact, services)


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
            _move(found, fact, second_person, lambda move, beside: _other_hand(state, move, beside))
    return found


def _other_hand(state: ProgramState, fact: Fact, other: str | None) -> bool:
    """Whether ``fact``'s signer is a second person beside ``other`` (``None``: nobody known):
    another name, and, once the organisation's sign-in is set up, signed in with the very key
    that signed it, under no account ``other`` ever held. A key that never signed in could be
    anyone's, the author's own included; an account lent to an alias is still its owner's."""
    if fact.by == other:
        return False
    if state.sign_in is None:
        return True
    if not (state.sign_in_vouches and state.signed_in_as(fact.key, fact.by)):
        return False
    if other is None:
        return True
    held: dict[str, set[str]] = {}
    for bound in state.signed_keys.values():
        held.setdefault(bound.person, set()).add(bound.subject)
    return not held.get(fact.by, set()) & held.get(other, set())


def _add_version(found: Library, fact: Fact) -> None:
    payload = fact.payload
    name, number = str(payload["prompt"]), int(payload["version"])
    prompt = found.prompts.get(name) or Prompt(name)
    # a number someone else took first, a gap, or a body that does not hash to its content
    # hash: not a version of this library (the rule the checks share)
    problem, body = next_version_problem(fact, len(prompt.versions))
    if problem is not None or body is None:
        return
    prompt.versions[number] = PromptVersion(
        prompt=name,
        version=number,
        content_hash=str(payload["content_hash"]),
        description=str(payload.get("description") or ""),
        body=body,
        author=None if payload.get("imported") else fact.by,
        at=fact.at,
        fact=fact.id,
        signer=fact.by,
    )
    prompt.labels[LATEST] = number
    found.prompts[name] = prompt


def _move(
    found: Library, fact: Fact, second_person: bool, other: Callable[[Fact, str | None], bool]
) -> None:
    """Apply one label move; ``other(fact, person)``: whether its signer is a second person
    beside ``person`` (:func:`_other_hand`)."""
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
        if author is None:
            note = f"waits for someone other than {fact.by}: v{number} was imported, its author "
            note += "unknown"
    elif state == "rollback":
        if label != PRODUCTION or len(history) < 2 or history[-2] != number:
            effective, note = False, "not the version production held before"
    elif label == PRODUCTION and second_person and fact.by == author:
        effective, note = False, f"{author} wrote v{number}: a second person moves production"
    elif label == PRODUCTION and second_person and author is not None and not other(fact, author):
        effective = False
        note = (
            f"{fact.by} is no second person beside {author}, its author: production moves "
            "with the key of someone signed in with an account of their own"
        )
    elif label == PRODUCTION:
        asked = next(
            (m for m in reversed(prompt.pending) if m.version == number and m.by != fact.by), None
        )
        if asked is not None and second_person and author is None and not other(fact, asked.by):
            effective = False
            note = (
                f"{fact.by} is no second person beside {asked.by}, who asked: production moves "
                "with the key of someone signed in with an account of their own"
            )
        elif asked is not None:
            note = f"confirms {asked.by}'s request"
        elif second_person and author is None:
            # nobody is known not to be its author: of two different people, one is not
            effective = False
            note = f"v{number} was imported, its author unknown: two people move production "
            note += "(a request, then someone else's move)"
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
        program.state(), second_person=program_settings(program).promote_needs_second_person
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


def share_version(
    program: Program,
    name: str,
    draft: Draft,
    *,
    where: str,
    closes: Sequence[str | int] = (),
    imported: bool = False,
) -> PromptVersion:
    """Scan ``draft`` and record it as ``name``'s next version (and, for a first version, the
    prompt's sharing), signed by this program's key. ``closes`` names findings about this
    prompt the version answers (play 6). ``imported``: brought in from a file, whose author is
    unknown: recorded as imported, which makes its signer nobody's author (and shares nothing
    in their name)."""
    from inhouse.program.config import read_config
    from inhouse.program.counting import build_context
    from inhouse.program.feedback import require_open

    numbers: list[int] = []
    if closes:
        ctx = build_context(program.state(), program.clock())
        numbers = require_open(ctx, closes, target=f"prompt:{name}")
    scan_draft(read_config(program.folder), draft, where=where)
    before = library(program).prompts.get(name)
    number = len(before.versions) + 1 if before is not None else 1
    payload = _version_payload(name, number, draft)
    if numbers:
        payload["closes"] = numbers
    if imported:
        payload["imported"] = True
    who = program.whoami()
    _record(program, "prompt.version", payload)
    if number == 1 and not imported:
        _record(program, "prompt.shared", {"prompt": name, "author": who.name})
    after = library(program).prompt(name)
    return after.versions[number]


def add_prompt(
    program: Program, name: str, text: str, *, where: str, closes: Sequence[str | int] = ()
) -> PromptVersion:
    """Share a new prompt: its version 1, signed by (and so authored by) this program's key.
    ``text`` is the prompt file's content, ``where`` how errors name it."""
    check_name(name)
    draft = parse_prompt(text, where=where)
    existing = library(program).prompts.get(name)
    if existing is not None:
        raise InvalidInput(
            f"prompt {name!r} is already in the library (v{existing.latest.version}, shared by "
            f"{existing.byline}): add a version with `inhouse prompts new-version {name} "
            "--file F`"
        )
    return share_version(program, name, draft, where=where, closes=closes)


def new_version(
    program: Program, name: str, text: str, *, where: str, closes: Sequence[str | int] = ()
) -> PromptVersion:
    """Record ``name``'s next version; the same content as an existing version is refused
    (versions are immutable: nothing new to record)."""
    prompt = library(program).prompt(check_name(name))
    draft = parse_prompt(text, where=where)
    same = next((v for v in prompt.versions.values() if v.content_hash == draft.content_hash), None)
    if same is not None:
        raise InvalidInput(
            f"{where}: the same messages and variables as {same.id}: nothing new to record"
        )
    return share_version(program, name, draft, where=where, closes=closes)


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
        whose = " (its author)" if who == version.author else ""
        raise InvalidInput(
            f"{who} already asked for production at {version.id}: someone other than {who}"
            f"{whose} confirms it with `inhouse prompts label {version.id} production`"
        )
    return record_move(program, version, label, state)


def move_state(found: Library, version: PromptVersion, label: str, who: str) -> MoveState | None:
    """What ``who`` moving ``label`` to ``version`` records: a move, or (production, a second
    person needed, ``who`` its author) a request; None when ``who`` already asked for it. An
    imported version's author is unknown: production moves there when two people agree, so the
    first asks and another's move confirms."""
    if label != PRODUCTION or not found.second_person:
        return "moved"
    pending = found.prompts[version.prompt].pending
    if version.author is None:
        if any(m.version == version.version and m.by != who for m in pending):
            return "moved"
    elif who != version.author:
        return "moved"
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
