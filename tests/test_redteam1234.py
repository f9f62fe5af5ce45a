"""Red team, plays 1 to 4, one person alone (lena, the rollout lead being judged).

Every check that needs "someone other than lena" counts only people the organisation's sign-in
vouches for, and the sign-in is the one lena sets up (`inhouse sign-in setup --issuer URL`). Her
cheapest way to a second, third, tenth "colleague" is not a second machine but a second
identity provider: a tenant of a hosted identity service she makes herself in minutes, free,
on that service's own domain, as its administrator (an Auth0 tenant, an Okta developer org, a
Cognito user pool; or a Microsoft Entra tenant, whose member accounts sit at its free initial
``*.onmicrosoft.com`` domain). She creates an account per invented colleague, marks any address
verified, and every alias signs in as somebody. These tests hold such a tenant to vouching for
nobody; a provider of her own on a domain of her own stays open (the strict xfail at the end).

The stand-in provider runs on loopback; here it answers under the issuer a hosted tenant would
have (its discovery is pointed there), as the suite's provider stands for the organisation's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import InvalidInput, SignInError
from inhouse.identity import signin as signin_module
from inhouse.identity.signin import jwk_thumbprint, nonce_for
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol

pytestmark = [pytest.mark.usefixtures("on_database"), pytest.mark.own_sign_in]

#: issuers of tenants anyone makes for free on the service's own domain, as its administrator
SELF_MADE = [
    "https://lena-acme.us.auth0.com/",
    "https://dev-31415926.okta.com",
    "https://lena.oktapreview.com",
    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
    "https://securetoken.google.com/lena-acme",
    "https://lena-acme-x1y2z3.zitadel.cloud",
    # customer identity, where anyone signs up (review1: B2C was missed, and an External ID
    # tenant was refused only in the fold, not at set-up)
    "https://lenaacme.b2clogin.com/6e3c1d2a-0000-4000-8000-0000000000b2/v2.0/",
    "https://lenaacme.ciamlogin.com/6e3c1d2a-0000-4000-8000-0000000000c1/v2.0",
    # personal Microsoft accounts: anyone makes any number, under any address
    "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
    # decisions2: two of the shapes tests/test_self_made_tenants.py lists, through set-up
    "https://auth.pingone.eu/5a2f8e64-0000-4000-8000-00000000aaaa/as",
    "https://abcdefghijklmnop.supabase.co/auth/v1",
]
#: lena's own Entra tenant (any Microsoft account makes one, free, and is its global admin)
ENTRA = "https://login.microsoftonline.com/6e3c1d2a-0000-4000-8000-00000000cafe/v2.0"


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    with StandinIdP(clock=clock) as provider:
        yield provider


def _answering_as(patch: pytest.MonkeyPatch, idp: StandinIdP, issuer: str) -> None:
    """The stand-in answers discovery for ``issuer`` (the tenant's address)."""
    real = signin_module.discover

    def discover(asked: str, *, timeout: float = 10.0) -> signin_module.Provider:
        if asked != issuer:
            return real(asked, timeout=timeout)
        found = real(idp.issuer, timeout=timeout)
        return signin_module.Provider(
            issuer=issuer,
            authorization_endpoint=found.authorization_endpoint,
            token_endpoint=found.token_endpoint,
            jwks_uri=found.jwks_uri,
        )

    patch.setattr(signin_module, "discover", discover)


def _token(
    person: Program,
    idp: StandinIdP,
    issuer: str,
    subject: str,
    *,
    domain: str = "acme.example",
    **extra: Any,
) -> str:
    """The ID token lena's tenant mints for ``person``'s key, as account ``subject`` (a verified
    address at ``domain``)."""
    claims = idp.claims(
        subject,
        nonce=nonce_for(person.state().program_id, person.key.key_id),
        email=f"{person.whoami().name}@{domain}",
    )
    return idp.mint({**claims, "iss": issuer, **extra})


def _seen(idp: StandinIdP) -> list[str]:
    return [jwk_thumbprint(k) for k in idp.jwks()["keys"]]


def _demand_of_one(lena: Program) -> tuple[Outcome, str]:
    """Play 2's trigger `access-requested` (someone other than the owners and leads asked)."""
    refs = [r for r in lena.playbook.play("baseline").trigger if r.check == "access-requested"]
    (checked,) = run_checks(refs, context_for(lena.state(), lena.clock()))
    return checked.result.outcome, checked.result.reason


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    lead = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    yield lead
    lead.close()


@pytest.mark.parametrize("issuer", SELF_MADE)
def test_a_tenant_she_makes_for_free_is_refused_at_set_up(
    lena: Program, idp: StandinIdP, issuer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """She types `inhouse sign-in setup --issuer https://lena-acme.us.auth0.com/`: refused,
    naming why, and nothing is recorded."""
    _answering_as(monkeypatch, idp, issuer)
    before = len(lena.events())
    with pytest.raises(InvalidInput, match="anyone makes in minutes, free, as its administrator"):
        lena.set_up_sign_in(issuer, "inhouse", domain="acme.example")
    assert len(lena.events()) == before
    assert lena.state().sign_in is None


def test_the_cli_refuses_her_okta_developer_org_by_name(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What she types, as she types it: `inhouse sign-in setup` names the refusal, records
    nothing, and exits non-zero."""
    from typer.testing import CliRunner

    from inhouse.cli.app import app
    from tests.people import lead_env

    issuer = "https://dev-31415926.okta.com/oauth2/default"
    _answering_as(monkeypatch, idp, issuer)
    args = ["sign-in", "setup", "--issuer", issuer, "--client-id", "0oa1b2c3"]
    found = CliRunner().invoke(app, args, env=lead_env(lena))
    said = " ".join(found.output.split())
    assert found.exit_code != 0, said
    assert "an Okta developer, trial or free org" in said and "vouches for nobody" in said
    assert lena.state().sign_in is None


@pytest.mark.parametrize("issuer", SELF_MADE[:2])
def test_her_tenant_set_up_around_the_api_vouches_for_her_alias_nobody(
    lena: Program, idp: StandinIdP, issuer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forgery end to end: her tenant pinned around `sign-in setup`'s refusal, an account
    for her and one for omar (an alias she joined from her VM), omar asks to get in. On the old
    code omar was a signed-in person and play 2's trigger counted his request; now his sign-in
    binds nobody (the API refuses it, the fold binds nothing with one appended around it) and
    the trigger does not pass."""
    _answering_as(monkeypatch, idp, issuer)
    lena._pin("lena", issuer, "inhouse", "acme.example")  # around set_up_sign_in's refusal
    omar = enrol(lena, "omar", team="support", machine="lenas-vm")
    with pytest.raises(SignInError, match="vouches for nobody"):
        omar.bind_sign_in(_token(omar, idp, issuer, "auth0|omar"), seen=_seen(idp))
    # appended around the API: lena's binding and omar's
    for person, subject in ((lena, "auth0|lena"), (omar, "auth0|omar")):
        token = _token(person, idp, issuer, subject)
        person._append(
            EventKind.PERSON_SIGNED_IN,
            person.whoami().name,
            {"id_token": token, "seen": _seen(idp)},
        )
    omar.request_access(reason="I want in")
    state = lena.state()
    assert state.tampered is None
    assert "omar" not in state.signed_in and "lena" not in state.signed_in
    assert any("omar's sign-in binds nobody" in line for line in state.unbound), state.unbound
    outcome, reason = _demand_of_one(lena)
    assert outcome is not Outcome.PASS, reason
    assert "omar" in reason


def test_an_account_at_her_entra_tenant_s_initial_domain_is_nobody(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her own Entra tenant, made free: member accounts (acct=0, so no guests) at its initial
    domain lenaacme.onmicrosoft.com. The old code bound them (a member is the tenant's own);
    now an account counts only at a domain the tenant verified by DNS."""
    _answering_as(monkeypatch, idp, ENTRA)
    lena.set_up_sign_in(ENTRA, "inhouse")
    omar = enrol(lena, "omar", team="support", machine="lenas-vm")
    fake = {"acct": 0, "preferred_username": "omar@lenaacme.onmicrosoft.com"}
    with pytest.raises(SignInError, match=r"initial domain lenaacme\.onmicrosoft\.com"):
        omar.bind_sign_in(_token(omar, idp, ENTRA, "e-omar", **fake), seen=_seen(idp))
    # a token that names no user name says nothing of the domain either
    with pytest.raises(SignInError, match="names no user name"):
        omar.bind_sign_in(_token(omar, idp, ENTRA, "e-omar", acct=0), seen=_seen(idp))
    token = _token(omar, idp, ENTRA, "e-omar", **fake)
    omar._append(EventKind.PERSON_SIGNED_IN, "omar", {"id_token": token, "seen": _seen(idp)})
    state = lena.state()
    assert state.tampered is None
    assert "omar" not in state.signed_in
    assert any("initial domain" in line for line in state.unbound), state.unbound


def test_the_organisation_s_entra_accounts_at_its_verified_domain_sign_in(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest path: the organisation's tenant, its people at acme.example (a domain the
    tenant verified), v2's preferred_username or v1's upn; omar's request counts."""
    _answering_as(monkeypatch, idp, ENTRA)
    lena.set_up_sign_in(ENTRA, "inhouse")
    lena.bind_sign_in(
        _token(lena, idp, ENTRA, "e-lena", acct=0, preferred_username="lena@acme.example"),
        seen=_seen(idp),
    )
    omar = enrol(lena, "omar", team="support", machine="omar-laptop")
    omar.bind_sign_in(
        _token(omar, idp, ENTRA, "e-omar", acct="0", upn="Omar@Acme.example"), seen=_seen(idp)
    )
    assert {"lena", "omar"} <= set(lena.state().signed_in)
    omar.request_access(reason="I want in")
    outcome, reason = _demand_of_one(lena)
    assert outcome is Outcome.PASS, reason


def test_an_organisation_s_own_provider_elsewhere_still_vouches(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The honest path beside the refusals: the organisation's Keycloak at its own domain (and
    an Okta org of its own, acme.okta.com) are set up and sign people in as before."""
    issuer = "https://id.acme.example/realms/acme"
    _answering_as(monkeypatch, idp, issuer)
    lena.set_up_sign_in(issuer, "inhouse", domain="acme.example")
    lena.bind_sign_in(_token(lena, idp, issuer, "k-lena"), seen=_seen(idp))
    omar = enrol(lena, "omar", team="support", machine="omar-laptop")
    omar.bind_sign_in(_token(omar, idp, issuer, "k-omar"), seen=_seen(idp))
    assert {"lena", "omar"} <= set(lena.state().signed_in)
    from inhouse.program.state import self_made_tenant_problem

    assert self_made_tenant_problem("https://acme.okta.com") is None
    assert self_made_tenant_problem("https://login.acme.example/oauth2/default") is None
    assert self_made_tenant_problem("https://dev-1.okta.com") is not None


KEYCLOAK = "https://id.acme.example/realms/acme"


def _plus_token(person: Program, idp: StandinIdP, subject: str, address: str) -> str:
    """An account at the organisation's Keycloak registered (self-registration on) with
    ``address``, which its registrant verified by reading the mail it sent there."""
    claims = idp.claims(
        subject,
        nonce=nonce_for(person.state().program_id, person.key.key_id),
        email=address,
    )
    return idp.mint({**claims, "iss": KEYCLOAK})


@pytest.fixture
def realm(lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch) -> Program:
    """The organisation's own Keycloak realm, set up with its domain; lena signed in there."""
    _answering_as(monkeypatch, idp, KEYCLOAK)
    lena.set_up_sign_in(KEYCLOAK, "inhouse", domain="acme.example")
    lena.bind_sign_in(_plus_token(lena, idp, "k-lena", "lena@acme.example"), seen=_seen(idp))
    return lena


def test_an_account_she_registered_at_a_plus_address_of_her_mailbox_is_her(
    realm: Program, idp: StandinIdP
) -> None:
    """Her own e-mail aliases: the realm lets anyone register, so she registers
    lena+omar@acme.example, clicks the link in her own inbox (a verified address at the
    organisation's domain), and signs omar (her VM) in with that second account. The old code
    bound it (another account is another person) and counted omar's request for play 2; now
    one mailbox is one person: refused, and one appended around the API binds nobody."""
    omar = enrol(realm, "omar", team="support", machine="lenas-vm")
    plus = "Lena+Omar@acme.example"
    with pytest.raises(SignInError, match=r"mailbox lena@acme\.example"):
        omar.bind_sign_in(_plus_token(omar, idp, "k-omar", plus), seen=_seen(idp))
    token = _plus_token(omar, idp, "k-omar", plus)
    omar._append(EventKind.PERSON_SIGNED_IN, "omar", {"id_token": token, "seen": _seen(idp)})
    omar.request_access(reason="I want in")
    state = realm.state()
    assert state.tampered is None
    assert "omar" not in state.signed_in and "lena" in state.signed_in
    assert any("one mailbox is one person" in line for line in state.unbound), state.unbound
    outcome, reason = _demand_of_one(realm)
    assert outcome is not Outcome.PASS, reason


def test_her_plus_address_bound_first_leaves_her_own_sign_in_binding_nobody(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other order: omar signs in first with lena+omar@, then lena with her own address.
    Whoever bound the mailbox first keeps it, so lena is not signed in, and nobody is told
    apart from her: omar's request still counts for nothing."""
    _answering_as(monkeypatch, idp, KEYCLOAK)
    lena.set_up_sign_in(KEYCLOAK, "inhouse", domain="acme.example")
    omar = enrol(lena, "omar", team="support", machine="lenas-vm")
    omar.bind_sign_in(_plus_token(omar, idp, "k-omar", "lena+omar@acme.example"), seen=_seen(idp))
    with pytest.raises(SignInError, match="one mailbox is one person"):
        lena.bind_sign_in(_plus_token(lena, idp, "k-lena", "lena@acme.example"), seen=_seen(idp))
    omar.request_access(reason="I want in")
    outcome, reason = _demand_of_one(lena)
    assert outcome is not Outcome.PASS, reason
    assert "lena" in reason


def test_a_colleague_who_signs_in_with_a_plus_address_of_their_own_counts(
    realm: Program, idp: StandinIdP
) -> None:
    """The honest path: omar's account is at omar+inhouse@acme.example, his own mailbox, which
    nobody else signed in with; he counts, and so does his request."""
    omar = enrol(realm, "omar", team="support", machine="omar-laptop")
    address = "omar+inhouse@acme.example"
    omar.bind_sign_in(_plus_token(omar, idp, "k-omar", address), seen=_seen(idp))
    assert "omar" in realm.state().signed_in
    omar.request_access(reason="I want in")
    outcome, reason = _demand_of_one(realm)
    assert outcome is Outcome.PASS, reason


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: the issuer is the lead's to name, and a provider she runs on a "
    "domain of her own (a Keycloak on her VM at id.acme-ai.example, a ten-dollar domain; or "
    "her own Entra tenant once she verifies such a domain there) vouches for whoever she "
    "makes an account for. Nothing in the log ties a domain to the organisation: closing it "
    "needs an anchor the lead cannot make alone (the organisation's domain confirmed out of "
    "band, e.g. a DNS record under the organisation's domain that its IT writes, or the "
    "sign-in set up by the provider's administrator, on the record): a product decision",
)
def test_a_provider_of_her_own_on_a_domain_of_her_own_vouches_for_nobody(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    issuer = "https://id.acme-ai.example/realms/acme"
    _answering_as(monkeypatch, idp, issuer)
    lena.set_up_sign_in(issuer, "inhouse", domain="acme-ai.example")
    mine = "acme-ai.example"
    lena.bind_sign_in(_token(lena, idp, issuer, "k-lena", domain=mine), seen=_seen(idp))
    omar = enrol(lena, "omar", team="support", machine="lenas-vm")
    try:
        omar.bind_sign_in(_token(omar, idp, issuer, "k-omar", domain=mine), seen=_seen(idp))
    except SignInError:
        return
    omar.request_access(reason="I want in")
    outcome, _ = _demand_of_one(lena)
    assert outcome is not Outcome.PASS


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: the organisation's own realm (a Keycloak, an Okta org) needs no "
    "--email-domain, and where it lets anyone register (self-registration) she registers an "
    "account per invented colleague under free addresses of hers (lena.omar@gmail.example): "
    "other mailboxes, other accounts, and nothing says whose. Requiring a domain of every "
    "sign-in would refuse the bindings of running programs set up without one (a set-up "
    "appended without it cannot be told from one an earlier inhouse wrote): a product decision",
)
def test_an_account_she_registered_at_a_realm_with_no_domain_under_a_free_address_is_nobody(
    lena: Program, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    _answering_as(monkeypatch, idp, KEYCLOAK)
    lena.set_up_sign_in(KEYCLOAK, "inhouse")
    lena.bind_sign_in(_plus_token(lena, idp, "k-lena", "lena@acme.example"), seen=_seen(idp))
    omar = enrol(lena, "omar", team="support", machine="lenas-vm")
    free = "lena.omar@gmail.example"
    try:
        omar.bind_sign_in(_plus_token(omar, idp, "k-omar", free), seen=_seen(idp))
    except SignInError:
        return
    omar.request_access(reason="I want in")
    outcome, _ = _demand_of_one(lena)
    assert outcome is not Outcome.PASS
