"""The workers of one ``inhouse gateway serve --workers N``, as an operator runs them: one
scrape of ``/metrics`` shows every worker's series (it showed the one worker the kernel handed
the connection to), and a supervisor killed with ``kill -9`` takes its workers with it (they
served on, orphans holding the port against the next ``serve``). Real processes on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from inhouse.gateway.rollup import gateway_mac_key
from inhouse.gateway.usage import UsageRecord, new_request_id
from inhouse.testing.standin_upstream import StandinTiming, spawn_standin
from tests.gateway.harness import (
    ServedGateway,
    auth,
    chat,
    digest_of,
    key_for,
    make_program,
    model_file,
    served,
    usage_rows,
    wait_for,
    weights_root,
)

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=2)


def _scrape(url: str, key: str | None = None) -> tuple[dict[str, float], float]:
    """One scrape on a new connection (with a rollout lead's ``key``: each person's series
    alone): each worker's answered requests, and how many workers it says did not answer."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        reply = client.get(f"{url}/metrics", headers={} if key is None else auth(key))
    assert reply.status_code == 200, reply.text
    totals: dict[str, float] = {}
    unanswered = -1.0
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            if sample.name == "inhouse_gateway_requests_total":
                if key is not None and sample.labels.get("person") != "lena":
                    continue
                worker = sample.labels["worker"]
                totals[worker] = totals.get(worker, 0.0) + sample.value
            elif sample.name == "inhouse_gateway_workers_unanswered":
                unanswered = sample.value
    return totals, unanswered


def _ask(url: str, key: str) -> None:
    """One request on a new connection (the kernel spreads connections over the workers)."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        reply = client.post(f"{url}/v1/chat/completions", json=chat("tiny"), headers=auth(key))
    assert reply.status_code == 200, reply.text


def test_every_scrape_shows_every_worker_s_totals(_isolated: Path) -> None:
    weights = model_file(_isolated)
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        program = make_program(_isolated, runtimes, {"tiny": digest_of(weights)})
        key = key_for(program)
        program.close()
        with served(_isolated, _isolated / "gateway.log", "--workers", "2") as gateway:
            sent = 0
            totals: dict[str, float] = {}
            while sent < 60 and not (len(totals) == 2 and all(totals.values())):
                for _ in range(4):
                    _ask(gateway.url, key)
                    sent += 1
                totals, _ = _scrape(gateway.url)
            assert set(totals) == {"0", "1"} and all(totals.values()), (sent, totals)
            for _ in range(8):  # whichever worker takes the scrape, it shows both
                totals, unanswered = _scrape(gateway.url)
                assert set(totals) == {"0", "1"}, totals
                assert sum(totals.values()) == sent, (sent, totals)
                assert unanswered == 0
            # a rollout lead's scrape has each person's series, of every worker
            totals, unanswered = _scrape(gateway.url, key)
            assert set(totals) == {"0", "1"} and sum(totals.values()) == sent, totals
            assert unanswered == 0


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _pids(url: str) -> set[int]:
    pids: set[int] = set()
    for _ in range(60):
        with httpx.Client(trust_env=False, timeout=10) as client:
            pids.add(client.get(f"{url}/healthz").json()["replica"]["pid"])
        if len(pids) == 2:
            break
    return pids


def test_workers_end_when_their_supervisor_is_killed(_isolated: Path) -> None:
    weights = model_file(_isolated)
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        make_program(_isolated, runtimes, {"tiny": digest_of(weights)}).close()
        gateway = ServedGateway(_isolated, _isolated / "gateway.log", ("--workers", "2"))
        gateway.start()
        workers: set[int] = set()
        try:
            workers = _pids(gateway.url)
            assert len(workers) == 2, workers
            folders = {
                Path(each.laddr).parent
                for pid in workers
                for each in psutil.Process(pid).net_connections("unix")
                if str(each.laddr).endswith(".sock")
            }
            assert len(folders) == 1, folders  # where the workers answer each other
            folder = folders.pop()
            gateway.kill()  # kill -9 of the supervisor: nothing of it runs on its way out
            wait_for(lambda: all(_gone(pid) for pid in workers), timeout=60,
                     what="the workers of a supervisor killed with SIGKILL to end")  # fmt: skip
            with socket.socket() as probe:  # nobody holds the port for the next serve
                assert probe.connect_ex(("127.0.0.1", gateway.port)) != 0
            # nor is the folder where they answered each other's /metrics left behind
            assert not folder.exists(), folder
        finally:
            gateway.stop()
            for pid in workers:  # never leave an orphan serving, whatever failed above
                if not _gone(pid):
                    os.kill(pid, signal.SIGKILL)


def test_a_worker_whose_parent_is_gone_stops_without_the_signal() -> None:
    """The fallback where the kernel sends no parent-death signal (not Linux, or it was lost):
    a worker whose parent is no longer the supervisor it was started by stops by itself."""
    from inhouse.gateway import server

    stopped: list[bool] = []

    async def run() -> None:
        # -1 is no process's pid: as if the supervisor this worker was started by had died
        await asyncio.wait_for(server._watch_parent(-1, lambda: stopped.append(True)), 10)
        watching = asyncio.create_task(server._watch_parent(os.getppid(), stopped.clear))
        await asyncio.sleep(server.PARENT_CHECK_SECONDS * 1.5)
        assert not watching.done()  # its parent lives: it serves on
        watching.cancel()

    asyncio.run(run())
    assert stopped == [True]


def _left(folder: Path, mac: bytes) -> str:
    """A usage record spooled in ``folder`` by a process that died before writing it (sealed
    as the gateway seals one it answered): its request id."""
    record = UsageRecord(
        request_id=new_request_id(), at=UsageRecord.now(), person="lena", key_id="k_1",
        endpoint="chat/completions", model="tiny", status=200,
    )  # fmt: skip
    record.seal(mac)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"20260101T000000000000-1-{len(list(folder.iterdir())) + 1:06d}.jsonl").write_bytes(
        record.line()
    )
    return record.request_id


def test_a_serve_with_other_workers_replays_every_spool_left(_isolated: Path) -> None:
    """Each process spools what it answered before writing it; one killed leaves it for the
    next process on that spool. A ``serve --workers 2`` after ``--workers 4`` ran no
    ``worker-2`` nor ``worker-3``, and one process after several used none of the workers'
    (nor they its): what they had left was never written, usage answered and never counted."""
    weights = model_file(_isolated)
    spools = _isolated / ".inhouse" / "gateway" / "spool"
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        program = make_program(_isolated, runtimes, {"tiny": digest_of(weights)})
        mac = gateway_mac_key(_isolated)
        try:
            # one process's, and a third and fourth worker's, before a serve of two workers
            left = {_left(spools, mac), _left(spools / "worker-2", mac),
                    _left(spools / "worker-3", mac), _left(spools / "worker-1", mac)}  # fmt: skip
            with served(_isolated, _isolated / "two.log", "--workers", "2"):
                wait_for(lambda: left <= {r["request_id"] for r in usage_rows(program)},
                         timeout=60, what="every spool left to be written")  # fmt: skip
            assert not list(spools.glob("*.jsonl")) and not list(spools.glob("worker-*/*.jsonl"))
            # the workers', before one process
            left = {_left(spools / "worker-0", mac), _left(spools / "worker-1", mac)}
            with served(_isolated, _isolated / "one.log"):
                wait_for(
                    lambda: left <= {r["request_id"] for r in usage_rows(program)},
                    timeout=60,
                    what="the workers' spools to be written by one process",
                )
            rows = usage_rows(program)
            assert len(rows) == len({r["request_id"] for r in rows}) == 6  # each once
        finally:
            program.close()


def test_workers_answer_each_other_under_a_long_temporary_folder(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Unix socket's path is at most 107 bytes: under a ``TMPDIR`` that leaves no room for
    ``inhouse-gateway-…/N.sock``, every worker failed to start (a traceback, ``AF_UNIX path
    too long``), and so did the ``serve``. Its workers answer each other from a folder the
    path of whose sockets fits (in ``/tmp``), and every scrape shows both."""
    weights = model_file(_isolated)
    deep = _isolated / ("t" * 100)
    deep.mkdir()
    monkeypatch.setenv("TMPDIR", str(deep))
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        program = make_program(_isolated, runtimes, {"tiny": digest_of(weights)})
        key = key_for(program)
        program.close()
        with served(_isolated, _isolated / "gateway.log", "--workers", "2") as gateway:
            sent, totals = 0, dict[str, float]()
            while sent < 60 and not (len(totals) == 2 and all(totals.values())):
                _ask(gateway.url, key)
                sent += 1
                # a worker still starting is unanswered: what holds is asked once both serve
                totals, _ = _scrape(gateway.url)
            for _ in range(4):  # whichever worker takes the scrape, it shows both
                totals, unanswered = _scrape(gateway.url)
                assert set(totals) == {"0", "1"} and unanswered == 0, (totals, unanswered)
                assert sum(totals.values()) == sent


@pytest.fixture
def _own_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder (``TMPDIR``) of this test's own, short enough for a socket's path: a
    serve another test starts at once sweeps /tmp, and would take a folder left there first."""
    with tempfile.TemporaryDirectory(prefix="peers-", dir="/tmp") as own:
        monkeypatch.setenv("TMPDIR", own)
        yield Path(own)


def test_a_serve_killed_with_its_workers_leaves_nothing_the_next_serve_keeps(
    _isolated: Path, _own_tmpdir: Path
) -> None:
    """``kill -9`` of a serve's supervisor and of its workers at once (an OOM kill of the
    whole group, a container's end): nothing of any of them runs on its way out, and the folder
    where they answered each other's /metrics stayed in the temporary folder with their
    sockets, for ever. The next serve removes it as it starts, says so in its log, and keeps
    its own while it runs (a sweep then, as a third serve's, leaves it)."""
    from inhouse.gateway.peers import sweep

    weights = model_file(_isolated)
    with spawn_standin(FAST, model="tiny", root=weights_root(_isolated)) as upstream:
        runtimes = {"local": {"family": "openai", "url": upstream.url, "model_path": str(weights)}}
        make_program(_isolated, runtimes, {"tiny": digest_of(weights)}).close()
        first = ServedGateway(_isolated, _isolated / "first.log", ("--workers", "2"))
        first.start()
        workers: set[int] = set()
        try:
            workers = _pids(first.url)
            assert len(workers) == 2, workers
            folder = _folder(workers)
            assert folder.parent == _own_tmpdir, folder
            assert first.process is not None
            supervisor = first.process.pid
            os.kill(supervisor, signal.SIGSTOP)  # it starts no worker again
            for pid in workers:
                os.kill(pid, signal.SIGKILL)
            os.kill(supervisor, signal.SIGKILL)
            first.process.wait(30)
            wait_for(lambda: all(_gone(pid) for pid in workers), timeout=60,
                     what="the killed workers to end")  # fmt: skip
            assert sorted(p.name for p in folder.iterdir()) == ["0.sock", "1.sock", "serve.lock"]
        finally:
            first.stop()
            for pid in workers:
                if not _gone(pid):
                    os.kill(pid, signal.SIGKILL)
        with served(_isolated, _isolated / "second.log", "--workers", "2") as second:
            assert not folder.exists(), folder
            # said where the operator reads the serve's start (it was an INFO line, which the
            # supervisor's log, from warnings up, never showed)
            said = (_isolated / "second.log").read_text()
            assert f"removed {folder}, left by a gateway serve that is gone" in said, said
            live = _folder(_pids(second.url))
            assert live != folder and live.parent == folder.parent
            assert live not in sweep([live.parent])
            assert (live / "serve.lock").exists()
        assert not live.exists()


def _folder(workers: set[int]) -> Path:
    """Where ``workers`` answer each other's /metrics."""
    folders = {
        Path(each.laddr).parent
        for pid in workers
        for each in psutil.Process(pid).net_connections("unix")
        if str(each.laddr).endswith(".sock")
    }
    assert len(folders) == 1, folders
    return folders.pop()
