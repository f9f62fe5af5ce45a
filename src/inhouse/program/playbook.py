"""The playbook schema and its loader.

A playbook is data: a YAML file of plays, each with a trigger, an owner, exit criteria that are
deliverables (each a registered check), the artifact it hands on, and how the next owner relates
to this one. The default, ``local-model-program``, ships in ``inhouse/playbooks``; an
organisation may write its own with the same schema. Validation errors name the file, the line
and the field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from inhouse.errors import PlaybookError, UnknownPlay
from inhouse.jsonfiles import MAX_DEPTH, TOO_DEEP, nests_too_deep

__all__ = [
    "DEFAULT_PLAYBOOK",
    "CheckRef",
    "Owner",
    "PilotLimits",
    "Play",
    "Playbook",
    "Reach",
    "Role",
    "dropped_before",
    "dropped_from_shipped",
    "earlier_shipped",
    "load_playbook",
    "parse_playbook",
    "pilot_limits",
    "pilot_places",
]

DEFAULT_PLAYBOOK = "local-model-program"


class Role(StrEnum):
    """The roles a person may hold in a program."""

    ROLLOUT_LEAD = "rollout-lead"
    PLAY_OWNER = "play-owner"
    SUPPORT_OWNER = "support-owner"
    CHAMPION = "champion"
    PILOT_USER = "pilot-user"


class Reach(StrEnum):
    """How far access reaches; widening it is guarded (scaling before proving, skipping five)."""

    OWNER = "owner"
    PILOT = "pilot"
    BEYOND_PILOT = "beyond-pilot"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CheckRef(_Strict):
    """One trigger condition or exit deliverable: a registered check plus its parameters."""

    check: str
    title: str = Field(min_length=1, description="what must be true, in a person's words")
    params: dict[str, Any] = Field(default_factory=dict)


class Owner(_Strict):
    role: Role
    who: str = Field(min_length=1, description="who should own it, in a person's words")
    previous: Literal["same", "different", "any"] = Field(
        "any",
        description="how this play's owner relates to the previous play's: the receiver of a "
        "handoff must be the same person, a different one, or either",
    )


class Play(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    title: str
    purpose: str
    owner: Owner
    trigger: list[CheckRef] = Field(min_length=1)
    exit: list[CheckRef] = Field(min_length=1)
    hands_on: str | None = Field(None, description="the artifact handed to the next play")
    ongoing: bool = Field(False, description="exit checks describe a healthy period, not an end")


class Playbook(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: int = Field(ge=1)
    title: str
    plays: list[Play] = Field(min_length=1)
    reach: dict[Reach, str] = Field(
        default_factory=dict,
        description="for each reach beyond the owner, the play that (with all before it) must "
        "have exited first",
    )
    governance_facts: list[str] = Field(
        default_factory=list,
        description="fact kinds that mean governance is being set up (flagged before real use)",
    )

    #: loaded from inhouse's own playbooks (by name), not from a file: set by
    #: :func:`load_playbook` only, never by what a file says
    _shipped: bool = PrivateAttr(default=False)
    #: :func:`_drops`, once worked out (the reach guards ask it at every widening they fold)
    _drops: list[tuple[str, str]] | None = PrivateAttr(default=None)

    @property
    def shipped(self) -> bool:
        return self._shipped

    @field_validator("plays")
    @classmethod
    def _unique_ids(cls, plays: list[Play]) -> list[Play]:
        seen: set[str] = set()
        for play in plays:
            if play.id in seen:
                raise ValueError(f"play id {play.id!r} appears twice")
            seen.add(play.id)
        return plays

    @model_validator(mode="after")
    def _references(self) -> Playbook:
        ids = {play.id for play in self.plays}
        for reach, play_id in self.reach.items():
            if play_id not in ids:
                raise ValueError(f"reach {reach.value!r} names unknown play {play_id!r}")
        return self

    # -- lookups -----------------------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        return [play.id for play in self.plays]

    def rules(self) -> str:
        """A hash of what the playbook decides (its plays' owners, triggers and exits with their
        parameters, its reach and its governance kinds), not of its wording: recorded when a
        program is created, so that a copy keeping the name and version with a check's
        parameters eased is told apart from the one the program runs by."""
        import hashlib
        import json

        decided = {
            "plays": [
                {
                    "id": play.id,
                    "owner": [play.owner.role.value, play.owner.previous],
                    "trigger": [[ref.check, ref.params] for ref in play.trigger],
                    "exit": [[ref.check, ref.params] for ref in play.exit],
                    "ongoing": play.ongoing,
                }
                for play in self.plays
            ],
            "reach": {reach.value: play for reach, play in sorted(self.reach.items())},
            "governance": sorted(self.governance_facts),
        }
        text = json.dumps(decided, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def digest(self) -> str:
        """A hash of the whole playbook: what a state folded with it was judged by."""
        import hashlib

        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def play(self, ref: str | int) -> Play:
        """A play by id (``baseline``) or by number, 1-based (``2`` or ``"2"``)."""
        text = str(ref).strip()
        if text.isdigit():
            number = int(text)
            if 1 <= number <= len(self.plays):
                return self.plays[number - 1]
        else:
            for play in self.plays:
                if play.id == text:
                    return play
        choices = ", ".join(f"{n} ({p.id})" for n, p in enumerate(self.plays, 1))
        raise UnknownPlay(f"no play {text!r} in playbook {self.name}; plays are {choices}")

    def number(self, play_id: str) -> int:
        return self.ids.index(play_id) + 1

    def previous(self, play_id: str) -> Play | None:
        index = self.ids.index(play_id)
        return self.plays[index - 1] if index > 0 else None

    def next(self, play_id: str) -> Play | None:
        index = self.ids.index(play_id)
        return self.plays[index + 1] if index + 1 < len(self.plays) else None

    def check_names(self) -> Iterable[str]:
        for play in self.plays:
            for ref in (*play.trigger, *play.exit):
                yield ref.check


# -- loading -----------------------------------------------------------------------------------


#: libyaml's safe loader where PyYAML was built with it (the wheels are): the playbook is read by
#: every command that opens a program, and the pure-Python parser took most of that time
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _line_of(root: yaml.Node | None, path: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at ``path`` (or of its nearest existing parent)."""
    node = root
    line = None if node is None else node.start_mark.line + 1
    for part in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _describe(errors: Iterable[Mapping[str, Any]], text: str, source: str) -> str:
    # the node tree (for line numbers) is composed only when there is something to point at
    root = yaml.compose(text, Loader=_Loader)
    lines = []
    for error in errors:
        loc = tuple(error["loc"])
        field = ".".join(str(part) for part in loc) or "(top level)"
        line = _line_of(root, loc)
        where = f"{source}:{line}" if line else source
        lines.append(f"  {where}: {field}: {error['msg']}")
    return "\n".join(lines)


def parse_playbook(text: str, *, source: str = "<playbook>") -> Playbook:
    """Validate playbook YAML, including that every check it names is registered."""
    from inhouse.program.checks import registry

    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise PlaybookError(f"{source} is not valid YAML: {err}") from None
    except RecursionError:
        data = TOO_DEEP
    if nests_too_deep(data):
        raise PlaybookError(f"{source} is not valid YAML: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise PlaybookError(f"{source}: a playbook is a mapping with name, version, plays")
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as err:
        raise PlaybookError(
            f"{source} is not a valid playbook:\n{_describe(err.errors(), text, source)}"
        ) from None
    unknown = []
    for p_index, play in enumerate(playbook.plays):
        for section in ("trigger", "exit"):
            for c_index, ref in enumerate(getattr(play, section)):
                if ref.check not in registry:
                    unknown.append(
                        {
                            "loc": ("plays", p_index, section, c_index, "check"),
                            "msg": f"unknown check {ref.check!r} "
                            f"(known: {', '.join(sorted(registry))})",
                        }
                    )
    if unknown:
        raise PlaybookError(
            f"{source} is not a valid playbook:\n{_describe(unknown, text, source)}"
        )
    return playbook


def load_playbook(ref: str | Path = DEFAULT_PLAYBOOK) -> Playbook:
    """Load a shipped playbook by name, or any playbook file by path."""
    path = Path(ref)
    if path.suffix in {".yaml", ".yml"} or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise PlaybookError(f"cannot read playbook {path}: {err.strerror}") from None
        except UnicodeDecodeError as err:
            raise PlaybookError(
                f"cannot read playbook {path}: not UTF-8 text ({err.reason})"
            ) from None
        book = parse_playbook(text, source=str(path))
        _not_posing(book, path)
        return book
    shipped = resources.files("inhouse.playbooks").joinpath(f"{ref}.yaml")
    # a name, never a path into the package: an earlier release kept as data (``earlier/``)
    # is no playbook a program may load, so none is created under rules inhouse no longer ships
    if not _SHIPPED_NAME.fullmatch(str(ref)) or not shipped.is_file():
        raise PlaybookError(
            f"no shipped playbook named {ref!r}; give a path to a .yaml file, "
            f"or use {DEFAULT_PLAYBOOK!r}"
        )
    book = parse_playbook(shipped.read_text(encoding="utf-8"), source=f"{ref}.yaml")
    book._shipped = True
    return book


def _not_posing(book: Playbook, path: Path) -> None:
    """A playbook file under a shipped playbook's name must decide what that one decides: a
    copy with a check swapped or a parameter eased would read, on every status, as the shipped
    playbook while judging by its own rules."""
    shipped = resources.files("inhouse.playbooks").joinpath(f"{book.name}.yaml")
    if not shipped.is_file():
        return
    original = parse_playbook(shipped.read_text(encoding="utf-8"), source=f"{book.name}.yaml")
    if book.version == original.version and book.rules() == original.rules():
        return
    raise PlaybookError(
        f"{path} is named {book.name!r} v{book.version}, the name of a playbook inhouse ships "
        f"(v{original.version}), but it decides otherwise (a play's owner, trigger or exit, a "
        "check's parameters, or its reach differ): a playbook of your own takes a name of its "
        "own, so that every status says whose rules judge the program"
    )


_SHIPPED_NAME = re.compile(r"[a-z][a-z0-9-]*")

#: every release of a shipped playbook, as a program's first event records it: name -> version
#: -> the rules hashes (:meth:`Playbook.rules`) it decided in some release, with whether a
#: program created then recorded them (``playbook_rules``, since 183a57b; one created before
#: records none). The rules of a release before the one shipped now lie in ``earlier/``, one
#: file each, named by their hash. Bumping the shipped playbook adds its rules here (a test
#: fails until it does) and keeps the old file: a program created with it is judged by it.
_RELEASES: dict[str, dict[int, tuple[tuple[str, bool], ...]]] = {
    "local-model-program": {
        # 10c57a2: play 5's ticket check without reopen_days; 8cdea0b added it; e467f0e gave
        # play 2 trial-reproduced, and 21d2562 bumped the version for it
        1: (
            ("0484665044d84416", False),
            ("6cbd2b6f2acfc3d5", False),
            ("6cbd2b6f2acfc3d5", True),
            ("5f4bc2617852d7cb", True),
        ),
        2: (("5f4bc2617852d7cb", True),),
    },
}


def earlier_shipped(name: str, version: int, rules: str) -> list[Playbook] | None:
    """The playbooks a program whose first event names ``name`` v``version`` with ``rules``
    (empty: recorded none) may have been created with, where ``name`` is a playbook inhouse
    ships: each release of that version that decided so (several where no rules were recorded
    and more than one release shipped the version before they were). An empty list: inhouse
    never shipped such a playbook (a version it never had, rules that version never decided,
    or none recorded where every release of it recorded them), so the claim is not one a
    release of inhouse wrote. None: ``name`` is no playbook inhouse ships (one of the
    organisation's own, whose earlier rules inhouse cannot know)."""
    releases = _RELEASES.get(name)
    if releases is None:
        return None
    found = [hashed for hashed, recorded in releases.get(version, ()) if recorded == bool(rules)]
    if rules:
        found = [hashed for hashed in found if hashed == rules]
    return [_release(name, hashed) for hashed in dict.fromkeys(found)]


@functools.cache
def _release(name: str, rules: str) -> Playbook:
    """A shipped playbook as one release decided it (``rules``): the one shipped now, or an
    earlier one kept as data."""
    now = _default_shipped() if name == DEFAULT_PLAYBOOK else load_playbook(name)
    if now.rules() == rules:
        return now
    kept = resources.files("inhouse.playbooks").joinpath("earlier", f"{name}-{rules}.yaml")
    book = parse_playbook(kept.read_text(encoding="utf-8"), source=f"earlier/{name}-{rules}.yaml")
    book._shipped = True
    return book


@functools.cache
def _default_shipped() -> Playbook:
    """The shipped default playbook, parsed once per process (status asks on every call)."""
    return load_playbook(DEFAULT_PLAYBOOK)


def shipped_params(book: Playbook, play_id: str, section: str, check: str) -> dict[str, Any] | None:
    """The parameters the shipped playbook gives ``check`` in play ``play_id``'s ``section``
    (trigger or exit), where ``book`` (a playbook of the program's own) gives it others; None
    where they are the same, the check is not the shipped one's, or ``book`` is shipped."""
    if book.shipped:
        return None
    original = _default_shipped()
    if play_id not in original.ids:
        return None
    theirs = {r.check: r.params for r in getattr(book.play(play_id), section)}
    for ref in getattr(original.play(play_id), section):
        if ref.check == check and check in theirs and theirs[check] != ref.params:
            return dict(ref.params)
    return None


def dropped_from_shipped(book: Playbook) -> list[str]:
    """How a playbook of the program's own differs from the shipped one in what holds people to
    evidence: each of the shipped playbook's trigger and exit checks that is not in the same
    play's trigger or exit with the same parameters (a trigger that waits for someone else's
    request is as much a rule as an exit), each play whose owner's role or hand-over rule
    (another owner, the same, any) changed or whose exit stopped being ongoing, an order of the
    plays changed (a reach gate waits for its play and every play before it), and each reach
    gate it lacks. Empty for a shipped playbook (and for an exact copy under another name)."""
    return [what for _, what in _drops(book)]


def dropped_before(book: Playbook, reach: Reach) -> list[str]:
    """What a playbook of the program's own drops (:func:`dropped_from_shipped`) of the rules
    the shipped playbook holds a program to before widening access to ``reach``: the checks,
    owners and hand-overs of the plays up to the shipped gate for ``reach`` (in the shipped
    order), the plays' order, and that gate itself. The reach guards ask a waiver on the
    record for it: else a lead who copies the shipped playbook without its gates, or with
    play 1's exit eased, widens access alone, with no play proven. Empty for a shipped
    playbook, and for a reach the shipped playbook does not gate."""
    if book.shipped:
        return []
    original = _default_shipped()
    gate = original.reach.get(reach)
    if gate is None:
        return []
    before = set(original.ids[: original.ids.index(gate) + 1])
    return [
        what
        for about, what in _drops(book)
        if about in before or about in ("@order", f"@reach {reach.value}")
    ]


def _drops(book: Playbook) -> list[tuple[str, str]]:
    """:func:`dropped_from_shipped`'s findings, each with what it concerns: a shipped play's
    id, ``@order`` or ``@reach REACH`` (no play id starts with ``@``)."""
    if book.shipped:
        return []
    if book._drops is None:
        book._drops = _work_out_drops(book)
    return book._drops


def _work_out_drops(book: Playbook) -> list[tuple[str, str]]:
    original = _default_shipped()
    mine = {play.id: play for play in book.plays}
    dropped: list[tuple[str, str]] = []
    for play in original.plays:
        number = original.number(play.id)
        theirs = mine.get(play.id)
        for section in ("trigger", "exit"):
            held = {r.check: r.params for r in getattr(theirs, section)} if theirs else {}
            for ref in getattr(play, section):
                if ref.check not in held:
                    dropped.append((play.id, f"{ref.check} (play {number}'s {section})"))
                elif held[ref.check] != ref.params:
                    dropped.append(
                        (
                            play.id,
                            f"{ref.check} (play {number}'s {section}) with "
                            f"{held[ref.check] or 'no'} parameters, not {ref.params}",
                        )
                    )
        if theirs is None:
            continue
        if theirs.owner.role != play.owner.role:
            dropped.append(
                (
                    play.id,
                    f"play {number}'s owner as {play.owner.role.value} (it names "
                    f"{theirs.owner.role.value})",
                )
            )
        if theirs.owner.previous != play.owner.previous:
            dropped.append(
                (
                    play.id,
                    f"{_handed(play.owner.previous)} for {play.id} (it asks "
                    f"{_handed(theirs.owner.previous)})",
                )
            )
        if theirs.ongoing != play.ongoing:
            dropped.append(
                (play.id, f"play {number}'s ongoing exit ({'on' if play.ongoing else 'off'})")
            )
    # a reach gate means "this play and every play before it": an order changed moves what a
    # gate waits for (the pilot's gate opened without plays 1 and 2, moved after it)
    order = [p.id for p in book.plays if p.id in original.ids]
    shipped = [p.id for p in original.plays if p.id in order]
    if order != shipped:
        dropped.append(
            ("@order", f"the plays' order ({', '.join(shipped)}; it has {', '.join(order)})")
        )
    for reach, gate in sorted(original.reach.items()):
        if book.reach.get(reach) != gate:
            dropped.append((f"@reach {reach.value}", f"the {reach.value} reach gate at {gate}"))
    return dropped


def _handed(previous: str) -> str:
    """A play's ``owner.previous`` rule, in words."""
    return {"different": "another owner", "same": "the same owner"}.get(previous, "any owner")


@dataclass(frozen=True)
class PilotLimits:
    """The ``pilot-size`` check's parameters, as the program's playbook sets them."""

    min: int = 5
    max: int = 10
    min_teams: int = 3

    def describe(self) -> str:
        return f"{self.min}-{self.max} members across at least {self.min_teams} teams"


def pilot_limits(playbook: Playbook) -> PilotLimits:
    """The ``pilot-size`` parameters of the playbook's exit that checks it (the defaults when
    no play does)."""
    for play in playbook.plays:
        for ref in play.exit:
            if ref.check == "pilot-size":
                base = PilotLimits()
                return PilotLimits(
                    min=int(ref.params.get("min", base.min)),
                    max=int(ref.params.get("max", base.max)),
                    min_teams=int(ref.params.get("min_teams", base.min_teams)),
                )
    return PilotLimits()


def pilot_places(playbook: Playbook) -> int:
    """How many people the reach guards let into the pilot: the playbook's ``pilot-size``
    maximum, no more than the shipped playbook's for a playbook of the program's own. Its
    maximum is play 4's exit, which the pilot's gate (play 3) never names: a copy raising it to
    1000 would key the whole organisation as "the pilot", the lead's waiver of scaling before
    proving naming the pilot, and skipping play five never asked. A place beyond the shipped
    maximum is beyond the pilot: play 5's exit, or a waiver of skipping play five on the record,
    lets it through. A smaller maximum of its own holds."""
    most = pilot_limits(playbook).max
    if playbook.shipped:
        return most
    return min(most, pilot_limits(_default_shipped()).max)
