"""A deterministic "flaky" check for repeat/min-pass tests: passes on every other call."""

from __future__ import annotations

from typing import Any

calls = 0


def every_other(output: str, context: dict[str, Any]) -> bool:
    global calls
    calls += 1
    return calls % 2 == 1
