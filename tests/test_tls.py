"""Which authorities inhouse trusts (inhouse.tls): the system's store and certifi's, or only
what SSL_CERT_FILE / SSL_CERT_DIR names; one context per set of those, shared by every client,
the token exchange (authlib on httpx2) included, so a provider is trusted, or refused with a hint
a person can act on, by discovery, keys and token exchange alike. Over real TLS, against the
stand-in identity provider serving a certificate from an organisation's own authority.

The "system store" is made for a test the way OpenSSL tells it to Python: Linux's store, for
truststore, httpx2 and inhouse alike, is OpenSSL's compiled-in locations
(``ssl.get_default_verify_paths().openssl_cafile`` / ``openssl_capath``), which no environment
variable moves (SSL_CERT_FILE is the override, not the store), so the tests point that function
at a bundle of their own; one test reads the machine's real store unchanged, and one replaces
the store's own folder for a sign-in run in a mount namespace of its own (``unshare -rm``), no
seam at all. None of them skips: where a namespace cannot be made, that test fails and says
what to allow."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inhouse import tls
from inhouse.errors import SignInError
from inhouse.identity.signin import (
    Provider,
    _get_json,
    discover,
    fetch_jwks,
    nonce_for,
    sign_in,
    verify_id_token,
)
from inhouse.testing.standin_idp import StandinIdP, browse
from inhouse.tls import client_context
from tests.gateway.test_wire import _self_signed

NONCE = nonce_for("prog-tls", "key-tls")


@contextmanager
def https_json(folder: Path, document: dict[str, Any], *, expired: bool = False) -> Iterator[str]:
    """A server over real TLS answering ``document`` at any path, its self-signed certificate
    (``folder``/cert.pem, for 127.0.0.1) valid now or ``expired``."""
    cert, key = _self_signed(folder, expired=expired)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/doc"
    finally:
        server.shutdown()
        server.server_close()


def test_one_context_serves_every_client_and_verifies() -> None:
    first = client_context()
    assert client_context() is first
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname


def test_an_authority_the_environment_names_is_trusted_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with https_json(tmp_path, {"issuer": "x"}) as url:
        with pytest.raises(SignInError, match=r"CERTIFICATE_VERIFY_FAILED|certificate") as err:
            _get_json(url, "discovery document", 5.0)
        # an organisation's own authority: the error says what to set
        assert "set SSL_CERT_FILE to a bundle that holds it" in str(err.value)
        assert "certifi's authorities" in str(err.value)
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
        assert _get_json(url, "discovery document", 5.0) == {"issuer": "x"}
        trusted = client_context()
        monkeypatch.delenv("SSL_CERT_FILE")
        assert client_context() is not trusted  # the setting changed: another context
        with pytest.raises(SignInError, match=r"CERTIFICATE_VERIFY_FAILED|certificate"):
            _get_json(url, "discovery document", 5.0)


def test_a_wrong_host_name_is_not_called_an_unknown_authority(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with https_json(tmp_path, {"issuer": "x"}) as url:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # its authority, trusted
        with pytest.raises(SignInError, match=r"[Hh]ostname mismatch") as err:
            _get_json(url.replace("127.0.0.1", "localhost"), "discovery document", 5.0)
        assert "SSL_CERT_FILE" not in str(err.value)


def test_a_provider_that_is_not_there_is_not_called_untrusted() -> None:
    with pytest.raises(SignInError) as err:
        _get_json("https://127.0.0.1:9/doc", "discovery document", 2.0)
    assert "SSL_CERT_FILE" not in str(err.value)


# -- the system's store, certifi's, and the override, over a whole sign-in ----------------------


def _authority(folder: Path, name: str) -> tuple[Path, ssl.SSLContext]:
    """An organisation's own authority (``name``.pem, a CA) and a server context holding a
    certificate it issued for 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root authority")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    authority = folder / f"{name}.pem"
    authority.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain, private = folder / f"{name}-server.pem", folder / f"{name}-server.key"
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(chain, private)
    return authority, server


def _bundle(path: Path, *parts: Path) -> Path:
    path.write_text("".join(part.read_text() for part in parts))
    return path


@pytest.fixture
def system_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Path | None], None]:
    """Makes ``bundle`` this machine's store (None: a slim container, with none): what OpenSSL
    reports as its compiled-in locations, the ones update-ca-certificates writes to."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    empty = tmp_path / "no-hashed-certs"
    empty.mkdir()

    def make(bundle: Path | None) -> None:
        where = str(bundle) if bundle else str(tmp_path / "absent" / "cert.pem")
        paths = ssl.DefaultVerifyPaths(
            where if bundle else None, None, "SSL_CERT_FILE", where, "SSL_CERT_DIR", str(empty)
        )
        monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: paths)

    return make


@contextmanager
def _provider(server: ssl.SSLContext) -> Iterator[StandinIdP]:
    with StandinIdP(path="/realms/acme", tls=server) as idp:
        idp.login("u-7f3a", email="omar@acme.example")
        yield idp


def _sign_in(idp: StandinIdP) -> str:
    """A whole sign-in: discovery, keys and the token exchange, each over TLS; the subject."""
    provider = discover(idp.issuer)
    token = sign_in(provider, "inhouse", NONCE, open_browser=browse, say=lambda _: None)
    identity = verify_id_token(
        token,
        jwks=fetch_jwks(provider),
        issuer=idp.issuer,
        client_id="inhouse",
        nonce=NONCE,
        at=datetime.datetime.now(datetime.UTC),
    )
    return identity.subject


def test_a_provider_whose_authority_is_in_the_system_store_is_trusted_end_to_end(
    tmp_path: Path, system_store: Callable[[Path | None], None]
) -> None:
    authority, server = _authority(tmp_path, "acme")
    system_store(_bundle(tmp_path / "system.pem", authority))  # IT installed it
    with _provider(server) as idp:
        assert idp.issuer.startswith("https://127.0.0.1:")
        assert _sign_in(idp) == "u-7f3a"
        assert ("POST", "/realms/acme/token") in idp.requests  # the exchange ran, over TLS
    assert "this machine's store" in tls.trusted() and str(tmp_path / "system.pem") in tls.trusted()


def test_a_machine_with_no_store_still_trusts_certifi_for_every_step(
    tmp_path: Path, system_store: Callable[[Path | None], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slim container (no ca-certificates): truststore and httpx2 on their own trust nothing
    there (measured: 0 authorities), so a public provider's token exchange failed even while its
    discovery, on certifi, worked. Every step trusts certifi's authorities now."""
    public, server = _authority(tmp_path, "public")  # a public authority: one certifi lists
    with_public = _bundle(tmp_path / "certifi.pem", Path(certifi.where()), public)
    monkeypatch.setattr(certifi, "where", lambda: str(with_public))
    monkeypatch.setattr(tls, "_CA_FILE_CANDIDATES", ())
    system_store(None)
    with _provider(server) as idp:
        assert _sign_in(idp) == "u-7f3a"
    assert tls.trusted().startswith("certifi's authorities only")


def test_ssl_cert_file_overrides_the_system_store_for_every_step(
    tmp_path: Path, system_store: Callable[[Path | None], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    acme, acme_server = _authority(tmp_path, "acme")
    other, other_server = _authority(tmp_path, "other")
    system_store(_bundle(tmp_path / "system.pem", acme))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with _provider(other_server) as idp:  # only in the named bundle: trusted, token and all
        assert _sign_in(idp) == "u-7f3a"
    # in the system's store, which the named bundle replaces
    with (
        _provider(acme_server) as idp,
        pytest.raises(SignInError, match="CERTIFICATE_VERIFY_FAILED") as err,
    ):
        discover(idp.issuer)
    assert f"only the authorities in {other} (SSL_CERT_FILE)" in str(err.value)
    assert f"add it to {other}, or unset SSL_CERT_FILE" in str(err.value)


def test_an_authority_in_neither_store_is_refused_at_every_step_with_the_hint(
    tmp_path: Path, system_store: Callable[[Path | None], None]
) -> None:
    acme, server = _authority(tmp_path, "acme")
    unrelated, _ = _authority(tmp_path, "unrelated")
    system_store(_bundle(tmp_path / "system.pem", unrelated))
    with _provider(server) as idp:
        with pytest.raises(SignInError, match="CERTIFICATE_VERIFY_FAILED") as err:
            discover(idp.issuer)
        said = str(err.value)
        assert f"it trusts this machine's store ({tmp_path / 'system.pem'}" in said
        assert "and certifi's authorities" in said
        assert "update-ca-certificates" in said  # how to install it in the store
        assert "or set SSL_CERT_FILE to a bundle that holds it" in said
        # the token exchange is refused alike, and says so: a browser of its own trusts the
        # provider (a browser has its own store), inhouse does not
        base = idp.issuer
        provider = Provider(
            issuer=base,
            authorization_endpoint=f"{base}/authorize",
            token_endpoint=f"{base}/token",
            jwks_uri=f"{base}/jwks",
        )

        def browser(url: str) -> None:
            with httpx.Client(verify=ssl.create_default_context(cafile=acme)) as own:
                own.get(url, follow_redirects=True)

        with pytest.raises(SignInError, match="could not be reached") as refused:
            sign_in(provider, "inhouse", NONCE, open_browser=browser, say=lambda _: None)
        assert "not one inhouse trusts" in str(refused.value)
        assert ("POST", "/realms/acme/token") not in idp.requests


def _ders(bundle: str) -> set[bytes]:
    text = Path(bundle).read_text(errors="replace")
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
    return {ssl.PEM_cert_to_DER_cert(block) for block in blocks}


def test_the_machines_real_store_and_certifi_are_both_trusted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No stand-in: the store this machine's OpenSSL was built to read, as it is."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    system = ssl.get_default_verify_paths().openssl_cafile
    held = set(client_context().get_ca_certs(binary_form=True))
    assert _ders(certifi.where()) <= held
    if Path(system).is_file():
        assert _ders(system) <= held
    else:  # never a skip: no bundle where OpenSSL looks, and the hint says what is trusted
        assert system in tls.trusted() or "this machine's store" in tls.trusted()


@pytest.mark.parametrize("system", ["Darwin", "Windows"])
def test_on_macos_and_windows_the_os_verifies_with_certifi_as_extra_anchors(
    system: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wiring only (no macOS or Windows here): there the OS's verifier decides, through
    truststore, and certifi's authorities are handed to it as anchors besides its own."""
    import truststore

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(tls.platform, "system", lambda: system)
    context = client_context()
    assert isinstance(context, truststore.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert _ders(certifi.where()) <= set(context._ctx.get_ca_certs(binary_form=True))
    store = "keychains" if system == "Darwin" else "Windows certificate store"
    assert store in tls.trusted() and "certifi's authorities" in tls.trusted()
    assert ("security add-trusted-cert" if system == "Darwin" else "certutil") in (
        tls.add_an_authority()
    )


def _unshare_refused() -> str | None:
    """Why ``unshare -rm`` cannot make a mount namespace here, or None where it can."""
    try:
        done = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{type(err).__name__}: {err}"
    if done.returncode != 0:
        return done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
    return None


_SIGN_IN_HERE = """
import datetime, sys
from inhouse.identity.signin import discover, fetch_jwks, sign_in, verify_id_token
from inhouse.testing.standin_idp import browse
issuer, nonce = sys.argv[1:]
provider = discover(issuer)
token = sign_in(provider, "inhouse", nonce, open_browser=browse, say=lambda _: None)
at = datetime.datetime.now(datetime.UTC)
who = verify_id_token(
    token, jwks=fetch_jwks(provider), issuer=issuer, client_id="inhouse", nonce=nonce, at=at
)
print(who.subject)
from inhouse.tls import trusted
print(trusted())
"""


def test_the_real_system_store_in_its_own_place_is_trusted_end_to_end(tmp_path: Path) -> None:
    """No seam at all: in a mount namespace of its own, the folder that holds the bundle
    OpenSSL was built to read (on Debian /etc/ssl/certs) is replaced by one whose bundle holds
    the organisation's authority, as update-ca-certificates would write it; a sign-in run there
    trusts the provider at every step."""
    # never a skip: a test that quietly does not run proves nothing, in CI least of all
    if (refused := _unshare_refused()) is not None:
        pytest.fail(
            f"`unshare -rm` is refused here ({refused}), and this test needs a mount namespace "
            "of its own: allow user namespaces (sysctl kernel.unprivileged_userns_clone=1; on "
            "Ubuntu 24.04 and later kernel.apparmor_restrict_unprivileged_userns=0; in a "
            "container, a seccomp profile that allows unshare) or run it as root with "
            "CAP_SYS_ADMIN"
        )
    # the bundle OpenSSL was built to read, which a machine without ca-certificates lacks:
    # its folder is what is replaced, so the bundle is there in the namespace either way
    bundle = Path(os.path.realpath(ssl.get_default_verify_paths().openssl_cafile))
    if not bundle.parent.is_dir():
        pytest.fail(f"OpenSSL's store folder {bundle.parent} is missing: nothing to mount over")
    authority, server = _authority(tmp_path, "acme")
    store = tmp_path / "store"
    store.mkdir()
    _bundle(store / bundle.name, authority)
    env = {k: v for k, v in os.environ.items() if k not in {"SSL_CERT_FILE", "SSL_CERT_DIR"}}
    env["PYTHONPATH"] = str(Path(tls.__file__).parents[1])  # the inhouse under test
    with _provider(server) as idp:
        done = subprocess.run(
            [
                "unshare",
                "-rm",
                "sh",
                "-c",
                'mount --bind "$0" "$1" && exec "$2" -c "$3" "$4" "$5"',
                str(store),
                str(bundle.parent),
                sys.executable,
                _SIGN_IN_HERE,
                idp.issuer,
                NONCE,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    subject, said = done.stdout.splitlines()[:2]
    assert subject == "u-7f3a"
    assert "this machine's store" in said


def test_a_caller_that_loosens_the_shared_context_does_not_loosen_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One context serves every client of the process: code that turned off verification on
    it for a client of its own (a self-signed runtime, say) would turn it off for sign-in's
    discovery too. The loosened context is refused, and the next caller gets a whole one."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with https_json(tmp_path, {"issuer": "x"}) as url:  # an authority nobody trusts here
        shared = client_context()
        shared.check_hostname = False
        shared.verify_mode = ssl.CERT_NONE
        with pytest.raises(RuntimeError, match="shared TLS context was changed"):
            _get_json(url, "discovery document", 5.0)
        again = client_context()
        assert again is not shared
        assert again.verify_mode == ssl.CERT_REQUIRED and again.check_hostname
        with pytest.raises(SignInError, match="CERTIFICATE_VERIFY_FAILED"):
            _get_json(url, "discovery document", 5.0)
        client_context().minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        with pytest.raises(RuntimeError, match=r"below TLS 1\.2"):
            client_context()
    assert client_context().minimum_version == ssl.TLSVersion.TLSv1_2


def test_the_hint_for_a_folder_of_authorities_says_it_must_be_hashed(
    tmp_path: Path, system_store: Callable[[Path | None], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenSSL finds an authority in SSL_CERT_DIR by its subject hash, never by file name: a
    hint to "add it to the folder" left the provider refused after the person did so."""
    acme, server = _authority(tmp_path, "acme")
    system_store(_bundle(tmp_path / "system.pem", acme))
    folder = tmp_path / "authorities"
    folder.mkdir()
    monkeypatch.setenv("SSL_CERT_DIR", str(folder))
    with _provider(server) as idp:
        with pytest.raises(SignInError, match="CERTIFICATE_VERIFY_FAILED") as err:
            discover(idp.issuer)
        said = str(err.value)
        assert f"only the authorities in {folder} (SSL_CERT_DIR)" in said
        assert f"run `openssl rehash {folder}`" in said
        # what the hint says, done: the provider is trusted
        (folder / "acme.pem").write_bytes(acme.read_bytes())
        subprocess.run(["openssl", "rehash", str(folder)], check=True, capture_output=True)
        assert discover(idp.issuer).issuer == idp.issuer


def test_the_hint_in_a_container_with_no_store_says_to_install_one_first(
    tmp_path: Path, system_store: Callable[[Path | None], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """update-ca-certificates comes with ca-certificates, which a slim container lacks."""
    acme, server = _authority(tmp_path, "acme")
    monkeypatch.setattr(tls, "_CA_FILE_CANDIDATES", ())
    system_store(None)
    with (
        _provider(server) as idp,
        pytest.raises(SignInError, match="CERTIFICATE_VERIFY_FAILED") as err,
    ):
        discover(idp.issuer)
    said = str(err.value)
    assert "certifi's authorities only: this machine has no store of its own" in said
    assert "install the ca-certificates package, then install it in this machine's store" in said
    system_store(_bundle(tmp_path / "system.pem", acme))  # a store, with no package to install
    assert "ca-certificates package" not in tls.add_an_authority()


# -- one trust for every client: runtimes, the gateway, the load generator, embeddings ----------

_RUNTIME_ANSWER = b'{"data": [{"embedding": [1.0], "index": 0}], "choices": []}'


@pytest.mark.parametrize("where", ["SSL_CERT_FILE", "certifi, no store"])
def test_a_runtime_is_trusted_alike_by_every_client_that_reaches_it(
    where: str,
    tmp_path: Path,
    system_store: Callable[[Path | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A runtime behind a certificate: the CLI's runtime client and the embeddings check (httpx
    with trust_env off: certifi's authorities alone, SSL_CERT_FILE unread), the gateway and the
    load generator (the ssl module's default: the system's store, no certifi) each trusted
    another set, so one runtime was served by the gateway and refused by `inhouse runtime`, or
    the other way round. Each takes inhouse.tls's context now."""
    import asyncio

    from inhouse.checks.embeddings import HttpEmbedder
    from inhouse.gateway.wire import Pool
    from inhouse.runtimes._http import HttpClient
    from inhouse.trials._http import StreamClient
    from tests.gateway.test_wire import fetch, ok, server

    authority, tls_server = _authority(tmp_path, "runtime")
    if where == "SSL_CERT_FILE":  # the organisation's authority, named for inhouse alone
        system_store(_bundle(tmp_path / "system.pem", _authority(tmp_path, "unrelated")[0]))
        monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    else:  # a public authority (one certifi lists), in a container with no store of its own
        with_it = _bundle(tmp_path / "certifi.pem", Path(certifi.where()), authority)
        monkeypatch.setattr(certifi, "where", lambda: str(with_it))
        monkeypatch.setattr(tls, "_CA_FILE_CANDIDATES", ())
        system_store(None)

    async def main() -> dict[str, object]:
        seen: dict[str, object] = {}
        async with server(lambda n: ok(_RUNTIME_ANSWER), tls=tls_server) as (url, _):
            runtime = HttpClient(runtime="vllm", url=url, timeout=5, connect_timeout=5)
            try:
                seen["runtime client"] = (await runtime.get_json("/v1/models", "models"))["data"]
            except Exception as err:
                seen["runtime client"] = err
            finally:
                await runtime.aclose()
            embedder = HttpEmbedder(name="vllm", url=url, timeout=5)
            try:
                seen["embeddings"] = await embedder.embed(["x"])
            except Exception as err:
                seen["embeddings"] = err
            finally:
                await embedder.aclose()
            pool = Pool()
            try:
                seen["gateway"] = await fetch(pool, url)
            except Exception as err:
                seen["gateway"] = err
            finally:
                await pool.close()
            async with StreamClient(url, size=1, timeout=5) as load:
                try:
                    seen["load generator"] = (await load.send(load.prepare("GET", "/x"))).status
                except Exception as err:
                    seen["load generator"] = err
        return seen

    seen = asyncio.run(main())
    assert seen == {
        "runtime client": [{"embedding": [1.0], "index": 0}],
        "embeddings": [[1.0]],
        "gateway": _RUNTIME_ANSWER,
        "load generator": 200,
    }


def test_gateway_status_trusts_what_the_vouch_trusts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse gateway vouch` reaches a gateway behind the organisation's certificate with
    XX the same gateway with httpx's
        certifi-only default (trust_env off: SSL_CERT_FILE unread) and said no gateway answers."""
    from typer.testing import CliRunner

    from inhouse.cli.app import app

    health = {"status": "ok", "models": []}
    with https_json(tmp_path, health) as url:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))
        base = url.removesuffix("/doc")
        done = CliRunner().invoke(app, ["gateway", "status", "--url", base, "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == health


# -- the store as it is now, not as it was when the process started ----------------------------


@pytest.mark.parametrize("store", ["system", "SSL_CERT_FILE"])
def test_an_authority_removed_from_the_store_is_refused_without_a_restart(
    store: str,
    tmp_path: Path,
    system_store: Callable[[Path | None], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """IT distrusts an authority (a compromised one) by taking it out of the store: the context
    was kept for the process's lifetime, keyed on the bundle's name alone, so a gateway or a
    dashboard went on trusting it until someone restarted them."""
    acme, server = _authority(tmp_path, "acme")
    unrelated, _ = _authority(tmp_path, "unrelated")
    bundle = _bundle(tmp_path / "store.pem", unrelated, acme)
    if store == "system":
        system_store(bundle)
    else:
        system_store(_bundle(tmp_path / "system.pem", unrelated))
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    with _provider(server) as idp:
        assert discover(idp.issuer).issuer == idp.issuer
        # rewritten without it, as update-ca-certificates does: a new file put in its place
        _bundle(tmp_path / "next.pem", unrelated).replace(bundle)
        with pytest.raises(SignInError, match="CERTIFICATE_VERIFY_FAILED"):
            discover(idp.issuer)
        bundle.write_text(unrelated.read_text() + acme.read_text())  # in place, put back
        assert discover(idp.issuer).issuer == idp.issuer


def test_the_gateway_trusts_an_authority_installed_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its pool made one context at its first connection and kept it: a runtime whose
    authority IT installed afterwards stayed refused until the gateway was restarted."""
    import asyncio

    from inhouse.errors import ConnectFailed
    from inhouse.gateway.wire import Pool
    from tests.gateway.test_wire import fetch, ok, server

    acme, tls_server = _authority(tmp_path, "acme")
    unrelated, _ = _authority(tmp_path, "unrelated")
    bundle = _bundle(tmp_path / "bundle.pem", unrelated)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))

    async def main() -> None:
        async with server(lambda n: ok(_RUNTIME_ANSWER), tls=tls_server) as (url, _):
            pool = Pool()
            try:
                with pytest.raises(ConnectFailed, match="CERTIFICATE_VERIFY_FAILED"):
                    await fetch(pool, url)
                _bundle(tmp_path / "next.pem", unrelated, acme).replace(bundle)
                assert await fetch(pool, url) == _RUNTIME_ANSWER
            finally:
                await pool.close()

    asyncio.run(main())


@pytest.mark.parametrize("bundle", ["missing", "empty"])
def test_an_ssl_cert_file_that_cannot_be_read_is_named_not_a_traceback(
    bundle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A typo in SSL_CERT_FILE left sign-in with a FileNotFoundError traceback (an empty file,
    an SSLError), and every client inhouse opens takes this context now, the gateway's too:
    a refusal that names the setting, and what to do."""
    from inhouse.errors import ConfigError

    path = tmp_path / "bundle.pem"
    if bundle == "empty":
        path.write_text("")
    monkeypatch.setenv("SSL_CERT_FILE", str(path))
    with pytest.raises(ConfigError, match=f"SSL_CERT_FILE names {re.escape(str(path))}") as err:
        _get_json("https://127.0.0.1:9/doc", "discovery document", 2.0)
    assert "unset it to trust this machine's store" in str(err.value)


@pytest.mark.parametrize(
    ("system", "code", "how"),
    [
        ("Darwin", -67843, "security add-trusted-cert"),  # errSecNotTrusted
        ("Windows", 0x800B0109, "certutil -addstore Root"),  # CERT_E_UNTRUSTEDROOT
        ("Windows", 0x800B010A, "certutil -addstore Root"),  # CERT_E_CHAINING
    ],
)
def test_on_macos_and_windows_an_untrusted_authority_gets_the_hint(
    system: str, code: int, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """There the OS verifies, through truststore, and the error carries the OS's code, not
    OpenSSL's 18 to 21: the keychain and certutil wording was never shown to anyone. (No macOS
    or Windows here: the error is the one truststore raises, in httpx's chain.)"""
    import truststore  # noqa: F401  (imported as on Linux, before the platform is turned)

    from inhouse.tls import untrusted_hint

    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setattr(tls.platform, "system", lambda: system)
    refused = ssl.SSLCertVerificationError("certificate is not trusted")
    refused.verify_code = code
    try:
        try:
            raise refused
        except ssl.SSLError as err:
            raise httpx.ConnectError(str(err)) from err
    except httpx.ConnectError as err:
        hint = untrusted_hint(err, "the provider")
    assert "not one inhouse trusts" in hint and how in hint
    wrong_host = ssl.SSLCertVerificationError("host name mismatch")
    wrong_host.verify_code = -67602 if system == "Darwin" else 0x800B010F  # no authority mends it
    assert untrusted_hint(wrong_host, "the provider") == ""


def test_gateway_status_at_a_gateway_behind_an_untrusted_authority_gets_the_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse gateway status` trusts a gateway with the authorities the vouch does, and a
    gateway whose certificate's authority is not among them was "no gateway answers" there,
    where the vouch (and sign-in) said which authorities inhouse trusts and how to add the
    organisation's: it says the same now (tls.certificate_hint)."""
    from typer.testing import CliRunner

    from inhouse.cli.app import app

    unrelated, _ = _authority(tmp_path, "unrelated")
    monkeypatch.setenv("SSL_CERT_FILE", str(unrelated))  # the gateway's authority is not in it
    with https_json(tmp_path, {"status": "ok", "models": []}) as url:
        base = url.removesuffix("/doc")
        done = CliRunner().invoke(app, ["gateway", "status", "--url", base])
    said = " ".join(done.output.split())
    assert done.exit_code != 0, said
    assert "its certificate's authority is not one inhouse trusts" in said, said
    assert "the gateway has a certificate from an authority of its own" in said, said
    assert "no gateway answers" not in said, said
