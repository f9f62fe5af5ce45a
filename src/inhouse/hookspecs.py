"""Every extension point of inhouse, declared once, here.

A plugin is a module (or any object) whose functions carry :data:`hookimpl` and are named after
the hooks below. An installed package makes itself known with an entry point in the ``inhouse``
group, which names that module::

    [project.entry-points.inhouse]
    medical = "inhouse_medical"

    # inhouse_medical/__init__.py
    from inhouse.hookspecs import hookimpl
    from inhouse.policy import Detector

    @hookimpl
    def inhouse_detectors():
        return [Detector(name="mrn", data_class="medical-record", anchor=r"\\bMRN-\\d")]

inhouse's own runtimes, detectors, checks, collectors and commands come through the same hooks
(:mod:`inhouse.default_plugins`, registered before any installed plugin), and every registry
keeps one rule (:class:`inhouse.plugins.Registry`): a name registered twice is refused with a
:class:`~inhouse.errors.PluginError` that names both sources. ``docs/plugins.md`` describes each
hook with an example.

Every hook takes no arguments and returns what the plugin adds; a plugin implements only the
hooks it needs. Things that are costly to import (an adapter, a module of checks) are named by
dotted path and imported only when the registry that needs them is first used, so a plugin never
slows down ``inhouse --help``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import typer

    from inhouse.policy.detectors import Detector
    from inhouse.program.collectors import Collector
    from inhouse.runtimes.registry import RuntimeFactory

__all__ = [
    "PROJECT",
    "CommandGroup",
    "hookimpl",
    "hookspec",
    "inhouse_check_types",
    "inhouse_collectors",
    "inhouse_commands",
    "inhouse_detectors",
    "inhouse_play_checks",
    "inhouse_runtimes",
]

#: the pluggy project name, and the name of the entry-point group plugins are found in
PROJECT = "inhouse"

hookspec = pluggy.HookspecMarker(PROJECT)
#: mark a plugin's function as the implementation of the hook of the same name
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class CommandGroup:
    """What :func:`inhouse_commands` returns: commands to add to ``inhouse``.

    ``app`` is a :class:`typer.Typer`, or the ``"module:attribute"`` path of one. With a ``name``
    its commands become ``inhouse NAME ...`` (``help`` is the line ``inhouse --help`` shows);
    without one they become top-level commands (``inhouse COMMAND``)."""

    app: typer.Typer | str
    name: str | None = None
    help: str = ""


@hookspec
def inhouse_runtimes() -> Mapping[str, RuntimeFactory | str]:
    """Model runtime adapter families: family name → factory.

    The factory is called as ``factory(config, program=folder)`` and returns a
    :class:`inhouse.runtimes.Runtime` (usually it is the adapter class itself). A factory that
    names a ``look_behind`` parameter (default True) is passed ``look_behind=False`` by a
    caller that wants no proof that answers came from this machine (the gateway), to spare it
    the look behind each connection (:class:`inhouse.runtimes.local.PeerRecorder`); one that
    does not is called without it. Give it as a ``"module:attribute"`` string to have it
    imported only when a runtime of that family is opened. A family is what ``family = "..."``
    in a ``[runtimes.NAME]`` table selects."""
    raise NotImplementedError  # a specification: pluggy never calls it


@hookspec
def inhouse_detectors() -> Iterable[Detector]:
    """Data detectors (:class:`inhouse.policy.Detector`): each finds one data class in text.

    The scanner tries them in registration order where several could match at one place: the
    built-ins first, then each plugin's in the order the plugins were registered. A detector's
    ``data_class`` becomes a class data rules may name (``[data_rules]``)."""
    raise NotImplementedError


@hookspec
def inhouse_check_types() -> Iterable[str | ModuleType]:
    """Modules (or their dotted names) that declare output-quality check types.

    Inside them, each type is declared with :func:`inhouse.checks.register_check_type`; its
    checks are then usable in trial and workflow specs (``type: NAME``, and ``not-NAME`` for
    free). A module handed over here owns the declarations of its submodules too."""
    raise NotImplementedError


@hookspec
def inhouse_play_checks() -> Iterable[str | ModuleType]:
    """Modules (or their dotted names) that declare play checks.

    Inside them, each check is declared with :func:`inhouse.program.checks.register_check`
    (a pure function from a :class:`~inhouse.program.checks.CheckContext` to a result, and the
    fact kinds it reads); a playbook names it in a play's ``trigger`` or ``exit``. A module
    handed over here owns the declarations of its submodules too."""
    raise NotImplementedError


@hookspec
def inhouse_collectors() -> Iterable[Collector]:
    """Collectors (:class:`inhouse.program.collectors.Collector`): the named code paths allowed
    to record measured facts, each with the fact kinds it may record.

    For a kind a collector measures, a person's attestation never passes a check."""
    raise NotImplementedError


@hookspec
def inhouse_commands() -> Iterable[CommandGroup]:
    """Command groups (:class:`CommandGroup`) to add to the ``inhouse`` command line.

    Installed plugins' groups are read only when the command line names a command that is not
    built in, or lists them all (``inhouse --help``), so built-in commands start as fast with
    plugins installed as without."""
    raise NotImplementedError
