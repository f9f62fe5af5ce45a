"""The registry of runtime adapters: a family name → a factory that builds a :class:`Runtime`.

Families come through the ``inhouse_runtimes`` hook (:mod:`inhouse.hookspecs`): the built-ins
(:data:`BUILTIN_ADAPTERS`, handed over by :mod:`inhouse.default_plugins.runtimes`) and every
installed plugin's, in the same ``module:attribute`` form, imported only when a runtime of that
family is opened::

    [project.entry-points.inhouse]
    mlx = "inhouse_mlx"

    # inhouse_mlx/__init__.py
    @hookimpl
    def inhouse_runtimes():
        return {"mlx": "inhouse_mlx.runtime:MlxRuntime"}

(An entry point in the older ``inhouse.runtimes`` group, ``mlx = "inhouse_mlx:MlxRuntime"``,
still works.) The factory is called as ``factory(config, program=program)`` and returns a
:class:`Runtime`; one that names a ``look_behind`` parameter is also told ``look_behind=False``
where the caller wants no proof that answers came from this machine (:func:`open_runtime`),
and one that does not is called as before. A family registered twice, a plugin's over a
built-in included, is refused with a :class:`~inhouse.errors.PluginError` naming both: never a
silent override.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib import import_module
from pathlib import Path
from typing import Protocol, cast

from inhouse.errors import ConfigError, PluginError
from inhouse.plugins import Registry, contributions, generation
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

#: the older per-area entry-point group, still read (see :mod:`inhouse.plugins`)
ENTRY_POINT_GROUP = "inhouse.runtimes"

#: the built-in families, in the ``module:attribute`` form a plugin may use too
BUILTIN_ADAPTERS: dict[str, str] = {
    "openai": "inhouse.runtimes.openai_compat:OpenAICompatRuntime",
    "ollama": "inhouse.runtimes.ollama:OllamaRuntime",
    "llamacpp": "inhouse.runtimes.llamacpp:LlamaCppRuntime",
    "embedded": "inhouse.runtimes.embedded:EmbeddedRuntime",
    "lmstudio": "inhouse.runtimes.lmstudio:LMStudioRuntime",
}


class RuntimeFactory(Protocol):
    """What an adapter registers: usually the adapter class itself. It may also take
    ``look_behind: bool = True`` (:func:`open_runtime` says when it is False)."""

    def __call__(self, config: RuntimeConfig, *, program: Path | None = None) -> Runtime: ...


class _LooksBehind(Protocol):
    """A factory that takes ``look_behind`` (the built-in adapters do)."""

    def __call__(
        self, config: RuntimeConfig, *, program: Path | None = None, look_behind: bool = True
    ) -> Runtime: ...


#: families registered in-process (tests, embedding applications), beside the plugins'
_registered: dict[str, RuntimeFactory] = {}
_IN_PROCESS = "register_adapter() in this process"

_plugged: tuple[int, Registry[RuntimeFactory | str]] | None = None


def _plugin_families() -> Registry[RuntimeFactory | str]:
    """The plugins' families (built-ins first), read again when the installed plugins change."""
    global _plugged
    now = generation()
    if _plugged is not None and _plugged[0] == now:
        return _plugged[1]
    families: Registry[RuntimeFactory | str] = Registry("runtime family")
    for contribution in contributions("inhouse_runtimes"):
        if not isinstance(contribution.value, Mapping):
            raise PluginError(
                f"{contribution.source}: inhouse_runtimes must return a mapping of family name "
                f"to factory, not {type(contribution.value).__name__}"
            )
        for family, factory in contribution.value.items():
            families.add(str(family), factory, source=contribution.source)
    _plugged = (now, families)
    return families


def _families() -> Registry[RuntimeFactory | str]:
    families = _plugin_families().copy()
    for family, factory in _registered.items():
        families.add(family, factory, source=_IN_PROCESS)
    return families


def _load_reference(reference: str) -> RuntimeFactory:
    module_name, _, attribute = reference.partition(":")
    factory: RuntimeFactory = getattr(import_module(module_name), attribute)
    return factory


def adapter_families() -> list[str]:
    """The runtime families this installation can open."""
    return sorted(_families())


def load_adapter(family: str) -> RuntimeFactory:
    """The factory for ``family``; a clear error naming the known ones otherwise."""
    families = _families()
    if family not in families:
        raise ConfigError(
            f"unknown runtime family {family!r}; known: {', '.join(sorted(families))}. "
            "A plugin adds one through the inhouse_runtimes hook (docs/plugins.md)."
        )
    factory = families[family]
    return _load_reference(factory) if isinstance(factory, str) else factory


def register_adapter(family: str, factory: RuntimeFactory) -> None:
    """Add a family in this process, without packaging a plugin. A family that is registered
    already (a built-in, a plugin's, an earlier call's) is refused, naming both."""
    _families().add(family, factory, source=_IN_PROCESS)
    _registered[family] = factory


def open_runtime(
    config: RuntimeConfig, *, program: Path | None = None, look_behind: bool = True
) -> Runtime:
    """Build the runtime ``config`` describes, through the registry. Use it with ``async with``.

    ``look_behind=False``: the caller wants no proof that a runtime inhouse serves answered on
    this machine (the gateway's digest checks: the requests it proxies go over connections of
    its own), so none finds, for each new connection, the process at its other end
    (:class:`~inhouse.runtimes.local.PeerRecorder`, psutil on a worker thread); its answers'
    peers are then judged by address alone, as every other runtime's are.
    A factory whose signature does not name ``look_behind`` (a plugin's written before it) is
    called without it: the keyword only spares work, it never asks for any."""
    factory = load_adapter(config.family)
    if look_behind or not _takes_look_behind(factory):
        return factory(config, program=program)
    return cast(_LooksBehind, factory)(config, program=program, look_behind=False)


def _takes_look_behind(factory: RuntimeFactory) -> bool:
    """Whether ``factory`` names a ``look_behind`` keyword (``**kwargs`` alone does not count:
    a factory may hand those to an adapter that does not take it)."""
    try:
        parameter = inspect.signature(factory).parameters.get("look_behind")
    except (TypeError, ValueError):  # no signature to read
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )
