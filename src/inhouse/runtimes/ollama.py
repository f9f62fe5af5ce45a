"""Ollama: chat through its OpenAI-compatible endpoints, inventory from its native API.

``/api/tags`` lists installed models with Ollama's manifest digest (a SHA-256 over the manifest,
which names every layer: weights, template, parameters), so the digest pins exactly what
``ollama run`` would load. ``/api/ps`` lists the models loaded in memory now, ``/api/version``
the server's version.
"""

from __future__ import annotations

import re
from typing import Any

from inhouse.errors import RuntimeBadResponse
from inhouse.runtimes.openai_compat import OpenAICompatRuntime
from inhouse.runtimes.protocol import ModelInfo

__all__ = ["OllamaRuntime"]

_HEX64 = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


class OllamaRuntime(OpenAICompatRuntime):
    family = "ollama"

    async def models(self) -> list[ModelInfo]:
        data = await self._http.get_json("/api/tags", "the installed models (/api/tags)")
        entries = data.get("models") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise self._http.fault(RuntimeBadResponse, "answered /api/tags without a models list")
        return [self._tag(entry) for entry in entries]

    def _tag(self, entry: Any) -> ModelInfo:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise self._http.fault(
                RuntimeBadResponse, f"/api/tags listed a model without a name: {entry!r:.200}"
            )
        digest = entry.get("digest")
        match = _HEX64.fullmatch(digest) if isinstance(digest, str) else None
        if match is None:
            raise self._http.fault(
                RuntimeBadResponse,
                f"/api/tags gave {entry['name']} a digest that is not a SHA-256: {digest!r}",
            )
        size = entry.get("size")
        details = {k: v for k, v in entry.items() if k not in ("name", "digest", "size")}
        return ModelInfo(
            id=entry["name"],
            digest=f"sha256:{match.group(1)}",
            digest_source="ollama-manifest",
            size=size if isinstance(size, int) else None,
            details=details,
        )

    async def loaded(self) -> list[str]:
        """The models loaded in memory now (``/api/ps``), by name."""
        data = await self._http.get_json("/api/ps", "the loaded models (/api/ps)")
        entries = data.get("models") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise self._http.fault(RuntimeBadResponse, "answered /api/ps without a models list")
        return [str(e["name"]) for e in entries if isinstance(e, dict) and "name" in e]

    async def version(self) -> tuple[str | None, str | None]:
        data = await self._http.get_json("/api/version", "the version (/api/version)")
        version = data.get("version") if isinstance(data, dict) else None
        if not isinstance(version, str):
            raise self._http.fault(RuntimeBadResponse, "answered /api/version without a version")
        return version, None

    async def _probe(self) -> str:
        version, _ = await self.version()
        return f"Ollama {version}"
