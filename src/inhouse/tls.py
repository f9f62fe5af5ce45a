"""One TLS context per process for the HTTP clients inhouse opens with httpx.

httpx makes a new :class:`ssl.SSLContext` for every client, and ``httpx.get`` makes a client
per call: loading the certificate authorities into each context took 10-20 ms on the machine
the project is built on, more than the request to a gateway or identity provider on the same
network. :func:`client_context` asks httpx for its context (certifi's authorities, or
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` where set) once per set of those settings, and every
client shares it (an :class:`ssl.SSLContext` may serve many connections and threads at once).
"""

from __future__ import annotations

import functools
import os
import ssl

__all__ = ["client_context"]


def client_context() -> ssl.SSLContext:
    """The TLS context httpx would build for a client that verifies (``verify=True``, reading
    the environment), made once per process and per ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``."""
    return _context(os.environ.get("SSL_CERT_FILE") or None, os.environ.get("SSL_CERT_DIR") or None)


@functools.lru_cache(maxsize=8)
def _context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    """The context httpx's ``create_ssl_context`` makes for these settings, made from them (not
    from the environment read again, which may have changed since)."""
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if capath:
        return ssl.create_default_context(capath=capath)
    import httpx

    return httpx.create_ssl_context(trust_env=False)  # certifi's authorities
