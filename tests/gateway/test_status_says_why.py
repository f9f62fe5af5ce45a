"""What an operator following docs/gateway.md met. ``inhouse gateway status`` says why a
gateway is degraded, not only that it is (Redis away, a lock file edited by hand: it read
"degraded" beside healthy nodes, with /healthz's JSON to dig through), and a rollout lead's own
key (``--key``) shows where every node is, as its help says, not only the nodes that are down.
A ``redis_url`` redis-py cannot read, and a port another server holds, are errors naming the
setting, not tracebacks."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import ConfigError
from inhouse.gateway.config import read_gateway_settings
from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
from tests.gateway.harness import in_process, key_for, one_runtime, weights_root
from tests.gateway.test_recorded_lock import _program
from tests.runtimes.standin import free_port

runner = CliRunner()
FAST = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_status_names_redis_away_and_a_lead_sees_every_node_s_address(_isolated: Path) -> None:
    async def run() -> tuple[str, object, object]:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as standin:
            program = one_runtime(
                _isolated, standin.url,
                gateway={"redis_url": f"redis://127.0.0.1:{free_port()}/7", "replicas": 2},
            )  # fmt: skip
            lead = key_for(program)
            program.close()
            async with in_process(_isolated) as (_, client):
                url = str(client.base_url)
                public = await asyncio.to_thread(
                    runner.invoke, app, ["gateway", "status", "--url", url]
                )
                detailed = await asyncio.to_thread(
                    runner.invoke, app, ["gateway", "status", "--url", url, "--key", lead]
                )
            return standin.url.split("//")[1].rstrip("/"), public, detailed

    address, public, detailed = asyncio.run(run())
    said = _flat(public.stdout)  # type: ignore[attr-defined]
    assert public.exit_code == 0, said  # type: ignore[attr-defined]
    assert "degraded" in said and "local up" in said
    assert "Redis cannot be reached (ConnectionError)" in said, said
    assert "each replica enforces its share (1/2) of every limit" in said
    assert address not in said  # the public answer names no host
    said = _flat(detailed.stdout)  # type: ignore[attr-defined]
    assert f"local at http://{address}: up" in said, said
    assert "Redis at redis://127.0.0.1:" in said


def test_status_names_a_lock_file_that_is_not_the_recorded_one(_isolated: Path) -> None:
    async def run() -> object:
        async with _program(_isolated, ["tiny"]) as _:
            path = _isolated / "inhouse.lock"
            path.write_text(path.read_text().replace('"tiny"', '"spare"'))
            async with in_process(_isolated) as (_, client):
                return await asyncio.to_thread(
                    runner.invoke, app, ["gateway", "status", "--url", str(client.base_url)]
                )

    answer = asyncio.run(run())
    said = _flat(answer.stdout)  # type: ignore[attr-defined]
    assert answer.exit_code == 0, said  # type: ignore[attr-defined]
    assert "degraded" in said
    # anyone's /healthz carries the problem's code, once; a rollout lead's key, its words
    assert said.count("lock: lock-file-") == 1, said
    assert "a rollout lead's own key shows why (--key, or INHOUSE_GATEWAY_KEY)" in said, said
    assert str(_isolated) not in said  # /healthz answers anyone: no path on the host


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("localhost:6379", "must specify one of the following schemes"),
        ("redis://:sekret@127.0.0.1:abc/0", "Port could not be cast"),
        ("redis://127.0.0.1:6379/cache", "names database 'cache', which is not a number"),
    ],
)
def test_a_redis_url_redis_cannot_read_is_a_config_error_naming_the_setting(
    _isolated: Path, url: str, said: str
) -> None:
    """Such a URL got as far as the first connection, and `gateway serve` ended in a
    traceback from redis-py; `keys revoke` and `baseline lock` read it too."""
    with pytest.raises(ConfigError) as refused:
        read_gateway_settings(_isolated, {"gateway": {"redis_url": url}})
    message = str(refused.value)
    assert "gateway.redis_url: not a Redis URL" in message and said in message, message
    assert "e.g. redis://127.0.0.1:6379/0" in message
    assert "sekret" not in message  # a password in the URL is not repeated


def test_a_redis_url_redis_reads_is_kept_as_written(_isolated: Path) -> None:
    for url in ("redis://127.0.0.1:6379/7", "rediss://:pw@redis.acme:6380", "unix:///r.sock"):
        assert read_gateway_settings(_isolated, {"gateway": {"redis_url": url}}).redis_url == url


def test_a_port_in_use_is_an_error_naming_the_setting_not_a_traceback(_isolated: Path) -> None:
    """`inhouse gateway serve` on a port another server holds ended in uvloop's traceback."""
    program = one_runtime(_isolated, f"http://127.0.0.1:{free_port()}")
    program.close()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        for workers in ("1", "2"):
            answer = runner.invoke(
                app, ["gateway", "serve", "--port", str(port), "--workers", workers]
            )
            said = _flat(answer.stderr)
            assert answer.exit_code != 0 and "Traceback" not in said, said
            assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in said, said
            assert "another gateway, or another server, holds it" in said
            assert "gateway.port in inhouse.toml, or --host and --port" in said


def test_status_says_limits_are_shares_and_which_worker_answered(_isolated: Path) -> None:
    """Several workers without Redis: each keeps a share of every limit, by configuration,
    and `status` reads one worker's /healthz, whose usage figures are its own."""

    async def run() -> object:
        async with StandinUpstream(FAST, model="tiny", root=weights_root(_isolated)) as standin:
            program = one_runtime(_isolated, standin.url, gateway={"workers": 2})
            program.close()
            async with in_process(_isolated) as (gateway, client):
                gateway.worker = 1
                return await asyncio.to_thread(
                    runner.invoke, app, ["gateway", "status", "--url", str(client.base_url)]
                )

    answer = asyncio.run(run())
    said = _flat(answer.stdout)  # type: ignore[attr-defined]
    assert answer.exit_code == 0, said  # type: ignore[attr-defined]
    assert ": ok," in said and "Redis" not in said
    assert "limits: each of 2 replicas enforces its share (1/2) of every limit" in said, said
    assert "answered by worker 1 (pid " in said and "usage log's figures are its own" in said
