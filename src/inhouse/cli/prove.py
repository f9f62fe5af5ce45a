"""Top-level command: prove (play 1's head-to-head trial)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    err_console,
    open_program,
    out_console,
    print_json,
)

app = Typer()


@app.command()
def prove(
    name: Annotated[str, typer.Argument(help="The trial: trials/NAME.yaml in the program folder.")],
    stop_if_not_worth_it: Annotated[
        bool,
        typer.Option(
            "--stop-if-not-worth-it",
            help="If the verdict is not-worth-it, stop the program honestly (no prompt).",
        ),
    ] = False,
    program: ProgramOpt = None,
    as_: AsOpt = None,
    json: JsonOpt = False,
) -> None:
    """Run a trial head to head: the local candidate and the status quo on every task input;
    quality checks, cost, privacy and a verdict with 95 % intervals. Writes the report under
    .inhouse/reports/ and records the trial.verdict fact play 1's exit reads."""
    from inhouse.trials.prove import prove as run_trial

    opened = open_program(program)
    if json:
        result = run_trial(opened, name, as_, stop_if_not_worth_it=stop_if_not_worth_it)
    else:
        with _ProgressBar() as progress:
            result = run_trial(
                opened, name, as_, progress=progress, stop_if_not_worth_it=stop_if_not_worth_it
            )
    data = result.data
    if (
        result.verdict.verdict == "not-worth-it"
        and not result.stopped
        and not json
        and sys.stdin.isatty()
        and typer.confirm(
            "The trial says not worth it. Stop the program honestly now "
            "(a clean stop after play 1 counts as a success)?",
            default=False,
        )
    ):
        opened.stop_not_worth_it(as_, comment=f"trial {name}: {result.verdict.summary}")
        data["stopped"] = True
    if json:
        print_json(data)
        return
    _render(data)


class _ProgressBar:
    """A Rich progress bar with one line per phase (candidate, status quo, quality checks)."""

    def __enter__(self) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err_console(),
            transient=False,
        )
        self._tasks: dict[str, Any] = {}
        self._bar.__enter__()
        return self._update

    def _update(self, phase: str, done: int, total: int) -> None:
        if phase not in self._tasks:
            self._tasks[phase] = self._bar.add_task(phase, total=total)
        self._bar.update(self._tasks[phase], completed=done, total=total)

    def __exit__(self, *exc_info: object) -> None:
        self._bar.__exit__(None, None, None)


def _render(data: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from inhouse.trials.report import format_money, format_seconds

    console = out_console()
    verdict = data["verdict"]
    colour = {"proven": "green", "not-worth-it": "red"}.get(verdict["verdict"], "yellow")
    table = Table(title=f"trial {escape(data['trial'])}: {data['inputs_count']} inputs")
    for column in (
        "dimension",
        "candidate",
        "status quo",
        "improvement",
        "95 % interval",
        "threshold",
        "outcome",
    ):
        table.add_column(column, justify="right" if column != "dimension" else "left")
    for dim in data["dimensions"]:
        imp = dim["improvement"]
        sides = [
            format_seconds(dim[key])
            if dim["name"] == "faster"
            else format_money(dim[key], dim["unit"])
            for key in ("candidate_mean", "status_quo_mean")
        ]
        table.add_row(
            dim["name"],
            *sides,
            f"{imp['point']:+.1f} %" if dim["n"] else "n/a",
            f"{imp['low']:+.1f} … {imp['high']:+.1f} %" if dim["n"] else "n/a",
            f"≥ {dim['threshold']:g} %" if dim["threshold"] is not None else "not claimed",
            dim["outcome"],
        )
    privacy = data["privacy"]
    quo = privacy["status_quo"]
    table.add_row(
        "more-private",
        privacy["candidate"]["scope"] or "nothing sent",
        (quo["scope"] or "nothing sent") if quo["network"] else "no network (manual)",
        "yes" if privacy["more_private"] else "no",
        "",
        "claimed" if privacy["claimed"] else "not claimed",
        "cleared" if privacy["claimed"] and privacy["more_private"] else "",
    )
    quality = data["quality"]
    stated = "" if quality["status_quo_measured"] else " (stated)"
    table.add_row(
        "quality (pass rate)",
        f"{quality['candidate_pass_rate']:.0%}",
        f"{quality['status_quo_pass_rate']:.0%}{stated}",
        f"{quality['difference']['point']:+.1f} pts",
        f"{quality['difference']['low']:+.1f} … {quality['difference']['high']:+.1f} pts",
        f"floor -{quality['floor_points']:g} pts",
        "ok" if quality["ok"] else "below floor",
    )
    console.print(table)
    for key, label in (("candidate", "candidate"), ("status_quo", "status quo")):
        side = data["cost"][key]
        shown = ", ".join(f"{i['name']} {i['value']:g} {i['unit']}" for i in side["inputs"])
        console.print(f"[dim]{label} cost inputs: {escape(shown)}[/]")
        if side["zero_note"]:
            console.print(f"[yellow]{escape(side['zero_note'])}[/]")
    if quo["network"] and quo["bytes_left_machine"]:
        classes = ", ".join(quo["data_classes_left_machine"]) or "no data classes"
        console.print(
            f"status quo: {quo['bytes_left_machine']} bytes of task data left this machine "
            f"({escape(classes)})"
        )
    console.print(
        f"[bold {colour}]{verdict['verdict']}[/]: {escape(verdict['summary'])}\n"
        f"Recorded fact #{data['fact_id']} (trial.verdict). Report: {data['report']['html']}"
    )
    if data.get("stopped"):
        console.print("[bold]Program stopped: not worth it.[/] Play 1 did its job.")
