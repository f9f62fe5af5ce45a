"""inhouse handoff: offer a play's artifact; the receiver accepts or rejects it."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import (
    AsOpt,
    ProgramOpt,
    Typer,
    ask_before_signing,
    literal,
    open_program,
    out_console,
)
from inhouse.cli.plays import PlayArg

app = Typer()

CommentOpt = Annotated[str, typer.Option(help="A word for the record.")]


@app.command("offer")
def offer(
    play: PlayArg,
    to: Annotated[str, typer.Option("--to", help="Who receives it (the next play's owner).")],
    comment: CommentOpt = "",
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Offer the play's artifact to the next play's owner (the play's owner, once every exit
    check passes). The offer is recorded with the exit evidence it hands on; the receiver
    accepts it with `inhouse handoff accept PLAY`, and the play exits then."""
    digest = open_program(program).offer_handoff(as_, play, to=to, comment=comment)
    out_console().print(
        f"Offered play {literal(play)}'s handoff to {literal(to)} (evidence "
        f"{literal(digest[:12])})."
    )


@app.command("accept")
def accept(
    play: PlayArg, comment: CommentOpt = "", program: ProgramOpt = None, as_: AsOpt = None
) -> None:
    """Accept as the receiver: you confirm the artifact is usable. Bound to the evidence now.
    It shows what your key signs (the artifact, who offered it, each exit check and the facts
    it rests on, the evidence hash) and asks before it signs; no answer records nothing."""
    agree = ask_before_signing(
        "Your key signs that you received this and it is usable:",
        "Accept this handoff as its receiver?",
    )
    digest = open_program(program).accept_handoff(as_, play, comment=comment, agree=agree)
    out_console().print(
        f"Accepted play {literal(play)}'s handoff (evidence {literal(digest[:12])}); it has exited."
    )


@app.command("reject")
def reject(
    play: PlayArg,
    comment: Annotated[str, typer.Option(help="Why: what the owner must fix.")],
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Reject as the receiver, saying what is missing."""
    open_program(program).reject_handoff(as_, play, comment=comment)
    out_console().print(f"Rejected play {literal(play)}'s handoff.")
