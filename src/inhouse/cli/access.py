"""inhouse access: ask to get in, in your own name."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import ProgramOpt, Typer, literal, open_program, out_console

app = Typer()


@app.command("request")
def request(
    reason: Annotated[str, typer.Option(help="What you would use it for.")] = "",
    as_: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Your name, where this checkout cannot tell it (no log, and no `inhouse join` "
            "of this key here). It counts only if it is the name your key is enrolled under.",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Ask for access, signed with your own key: the evidence of demand plays 2, 4 and 5 wait
    for. Nobody can ask in your name.

    On your own machine, in a checkout without the program's log, the request is sealed into
    .inhouse/outbox: `inhouse evidence export -o FILE`, and a lead imports it."""
    opened = open_program(program)
    fact = opened.request_access(reason=reason, person=as_)
    if opened.detached():  # sealed into the outbox: the log is elsewhere
        out_console().print(
            f"Signed your access request as {literal(fact.payload['person'])} into this checkout's "
            "outbox (.inhouse/outbox/): `inhouse evidence export -o FILE`, and a lead imports it "
            "(`inhouse evidence import FILE`)."
        )
        return
    out_console().print(
        f"Recorded your access request (fact #{literal(fact.id)}, signed by {literal(fact.by)})."
    )
