"""Pinning and routing: which runtime nodes may serve each blessed model, right now.

A blessed model (name and digest, from ``inhouse.lock``) is routed only to runtimes that serve it
with the locked digest. The digests are re-checked on start and every ``digest_check_seconds``
(with :func:`inhouse.baseline.check_models`); a model that no runtime serves with its locked
digest is refused with a 503 naming the mismatch. Several runtimes serving one blessed model are
used round-robin; a node that fails its health check (or a request's connection) is skipped
until it answers again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inhouse.errors import InhouseError
from inhouse.gateway.errors import ApiError

if TYPE_CHECKING:
    from inhouse.baseline import Lock
    from inhouse.runtimes import RuntimeConfig

__all__ = ["Node", "Route", "Router"]

log = logging.getLogger("inhouse.gateway")


@dataclass
class Node:
    """One runtime serving one blessed model: where to send it and the id it knows it by."""

    runtime: str
    url: str
    model_id: str
    digest: str
    api_key: str | None = None
    healthy: bool = True
    detail: str = ""


@dataclass
class Route:
    """A blessed model and the nodes that serve it with the locked digest."""

    name: str
    digest: str
    nodes: list[Node] = field(default_factory=list)
    #: why no node may serve it (drift, not served), shown to the client in a 503
    problems: list[str] = field(default_factory=list)
    _turn: int = 0

    def pick(self) -> Node:
        """The next healthy node, round-robin; a 503 naming why when there is none."""
        count = len(self.nodes)
        for _ in range(count):
            node = self.nodes[self._turn % count]
            self._turn += 1
            if node.healthy:
                return node
        if not self.nodes:
            reason = "; ".join(self.problems) or "no runtime serves it"
            code = "model_drifted" if any("drift" in p for p in self.problems) else "no_runtime"
            raise ApiError(
                503,
                f"model {self.name!r} is refused: {reason}",
                type="upstream_error",
                code=code,
            )
        down = "; ".join(f"{n.runtime} at {n.url}: {n.detail or 'down'}" for n in self.nodes)
        raise ApiError(
            503,
            f"no runtime serving {self.name!r} answers ({down})",
            type="upstream_error",
            code="runtime_unavailable",
        )

    def others(self, tried: Node) -> list[Node]:
        return [n for n in self.nodes if n is not tried and n.healthy]


class Router:
    """The routes of every blessed model, rebuilt from the runtimes' inventories."""

    def __init__(
        self, lock: Lock, runtimes: Sequence[RuntimeConfig], *, program: Path | None = None
    ) -> None:
        self.lock = lock
        self.runtimes = list(runtimes)
        self.program = program
        self.routes: dict[str, Route] = {
            m.name: Route(m.name, m.digest, problems=["digests not checked yet"])
            for m in lock.models
        }

    @property
    def blessed(self) -> list[str]:
        return [m.name for m in self.lock.models]

    def route(self, name: str) -> Route | None:
        return self.routes.get(name)

    def nodes(self) -> list[Node]:
        seen: dict[tuple[str, str], Node] = {}
        for route in self.routes.values():
            for node in route.nodes:
                seen.setdefault((node.runtime, node.model_id), node)
        return list(seen.values())

    async def check_digests(self) -> None:
        """Ask every runtime what it serves and rebuild the routes (pinning by digest)."""
        from inhouse.baseline import check_models, find_model
        from inhouse.runtimes import open_runtime

        routes = {m.name: Route(m.name, m.digest) for m in self.lock.models}
        for config in self.runtimes:
            try:
                async with open_runtime(config, program=self.program) as runtime:
                    drifts = {d.model: d for d in await check_models(self.lock, runtime)}
                    served = await runtime.models()
                    url = runtime.url
            except InhouseError as err:
                for route in routes.values():
                    route.problems.append(f"runtime {config.name} could not be checked: {err}")
                continue
            for pinned in self.lock.models:
                route = routes[pinned.name]
                drift = drifts.get(pinned.name)
                if drift is not None:
                    if drift.found is not None:
                        route.problems.append(
                            f"digest drift on runtime {config.name}: locked {drift.locked}, "
                            f"served {drift.found}"
                        )
                    else:
                        route.problems.append(str(drift))
                    continue
                info = find_model(served, pinned.name)
                if info is None:  # served between the two questions: check again next time
                    continue
                route.nodes.append(
                    Node(
                        runtime=config.name,
                        url=url,
                        model_id=info.id,
                        digest=pinned.digest,
                        api_key=config.api_key(),
                    )
                )
        # keep health and round-robin position of nodes that are still there
        for name, route in routes.items():
            old = self.routes.get(name)
            if old is None:
                continue
            before = {(n.runtime, n.model_id): n for n in old.nodes}
            for index, node in enumerate(route.nodes):
                kept = before.get((node.runtime, node.model_id))
                if kept is not None:
                    route.nodes[index] = kept
            route._turn = old._turn
            if route.problems and not route.nodes:
                log.warning("model %s refused: %s", name, "; ".join(route.problems))
        self.routes = routes


async def probe(session: object, node: Node, timeout: float = 2.0) -> tuple[bool, str]:
    """GET /v1/models on a node with the gateway's pooled session: (answers, detail)."""
    import aiohttp

    assert isinstance(session, aiohttp.ClientSession)
    try:
        async with session.get(
            node.url + "/v1/models", timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            await response.read()
            if response.status >= 500:
                return False, f"answered {response.status}"
            return True, ""
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        return False, f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


async def check_health(session: object, nodes: Sequence[Node]) -> None:
    results = await asyncio.gather(*(probe(session, node) for node in nodes))
    for node, (ok, detail) in zip(nodes, results, strict=True):
        if ok != node.healthy:
            log.warning("runtime %s at %s is %s %s", node.runtime, node.url,
                        "back" if ok else "down", detail)  # fmt: skip
        node.healthy, node.detail = ok, detail
