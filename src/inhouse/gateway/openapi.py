"""The gateway's own OpenAPI 3.1 document, served at ``/openapi.json``.

The request bodies are the door's own models (:mod:`inhouse.gateway.requests`), so the document
cannot drift from what the gateway accepts; ``model`` lists this gateway's blessed models. Every
error answer is OpenAI's error shape. A test fuzzes the gateway against this document
(schemathesis) and finds no 5xx.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from pydantic.json_schema import models_json_schema

from inhouse.gateway.requests import REQUEST_MODELS

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "param", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}
_ID_HEADER = {
    "X-Inhouse-Request-Id": {
        "description": "the id of this request (and of its usage record)",
        "schema": {"type": "string"},
    }
}
_PROXY_ERRORS = {
    "400": "the request's shape or size (``param`` names the field), or the runtime refused it",
    "401": "no gateway key, or an invalid or revoked one",
    "403": "a model or tool this key may not use",
    "413": "the body is over gateway.max_body_bytes",
    "429": "the key's requests per minute, tokens per day or requests in flight",
    "451": "the data rules keep a data class in the request from this model",
    "502": "the runtime failed or answered something that is not the API's",
    "503": "no runtime serves the model now (down, or its digest drifted), or the program's "
    "log revoked the gateway's own key (``service_key_revoked``: it answers nothing until "
    "its host rotates the key)",
    "504": "the runtime went silent, or its answer took too long",
}
_SUMMARIES = {
    "chat/completions": "Chat, whole or streamed (server-sent events)",
    "completions": "Text completion, whole or streamed",
    "embeddings": "Embeddings",
}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _ID_HEADER,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


@lru_cache(maxsize=8)
def openapi_document(models: tuple[str, ...]) -> bytes:
    """The document as JSON bytes, with ``model`` limited to ``models`` (the blessed ones)."""
    _, schemas = models_json_schema(
        [(model, "validation") for model in REQUEST_MODELS.values()],
        ref_template="#/components/schemas/{model}",
    )
    components: dict[str, Any] = dict(schemas.get("$defs", {}))
    names = sorted(models)
    for model in REQUEST_MODELS.values():
        schema = components[model.__name__]
        if names:
            schema["properties"]["model"] = {"type": "string", "enum": names}
        schema["required"] = sorted({*schema.get("required", []), "model"})
    components["Error"] = _ERROR
    paths: dict[str, Any] = {}
    for endpoint, model in REQUEST_MODELS.items():
        paths[f"/v1/{endpoint}"] = {
            "post": {
                "summary": _SUMMARIES[endpoint],
                "operationId": endpoint.replace("/", "_"),
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "the runtime's answer (a stream: text/event-stream)",
                        "headers": _ID_HEADER,
                        "content": {
                            "application/json": {"schema": {"type": "object"}},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    **{status: _error(text) for status, text in _PROXY_ERRORS.items()},
                },
            }
        }
    paths["/v1/models"] = {
        "get": {
            "summary": "The blessed models this key may use",
            "operationId": "models",
            "security": [{"bearer": []}],
            "responses": {
                "200": {
                    "description": "a list of models",
                    "headers": _ID_HEADER,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "401": _error(_PROXY_ERRORS["401"]),
                "403": _error("a key bound to an agent without a tool boundary"),
                "503": _error("the program's log revoked the gateway's own key"),
            },
        }
    }
    for path, summary, kind in (
        (
            "/healthz",
            "Status, models, nodes and their health; the usage log's backlog (a rollout lead's "
            "own key adds where nodes are and why they are down)",
            "application/json",
        ),
        (
            "/metrics",
            "Prometheus metrics by model (a rollout lead's own key adds each person's series)",
            "text/plain",
        ),
        ("/openapi.json", "This document", "application/json"),
    ):
        paths[path] = {
            "get": {
                "summary": summary,
                "operationId": path.strip("/").replace(".", "_"),
                "responses": {
                    "200": {
                        "description": summary,
                        "headers": _ID_HEADER,
                        "content": {kind: {"schema": {}}},
                    },
                },
            }
        }
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "inhouse gateway",
            "version": "1",
            "description": "OpenAI's API in front of the blessed models (docs/gateway.md).",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
    return json.dumps(document).encode()
