"""The generic OpenAI-compatible adapter (vLLM, LM Studio, llama-cpp-python's server), and the
base the family adapters extend: they keep its chat and add what their native API knows.

A digest pins what the runtime says it loaded, never what the config alone says. A model id,
``root`` (or llama-server's ``/props`` path) that is a GGUF on this machine, by absolute path, is
hashed; a ``root`` inside a Hugging Face snapshot folder (how vLLM reports a model loaded from
the hub cache) names the commit. The configured ``model_path`` is hashed only when the runtime
names that file: on this machine the same file, for a server on another host (or in a
container) a file of the same name. A server that lists a model under an alias names no file,
and a config naming one is no evidence it was loaded: such a model has no digest and says why
(``ModelInfo.why_no_digest``). vLLM's ``/v1/models`` carries no revision of its own, so a vLLM
started with a bare repo id (``vllm serve org/name``) has no digest: serve a snapshot path.
Whatever is hashed as weights must be a GGUF model file (``digests.gguf_problem``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Mapping
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, ClassVar, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from inhouse import figures
from inhouse.errors import (
    ConfigError,
    RuntimeBadResponse,
    RuntimeFault,
    validation_problem_list,
)
from inhouse.runtimes._http import HttpClient, NotServed
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.digests import gguf_problem, sha256_digest
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

__all__ = ["PIN_FIX", "OpenAICompatRuntime"]

#: what to do when a served model has no digest: make the runtime itself name its weights
PIN_FIX = (
    "serve the model by its file's absolute path (llama.cpp's `llama-server -m /path/to.gguf`, "
    "llama-cpp-python's server without --model_alias, vLLM on a Hugging Face snapshot folder), "
    "use the embedded runtime (`inhouse runtime serve MODEL.gguf`), or a family whose API names "
    "its weights (ollama)"
)

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
        look_behind: bool = True,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """``look_behind=False`` (a caller that wants no proof that answers came from this
        machine, as the gateway): no look behind the connections, even for a runtime inhouse
        serves; its peers are judged by address alone. ``headers``: sent with every request
        (``workflow run --gateway``: the person's own gateway key and the workflow's name)."""
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
            # a runtime inhouse serves must be seen serving here, not only answer from here
            look_behind=look_behind and self.capabilities.served_by_inhouse,
            headers=headers,
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

    @property
    def served_files(self) -> frozenset[str]:
        """The ``--model`` files of inhouse's runtime found behind the answers' connections
        (a runtime inhouse serves; empty for any other)."""
        return self._http.served_files

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
        named = await self._named_paths(len(entries))
        return [await self._model_info(entry, named) for entry in entries]

    async def _named_paths(self, served: int) -> list[str]:
        """Model files the runtime names beyond ``/v1/models`` (llama-server's ``/props``);
        none here. Only what the runtime says: the config's ``model_path`` is not one."""
        return []

    async def _model_info(self, entry: dict[str, Any], named: list[str]) -> ModelInfo:
        model_id: str = entry["id"]
        details = {k: v for k, v in entry.items() if k != "id"}
        root = entry.get("root")
        names = [n for n in (model_id, root if isinstance(root, str) else None, *named) if n]
        # A path a server on another host reports names a file on *its* disk; a same-named file
        # here would be a false match. Judged by the addresses that answered (the model list
        # among them), not the url's name.
        here = answered_here(self.peers)
        why: list[str] = []
        for name in names:
            path = Path(name).expanduser()
            # a relative path is relative to the server's folder, which is not known here
            if here and path.is_absolute() and path.is_file():
                info = await self._pinned_file(model_id, path, details)
                if info.digest is not None:
                    return info
                why.append(info.why_no_digest or "")
        for name in names:
            match = _SNAPSHOT.search(name)
            if match:
                return ModelInfo(
                    id=model_id,
                    digest=f"hf-revision:{match.group(1)}",
                    digest_source="hf-revision",
                    path=name,
                    details=details,
                )
        configured = self.config.model_path
        if configured is not None:
            tie = _named_as(configured, names, here=here)
            if tie is None:
                why.append(
                    f"the configured model_path {configured} is no file runtime {self.name} "
                    f"names for {model_id!r} (it names: {', '.join(names)}); pinning its hash "
                    "would take the config's word for what the runtime loaded"
                )
            elif not configured.is_file():
                why.append(
                    f"runtime {self.name} names {tie} for {model_id!r}, but the configured "
                    f"model_path {configured} is not a file on this machine"
                )
            else:
                info = await self._pinned_file(model_id, configured, details)
                if info.digest is not None:
                    return info
                why.append(info.why_no_digest or "")
        elif not here and any(_looks_like_a_file(n) for n in names):
            why.append(
                f"runtime {self.name} answers from another host; the file it names is on that "
                "host's disk: set model_path to this machine's copy of it (the same file name)"
            )
        reason = "; ".join(dict.fromkeys(w for w in why if w)) or (
            f"runtime {self.name} names no model file or Hugging Face revision for "
            f"{model_id!r} (it names: {', '.join(names)})"
        )
        return ModelInfo(id=model_id, details=details, why_no_digest=f"{reason}: {PIN_FIX}")

    async def _pinned_file(self, model_id: str, path: Path, details: dict[str, Any]) -> ModelInfo:
        """``model_id`` pinned by the SHA-256 of ``path``, a file on this machine the caller has
        tied to it; without a digest (and saying why) when the file is not a GGUF model."""
        problem = await asyncio.to_thread(gguf_problem, path)
        if problem is not None:
            return ModelInfo(
                id=model_id,
                details=details,
                why_no_digest=f"{problem}, so it is not taken as the weights of {model_id!r}",
            )
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
        return f"serving {figures.count(count, 'models')}"


def _file_name(name: str) -> str:
    """The last part of a path from either kind of machine."""
    return PureWindowsPath(PurePosixPath(name).name).name


def _looks_like_a_file(name: str) -> bool:
    return _file_name(name).lower().endswith(".gguf")


def _named_as(configured: Path, names: list[str], *, here: bool) -> str | None:
    """The name by which the runtime names the configured file, or None when it names it by
    none: then the file's hash would be the config's word alone. On this machine a runtime
    that names an absolute path here must name that very file; a path inhouse cannot read as
    the server does (on another host, in a container here, or relative to the folder the
    server was started in, as llama.cpp's ``llama-server -m models/x.gguf``) names it by its
    ``.gguf`` file name."""
    for name in names:
        named = Path(name).expanduser()
        if here and named.is_absolute() and named.exists():
            if _same_file(named, configured):
                return name
            continue
        if _looks_like_a_file(name) and _file_name(name) == configured.name:
            return name
    return None


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False
