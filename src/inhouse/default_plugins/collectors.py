"""The built-in collectors: the inhouse commands that record measured facts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inhouse.hookspecs import hookimpl

if TYPE_CHECKING:
    from inhouse.program.collectors import Collector


@hookimpl
def inhouse_collectors() -> tuple[Collector, ...]:
    from inhouse.program.collectors import BUILTIN_COLLECTORS

    return BUILTIN_COLLECTORS
