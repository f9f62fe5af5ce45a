"""One port, one gateway: ``inhouse gateway serve --workers N`` shares its port among its own
workers only. Each worker bound the port with SO_REUSEPORT, which Linux lets any process of the
same user join: a second ``serve --workers N`` (another config, another database, another
lock) on the same port bound it too, and the kernel split clients between the two gateways
without a word. Now the supervisor claims the port as one server's first (it listens before it
lets others share it), so a port another gateway or any other server holds is an error naming
it and the settings that move it. Real processes on loopback: ``inhouse gateway serve`` as
users run it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from inhouse.errors import ConfigError
from inhouse.gateway import build_gateway, read_gateway_settings
from inhouse.gateway.server import _join
from inhouse.program.config import read_config
from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from tests.gateway.harness import (
    ServedGateway,
    digest_of,
    make_program,
    model_file,
    one_runtime,
    served,
    wait_for,
    weights_root,
)
from tests.runtimes.standin import free_port

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=2)
#: seconds a refused ``serve`` may take to say so (a whole interpreter starting, on a busy box)
REFUSED_WITHIN = 60.0


@contextmanager
def _program(folder: Path) -> Iterator[None]:
    """A program whose one runtime is the stand-in, serving its blessed model."""
    weights = model_file(folder)
    with spawn_standin(FAST, model="tiny", root=weights_root(folder)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        make_program(folder, runtimes, {"tiny": digest_of(weights)}).close()
        yield


def _serve(folder: Path, port: int, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``inhouse gateway serve --port PORT ARGS`` in a process of its own, said into ``log``."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "INHOUSE_PROGRAM": str(folder)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "inhouse", "gateway", "serve", "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        )  # fmt: skip


def _refused(process: subprocess.Popen[bytes], log: Path) -> str:
    """What a ``serve`` that must not start said, once it ended; a failure if it serves."""
    try:
        code = process.wait(REFUSED_WITHIN)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.wait(30)
        raise AssertionError(
            f"a second gateway serves on a port another holds:\n{log.read_text()[-2000:]}"
        ) from None
    said = " ".join(log.read_text().split())
    assert code != 0 and "Traceback" not in said, said
    return said


def _pids(url: str) -> set[int]:
    """The worker processes that answer at ``url``, a new connection each time (the kernel
    spreads connections over the workers), until two have answered."""
    pids: set[int] = set()
    for _ in range(60):
        with httpx.Client(trust_env=False, timeout=10) as client:
            pids.add(client.get(f"{url}/healthz").json()["replica"]["pid"])
        if len(pids) == 2:
            break
    return pids


def _says_the_port_is_taken(said: str, port: int) -> None:
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in said, said
    assert "another gateway, or another server, holds it" in said, said
    assert "gateway.port in inhouse.toml, or --host and --port" in said, said


def test_a_second_serve_with_workers_on_a_gateway_s_port_is_refused(_isolated: Path) -> None:
    """The first gateway's two workers keep the port, both answering; the second ``serve``
    (its own spool, as another gateway on the host would have) ends with the error."""
    with (
        _program(_isolated),
        served(_isolated, _isolated / "first.log", "--workers", "2") as first,
    ):
        log = _isolated / "second.log"
        second = _serve(_isolated, first.port, log, "--workers", "2", "--spool-dir", "b")
        _says_the_port_is_taken(_refused(second, log), first.port)
        assert len(_pids(first.url)) == 2, "the first gateway's workers no longer share it"


def test_a_port_another_server_shares_with_so_reuseport_is_refused(_isolated: Path) -> None:
    """A server of the same user listening with SO_REUSEPORT (as the workers of any pre-fork
    server do) let ``serve --workers 2`` join it; a plain server on the port never did."""
    with _program(_isolated), socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        log = _isolated / "serve.log"
        _says_the_port_is_taken(_refused(_serve(_isolated, port, log, "--workers", "2"), log), port)


def test_of_two_serves_started_at_once_on_one_port_one_serves(_isolated: Path) -> None:
    """Two ``serve --workers 2`` started together: the kernel decides the claim when each
    listens, so exactly one serves (both of its workers) and the other says the port is
    taken; neither takes a share of the other's clients."""
    with _program(_isolated):
        port = free_port()
        logs = [_isolated / "a.log", _isolated / "b.log"]
        both = [_serve(_isolated, port, log, "--workers", "2", "--spool-dir", log.stem)
                for log in logs]  # fmt: skip
        try:
            deadline = time.monotonic() + REFUSED_WITHIN
            while all(p.poll() is None for p in both) and time.monotonic() < deadline:
                time.sleep(0.1)
            ended = [i for i, p in enumerate(both) if p.poll() is not None]
            assert len(ended) == 1, [log.read_text()[-1500:] for log in logs]
            (loser,) = ended
            _says_the_port_is_taken(_refused(both[loser], logs[loser]), port)
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: _healthy(url), timeout=60, what="the other gateway to serve")
            assert len(_pids(url)) == 2
            assert both[1 - loser].poll() is None
        finally:
            for process in both:
                if process.poll() is None:
                    process.terminate()
                    process.wait(30)


def _healthy(url: str) -> bool:
    try:
        with httpx.Client(trust_env=False, timeout=5) as client:
            return client.get(f"{url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


def test_a_worker_killed_is_started_again_on_the_same_port(_isolated: Path) -> None:
    """The supervisor gives the worker it starts again a new socket on the port the other
    worker still holds (each worker's socket is its own: none is left with the supervisor,
    where its share of the connections would wait on no one)."""
    with _program(_isolated):
        gateway = ServedGateway(_isolated, _isolated / "gateway.log", ("--workers", "2"))
        gateway.start()
        try:
            before = _pids(gateway.url)
            assert len(before) == 2
            killed = min(before)
            os.kill(killed, signal.SIGKILL)

            def both_answer_again() -> bool:
                try:
                    return len(_pids(gateway.url) - {killed}) == 2
                except httpx.TransportError:  # a connection the killed worker's socket took
                    return False

            wait_for(both_answer_again, timeout=60, what="the worker started again to answer")
            assert gateway.process is not None and gateway.process.poll() is None
        finally:
            gateway.stop()


def test_a_worker_s_socket_it_cannot_listen_on_names_the_address(_isolated: Path) -> None:
    """A worker started again after all had died, its port taken meanwhile: the socket its
    supervisor bound cannot listen, and the error names the worker's address (it named
    ``None:None``: a worker is handed a socket, not an address)."""
    one_runtime(_isolated, f"http://127.0.0.1:{free_port()}").close()
    port = free_port()
    sock = _join("127.0.0.1", port)  # bound; it listens once its worker serves
    settings = read_gateway_settings(_isolated, read_config(_isolated))
    settings = settings.model_copy(update={"host": "127.0.0.1", "port": port})

    async def run() -> str:
        gateway = build_gateway(_isolated, settings=settings)
        try:
            async with gateway:
                with pytest.raises(ConfigError) as refused:
                    await gateway.serve(sock=sock)
                return str(refused.value)
        finally:
            gateway.store.close()

    with socket.socket() as other, sock:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("127.0.0.1", port))
        other.listen()  # a plain listener takes the port from a socket not yet listening
        said = asyncio.run(run())
    _says_the_port_is_taken(" ".join(said.split()), port)


def test_each_worker_s_metrics_carry_its_worker_label(_isolated: Path) -> None:
    """Each worker counts its own requests and the kernel hands each scrape to any of them:
    `/metrics` read one worker's counters, then another's, under the same series, so a
    scraper took every drop for a counter reset. Now every sample names its worker, and every
    scrape has every worker's (``test_workers_together.py``); only the count of workers that
    did not answer is the scrape's own, unlabelled."""
    from prometheus_client.parser import text_string_to_metric_families

    with _program(_isolated), served(_isolated, _isolated / "gateway.log", "--workers", "2") as gw:
        assert len(_pids(gw.url)) == 2  # both serve (one may still be starting at first)
        for _ in range(6):
            with httpx.Client(trust_env=False, timeout=10) as client:
                text = client.get(f"{gw.url}/metrics").text
            workers = {
                sample.labels.get("worker")
                for family in text_string_to_metric_families(text)
                for sample in family.samples
                if family.name != "inhouse_gateway_workers_unanswered"
            }
            assert workers == {"0", "1"}, text
