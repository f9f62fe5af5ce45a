"""Embeddings for the ``similar`` check: the seam (:class:`Embedder`) and the OpenAI-compatible
client every runtime family we support speaks (``POST /v1/embeddings``).

A runtime that does not serve embeddings (llama-cpp-python started without ``--embedding``, a
chat-only endpoint) is named in a clear :class:`EmbeddingsNotServed` error, never a vague one.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any, Protocol, Self, runtime_checkable

import httpx

from inhouse.errors import (
    EmbeddingsNotServed,
    RuntimeBadResponse,
    RuntimeTimeout,
    RuntimeUnavailable,
)
from inhouse.tls import client_context

__all__ = ["Embedder", "EmbeddingsNotServed", "HttpEmbedder", "cosine"]

#: statuses with which a server says it has no such endpoint
_NO_ENDPOINT = frozenset({404, 405, 501})


@runtime_checkable
class Embedder(Protocol):
    """Something that turns texts into vectors; ``name`` and ``url`` name it in errors."""

    name: str
    url: str

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        """One vector per text, in order."""
        ...


class HttpEmbedder:
    """``POST {url}/v1/embeddings`` on an OpenAI-compatible runtime."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        api_key: str | None = None,
        timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = url.rstrip("/").removesuffix("/v1")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            trust_env=False,
            verify=client_context(),  # the authorities the gateway and runtimes are reached with
        )

    @classmethod
    def from_config(cls, config: Any) -> HttpEmbedder:
        """From a :class:`inhouse.runtimes.RuntimeConfig` (its url, api key and timeout)."""
        if not config.url:
            raise RuntimeUnavailable(
                "has no url to ask for embeddings", runtime=config.name, url="(none)"
            )
        return cls(
            name=config.name, url=config.url, api_key=config.api_key(), timeout=config.timeout
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        # One text per request: llama-cpp-python answers a batch of several texts without
        # pooling with wrong vectors for all but the first (the same text embeds differently).
        vectors = await asyncio.gather(*(self._embed_one(text, model) for text in texts))
        return [vector for vector in vectors]

    async def _embed_one(self, text: str, model: str | None) -> list[float]:
        body: dict[str, Any] = {"input": [text]}
        if model:
            body["model"] = model
        where = {"runtime": self.name, "url": self.url}
        try:
            response = await self._client.post("/v1/embeddings", json=body)
        except httpx.TimeoutException as err:
            raise RuntimeTimeout(f"no answer to an embeddings request ({err!r})", **where) from err
        except httpx.TransportError as err:
            raise RuntimeUnavailable(
                f"cannot reach it for embeddings: is the runtime running? ({err})", **where
            ) from err
        detail = _detail(response) if response.is_error else ""
        # llama-cpp-python without --embedding answers 500 "…must be created with embedding=True"
        refused = response.status_code in (400, 500) and "embedding" in detail.lower()
        if response.status_code in _NO_ENDPOINT or refused:
            raise EmbeddingsNotServed(
                f"runtime {self.name!r} does not serve embeddings: /v1/embeddings answered HTTP "
                f"{response.status_code}: {detail}. Use a runtime that serves them "
                "(llama-cpp-python started with --embedding true, llama.cpp's server with "
                "--embeddings, an embedding model on Ollama or vLLM)",
                **where,
            )
        if response.is_error:
            raise RuntimeBadResponse(
                f"answered an embeddings request with HTTP {response.status_code}: {detail}",
                **where,
            )
        return _vectors(response, 1, where)[0]


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return repr(response.text[:200]) if response.text else "(empty body)"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail"))
        if isinstance(error, dict) and "message" in error:
            return str(error["message"])[:300]
        if error is not None:
            return str(error)[:300]
    return repr(response.text[:200])


def _vectors(response: httpx.Response, count: int, where: dict[str, str]) -> list[list[float]]:
    try:
        entries = sorted(response.json()["data"], key=lambda e: e.get("index", 0))
        vectors = [_pooled(entry["embedding"]) for entry in entries]
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RuntimeBadResponse(
            f"answered an embeddings request in an unexpected shape: {response.text[:200]!r}",
            **where,
        ) from None
    if len(vectors) != count:
        raise RuntimeBadResponse(f"answered {len(vectors)} embeddings for {count} texts", **where)
    return vectors


def _pooled(embedding: Any) -> list[float]:
    """A vector; a server without pooling answers one vector per token: average them."""
    if embedding and isinstance(embedding[0], list):
        width = len(embedding[0])
        return [sum(token[i] for token in embedding) / len(embedding) for i in range(width)]
    return [float(x) for x in embedding]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0 when either is all zeros)."""
    if len(a) != len(b):
        raise ValueError(f"vectors of different sizes: {len(a)} and {len(b)}")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0
