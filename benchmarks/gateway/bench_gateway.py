"""What the gateway adds: direct vs. nginx (the floor) vs. inhouse gateway (all policies on)
vs. LiteLLM proxy.

One run, one fast stand-in upstream on loopback (``inhouse.testing.standin_upstream`` in its own
process, fixed injected TTFT and per-token delay), three ways to reach it:

    (a) direct        the client talks to the stand-in
    (n) nginx         Debian's nginx as a plain proxy hop (``proxy_buffering off``, upstream
                      keep-alive, one worker), an unprivileged config on a loopback port: the
                      floor any proxy pays (``--no-nginx`` skips it; the script installs the
                      package with apt-get when it runs as root and /usr/sbin/nginx is missing)
    (p) python floor  ``python_floor.py``: the leanest streaming proxy Python allows (raw uvloop
                      protocols, httptools, the events split and their JSON parsed; nothing
                      else): what is Python's cost rather than the gateway's (``--no-floor``)
    (b) inhouse       ``inhouse gateway serve`` with data rules, an agent tool boundary, per-key
                      limits, the usage spool and the database writer all on; once per count of
                      ``--inhouse-workers`` (default ``1,2``: one process, then two sharing the
                      port, each with its share of the limits, no Redis)
    (r) replicas      the same with ``--workers 2`` sharing the port, limits shared through
                      Redis (``--redis-url``) and the usage log in PostgreSQL (``--postgres-url``,
                      default ``$INHOUSE_TEST_POSTGRES_URL``; a private schema, dropped after)
    (c) litellm       ``litellm --config`` proxy, from PyPI in a venv of its own: the script
                      makes it on first use (``--litellm-venv``, default
                      ~/.cache/inhouse/litellm-venv; ``--litellm-version`` pins it)

The load is the project's own client (``inhouse.trials``: raw keep-alive connections, httptools,
each read stamped as it arrives, on uvloop), so the client is not what saturates the cores; its
CPU and the stand-in's are printed per stream beside each proxy's.

At 1, 32 and 100 concurrent streams it reports TTFT and end-to-end p50/p99, the latency each
proxy adds over direct (p50/p99 of the same percentile), and throughput (completed streams per
second), and inhouse's added latency as a multiple of nginx's.
``--soak-seconds N`` then keeps the inhouse gateway under streaming load for N seconds
and reports its RSS over time and the error count.

    .venv/bin/python benchmarks/gateway/bench_gateway.py [--litellm-venv DIR | --no-litellm]
        [--levels 1,32,100] [--seconds 10] [--soak-seconds 600] [--spool-sync batch|request]
        [--no-nginx] [--no-replicas] [--redis-url URL] [--postgres-url URL]
        [--inhouse-workers 1,2]

Each proxy's line also gives the CPU it spent per stream (its process and workers, from
/proc): on a shared machine that figure moves less with other load than the latencies do.

Timings are wall-clock on this machine and depend on what else runs on it; they are printed,
never asserted in tests. The client, the stand-in and the proxy share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import tomli_w

from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from inhouse.trials._http import HttpError, StreamClient
from inhouse.trials.load import run_in_fast_loop

_CONTENT = re.compile(rb'"content"\s*:\s*"(?!")')
MODEL = "tiny"
PROMPT = "Summarise the quarterly report for the team, please."
#: the GGUF the stand-in names as the weights it serves (its ``root``, as vLLM names its
#: model's), in the run's work folder; every program's ``model_path`` is this file, so the
#: gateway pins the blessed model by its digest (a file only the config names would pin nothing)
WEIGHTS = "weights.gguf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with httpx.Client(trust_env=False) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{url} exited:\n{log.read_text()[-3000:]}")
            try:
                if client.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# -- the three targets ---------------------------------------------------------------------------


def served_weights(work: Path) -> Path:
    """The weights file the stand-in names (``WEIGHTS`` in ``work``): the tiny test model,
    made on first use."""
    from inhouse.runtimes.testmodel import make_test_model

    weights = work / WEIGHTS
    return weights if weights.is_file() else make_test_model(weights)


def inhouse_program(
    folder: Path,
    upstream: str,
    spool_sync: str,
    gateway: dict[str, Any] | None = None,
    *,
    weights: Path,
) -> str:
    """A program whose gateway fronts ``upstream`` (which names ``weights`` as the weights it
    serves) with every policy on; returns a key."""
    from inhouse.baseline.lock import Lock, LockedModel, LockedRuntime, write_lock
    from inhouse.gateway import KeyLimits, issue_key
    from inhouse.program import Program
    from inhouse.runtimes.digests import sha256_digest

    program = Program.init(folder, "Bench", "lena")
    program.change_roles("lena", "lena", add=["play-owner"])
    program.record_hypothesis("lena", "measure the gateway", aim="replace-dependency",
                              target="hosted chat")  # fmt: skip
    program.start_play("lena", 1)
    tables = {
        "runtimes": {"standin": {"family": "openai", "url": upstream, "model_path": str(weights)}},
        # one key carries every stream of the load: its in-flight cap must not refuse them
        "gateway": {
            "spool_sync": spool_sync,
            "flush_seconds": 0.5,
            "key_concurrency": 100_000,
            **(gateway or {}),
        },
        **policy_tables(),
    }
    with (folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + tomli_w.dumps(tables))
    lock = Lock(owner="lena", runtime=LockedRuntime(name="standin", family="openai"),
                models=[LockedModel(name=MODEL, digest=sha256_digest(weights))],
                python="3", inhouse="0")  # fmt: skip
    write_lock(folder, lock.model_copy(update={"lock_hash": lock.computed_hash()}))
    limits = KeyLimits(rpm=10_000_000, tokens_per_day=10_000_000_000)
    _, key = issue_key(program, "lena", "lena", agent="bench-agent", limits=limits)
    program.close()
    return key


def policy_tables() -> dict[str, Any]:
    """Data rules (every built-in class scanned; e-mail redacted, cards blocked) and an agent
    boundary for the benchmark key."""
    return {
        "data_rules": {
            "default": "allow",
            "classes": {"email": "redact", "card": "block", "iban": "block", "secret": "block"},
            "store_bodies": False,
        },
        "policy": {
            "agents": {
                "bench-agent": {"tools": {"read_file": {"path": {"path_prefix": ["/srv/docs"]}}}}
            }
        },
    }


@contextlib.contextmanager
def inhouse_gateway(
    upstream: str,
    work: Path,
    spool_sync: str,
    tag: str = "",
    *,
    workers: int = 1,
    gateway: dict[str, Any] | None = None,
    database: str | None = None,
    prefix: tuple[str, ...] = (),
    ready_timeout: float = 60,
) -> Iterator[tuple[str, str, int]]:
    """``inhouse gateway serve`` on a program of its own; ``prefix`` runs it under another
    program (``count_instructions.py``: valgrind), which then takes its pid."""
    folder = work / f"program-{spool_sync}{tag}"
    folder.mkdir()
    env = {**os.environ, "INHOUSE_PROGRAM": str(folder)}
    env.pop("INHOUSE_DATABASE_URL", None)
    if database is not None:
        os.environ["INHOUSE_DATABASE_URL"] = env["INHOUSE_DATABASE_URL"] = database
    try:
        key = inhouse_program(folder, upstream, spool_sync, gateway, weights=served_weights(work))
    finally:
        os.environ.pop("INHOUSE_DATABASE_URL", None)
    port = free_port()
    log = folder / "gateway.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "inhouse", "gateway", "serve", "--port", str(port),
             "--workers", str(workers)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=folder,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/healthz", process, log, ready_timeout)
        yield url, key, process.pid
    finally:
        stop(process)


def nginx_executable() -> str | None:
    """Debian's nginx, installed with apt-get when missing and running as root."""
    path = Path("/usr/sbin/nginx")
    if not path.exists() and os.geteuid() == 0:
        print("installing Debian's nginx (apt-get install -y nginx)")
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                       stdout=subprocess.DEVNULL)  # fmt: skip
    return str(path) if path.exists() else None


@contextlib.contextmanager
def nginx_proxy(nginx: str, upstream: str, work: Path) -> Iterator[tuple[str, str, int]]:
    """nginx as a plain proxy hop in front of ``upstream``: no buffering, pooled keep-alive
    connections upstream, one worker, everything under ``work`` (no root paths, no daemon)."""
    home = work / "nginx"
    home.mkdir()
    port = free_port()
    target = upstream.removeprefix("http://")
    (home / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {home}/body;
  proxy_temp_path {home}/proxy;
  fastcgi_temp_path {home}/fastcgi;
  uwsgi_temp_path {home}/uwsgi;
  scgi_temp_path {home}/scgi;
  upstream standin {{ server {target}; keepalive 256; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://standin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }}
  }}
}}
""")
    log = home / "stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [nginx, "-p", str(home), "-c", str(home / "nginx.conf")],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/v1/models", process, log, 30)
        yield url, "none", process.pid
    finally:
        stop(process)


@contextlib.contextmanager
def python_floor(
    upstream: str, prefix: tuple[str, ...] = (), ready_timeout: float = 30
) -> Iterator[tuple[str, str, int]]:
    """``python_floor.py``: the least a proxy written in Python pays (see its docstring)."""
    port = free_port()
    script = Path(__file__).with_name("python_floor.py")
    process = subprocess.Popen(
        [*prefix, sys.executable, str(script), "--upstream", upstream, "--port", str(port)],
        stdin=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/v1/models", process, Path(os.devnull), ready_timeout)
        yield url, "none", process.pid
    finally:
        stop(process)


@contextlib.contextmanager
def postgres_schema(base: str | None) -> Iterator[str | None]:
    """A private schema in the PostgreSQL at ``base`` (dropped afterwards), as its URL."""
    if not base:
        yield None
        return
    import sqlalchemy as sa

    schema = f"bench_{secrets.token_hex(6)}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextlib.contextmanager
def litellm_proxy(litellm: str, upstream: str, work: Path) -> Iterator[tuple[str, str, int]]:
    config = work / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{MODEL}\n"
        f"      api_base: {upstream}/v1\n"
        "      api_key: standin\n"
        "litellm_settings:\n"
        "  drop_params: true\n"
        "  telemetry: false\n"
    )
    port = free_port()
    log = work / "litellm.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LITELLM"))}
    master = "sk-" + secrets.token_hex(32)  # recent LiteLLM refuses to start without one
    env.update({"LITELLM_LOG": "ERROR", "LITELLM_TELEMETRY": "False",
                "LITELLM_MASTER_KEY": master})  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            [litellm, "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
             "--num_workers", "1"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=work,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(f"{url}/health/liveliness", process, log, 180)
        yield url, master, process.pid
    finally:
        stop(process)


# -- the load ------------------------------------------------------------------------------------


@dataclass
class Level:
    concurrency: int
    ttft: list[float] = field(default_factory=list)
    e2e: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    #: CPU the proxy process (and its workers) spent per stream, warm-up included
    cpu_us: float | None = None
    #: CPU the load client spent per stream, and the stand-in upstream
    client_cpu_us: float = 0.0
    upstream_cpu_us: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.e2e) / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def one_stream(client: StreamClient, request: bytes, level: Level) -> None:
    """One streamed chat through ``client`` (the project's own load client, timed at the read
    that brought each fragment): TTFT at the first fragment with content, e2e at the last."""
    try:
        answer = await client.send(request)
    except (HttpError, TimeoutError):
        level.errors += 1
        return
    first = next((at for at, data in answer.fragments if _CONTENT.search(data)), None)
    if answer.status != 200 or first is None or b"[DONE]" not in answer.fragments[-1][1]:
        level.errors += 1
        return
    level.ttft.append((first - answer.sent) * 1000)
    level.e2e.append((answer.ended - answer.sent) * 1000)


def stream_request(client: StreamClient) -> bytes:
    # max_tokens as clients set it: a key with a daily budget reserves what a request may cost,
    # and one without max_tokens may cost the rest of the day (docs/gateway.md, Limits)
    body = {"model": MODEL, "stream": True, "max_tokens": 64,
            "messages": [{"role": "user", "content": PROMPT}]}  # fmt: skip
    return client.prepare("POST", "/v1/chat/completions", json.dumps(body).encode(),
                          **{"content-type": "application/json"})  # fmt: skip


def load_client(url: str, key: str, concurrency: int) -> StreamClient:
    return StreamClient(url, size=concurrency, timeout=120,
                        headers={"authorization": f"Bearer {key}"})  # fmt: skip


async def run_level(url: str, key: str, concurrency: int, seconds: float, warmup: int) -> Level:
    level = Level(concurrency)
    async with load_client(url, key, concurrency) as client:
        request = stream_request(client)
        scratch = Level(concurrency)
        await asyncio.gather(*(one_stream(client, request, scratch) for _ in range(warmup)))
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one_stream(client, request, level)

        started = time.perf_counter()
        cpu = process_cpu()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        level.seconds = time.perf_counter() - started
        level.client_cpu_us = (process_cpu() - cpu) / max(len(level.e2e) + level.errors, 1) * 1e6
    return level


def process_cpu() -> float:
    """CPU seconds (user + system) this process (the load client) has spent."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` and its children that are alive (a
    gateway's workers): less noisy than latency on a shared machine, since other load on the
    cores stretches wall-clock times but not the CPU the proxy itself spends."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # a process that ended meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # itself or a child
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def measure(
    name: str,
    url: str,
    key: str,
    levels: list[int],
    seconds: float,
    pid: int | None = None,
    upstream_pid: int | None = None,
) -> dict[int, Level]:
    results = {}
    for concurrency in levels:
        before = cpu_seconds(pid) if pid is not None else 0.0
        upstream_before = cpu_seconds(upstream_pid) if upstream_pid is not None else 0.0
        warmup = min(concurrency, 20)
        level = run_in_fast_loop(run_level(url, key, concurrency, seconds, warmup))
        streams = max(len(level.e2e) + level.errors + warmup, 1)  # the warm-up's count too
        if pid is not None:
            level.cpu_us = (cpu_seconds(pid) - before) / streams * 1e6
        if upstream_pid is not None:
            level.upstream_cpu_us = (cpu_seconds(upstream_pid) - upstream_before) / streams * 1e6
        results[concurrency] = level
        cpu = f"  proxy cpu {level.cpu_us:5.0f} µs/stream" if level.cpu_us is not None else ""
        print(f"  {name:8} c={concurrency:<3} n={len(level.e2e):<6} err={level.errors:<4} "
              f"ttft p50 {pct(level.ttft, 50):7.2f} p99 {pct(level.ttft, 99):7.2f}  "
              f"e2e p50 {pct(level.e2e, 50):7.2f} p99 {pct(level.e2e, 99):7.2f} ms  "
              f"{level.throughput:7.1f} streams/s{cpu}  (client {level.client_cpu_us:4.0f}, "
              f"stand-in {level.upstream_cpu_us:4.0f} µs/stream)", flush=True)  # fmt: skip
    return results


# -- soak ----------------------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def soak(url: str, key: str, pid: int, seconds: float, concurrency: int) -> dict[str, Any]:
    level = Level(concurrency)
    samples: list[tuple[float, float]] = []
    async with load_client(url, key, concurrency) as client:
        request = stream_request(client)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one_stream(client, request, level)

        async def sampler() -> None:
            interval = max(1.0, seconds / 60)
            while time.perf_counter() < deadline:
                samples.append((time.perf_counter() - started, rss_mib(pid)))
                print(f"  soak t={samples[-1][0]:6.0f} s  rss {samples[-1][1]:7.1f} MiB  "
                      f"streams {len(level.e2e)}  errors {level.errors}", flush=True)  # fmt: skip
                await asyncio.sleep(interval)

        await asyncio.gather(sampler(), *(worker() for _ in range(concurrency)))
        samples.append((time.perf_counter() - started, rss_mib(pid)))
    # growth after warm-up: from the sample at 10 % of the run to the end
    settled = next((rss for t, rss in samples if t >= seconds * 0.1), samples[0][1])
    growth = (samples[-1][1] - settled) / settled * 100
    return {"streams": len(level.e2e), "errors": level.errors, "rss_mib": samples,
            "growth_pct_after_warmup": growth}  # fmt: skip


# -- upstream client choice -------------------------------------------------------------------


async def client_choice(upstream: str, requests: int) -> dict[str, float]:
    """Per-request time of the gateway's own pooled client (``inhouse.gateway.wire``) vs a
    pooled aiohttp session vs a pooled httpx client, sequentially, non-streamed."""
    from inhouse.gateway.wire import Endpoint, Pool

    body = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
    data = json.dumps(body)
    out: dict[str, float] = {}
    pool, endpoint = Pool(), Endpoint(upstream)
    headers = b"content-type: application/json\r\n"

    async def own() -> None:
        answer = await pool.request(endpoint, "POST", "/v1/chat/completions", data.encode(),
                                    headers, timeout=10)  # fmt: skip
        try:
            await answer.read()
        finally:
            answer.release()

    for _ in range(50):
        await own()
    started = time.perf_counter()
    for _ in range(requests):
        await own()
    out["inhouse"] = (time.perf_counter() - started) / requests * 1e6
    await pool.close()
    async with aiohttp.ClientSession() as session:
        for _ in range(50):
            async with session.post(f"{upstream}/v1/chat/completions", data=data) as r:
                await r.read()
        started = time.perf_counter()
        for _ in range(requests):
            async with session.post(f"{upstream}/v1/chat/completions", data=data) as r:
                await r.read()
        out["aiohttp"] = (time.perf_counter() - started) / requests * 1e6
    async with httpx.AsyncClient(trust_env=False) as client:
        for _ in range(50):
            await client.post(f"{upstream}/v1/chat/completions", content=data)
        started = time.perf_counter()
        for _ in range(requests):
            (await client.post(f"{upstream}/v1/chat/completions", content=data)).read()
        out["httpx"] = (time.perf_counter() - started) / requests * 1e6
    return out


# -- main ----------------------------------------------------------------------------------------


def added(proxy: Level, direct: Level, series: str, q: float) -> float:
    return pct(getattr(proxy, series), q) - pct(getattr(direct, series), q)


def litellm_executable(venv: Path, version: str) -> str:
    """The ``litellm`` command of a venv of its own, made (from PyPI) the first time."""
    command = venv / "bin" / "litellm"
    if not command.exists():
        spec = f"litellm[proxy]=={version}" if version else "litellm[proxy]"
        print(f"installing {spec} into {venv} (once)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # pip's own chatter (warnings about this machine's package mirror) is shown only when
        # the install fails, so the run's figures are not lost among them
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", spec],
                              capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"installing {spec} into {venv} failed (pip exit {done.returncode})")
    return str(command)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--litellm-venv", type=Path, default=Path.home() / ".cache/inhouse/litellm-venv"
    )
    parser.add_argument("--litellm-version", default="", help="pin LiteLLM (default: latest)")
    parser.add_argument("--no-litellm", action="store_true", help="skip (c)")
    parser.add_argument("--no-nginx", action="store_true", help="skip (n)")
    parser.add_argument("--no-replicas", action="store_true", help="skip (r)")
    parser.add_argument("--no-floor", action="store_true", help="skip (p)")
    parser.add_argument("--workers", type=int, default=2, help="workers of (r)")
    parser.add_argument(
        "--inhouse-workers",
        default="1,2",
        help="workers of (b), one run each: 1,2 (limits per worker's share, no Redis)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument(
        "--postgres-url", default=os.environ.get("INHOUSE_TEST_POSTGRES_URL"),
        help="the usage log of (r) (default: $INHOUSE_TEST_POSTGRES_URL; none: SQLite)",
    )  # fmt: skip
    parser.add_argument("--levels", default="1,32,100")
    parser.add_argument("--seconds", type=float, default=10.0, help="per level and target")
    parser.add_argument("--ttft-ms", type=float, default=20.0)
    parser.add_argument("--tpot-ms", type=float, default=2.0)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--spool-sync", choices=("batch", "request", "both"), default="both")
    parser.add_argument("--soak-seconds", type=float, default=0.0)
    parser.add_argument("--soak-concurrency", type=int, default=32)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    timing = StandinTiming(args.ttft_ms, args.tpot_ms, args.tokens)
    print(f"machine: {os.cpu_count()} cores (shared: client, stand-in and proxy run on them)")
    print(f"stand-in: ttft {timing.ttft_ms} ms, tpot {timing.tpot_ms} ms, "
          f"{timing.tokens} tokens; {args.seconds:.0f} s per level")  # fmt: skip
    report: dict[str, Any] = {"timing": timing.__dict__, "levels": levels}
    with (
        tempfile.TemporaryDirectory(prefix="inhouse-bench-") as tmp,
        spawn_standin(timing, model=MODEL, root=str(Path(tmp) / WEIGHTS)) as upstream,
    ):
        work = Path(tmp)
        upstream_pid = upstream.process.pid
        with spawn_standin(StandinTiming(0, 0, 1), model=MODEL) as instant:
            choice = run_in_fast_loop(client_choice(instant.url, 2000))
        print(f"upstream client, sequential non-streamed round trip: the gateway's own "
              f"{choice['inhouse']:.0f} µs, aiohttp {choice['aiohttp']:.0f} µs, "
              f"httpx {choice['httpx']:.0f} µs")  # fmt: skip
        report["client_choice_us"] = choice
        results: dict[str, dict[int, Level]] = {}
        print("(a) direct")
        results["direct"] = measure(
            "direct", upstream.url, "none", levels, args.seconds, None, upstream_pid
        )
        nginx = None if args.no_nginx else nginx_executable()
        if nginx is not None:
            print("(n) nginx, a plain proxy hop (proxy_buffering off, upstream keep-alive)")
            with nginx_proxy(nginx, upstream.url, work) as (url, key, pid):
                results["nginx"] = measure(
                    "nginx", url, key, levels, args.seconds, pid, upstream_pid
                )
        else:
            print("(n) nginx: skipped" + ("" if args.no_nginx else " (no /usr/sbin/nginx)"))
        if not args.no_floor:
            print("(p) python floor: the leanest streaming proxy in Python (python_floor.py)")
            with python_floor(upstream.url) as (url, key, pid):
                results["python-floor"] = measure(
                    "floor", url, key, levels, args.seconds, pid, upstream_pid
                )
        else:
            print("(p) python floor: skipped (--no-floor)")
        syncs = ["batch", "request"] if args.spool_sync == "both" else [args.spool_sync]
        for sync in syncs:
            for workers in (int(w) for w in str(args.inhouse_workers).split(",")):
                tag = "" if workers == 1 else f"-{workers}w"
                name = f"inhouse-{sync}{tag}"
                print(f"(b) inhouse gateway, all policies on, spool_sync={sync}, "
                      f"{workers} worker(s)")  # fmt: skip
                with inhouse_gateway(upstream.url, work, sync, tag, workers=workers) as (
                    url,
                    key,
                    pid,
                ):
                    results[name] = measure(name, url, key, levels, args.seconds, pid, upstream_pid)
        if not args.no_replicas:
            name = f"inhouse-{args.workers}w"
            where = "PostgreSQL" if args.postgres_url else "SQLite"
            print(f"(r) inhouse gateway, {args.workers} workers, limits in Redis, usage in {where}")
            shared = {"redis_url": args.redis_url,
                      "redis_prefix": f"inhouse-bench:{secrets.token_hex(4)}"}  # fmt: skip
            with (
                postgres_schema(args.postgres_url) as database,
                inhouse_gateway(upstream.url, work, "batch", "-replicas", workers=args.workers,
                                gateway=shared, database=database) as (url, key, pid),
            ):  # fmt: skip
                results[name] = measure(name, url, key, levels, args.seconds, pid, upstream_pid)
        else:
            print("(r) replicas: skipped (--no-replicas)")
        if not args.no_litellm:
            litellm = litellm_executable(args.litellm_venv, args.litellm_version)
            print("(c) litellm proxy")
            with litellm_proxy(litellm, upstream.url, work) as (url, key, _):
                results["litellm"] = measure(
                    "litellm", url, key, levels, args.seconds, None, upstream_pid
                )
        else:
            print("(c) litellm: skipped (--no-litellm)")
        direct = results["direct"]
        print("\nadded latency over direct (ms; same percentile) and throughput (streams/s)")
        summary: dict[str, Any] = {}
        for name, by_level in results.items():
            if name == "direct":
                continue
            for c, level in by_level.items():
                row = {
                    "ttft_p50": added(level, direct[c], "ttft", 50),
                    "ttft_p99": added(level, direct[c], "ttft", 99),
                    "e2e_p50": added(level, direct[c], "e2e", 50),
                    "e2e_p99": added(level, direct[c], "e2e", 99),
                    "throughput": level.throughput,
                    "direct_throughput": direct[c].throughput,
                    "errors": level.errors,
                    "cpu_us_per_stream": level.cpu_us,
                }
                summary.setdefault(name, {})[c] = row
                print(f"  {name:16} c={c:<3} ttft +{row['ttft_p50']:6.2f} / +{row['ttft_p99']:6.2f}"
                      f"   e2e +{row['e2e_p50']:6.2f} / +{row['e2e_p99']:6.2f}   "
                      f"{row['throughput']:7.1f} (direct {row['direct_throughput']:7.1f})  "
                      f"errors {row['errors']}")  # fmt: skip
        if "nginx" in summary:
            print("\nadded e2e latency as a multiple of nginx's (p50, p99; target: p50 <= 2x)")
            for name in summary:
                if name == "nginx":
                    continue
                for c in levels:
                    ours, floor = summary[name][c], summary["nginx"][c]
                    m50 = ours["e2e_p50"] / max(floor["e2e_p50"], 0.01)
                    m99 = ours["e2e_p99"] / max(floor["e2e_p99"], 0.01)
                    share = ours["throughput"] / max(ours["direct_throughput"], 0.01) * 100
                    print(f"  {name:16} c={c:<3} {m50:6.1f}x  {m99:6.1f}x   "
                          f"throughput {share:5.1f} % of direct")  # fmt: skip
        if "litellm" in summary and "inhouse-batch" in summary:
            print("\nLiteLLM overhead / inhouse overhead (e2e p50, p99)")
            for c in levels:
                ours, theirs = summary["inhouse-batch"][c], summary["litellm"][c]
                ratio50 = theirs["e2e_p50"] / max(ours["e2e_p50"], 0.01)
                ratio99 = theirs["e2e_p99"] / max(ours["e2e_p99"], 0.01)
                print(f"  c={c:<3} {ratio50:6.1f}x  {ratio99:6.1f}x")
        report["added"] = summary
        if args.soak_seconds > 0:
            print(f"\nsoak: inhouse gateway, {args.soak_concurrency} concurrent streams, "
                  f"{args.soak_seconds:.0f} s")  # fmt: skip
            with inhouse_gateway(upstream.url, work, "batch", "-soak") as (url, key, pid):
                result = run_in_fast_loop(
                    soak(url, key, pid, args.soak_seconds, args.soak_concurrency)
                )
            print(f"  streams {result['streams']}, errors {result['errors']}, RSS growth after "
                  f"warm-up {result['growth_pct_after_warmup']:+.1f} %")  # fmt: skip
            report["soak"] = result
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
