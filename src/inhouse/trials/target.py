"""What the load generator sends, and to where: a server (:class:`Target`) and its prompts (a
text, or a list of chat messages; :func:`read_prompts` reads them from a JSONL file).

    Target("http://127.0.0.1:8080", model="llama3", max_tokens=128).body("Hello")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from inhouse.errors import InvalidInput
from inhouse.jsonfiles import read_jsonl

__all__ = ["Prompt", "Target", "read_prompts"]

#: a prompt is the text of one user message, or a full list of chat messages
Prompt = str | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Target:
    """Where to send requests. ``url`` is the server's base URL, with or without ``/v1``."""

    url: str
    model: str
    api: Literal["chat", "completions"] = "chat"
    max_tokens: int | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 600.0
    #: more fields for every request body (temperature, seed…)
    extra_body: Mapping[str, Any] = field(default_factory=dict)
    #: a runtime inhouse serves: each connection's server end must be inhouse's runtime for its
    #: answers to count as this machine's (:func:`inhouse.runtimes.local.vouched_peer`)
    look_behind: bool = False

    @property
    def base_url(self) -> str:
        url = self.url.strip().rstrip("/")
        for suffix in ("/chat/completions", "/completions"):
            if url.endswith(suffix):
                url = url[: -len(suffix)]
        return url[:-3] if url.endswith("/v1") else url

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/v1/{'chat/completions' if self.api == 'chat' else 'completions'}"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    def body(self, prompt: Prompt) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model}
        if self.api == "chat":
            body["messages"] = (
                [{"role": "user", "content": prompt}]
                if isinstance(prompt, str)
                else [dict(m) for m in prompt]
            )
        elif isinstance(prompt, str):
            body["prompt"] = prompt
        else:
            raise InvalidInput("the completions API takes text prompts, not chat messages")
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        body.update(self.extra_body)
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
        return body


def read_prompts(path: Path) -> list[Prompt]:
    """Prompts from a JSONL file: per line a JSON string, ``{"prompt": "…"}`` or
    ``{"messages": [{"role": …, "content": …}, …]}``. Blank lines are skipped; a bad line raises
    :class:`~inhouse.errors.InvalidInput` naming it (``file:line: problem``)."""
    prompts = [_prompt(item, f"{path}:{number}") for number, item in read_jsonl(path)]
    if not prompts:
        raise InvalidInput(f"{path} holds no prompts")
    return prompts


def _prompt(item: Any, where: str) -> Prompt:
    if isinstance(item, dict) and "prompt" in item:
        item = item["prompt"]
    elif isinstance(item, dict) and "messages" in item:
        messages = item["messages"]
        if not (
            isinstance(messages, list)
            and messages
            and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
        ):
            raise InvalidInput(f"{where}: messages must be a list of {{role, content}} objects")
        return messages
    if not isinstance(item, str) or not item:
        raise InvalidInput(
            f'{where}: expected a string, {{"prompt": "..."}} or {{"messages": [...]}}'
        )
    return item
