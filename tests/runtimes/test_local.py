"""Where a runtime's answers came from: what a verify's and a rerun's runtime must be. Judged by
the peer address of the connections that carried the answers, never by resolving the url's
name again (it may point here now and have pointed elsewhere while the requests were made)."""

from __future__ import annotations

import json
import socket
from contextlib import aclosing
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit

import httpx
import pytest

from inhouse.runtimes import ChatRequest, RuntimeConfig, open_runtime
from inhouse.runtimes.local import UNKNOWN_PEER, answered_here, is_own_address, peers_of
from inhouse.runtimes.openai_compat import OpenAICompatRuntime
from tests.engine import Engine, needs_engine
from tests.runtimes.elsewhere import ELSEWHERE, AnsweredFromElsewhere
from tests.runtimes.standin import StandIn

HELLO = ChatRequest.model_validate(
    {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "seed": 1}
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_loopback_and_this_machines_own_addresses_are_this_machine() -> None:
    assert is_own_address("127.0.0.1") and is_own_address("127.0.0.53")
    assert is_own_address("::1") or not socket.has_ipv6
    assert is_own_address("::ffff:127.0.0.1")  # IPv4 loopback, as an IPv6 socket names it
    own = {
        str(item[4][0]) for item in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    }
    for address in own:  # the host's own addresses, loopback or not
        assert is_own_address(address)
    assert answered_here({"127.0.0.1", *own})


def test_other_hosts_unseen_answers_and_no_answers_are_not_this_machine() -> None:
    # documentation ranges (RFC 5737): routed nowhere, bound by no test machine
    assert not is_own_address("198.51.100.7") and not is_own_address(ELSEWHERE)
    assert not answered_here({"203.0.113.9"})
    assert not answered_here({"127.0.0.1", ELSEWHERE})  # one answer from elsewhere is enough
    # a judgement that cannot be made does not count as this machine's
    assert not answered_here({UNKNOWN_PEER}) and not answered_here({"127.0.0.1", UNKNOWN_PEER})
    assert not answered_here(set())  # nothing answered: nothing was measured here
    assert not answered_here({"localhost"})  # a name is no address: it can be pointed anywhere


@needs_engine
@pytest.mark.anyio
async def test_a_runtime_on_loopback_records_the_address_that_answered(engine: Engine) -> None:
    # reached by name: what is recorded is the address the connection went to, not the name
    by_name = engine.url.replace("127.0.0.1", "localhost")
    config = RuntimeConfig(name="local", family="openai", url=by_name, model_path=engine.model)
    async with open_runtime(config) as runtime:
        assert runtime.peers == frozenset()  # nothing has answered yet
        (model,) = await runtime.models()
        await runtime.chat(HELLO)
    assert runtime.peers == {"127.0.0.1"} and answered_here(runtime.peers)
    assert model.digest_source == "file-sha256"  # a server here names a file on this disk
    streamed = open_runtime(config)  # a streamed answer names its peer too
    async with streamed, aclosing(streamed.stream_chat(HELLO)) as chunks:
        assert [chunk async for chunk in chunks]
    assert streamed.peers == {"127.0.0.1"}


@needs_engine
@pytest.mark.anyio
async def test_answers_whose_connection_went_elsewhere_are_not_this_machine(
    engine: Engine,
) -> None:
    """The forgery: the url names this machine, and resolving it again says so, but the
    connections that carried the answers went to another host (stood in for: this machine
    has no second host, so the connection says it went to 192.0.2.10)."""
    host = urlsplit(engine.url).hostname
    assert host is not None
    assert all(is_own_address(str(item[4][0])) for item in socket.getaddrinfo(host, None))
    config = RuntimeConfig(name="local", family="openai", url=engine.url)
    async with OpenAICompatRuntime(config, transport=AnsweredFromElsewhere()) as runtime:
        (model,) = await runtime.models()
        async with aclosing(runtime.stream_chat(HELLO)) as chunks:
            assert [chunk async for chunk in chunks]
    assert runtime.peers == {ELSEWHERE} and not answered_here(runtime.peers)
    # the model file its /v1/models names is on the other host's disk: not hashed from ours
    assert model.id == str(engine.model) and model.digest is None


@pytest.mark.anyio
async def test_answers_no_network_connection_carried_are_unknown_not_local() -> None:
    def in_process(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [{"id": "m"}]})

    config = RuntimeConfig(name="local", family="openai", url="http://127.0.0.1:9")
    transport = httpx.MockTransport(in_process)
    async with OpenAICompatRuntime(config, transport=transport) as runtime:
        await runtime.models()
    assert runtime.peers == {UNKNOWN_PEER} and not answered_here(runtime.peers)


@pytest.mark.anyio
async def test_an_answer_on_a_connection_the_server_closes_still_names_its_peer(
    standin: StandIn,
) -> None:
    """Stand-in upstream for the exact fault: each answer ends the connection, so the peer is
    gone once the body is read; it is recorded as the answer arrives, not afterwards."""

    def answer_and_close(h: BaseHTTPRequestHandler) -> None:
        body = json.dumps({"object": "list", "data": [{"id": "m"}]}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body)
        h.close_connection = True

    standin.routes[("GET", "/v1/models")] = answer_and_close
    async with open_runtime(RuntimeConfig(family="openai", url=standin.url)) as runtime:
        await runtime.models()
        await runtime.models()
    assert runtime.peers == {"127.0.0.1"}


def test_an_adapter_that_says_nothing_of_its_peers_is_never_here() -> None:
    """A plugin's adapter written before runtimes said who answered: nothing it measured is
    this machine's, and nothing breaks."""

    class Older:
        name, family, url = "old", "mlx", "http://127.0.0.1:1234"

    assert peers_of(Older()) == frozenset({UNKNOWN_PEER})
    assert not answered_here(peers_of(Older()))
