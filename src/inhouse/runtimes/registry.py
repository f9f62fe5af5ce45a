"""The registry of runtime adapters: a family name → a factory that builds a :class:`Runtime`.

Declared once, here. The built-in adapters are listed the way a plugin lists itself (an
entry-point reference, ``module:attribute``) and load through the same code; a third party adds a
family with an entry point in the ``inhouse.runtimes`` group::

    [project.entry-points."inhouse.runtimes"]
    mlx = "inhouse_mlx:MlxRuntime"

The factory is called as ``factory(config, program=program)`` and returns a :class:`Runtime`.
A plugin cannot shadow a built-in family: that is a configuration error, not a silent override.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Protocol

from inhouse.errors import ConfigError
from inhouse.runtimes.config import RuntimeConfig
from inhouse.runtimes.protocol import Runtime

__all__ = [
    "BUILTIN_ADAPTERS",
    "ENTRY_POINT_GROUP",
    "RuntimeFactory",
    "adapter_families",
    "load_adapter",
    "open_runtime",
    "register_adapter",
]

ENTRY_POINT_GROUP = "inhouse.runtimes"

#: the built-in families, in the same ``module:attribute`` form an entry point uses
BUILTIN_ADAPTERS: dict[str, str] = {
    "openai": "inhouse.runtimes.openai_compat:OpenAICompatRuntime",
    "ollama": "inhouse.runtimes.ollama:OllamaRuntime",
    "llamacpp": "inhouse.runtimes.llamacpp:LlamaCppRuntime",
    "embedded": "inhouse.runtimes.embedded:EmbeddedRuntime",
}


class RuntimeFactory(Protocol):
    """What an adapter registers: usually the adapter class itself."""

    def __call__(self, config: RuntimeConfig, *, program: Path | None = None) -> Runtime: ...


#: families registered in-process (tests, embedding applications), beside entry points
_registered: dict[str, RuntimeFactory] = {}


def _load_reference(reference: str) -> RuntimeFactory:
    module_name, _, attribute = reference.partition(":")
    factory: RuntimeFactory = getattr(import_module(module_name), attribute)
    return factory


def _itself(factory: RuntimeFactory) -> RuntimeFactory:
    return factory


def _references() -> dict[str, tuple[str, Callable[[], RuntimeFactory]]]:
    """Every known family → (where it comes from, how to load it). Nothing is imported yet."""
    found: dict[str, tuple[str, Callable[[], RuntimeFactory]]] = {
        family: (f"built-in {ref}", partial(_load_reference, ref))
        for family, ref in BUILTIN_ADAPTERS.items()
    }
    for point in entry_points(group=ENTRY_POINT_GROUP):
        origin = f"entry point {point.value}" + (f" ({point.dist.name})" if point.dist else "")
        if point.name in found:
            if found[point.name][0] == origin or BUILTIN_ADAPTERS.get(point.name) == point.value:
                continue  # seen twice on sys.path, or a built-in also declared as entry point
            raise ConfigError(
                f"runtime family {point.name!r} is defined twice: by {found[point.name][0]} "
                f"and by {origin}; uninstall one of them"
            )
        found[point.name] = (origin, point.load)
    for family, factory in _registered.items():
        found[family] = ("registered in-process", partial(_itself, factory))
    return found


def adapter_families() -> list[str]:
    """The runtime families this installation can open."""
    return sorted(_references())


def load_adapter(family: str) -> RuntimeFactory:
    """The factory for ``family``; a clear error naming the known ones otherwise."""
    references = _references()
    if family not in references:
        raise ConfigError(
            f"unknown runtime family {family!r}; known: {', '.join(sorted(references))}. "
            f"A plugin adds one with an entry point in the {ENTRY_POINT_GROUP!r} group."
        )
    return references[family][1]()


def register_adapter(family: str, factory: RuntimeFactory) -> None:
    """Add (or replace) a family in this process, without packaging an entry point."""
    if family in BUILTIN_ADAPTERS:
        raise ConfigError(f"{family!r} is a built-in runtime family and cannot be replaced")
    _registered[family] = factory


def open_runtime(config: RuntimeConfig, *, program: Path | None = None) -> Runtime:
    """Build the runtime ``config`` describes, through the registry. Use it with ``async with``."""
    return load_adapter(config.family)(config, program=program)
