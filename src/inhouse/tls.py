"""Which certificate authorities inhouse trusts, and one TLS context per process for them.

inhouse trusts what the machine trusts, as pip does (since 24.2): the operating system's own
store, where IT installs an organisation's authority, *and* certifi's authorities (pip's choice
too), so a machine whose store lacks a public authority, or a slim container with no store at
all, is no worse off than with certifi alone. ``SSL_CERT_FILE`` (or ``SSL_CERT_DIR``) overrides
both: only the authorities it names are trusted, on every platform, as httpx and httpx2 read it.

The system's store is, per platform (what truststore reads):

- Linux and other Unix: OpenSSL's compiled-in locations (``ssl.get_default_verify_paths``: on
  Debian ``/usr/lib/ssl/cert.pem``, a link to ``/etc/ssl/certs/ca-certificates.crt``), else the
  first bundle of truststore's list of usual places. No truststore context here: on Linux it
  only re-reads those same locations, and it does so on every handshake, which OpenSSL before
  3.4 piles up (sethmlarson/truststore#212) in a context shared for a process's lifetime, as
  this one is. A plain context loaded once trusts the same authorities.
- macOS and Windows: the OS verifies the chain itself (the keychains; the Windows certificate
  store), through :class:`truststore.SSLContext`, with certifi's authorities added as anchors.

Every client inhouse opens for sign-in and its siblings takes :func:`client_context`: httpx for
discovery, keys and the dashboard, and authlib's OAuth2 client (httpx2) for the token exchange,
so one provider is trusted, or refused, by all of them alike. httpx would make a new context for
every client, and loading the authorities took 10-20 ms on the machine the project is built on,
more than a request to a gateway or identity provider on the same network: the context is made
once per set of settings and shared (an :class:`ssl.SSLContext` may serve many connections and
threads at once). The settings include each bundle's and folder's stamp (inode, size, time): an
authority IT installs or removes is trusted or refused by the next client a long-running
gateway makes, with no restart. Shared, it is never changed: :func:`client_context` refuses one
a caller loosened.
"""

from __future__ import annotations

import functools
import os
import platform
import re
import ssl

__all__ = ["add_an_authority", "certificate_hint", "client_context", "trusted", "untrusted_hint"]

#: where truststore looks on Linux when OpenSSL's compiled-in locations hold nothing (its
#: ``_openssl._CA_FILE_CANDIDATES``, after Christian Heimes's certifi-system-store)
_CA_FILE_CANDIDATES = (
    "/etc/ssl/cert.pem",  # Alpine, Arch, Fedora 34-43, OpenWRT, RHEL 9-10, BSD
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  # Fedora 44+, RHEL 11+
    "/etc/pki/tls/cert.pem",  # Fedora <= 34, RHEL <= 9, CentOS <= 9
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu (with ca-certificates)
    "/etc/ssl/ca-bundle.pem",  # SUSE
)

_HASHED_NAME = re.compile(r"[0-9a-fA-F]{8}\.\d+")

#: the verify codes of a certificate whose authority is not trusted here: not a wrong host name
#: or an expired certificate, which no bundle of authorities mends. OpenSSL's (Linux, or any
#: platform under SSL_CERT_FILE): self-signed, self-signed in its chain, an issuer not found, a
#: leaf not verifiable. On macOS and Windows truststore hands on the OS's own code instead:
#: errSecNotTrusted; CERT_E_UNTRUSTEDROOT and CERT_E_CHAINING (a DWORD, and as a signed HRESULT)
_UNKNOWN_AUTHORITY = frozenset(
    {18, 19, 20, 21, -67843, 0x800B0109, 0x800B010A, 0x800B0109 - 2**32, 0x800B010A - 2**32}
)
#: the verify codes of a certificate for another name than the address asked: OpenSSL's host
#: name and IP address mismatches; macOS's errSecHostNameMismatch; Windows's CERT_E_CN_NO_MATCH
#: (a DWORD, and as a signed HRESULT)
_WRONG_HOST = frozenset({62, 64, -67602, 0x800B010F, 0x800B010F - 2**32})


def client_context() -> ssl.SSLContext:
    """The TLS context every HTTPS client of inhouse verifies with: the one made for
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` where set, else for the system's store and certifi's
    authorities; made once per process and per set of those settings and of what the files
    hold. A bundle that cannot be read is a :class:`~inhouse.errors.ConfigError` naming it.
    Shared, so never changed: one that no longer verifies raises :class:`RuntimeError` here."""
    named = _named()
    try:
        if named is not None:
            context = _override(*named, _stamp(named[0] or named[1]))
        else:
            context = _system(*_system_key())[0]
    except OSError as err:  # ssl.SSLError too: a file that holds no authority
        from inhouse.errors import ConfigError

        if named is None:
            raise ConfigError(
                f"this machine's store of certificate authorities cannot be read ({err}): "
                "repair it (update-ca-certificates, update-ca-trust), or set SSL_CERT_FILE to "
                "a bundle of authorities"
            ) from None
        var, where = ("SSL_CERT_FILE", named[0]) if named[0] else ("SSL_CERT_DIR", named[1])
        raise ConfigError(
            f"{var} names {where}, which inhouse cannot read authorities from ({err}): set it "
            "to a bundle of certificate authorities (PEM), or unset it to trust this machine's "
            "store and certifi's"
        ) from None
    if (
        context.verify_mode != ssl.CERT_REQUIRED
        or not context.check_hostname
        or context.minimum_version < ssl.TLSVersion.TLSv1_2
    ):
        # one object serves every client of the process: a caller that loosened it for itself
        # loosened sign-in, the vouch and the dashboard's login too. Made again for the next
        # caller, and the loosening is refused loudly here rather than trusted on quietly
        _override.cache_clear()
        _system.cache_clear()
        raise RuntimeError(
            "inhouse's shared TLS context was changed (no longer verifying certificates and "
            "host names, or below TLS 1.2): a client that needs other settings makes its own"
        )
    return context


def trusted() -> str:
    """The authorities :func:`client_context` trusts, in words (for a refusal's hint)."""
    named = _named()
    if named is not None:
        cafile, capath = named
        where = f"{cafile} (SSL_CERT_FILE)" if cafile else f"{capath} (SSL_CERT_DIR)"
        return f"only the authorities in {where}, which replaces the system's and certifi's"
    return _system(*_system_key())[1]


def add_an_authority() -> str:
    """How a person makes inhouse trust an organisation's own authority, on this machine."""
    named = _named()
    if named is not None:
        cafile, capath = named
        # a folder is read by OpenSSL under each authority's subject hash, not by file name
        where = (
            cafile or f"{capath} under its hash name (copy it there, run `openssl rehash {capath}`)"
        )
        return (
            f"add it to {where}, or unset SSL_CERT_FILE and SSL_CERT_DIR so that this machine's "
            "store is trusted (with certifi's authorities) and install it there"
        )
    system = platform.system()
    if system == "Darwin":
        store = (
            "add it to the System keychain, trusted for SSL (Keychain Access, or `sudo security "
            "add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.pem`)"
        )
    elif system == "Windows":
        store = (
            "import it into Trusted Root Certification Authorities (certlm.msc, or "
            "`certutil -addstore Root ca.cer` as an administrator)"
        )
    else:
        paths = ssl.get_default_verify_paths()
        # a slim container has no store, nor the tools that write one, until ca-certificates
        package = (
            "install the ca-certificates package, then "
            if _unix_store(paths.openssl_cafile, paths.openssl_capath) == (None, None)
            else ""
        )
        store = (
            f"{package}install it in this machine's store (Debian, Ubuntu: copy it as a .crt "
            "into /usr/local/share/ca-certificates/ and run update-ca-certificates; Fedora, "
            "RHEL: into /etc/pki/ca-trust/source/anchors/ and run update-ca-trust)"
        )
    return (
        f"{store}, or set SSL_CERT_FILE to a bundle that holds it (then only that bundle is "
        "trusted)"
    )


def untrusted_hint(err: BaseException, whose: str) -> str:
    """What to do, where ``err`` (an httpx or httpx2 error, or the ssl module's) came of a
    certificate whose authority this machine does not trust: ``whose`` server (the
    organisation's provider, its gateway) often has one from an authority of the
    organisation's own, which certifi's list lacks and IT installs in the system's store; else
    nothing. Sign-in, `gateway vouch` and `gateway status` say it alike, through this."""
    seen = _refusal(err)
    if seen is None or seen.verify_code not in _UNKNOWN_AUTHORITY:
        return ""
    return (
        f"; its certificate's authority is not one inhouse trusts (it trusts {trusted()}). "
        f"Where {whose} has a certificate from an authority of its own, " + add_an_authority()
    )


def certificate_hint(err: BaseException, whose: str) -> str | None:
    """What to do where ``err`` (an httpx or httpx2 error) came of ``whose`` server's
    certificate being refused, by why: an authority this machine does not trust
    (:func:`untrusted_hint`); a certificate for another name than the address asked, which
    the right address mends; any other (expired, not yet valid, revoked), which no address or
    authority here mends. None where it was no certificate's refusal (nothing answered, a
    refused connection): then the address is what to look at."""
    seen = _refusal(err)
    if seen is None:
        return None
    if hint := untrusted_hint(err, whose):
        return hint
    if seen.verify_code in _WRONG_HOST:
        return (
            f"; its certificate is for another name than this address: give {whose}'s address "
            "as its certificate names it, the one you use it at (`--url`)"
        )
    return (
        f"; {whose}'s certificate itself was refused (expired or not yet valid, say), which "
        f"no other address or authority mends here: whoever runs {whose} renews it"
    )


def _refusal(err: BaseException) -> ssl.SSLCertVerificationError | None:
    """The ssl module's refusal of a certificate in ``err``'s cause chain (httpx's error,
    httpcore's, the ssl module's), or None."""
    seen: BaseException | None = err
    for _ in range(8):
        if seen is None or isinstance(seen, ssl.SSLCertVerificationError):
            break
        seen = seen.__cause__ or seen.__context__
    return seen if isinstance(seen, ssl.SSLCertVerificationError) else None


def _named() -> tuple[str | None, str | None] | None:
    """``SSL_CERT_FILE`` (which wins, as in httpx) or ``SSL_CERT_DIR``, where either is set."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    capath = None if cafile else os.environ.get("SSL_CERT_DIR") or None
    return (cafile, capath) if cafile or capath else None


#: what a file or folder of authorities is, as far as its trust goes: a bundle rewritten (an
#: authority added or, what matters more, removed) or a folder whose entries changed is another
#: key, so a long-running gateway trusts what the store holds now, not at its start
_Stamp = tuple[int, int, int, int] | None


def _stamp(path: str | None) -> _Stamp:
    """``path``'s device, inode, size and modification time, following links; None where
    there is nothing (a few microseconds: no file is read)."""
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=8)
def _override(cafile: str | None, capath: str | None, stamp: _Stamp) -> ssl.SSLContext:
    """The context for the authorities the environment names, and no other (made from the
    cache key, not from the environment read again, which may have changed since)."""
    return ssl.create_default_context(cafile=cafile, capath=capath)


def _system_key() -> tuple[str, str, str, str, tuple[_Stamp, ...]]:
    """What the system's context is made of: the platform, OpenSSL's compiled-in locations
    (not ``SSL_CERT_*``, which :func:`_named` has read), certifi's bundle, and the stamps of
    each, and of the usual places where OpenSSL's bundle is missing."""
    import certifi

    paths = ssl.get_default_verify_paths()
    cafile, capath, bundle = paths.openssl_cafile, paths.openssl_capath, certifi.where()
    stamps: tuple[_Stamp, ...] = (_stamp(cafile), _stamp(capath), _stamp(bundle))
    if stamps[0] is None:
        stamps += tuple(_stamp(candidate) for candidate in _CA_FILE_CANDIDATES)
    return platform.system(), cafile, capath, bundle, stamps


@functools.lru_cache(maxsize=8)
def _system(
    system: str,
    openssl_cafile: str,
    openssl_capath: str,
    certifi_bundle: str,
    stamps: tuple[_Stamp, ...],
) -> tuple[ssl.SSLContext, str]:
    """The context for the system's store and certifi's authorities, and what it trusts in
    words (``stamps``: only the cache's key)."""
    if system in ("Darwin", "Windows"):
        import truststore

        context: ssl.SSLContext = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=certifi_bundle)
        store = "the macOS keychains" if system == "Darwin" else "the Windows certificate store"
        return context, f"this machine's store ({store}) and certifi's authorities"
    cafile, capath = _unix_store(openssl_cafile, openssl_capath)
    if cafile is None and capath is None:
        # a slim container: no store of its own; certifi's authorities, as before truststore
        context = ssl.create_default_context(cafile=certifi_bundle)
        return context, (
            "certifi's authorities only: this machine has no store of its own (no bundle at "
            f"{openssl_cafile} nor in the usual places)"
        )
    # Never create_default_context() bare: it would read SSL_CERT_* from the environment again
    context = ssl.create_default_context(cafile=cafile, capath=capath)
    context.load_verify_locations(cafile=certifi_bundle)
    where = " and ".join(p for p in (cafile, capath) if p)
    return context, f"this machine's store ({where}) and certifi's authorities"


def _unix_store(openssl_cafile: str, openssl_capath: str) -> tuple[str | None, str | None]:
    """The system's bundle and hashed folder, as truststore finds them on Linux: OpenSSL's
    compiled-in locations where they hold something, else the first usual bundle."""
    cafile = openssl_cafile if os.path.isfile(openssl_cafile) else None
    capath = openssl_capath if _holds_hashed(openssl_capath) else None
    if cafile is None and capath is None:
        cafile = next((c for c in _CA_FILE_CANDIDATES if os.path.isfile(c)), None)
    return cafile, capath


def _holds_hashed(capath: str) -> bool:
    """Whether OpenSSL would find an authority in ``capath`` (a folder of ``<hash>.<n>``)."""
    try:
        return any(_HASHED_NAME.fullmatch(name) for name in os.listdir(capath))
    except OSError:
        return False
