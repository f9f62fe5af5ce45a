"""Content digests of model files: the SHA-256 that pins exact weights where nothing else does.

Hashing a multi-gigabyte GGUF takes seconds, and inventory asks often, so results are cached per
process by (path, size, mtime, inode): a file rewritten in place gets a new mtime and is hashed
again; ``verify`` always bypasses the cache.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

__all__ = ["file_sha256", "sha256_digest"]

_CHUNK = 1 << 20
_cache: dict[tuple[str, int, int, int], str] = {}
_lock = threading.Lock()


def file_sha256(path: Path, *, cached: bool = True) -> str:
    """Hex SHA-256 of the file's bytes."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if cached:
        with _lock:
            hit = _cache.get(key)
        if hit is not None:
            return hit
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    with _lock:
        _cache[key] = value
    return value


def sha256_digest(path: Path, *, cached: bool = True) -> str:
    """The file's digest as inhouse writes it everywhere: ``sha256:<hex>``."""
    return f"sha256:{file_sha256(path, cached=cached)}"
