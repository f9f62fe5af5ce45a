"""The TOML examples in docs/policy.md are valid and mean what the text says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from inhouse.policy import Scanner, decide, load_rules
from inhouse.policy.tools import check_tool_call, load_boundaries, load_unbound_tools

DOC = Path(__file__).parents[2] / "docs" / "policy.md"


def documented_config() -> dict[str, Any]:
    blocks = re.findall(r"```toml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 4
    return tomllib.loads("\n".join(blocks))


def test_the_documented_config_loads_and_behaves_as_described() -> None:
    config = documented_config()
    scanner, rules = Scanner.from_config(config), load_rules(config)
    assert rules.action("qwen2-7b-instruct", "email") == "allow"
    assert rules.action("qwen2-7b-instruct", "secret") == "block"
    assert rules.action("qwen2-7b-instruct", "iban") == "redact"
    assert rules.action("llama-3.2-3b", "card") == "redact"
    assert rules.action("llama-3.2-3b", "iban") == "block"
    assert rules.retention_days("qwen2-7b-instruct") == 30
    assert decide(scanner, rules, "qwen2-7b-instruct", "the Falcon deal").blocked == (
        "project-falcon",
    )
    bot = load_boundaries(config)["release-bot"]
    assert check_tool_call(bot, "fetch", '{"url": "https://api.github.com/x"}') is None
    assert check_tool_call(bot, "fetch", '{"url": "https://api.github.com.evil.io/"}')
    assert check_tool_call(bot, "read_file", '{"path": "/srv/repo/../../etc/passwd"}')
    assert load_unbound_tools(config) == "refuse"
