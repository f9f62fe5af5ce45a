"""The embedded runtime: llama-cpp-python's OpenAI-compatible server, run by inhouse itself on
loopback, so a program has a runtime with nothing else installed (``make demo`` uses it).

One per run folder. ``serve`` starts it detached (it outlives the command that started it),
writes a PID file and a state file (URL, model, digest, version), and returns once the server
answers; ``stop`` ends it (SIGTERM, then SIGKILL) and removes both files; ``status`` reads them.
The run folder is ``<program>/.inhouse/run``, or ``~/.cache/inhouse/run`` outside a program;
``INHOUSE_RUN_DIR`` overrides both.

The server answers ``/v1/embeddings`` as well as chat and completions (embeddings on, in the same
process: llama-cpp-python 0.3 generates the same answers with them on); a model that declares
no pooling of its own (a chat model) gets mean pooling, so an input is one vector.

The server lists its model under an alias (the file's stem), which names no file; its digest is
the SHA-256 of the file ``serve`` launched it with (recorded in the state file, and still on the
running process's command line), never of a file the config names.

Needs the ``embedded`` extra (llama-cpp-python[server]); without it, :class:`ExtraNotInstalled`.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from inhouse.errors import (
    ExtraNotInstalled,
    InvalidInput,
    RuntimeTimeout,
    RuntimeUnavailable,
)
from inhouse.location import run_dir
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.digests import gguf_problem, sha256_digest
from inhouse.runtimes.llamacpp import LlamaCppRuntime
from inhouse.runtimes.local import answered_here
from inhouse.runtimes.protocol import ModelInfo, RuntimeCapabilities
from inhouse.runtimes.testmodel import is_test_model

__all__ = [
    "EmbeddedRuntime",
    "EmbeddedState",
    "EmbeddedStatus",
    "connect_embedded",
    "embedded_status",
    "launch_problem",
    "read_state",
    "refuse_if_running",
    "require_engine",
    "serve_embedded",
    "stop_embedded",
]

_STATE = "embedded.json"
_PID = "embedded.pid"
_LOG = "embedded.log"


def _install_hint(python: str) -> str:
    """How to install the ``embedded`` extra into ``python``: pip, which every user has (an
    inhouse installed with pip has no ``scripts/`` folder); in a checkout of inhouse's source,
    also its script, which keeps the compiled wheel for the next virtualenv."""
    script = _checkout_script()
    checkout = (
        f"; in this checkout, `{script} {python}` does the same once and keeps the wheel for "
        "the next virtualenv"
        if script is not None
        else ""
    )
    return (
        "the embedded runtime needs the `embedded` extra (llama-cpp-python[server]). Install "
        f"it with `CMAKE_ARGS=-DGGML_NATIVE=OFF {python} -m pip install 'inhouse[embedded]'` "
        f"(compiles llama.cpp once, for any CPU of this architecture){checkout}, or point "
        "inhouse at a running runtime (Ollama, llama.cpp, vLLM) instead"
    )


def _checkout_script() -> Path | None:
    """``scripts/install-embedded.sh`` of the source checkout this inhouse runs from, or None
    (installed with pip: the package has no ``scripts/`` beside it)."""
    script = Path(__file__).resolve().parents[3] / "scripts" / "install-embedded.sh"
    return script if script.is_file() else None


#: largest context the embedded server gets by default: a model's own (often 128k) would
#: reserve gigabytes of KV cache on a laptop
_DEFAULT_MAX_CTX = 4096
#: llama.cpp's LLAMA_POOLING_TYPE_MEAN (gguf.PoolingType.MEAN)
_MEAN_POOLING = 1
#: the embedded servers this process started, so ``stop`` can reap them (no zombies, and no
#: "subprocess still running" warning when a Popen is collected)
_children: dict[int, subprocess.Popen[bytes]] = {}


class EmbeddedState(BaseModel):
    """What ``serve`` recorded about the running server."""

    pid: int
    url: str
    host: str
    port: int
    model_id: str
    model_path: str
    model_digest: str
    is_test_model: bool
    engine: str
    python: str
    started_at: str
    log_path: str


class EmbeddedStatus(BaseModel):
    running: bool
    answering: bool = False
    state: EmbeddedState | None = None
    detail: str


def read_state(program: Path | None) -> EmbeddedState | None:
    """The recorded state, or None when nothing was started (or the file is unreadable)."""
    try:
        return EmbeddedState.model_validate_json((run_dir(program) / _STATE).read_bytes())
    except (OSError, ValueError):
        return None


def _clear(folder: Path) -> None:
    for name in (_STATE, _PID):
        (folder / name).unlink(missing_ok=True)


def _engine_version(python: str) -> str:
    """llama-cpp-python's version in ``python``; :class:`ExtraNotInstalled` when it is missing."""
    if Path(python).resolve() == Path(sys.executable).resolve():
        needed = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette")
        if all(importlib.util.find_spec(name) is not None for name in needed):
            return importlib.metadata.version("llama_cpp_python")
        raise ExtraNotInstalled(_install_hint(python))
    probe = (
        "import importlib.metadata as m, llama_cpp.server, uvicorn;"
        "print(m.version('llama_cpp_python'))"
    )
    done = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, timeout=60, check=False,
        env=_safe_path(),
    )  # fmt: skip
    if done.returncode != 0:
        raise ExtraNotInstalled(_install_hint(python))
    return done.stdout.strip()


def _safe_path() -> dict[str, str]:
    """This process's environment, with Python told not to look for modules in the current
    folder (``PYTHONSAFEPATH``, Python 3.11+). ``python -m llama_cpp.server`` and ``python -c``
    put the current folder first on ``sys.path``, and the runtime is started in a checkout of the
    program folder (by hand, or by the install script): a ``llama_cpp`` package lying there
    would run as the runtime, with the rights (and the signing key) of whoever started it, and
    answer anything under the digest inhouse hashes from the blessed file."""
    return {**os.environ, "PYTHONSAFEPATH": "1"}


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class _ModelFacts(BaseModel):
    """What the server's command line needs from the GGUF's metadata."""

    architecture: str
    #: the trained context, capped (so the server neither overflows nor over-reserves)
    context: int
    #: whether the model says how to pool its token vectors into one (embedding models do)
    declares_pooling: bool


def _model_facts(path: Path) -> _ModelFacts:
    from gguf import GGUFReader

    reader = GGUFReader(path)
    arch_field = reader.fields.get("general.architecture")
    arch = str(arch_field.contents()) if arch_field is not None else "llama"
    field = reader.fields.get(f"{arch}.context_length")
    trained = int(field.contents()) if field is not None else _DEFAULT_MAX_CTX
    return _ModelFacts(
        architecture=arch,
        context=min(trained, _DEFAULT_MAX_CTX),
        declares_pooling=f"{arch}.pooling_type" in reader.fields,
    )


def _check_gguf(path: Path) -> Path:
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise InvalidInput(f"no model file at {path}")
    problem = gguf_problem(path)
    if problem is not None:
        raise InvalidInput(problem)
    return path


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a running process (a zombie we can reap counts as gone)."""
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True
    return True


def _is_embedded_server(pid: int) -> bool:
    """Guard against a reused PID: on Linux, check the process really is our server."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True  # no /proc (macOS): trust the PID file
    try:
        return b"llama_cpp.server" in cmdline.read_bytes()
    except OSError:
        return False


def _command_line(pid: int) -> list[str] | str | None:
    """``pid``'s arguments: a list from ``/proc`` (Linux), else the one line ``ps`` prints
    (macOS), else None."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    else:
        return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    try:
        done = subprocess.run(
            ["ps", "-ww", "-o", "args=", "-p", str(pid)],
            capture_output=True, text=True, timeout=10, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def launch_problem(state: EmbeddedState) -> str | None:
    """Why the server ``state`` describes is not known to serve ``state.model_path`` (None when
    it is): the process ``serve`` started must still run with the command line ``serve`` gave
    it — that file, that alias, that port. Only then is the recorded file what answers at the
    recorded url; the state file alone is a claim anyone could write."""
    if not _alive(state.pid):
        return f"process {state.pid}, which `inhouse runtime serve` started, is gone"
    argv = _command_line(state.pid)
    if argv is None:
        return f"the command line of process {state.pid} cannot be read"
    wanted = [
        ("--model", state.model_path),
        ("--model_alias", state.model_id),
        ("--port", str(state.port)),
    ]
    if isinstance(argv, list):
        pairs = set(itertools.pairwise(argv))
        ours = "llama_cpp.server" in argv and all(pair in pairs for pair in wanted)
    else:
        line = f" {argv} "
        ours = "llama_cpp.server" in line and all(f" {a} {b} " in line for a, b in wanted)
    if not ours:
        return (
            f"process {state.pid} is not the server `inhouse runtime serve` started on "
            f"{state.model_path} at port {state.port}"
        )
    return _listener_problem(state.pid, state.host, state.port)


def _listener_problem(pid: int, host: str, port: int) -> str | None:
    """Why process ``pid`` is not what listens at ``host``:``port`` here (None when it is): a
    command line is anyone's to type (a sleeping process named like the server), so what
    answers there must be that process's own socket, bound to that address (or to every
    address), not the same port on another loopback address."""
    import psutil

    try:
        sockets = psutil.Process(pid).net_connections(kind="inet")
    except psutil.NoSuchProcess:
        return f"process {pid}, which `inhouse runtime serve` started, is gone"
    except (psutil.AccessDenied, OSError) as err:
        return f"which process listens on port {port} cannot be read ({err})"
    try:
        wanted = {str(info[4][0]) for info in socket.getaddrinfo(host, port)}
    except (OSError, UnicodeError):
        wanted = {host}
    wanted |= {"0.0.0.0", "::"}  # bound to every address: it answers at this one too
    if any(
        s.status == psutil.CONN_LISTEN and s.laddr and s.laddr.port == port
        and s.laddr.ip.split("%", 1)[0] in wanted
        for s in sockets
    ):  # fmt: skip
        return None
    return (
        f"process {pid} does not listen at {host}:{port}: whatever answers there is not the "
        "server `inhouse runtime serve` started"
    )


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:]) or "(empty log)"


def refuse_if_running(program: Path | None) -> None:
    """Refuse (:class:`InvalidInput`) while the embedded runtime ``serve`` started runs; clear
    what a server that is gone left behind. ``inhouse runtime serve`` asks this before it says
    it is starting one (it said so, then refused)."""
    current = read_state(program)
    if current is None:
        return
    if _alive(current.pid):
        raise InvalidInput(
            f"the embedded runtime is already running at {current.url} (pid {current.pid}, "
            f"model {current.model_path}); stop it first with `inhouse runtime stop`"
        )
    _clear(run_dir(program))


def require_engine(python: str | None = None) -> str:
    """llama-cpp-python's version in ``python`` (this interpreter by default), or
    :class:`ExtraNotInstalled` naming the pip command that installs the extra. ``inhouse
    runtime serve`` asks this before it says it is starting one (it said it was waiting up to
    120 s, then that the extra was missing)."""
    return _engine_version(python or sys.executable)


def serve_embedded(
    model_path: Path,
    *,
    program: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    n_ctx: int | None = None,
    threads: int | None = None,
    ready_timeout: float = 120.0,
    python: str | None = None,
) -> EmbeddedState:
    """Start the embedded server on ``model_path`` and return once it answers. ``threads``:
    the CPU threads llama.cpp uses for prompts and answers (default: llama-cpp-python's)."""
    if threads is not None and threads < 1:
        raise InvalidInput(f"threads must be at least 1, not {threads}")
    path = _check_gguf(model_path)
    folder = run_dir(program)
    refuse_if_running(program)
    python = python or sys.executable
    version = _engine_version(python)
    port = port or _free_port(host)
    url = f"http://{host}:{port}"
    facts = _model_facts(path)
    context = n_ctx or facts.context
    test_model = is_test_model(path)
    model_id = path.stem
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / _LOG
    command = [
        python, "-m", "llama_cpp.server",
        "--model", str(path),
        "--model_alias", model_id,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(context),
        # Queue a request that arrives mid-stream instead of cutting the running stream short
        # (the server's default): behind the gateway, one user's request would end another's.
        "--interrupt_requests", "false",
        # /v1/embeddings on the same server: llama-cpp-python 0.3 serves chat and completions
        # unchanged with embeddings on (checked by tests/gateway/test_default_runtime.py)
        "--embedding", "true",
    ]  # fmt: skip
    if threads is not None:
        # llama.cpp's threads spin-wait for each other: on a machine other work shares, all of
        # its cores for prompts stalls an 8-token answer for seconds (measured on 2 cores)
        command += ["--n_threads", str(threads), "--n_threads_batch", str(threads)]
    if not facts.declares_pooling:
        # A chat model names no pooling, and llama.cpp then answers one vector per token, not
        # the one vector per input OpenAI's API promises: mean pooling makes one (the
        # override changes nothing else; chat answers are the same bytes)
        command += ["--kv_overrides", f"{facts.architecture}.pooling_type=int:{_MEAN_POOLING}"]
    with log_path.open("wb") as log:
        # A new session: the server outlives this command, and a Ctrl-C meant for the
        # command that started it does not reach it.
        child = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, env=_safe_path(),
        )  # fmt: skip
    _children[child.pid] = child
    state = EmbeddedState(
        pid=child.pid,
        url=url,
        host=host,
        port=port,
        model_id=model_id,
        model_path=str(path),
        model_digest=sha256_digest(path),
        is_test_model=test_model,
        engine=f"llama-cpp-python {version}",
        python=python,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        log_path=str(log_path),
    )
    # Written before the wait, so `inhouse runtime stop` can end a server that hangs in start-up.
    (folder / _PID).write_text(f"{child.pid}\n")
    _write_json(folder / _STATE, state.model_dump())
    try:
        _wait_ready(state, child, ready_timeout)
    except BaseException:
        _terminate(child.pid)
        _clear(folder)
        raise
    return state


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _wait_ready(state: EmbeddedState, child: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            code = child.poll()
            if code is not None:
                raise RuntimeUnavailable(
                    f"the embedded runtime exited during start-up (exit code {code}); "
                    f"its log ({state.log_path}) ends:\n{_log_tail(Path(state.log_path))}",
                    runtime="embedded",
                    url=state.url,
                )
            try:
                if client.get(f"{state.url}/v1/models").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise RuntimeTimeout(
                    f"the embedded runtime did not answer within {timeout:g} s of starting; "
                    f"its log ({state.log_path}) ends:\n{_log_tail(Path(state.log_path))}",
                    runtime="embedded",
                    url=state.url,
                )
            time.sleep(0.1)


def _terminate(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM, wait, then SIGKILL; reap it if it is our child."""
    child = _children.pop(pid, None)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        if child is not None:
            try:
                child.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if not _alive(pid):
            return
    if child is not None:
        child.wait()


def stop_embedded(program: Path | None = None, *, timeout: float = 10.0) -> EmbeddedStatus:
    """Stop the embedded server if it runs; remove its PID and state files either way."""
    folder = run_dir(program)
    state = read_state(program)
    if state is None:
        _clear(folder)
        return EmbeddedStatus(running=False, detail="the embedded runtime is not running")
    if _alive(state.pid) and _is_embedded_server(state.pid):
        _terminate(state.pid, timeout)
        detail = f"stopped the embedded runtime (pid {state.pid}, {state.url})"
    else:
        detail = f"the embedded runtime was not running (stale PID {state.pid} cleared)"
    _clear(folder)
    return EmbeddedStatus(running=False, state=state, detail=detail)


def embedded_status(program: Path | None = None) -> EmbeddedStatus:
    """Whether the embedded server runs and answers, with what ``serve`` recorded."""
    state = read_state(program)
    if state is None:
        return EmbeddedStatus(running=False, detail="the embedded runtime is not running")
    if not _alive(state.pid):
        return EmbeddedStatus(
            running=False,
            state=state,
            detail=f"not running: process {state.pid} is gone (stale state; "
            "`inhouse runtime stop` clears it)",
        )
    try:
        with httpx.Client(timeout=5.0, trust_env=False) as client:
            answering = client.get(f"{state.url}/v1/models").status_code == 200
    except httpx.TransportError:
        answering = False
    detail = f"running at {state.url} (pid {state.pid})" + ("" if answering else ", not answering")
    return EmbeddedStatus(running=True, answering=answering, state=state, detail=detail)


class EmbeddedRuntime(LlamaCppRuntime):
    """The adapter for the embedded server: llama-cpp-python's OpenAI API, with inventory from
    what ``serve`` recorded (the GGUF it launched the server with, and the engine's version),
    checked against the running process."""

    family = "embedded"
    capabilities: ClassVar[RuntimeCapabilities] = RuntimeCapabilities(
        served_by_inhouse=True, package_extra="embedded"
    )

    def _configured(self, config: RuntimeConfig, program: Path | None) -> RuntimeConfig:
        """The url ``serve`` recorded, where the config names none. (The model file is not
        taken from the config: the digest comes from the file ``serve`` launched.)"""
        self._state = read_state(program)
        if config.url is None and self._state is not None:
            return config.model_copy(update={"url": self._state.url})
        return config

    async def _model_info(self, entry: dict[str, Any], named: list[str]) -> ModelInfo:
        """The model ``serve`` started is pinned by the file it launched the server with (as
        ``serve`` recorded it, and as the running process's command line still says), never by
        a file the config names: the server lists it under an alias, which names no file."""
        state = self._state
        if state is None or state.url != self.url or entry["id"] != state.model_id:
            return await super()._model_info(entry, named)
        details = {k: v for k, v in entry.items() if k != "id"}
        problem = await asyncio.to_thread(launch_problem, state)
        if problem is None and not answered_here(self.peers):
            problem = f"{self.url} did not answer from this machine"
        if problem is None:
            info = await self._pinned_file(state.model_id, Path(state.model_path), details)
            if info.digest is None or info.digest == state.model_digest:
                return info
            problem = (
                f"{state.model_path} changed since the server was started on it (then "
                f"{state.model_digest}, now {info.digest})"
            )
        return ModelInfo(
            id=entry["id"],
            details=details,
            why_no_digest=f"{problem}, so what it serves is not known: restart it "
            "(`inhouse runtime stop`, then `inhouse runtime serve MODEL.gguf`)",
        )

    def _resolve_url(self, config: RuntimeConfig, program: Path | None) -> str:
        if config.url is None:
            raise RuntimeUnavailable(
                "the embedded runtime is not running; start it with "
                "`inhouse runtime serve MODEL` (a GGUF file, or a blessed model by its name in "
                "[baseline] models)",
                runtime=config.name,
                url="(not started)",
            )
        return config.url

    async def version(self) -> tuple[str | None, str | None]:
        if self._state is not None and self._state.url == self.url:
            return self._state.engine, None
        return None, None


def connect_embedded(program: Path | None = None, *, timeout: float = 120.0) -> EmbeddedRuntime:
    """The adapter for the embedded server this program started (use with ``async with``)."""
    config = RuntimeConfig(name="embedded", family="embedded", timeout=timeout)
    return EmbeddedRuntime(config, program=program)
