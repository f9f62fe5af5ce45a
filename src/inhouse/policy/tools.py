"""Agent tool boundaries: which tools an agent may call, with which arguments.

``[policy.agents.NAME]`` in ``inhouse.toml`` (full example in ``docs/policy.md``)::

    [policy.agents.release-bot]
    on_disallowed_tool = "strip"        # a request declaring other tools: "refuse" (default)
                                        # or "strip" them before it goes upstream
    [policy.agents.release-bot.tools]
    search = {}                                                  # any arguments
    read_file = { path = { path_prefix = ["/srv/repo", "docs"] } }
    fetch = { url = { url_hosts = ["api.github.com", "*.example.com"] } }
    run_query = { sql = { regex = "SELECT [^;]*", required = true } }

``tools`` may also be a plain list of names (no argument constraints). Constraints apply to the
top-level keys of a call's JSON arguments:

``path_prefix``
    the value, with ``\\`` read as ``/`` and normalised, must be one of the prefixes or inside
    one; any ``..`` component (also percent-encoded) is refused outright, as is a NUL byte.
``url_hosts``
    an ``http``/``https`` URL (``url_schemes`` to change) whose host is one of the hosts, or a
    subdomain of a ``*.domain`` entry. User info (``good.com@evil.com``), backslashes and
    whitespace are refused: parsers disagree about them, which is what spoofing relies on.
``regex``
    RE2 syntax (linear time), must match the whole value; numbers and booleans are matched as
    their JSON text.
``required``
    the argument must be present (otherwise a missing constrained argument is fine).

Everything here is a pure function over already-parsed configuration: cheap enough to run on
every request and every streamed tool call.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import re2  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from inhouse.errors import ConfigError
from inhouse.policy._config import problems

__all__ = [
    "ArgumentRule",
    "ToolBoundary",
    "Violation",
    "check_declared_tools",
    "check_tool_call",
    "declared_tool_names",
    "load_boundaries",
    "load_unbound_tools",
]


class ArgumentRule(BaseModel):
    """Constraints on one argument of one tool; every one given must hold."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path_prefix: tuple[str, ...] | None = None
    url_hosts: tuple[str, ...] | None = None
    url_schemes: tuple[str, ...] = ("https", "http")
    regex: str | None = None
    required: bool = False

    @field_validator("path_prefix", "url_hosts", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("path_prefix")
    @classmethod
    def _prefixes(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            for prefix in value:
                if not prefix or ".." in prefix.replace("\\", "/").split("/"):
                    raise ValueError(f"{prefix!r} is not a usable path prefix")
        return value

    @field_validator("url_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None:
            for host in value:
                bare = host.removeprefix("*.")
                if not bare or any(ch in bare for ch in "/@:*\\ ") or bare.startswith("."):
                    raise ValueError(f"{host!r} is not a host name (or *.domain)")
        return value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re2.compile(value)
            except re2.error as err:
                raise ValueError(f"not a valid RE2 pattern ({err})") from None
        return value


class ToolBoundary(BaseModel):
    """One agent's allowlist: tool name → argument name → constraints."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    tools: dict[str, dict[str, ArgumentRule]] = Field(default_factory=dict)
    on_disallowed_tool: Literal["refuse", "strip"] = "refuse"

    @field_validator("tools", mode="before")
    @classmethod
    def _names_only(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return {str(name): {} for name in value}
        return value

    def allows(self, tool: str) -> bool:
        """Whether ``tool`` is on the allowlist (its arguments aside)."""
        return tool in self.tools


@dataclass(frozen=True, slots=True)
class Violation:
    """A tool call that breaks the boundary, and why (``str()`` is a message for a person)."""

    tool: str
    reason: str
    argument: str | None = None

    def __str__(self) -> str:
        where = f"argument {self.argument!r} of " if self.argument else ""
        return f"{where}tool {self.tool!r}: {self.reason}"


def load_boundaries(config: Mapping[str, Any]) -> dict[str, ToolBoundary]:
    """Every ``[policy.agents.NAME]`` of ``inhouse.toml`` (as a dict); errors name the field."""
    policy = config.get("policy") or {}
    agents = policy.get("agents") or {} if isinstance(policy, Mapping) else None
    if not isinstance(agents, Mapping):
        raise ConfigError("policy.agents: must be a table of agents")
    found: dict[str, ToolBoundary] = {}
    for name, body in agents.items():
        if not isinstance(body, Mapping):
            raise ConfigError(f"policy.agents.{name}: must be a table")
        try:
            found[name] = ToolBoundary.model_validate({**body, "name": name})
        except ValidationError as err:
            raise ConfigError(problems(err, f"policy.agents.{name}")) from None
    return found


#: what the gateway does with tools offered through a key bound to no agent (``[policy]
#: unbound_tools``): ``record`` them by name (the default; play 5's ``agent-boundaries`` fails on
#: them), or ``refuse`` the request (403) as well
UNBOUND_TOOLS = ("record", "refuse")


def load_unbound_tools(config: Mapping[str, Any]) -> str:
    """``[policy] unbound_tools`` of ``inhouse.toml`` (as a dict): ``record`` or ``refuse``."""
    policy = config.get("policy") or {}
    if not isinstance(policy, Mapping):
        raise ConfigError("policy: must be a table")
    value = policy.get("unbound_tools", "record")
    if value not in UNBOUND_TOOLS:
        raise ConfigError(
            f"policy.unbound_tools: {value!r} is not one of {', '.join(map(repr, UNBOUND_TOOLS))}"
        )
    return str(value)


def declared_tool_names(tools: Iterable[Any]) -> list[str]:
    """The names in a request's ``tools`` (or legacy ``functions``) list, in order. An entry
    without a function name is named by its ``type`` (e.g. a provider's built-in tool)."""
    names: list[str] = []
    for entry in tools:
        if isinstance(entry, str):
            names.append(entry)
            continue
        if not isinstance(entry, Mapping):
            names.append("<not a tool object>")
            continue
        function = entry.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            names.append(function["name"])
        elif isinstance(entry.get("name"), str):
            names.append(entry["name"])
        else:
            names.append(str(entry.get("type") or "<unnamed tool>"))
    return names


def check_declared_tools(boundary: ToolBoundary, tools: Iterable[Any]) -> list[str]:
    """The tools a request declares that the boundary does not allow (empty: all fine)."""
    return [name for name in declared_tool_names(tools) if not boundary.allows(name)]


def check_tool_call(
    boundary: ToolBoundary, name: str, arguments_json: str | Mapping[str, Any] | None
) -> Violation | None:
    """Check one ``tool_calls`` entry: its name and its JSON arguments string. Arguments that
    are not valid JSON, or not a JSON object, are a violation; empty arguments mean ``{}``."""
    rules = boundary.tools.get(name)
    if rules is None:
        agent = f" of agent {boundary.name!r}" if boundary.name else ""
        return Violation(name, f"not on the tool allowlist{agent}")
    if arguments_json is None or (isinstance(arguments_json, str) and not arguments_json.strip()):
        arguments: Any = {}
    elif isinstance(arguments_json, str):
        try:
            arguments = json.loads(arguments_json)
        except ValueError as err:
            return Violation(name, f"arguments are not valid JSON ({err})")
    else:
        arguments = arguments_json
    if not isinstance(arguments, Mapping):
        return Violation(name, "arguments must be a JSON object")
    for argument, rule in rules.items():
        if argument not in arguments:
            if rule.required:
                return Violation(name, "is required and missing", argument)
            continue
        problem = _check_value(rule, arguments[argument])
        if problem is not None:
            return Violation(name, problem, argument)
    return None


def _check_value(rule: ArgumentRule, value: Any) -> str | None:
    if rule.path_prefix is not None or rule.url_hosts is not None:
        if not isinstance(value, str):
            return "must be a string"
        if rule.path_prefix is not None and (problem := _path_problem(value, rule.path_prefix)):
            return problem
        if rule.url_hosts is not None and (
            problem := _url_problem(value, rule.url_hosts, rule.url_schemes)
        ):
            return problem
    if rule.regex is not None:
        text = value if isinstance(value, str) else json.dumps(value)
        if re2.fullmatch(rule.regex, text) is None:
            return f"{_shorten(text)!r} does not match {rule.regex!r}"
    return None


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _path_problem(value: str, prefixes: tuple[str, ...]) -> str | None:
    if "\x00" in value:
        return "the path contains a NUL byte"
    path = value.replace("\\", "/")
    for candidate in (path, unquote(path)):
        if ".." in candidate.split("/"):
            return f"{_shorten(value)!r} climbs out with '..'"
    normal = posixpath.normpath(path)
    if normal.startswith("//"):
        normal = "/" + normal.lstrip("/")
    for prefix in prefixes:
        base = posixpath.normpath(prefix.replace("\\", "/"))
        if base.startswith("//"):
            base = "/" + base.lstrip("/")
        if normal == base or normal.startswith(base.rstrip("/") + "/"):
            return None
    return f"{_shorten(value)!r} is outside {', '.join(repr(p) for p in prefixes)}"


def _url_problem(value: str, hosts: tuple[str, ...], schemes: tuple[str, ...]) -> str | None:
    if any(ch.isspace() or ch == "\\" or ord(ch) < 32 for ch in value):
        return "the URL contains whitespace, control characters or a backslash"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as err:
        return f"not a valid URL ({err})"
    if parts.scheme.lower() not in schemes:
        return f"scheme {parts.scheme or '(none)'!r} is not one of {', '.join(schemes)}"
    if "@" in parts.netloc:
        return "the URL carries user info (user@host); refused as a disguise"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "the URL has no host"
    for allowed in hosts:
        wanted = allowed.lower().rstrip(".")
        if wanted.startswith("*."):
            if host.endswith(wanted[1:]) and len(host) > len(wanted) - 1:
                return None
        elif host == wanted:
            return None
    return f"host {host!r} is not one of {', '.join(hosts)}"
