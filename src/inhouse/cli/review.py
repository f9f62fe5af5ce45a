"""``inhouse review``: play 5's periodic review — schedule, hold, attend, status."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from inhouse import figures
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    ask_before_signing,
    literal,
    open_program,
    out_console,
    print_json,
)

app = Typer()


@app.command("schedule")
def schedule(program: ProgramOpt = None) -> None:
    """Schedule the periodic review at the cadence inhouse.toml's review table sets (every_days,
    roles): a rollout lead."""
    from inhouse.support.review import schedule_review

    fact = schedule_review(open_program(program))
    out_console().print(
        f"Scheduled a review every {literal(fact.payload['every_days'])} days, attended by "
        f"{literal(', '.join(fact.payload['roles']) or 'anyone')} (fact #{literal(fact.id)})."
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
    per inventory item, and the next due date. The other attendees are your word until each
    confirms with their own key: `inhouse review attend ID`."""
    from inhouse.support.review import hold_review

    fact = hold_review(open_program(program), attendees, decisions or [], notes=notes)
    others = [a for a in fact.payload["attendees"] if a != fact.by]
    out_console().print(
        f"Recorded the review (fact #{literal(fact.id)}): "
        f"{figures.count(len(fact.payload['decisions']), 'decisions')}, next due "
        f"{literal(fact.payload['next_due'])}. It counts once the others confirm they attended: "
        f"{literal(', '.join(others))}, each with their own key: `inhouse review attend "
        f"{literal(fact.id)}`."
    )


@app.command("attend")
def attend(
    review: Annotated[
        int | None,
        typer.Argument(
            help="The review's fact id, as `review hold` and `review status` print it "
            "(default: the latest review held).",
            metavar="ID",
            show_default=False,
        ),
    ] = None,
    comment: Annotated[
        str, typer.Option("--comment", help="A short note, e.g. what you took away.")
    ] = "",
    program: ProgramOpt = None,
) -> None:
    """Confirm, with your own key, that you attended a review held. The attendees the recorder
    lists count as present only once each confirms (the recorder's own record is theirs), and
    only from a machine of their own: one laptop is one person. It shows the review as recorded
    (when, who, each decision) and asks before it signs; no answer records nothing. Refused
    unless the review lists you as an attendee."""
    from inhouse.support.review import attend_review

    fact = attend_review(open_program(program), review, comment=comment, agree=_ask)
    out_console().print(
        f"{literal(fact.by)} confirmed attending review #{literal(fact.payload['review'])} (fact "
        f"#{literal(fact.id)})."
    )


#: shows the review an attendance confirms and asks its person
_ask = ask_before_signing(
    "Your key signs that you attended this review:", "Did you attend this review yourself?"
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
    state = (
        f"[red]overdue since {literal(found.due)}[/]"
        if found.overdue
        else f"due {literal(found.due)}"
    )
    console.print(f"Review every {literal(every)} days; {literal(last)}; {state}.")
    came = found.attendance
    if found.held is not None and came is not None:
        line = f"Review #{found.held.id}: recorded by {found.held.by}"
        line += f"; confirmed: {', '.join(came.confirmed) or 'nobody yet'}"
        if came.pending:
            line += f"; not confirmed: {', '.join(came.pending)}"
        if came.aside:
            line += f"; set aside (one laptop is one person): {', '.join(came.aside)}"
        console.print(escape(line) + ".")
