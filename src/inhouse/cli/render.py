"""Render the status data for a terminal (Rich). Only presentation lives here; the data and every
decision in it come from :mod:`inhouse.program.status`."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

__all__ = ["render_status"]

_MARK = {
    "pass": "[green]✓ pass[/]",
    "fail": "[red]✗ fail[/]",
    "inconclusive": "[yellow]? inconclusive[/]",
    "not-applicable": "[dim]- n/a[/]",
    "error": "[magenta]! error[/]",
}
_STATE = {
    "not-started": "[dim]not started[/]",
    "ready": "[cyan]ready to start[/]",
    "running": "[yellow]running[/]",
    "exit-met": "[green]exit met: offer the handoff[/]",
    "handoff-offered": "[cyan]handoff offered[/]",
    "exited": "[green]exited[/]",
    "ongoing": "[green]ongoing[/]",
    "stopped": "[dim]not reached (program stopped)[/]",
}


def _check_rows(table: Table, label: str, rows: list[dict[str, Any]]) -> None:
    for index, row in enumerate(rows):
        reason = escape(row["reason"])
        if row["basis"] in ("attested", "mixed"):
            people = "; ".join(
                escape(e["label"]) for e in row["evidence"] if e["provenance"] == "attested"
            )
            reason += f"\n[yellow]⚑ a person's word, not measured: {people}[/]"
        if row["waived_by"]:
            waivers = ", ".join(f"#{w}" for w in row["waived_by"])
            reason += f"\n[magenta]waived by {waivers} (still {row['outcome']})[/]"
        table.add_row(
            label if index == 0 else "", _MARK[row["outcome"]], escape(row["title"]), reason
        )


def _play_panel(play: dict[str, Any], current: bool, waivers: dict[int, dict[str, Any]]) -> Panel:
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column(width=8, style="bold")
    table.add_column(width=16, no_wrap=True)
    table.add_column(ratio=2)
    table.add_column(ratio=3)
    _check_rows(table, "trigger", play["trigger"])
    if play["exit"] is not None:
        _check_rows(table, "exit", play["exit"])
    parts: list[Any] = [table]
    handoff = play["handoff"]
    if handoff is not None:
        line = f"handoff → {escape(handoff['to'])}: {handoff['status']}"
        if handoff["decided_by"]:
            line += f" by {escape(handoff['decided_by'])}"
        if handoff["decision_comment"]:
            line += f' ("{escape(handoff["decision_comment"])}")'
        if handoff["stale"]:
            line += " [bold red]STALE: the exit evidence changed after acceptance[/]"
        parts.append(line)
    for seq in play["started_under_waivers"]:
        w = waivers.get(seq)
        if w:
            state = "active" if w["active"] else "expired"
            parts.append(
                f"[magenta]started under waiver #{seq}[/] ({w['guard']}, {w['reason']}: "
                f"{escape(w['note'])}; {state}, until {w['expires']})"
            )
    if play["hands_on"] and play["state"] in ("exit-met", "handoff-offered", "exited"):
        parts.append(f"[dim]hands on: {escape(play['hands_on'])}[/]")
    owner = escape(play["owner"]) if play["owner"] else f"[dim]{escape(play['owner_who'])}[/]"
    title = (
        f"{'▶ ' if current else ''}[bold]{play['number']}. {escape(play['title'])}[/] · "
        f"{_STATE[play['state']]} · owner {owner}"
    )
    return Panel(
        Group(*parts), title=title, title_align="left", border_style="cyan" if current else "dim"
    )


def render_status(console: Console, data: dict[str, Any]) -> None:
    program = data["program"]
    book = program["playbook"]
    console.print(
        f"[bold]{escape(program['name'])}[/] · playbook {book['name']} v{book['version']} · "
        f"lead {escape(program['lead'])} · {data['events']} events"
    )
    stop = program["stopped"]
    if stop is not None:
        evidence = "; ".join(escape(e["label"]) for e in stop["evidence"])
        console.print(
            Panel(
                f"{escape(stop['summary'])}\nStopped by {escape(stop['by'])} on {stop['at']}."
                f"\nEvidence: {evidence}",
                title="[bold green]stopped: not worth it[/]",
                border_style="green",
            )
        )
    waivers = {w["id"]: w for w in data["waivers"]}
    for play in data["plays"]:
        console.print(_play_panel(play, play["id"] == data["current_play"], waivers))
    active = [w for w in data["waivers"] if w["active"]]
    if active:
        console.print("[bold magenta]Active waivers[/]")
        for w in active:
            console.print(
                f"  #{w['id']} {w['guard']} ({w['play'] or 'any play'}) by "
                f"{escape(w['granted_by'])}: {w['reason']}: {escape(w['note'])}, "
                f"until {w['expires']}"
            )
    if data["refusals"]:
        console.print(f"[bold]Refused anti-patterns[/] ({len(data['refusals'])})")
        for r in data["refusals"][-5:]:
            console.print(
                f"  [red]✗[/] {r['at']} {escape(r['actor'])}: {escape(r['action'])} "
                f"[dim]({', '.join(r['guards'])})[/]"
            )
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
