"""inhouse support import: bring tickets in from where the team already keeps them (GitHub
issues, Zammad). ``inhouse.cli.support`` calls :func:`register` to add the ``import`` group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from inhouse import figures
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    print_json,
)

if TYPE_CHECKING:
    from inhouse.support.importers import ImportReport

__all__ = ["register"]

app = Typer(help="Import tickets from GitHub or Zammad (tokens from the environment).")


@app.command("github")
def github(
    repo: Annotated[str, typer.Argument(help="OWNER/REPO", show_default=False)],
    label: Annotated[
        str,
        typer.Option("--label", help="Import the issues carrying this label.", show_default=False),
    ],
    api_url: Annotated[
        str, typer.Option("--api-url", help="GitHub's REST API (GitHub Enterprise: its /api/v3).")
    ] = "https://api.github.com",
    json: JsonOpt = False,
    program: ProgramOpt = None,
) -> None:
    """Import REPO's issues labelled LABEL (REST API 2022-11-28; token in GITHUB_TOKEN):
    category from an it-broke/how-to/request label, component from a component:NAME label.
    Pull requests are skipped; importing again records only what is new."""
    from inhouse.support.importers import import_github

    _show(import_github(open_program(program), repo, label=label, api_url=api_url), json)


@app.command("zammad")
def zammad(
    url: Annotated[str, typer.Argument(help="The Zammad's address", show_default=False)],
    json: JsonOpt = False,
    program: ProgramOpt = None,
) -> None:
    """Import the Zammad's tickets (REST API v1; token in ZAMMAD_TOKEN): category from a tag,
    component from a component:NAME tag, or the group through the support.import.zammad.groups
    table of inhouse.toml.
    Importing again records only what is new."""
    from inhouse.support.importers import import_zammad

    _show(import_zammad(open_program(program), url), json)


def _show(report: ImportReport, json: bool) -> None:
    if json:
        print_json(report.to_dict())
        return
    console = out_console()
    # ticket ids, accounts and reasons are the service's words: printed as themselves
    console.print(
        f"{literal(report.source)}: {figures.count(report.tickets, 'tickets')} read, "
        f"{figures.count(len(report.recorded), 'steps')} recorded, {literal(report.already)} "
        "already imported."
    )
    for ticket, why in report.skipped:
        console.print(f"  skipped {literal(ticket)}: {literal(why)}")
    for ticket in report.defaulted_category:
        console.print(
            f"  {literal(ticket)}: no it-broke/how-to/request label, imported as a request"
        )
    if report.unmapped:
        console.print(
            "  not mapped to anyone enrolled (recorded without an actor; map them in "
            "the support.import.SOURCE.logins table or give them their roster e-mail):"
        )
        for account, steps in sorted(report.unmapped.items()):
            console.print(f"    {literal(account)}: {figures.count(steps, 'steps')}")


def register(group: typer.Typer) -> None:
    """Add ``import github`` and ``import zammad`` to the ``support`` group."""
    group.add_typer(app, name="import", help="Import tickets from GitHub or Zammad.")
