"""inhouse pilot adoption: who in the pilot reaches the tool on their own, measured from the
gateway's usage log (docs/pilot.md). The ``pilot`` group mounts it with :func:`register`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from inhouse import figures
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    err_console,
    figures_whole,
    literal,
    open_program,
    out_console,
    print_json,
    telling_service_enrolment,
)

if TYPE_CHECKING:
    from inhouse.pilot.adoption import AdoptionReport

__all__ = ["register"]

#: where the figures come from, said with them (``source`` in the JSON)
UNSIGNED = "unsigned: from the summary tables, which anyone with database access can write"
SIGNED = (
    "who is independent and their active days: measured from the request rows the gateway "
    "sealed, and signed with its key (pilot.adoption)"
)


def register(app: typer.Typer) -> None:
    """Add the ``adoption`` command to the ``pilot`` group."""
    app.command("adoption")(adoption)


def adoption(
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Record it as a pilot.adoption fact signed by the gateway's own key (when it "
            "changed); play 4's pilot-independent-use check reads that fact. A rollout lead "
            "runs it the first time, to enrol the gateway's key.",
        ),
    ] = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The window's last day, YYYY-MM-DD (default: today, UTC); with --record, "
            "today or yesterday only (a recorded report is of now).",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Per member and per role track: active days, stickiness (DAU/MAU), last active day,
    library prompts used, and whether they reach the tool on their own, with the reason; and
    whether play 4 still counts the latest signed report (too old: record it again)."""
    from datetime import date

    from rich.markup import escape

    from inhouse.pilot.adoption import adoption_report, counted_adoption, record_adoption
    from inhouse.usage.totals import day_text

    opened = open_program(program)
    day = None if as_of is None else date.fromisoformat(day_text(as_of, "--as-of"))
    now = None  # a recording's counted report is judged after its own fact, on the log it made
    if record:
        with telling_service_enrolment(opened):
            report, fact = record_adoption(opened, day)
        for note in report.notes:
            err_console().print(f"[yellow]not signed:[/yellow] {escape(note)}")
        source = SIGNED
    else:  # the summary tables: anyone with the database could have written them
        now = opened.clock()  # one moment for the figures and the signed report beside them
        report, fact = adoption_report(opened, day, now=now), None
        source = UNSIGNED
        if not json:
            err_console().print(
                "[yellow]unsigned:[/yellow] `--record` measures the gateway's sealed rows and "
                "signs the result with its key (what play 4 counts)"
            )
    # what play 4 counts is the latest signed report, not these figures: said where it no
    # longer counts (too old, by the check's own rule), with what to run
    counted, too_old = counted_adoption(opened, now)
    if json:
        print_json({
            **report.to_dict(),
            "source": source,
            "counted": None if counted is None else {
                "fact": counted.id, "as_of": str(counted.payload["as_of"]), "too_old": too_old
            },
        })  # fmt: skip
    else:
        _render(report, source)
        if counted is not None and too_old:
            out_console().print(
                f"[yellow]Too old to count:[/yellow] play 4 no longer counts the latest signed "
                f"report: {escape(too_old)}."
            )
    if record and not json:
        out = out_console()
        if fact is None:
            out.print("Adoption unchanged since the last pilot.adoption fact: nothing recorded.")
        else:
            out.print(
                f"Recorded pilot.adoption (fact #{literal(fact.id)}, signed by {literal(fact.by)})."
            )


def _render(report: AdoptionReport, source: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = out_console()
    out.print(f"{literal(source[0].upper())}{literal(source[1:])}.")
    out.print(
        f"Adoption as of {literal(report.as_of)}: the {literal(report.window_days)} days from "
        f"{literal(report.since)}. On their own = answered requests with their own key on at least "
        f"{literal(report.min_days)} days, one of them after enablement finished and not the "
        "onboarding day."
    )
    members = Table(
        "member", "track", "active days", "stickiness", "last active", "prompts", "on their own",
        box=None,
    )  # fmt: skip
    for m in report.members:
        members.add_row(
            literal(m.person),
            literal(m.track),
            literal(m.active_days),
            figures.share(m.stickiness),
            literal(m.last_active or "never"),
            literal(m.prompts_used),
            "yes" if m.independent else "no",
        )
    out.print(figures_whole(members))
    # the reasons are sentences: a table's eighth column at 80 columns cut them to a few
    # letters a line; below it, each wraps at the terminal's width, whole
    if report.members:
        out.print("Why, per member:")
    for m in report.members:
        out.print(f"  {escape(m.person)}: {escape(m.reason)}")
    roles = Table(
        "track", "members", "active", "on their own", "stickiness", "last active", "prompts",
        box=None,
    )  # fmt: skip
    for r in (*report.roles, report.pilot):
        roles.add_row(
            "whole pilot" if r.track == "*" else literal(r.track),
            literal(r.members),
            literal(r.active),
            literal(r.independent),
            figures.share(r.stickiness),
            literal(r.last_active or "never"),
            literal(r.prompts_used),
        )
    out.print(figures_whole(roles))
    pilot = report.pilot
    out.print(
        f"{literal(pilot.independent)} of {literal(pilot.members)} members reach it on their own; "
        f"stickiness (DAU/MAU) {figures.share(pilot.stickiness)}."
    )
