"""inhouse indicators: play 6 — leading and lagging indicators per period, the reference prices
spend avoided is priced with, and workflow owners' minutes-saved estimates. Thin: each command
parses, calls :mod:`inhouse.indicators`, and renders."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from inhouse.cli._common import (
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

app = Typer()
prices_app = Typer(help="Dated reference prices: what the same tokens would cost at an API.")
app.add_typer(prices_app, name="prices")


def _e(text: object) -> str:
    from rich.markup import escape

    return escape(str(text))


@app.command("report")
def report(
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="A month (2026-11), an ISO week (2026-W47) or days (2026-11-01..2026-11-15). "
            "Default: the last month that has ended.",
            show_default=False,
        ),
    ] = None,
    record: Annotated[
        bool,
        typer.Option(
            "--record/--no-record",
            help="Record the measured indicators.report fact (play 6's evidence).",
        ),
    ] = True,
    rollup: Annotated[
        bool,
        typer.Option(
            "--rollup/--no-rollup",
            help="First roll the usage log up into the gateway-signed usage.daily facts the "
            "check compares the report with (`inhouse gateway rollup`; needs the gateway's key "
            "on this host).",
        ),
    ] = False,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Report a period's indicators beside the period before it; write HTML, JSON and CSV
    under .inhouse/reports; record the report. A period that has not ended is partial, and a
    span of days is one its reporter chose: neither can satisfy play 6's check, nor can a week
    or a quarter where the playbook's period is not one. The report says which."""
    from inhouse.errors import InhouseError
    from inhouse.indicators import build_report, parse_period, record_report, write_report
    from inhouse.program.playchecks.measure import reported_period_days

    opened = open_program(program)
    if rollup:
        from inhouse.gateway.rollup import rollup_usage

        chosen = parse_period(period) if period else None
        try:
            since = None if chosen is None else chosen.previous().start.isoformat()
            for note in rollup_usage(opened, None, since=since).notes():
                err_console().print(f"[yellow]not signed:[/yellow] {_e(note)}")
        except InhouseError as err:
            err_console().print(f"[yellow]usage not rolled up:[/yellow] {_e(err)}")
    built = build_report(opened, period)
    began = opened.state().created_at
    if not json and began is not None and built.period.end < began.date():
        # nothing in it to count: said, so a row of zeros is not read as a month of no use
        err_console().print(
            f"[yellow]note:[/yellow] {literal(built.period.label)} ended before the program "
            f"began ({literal(began.date().isoformat())}): nothing in it to count"
        )
    files = write_report(opened, built)
    fact = record_report(opened, built, files) if record else None
    if json:
        print_json({**built.to_dict(), "fact": None if fact is None else fact.id})
        return
    _show(built.to_dict(), reported_period_days(opened.playbook))
    console = out_console()
    for kind, path in built.files.items():
        console.print(f"  {literal(kind.upper()):4} {_e(path)}")
    if fact is not None:
        console.print(f"Recorded indicators.report (fact #{literal(fact.id)}).")


def _show(data: dict[str, Any], period_days: int) -> None:
    """The report as a table; ``period_days``: the period play 6's ``indicators-reported``
    reports every, in the program's playbook."""
    from rich.table import Table

    from inhouse.indicators.render import fmt, fmt_change
    from inhouse.program.playchecks.measure import period_refused

    console = out_console()
    title = f"Indicators {data['period']['label']} ({data['period']['start']} to "
    title += f"{data['period']['end']})"
    if data["partial"]:
        title += " — PARTIAL: the period has not ended"
    # the rule indicators-reported judges a period by, with the playbook's period: a span
    # typed as days may be a whole month, and a week or a quarter passes only where the
    # playbook's period is one
    start, end = (date.fromisoformat(data["period"][k]) for k in ("start", "end"))
    if (why := period_refused(start, end, period_days)) is not None:
        title += f" — NOT PLAY 6's PERIOD: {why}"
    if data.get("demo"):
        title += " — DEMO PROGRAM: judged by machines alone, no evidence"
    table = Table("indicator", _e(data["period"]["label"]), _e(data["previous"]["label"]),
                  "change", title=_e(title), title_justify="left")  # fmt: skip
    for side in ("leading", "lagging"):
        table.add_section()
        for row in data[side]:
            change = fmt_change(row["change"], row["change_pct"], row["unit"])
            name = row["title"] + ("" if row["value"] is not None else f"\n  {row['reason']}")
            table.add_row(_e(name), _e(fmt(row["value"], row["unit"])),
                          _e(fmt(row["previous"], row["unit"])), _e(change))  # fmt: skip
    console.print(table)
    for row in data["lagging"]:
        if row.get("costs") and row["value"] is not None:  # whose word its typed costs are
            console.print(f"[bold]{_e(row['title'])}[/bold] ({_e(row['costs']['short'])}): "
                          f"{_e(row['costs']['label'])}")  # fmt: skip
    for row in data["lagging"]:
        if not row["inputs"]:
            continue
        console.print(f"[bold]{_e(row['title'])}[/bold] inputs:")
        for item in row["inputs"]:
            console.print(
                f"  {_e(item['name'])}: {_e(fmt(item['value'], item['unit']))} "
                f"[dim]({_e(item['source'])})[/dim]"
            )


@prices_app.command("set")
def prices_set(
    reference: Annotated[
        str | None,
        typer.Option("--reference", help="What is priced, e.g. gpt-4o-mini.", show_default=False),
    ] = None,
    input_price: Annotated[
        float | None,
        typer.Option("--input", min=0, help="Price per 1M input tokens.", show_default=False),
    ] = None,
    output_price: Annotated[
        float | None,
        typer.Option("--output", min=0, help="Price per 1M output tokens.", show_default=False),
    ] = None,
    currency: Annotated[str, typer.Option(help="The prices' currency.")] = "USD",
    source: Annotated[
        str | None,
        typer.Option(
            "--source", help="Where the prices come from (a URL, a contract).", show_default=False
        ),
    ] = None,
    from_trial: Annotated[
        bool,
        typer.Option("--from-trial", help="Copy the listed prices of play 1's trial's status quo."),
    ] = False,
    program: ProgramOpt = None,
) -> None:
    """Record today's reference prices (your signed word). A period is priced with the snapshot
    in force at its end, so a price recorded later never changes a past period."""
    from inhouse.errors import InvalidInput
    from inhouse.indicators import prices_from_trial, set_prices

    opened = open_program(program)
    if from_trial:
        fact = prices_from_trial(opened)
    else:
        missing = [
            name
            for name, value in (("--reference", reference), ("--input", input_price),
                                ("--output", output_price), ("--source", source))
            if value is None
        ]  # fmt: skip
        if missing:
            raise InvalidInput(f"give {', '.join(missing)} (or --from-trial)")
        assert reference and input_price is not None and output_price is not None and source
        fact = set_prices(
            opened,
            reference=reference,
            input_per_mtok=input_price,
            output_per_mtok=output_price,
            currency=currency,
            source=source,
        )
    p = fact.payload
    out_console().print(
        f"Recorded prices for {_e(p['reference'])}: {literal(p['price_input_per_mtok'])} in / "
        f"{literal(p['price_output_per_mtok'])} out per 1M tokens ({_e(p['currency'])}), fact "
        f"#{literal(fact.id)}."
    )
    from inhouse.indicators.prices import local_currency

    local = local_currency(opened)
    if local is not None and local != str(p["currency"]).upper():
        # spend avoided subtracts one from the other: a report would show none, and say why
        # only after the period had been priced
        out_console().print(
            f"warning: play 1's trial counts local cost in {_e(local)}, these prices are in "
            f"{_e(p['currency'])}: a report cannot compute spend avoided across two currencies. "
            f"Record them again in {_e(local)} (`--currency {_e(local)}`, converted by you)."
        )


@prices_app.command("list")
def prices_list(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Every price snapshot, oldest first, with who recorded it and when."""
    opened = open_program(program)
    facts = opened.state().live_facts(opened.clock()).of("indicators.prices")
    rows = [{"fact": f.id, "day": f.at.date().isoformat(), "by": f.by, **f.payload} for f in facts]
    print_rows(
        rows,
        json=json,
        columns=["fact", "day", "by", "reference", "in/Mtok", "out/Mtok", "source"],
        cells=lambda r: [
            str(r["fact"]),
            r["day"],
            r["by"],
            r["reference"],
            f"{r['price_input_per_mtok']} {r['currency']}",
            f"{r['price_output_per_mtok']} {r['currency']}",
            r["source"],
        ],
    )


@app.command("minutes-saved")
def minutes_saved(
    workflow: Annotated[str, typer.Argument(help="The workflow, by name.")],
    minutes: Annotated[float, typer.Argument(min=0.01, help="Minutes one run saves.")],
    note: Annotated[str, typer.Option("--note", help="How you estimated it.")] = "",
    program: ProgramOpt = None,
) -> None:
    """Attest how many minutes one run of WORKFLOW saves (its author: who first published
    it). Work changed uses it in place of the trial's figure, labelled as your word."""
    from inhouse.indicators.lagging import record_minutes_saved

    fact = record_minutes_saved(open_program(program), workflow, minutes, note)
    out_console().print(
        f"Recorded: one run of {_e(workflow)} saves {minutes:g} min (your word, fact "
        f"#{literal(fact.id)})."
    )
