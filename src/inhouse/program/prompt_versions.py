"""Which ``prompt.version`` facts are versions of the shared prompt library: the one rule the
library's fold (:mod:`inhouse.pilot.library`) and the checks that judge a prompt's version
(a finding closed by one, a step resting on someone else's) share.

A version counts when it is the next number of its prompt (a number someone took first, or a
gap, is no version) and its body hashes to its content hash. A fact that claims a number the
library gave another version is served to nobody: a check that took it at its word would let
its signer claim a colleague's version, or close a finding with a version nobody can use.

The numbers are the library's: the checks number versions over every fact the library's fold
reads (:func:`library_reads`), counted or not, and then judge only those that count
(:func:`served_versions`). Numbered over the facts that count alone, a version the library
serves but the checks set aside (its signer's key never signed in with the organisation's
sign-in) would leave its number free, and a later fact claiming it would pass for the version
the gateway serves under it: the lead's own "version 1", confirmed by her colleagues' use of
the one the library holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from inhouse.program.events import canonical_json
from inhouse.program.facts import Fact, Provenance
from inhouse.program.payloads import PromptBody

if TYPE_CHECKING:
    from inhouse.program.checks import CheckContext

__all__ = [
    "COLLECTOR",
    "body_hash",
    "library_reads",
    "library_versions",
    "next_version_problem",
    "served_versions",
]

#: the prompt library's collector (``inhouse prompts``)
COLLECTOR = "inhouse prompts"


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


def library_reads(fact: Fact, services: set[str]) -> bool:
    """Whether the library's fold reads ``fact``: its collector measured it, signed, by a person
    in their own name (a service authors no prompts). The library serves what it reads, whether
    or not the fact counts as evidence for a check."""
    return (
        fact.signed
        and fact.provenance is Provenance.MEASURED
        and fact.collector == COLLECTOR
        and fact.on_behalf_of is None
        and fact.by not in services
    )


def served_versions(ctx: CheckContext) -> dict[tuple[str, int], Fact]:
    """The library's versions, by (prompt, number), as the library numbers them (over every
    ``prompt.version`` its fold reads, counted or not), that count in ``ctx``. A version the
    library holds but that does not count is left out, and keeps its number: a fact that counts
    but claims a number the library gave another version is no version (the module's doc)."""
    services = {name for name, person in ctx.people.items() if person.service}
    counted = {fact.id for fact in ctx.facts.of("prompt.version")}
    uncounted = (item.fact for item in ctx.uncounted_of(["prompt.version"]))
    read = [f for f in (*ctx.facts.of("prompt.version"), *uncounted) if library_reads(f, services)]
    # a fact the checks count but the library does not read (one appended "on behalf of"
    # someone, say) is served to nobody either: it takes no number
    numbered = library_versions({f.id: f for f in read}.values())
    return {key: fact for key, fact in numbered.items() if fact.id in counted}
