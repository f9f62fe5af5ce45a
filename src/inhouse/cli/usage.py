"""``inhouse usage``: your own word on your use of the gateway — confirm."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from inhouse.cli._common import (
    ProgramOpt,
    Typer,
    ask_before_signing,
    literal,
    open_program,
    out_console,
)

if TYPE_CHECKING:
    from inhouse.pilot.usage_confirm import OwnUse

app = Typer()


@app.command("confirm")
def confirm(
    leave_out: Annotated[
        list[str] | None,
        typer.Option(
            "--except",
            help="A day (2026-11-04) the gateway's figures give you that you did not use it "
            "(repeat).",
            show_default=False,
        ),
    ] = None,
    leave_out_prompts: Annotated[
        list[str] | None,
        typer.Option(
            "--except-prompt",
            help="A prompt version (triage@2) the figures say you were served and were not "
            "(repeat).",
            show_default=False,
        ),
    ] = None,
    show: Annotated[
        bool, typer.Option("--show", help="Only show what is to confirm; record nothing.")
    ] = False,
    on_behalf_of: Annotated[
        str | None,
        typer.Option(
            "--on-behalf-of",
            help="Refused: a person's use counts only on their own word, signed with their key.",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Confirm, signed with your key on your own machine, the days (and prompt versions) the
    gateway's figures give you: they count in plays 4 and 6 only once you do, since the
    gateway's host is its operator's. It lists each day (with the requests through your keys)
    and prompt version, and asks before it signs; no answer records nothing. Leave out a day
    you did not use it with --except."""
    from inhouse.errors import InvalidInput
    from inhouse.pilot.usage_confirm import attributed_use, confirm_usage

    opened = open_program(program)
    out = out_console()
    if show:
        use = attributed_use(opened)
        said = ", ".join(map(str, use.days)) or "none"
        versions = ", ".join(f"{n}@{v}" for n, v in use.prompts) or "none"
        out.print(
            f"To confirm for {literal(use.person)}: days {literal(said)}; prompt versions "
            f"{literal(versions)}."
        )
        for line in use.lines():
            out.print(f"  {line}", soft_wrap=True, markup=False, highlight=False)
        return
    days: list[date] = []
    for text in leave_out or []:
        try:
            days.append(date.fromisoformat(text))
        except ValueError:
            raise InvalidInput(f"--except {text!r} is not a day (2026-11-04)") from None
    prompts: list[tuple[str, int]] = []
    for text in leave_out_prompts or []:
        name, _, version = text.rpartition("@")
        if not name or not version.isdigit():
            raise InvalidInput(f"--except-prompt {text!r} is not NAME@VERSION (triage@2)")
        prompts.append((name, int(version)))
    fact = confirm_usage(
        opened, leave_out=days, leave_out_prompts=prompts, person=on_behalf_of, agree=_ask
    )
    said = ", ".join(fact.payload["days"]) or "no days"
    versions = ", ".join(f"{p['prompt']}@{p['version']}" for p in fact.payload["prompts"])
    out.print(
        f"Confirmed your use (fact #{literal(fact.id)}, signed by {literal(fact.by)}): "
        f"{literal(said)}"
        + (f"; prompt versions {literal(versions)}" if versions else "")
        + (
            f"; left out {literal(', '.join(fact.payload['left_out']))}"
            if fact.payload["left_out"]
            else ""
        )
        + "."
    )


def _ask(use: OwnUse) -> bool | None:
    """Show ``use`` (what the confirmation would sign) and ask its person whether it was
    theirs; None where no answer came (no terminal, end of input): nothing is signed, and the
    refusal says how to answer."""
    return ask_before_signing(
        f"The gateway's figures give {literal(use.person)} this use, not confirmed yet. They are "
        "written on the gateway's host, which its operator runs: confirm only what you did "
        "yourself.",
        "Did you yourself use the gateway on each of these days (and were you sent each "
        "prompt version listed)?",
    )(use.lines())
