"""docs/gateway.md's Troubleshooting quotes what the tool says: each quoted phrase (its pieces
between "…") is in inhouse's own source, so a message reworded leaves no entry an operator
searches their terminal for in vain. The docs had no troubleshooting at all."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section() -> str:
    text = (ROOT / "docs" / "gateway.md").read_text(encoding="utf-8")
    found = re.search(r"^## Troubleshooting\n(.*?)^## ", text, re.S | re.M)
    assert found is not None, "docs/gateway.md has no Troubleshooting section"
    return found.group(1)


def test_every_phrase_the_troubleshooting_quotes_is_one_the_tool_says() -> None:
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in (ROOT / "src" / "inhouse").rglob("*.py")
    )
    quoted = re.findall(r'"([^"`|]+)"', _section())
    assert len(quoted) >= 8, quoted
    for phrase in quoted:
        for piece in (p.strip(" ,") for p in phrase.split("…")):
            assert not piece or piece in source, f"{phrase!r}: {piece!r} is not in src/inhouse"


def test_every_error_code_it_names_is_one_the_gateway_answers() -> None:
    errors = (ROOT / "src" / "inhouse" / "errors.py").read_text(encoding="utf-8")
    codes = set(re.findall(r"\| \d{3} `([a-z_]+)`", _section()))
    assert {"model_not_allowed", "data_class_blocked", "no_runtime"} <= codes, codes
    for code in codes:
        assert f'code = "{code}"' in errors, code
