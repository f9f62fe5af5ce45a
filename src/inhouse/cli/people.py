"""inhouse person: the roster."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    open_program,
    out_console,
    print_json,
)

app = Typer()

RoleOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        help="rollout-lead, play-owner, support-owner, champion or pilot-user (repeatable). "
        "Adding a pilot user is guarded: plays 1-3 must have exited.",
    ),
]


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short, unique name, e.g. 'omar'.")],
    email: Annotated[str, typer.Option(help="E-mail.")] = "",
    team: Annotated[str, typer.Option(help="Team or job role, e.g. 'support', 'legal'.")] = "",
    role: RoleOpt = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Add a person to the program's roster."""
    person = open_program(program).add_person(as_, name, email=email, team=team, roles=role or [])
    roles = ", ".join(sorted(person.roles)) or "no roles yet"
    out_console().print(f"Added {person.name} ({roles}).")


@app.command("role")
def role(
    name: Annotated[str, typer.Argument(help="Who.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="Role to add (repeatable).")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="Role to remove (repeatable).")
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Give or take roles."""
    person = open_program(program).change_roles(as_, name, add=add or [], remove=remove or [])
    out_console().print(f"{person.name}: {', '.join(sorted(person.roles)) or 'no roles'}.")


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Everyone on the roster, with team and roles."""
    people = open_program(program).state().people.values()
    rows = [
        {"name": p.name, "email": p.email, "team": p.team, "roles": sorted(p.roles)} for p in people
    ]
    if json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("name", "team", "roles", "email", box=None)
    for row in rows:
        table.add_row(row["name"], row["team"], ", ".join(row["roles"]), row["email"])
    out_console().print(table)
