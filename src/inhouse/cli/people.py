"""inhouse person: the roster, invitations and keys."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from inhouse import figures
from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    print_rows,
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


@app.command("invite")
def invite(
    name: Annotated[
        str,
        typer.Argument(
            help="A short, unique name, e.g. 'omar'; your own name invites a new machine of yours."
        ),
    ],
    email: Annotated[str, typer.Option(help="E-mail.")] = "",
    team: Annotated[str, typer.Option(help="Team or job role, e.g. 'support', 'legal'.")] = "",
    role: RoleOpt = None,
    days: Annotated[int, typer.Option(help="Days the invitation stays valid (1-90).")] = 7,
    program: ProgramOpt = None,
) -> None:
    """Invite someone (rollout leads): prints a one-time invitation for them alone. They run
    `inhouse join INVITATION` on their own machine, which creates their key there."""
    from inhouse.program.people import invitation_expiry

    opened = open_program(program)
    text = opened.invite(
        name, email=email, team=team, roles=role or [], expires_in=invitation_expiry(days)
    )
    out_console().print(
        f"Invitation for [bold]{literal(name)}[/] (valid {literal(days)} days, one use). Give it "
        f"to {literal(name)} alone; they run, on their own machine:\n"
    )
    out_console().print(f"  inhouse join {literal(text)}", soft_wrap=True)


@app.command("revoke-key")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key id (see `person list --json`).")],
    program: ProgramOpt = None,
) -> None:
    """Revoke one of your keys (a lost laptop), or as a rollout lead, anyone's. Its later
    signatures count for nobody. The gateway's own key: a running gateway stops answering (it
    would seal usage rows that count for nothing) until its host rotates the key."""
    from inhouse.usage.authentic import GATEWAY_SERVICE

    opened = open_program(program)
    record = opened.state().keys.get(key_id)
    opened.revoke_key(key_id)
    out_console().print(f"Revoked {literal(key_id)}.")
    if record is not None and record.person == GATEWAY_SERVICE:
        from inhouse.cli.keys import say_told
        from inhouse.gateway.shared import announce
        from inhouse.program.core import rotation_words

        # the gateways that share Redis stop now, not at their next refresh
        say_told(announce(opened.folder, "keys"), "stop answering", "stops answering")
        out_console().print(
            f"Rotate it: {literal(rotation_words(GATEWAY_SERVICE))}.", soft_wrap=True
        )


@app.command("claim-lead")
def claim_lead(program: ProgramOpt = None) -> None:
    """For a program created before identities: its lead enrols this shell's key (created if
    there is none), once. Recorded; the audit shows from which event on events are signed."""
    from inhouse.identity import create_key, default_key_path, load_key

    key = load_key() if default_key_path().exists() else create_key()
    opened = open_program(program).using(key)
    opened.claim_lead()
    out_console().print(
        f"Enrolled key {literal(opened.key.key_id)} for the lead, {literal(opened.state().lead)}."
    )


@app.command("role")
def role(
    name: Annotated[str, typer.Argument(help="Who: a person on the roster.")],
    add: Annotated[
        list[str] | None,
        typer.Option(
            "--add",
            help="Role to give: rollout-lead, play-owner, support-owner, champion or "
            "pilot-user (repeatable).",
        ),
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="Role to take away (repeatable).")
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Give or take someone's roles (rollout leads), recorded in the signed log. Giving
    pilot-user widens access, so it is refused until plays 1-3 have exited (scaling before
    proving); taking a pilot member's role while their gateway access is open is refused too
    (`inhouse pilot remove` takes the access back first)."""
    person = open_program(program).change_roles(as_, name, add=add or [], remove=remove or [])
    out_console().print(
        f"{literal(person.name)}: {literal(', '.join(sorted(person.roles)) or 'no roles')}."
    )


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Everyone on the roster, with team and roles."""
    state = open_program(program).state()
    people = state.people.values()
    rows: list[dict[str, Any]] = [
        {
            "name": p.name,
            "email": p.email,
            "team": p.team,
            "roles": sorted(p.roles),
            "service": p.service,
            "keys": [
                {
                    "key_id": k.key_id,
                    "machine": k.machine,
                    "revoked": k.revoked_at is not None,
                    "superseded_by": k.superseded_by,
                }
                for k in state.keys_of(p.name)
            ],
        }
        for p in people
    ]
    print_rows(rows, json=json, columns=("name", "team", "roles", "keys"), cells=_person)


def _person(row: dict[str, Any]) -> tuple[str, ...]:
    live = [k for k in row["keys"] if not k["revoked"] and not k["superseded_by"]]
    keys = figures.count(len(live), "keys") if live else "invited, not joined"
    return row["name"], row["team"], ", ".join(row["roles"]), keys
