"""The ``inhouse`` command: the root app, whose command groups come through a hook.

Groups are what plugins return from ``inhouse_commands`` (:mod:`inhouse.hookspecs`). The
built-in ones (:mod:`inhouse.default_plugins.commands`) are registered by name when this module
is imported, and a named group given as ``"module:attribute"`` is imported and built only when
the command line names it (or lists every command: ``--help``, completion, the docs). Installed
plugins' groups are read the first time the command line names a command that is not built in,
or lists them all, so a built-in command never waits for plugin discovery. A command name
registered twice is refused, naming both sources.

Laziness is for start-up: ``inhouse indicators report`` imports and builds one group's commands,
not thirty (measured with ``benchmarks/cli_startup.py``).
"""

from __future__ import annotations

import gc
from importlib import import_module
from typing import Annotated, Any, NoReturn

import typer
import typer.main

from inhouse import __version__
from inhouse.cli._common import Group, Typer, err_console, state
from inhouse.errors import InhouseError
from inhouse.hookspecs import CommandGroup
from inhouse.plugins import Registry, contributed, target_program

__all__ = ["app", "main"]


def _typer_of(group: CommandGroup) -> typer.Typer:
    if isinstance(group.app, typer.Typer):
        return group.app
    module, _, attribute = group.app.partition(":")
    found = getattr(import_module(module), attribute or "app")
    if not isinstance(found, typer.Typer):
        raise TypeError(f"{group.app} is {type(found).__name__}, not a typer.Typer")
    return found


def _add(target: typer.Typer, group: CommandGroup, source: str, names: Registry[str]) -> None:
    """Add ``group``'s commands to ``target``, each name registered once in ``names``."""
    if group.name is not None and isinstance(group.app, str) and target is app:
        names.add(group.name, source, source=source)
        _lazy[group.name] = group
        return
    sub = _typer_of(group)
    if group.name is None:
        for command in sub.registered_commands:
            callback = command.callback
            name = command.name or typer.main.get_command_name(getattr(callback, "__name__", ""))
            names.add(name, source, source=source)
            target.registered_commands.append(command)
    else:
        names.add(group.name, source, source=source)
        target.add_typer(sub, name=group.name, help=group.help)


def _click_group(group: CommandGroup) -> Any:
    """The click command of a named group, built the way ``add_typer`` builds it."""
    holder = typer.Typer()
    holder.add_typer(_typer_of(group), name=group.name, help=group.help)
    return typer.main.get_group(holder).commands[str(group.name)]


_builtin_names: Registry[str] = Registry("command")
#: built-in named groups not imported yet, in the order ``--help`` lists them
_lazy: dict[str, CommandGroup] = {}


def _fail(err: Exception) -> NoReturn:
    """Say ``err`` (plugins that cannot be read) and end the command."""
    from rich.markup import escape

    err_console().print(f"[bold red]error:[/] {escape(str(err))}")
    raise typer.Exit(getattr(err, "exit_code", 2)) from None


class _Root(Group):
    """The root group: reads installed plugins' groups only when it needs them."""

    _plugins_read = False
    _plugin_names: tuple[str, ...] = ()

    def _read_plugins(self, ctx: Any) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        holder = typer.Typer()
        try:
            # the root's --program is parsed by now, its callback not yet run: a plugin in
            # the checkout of the program it names is refused on this first read
            target_program(ctx.params.get("program"))
            names = _builtin_names.copy()
            for group, source in contributed("inhouse_commands", CommandGroup, which="installed"):
                _add(holder, group, source, names)
        except (InhouseError, ImportError, TypeError) as err:
            _fail(err)
        if holder.registered_commands or holder.registered_groups:
            added = typer.main.get_group(holder).commands
            for name, command in added.items():
                self.add_command(command, name)
            self._plugin_names = tuple(added)

    # the context and command classes are click's, whichever click typer runs on (typer 0.26+
    # vendors its own): typed loosely so one annotation fits both
    def list_commands(self, ctx: Any) -> list[str]:
        self._read_plugins(ctx)
        later = set(_lazy) | set(self._plugin_names)
        eager = [name for name in super().list_commands(ctx) if name not in later]
        return [*eager, *_lazy, *self._plugin_names]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        try:  # before a group's module is imported (one may read a registry as it loads)
            target_program(ctx.params.get("program"))
        except InhouseError as err:
            _fail(err)
        if cmd_name in _lazy and cmd_name not in self.commands:
            self.add_command(_click_group(_lazy[cmd_name]), cmd_name)
        found = super().get_command(ctx, cmd_name)
        if found is None and not self._plugins_read:
            self._read_plugins(ctx)
            found = super().get_command(ctx, cmd_name)
        return found


app = Typer(
    name="inhouse",
    help=(
        "Run your organisation's local-LLM program as a playbook of six plays. Each play has a "
        "trigger, an owner and exit criteria that are deliverables, checked against evidence "
        "inhouse gathers itself."
    ),
    cls=_Root,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inhouse {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    program: Annotated[
        str | None,
        typer.Option(
            "--program",
            help="Program folder (default: walk up from here, like git; env INHOUSE_PROGRAM).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    state.program = program
    try:
        target_program(program)
    except InhouseError as err:
        _fail(err)


for _group, _source in contributed("inhouse_commands", CommandGroup, which="builtin"):
    _add(app, _group, _source, _builtin_names)


def main() -> None:
    from inhouse.gctuning import for_a_command

    for_a_command()
    try:
        app()
    finally:
        # the process ends here: at shutdown the collector walks every object the command
        # imported or built, again and again as modules are torn down (~150 ms of each command,
        # measured). Frozen objects are left alone; files, connections and atexit handlers are
        # still closed and run as usual, and the operating system takes the rest back.
        gc.freeze()
