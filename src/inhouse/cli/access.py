"""inhouse access: ask to get in, in your own name."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import ProgramOpt, Typer, open_program, out_console

app = Typer()


@app.command("request")
def request(
    reason: Annotated[str, typer.Option(help="What you would use it for.")] = "",
    program: ProgramOpt = None,
) -> None:
    """Ask for access, signed with your own key: the evidence of demand plays 2, 4 and 5 wait
    for. Nobody can ask in your name."""
    fact = open_program(program).request_access(reason=reason)
    out_console().print(f"Recorded your access request (fact #{fact.id}, signed by {fact.by}).")
