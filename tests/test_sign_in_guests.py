"""Guests are not the organisation's accounts: an Entra tenant takes in anyone a member invites
(by default, any member may), each a personal account of its own, so one person could be any
number of "signed-in" people. A token from another provider (``idp``), or marked a guest
(``acct``), binds nobody; at Entra, a token that does not say (the ``acct`` optional claim not
configured) tells nobody apart. And an issuer on a loopback address is this machine's, over
https too."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from inhouse.errors import SignInError
from inhouse.identity.signin import Identity, is_local_issuer, jwk_thumbprint, nonce_for
from inhouse.program import Program
from inhouse.program.state import _guest_problem, self_made_tenant_problem
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_sign_in import _sign_in

pytestmark = pytest.mark.usefixtures("on_database")

MSA = "https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/"  # personal MS accounts


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    with StandinIdP(path="/acme-tenant/v2.0", clock=clock) as provider:
        yield provider


@pytest.fixture
def lena(_isolated: Path, clock: Clock, idp: StandinIdP) -> Iterator[Program]:
    lead = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lead.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lead, idp, "u-lena")
    yield lead
    lead.close()


def _bind(person: Program, idp: StandinIdP, subject: str, extra: dict[str, object]) -> None:
    """``person``'s key signs in with a token the tenant minted for ``subject``."""
    claims = idp.claims(subject, nonce=nonce_for(person.state().program_id, person.key.key_id))
    seen = [jwk_thumbprint(k) for k in idp.jwks()["keys"]]
    person.bind_sign_in(idp.mint({**claims, **extra}), seen=seen)


@pytest.mark.parametrize(
    ("claims", "said"),
    [
        ({"idp": MSA}, "a guest authenticated by"),
        ({"acct": 1}, "marks g-1 as a guest"),
        ({"idp": MSA, "acct": "1"}, "a guest authenticated by"),
    ],
)
def test_a_guest_in_the_tenant_signs_in_as_nobody(
    lena: Program, idp: StandinIdP, claims: dict[str, object], said: str
) -> None:
    alias = enrol(lena, "omar", team="support")
    with pytest.raises(SignInError, match=said):
        _bind(alias, idp, "g-1", claims)
    assert "omar" not in lena.state().signed_in


def test_a_member_signs_in(lena: Program, idp: StandinIdP) -> None:
    colleague = enrol(lena, "omar", team="support")
    _bind(colleague, idp, "u-omar", {"acct": 0})
    assert "omar" in lena.state().signed_in


def _identity(**fields: object) -> Identity:
    base: dict[str, object] = {
        "issuer": "https://login.microsoftonline.com/acme-tenant/v2.0",
        "subject": "u-1",
        "email": None,
        "email_verified": False,
        "issued_at": datetime(2026, 12, 4, tzinfo=UTC),
        "key_thumbprint": "t",
    }
    return Identity(**{**base, **fields})  # type: ignore[arg-type]


def test_at_entra_a_token_must_say_member_or_guest() -> None:
    issuer = "https://login.microsoftonline.com/acme-tenant/v2.0"
    unsaid = _guest_problem(issuer, _identity())
    assert unsaid is not None and "add the optional claim acct" in unsaid
    assert _guest_problem(issuer, _identity(guest=False)) is None
    assert _guest_problem(issuer, _identity(guest=True)) is not None
    # Entra's v1 issuer is held to the same
    v1 = _guest_problem("https://sts.windows.net/acme-tenant/", _identity())
    assert v1 is not None and "add the optional claim acct" in v1
    # a customer-identity tenant lets anyone sign up: nobody is vouched for there (one rule
    # with the other tenants anyone makes: tests/test_redteam1234.py)
    ciam = self_made_tenant_problem("https://acme.ciamlogin.com/acme-tenant/v2.0")
    assert ciam is not None and "anyone signs up" in ciam
    # elsewhere a token that says nothing is the issuer's own account
    assert _guest_problem("https://id.acme.example/realms/acme", _identity()) is None


@pytest.mark.parametrize(
    "issuer",
    ["https://localhost:8443/realms/acme", "https://127.0.0.1:8443/realms/acme",
     "https://[::1]:8443/realms/acme", "http://127.0.0.1:8080/realms/acme"],
)  # fmt: skip
def test_an_issuer_on_a_loopback_address_is_this_machines(issuer: str) -> None:
    assert is_local_issuer(issuer)
    assert not is_local_issuer("https://id.acme.example/realms/acme")
