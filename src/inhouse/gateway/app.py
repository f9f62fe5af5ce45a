"""The gateway: OpenAI's API in front of the blessed models.

No framework (no routing library, no middleware, no ASGI) because every microsecond here is
added to every request of every user: its own HTTP/1.1 edge hands each request to
:meth:`Gateway.handle`, which writes the answer straight to the client's connection. This
module owns the gateway's lifecycle, its routes and the order of the steps of a proxied
request; each step lives in its own unit:

    auth.py       the caller's key                 routing.py   blessed models, nodes, pinning
    limits.py     per-key limits                   policies.py  data rules, agent tool boundaries
    upstream.py   the runtimes (failover, faults)  relay.py     the answer, whole or streamed
    calls.py      what a request measured          usage.py     the durable usage log
    prompts.py    library prompts: resolved by name, rendered server-side, recorded by version
    programlog.py the program's log, verified as it is followed: what vouches for keys, prompts
    toolcalls.py  tool calls: an agent key's (names, arguments where the rules allow); others' names
    edge.py       the HTTP/1.1 server: connections, requests, answers written as they come
    answers.py    JSON, and the one mapper from an error to OpenAI's error shape
    requests.py   the request's shape and per-request limits, at the door
    openapi.py    the gateway's own OpenAPI document

    routes: POST /v1/chat/completions  /v1/completions  /v1/embeddings
            GET  /v1/models  /healthz  /metrics  /openapi.json

Every answer, refusals and failures included, carries ``X-Inhouse-Request-Id``; a proxied
request's usage record is kept under that id.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from inhouse.db import Store
from inhouse.errors import (
    BadRequest,
    ConfigError,
    InhouseError,
    MethodNotAllowed,
    NoSuchRoute,
    NotAllowed,
    RateLimited,
    RequestTooLarge,
    ServiceKeyRevoked,
)
from inhouse.gateway import sse
from inhouse.gateway.answers import JSON, openai_error
from inhouse.gateway.auth import authenticate
from inhouse.gateway.calls import Call, Recorder, policy_action, prompt_bound
from inhouse.gateway.config import GatewaySettings, cannot_listen
from inhouse.gateway.edge import EdgeServer, Reply, Request
from inhouse.gateway.keys import KeyTable, load_key_table
from inhouse.gateway.limits import Limiter, retry_seconds
from inhouse.gateway.metrics import CONTENT_TYPE_LATEST, Metrics, merged
from inhouse.gateway.openapi import openapi_document
from inhouse.gateway.peers import Peers
from inhouse.gateway.policies import RequestPolicy
from inhouse.gateway.programlog import ProgramLog
from inhouse.gateway.prompts import PromptSource
from inhouse.gateway.relay import relay
from inhouse.gateway.requests import parse_body, validate_request
from inhouse.gateway.routing import Router, choose_lock
from inhouse.gateway.shared import Listener, SharedLimiter
from inhouse.gateway.toolcalls import request_tool_calls, unbound_tool_calls
from inhouse.gateway.upstream import Upstream
from inhouse.gateway.usage import Clock, UsageWriter, new_request_id, utcnow
from inhouse.identity.keys import SigningKey
from inhouse.program.state import ProgramState

__all__ = ["ADMIN_ROLE", "Gateway", "public_health"]

#: the role whose holder's own key reads ``/healthz``'s and ``/metrics``' details (the lead
#: runs the gateway: issues its keys, enrols its service key)
ADMIN_ROLE = "rollout-lead"
#: what a rollout lead's key reads beyond the public answers, said in a refusal
_HEALTH_DETAILS = "nodes' addresses, runtimes' error text, the lock file's problem, Redis's host"
_METRICS_DETAILS = "each person's series: who uses the tool, and how much"
#: ``/healthz``'s code for a gateway whose own key is not the enrolled one (its words name
#: key ids, a machine and a path: a rollout lead's key reads them)
UNENROLLED_CODE = "service_key_not_enrolled"

log = logging.getLogger("inhouse.gateway")

T = TypeVar("T")

_PROXIED = {
    "/v1/chat/completions": "chat/completions",
    "/v1/completions": "completions",
    "/v1/embeddings": "embeddings",
}


class _Blocking:
    """Blocking work (a database read) run off the event loop, which the gateway waits for
    before it stops. ``asyncio.to_thread`` cannot be cancelled: a job cancelled at shutdown
    leaves its thread running, holding a database connection, and the store closed under it
    leaves that connection open until the garbage collector finds it."""

    def __init__(self) -> None:
        self._running: set[asyncio.Future[Any]] = set()

    async def run(self, fn: Callable[..., T], /, *args: Any) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        future = loop.run_in_executor(None, call)
        self._running.add(future)
        future.add_done_callback(self._running.discard)
        # cancelling the caller leaves the thread's future alone: finish() still waits for it
        return await asyncio.shield(future)

    async def finish(self, timeout: float) -> int:
        """Wait for the work under way, at most ``timeout`` seconds; how many are still running."""
        if not self._running:
            return 0
        _, stuck = await asyncio.wait(set(self._running), timeout=timeout)
        return len(stuck)


class Gateway:
    """The gateway and the state its requests share. ``async with gateway:`` starts its
    background work (the usage writer, digest and health checks, key refresh) and stops it;
    :meth:`serve` then accepts requests."""

    def __init__(
        self,
        *,
        store: Store,
        program_log: ProgramLog,
        router: Router,
        policy: RequestPolicy,
        settings: GatewaySettings,
        usage: UsageWriter,
        limiter: Limiter | None = None,
        clock: Clock = utcnow,
        prompts: PromptSource | None = None,
        identity: SigningKey | None = None,
    ) -> None:
        self.store = store
        #: the gateway's own service key, which signs a voucher's challenge
        #: (:mod:`inhouse.identity.hosts`); the program it serves, read at start
        self.identity = identity
        self.program_id = ""
        #: the program's log, verified as it is followed: what vouches for keys and prompts
        self.program_log = program_log
        #: the shared prompt library, refreshed from the log like the keys
        self.prompts = prompts or PromptSource(program_log)
        #: when each request happened, for its usage record (and so its day): the real UTC
        #: clock when serving; a test moves it to spread requests over days
        self.clock = clock
        self.router = router
        self.policy = policy
        self.settings = settings
        self.usage = usage
        self.limiter = limiter or Limiter(clock=clock)
        self.metrics = Metrics()
        self.recorder = Recorder(self.usage, self.limiter, self.metrics, clock=clock)
        self.upstream = Upstream(
            settings.upstream_timeout,
            read_timeout=settings.read_timeout,
            probe_timeout=settings.health_probe_timeout,
        )
        self.keys = KeyTable([])
        #: where the log revoked the gateway's own key (:attr:`identity`), why, from the
        #: refresh that read it on: no usage row is sealed with it, no request answered (503)
        self.revoked: ServiceKeyRevoked | None = None
        #: where the gateway's own key is not the one the log enrolled while another is
        #: (:func:`~inhouse.program.core.unenrolled_service_key`): it serves, degraded, and
        #: says why and the command that fixes it; refreshed with the keys
        self.unenrolled: str | None = None
        #: who holds the rollout lead's role in the log now: their own key reads /healthz's
        #: details (nodes' addresses, runtimes' error text, Redis's host), refreshed with the keys
        self.admins: frozenset[str] = frozenset()
        self._tasks: list[asyncio.Task[None]] = []
        #: stop() began: the background loops end even if a cancellation is lost on the way
        self._stopping = False
        #: the database reads of the background jobs, which stop() lets finish
        self._blocking = _Blocking()
        self.replayed = 0
        #: the news channel between replicas (with ``redis_url``): keys and lock reloaded at once
        self.listener: Listener | None = None
        if settings.redis_url is not None:
            shared = self.limiter if isinstance(self.limiter, SharedLimiter) else None
            self.listener = Listener(settings.redis_url, settings.redis_prefix, self.hear,
                                     timeout=settings.redis_timeout,
                                     on_lost=None if shared is None else shared.lost)  # fmt: skip
        #: which worker of ``inhouse gateway serve --workers N`` this is (``None``: the only one)
        self.worker: int | None = None
        #: the other workers of that ``serve``, asked for their series on ``/metrics``
        self.peers: Peers | None = None
        #: the port :meth:`serve` listens on, and its server
        self.port: int | None = None
        self.server: EdgeServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.program_id = await self._blocking.run(
            lambda: self.program_log.read(lambda state: state.program_id)
        )
        await self.reload_keys()
        await self.prompts.reload()
        self.replayed = await self.usage.start()
        await self.upstream.open()
        await self.router.check_digests()
        await self.upstream.check_health(self.router.nodes())
        shared = self.limiter if isinstance(self.limiter, SharedLimiter) else None
        if shared is not None:
            await shared.start()
        self._tasks = [
            asyncio.create_task(self._every(self.settings.digest_check_seconds, self._digests)),
            asyncio.create_task(self._every(self.settings.health_check_seconds, self._health)),
            asyncio.create_task(self._every(self.settings.keys_refresh_seconds, self.reload_keys)),
            asyncio.create_task(
                self._every(self.settings.keys_refresh_seconds, self.reload_prompts)
            ),
            asyncio.create_task(self._every(self.settings.keys_refresh_seconds, self.reload_lock)),
        ]
        if shared is not None:
            self._tasks.append(asyncio.create_task(self._every(1.0, shared.probe)))
        if self.listener is not None:
            self._tasks.append(asyncio.create_task(self.listener.run()))

    async def stop(self) -> None:
        self._stopping = True
        if self.listener is not None:
            self.listener.close()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            # each loop also ends on its own flag; a job that swallowed its cancellation
            # (asyncio.timeout on Python 3.11 can turn one into a TimeoutError) must not hold
            # the shutdown, and with it the usage log's last flush, for ever
            _, stuck = await asyncio.wait(self._tasks, timeout=5.0)
            for task in stuck:
                log.warning("gateway background job %s did not stop within 5 s", task.get_name())
        self._tasks = []
        # a read cancelled above still runs in its thread: the store must outlive it
        if stuck_reads := await self._blocking.finish(timeout=5.0):
            log.warning("%d database read(s) of the gateway did not end within 5 s", stuck_reads)
        if self.peers is not None:
            await self.peers.close()
        if isinstance(self.limiter, SharedLimiter):
            await self.limiter.stop()
        await self.usage.stop()
        await self.upstream.close()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while not self._stopping:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception:  # a failed check must not stop the next one
                log.exception("gateway background job %s failed", job.__name__)

    async def _digests(self) -> None:
        await self.router.check_digests()
        await self.upstream.check_health(self.router.nodes())

    async def _health(self) -> None:
        """Probe the nodes; rebuild the routes at once when they are unsettled (a node is down
        or answers again, a runtime moved or could not be checked), so a runtime that restarts
        on a new port, or comes up after the gateway, is served within a health interval."""
        await self.upstream.check_health(self.router.nodes())
        if self.router.unsettled():
            await self.router.check_digests()

    async def reload_keys(self) -> None:
        """Re-read keys from the store (issued and revoked ones take effect), serving those the
        log vouches for; a row newly refused is named in the gateway's log, once. Where the log
        has revoked the gateway's own key since it started, it stops (:meth:`_own_key_revoked`)."""
        table, self.admins, revoked, unenrolled = await self._blocking.run(self._load_keys)
        if revoked is not None and self.revoked is None:
            self._own_key_revoked(revoked)
        if unenrolled != self.unenrolled:
            if unenrolled is not None:
                log.warning("%s; it serves on, degraded", unenrolled)
            else:
                log.warning("this gateway's own key is the enrolled one now: its rows count")
            self.unenrolled = unenrolled
        before = {(r.key.id, r.reason) for r in self.keys.refused}
        for refused in table.refused:
            if (refused.key.id, refused.reason) not in before:
                log.warning("gateway key %s (%s, prefix %s) is not served: %s", refused.key.id,
                            refused.key.person, refused.key.prefix, refused.reason)  # fmt: skip
        self.keys = table
        self.limiter.prune()  # with the keys: what the limits remember stays bounded too

    def _load_keys(
        self,
    ) -> tuple[KeyTable, frozenset[str], ServiceKeyRevoked | None, str | None]:
        from inhouse.gateway.rollup import SERVICE
        from inhouse.program.core import unenrolled_service_key

        def read(
            state: ProgramState,
        ) -> tuple[KeyTable, frozenset[str], ServiceKeyRevoked | None, str | None]:
            leads = frozenset(
                name
                for name, person in state.people.items()
                if ADMIN_ROLE in person.roles and not person.service
            )
            unenrolled = (
                None
                if self.identity is None
                else unenrolled_service_key(state, SERVICE, self.identity)
            )
            return load_key_table(self.store, state), leads, self._revocation(state), unenrolled

        return self.program_log.read(read)

    def _revocation(self, state: ProgramState) -> ServiceKeyRevoked | None:
        """The refusal of the gateway's own key where ``state`` revokes it (None: it does not,
        or this gateway holds no key)."""
        from inhouse.gateway.rollup import SERVICE
        from inhouse.program.core import refuse_revoked_service_key

        if self.identity is None:
            return None
        try:
            refuse_revoked_service_key(state, SERVICE, self.identity)
        except ServiceKeyRevoked as err:
            return err
        return None

    def _own_key_revoked(self, refusal: ServiceKeyRevoked) -> None:
        """The log revoked the key this gateway seals its usage rows with: a row sealed with it
        counts for nothing (:mod:`inhouse.usage.authentic`), so no record is sealed from now on
        and every request is refused (503) until its host rotates the key and restarts it,
        rather than answered with a record that cannot count. Requests under way finish; their
        rows are written without a seal. One way: a revocation is never undone."""
        self.revoked = refusal
        self.usage.mac_key = None
        log.error("%s; until then every request is refused (503)", refusal)

    async def reload_prompts(self) -> None:
        """Bring the prompt library up to date (new versions, moved labels take effect)."""
        await self._blocking.run(self.prompts.refresh)

    async def reload_lock(self) -> None:
        """Route the lock the program's log records now: a re-lock, once recorded, is routed
        at once, digests checked. ``inhouse.lock`` is read beside it: a file that is not the
        recorded lock is named in the log (once) and in ``/healthz``, and what only it blesses
        is refused; the file is routed only while the log records no lock."""
        folder = self.router.program
        if folder is None:
            return
        try:
            choice = await self._blocking.run(
                lambda: choose_lock(folder, *self.program_log.recorded_lock())
            )
        except ConfigError:  # no lock anywhere now (the file removed): keep the routes
            return
        before = self.router.choice
        if choice.problem is not None and (before is None or before.problem != choice.problem):
            log.warning("%s", choice.problem)
        if not self.router.choose(choice):
            return
        log.warning("routing lock %s (%s, %s)", choice.lock.lock_hash[:19],
                    "the lock the program records" if choice.recorded is not None
                    else "inhouse.lock: the program records no lock yet",
                    ", ".join(m.name for m in choice.lock.models))  # fmt: skip
        await self.router.check_digests()
        await self.upstream.check_health(self.router.nodes())

    async def hear(self, news: str) -> None:
        """Another replica (or ``inhouse keys``) said ``news`` changed: reload it now."""
        if news == "keys":
            await self.reload_keys()
        elif news == "lock":
            await self.reload_lock()

    # -- serving ---------------------------------------------------------------------------

    async def serve(
        self, host: str | None = None, port: int | None = None, *, sock: Any = None
    ) -> EdgeServer:
        """Accept requests on ``host:port`` (default: the settings'), or on ``sock``; returns
        the server (its ``close()`` lets the answers under way finish). Start the gateway
        first (``async with gateway:``)."""
        if self.peers is not None:  # answering the other workers before any scrape comes
            await self.peers.start(self._metrics_text)
        server = EdgeServer(self.handle, max_body=self.settings.max_body_bytes)
        host = self.settings.host if host is None and sock is None else host
        port = self.settings.port if port is None and sock is None else port
        try:
            self.port = await server.listen(host, port, sock=sock)
        except OSError as err:  # a worker's socket is on the settings' address
            raise cannot_listen(
                self.settings.host if host is None else host,
                self.settings.port if port is None else port,
                err,
            ) from None
        self.server = server
        return server

    def _metrics_text(self, people: bool) -> bytes:
        """This process's ``/metrics`` text (each person's series with ``people``), labelled
        with its worker, its gauges read now."""
        self.metrics.spool_backlog.set(self.usage.backlog)
        self.metrics.set_limits_mode(self._limits()["mode"])
        self.metrics.service_key_unenrolled.set(0 if self.unenrolled is None else 1)
        return self.metrics.render(people=people, worker=self.worker)

    def handle(self, request: Request, reply: Reply) -> Coroutine[Any, Any, None]:
        """Answer one request (the edge's handler; it hands back the coroutine the edge runs):
        every answer, refusals and failures included, carries the request id; every error
        leaves in OpenAI's shape. A proxied request's coroutine is :meth:`_proxy` itself, with
        no coroutine around it (one layer fewer for every frame it resumes, issue 16)."""
        endpoint = _PROXIED.get(request.path)
        if endpoint is not None and request.method == "POST":
            return self._proxy(request, reply, endpoint)
        return self._handle(request, reply)

    async def _handle(self, request: Request, reply: Reply) -> None:
        """Every request but a proxied one (:meth:`handle`)."""
        path = request.path
        method = request.method
        request_id = new_request_id()
        try:
            if path in _PROXIED:
                raise MethodNotAllowed(f"{path} takes POST")
            if self.revoked is not None and path in ("/v1/models", "/inhouse/identity"):
                raise self._refusal()  # it serves nothing, nor vouches with the revoked key
            if path == "/v1/models" and method == "GET":
                self._models(request, reply, request_id)
            elif path == "/inhouse/identity" and method == "GET":
                self._identity(request, reply, request_id)
            elif path == "/healthz":
                admin = self._admin(request, "/healthz", _HEALTH_DETAILS)
                report = self.health() if admin else public_health(self.health())
                # a gateway that refuses every request is not ready (a balancer takes it out)
                status = 200 if self.revoked is None else ServiceKeyRevoked.http_status
                _answer(reply, status, json.dumps(report).encode(), JSON, request_id)
            elif path == "/openapi.json" and method == "GET":
                document = openapi_document(tuple(self.router.blessed))
                _answer(reply, 200, document, JSON, request_id)
            elif path == "/metrics":
                headers = [(b"content-type", CONTENT_TYPE_LATEST.encode())]
                people = self._admin(request, "/metrics", _METRICS_DETAILS)
                rendered = self._metrics_text(people)
                if self.peers is not None:  # every worker's series, whichever took the scrape
                    others, unanswered = await self.peers.ask(people)
                    rendered = merged([rendered, *others], unanswered)
                _answer(reply, 200, rendered, headers, request_id)
            else:
                raise NoSuchRoute(f"no route {method} {path}")
        except OSError:  # the client went away: nobody is left to answer
            raise
        except Exception as err:  # the edge: every error leaves in OpenAI's shape
            status, body = openai_error(err, request_id)
            _answer(reply, status, body, JSON, request_id)

    def _identity(self, request: Request, reply: Reply, request_id: str) -> None:
        """The gateway's key, and its signature over a voucher's challenge: that this key
        answers here (``inhouse gateway vouch``, :mod:`inhouse.identity.hosts`)."""
        from inhouse.gateway.rollup import SERVICE
        from inhouse.identity.hosts import NONCE_HEADER, host_challenge

        nonce = next((v for k, v in request.headers if k == NONCE_HEADER.encode()), b"").decode(
            "latin-1"
        )
        if not (32 <= len(nonce) <= 64) or any(c not in "0123456789abcdef" for c in nonce):
            raise BadRequest(
                f"{NONCE_HEADER}: 32 to 64 lower-case hex characters", param=NONCE_HEADER
            )
        if self.identity is None:
            raise NoSuchRoute("this gateway holds no service key to answer with")
        answer = {
            "service": SERVICE,
            "key_id": self.identity.key_id,
            "program": self.program_id,
            "nonce": nonce,
            "signature": self.identity.sign(host_challenge(self.program_id, SERVICE, nonce)),
        }
        _answer(reply, 200, json.dumps(answer).encode(), JSON, request_id)

    def _refusal(self) -> ServiceKeyRevoked:
        """What a client is answered while the gateway's own key is revoked (503): why, in
        words the person who runs it acts on; the log's details (who revoked it) are in
        ``/healthz`` for a rollout lead's key and in the server's log."""
        from inhouse.gateway.rollup import SERVICE
        from inhouse.program.core import rotation_words

        assert self.identity is not None and self.revoked is not None
        return ServiceKeyRevoked(
            f"this gateway's own key {self.identity.key_id} was revoked in the program's log: a "
            "usage record sealed with it would count for nothing, so it answers no request and "
            "nothing was sent to a model. Whoever runs the gateway rotates its key: "
            f"{rotation_words(SERVICE)} (`inhouse gateway status` says why)",
            missing=list(self.revoked.missing),
        )

    def _admin(self, request: Request, path: str, details: str) -> bool:
        """Whether ``request`` may read ``path``'s ``details``: it carries no key (False: a load
        balancer's probe, a scraper, gets the public answer), or a valid key of a person who
        holds the rollout lead's role now, not an agent's (True); any other key is refused
        (401, 403). Refused, not answered publicly: a probe or scraper sent with a key expects
        what that key reads, and a 200 without the details it was set up for (a scrape with no
        per-person series) would pass for working; the refusal names the fix (send no key)."""
        if not any(name == b"authorization" for name, _ in request.headers):
            return False
        key = authenticate(self.keys, request.headers)
        if key.agent is not None or key.person not in self.admins:
            raise NotAllowed(
                f"{key.person}'s key{' (agent ' + key.agent + ')' if key.agent else ''} reads "
                f"only {path}'s public answer (send no key): its details ({details}) are for a "
                "rollout lead's own key"
            )
        return True

    def health(self) -> dict[str, Any]:
        """What ``/healthz`` answers a rollout lead's own key: the lock routed (the recorded
        one, beside the file), each blessed model's nodes (address, healthy or why not, and
        the requests in flight on each) and problems, how limits are kept (Redis's host
        without its password), and the usage log's state. It names no person: how many keys
        are refused, and that the usage writer fails; who and why are in the server's log and
        ``inhouse keys list``. Anyone else gets :func:`public_health` of it."""
        routes = {}
        for name, route in self.router.routes.items():
            routes[name] = {
                "digest": route.digest,
                "nodes": [
                    {
                        "runtime": n.runtime,
                        "url": n.url,
                        "healthy": n.healthy,
                        "detail": n.detail,
                        "in_flight": self.upstream.in_flight(n),
                    }
                    for n in route.nodes
                ],
                "problems": route.problems,
            }
        serving = any(n.healthy for r in self.router.routes.values() for n in r.nodes)
        limits = self._limits()
        # limits kept per replica because Redis is away is a fault; by configuration it is not
        shared_lost = self.settings.redis_url is not None and limits["mode"] != "shared"
        lock = self._lock_health()
        if self.revoked is not None:
            status = "refusing"  # every request, whatever its nodes: nothing could be sealed
        elif serving and not shared_lost and not lock["problem"] and self.unenrolled is None:
            status = "ok"
        else:
            status = "degraded"
        return {
            "status": status,
            "service_key": {
                "key_id": None if self.identity is None else self.identity.key_id,
                "revoked": None if self.revoked is None else str(self.revoked),
                "problem_code": None if self.revoked is None else self.revoked.code,
                # its rows count for nothing: why, and the command that fixes it
                "unenrolled": self.unenrolled,
                "unenrolled_code": None if self.unenrolled is None else UNENROLLED_CODE,
            },
            "lock": lock,
            "models": routes,
            "keys": len(self.keys),
            # a count: who is refused and why is for an admin (``inhouse keys list``, the log)
            "keys_refused": len(self.keys.refused),
            "limits": limits,
            "replica": {
                "pid": os.getpid(),
                "worker": self.worker,
                "news": None if self.listener is None else self.listener.listening,
            },
            "usage": {
                "backlog": self.usage.backlog,
                "written": self.usage.written,
                "replayed": self.replayed,
                # that it fails, never its text (SQL, paths): the text is in the server's log
                "failing": self.usage.last_error is not None,
            },
        }

    def _lock_health(self) -> dict[str, Any]:
        """The lock routed and where it comes from, beside ``inhouse.lock``: a file that is not
        the recorded lock is a problem (it blesses weights no second person verified)."""
        choice = self.router.choice
        return {
            "routed": self.router.lock.lock_hash,
            "source": None if choice is None else choice.source,
            "recorded": None if choice is None or choice.recorded is None
            else choice.recorded.lock_hash,
            "file": None if choice is None or choice.file is None else choice.file.lock_hash,
            "problem": None if choice is None else choice.problem,
            "problem_code": None if choice is None else choice.code,
            "notice": None if choice is None else choice.notice,
        }  # fmt: skip

    def _limits(self) -> dict[str, Any]:
        if isinstance(self.limiter, SharedLimiter):
            return self.limiter.describe()
        return {"mode": "local", "redis": None, "replicas": 1}

    def _models(self, request: Request, reply: Reply, request_id: str) -> None:
        key = authenticate(self.keys, request.headers)
        self.policy.boundary(key.agent)  # a key of an agent without a boundary gets nothing
        data = [
            {"id": name, "object": "model", "created": 0, "owned_by": "inhouse"}
            for name in self.router.allowed(key)
        ]
        body = json.dumps({"object": "list", "data": data}).encode()
        _answer(reply, 200, body, JSON, request_id)

    # -- proxying ----------------------------------------------------------------------------

    async def _proxy(self, request: Request, reply: Reply, endpoint: str) -> None:
        """One proxied request: key, body and its shape, route, limits, policy, upstream,
        answer; every outcome with a valid key goes into the usage log under its request id.
        Every error leaves in OpenAI's shape, naming the request id (as :meth:`_handle`)."""
        request_id = new_request_id()
        try:
            if self.revoked is not None:  # nothing it answers could be recorded validly
                raise self._refusal()
            started = time.perf_counter()
            key = authenticate(self.keys, request.headers)
            call = Call(started=started, endpoint=endpoint, key=key, request_id=request_id)
            settings = self.settings
            prompt: str | None = None
            for name, value in request.headers:
                if name == b"x-inhouse-prompt":
                    prompt = value.decode("latin-1")[:200]
                elif name == b"x-inhouse-workflow":
                    call.workflow_id = value.decode("latin-1")[:200]
            holding = False
            try:
                call.boundary = self.policy.boundary(key.agent)
                if request.too_large:
                    raise RequestTooLarge(
                        f"the request body is over this gateway's limit of "
                        f"{settings.max_body_bytes} bytes (gateway.max_body_bytes); it was "
                        "refused before it was read whole"
                    )
                body = parse_body(request.body)
                model = body.get("model")
                call.model = model[:200] if isinstance(model, str) else ""
                call.blessed = call.model in self.router.routes
                validate_request(endpoint, body, max_items=settings.max_items,
                                 max_tokens=settings.max_request_tokens)  # fmt: skip
                route = self.router.route_for(key, model)
                await self.limiter.aadmit(key, request_id)
                self.limiter.hold(key, settings.key_concurrency)
                holding = True
                # a library prompt is resolved (and rendered) before the policy scans the texts
                call.prompt_id, call.prompt_sent = self.prompts.prepare(endpoint, body, prompt)
                if endpoint == "chat/completions" and not body.get("messages"):
                    raise BadRequest("messages: the request has no messages", param="messages")
                if call.boundary is not None and endpoint == "chat/completions":
                    # what the agent sent, before a tool is stripped or the request refused
                    call.keep_arguments = self.policy.argument_filter(route.name)
                    call.tool_calls = request_tool_calls(body, call.keep_arguments)
                elif endpoint == "chat/completions":
                    # a key bound to no agent has no boundary: the tools it offers the model (names
                    # only) are the evidence that an agent runs on a person's key
                    call.tool_calls = unbound_tool_calls(body)
                call.actions = self.policy.apply(endpoint, route.name, body, key.agent)
                call.stream = bool(body.get("stream")) and endpoint != "embeddings"
                call.tokens_in, bound = prompt_bound(endpoint, body)
                call.reserved = await self.limiter.areserve(key, endpoint, body, bound, request_id)
                if self.policy.store_bodies(route.name):
                    call.body = json.dumps(body)
                try:
                    with _Deadline(settings.upstream_timeout) as deadline:
                        response = await self.upstream.post(call, route, route.pick(), body)
                        node = call.node
                        assert node is not None  # post() names the node that answered
                        try:
                            await relay(call, route, response, self.upstream, self.recorder, reply)
                        finally:
                            self.upstream.finished(node)
                except TimeoutError:  # the connections' own are turned into errors in upstream.py
                    if deadline.expired() or call.node is None:
                        raise self.upstream.too_slow(call.node) from None
                    raise self.upstream.timed_out(call.node) from None
            except OSError:  # the client went away mid-answer (the edge's ClientGone)
                if not call.recorded:
                    call.status = 499
                    self.recorder.finish(call)
            except asyncio.CancelledError:  # cut short at shutdown: recorded as what it was
                if not call.recorded:
                    call.status = 499 if reply.lost else 503
                    self.recorder.finish(call)
                raise
            except Exception as err:
                status, error = openai_error(err, request_id)
                call.status = status
                action = policy_action(err) if isinstance(err, InhouseError) else None
                if action is not None:
                    call.actions.append(action)
                self.recorder.finish(call)
                if reply.lost:
                    return  # nobody is left to tell
                if call.answering:  # headers are gone: the error travels as an event clients raise
                    reply.end(sse.error_event(error))
                else:
                    _answer(reply, status, error, _error_headers(err), request_id)
            finally:
                # its spend and metrics, where the answer's end did not get to them (the client
                # gone at the last write)
                self.recorder.close(call)
                if holding:
                    self.limiter.release(key)
        except OSError:  # the client went away: nobody is left to answer
            raise
        except Exception as err:  # the edge: every error leaves in OpenAI's shape
            status, error_body = openai_error(err, request_id)
            _answer(reply, status, error_body, JSON, request_id)


class _Deadline:
    """``asyncio.timeout(seconds)`` for the task that enters it, as a plain ``with``: the task
    is cancelled at the deadline, and that cancellation (not one from elsewhere, such as a
    shutdown) leaves the block as :class:`TimeoutError`. ``asyncio.timeout`` cost ~32k
    instructions per request (its async enter and exit, its state as an enum, ``call_at``),
    this ~13k (counted by taking it out), most of it the event loop's timer (issue 16)."""

    __slots__ = ("_cancelling", "_expired", "_handle", "_seconds", "_task")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._expired = False

    def __enter__(self) -> _Deadline:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a deadline is kept inside a task")
        self._task = task
        self._cancelling = task.cancelling()
        self._handle: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(
            self._seconds, self._on_deadline
        )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        handle = self._handle
        if handle is not None:
            handle.cancel()
            self._handle = None
        # as asyncio.timeout: the task's own cancellation is taken back; only when no other
        # was asked for meanwhile does the block end as a timeout
        if (self._expired and self._task.uncancel() <= self._cancelling
                and kind is asyncio.CancelledError):  # fmt: skip
            raise TimeoutError from error

    def _on_deadline(self) -> None:
        self._handle = None
        self._expired = True
        self._task.cancel()

    def expired(self) -> bool:
        """The deadline passed while the block ran."""
        return self._expired


def public_health(report: dict[str, Any]) -> dict[str, Any]:
    """What ``/healthz`` answers anyone who reaches the gateway (a load balancer's probe, a
    client with no key) from :meth:`Gateway.health`'s ``report``: the status, the lock, each
    model's nodes by their runtime's name (healthy, requests in flight) and how many problems
    it has, counts of keys, how limits are kept, this replica and the usage log's state, and
    the lock's problem as a short code; never a node's address, a runtime's error text, the
    lock problem's text or Redis's host, which are a rollout lead's to read (``inhouse gateway
    status`` with their key)."""
    models = {
        name: {
            "digest": route["digest"],
            "nodes": [
                {key: node[key] for key in ("runtime", "healthy", "in_flight")}
                for node in route["nodes"]
            ],
            "problem_count": len(route["problems"]),
        }
        for name, route in report["models"].items()
    }
    limits = {key: value for key, value in report["limits"].items() if key != "redis"}
    # that the gateway's key was revoked, as a code: the log's words name who revoked it
    own = report["service_key"]
    service_key = {**own, "revoked": own["problem_code"], "unenrolled": own["unenrolled_code"]}
    # the problem's code: its text can carry the error of reading inhouse.lock (a path, the
    # file's contents)
    lock = {**report["lock"], "problem": report["lock"]["problem_code"]}
    return {**report, "models": models, "limits": limits, "lock": lock,
            "service_key": service_key}  # fmt: skip


def _error_headers(err: BaseException) -> list[tuple[bytes, bytes]]:
    """The headers of an error's answer: a 429 that knows when a retry may be let through says
    so in ``Retry-After`` (whole seconds, at least 1), which OpenAI's clients wait for before
    they retry; without it they retried at once, into the same refusal."""
    after = err.retry_after if isinstance(err, RateLimited) else None
    if after is None:
        return JSON
    return [*JSON, (b"retry-after", str(retry_seconds(after)).encode())]


def _answer(
    reply: Reply, status: int, body: bytes, headers: list[tuple[bytes, bytes]], request_id: str
) -> None:
    """A whole answer, naming its request id."""
    reply.whole(status, body, [*headers, (b"x-inhouse-request-id", request_id.encode())])
