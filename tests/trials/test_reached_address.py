"""Where the status quo answered from is where its connections went, not what its name
resolves to when asked again.

A name with two records, 127.0.0.1 and a public address: the load generator connected on
loopback (a slow stand-in on the lead's own machine), while the classifier, resolving the name
again, took the public one: the trial read "more private than a public API" and value-proven
said nothing of loopback. Each answer now carries the address its connection reached, and the
side is judged by those. An address of this machine's own interfaces is this machine; the
shared address space (carrier-grade NAT, a tailnet) is a private network."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.policy import Scanner
from inhouse.program import Program
from inhouse.program.checks import CheckContext, evaluate
from inhouse.program.evaluation import exit_results
from inhouse.program.facts import Fact, FactSet, Provenance, validate_payload
from inhouse.testing.standin_upstream import StandinTiming, standin_in_thread
from inhouse.trials import privacy
from inhouse.trials.load import LoadMode, Target, run_load
from inhouse.trials.privacy import Send, account, classify_host, compare_privacy

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
        # what the stand-ins answer ("tok0 tok1 …"), which a sentence about something else
        # does not say: the trial's quality rests on its answers (value-proven asks it to)
        "checks": [{"type": "contains", "value": "tok0"}],
        "meaningful": {"faster": 30, "more_private": True},
        "resamples": 2000,
    }  # fmt: skip
    (folder / "trials").mkdir(exist_ok=True)
    (folder / "trials" / "tickets.yaml").write_text(yaml.safe_dump(spec))


@pytest.fixture
def two_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """NAME answers with two A records, 127.0.0.1 first and then a public address, as a DNS zone
    the lead controls could."""
    real = socket.getaddrinfo

    def dns(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host in (NAME, NAME.encode()):
            return [info for a in ("127.0.0.1", PUBLIC) for info in real(a, *args, **kwargs)]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # uvloop resolves names in libuv, past this stand-in DNS: asyncio's loop, as inhouse runs
    # where uvloop is not installed (it honours several records the same way)
    monkeypatch.setitem(sys.modules, "uvloop", None)


def _play_one(folder: Path) -> None:
    _ok("init", "Acme", "--lead", "lena")  # a real program, not a demo
    _ok("person", "role", "lena", "--add", "play-owner")
    _ok("hypothesis", "a local model summarises tickets", "--replaces", "hosted API")
    _ok("play", "start", "1")


def _value_proven(folder: Path) -> str:
    program = Program.open(folder)
    try:
        found = exit_results(program.playbook.plays[0], program.state(), program.clock())
        (checked,) = [i for i in found if i.ref.check == "value-proven"]
    finally:
        program.close()
    assert checked.result.outcome.value == "pass", checked.result.reason
    return checked.result.reason


def _prove_against(folder: Path, status_quo: str | None) -> dict[str, Any]:
    """Run the trial against the slow stand-in "hosted API" on this machine, addressed by
    ``status_quo`` (a URL with the stand-in's port as ``{port}``; None: its own URL)."""
    with standin_in_thread(StandinTiming(5, 1, 4), model="candidate") as candidate, \
            standin_in_thread(StandinTiming(300, 20, 8), model="hosted-big") as hosted:  # fmt: skip
        port = hosted.url.rsplit(":", 1)[1].split("/")[0]
        url = hosted.url if status_quo is None else status_quo.format(port=port)
        _trial(folder, candidate.url, url)
        data: dict[str, Any] = json.loads(_ok("prove", "tickets", "--json"))
    assert all(row["status_quo"]["ok"] for row in data["inputs"])
    return data


@pytest.mark.usefixtures("two_records")
def test_a_name_resolving_to_loopback_and_a_public_address_answered_from_loopback(
    _isolated: Path,
) -> None:
    """The forgery: the lead's slow stand-in on this machine, named so that a second lookup
    finds a public address. Every request (the warm-up too) reached 127.0.0.1, so the status
    quo is this machine: not "more private" than it, and value-proven names loopback."""
    _play_one(_isolated)
    data = _prove_against(_isolated, f"http://{NAME}:{{port}}")
    quo = data["privacy"]["status_quo"]
    [destination] = quo["destinations"]
    assert destination["host"] == NAME and destination["addresses"] == ["127.0.0.1"]
    assert destination["requests"] == 8 + 1  # the warm-up carried task data too
    assert quo["scope"] == "loopback" and quo["bytes_left_machine"] == 0
    assert data["privacy"]["more_private"] is False
    assert "more-private" not in data["verdict"]["proven_on"]
    reason = _value_proven(_isolated)
    assert "the status quo answered from this machine (loopback)" in reason


def test_a_status_quo_addressed_as_127_0_0_1_is_named_as_this_machine(_isolated: Path) -> None:
    """The honest stand-in, by its own address: the same note (what the forgery above hid)."""
    _play_one(_isolated)
    data = _prove_against(_isolated, None)
    assert data["privacy"]["status_quo"]["scope"] == "loopback"
    assert "the status quo answered from this machine (loopback)" in _value_proven(_isolated)


@pytest.mark.usefixtures("two_records")
def test_every_request_says_where_it_went_warm_up_and_failures_included() -> None:
    """A warm-up request and one that timed out after it left carried task data as surely as a
    measured answer: each records the address its connection reached."""
    with standin_in_thread(StandinTiming(5, 1, 4)) as fast:
        port = fast.url.rsplit(":", 1)[1].split("/")[0]
        target = Target(f"http://{NAME}:{port}", "m")
        result = asyncio.run(run_load(target, ["a", "b"], LoadMode.fixed(2), warmup=2))
    assert [s.peer for s in result.warmup_samples] == ["127.0.0.1", "127.0.0.1"]
    assert [s.peer for s in result.samples] == ["127.0.0.1", "127.0.0.1"]
    with standin_in_thread(StandinTiming(2000, 1, 4)) as slow:
        port = slow.url.rsplit(":", 1)[1].split("/")[0]
        target = Target(f"http://{NAME}:{port}", "m", timeout=0.3)
        result = asyncio.run(run_load(target, ["a"], LoadMode.sequential()))
    [sample] = result.samples
    assert not sample.ok and "timed out" in (sample.error or "")
    assert sample.peer == "127.0.0.1"


def _public(host: str) -> list[str]:
    return [PUBLIC]


def _verdict_reason(side: privacy.SidePrivacy | None, **economics: Any) -> str:
    """value-proven's reason on a proven verdict whose economics carry ``side``'s scopes as
    ``inhouse prove`` records them (or ``economics`` as given: a verdict from before)."""
    if side is not None:
        economics = {"status_quo_scope": side.scope, "status_quo_nearest": side.nearest}
    payload = validate_payload(
        "trial.verdict",
        {"trial": "t", "verdict": "proven", "proven_on": ["faster", "more-private"],
         "quality_ok": True,
         "economics": {"status_quo": "api", "currency": "USD", **economics}},
    )  # fmt: skip
    now = datetime(2026, 1, 5, tzinfo=UTC)
    verdict = Fact(id=1, kind="trial.verdict", version=1, payload=payload,
                   provenance=Provenance.MEASURED, by="lena", collector="inhouse prove",
                   comment=None, expires=None, at=now)  # fmt: skip
    context = CheckContext(facts=FactSet([verdict]), people={}, owners={}, now=now)
    result = evaluate("value-proven", context)
    assert result.outcome.value == "pass", result.reason
    return str(result.reason)


def test_a_side_is_judged_by_the_addresses_its_requests_reached() -> None:
    scanner = Scanner.build()
    candidate = account("candidate", [Send("127.0.0.1", 100, EMAIL, address="127.0.0.1")], scanner)
    # the name resolves to a public address now, but its connection went to this machine
    here = account("status quo", [Send(NAME, 100, EMAIL, address="127.0.0.1")], scanner,
                   resolve=_public)  # fmt: skip
    assert (here.scope, here.destinations[0].addresses) == ("loopback", ["127.0.0.1"])
    assert not compare_privacy(candidate, here, claimed=True).more_private
    assert "answered from this machine (loopback)" in _verdict_reason(here)
    # some answers from here, some from a public host: data went public (the claim stays
    # conservative), and the note still says where the others came from
    mixed = account(
        "status quo",
        [Send(NAME, 100, EMAIL, address=PUBLIC), Send(NAME, 100, EMAIL, address="127.0.0.1")],
        scanner,
        resolve=_public,
    )  # fmt: skip
    assert (mixed.scope, mixed.nearest) == ("public", "loopback")
    assert compare_privacy(candidate, mixed, claimed=True).more_private
    assert "answered from this machine (loopback)" in _verdict_reason(mixed)
    lan = account("status quo", [Send(NAME, 100, EMAIL, address="10.0.0.7"),
                                 Send(NAME, 100, EMAIL, address=PUBLIC)], scanner)  # fmt: skip
    assert "answered from a private network address" in _verdict_reason(lan)


def test_a_public_status_quo_stays_public() -> None:
    """The honest hosted API: every connection reached a public address; more private holds and
    value-proven adds no note. Where no connection was recorded, the name is resolved here."""
    scanner = Scanner.build()
    candidate = account("candidate", [Send("127.0.0.1", 100, EMAIL, address="127.0.0.1")], scanner)
    hosted = account("status quo", [Send(NAME, 100, EMAIL, address=PUBLIC)] * 3, scanner)
    assert (hosted.scope, hosted.nearest, hosted.bytes_public) == ("public", "public", 300)
    claim = compare_privacy(candidate, hosted, claimed=True)
    assert claim.more_private and "sent 300 bytes to a public host, carrying email" in claim.reason
    assert "note" not in _verdict_reason(hosted)
    unrecorded = account("status quo", [Send(NAME, 100, EMAIL)], scanner, resolve=_public)
    assert (unrecorded.scope, unrecorded.nearest) == ("public", "public")
    # a verdict recorded before the nearest scope was: its one scope, as before
    assert "note" not in _verdict_reason(None, status_quo_scope="public")
    assert "(loopback)" in _verdict_reason(None, status_quo_scope="loopback")


def test_this_machines_own_and_shared_addresses_are_not_public(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A global IPv6 address of this laptop's own Wi-Fi is this machine; a tailnet or
    carrier-grade NAT address (100.64.0.0/10) is a private network, not the internet."""
    import psutil

    wifi = [SimpleNamespace(family=socket.AF_INET6, address="2a02:810d:1:2::5")]
    monkeypatch.setattr(psutil, "net_if_addrs", lambda: {"wlan0": wifi})
    assert classify_host("2a02:810d:1:2::5")[0] == "loopback"
    assert classify_host("2a02:810d:1:2::6")[0] == "public"  # a neighbour's is not
    assert classify_host("100.100.7.7")[0] == "private-network"  # a tailnet address
    assert classify_host("100.128.0.1")[0] == "public"  # just past the shared space
    assert classify_host(PUBLIC)[0] == "public"
