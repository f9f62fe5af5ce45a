"""Pinning and routing: which runtime nodes may serve each blessed model, right now.

The blessed models are those of the lock the program's log records (its latest counted
``baseline.lock`` fact: what play 2 judged and a second person verified), not of the file
``inhouse.lock``, which anyone holding the program folder can rewrite to bless weights nobody
verified (:class:`LockChoice`). A file that is not the recorded lock is said in ``/healthz`` and
the gateway's log, and a model only it blesses is refused naming both locks and the fix. Only
while the log records no lock yet (play 1, before ``inhouse baseline lock``) is the file routed.

A blessed model (name and digest) is routed only to runtimes that serve it
with the locked digest. The digests are re-checked on start and every ``digest_check_seconds``
(with :func:`inhouse.baseline.check_models`); a model that no runtime serves with its locked
digest is refused with a 503 naming the mismatch. Several runtimes serving one blessed model are
used round-robin; a node that fails its health check (or a request's connection) is skipped
until it answers again. A key may narrow the blessed models it can use; routing refuses the rest.

The routes follow the runtimes without a restart: at each health check (seconds apart) the
routes are rebuilt, digests checked again, whenever they are :meth:`Router.unsettled` — a node
that was down answers again (re-admitted only once its digest matches), a runtime could not be
checked last time (a gateway started before its runtime), a model has no node, or a runtime
moved (``inhouse runtime serve`` wrote a new URL to its state file).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from inhouse.errors import (
    BadRequest,
    ConfigError,
    InhouseError,
    ModelDrifted,
    ModelNotAllowed,
    ModelUnavailable,
    NoRuntimeAnswers,
    RuntimeTimeout,
)

if TYPE_CHECKING:
    from inhouse.baseline import Lock
    from inhouse.gateway.keys import GatewayKey
    from inhouse.runtimes import RuntimeConfig

__all__ = ["LockChoice", "Node", "Route", "Router", "choose_lock"]

log = logging.getLogger("inhouse.gateway")


#: what makes a lock the gateway's to route
_LOCK_FIX = (
    "record it with `inhouse baseline lock`, then have a second person run "
    "`inhouse baseline verify`"
)


@dataclass(frozen=True)
class LockChoice:
    """The lock the gateway routes, and what it was chosen from: the lock the program's log
    records, or ``inhouse.lock`` while the log records none."""

    lock: Lock
    #: the log's current lock (None: it records none yet)
    recorded: Lock | None
    #: ``inhouse.lock`` as read now (None: there is none, or it could not be read)
    file: Lock | None
    #: why ``inhouse.lock`` could not be read (edited by hand, not TOML), or None
    file_error: str | None = None
    #: why the log's lock facts do not count, where it records some and none counts
    uncounted: str | None = None

    @property
    def source(self) -> str:
        return "recorded" if self.recorded is not None else "inhouse.lock"

    @property
    def problem(self) -> str | None:
        """Why ``inhouse.lock`` is not what the gateway routes (None: it is the recorded lock,
        or the log records none, and the file is routed)."""
        if self.recorded is None and self.uncounted is not None:
            return (
                f"the program records no lock that counts ({self.uncounted}): routing "
                f"inhouse.lock ({self.lock.lock_hash[:19]}), which no second person verified; "
                f"{_LOCK_FIX}"
            )
        if self.recorded is None or (
            self.file is not None and self.file.lock_hash == self.recorded.lock_hash
        ):
            return None
        recorded = self.recorded.lock_hash[:19]
        if self.file is None:
            why = self.file_error or "there is no inhouse.lock here"
            return (
                f"{why}; the gateway routes the lock this program records ({recorded}): "
                "pull the current inhouse.lock"
            )
        return (
            f"inhouse.lock ({self.file.lock_hash[:19]}) is not the lock this program records "
            f"({recorded}): the gateway routes the recorded lock's models, not weights no "
            f"second person verified; to route inhouse.lock, {_LOCK_FIX}"
        )

    @property
    def code(self) -> str | None:
        """:attr:`problem` as a short code, what ``/healthz`` tells anyone (the text can carry
        the error of reading ``inhouse.lock``: its path, its contents): ``lock-not-counted``,
        ``lock-file-unreadable``, ``lock-file-missing``, ``lock-file-differs``; None: none."""
        if self.problem is None:
            return None
        if self.recorded is None:
            return "lock-not-counted"
        if self.file is None:
            return "lock-file-unreadable" if self.file_error else "lock-file-missing"
        return "lock-file-differs"

    @property
    def notice(self) -> str | None:
        """What to know about the lock routed while the log records none."""
        if self.recorded is not None or self.uncounted is not None:
            return None
        return (
            f"the program records no lock yet: routing inhouse.lock ({self.lock.lock_hash[:19]}), "
            f"which no second person has verified; {_LOCK_FIX}"
        )

    def outside(self) -> dict[str, str]:
        """The models ``inhouse.lock`` blesses otherwise than the routed lock (another digest,
        or not at all), each with why it is not routed so."""
        problem = self.problem
        if problem is None or self.file is None or self.recorded is None:
            return {}
        routed = {m.name: m.digest for m in self.lock.models}
        return {m.name: problem for m in self.file.models if routed.get(m.name) != m.digest}


def choose_lock(folder: Path, recorded: Lock | None, uncounted: str | None = None) -> LockChoice:
    """The lock to route for the program at ``folder`` whose log records ``recorded``: that
    one; ``inhouse.lock`` only while the log records none that counts (``uncounted``: why its
    lock facts do not, said as a problem). A :class:`ConfigError` when there is neither (the
    gateway routes only blessed models). Blocking: it reads the file."""
    from inhouse.baseline import read_lock
    from inhouse.baseline.lock import LOCK_NAME

    file_error = None
    try:
        file = read_lock(folder)
    except ConfigError as err:  # edited by hand: nothing may trust it, nor route it
        # said on /healthz to anyone and to clients in a 403: the file by its name, not by
        # where the program folder is on the gateway's host (a home folder names a person)
        file, file_error = None, str(err).replace(str(folder / LOCK_NAME), LOCK_NAME)
    if recorded is not None:
        return LockChoice(recorded, recorded, file, file_error)
    if file is None:
        raise ConfigError(
            file_error
            or f"no inhouse.lock in {folder}, and the program records no lock: the gateway "
            "routes only blessed models, and none are pinned yet (run `inhouse baseline lock`)"
        )
    return LockChoice(file, None, file, file_error, uncounted)


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
    #: health probes failed in a row (a slow probe alone does not take a node out)
    misses: int = 0


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
            drifted = any("drift" in p for p in self.problems)
            refusal = ModelDrifted if drifted else ModelUnavailable
            raise refusal(f"model {self.name!r} is refused: {reason}")
        down = "; ".join(f"{n.runtime} at {n.url}: {n.detail or 'down'}" for n in self.nodes)
        raise NoRuntimeAnswers(f"no runtime serving {self.name!r} answers ({down})")

    def others(self, tried: Node) -> list[Node]:
        return [n for n in self.nodes if n is not tried and n.healthy]


class Router:
    """The routes of every blessed model, rebuilt from the runtimes' inventories."""

    def __init__(
        self, lock: Lock, runtimes: Sequence[RuntimeConfig], *, program: Path | None = None
    ) -> None:
        self.lock = lock
        #: what ``lock`` was chosen from (None: given as it is, with no file beside it)
        self.choice: LockChoice | None = None
        #: models ``inhouse.lock`` blesses otherwise than ``lock``, with why they are not routed
        self.outside: dict[str, str] = {}
        self.runtimes = list(runtimes)
        self.program = program
        self.routes: dict[str, Route] = {
            m.name: Route(m.name, m.digest, problems=["digests not checked yet"])
            for m in lock.models
        }
        #: where each runtime was when last checked, and the runtimes that check failed
        self._checked_at: dict[str, str] = {}
        self._failed: set[str] = set()

    def choose(self, choice: LockChoice) -> bool:
        """Route ``choice``'s lock (a :meth:`relock` when it is another one; True then, and
        :meth:`check_digests` builds its routes) and refuse what the file alone blesses."""
        self.choice = choice
        before, self.outside = self.outside, choice.outside()
        if choice.lock.lock_hash == self.lock.lock_hash:
            if before != self.outside:  # said on the routes now, not at the next digest check
                for name, route in self.routes.items():
                    route.problems = [p for p in route.problems if p not in before.values()]
                    if name in self.outside:
                        route.problems.append(self.outside[name])
            return False
        self.relock(choice.lock)
        return True

    def relock(self, lock: Lock) -> None:
        """Route the models of a new lock (a re-lock): a model it drops is refused from now on,
        one it keeps with the same digest keeps its nodes, and :meth:`check_digests` builds the
        routes of the others (a changed digest is served only once checked)."""
        self.lock = lock
        routes = {}
        for m in lock.models:
            old = self.routes.get(m.name)
            kept = old is not None and old.digest == m.digest
            routes[m.name] = (
                old if old is not None and kept
                else Route(m.name, m.digest, problems=["digests not checked yet"])
            )  # fmt: skip
        self.routes = routes

    @property
    def blessed(self) -> list[str]:
        return [m.name for m in self.lock.models]

    def route(self, name: str) -> Route | None:
        return self.routes.get(name)

    def allowed(self, key: GatewayKey) -> list[str]:
        """The blessed models ``key`` may use."""
        names = self.blessed
        if key.limits.models is not None:
            names = [n for n in names if n in key.limits.models]
        return names

    def route_for(self, key: GatewayKey, model: Any) -> Route:
        """The route of the model a request names; refused when it is not one ``key`` may use."""
        if not isinstance(model, str) or not model:
            raise BadRequest("the request names no model", param="model")
        route = self.routes.get(model)
        if route is None and model in self.outside:
            raise ModelNotAllowed(
                f"model {model!r} is not a blessed model of the lock this program records: "
                f"{self.outside[model]}"
            )
        if route is None or (key.limits.models is not None and model not in key.limits.models):
            allowed = ", ".join(self.allowed(key)) or "none"
            why = "is not a blessed model" if route is None else "is not allowed for this key"
            raise ModelNotAllowed(f"model {model!r} {why}; models this key may use: {allowed}")
        return route

    def nodes(self) -> list[Node]:
        seen: dict[tuple[str, str], Node] = {}
        for route in self.routes.values():
            for node in route.nodes:
                seen.setdefault((node.runtime, node.model_id), node)
        return list(seen.values())

    def unsettled(self) -> bool:
        """Whether the routes should be rebuilt now, not at the next digest check: a runtime
        could not be checked last time, a model has no node, a node is down, or a runtime moved
        (its recorded URL changed)."""
        if self._failed or any(not r.nodes or not all(n.healthy for n in r.nodes)
                               for r in self.routes.values()):  # fmt: skip
            return True
        return any(self._where(config) not in (None, self._checked_at.get(config.name))
                   for config in self.runtimes)  # fmt: skip

    def _where(self, config: RuntimeConfig) -> str | None:
        """Where ``config``'s runtime is now: its url, or for the embedded runtime without one
        the URL ``inhouse runtime serve`` recorded (a restart picks a new port)."""
        if config.url is not None or config.family != "embedded":
            return config.url
        from inhouse.runtimes.embedded import read_state

        state = read_state(self.program)
        return state.url if state is not None else None

    async def check_digests(self) -> None:
        """Ask every runtime what it serves and rebuild the routes (pinning by digest). A
        runtime that cannot be asked keeps its nodes, marked down, so a request names it; one
        that is only slow to answer (a timeout: busy) keeps them as they were."""
        from inhouse.baseline import check_models, find_model
        from inhouse.runtimes import open_runtime

        lock = self.lock
        routes = {m.name: Route(m.name, m.digest) for m in lock.models}
        for name, why in self.outside.items():  # the file pins other weights for it
            if name in routes:
                routes[name].problems.append(why)
        for config in self.runtimes:
            try:
                # no proof of "answered here" wanted (the requests the gateway proxies go over
                # connections of its own): no psutil look behind each connection, every check
                async with open_runtime(config, program=self.program, look_behind=False) as runtime:
                    drifts = {d.model: d for d in await check_models(lock, runtime)}
                    served = await runtime.models()
                    url = runtime.url
            except InhouseError as err:
                self._failed.add(config.name)
                # only slow (busy with answers, as llama-cpp-python is while it generates): its
                # nodes keep serving as they were, and it is asked again at the next health check
                busy = isinstance(err, RuntimeTimeout) and not isinstance(
                    err.__cause__, httpx.ConnectTimeout
                )
                for name, route in routes.items():
                    route.problems.append(f"runtime {config.name} could not be checked: {err}")
                    old = self.routes.get(name)
                    for node in old.nodes if old is not None else []:
                        if node.runtime == config.name:
                            if not busy:
                                node.healthy, node.detail = False, f"could not be checked: {err}"
                            route.nodes.append(node)
                continue
            self._failed.discard(config.name)
            self._checked_at[config.name] = url
            for pinned in lock.models:
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
        if self.lock is not lock:  # re-locked meanwhile: these routes are of the old lock
            return
        # keep the round-robin position; a node just checked answered with its locked digest,
        # so it is healthy (this is how a node that was down is re-admitted)
        for name, route in routes.items():
            old = self.routes.get(name)
            if old is None:
                continue
            route._turn = old._turn
            if route.problems and not route.nodes:
                log.warning("model %s refused: %s", name, "; ".join(route.problems))
            # said as its going down was ("runtime … is down"): an operator reading the log
            # learnt a node went, never that it came back
            was_up = {(node.runtime, node.url) for node in old.nodes if node.healthy}
            for node in route.nodes:  # a node kept, marked down, is not back
                if node.healthy and (node.runtime, node.url) not in was_up:
                    log.warning("model %s is served by runtime %s at %s now", name,
                                node.runtime, node.url)  # fmt: skip
        self.routes = routes
