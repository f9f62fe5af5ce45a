"""The request at the door: parsed with a bounded depth, its shape checked against OpenAI's API,
and held to the per-request limits, before anything else looks at it.

A client's mistake is a 400 in OpenAI's error shape whose ``param`` names the field at fault
(``messages.0.content``), never a 500 from code further on that trusted the shape, nor a 5xx the
runtime gives for a request it cannot take (which OpenAI's clients would retry).

* **Parsing** uses pydantic-core's JSON parser: it refuses nesting deeper than 200 levels,
  lone surrogates (``"\\ud800"``, which no tokenizer can take) and ``NaN``/``Infinity`` (not
  JSON; a runtime cannot take them either) as invalid JSON, in Rust, before Python recursion
  could be exhausted.
* **Shape**: the fields the gateway and the runtimes read are checked strictly (a string is a
  string, ``"5"`` is not a number); fields it does not know are passed through untouched, since
  OpenAI's API grows and runtimes add their own.
* **Limits** (``[gateway]``): the number of messages (or inputs) and the request's estimated
  tokens against the ceiling the gateway was given, so one request cannot hold a runtime for
  everyone (the body size is refused earlier, while it is read: a 413).

The models here are also the request bodies of the gateway's OpenAPI document
(:mod:`inhouse.gateway.openapi`).
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic_core
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from inhouse.errors import BadRequest, RequestTooLong, ValidationProblem, validation_problem_list
from inhouse.gateway.calls import estimate_tokens

__all__ = [
    "REQUEST_MODELS",
    "ChatRequest",
    "CompletionRequest",
    "EmbeddingRequest",
    "parse_body",
    "validate_request",
]

_OPEN = ConfigDict(extra="allow", strict=True)


class FunctionCall(BaseModel):
    """A function call an assistant message carries back (``tool_calls[].function``)."""

    model_config = _OPEN
    name: str
    #: a JSON text, as OpenAI sends it; some clients send the object itself
    arguments: str | dict[str, Any]


class ToolCall(BaseModel):
    model_config = _OPEN
    id: str | None = None
    type: str | None = None
    function: FunctionCall


class ContentPart(BaseModel):
    """One part of a message's content (``{"type": "text", "text": …}``, an image…)."""

    model_config = _OPEN
    type: str
    text: str | None = None


class Message(BaseModel):
    model_config = _OPEN
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    function_call: FunctionCall | None = None


class FunctionDefinition(BaseModel):
    """A function the request offers the model (``tools[].function`` or ``functions[]``)."""

    model_config = _OPEN
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None


class Tool(BaseModel):
    model_config = _OPEN
    type: str
    function: FunctionDefinition


class _Sampling(BaseModel):
    """What the three endpoints that generate share."""

    model_config = _OPEN
    model: str = Field(min_length=1)
    stream: bool | None = None
    max_tokens: int | None = Field(None, ge=1)
    n: int | None = Field(None, ge=1, le=128)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream_options: dict[str, Any] | None = None


class ChatRequest(_Sampling):
    """``POST /v1/chat/completions``. ``messages`` may be left out (or empty) only when
    ``prompt`` names a library prompt for the gateway to render."""

    messages: list[Message] | None = None
    max_completion_tokens: int | None = Field(None, ge=1)
    tools: list[Tool] | None = None
    functions: list[FunctionDefinition] | None = None
    tool_choice: str | dict[str, Any] | None = None
    #: a library prompt for the gateway to render: ``{"name", "label"|"version", "variables"}``
    prompt: dict[str, Any] | None = None


class CompletionRequest(_Sampling):
    """``POST /v1/completions``."""

    prompt: str | list[str] | list[int] | list[list[int]]


class EmbeddingRequest(BaseModel):
    """``POST /v1/embeddings``."""

    model_config = _OPEN
    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(None, ge=1)


#: the body model of each proxied endpoint
REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "chat/completions": ChatRequest,
    "completions": CompletionRequest,
    "embeddings": EmbeddingRequest,
}


def parse_body(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object; a 400 for anything else (not JSON, nested deeper than
    200 levels, a lone surrogate, NaN or Infinity)."""
    try:
        body = pydantic_core.from_json(raw, cache_strings=False, allow_inf_nan=False)
    except ValueError as err:
        raise BadRequest(f"the request body is not valid JSON: {err}") from None
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    return body


def validate_request(
    endpoint: str, body: dict[str, Any], *, max_items: int, max_tokens: int | None
) -> None:
    """Check ``body``'s shape for ``endpoint`` and the per-request limits; a 400 naming the
    field at fault."""
    try:
        REQUEST_MODELS[endpoint].model_validate(body)
    except ValidationError as err:
        field, message = _first_problem(validation_problem_list(err))
        raise BadRequest(f"{field or 'the request body'}: {message}", param=field or None) from None
    where = {"chat/completions": "messages", "completions": "prompt", "embeddings": "input"}
    name = where[endpoint]
    items = body.get(name)
    count = len(items) if isinstance(items, list) else 1
    if count > max_items:
        raise RequestTooLong(
            f"{name}: {count} items, over this gateway's limit of {max_items} per request "
            "(gateway.max_items)",
            param=name,
        )
    if max_tokens is not None:
        estimate = estimate_tokens(endpoint, body)
        if estimate > max_tokens:
            raise RequestTooLong(
                f"{name}: about {estimate} tokens (estimated at 4 characters each), over this "
                f"gateway's limit of {max_tokens} per request (gateway.max_request_tokens)",
                param=name,
            )


#: parts of a pydantic error location that name a union member, not a field
_TAGS = {"str", "int", "float", "bool", "dict", "list", "none", "function-after"}


def _first_problem(problems: list[ValidationProblem]) -> tuple[str, str]:
    """The first field at fault and what is wrong with it (the union members' complaints about
    that one field joined, so ``content: 5`` reads "a valid string or a valid list")."""

    def field(problem: ValidationProblem) -> str:
        parts = [
            str(part) for part in problem.loc
            if not (isinstance(part, str) and (part in _TAGS or "[" in part or "-" in part))
        ]  # fmt: skip
        return ".".join(parts)

    first = field(problems[0])
    messages = list(dict.fromkeys(p.message for p in problems if field(p) == first))
    said = messages[0]
    for more in messages[1:]:
        said += " or " + more.removeprefix("Input should be ")
    return first, said
