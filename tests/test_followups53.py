"""followups53: a review's findings on the last merges.

Play 3's exit spared every run recorded by its mark from today's runner (the decoy answers),
not the runs it was judged on: a colleague's run by a stale install, recorded before the exit
and left out of it, counted as the exit's own. ``CheckContext.spared`` is the rule.

The trial client passed a connection's ends to the look behind the port as the socket gave them
(``::ffff:127.0.0.1``, ``fe80::1%lo``) where PeerRecorder normalised them: one rule, now in one
place (the look behind it)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from inhouse.program.checks import Outcome, evaluate
from inhouse.program.playchecks._shared import stale_runner
from inhouse.runtimes.local import PeerRecorder, normalised_address, vouched_peer
from inhouse.trials._http import StreamClient
from tests.test_exit_scope import NOW, _lock, _run, _spec, context, person


def _people() -> dict[str, object]:
    return {
        "lena": person("lena", "platform", "rollout-lead", "play-owner"),
        "omar": person("omar", "support", "play-owner"),
        "zoe": person("zoe", "sales"),
        "carl": person("carl", "finance"),
    }


def test_a_run_play_3s_exit_left_out_is_judged_by_todays_runner() -> None:
    """Play 3 exited on omar's and zoe's runs (a runner from before decoys, the rule kept for
    them); carl's run, by the same stale runner, was recorded before the exit's mark but the
    exit was not judged on it. It is today's rule's: it judged no decoy answers, so it proves
    nothing, and zoe's run is the one that passes the check, as at the exit. An exit recorded
    before exits named their facts spares every run by its mark, as before."""
    lock, spec = _lock(), _spec()
    omar, zoe = _run("omar", 2, [], []), _run("zoe", 2, [], [])
    carl = _run("carl", 2, [], [])
    facts = [lock, spec, omar, zoe, carl]
    exited = {"workflow": (NOW, carl.id)}
    before = context(facts, _people(), exited)  # type: ignore[arg-type]
    named = replace(before, judged={"workflow": frozenset({lock.id, spec.id, omar.id, zoe.id})})
    runs = [omar, zoe, carl]
    why = stale_runner(named, runs, carl)
    assert why is not None and f"carl's run (fact #{carl.id}) was made by an inhouse older" in why
    assert stale_runner(named, runs, zoe) is None  # the exit's own run keeps the rule before
    assert stale_runner(before, runs, carl) is None  # every run by the mark, as before
    result = evaluate("workflow-run-by-other", named)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("zoe (not the author, omar) passed it"), result.reason
    assert carl.id not in {f.id for f in result.evidence}
    tests = evaluate("workflow-tests-pass", named)
    assert tests.outcome is Outcome.PASS and tests.reason.startswith("zoe passed it"), tests.reason
    assert evaluate("workflow-run-by-other", before).reason.startswith("carl (not the author")


# -- the trial client and PeerRecorder judge a connection's ends by one rule ----------------------


class _Models(BaseHTTPRequestHandler):
    """A model list, connections kept alive."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _DualStack(ThreadingHTTPServer):
    """Listens on IPv6 and IPv4 alike: a client of 127.0.0.1 shows as ``::ffff:127.0.0.1``."""

    address_family = socket.AF_INET6

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


@contextmanager
def _dual_stack() -> Iterator[int]:
    server = _DualStack(("::", 0), _Models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def test_a_mapped_address_is_looked_behind_as_its_ipv4_one_by_both_clients() -> None:
    """A server on a dual-stack socket, reached at ``::ffff:127.0.0.1``: both ends of the
    connection say the mapped form. The trial client passed them on as they came, so the look
    behind the port compared them with the system's (normalised) list and found no process
    holding the server end: an honest runtime on such a socket would be refused as "no process
    of yours". Both clients now find the process (this test's: no inhouse runtime, so it is
    named) and record the IPv4 address, as PeerRecorder always did."""
    with _dual_stack() as port:
        url = f"http://[::ffff:127.0.0.1]:{port}"
        held = f"127.0.0.1 (127.0.0.1:{port} is held by "
        mine = f"(pid {os.getpid()}), not inhouse's runtime)"

        async def trial() -> str | None:
            async with StreamClient(url, size=1, timeout=10, look_behind=True) as client:
                return (await client.send(client.prepare("GET", "/v1/models"))).peer

        peer = asyncio.run(trial())
        assert peer is not None and peer.startswith(held) and peer.endswith(mine), peer

        async def recorded() -> frozenset[str]:
            recorder = PeerRecorder(look_behind=True)
            async with httpx.AsyncClient(transport=recorder) as client:
                assert (await client.get(f"{url}/v1/models")).status_code == 200
            return recorder.peers

        (peer,) = asyncio.run(recorded())
        assert peer.startswith(held) and peer.endswith(mine), peer

        async def plain() -> str | None:
            async with StreamClient(url, size=1, timeout=10) as client:
                return (await client.send(client.prepare("GET", "/v1/models"))).peer

        assert asyncio.run(plain()) == "127.0.0.1"  # recorded as PeerRecorder records it


def test_a_zone_id_is_no_part_of_the_address_recorded() -> None:
    """A link-local peer comes with its zone (``fe80::1%lo``): recorded without it, as
    PeerRecorder records it, whichever client passed it on."""
    peer, behind = vouched_peer("fe80::1%lo", None)
    assert peer == "fe80::1 (the connection's ends cannot be read)"
    assert behind.problem == "the connection's ends cannot be read"
    assert normalised_address("::ffff:10.0.0.7") == "10.0.0.7"
