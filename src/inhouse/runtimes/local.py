"""Whether a runtime answers on this machine: what a second person's verify, and a colleague's
rerun of a workflow, must have measured.

A verify that reached a runtime at someone else's address measured that host, not an install
of the verifier's own, and a rerun answered by a server the workflow's author runs could be
served canned answers: both are the author's work, presented as the colleague's. A host is this
machine's when each address its name resolves to is a loopback address or one of this
machine's own (a socket can be bound to it); a name that does not resolve is not.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

__all__ = ["on_this_machine"]


def on_this_machine(url: str) -> bool:
    """Whether ``url``'s host is this machine (loopback, or an address of its own)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    if not host:
        return False
    try:
        found = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {str(item[4][0]).split("%")[0] for item in found}
    return bool(addresses) and all(_own(address) for address in addresses)


def _own(address: str) -> bool:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    if parsed.is_loopback:
        return True
    family = socket.AF_INET6 if parsed.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((address, 0))  # only an address of this machine's can be bound
    except OSError:
        return False
    return True
