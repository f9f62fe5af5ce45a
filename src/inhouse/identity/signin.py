"""Organisation sign-in: bind a person's inhouse key to an identity the organisation's identity
provider (IdP) vouches for, with OpenID Connect.

This module owns the client side of that binding: discovery of the provider
(:func:`discover`), its published signing keys (:func:`fetch_jwks`), the browser sign-in
(:func:`sign_in`: the authorization-code flow with PKCE and a loopback redirect, RFC 8252, as
``gcloud auth login`` and ``az login`` do it) and the check of the ID token it yields
(:func:`verify_id_token`). The engine records the token and re-runs the check when it folds the
event; nothing here knows about programs beyond the two ids that make the nonce.

Why it is built this way:

* **The nonce binds the token to one key in one program.** :func:`nonce_for` derives it from
  the program id and the key id, and the IdP signs it into the ID token. A token copied out of
  the program's log therefore cannot bind another key, nor the same key in another program:
  its nonce would not match.
* **A short ``iat`` window.** The token must have been issued shortly before the binding was
  recorded (``max_age``), so an old token from an earlier sign-in cannot be replayed for a new
  one. Expiry is judged at the moment of binding, not at the moment of checking: the check is
  re-run when old events are folded, long after the token expired.
* **Asymmetric algorithms only, from keys the IdP publishes.** ``none`` and the HMAC family
  are refused whatever the key set holds (an HMAC "key" would be a public value anyone can
  sign with), and the key is chosen by the token's ``kid`` among the keys fetched from the
  IdP, so a token signed by anyone else names a key the program does not hold.
* **https to the IdP**, except on this machine (a local or test IdP on loopback), since the
  discovery document and the key set decide whose tokens are believed.
* **PKCE S256 and a random ``state``** keep a code intercepted on the loopback redirect, or a
  redirect forged by a local web page, from completing someone else's sign-in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import ipaddress
import json
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from inhouse.errors import SignInError

__all__ = [
    "KEY_NOT_HELD",
    "Identity",
    "Provider",
    "SignInError",
    "check_issuer_url",
    "discover",
    "fetch_jwks",
    "is_local_issuer",
    "jwk_thumbprint",
    "nonce_for",
    "provider_here",
    "sign_in",
    "verify_id_token",
]

#: what the ID token may be signed with: asymmetric signatures only (never ``none`` or HS*)
_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_KEY_TYPE = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}  # by the alg's first letters
#: RFC 7638 §3.2: the members of each key type that make its thumbprint
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_SCOPE = "openid email profile"
_CALLBACK = "/callback"
#: how long the loopback listener waits for a connected browser to send its request, so an idle
#: connection (a browser's speculative preconnect) cannot hold the listener open when it closes
_LISTENER_READ_TIMEOUT = 5.0
_EXCHANGE_TIMEOUT = 30.0


def _is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine by itself, whatever the resolver says: ``localhost``
    and every name under ``.localhost`` (RFC 6761 keeps them on loopback), with or without the
    root's trailing dot, and an address on loopback or unspecified (connecting to ``0.0.0.0``
    or ``::`` reaches this machine) in any spelling the system's resolver takes for one
    (``127.1``, ``0x7f.0.0.1``, ``2130706433``, ``::ffff:127.0.0.1``)."""
    if not host:
        return False
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        try:  # the shorthand spellings inet_aton (and so the resolver) takes for IPv4
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except (OSError, ValueError):
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified


#: an address no machine here has (TEST-NET-2): if it can be bound, the system binds addresses
#: it does not have (``ip_nonlocal_bind``), and binding tells nothing
_NOT_OURS = "198.51.100.254"


def provider_here(issuer: str) -> str | None:
    """The address of this machine that ``issuer``'s host resolves to, or None: a loopback one,
    or one of this machine's own (what a socket can be bound to). A name a lead put in her hosts
    file, or her laptop's own name or address, is this machine as much as ``127.0.0.1`` is. None
    too where the name does not resolve: reading the provider, next, says why."""
    try:
        host = urlsplit(issuer.strip()).hostname
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM) if host else []
    except (OSError, UnicodeError, ValueError):
        return None
    for family, _, _, _, where in found:
        address = str(where[0])
        if _is_loopback(address.split("%", 1)[0]):
            return address
        if _bindable(family, (address, 0, *where[2:])) and not _bindable(
            socket.AF_INET, (_NOT_OURS, 0)
        ):
            return address
    return None


def _bindable(family: int, where: tuple[Any, ...]) -> bool:
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind(where)
    except OSError:
        return False
    return True


def _check_url(url: str, what: str) -> str:
    """``url`` stripped, if it is absolute https, or http on a loopback host."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        scheme, host = parts.scheme, parts.hostname
    except ValueError:  # a malformed host or port
        scheme, host = "", None
    if not host or scheme not in ("https", "http"):
        raise SignInError(f"{what} {url!r} is not an absolute https URL")
    if scheme == "http" and not _is_loopback(host):
        raise SignInError(
            f"{what} {url!r} uses plain http: an identity provider must be reached over https "
            "(http only on this machine: 127.0.0.1, ::1 or localhost)"
        )
    return url


def check_issuer_url(issuer: str) -> str:
    """``issuer`` with surrounding whitespace removed, if it may name an identity provider:
    https, or http on a loopback host (a local or test IdP); no query or fragment (OpenID
    Connect Discovery §2). Anything else is a :class:`SignInError` naming the URL and the rule."""
    issuer = _check_url(issuer, "the issuer")
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise SignInError(f"the issuer {issuer!r} has a query or fragment; an issuer has neither")
    return issuer


def is_local_issuer(issuer: str) -> bool:
    """Whether ``issuer`` is on a loopback host, over http or https: an IdP on this machine
    (a certificate made for localhost changes nothing about whose machine it is)."""
    try:
        parts = urlsplit(issuer.strip())
        return parts.scheme in ("http", "https") and _is_loopback(parts.hostname)
    except ValueError:
        return False


@dataclass(frozen=True)
class Provider:
    """Where an identity provider signs people in, takes codes and publishes its keys, as its
    discovery document says (every URL held to the https rule of :func:`check_issuer_url`)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str

    def __post_init__(self) -> None:
        check_issuer_url(self.issuer)
        _check_url(self.authorization_endpoint, "the authorization_endpoint")
        _check_url(self.token_endpoint, "the token_endpoint")
        _check_url(self.jwks_uri, "the jwks_uri")


def _get_json(url: str, what: str, timeout: float) -> dict[str, Any]:
    import httpx  # here, as the other clients below: reading an issuer needs none of them

    from inhouse.tls import client_context, untrusted_hint

    try:
        answer = httpx.get(
            url, timeout=timeout, headers={"Accept": "application/json"}, verify=client_context()
        )
    except httpx.HTTPError as err:
        raise SignInError(
            f"could not fetch the {what} at {url}: {type(err).__name__}: {err}"
            + untrusted_hint(err, "the organisation's provider")
        ) from None
    if answer.status_code != 200:
        raise SignInError(f"the {what} at {url} answered HTTP {answer.status_code}, not 200")
    try:
        document = answer.json()
    except ValueError:
        raise SignInError(f"the {what} at {url} is not JSON") from None
    if not isinstance(document, dict):
        raise SignInError(f"the {what} at {url} is not a JSON object")
    return document


def discover(issuer: str, *, timeout: float = 10.0) -> Provider:
    """The identity provider at ``issuer``, from its discovery document (OpenID Connect
    Discovery 1.0), which must name exactly this issuer (§4.3)."""
    issuer = check_issuer_url(issuer)
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    document = _get_json(url, "discovery document", timeout)
    if document.get("issuer") != issuer:
        raise SignInError(
            f"the discovery document at {url} names the issuer {document.get('issuer')!r}, "
            f"not {issuer!r}; they must be identical (check for a trailing slash or another "
            "host name in the configured issuer)"
        )
    endpoints: dict[str, str] = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        value = document.get(name)
        if not isinstance(value, str) or not value.strip():
            raise SignInError(f"the discovery document at {url} has no {name}")
        endpoints[name] = _check_url(value, f"the {name}")
    return Provider(issuer=issuer, **endpoints)


def fetch_jwks(provider: Provider, *, timeout: float = 10.0) -> dict[str, Any]:
    """The provider's published signing keys, ``{"keys": [...]}``: only keys for signatures
    (``use`` "sig" or none) of type RSA, EC or OKP that carry a ``kid``, and none that carries
    private material."""
    document = _get_json(provider.jwks_uri, "key set (jwks_uri)", timeout)
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise SignInError(f"the key set at {provider.jwks_uri} has no list of keys")
    kept = [
        key
        for key in keys
        if isinstance(key, dict)
        and key.get("kty") in ("RSA", "EC", "OKP")
        and isinstance(key.get("kid"), str)
        and key["kid"]
        and key.get("use", "sig") == "sig"
        and "d" not in key
        and _whole(key)
    ]
    if not kept:
        raise SignInError(
            f"the key set at {provider.jwks_uri} holds no signing key (RSA, EC or OKP, with a kid)"
        )
    return {"keys": kept}


def _whole(key: Mapping[str, Any]) -> bool:
    """Whether ``key`` has the members its thumbprint needs (a key without them could not be
    told from another, nor pinned)."""
    try:
        jwk_thumbprint(key)
    except SignInError:
        return False
    return True


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def nonce_for(program_id: str, key_id: str) -> str:
    """The nonce that binds an ID token to one key in one program."""
    return _b64url(hashlib.sha256(f"inhouse-sign-in:{program_id}:{key_id}".encode()).digest())


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a JWK, base64url without padding."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise SignInError(f"a JWK of type {jwk.get('kty')!r} has no RFC 7638 thumbprint")
    missing = [m for m in members if not isinstance(jwk.get(m), str)]
    if missing:
        raise SignInError(f"the JWK {jwk.get('kid')!r} lacks {', '.join(missing)}")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


# -- the browser sign-in ---------------------------------------------------------------------


class _Listener:
    """The one-shot loopback listener the browser is redirected to: it serves on its own
    threads while the caller waits, keeps the first answer on ``/callback``, and is closed,
    with every thread it started, by :meth:`close`."""

    def __init__(self, state: str) -> None:
        self._state = state
        self._lock = threading.Lock()
        self.done = threading.Event()
        self.code: str | None = None
        self.error: SignInError | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = False  # joined by server_close: none is left behind
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_address[1]}{_CALLBACK}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="inhouse-sign-in-listener",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def answer(self, query: dict[str, list[str]]) -> tuple[int, str]:
        """Keep what the browser brought back (the first time) and say it to the browser."""
        with self._lock:
            if self.done.is_set():
                return 409, "This sign-in has already finished. Go back to the terminal."
            self.code, self.error = self._outcome({k: v[-1] for k, v in query.items()})
            self.done.set()
        if self.error is not None:
            return 400, f"Sign-in failed: {self.error}. You can close this tab."
        return 200, "Signed in. You can close this tab and go back to the terminal."

    def _outcome(self, query: dict[str, str]) -> tuple[str | None, SignInError | None]:
        if not hmac.compare_digest(query.get("state", "").encode(), self._state.encode()):
            return None, SignInError(
                "the browser came back with a state that does not match this sign-in (a stale "
                "or forged redirect); nothing was bound, sign in again"
            )
        if "error" in query:
            described = query.get("error_description")
            return None, SignInError(
                f"the identity provider refused the sign-in: {query['error']}"
                + (f" ({described})" if described else "")
            )
        if not query.get("code"):
            return None, SignInError("the identity provider's redirect carried no code")
        return query["code"], None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        listener = self

        class Handler(BaseHTTPRequestHandler):
            timeout = _LISTENER_READ_TIMEOUT

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != _CALLBACK:  # the browser's favicon, and anything else
                    self._page(404, "Not found.")
                    return
                self._page(*listener.answer(parse_qs(parts.query, keep_blank_values=True)))

            def _page(self, status: int, text: str) -> None:
                body = (
                    "<!doctype html><meta charset=utf-8><title>inhouse sign-in</title>"
                    f"<p>{html.escape(text)}</p>\n"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the terminal shows the outcome, not the listener's access log

        return Handler


def _http_failure(err: BaseException) -> bool:
    """Whether ``err`` is a transport or status error of authlib's HTTP client (httpx2, or
    httpx where httpx2 is not installed)."""
    return type(err).__module__.split(".")[0] in {"httpx", "httpx2"}


def sign_in(
    provider: Provider,
    client_id: str,
    nonce: str,
    *,
    open_browser: Callable[[str], object] | None = None,
    say: Callable[[str], None] = print,
    timeout: float = 300.0,
    client_secret: str | None = None,
) -> str:
    """Sign in at ``provider`` in a browser and return the ID token it issues, bound to
    ``nonce``.

    The authorization address is always ``say``-d (a headless user opens it elsewhere), then
    handed to ``open_browser`` if given (the CLI passes :func:`webbrowser.open`); the browser
    comes back to a one-shot listener on ``http://127.0.0.1:PORT/callback``, which is closed
    before this returns, whatever happens."""
    from authlib.integrations.httpx_client import OAuth2Client  # type: ignore[import-untyped]

    from inhouse.tls import client_context

    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 asks for 43 to 128
    state = secrets.token_urlsafe(32)
    deadline = time.monotonic() + timeout
    listener = _Listener(state)
    try:
        with OAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method="client_secret_post" if client_secret else "none",
            scope=_SCOPE,
            redirect_uri=listener.redirect_uri,
            code_challenge_method="S256",
            timeout=_EXCHANGE_TIMEOUT,
            # the authorities discovery and the keys were read with (httpx2's own default
            # differs: no certifi, so nothing at all in a container with no store)
            verify=client_context(),
        ) as client:
            url, _ = client.create_authorization_url(
                provider.authorization_endpoint,
                state=state,
                code_verifier=verifier,
                nonce=nonce,
            )
            say(f"To sign in, open this address in a browser:\n{url}")
            if open_browser is not None:
                open_browser(url)
            if not listener.done.wait(max(0.0, deadline - time.monotonic())):
                raise SignInError(f"no answer from the browser within {timeout:g} s")
            if listener.error is not None:
                raise listener.error
            token = _exchange(client, provider, listener.code, verifier, listener.redirect_uri)
    finally:
        listener.close()
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise SignInError(
            f"the token endpoint {provider.token_endpoint} answered without an id_token "
            "(is the openid scope allowed for this client?)"
        )
    return id_token


def _exchange(
    client: Any, provider: Provider, code: str | None, verifier: str, redirect_uri: str
) -> dict[str, Any]:
    """The token endpoint's answer for ``code``, or a :class:`SignInError` saying why not."""
    from authlib.integrations.base_client import OAuthError  # type: ignore[import-untyped]

    where = f"the token endpoint {provider.token_endpoint}"
    try:
        token = client.fetch_token(
            provider.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
            redirect_uri=redirect_uri,
        )
    except OAuthError as err:
        described = f" ({err.description})" if err.description else ""
        raise SignInError(f"{where} refused the code: {err.error}{described}") from None
    except ValueError as err:  # authlib: the answer is not a JSON object
        raise SignInError(f"{where} answered something other than a token: {err}") from None
    except Exception as err:
        if not _http_failure(err):
            raise
        from inhouse.tls import untrusted_hint

        raise SignInError(
            f"{where} could not be reached: {type(err).__name__}: {err}"
            + untrusted_hint(err, "the organisation's provider")
        ) from None
    return dict(token)


# -- the ID token ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the identity provider says signed in, from a verified ID token."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    #: when the IdP issued the token (aware, UTC)
    issued_at: datetime
    #: :func:`jwk_thumbprint` of the IdP key that verified the token
    key_thumbprint: str
    #: the organisation the provider says the account belongs to (Google's ``hd``: a Workspace
    #: domain; absent for a consumer account, even one made with a company address)
    hosted_domain: str | None = None
    #: who authenticated the account where it is not the issuer itself (Entra's ``idp``: a
    #: guest invited from another tenant or a personal Microsoft account)
    home_issuer: str | None = None
    #: whether the issuer says the account is a guest in it (Entra's ``acct``: 1 a guest, 0 a
    #: member; None: not said)
    guest: bool | None = None
    #: the account's user name where the issuer says it (Entra's ``upn``, or its v2
    #: ``preferred_username``): at Entra, its domain is one the tenant verified it holds (by DNS),
    #: or the tenant's free initial ``*.onmicrosoft.com`` domain. Microsoft documents
    #: ``preferred_username`` as mutable and not for authorisation: the address below is read
    #: before it wherever the token carries one
    username: str | None = None
    #: Entra's optional claim ``verified_primary_email`` (the user's PrimaryAuthoritativeEmail,
    #: set by the directory, not by the user): an address the tenant vouches for
    verified_primary_email: str | None = None
    #: Entra's optional claim ``xms_edov``: whether the domain of ``email`` is one the account's
    #: tenant verified it owns (None: not said)
    email_domain_verified: bool | None = None


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _time_claim(claims: Mapping[str, Any], name: str) -> datetime:
    value = claims.get(name)
    if value is None:
        raise SignInError(f"the ID token has no {name} claim")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SignInError(f"the ID token's {name} claim is not a time (seconds since 1970)")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignInError(f"the ID token's {name} claim is not a time it could be") from None


#: what a token signed with a key the program has not pinned is said to be signed with (the
#: sign-in adds the advice for a provider that rotated its keys when a problem names it)
KEY_NOT_HELD = "a key the program does not hold"


def _key_for(jwks: Mapping[str, Any], kid: object, alg: str) -> Mapping[str, Any]:
    """The key in ``jwks`` the token's header names, fit for its algorithm."""
    named = [
        key
        for key in jwks.get("keys", [])
        if isinstance(key, Mapping) and isinstance(kid, str) and key.get("kid") == kid
    ]
    if not named:
        raise SignInError(
            f"the ID token is signed with {KEY_NOT_HELD} (kid {kid!r}): not "
            "one the identity provider publishes, or published after the key set was fetched"
        )
    kty = _KEY_TYPE[alg[:2]]
    fit = [key for key in named if key.get("kty") == kty and key.get("alg", alg) == alg]
    if not fit:
        raise SignInError(
            f"the ID token's header names alg {alg}, which the key {kid!r} "
            f"({named[0].get('kty')}, alg {named[0].get('alg')}) is not for"
        )
    return fit[0]


def verify_id_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    issuer: str,
    client_id: str,
    nonce: str,
    at: datetime,
    max_age: timedelta = timedelta(minutes=10),
    skew: timedelta = timedelta(minutes=10),
) -> Identity:
    """The identity in ``token`` if it is an ID token from ``issuer`` for ``client_id``, bound to
    ``nonce``, signed by a key in ``jwks`` and issued within ``max_age`` before ``at`` (the
    moment the binding was recorded; ``skew`` allows for clocks that differ). Expiry is judged
    at ``at`` too, so the check gives the same answer when it is re-run years later. Every
    refusal is a :class:`SignInError` naming the claim or part at fault."""
    import jwt  # here: the fold imports this module for every binding, status for none

    if at.tzinfo is None:
        raise ValueError("verify_id_token needs an aware `at`")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as err:
        raise SignInError(f"the ID token is not a signed JWT: {err}") from None
    alg = header.get("alg")
    if alg not in _ALGORITHMS:
        raise SignInError(
            f"the ID token's header names alg {alg!r}; only the identity provider's asymmetric "
            f"signatures are accepted ({', '.join(sorted(_ALGORITHMS))})"
        )
    kid = header.get("kid")
    jwk = _key_for(jwks, kid, alg)
    try:
        key = jwt.PyJWK(dict(jwk), algorithm=alg)
    except jwt.PyJWTError as err:
        raise SignInError(f"the key {kid!r} in the key set is unusable: {err}") from None
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            options={
                "verify_signature": True,
                "enforce_minimum_key_length": True,
                # each claim is checked below, against `at` rather than the clock
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "verify_iss": False,
                "verify_sub": False,
                "verify_jti": False,
            },
        )
    except jwt.InvalidSignatureError:
        raise SignInError(
            f"the ID token's signature does not verify with key {kid!r} ({alg}): the token was "
            "altered after the identity provider signed it"
        ) from None
    except jwt.InvalidKeyError as err:
        raise SignInError(f"the key {kid!r} is not fit to verify with: {err}") from None
    except jwt.PyJWTError as err:
        raise SignInError(f"the ID token is malformed: {err}") from None
    _check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce)
    issued_at = _check_times(claims, at=at, max_age=max_age, skew=skew)
    email = claims.get("email")
    return Identity(
        issuer=issuer,
        subject=claims["sub"],
        email=email if isinstance(email, str) else None,
        # some IdPs send the boolean as a string
        email_verified=claims.get("email_verified") in (True, "true"),
        issued_at=issued_at,
        key_thumbprint=jwk_thumbprint(jwk),
        hosted_domain=claims["hd"] if isinstance(claims.get("hd"), str) else None,
        home_issuer=claims["idp"] if isinstance(claims.get("idp"), str) else None,
        guest=_guest_claim(claims.get("acct")),
        username=_username(claims),
        verified_primary_email=_first_address(claims.get("verified_primary_email")),
        email_domain_verified=_flag(claims.get("xms_edov")),
    )


def _first_address(value: Any) -> str | None:
    """An address claim that Entra sends as a string or as a list of them: the first one."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _flag(value: Any) -> bool | None:
    """A boolean claim, which some providers send as a string: True, False, or None (unsaid)."""
    if value is True or value in ("true", "True", "1", 1):
        return True
    if value is False or value in ("false", "False", "0", 0):
        return False
    return None


def _username(claims: Mapping[str, Any]) -> str | None:
    """The account's user name: Entra's ``upn`` (v1 tokens), else ``preferred_username``."""
    for name in ("upn", "preferred_username"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _guest_claim(acct: Any) -> bool | None:
    """Entra's ``acct`` optional claim: 1 a guest in the tenant, 0 a member; else unsaid."""
    if isinstance(acct, bool) or not isinstance(acct, (int, str)):
        return None
    return {"1": True, "0": False}.get(str(acct))


def _check_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str, nonce: str) -> None:
    if claims.get("iss") != issuer:
        raise SignInError(
            f"the ID token's iss is {claims.get('iss')!r}, not the program's identity provider "
            f"{issuer!r}"
        )
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or client_id not in audiences:
        raise SignInError(f"the ID token's aud is {aud!r}: it was not issued to {client_id!r}")
    azp = claims.get("azp")
    if len(audiences) > 1 and azp is None:
        raise SignInError(
            f"the ID token's aud lists several clients ({', '.join(map(str, audiences))}) and "
            f"it has no azp naming {client_id!r} as the one it was issued to"
        )
    if azp is not None and azp != client_id:
        raise SignInError(f"the ID token's azp is {azp!r}: it was issued to another client")
    if "nonce" not in claims:
        raise SignInError("the ID token has no nonce claim: it is not bound to any key")
    if not isinstance(claims["nonce"], str) or not hmac.compare_digest(
        claims["nonce"].encode(), nonce.encode()
    ):
        raise SignInError(
            "the ID token's nonce does not match this key in this program: the token was made "
            "to bind another key (or for another program)"
        )
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise SignInError("the ID token has no sub claim (the person's id at the provider)")


def _check_times(
    claims: Mapping[str, Any], *, at: datetime, max_age: timedelta, skew: timedelta
) -> datetime:
    iat = _time_claim(claims, "iat")
    if iat < at - max_age:
        raise SignInError(
            f"the ID token's iat is {_when(iat)}, more than {_span(max_age)} before it was "
            f"presented ({_when(at)}): a token binds only in the sign-in it was made for; "
            "sign in again"
        )
    if iat > at + skew:
        raise SignInError(
            f"the ID token's iat is {_when(iat)}, after it was presented ({_when(at)}): check "
            "this machine's clock"
        )
    exp = _time_claim(claims, "exp")
    if exp <= iat:
        raise SignInError(f"the ID token's exp ({_when(exp)}) is not after its iat")
    if at > exp + skew:
        raise SignInError(
            f"the ID token had expired (exp {_when(exp)}) when it was presented ({_when(at)})"
        )
    if "nbf" in claims and _time_claim(claims, "nbf") > at + skew:
        raise SignInError(f"the ID token's nbf is after it was presented ({_when(at)})")
    return iat
