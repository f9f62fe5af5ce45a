"""The OpenAPI 3.1 document of the dashboard's JSON API (``/openapi.json``).

One table declares every JSON route; the document is built from it. Each page's twin answers
``{"page", "viewer", ...its data}`` (docs/web.md describes every field); the shapes below pin the
top-level keys each carries, and the one error shape every failure answers in.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["openapi_document"]

_OBJECT: dict[str, Any] = {"type": "object"}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "type", "code", "message", "missing"],
            "properties": {
                "status": {"type": "integer"},
                "type": {"type": "string"},
                "code": {"type": ["string", "null"]},
                "message": {"type": "string"},
                "missing": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
}
_VIEWER = {
    "type": "object",
    "required": ["name", "roles", "team", "program"],
    "properties": {
        "name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
        "team": {"type": "string"},
        "program": {
            "type": "object",
            "required": ["name", "demo", "tampered"],
            "properties": {
                "name": {"type": "string"},
                "demo": {"type": "boolean"},
                # null, or where the log stopped verifying (every page is as of before it)
                "tampered": {
                    "type": ["object", "null"],
                    "required": ["problem", "first_bad_seq", "cut"],
                    "properties": {
                        "problem": {"type": "string"},
                        "first_bad_seq": {"type": "integer"},
                        # the log verifies, but lacks the newest event a command here saw
                        "cut": {"type": "boolean"},
                    },
                },
            },
        },
    },
}

#: (path, page name, summary, the page's own top-level keys, path/query parameters)
_PAGES: tuple[tuple[str, str, str, tuple[str, ...], tuple[dict[str, Any], ...]], ...] = (
    (
        "/index.json",
        "program",
        "The program: the six plays as a board, each person's next step",
        ("status", "next_steps"),
        (),
    ),
    (
        "/plays/{play}.json",
        "play",
        "One play: its checks, the evidence behind them, its handoff",
        ("play", "evidence", "waivers", "now", "exit_criteria"),
        (
            {
                "name": "play",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "the play's id or number",
            },
        ),
    ),
    (
        "/facts/{fact}.json",
        "fact",
        "One fact: what it says, who signed it, how it was gathered",
        ("fact",),
        (
            {
                "name": "fact",
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
        ),
    ),
    (
        "/pilot.json",
        "pilot",
        "Play 4: roster, enablement, adoption (signed; live figures apart), survey, champions, "
        "findings",
        ("roster", "adoption", "live", "survey", "champions", "findings"),
        (),
    ),
    (
        "/prompts.json",
        "prompts",
        "The prompt library: versions, labels, diffs, the use the gateway signed, live use",
        ("prompts", "signed_usage", "usage", "usage_label"),
        (),
    ),
    (
        "/support.json",
        "support",
        "Play 5's queue: tickets and the figures per component",
        ("queue", "tickets", "stats", "categories"),
        (),
    ),
    (
        "/support/tickets/{ticket}.json",
        "ticket",
        "One ticket and every step taken on it",
        ("ticket", "assign"),
        ({"name": "ticket", "in": "path", "required": True, "schema": {"type": "string"}},),
    ),
    (
        "/governance.json",
        "governance",
        "The lock, drift per node, the review, agent boundaries",
        ("lock", "lock_problem", "recorded_lock", "drift_review", "review", "agents"),
        (),
    ),
    (
        "/indicators.json",
        "indicators",
        "Play 6: leading and lagging indicators per period, the gateway's signed usage apart",
        ("available", "message", "report", "unsigned", "signed", "findings"),
        ({"name": "period", "in": "query", "required": False, "schema": {"type": "string"}},),
    ),
    (
        "/audit.json",
        "audit",
        "The event log, newest first, with each signer; the chain's check",
        ("events", "head", "older", "verification"),
        (
            {
                "name": "before",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "verify",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "enum": ["full"]},
            },
        ),
    ),
    (
        "/approvals/{code}.json",
        "approval",
        "A decision of yours waiting for your own key's approval: the command to run, what "
        "the event records",
        ("code", "command", "kind", "says", "expires", "recorded", "back"),
        ({"name": "code", "in": "path", "required": True, "schema": {"type": "string"}},),
    ),
)

#: (path, summary, form fields: name -> required)
_FORMS: tuple[tuple[str, str, dict[str, bool], tuple[str, ...]], ...] = (
    (
        "/plays/{play}/handoff",
        "Accept or reject a play's handoff, as its receiver",
        {"decision": True, "comment": False},
        ("play",),
    ),
    (
        "/pilot/survey",
        "Answer the open survey in your own name",
        {"answer": True, "benefit": False},
        (),
    ),
    (
        "/support/tickets",
        "Open a ticket",
        {"title": True, "category": True, "component": True, "description": False},
        (),
    ),
    (
        "/support/tickets/{ticket}/{step}",
        "Comment on, resolve, reopen or assign a ticket (confirm-fix is refused to a session: "
        "a ticket's opener confirms its fix with their own key, `inhouse support confirm-fix`)",
        {"text": False, "note": False, "reason": False, "person": False},
        ("ticket", "step"),
    ),
    ("/logout", "Sign out: the session ends", {}, ()),
)


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": "an error, in the dashboard's one error shape",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def _page(
    name: str, summary: str, keys: tuple[str, ...], params: tuple[dict[str, Any], ...]
) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": ["page", "viewer", *keys],
        "properties": {
            "page": {"const": name},
            "viewer": {"$ref": "#/components/schemas/Viewer"},
            **{key: {} for key in keys},
        },
    }
    return {
        "get": {
            "operationId": f"page_{name}",
            "summary": summary,
            "security": [{"session": []}],
            "parameters": list(params),
            "responses": {
                "200": {
                    "description": f"the {name} page's data",
                    "content": {"application/json": {"schema": schema}},
                },
                **_errors(400, 401, 403, 404),
            },
        }
    }


def _form(
    path: str, summary: str, fields: dict[str, bool], params: tuple[str, ...]
) -> dict[str, Any]:
    properties = {"csrf": {"type": "string"}, **{f: {"type": "string"} for f in fields}}
    required = ["csrf", *(f for f, needed in fields.items() if needed)]
    return {
        "post": {
            "operationId": "form" + re.sub(r"[^a-z]+", "_", path).rstrip("_"),
            "summary": summary + " (an HTML form: it answers a redirect to the page)",
            "security": [{"session": []}],
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in params
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": properties,
                            "required": required,
                        }
                    }
                },
            },
            "responses": {
                "303": {"description": "done: the browser goes back to the page"},
                **_errors(400, 401, 403, 404, 409),
            },
        }
    }


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, built from the tables above."""
    from inhouse import __version__

    paths: dict[str, Any] = {}
    for path, name, summary, keys, params in _PAGES:
        paths[path] = _page(name, summary, keys, params)
    for path, summary, fields, names in _FORMS:
        paths[path] = _form(path, summary, fields, names)
    paths["/login/challenge.json"] = {
        "get": {
            "operationId": "login_challenge",
            "summary": "Step 1 of sign-in: the sign-in request your key signs first (the "
            "same for any key id: it names nobody)",
            "parameters": [
                {"name": "key_id", "in": "query", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": {
                    "description": "the sign-in request to sign",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["request"],
                                "properties": {"request": _OBJECT},
                            }
                        }
                    },
                },
                **_errors(400),
            },
        },
        "post": {
            "operationId": "login_challenge_signed",
            "summary": "Step 1, signed: the sign-in request signed by its key; answers the "
            "statement your key is asked to sign",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["request", "signature"],
                            "properties": {"request": _OBJECT, "signature": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the delegation statement to sign",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["statement"],
                                "properties": {"statement": _OBJECT},
                            }
                        }
                    },
                },
                **_errors(400, 403),
            },
        },
    }
    paths["/login/delegation.json"] = {
        "post": {
            "operationId": "login_delegation",
            "summary": "Step 2 of sign-in: the statement, signed; answers the one-time link",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["statement", "signature"],
                            "properties": {"statement": _OBJECT, "signature": {"type": "string"}},
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the one-time sign-in link",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["link"],
                                "properties": {"link": {"type": "string"}},
                            }
                        }
                    },
                },
                **_errors(400, 403),
            },
        }
    }
    code = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
    signed = {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["statement", "signature"],
                    "properties": {"statement": _OBJECT, "signature": {"type": "string"}},
                }
            }
        },
    }
    # the approval's statement and the event it agrees to: asked for, and asked for again
    statement = {
        "description": "the statement and the event's payload",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["statement", "payload"],
                    "properties": {"statement": _OBJECT, "payload": _OBJECT},
                }
            }
        },
    }
    paths["/approve/{code}.json"] = {
        "get": {
            "operationId": "approval_statement",
            "summary": "The approval your key is asked to sign (`inhouse web approve`), and "
            "the event it agrees to",
            "parameters": [code],
            "responses": {
                "200": statement,
                **_errors(403, 404),
            },
        },
        "post": {
            "operationId": "approval_signed",
            "summary": "The approval, signed with your key: the decision is recorded",
            "parameters": [code],
            "requestBody": signed,
            "responses": {
                "200": {
                    "description": "recorded",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["recorded", "kind", "back"],
                                "properties": {
                                    "recorded": {"type": "boolean"},
                                    "kind": {"type": "string"},
                                    "back": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                **_errors(400, 403, 404, 409),
            },
        },
    }
    paths["/approve/{code}/renew.json"] = {
        "post": {
            "operationId": "approval_renewed",
            "summary": "The same approval, its window opening now (asked for by `inhouse web "
            "approve` once you have read for a while), and the event it agrees to",
            "parameters": [code],
            "responses": {
                "200": statement,
                **_errors(403, 404),
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "inhouse dashboard",
            "version": __version__,
            "description": "Each page's JSON twin, and the forms a signed-in person posts. "
            "Sign in with `inhouse web login`; the session is a cookie.",
        },
        "paths": paths,
        "components": {
            "schemas": {"Error": _ERROR, "Viewer": _VIEWER},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "inhouse_session"}
            },
        },
    }
