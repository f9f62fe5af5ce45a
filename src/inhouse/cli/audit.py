"""inhouse audit: prove the event log untampered, and read it."""

from __future__ import annotations

from inhouse.cli._common import JsonOpt, ProgramOpt, Typer, open_program, out_console, print_json

app = Typer()


@app.command("verify")
def verify(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Recompute every event's hash and link; report the first tampered event (exit 1)."""
    import typer

    from inhouse.program.audit import verify_chain

    report = verify_chain(open_program(program).store)
    if json:
        print_json(
            {
                "ok": report.ok,
                "checked": report.checked,
                "first_bad_event": report.first_bad_seq,
                "problem": report.problem,
                "head_hash": report.head_hash,
            }
        )
    elif report.ok:
        out_console().print(
            f"[green]ok[/]: {report.checked} events, chain intact (head {report.head_hash})"
        )
    else:
        out_console().print(
            f"[bold red]TAMPERED[/]: {report.problem}. "
            f"{report.checked} events before it are intact."
        )
    if not report.ok:
        raise typer.Exit(1)


@app.command("log")
def log(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Every event, oldest first: who did what, when."""
    events = open_program(program).events()
    rows = [
        {
            "seq": e.seq,
            "at": e.at.isoformat(timespec="seconds"),
            "actor": e.actor,
            "kind": e.kind,
            "payload": e.payload,
            "hash": e.hash,
        }
        for e in events
    ]
    if json:
        print_json(rows)
        return
    from rich.table import Table

    table = Table("#", "when", "who", "event", "details", box=None)
    for row in rows:
        detail = ", ".join(f"{k}={v}" for k, v in row["payload"].items())
        table.add_row(
            str(row["seq"]),
            row["at"],
            row["actor"],
            row["kind"],
            detail if len(detail) < 90 else detail[:87] + "...",
        )
    out_console().print(table)
