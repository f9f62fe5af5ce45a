"""Helpers for gateway tests: a program with runtimes, a lock and keys; the gateway in-process
(serving on a loopback port in the test's own event loop) or as a real ``inhouse gateway serve``
process on a loopback port."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from sqlalchemy import select

from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime, write_lock
from inhouse.db.schema import gateway_usage
from inhouse.gateway import Gateway, KeyLimits, build_gateway, issue_key
from inhouse.gateway.usage import Clock, utcnow
from inhouse.program import Program
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.testmodel import make_test_model
from tests.people import enrol
from tests.runtimes.standin import free_port

LEAD = "lena"


def make_program(
    folder: Path,
    runtimes: dict[str, dict[str, Any]],
    models: dict[str, str],
    *,
    extra: dict[str, Any] | None = None,
    gateway: dict[str, Any] | None = None,
    clock: Clock = utcnow,
    demo: bool = False,
) -> Program:
    """A program led by lena, who owns play 1 (so her keys need no waiver), with the given
    ``[runtimes]`` tables and a lock blessing ``models`` (name -> digest); its events are dated
    by ``clock``; ``demo``: created as a demo (`inhouse init --demo`)."""
    program = Program.init(folder, "Acme", LEAD, clock=clock, demo=demo)
    program.change_roles(LEAD, LEAD, add=["play-owner"])
    program.record_hypothesis(LEAD, "replace the hosted API", aim="replace-dependency",
                              target="hosted chat")  # fmt: skip
    program.start_play(LEAD, 1)
    enrol(program, "omar", team="support")
    config_path = folder / "inhouse.toml"
    settings = {
        "flush_seconds": 0.05,
        "keys_refresh_seconds": 0.1,
        "health_check_seconds": 0.2,
        **(gateway or {}),
    }
    tables: dict[str, Any] = {"runtimes": runtimes, "gateway": settings, **(extra or {})}
    with config_path.open("a", encoding="utf-8") as handle:
        handle.write("\n" + tomli_w.dumps(tables))
    lock = Lock(
        owner=LEAD,
        runtime=LockedRuntime(name=next(iter(runtimes)), family="openai"),
        models=[LockedModel(name=name, digest=digest) for name, digest in models.items()],
        python="3.11",
        inhouse="0.1.0",
    )
    write_lock(folder, lock.model_copy(update={"lock_hash": lock.computed_hash()}))
    return program


def one_runtime(folder: Path, url: str, **options: Any) -> Program:
    """:func:`make_program` with one runtime, ``local``, at ``url``, serving the test weights
    (:func:`model_file`) blessed as ``tiny``; ``options`` go to :func:`make_program`."""
    weights = model_file(folder)
    runtimes = {"local": {"family": "openai", "url": url, "model_path": str(weights)}}
    return make_program(folder, runtimes, {"tiny": digest_of(weights)}, **options)


def model_file(folder: Path, name: str = "weights.gguf", *, seed: int = 0) -> Path:
    """A real GGUF model at ``folder/name`` (the tiny test model made with ``seed``; another
    seed, other weights and another digest), for a runtime that names it as its weights: only
    a GGUF the runtime names is hashed for a digest. Made once per seed per session, copied."""
    made = _made_models.get(seed)
    if made is None:
        made = make_test_model(_models_folder() / f"seed-{seed}.gguf", seed=seed)
        _made_models[seed] = made
    path = folder / name
    shutil.copyfile(made, path)
    return path


#: the test models made this session, by seed
_made_models: dict[int, Path] = {}


@functools.cache
def _models_folder() -> Path:
    """A folder for this session's test models, removed when the process that made it exits
    (not a forked child that inherits the exit handler)."""
    folder = Path(tempfile.mkdtemp(prefix="inhouse-test-models-"))
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:
            shutil.rmtree(folder, ignore_errors=True)

    atexit.register(remove)
    return folder


def weights_root(folder: Path, name: str = "weights.gguf") -> str:
    """The file :func:`model_file` writes in ``folder``, as a runtime names the weights it
    serves (a stand-in's ``root``): what ties the model to the file for its digest. It may be
    named before it is written; the digest is read when the gateway checks."""
    return str(folder / name)


def digest_of(path: Path) -> str:
    return sha256_digest(path, cached=False)


def key_for(program: Program, **options: Any) -> str:
    """A gateway key for lena (play 1's owner, so no waiver), granted and fetched with her key."""
    agent = options.pop("agent", None)
    _, key = issue_key(program, LEAD, LEAD, agent=agent, limits=KeyLimits(**options))
    return key


@contextlib.asynccontextmanager
async def in_process(
    folder: Path, *, clock: Clock = utcnow
) -> AsyncIterator[tuple[Gateway, httpx.AsyncClient]]:
    """The gateway built from the program at ``folder``, started, with an ASGI client; its usage
    records are dated by ``clock`` (a test's clock moves requests onto other days)."""
    gateway = build_gateway(folder, clock=clock)
    async with (
        gateway,
        listening(gateway) as url,
        httpx.AsyncClient(base_url=url, trust_env=False) as client,
    ):
        yield gateway, client
    gateway.store.close()


@contextlib.asynccontextmanager
async def listening(gateway: Gateway) -> AsyncIterator[str]:
    """A started gateway serving on a free loopback port, in this event loop: its URL."""
    server = await gateway.serve("127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{gateway.port}"
    finally:
        await server.close(grace=5.0)


def auth(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def chat(model: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}


def usage_rows(program: Program) -> list[dict[str, Any]]:
    with program.store.engine.connect() as conn:
        rows = conn.execute(select(gateway_usage).order_by(gateway_usage.c.at)).all()
    return [dict(row._mapping) for row in rows]


def sse_events(text: str) -> list[str]:
    """The data payloads of a server-sent event stream."""
    return [
        line[5:].strip() for line in text.replace("\r\n", "\n").split("\n")
        if line.startswith("data:")
    ]  # fmt: skip


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return dict(body["error"])


class ServedGateway:
    """``inhouse gateway serve`` in a subprocess on a free loopback port."""

    def __init__(self, folder: Path, log: Path, args: tuple[str, ...] = ()) -> None:
        self.folder = folder
        #: more ``inhouse gateway serve`` options (``--workers 2``, ``--spool-dir DIR``)
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "INHOUSE_PROGRAM": str(self.folder)}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "inhouse", "gateway", "serve", "--port", str(self.port),
                 *self.args],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False) as client:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"gateway exited:\n{self.log.read_text()[-3000:]}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gateway not ready:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.05)

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def served(folder: Path, log: Path, *args: str) -> Iterator[ServedGateway]:
    gateway = ServedGateway(folder, log, args)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.stop()


def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it holds; ``timeout`` is how long "never" is, not a speed (it
    ends as soon as the predicate holds): a gateway process's usage flush on a loaded machine."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def dumps(data: Any) -> str:
    return json.dumps(data)
