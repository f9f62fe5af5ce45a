"""The built-in output-quality check types (``contains``, ``json-schema``, ``rubric``…)."""

from __future__ import annotations

from inhouse.hookspecs import hookimpl


@hookimpl
def inhouse_check_types() -> tuple[str, ...]:
    from inhouse.checks.registry import BUILTIN_MODULES

    return BUILTIN_MODULES
