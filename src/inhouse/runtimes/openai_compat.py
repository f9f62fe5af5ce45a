"""The generic OpenAI-compatible adapter (vLLM, LM Studio, llama-cpp-python's server), and the
base the family adapters extend: they keep its chat and add what their native API knows.

Digests here come from what ``/v1/models`` says: a model id or ``root`` that is a GGUF file on
this machine is hashed; a ``root`` inside a Hugging Face snapshot folder (how vLLM reports a model
loaded from the hub cache) names the commit; ``model_path`` in the config is hashed when the
server serves a single model. vLLM's ``/v1/models`` carries no revision of its own, so a vLLM
started with a bare repo id (``vllm serve org/name``) has no digest: serve a snapshot path.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from inhouse.errors import (
    ConfigError,
    RuntimeBadResponse,
    RuntimeFault,
    validation_problem_list,
)
from inhouse.runtimes._http import HttpClient, NotServed
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.digests import sha256_digest
from inhouse.runtimes.local import answered_here
from inhouse.runtimes.protocol import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    Health,
    Inventory,
    ModelInfo,
    RuntimeCapabilities,
)
from inhouse.runtimes.testmodel import is_test_model

__all__ = ["OpenAICompatRuntime"]

_M = TypeVar("_M", bound=BaseModel)
_SNAPSHOT = re.compile(r"/snapshots/([0-9a-f]{40})(?:/|$)")


class OpenAICompatRuntime:
    """Any server that speaks OpenAI's ``/v1/chat/completions`` and ``/v1/models``."""

    family = "openai"
    capabilities: ClassVar[RuntimeCapabilities] = RuntimeCapabilities()

    def __init__(
        self,
        config: RuntimeConfig,
        *,
        program: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        config = self._configured(config, program)
        url = self._resolve_url(config, program)
        self.config = config
        self.name = config.name
        self.url = url
        self._http = HttpClient(
            runtime=config.name,
            url=url,
            timeout=config.timeout,
            connect_timeout=config.connect_timeout,
            api_key=config.api_key(),
            transport=transport,
        )

    def _configured(self, config: RuntimeConfig, program: Path | None) -> RuntimeConfig:
        """The config as this adapter runs it: a family may fill in what it knows itself (the
        embedded server, what ``serve`` recorded)."""
        return config

    def _resolve_url(self, config: RuntimeConfig, program: Path | None) -> str:
        if config.url is None:
            raise ConfigError(
                f"runtime {config.name!r} (family {self.family}) needs a url, "
                'e.g. url = "http://127.0.0.1:8080"'
            )
        return config.url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.url}>"

    @property
    def peers(self) -> frozenset[str]:
        return self._http.peers

    # -- chat -----------------------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        body = request.body(stream=False, default_model=self.config.model)
        data = await self._http.post_json("/v1/chat/completions", body, "a chat request")
        return self._shape(ChatResponse, data, "a chat request")

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        body = request.body(stream=True, default_model=self.config.model)
        async for event in self._http.stream_events(
            "/v1/chat/completions", body, "a streamed chat request"
        ):
            yield self._shape(ChatChunk, event, "a streamed chat request")

    def _shape(self, model: type[_M], data: Any, what: str) -> _M:
        """Validate a reply against the API's shape; a mismatch is the runtime's fault."""
        try:
            return model.model_validate(data)
        except ValidationError as err:
            first = validation_problem_list(err)[0]
            raise self._http.fault(
                RuntimeBadResponse,
                f"answered {what} in an unexpected shape: {first.field or '(top level)'}: "
                f"{first.message}",
            ) from None

    # -- inventory ------------------------------------------------------------------------------

    async def models(self) -> list[ModelInfo]:
        data = await self._http.get_json("/v1/models", "the model list")
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and isinstance(e.get("id"), str) for e in entries
        ):
            raise self._http.fault(
                RuntimeBadResponse,
                "answered the model list without a data list of {id: …} objects",
            )
        extra = await self._local_paths(len(entries))
        return [await self._model_info(entry, extra) for entry in entries]

    async def _local_paths(self, served: int) -> list[str]:
        """Files that may hold the served weights beyond what ``/v1/models`` names: the
        configured ``model_path``, when the server serves one model."""
        if served == 1 and self.config.model_path is not None:
            return [str(self.config.model_path)]
        return []

    async def _model_info(self, entry: dict[str, Any], extra: list[str]) -> ModelInfo:
        details = {k: v for k, v in entry.items() if k != "id"}
        root = entry.get("root")
        candidates = [entry["id"], root if isinstance(root, str) else None, *extra]
        # A path a remote server reports names a file on *its* disk; a same-named file here
        # would be a false match. Only the configured model_path is trusted for remote servers,
        # judged by the addresses that answered (the model list among them), not the url's name.
        configured = str(self.config.model_path) if self.config.model_path else None
        here = answered_here(self.peers)
        local = candidates if here else [p for p in extra if p == configured]
        for candidate in local:
            info = await self._file_model(entry["id"], candidate, details)
            if info is not None:
                return info
        for candidate in candidates:
            match = _SNAPSHOT.search(candidate or "")
            if match:
                return ModelInfo(
                    id=entry["id"],
                    digest=f"hf-revision:{match.group(1)}",
                    digest_source="hf-revision",
                    path=candidate,
                    details=details,
                )
        return ModelInfo(id=entry["id"], details=details)

    async def _file_model(
        self, model_id: str, candidate: str | None, details: dict[str, Any]
    ) -> ModelInfo | None:
        """A ModelInfo digested from a local file, if ``candidate`` names one on this machine."""
        if not candidate:
            return None
        path = Path(candidate).expanduser()
        if not path.is_file():
            return None
        # Hashing a large file would stall the event loop for seconds.
        digest = await asyncio.to_thread(sha256_digest, path)
        test = await asyncio.to_thread(is_test_model, path)
        return ModelInfo(
            id=model_id,
            digest=digest,
            digest_source="file-sha256",
            path=str(path.resolve()),
            size=path.stat().st_size,
            is_test_model=test,
            details=details,
        )

    async def version(self) -> tuple[str | None, str | None]:
        """(version, build) as the runtime reports them; ``/version`` is vLLM's."""
        try:
            data = await self._http.get_json("/version", "the version", optional=True)
        except (NotServed, RuntimeBadResponse):
            # Servers without /version may answer anything there (an HTML page, a 400).
            return None, None
        version = data.get("version") if isinstance(data, dict) else None
        return (str(version) if version is not None else None), None

    async def inventory(self) -> Inventory:
        models = await self.models()
        version, build = await self.version()
        return Inventory(
            runtime=self.name,
            family=self.family,
            url=self.url,
            version=version,
            build=build,
            models=models,
        )

    async def health(self) -> Health:
        try:
            detail = await self._probe()
        except RuntimeFault as fault:
            return Health(
                runtime=self.name, family=self.family, url=self.url, ok=False, detail=str(fault)
            )
        return Health(runtime=self.name, family=self.family, url=self.url, ok=True, detail=detail)

    async def _probe(self) -> str:
        """Ask the cheapest question that proves the runtime serves; return what it said."""
        data = await self._http.get_json("/v1/models", "a health check")
        count = len(data.get("data") or []) if isinstance(data, dict) else 0
        return f"serving {count} model(s)"
