"""Render for a terminal (Rich): the status data, and the progress of long runs. Only
presentation lives here; the data and every decision in it come from the play packages
(:mod:`inhouse.program.status`, the trials' runs)."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from inhouse.cli._common import literal
from inhouse.program.status_shape import (
    CheckRow,
    PlayView,
    Status,
    WaiverView,
    owner_words,
    state_words,
)

__all__ = ["ProgressBar", "render_status"]


class ProgressBar:
    """A progress bar on stderr (stdout stays clean for ``--json``), one line per phase, each
    line added when its phase first reports: pass :meth:`update` as a run's ``(phase, done,
    total)`` progress callback. ``transient``: the bar vanishes when the run ends; ``hidden``:
    nothing is drawn (``--json``)."""

    def __init__(self, console: Console, *, transient: bool = False, hidden: bool = False) -> None:
        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=transient,
            refresh_per_second=4,  # its thread shares the GIL with the measuring loop
            disable=hidden,
        )
        self._phases: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBar:
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def update(self, phase: str, done: int, total: int) -> None:
        """``phase`` is text, never markup: the bar's column reads its label as Rich markup, and
        a label carries a name someone chose (``running {workflow}``, a trial's side)."""
        if phase not in self._phases:
            self._phases[phase] = self._bar.add_task(literal(phase), total=total)
        self._bar.update(self._phases[phase], completed=done, total=total)

    def stop(self) -> None:
        """Stop drawing (before asking the person a question, say); stopping twice is fine."""
        self._bar.stop()


_MARK = {
    "pass": "[green]✓ pass[/]",
    "fail": "[red]✗ fail[/]",
    "inconclusive": "[yellow]? inconclusive[/]",
    "not-applicable": "[dim]- n/a[/]",
    "error": "[magenta]! error[/]",
}
#: each state's colour; its words are the dashboard's too (:func:`state_words`)
_STATE_STYLE = {
    "not-started": "dim",
    "ready": "cyan",
    "running": "yellow",
    "exit-met": "green",
    "handoff-offered": "cyan",
    "exited": "green",
    "ongoing": "green",
    "stopped": "dim",
}


def _words(row: CheckRow) -> str:
    """The evidence under a check that is not a signed measurement, each labelled."""
    if row["basis"] not in ("attested", "mixed", "on-behalf", "unsigned"):
        return ""
    words = [
        escape(e["label"])
        for e in row["evidence"]
        if e["provenance"] == "attested" or not e.get("signed", True)
    ]
    return f"\n[yellow]⚑ a person's word, not measured: {'; '.join(words)}[/]" if words else ""


def _check_rows(table: Table, label: str, rows: list[CheckRow], *, narrow: bool) -> None:
    for index, row in enumerate(rows):
        reason = escape(row["reason"]) + _words(row)
        if row["waived_by"]:
            waivers = ", ".join(f"#{w}" for w in row["waived_by"])
            reason += (
                f"\n[magenta]waived by {literal(waivers)} (still {literal(row['outcome'])})[/]"
            )
        head = label if index == 0 else ""
        if narrow:  # an 80-column terminal: the title, then the reason on its own lines
            table.add_row(head, _MARK[row["outcome"]], f"[bold]{escape(row['title'])}[/]")
            table.add_row("", "", reason)
        else:
            table.add_row(head, _MARK[row["outcome"]], escape(row["title"]), reason)


def _play_panel(
    play: PlayView, current: bool, waivers: dict[int, WaiverView], *, narrow: bool
) -> Panel:
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column(width=7, style="bold")
    table.add_column(width=14 if narrow else 16, no_wrap=True)
    if narrow:
        table.add_column(ratio=1)
    else:
        table.add_column(ratio=2)
        table.add_column(ratio=3)
    _check_rows(table, "trigger", play["trigger"], narrow=narrow)
    if play["exit"] is not None:
        _check_rows(table, "exit", play["exit"], narrow=narrow)
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
                f"[magenta]started under waiver #{literal(seq)}[/] ({literal(w['guard'])}, "
                f"{literal(w['reason'])}: {escape(w['note'])}; {literal(state)}, until "
                f"{literal(w['expires'])})"
            )
    for held in play["held_back"]:
        parts.append(
            f"[bold red]started around its guards[/] ({literal(held['guard'])}, no waiver): "
            f"{escape(held['why'])}"
        )
    if play["hands_on"] and play["state"] in ("exit-met", "handoff-offered", "exited"):
        parts.append(f"[dim]hands on: {escape(play['hands_on'])}[/]")
    if play["owner"]:
        owner = f" · owner {escape(play['owner'])}"
    else:  # who should own it is a sentence: in the title, a terminal's width cut it mid-word
        owner = ""
        parts.insert(0, f" [dim]owner  {escape(owner_words(play))}[/]")
    title = (
        f"{literal('▶ ' if current else '')}[bold]{literal(play['number'])}. "
        f"{escape(play['title'])}[/] · "
        f"[{_STATE_STYLE[play['state']]}]{literal(state_words(play['state']))}[/]{owner}"
    )
    return Panel(
        Group(*parts), title=title, title_align="left", border_style="cyan" if current else "dim"
    )


def render_status(
    console: Console, data: Status, steps: list[dict[str, Any]] | None = None
) -> None:
    """The status as ``inhouse status`` prints it; ``steps``, each person's next steps
    (:func:`inhouse.next_steps.next_steps`), close it: what to do next, and who does it."""
    program = data["program"]
    book = program["playbook"]
    # no playbook: the log's first event was not folded (it does not verify), so nothing of the
    # program it creates, its name, playbook or lead, is known ("playbook  v0 · lead  ·" else)
    head = (
        f"[bold]{escape(program['name'])}[/] · playbook {literal(book['name'])} "
        f"v{literal(book['version'])} · "
        f"lead {escape(program['lead'])}"
        if book["name"]
        else "[bold]the program's first event does not verify[/] (see the warning below)"
    )
    console.print(
        f"{head} · {literal(data['events'])} events"
        + (
            " · [bold yellow]demo program: no evidence (see the warning below)[/]"
            if program["demo"]
            else ""
        )
    )
    stop = program["stopped"]
    if stop is not None:
        evidence = "; ".join(escape(e["label"]) for e in stop["evidence"])
        console.print(
            Panel(
                f"{escape(stop['summary'])}\nStopped by {escape(stop['by'])} on "
                f"{literal(stop['at'])}.\nEvidence: {evidence}",
                title="[bold green]stopped: not worth it[/]",
                border_style="green",
            )
        )
    waivers = {w["id"]: w for w in data["waivers"]}
    for play in data["plays"]:
        current = play["id"] == data["current_play"]
        console.print(_play_panel(play, current, waivers, narrow=console.width < 110))
    active = [w for w in data["waivers"] if w["active"]]
    if active:
        console.print("[bold magenta]Active waivers[/]")
        for w in active:
            console.print(
                f"  #{literal(w['id'])} {literal(w['guard'])} ({literal(w['play'] or 'any play')}) "
                f"by {escape(w['granted_by'])}: {literal(w['reason'])}: {escape(w['note'])}, until "
                f"{literal(w['expires'])}"
            )
    if data["refusals"]:
        console.print(f"[bold]Refused anti-patterns[/] ({literal(len(data['refusals']))})")
        for r in data["refusals"][-5:]:
            console.print(
                f"  [red]✗[/] {literal(r['at'])} {escape(r['actor'])}: {escape(r['action'])} "
                f"[dim]({literal(', '.join(r['guards']))})[/]"
            )
    for warning in data["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    if steps:
        console.print("[bold]Next steps[/] (as the dashboard lists them)")
        for person in steps:
            for step in person["steps"]:
                console.print(f"  {escape(person['person'])}: {escape(step['text'])}")
