"""Where the status quo answered from is where its connections went, not what its name
resolves to when asked again.

A name with two records, 127.0.0.1 and a public address: the load generator connected on
loopback (a slow stand-in on the lead's own machine), while the classifier, resolving the name
again, took the public one: the trial read "more private than a public API" and value-proven
said nothing of loopback. Each answer now carries the address its connection reached, and the
side is judged by those. An address of this machine's own interfaces is this machine; the
shared address space (carrier-grade NAT, a tailnet) is a private network."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.policy import Scanner
from inhouse.program import Program
from inhouse.program.evaluation import exit_results
from inhouse.testing.standin_upstream import StandinTiming, standin_in_thread
from inhouse.trials import privacy
from inhouse.trials.privacy import Send, account

runner = CliRunner()
NAME = "api.hosted.example"
PUBLIC = "93.184.216.34"
COST = {"watts": 45, "price_per_kwh": 0.28, "hardware_price": 1400, "lifetime_hours": 26280,
        "utilisation": 0.25}  # fmt: skip
EMAIL = "write to jane.doe@example.com"


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def _trial(folder: Path, candidate: str, status_quo: str) -> None:
    (folder / "data").mkdir(exist_ok=True)
    rows = [{"id": f"T-{i}", "text": f"printer {i} jams"} for i in range(8)]
    (folder / "data" / "tickets.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    spec = {
        "task": {"prompt": "Summarise in one line: {{ text }}", "inputs": "data/tickets.jsonl"},
        "candidate": {"url": candidate, "cost": COST},
        "status_quo": {"kind": "api", "url": status_quo, "model": "hosted-big",
                       "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0},
        "checks": [{"type": "length", "min": 1}],
        "meaningful": {"faster": 30, "more_private": True},
        "resamples": 2000,
    }  # fmt: skip
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / "tickets.yaml").write_text(yaml.safe_dump(spec))


def test_a_name_resolving_to_loopback_and_a_public_address_answered_from_loopback(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ok("init", "Acme", "--lead", "lena")
    _ok("person", "role", "lena", "--add", "play-owner")
    _ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    _ok("play", "start", "1")
    real = socket.getaddrinfo

    def dns(host, *args, **kwargs):  # type: ignore[no-untyped-def]  # the name's two records
        if host in (NAME, NAME.encode()):
            return [info for a in ("127.0.0.1", PUBLIC) for info in real(a, *args, **kwargs)]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # uvloop resolves names in libuv, past this stand-in DNS: asyncio's loop, as inhouse runs
    # where uvloop is not installed (it honours several records the same way)
    monkeypatch.setitem(sys.modules, "uvloop", None)
    with standin_in_thread(StandinTiming(5, 1, 4), model="candidate") as candidate, \
            standin_in_thread(StandinTiming(300, 20, 8), model="hosted-big") as hosted:  # fmt: skip
        port = hosted.url.rsplit(":", 1)[1].split("/")[0]
        _trial(_isolated, candidate.url, f"http://{NAME}:{port}")
        data = json.loads(_ok("prove", "tickets", "--json"))
    quo = data["privacy"]["status_quo"]
    assert quo["scope"] == "loopback" and quo["destinations"][0]["addresses"] == ["127.0.0.1"]
    assert data["privacy"]["more_private"] is False
    assert "more-private" not in data["verdict"]["proven_on"]
    program = Program.open(_isolated)
    try:
        found = exit_results(program.playbook.plays[0], program.state(), program.clock())
        (checked,) = [i for i in found if i.ref.check == "value-proven"]
    finally:
        program.close()
    assert "the status quo answered from this machine (loopback)" in checked.result.reason


def _public(host: str) -> list[str]:
    return [PUBLIC]


def test_a_side_is_judged_by_the_addresses_its_requests_reached() -> None:
    scanner = Scanner.build()
    mixed = account(
        "status quo",
        [Send(NAME, 100, EMAIL, address=PUBLIC), Send(NAME, 100, EMAIL, address="127.0.0.1")],
        scanner,
        resolve=_public,
    )  # fmt: skip
    # data went public (the privacy side stays conservative) but some answers came from here
    assert (mixed.scope, mixed.nearest) == ("public", "loopback")
    unrecorded = account("status quo", [Send(NAME, 100, EMAIL)], scanner, resolve=_public)
    assert (unrecorded.scope, unrecorded.nearest) == ("public", "public")  # by name, as before


def test_this_machines_own_and_shared_addresses_are_not_public(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(privacy, "_own_addresses", lambda: frozenset({"2a02:810d:1:2::5"}))
    assert privacy._scope_of("2a02:810d:1:2::5") == "loopback"  # this laptop's global IPv6
    assert privacy._scope_of("100.100.7.7") == "private-network"  # a tailnet address
    assert privacy._scope_of(PUBLIC) == "public"
