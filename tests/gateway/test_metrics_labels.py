"""``/metrics`` is labelled by model, and only by the models the gateway routes: every name a
client sent became a series of its own (in the gateway's memory for as long as it runs, and in
Prometheus), so one key holder sending made-up model names grew both without end."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import auth, chat, in_process, key_for, one_runtime, weights_root

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def test_models_the_gateway_does_not_route_share_one_label(_isolated: Path) -> None:
    async def run() -> str:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as standin:
            program = one_runtime(_isolated, standin.url)
            key = key_for(program)
            program.close()
            async with in_process(_isolated) as (_, client):
                for n in range(20):
                    refused = await client.post(
                        "/v1/chat/completions", json=chat(f"made-up-{n}"), headers=auth(key)
                    )
                    assert refused.status_code == 403
                answered = await client.post(
                    "/v1/chat/completions", json=chat("tiny"), headers=auth(key)
                )
                assert answered.status_code == 200, answered.text
                malformed = await client.post(  # a blessed model's bad request keeps its name
                    "/v1/chat/completions",
                    json={"model": "tiny", "messages": [{"role": "user", "content": 5}]},
                    headers=auth(key),
                )
                assert malformed.status_code == 400
                return (await client.get("/metrics")).text

    text = asyncio.run(run())
    models = set(re.findall(r'^inhouse_gateway_requests_total\{model="([^"]*)"', text, re.M))
    assert models == {"tiny", "(not blessed)"}, models
    # without a key the series are summed over people (a lead's key adds each person's)
    assert re.search(
        r'^inhouse_gateway_requests_total\{model="\(not blessed\)",status="403"\} 20\.0$',
        text,
        re.M,
    ), text
    assert re.search(r'model="tiny",status="400"\} 1\.0$', text, re.M)
