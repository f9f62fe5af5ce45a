"""The gateway's digest checks look behind no connection. They open the runtime through the
same adapter as a verify or a workflow run, and for the runtime inhouse serves (``embedded``)
that adapter found, with psutil on a worker thread, the process holding the server end of each
new connection: proof that an answer came from this machine, which a verify and a rerun need
and the gateway does not (the requests it proxies go over connections of its own). That scan
ran at every check. Now the gateway opens the runtime with ``look_behind=False``; opened the
ordinary way, the same runtime is still looked behind. The runtime is the stand-in on loopback
under the ``embedded`` family: what is counted is the look, not what it finds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from inhouse.runtimes import RuntimeConfig, open_runtime
from inhouse.runtimes import local as local_module
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import digest_of, in_process, make_program, model_file, weights_root

FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=2)


def test_the_gateway_s_digest_checks_look_behind_no_connection(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks: list[tuple[Any, ...]] = []
    real = local_module.runtime_behind

    def counted(*args: Any) -> Any:
        looks.append(args)
        return real(*args)

    monkeypatch.setattr(local_module, "runtime_behind", counted)

    async def run() -> None:
        weights = model_file(_isolated)
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as standin:
            table = {"family": "embedded", "url": standin.url, "model_path": str(weights)}
            make_program(_isolated, {"local": table}, {"tiny": digest_of(weights)}).close()
            async with in_process(_isolated) as (gateway, _):
                await gateway.router.check_digests()  # one more, beside the one at start
                route = gateway.router.routes["tiny"]
                assert route.nodes, route.problems  # checked: the runtime answered with its file
            assert looks == [], looks
            # the same runtime opened as a verify or a workflow run opens it is looked behind
            config = RuntimeConfig(name="local", **table)
            async with open_runtime(config, program=_isolated) as runtime:
                await runtime.models()
            assert looks, "the runtime inhouse serves was not looked behind"

    asyncio.run(run())
