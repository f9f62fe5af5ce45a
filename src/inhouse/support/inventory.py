"""Inventory: what every runtime node really serves, compared with the lock.

A node is one ``[runtimes.NAME]`` table the gateway sends blessed models to (``[gateway]
runtimes``, or every table). Each is asked through its own adapter: Ollama's ``/api/tags``
(manifest digests) and ``/api/ps`` (loaded now), llama.cpp's ``/props``, vLLM's ``/v1/models``
(a hub snapshot's revision), LM Studio's ``/api/v0/models``, the embedded runtime's GGUF
SHA-256. The diff against ``inhouse.lock``, per node:

    missing                 a blessed model the node does not serve (or the node is down)
    digest-mismatch         served under the blessed name with other weights, or with no digest
    runtime-version-drift   the node's runtime family, version or build is not the lock's
    unpinned-extra          served, but not a blessed model

A node that is down is reported as such: never a crash, never a pass.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from inhouse.baseline.drift import find_model
from inhouse.baseline.lock import Lock
from inhouse.errors import ConfigError, InhouseError
from inhouse.location import CONFIG_NAME
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.protocol import ModelInfo

__all__ = [
    "Finding",
    "InventoryReport",
    "NodeInventory",
    "Problem",
    "ServedModel",
    "ask_nodes",
    "compare",
    "pinning_enforced",
    "runtime_nodes",
    "take_inventory",
]

Problem = Literal["missing", "digest-mismatch", "runtime-version-drift", "unpinned-extra"]


@runtime_checkable
class _ReportsLoaded(Protocol):
    """An adapter that can say which models are in memory now (Ollama, LM Studio)."""

    async def loaded(self) -> list[str]: ...


@dataclass(frozen=True)
class ServedModel:
    id: str
    digest: str | None
    digest_source: str | None
    #: in memory now (None: the runtime does not say)
    loaded: bool | None = None
    path: str | None = None
    #: why the runtime gives no digest, and what would give one (None when it gives one)
    why_no_digest: str | None = None


@dataclass(frozen=True)
class NodeInventory:
    """What one node answered, or why it did not."""

    runtime: str
    family: str
    url: str
    up: bool
    error: str = ""
    version: str | None = None
    build: str | None = None
    models: list[ServedModel] = field(default_factory=list)

    @property
    def node(self) -> str:
        return f"{self.runtime} at {self.url}"


@dataclass(frozen=True)
class Finding:
    node: str
    model: str
    problem: Problem
    detail: str

    def __str__(self) -> str:
        model = f" {self.model}" if self.model else ""
        return f"{self.node}:{model} {self.problem} ({self.detail})"


@dataclass(frozen=True)
class InventoryReport:
    lock_hash: str
    nodes: list[NodeInventory]
    findings: list[Finding]
    pinning_enforced: bool
    pinning: str  # why pinning is (not) enforced

    @property
    def passed(self) -> bool:
        """Every node answered, serving exactly the blessed models with the locked digests."""
        return not self.findings and all(n.up for n in self.nodes)

    @property
    def down(self) -> list[NodeInventory]:
        return [n for n in self.nodes if not n.up]

    def to_dict(self) -> dict[str, Any]:
        return {
            "lock_hash": self.lock_hash,
            "passed": self.passed,
            "pinning_enforced": self.pinning_enforced,
            "pinning": self.pinning,
            "nodes": [{**asdict(n), "node": n.node} for n in self.nodes],
            "findings": [asdict(f) for f in self.findings],
        }


def runtime_nodes(folder: Path, config: dict[str, Any]) -> list[RuntimeConfig]:
    """The nodes to ask: the runtimes the gateway sends blessed models to (``[gateway]
    runtimes``, or every ``[runtimes.NAME]`` table)."""
    from inhouse.gateway.config import read_gateway_settings
    from inhouse.gateway.server import gateway_runtimes

    tables = config.get("runtimes") or {}
    if not tables:
        raise ConfigError(
            f"{folder / CONFIG_NAME}: no runtime to ask: add a [runtimes.NAME] table for each "
            "node that serves the blessed models"
        )
    return gateway_runtimes(folder, config, read_gateway_settings(folder, config))


def pinning_enforced(config: dict[str, Any], lock: Lock | None) -> tuple[bool, str]:
    """Whether the gateway refuses drifted digests. It always does (it routes a blessed model
    only to nodes serving the locked digest, re-checked every ``digest_check_seconds``; no
    setting turns that off), so pinning is enforced when there is a lock and a gateway."""
    if lock is None:
        return False, "no inhouse.lock: nothing is pinned"
    if "gateway" not in config:
        return False, (
            "no [gateway] table in inhouse.toml: requests do not go through the gateway that "
            "refuses drifted digests; add one (at least the host and port it serves on: "
            "docs/gateway.md), commit it, and review again"
        )
    return True, (
        "the gateway routes each blessed model only to nodes serving its locked digest "
        "(re-checked every digest_check_seconds)"
    )


def _served(info: ModelInfo, loaded: set[str] | None) -> ServedModel:
    return ServedModel(
        id=info.id,
        digest=info.digest,
        digest_source=info.digest_source,
        loaded=None if loaded is None else info.id in loaded,
        path=info.path,
        why_no_digest=info.why_no_digest if info.digest is None else None,
    )


async def _ask(config: RuntimeConfig, program: Path | None) -> NodeInventory:
    from inhouse.runtimes.registry import open_runtime

    url = config.url or "(not started)"
    try:
        async with open_runtime(config, program=program) as runtime:
            url = runtime.url
            inventory = await runtime.inventory()
            loaded = set(await runtime.loaded()) if isinstance(runtime, _ReportsLoaded) else None
    except InhouseError as err:
        return NodeInventory(config.name, config.family, url, up=False, error=str(err))
    return NodeInventory(
        runtime=config.name,
        family=config.family,
        url=url,
        up=True,
        version=inventory.version,
        build=inventory.build,
        models=[_served(m, loaded) for m in inventory.models],
    )


async def ask_nodes(configs: list[RuntimeConfig], program: Path | None) -> list[NodeInventory]:
    """Every node's inventory, asked at once (a down node waits out its connect timeout)."""
    return list(await asyncio.gather(*(_ask(c, program) for c in configs)))


def _info(model: ServedModel) -> ModelInfo:
    return ModelInfo(id=model.id, digest=model.digest, path=model.path)


def _find(node: NodeInventory, name: str) -> ServedModel | None:
    try:
        found = find_model([_info(m) for m in node.models], name)
    except ConfigError:  # several served models answer to the name: none is the blessed one
        return None
    return next(m for m in node.models if m.id == found.id) if found else None


def _version_drift(node: NodeInventory, lock: Lock) -> str | None:
    pinned = lock.runtime
    if node.family != pinned.family:
        return f"runtime family {node.family}, the lock pins {pinned.family} {pinned.label}"
    for what, served, locked in (
        ("version", node.version, pinned.version),
        ("build", node.build, pinned.build),
    ):
        if served and locked and served != locked:
            return f"{what} {served}, the lock pins {locked}"
    return None


def compare(lock: Lock, nodes: list[NodeInventory]) -> list[Finding]:
    """Every way each node's inventory differs from the lock."""
    findings: list[Finding] = []
    for node in nodes:
        if not node.up:
            findings.extend(
                Finding(node.node, m.name, "missing", f"the node did not answer: {node.error}")
                for m in lock.models
            )
            continue
        drift = _version_drift(node, lock)
        if drift:
            findings.append(Finding(node.node, "", "runtime-version-drift", drift))
        listed = ", ".join(sorted(m.id for m in node.models)) or "nothing"
        matched: set[str] = set()
        for pinned in lock.models:
            served = _find(node, pinned.name)
            if served is None:
                detail = f"not served (it lists: {listed})"
                findings.append(Finding(node.node, pinned.name, "missing", detail))
                continue
            matched.add(served.id)
            if served.digest is None:
                detail = (
                    f"served without a digest, so its weights are unknown; locked {pinned.digest}"
                )
                if served.why_no_digest:
                    detail += f" (no digest: {served.why_no_digest})"
                findings.append(Finding(node.node, pinned.name, "digest-mismatch", detail))
            elif served.digest != pinned.digest:
                detail = f"locked {pinned.digest}, served {served.digest}"
                findings.append(Finding(node.node, pinned.name, "digest-mismatch", detail))
        for model in node.models:
            if model.id not in matched:
                digest = model.digest or "no digest"
                state = {True: ", loaded", False: ", not loaded", None: ""}[model.loaded]
                detail = f"served but not blessed ({digest}{state})"
                findings.append(Finding(node.node, model.id, "unpinned-extra", detail))
    return findings


def take_inventory(folder: Path, lock: Lock, config: dict[str, Any]) -> InventoryReport:
    """Ask every node and compare with ``lock``."""
    nodes = asyncio.run(ask_nodes(runtime_nodes(folder, config), folder))
    enforced, why = pinning_enforced(config, lock)
    return InventoryReport(lock.lock_hash, nodes, compare(lock, nodes), enforced, why)
