"""Drift: a blessed model the runtime serves with other weights than the lock pinned.

The workflow runner and the gateway ask :func:`check_models` before they send work to a model,
and refuse a drifted one; ``baseline verify`` reports the same drifts with a fix.

A blessed model is found in the runtime's inventory by the name the manifest gives: the exact
id, or, for servers that list a model by its file path (llama-cpp-python's server without an
alias), the file's name with or without ``.gguf``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from inhouse.errors import ConfigError
from inhouse.runtimes.openai_compat import PIN_FIX
from inhouse.runtimes.protocol import ModelInfo, Runtime

if TYPE_CHECKING:
    from inhouse.baseline.lock import Lock

__all__ = ["Drift", "check_models", "drifts", "find_model"]


@dataclass(frozen=True)
class Drift:
    """A blessed model that is missing, or served with another digest than the lock's."""

    model: str
    locked: str
    #: the digest the runtime reports now; None when it does not list the model, or cannot
    #: say which weights it serves
    found: str | None
    detail: str = ""
    #: the runtime lists the model but names no weights for it (no digest)
    unpinned: bool = False

    def __str__(self) -> str:
        if self.detail:
            return f"{self.model}: {self.detail}"
        return f"{self.model}: digest mismatch: locked {self.locked}, found {self.found}"


def _names(info: ModelInfo) -> set[str]:
    names = {info.id}
    for text in (info.id, info.path):
        if text:
            name = PurePath(text).name
            names |= {name, name.removesuffix(".gguf")}
    return names


def find_model(models: Sequence[ModelInfo], name: str) -> ModelInfo | None:
    """The model the runtime lists under ``name`` (exact id first, then by file name)."""
    exact = [m for m in models if m.id == name]
    if exact:
        return exact[0]
    loose = [m for m in models if name in _names(m)]
    if len(loose) > 1:
        ids = ", ".join(m.id for m in loose)
        raise ConfigError(f"model name {name!r} matches several served models ({ids}); use an id")
    return loose[0] if loose else None


async def check_models(lock: Lock, runtime: Runtime) -> list[Drift]:
    """Every blessed model of ``lock`` that ``runtime`` does not serve with the locked digest.
    An empty list means no drift. Runtime faults (down, garbage) propagate as they are."""
    return drifts(lock, await runtime.models(), where=f"runtime {runtime.name} at {runtime.url}")


def drifts(lock: Lock, served: Sequence[ModelInfo], *, where: str) -> list[Drift]:
    """:func:`check_models` over a model list already fetched (``where`` names the runtime)."""
    found = []
    listed = ", ".join(sorted(m.id for m in served)) or "nothing"
    for pinned in lock.models:
        info = find_model(served, pinned.name)
        if info is None:
            detail = f"not served by {where} (it lists: {listed})"
            found.append(Drift(pinned.name, pinned.digest, None, detail))
        elif info.digest is None:
            detail = (
                f"{where} serves it but cannot say which weights (no digest; locked "
                f"{pinned.digest}): {info.why_no_digest or PIN_FIX}"
            )
            found.append(Drift(pinned.name, pinned.digest, None, detail, unpinned=True))
        elif info.digest != pinned.digest:
            found.append(Drift(pinned.name, pinned.digest, info.digest))
    return found
