"""One TLS context per process (inhouse.tls): httpx's own, made once per SSL_CERT_FILE /
SSL_CERT_DIR and shared by every client, so a certificate authority the environment names is
trusted as httpx would trust it, and one nobody named is refused."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import SignInError
from inhouse.identity.signin import _get_json
from inhouse.tls import client_context
from tests.gateway.test_wire import _self_signed


@contextmanager
def https_json(folder: Path, document: dict[str, Any]) -> Iterator[str]:
    cert, key = _self_signed(folder)
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
