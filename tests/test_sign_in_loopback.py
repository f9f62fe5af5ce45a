"""Outside a demo, a sign-in on a loopback address vouches for nobody.

A provider on the lead's own machine is whoever runs it: she starts one (the package's own
stand-in would do), sets it up as the organisation's sign-in and gives herself an account for
every "colleague" she invents. No colleague on a machine of their own could ever reach it to
sign in, so an honest program never has one. ``inhouse sign-in setup`` refuses it, and a set-up
appended around the API is folded but vouches for nobody: what its "signed-in" people sign
counts for nothing. (The other tests run the stand-in there, standing for a provider elsewhere:
tests/conftest.py; these put the rule back.)
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput, SignInError
from inhouse.identity import signin as signin_module
from inhouse.identity.signin import is_local_issuer
from inhouse.program import Program, Provenance
from inhouse.program import state as state_module
from inhouse.program.checks import Outcome
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import PROVIDER_HERE, VOUCHES_FOR_NOBODY, Clock
from tests.people import enrol
from tests.test_sign_in import LOCK, _judge, _sign_in, _verify


@pytest.fixture
def idp(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinIdP]:
    monkeypatch.setattr(state_module, "vouches_for_nobody", VOUCHES_FOR_NOBODY)
    with StandinIdP(path="/realms/acme", clock=clock) as provider:
        yield provider


def _lead(folder: Path, clock: Clock, *, demo: bool = False) -> Program:
    lena = Program.init(folder, "Acme", "lena", clock=clock, demo=demo)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    return lena


def test_setting_up_a_provider_on_this_machine_is_refused(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    lena = _lead(_isolated, clock)
    try:
        with pytest.raises(InvalidInput, match="is on a loopback address"):
            lena.set_up_sign_in(idp.issuer, "inhouse")
        assert lena.state().sign_in is None
    finally:
        lena.close()


def test_one_set_up_around_the_api_vouches_for_nobody(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The forgery: the lead pins her own provider around the API's refusal, invents bob, and
    signs both in there; bob's verify "on his laptop" passed play 2 before."""
    lena = _lead(_isolated, clock)
    try:
        lena._pin("lena", idp.issuer, "inhouse", None)
        bob = enrol(lena, "bob", team="ops")
        _sign_in(lena, idp, "u-lena")
        _sign_in(bob, idp, "u-bob")
        _verify(bob)
        assert lena.state().signed_in["bob"].subject == "u-bob"  # bound, and folded
        result = _judge(lena, "baseline", "second-person-verified")
        assert result.outcome is not Outcome.PASS, result.reason
        assert "vouches for nobody outside a demo" in result.reason, result.reason
        warnings = lena.status()["warnings"]
        assert any("so outside a demo it vouches for nobody" in w for w in warnings), warnings
        assert lena.state().tampered is None
    finally:
        lena.close()


def test_a_demo_may_sign_in_on_this_machine(_isolated: Path, clock: Clock, idp: StandinIdP) -> None:
    lena = _lead(_isolated, clock, demo=True)
    try:
        lena.set_up_sign_in(idp.issuer, "inhouse")
        bob = enrol(lena, "bob", team="ops")
        _sign_in(lena, idp, "u-lena")
        _sign_in(bob, idp, "u-bob")
        _verify(bob)
        assert _judge(lena, "baseline", "second-person-verified").outcome is Outcome.PASS
    finally:
        lena.close()


# -- every spelling of this machine ------------------------------------------------------------

#: names and addresses that reach this machine, whatever the resolver says (RFC 6761 keeps
#: ``.localhost`` on loopback; the shorthand IPv4 spellings are inet_aton's; connecting to the
#: unspecified address reaches this machine)
THIS_MACHINE = [
    "http://127.0.0.1:9000",
    "http://127.1:9000",
    "https://0x7f.0.0.1/realms/acme",
    "http://2130706433:9000",
    "https://localhost./realms/acme",
    "https://LOCALHOST/realms/acme",
    "https://idp.localhost/realms/acme",
    "http://0.0.0.0:9000",
    "http://[::1]:9000",
    "http://[::ffff:127.0.0.1]:9000",
    "http://[::]:9000",
]


@pytest.mark.parametrize("issuer", THIS_MACHINE)
def test_every_spelling_of_this_machine_is_a_provider_on_it(issuer: str) -> None:
    """The fold's rule reads the issuer alone (no resolver: every machine must fold alike), so
    it must know this machine in every spelling a resolver takes for it; before, ``127.1`` or
    ``localhost.`` passed for a provider elsewhere."""
    assert is_local_issuer(issuer)
    assert VOUCHES_FOR_NOBODY(issuer, False) and not VOUCHES_FOR_NOBODY(issuer, True)


@pytest.mark.parametrize(
    "issuer",
    ["https://login.example.com/realms/acme", "https://127.example.com", "https://198.51.100.7"],
)
def test_a_provider_elsewhere_is_not_on_this_machine(issuer: str) -> None:
    assert not is_local_issuer(issuer)
    assert PROVIDER_HERE(issuer) is None  # not resolved, or not an address of this machine


def _own_address() -> str:
    """This machine's address on its network (the source of a route out; no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("198.51.100.1", 9))
        address = str(probe.getsockname()[0])
    assert not address.startswith("127."), f"this machine has no address but loopback: {address}"
    return address


@pytest.mark.parametrize("name", ["host name", "own address"])
def test_a_name_for_this_machine_resolves_here(name: str) -> None:
    """A name the lead's hosts file points at her laptop, her laptop's own name, or its address
    on the network: none is loopback by its spelling, and each is this machine."""
    host = socket.gethostname() if name == "host name" else _own_address()
    assert not is_local_issuer(f"https://{host}/realms/acme")
    assert PROVIDER_HERE(f"https://{host}/realms/acme") is not None


@pytest.fixture
def rules_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signin_module, "provider_here", PROVIDER_HERE)


@pytest.mark.parametrize("demo", [False, True], ids=["program", "demo"])
def test_setting_up_a_provider_whose_name_resolves_here_is_refused(
    _isolated: Path, clock: Clock, rules_back: None, demo: bool
) -> None:
    """Outside a demo: refused, naming the address, before the provider is read, and nothing is
    recorded. A demo may: it goes on to read the provider (nothing answers here)."""
    lena = _lead(_isolated, clock, demo=demo)
    issuer = f"https://{_own_address()}/realms/acme"
    events = lena.state().head_seq
    try:
        if demo:
            with pytest.raises(SignInError, match="could not fetch"):
                lena.set_up_sign_in(issuer, "inhouse")
        else:
            with pytest.raises(InvalidInput, match="is served from this machine") as refused:
                lena.set_up_sign_in(issuer, "inhouse")
            assert _own_address() in str(refused.value)
        assert lena.state().sign_in is None and lena.state().head_seq == events
    finally:
        lena.close()


def test_nobody_signs_in_on_the_providers_host(
    _isolated: Path, clock: Clock, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever signs in on the provider's own host could run it, and vouch for anyone: the
    login is refused there before the browser is opened, and nothing is recorded. (The sign-in
    is set up with the rule lifted, as if the provider were elsewhere.)"""
    lena = _lead(_isolated, clock)
    try:
        lena._pin("lena", idp.issuer, "inhouse", None)
        monkeypatch.setattr(signin_module, "provider_here", PROVIDER_HERE)
        with pytest.raises(SignInError, match="is served from this machine"):
            _sign_in(lena, idp, "u-lena")
        assert lena.state().signed_in == {}
    finally:
        lena.close()
