"""Reading the prompt library and its measured use: listings, one prompt shown, the diff of
two versions, and the use per version summed from the gateway's usage log."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import yaml

from inhouse.program.facts import Provenance, validate_payload
from inhouse.usage.authentic import (
    GATEWAY_SERVICE,
    Rejected,
    Seal,
    authentic_rows,
    left_out_message,
)
from inhouse.usage.prompts import PromptUse, prompt_use
from inhouse.usage.totals import ANSWERED_BELOW

if TYPE_CHECKING:
    from inhouse.program import Program

from inhouse.pilot.adoption import COLLECTOR as USAGE_COLLECTOR  # the job that measures use
from inhouse.pilot.library import PromptVersion, library

__all__ = [
    "diff_prompts",
    "dump_yaml",
    "list_prompts",
    "plain_body",
    "prompt_usage",
    "record_prompt_usage",
    "show_prompt",
]


# -- reading ---------------------------------------------------------------------------------


def plain_body(version: PromptVersion) -> dict[str, Any]:
    """A version's messages and variables as a person writes them (defaults left out): what
    ``show``, ``diff`` and the export print."""
    variables: dict[str, Any] = {}
    for name, variable in version.body.variables.items():
        entry: dict[str, Any] = {"type": variable.type}
        if variable.description:
            entry["description"] = variable.description
        if variable.default is not None:
            entry["default"] = variable.default
        variables[name] = entry
    data: dict[str, Any] = {
        "messages": [{"role": m.role, "content": m.content} for m in version.body.messages]
    }
    if variables:
        data["variables"] = variables
    if version.description:
        data["description"] = version.description
    return data


def list_prompts(program: Program) -> list[dict[str, Any]]:
    """One row per prompt: its author, versions, labels and production requests waiting."""
    rows = []
    for name, prompt in sorted(library(program).prompts.items()):
        rows.append(
            {
                "name": name,
                "author": prompt.byline,
                "versions": len(prompt.versions),
                "labels": dict(sorted(prompt.labels.items())),
                "pending": [f"{m.ref} by {m.by}" for m in prompt.pending],
                "description": prompt.current().description,
            }
        )
    return rows


def show_prompt(program: Program, ref: str) -> dict[str, Any]:
    """The version ``ref`` names (its body, author, hash, labels) and its prompt's history."""
    found = library(program)
    version = found.resolve(ref, param=None)
    prompt = found.prompts[version.prompt]
    return {
        "prompt": version.prompt,
        "version": version.version,
        "id": version.id,
        "content_hash": version.content_hash,
        "author": version.byline,
        "at": version.at.isoformat(),
        "labels": prompt.labels_of(version.version),
        **plain_body(version),
        "versions": [
            {"version": v.version, "author": v.byline, "at": v.at.isoformat(),
             "labels": prompt.labels_of(v.version)}
            for v in prompt.versions.values()
        ],
        "moves": [
            {"label": m.label, "version": m.version, "state": m.state, "by": m.by,
             "at": m.at.isoformat(), "effective": m.effective, "note": m.note}
            for m in prompt.moves
        ],
        "pending": [f"{m.ref} by {m.by}" for m in prompt.pending],
    }  # fmt: skip


def dump_yaml(data: Any) -> str:
    """YAML with sorted keys and multi-line texts as blocks: stable, readable diffs."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=True, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def diff_prompts(program: Program, a: str, b: str) -> str:
    """A unified diff of two versions (messages, variables, description), each named by
    ``NAME@VERSION`` or ``NAME@LABEL``; empty when they are the same."""
    found = library(program)
    old, new = found.resolve(a, param=None), found.resolve(b, param=None)
    lines = difflib.unified_diff(
        dump_yaml(plain_body(old)).splitlines(keepends=True),
        dump_yaml(plain_body(new)).splitlines(keepends=True),
        fromfile=old.id,
        tofile=new.id,
    )
    return "".join(lines)


# -- measured use --------------------------------------------------------------------------------


def prompt_usage(program: Program) -> list[dict[str, Any]]:
    """Per library prompt version used through the gateway: answered uses, distinct users,
    uses by people other than the version's author, and the last day it was used (the
    ``prompt.usage`` payloads but who used it), from the usage log by SQL; ordered by prompt
    and version. What the gateway signs is summed from its own rows instead, and names who
    used each version (:func:`record_prompt_usage`). As there, a request through a key
    fetched in its person's name by a key that never signed in as them (:func:`not_their_fetch`)
    counts in ``uses`` and makes nobody a user or another's use."""
    from inhouse.program.counting import not_their_fetch

    uses = prompt_use(program.store, not_their_fetch(program.state()))
    return [
        {key: value for key, value in usage.items() if key != "people"}
        for usage in _per_version(program, uses)
    ]


def _authentic_use(
    program: Program, mac_key: Seal
) -> tuple[
    list[PromptUse],
    list[PromptUse],
    list[Rejected],
    dict[tuple[str, str, str], int],
    dict[tuple[str, str], tuple[str, int]],
]:
    """:func:`prompt_use` summed from the rows naming a prompt whose MAC verifies (only the
    rows the compaction horizon keeps) and whose weights a lock the log recorded that day
    blessed (the rollup's rule): the requests the gateway sent the version, and apart from them
    those whose client only named it (``prompt_sent`` 0; a row from before the column, NULL,
    is read as sent, as it was then); the rows left out, and the answered requests not counted
    for their weights; and per (prompt id, person) the last day it was sent through a key of
    their own and how many times (an agent's requests are nobody's use: whoever runs the agent
    drives them)."""
    from inhouse.gateway.rollup import blessed_by_day, split_blessed
    from inhouse.program.counting import not_their_fetch

    found = authentic_rows(program.store, mac_key, prompts_only=True)
    rows, unblessed = split_blessed(found.rows, blessed_by_day(program))
    theirs_not = not_their_fetch(program.state())  # a lead's fetch in their name: not theirs
    sent: dict[tuple[str, str], tuple[int, str]] = {}
    named: dict[tuple[str, str], tuple[int, str]] = {}
    own: dict[tuple[str, str], tuple[str, int]] = {}
    for row in rows:
        if row.status < ANSWERED_BELOW:
            sums = named if row.prompt_sent == 0 else sent
            count, last = sums.get((row.prompt_id, row.person), (0, ""))
            sums[(row.prompt_id, row.person)] = (count + 1, max(last, row.day))
            if sums is sent and not row.agent and row.key_id not in theirs_not:
                key = (row.prompt_id, row.person)
                day, uses = own.get(key, ("", 0))
                own[key] = (max(day, row.day), uses + 1)
    return _uses(sent), _uses(named), found.rejected, unblessed, own


def _uses(sums: dict[tuple[str, str], tuple[int, str]]) -> list[PromptUse]:
    return [
        PromptUse(prompt=prompt, person=person, requests=count, last_day=last)
        for (prompt, person), (count, last) in sorted(sums.items())
    ]


def _per_version(
    program: Program,
    uses: Sequence[PromptUse],
    named: Sequence[PromptUse] = (),
    own: Mapping[tuple[str, str], tuple[str, int]] | None = None,
) -> list[dict[str, Any]]:
    """``uses`` summed per library version; ``named``, the requests whose client only named
    a version (never sent it), count for nothing but name their people in ``named_only``;
    ``own`` (the gateway's signed sums only): each person's last day sent it through a key of
    their own, in ``used_by``, and how many times: there ``users`` and ``uses_by_others``
    count people's own-key use only (an agent's requests are whoever runs the agent's, so a
    lead's agent key would be "others" using the lead's prompt); ``uses`` counts every
    request the gateway sent it in. Without ``own`` (the summary tables), every key counts
    for ``users`` and ``uses_by_others`` but the keys each row's ``not_own`` counts."""
    found = library(program)
    sums: dict[tuple[str, int], dict[str, Any]] = {}
    for row in uses:
        version = found.find(row.prompt)
        if version is None:
            continue  # an id no library version has: not a library prompt
        entry = sums.setdefault(
            (version.prompt, version.version),
            {"prompt": version.prompt, "version": version.version, "uses": 0, "users": 0,
             "uses_by_others": 0, "last_used": row.last_day, "people": []},
        )  # fmt: skip
        entry["uses"] += row.requests
        entry["people"].append(row.person)
        # the unsigned sums (the summary table) cannot tell an agent's key: every key counts,
        # but those fetched in the person's name by someone else (``not_own``)
        mine = (
            row.requests - row.not_own if own is None
            else own.get((row.prompt, row.person), ("", 0))[1]
        )  # fmt: skip
        entry["users"] += mine > 0
        # an imported version's author is unknown: none of its uses is known to be another's
        if version.author is not None and row.person != version.author:
            entry["uses_by_others"] += mine
        entry["last_used"] = max(entry["last_used"], row.last_day)
        if own is not None:
            used_by = entry.setdefault("used_by", {})
            day, _ = own.get((row.prompt, row.person), ("", 0))
            if day:
                used_by[row.person] = max(used_by.get(row.person, ""), day)
    for row in named:
        version = found.find(row.prompt)
        if version is None:
            continue
        # a version only named: a fact that names who named it, and counts no use of it
        entry = sums.setdefault(
            (version.prompt, version.version),
            {"prompt": version.prompt, "version": version.version, "uses": 0, "users": 0,
             "uses_by_others": 0, "last_used": None, "people": []},
        )  # fmt: skip
        entry.setdefault("named_only", []).append(row.person)
        if own is not None:
            entry.setdefault("used_by", {})
    for entry in sums.values():
        entry["people"] = sorted(set(entry["people"]))
        if "named_only" in entry:
            entry["named_only"] = sorted(set(entry["named_only"]) - set(entry["people"]))
    return [sums[key] for key in sorted(sums)]


def record_prompt_usage(program: Program, notes: list[str] | None = None) -> list[dict[str, Any]]:
    """Record a ``prompt.usage`` fact for every version whose use is new or changed since the
    last one, signed by the gateway's own key (a rollout lead enrols it the first time),
    summed from the request rows the gateway wrote: rows it did not write as they stand are
    left out, and named in ``notes`` where given. Returns the payloads recorded."""
    from inhouse.gateway.rollup import gateway_seal, unblessed_message
    from inhouse.program.counting import marked_service

    program.actor()  # whoever runs it must be enrolled
    service = program.as_service(GATEWAY_SERVICE)
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    state = program.state()
    for fact in state.facts:
        # not one a gateway key a marked lead's key enrolled signed (exit rule 39): whoever
        # holds it would sign each version's use first, and this would never sign one that counts
        if (
            fact.kind == "prompt.usage"
            and fact.by == GATEWAY_SERVICE
            and not marked_service(fact, state)
        ):
            payload = fact.payload
            # read as the schema reads it now: a fact from before a field has its default
            seen[(str(payload["prompt"]), int(payload["version"]))] = validate_payload(
                "prompt.usage", dict(payload)
            )
    seal = gateway_seal(program)
    assert seal is not None  # made where none was
    found = _authentic_use(program, seal)
    uses, named, rejected, unblessed, own = found
    if notes is not None:
        left_out = left_out_message(rejected, revoked=seal.revoked)
        notes += [m for m in (left_out, unblessed_message(unblessed)) if m]
    recorded = []
    for usage in _per_version(program, uses, named, own):
        if seen.get((usage["prompt"], usage["version"])) == validate_payload("prompt.usage", usage):
            continue
        service.record_fact(
            None, "prompt.usage", usage, provenance=Provenance.MEASURED, collector=USAGE_COLLECTOR
        )
        recorded.append(usage)
    return recorded
