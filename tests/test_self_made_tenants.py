"""Tenants anyone makes for free in minutes on an identity service's own domain vouch for nobody
(:data:`~inhouse.program.state.SELF_MADE_TENANTS`), the shapes a review found missing: a lead
makes one, gives herself an account per invented colleague, marks each address verified, and
sets the program's sign-in to it. Each issuer below is refused by the rule the sign-in's set-up
and the fold share (:func:`~inhouse.program.state.self_made_tenant_problem`); an organisation's
own issuer that only looks like one (its own domain, the provider's name in its path or in a
label of its own) is not."""

from __future__ import annotations

import pytest

from inhouse.program.state import self_made_tenant_problem

#: issuer -> what the refusal names it
SELF_MADE = {
    "https://auth.pingone.com/5a2f8e64-0000-4000-8000-00000000aaaa/as": "PingOne",
    "https://auth.pingone.eu/5a2f8e64-0000-4000-8000-00000000aaaa/as": "PingOne",
    "https://auth.pingone.com.au/5a2f8e64-0000-4000-8000-00000000aaaa/as": "PingOne",
    "https://lena-acme.onelogin.com/oidc/2": "OneLogin",
    "https://x1y2z3.logto.app/oidc": "Logto Cloud",
    "https://api.descope.com/P2abcDEF123": "Descope",
    "https://api.workos.com/user_management/client_01HXYZ": "WorkOS",
    "https://api.workos.com": "WorkOS",
    "https://lena-acme.authkit.app": "WorkOS",
    "https://lena-acme.customers.stytch.com": "Stytch",
    "https://test.stytch.com/v1/public/project-test-0000": "Stytch",
    "https://app-x1y2z3.frontegg.com": "Frontegg",
    "https://abcdefghijklmnop.supabase.co/auth/v1": "Supabase",
    "https://lemur-7.cloud-iam.com/auth/realms/acme": "Cloud-IAM",
    # the host as the rules compare it: any case, a final dot
    "https://Auth.PingOne.com./5a2f8e64-0000-4000-8000-00000000aaaa/as": "PingOne",
}

#: an organisation's own issuers, each a near miss of one above
OWN = [
    "https://sso.acme.example/pingone/as",
    "https://auth.notpingone.com/5a2f8e64/as",
    "https://pingone.acme.example/as",
    "https://acme-onelogin.example/oidc/2",
    "https://login.acme.example/logto.app/oidc",
    "https://logto.acme.example/oidc",
    "https://descope.acme.example/P2abc",
    "https://api.workos.com.acme.example",
    "https://auth.acme.example/user_management/client_01HXYZ",
    "https://id.acme.example/authkit",
    "https://stytch.acme.example",
    "https://login.frontegg.acme.example",
    "https://auth.acme.example/auth/v1",
    "https://supabase.co.acme.example/auth/v1",
    "https://id.acme.example/auth/realms/acme",
]


@pytest.mark.parametrize(("issuer", "what"), SELF_MADE.items())
def test_a_tenant_anyone_makes_free_vouches_for_nobody(issuer: str, what: str) -> None:
    why = self_made_tenant_problem(issuer)
    assert why is not None and what in why
    assert "anyone makes in minutes, free, as its administrator" in why
    assert "set up the organisation's own workforce provider" in why


@pytest.mark.parametrize("issuer", OWN)
def test_an_organisation_s_own_issuer_that_looks_like_one_is_not_refused(issuer: str) -> None:
    assert self_made_tenant_problem(issuer) is None
