"""inhouse playbook: show the plays, validate a playbook file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inhouse.cli._common import JsonOpt, Typer, out_console, print_json

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
    console.print(f"[bold]{book.title}[/] ({book.name} v{book.version})")
    for number, play in enumerate(book.plays, 1):
        console.print(f"\n[bold]{number}. {play.title}[/] [dim]({play.id})[/]")
        console.print(f"   owner: {play.owner.who} [dim]({play.owner.role.value})[/]")
        for ref in play.trigger:
            console.print(f"   trigger: {ref.title} [dim]({ref.check})[/]")
        for ref in play.exit:
            console.print(f"   exit: {ref.title} [dim]({ref.check})[/]")
        if play.hands_on:
            console.print(f"   hands on: {play.hands_on}")


@app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="A playbook .yaml file.")]) -> None:
    """Check a playbook file; errors name the line and the field."""
    from inhouse.program.playbook import load_playbook

    book = load_playbook(path)
    out_console().print(f"[green]ok[/]: {book.name} v{book.version}, {len(book.plays)} plays.")
