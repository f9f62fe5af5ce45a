"""The ``inhouse`` command: the root app, whose command groups come through a hook.

Groups are what plugins return from ``inhouse_commands`` (:mod:`inhouse.hookspecs`). The
built-in ones (:mod:`inhouse.default_plugins.commands`) are added when this module is imported;
installed plugins' groups the first time the command line names a command that is not built in,
or lists them all (``--help``, completion), so a built-in command never waits for plugin
discovery. A command name registered twice is refused, naming both sources.
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from inhouse import __version__
from inhouse.cli._common import Typer, err_console, state
from inhouse.errors import InhouseError
from inhouse.hookspecs import CommandGroup
from inhouse.plugins import Registry, contributed

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


_builtin_names: Registry[str] = Registry("command")


class _Root(TyperGroup):
    """The root group: reads installed plugins' groups only when it needs them."""

    _plugins_read = False

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        holder = typer.Typer()
        try:
            names = _builtin_names.copy()
            for group, source in contributed("inhouse_commands", CommandGroup, which="installed"):
                _add(holder, group, source, names)
        except (InhouseError, ImportError, TypeError) as err:
            from rich.markup import escape

            err_console().print(f"[bold red]error:[/] {escape(str(err))}")
            raise typer.Exit(getattr(err, "exit_code", 2)) from None
        if holder.registered_commands or holder.registered_groups:
            for name, command in typer.main.get_group(holder).commands.items():
                self.add_command(command, name)

    # the context and command classes are click's, whichever click typer runs on (typer 0.26+
    # vendors its own): typed loosely so one annotation fits both
    def list_commands(self, ctx: Any) -> list[str]:
        self._read_plugins()
        return super().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        found = super().get_command(ctx, cmd_name)
        if found is None and not self._plugins_read:
            self._read_plugins()
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


for _group, _source in contributed("inhouse_commands", CommandGroup, which="builtin"):
    _add(app, _group, _source, _builtin_names)


def main() -> None:
    app()
