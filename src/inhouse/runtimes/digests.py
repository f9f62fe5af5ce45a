"""Content digests of model files: the SHA-256 that pins exact weights where nothing else does,
and whether a file is model weights at all (:func:`gguf_problem`) before it is hashed as them.

Hashing a multi-gigabyte GGUF takes seconds, and inventory asks often, so results are cached per
process by (path, size, mtime, inode): a file rewritten in place gets a new mtime and is hashed
again; ``verify`` always bypasses the cache.
"""

from __future__ import annotations

import hashlib
import struct
import threading
from pathlib import Path

__all__ = ["file_sha256", "gguf_problem", "sha256_digest"]

_CHUNK = 1 << 20
#: a GGUF this small is parsed whole (a few ms); a larger one has its header read, since
#: gguf's reader takes seconds over a real model's vocabulary and hashing dominates anyway
_PARSE_WHOLE = 16 * 1024 * 1024
_Key = tuple[str, int, int, int]
_cache: dict[_Key, str] = {}
_gguf_cache: dict[_Key, str | None] = {}
_lock = threading.Lock()


def _key(path: Path) -> _Key:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def file_sha256(path: Path, *, cached: bool = True) -> str:
    """Hex SHA-256 of the file's bytes."""
    path = Path(path).resolve()
    key = _key(path)
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


def gguf_problem(path: Path) -> str | None:
    """Why ``path`` is not a GGUF model file, or None when it is one: GGUF's magic, a version
    gguf's reader supports, at least one tensor, and (for a file small enough to read whole)
    tables that parse. Anything hashed as a model's weights passes this first: a file that is
    not a model (a text file named ``.gguf``, a dozen bytes) must not stand for one."""
    path = Path(path).resolve()
    try:
        key = _key(path)
    except OSError as err:
        return f"{path} cannot be read ({err.strerror or err})"
    with _lock:
        if key in _gguf_cache:
            return _gguf_cache[key]
    problem = _gguf_problem(path, key[1])
    with _lock:
        _gguf_cache[key] = problem
    return problem


def _gguf_problem(path: Path, size: int) -> str | None:
    from gguf.constants import GGUF_MAGIC
    from gguf.gguf_reader import READER_SUPPORTED_VERSIONS

    not_gguf = f"{path} is not a GGUF model file"
    try:
        with path.open("rb") as handle:
            header = handle.read(24)
    except OSError as err:
        return f"{path} cannot be read ({err.strerror or err})"
    if len(header) < 24 or struct.unpack_from("<I", header)[0] != GGUF_MAGIC:
        return f"{not_gguf} ({size} bytes, without GGUF's header)"
    order = "<"
    (version,) = struct.unpack_from("<I", header, 4)
    if version & 0xFFFF == 0:  # written for the other byte order, as gguf's reader allows
        order = ">"
        (version,) = struct.unpack_from(">I", header, 4)
    if version not in READER_SUPPORTED_VERSIONS:
        return f"{not_gguf} (GGUF version {version} is not one gguf reads)"
    (tensors,) = struct.unpack_from(f"{order}Q", header, 8)
    if tensors == 0:
        return f"{not_gguf} (it holds no tensors, so no weights)"
    if size <= _PARSE_WHOLE:
        from gguf import GGUFReader

        try:
            reader = GGUFReader(path)
        except (ValueError, IndexError, KeyError, TypeError, OverflowError) as err:
            return f"{not_gguf} (its tables do not parse: {err})"
        if not reader.tensors:
            return f"{not_gguf} (it holds no tensors, so no weights)"
    return None
