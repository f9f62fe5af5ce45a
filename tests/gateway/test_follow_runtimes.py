"""Routes follow the runtimes without a gateway restart (issue 17, case 2): a gateway started
before its runtime serves once the runtime is up, and a runtime that comes back on a new port
is followed. The runtime is the stand-in upstream (not a model): the test needs it down, up
and moved at exact moments. The health interval is 0.2 s here (tests/gateway/harness.py)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import (
    auth,
    chat,
    digest_of,
    in_process,
    key_for,
    make_program,
    model_file,
    weights_root,
)
from tests.runtimes.standin import free_port

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=2)


async def _served_within(client: object, key: str, seconds: float) -> list[int]:
    """Ask until answered (or ``seconds`` pass): the statuses seen, in order."""
    seen: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reply = await client.post(  # type: ignore[attr-defined]
            "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
        )
        seen.append(reply.status_code)
        if reply.status_code == 200:
            break
        await asyncio.sleep(0.1)
    return seen


def test_a_gateway_started_before_its_runtime_serves_once_it_is_up(_isolated: Path) -> None:
    async def run() -> None:
        port = free_port()
        weights = model_file(_isolated)
        runtimes = {"local": {"family": "openai", "url": f"http://127.0.0.1:{port}",
                              "model_path": str(weights)}}  # fmt: skip
        program = make_program(_isolated, runtimes, {"tiny": digest_of(weights)})
        key = key_for(program)
        async with in_process(_isolated) as (_, client):
            before = await client.post("/v1/chat/completions", json=chat("tiny"),
                                       headers=auth(key))  # fmt: skip
            assert before.status_code == 503
            async with StandinUpstream(FAST, model="tiny", port=port, root=weights_root(_isolated)):
                seen = await _served_within(client, key, 5.0)
        assert seen[-1] == 200, seen
        program.close()

    asyncio.run(run())


def test_a_runtime_back_on_a_new_port_is_followed(_isolated: Path) -> None:
    async def run() -> None:
        config = _isolated / "inhouse.toml"
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as first:
            weights = model_file(_isolated)
            runtimes = {"local": {"family": "openai", "url": first.url,
                                  "model_path": str(weights)}}  # fmt: skip
            program = make_program(_isolated, runtimes, {"tiny": digest_of(weights)})
            key = key_for(program)
            async with in_process(_isolated) as (gateway, client):
                assert (await _served_within(client, key, 1.0))[-1] == 200
                await first.aclose()
                async with StandinUpstream(
                    FAST, model="tiny", root=weights_root(_isolated)
                ) as second:
                    # what `inhouse runtime serve` does for the embedded runtime: the new
                    # place is recorded where the router reads it
                    config.write_text(config.read_text().replace(first.url, second.url))
                    gateway.router.runtimes[0] = gateway.router.runtimes[0].model_copy(
                        update={"url": second.url}
                    )
                    seen = await _served_within(client, key, 5.0)
                    assert seen[-1] == 200, seen
                    assert second.requests_served >= 1
            program.close()

    asyncio.run(run())
