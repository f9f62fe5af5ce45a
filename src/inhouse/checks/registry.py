"""The registry of check types: a name (``icontains-any``) → its parameters and its function.

A type is declared with :func:`register_check_type` inside a module; a plugin hands the module
over through the ``inhouse_check_types`` hook (:mod:`inhouse.hookspecs`). The built-in types
live in the modules of :data:`BUILTIN_MODULES`, handed over by
:mod:`inhouse.default_plugins.check_types`, the same way a package does it::

    [project.entry-points.inhouse]
    sql = "inhouse_sqlcheck"

    # inhouse_sqlcheck/__init__.py
    @hookimpl
    def inhouse_check_types():
        return ["inhouse_sqlcheck.checks"]

    # inhouse_sqlcheck/checks.py
    @register_check_type("valid-sql", params=SqlParams, summary="the output parses as SQL")
    async def valid_sql(params: SqlParams, output: str, ctx: QualityContext) -> Finding: ...

(An entry point in the older ``inhouse.checks`` group naming the module still works.) A type
declared where no plugin hands it over (a test, a script) counts at once. A name registered
twice is refused with a :class:`~inhouse.errors.PluginError` naming both sources.

Every type gets its negation, ``not-<name>``, for free (see :mod:`inhouse.checks.spec`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from inhouse.checks.base import Finding, QualityContext
from inhouse.errors import ConfigError
from inhouse.plugins import Declarations

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

#: the older per-area entry-point group, still read (see :mod:`inhouse.plugins`)
ENTRY_POINT_GROUP = "inhouse.checks"
NEGATION = "not-"

#: the modules that declare the built-in types
BUILTIN_MODULES = (
    "inhouse.checks.text",
    "inhouse.checks.structured",
    "inhouse.checks.function",
    "inhouse.checks.measured",
    "inhouse.checks.similar",
    "inhouse.checks.rubric",
    "inhouse.checks.javascript",
    "inhouse.checks.graded",
    "inhouse.checks.tools",
)

_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class Params(BaseModel):
    """Base of every check type's parameters (the spec's fields beside ``type``, ``weight`` and
    ``metric``). Unknown fields are refused, so a typo names itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)


RunFunc = Callable[[Any, str, QualityContext], Awaitable[Finding]]
F = TypeVar("F", bound=RunFunc)


@dataclass(frozen=True)
class CheckType:
    """A registered type: ``run(params, output, ctx)`` judges one output."""

    name: str
    params: type[Params]
    run: RunFunc
    summary: str
    origin: str
    #: it judges an output only against the other prompt variants' outputs for the same case
    #: (``select-best``), which their author writes: it says nothing of an answer on its own,
    #: so it passes a decoy, negated or not (:attr:`QualityContext.decoy
    #: <inhouse.checks.base.QualityContext.decoy>`)
    relative: bool = False


_declared: Declarations[CheckType] = Declarations("check type", "inhouse_check_types")


def register_check_type(
    name: str, *, params: type[Params], summary: str, relative: bool = False
) -> Callable[[F], F]:
    """Register an async check function under ``name`` with its parameter model (``relative``:
    see :attr:`CheckType.relative`)."""
    if not _NAME.match(name) or name.startswith(NEGATION):
        raise ConfigError(
            f"check type name {name!r} must be lower-case words joined by hyphens and must not "
            f"start with {NEGATION!r} (negation is automatic)"
        )

    def register(func: F) -> F:
        origin = f"{func.__module__}.{func.__qualname__}"
        declared = CheckType(name, params, func, summary, origin, relative)
        _declared.declare(func.__module__, name, declared, origin=origin)
        return func

    return register


def check_types() -> dict[str, CheckType]:
    """Every registered type by name (built-ins and plugins), loading them on first use."""
    return dict(sorted(_declared.registry().items()))


def check_type(name: str) -> CheckType | None:
    """The type called ``name`` (without a ``not-`` prefix), or None."""
    return _declared.registry().get(name)


def supported_types() -> tuple[str, ...]:
    """Every type name a spec may use, negations included, sorted."""
    names = check_types()
    return tuple(sorted([*names, *(NEGATION + name for name in names)]))
