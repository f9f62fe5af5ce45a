"""``inhouse review``: play 5's periodic review — schedule, hold, status."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import JsonOpt, ProgramOpt, Typer, open_program, out_console, print_json

app = Typer()


@app.command("schedule")
def schedule(program: ProgramOpt = None) -> None:
    """Schedule the periodic review at the cadence inhouse.toml's review table sets (every_days,
    roles): a rollout lead."""
    from inhouse.support.review import schedule_review

    fact = schedule_review(open_program(program))
    out_console().print(
        f"Scheduled a review every {fact.payload['every_days']} days, attended by "
        f"{', '.join(fact.payload['roles']) or 'anyone'} (fact #{fact.id})."
    )


@app.command("hold")
def hold(
    attendees: Annotated[
        list[str],
        typer.Option(
            "--attendee",
            help="An enrolled person who attended (repeat; you too).",
            show_default=False,
        ),
    ],
    decisions: Annotated[
        list[str] | None,
        typer.Option(
            "--decision",
            help="ITEM=keep|upgrade|retire:REASON for every model the last drift review saw "
            "served (repeat).",
            show_default=False,
        ),
    ] = None,
    notes: Annotated[str, typer.Option("--notes", help="What was discussed.")] = "",
    program: ProgramOpt = None,
) -> None:
    """Record the review held today: who attended (the cadence's roles among them), a decision
    per inventory item, and the next due date."""
    from inhouse.support.review import hold_review

    fact = hold_review(open_program(program), attendees, decisions or [], notes=notes)
    out_console().print(
        f"Recorded the review (fact #{fact.id}): {len(fact.payload['decisions'])} decision(s), "
        f"next due {fact.payload['next_due']}."
    )


@app.command("status")
def status(json: JsonOpt = False, program: ProgramOpt = None) -> None:
    """When the periodic review is due, and whether it is overdue."""
    from inhouse.support.review import review_status

    found = review_status(open_program(program))
    if json:
        print_json(found.to_dict())
        return
    console = out_console()
    if found.scheduled is None:
        console.print(
            "No periodic review scheduled: a rollout lead runs `inhouse review schedule`."
        )
        return
    every = found.scheduled.payload["every_days"]
    last = f"last held {found.held.at:%Y-%m-%d}" if found.held else "none held since scheduled"
    state = f"[red]overdue since {found.due}[/]" if found.overdue else f"due {found.due}"
    console.print(f"Review every {every} days; {last}; {state}.")
