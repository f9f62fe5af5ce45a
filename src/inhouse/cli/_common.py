"""What every command module shares: the Typer subclass that turns inhouse errors into clear
messages, the common options, and the consoles. Imports nothing heavy: ``--help`` must stay fast."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from inhouse.errors import InhouseError

__all__ = [
    "AsOpt",
    "JsonOpt",
    "ProgramOpt",
    "Typer",
    "err_console",
    "out_console",
    "print_json",
    "state",
]

F = TypeVar("F", bound=Callable[..., Any])


class _State:
    """Options given before the sub-command (``inhouse --program DIR status``)."""

    program: str | None = None


state = _State()


def _edge(func: F) -> F:
    """Run a command; turn a deliberate inhouse error into a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except InhouseError as err:
            err_console().print(f"[bold red]error:[/] {_escape(str(err))}")
            raise typer.Exit(err.exit_code) from None

    return wrapper  # type: ignore[return-value]


class Typer(typer.Typer):
    """A Typer whose commands report :class:`InhouseError` as a message, never a traceback."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:  # type: ignore[override]
        register = super().command(*args, **kwargs)

        def decorator(func: F) -> F:
            register(_edge(func))
            return func

        return decorator


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


@functools.cache
def out_console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


@functools.cache
def err_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout, plainly (no colour), for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


ProgramOpt = Annotated[
    str | None,
    typer.Option(
        "--program",
        help="Program folder (default: walk up from here; env INHOUSE_PROGRAM).",
        show_default=False,
    ),
]
AsOpt = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Act as this person (default: env INHOUSE_USER, then the program's lead).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (stable shape, see docs).")]
