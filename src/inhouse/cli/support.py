"""inhouse support: play 5's support queue — its owner, tickets step by step, the figures per
component. Thin: each command parses, calls one function of :mod:`inhouse.support`, and renders.
Imports, the runtime inventory and the drift review add their commands to this group."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inhouse.cli import support_import, support_inventory
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    ask_before_signing,
    figures_whole,
    literal,
    open_program,
    out_console,
    print_json,
)
from inhouse.errors import InvalidInput

if TYPE_CHECKING:
    from inhouse.support.queue import Ticket

app = Typer()

TicketArg = Annotated[str, typer.Argument(help="The ticket's id, e.g. T-3 (`support list`).")]


def _e(text: object) -> str:
    from rich.markup import escape

    return escape(str(text))


def _done(ticket: Ticket, what: str) -> None:
    step = ticket.steps[-1]
    out_console().print(
        f"{_e(ticket.id)} {literal(what)} by {_e(step.actor)} (fact #{literal(step.fact.id)}); it "
        f"is {literal(ticket.state)}."
    )


@app.command("owner")
def owner(
    person: Annotated[
        str | None,
        typer.Argument(help="An enrolled person (they joined with a key); not with --accept."),
    ] = None,
    queue: Annotated[str, typer.Option("--queue", help="The queue's name.")] = "support",
    accept: Annotated[
        bool,
        typer.Option("--accept", help="Take on the queue you were named owner of (the owner)."),
    ] = False,
    program: ProgramOpt = None,
) -> None:
    """Name PERSON the support queue's owner (rollout leads): the support-owner role and a
    support.queue fact. The owner assigns tickets. With --accept, the person named takes it on
    with their own key: play 5 counts an owner a lead named once they have. --accept shows
    what it signs and asks; no answer records nothing."""
    from inhouse.support.queue import accept_owner, name_owner

    opened = open_program(program)
    if accept:
        if person is not None:
            raise InvalidInput("--accept takes no PERSON: you accept for yourself")
        agree = ask_before_signing(
            "Your key signs that you take this on:", "Take on this queue as its owner?"
        )
        fact = accept_owner(opened, agree=agree)
        out_console().print(
            f"{_e(fact.by)} took on the support queue {_e(str(fact.payload['queue']))} "
            f"(fact #{literal(fact.id)})."
        )
        return
    if person is None:
        raise InvalidInput("name the owner: `inhouse support owner PERSON` (or --accept)")
    named = name_owner(opened, person, queue=queue)
    tail = (
        ""
        if named.owner == named.named_by
        else (f"; {_e(named.owner)} takes it on with `inhouse support owner --accept`")
    )
    out_console().print(
        f"{_e(named.owner)} owns the support queue {_e(named.name)} (fact #{literal(named.fact)}, "
        f"named by {_e(named.named_by)}){tail}."
    )


@app.command("open")
def open_(
    title: Annotated[str, typer.Argument(help="What happened, in a line.")],
    category: Annotated[
        str,
        typer.Option("--category", help="it-broke, how-to or request.", show_default=False),
    ],
    component: Annotated[
        str,
        typer.Option(
            "--component",
            help="What it is about: baseline, gateway, workflow:NAME, prompt:NAME or model:NAME.",
            show_default=False,
        ),
    ],
    description: Annotated[
        str, typer.Option("--description", help="The details: what you did, what you saw.")
    ] = "",
    program: ProgramOpt = None,
) -> None:
    """Open a ticket in your own name (any enrolled person), signed with your key."""
    from inhouse.support.queue import open_ticket

    ticket = open_ticket(open_program(program), title, category=category, component=component,
                         description=description)  # fmt: skip
    out_console().print(
        f"Opened {_e(ticket.id)} ({literal(ticket.category)}, {_e(ticket.component)}): "
        f"{_e(ticket.title)} (fact #{literal(ticket.opened.fact.id)}, by "
        f"{_e(ticket.opened.actor)})."
    )


@app.command("assign")
def assign(
    ticket: TicketArg,
    person: Annotated[str, typer.Argument(help="An enrolled person to take it.")],
    program: ProgramOpt = None,
) -> None:
    """Assign an open ticket to PERSON (the queue's owner or a rollout lead)."""
    from inhouse.support.queue import assign_ticket

    opened = open_program(program)
    _done(assign_ticket(opened, ticket, person), f"assigned to {_e(person)}")


@app.command("comment")
def comment(
    ticket: TicketArg,
    text: Annotated[str, typer.Argument(help="The comment.")],
    program: ProgramOpt = None,
) -> None:
    """Comment on a ticket in your own name."""
    from inhouse.support.queue import comment_on_ticket

    opened = open_program(program)
    _done(comment_on_ticket(opened, ticket, text), "commented on")


@app.command("resolve")
def resolve(
    ticket: TicketArg,
    note: Annotated[str, typer.Option("--note", help="What fixed it.", show_default=False)],
    program: ProgramOpt = None,
) -> None:
    """Resolve an open ticket in your own name: the resolver is whoever signs this."""
    from inhouse.support.queue import resolve_ticket

    opened = open_program(program)
    _done(resolve_ticket(opened, ticket, note=note), "resolved")


@app.command("reopen")
def reopen(
    ticket: TicketArg,
    reason: Annotated[
        str, typer.Option("--reason", help="Why it is not fixed.", show_default=False)
    ],
    program: ProgramOpt = None,
) -> None:
    """Reopen a resolved ticket in your own name. A resolution reopened within the playbook's
    reopen_days does not count as resolved without the builder."""
    from inhouse.support.queue import reopen_ticket

    opened = open_program(program)
    _done(reopen_ticket(opened, ticket, reason=reason), "reopened")


@app.command("confirm")
def confirm(
    ticket: TicketArg,
    text: Annotated[str, typer.Option("--text", help="Anything to add, in your words.")] = "",
    program: ProgramOpt = None,
) -> None:
    """Confirm, with your own key, the imported steps of TICKET that name you (you opened it,
    you resolved it): an import is its runner's word for what you did until you do. It shows
    the ticket and what the import says you did, and asks before it signs; no answer records
    nothing. A comment confirms nothing; a later import that names you asks again."""
    from inhouse.support.queue import confirm_ticket

    opened = open_program(program)
    found = confirm_ticket(
        opened, ticket, text=text, agree=_ask("Is this what you did yourself, on this ticket?")
    )
    _done(found, f"confirmed ({_e(_covered(found))})")


@app.command("confirm-fix")
def confirm_fix(
    ticket: TicketArg,
    text: Annotated[str, typer.Option("--text", help="Anything to add, in your words.")] = "",
    program: ProgramOpt = None,
) -> None:
    """As the person who opened TICKET, confirm with your own key that its resolution fixed the
    problem: play 5's check counts a resolution only once its opener confirms it (reopen it
    instead when it is not fixed). It shows the ticket and the resolution, and asks before it
    signs; no answer records nothing."""
    from inhouse.support.queue import confirm_fix as confirm

    opened = open_program(program)
    agree = _ask("Did this resolution fix the problem you hit?")
    _done(confirm(opened, ticket, text=text, agree=agree), "fix confirmed")


@app.command("dispute")
def dispute(
    ticket: TicketArg,
    reason: Annotated[str, typer.Option("--reason", help="What is wrong with it.")] = "",
    program: ProgramOpt = None,
) -> None:
    """Dispute, with your own key, the imported steps of TICKET that name you: "this is not
    mine". A disputed step never counts for play 5's exit, and the check names the dispute."""
    from inhouse.support.queue import dispute_ticket

    opened = open_program(program)
    found = dispute_ticket(opened, ticket, reason=reason)
    _done(found, f"disputed ({_e(_covered(found))})")


def _ask(question: str) -> Callable[[list[str]], bool | None]:
    """A question for the person at the terminal, shown the lines their key would sign for
    (an import's or a resolver's word, which may be the lead play 5 judges)."""
    return ask_before_signing("Your key signs that this is so:", question)


def _covered(ticket: Ticket) -> str:
    """What the ticket's last step (a confirmation or dispute) speaks for."""
    kinds = {step.fact.id: step.kind for step in ticket.steps}
    return _covers(kinds, ticket.steps[-1].covers)


def _covers(
    kinds: dict[int, str], ids: Iterable[int], imported: Collection[int] | None = None
) -> str:
    """Imported steps by kind and fact id: "the import's opened #3, resolved #7"; where
    ``imported`` names the steps an import brought in and one covered is not among them (an
    opener's confirmation of a resolution made here), the steps alone: "(resolved #7)"."""
    ids = list(ids)
    named = ", ".join(f"{kinds.get(i, 'step')} #{i}" for i in ids)
    if not named:
        return ""
    if imported is not None and not set(ids) <= set(imported):
        return f"({named})"
    return f"the import's {named}"


@app.command("list")
def list_(
    state: Annotated[str, typer.Option("--state", help="open, resolved or all.")] = "open",
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """The queue's tickets, oldest first, and who owns the queue."""
    from rich.table import Table

    from inhouse.support.queue import list_tickets, queue_of, ticket_dict

    opened = open_program(program)
    now = opened.clock()  # one moment for the tickets and the queue: one context built
    found = list_tickets(opened, state=state, now=now)
    if json:
        print_json([ticket_dict(opened, ticket, now) for ticket in found])
        return
    out = out_console()
    queue = queue_of(opened, now)
    out.print(
        f"Queue {_e(queue.name)}, {_e(queue.standing())}."
        if queue
        else "No queue owner yet: a rollout lead runs `inhouse support owner PERSON`."
    )
    if not found:
        out.print(f"No {literal(state if state != 'all' else '')} tickets.".replace("  ", " "))
        return
    table = Table("id", "state", "category", "component", "title", "opened", "by", "assignee",
                  "resolved by", box=None)  # fmt: skip
    for ticket in found:
        table.add_row(
            _e(ticket.id),
            _e(ticket.state),
            _e(ticket.category),
            _e(ticket.component),
            _e(ticket.title),
            f"{ticket.opened.at:%Y-%m-%d %H:%M}",
            _e(ticket.opened.actor),
            _e(ticket.assignee or "-"),
            _e(_resolver(ticket)),
        )
    out.print(figures_whole(table))  # "opened" was cut to "2026-11-…" at 80 columns


def _resolver(ticket: Ticket) -> str:
    """Who resolved it, and whether its opener confirmed the fix yet."""
    resolution = ticket.resolution
    if resolution is None:
        return "-"
    if ticket.fix_confirmed() is not None:
        return f"{resolution.actor} (fix confirmed)"
    return f"{resolution.actor} (fix awaits {ticket.opened.actor or 'nobody'})"


@app.command("show")
def show(ticket: TicketArg, program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """One ticket: what it is about, its builders (from the log), and every step, who took it
    and when."""
    from inhouse.support.queue import find_ticket, ticket_dict

    opened = open_program(program)
    now = opened.clock()  # one moment for the ticket and what counts of it: one context built
    data = ticket_dict(opened, find_ticket(opened, ticket, now), now)
    if json:
        print_json(data)
        return
    out = out_console()
    out.print(
        f"{_e(data['id'])}: {_e(data['title'])} \\[{literal(data['state'])}]\n  category "
        f"{literal(data['category'])}, component {_e(data['component'])}; builders (from the log): "
        f"{_e(', '.join(data['builders']) or 'nobody')}"
    )
    if data["description"]:
        out.print(f"  {_e(data['description'])}")
    if data["external"]:
        out.print(f"  kept at {_e(data['external'])}")
    if data["fix_confirmed"] is False:
        out.print(
            f"  the fix awaits {_e(data['opened_by'] or 'nobody')}'s word: they run `inhouse "
            f"support confirm-fix {_e(data['id'])}` (or reopen it)"
        )
    kinds = {step["fact"]: step["step"] for step in data["steps"]}
    imported = {step["fact"] for step in data["steps"] if step["imported_by"]}
    for step in data["steps"]:
        to = f" to {step['to']}" if step["to"] else ""
        text = f": {step['text']}" if step["text"] and step["step"] != "opened" else ""
        of = f" {_covers(kinds, step['covers'], imported)}" if step["covers"] else ""
        out.print(
            f"  {literal(step['at'][:16].replace('T', ' '))}  "
            f"{literal(step['step'])}{_e(of)}{_e(to)} by "
            f"{_e(step['by'] or '(unmapped)')}{_e(text)} (fact #{literal(step['fact'])}"
            f"{_e(_imported(step, data['id']))})"
        )


def _imported(step: dict[str, Any], ticket: str) -> str:
    """How an imported step, or one taken through a dashboard session, stands: whose word it
    is, and what its named person runs."""
    if step["imported_by"]:
        said = f", imported by {step['imported_by']}"
    elif step.get("session") and step["word"]:
        said = ", through a dashboard session (its host holds the key)"
    else:
        return ""
    word = step["word"]
    if word == "awaited":
        return f"{said}; {step['by']} confirms it: inhouse support confirm {ticket}"
    if word == "own":
        return f"{said}, in their own name"
    return f"{said}; {word} by {step['by']}" if word else said


@app.command("stats")
def stats(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Per component: tickets, median time to resolve, share resolved without its builders
    (counted once the ticket's opener confirmed the fix: `inhouse support confirm-fix`; those
    still awaiting the opener's word are shown apart), reopen rate, and the Contributor Absence
    Factor of its resolvers (CHAOSS: the fewest people who together resolved at least half the
    tickets). `*` is the whole queue."""
    from rich.table import Table

    from inhouse.support.stats import support_stats

    rows = support_stats(open_program(program))
    if json:
        print_json([row.to_dict() for row in rows])
        return
    if not rows:
        out_console().print("No tickets yet: `inhouse support open`.")
        return
    columns = ("component", "tickets", "it-broke", "open", "median to resolve",
               "without builders, fix confirmed", "fix awaits opener", "reopen rate",
               "absence factor", "builders")  # fmt: skip
    from rich.measure import Measurement

    cells = [
        [
            row.component,
            str(row.tickets),
            str(row.it_broke),
            str(row.open),
            _hours(row.median_hours_to_resolve),
            _share(row.share_without_builders, row.resolved_without_builders, row.resolved),
            str(row.awaiting_fix_confirmation),
            _share(row.reopen_rate, row.reopened, row.ever_resolved),
            "-" if row.absence_factor is None else str(row.absence_factor),
            ", ".join(row.builders) or "-",
        ]
        for row in rows
    ]
    table = Table(*columns, box=None)
    for line in cells:
        table.add_row(*(_e(cell) for cell in line))
    out = out_console()
    natural = Measurement.get(out, out.options.update_width(10_000), table).maximum
    if natural <= out.width:
        out.print(table)
        return
    # ten columns do not fit an 80-column terminal: cut, they read "compo…" and "gatew…", the
    # figures gone; a block per component keeps every name and figure whole
    for line in cells:
        out.print(f"[bold]{_e(line[0])}[/bold]")
        for name, cell in zip(columns[1:], line[1:], strict=True):
            out.print(f"  {literal(name)}: {_e(cell)}")


def _hours(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _share(value: float | None, part: int, whole: int) -> str:
    from inhouse.figures import share

    return "-" if value is None else f"{share(value)} ({part} of {whole})"


# commands other modules add to this group (they import only Typer at the top, as this one)
support_import.register(app)
support_inventory.register(app)
