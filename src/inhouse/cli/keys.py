"""inhouse keys: gateway keys — granted by a lead, fetched by their person (shown once),
revoked, listed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    err_console,
    literal,
    open_program,
    out_console,
    print_json,
    print_rows,
)

if TYPE_CHECKING:
    from inhouse.gateway.shared import Told

app = Typer()


@app.command("issue")
def issue(
    person: Annotated[str, typer.Argument(help="Who the key is for (on the roster).")],
    agent: Annotated[
        str | None,
        typer.Option(help="Bind the key to an agent: its \\[policy.agents.NAME] boundary applies."),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option("--rpm", help="Requests per minute (default: no limit).")
    ] = None,
    tokens_per_day: Annotated[
        int | None, typer.Option(help="Tokens in + out per UTC day (default: no limit).")
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Only these blessed models (repeat; default: all)."),
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
    json: JsonOpt = False,
) -> None:
    """Grant PERSON a gateway key; they fetch it themselves (`inhouse keys fetch`) with their
    own signing key, so you never see it. Anyone but play 1's owner needs the pilot's evidence
    (scaling before proving); anyone outside the pilot, once there is one, needs play 5's
    (skipping play five); a waiver on the record can let either through. An --agent key needs
    that agent's tool boundary in inhouse.toml."""
    from inhouse.gateway.keys import KeyLimits, grant_key, models_not_blessed

    limits = KeyLimits(
        rpm=rpm, tokens_per_day=tokens_per_day, models=tuple(model) if model else None
    )
    opened = open_program(program)
    grant = grant_key(opened, as_, person, agent=agent, limits=limits)
    unknown, blessed = models_not_blessed(opened, model or [])
    if unknown:
        err_console().print(
            f"warning: the lock blesses no {', '.join(unknown)} (it blesses "
            f"{', '.join(blessed) or 'none'}): this key may use "
            + ("no model" if set(unknown) == set(model or []) else "only the others")
            + " until a lock blesses it. Check the names: `inhouse keys revoke` and issue again.",
            markup=False, soft_wrap=True,
        )  # fmt: skip
    if json:
        print_json({"grant": grant, "person": person, "agent": agent})
        return
    out_console().print(
        f"Granted {literal(person)} a gateway key ({literal(grant)})"
        + (f" bound to agent {literal(agent)}" if agent else "")
        + f". {literal(person)} fetches it with their own key: `inhouse keys fetch`."
    )


@app.command("fetch")
def fetch(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Fetch the gateway key granted to you and print it once; only its hash is kept."""
    from inhouse.gateway.keys import fetch_key

    record, key = fetch_key(open_program(program))
    if json:
        print_json({"id": record.id, "person": record.person, "agent": record.agent,
                    "prefix": record.prefix, "key": key})  # fmt: skip
        return
    bound = f" (agent {record.agent})" if record.agent else ""
    out_console().print(f"Key {literal(record.id)} for {literal(record.person)}{literal(bound)}.")
    # a request sent at once to a gateway already running got "invalid or revoked gateway
    # key", and read as a fetch that failed
    err_console().print(
        "A running gateway serves it from its next key refresh (\\[gateway] "
        "keys_refresh_seconds, 5 s unless set; at once where its replicas share Redis)."
    )
    err_console().print("Shown once; inhouse keeps only its hash. Use it as the OpenAI API key:")
    typer.echo(key)


@app.command("revoke")
def revoke(
    key: Annotated[str, typer.Argument(help="The key's id (k_…) or prefix (ih_…).")],
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Revoke a key. Running gateway replicas that share Redis refuse it at once; others after
    their next key refresh."""
    from inhouse.gateway.keys import revoke_key
    from inhouse.gateway.shared import announce

    opened = open_program(program)
    record = revoke_key(opened, as_, key, tell_replicas=False)
    out_console().print(f"Key {literal(record.id)} ({literal(record.person)}) revoked.")
    say_told(announce(opened.folder, "keys"), "refuse the key", "refuses the key")


def say_told(told: Told, they: str, each: str) -> None:
    """What ``inhouse keys revoke`` (and ``person revoke-key`` of the gateway's own key) says
    of the running gateway replicas, told on Redis (:func:`~inhouse.gateway.shared.announce`):
    ``they`` do it now, or ``each`` does it at its next refresh."""
    from rich.markup import escape

    if told.sent and told.heard == 0:
        out_console().print(
            "No gateway replica heard it on Redis (none runs, or none reaches Redis): each "
            f"{literal(each)} when it starts or at its next refresh (keys_refresh_seconds, "
            f"{told.refresh_seconds:g} s)."
        )
    elif told.sent:
        out_console().print(f"Told the running gateway replicas (Redis): they {literal(they)} now.")
    elif told.problem is not None:
        err_console().print(
            "[yellow]warning:[/] could not tell the running gateway replicas: "
            f"{escape(told.problem)}. The key is revoked; each replica {literal(each)} at its next "
            f"refresh (keys_refresh_seconds, {told.refresh_seconds:g} s).",
            soft_wrap=True,
        )


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Keys by id, person, agent, prefix and limits (never the keys themselves). A key the
    gateway refuses to serve (the program's log does not vouch for it) is marked refused, with
    why and what to do."""
    from rich.markup import escape

    from inhouse.gateway.keys import list_keys, refused_keys

    opened = open_program(program)
    keys = list_keys(opened.store, include_revoked=all_)
    refused = {r.key.id: r.reason for r in refused_keys(opened)}
    rows: list[dict[str, Any]] = [
        {
            "id": k.id,
            "person": k.person,
            "agent": k.agent,
            "prefix": k.prefix,
            "created": k.created,
            "revoked": k.revoked,
            "rpm": k.limits.rpm,
            "tokens_per_day": k.limits.tokens_per_day,
            "models": list(k.limits.models) if k.limits.models is not None else None,
            "refused": refused.get(k.id),  # None: served (or revoked)
        }
        for k in keys
    ]
    columns = ("id", "person", "agent", "prefix", "created", "limits", "revoked")
    print_rows(rows, json=json, columns=columns, cells=_key)
    if json or not refused:
        return
    out = out_console()
    out.print("Refused by the gateway (the program's log does not vouch for them):")
    for row in rows:
        if row["refused"] is not None:
            named = f"{row['id']} ({row['person']}, prefix {row['prefix']}…)"
            out.print(f"  {escape(named)}: {escape(row['refused'])}", soft_wrap=True)


def _key(row: dict[str, Any]) -> tuple[str, ...]:
    # each figure with its unit, each time in UTC said so: "rpm 60, tokens_per_day 20000"
    # and a time without its zone left a newcomer to guess both
    limits = ", ".join(
        f"{row[name]:,} {unit}"
        for name, unit in (("rpm", "req/min"), ("tokens_per_day", "tokens/day"))
        if row[name] is not None
    )
    if row["models"] is not None:
        limits += (", " if limits else "") + "models " + ", ".join(row["models"])
    key_id = row["id"] + (" (refused)" if row["refused"] is not None else "")
    return (key_id, row["person"], row["agent"] or "", row["prefix"] + "…",
            _utc(row["created"]), limits or "none", _utc(row["revoked"]))  # fmt: skip


def _utc(stamp: str | None) -> str:
    """A stored time as the table shows it: UTC to the second, ``2026-11-03 10:00:00Z``."""
    if not stamp:
        return ""
    from datetime import UTC, datetime

    return datetime.fromisoformat(stamp).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
