"""inhouse play: start a play."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import AsOpt, ProgramOpt, Typer, literal, open_program, out_console

app = Typer()

PlayArg = Annotated[str, typer.Argument(help="Play number (1-6) or id (e.g. baseline).")]


@app.command("start")
def start(
    play: PlayArg,
    owner: Annotated[
        str | None,
        typer.Option(help="Who owns it (default: the receiver of the handoff, else you)."),
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Start a play. Refused unless its trigger holds and the previous play's handoff was
    accepted by its receiver (or a waiver says otherwise)."""
    opened = open_program(program)
    started = opened.start_play(as_, play, owner=owner)
    number = opened.playbook.number(started.id)
    owner_name = opened.state().plays[started.id].owner
    out_console().print(
        f"Started play {literal(number)}: {literal(started.title)} (owner {literal(owner_name)})."
    )
