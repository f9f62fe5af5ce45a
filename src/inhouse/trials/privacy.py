"""Where a trial's task data went: measured, not asserted.

For each side, every network destination it sent task data to — the host of each URL actually
requested — classified by the addresses its connections actually reached (each request records
its connection's peer; resolving the name again could answer otherwise) as **loopback** (never
left the machine: a loopback address or one of this machine's own), **private network** (left
the machine, stayed on a private, link-local or shared (CGNAT, tailnet) network) or **public**.
Only where no connection was recorded is the name resolved here; one that does not resolve counts
as public (we cannot show it stayed inside). With it: the requests and bytes sent there (from
the load generator's samples, warm-up included) and which data classes (:mod:`inhouse.policy`
detectors) appeared in what was sent. The manual status quo sends nothing over the network.

"More private" is decided by rule: the candidate sends nothing beyond loopback or a private
network while the status quo sends task data to a public host. A side's scope is the least
private address any of its requests reached (data went public if any request did); its
``nearest`` is the most private one (a status quo that answered even some requests from this
machine or a private network is named as such beside the verdict).
"""

from __future__ import annotations

import ipaddress
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypedDict

from inhouse.trials.verdict import PrivacyClaim

__all__ = [
    "Destination",
    "DestinationData",
    "Send",
    "SidePrivacy",
    "SidePrivacyData",
    "TextScanner",
    "account",
    "classify_host",
    "compare_privacy",
    "manual_side",
]

Scope = Literal["loopback", "private-network", "public"]
_RANK: dict[Scope, int] = {"loopback": 0, "private-network": 1, "public": 2}


class TextScanner(Protocol):
    """What privacy needs of a scanner: :class:`inhouse.policy.Scanner` fits."""

    def classes(self, text: str) -> set[str]: ...


@dataclass(frozen=True)
class Send:
    """One request that carried task data: where it went, how many bytes, and its text."""

    host: str
    bytes_sent: int
    text: str
    #: the address its connection reached (None: it never connected, or was not recorded)
    address: str | None = None


class DestinationData(TypedDict):
    host: str
    addresses: list[str]
    scope: Scope
    left_machine: bool
    requests: int
    bytes_sent: int
    data_classes: dict[str, int]
    note: str


class SidePrivacyData(TypedDict):
    """A :class:`SidePrivacy` as JSON."""

    side: str
    network: bool
    scope: Scope | None
    bytes_left_machine: int
    bytes_public: int
    data_classes_left_machine: list[str]
    data_classes_public: list[str]
    note: str
    destinations: list[DestinationData]


@dataclass(frozen=True)
class Destination:
    host: str
    addresses: list[str]
    scope: Scope
    requests: int
    bytes_sent: int
    #: data class → number of requests to this host whose text contained it
    data_classes: dict[str, int]
    note: str = ""
    #: the most private scope any of its requests reached (``scope`` is the least private)
    nearest: Scope | None = None

    @property
    def left_machine(self) -> bool:
        return self.scope != "loopback"

    def to_dict(self) -> DestinationData:
        return {
            "host": self.host,
            "addresses": list(self.addresses),
            "scope": self.scope,
            "left_machine": self.left_machine,
            "requests": self.requests,
            "bytes_sent": self.bytes_sent,
            "data_classes": dict(sorted(self.data_classes.items())),
            "note": self.note,
        }


@dataclass(frozen=True)
class SidePrivacy:
    side: str
    network: bool  # False: this side sends nothing over the network (the manual process)
    destinations: list[Destination] = field(default_factory=list)
    note: str = ""

    @property
    def scope(self) -> Scope | None:
        """The least private destination, or None where nothing was sent."""
        if not self.destinations:
            return None
        return max((d.scope for d in self.destinations), key=_RANK.__getitem__)

    @property
    def nearest(self) -> Scope | None:
        """The most private scope any request reached, or None where nothing was sent: a
        status quo that answered even some requests from this machine or the private network
        was not (only) elsewhere."""
        if not self.destinations:
            return None
        return min((d.nearest or d.scope for d in self.destinations), key=_RANK.__getitem__)

    @property
    def bytes_left_machine(self) -> int:
        return sum(d.bytes_sent for d in self.destinations if d.left_machine)

    @property
    def bytes_public(self) -> int:
        return sum(d.bytes_sent for d in self.destinations if d.scope == "public")

    @property
    def data_classes_left_machine(self) -> list[str]:
        found = {c for d in self.destinations if d.left_machine for c in d.data_classes}
        return sorted(found)

    @property
    def data_classes_public(self) -> list[str]:
        found = {c for d in self.destinations if d.scope == "public" for c in d.data_classes}
        return sorted(found)

    def to_dict(self) -> SidePrivacyData:
        return {
            "side": self.side,
            "network": self.network,
            "scope": self.scope,
            "bytes_left_machine": self.bytes_left_machine,
            "bytes_public": self.bytes_public,
            "data_classes_left_machine": self.data_classes_left_machine,
            "data_classes_public": self.data_classes_public,
            "note": self.note,
            "destinations": [d.to_dict() for d in self.destinations],
        }


Resolver = Callable[[str], list[str]]


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


#: shared address space (RFC 6598): carrier-grade NAT, and the addresses Tailscale gives the
#: machines of one's own tailnet; never the public internet
_SHARED = ipaddress.ip_network("100.64.0.0/10")


def _own_addresses() -> frozenset[str]:
    """The addresses this machine's own interfaces hold now (a public IPv6 address of one's own
    laptop is still this machine; read each time: a VPN or tailnet comes and goes)."""
    import psutil

    try:
        interfaces = psutil.net_if_addrs()
    except OSError:
        return frozenset()
    return frozenset(
        a.address.split("%", 1)[0]
        for addresses in interfaces.values()
        for a in addresses
        if a.family in (socket.AF_INET, socket.AF_INET6)
    )


def _scope_of(address: str) -> Scope:
    # an address recorded with what held its connection ("127.0.0.1 (… not inhouse's
    # runtime)"): where the bytes went first is the address itself
    ip = ipaddress.ip_address(address.split(" ", 1)[0].split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 / :: connect to this machine
        return "loopback"
    if str(ip) in _own_addresses():  # this machine, by one of its own addresses
        return "loopback"
    if ip.is_private or ip.is_link_local or ip in _SHARED:
        return "private-network"
    return "public"


def classify_host(host: str, *, resolve: Resolver = _resolve) -> tuple[Scope, list[str], str]:
    """A host's scope, the addresses it resolved to, and a note. A name resolving to several
    addresses takes the least private of them; an unresolvable name counts as public."""
    bare = host.strip("[]")
    try:
        ipaddress.ip_address(bare.split("%", 1)[0])
        addresses = [bare]
    except ValueError:
        addresses = resolve(bare)
    if not addresses:
        return "public", [], "did not resolve here; counted as public"
    scope = max((_scope_of(a) for a in addresses), key=_RANK.__getitem__)
    return scope, addresses, ""


def account(
    side: str, sends: Iterable[Send], scanner: TextScanner, *, resolve: Resolver = _resolve
) -> SidePrivacy:
    """Group one side's requests by destination host; count bytes and the data classes found
    in the text each carried."""
    grouped: dict[str, list[Send]] = {}
    for send in sends:
        grouped.setdefault(send.host, []).append(send)
    found: dict[str, set[str]] = {}
    destinations = []
    for host, items in sorted(grouped.items()):
        addresses = sorted({item.address for item in items if item.address})
        note = ""
        if addresses:  # where the connections went, not what the name resolves to now
            scopes = [_scope_of(a) for a in addresses]
        else:  # no connection recorded: the name as it resolves here
            unresolved, addresses, note = classify_host(host, resolve=resolve)
            scopes = [_scope_of(a) for a in addresses] or [unresolved]
        # data went public if any request did; it answered from here if any request did
        scope = max(scopes, key=_RANK.__getitem__)
        nearest = min(scopes, key=_RANK.__getitem__)
        classes: Counter[str] = Counter()
        for item in items:
            if item.text not in found:
                found[item.text] = scanner.classes(item.text)
            classes.update(found[item.text])
        destinations.append(
            Destination(
                host=host,
                addresses=addresses,
                scope=scope,
                nearest=nearest,
                requests=len(items),
                bytes_sent=sum(item.bytes_sent for item in items),
                data_classes=dict(classes),
                note=note,
            )
        )
    return SidePrivacy(side=side, network=True, destinations=destinations)


def manual_side() -> SidePrivacy:
    return SidePrivacy(
        side="status quo",
        network=False,
        note="the manual status quo is a person doing the task; it sends nothing over the network",
    )


def compare_privacy(
    candidate: SidePrivacy, status_quo: SidePrivacy, *, claimed: bool
) -> PrivacyClaim:
    """Strictly more private: the candidate keeps task data on this machine or a private
    network while the status quo sends task data to a public host. ``claimed``: whether the
    trial counts this dimension towards its verdict."""
    mine = candidate.scope
    where = {
        None: "nowhere",
        "loopback": "this machine only",
        "private-network": "this machine and the private network",
        "public": "a public host",
    }
    if not status_quo.network:
        return PrivacyClaim(
            claimed,
            False,
            "the manual status quo sends nothing over the network; the candidate "
            f"({where[mine]}) cannot be more private than that",
        )
    theirs = status_quo.scope
    if mine == "public":
        return PrivacyClaim(claimed, False, "the candidate itself sent task data to a public host")
    if theirs != "public":
        return PrivacyClaim(
            claimed,
            False,
            f"the status quo also kept task data on {where[theirs]} "
            f"({status_quo.bytes_left_machine} bytes left the machine, none to a public host)",
        )
    classes = status_quo.data_classes_public
    found = f", carrying {', '.join(classes)}" if classes else ""
    return PrivacyClaim(
        claimed,
        True,
        f"the candidate kept task data on {where[mine]}; the status quo sent "
        f"{status_quo.bytes_public} bytes to a public host{found}",
    )
