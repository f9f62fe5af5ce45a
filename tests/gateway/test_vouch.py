"""The gateway's host, vouched for by someone other than the lead who enrolled its key.

With the organisation's sign-in set up, what the gateway measures counts only once someone else
who uses it ran ``inhouse gateway vouch`` from their own machine: their CLI asks the real
gateway (in-process here, on loopback) to sign a fresh nonce and records the answer. Before,
a lead who ran a "gateway" on a virtual machine of her own held its key, and its figures
counted (a red team's finding: one person measured play 4's adoption and play 6's use).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput, NotAllowed
from inhouse.gateway.vouch import vouch_for_gateway
from inhouse.program import Program, Provenance
from inhouse.program.counting import build_context
from inhouse.program.events import EventKind, append
from inhouse.support.drift import COLLECTOR as DRIFT
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.gateway.harness import digest_of, in_process, make_program, model_file
from tests.locks import lock_payload
from tests.people import enrol
from tests.test_sign_in import _sign_in

#: the cast sets up a provider of its own (``enrol`` signs nobody in)
pytestmark = [pytest.mark.usefixtures("on_database"), pytest.mark.own_sign_in]

REVIEW = {"lock_hash": lock_payload("lena")["lock_hash"], "passed": True, "drifted": [],
          "findings": [], "nodes": ["local"], "pinning_enforced": True}  # fmt: skip


@pytest.fixture
def cast(_isolated: Path, clock: Clock, idp: StandinIdP) -> Iterator[tuple[Program, Program]]:
    """lena (the lead) and vic, each signed in, and the gateway's key enrolled on its host,
    which has signed one drift review."""
    weights = model_file(_isolated)
    runtimes = {"local": {"family": "openai", "url": "http://127.0.0.1:9",
                          "model_path": str(weights)}}  # fmt: skip
    lena = make_program(_isolated, runtimes, {"tiny": digest_of(weights)}, clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    vic = enrol(lena, "vic", team="support")
    _sign_in(vic, idp, "u-vic")
    lena.as_service("gateway").record_fact(
        None, "drift.review", REVIEW, provenance=Provenance.MEASURED, collector=DRIFT
    )
    yield lena, vic
    lena.close()


def _counted_reviews(program: Program) -> list[int]:
    context = build_context(program.state(), program.clock())
    return [f.id for f in context.facts.of("drift.review")]


def _vouch(
    program: Program,
    folder: Path,
    clock: Clock,
    agree: Callable[[list[str]], bool | None] | None = None,
) -> object:
    """``program``'s holder runs `inhouse gateway vouch` against the running gateway
    (``agree``: the command's question, answered)."""

    async def run() -> object:
        async with in_process(folder, clock=clock) as (_, client):
            url = str(client.base_url)
            try:
                return await asyncio.to_thread(vouch_for_gateway, program, url, agree=agree)
            except (InvalidInput, NotAllowed) as err:
                return err

    return asyncio.run(run())


def test_the_gateway_counts_once_someone_else_vouches_for_its_host(
    cast: tuple[Program, Program], _isolated: Path, clock: Clock
) -> None:
    lena, vic = cast
    assert _counted_reviews(lena) == []
    [why] = [u.why for u in build_context(lena.state(), clock.now).uncounted
             if u.fact.kind == "drift.review"]  # fmt: skip
    assert "whose host nobody but lena has vouched for" in why
    assert any("inhouse gateway vouch" in w for w in lena.status()["warnings"])

    refused = _vouch(lena, _isolated, clock)  # the lead who enrolled it
    assert isinstance(refused, NotAllowed)
    assert "never led the program" in str(refused)
    assert _counted_reviews(lena) == []

    fact = _vouch(vic, _isolated, clock)
    assert not isinstance(fact, Exception), fact
    assert len(_counted_reviews(lena)) == 1
    assert not any("inhouse gateway vouch" in w for w in lena.status()["warnings"])


def test_a_vouch_shows_the_host_it_vouches_for_and_records_only_on_a_yes(
    cast: tuple[Program, Program], _isolated: Path, clock: Clock
) -> None:
    """The address a vouch asks may be inhouse.toml's, which the lead writes: a colleague asked
    to "just run `inhouse gateway vouch`" reads the address and the key their key would vouch
    for, and one who says no (or has no terminal to answer on) records nothing."""
    lena, vic = cast
    seen: list[list[str]] = []
    for answer, why in ((None, "the question got no answer"), (False, "vouch only for")):

        def ask(lines: list[str], answer: bool | None = answer) -> bool | None:
            seen.append(lines)
            return answer

        refused = _vouch(vic, _isolated, clock, agree=ask)
        assert isinstance(refused, NotAllowed), refused
        assert f"not vouched, nothing recorded for vic: {why}" in str(refused)
    assert _counted_reviews(lena) == []
    assert not [f for f in lena.state().facts if f.kind == "service.vouched"]
    key = next(k for k in lena.state().keys.values() if k.person == "gateway")
    said = "\n".join(seen[0])
    assert "the gateway you use answers at http://" in said, said
    assert f"key {key.key_id}, enrolled by lena from machine " in said, said
    fact = _vouch(vic, _isolated, clock, agree=lambda lines: True)
    assert not isinstance(fact, Exception), fact
    assert len(_counted_reviews(lena)) == 1


def test_a_vouch_written_around_the_command_counts_only_as_the_command_would(
    cast: tuple[Program, Program], clock: Clock
) -> None:
    """The lead signs a vouch herself, and vic's is appended with a signature the gateway's key
    never made: neither counts."""
    lena, vic = cast
    key_id = next(k.key_id for k in lena.state().keys_of("gateway"))
    payload = {"service": "gateway", "key_id": key_id, "url": "http://gw.acme.example",
               "nonce": "a" * 32, "signature": "AAAA"}  # fmt: skip
    for who in (lena, vic):
        who.record_fact(None, "service.vouched", payload, provenance=Provenance.MEASURED,
                        collector="inhouse gateway vouch")  # fmt: skip
    assert _counted_reviews(lena) == []
    # lena's own vouch with the gateway's real signature, made with the key she holds: still hers
    from inhouse.identity.hosts import host_challenge
    from inhouse.program.core import read_service_key

    held = read_service_key(lena.folder, "gateway")
    assert held is not None
    signed = held.sign(host_challenge(lena.state().program_id, "gateway", "b" * 32))
    lena.record_fact(None, "service.vouched", {**payload, "nonce": "b" * 32, "signature": signed},
                     provenance=Provenance.MEASURED, collector="inhouse gateway vouch")  # fmt: skip
    assert _counted_reviews(lena) == []
    # nor a co-lead's, even one who no longer leads: leads enrol services, and a co-lead of
    # one's own would enrol the key for the other to vouch for
    lena.change_roles(None, "vic", add=["rollout-lead"])
    lena.change_roles(None, "vic", remove=["rollout-lead"])
    vic.record_fact(None, "service.vouched", {**payload, "nonce": "b" * 32, "signature": signed},
                    provenance=Provenance.MEASURED, collector="inhouse gateway vouch")  # fmt: skip
    assert _counted_reviews(lena) == []


def test_vouching_at_an_address_with_no_gateway_says_so(
    cast: tuple[Program, Program],
) -> None:
    _, vic = cast
    with pytest.raises(InvalidInput, match="could not reach the gateway at"):
        vouch_for_gateway(vic, "http://127.0.0.1:9", timeout=2)


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", "http://gw\x1b[31m"])
def test_vouching_at_an_address_that_is_no_url_names_it(
    cast: tuple[Program, Program], url: str
) -> None:
    """An unclosed IPv6 bracket, a port out of range, a control character pasted in: each was
    a traceback from the HTTP client (httpx.InvalidURL, not one of the errors it catches)."""
    _, vic = cast
    with pytest.raises(InvalidInput, match=r"the gateway's address .*expected http\(s\)://HOST"):
        vouch_for_gateway(vic, url, timeout=2)


def test_a_dashboard_session_vouches_for_nothing(
    cast: tuple[Program, Program], clock: Clock
) -> None:
    """vic signs in to the dashboard lena hosts; during his session the host could sign a vouch
    with his session key, pointed at a gateway of hers. The command refuses a session, and one
    appended around it never counts (a session key lives on the dashboard's host): set aside
    and reported, as vic, a member, could make such a session alone and would otherwise freeze
    the program for everyone (tests/test_fold_no_freeze.py)."""
    from datetime import timedelta

    from inhouse.identity import SigningKey
    from inhouse.identity.delegation import delegation_statement, sign_delegation
    from inhouse.identity.hosts import host_challenge
    from inhouse.program.core import read_service_key

    lena, vic = cast
    session = SigningKey.generate()
    statement = delegation_statement(
        program=lena.state().program_id, person="vic", key_id=vic.key.key_id,
        session_key=session.public_key, nonce="n-v", issued=clock.now,
        expires=clock.now + timedelta(hours=2),
    )  # fmt: skip
    as_vic = lena.delegated(session, sign_delegation(vic.key, statement))
    with pytest.raises(NotAllowed, match="a dashboard session does not vouch"):
        vouch_for_gateway(as_vic, "http://127.0.0.1:9")
    held = read_service_key(lena.folder, "gateway")
    assert held is not None
    nonce = "c" * 32
    vouched = {
        "service": "gateway",
        "key_id": held.key_id,
        "url": "http://gw.acme.example",
        "nonce": nonce,
        "signature": held.sign(host_challenge(lena.state().program_id, "gateway", nonce)),
    }
    with pytest.raises(NotAllowed, match=r"a session may not sign service\.vouched facts"):
        as_vic.record_fact(None, "service.vouched", vouched, provenance=Provenance.MEASURED,
                           collector="inhouse gateway vouch")  # fmt: skip
    body = {"kind": "service.vouched", "version": 1, "payload": vouched,
            "provenance": "measured", "collector": "inhouse gateway vouch",
            "delegation": sign_delegation(vic.key, statement)}  # fmt: skip
    event = append(lena.store, EventKind.FACT_RECORDED, "vic", body, at=lena.clock(), key=session)
    fresh = Program.open(lena.folder, clock=lena.clock)
    try:
        state = fresh.state()
        assert state.tampered is None
        ((seq, why),) = state.unauthorized
        assert seq == event.seq and "a session may not sign service.vouched facts" in why
        assert not any(f.kind == "service.vouched" and f.by == "vic" for f in state.facts)
    finally:
        fresh.close()


def test_without_the_sign_in_nobody_vouches_and_the_gateway_counts_for_nothing(
    _isolated: Path, clock: Clock
) -> None:
    """Outside a demo, with no sign-in set up, nobody is told apart from the lead who enrolled
    the gateway's key (a key and its machine are anyone's to make): vic's vouch is refused
    before any request, and what the gateway signs is not counted, saying why."""
    weights = model_file(_isolated)
    runtimes = {"local": {"family": "openai", "url": "http://127.0.0.1:9",
                          "model_path": str(weights)}}  # fmt: skip
    lena = make_program(_isolated, runtimes, {"tiny": digest_of(weights)}, clock=clock)
    try:
        vic = enrol(lena, "vic", team="support")
        assert lena.state().sign_in is None
        lena.as_service("gateway").record_fact(
            None, "drift.review", REVIEW, provenance=Provenance.MEASURED, collector=DRIFT
        )
        refused = _vouch(vic, _isolated, clock)
        assert isinstance(refused, NotAllowed)
        assert "the organisation's sign-in is not set up" in str(refused)
        assert _counted_reviews(lena) == []
        [why] = [u.why for u in build_context(lena.state(), clock.now).uncounted
                 if u.fact.kind == "drift.review"]  # fmt: skip
        assert "without the organisation's sign-in nobody is told apart" in why
    finally:
        lena.close()


def test_a_gateway_behind_an_untrusted_authority_gets_sign_ins_hint(
    cast: tuple[Program, Program], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over real TLS, a gateway whose certificate's authority this machine does not trust (a
    stand-in, self-signed: OpenSSL's code 18): the vouch said only "could not reach" and to
    check the address, which was right; it says what sign-in says, through the same function:
    which authorities inhouse trusts and how to add the organisation's."""
    from tests.test_tls import _authority, https_json

    _, vic = cast
    unrelated, _ = _authority(tmp_path, "unrelated")
    monkeypatch.setenv("SSL_CERT_FILE", str(unrelated))  # the gateway's authority is not in it
    with (
        https_json(tmp_path, {"key_id": "k", "signature": "s"}) as url,
        pytest.raises(InvalidInput, match="CERTIFICATE_VERIFY_FAILED") as err,
    ):
        vouch_for_gateway(vic, url.removesuffix("/doc"), timeout=5)
    said = str(err.value)
    assert "its certificate's authority is not one inhouse trusts" in said, said
    assert f"it trusts only the authorities in {unrelated} (SSL_CERT_FILE)" in said, said
    assert (
        f"the gateway has a certificate from an authority of its own, add it to {unrelated}" in said
    )
    assert "give the address you use it at" not in said  # the address was right
    assert not [f for f in vic.state().facts if f.kind == "service.vouched"]


@pytest.mark.parametrize("refused", ["wrong host", "expired"])
def test_a_gateway_certificate_refused_for_another_reason_is_said_for_what_it_is(
    refused: str,
    cast: tuple[Program, Program],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Over real TLS, a gateway whose certificate's authority is trusted here: asked at a name
    its certificate is not for, the vouch says to give the address its certificate names; its
    certificate expired, it said "give the address you use it at", which the voucher had done
    and no address mends, and now says whoever runs the gateway renews it. Neither is called
    an untrusted authority."""
    from tests.test_tls import https_json

    _, vic = cast
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # its authority: trusted
    document = {"key_id": "k", "signature": "s"}
    with https_json(tmp_path, document, expired=refused == "expired") as url:
        base = url.removesuffix("/doc")
        if refused == "wrong host":
            base = base.replace("127.0.0.1", "localhost")
        with pytest.raises(InvalidInput, match="CERTIFICATE_VERIFY_FAILED") as err:
            vouch_for_gateway(vic, base, timeout=5)
    said = str(err.value)
    assert "not one inhouse trusts" not in said, said
    if refused == "wrong host":
        assert "its certificate is for another name than this address" in said, said
        assert "as its certificate names it" in said, said
    else:
        assert "expired" in said and "whoever runs the gateway renews it" in said, said
        assert "give the address you use it at" not in said, said
    assert not [f for f in vic.state().facts if f.kind == "service.vouched"]
