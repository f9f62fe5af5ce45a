"""The tool calls a request and its answer carried, as the usage log keeps them.

For a key bound to an agent: names and arguments (never the rest of the answer). For a key bound
to no agent (a person's own), names only (:func:`names_only`): an agent run on a person's key
has no boundary, and what it offered the model is the evidence play 5's ``agent-boundaries``
reads, through the gateway's signed daily rollup. Each entry of a usage record's
``tool_calls`` is a JSON object::

    {"where": "declared" | "history" | "answer", "id": "call_1" | null, "tool": "read_file",
     "arguments": "{\\"path\\": \\"/srv/docs/a\\"}" | null, "argument_names": ["path"] | null,
     "withheld": null | "why the arguments are not stored"}

``declared``: a tool the request offered the model (``tools``/``functions``; no arguments);
``history``: an assistant ``tool_calls`` entry the request carried back (an earlier answer);
``answer``: a call the model produced in this answer, whole or streamed.

Arguments are stored exactly as sent (the JSON text, so a replay judges the very bytes the
gateway judged) only where the data rules store bodies for the model **and** the arguments hold
no data class the rules redact or block; otherwise only the argument *names* are kept, and
``withheld`` says why. A person's key keeps neither arguments nor their names nor call ids
(``withheld``: :data:`NAMES_ONLY`), whatever the data rules: a tool's name is all the evidence
needs, and nothing of the prompt or the answer is stored with it. A streamed answer's tool calls
are not read for a person's key (no boundary holds its events back to assemble them): the tools
the request offered are what shows the agent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from inhouse.policy.tools import declared_tool_names

__all__ = [
    "NAMES_ONLY",
    "WITHHOLD_ALL",
    "ArgumentFilter",
    "answer_tool_calls",
    "entry",
    "names_only",
    "request_tool_calls",
    "streamed_tool_calls",
    "unbound_tool_calls",
]

#: given a call's raw arguments, why they may not be stored (``None``: they may)
ArgumentFilter = Callable[[str], str | None]

#: why a call through a key bound to no agent keeps only its tool's name
NAMES_ONLY = "a key bound to no agent: only the tool's name is kept"
#: the longest tool name kept (a name is the client's text: it is not stored without bound)
_NAME_CHARS = 200


def _withheld(_: str) -> str:
    return NAMES_ONLY


def names_only(found: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """``found`` (entries made with any filter) as a key bound to no agent keeps them: each
    tool's name and where it was, nothing else; ``None`` where there is none (the row keeps no
    ``tool_calls`` at all, as a request without tools always did)."""
    kept = [
        {
            "where": call["where"],
            "id": None,
            "tool": str(call["tool"])[:_NAME_CHARS],
            "arguments": None,
            "argument_names": None,
            "withheld": None if call["where"] == "declared" else NAMES_ONLY,
        }
        for call in found
    ]
    return kept or None


#: the filter a key bound to no agent reads calls with: no argument is ever kept
WITHHOLD_ALL: ArgumentFilter = _withheld


def unbound_tool_calls(body: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The tools a chat request through a key bound to no agent offered and the calls it
    carried back, names only (:func:`names_only`); None, after one cheap look, for the usual
    request that carries neither (every person's request passes here)."""
    messages = body.get("messages")
    carried = isinstance(messages, list) and any(
        type(message) is dict and ("tool_calls" in message or "function_call" in message)
        for message in messages
    )
    if not carried and not body.get("tools") and not body.get("functions"):
        return None
    return names_only(request_tool_calls(body, WITHHOLD_ALL))


def entry(
    where: str, tool: str, arguments: str | None, keep: ArgumentFilter, call_id: str | None = None
) -> dict[str, Any]:
    """One recorded tool call; ``arguments`` ``None`` for a declared tool (it has none)."""
    stored: str | None = None
    withheld: str | None = None
    names: list[str] | None = None
    if arguments is not None:
        names = _argument_names(arguments)
        withheld = keep(arguments)
        stored = arguments if withheld is None else None
    return {
        "where": where,
        "id": call_id,
        "tool": tool,
        "arguments": stored,
        "argument_names": names,
        "withheld": withheld,
    }


def request_tool_calls(body: Mapping[str, Any], keep: ArgumentFilter) -> list[dict[str, Any]]:
    """The tools a chat request declares and the earlier tool calls its messages carry back, as
    the agent sent them (before any tool is stripped)."""
    found: list[dict[str, Any]] = []
    for key in ("tools", "functions"):
        tools = body.get(key)
        if isinstance(tools, list):
            found.extend(entry("declared", name, None, keep) for name in declared_tool_names(tools))
    for message in body.get("messages") or []:
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            found.extend(_call_entry("history", call, keep))
        legacy = message.get("function_call")
        if isinstance(legacy, Mapping):
            found.extend(_call_entry("history", {"function": legacy}, keep))
    return found


def answer_tool_calls(
    data: bytes | Mapping[str, Any], keep: ArgumentFilter
) -> list[dict[str, Any]]:
    """The tool calls of a whole (not streamed) chat answer: its bytes, or the answer parsed."""
    answer: Any = data
    if isinstance(data, bytes | bytearray):
        try:
            answer = json.loads(data)
        except ValueError:
            return []
    found: list[dict[str, Any]] = []
    choices = answer.get("choices") if isinstance(answer, Mapping) else None
    for choice in choices if isinstance(choices, list) else []:
        message = choice.get("message") if isinstance(choice, Mapping) else None
        calls = message.get("tool_calls") if isinstance(message, Mapping) else None
        for call in calls if isinstance(calls, list) else []:
            found.extend(_call_entry("answer", call, keep))
    return found


def streamed_tool_calls(
    calls: Iterable[tuple[str | None, str, str]], keep: ArgumentFilter
) -> list[dict[str, Any]]:
    """The tool calls a streamed answer assembled: (id, name, arguments) each."""
    return [entry("answer", name, arguments, keep, call_id) for call_id, name, arguments in calls]


def _call_entry(where: str, call: Any, keep: ArgumentFilter) -> list[dict[str, Any]]:
    if not isinstance(call, Mapping):
        return []
    function = call.get("function")
    if not isinstance(function, Mapping):
        return []
    arguments = function.get("arguments")
    if not isinstance(arguments, str):  # some clients send an object: keep its JSON text
        arguments = "" if arguments is None else json.dumps(arguments)
    call_id = call.get("id")
    return [
        entry(
            where,
            str(function.get("name") or ""),
            arguments,
            keep,
            call_id if isinstance(call_id, str) else None,
        )
    ]


def _argument_names(arguments: str) -> list[str]:
    try:
        parsed = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return []
    return sorted(str(name) for name in parsed) if isinstance(parsed, Mapping) else []
