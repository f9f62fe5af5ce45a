"""inhouse playbook: show the plays, validate a playbook file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inhouse.cli._common import JsonOpt, Typer, literal, out_console, print_json

app = Typer()


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Shipped playbook name or a .yaml path.")] = (
        "local-model-program"
    ),
    json: JsonOpt = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown (docs).")] = False,
) -> None:
    """The plays: trigger, owner, exit deliverables and what each hands on."""
    from inhouse.program.playbook import load_playbook

    book = load_playbook(name)
    if json:
        print_json(book.model_dump(mode="json"))
        return
    if markdown:
        from inhouse.program.playbook_doc import playbook_markdown

        typer.echo(playbook_markdown(book), nl=False)
        return
    console = out_console()
    console.print(f"[bold]{literal(book.title)}[/] ({literal(book.name)} v{literal(book.version)})")
    for number, play in enumerate(book.plays, 1):
        console.print(
            f"\n[bold]{literal(number)}. {literal(play.title)}[/] [dim]({literal(play.id)})[/]"
        )
        console.print(
            f"   owner: {literal(play.owner.who)} [dim]({literal(play.owner.role.value)})[/]"
        )
        for ref in play.trigger:
            console.print(f"   trigger: {literal(ref.title)} [dim]({literal(ref.check)})[/]")
        for ref in play.exit:
            console.print(f"   exit: {literal(ref.title)} [dim]({literal(ref.check)})[/]")
        if play.hands_on:
            console.print(f"   hands on: {literal(play.hands_on)}")


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="A playbook .yaml file.")]) -> None:
    """Check a playbook file; errors name the line and the field."""
    from inhouse.program.playbook import load_playbook

    book = load_playbook(path)
    out_console().print(
        f"[green]ok[/]: {literal(book.name)} v{literal(book.version)}, {literal(len(book.plays))} "
        "plays."
    )
