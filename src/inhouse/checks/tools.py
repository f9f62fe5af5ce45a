"""``is-valid-openai-tools-call``: the output is tool calls, each naming a tool the request
offered, with arguments that are JSON matching that tool's ``parameters`` schema.

A workflow that offers ``tools`` (its ``parameters.tools``, promptfoo's provider ``tools``)
hands them to the check through the context; an answer made of tool calls is the JSON list of
those calls (OpenAI's shape: ``[{"type": "function", "function": {"name", "arguments"}}]``).
"""

from __future__ import annotations

import json
from typing import Any

from inhouse import figures
from inhouse.checks.base import Finding, QualityContext
from inhouse.checks.registry import Params, register_check_type

__all__: list[str] = []


class ToolsCallParams(Params):
    #: the tools to validate against, when the context has none (OpenAI's ``tools`` shape)
    value: list[dict[str, Any]] | None = None


def _offered(tools: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    offered: dict[str, dict[str, Any]] = {}
    for tool in tools:
        function = tool.get("function", tool) if isinstance(tool, dict) else {}
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            offered[function["name"]] = function.get("parameters") or {}
    return offered


def _calls(output: str) -> list[Any] | None:
    try:
        parsed = json.loads(output)
    except ValueError:
        return None
    if isinstance(parsed, dict):
        parsed = parsed.get("tool_calls", [parsed])
    return parsed if isinstance(parsed, list) else None


def _problem(index: int, call: Any, offered: dict[str, dict[str, Any]]) -> str | None:
    from jsonschema.validators import validator_for

    where = f"call {index}"
    function = call.get("function", call) if isinstance(call, dict) else None
    if not isinstance(function, dict) or not isinstance(function.get("name"), str):
        return f"{where} is not a function call with a name"
    name = function["name"]
    if name not in offered:
        return f"{where} calls {name!r}, which is not an offered tool ({', '.join(offered)})"
    arguments = function.get("arguments", "{}")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments or "{}")
        except ValueError as err:
            return f"{where} ({name}): arguments are not JSON: {err}"
    schema = offered[name]
    if schema:
        errors = sorted(validator_for(schema)(schema).iter_errors(arguments), key=str)
        if errors:
            first = errors[0]
            at = "/".join(str(p) for p in first.absolute_path) or "(top level)"
            return f"{where} ({name}): arguments {at}: {first.message}"
    return None


@register_check_type(
    "is-valid-openai-tools-call",
    params=ToolsCallParams,
    summary="tool calls to offered tools, with arguments matching their schemas",
)
async def tools_call(params: ToolsCallParams, output: str, ctx: QualityContext) -> Finding:
    tools = params.value or ctx.tools
    if not tools:
        return Finding.failure(
            "is-valid-openai-tools-call validates against the tools the request offered, and "
            "none were offered (give the workflow parameters.tools)"
        )
    offered = _offered(tools)
    calls = _calls(output)
    if not calls:
        return Finding.of(False, "the output is not a list of tool calls")
    for index, call in enumerate(calls):
        problem = _problem(index, call, offered)
        if problem is not None:
            return Finding.of(False, problem)
    names = ", ".join(str((c.get("function") or c).get("name")) for c in calls)
    return Finding.of(True, f"{figures.count(len(calls), 'valid tool calls')}: {names}")
