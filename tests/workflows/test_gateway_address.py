"""Where ``inhouse workflow run --gateway`` sends a person's own gateway key: ``inhouse.toml`` is
whoever can push to the program's, and ``runtimes.config.refuse_gateway_key`` already says
inhouse never sends a person's gateway key to an address that file names. ``--gateway`` read its
default address from the file's ``[gateway]`` table: a colleague who pushed ``host =
"gateway.example.net"`` (a machine of hers) collected every ``INHOUSE_GATEWAY_KEY`` of those who
ran their workflow after a pull, and could then use the gateway as each of them (their runs,
their pilot use). The table's address is taken only where it names this machine (a loopback or
unspecified address: the key stays here); another is sent a key only where the person gives it
(``--gateway-url``, as the pilot guide a lead handed them names it).

The forgery's listener is a real HTTP server on loopback; the name the table writes reaches it
as a hosts file would make it (the resolver is the one thing patched).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.clitools import cli
from tests.conftest import Clock
from tests.engine import needs_engine
from tests.gateway.harness import in_process
from tests.workflows import test_run_through_gateway as through

pytestmark = needs_engine
world = through.world
FLOW = through.FLOW
#: the machine the pushed inhouse.toml names: hers, not the gateway's
ELSEWHERE = "gateway.example.net"


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A server on loopback that keeps every Authorization header it is sent and lists no
    model, reached as ELSEWHERE."""
    seen: list[str] = []

    class Keeps(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization") or "")
            body = json.dumps({"object": "list", "data": []}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keeps)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    resolve = socket.getaddrinfo

    def hosts_file(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host  # anyio asks in IDNA bytes
        return resolve("127.0.0.1" if name == ELSEWHERE else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hosts_file)
    try:
        yield {"port": server.server_address[1], "seen": seen}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _gateway_table(folder: Path, host: str, port: int) -> None:
    """inhouse.toml's [gateway] names ``host``:``port`` (what a push of it does)."""
    path = folder / "inhouse.toml"
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    config.setdefault("gateway", {}).update(host=host, port=port)
    path.write_text(tomli_w.dumps(config), encoding="utf-8")


def test_a_pushed_gateway_address_is_sent_no_key(
    world: dict[str, Any], collector: dict[str, Any]
) -> None:
    """The forgery: the pushed table names her machine; pia runs her workflow through the
    gateway with her key in INHOUSE_GATEWAY_KEY, as the pilot guide has her keep it. Her key
    goes nowhere, and the refusal names the address and how to give the gateway's."""
    _gateway_table(world["folder"], ELSEWHERE, collector["port"])
    out = cli("workflow", "run", FLOW, "--var", "ticket=x", "--gateway",
              env={"INHOUSE_GATEWAY_KEY": world["keys"]["pia"]}, code=2)  # fmt: skip
    said = " ".join(out.split())
    assert collector["seen"] == [], "the key went to the address inhouse.toml names"
    assert f"http://{ELSEWHERE}:{collector['port']}/v1" in said, said
    assert "another machine" in said and "--gateway-url" in said, said


def test_the_gateway_s_address_given_by_the_person_takes_the_key(
    world: dict[str, Any], collector: dict[str, Any]
) -> None:
    """The person's own word of where the gateway is (`--gateway-url`, as the guide names it)
    is where the key goes, wherever inhouse.toml points: the pushed table changes nothing."""
    _gateway_table(world["folder"], ELSEWHERE, collector["port"])
    url = f"http://{ELSEWHERE}:{collector['port']}/v1"
    said = cli("workflow", "run", FLOW, "--var", "ticket=x", "--gateway-url", url,
               env={"INHOUSE_GATEWAY_KEY": world["keys"]["pia"]}, code=3)  # fmt: skip
    assert collector["seen"] == [f"Bearer {world['keys']['pia']}"]
    assert "does not serve" in said, said


def test_a_gateway_on_this_machine_is_reached_from_the_table(
    world: dict[str, Any], clock: Clock
) -> None:
    """The honest path: the table names loopback (the gateway serves here), and `--gateway`
    alone reaches it: the run is answered through it."""

    async def run() -> str:
        async with in_process(world["folder"], clock=clock) as (gateway, client):
            port = client.base_url.port
            assert port is not None
            _gateway_table(world["folder"], "127.0.0.1", port)
            out = await asyncio.to_thread(
                cli, "workflow", "run", FLOW, "--var", "ticket=Toner.", "--gateway", "--json",
                env={"INHOUSE_GATEWAY_KEY": world["keys"]["pia"]},
            )  # fmt: skip
            await gateway.usage.flush()
            return out

    ran = json.loads(asyncio.run(run()))
    assert ran["gateway"].startswith("http://127.0.0.1:"), ran
    assert all(o["output"] for o in ran["outputs"]), ran


def test_gateway_status_sends_the_table_s_other_machine_no_key(
    world: dict[str, Any], collector: dict[str, Any]
) -> None:
    """`gateway status` read the same table and sent INHOUSE_GATEWAY_KEY (where the pilot guide
    has everyone keep theirs) with its question: it asks the pushed address with no key, says
    why, and a lead who gives the gateway's address (`--url`) still sends hers there."""
    _gateway_table(world["folder"], ELSEWHERE, collector["port"])
    key = world["keys"]["pia"]
    said = " ".join(cli("gateway", "status", env={"INHOUSE_GATEWAY_KEY": key}, code=1).split())
    assert collector["seen"] == [""], "the key went to the address inhouse.toml names"
    assert f"[gateway] names {ELSEWHERE}, another machine" in said, said
    url = f"http://{ELSEWHERE}:{collector['port']}"
    cli("gateway", "status", "--url", url, env={"INHOUSE_GATEWAY_KEY": key}, code=1)
    assert collector["seen"][1:] == [f"Bearer {key}"]


@pytest.mark.parametrize(
    ("host", "here"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("0.0.0.0", True),
        ("", True),
        ("localhost", True),
        ("gw.localhost.", True),
        ("10.0.0.5", False),
        (ELSEWHERE, False),
        ("127.0.0.1.example.net", False),
        # each ends as a loopback name or address does; its URL reaches gateway.example.net
        (f"{ELSEWHERE}#.localhost", False),
        (f"{ELSEWHERE}/.localhost", False),
        (f"{ELSEWHERE}?.localhost", False),
        (f"{ELSEWHERE}@127.0.0.1", False),
        (f"127.0.0.1@{ELSEWHERE}", False),
    ],
)
def test_only_a_table_naming_this_machine_as_written_is_sent_a_key(host: str, here: bool) -> None:
    from inhouse.gateway.config import names_this_machine

    assert names_this_machine(host) is here
