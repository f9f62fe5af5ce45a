"""llama.cpp's own server (``llama-server``): OpenAI chat, plus ``/props`` for inventory.

``/props`` names the model file (``model_path``) and the build (``build_info``); where that file
is on this machine its SHA-256 is the digest, and it is a name that ties a configured
``model_path`` to the server. llama-cpp-python's server speaks the same OpenAI API without
``/props`` or ``/health``; this adapter then goes by what ``/v1/models`` names (the file's path,
unless the server was started with ``--model_alias``), so it serves both.
"""

from __future__ import annotations

from typing import Any

from inhouse.errors import RuntimeBadResponse
from inhouse.runtimes._http import NotServed
from inhouse.runtimes.openai_compat import OpenAICompatRuntime

__all__ = ["LlamaCppRuntime"]


class LlamaCppRuntime(OpenAICompatRuntime):
    family = "llamacpp"

    async def props(self) -> dict[str, Any] | None:
        """llama-server's ``/props``, or None where the server has none."""
        try:
            data = await self._http.get_json(
                "/props", "the server properties (/props)", optional=True
            )
        except NotServed:
            return None
        if not isinstance(data, dict):
            raise self._http.fault(RuntimeBadResponse, "answered /props with a non-object")
        return data

    async def _named_paths(self, served: int) -> list[str]:
        paths = await super()._named_paths(served)
        props = await self.props()
        model_path = props.get("model_path") if props else None
        if served == 1 and isinstance(model_path, str) and model_path:
            paths.insert(0, model_path)
        return paths

    async def version(self) -> tuple[str | None, str | None]:
        props = await self.props()
        build = props.get("build_info") if props else None
        return None, (str(build) if build else None)

    async def _probe(self) -> str:
        try:
            data = await self._http.get_json("/health", "a health check (/health)", optional=True)
        except NotServed:
            return await super()._probe()
        status = data.get("status") if isinstance(data, dict) else None
        return f"status {status}"
