"""Review of revokedgw and redteam1234: what their rules still let through, or break.

A gateway key rotated where replicas run on several hosts (each host that followed the old
words made a key of its own, and its rows were left out of everything the gateway signs), and a
mail server's own sub-address delimiter (``lena-omar@`` is ``lena@``'s inbox where it is ``-``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput, ServiceKeyRevoked, SignInError
from inhouse.identity.signin import nonce_for
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from inhouse.usage.authentic import GATEWAY_SERVICE
from tests.conftest import OTHER_COMPUTER, Clock
from tests.people import enrol
from tests.test_redteam1234 import KEYCLOAK, _answering_as, _demand_of_one, _plus_token, _seen

runner = CliRunner()

KEY_FILE = ".inhouse/keys/gateway.key"
#: what every word on the rotation says of replicas on other hosts
COPY = "copy that new file to each (mode 0600) before restarting them"


def _said(done: object) -> str:
    return " ".join((done.stdout + done.stderr).split())  # type: ignore[attr-defined]


def test_the_rotation_of_a_revoked_gateway_key_keeps_one_key_on_every_replica_s_host(
    _isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest team with gateway replicas on three hosts (docs/gateway.md: each holds the
    same key file). The key leaks; the lead revokes it; every replica answers 503. The old
    words, on the revocation, the 503 and every refusal, said to delete the file on "its host"
    and restart: whoever runs each replica did so, and each host made a key of its own, so the
    rows of all but the one whose key the next rollup enrolled were left out of adoption and the
    daily rollup ("not written by this gateway"). Now each says to copy the new file to the
    other hosts before restarting them."""
    monkeypatch.setenv(OTHER_COMPUTER, "gateway-host-1")
    assert runner.invoke(app, ["init", "Acme", "--lead", "lena"]).exit_code == 0
    lena = Program.open(_isolated)
    try:
        old = lena.as_service(GATEWAY_SERVICE).key.key_id
        revoked = runner.invoke(app, ["person", "revoke-key", old])
        assert revoked.exit_code == 0, _said(revoked)
        said = _said(revoked)
        assert f"delete {KEY_FILE} on the gateway's host" in said
        assert COPY in said, said
        # the refusal every command that signs as the gateway gives (the 503 the same words)
        with pytest.raises(ServiceKeyRevoked) as refused:
            lena.as_service(GATEWAY_SERVICE)
        assert COPY in " ".join(str(refused.value).split())
        rollup = runner.invoke(app, ["gateway", "rollup"])
        assert rollup.exit_code == 3 and COPY in _said(rollup), _said(rollup)
    finally:
        lena.close()


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    with StandinIdP(clock=clock) as provider:
        yield provider


@pytest.fixture
def realm(
    _isolated: Path, clock: Clock, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Program]:
    """The organisation's own Keycloak realm, set up with its domain; lena signed in there."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    _answering_as(monkeypatch, idp, KEYCLOAK)
    lena.set_up_sign_in(KEYCLOAK, "inhouse", domain="acme.example")
    lena.bind_sign_in(_plus_token(lena, idp, "k-lena", "lena@acme.example"), seen=_seen(idp))
    yield lena
    lena.close()


@pytest.mark.usefixtures("on_database")
@pytest.mark.own_sign_in
def test_an_account_she_registered_at_a_dash_sub_address_of_her_mailbox_is_her(
    realm: Program, idp: StandinIdP
) -> None:
    """Where the mail server splits at '-', lena-omar@ is lena@'s inbox. The old code bound it
    (nothing in the log said which delimiter the domain uses); now, where the log shows exit
    rules 8 in force, a '-' is read as a sub-address until a colleague at the domain who is no
    lead says otherwise (tests/test_dash_mailbox.py), and omar's request is nobody's."""
    omar = enrol(realm, "omar", team="support", machine="lenas-vm")
    dash = "lena-omar@acme.example"
    try:
        omar.bind_sign_in(_plus_token(omar, idp, "k-omar", dash), seen=_seen(idp))
    except SignInError:  # refused, as the rule would
        return
    omar.request_access(reason="I want in")
    outcome, _ = _demand_of_one(realm)
    assert outcome is not Outcome.PASS


B2C = "https://lenaacme.b2clogin.com/6e3c1d2a-0000-4000-8000-0000000000b2/v2.0/"


@pytest.mark.usefixtures("on_database")
@pytest.mark.own_sign_in
def test_her_azure_b2c_tenant_set_up_around_the_api_vouches_for_her_alias_nobody(
    _isolated: Path, clock: Clock, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Azure AD B2C tenant: anyone makes one free, as its administrator, and anyone signs up
    there (customer identity, as Entra External ID's ciamlogin.com, which the fold refused
    already). The old code let `sign-in setup` pin it and bound every account she made there,
    one per invented colleague; now it is refused at set-up, and one pinned around that binds
    nobody, so omar's request is nobody's."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    try:
        _answering_as(monkeypatch, idp, B2C)
        with pytest.raises(InvalidInput, match="an Azure AD B2C tenant"):
            lena.set_up_sign_in(B2C, "inhouse", domain="acme.example")
        lena._pin("lena", B2C, "inhouse", "acme.example")  # around set_up_sign_in's refusal
        omar = enrol(lena, "omar", team="support", machine="lenas-vm")
        for person, subject in ((lena, "b2c-lena"), (omar, "b2c-omar")):
            claims = idp.claims(
                subject,
                nonce=nonce_for(person.state().program_id, person.key.key_id),
                email=f"{person.whoami().name}@acme.example",
            )
            person._append(
                EventKind.PERSON_SIGNED_IN,
                person.whoami().name,
                {"id_token": idp.mint({**claims, "iss": B2C}), "seen": _seen(idp)},
            )
        omar.request_access(reason="I want in")
        state = lena.state()
        assert state.tampered is None
        assert "omar" not in state.signed_in and "lena" not in state.signed_in
        assert any("omar's sign-in binds nobody" in line for line in state.unbound)
        outcome, reason = _demand_of_one(lena)
        assert outcome is not Outcome.PASS, reason
    finally:
        lena.close()


def test_a_replica_whose_host_made_a_key_of_its_own_is_told_at_start(
    _isolated: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """A replica whose host made a key of its own (its file deleted and `gateway serve`
    restarted there, as the words before review1 said, or the file never copied there) served
    and sealed every row with a key the log never enrolled while another was active: its rows
    were left out of everything the gateway signs, and nothing said so. It still serves (a
    counting fault takes no replica out), but says so at start, naming the enrolled key and
    the command that copies its file; /healthz is degraded with that reason (its code for
    anyone, its words for a lead's key) and /metrics has a gauge at 1. The enrolled key's file
    copied there (the honest replica) is ok, the gauge at 0."""
    import asyncio

    from inhouse.cli.gateway import _health_text
    from inhouse.gateway.app import UNENROLLED_CODE
    from inhouse.program.core import service_key
    from inhouse.testing.standin_upstream import StandinTiming, StandinUpstream
    from tests.gateway.harness import (
        auth,
        digest_of,
        in_process,
        key_for,
        make_program,
        model_file,
        weights_root,
    )  # fmt: skip

    weights = model_file(_isolated)

    async def health(client: httpx.AsyncClient, key: str | None = None) -> dict[str, Any]:
        answer = await client.get("/healthz", headers=None if key is None else auth(key))
        assert answer.status_code == 200, answer.text  # it serves: a balancer keeps it
        found: dict[str, Any] = answer.json()
        return found

    async def run() -> None:
        timing = StandinTiming(ttft_ms=0, tpot_ms=0, tokens=4)
        async with StandinUpstream(timing, model="tiny", root=weights_root(_isolated)) as up:
            runtimes = {"local": {"family": "openai", "url": up.url,
                                  "model_path": str(weights)}}  # fmt: skip
            lena = make_program(_isolated, runtimes, {"tiny": digest_of(weights)}, clock=clock)
            try:
                old = lena.as_service(GATEWAY_SERVICE).key.key_id
                lena.revoke_key(old)
                (_isolated / KEY_FILE).unlink()  # host A rotates: its new key, enrolled
                enrolled = lena.as_service(GATEWAY_SERVICE).key.key_id
                lead_key = key_for(lena)
            finally:
                lena.close()
            host_a = (_isolated / KEY_FILE).read_bytes()
            # host B (its own copy of the folder): the revoked file deleted there, its own key
            (_isolated / KEY_FILE).unlink()
            own = service_key(_isolated, GATEWAY_SERVICE).key_id
            assert own not in (old, enrolled)
            with caplog.at_level("WARNING", logger="inhouse.gateway"):
                async with in_process(_isolated, clock=clock) as (_, client):
                    said = " ".join(caplog.text.split())
                    assert f"holds {own}, a key the program's log never enrolled" in said, said
                    assert f"its enrolled key is {enrolled}" in said, said
                    assert "chmod 0600 .inhouse/keys/gateway.key" in said, said
                    public = await health(client)
                    assert (public["status"], public["service_key"]["unenrolled"]) == (
                        "degraded", UNENROLLED_CODE,
                    )  # fmt: skip
                    lead = await health(client, lead_key)
                    assert enrolled in lead["service_key"]["unenrolled"], lead
                    metrics = (await client.get("/metrics")).text
                    assert "inhouse_gateway_service_key_unenrolled 1.0" in metrics, metrics
                    told = " ".join(" ".join(_health_text(lead, "here")).split())
                    assert f"its own key {own} is not the one the program's log enrolled" in told
                    assert "chmod 0600" in told, told
                    told = " ".join(" ".join(_health_text(public, "here")).split())
                    assert "a rollout lead's own key shows which key is enrolled" in told, told
            # the honest replica: host A's file copied here
            (_isolated / KEY_FILE).write_bytes(host_a)
            async with in_process(_isolated, clock=clock) as (_, client):
                public = await health(client)
                assert (public["status"], public["service_key"]["unenrolled"]) == ("ok", None)
                metrics = (await client.get("/metrics")).text
                assert "inhouse_gateway_service_key_unenrolled 0.0" in metrics, metrics

    asyncio.run(run())


@pytest.mark.usefixtures("on_database")
def test_no_reader_verifies_rows_with_a_bare_key_that_skips_the_log_s_revocation(
    _isolated: Path, clock: Clock
) -> None:
    """Rows sealed with a key the log revoked count for nothing only where the reader asks the
    log (gateway_seal's Seal). The old authentic_rows took the bare MAC key too, "a key its
    caller holds active", so a reader written with it (mac_key(read_service_key(...)), as the
    dashboard's was before revokedgw) read the revoked key's rows as sealed, whatever the log
    said. Now it takes only a Seal, and says so."""
    from inhouse.gateway.rollup import SERVICE, gateway_seal
    from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
    from inhouse.program.core import read_service_key
    from inhouse.usage.authentic import authentic_rows, mac_key

    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    try:
        own = lena.as_service(SERVICE).key
        row = UsageRecord(request_id=new_request_id(), at="2026-11-03T11:00:00+00:00",
                          person="lena", key_id="k_lena", endpoint="chat/completions",
                          model="tiny", status=200, tokens_in=4, tokens_out=6)  # fmt: skip
        row.seal(mac_key(own.private))
        insert_usage(lena.store, [row])
        lena.revoke_key(own.key_id)
        seal = gateway_seal(lena, make=False)
        assert seal is not None and seal.revoked is not None
        assert [r.why for r in authentic_rows(lena.store, seal).rejected] == [
            "sealed with a revoked key"
        ]
        held = read_service_key(_isolated, SERVICE)
        assert held is not None
        with pytest.raises(TypeError, match="reads with a Seal"):
            authentic_rows(lena.store, mac_key(held.private))  # type: ignore[arg-type]
    finally:
        lena.close()
