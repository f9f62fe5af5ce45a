"""Agent boundaries as governance: every agent key and whether its boundary is enforced, and a
dry run of a proposed boundary over the tool calls the gateway recorded.

An agent key's boundary is **enforced** when the key is active, ``[policy.agents.NAME]`` exists
in ``inhouse.toml``, and the latest counted ``agent.boundary`` fact (measured by ``inhouse keys``
when a key was granted, signed by the granter) names the same tools as today's allowlist; an
allowlist edited since then was never granted by anyone, so it says "re-grant".

The dry run replays what the gateway itself would judge, with its own checker
(:func:`~inhouse.policy.tools.check_declared_tools`, :func:`~inhouse.policy.tools.check_tool_call`):
each tool a request declared (refused, or stripped with ``on_disallowed_tool = "strip"``) and
each call a model made in an answer (blocked). Tool calls a request carried back from an earlier
answer are not replayed: the gateway judges a call when the model makes it, and that answer is
replayed on its own. Where the data rules kept only a call's argument names, the call is judged
on its name and the names of its arguments; one whose constrained argument's value was not
stored is *undecided*, never guessed. Nothing is recorded; nothing changes.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from inhouse.errors import ConfigError, InvalidInput
from inhouse.jsonfiles import toml_loads
from inhouse.policy._config import problems
from inhouse.policy.tools import (
    ToolBoundary,
    Violation,
    check_declared_tools,
    check_tool_call,
    load_boundaries,
)

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.program import Program

__all__ = [
    "AgentKeyView",
    "DryRun",
    "ReplayedCall",
    "agent_keys",
    "boundary_view",
    "dry_run",
    "load_proposed_boundary",
]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentKeyView:
    """One gateway key bound to an agent, its boundary and whether that boundary holds."""

    key_id: str
    prefix: str
    person: str
    agent: str
    revoked: str | None
    boundary: dict[str, Any] | None  # [policy.agents.NAME] as configured now; None: none
    granted_tools: list[str] | None  # the tools the latest counted agent.boundary fact names
    enforced: bool
    why: str  # what "enforced" rests on, or why it is not
    #: recorded for this key: where the gateway's key is on this host, in the rows it sealed
    #: (``tool_calls_source`` "sealed"), else as the usage log says ("unsigned")
    tool_calls: int
    tool_calls_source: str = "unsigned"
    #: calls in this key's rows the gateway did not seal as they stand (left out of
    #: ``tool_calls``; None: not checked, the gateway's key is not here)
    tool_calls_unsealed: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayedCall:
    """One recorded tool call judged against a proposed boundary."""

    request_id: str
    at: str
    where: str  # "declared" (offered in a request) or "answer" (made by the model)
    tool: str
    arguments: str | None  # exactly as recorded; None where only names were stored
    argument_names: list[str] | None
    verdict: str  # "refuse" | "strip" | "block" | "allow" | "undecided"
    argument: str | None = None  # the argument at fault
    reason: str | None = None
    judged_on: str = "arguments"  # or "names" (the data rules kept no argument values)


@dataclass(slots=True, kw_only=True)
class DryRun:
    """What a proposed boundary would have done to an agent's recorded tool calls."""

    agent: str
    since: str | None
    requests: int
    blocked: list[ReplayedCall] = field(default_factory=list)
    allowed: list[ReplayedCall] = field(default_factory=list)
    undecided: list[ReplayedCall] = field(default_factory=list)
    not_replayed: int = 0  # calls carried back from earlier answers (judged where made)
    names_only: dict[str, int] = field(default_factory=dict)  # why withheld -> calls
    #: "sealed": only rows the gateway sealed were replayed (its key is on this host);
    #: "unsigned": the usage log's rows as they are, which anyone with database access writes
    source: str = "unsigned"
    #: the requests left out: rows the gateway did not seal as they stand (``source`` "sealed")
    not_sealed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "since": self.since,
            "requests": self.requests,
            "blocked": [asdict(c) for c in self.blocked],
            "allowed": [asdict(c) for c in self.allowed],
            "undecided": [asdict(c) for c in self.undecided],
            "not_replayed": self.not_replayed,
            "names_only": dict(self.names_only),
            "source": self.source,
            "not_sealed": list(self.not_sealed),
        }


def boundary_view(boundary: ToolBoundary) -> dict[str, Any]:
    """A boundary as configured (tools → argument → the constraints given)."""
    return {
        "tools": {
            tool: {arg: rule.model_dump(exclude_defaults=True) for arg, rule in rules.items()}
            for tool, rules in boundary.tools.items()
        },
        "on_disallowed_tool": boundary.on_disallowed_tool,
    }


def agent_keys(program: Program, now: datetime | None = None) -> list[AgentKeyView]:
    """Every gateway key bound to an agent (revoked ones too), oldest first; the boundaries
    granted as the checks count the log at ``now`` (default: the clock's)."""
    from inhouse.gateway.keys import list_keys
    from inhouse.program.config import read_config
    from inhouse.program.counting import build_context
    from inhouse.usage.toolcalls import tool_calls_per_key

    boundaries = load_boundaries(read_config(program.folder))
    facts = build_context(program.state(), program.clock() if now is None else now).facts
    counts = tool_calls_per_key(program.store)
    sealed_ids = _sealed(program)
    sealed: Counter[str] | None = None
    if sealed_ids is not None:
        sealed = Counter()
        for key_id, calls in sealed_ids.values():
            sealed[key_id] += calls
    granted_by_agent = {
        str(f.payload["agent"]): f for f in facts.of("agent.boundary")
    }  # latest wins
    views = []
    for key in list_keys(program.store):
        if not key.agent:
            continue
        boundary = boundaries.get(key.agent)
        granted = granted_by_agent.get(key.agent)
        tools = None if granted is None else sorted(str(t) for t in granted.payload["tools"])
        if key.revoked is not None:
            enforced, why = False, f"revoked at {key.revoked}"
        elif boundary is None:
            enforced, why = False, f"no [policy.agents.{key.agent}] in inhouse.toml: refused"
        elif tools is None:
            enforced, why = False, "no measured agent.boundary for it: re-grant its key"
        elif tools != sorted(boundary.tools):
            enforced, why = False, "changed since the key was granted: re-grant"
        else:
            enforced, why = True, f"as granted by {granted.by if granted else '?'}"
        views.append(
            AgentKeyView(
                key_id=key.id,
                prefix=key.prefix,
                person=key.person,
                agent=key.agent,
                revoked=key.revoked,
                boundary=None if boundary is None else boundary_view(boundary),
                granted_tools=tools,
                enforced=enforced,
                why=why,
                tool_calls=counts.get(key.id, 0) if sealed is None else sealed[key.id],
                tool_calls_source="unsigned" if sealed is None else "sealed",
                tool_calls_unsealed=(
                    None if sealed is None else counts.get(key.id, 0) - sealed[key.id]
                ),
            )
        )
    return views


def load_proposed_boundary(path: Path, agent: str) -> ToolBoundary:
    """A proposed boundary from a TOML file: the table ``[policy.agents.NAME]`` takes (``tools``,
    ``on_disallowed_tool``), or a whole ``inhouse.toml``-shaped file holding that table."""
    try:
        data = toml_loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(
            f"no boundary file at {path}: write the proposed boundary there in the shape of "
            f'[policy.agents.{agent}], e.g. tools = ["search"] and on_disallowed_tool = '
            '"refuse" (docs/policy.md, "Agent tool boundaries")'
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise InvalidInput(f"cannot read the boundary file {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: not valid TOML ({err})") from None
    if "policy" in data:
        found = load_boundaries(data)
        if agent not in found:
            raise ConfigError(f"{path}: no [policy.agents.{agent}] table in it")
        return found[agent]
    try:
        return ToolBoundary.model_validate({**data, "name": agent})
    except ValidationError as err:
        raise ConfigError(problems(err, str(path))) from None


def dry_run(
    program: Program, agent: str, boundary: ToolBoundary, *, since: str | None = None
) -> DryRun:
    """Replay every tool call recorded for ``agent`` (on or after UTC day ``since``) against
    ``boundary`` with the gateway's own checker. Reads only; records nothing."""
    from inhouse.gateway.keys import list_keys
    from inhouse.usage.toolcalls import agent_requests

    if since is not None and not _DAY.fullmatch(since):
        raise InvalidInput(f"--since must be a day, YYYY-MM-DD, not {since!r}")
    agents = sorted({k.agent for k in list_keys(program.store) if k.agent})
    if agent not in agents:
        known = ", ".join(agents) or "none yet"
        raise InvalidInput(
            f"no gateway key was ever bound to agent {agent!r} (agents with keys: {known})"
        )
    result = DryRun(agent=agent, since=since, requests=0)
    sealed = _sealed(program, since=since)
    if sealed is not None:
        result.source = "sealed"
    for request in agent_requests(program.store, agent, since=since):
        if sealed is not None and request.request_id not in sealed:
            result.not_sealed.append(request.request_id)  # not the gateway's record of a call
            continue
        replayed = False
        for call in request.calls:
            if call.get("where") not in ("declared", "answer"):
                result.not_replayed += 1
                continue
            judged = _judge(boundary, request.request_id, request.at, call)
            replayed = True
            if judged.judged_on == "names":
                why = str(call.get("withheld") or "arguments not stored")
                result.names_only[why] = result.names_only.get(why, 0) + 1
            if judged.verdict == "allow":
                result.allowed.append(judged)
            elif judged.verdict == "undecided":
                result.undecided.append(judged)
            else:
                result.blocked.append(judged)
        result.requests += replayed
    return result


def _sealed(program: Program, *, since: str | None = None) -> dict[str, tuple[str, int]] | None:
    """The agents' rows with tool calls the gateway sealed (its key on this host, never made
    here), by request id: their key id and how many calls they carried; None where the
    gateway's key is not here to tell (the usage log's rows are read as they are, unsigned)."""
    import json

    from inhouse.gateway.rollup import gateway_seal
    from inhouse.usage.authentic import authentic_rows

    seal = gateway_seal(program, make=False)
    if seal is None:
        return None
    found = authentic_rows(program.store, seal, since=since, agents_only=True)
    return {
        row.request_id: (str(row.key_id), len(json.loads(row.tool_calls or "[]")))
        for row in found.rows
    }


def _judge(boundary: ToolBoundary, request_id: str, at: str, call: dict[str, Any]) -> ReplayedCall:
    tool = str(call.get("tool") or "")
    arguments = call.get("arguments")
    names = call.get("argument_names")
    base: dict[str, Any] = {
        "request_id": request_id,
        "at": at,
        "where": str(call.get("where")),
        "tool": tool,
        "arguments": arguments if isinstance(arguments, str) else None,
        "argument_names": list(names) if isinstance(names, list) else None,
    }
    if call.get("where") == "declared":
        if not check_declared_tools(boundary, [tool]):
            return ReplayedCall(**base, verdict="allow")
        violation = check_tool_call(boundary, tool, None)  # the allowlist's own words
        verdict = "refuse" if boundary.on_disallowed_tool == "refuse" else "strip"
        what = "the request refused" if verdict == "refuse" else "the tool stripped from it"
        reason = f"declared: {violation.reason if violation else 'not allowed'} ({what})"
        return ReplayedCall(**base, verdict=verdict, reason=reason)
    if isinstance(arguments, str):
        return _verdict(base, check_tool_call(boundary, tool, arguments), "arguments")
    # only the names were kept: judge what names can tell, never guess a value
    carried = [str(n) for n in names] if isinstance(names, list) else []
    if not boundary.allows(tool):
        return _verdict(base, check_tool_call(boundary, tool, None), "names")
    rules = boundary.tools[tool]
    absent = ToolBoundary(
        name=boundary.name, tools={tool: {a: r for a, r in rules.items() if a not in carried}}
    )
    violation = check_tool_call(absent, tool, {})  # a required argument the call lacked
    if violation is not None:
        return _verdict(base, violation, "names")
    unknown = [
        a
        for a, r in rules.items()
        if a in carried
        and (r.path_prefix is not None or r.url_hosts is not None or r.regex is not None)
    ]
    if unknown:
        return ReplayedCall(
            **base,
            verdict="undecided",
            argument=unknown[0],
            reason=f"the value of {', '.join(unknown)} was not stored, and the boundary "
            "constrains it",
            judged_on="names",
        )
    return ReplayedCall(**base, verdict="allow", judged_on="names")


def _verdict(base: dict[str, Any], violation: Violation | None, judged_on: str) -> ReplayedCall:
    if violation is None:
        return ReplayedCall(**base, verdict="allow", judged_on=judged_on)
    return ReplayedCall(
        **base,
        verdict="block",
        argument=violation.argument,
        reason=violation.reason,
        judged_on=judged_on,
    )
