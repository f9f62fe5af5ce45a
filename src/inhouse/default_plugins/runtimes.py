"""The built-in runtime families: ``openai``, ``ollama``, ``llamacpp`` and ``embedded``."""

from __future__ import annotations

from inhouse.hookspecs import hookimpl


@hookimpl
def inhouse_runtimes() -> dict[str, str]:
    from inhouse.runtimes.registry import BUILTIN_ADAPTERS

    return dict(BUILTIN_ADAPTERS)  # "module:attribute": imported when a family is opened
