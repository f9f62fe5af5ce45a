"""``baseline verify``: this machine, checked against the lock, recorded as a fact.

Each check says what it found and, where it fails, the fix. The run is recorded as a
``baseline.verify`` fact (measured, by the person who ran it, with a fingerprint of the machine,
the lock hash, the digests the runtime served the blessed models with and whether its answers
came from this machine), which play 2's exit reads: a passing verify by someone other than the
baseline's owner, of the current lock's weights, answered on their own machine.
"""

from __future__ import annotations

import asyncio
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from inhouse import __version__, figures
from inhouse.baseline.drift import drifts
from inhouse.baseline.lock import LOCK_NAME, Lock, read_lock, rules_hash
from inhouse.baseline.manifest import Manifest, read_manifest, runtime_config
from inhouse.errors import ConfigError, InhouseError, RuntimeFault, UnknownPerson
from inhouse.location import refuse_tracked_state
from inhouse.program.config import read_config
from inhouse.program.engine import Program
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes.capabilities import runtime_capabilities
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.local import UNKNOWN_PEER, answered_here, is_own_address, peers_of
from inhouse.runtimes.protocol import Inventory

__all__ = [
    "COLLECTOR",
    "VerifyCheck",
    "VerifyOutcome",
    "VerifyReport",
    "baseline_owners",
    "current_lock_hash",
    "inhouse_origin",
    "machine_fingerprint",
    "record_verify",
    "run_verify",
    "verify_machine",
]

COLLECTOR = "inhouse baseline verify"


class VerifyCheck(BaseModel):
    """One thing checked: passed or not, what was found, and the fix where it failed.
    A ``warning`` is shown but does not fail the verify."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False


class VerifyReport(BaseModel):
    lock_hash: str
    machine: str
    checks: list[VerifyCheck]
    #: each blessed model the runtime served, with the digest it served it with (a model it did
    #: not serve, or served without a digest, is left out): play 2 compares these with the lock
    models: list[dict[str, str]] = Field(default_factory=list)
    #: whether every answer of the runtime came from this machine (None: it was not reached),
    #: and the addresses they came from: play 2 counts a verify only where it says so
    runtime_local: bool | None = None
    runtime_peers: list[str] = Field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.ok or check.warning for check in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if not c.ok and not c.warning]

    def to_dict(self) -> dict[str, Any]:
        return {**self.model_dump(), "passed": self.passed}


def machine_fingerprint() -> str:
    """This machine's fingerprint (:mod:`inhouse.identity.machine`): compared with the machines
    the baseline's owners enrolled their keys from."""
    from inhouse.identity import machine

    return machine.machine_fingerprint()


def inhouse_origin() -> dict[str, str]:
    """Where the running inhouse came from: its version, and ``installed_from`` ``index`` (pip
    installed it from a package index), ``url`` (pip installed it from a folder or URL, which
    its ``direct_url.json`` names) or ``checkout`` (it runs from a source tree that no installed
    distribution holds: an editable install too, whose files are the tree's, not the
    distribution's; docs/baseline.md)."""
    import json
    from importlib import metadata

    import inhouse

    try:
        dist = metadata.distribution("inhouse")
    except metadata.PackageNotFoundError:
        return {"version": __version__, "installed_from": "checkout"}
    running = Path(inhouse.__file__).resolve()
    if Path(str(dist.locate_file("inhouse/__init__.py"))).resolve() != running:
        return {"version": __version__, "installed_from": "checkout"}
    direct = dist.read_text("direct_url.json")
    if direct is None:
        return {"version": dist.version, "installed_from": "index"}
    try:
        url = str(json.loads(direct).get("url", ""))
    except (ValueError, AttributeError):
        url = ""
    return {"version": dist.version, "installed_from": "url", "url": url}


def _manifest_check(manifest: Manifest, lock: Lock) -> VerifyCheck:
    blessed = [m.name for m in manifest.models]
    pinned = [m.name for m in lock.models]
    if manifest.runtime != lock.runtime.name or blessed != pinned:
        return VerifyCheck(
            name="manifest",
            ok=False,
            detail=(
                f"inhouse.toml blesses {', '.join(blessed)} on runtime {manifest.runtime}; "
                f"the lock pins {', '.join(pinned)} on {lock.runtime.name}"
            ),
            fix="the manifest changed since the lock: the owner re-locks (`inhouse baseline "
            "lock`), or you pull the inhouse.toml that matches the lock",
        )
    return VerifyCheck(
        name="manifest",
        ok=True,
        detail=f"inhouse.toml matches the lock ({figures.count(len(pinned), 'blessed models')})",
    )


def _runtime_fix(runtime: RuntimeConfig, lock: Lock) -> str:
    if runtime_capabilities(runtime).served_by_inhouse:
        # by the blessed model's name, as `runtime serve` takes it: a newcomer typed the
        # placeholder's `.gguf` and looked for a file a fresh checkout does not hold
        return f"start it: `inhouse runtime serve {lock.models[0].name}` (the install script does)"
    return (
        f"start the {runtime.family} runtime at {runtime.url}, or correct the url in "
        f"[runtimes.{lock.runtime.name}] of inhouse.toml"
    )


def _version_check(lock: Lock, inventory: Inventory) -> VerifyCheck:
    locked = lock.runtime
    if locked.version is None and locked.build is None:
        return VerifyCheck(
            name="runtime version",
            ok=True,
            detail=f"{locked.family} reports no version or build; the lock pins the models by "
            "digest",
        )
    found = (inventory.version, inventory.build)
    if found == (locked.version, locked.build):
        return VerifyCheck(name="runtime version", ok=True, detail=f"{locked.label}, as locked")
    shown = " / ".join(v for v in found if v) or "none"
    return VerifyCheck(
        name="runtime version",
        ok=False,
        detail=f"locked {locked.label}, found {shown}",
        fix=f"install {locked.family} {locked.label}, the locked version",
    )


def _model_checks(
    lock: Lock, inventory: Inventory, where: str
) -> tuple[list[VerifyCheck], list[dict[str, str]]]:
    """A check per blessed model, and the digests the runtime served them with."""
    drifted = {d.model: d for d in drifts(lock, inventory.models, where=where)}
    checks = []
    served = []
    for pinned in lock.models:
        drift = drifted.get(pinned.name)
        name = f"model {pinned.name}"
        if drift is None:
            served.append({"name": pinned.name, "digest": pinned.digest})
            checks.append(VerifyCheck(name=name, ok=True, detail=f"{pinned.digest}, as locked"))
        elif drift.found is not None:
            served.append({"name": pinned.name, "digest": drift.found})
            checks.append(
                VerifyCheck(
                    name=name,
                    ok=False,
                    detail=f"digest mismatch: locked {drift.locked}, found {drift.found}",
                    fix="put the blessed file back (the install script fetches and checks it), "
                    "or, if the new weights are meant, the owner re-locks",
                )
            )
        elif drift.unpinned:
            checks.append(
                VerifyCheck(
                    name=name,
                    ok=False,
                    detail=drift.detail,
                    fix="stand the runtime up so that it names the weights it loaded (a file "
                    "named only in inhouse.toml proves nothing about them); docs/runtimes.md, "
                    "'Families and their digests', says how for each runtime",
                )
            )
        else:
            checks.append(
                VerifyCheck(
                    name=name,
                    ok=False,
                    detail=drift.detail,
                    fix=f"load {pinned.name} ({pinned.digest}) into the runtime; the install "
                    "script fetches the file and checks its SHA-256",
                )
            )
    return checks, served


def _rules_check(config: dict[str, Any], lock: Lock) -> VerifyCheck:
    try:
        here = rules_hash(config)
    except InhouseError as err:
        return VerifyCheck(
            name="data rules",
            ok=False,
            detail=str(err),
            fix="fix the [data_rules] table of inhouse.toml",
        )
    if here == lock.rules_hash:
        shown = here[:19] if here else "none written"
        return VerifyCheck(name="data rules", ok=True, detail=f"rules hash {shown}, as locked")
    return VerifyCheck(
        name="data rules",
        ok=False,
        detail=f"rules hash locked {lock.rules_hash or '(none)'}, found {here or '(none)'}",
        fix="the [data_rules] in inhouse.toml changed since the lock: pull the current "
        "inhouse.toml, or the owner re-locks",
    )


def _environment_checks(lock: Lock) -> list[VerifyCheck]:
    checks = []
    if lock.inhouse == __version__:
        checks.append(VerifyCheck(name="inhouse", ok=True, detail=f"{__version__}, as locked"))
    else:
        checks.append(
            VerifyCheck(
                name="inhouse",
                ok=False,
                detail=f"locked {lock.inhouse}, found {__version__}",
                fix=f"install inhouse {lock.inhouse} (the install script pins it)",
            )
        )
    here = platform.python_version()
    same = here.split(".")[:2] == lock.python.split(".")[:2]
    checks.append(
        VerifyCheck(
            name="python",
            ok=same,
            warning=not same,
            detail=f"{here}"
            + (", as locked" if same else f" (the lock was made on {lock.python})"),
        )
    )
    return checks


async def _runtime_checks(
    folder: Path, lock: Lock, runtime: RuntimeConfig
) -> tuple[list[VerifyCheck], list[dict[str, str]], frozenset[str] | None]:
    """The runtime's checks, the blessed models it served, and the addresses its answers came
    from (None: it did not answer)."""
    from inhouse.runtimes.registry import open_runtime

    try:
        async with open_runtime(runtime, program=folder) as opened:
            health = await opened.health()
            if not health.ok:
                down = VerifyCheck(
                    name="runtime",
                    ok=False,
                    detail=f"{runtime.name} ({runtime.family}) at {opened.url} does not "
                    f"answer: {health.detail}",
                    fix=_runtime_fix(runtime, lock),
                )
                return [down], [], None
            inventory = await opened.inventory()
            url = opened.url
            peers = peers_of(opened)  # who answered the health check and the inventory
            if runtime_capabilities(runtime).served_by_inhouse:
                peers |= _unblessed(lock, getattr(opened, "served_files", frozenset()))
    except RuntimeFault as fault:
        fix = _runtime_fix(runtime, lock)
        return [VerifyCheck(name="runtime", ok=False, detail=str(fault), fix=fix)], [], None
    where = f"runtime {runtime.name} at {url}"
    reached = VerifyCheck(name="runtime", ok=True, detail=f"{runtime.family}, answers at {url}")
    here = _here_check(runtime, lock, url, peers)
    models, served = _model_checks(lock, inventory, where)
    return [reached, here, _version_check(lock, inventory), *models], served, peers


def _unblessed(lock: Lock, files: frozenset[str]) -> frozenset[str]:
    """What inhouse's runtime found behind the answers serves that is no blessed file, as
    peers that are no machine's (:func:`answered_here` then says not here): a runtime inhouse
    serves is stood up here when it runs here on the file the lock pins, not on other weights
    under the blessed model's name."""
    blessed = {pinned.digest for pinned in lock.models}
    found = set()
    for name in sorted(files):
        path = Path(name)
        try:
            digest = sha256_digest(path) if path.is_absolute() and path.is_file() else None
        except OSError:
            digest = None
        if digest not in blessed:
            found.add(f"inhouse's runtime here (serving {name}, no file the lock pins)")
    return frozenset(found)


def _here_check(runtime: RuntimeConfig, lock: Lock, url: str, peers: frozenset[str]) -> VerifyCheck:
    """A verify measures the baseline stood up on this machine: a runtime answering from
    another host's address (the baseline owner's server, say) is that host's install, not this
    one's. Judged by the addresses the answers came from, never by resolving ``url`` again (a
    name can point elsewhere during the verify and here when asked afterwards)."""
    name = "runtime on this machine"
    if answered_here(peers):
        detail = f"{url} answered from {', '.join(sorted(peers))}, this machine"
        return VerifyCheck(name=name, ok=True, detail=detail)
    elsewhere = sorted(peer for peer in peers - {UNKNOWN_PEER} if not is_own_address(peer))
    # what a runtime inhouse serves was seen behind its port, where that is not it (a peer
    # that names what held it, or what it serves): the address alone would read as here
    seen = [peer for peer in elsewhere if " " in peer]
    elsewhere = [peer for peer in elsewhere if " " not in peer]
    if seen:
        where = (
            f"answered, but not as inhouse's runtime serving the blessed file: {'; '.join(seen)}"
        )
    elif elsewhere:
        where = f"answered from {', '.join(elsewhere)}, which is not this machine"
    else:  # answers over a connection that did not say where it went: no judgement, not here
        where = "answered over a connection inhouse could not see, so it cannot count as here"
    return VerifyCheck(
        name=name,
        ok=False,
        detail=f"{runtime.name} at {url} {where}: a verify measures the baseline stood up "
        "here, from the docs",
        fix="end what holds the runtime's port and start inhouse's runtime here on the "
        "blessed file: `inhouse runtime serve MODEL.gguf` (the install script does)"
        if seen
        else f"install the runtime here (the install script starts it on this machine) and "
        f"point [runtimes.{lock.runtime.name}] url at it",
    )


async def verify_machine(folder: Path, *, current_lock: str | None = None) -> VerifyReport:
    """Check this machine against ``inhouse.lock`` in ``folder``. ``current_lock`` is the
    program's current lock hash (its latest ``baseline.lock`` fact), where known: a lock file
    that is not the current one fails, since a verify of it would not count.

    Raises :class:`ConfigError` when there is no readable lock to check against."""
    lock = read_lock(folder)
    if lock is None:
        raise ConfigError(
            f"no {LOCK_NAME} in {folder}: the baseline's owner runs `inhouse baseline lock` "
            "and commits it; pull it, then verify"
        )
    checks = [_lock_check(lock, current_lock)]
    served: list[dict[str, str]] = []
    peers: frozenset[str] | None = None
    config = read_config(folder)
    try:
        manifest = read_manifest(folder, config)
    except ConfigError as err:
        checks.append(
            VerifyCheck(name="manifest", ok=False, detail=str(err), fix="fix inhouse.toml")
        )
        manifest = None
    if manifest is not None:
        checks.append(_manifest_check(manifest, lock))
    try:
        runtime = runtime_config(folder, lock.runtime.name, config)
    except ConfigError as err:
        checks.append(
            VerifyCheck(name="runtime", ok=False, detail=str(err), fix="fix inhouse.toml")
        )
    else:
        found, served, peers = await _runtime_checks(folder, lock, runtime)
        checks.extend(found)
    checks.append(_rules_check(config, lock))
    checks.extend(_environment_checks(lock))
    return VerifyReport(
        lock_hash=lock.lock_hash,
        machine=machine_fingerprint(),
        checks=checks,
        models=served,
        runtime_local=None if peers is None else answered_here(peers),
        runtime_peers=sorted(peers or ()),
    )


def _lock_check(lock: Lock, current: str | None) -> VerifyCheck:
    if current is not None and current != lock.lock_hash:
        return VerifyCheck(
            name="lock",
            ok=False,
            detail=f"{LOCK_NAME} here is {lock.lock_hash[:19]}, but the program's current lock "
            f"is {current[:19]}",
            fix="pull the current inhouse.lock and inhouse.toml (and rerun the install script)",
        )
    detail = f"{lock.lock_hash[:19]}, owner {lock.owner}"
    if current is None:
        return VerifyCheck(
            name="lock",
            ok=True,
            warning=True,
            detail=f"{detail}; the program has recorded no lock, so this verify cannot count",
        )
    return VerifyCheck(name="lock", ok=True, detail=f"{detail}, the program's current lock")


def _counted_lock(program: Program) -> Fact | None:
    """The program's current lock as play 2 judges it: its latest counted ``baseline.lock``."""
    from inhouse.program.counting import build_context

    return build_context(program.state(), program.clock()).facts.latest("baseline.lock")


def current_lock_hash(program: Program) -> str | None:
    """The lock hash of the program's latest counted ``baseline.lock`` fact, or None."""
    fact = _counted_lock(program)
    return str(fact.payload["lock_hash"]) if fact is not None else None


def record_verify(program: Program, actor: str | None, report: VerifyReport) -> Fact:
    """Record the run as a measured ``baseline.verify`` fact by ``actor``."""
    payload = {
        "lock_hash": report.lock_hash,
        "passed": report.passed,
        "machine": report.machine,
        "failures": report.failures,
        "models": report.models,
        "inhouse": inhouse_origin(),
        "runtime_local": report.runtime_local,
        "runtime_peers": report.runtime_peers,
    }
    return program.record_fact(
        actor, "baseline.verify", payload, provenance=Provenance.MEASURED, collector=COLLECTOR
    )


def baseline_owners(program: Program, lock: Lock) -> set[str]:
    """Who counts as the baseline's owner, as play 2's check judges it: the manifest's owner,
    play 2's owner and whoever signed the program's current lock."""
    owners = {lock.owner}
    state = program.state()
    play_owner = state.owners.get("baseline")
    if play_owner:
        owners.add(play_owner)
    locked = _counted_lock(program)
    if locked is not None:
        owners.add(locked.by)
    return owners


def _not_elsewhere(program: Program, fact: Fact, owners: set[str]) -> str | None:
    """Why ``fact`` is not a second person's verify on their own machine (the rule play 2's
    check applies: another signer, no rollout lead, from a machine none of the owners or leads
    enrolled, nor with keys all made on the gateway's host after one of them enrolled its key
    there), or None."""
    from inhouse.program.counting import build_context
    from inhouse.program.playchecks._shared import second_person_apart

    context = build_context(program.state(), program.clock())
    return second_person_apart(context, fact, owners, play="baseline")


def _unpinned(fact: Fact) -> str | None:
    from inhouse.program.playchecks._shared import unpinned_inhouse

    return unpinned_inhouse(fact.payload)


@dataclass(frozen=True)
class VerifyOutcome:
    """A verify run: the report, the fact it recorded, and whether it counts for play 2."""

    person: str
    report: VerifyReport
    fact: Fact | None
    counts: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        """What ``baseline verify --json`` prints: the report, and whether it counts."""
        return {
            **self.report.to_dict(),
            "person": self.person,
            "fact": self.fact.id if self.fact else None,
            "counts_for_exit": self.counts,
            "why": self.why,
        }


def run_verify(program: Program, actor: str | None, *, record: bool = True) -> VerifyOutcome:
    """``inhouse baseline verify``: check this machine, record the run (unless ``record`` is
    False), and say whether it satisfies play 2's exit. Refused, when it records, where the
    checkout's git tracks a file under ``.inhouse/`` (this machine's own state)."""
    if record:
        refuse_tracked_state(program.folder, "inhouse baseline verify")
    if program.detached():
        # a checkout without the program's log (a second person's own laptop): the run is
        # signed into the outbox, and the program's side judges it against its current lock
        checkout = read_lock(program.folder)
        current = checkout.lock_hash if checkout is not None else None
        report = asyncio.run(verify_machine(program.folder, current_lock=current))
        fact = record_verify(program, None, report) if record else None
        if fact is None:
            why = "it was not recorded (--no-record)"
        elif not report.passed:
            why = "it failed"
        else:  # it may count, once it reaches the log
            why = (
                "not until the program's lead imports it from this checkout's outbox "
                "(`inhouse evidence export -o FILE` here, then `inhouse evidence import FILE` "
                "where the log is)"
            )
        return VerifyOutcome(program.key.key_id, report, fact, False, why)
    try:
        person = program.actor(actor).name
    except UnknownPerson:
        if record:
            raise
        person = actor or "(not on the roster)"
    current = current_lock_hash(program)
    report = asyncio.run(verify_machine(program.folder, current_lock=current))
    fact = record_verify(program, person, report) if record else None
    lock = read_lock(program.folder)
    owners = baseline_owners(program, lock) if lock is not None else set()
    if not report.passed:
        why = "it failed"
    elif fact is None:
        why = "it was not recorded (--no-record)"
    elif report.lock_hash != current:
        why = "it is not against the program's current lock"
    elif person in owners:
        why = f"{person} is the baseline's owner; a second person must verify"
    elif (unpinned := _unpinned(fact)) is not None and not program.state().demo:
        why = f"{unpinned}; outside a demo program that proves nothing"
    elif (shared := _not_elsewhere(program, fact, owners)) is not None:
        why = f"{shared}; a second person verifies on their own machine"
    else:
        return VerifyOutcome(person, report, fact, True, f"{person} is not the baseline's owner")
    return VerifyOutcome(person, report, fact, False, why)
