"""`on_this_machine`: what a verify's and a rerun's runtime must be."""

from __future__ import annotations

import socket

from inhouse.runtimes.local import on_this_machine
from tests.runtimes.standin import StandIn


def test_loopback_and_this_machines_own_addresses_are_this_machine() -> None:
    assert on_this_machine("http://127.0.0.1:8080/v1")
    assert on_this_machine("http://localhost:11434")
    assert on_this_machine("http://[::1]:8080") or not socket.has_ipv6
    with StandIn() as server:  # a runtime really listening here
        assert on_this_machine(server.url)
    own = {
        str(item[4][0]) for item in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    }
    for address in own:  # the host's own name and addresses, loopback or not
        assert on_this_machine(f"http://{address}:8080")


def test_other_hosts_and_names_that_do_not_resolve_are_not() -> None:
    # documentation ranges (RFC 5737): routed nowhere, bound by no test machine
    assert not on_this_machine("http://198.51.100.7:11434")
    assert not on_this_machine("http://203.0.113.9:8080/v1")
    assert not on_this_machine("http://runtime.invalid:8080")  # RFC 6761: never resolves
    assert not on_this_machine("not a url")
    assert not on_this_machine("http://:8080")
