"""inhouse waiver: let a refused anti-pattern through, on the record, until it expires."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    parse_when,
    print_rows,
)

app = Typer()


@app.command("grant")
def grant(
    guard: Annotated[
        str,
        typer.Argument(
            help="calendar-driven-advance, botched-handoff, scaling-before-proving or "
            "skipping-play-five."
        ),
    ],
    reason: Annotated[
        str,
        typer.Option(
            help="executive-decision, regulatory-deadline, time-boxed-experiment, "
            "evidence-recorded-elsewhere or other."
        ),
    ],
    note: Annotated[str, typer.Option(help="Why, in your words (kept on the record).")],
    expires: Annotated[
        str, typer.Option(help="When it lapses: 2026-12-31, or 14d; at most 366 days ahead.")
    ],
    play: Annotated[
        str | None, typer.Option(help="Only for this play (number or id); default: any.")
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Grant a waiver (rollout lead only). It never turns a failing check into a pass. One
    person's waivers of one guard cover at most 366 days in any 732: past that, another
    rollout lead renews it, in their own name, once the organisation's sign-in tells them
    apart (a waiver whose key never signed in as its grantor counts toward every lead's)."""
    waiver = open_program(program).grant_waiver(
        as_, guard, reason=reason, note=note, expires=parse_when(expires), play=play
    )
    scope = f"play {waiver.play}" if waiver.play else "any play"
    out_console().print(
        f"Waiver #{literal(waiver.seq)} granted by {literal(waiver.granted_by)}: "
        f"{literal(waiver.guard)} for {literal(scope)} until {waiver.expires:%Y-%m-%d %H:%M} UTC."
    )


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Every waiver granted, active or expired."""
    from rich.text import Text

    print_rows(
        open_program(program).status()["waivers"],
        json=json,
        columns=("#", "guard", "play", "reason", "note", "by", "expires", "active"),
        cells=lambda w: (
            str(w["id"]),
            w["guard"],
            w["play"] or "any",
            w["reason"],
            w["note"],
            w["granted_by"],
            w["expires"],
            "yes" if w["active"] else Text("expired", style="red"),
        ),
    )
