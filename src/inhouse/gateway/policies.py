"""The gateway's policy step: data-handling rules on the way in, agent tool boundaries both ways.

Rules come from :mod:`inhouse.policy` (detectors, ``[data_rules]``, ``[policy.agents.NAME]``);
this module only applies them to OpenAI request and response shapes:

* every text a request would send (:func:`request_texts`: chat message contents, tool results,
  the tool calls carried back in history, the tools offered, completion prompts, embedding
  inputs) is scanned; per the rules for that model a data class is allowed, redacted in place,
  or the request is refused with a 451 naming the class, before anything leaves the gateway;
* a key bound to an agent is refused (403) unless that agent has a boundary: an agent without
  one would otherwise call any tool (fail closed);
* a key bound to an agent may declare only the tools of that agent's allowlist: others are
  refused (403) or stripped (the agent's ``on_disallowed_tool``);
* a key bound to no agent may offer the model tools (recorded by name:
  :mod:`inhouse.gateway.toolcalls`), unless ``[policy] unbound_tools = "refuse"``: then such a
  request is refused (403), since an agent on a person's key has no boundary;
* tool calls in an answer are checked against the allowlist and its argument constraints; a
  violation blocks the answer (403, or an error event in a stream) before it reaches the agent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from inhouse import figures
from inhouse.errors import (
    AgentWithoutBoundary,
    BadRequest,
    DataClassBlocked,
    ToolCallBlocked,
    ToolNotAllowed,
)
from inhouse.gateway.sse import event_data
from inhouse.gateway.toolcalls import ArgumentFilter
from inhouse.policy import DataRules, Scanner, decide, load_rules
from inhouse.policy.tools import (
    ToolBoundary,
    Violation,
    check_declared_tools,
    check_tool_call,
    declared_tool_names,
    load_boundaries,
    load_unbound_tools,
)

__all__ = ["RequestPolicy", "StreamToolGuard", "check_answer", "request_texts"]


def request_texts(endpoint: str, body: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """(container, key) pairs for every text the request sends to the model, so a text can be
    replaced in place: message contents and text parts, tool results (a ``tool`` message's
    content), message names, the tool calls an assistant message carries back (function names
    and arguments), the tools and functions offered (names, descriptions, every string in their
    parameter schemas), a completion's ``prompt`` and an embedding's ``input``."""
    if endpoint == "chat/completions":
        for message in _list(body.get("messages")):
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            if isinstance(content, str):
                yield message, "content"
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        yield part, "text"
            if isinstance(message.get("name"), str):
                yield message, "name"
            for call in _list(message.get("tool_calls")):
                if isinstance(call, dict):
                    yield from _function_texts(call.get("function"))
            yield from _function_texts(message.get("function_call"))
        for tool in _list(body.get("tools")):
            if isinstance(tool, dict):
                yield from _function_texts(tool.get("function"))
        for function in _list(body.get("functions")):
            yield from _function_texts(function)
    else:
        field_name = "prompt" if endpoint == "completions" else "input"
        value = body.get(field_name)
        if isinstance(value, str):
            yield body, field_name
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str):
                    yield value, index


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _function_texts(function: Any) -> Iterator[tuple[Any, Any]]:
    """The texts of a function call or definition: name, description, arguments (a JSON text,
    or the object some clients send) and the strings of a parameter schema."""
    if not isinstance(function, dict):
        return
    for key in ("name", "description", "arguments"):
        if isinstance(function.get(key), str):
            yield function, key
    for key in ("arguments", "parameters"):
        if isinstance(function.get(key), dict | list):
            yield from _strings_in(function[key])


def _strings_in(value: Any, depth: int = 0) -> Iterator[tuple[Any, Any]]:
    """Every string (keys aside) in a JSON value, to the parser's own depth bound."""
    if depth > 200:
        return
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, str):
            yield value, key
        elif isinstance(item, dict | list):
            yield from _strings_in(item, depth + 1)


@dataclass
class RequestPolicy:
    """Everything the gateway enforces, loaded once from ``inhouse.toml``."""

    scanner: Scanner | None = None
    rules: DataRules | None = None
    boundaries: dict[str, ToolBoundary] = field(default_factory=dict)
    #: refuse tools offered through a key bound to no agent (``[policy] unbound_tools``)
    refuse_unbound_tools: bool = False

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RequestPolicy:
        scanner = rules = None
        if "data_rules" in config:  # without the table nothing is scanned (nothing to enforce)
            scanner = Scanner.from_config(config)
            rules = load_rules(config)
        return cls(
            scanner=scanner,
            rules=rules,
            boundaries=load_boundaries(config),
            refuse_unbound_tools=load_unbound_tools(config) == "refuse",
        )

    def boundary(self, agent: str | None) -> ToolBoundary | None:
        """The tool boundary of a key's agent; ``None`` for a key bound to no agent. A key bound
        to an agent that has no boundary is refused: it would otherwise call any tool."""
        if not agent:
            return None
        boundary = self.boundaries.get(agent)
        if boundary is None:
            raise AgentWithoutBoundary(
                f"this key is bound to agent {agent!r}, which has no tool boundary, and a key "
                f"bound to an agent needs one: add [policy.agents.{agent}] with the tools it may "
                "call to inhouse.toml"
            )
        return boundary

    def store_bodies(self, model: str) -> bool:
        return bool(self.rules is not None and self.rules.store_bodies(model))

    def argument_filter(self, model: str) -> ArgumentFilter:
        """Whether a tool call's arguments may go into the usage log for ``model``: only where
        bodies may be stored, and only when they hold no data class the rules redact or block
        (the reason why not, or ``None``)."""
        if not self.store_bodies(model):
            return lambda _arguments: f"the data rules store no bodies for model {model!r}"
        scanner, rules = self.scanner, self.rules
        assert scanner is not None and rules is not None  # store_bodies needs [data_rules]

        def keep(arguments: str) -> str | None:
            decision = decide(scanner, rules, model, arguments)
            hidden = sorted({*decision.blocked, *decision.redacted})
            return f"they hold {', '.join(hidden)}, which the data rules hide" if hidden else None

        return keep

    def apply(
        self, endpoint: str, model: str, body: dict[str, Any], agent: str | None
    ) -> list[str]:
        """Enforce the rules on ``body`` in place; return the actions taken
        (``redact:<class>``, ``strip-tools:<names>``); raise an :mod:`inhouse.errors` refusal."""
        actions: list[str] = []
        boundary = self.boundary(agent)
        if boundary is not None and endpoint == "chat/completions" and body.get("tools"):
            self._declared_tools(boundary, agent or "", body, actions)
        elif boundary is None and self.refuse_unbound_tools and endpoint == "chat/completions":
            offered = [*_list(body.get("tools")), *_list(body.get("functions"))]
            if offered:
                raise ToolNotAllowed(
                    f"this key is bound to no agent, and this gateway refuses tools offered "
                    f'through such a key ([policy] unbound_tools = "refuse"): an agent on a '
                    f"person's key has no boundary. Declare [policy.agents.NAME] with the tools "
                    f"it may call and run it on a key of its own (`inhouse keys issue PERSON "
                    f"--agent NAME`); offered: {', '.join(declared_tool_names(offered))}"
                )
        if self.scanner is not None:
            self._data_rules(endpoint, model, body, actions)
        return actions

    def _declared_tools(
        self, boundary: ToolBoundary, agent: str, body: dict[str, Any], actions: list[str]
    ) -> None:
        tools = body["tools"]
        if not isinstance(tools, list):
            raise BadRequest("tools must be a list", param="tools")
        refused = list(check_declared_tools(boundary, tools))
        if not refused:
            return
        names = ", ".join(refused)
        if boundary.on_disallowed_tool == "refuse":
            raise ToolNotAllowed(
                f"agent {agent!r} may not use {figures.unit(len(refused), 'tools')} {names}: not "
                "in its allowlist "
                f"([policy.agents.{agent}])"
            )
        kept = [t for t in tools if not set(declared_tool_names([t])) & set(refused)]
        if kept:
            body["tools"] = kept
        else:
            body.pop("tools", None)
            body.pop("tool_choice", None)
        actions.append(f"strip-tools:{names}")

    def _data_rules(
        self, endpoint: str, model: str, body: dict[str, Any], actions: list[str]
    ) -> None:
        scanner = self.scanner
        assert scanner is not None and self.rules is not None
        redacted: set[str] = set()
        for container, key in list(request_texts(endpoint, body)):
            text = container[key]
            if key == "arguments" and "\\u" in text:
                text = _unescaped(text)  # what the model reads in "\u200b"-escaped JSON
            matches = scanner.scan(text)
            if not matches:  # most texts: nothing to decide, no Decision made (issue 16)
                continue
            decision = decide(scanner, self.rules, model, text, matches)
            if decision.action == "block":
                classes = ", ".join(sorted(decision.blocked or decision.classes))
                raise DataClassBlocked(
                    f"blocked by the data-handling rules: the request contains {classes}, "
                    f"which model {model!r} may not receive"
                )
            if decision.redacted:
                container[key] = decision.text
                redacted |= set(decision.redacted)
        actions.extend(f"redact:{name}" for name in sorted(redacted))


def _unescaped(arguments: str) -> str:
    """A tool call's JSON arguments with their ``\\uXXXX`` escapes written out, so a value
    hidden behind them (zero-width spaces, full-width digits) is scanned as the model reads
    it; the text as it came when it is not JSON."""
    try:
        return json.dumps(json.loads(arguments), ensure_ascii=False)
    except ValueError:
        return arguments


def _violation_error(agent: str, name: str, violation: Violation) -> ToolCallBlocked:
    return ToolCallBlocked(f"blocked a tool call to {name!r} by agent {agent!r}: {violation}")


def check_answer(boundary: ToolBoundary, agent: str, data: bytes) -> None:
    """Raise :class:`~inhouse.errors.ToolCallBlocked` when a (non-streamed) chat answer calls a
    tool the agent may not call."""
    try:
        answer = json.loads(data)
    except ValueError:
        return
    if not isinstance(answer, dict):
        return
    for choice in answer.get("choices") or []:
        message = choice.get("message") if isinstance(choice, dict) else None
        for call in (message or {}).get("tool_calls") or []:
            function = call.get("function") or {}
            name = str(function.get("name") or "")
            violation = check_tool_call(boundary, name, str(function.get("arguments") or ""))
            if violation is not None:
                raise _violation_error(agent, name, violation)


class StreamToolGuard:
    """Holds back the tool-call deltas of a streamed answer (never its content) until each call
    is complete, then checks it: passes the held events on, or raises a 403."""

    def __init__(self, boundary: ToolBoundary, agent: str) -> None:
        self.boundary = boundary
        self.agent = agent
        self.held: list[bytes] = []
        #: every complete call seen so far, checked or not: (id, name, arguments)
        self.seen: list[tuple[str | None, str, str]] = []
        self._calls: dict[tuple[int, int], list[str]] = {}
        self._ids: dict[tuple[int, int], str] = {}

    def wants(self, event: bytes) -> bool:
        """Whether this event must be held (it carries tool calls, or ends held ones)."""
        return event.find(b'"tool_calls"') >= 0 or (
            bool(self.held) and event.find(b'"finish_reason"') >= 0
        )

    def feed(self, event: bytes) -> list[bytes]:
        """Hold ``event``; return the events to send now (the held ones, once checked)."""
        self.held.append(event)
        finished = False
        for data in event_data(event):
            for choice in data.get("choices") or []:
                delta = choice.get("delta") or {}
                for call in delta.get("tool_calls") or []:
                    where = (int(choice.get("index") or 0), int(call.get("index") or 0))
                    slot = self._calls.setdefault(where, ["", ""])
                    if isinstance(call.get("id"), str):
                        self._ids.setdefault(where, call["id"])
                    function = call.get("function") or {}
                    slot[0] += function.get("name") or ""
                    slot[1] += function.get("arguments") or ""
                if choice.get("finish_reason"):
                    finished = True
        return self.finish() if finished else []

    def finish(self) -> list[bytes]:
        """Check every call seen; return the held events, or raise the violation."""
        self.seen.extend((self._ids.get(at), slot[0], slot[1]) for at, slot in self._calls.items())
        for name, arguments in self._calls.values():
            violation = check_tool_call(self.boundary, name, arguments)
            if violation is not None:
                raise _violation_error(self.agent, name, violation)
        held, self.held, self._calls, self._ids = self.held, [], {}, {}
        return held
