"""The one runtime protocol: what every model runtime adapter offers, and the shapes it speaks.

Requests and replies follow OpenAI's chat-completions shape because every runtime we support
(Ollama, llama.cpp's server, vLLM, LM Studio, llama-cpp-python) serves it. Fields a runtime adds
beyond that shape are kept (``extra="allow"``) so nothing it said is lost on the way through.
Inventory adds what OpenAI's API does not say: a content digest that names the exact weights,
and ``peers`` which addresses actually answered.
:class:`RuntimeCapabilities` says what a family needs from the machine around it, so the code that
sets a runtime up (play 2's install script, ``BASELINE.md``, ``baseline verify``) asks the adapter
instead of testing family names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ChatChoice",
    "ChatChunk",
    "ChatMessage",
    "ChatRequest",
    "ChatResponse",
    "ChunkChoice",
    "ChunkDelta",
    "DigestSource",
    "FunctionCall",
    "Health",
    "Inventory",
    "ModelInfo",
    "Runtime",
    "RuntimeCapabilities",
    "ToolCall",
    "Usage",
]


class _Open(BaseModel):
    """A wire shape that keeps fields it does not name (runtimes add their own)."""

    model_config = ConfigDict(extra="allow")


class FunctionCall(_Open):
    name: str = ""
    arguments: str = ""


class ToolCall(_Open):
    id: str = ""
    type: str = "function"
    function: FunctionCall = Field(default_factory=FunctionCall)


class ChatMessage(_Open):
    role: str
    content: str | list[Any] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None


class ChatRequest(_Open):
    """An OpenAI chat-completions request. Unnamed fields (``top_p``, ``logit_bias``…) pass
    through to the runtime untouched; ``stream`` is set by the adapter, never by the caller."""

    model: str | None = None
    messages: list[ChatMessage]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: str | list[str] | None = None
    seed: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None

    def body(self, *, stream: bool, default_model: str | None) -> dict[str, Any]:
        """The JSON body to send: unset fields left out, ``model`` filled from the default."""
        data = self.model_dump(exclude_none=True)
        data.pop("stream", None)
        if "model" not in data and default_model is not None:
            data["model"] = default_model
        data["stream"] = stream
        return data


class Usage(_Open):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatChoice(_Open):
    index: int = 0
    message: ChatMessage
    finish_reason: str | None = None


class ChatResponse(_Open):
    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[ChatChoice] = Field(min_length=1)
    usage: Usage | None = None

    @property
    def text(self) -> str:
        """The first choice's text ('' when it answered with tool calls only)."""
        content = self.choices[0].message.content
        return content if isinstance(content, str) else ""


class ChunkDelta(_Open):
    role: str | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class ChunkChoice(_Open):
    index: int = 0
    delta: ChunkDelta = Field(default_factory=ChunkDelta)
    finish_reason: str | None = None


class ChatChunk(_Open):
    """One server-sent event of a streamed chat completion."""

    id: str = ""
    object: str = "chat.completion.chunk"
    created: int = 0
    model: str = ""
    choices: list[ChunkChoice] = Field(default_factory=list)
    usage: Usage | None = None

    @property
    def text(self) -> str:
        """The text this chunk adds ('' for role-only, tool-call or final chunks)."""
        if not self.choices:
            return ""
        return self.choices[0].delta.content or ""


#: where a digest came from, so a reader knows what it pins:
#: ``file-sha256`` the GGUF file's bytes; ``ollama-manifest`` Ollama's manifest digest (pins the
#: weights and the Modelfile); ``hf-revision`` the Hugging Face commit the weights were loaded from.
DigestSource = Literal["file-sha256", "ollama-manifest", "hf-revision"]


class ModelInfo(BaseModel):
    """A model a runtime has installed or serves."""

    model_config = ConfigDict(frozen=True)

    id: str
    digest: str | None = None
    digest_source: DigestSource | None = None
    path: str | None = None
    size: int | None = None
    is_test_model: bool = False
    details: dict[str, Any] = Field(default_factory=dict)
    #: why there is no digest, and what would give one (None when there is one): e.g. a
    #: configured ``model_path`` the runtime never named, or a named file that is no GGUF
    why_no_digest: str | None = None


class Inventory(BaseModel):
    """What a runtime is (family, version/build) and what it serves, each model with a digest."""

    runtime: str
    family: str
    url: str
    version: str | None = None
    build: str | None = None
    models: list[ModelInfo] = Field(default_factory=list)


class Health(BaseModel):
    """Whether a runtime answers. ``health()`` reports a runtime that is down; it never raises."""

    runtime: str
    family: str
    url: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class RuntimeCapabilities:
    """What a runtime family needs from the machine it runs on, as an adapter declares it.

    The defaults describe most families: a server someone else runs, reached at the ``url`` of
    its ``[runtimes.NAME]`` table, needing nothing beyond inhouse's own dependencies."""

    #: inhouse starts this runtime itself (``inhouse runtime serve``) on loopback, so there is no
    #: url to configure and a fresh machine's set-up starts it
    served_by_inhouse: bool = False
    #: the extra of the ``inhouse`` package the adapter needs installed (``inhouse[EXTRA]``)
    package_extra: str | None = None


@runtime_checkable
class Runtime(Protocol):
    """A model runtime, reached over HTTP. Use it as an async context manager (it holds a
    connection pool). Faults raise :class:`inhouse.errors.RuntimeFault` subclasses naming the
    runtime and its URL: ``RuntimeUnavailable`` (down, connection lost), ``RuntimeTimeout``
    (slower than the configured timeout), ``RuntimeBadResponse`` (answered garbage).

    ``capabilities`` is a class attribute, read before any runtime is opened (see
    :func:`inhouse.runtimes.capabilities.runtime_capabilities`). ``peers`` says which addresses
    really answered, for the rules that ask whether a runtime is on this machine."""

    capabilities: ClassVar[RuntimeCapabilities]
    name: str
    family: str
    url: str

    @property
    def peers(self) -> frozenset[str]:
        """The IP address of each server whose answer this runtime received so far, read from
        the connection that carried it as the answer arrived (never by resolving ``url``
        again); ``"unknown"`` for an answer no network connection carried. What
        :func:`inhouse.runtimes.local.answered_here` judges."""
        ...

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """One chat completion."""
        ...

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """A streamed chat completion, chunk by chunk. Close it (``contextlib.aclosing``)
        if you stop reading early."""
        ...

    async def models(self) -> list[ModelInfo]:
        """What the runtime serves or has installed, each with a content digest where known."""
        ...

    async def inventory(self) -> Inventory:
        """:meth:`models` plus the runtime's own version and build."""
        ...

    async def health(self) -> Health:
        """Whether the runtime answers, as a report (never raises for a runtime that is down)."""
        ...

    async def aclose(self) -> None:
        """Release the connection pool."""
        ...

    async def __aenter__(self) -> Runtime: ...

    async def __aexit__(self, *exc_info: object) -> None: ...
