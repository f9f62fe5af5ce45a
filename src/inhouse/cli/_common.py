"""What every command module shares: the Typer subclass that turns inhouse errors into clear
messages, the common options, and the consoles. Imports nothing heavy: ``--help`` must stay fast."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup

from inhouse.errors import InhouseError

if TYPE_CHECKING:
    from rich.table import Column
    from rich.text import Text

    from inhouse.program import Program

__all__ = [
    "AsOpt",
    "JsonOpt",
    "ProgramOpt",
    "Typer",
    "ask_before_signing",
    "err_console",
    "fresh_consoles",
    "literal",
    "out_console",
    "print_json",
    "print_rows",
    "state",
]

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")


class _State:
    """Options given before the sub-command (``inhouse --program DIR status``)."""

    program: str | None = None
    opened: list[Any]

    def __init__(self) -> None:
        self.opened = []

    def close_all(self) -> None:
        while self.opened:
            self.opened.pop().close()


state = _State()


def _edge(func: F) -> F:
    """Run a command; turn a deliberate inhouse error into a message and an exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            # a plugin lying in the checkout of the program this command names is refused
            # before the command runs, wherever it is run from
            from inhouse.plugins import target_program

            named = kwargs.get("program")
            target_program(named if isinstance(named, str) else state.program)
            return func(*args, **kwargs)
        except InhouseError as err:
            err_console().print(f"[bold red]error:[/] {_escape(_message(err))}")
            raise typer.Exit(err.exit_code) from None
        finally:
            state.close_all()

    return wrapper  # type: ignore[return-value]


def _message(err: InhouseError) -> str:
    """The error's message, with the evidence a refusal says is missing when it does not
    already list it."""
    from inhouse.errors import Refused

    text = str(err)
    missing = err.missing if isinstance(err, Refused) else []
    if missing and not all(item in text for item in missing):
        text += "\nmissing:\n" + "\n".join(f"  - {item}" for item in missing)
    return text


def _bare_flags(params: list[Any]) -> list[Any]:
    """A flag's help row without a value placeholder: Typer 0.29 writes ``--json <bool>``, as
    if the flag took a value, which it does not (``--json true`` is an error)."""
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return params


class _OwnWidth:
    """Run as a command (one a group calls is invoked, not run), it prints at the width its
    own environment gives (``COLUMNS``, the terminal), not an earlier command's."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        fresh_consoles()
        return super().main(*args, **kwargs)  # type: ignore[misc]


class Command(_OwnWidth, TyperCommand):
    """Every inhouse command: its flags shown bare in ``--help``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))


class Group(_OwnWidth, TyperGroup):
    """Every inhouse command group: its flags shown bare in ``--help``."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _bare_flags(super().get_params(ctx))


class Typer(typer.Typer):
    """A Typer whose commands report :class:`InhouseError` as a message, never a traceback."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("no_args_is_help", True)
        kwargs.setdefault("pretty_exceptions_enable", False)
        kwargs.setdefault("cls", Group)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            if kwargs.get("help") is None and func.__doc__:
                kwargs["help"] = _help_of(func.__doc__)
            kwargs.setdefault("cls", Command)
            typer.Typer.command(self, *args, **kwargs)(_edge(func))
            return func

        return decorator


def _help_of(doc: str) -> str:
    """A command's docstring as its help: each paragraph on one line (Typer's Rich help keeps
    a docstring's line breaks, which leaves ragged lines at any terminal width), and
    ``literals`` as the `literals` the rest of the help writes."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs).replace("``", "`")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def literal(value: Any, *, lines: bool = False) -> str:
    """``value`` (text from elsewhere: a server's answer, a name someone typed, a path) to put
    in a line printed with Rich markup: printed as exactly itself, its ``[tags]`` not read as
    markup (a ``[link=…]`` would be a hyperlink the terminal opens, ``[green]✓[/]`` a tick the
    log does not hold) and its control characters written out; with ``lines``, its line breaks
    kept (a sentence the program wrote over several lines, quoting a path)."""
    from inhouse.terminal import shown

    return _escape(shown(value, lines=lines))


def _console(**options: Any) -> Any:
    """A Rich console that writes every string it prints through
    :func:`inhouse.terminal.shown`: whatever a command prints (an error, a server's answer, a
    table cell), no escape sequence in it reaches the terminal as one."""
    from rich.console import Console

    from inhouse.terminal import shown

    class _Shown(Console):
        def render_str(self, text: str, **kwargs: Any) -> Any:
            return super().render_str(shown(text, lines=True), **kwargs)

    return _Shown(highlight=False, **options)


@contextmanager
def telling_service_enrolment(program: Any, name: str = "gateway") -> Iterator[None]:
    """Say so where the command inside enrolled a service's key (a rollout lead's first
    `gateway rollup`, `pilot adoption --record` or `support drift-review` on its host does,
    :meth:`~inhouse.program.Program.as_service`): a signed act that makes this machine the
    service's host, which the command's own output left unsaid. Said also where the command
    failed after enrolling it: the enrolment stands."""
    before = set(_service_keys(program, name))
    try:
        yield
    finally:
        _tell_enrolled(program, name, before)


def _tell_enrolled(program: Any, name: str, before: set[str]) -> None:
    for key_id in _service_keys(program, name):
        if key_id not in before:
            made = (
                f"Enrolled the {name}'s own key {key_id}, made on this machine "
                f"(.inhouse/keys/{name}.key) and vouched for by your key"
            )
            # a machine a person enrolled from (the lead's own laptop, where she ran it) is no
            # host of the service's own: saying its signatures count, as the line below does,
            # was the opposite of what status then warned
            shared = next(
                (line for line in program.state().shared_machines() if key_id in line), None
            )
            err_console().print(
                f"{made}, but {shared}"
                if shared is not None
                else f"{made}: what it signs counts as the {name}'s own measurement, and this "
                f"machine is the {name}'s host from now on (run it here; a key made on a lead's "
                "own machine measures nothing: docs/pilot.md)",
                markup=False,
            )


def _service_keys(program: Any, name: str) -> list[str]:
    return [key_id for key_id, key in program.state().keys.items() if key.person == name]


def figures_whole(table: Any) -> Any:
    """Give each column of a Rich ``table`` (rows already added) at least the width of the
    longest figure in it (a word holding a digit: ``0.00000103``, ``2026-12-07``), so a narrow
    terminal wraps or folds its words, never a number: folded, "0.00000103 EUR" read
    "0.000001" over "03 EUR", and cut, a date read "2026-12-…". Headers and prose still wrap,
    folded, never cut ("disapp…" told no column from the next): a column with a cell of more
    than four words is prose, and gets no minimum (a date in a sentence would widen the table
    past the terminal, which then cuts every row). Where the figures side by side are wider
    than the terminal (:func:`out_console`, which prints it), none gets its minimum: Rich
    would cut the table at the terminal's edge, its last columns gone ("outcome" with them),
    and a folded figure beats a missing one."""
    from rich.text import Text

    widths: dict[int, int] = {}
    for index, column in enumerate(table.columns):
        if column.overflow == "ellipsis":  # Rich's default: a header cut to "disapp…" names
            column.overflow = "fold"  # no column a reader can tell from the next
        # a list command's cells are Rich Texts (:func:`print_rows`): read as their words too,
        # or its times and digests got no minimum and folded mid-figure ("…T11:06:41+" over
        # "00:00")
        cells = [c.plain if isinstance(c, Text) else c for c in column.cells]
        cells = [cell for cell in cells if isinstance(cell, str)]
        if any(len(cell.split()) > 4 for cell in cells):
            continue
        figures = [
            len(word) for cell in cells for word in cell.split() if any(ch.isdigit() for ch in word)
        ]
        if figures:
            widths[index] = max(column.min_width or 0, *figures)
    # each column's padding (a space either side) and a rule between columns and at each edge
    frame = 3 * len(table.columns) + 1
    if sum(widths.values()) + frame <= out_console().width:
        for index, width in widths.items():
            table.columns[index].min_width = width
    return table


@functools.cache
def out_console() -> Any:
    return _console()


@functools.cache
def err_console() -> Any:
    return _console(stderr=True)


def fresh_consoles() -> None:
    """Forget the consoles, so the next command builds its own: Rich reads the terminal's
    width (``COLUMNS``) once, when a console is made, and one kept across commands in one
    process (a test worker's, a plugin host's) printed every later command at the first's
    width. Called as each command starts (a :class:`Command`'s or :class:`Group`'s ``main``)."""
    out_console.cache_clear()
    err_console.cache_clear()


def ask_before_signing(heading: str, question: str) -> Callable[[list[str]], bool | None]:
    """The ``agree`` a command hands the play package where the caller's key signs someone
    else's word or work as theirs (a handoff accepted, a review attended, a ticket's steps, a
    fix): it shows ``heading`` and the lines the event signs, then asks ``question``; yes, no,
    or None where no answer came (no terminal, the input ended), which records nothing. No flag
    answers it: "just run it with --yes" would be a colleague vouching for what they never
    read."""

    def ask(lines: list[str]) -> bool | None:
        out = out_console()
        out.print(heading, soft_wrap=True)
        for line in lines:
            out.print(f"  {line}", soft_wrap=True, markup=False, highlight=False)
        try:
            return typer.confirm(question, default=False)
        except typer.Abort:
            return None

    return ask


def print_json(data: Any) -> None:
    """Write ``data`` as JSON to stdout, plainly (no colour), for scripts."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def print_rows(
    rows: Sequence[R],
    *,
    json: bool,
    columns: Sequence[str | Column],
    cells: Callable[[R], Sequence[str | Text | None]],
    empty: str = "None yet.",
) -> None:
    """A list command's answer: ``rows`` as JSON with ``--json``, else a plain table of
    ``columns``, a line of ``cells(row)`` per row. A cell is data (a name, a note, a payload,
    a server's word), shown as exactly itself, never read as markup; a cell that is styled
    says so by being a Rich ``Text``. No rows: ``empty`` (what makes one, where a command
    says), not a table of headers alone, which read as a listing that failed."""
    if json:
        print_json(rows)
        return
    if not rows:
        out_console().print(empty, markup=False, highlight=False)
        return
    from rich.table import Table
    from rich.text import Text

    from inhouse.terminal import shown

    table = Table(*columns, box=None)
    for row in rows:
        table.add_row(
            *(Text(shown(c, lines=True)) if isinstance(c, str) else c for c in cells(row))
        )
    # on an 80-column terminal Rich cut a fact's time to "2026-12-07T10:17…" and its payload
    # to "aim=replace-depe…": folded, a reader still has all of it
    out_console().print(figures_whole(table))


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
        "--on-behalf-of",
        help="A rollout lead records this for NAME (shown as on behalf; never counts as NAME's "
        "own act). Whoever holds the signing key acts: INHOUSE_KEY or your own key file.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (stable shape, see docs).")]
#: play 6: the findings a change answers (a re-lock, a workflow or prompt version)
ClosesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--closes",
        metavar="FINDING",
        help="A finding this change answers (repeatable; play 6). The change must be new: that "
        "is what closes it, never a tick.",
    ),
]


def open_program(program: str | None = None) -> Program:
    """Open the program named by ``--program`` (sub-command or root), env, or the walk up."""
    from inhouse.program import Program

    opened = Program.open(program or state.program)
    state.opened.append(opened)
    return opened


def parse_when(text: str) -> Any:
    """A time a person typed: ``2026-12-31`` (end of that day, UTC), an ISO date-time, or a
    span from now such as ``30d``, ``12h``, ``2w``."""
    import re
    from datetime import UTC, datetime, time, timedelta

    from inhouse.errors import InvalidInput

    value = text.strip()
    span = re.fullmatch(r"(\d+)\s*([hdw])", value)
    try:
        if span:
            amount, unit = int(span.group(1)), span.group(2)
            hours = {"h": 1, "d": 24, "w": 24 * 7}[unit] * amount
            return datetime.now(UTC) + timedelta(hours=hours)
        if len(value) == 10:
            day = datetime.fromisoformat(value).date()
            return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
        moment = datetime.fromisoformat(value)
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        moment.astimezone(UTC)  # compared in UTC everywhere: it must have a UTC time
        return moment
    except OverflowError:
        raise InvalidInput(
            f"{text!r} is too far ahead: a time must fall before the year 10000"
        ) from None
    except ValueError:
        raise InvalidInput(
            f"cannot read {text!r} as a time: use 2026-12-31, 2026-12-31T17:00+01:00, or 30d"
        ) from None
