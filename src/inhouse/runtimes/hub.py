"""Fetching a GGUF from the Hugging Face Hub into the models folder, with ``huggingface_hub``.

The hub is asked for the file's metadata first (one HEAD): that resolves the revision to a
commit, gives the LFS SHA-256 to check the bytes against, and turns "no network" into one clear
message before anything is written. ``HF_ENDPOINT`` points it at a mirror (or, in tests, at a
stand-in hub on loopback). The download shows the hub's own progress bar on stderr.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from inhouse.errors import InvalidInput, ModelDownloadFailed
from inhouse.runtimes.digests import gguf_problem, sha256_digest
from inhouse.runtimes.files import ModelFile, record_model

__all__ = ["DEFAULT_ENDPOINT", "pull_model"]

DEFAULT_ENDPOINT = "https://huggingface.co"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_OFFLINE_HINT = (
    "No model weights can be fetched without the hub. For a model that works offline, run "
    "`inhouse models make-test-model` (a tiny generated model that writes nonsense, for tests "
    "and demos), or copy a GGUF into the models folder and record it."
)


def _network_error(err: BaseException) -> bool:
    """Whether ``err`` means "could not reach the hub", whichever HTTP stack this version of
    huggingface_hub uses (requests, httpx or httpx2)."""
    if isinstance(err, (ConnectionError, TimeoutError)):
        return True
    return type(err).__module__.split(".")[0] in {"httpx", "httpx2", "requests", "urllib3"}


def pull_model(
    repo_id: str,
    filename: str,
    *,
    folder: Path,
    revision: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> ModelFile:
    """Download ``filename`` from ``repo_id`` into ``folder``, check it against the hub's
    SHA-256, record it, and return it."""
    import huggingface_hub as hf
    from huggingface_hub.errors import (
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if not filename.endswith(".gguf"):
        raise InvalidInput(f"{filename!r} is not a GGUF file name; inhouse runtimes load .gguf")
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    where = f"{repo_id}/{filename}" + (f"@{revision}" if revision else "")
    try:
        url = hf.hf_hub_url(repo_id, filename, revision=revision, endpoint=endpoint)
        meta = hf.get_hf_file_metadata(url, token=token, timeout=10)
        local = hf.hf_hub_download(
            repo_id,
            filename,
            revision=meta.commit_hash or revision,
            local_dir=folder,
            endpoint=endpoint,
            token=token,
        )
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise ModelDownloadFailed(f"{where} not found on {endpoint}: {_first_line(err)}") from err
    except OfflineModeIsEnabled as err:
        raise ModelDownloadFailed(
            f"cannot fetch {where}: huggingface_hub is in offline mode (HF_HUB_OFFLINE). "
            + _OFFLINE_HINT
        ) from err
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else "?"
        if status == 404:
            raise ModelDownloadFailed(f"{where} not found on {endpoint} (HTTP 404)") from err
        raise ModelDownloadFailed(
            f"the hub at {endpoint} refused {where} (HTTP {status}): {_first_line(err)}"
        ) from err
    except Exception as err:
        if not _network_error(err):
            raise
        raise ModelDownloadFailed(
            f"cannot reach the Hugging Face Hub at {endpoint} to fetch {where} "
            f"({type(err).__name__}: {_first_line(err)}). " + _OFFLINE_HINT
        ) from err

    path = Path(local)
    digest = sha256_digest(path, cached=False)
    expected = (meta.etag or "").strip('"')
    if _SHA256.fullmatch(expected) and digest != f"sha256:{expected}":
        path.unlink(missing_ok=True)
        raise ModelDownloadFailed(
            f"{where} arrived with SHA-256 {digest.removeprefix('sha256:')}, but the hub says "
            f"{expected}; the partial or corrupt file was removed, try again"
        )
    problem = gguf_problem(path)
    if problem is not None:
        path.unlink(missing_ok=True)
        raise ModelDownloadFailed(f"{where} arrived, but {problem}; it was removed")
    source: dict[str, Any] = {
        "kind": "hub",
        "endpoint": endpoint,
        "repo": repo_id,
        "filename": filename,
        "revision": revision or "main",
        "commit": meta.commit_hash,
    }
    return record_model(folder, path, source, digest=digest)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
