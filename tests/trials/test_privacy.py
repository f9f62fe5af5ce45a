"""Privacy is measured: destinations classified from the hosts actually used, bytes counted, the
data classes found by inhouse.policy's detectors; "more private" decided by rule."""

from __future__ import annotations

import pytest

from inhouse.policy import Scanner
from inhouse.trials.privacy import Send, account, classify_host, compare_privacy, manual_side

EMAIL = "Contact jane.doe@example.com about the refund."
CARD = "Card on file: 4111 1111 1111 1111."


def fixed(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda host: table.get(host, [])


@pytest.mark.parametrize(
    ("host", "scope"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("[::1]", "loopback"),
        ("10.1.2.3", "private-network"),
        ("192.168.0.20", "private-network"),
        ("172.20.0.5", "private-network"),
        ("fe80::1", "private-network"),
        ("8.8.8.8", "public"),
        ("2001:4860:4860::8888", "public"),
    ],
)
def test_addresses_are_classified(host: str, scope: str) -> None:
    assert classify_host(host)[0] == scope


def test_names_are_resolved_and_the_least_private_address_wins() -> None:
    resolve = fixed({"llm.internal": ["10.0.0.7"], "mixed.example": ["10.0.0.8", "93.184.216.34"]})
    assert classify_host("llm.internal", resolve=resolve)[:2] == ("private-network", ["10.0.0.7"])
    assert classify_host("mixed.example", resolve=resolve)[0] == "public"
    scope, addresses, note = classify_host("nowhere.invalid", resolve=resolve)
    assert (scope, addresses) == ("public", [])
    assert "counted as public" in note


def test_localhost_resolves_to_loopback() -> None:
    assert classify_host("localhost")[0] == "loopback"


def test_account_counts_bytes_and_data_classes_per_destination() -> None:
    scanner = Scanner.build()
    sends = [
        Send("api.example.com", 120, EMAIL),
        Send("api.example.com", 80, CARD),
        Send("api.example.com", 50, "nothing sensitive"),
        Send("127.0.0.1", 40, EMAIL),
    ]
    side = account(
        "status quo", sends, scanner, resolve=fixed({"api.example.com": ["93.184.216.34"]})
    )
    by_host = {d.host: d for d in side.destinations}
    public = by_host["api.example.com"]
    assert (public.scope, public.requests, public.bytes_sent) == ("public", 3, 250)
    assert public.data_classes == {"email": 1, "card": 1}
    assert by_host["127.0.0.1"].scope == "loopback"
    assert side.bytes_left_machine == 250 and side.bytes_public == 250
    assert side.data_classes_public == ["card", "email"]
    assert side.scope == "public"


def test_an_invalid_card_number_is_not_a_card() -> None:
    side = account("x", [Send("127.0.0.1", 10, "Card 4111 1111 1111 1112")], Scanner.build())
    assert "card" not in side.destinations[0].data_classes


def test_more_private_when_candidate_stays_local_and_status_quo_goes_public() -> None:
    scanner = Scanner.build()
    resolve = fixed({"api.example.com": ["93.184.216.34"]})
    candidate = account("candidate", [Send("127.0.0.1", 100, EMAIL)], scanner, resolve=resolve)
    public = account("status quo", [Send("api.example.com", 100, EMAIL)], scanner, resolve=resolve)
    claim = compare_privacy(candidate, public, claimed=True)
    assert claim.more_private and claim.claimed
    assert "100 bytes to a public host, carrying email" in claim.reason


def test_not_more_private_against_a_private_network_status_quo() -> None:
    scanner = Scanner.build()
    candidate = account("candidate", [Send("127.0.0.1", 100, EMAIL)], scanner)
    lan = account("status quo", [Send("10.0.0.9", 100, EMAIL)], scanner)
    claim = compare_privacy(candidate, lan, claimed=True)
    assert not claim.more_private
    assert "100 bytes left the machine, none to a public host" in claim.reason


def test_not_more_private_when_the_candidate_itself_goes_public() -> None:
    scanner = Scanner.build()
    candidate = account("candidate", [Send("8.8.8.8", 1, "x")], scanner)
    public = account("status quo", [Send("8.8.4.4", 1, "x")], scanner)
    assert not compare_privacy(candidate, public, claimed=True).more_private


def test_the_manual_status_quo_sends_nothing_over_the_network() -> None:
    manual = manual_side()
    assert not manual.network and manual.bytes_left_machine == 0
    assert "sends nothing over the network" in manual.note
    candidate = account("candidate", [Send("127.0.0.1", 10, "x")], Scanner.build())
    claim = compare_privacy(candidate, manual, claimed=True)
    assert not claim.more_private
    assert "manual status quo sends nothing over the network" in claim.reason
