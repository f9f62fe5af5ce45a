"""The registry of check types: a name (``icontains-any``) → its parameters and its function.

Declared once, here. Built-in types live in the modules of :data:`BUILTIN_MODULES` and register
with :func:`register_check_type`, the same decorator a third party uses; a plugin package names
its module in the ``inhouse.checks`` entry point group and registers the same way::

    [project.entry-points."inhouse.checks"]
    sql = "inhouse_sqlcheck.checks"

    # inhouse_sqlcheck/checks.py
    @register_check_type("valid-sql", params=SqlParams, summary="the output parses as SQL")
    async def valid_sql(params: SqlParams, output: str, ctx: CheckContext) -> Outcome: ...

Every type gets its negation, ``not-<name>``, for free (see :mod:`inhouse.checks.spec`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from inhouse.checks.base import CheckContext, Outcome
from inhouse.errors import ConfigError

__all__ = [
    "BUILTIN_MODULES",
    "ENTRY_POINT_GROUP",
    "NEGATION",
    "CheckType",
    "Params",
    "check_type",
    "check_types",
    "register_check_type",
    "supported_types",
]

ENTRY_POINT_GROUP = "inhouse.checks"
NEGATION = "not-"

#: the modules whose import registers the built-in types
BUILTIN_MODULES = (
    "inhouse.checks.text",
    "inhouse.checks.structured",
    "inhouse.checks.function",
    "inhouse.checks.measured",
    "inhouse.checks.similar",
    "inhouse.checks.rubric",
)

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class Params(BaseModel):
    """Base of every check type's parameters (the spec's fields beside ``type``, ``weight`` and
    ``metric``). Unknown fields are refused, so a typo names itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)


RunFunc = Callable[[Any, str, CheckContext], Awaitable[Outcome]]
F = TypeVar("F", bound=RunFunc)


@dataclass(frozen=True)
class CheckType:
    """A registered type: ``run(params, output, ctx)`` judges one output."""

    name: str
    params: type[Params]
    run: RunFunc
    summary: str
    origin: str


_types: dict[str, CheckType] = {}
_loaded = False


def register_check_type(name: str, *, params: type[Params], summary: str) -> Callable[[F], F]:
    """Register an async check function under ``name`` with its parameter model."""
    if not _NAME.match(name) or name.startswith(NEGATION):
        raise ConfigError(
            f"check type name {name!r} must be lower-case words joined by hyphens and must not "
            f"start with {NEGATION!r} (negation is automatic)"
        )

    def register(func: F) -> F:
        origin = f"{func.__module__}.{func.__qualname__}"
        existing = _types.get(name)
        if existing is not None and existing.origin != origin:
            raise ConfigError(
                f"check type {name!r} is defined twice: by {existing.origin} and by {origin}"
            )
        _types[name] = CheckType(name, params, func, summary, origin)
        return func

    return register


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        import_module(module)
    for point in entry_points(group=ENTRY_POINT_GROUP):
        point.load()


def check_types() -> dict[str, CheckType]:
    """Every registered type by name (built-ins and plugins), loading them on first use."""
    _load()
    return dict(sorted(_types.items()))


def check_type(name: str) -> CheckType | None:
    """The type called ``name`` (without a ``not-`` prefix), or None."""
    _load()
    return _types.get(name)


def supported_types() -> tuple[str, ...]:
    """Every type name a spec may use, negations included, sorted."""
    names = check_types()
    return tuple(sorted([*names, *(NEGATION + name for name in names)]))
