"""A stand-in OpenID Connect identity provider on loopback, for tests of organisation sign-in.

It is a stand-in, not an identity provider: no real one can run here (no internet, no
Keycloak), so this one serves just what :mod:`inhouse.identity.signin` uses, over real HTTP on
``127.0.0.1``, in the shapes the specifications give: the discovery document (OpenID Connect
Discovery 1.0), the key set (RFC 7517), the authorization endpoint (RFC 6749 §4.1 with PKCE,
RFC 7636) and the token endpoint, which answers an RS256 ID token (OpenID Connect Core §2).
There are no accounts and no login page: the test says who is signed in (:meth:`login`) or that
the person says no (:meth:`deny`), and the next authorizations answer accordingly at once.

What it holds to, as a real provider does: the client must be registered (``client_ids``; with
a secret if ``client_secrets`` names one), the redirect must go back to http on loopback
(RFC 8252 §7.3), only ``response_type=code`` with PKCE S256 is served, a code is used once, by
the client and redirect it was issued for, with the verifier that matches its challenge. Errors
come in OAuth's shapes: a redirect with ``error`` where the redirect is trusted, a plain 400
page where it is not, JSON ``{"error", "error_description"}`` from the token endpoint.

For forgery tests it signs whatever it is given (:meth:`StandinIdP.mint`), or signs with a key
it never published (:meth:`StandinIdP.foreign_token`). Its clock can be the test's own.

A test's "browser" is :func:`browse`: a GET that follows redirects, from ``/authorize`` to the
client's loopback callback. Pass it as ``sign_in(..., open_browser=browse)``, or, for the CLI
(which opens :func:`webbrowser.open`), set ``BROWSER`` to run this module::

    BROWSER="python -m inhouse.testing.standin_idp browse %s"
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import sys
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from inhouse.tls import client_context

__all__ = ["StandinIdP", "browse", "main"]

_LOOPBACK = ("127.0.0.1", "::1", "localhost")
_TOKEN_LIFETIME = 3600


def _new_key() -> tuple[str, rsa.RSAPrivateKey]:
    return secrets.token_urlsafe(8), rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class _User:
    subject: str
    email: str | None
    email_verified: bool
    hosted_domain: str | None = None


@dataclass(frozen=True)
class _Grant:
    """What a code was issued for."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    user: _User


def _oauth_error(error: str, description: str, status: int = 400) -> tuple[int, dict[str, Any]]:
    """A token endpoint error in OAuth's JSON shape (RFC 6749 §5.2)."""
    return status, {"error": error, "error_description": description}


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class StandinIdP:
    """The stand-in provider, running while in its ``with`` block.

    ``path`` puts the issuer below the root (``/realms/acme``, as Keycloak does);
    ``client_ids`` are the registered clients; ``client_secrets`` the secrets of those that must
    authenticate (by ``client_secret_post`` or ``client_secret_basic``); ``clock`` gives the
    time tokens are issued at (default: now); ``tls``, a server context holding a certificate
    for ``127.0.0.1``, serves it over HTTPS (an issuer ``https://127.0.0.1:PORT``), for tests of
    which certificate authorities sign-in trusts."""

    def __init__(
        self,
        *,
        path: str = "",
        client_ids: Collection[str] = frozenset({"inhouse"}),
        client_secrets: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.path = "/" + path.strip("/") if path.strip("/") else ""
        self.client_ids = frozenset(client_ids)
        self.client_secrets = dict(client_secrets or {})
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tls = tls
        #: merged into the discovery document: a test breaks it on purpose
        self.configuration_overrides: dict[str, Any] = {}
        #: every request, as (method, path without query)
        self.requests: list[tuple[str, str]] = []
        self._keys: list[tuple[str, rsa.RSAPrivateKey]] = [_new_key()]
        self._user: _User | None = None
        self._denied = False
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- running ---------------------------------------------------------------------------

    def __enter__(self) -> StandinIdP:
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        if self.tls is not None:
            # the handshake on accept: a client that refuses the certificate is dropped there
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )  # a short poll: it stops at once when the test's `with` ends
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
        self._server = None
        self._thread = None

    @property
    def issuer(self) -> str:
        """``http://127.0.0.1:PORT`` (``https`` with ``tls``) and the path: what its tokens and
        discovery name."""
        if self._server is None:
            raise RuntimeError("the stand-in IdP is not running: use it in a `with` block")
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}{self.path}"

    # -- what the test controls --------------------------------------------------------------

    def login(
        self,
        subject: str,
        email: str | None = None,
        email_verified: bool = True,
        *,
        hosted_domain: str | None = None,
    ) -> None:
        """From now on, authorizations answer as this person (``hosted_domain``: the ``hd``
        claim Google gives a Workspace account)."""
        with self._lock:
            self._user = _User(subject, email, email_verified, hosted_domain)
            self._denied = False

    def deny(self) -> None:
        """From now on, the person refuses: authorizations answer ``error=access_denied``."""
        with self._lock:
            self._denied = True

    def rotate(self, *, drop_old: bool = False) -> str:
        """Sign with a new key from now on; the old ones stay published unless ``drop_old``.
        Returns the new key's kid."""
        with self._lock:
            key = _new_key()
            self._keys = [key] if drop_old else [*self._keys, key]
        return key[0]

    @property
    def kid(self) -> str:
        """The kid of the key it signs with now."""
        return self._keys[-1][0]

    def jwks(self) -> dict[str, Any]:
        """The published key set: the public halves of its keys."""
        keys = []
        for kid, private in self._keys:
            jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
            keys.append({**jwk, "kid": kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}

    def claims(
        self,
        subject: str,
        *,
        client_id: str = "inhouse",
        nonce: str | None = None,
        email: str | None = None,
        email_verified: bool = True,
    ) -> dict[str, Any]:
        """The claims of an ID token it would issue now (a forgery test edits them)."""
        iat = int(self.clock().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": client_id,
            "iat": iat,
            "exp": iat + _TOKEN_LIFETIME,
        }
        if nonce is not None:
            claims["nonce"] = nonce
        if email is not None:
            claims |= {"email": email, "email_verified": email_verified}
        return claims

    def mint(
        self,
        claims: Mapping[str, Any],
        *,
        kid: str | None = None,
        key: Any = None,
        alg: str = "RS256",
    ) -> str:
        """``claims`` signed: by its current key (and its kid) unless ``key`` is given, with
        ``kid`` in the header if given."""
        if key is None:
            current_kid, key = self._keys[-1]
            kid = kid or current_kid
        headers = {"kid": kid} if kid else None
        return jwt.encode(dict(claims), key, algorithm=alg, headers=headers)

    def foreign_token(self, claims: Mapping[str, Any]) -> str:
        """``claims`` signed with a key this provider never published (its own kid)."""
        kid, key = _new_key()
        return self.mint(claims, kid=kid, key=key)

    # -- the endpoints -----------------------------------------------------------------------

    def configuration(self) -> dict[str, Any]:
        issuer = self.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": [
                "none",
                "client_secret_post",
                "client_secret_basic",
            ],
            **self.configuration_overrides,
        }

    def authorize(self, query: Mapping[str, str]) -> tuple[int, str, dict[str, str]]:
        """The answer to ``GET /authorize``: (status, page text, headers)."""
        client_id = query.get("client_id", "")
        if client_id not in self.client_ids:
            # RFC 6749 §4.1.2.1: an unknown client is told on the page, never redirected
            return 400, f"unknown client_id {client_id!r}", {}
        redirect_uri = query.get("redirect_uri", "")
        try:
            target = urlsplit(redirect_uri)
            loopback = target.scheme == "http" and target.hostname in _LOOPBACK and target.port
        except ValueError:
            loopback = False
        if not loopback:
            return 400, f"redirect_uri {redirect_uri!r} is not http on loopback (RFC 8252)", {}

        def back(**params: str) -> tuple[int, str, dict[str, str]]:
            if "state" in query:
                params["state"] = query["state"]
            joiner = "&" if "?" in redirect_uri else "?"
            return 302, "", {"Location": redirect_uri + joiner + urlencode(params)}

        if query.get("response_type") != "code":
            return back(error="unsupported_response_type", error_description="only code")
        if "openid" not in query.get("scope", "").split():
            return back(error="invalid_scope", error_description="the openid scope is required")
        if not query.get("code_challenge") or query.get("code_challenge_method") != "S256":
            return back(error="invalid_request", error_description="PKCE with S256 is required")
        with self._lock:
            if self._denied:
                return back(error="access_denied", error_description="The user denied the sign-in")
            if self._user is None:
                return back(error="login_required", error_description="Nobody is signed in")
            code = secrets.token_urlsafe(24)
            self._grants[code] = _Grant(
                client_id=client_id,
                redirect_uri=redirect_uri,
                code_challenge=query["code_challenge"],
                nonce=query.get("nonce"),
                user=self._user,
            )
        return back(code=code)

    def token(self, form: Mapping[str, str], authorization: str) -> tuple[int, dict[str, Any]]:
        """The answer to ``POST /token``: (status, JSON body)."""
        client_id, secret = _client_credentials(form, authorization)
        if client_id not in self.client_ids:
            return _oauth_error("invalid_client", f"unknown client {client_id!r}", 401)
        expected = self.client_secrets.get(client_id)
        if expected is not None and not secrets.compare_digest(secret or "", expected):
            return _oauth_error("invalid_client", "client authentication failed", 401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code is served")
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None:
            return _oauth_error("invalid_grant", "the code is unknown or was already used")
        if grant.client_id != client_id or grant.redirect_uri != form.get("redirect_uri"):
            return _oauth_error(
                "invalid_grant", "the code was issued to another client or redirect"
            )
        if _s256(form.get("code_verifier", "")) != grant.code_challenge:
            return _oauth_error("invalid_grant", "the code_verifier does not match the challenge")
        user = grant.user
        claims = self.claims(
            user.subject,
            client_id=client_id,
            nonce=grant.nonce,
            email=user.email,
            email_verified=user.email_verified,
        )
        if user.hosted_domain is not None:
            claims["hd"] = user.hosted_domain
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": _TOKEN_LIFETIME,
            "scope": "openid email profile",
            "id_token": self.mint(claims),
        }


def _client_credentials(form: Mapping[str, str], authorization: str) -> tuple[str, str | None]:
    """The client's id and secret, from HTTP Basic (RFC 6749 §2.3.1) or the form."""
    if authorization.startswith("Basic "):
        try:
            pair = base64.b64decode(authorization[len("Basic ") :]).decode()
        except ValueError:
            return "", None
        client_id, _, secret = pair.partition(":")
        return unquote(client_id), unquote(secret)
    return form.get("client_id", ""), form.get("client_secret")


def _handler(idp: StandinIdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, query = self._route()
            if path == "/.well-known/openid-configuration":
                self._json(200, idp.configuration())
            elif path == "/jwks":
                self._json(200, idp.jwks())
            elif path == "/authorize":
                status, text, headers = idp.authorize(query)
                self._send(status, text.encode(), "text/plain; charset=utf-8", headers)
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            path, _ = self._route()
            if path != "/token":
                self._json(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            form = {k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()}
            self._json(*idp.token(form, self.headers.get("Authorization", "")))

        def _route(self) -> tuple[str, dict[str, str]]:
            parts = urlsplit(self.path)
            idp.requests.append((self.command, parts.path))
            path = parts.path
            if idp.path:
                path = path[len(idp.path) :] if path.startswith(idp.path + "/") else ""
            return path, {k: v[-1] for k, v in parse_qs(parts.query).items()}

        def _json(self, status: int, body: Any) -> None:
            headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
            self._send(status, json.dumps(body).encode(), "application/json", headers)

        def _send(self, status: int, data: bytes, kind: str, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read ``requests`` instead

    return Handler


def browse(url: str) -> httpx.Response:
    """What a test's browser does with an address: GET it and follow the redirects (to the
    sign-in's loopback callback), returning the last answer."""
    with httpx.Client(
        follow_redirects=True, trust_env=False, timeout=30.0, verify=client_context()
    ) as client:
        return client.get(url)


def main(argv: list[str] | None = None) -> int:
    """``python -m inhouse.testing.standin_idp browse URL``: :func:`browse` as a command, for
    ``BROWSER``; exits 0 when the last answer is a 2xx."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] != "browse":
        print("usage: python -m inhouse.testing.standin_idp browse URL", file=sys.stderr)
        return 2
    answer = browse(args[1])
    print(f"{answer.status_code} {answer.url}\n{answer.text}")
    return 0 if answer.is_success else 1


if __name__ == "__main__":
    sys.exit(main())
