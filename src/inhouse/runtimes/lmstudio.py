"""LM Studio: chat through its OpenAI-compatible endpoints, inventory from its REST API v0.

``/api/v0/models`` (LM Studio 0.3.6 and newer) lists every downloaded model, loaded or not,
with its type, publisher, architecture, format and quantization, and ``state`` (``loaded`` or
``not-loaded``); LM Studio loads a downloaded model when a request names it, so all of them are
served. It names no content digest and no file, so no model it serves has a digest: a
configured ``model_path`` would be the config's word alone for which file LM Studio loaded (a
second person's verify would pass on any file the config names). Each model says so
(``why_no_digest``); pin LM Studio's weights by serving the file through a runtime that names
it (llama.cpp's server, the embedded runtime).
"""

from __future__ import annotations

from typing import Any

from inhouse import figures
from inhouse.errors import RuntimeBadResponse
from inhouse.runtimes.openai_compat import PIN_FIX, OpenAICompatRuntime
from inhouse.runtimes.protocol import ModelInfo

__all__ = ["LMStudioRuntime"]


class LMStudioRuntime(OpenAICompatRuntime):
    family = "lmstudio"

    async def _listed(self) -> list[dict[str, Any]]:
        data = await self._http.get_json("/api/v0/models", "the models (/api/v0/models)")
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries
        ):
            raise self._http.fault(
                RuntimeBadResponse, "answered /api/v0/models without a data list of {id: …}"
            )
        return entries

    async def models(self) -> list[ModelInfo]:
        found = []
        for entry in await self._listed():
            model_id = entry["id"]
            details = {k: v for k, v in entry.items() if k != "id"}
            why = f"LM Studio's /api/v0/models names no model file or digest for {model_id!r}"
            if model_id == self.config.model and self.config.model_path is not None:
                why += (
                    f", so the configured model_path {self.config.model_path} is the config's "
                    "word alone for what it loaded"
                )
            info = ModelInfo(id=model_id, details=details, why_no_digest=f"{why}: {PIN_FIX}")
            found.append(info)
        return found

    async def loaded(self) -> list[str]:
        """The models loaded in memory now (``state: loaded``)."""
        return [str(e["id"]) for e in await self._listed() if e.get("state") == "loaded"]

    async def _probe(self) -> str:
        count = len(await self._listed())
        return f"LM Studio, {figures.count(count, 'models')} downloaded"
