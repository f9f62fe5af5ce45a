"""The gateway stops even when a background job loses its cancellation on the way.

On Python 3.11 a cancel that meets an expiring ``asyncio.timeout`` can come out of the block as
a ``TimeoutError``; inside redis-py that becomes a Redis error, which the news listener's
reconnect loop (and each periodic job's error handler) takes for an ordinary failure and goes
on. A loop that only ends on cancellation then held ``stop()`` — and the usage log's last flush
— for ever (seen once as a CI run that hung in ``test_replicas``). These jobs stand in for that
with a cancellation they swallow outright."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from inhouse.db import Store
from inhouse.gateway import Gateway, app
from inhouse.gateway.keys import load_key_table
from inhouse.gateway.shared import Listener
from inhouse.program.state import ProgramState
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import digest_of, in_process, make_program, model_file, weights_root
from tests.runtimes.standin import free_port


@contextlib.asynccontextmanager
async def _gateway(folder: Path) -> AsyncIterator[Gateway]:
    """A program fronting a stand-in, and its gateway started in-process; stopped (and its
    store closed) on the way out."""
    async with StandinUpstream(
        StandinTiming(0, 0, 1), model="tiny", root=weights_root(folder)
    ) as upstream:
        weights = model_file(folder)
        runtimes = {"local": {"family": "openai", "url": upstream.url,
                              "model_path": str(weights)}}  # fmt: skip
        make_program(folder, runtimes, {"tiny": digest_of(weights)}).close()
        async with in_process(folder) as (gateway, _client):
            yield gateway


def test_a_job_that_swallows_its_cancellation_does_not_hold_the_gateway_s_stop(
    _isolated: Path,
) -> None:
    calls = 0
    lost = False

    async def stubborn() -> None:
        nonlocal calls, lost
        calls += 1
        if lost:
            await asyncio.sleep(30)  # a second cancel gets through
            return
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(30)
        lost = True  # the first cancel is lost, as one turned into a timeout is

    async def run() -> None:
        async with _gateway(_isolated) as gateway:
            gateway._tasks.append(asyncio.create_task(gateway._every(0.01, stubborn)))
            while not calls:
                await asyncio.sleep(0.01)
            stopping = asyncio.get_running_loop().time()
        # the exit ran stop(): it came back, and soon
        assert asyncio.get_running_loop().time() - stopping < 4

    asyncio.run(asyncio.wait_for(run(), 20))


def test_the_news_listener_ends_when_closed_even_while_redis_is_away() -> None:
    async def run() -> None:
        away = f"redis://127.0.0.1:{free_port()}/0"
        listener = Listener(away, "inhouse-test", lambda news: asyncio.sleep(0), timeout=0.2)
        task = asyncio.create_task(listener.run())
        await asyncio.sleep(0.3)  # it failed to connect and waits to try again
        listener.close()  # no cancel at all: the flag alone ends it
        await asyncio.wait_for(task, 2)

    asyncio.run(run())


def test_stop_lets_a_database_read_under_way_finish_before_the_store_is_closed(
    _isolated: Path, on_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key refresh cancelled at shutdown went on in its thread, holding a connection, after
    the store was closed; the connection stayed open until the garbage collector met it (a
    ResourceWarning in some later test, seen once in CI)."""
    reading = threading.Event()
    finished = threading.Event()
    real = load_key_table
    calls = 0

    def slow_read(store: Store, state: ProgramState) -> object:
        nonlocal calls
        calls += 1
        if calls == 1:  # the gateway's start
            return real(store, state)
        with store.engine.connect():
            reading.set()
            time.sleep(0.5)
        table = real(store, state)
        finished.set()
        return table

    monkeypatch.setattr(app, "load_key_table", slow_read)

    async def run() -> None:
        async with _gateway(_isolated) as gateway:
            refresh = gateway._every(0.01, gateway.reload_keys)
            gateway._tasks.append(asyncio.create_task(refresh))
            while not reading.is_set():
                await asyncio.sleep(0.01)
        # the exit ran stop() and closed the store: the read had ended by then (asyncio.run
        # waits for every thread at its end, so this is checked here)
        assert finished.is_set(), "stop() returned while a key refresh was still reading"

    asyncio.run(asyncio.wait_for(run(), 20))
