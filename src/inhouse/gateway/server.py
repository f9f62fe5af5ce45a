"""Build the gateway for a program folder and serve it: its own HTTP/1.1 edge
(:mod:`inhouse.gateway.edge`) on uvloop, in one process or in several sharing the port."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inhouse.errors import ConfigError, GatewayWorkerFailed, InhouseError
from inhouse.gateway.app import Gateway
from inhouse.gateway.config import GatewaySettings, cannot_listen, read_gateway_settings
from inhouse.gateway.edge import BACKLOG, EdgeServer
from inhouse.gateway.limits import Limiter
from inhouse.gateway.peers import Peers, hold, sweep
from inhouse.gateway.policies import RequestPolicy
from inhouse.gateway.prompts import PromptSource
from inhouse.gateway.routing import Router, choose_lock
from inhouse.gateway.shared import SharedLimiter
from inhouse.gateway.usage import (
    Clock,
    Spool,
    UsageWriter,
    left_spools,
    tokens_today,
    utcnow,
)
from inhouse.location import CONFIG_NAME, database_url, safe_join

if TYPE_CHECKING:
    from inhouse.gateway.programlog import ProgramLog
    from inhouse.identity import SigningKey

__all__ = ["build_gateway", "gateway_runtimes", "serve"]

log = logging.getLogger("inhouse.gateway")


def gateway_runtimes(folder: Path, config: dict[str, Any], settings: GatewaySettings) -> list[Any]:
    """The runtimes that serve blessed models: ``[gateway] runtimes``, or every
    ``[runtimes.NAME]`` table."""
    from inhouse.baseline.manifest import runtime_config

    tables = config.get("runtimes") or {}
    names = settings.runtimes if settings.runtimes is not None else sorted(tables)
    if not names:
        raise ConfigError(
            f"{folder / CONFIG_NAME}: no runtime to send requests to: add a [runtimes.NAME] "
            "table (and list it in [gateway] runtimes)"
        )
    missing = [n for n in names if n not in tables]
    if missing:
        raise ConfigError(
            f"{folder / CONFIG_NAME}: gateway.runtimes names {', '.join(missing)}, which has no "
            f"[runtimes.NAME] table (defined: {', '.join(sorted(tables)) or 'none'})"
        )
    return [runtime_config(folder, name, config) for name in names]


def own_key(folder: Path, program_log: ProgramLog) -> SigningKey:
    """The gateway's own key (``.inhouse/keys/gateway.key``, read or created), refused
    (:class:`~inhouse.errors.Refused`) where the log has revoked the key the file holds: rows
    sealed and vouchers answered with it would count for nothing, and the refusal names the
    file to delete (:func:`~inhouse.program.core.refuse_revoked_service_key`)."""
    from inhouse.gateway.rollup import SERVICE
    from inhouse.program.core import refuse_revoked_service_key, service_key

    key = service_key(folder, SERVICE)
    program_log.read(lambda state: refuse_revoked_service_key(state, SERVICE, key))
    return key


def build_gateway(
    folder: Path,
    *,
    settings: GatewaySettings | None = None,
    clock: Clock = utcnow,
    leftovers: Sequence[Path] = (),
) -> Gateway:
    """The gateway for the program at ``folder``: its lock (the one its log records:
    :func:`~inhouse.gateway.routing.choose_lock`), runtimes, rules, keys and store. ``clock``
    dates its usage records (``serve`` keeps the real UTC clock); ``leftovers``: spool folders
    of processes an earlier ``serve`` ran and this one does not, replayed at its start
    (:func:`~inhouse.gateway.usage.left_spools`)."""
    from inhouse.db import open_store
    from inhouse.gateway.programlog import ProgramLog
    from inhouse.gateway.rollup import SERVICE, gateway_mac_key, seal_of
    from inhouse.pilot.library import library_settings
    from inhouse.program import Program
    from inhouse.program.config import read_config
    from inhouse.program.core import unenrolled_service_key

    config = read_config(folder)
    settings = settings or read_gateway_settings(folder, config)
    runtimes = gateway_runtimes(folder, config, settings)
    policy = RequestPolicy.from_config(config)
    store = open_store(database_url(folder))
    # the log as the gateway follows it: verified, pinned to inhouse.toml's lead key
    program_log = ProgramLog(Program.open(folder, store=store))
    try:
        # the lock first: a gateway with nothing to route makes no key (a newcomer's first
        # `serve`, refused for want of a lock, left a key file on her laptop, which every
        # later refusal there named as "another key")
        choice = choose_lock(folder, *program_log.recorded_lock())
        # its own key, refused (before anything is sealed or vouched with it) where the log
        # has revoked the key its file holds
        identity = own_key(folder, program_log)
        unenrolled = program_log.read(
            lambda state: unenrolled_service_key(state, SERVICE, identity)
        )
    except BaseException:
        store.close()
        raise
    if unenrolled is not None:
        # it serves (a counting fault takes no replica out), said at start and in /healthz
        log.warning("%s; it serves on, degraded", unenrolled)
    if choice.problem is not None:
        log.warning("%s", choice.problem)
    elif choice.notice is not None:
        log.warning("%s", choice.notice)
    router = Router(choice.lock, runtimes, program=folder)
    router.choose(choice)
    spool = Spool(safe_join(folder, settings.spool_dir), sync_each=settings.spool_sync == "request")
    usage = UsageWriter(
        store,
        spool,
        mac_key=gateway_mac_key(folder),  # the rows it writes are sealed with its own key
        flush_seconds=settings.flush_seconds,
        batch_size=settings.batch_size,
        leftovers=leftovers,
    )
    today = clock().astimezone(UTC).strftime("%Y-%m-%d")
    # spent today, in the rows the gateway sealed (with this key or an earlier one it kept)
    seal = program_log.read(lambda state: seal_of(folder, state, identity))
    used = tokens_today(store, today, seal)
    limiter: Limiter
    if settings.redis_url is not None or settings.replica_count > 1:
        limiter = SharedLimiter(
            settings.redis_url,
            replicas=settings.replica_count,
            prefix=settings.redis_prefix,
            timeout=settings.redis_timeout,
            reservation_seconds=settings.upstream_timeout + 60,
            tokens_used=used,
            clock=clock,
        )
    else:
        limiter = Limiter(used, clock=clock)
    gateway = Gateway(
        identity=identity,  # what answers a voucher (`gateway vouch`)
        store=store,
        program_log=program_log,
        router=router,
        policy=policy,
        settings=settings,
        usage=usage,
        limiter=limiter,
        clock=clock,
        prompts=PromptSource(
            program_log, second_person=library_settings(config).promote_needs_second_person
        ),
    )
    gateway.unenrolled = unenrolled
    return gateway


def serve(
    folder: Path,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    spool_dir: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM), then flush the usage log. With ``workers``
    above 1, that many processes share the port (SO_REUSEPORT, the port claimed first as one
    server's: :func:`_claim`), each a whole gateway with a spool of its own (``worker-N`` under
    ``spool_dir``), restarted should one die. ``announce`` is told the base URL clients use
    (``…/v1``) once the port is open (port 0 resolved)."""
    from inhouse.db import open_store
    from inhouse.gateway.programlog import ProgramLog
    from inhouse.program import Program
    from inhouse.program.config import read_config
    from inhouse.terminal import clean_handlers

    _log_with_times()
    clean_handlers()  # the supervisor's log too; each worker (a fresh process) cleans its own
    settings = read_gateway_settings(folder, read_config(folder))
    # made once here, not by the workers racing to make it; refused before anything opens
    # where the checkout's git tracks it (a key everyone with the repository holds), or where
    # the log has revoked the key it holds
    store = open_store(database_url(folder))
    try:
        program_log = ProgramLog(Program.open(folder, store=store))
        # with nothing to route, refused before a key is made (see build_gateway)
        choose_lock(folder, *program_log.recorded_lock())
        own_key(folder, program_log)
    finally:
        store.close()
    updates: dict[str, Any] = {}
    for name, value in (("host", host), ("port", port), ("workers", workers),
                        ("spool_dir", spool_dir)):  # fmt: skip
        if value is not None:
            updates[name] = value
    settings = GatewaySettings.model_validate({**settings.model_dump(), **updates})
    if settings.workers == 1:
        _serve_one(folder, settings, None, announce)
    else:
        _supervise(folder, settings, announce)


#: a gateway log line: when (UTC), how bad, which process (/healthz's ``replica.pid``), what
LOG_FORMAT = "%(asctime)s %(levelname)s [pid %(process)d] %(message)s"


def _log_with_times() -> None:
    """Where nothing set up logging (``inhouse gateway serve``), the gateway's log goes to
    stderr from warnings up, each line dated in UTC and naming its level and process: it wrote
    the bare message, as logging's last resort does, so an operator reading "runtime local …
    is down" could not tell when, nor which worker said it. Asking again changes nothing."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    formatter = logging.Formatter(LOG_FORMAT, datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root.addHandler(handler)


def _base_url(host: str, port: int) -> str:
    """The OpenAI base URL of a gateway listening on ``host:port``."""
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"


def _socket(host: str) -> socket.socket:
    """A TCP socket for ``host`` that may bind a port its last run's connections still hold
    (SO_REUSEADDR: TIME_WAIT does not keep a restart off)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return sock


def _claim(host: str, port: int) -> socket.socket:
    """The port of one ``serve``'s workers: a socket listening on ``host:port`` as one server
    first, and only then open to sharing (SO_REUSEPORT), for :func:`_join`'s sockets.

    Linux lets any process of the same user add a listener to a port whose listeners all set
    SO_REUSEPORT, and spreads new connections over all of them: had this socket set it before
    it listened, a second ``serve`` on the port would have joined this one's workers, and
    clients would have been split silently between two gateways. A listener without it shares
    with nothing, so a port any other server holds (another gateway's workers among them) is
    refused here; and of two ``serve`` claiming one port at once only one listens, as the
    kernel checks again at ``listen``, not only at ``bind``."""
    sock = _socket(host)
    try:
        sock.bind((host, port))
        sock.listen(BACKLOG)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError as err:
        sock.close()
        raise cannot_listen(host, port, err) from None
    return sock


def _join(host: str, port: int) -> socket.socket:
    """One more worker's socket on the port :func:`_claim` holds: bound with SO_REUSEPORT, and
    listening (the kernel then spreads new connections over the workers) once its worker
    serves, so no connection waits on a worker still starting."""
    sock = _socket(host)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise cannot_listen(host, port, err) from None
    return sock


def _serve_one(
    folder: Path,
    settings: GatewaySettings,
    worker: int | None,
    announce: Callable[[str], None] | None = None,
    sock: socket.socket | None = None,
    peers: Path | None = None,
    parent: int | None = None,
) -> None:
    """Serve one gateway: on ``sock`` (a worker's, from its supervisor), else on the settings'
    host and port. A worker's ``peers``: the folder where the workers of its ``serve`` answer
    each other's ``/metrics`` (:mod:`inhouse.gateway.peers`); ``parent``: its supervisor's
    process id, whose death ends it (:func:`_watch_parent`)."""
    from inhouse.gctuning import for_a_server
    from inhouse.terminal import clean_handlers

    _log_with_times()
    clean_handlers()  # a client's text forges no log line, whichever logger writes it
    spools = safe_join(folder, settings.spool_dir)
    base = spools if worker is None else spools.parent  # a worker's is BASE/worker-N
    leftovers = left_spools(base, settings.workers, worker)
    gateway = build_gateway(folder, settings=settings, leftovers=leftovers)
    gateway.worker = worker
    if peers is not None and worker is not None:
        gateway.peers = Peers(peers, worker, settings.workers)
    for_a_server()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        asyncio.run(_run(gateway, sock, worker, announce, parent))
    else:
        uvloop.run(_run(gateway, sock, worker, announce, parent))


async def _run(
    gateway: Gateway,
    sock: socket.socket | None,
    worker: int | None,
    announce: Callable[[str], None] | None = None,
    parent: int | None = None,
) -> None:
    """Start the gateway, serve until SIGTERM (or Ctrl-C, for the only process), or until
    ``parent`` (a worker's supervisor) is gone, then let the answers under way finish and stop
    it (its usage log flushed)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    server: EdgeServer | None = None

    def on_signal() -> None:
        if stopping.is_set() and server is not None:
            server.abort()  # a second signal: the answers under way are cut short
        stopping.set()

    # a worker ignores Ctrl-C: its supervisor stops it with SIGTERM
    for signum in (signal.SIGTERM,) if worker is not None else (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    async with gateway:
        server = await gateway.serve(sock=sock)
        log.info("gateway listening on %s:%s", gateway.settings.host, gateway.port)
        if announce is not None and gateway.port is not None:
            announce(_base_url(gateway.settings.host, gateway.port))
        watching = None if parent is None else asyncio.create_task(_watch_parent(parent, on_signal))
        await stopping.wait()
        if watching is not None:
            watching.cancel()
        await server.close(grace=gateway.settings.upstream_timeout)


#: how often a worker looks whether its supervisor is still its parent
PARENT_CHECK_SECONDS = 1.0


async def _watch_parent(parent: int, stop: Callable[[], None]) -> None:
    """Call ``stop`` once ``parent`` is no longer this process's parent (it died: the process
    was handed to init, or a subreaper). The fallback of :func:`_end_with_parent`, where the
    kernel has no parent-death signal (not Linux), or the signal was lost."""
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_CHECK_SECONDS)
    log.warning("the gateway's supervisor (pid %d) is gone: this worker stops", parent)
    stop()


def _end_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent dies (Linux's
    ``PR_SET_PDEATHSIG``): a supervisor killed with SIGKILL, which stops nothing on its way
    out, left its workers serving on the port, holding it against the next ``serve``. A
    parent already gone before this was asked ends the process at once."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            log.warning("cannot ask for a signal when the supervisor dies (errno %d): a worker "
                        "checks its parent every %.0f s instead", ctypes.get_errno(),
                        PARENT_CHECK_SECONDS)  # fmt: skip
    if os.getppid() != parent:  # it died before the kernel was asked
        sys.exit(0)


#: ``prctl(2)``'s option that names the signal a process gets when its parent dies
_PR_SET_PDEATHSIG = 1


def _worker(
    folder: str,
    settings: dict[str, Any],
    index: int,
    sock: socket.socket,
    started: Any,
    peers: str,
    parent: int,
) -> None:
    """One worker process of :func:`_supervise` (spawned: a fresh interpreter), serving on
    ``sock``, its socket on the port its supervisor holds. It tells ``started`` (a queue) once
    it serves, ``(index, None)``, or why it could not start, ``(index, (exit code, message))``:
    an error of inhouse's is the supervisor's to say, once, not a traceback per restart. It
    ends when ``parent``, its supervisor, dies, however it died."""
    _end_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops it with SIGTERM
    try:
        _serve_one(
            Path(folder), GatewaySettings.model_validate(settings), index,
            announce=lambda url: started.put((index, None)), sock=sock, peers=Path(peers),
            parent=parent,
        )  # fmt: skip
    except InhouseError as err:
        started.put((index, (err.exit_code, str(err))))
        sys.exit(err.exit_code)


#: the longest path a Unix socket may be bound to (``sun_path`` less its NUL: 108 bytes on
#: Linux, 104 on the BSDs and macOS)
_SOCKET_PATH_MAX = 107 if sys.platform.startswith("linux") else 103


def _peers_folder(workers: int) -> str:
    """A new folder (0700) where ``workers`` workers answer each other's ``/metrics``
    (:mod:`inhouse.gateway.peers`): in the temporary folder, or in ``/tmp`` where that one's
    path leaves no room for a socket's (a long ``TMPDIR``: every worker failed to start, ``AF_UNIX
    path too long``)."""
    import tempfile

    socket_name = f"{workers - 1}.sock"
    folder = tempfile.mkdtemp(prefix="inhouse-gateway-")
    if len(os.fsencode(os.path.join(folder, socket_name))) <= _SOCKET_PATH_MAX:
        return folder
    os.rmdir(folder)
    try:
        short = tempfile.mkdtemp(prefix="inhouse-gateway-", dir="/tmp")
    except OSError as err:
        raise ConfigError(
            f"the temporary folder {tempfile.gettempdir()} is too long a path for the gateway "
            f"workers' sockets (at most {_SOCKET_PATH_MAX} bytes), and /tmp cannot be used "
            f"({err.strerror or err}): set TMPDIR to a shorter folder"
        ) from None
    log.info("the gateway workers answer each other in %s: the temporary folder's path is too "
             "long for a socket's", short)  # fmt: skip
    return short


def _reports(started: Any) -> list[tuple[int, tuple[int, str] | None]]:
    """What the workers said on ``started`` since it was last read (never waits)."""
    said = []
    while not started.empty():
        said.append(started.get())
    return said


def _supervise(
    folder: Path, settings: GatewaySettings, announce: Callable[[str], None] | None = None
) -> None:
    """Start ``settings.workers`` worker processes on one port and keep them running until
    SIGTERM or Ctrl-C, then stop them (each flushes its usage log)."""
    import multiprocessing
    import shutil

    claimed = _claim(settings.host, settings.port)  # resolves port 0 for every worker
    # the folders of serves killed with their workers (kill -9), left in the temporary folder
    import tempfile

    for left in sweep((tempfile.gettempdir(), "/tmp")):
        log.warning("removed %s, left by a gateway serve that is gone", left)
    # where the workers answer each other's /metrics: this serve's alone, its user's only (0700)
    peers = _peers_folder(settings.workers)
    held = hold(Path(peers))  # for as long as this serve runs: no later serve's sweep takes it
    port = claimed.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    started = context.SimpleQueue()  # each worker says once it serves, or why it cannot
    stopping = False

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def start(index: int, sock: socket.socket) -> Any:
        spool = f"{settings.spool_dir.rstrip('/')}/worker-{index}"
        own = settings.model_copy(update={"port": port, "spool_dir": spool})
        process = context.Process(
            target=_worker,
            args=(str(folder), own.model_dump(), index, sock, started, peers, os.getpid()),
            name=f"gateway-{index}",
        )  # fmt: skip
        try:
            process.start()  # the worker gets its own copy of the socket
        finally:
            # none kept here: a listener nobody accepts on would hold its share of connections
            sock.close()
        return process

    processes: dict[int, Any] = {}
    try:
        # the first worker takes the claimed socket; the others join the port beside it
        processes[0] = start(0, claimed)
        for index in range(1, settings.workers):
            processes[index] = start(index, _join(settings.host, port))
        # "Listening" only once every worker serves: one that cannot start (its runtimes, the
        # lock, its spool) would fail the same way each time it was started again, a traceback a
        # second for ever under a line saying the gateway listens
        waiting = set(processes)
        while waiting and not stopping:
            # a worker's report is in the pipe before it exits (a SimpleQueue has no feeder
            # thread): read after the liveness check, it is never missed
            dead = [index for index in waiting if not processes[index].is_alive()]
            for index, failure in _reports(started):
                waiting.discard(index)
                if failure is not None:
                    raise GatewayWorkerFailed(failure[1], exit_code=failure[0])
            for index in dead:
                if index in waiting:
                    raise GatewayWorkerFailed(
                        f"gateway worker {index} exited ({processes[index].exitcode}) before it "
                        "served; what it said is above"
                    )
            time.sleep(0.1)
        if announce is not None and not stopping:
            announce(_base_url(settings.host, port))
        while not stopping:
            time.sleep(0.2)
            for index, failure in _reports(started):
                if failure is not None:  # one started again that cannot start: a line, no traceback
                    log.warning("gateway worker %d cannot start: %s", index, failure[1])
            for index, process in list(processes.items()):
                if not process.is_alive() and not stopping:
                    log.warning("gateway worker %d exited (%s); starting it again",
                                index, process.exitcode)  # fmt: skip
                    time.sleep(1.0)
                    try:  # the other workers still hold the port: a new socket joins them
                        sock = _join(settings.host, port)
                    except ConfigError as err:  # none left, and another server took it
                        log.warning("gateway worker %d cannot start again: %s", index, err)
                        continue
                    processes[index] = start(index, sock)
    finally:
        for process in processes.values():
            if process.is_alive():
                process.terminate()
        for process in processes.values():  # each lets its answers under way finish first
            process.join(settings.upstream_timeout + 30)
            if process.is_alive():
                process.kill()
                process.join()
        shutil.rmtree(peers, ignore_errors=True)
        if held is not None:
            os.close(held)
