"""Signing keys: every person (and every service) acts with an Ed25519 key of their own.

The private key stays on its owner's machine, in an OpenSSH private-key file readable by its
owner only (0600): ``$INHOUSE_KEY`` if set, else the file an ``inhouse join --ssh-key`` adopted,
else ``~/.config/inhouse/id_ed25519`` (``$XDG_CONFIG_HOME`` honoured). Nothing in inhouse ever
sends, stores or prints a private key; the program's log holds public keys only.

A key is named by its *key id*: ``ed25519:`` and the first 32 hex digits of the SHA-256 of the
raw public key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from inhouse.errors import IdentityError

__all__ = [
    "SigningKey",
    "config_dir",
    "create_key",
    "default_key_path",
    "key_id_of",
    "load_key",
    "verify_signature",
]

_KEY_FILE = "id_ed25519"
_POINTER = "key-path"  # names an adopted OpenSSH key (``inhouse join --ssh-key``)


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "inhouse"


def default_key_path() -> Path:
    """Where this shell's key lives: ``$INHOUSE_KEY``, an adopted key, or the default file."""
    explicit = os.environ.get("INHOUSE_KEY")
    if explicit:
        return Path(explicit).expanduser()
    pointer = config_dir() / _POINTER
    if pointer.is_file():
        return Path(pointer.read_text(encoding="utf-8").strip()).expanduser()
    return config_dir() / _KEY_FILE


def key_id_of(public_key: str) -> str:
    """The key id of a base64 raw Ed25519 public key."""
    raw = base64.b64decode(public_key)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True)
class SigningKey:
    """A private key in memory, with its public half and id."""

    private: Ed25519PrivateKey
    path: Path | None = None

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(Ed25519PrivateKey.generate())

    @property
    def public_key(self) -> str:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_key)

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private.sign(data)).decode("ascii")


@functools.lru_cache(maxsize=1024)
def _public(public_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))


def verify_signature(public_key: str, data: bytes, signature: str) -> bool:
    """Whether ``signature`` (base64) over ``data`` was made by ``public_key`` (base64 raw)."""
    try:
        _public(public_key).verify(base64.b64decode(signature), data)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def create_key(path: Path | None = None) -> SigningKey:
    """Create a new key file at ``path`` (default: :func:`default_key_path`); never overwrite."""
    target = path or default_key_path()
    if target.exists():
        raise IdentityError(
            f"a key already exists at {target}; inhouse never overwrites a key. Use it (it is "
            "this shell's key), or point INHOUSE_KEY at another file"
        )
    key = SigningKey.generate()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return SigningKey(key.private, target)


def load_key(path: Path | None = None) -> SigningKey:
    """Read this shell's key; a missing, unreadable, shared or non-Ed25519 file is refused."""
    source = path or default_key_path()
    if not source.is_file():
        raise IdentityError(
            f"no signing key at {source}: enrol with `inhouse join INVITATION` (or create the "
            "program with `inhouse init`), or point INHOUSE_KEY at your key"
        )
    mode = stat.S_IMODE(source.stat().st_mode)
    if mode & 0o077:
        raise IdentityError(
            f"the key {source} is readable by others (mode {mode:o}); "
            f"run `chmod 600 {source}`: a shared key proves nobody"
        )
    data = source.read_bytes()
    private: object
    try:
        private = serialization.load_ssh_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        if "password" in str(err).lower() or "encrypted" in str(err).lower():
            raise IdentityError(
                f"the key {source} is protected by a passphrase; inhouse cannot ask ssh-agent "
                "yet: use a key without one, kept 0600 on this machine"
            ) from None
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise IdentityError(f"{source} is not an OpenSSH or PEM private key") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise IdentityError(f"{source} is not an Ed25519 key; inhouse signs with Ed25519 only")
    return SigningKey(private, source)


def adopt_key(path: Path) -> SigningKey:
    """Use an existing OpenSSH Ed25519 key (``join --ssh-key``) as this user's inhouse key, the
    way git signs with SSH keys: the file stays where it is; inhouse remembers its path."""
    key = load_key(path.expanduser().resolve())
    pointer = config_dir() / _POINTER
    pointer.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pointer.write_text(str(key.path) + "\n", encoding="utf-8")
    return key
