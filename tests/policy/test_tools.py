"""Agent tool boundaries: the allowlist, argument constraints, and the escapes they stop."""

from __future__ import annotations

import json
import tomllib

import pytest

from inhouse.errors import ConfigError
from inhouse.policy.tools import (
    ToolBoundary,
    check_declared_tools,
    check_tool_call,
    load_boundaries,
    load_unbound_tools,
)

TOML = """
[policy.agents.release-bot]
on_disallowed_tool = "strip"

[policy.agents.release-bot.tools]
search = {}
read_file = { path = { path_prefix = ["/srv/repo", "docs"] } }
fetch = { url = { url_hosts = ["good.com", "*.example.com"] } }
run_query = { sql = { regex = "SELECT [^;]*", required = true }, limit = { regex = "[0-9]{1,3}" } }

[policy.agents.reader]
tools = ["search"]
"""


@pytest.fixture(scope="module")
def bot() -> ToolBoundary:
    return load_boundaries(tomllib.loads(TOML))["release-bot"]


def call(bot: ToolBoundary, name: str, **arguments: object) -> str | None:
    violation = check_tool_call(bot, name, json.dumps(arguments))
    return None if violation is None else str(violation)


def test_config_shapes() -> None:
    boundaries = load_boundaries(tomllib.loads(TOML))
    assert boundaries["release-bot"].on_disallowed_tool == "strip"
    assert boundaries["reader"].allows("search") and not boundaries["reader"].allows("fetch")
    assert boundaries["reader"].on_disallowed_tool == "refuse"
    assert load_boundaries({}) == {}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ('on_disallowed_tool = "ignore"', "policy.agents.x.on_disallowed_tool"),
        (
            'tools = { f = { p = { path_prefix = "../up" } } }',
            "policy.agents.x.tools.f.p.path_prefix",
        ),
        ('tools = { f = { u = { url_hosts = ["a.com/x"] } } }', "not a host name"),
        ('tools = { f = { r = { regex = "(" } } }', "not a valid RE2 pattern"),
        ('tools = { f = { r = { regexp = "x" } } }', "policy.agents.x.tools.f.r.regexp"),
    ],
)
def test_bad_boundaries_name_the_field(patch: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_boundaries(tomllib.loads(f"[policy.agents.x]\n{patch}"))


def test_unbound_tools_records_by_default_and_names_a_bad_value() -> None:
    assert load_unbound_tools({}) == "record"
    assert load_unbound_tools(tomllib.loads('[policy]\nunbound_tools = "refuse"')) == "refuse"
    with pytest.raises(ConfigError, match=r"policy\.unbound_tools: 'block' is not one of 'record'"):
        load_unbound_tools(tomllib.loads('[policy]\nunbound_tools = "block"'))


def test_declared_tools_outside_the_allowlist_are_listed(bot: ToolBoundary) -> None:
    tools = [
        {"type": "function", "function": {"name": "search", "parameters": {}}},
        {"type": "function", "function": {"name": "delete_repo"}},
        {"name": "read_file"},  # legacy functions=[...]
        {"type": "code_interpreter"},
        "shell",
    ]
    assert check_declared_tools(bot, tools) == ["delete_repo", "code_interpreter", "shell"]
    assert check_declared_tools(bot, []) == []


def test_tool_calls_by_name_and_json(bot: ToolBoundary) -> None:
    assert call(bot, "search", q="anything") is None
    assert check_tool_call(bot, "search", "") is None  # no arguments
    assert "not on the tool allowlist of agent 'release-bot'" in (call(bot, "rm", path="/") or "")
    bad_json = check_tool_call(bot, "search", '{"q": "unterminated')
    assert bad_json is not None and "not valid JSON" in bad_json.reason
    not_object = check_tool_call(bot, "search", "[1, 2]")
    assert not_object is not None and "JSON object" in not_object.reason


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("/srv/repo", True),
        ("/srv/repo/src/main.py", True),
        ("/srv/repo/./src//main.py", True),
        ("docs/guide.md", True),
        ("./docs/guide.md", True),
        ("/srv/repo/../../etc/passwd", False),
        ("/srv/repo/src/../../repo2/x", False),
        ("docs/../secrets.txt", False),
        ("..\\..\\windows\\system32", False),
        ("/srv/repo/%2e%2e/%2e%2e/etc/passwd", False),
        ("/srv/repository-evil/x", False),  # a prefix of the name is not inside the folder
        ("/srv/repo2", False),
        ("//srv/repo/x", True),
        ("/etc/passwd", False),
        ("docs\x00/../x", False),
        ("/docs/guide.md", False),  # absolute, not the relative docs folder
    ],
)
def test_path_prefix(bot: ToolBoundary, path: str, ok: bool) -> None:
    assert (call(bot, "read_file", path=path) is None) is ok


def test_path_must_be_a_string(bot: ToolBoundary) -> None:
    assert "must be a string" in (call(bot, "read_file", path=["/srv/repo"]) or "")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://good.com/api", True),
        ("http://GOOD.com:8443/x?q=1", True),
        ("https://good.com./x", True),
        ("https://api.example.com/v1", True),
        ("https://a.b.example.com/", True),
        ("https://example.com/", False),  # *.example.com means subdomains
        ("https://evil.com@good.com/", False),  # user info is refused outright
        ("https://good.com@evil.com/", False),
        ("https://good.com.evil.com/", False),
        ("https://evilgood.com/", False),
        ("https://notexample.com/", False),
        ("https://good.com\\@evil.com/", False),
        ("https://good.com%2f@evil.com/", False),
        ("ftp://good.com/file", False),
        ("javascript:alert(1)", False),
        ("//good.com/x", False),
        ("https:///good.com", False),
        ("https://good.com:99999/", False),
        ("https://good .com/", False),
    ],
)
def test_url_hosts(bot: ToolBoundary, url: str, ok: bool) -> None:
    assert (call(bot, "fetch", url=url) is None) is ok


def test_regex_full_match_and_required(bot: ToolBoundary) -> None:
    assert call(bot, "run_query", sql="SELECT * FROM t") is None
    assert call(bot, "run_query", sql="SELECT 1; DROP TABLE t") is not None  # full match only
    assert "is required and missing" in (call(bot, "run_query") or "")
    assert call(bot, "run_query", sql="SELECT 1", limit=100) is None  # numbers as JSON text
    violation = check_tool_call(bot, "run_query", json.dumps({"sql": "SELECT 1", "limit": 5000}))
    assert violation is not None and violation.argument == "limit"
