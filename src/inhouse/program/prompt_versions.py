"""Which ``prompt.version`` facts are versions of the shared prompt library: the one rule the
library's fold (:mod:`inhouse.pilot.library`) and the checks that judge a prompt's version
(a finding closed by one, a step resting on someone else's) share.

A version counts when it is the next number of its prompt (a number someone took first, or a
gap, is no version) and its body hashes to its content hash. A fact that claims a number the
library gave another version is served to nobody: a check that took it at its word would let
its signer claim a colleague's version, or close a finding with a version nobody can use.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from pydantic import ValidationError

from inhouse.program.events import canonical_json
from inhouse.program.facts import Fact
from inhouse.program.payloads import PromptBody

__all__ = ["body_hash", "library_versions", "next_version_problem"]


def body_hash(body: PromptBody) -> str:
    """``sha256:…`` of the canonical JSON of the messages and typed variables (the description
    is not content: a version's text and variables are)."""
    text = canonical_json(body.model_dump(mode="json"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def next_version_problem(fact: Fact, held: int) -> tuple[str | None, PromptBody | None]:
    """Why ``fact`` is not the next version of a prompt that has ``held`` versions (None when it
    is), with its body."""
    payload = fact.payload
    number = int(payload["version"])
    if number != held + 1:
        return f"version {number} is not the next number of {payload['prompt']} ({held + 1})", None
    raw = payload.get("body")
    if raw is None:
        return "it carries no body", None
    try:
        body = PromptBody.model_validate(raw)
    except ValidationError:
        return "its body is no prompt body", None
    if body_hash(body) != payload["content_hash"]:
        return "its body does not hash to its content hash", None
    return None, body


def library_versions(facts: Iterable[Fact]) -> dict[tuple[str, int], Fact]:
    """The ``prompt.version`` facts among ``facts`` (in log order; the caller passes those that
    count) that are the library's versions, by (prompt, number)."""
    found: dict[tuple[str, int], Fact] = {}
    held: dict[str, int] = {}
    for fact in sorted(facts, key=lambda f: f.id):
        if fact.kind != "prompt.version":
            continue
        name = str(fact.payload["prompt"])
        problem, _ = next_version_problem(fact, held.get(name, 0))
        if problem is None:
            held[name] = held.get(name, 0) + 1
            found[(name, held[name])] = fact
    return found
