"""Organisation sign-in (OpenID Connect) against the stand-in identity provider, over real HTTP on
loopback: the honest browser flow binds a key to the person the IdP vouches for; every cheaper
way (a forged redirect, a token made for another key or program, an old token, a token signed by
anyone but the IdP's published keys) is refused with the part at fault named."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from inhouse.errors import IdentityError, SignInError
from inhouse.identity.signin import (
    Identity,
    check_issuer_url,
    discover,
    fetch_jwks,
    is_local_issuer,
    jwk_thumbprint,
    nonce_for,
    sign_in,
    verify_id_token,
)
from inhouse.testing.standin_idp import StandinIdP, browse

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the stand-in IdP's clock
AT = NOW + timedelta(minutes=1)  # when the binding is recorded
PROGRAM = "prog-acme"
KEY = "ed25519:" + "a1" * 16
NONCE = nonce_for(PROGRAM, KEY)
SUBJECT = "u-7f3a"
DROP = object()  # a claim left out

#: RFC 7638 §3.1: the example RSA key, whose thumbprint the RFC gives
RFC7638_KEY = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2"
    "QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6W"
    "eZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}


@pytest.fixture
def idp() -> Iterator[StandinIdP]:
    with StandinIdP(path="/realms/acme", clock=lambda: NOW) as running:
        running.login(SUBJECT, email="omar@acme.example")
        yield running


def _quiet(_: str) -> None:
    pass


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(part: dict[str, Any]) -> str:
    return _b64url(json.dumps(part).encode())


def _get(url: str, **params: str) -> httpx.Response:
    with httpx.Client(trust_env=False) as http:
        return http.get(url, params=params or None)  # an empty dict would drop url's query


def _callback_of(url: str) -> str:
    """The loopback redirect an authorization address asks the IdP to send the browser to."""
    return parse_qs(urlsplit(url).query)["redirect_uri"][0]


def _verify(token: str, jwks: dict[str, Any], idp: StandinIdP, **changes: Any) -> Identity:
    options: dict[str, Any] = {"issuer": idp.issuer, "client_id": "inhouse", "nonce": NONCE}
    return verify_id_token(token, jwks=jwks, **{"at": AT, **options, **changes})


def _claims(idp: StandinIdP, **changes: Any) -> dict[str, Any]:
    claims = idp.claims(SUBJECT, nonce=NONCE, email="omar@acme.example")
    for name, value in changes.items():
        if value is DROP:
            del claims[name]
        else:
            claims[name] = value
    return claims


def _listener_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "inhouse-sign-in-listener"]


# -- the honest flow ----------------------------------------------------------------------------


def test_the_honest_sign_in_binds_the_key_to_the_person_the_idp_vouches_for(
    idp: StandinIdP,
) -> None:
    provider = discover(idp.issuer)
    said: list[str] = []
    pages: list[httpx.Response] = []
    token = sign_in(
        provider,
        "inhouse",
        NONCE,
        open_browser=lambda url: pages.append(browse(url)),
        say=said.append,
    )
    identity = _verify(token, fetch_jwks(provider), idp)
    assert identity == Identity(
        issuer=idp.issuer,
        subject=SUBJECT,
        email="omar@acme.example",
        email_verified=True,
        issued_at=NOW,
        key_thumbprint=jwk_thumbprint(idp.jwks()["keys"][0]),
    )
    # the address is said (a headless user opens it elsewhere), and it asks for what it must
    url = re.search(r"http://\S+", said[0])
    assert url is not None and url[0].startswith(provider.authorization_endpoint + "?")
    asked = {k: v[-1] for k, v in parse_qs(urlsplit(url[0]).query).items()}
    assert asked["nonce"] == NONCE and asked["code_challenge_method"] == "S256"
    assert asked["scope"] == "openid email profile" and asked["response_type"] == "code"
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", asked["redirect_uri"])
    # the browser is told it may close the tab; the listener is gone
    assert pages[0].status_code == 200 and "Signed in" in pages[0].text
    assert _listener_threads() == []
    assert ("POST", "/realms/acme/token") in idp.requests


def test_a_confidential_client_sends_its_secret_and_a_wrong_one_is_refused() -> None:
    with StandinIdP(client_secrets={"inhouse": "s3cret"}, clock=lambda: NOW) as idp:
        idp.login(SUBJECT)
        provider = discover(idp.issuer)
        token = sign_in(
            provider, "inhouse", NONCE, open_browser=browse, say=_quiet, client_secret="s3cret"
        )
        identity = _verify(token, fetch_jwks(provider), idp)
        assert (identity.subject, identity.email, identity.email_verified) == (SUBJECT, None, False)
        with pytest.raises(SignInError, match="refused the code: invalid_client"):
            sign_in(
                provider, "inhouse", NONCE, open_browser=browse, say=_quiet, client_secret="guess"
            )


def test_the_listener_answers_other_paths_with_404_and_keeps_waiting(idp: StandinIdP) -> None:
    pages: list[httpx.Response] = []

    def browser(url: str) -> None:
        pages.append(_get(_callback_of(url).replace("/callback", "/favicon.ico")))
        pages.append(browse(url))

    token = sign_in(discover(idp.issuer), "inhouse", NONCE, open_browser=browser, say=_quiet)
    assert _verify(token, idp.jwks(), idp).subject == SUBJECT
    assert [page.status_code for page in pages] == [404, 200]


def test_webbrowser_with_a_BROWSER_command_completes_a_sign_in(idp: StandinIdP) -> None:
    """What the CLI does (``webbrowser.open``), in a process of its own so ``webbrowser`` reads
    ``BROWSER`` afresh: the stand-in's ``browse`` command plays the browser."""
    script = textwrap.dedent(
        """
        import sys, webbrowser
        from inhouse.identity.signin import discover, sign_in
        provider = discover(sys.argv[1])
        token = sign_in(provider, "inhouse", sys.argv[2], open_browser=webbrowser.open,
                        say=lambda line: None, timeout=60)
        print(token)
        """
    )
    env = dict(os.environ)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        env.pop(name, None)  # no desktop browser ahead of BROWSER's
    env["BROWSER"] = f"{shlex.quote(sys.executable)} -m inhouse.testing.standin_idp browse %s"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", script, idp.issuer, NONCE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Signed in" in done.stdout  # the browse command's page, before the token
    token = done.stdout.strip().splitlines()[-1]
    assert _verify(token, idp.jwks(), idp).subject == SUBJECT


# -- the provider --------------------------------------------------------------------------------


def test_an_identity_provider_is_reached_over_https_or_on_this_machine(idp: StandinIdP) -> None:
    assert check_issuer_url("  https://login.acme.example/realms/acme ") == (
        "https://login.acme.example/realms/acme"
    )
    assert not is_local_issuer("https://login.acme.example")
    for local in ("http://127.0.0.1:8080", "http://[::1]:8080/realms/x", "http://localhost:9000"):
        assert check_issuer_url(local) == local and is_local_issuer(local)
    for remote in ("http://login.acme.example", "http://localhost.evil.example"):
        with pytest.raises(SignInError, match="plain http") as refused:
            check_issuer_url(remote)
        assert remote in str(refused.value) and "https" in str(refused.value)
        assert not is_local_issuer(remote)
    with pytest.raises(SignInError, match="not an absolute https URL"):
        check_issuer_url("ftp://login.acme.example")
    with pytest.raises(SignInError, match="query or fragment"):
        check_issuer_url("https://login.acme.example/?tenant=acme")
    # an endpoint of the discovery document is held to the same rule
    idp.configuration_overrides["token_endpoint"] = "http://login.acme.example/token"
    with pytest.raises(
        SignInError, match=re.escape("token_endpoint 'http://login.acme.example/token'")
    ):
        discover(idp.issuer)


def test_discovery_must_name_exactly_the_configured_issuer(idp: StandinIdP) -> None:
    with pytest.raises(SignInError, match="names the issuer") as refused:
        discover(idp.issuer + "/")
    assert "trailing slash" in str(refused.value)
    idp.configuration_overrides["issuer"] = "https://login.other.example/realms/acme"
    with pytest.raises(SignInError, match=re.escape("login.other.example")):
        discover(idp.issuer)


def test_discovery_names_the_address_it_could_not_read(idp: StandinIdP) -> None:
    with pytest.raises(SignInError, match="answered HTTP 404"):
        discover(idp.issuer.replace("/realms/acme", "/realms/nobody"))
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # nobody listens there once it is closed
    url = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    with pytest.raises(
        SignInError, match=re.escape(f"could not fetch the discovery document at {url}")
    ):
        discover(f"http://127.0.0.1:{port}")


def test_the_key_set_keeps_only_published_signing_keys(
    idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = discover(idp.issuer)
    good = idp.jwks()["keys"][0]
    others = [
        {**good, "use": "enc", "kid": "enc"},
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {key: value for key, value in good.items() if key != "kid"},
        {**good, "kid": "private", "d": "AQAB"},
        "not a key",
    ]
    monkeypatch.setattr(idp, "jwks", lambda: {"keys": [*others, good]})
    assert fetch_jwks(provider) == {"keys": [good]}
    monkeypatch.setattr(idp, "jwks", lambda: {"keys": others})
    with pytest.raises(SignInError, match="holds no signing key"):
        fetch_jwks(provider)


# -- the browser's answer -----------------------------------------------------------------------


def test_a_person_who_says_no_binds_nothing(idp: StandinIdP) -> None:
    idp.deny()
    pages: list[httpx.Response] = []
    with pytest.raises(SignInError, match=r"access_denied \(The user denied the sign-in\)"):
        sign_in(
            discover(idp.issuer),
            "inhouse",
            NONCE,
            open_browser=lambda url: pages.append(browse(url)),
            say=_quiet,
        )
    assert pages[0].status_code == 400 and "Sign-in failed" in pages[0].text
    assert ("POST", "/realms/acme/token") not in idp.requests


def test_a_redirect_with_another_state_is_refused_even_with_a_real_code(idp: StandinIdP) -> None:
    pages: list[httpx.Response] = []

    def forger(url: str) -> None:
        # the IdP's real code, delivered to the listener with a state of the forger's choosing
        issued = _get(url)
        code = parse_qs(urlsplit(issued.headers["location"]).query)["code"][0]
        pages.append(_get(_callback_of(url), code=code, state="forged"))

    with pytest.raises(SignInError, match="state that does not match"):
        sign_in(discover(idp.issuer), "inhouse", NONCE, open_browser=forger, say=_quiet)
    assert pages[0].status_code == 400
    assert ("POST", "/realms/acme/token") not in idp.requests


def test_no_answer_in_time_is_refused_and_leaves_no_listener_behind(idp: StandinIdP) -> None:
    provider = discover(idp.issuer)
    before = set(threading.enumerate())
    said: list[str] = []
    with pytest.raises(SignInError, match=r"no answer from the browser within 0\.3 s"):
        sign_in(provider, "inhouse", NONCE, say=said.append, timeout=0.3)
    assert [t for t in threading.enumerate() if t not in before] == []
    port = urlsplit(_callback_of(said[0].split()[-1])).port
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port or 0), timeout=2).close()


# -- the ID token ---------------------------------------------------------------------------------


def _unsigned(idp: StandinIdP) -> str:
    return f"{_segment({'alg': 'none', 'typ': 'JWT', 'kid': idp.kid})}.{_segment(_claims(idp))}."


def _hmac_with_the_public_key(idp: StandinIdP) -> str:
    """The classic key confusion: HS256 with the IdP's public key (which anyone has) as secret."""
    public = jwt.PyJWK(idp.jwks()["keys"][0]).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': idp.kid})}.{_segment(_claims(idp))}"
    return f"{signed}.{_b64url(hmac.new(public, signed.encode(), hashlib.sha256).digest())}"


def _altered(idp: StandinIdP) -> str:
    header, _, signature = idp.mint(_claims(idp)).split(".")
    return f"{header}.{_segment(_claims(idp, sub='lena'))}.{signature}"


def _at(moment: datetime) -> int:
    return int(moment.timestamp())


FORGERIES: list[tuple[str, Callable[[StandinIdP], str], str]] = [
    ("alg none", _unsigned, "header names alg 'none'"),
    ("HS256 keyed with the public key", _hmac_with_the_public_key, "header names alg 'HS256'"),
    ("a key the IdP never published", lambda idp: idp.foreign_token(_claims(idp)), "does not hold"),
    ("altered after signing", _altered, "signature does not verify"),
    (
        "an EC signature under the RSA key's kid",
        lambda idp: idp.mint(
            _claims(idp), kid=idp.kid, key=ec.generate_private_key(ec.SECP256R1()), alg="ES256"
        ),
        "names alg ES256, which the key",
    ),
    (
        "another issuer",
        lambda idp: idp.mint(_claims(idp, iss="https://login.other.example")),
        "iss is 'https://login.other.example'",
    ),
    ("another audience", lambda idp: idp.mint(_claims(idp, aud="wiki")), "aud is 'wiki'"),
    (
        "several audiences, no azp",
        lambda idp: idp.mint(_claims(idp, aud=["inhouse", "wiki"])),
        "several clients .* no azp",
    ),
    (
        "several audiences, azp another client",
        lambda idp: idp.mint(_claims(idp, aud=["inhouse", "wiki"], azp="wiki")),
        "azp is 'wiki'",
    ),
    (
        "made to bind another key",
        lambda idp: idp.mint(_claims(idp, nonce=nonce_for(PROGRAM, "ed25519:" + "b2" * 16))),
        "nonce does not match",
    ),
    (
        "made for the same key in another program",
        lambda idp: idp.mint(_claims(idp, nonce=nonce_for("prog-other", KEY))),
        "nonce does not match",
    ),
    ("bound to no key", lambda idp: idp.mint(_claims(idp, nonce=DROP)), "no nonce claim"),
    (
        "reused from a sign-in an hour before",
        lambda idp: idp.mint(_claims(idp, iat=_at(NOW - timedelta(hours=1)), exp=_at(NOW))),
        "iat is .* more than 10 min before it was presented",
    ),
    (
        "issued in the future",
        lambda idp: idp.mint(
            _claims(idp, iat=_at(NOW + timedelta(hours=1)), exp=_at(NOW + timedelta(hours=2)))
        ),
        "iat is .* after it was presented",
    ),
    ("no iat", lambda idp: idp.mint(_claims(idp, iat=DROP)), "no iat claim"),
    ("no exp", lambda idp: idp.mint(_claims(idp, exp=DROP)), "no exp claim"),
    ("exp before iat", lambda idp: idp.mint(_claims(idp, exp=_at(NOW) - 1)), "exp .* not after"),
    ("no sub", lambda idp: idp.mint(_claims(idp, sub=DROP)), "no sub claim"),
    ("an empty sub", lambda idp: idp.mint(_claims(idp, sub="")), "no sub claim"),
    ("not a JWT", lambda idp: "not-a-token", "not a signed JWT"),
]


def test_the_untouched_claims_verify(idp: StandinIdP) -> None:
    """The baseline each forgery below departs from by one thing."""
    assert _verify(idp.mint(_claims(idp)), idp.jwks(), idp).subject == SUBJECT


@pytest.mark.parametrize(
    ("forge", "names"), [case[1:] for case in FORGERIES], ids=[case[0] for case in FORGERIES]
)
def test_a_forged_or_misbound_token_is_refused_naming_the_part_at_fault(
    idp: StandinIdP, forge: Callable[[StandinIdP], str], names: str
) -> None:
    with pytest.raises(SignInError, match=names):
        _verify(forge(idp), idp.jwks(), idp)


def test_ec_pss_and_eddsa_signatures_from_published_keys_verify_too(idp: StandinIdP) -> None:
    """Providers sign with other asymmetric algorithms than RS256 (ES256 is common); each
    verifies with its own key from the set, and the identity names that key."""
    signers: dict[str, tuple[str, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey]] = {
        "ES256": ("ec", ec.generate_private_key(ec.SECP256R1())),
        "ES384": ("ec-384", ec.generate_private_key(ec.SECP384R1())),
        "EdDSA": ("ed", ed25519.Ed25519PrivateKey.generate()),
    }
    keys = [
        {**json.loads(jwt.get_algorithm_by_name(alg).to_jwk(key.public_key())), "kid": kid}
        for alg, (kid, key) in signers.items()
    ]
    jwks = {"keys": [*keys, *idp.jwks()["keys"]]}
    for (alg, (kid, key)), jwk in zip(signers.items(), keys, strict=True):
        token = idp.mint(_claims(idp), kid=kid, key=key, alg=alg)
        assert _verify(token, jwks, idp).key_thumbprint == jwk_thumbprint(jwk)
    # RSA-PSS with the provider's RSA key (published without an alg of its own)
    rsa_key = {k: v for k, v in idp.jwks()["keys"][0].items() if k != "alg"}
    pss = idp.mint(_claims(idp), alg="PS256")
    assert _verify(pss, {"keys": [rsa_key]}, idp).subject == SUBJECT
    # but a key published for RS256 is not taken for PS256
    with pytest.raises(SignInError, match="names alg PS256, which the key"):
        _verify(pss, idp.jwks(), idp)


def test_expiry_is_judged_when_the_binding_was_recorded_not_when_it_is_rechecked(
    idp: StandinIdP,
) -> None:
    long_ago = datetime(2020, 3, 1, 12, 0, tzinfo=UTC)
    token = idp.mint(_claims(idp, iat=_at(long_ago), exp=_at(long_ago + timedelta(hours=1))))
    # folded years later, against the moment it was recorded: still the same answer
    later = _verify(token, idp.jwks(), idp, at=long_ago + timedelta(minutes=2))
    assert later.issued_at == long_ago
    # a token already expired when it was presented is refused
    short = idp.mint(_claims(idp, iat=_at(NOW), exp=_at(NOW + timedelta(minutes=1))))
    with pytest.raises(SignInError, match="had expired"):
        _verify(short, idp.jwks(), idp, at=NOW + timedelta(minutes=5), skew=timedelta(0))


def test_after_rotation_the_new_key_signs_and_a_dropped_key_no_longer_verifies(
    idp: StandinIdP,
) -> None:
    provider = discover(idp.issuer)
    old_jwks = fetch_jwks(provider)
    old_token = idp.mint(_claims(idp))
    new_kid = idp.rotate()
    token = sign_in(provider, "inhouse", NONCE, open_browser=browse, say=_quiet)
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    with pytest.raises(SignInError, match=re.escape(f"does not hold (kid {new_kid!r})")):
        _verify(token, old_jwks, idp)
    new_jwks = fetch_jwks(provider)
    new_key = next(key for key in new_jwks["keys"] if key["kid"] == new_kid)
    identity = _verify(token, new_jwks, idp)
    assert identity.key_thumbprint == jwk_thumbprint(new_key)
    assert identity.key_thumbprint != jwk_thumbprint(old_jwks["keys"][0])
    # the old key stays published until dropped
    assert _verify(old_token, new_jwks, idp).subject == SUBJECT
    idp.rotate(drop_old=True)
    with pytest.raises(SignInError, match="does not hold"):
        _verify(old_token, fetch_jwks(provider), idp)


# -- the pieces -------------------------------------------------------------------------------


def test_jwk_thumbprints_match_the_rfc_examples() -> None:
    assert jwk_thumbprint(RFC7638_KEY) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    # RFC 8037 Appendix A.3: an Ed25519 public key
    ed25519 = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jwk_thumbprint(ed25519) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    with pytest.raises(SignInError, match="lacks e"):
        jwk_thumbprint({key: v for key, v in RFC7638_KEY.items() if key != "e"})


def test_the_nonce_is_the_same_for_one_key_in_one_program_and_differs_otherwise() -> None:
    assert nonce_for(PROGRAM, KEY) == NONCE
    digest = hashlib.sha256(f"inhouse-sign-in:{PROGRAM}:{KEY}".encode()).digest()
    assert _b64url(digest) == NONCE and re.fullmatch(r"[A-Za-z0-9_-]{43}", NONCE)
    other_key = nonce_for(PROGRAM, "ed25519:" + "b2" * 16)
    other_program = nonce_for("prog-other", KEY)
    assert len({NONCE, other_key, other_program}) == 3


def test_a_sign_in_error_is_an_identity_error() -> None:
    assert issubclass(SignInError, IdentityError) and SignInError.exit_code == 3


def test_the_standin_holds_to_the_protocol(idp: StandinIdP) -> None:
    """The stand-in refuses what a real provider refuses, so a client that skips a step fails
    against it."""
    provider = discover(idp.issuer)
    verifier = "v" * 43
    challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
    redirect = "http://127.0.0.1:9/callback"

    def authorize(**changes: str) -> httpx.Response:
        params = {
            "client_id": "inhouse",
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirect,
            "state": "s",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return _get(provider.authorization_endpoint, **{**params, **changes})

    def redirected(answer: httpx.Response) -> dict[str, str]:
        assert answer.status_code == 302
        return {k: v[-1] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}

    def token(code: str, code_verifier: str = verifier) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "client_id": "inhouse",
            "code": code,
            "redirect_uri": redirect,
            "code_verifier": code_verifier,
        }
        with httpx.Client(trust_env=False) as http:
            return http.post(provider.token_endpoint, data=form)

    # an unknown client or a redirect off loopback is told on the page, never redirected
    assert authorize(client_id="stranger").status_code == 400
    assert authorize(redirect_uri="https://evil.example/callback").status_code == 400
    assert redirected(authorize(code_challenge_method="plain"))["error"] == "invalid_request"
    assert redirected(authorize(scope="email"))["error"] == "invalid_scope"
    # a wrong verifier spends the code; a right one gets a token, once
    spent = redirected(authorize())
    assert spent["state"] == "s"
    assert token(spent["code"], "w" * 43).json()["error"] == "invalid_grant"
    assert token(spent["code"]).json()["error"] == "invalid_grant"
    code = redirected(authorize())["code"]
    answer = token(code)
    assert answer.status_code == 200 and answer.json()["token_type"] == "Bearer"
    assert jwt.decode(answer.json()["id_token"], options={"verify_signature": False})["sub"] == (
        SUBJECT
    )
    reused = token(code)
    assert reused.status_code == 400 and "already used" in reused.json()["error_description"]
