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
from pathlib import Path

from inhouse.gateway.shared import Listener
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import digest_of, in_process, make_program, model_file
from tests.runtimes.standin import free_port


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
        async with StandinUpstream(StandinTiming(0, 0, 1), model="tiny") as upstream:
            weights = model_file(_isolated)
            runtimes = {"local": {"family": "openai", "url": upstream.url,
                                  "model_path": str(weights)}}  # fmt: skip
            make_program(_isolated, runtimes, {"tiny": digest_of(weights)}).close()
            async with in_process(_isolated) as (gateway, _client):
                gateway._tasks.append(asyncio.create_task(gateway._every(0.01, stubborn)))
                while not calls:
                    await asyncio.sleep(0.01)
                stopping = asyncio.get_running_loop().time()
            # in_process's exit ran stop(): it came back, and soon
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
