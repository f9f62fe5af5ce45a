"""The lock: ``inhouse.lock``, what the baseline pins, measured from the runtime itself.

``baseline lock`` asks the runtime's inventory for each blessed model's content digest (and
size) and the runtime's version, and writes them with the Python and inhouse versions and the
data-handling rules' hash. The file is TOML with sorted keys and no timestamps, so re-locking an
unchanged baseline writes the same bytes and a changed one is a readable diff. ``lock_hash`` is
the SHA-256 of everything else in it; facts and verify runs name the lock by that hash, so the
``baseline.lock`` fact carries that body too, and counts only where the hash is its hash
(:func:`lock_fact_problem`).

The file is anyone's to edit who holds the program folder; the lock the program holds is the one
its log records (:func:`recorded_lock`): play 2's checks judge it, a second person verifies it,
and the gateway routes it, so ``baseline lock`` records the fact before it writes the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import platform
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse import __version__
from inhouse.baseline.drift import find_model
from inhouse.baseline.manifest import Manifest, read_manifest, runtime_config
from inhouse.errors import ConfigError, InvalidInput, NotAllowed, validation_problems
from inhouse.jsonfiles import toml_loads
from inhouse.location import CONFIG_NAME
from inhouse.program.config import read_config
from inhouse.program.engine import Program
from inhouse.program.events import canonical_json
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes.openai_compat import PIN_FIX
from inhouse.runtimes.protocol import Inventory

if TYPE_CHECKING:
    from inhouse.gateway.shared import Told
    from inhouse.program.state import ProgramState

__all__ = [
    "COLLECTOR",
    "LOCK_FORMAT",
    "LOCK_NAME",
    "Lock",
    "LockResult",
    "LockedModel",
    "LockedRuntime",
    "build_lock",
    "lock_baseline",
    "lock_fact_payload",
    "lock_fact_problem",
    "lock_text",
    "measure_lock",
    "program_lock",
    "read_lock",
    "recorded_lock",
    "require_lock",
    "rules_hash",
    "same_lock",
    "uncounted_lock",
    "write_lock",
]

LOCK_NAME = "inhouse.lock"
LOCK_FORMAT = 1
COLLECTOR = "inhouse baseline lock"
_HEADER = (
    "# inhouse.lock: the baseline, pinned. Written by `inhouse baseline lock`; do not edit.\n"
    "# Keep it in git beside inhouse.toml. `inhouse baseline verify` checks a machine against it.\n"
)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LockedRuntime(_Frozen):
    name: str
    family: str
    #: what the runtime reported (None: it reports no version or build)
    version: str | None = None
    build: str | None = None
    #: what the manifest said it must be, where it said so
    declared: str | None = None

    @property
    def label(self) -> str:
        """The version or build as one line (``unreported`` when the runtime says neither)."""
        return self.version or self.build or self.declared or "unreported"


class LockedModel(_Frozen):
    name: str
    digest: str = Field(min_length=8)
    digest_source: str | None = None
    size: int | None = None


class Lock(_Frozen):
    """The parsed ``inhouse.lock``."""

    format: int = LOCK_FORMAT
    owner: str
    runtime: LockedRuntime
    models: list[LockedModel] = Field(min_length=1)
    python: str
    inhouse: str
    #: the data-handling rules' hash ('' when inhouse.toml has no [data_rules] table)
    rules_hash: str = ""
    lock_hash: str = ""

    def body(self) -> dict[str, Any]:
        """Everything but the lock hash, as it is hashed and written (None fields left out)."""
        return self.model_dump(exclude={"lock_hash"}, exclude_none=True)

    def computed_hash(self) -> str:
        return "sha256:" + hashlib.sha256(canonical_json(self.body()).encode()).hexdigest()

    def model(self, name: str) -> LockedModel:
        """The blessed model ``name``; :class:`NotAllowed` naming the blessed ones otherwise."""
        for pinned in self.models:
            if pinned.name == name:
                return pinned
        blessed = ", ".join(m.name for m in self.models)
        raise NotAllowed(
            f"model {name!r} is not a blessed model of the baseline (lock "
            f"{self.lock_hash[:19]}); blessed: {blessed}"
        )


def rules_hash(config: dict[str, Any], manifest: Manifest | None = None) -> str:
    """The data-handling rules' hash, or '' when ``inhouse.toml`` has no ``[data_rules]``.
    With ``manifest``, rules for a model that is not blessed are refused."""
    if "data_rules" not in config:
        return ""
    from inhouse.policy import load_rules

    rules = load_rules(config)
    if manifest is not None:
        blessed = [m.name for m in manifest.models]
        for name in rules.models_named():
            if name not in blessed:
                raise ConfigError(
                    f"{CONFIG_NAME}: data_rules.models.{name}: {name!r} is not a blessed model "
                    f"(blessed: {', '.join(blessed)}); rules are for the baseline's models"
                )
    return rules.rules_hash()


def build_lock(
    manifest: Manifest, inventory: Inventory, *, runtime_family: str, rules: str
) -> Lock:
    """The lock for ``manifest`` from what the runtime reported; refuses what cannot be pinned."""
    reported = [value for value in (inventory.version, inventory.build) if value]
    if manifest.version and reported and manifest.version not in reported:
        raise ConfigError(
            f"baseline.version is {manifest.version!r}, but runtime {manifest.runtime} reports "
            f"{' / '.join(reported)}: install the declared version, or change baseline.version"
        )
    listed = ", ".join(sorted(m.id for m in inventory.models)) or "nothing"
    pinned = []
    for index, blessed in enumerate(manifest.models):
        info = find_model(inventory.models, blessed.name)
        if info is None:
            raise ConfigError(
                f"baseline.models.{index}.name: runtime {manifest.runtime} at {inventory.url} "
                f"does not serve {blessed.name!r} (it lists: {listed})"
            )
        if info.digest is None:
            raise ConfigError(
                f"baseline.models.{index}: runtime {manifest.runtime} serves {blessed.name!r} "
                f"without a content digest, so it cannot be pinned: {info.why_no_digest or PIN_FIX}"
            )
        pinned.append(
            LockedModel(
                name=blessed.name, digest=info.digest, digest_source=info.digest_source,
                size=info.size,
            )
        )  # fmt: skip
    lock = Lock(
        owner=manifest.owner,
        runtime=LockedRuntime(
            name=manifest.runtime,
            family=runtime_family,
            version=inventory.version,
            build=inventory.build,
            declared=manifest.version,
        ),
        models=pinned,
        python=platform.python_version(),
        inhouse=__version__,
        rules_hash=rules,
    )
    return lock.model_copy(update={"lock_hash": lock.computed_hash()})


async def measure_lock(folder: Path, config: dict[str, Any]) -> tuple[Lock, tuple[str, ...]]:
    """Ask the manifest's runtime for its inventory and build the lock from it; with it, the
    blessed models the runtime serves as the project's test model, by the reading every reader
    uses (:func:`~inhouse.runtimes.testmodel.serves_test_model`: its file's content, not only
    its name)."""
    from inhouse.runtimes.registry import open_runtime
    from inhouse.runtimes.testmodel import serves_test_model

    manifest = read_manifest(folder, config)
    if problem := _path_without_file(folder, manifest):
        raise ConfigError(problem)
    runtime = runtime_config(folder, manifest.runtime, config)
    rules = rules_hash(config, manifest)
    async with open_runtime(runtime, program=folder) as opened:
        inventory = await opened.inventory()
    lock = build_lock(manifest, inventory, runtime_family=runtime.family, rules=rules)
    served = [(m.name, find_model(inventory.models, m.name)) for m in lock.models]
    test = tuple(name for name, info in served if serves_test_model(info, name))
    return lock, test


def _path_without_file(folder: Path, manifest: Manifest) -> str | None:
    """Why the manifest cannot be locked as written, or None: a blessed model's ``path`` (where
    its file lives, relative to the program folder) names no file, and no ``source`` says where
    a machine fetches it. The install script would stop on it on the second person's machine,
    after the lock was recorded; refused here, before anything is measured or written."""
    for index, blessed in enumerate(manifest.models):
        if blessed.path and blessed.source is None and not (folder / blessed.path).is_file():
            return (
                f"baseline.models.{index}.path: {blessed.path!r} (blessed model "
                f"{blessed.name}) names no file in {folder}, and the model names no source to "
                "fetch it from: copy the blessed file there, name the path where it is, or "
                'give its source (source = "hf://…", "https://…" or a file); nothing was '
                "locked"
            )
    return None


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def lock_text(lock: Lock) -> str:
    """The file's exact text: a header, then the lock as TOML with every key sorted."""
    data = _sorted({**lock.body(), "lock_hash": lock.lock_hash})
    return _HEADER + "\n" + tomli_w.dumps(data)


def write_lock(folder: Path, lock: Lock) -> bool:
    """Write ``inhouse.lock``; returns False when the file already held exactly this text."""
    path = folder / LOCK_NAME
    text = lock_text(lock)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{LOCK_NAME}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


def read_lock(folder: Path) -> Lock | None:
    """The program's lock, or None when it has none. A lock whose content does not match its
    hash (edited by hand) is a :class:`ConfigError`: nothing may trust it."""
    path = folder / LOCK_NAME
    try:
        with path.open("rb") as handle:
            data = toml_loads(handle.read().decode())
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(
            f"{path} is not valid TOML: {err}; re-lock with `inhouse baseline lock`"
        ) from None
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"{path} is not valid TOML: not UTF-8 text ({err.reason}); re-lock with "
            "`inhouse baseline lock`"
        ) from None
    if data.get("format") != LOCK_FORMAT:
        raise ConfigError(
            f"{path} has lock format {data.get('format')!r}; this inhouse reads format "
            f"{LOCK_FORMAT}: re-lock with `inhouse baseline lock`"
        )
    try:
        lock = Lock.model_validate(data)
    except ValidationError as err:
        raise ConfigError(f"{path}: {validation_problems(err)}") from None
    if lock.lock_hash != lock.computed_hash():
        raise ConfigError(
            f"{path} was changed by hand: its content does not match its lock_hash "
            f"{lock.lock_hash[:19]}; re-lock with `inhouse baseline lock`"
        )
    return lock


def require_lock(folder: Path) -> Lock:
    """The program's lock; a :class:`ConfigError` saying how to make one when there is none."""
    lock = read_lock(folder)
    if lock is None:
        raise ConfigError(f"no {LOCK_NAME} yet: run `inhouse baseline lock` first")
    return lock


def lock_fact_payload(lock: Lock) -> dict[str, Any]:
    """The ``baseline.lock`` fact's payload for ``lock``: what the checks read, and the lock's
    body, from which :func:`lock_fact_problem` recomputes the rest."""
    return {
        "lock_hash": lock.lock_hash,
        "owner": lock.owner,
        "runtime": {"family": lock.runtime.family, "version": lock.runtime.label},
        "models": [{"name": m.name, "digest": m.digest} for m in lock.models],
        "rules_hash": lock.rules_hash,
        "body": lock.body(),
    }


#: the payload fields a ``baseline.lock`` fact derives from its body
_DERIVED = ("runtime", "models", "rules_hash", "owner")
_RELOCK = "re-lock: `inhouse baseline lock`"


def lock_fact_problem(payload: dict[str, Any]) -> str | None:
    """Why a ``baseline.lock`` fact's payload is not the lock it names, or None when it is: its
    ``lock_hash`` must be the hash of the body it carries, computed as :meth:`Lock.computed_hash`
    does, and its runtime, models, rules hash and owner what that body pins. Otherwise anyone
    could name a lock a colleague verified while listing other weights."""
    body = payload.get("body")
    if body is None:
        return (
            "recorded before lock facts carried the lock's body, so nothing ties its lock_hash "
            f"to the models it lists: {_RELOCK}"
        )
    stated = str(payload.get("lock_hash", ""))
    try:
        lock = Lock.model_validate({**body, "lock_hash": stated})
    except ValidationError as err:
        return f"the lock it carries is not a lock ({validation_problems(err)}): {_RELOCK}"
    computed = lock.computed_hash()
    if computed != stated:
        return (
            f"its lock_hash {stated[:19]} is not the hash of the lock it carries "
            f"({computed[:19]}): {_RELOCK}"
        )
    expected = lock_fact_payload(lock)
    differ = [key for key in _DERIVED if payload.get(key) != expected[key]]
    if differ:
        return (
            f"its {', '.join(differ)} differ from what the lock it carries pins "
            f"(lock {stated[:19]}): {_RELOCK}"
        )
    return None


def recorded_lock(state: ProgramState, now: datetime) -> Lock | None:
    """The program's current lock as its log records it (None: it records none yet): the
    latest ``baseline.lock`` fact that counts, rebuilt from the body it carries, which is what
    play 2's checks judge, what a second person verifies, and what the gateway routes."""
    from inhouse.program.counting import build_context  # counting reads this module

    fact = build_context(state, now).facts.latest("baseline.lock")
    if fact is None:
        return None
    # a counted fact's body hashes to its lock_hash (lock_fact_problem), so this is that lock
    return Lock.model_validate({**fact.payload["body"], "lock_hash": fact.payload["lock_hash"]})


def uncounted_lock(state: ProgramState, now: datetime) -> str | None:
    """Why the program's lock facts do not count, where it has some and none counts (one from
    before lock facts carried their body, say); None when one counts or there are none."""
    from inhouse.program.counting import build_context

    context = build_context(state, now)
    if context.facts.latest("baseline.lock") is not None:
        return None
    refused = context.uncounted_of(["baseline.lock"])
    if not refused:
        return None
    return f"its baseline.lock fact #{refused[-1].fact.id} does not count: {refused[-1].why}"


def program_lock(program: Program, now: datetime | None = None) -> Lock | None:
    """The lock whatever acts on the baseline's weights follows (a workflow run, the pilot
    guide, a support ticket's model): the one the program's log records (:func:`recorded_lock`),
    whatever ``inhouse.lock`` says, as the gateway routes it; ``inhouse.lock`` only while the log
    records none (play 1 and 2, before ``inhouse baseline lock``), as the gateway routes it then
    too; None when there is neither. A file anyone holding the folder rewrote blesses nothing.
    ``now``: the moment the log is read at (default: the clock's)."""
    recorded = recorded_lock(program.state(), program.clock() if now is None else now)
    return recorded if recorded is not None else read_lock(program.folder)


def same_lock(fact: Fact | None, lock: Lock) -> bool:
    """Whether ``fact`` (a counted ``baseline.lock`` fact) records ``lock``."""
    return fact is not None and fact.payload.get("lock_hash") == lock.lock_hash


@dataclass(frozen=True)
class LockResult:
    lock: Lock
    #: whether inhouse.lock changed (False: re-locked to the same bytes)
    written: bool
    #: the baseline.lock fact recorded (None when the program already records this lock)
    fact: Fact | None
    path: Path
    #: what the running gateway replicas were told of a new lock (None: neither the recorded
    #: lock nor the file changed)
    told: Told | None = None
    #: the blessed models the runtime served as the project's test model (read from the
    #: weights where it could, else by name), which a real program's plays 1-3 do not count
    test_models: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """What ``baseline lock --json`` prints."""
        return {
            "lock": self.lock.model_dump(),
            "path": str(self.path),
            "written": self.written,
            "fact": self.fact.id if self.fact else None,
            "test_models": list(self.test_models),
            "replicas_told": self.told.to_dict() if self.told else None,
        }


def lock_baseline(
    program: Program, actor: str | None, *, closes: Sequence[str | int] = ()
) -> LockResult:
    """``inhouse baseline lock``: measure, record a ``baseline.lock`` fact (only when the lock
    differs from the counted one the program records), write ``inhouse.lock``, and tell the
    running gateway replicas of a new lock through Redis when they share one (a Redis that does
    not answer fails nothing: :attr:`LockResult.told` says so, and each replica re-reads the
    lock at its refresh). ``closes`` names findings about the baseline this re-lock answers
    (play 6)."""
    from inhouse.program.counting import build_context, pin_refusal

    who = program.actor(actor)
    state = program.state()
    if pin_refusal(state, who.name, state.head_seq + 1) is not None:
        # before measuring: a lock that would not count is not written where it looks like one
        raise NotAllowed(
            f"{who.name} cannot pin the baseline: the lock the gateway routes is pinned by "
            "someone a lead put in charge (a rollout lead, a play owner, the support owner), "
            f"and {who.name} is none of them (a lead gives the role: `inhouse person role "
            f"{who.name} --add play-owner`)"
        )
    ctx = build_context(state, program.clock())
    facts = ctx.facts
    numbers: list[int] = []
    if closes:
        from inhouse.program.feedback import require_open

        numbers = require_open(ctx, closes, target="baseline")
    config = read_config(program.folder)
    lock, test_models = asyncio.run(measure_lock(program.folder, config))
    if lock.owner not in program.state().people:
        raise ConfigError(
            f"baseline.owner {lock.owner!r} is not on this program's roster: a rollout lead "
            f"invites them (`inhouse person invite {lock.owner}`)"
        )
    # the lock the checks see: a fact that does not count (one from before lock facts carried
    # their body, say) is no reason to record nothing
    latest = facts.latest("baseline.lock")
    if numbers and same_lock(latest, lock):
        raise InvalidInput(
            f"the lock is unchanged ({lock.lock_hash}): a re-lock that changes nothing answers "
            f"no finding (#{', #'.join(map(str, numbers))} stay open)"
        )
    if numbers:
        # judged as findings-fed-back judges the recorded re-lock: a new lock hash is not a
        # new baseline (a new owner, Python or inhouse version changes the hash alone)
        from inhouse.program.feedback import relock_refusal

        if why := relock_refusal(ctx, numbers, lock_fact_payload(lock)):
            raise InvalidInput(
                f"this re-lock ({lock.lock_hash[:19]}) would answer no finding, so nothing was "
                f"recorded: {why} (#{', #'.join(map(str, numbers))} stay open)"
            )
    # the fact first: the gateway routes the lock the log records, never the file alone, so a
    # lock that could not be recorded (refused, say) is not written where it looks like one
    fact = None
    if not same_lock(latest, lock):
        payload = lock_fact_payload(lock)
        if numbers:
            payload["closes"] = numbers
        fact = program.record_fact(
            who.name,
            "baseline.lock",
            payload,
            provenance=Provenance.MEASURED,
            collector=COLLECTOR,
        )
    written = write_lock(program.folder, lock)
    told = None
    if written or fact is not None:  # gateways sharing Redis route it now, not at their refresh
        from inhouse.gateway.shared import announce

        told = announce(program.folder, "lock")
    return LockResult(lock, written, fact, program.folder / LOCK_NAME, told, test_models)
