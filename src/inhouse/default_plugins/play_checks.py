"""The built-in play checks: the triggers and exits of the six plays."""

from __future__ import annotations

from inhouse.hookspecs import hookimpl

#: the package of built-in play checks, one module per play; it owns its submodules' checks
BUILTIN_MODULES: tuple[str, ...] = ("inhouse.program.playchecks",)


@hookimpl
def inhouse_play_checks() -> tuple[str, ...]:
    return BUILTIN_MODULES
