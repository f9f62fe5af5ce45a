"""inhouse survey: the "would you miss it" survey (Sean Ellis's question) for the pilot."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from inhouse import figures
from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    figures_whole,
    literal,
    open_program,
    out_console,
    print_json,
)

if TYPE_CHECKING:
    from inhouse.pilot.survey import SurveyResults

app = Typer()


@app.command("open")
def open_(
    closes: Annotated[
        str,
        typer.Option(
            "--closes",
            help="When answers stop: 2026-12-31 (end of that day, UTC), an ISO time, or 14d.",
            show_default=False,
        ),
    ],
    program: ProgramOpt = None,
) -> None:
    """Open a survey (a rollout lead; one open at a time). Members who used the tool on at
    least two days in the last fourteen then answer with `inhouse survey answer`."""
    from inhouse.cli._common import parse_when
    from inhouse.pilot.survey import open_survey

    survey = open_survey(open_program(program), parse_when(closes))
    out_console().print(
        f"Opened survey {literal(survey.name)}; it closes {survey.closes:%Y-%m-%d %H:%M} UTC. "
        "Pilot members answer with `inhouse survey answer --answer ANSWER --benefit TEXT` "
        "(ANSWER, one of very, somewhat, not or no-longer-use; TEXT, the tool's main benefit "
        "to them)."
    )


@app.command("answer")
def answer(
    choice: Annotated[
        str,
        typer.Option(
            "--answer",
            help="How would you feel if you could no longer use it? very (disappointed), "
            "somewhat (disappointed), not (disappointed), no-longer-use (I no longer use it).",
            show_default=False,
        ),
    ],
    benefit: Annotated[
        str, typer.Option("--benefit", help="What is the main benefit you get from it?")
    ] = "",
    on_behalf_of: Annotated[
        str | None,
        typer.Option(
            "--on-behalf-of",
            help="Refused: an answer counts only as its person's own, signed with their key.",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Answer the open survey in your own name, signed with your key (a second answer replaces
    the first)."""
    from inhouse.pilot.survey import ANSWERS, Answer, answer_survey, own_answer

    opened = open_program(program)
    before = own_answer(opened)
    fact = answer_survey(opened, choice, benefit, person=on_behalf_of)
    again = f" It replaces your answer of fact #{before.id}." if before else ""
    out_console().print(
        f"Recorded your answer to {literal(fact.payload['survey'])}: "
        f"{literal(ANSWERS[Answer(choice)])} (fact #{literal(fact.id)}, signed by "
        f"{literal(fact.by)}).{literal(again)}"
    )


@app.command("results")
def results(
    survey: Annotated[
        str | None,
        typer.Option("--survey", help="Which survey (default: the latest).", show_default=False),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """The answers by role track: counts, the share very disappointed beside Ellis's 40 %
    benchmark and the playbook's "most" (more than half the pilot), and the benefits named."""
    from inhouse.pilot.survey import survey_results

    found = survey_results(open_program(program), survey)
    if json:
        print_json(found.to_dict())
        return
    _render(found)


def _render(found: SurveyResults) -> None:
    from rich.markup import escape
    from rich.table import Table

    from inhouse.pilot.survey import ANSWERS, BENCHMARK, QUESTION

    out = out_console()
    state = "open" if found.open else "closed"
    out.print(
        f"Survey {literal(found.survey.name)} ({literal(state)}, closes "
        f"{found.survey.closes:%Y-%m-%d %H:%M} UTC): {literal(QUESTION)}"
    )
    if found.not_judged:
        out.print(f"[yellow]Not what play 4 judges:[/yellow] {escape(found.not_judged)}.")
    if found.too_old:
        out.print(f"[yellow]Too old to count:[/yellow] play 4 no longer counts it: "
                  f"{escape(found.too_old)}.")  # fmt: skip
    # the answers' own short names head their columns, and this line says what they stand
    # for: "somewhat disappointed" as a header folded into "somewha" over "t" at 80 columns
    out.print(
        "very, somewhat, not: how disappointed they would be; no longer use: they no longer use it."
    )
    table = Table("track", "members", "answered", *(_HEADS[a] for a in ANSWERS),
                  "very, of answers", "very, of members", box=None)  # fmt: skip
    for group in (*found.groups, found.pilot):
        share = group.very_share
        table.add_row(
            "whole pilot" if group.track == "*" else literal(group.track),
            literal(group.members),
            literal(group.answered),
            *(literal(group.counts[answer.value]) for answer in ANSWERS),
            "-" if share is None else figures.share(share),
            figures.share(group.pilot_share),
        )
    out.print(figures_whole(table))
    share = found.pilot.very_share
    most = "more than" if found.most else "not more than"
    # with no answers there is no share to hold beside the benchmark: "- of answers, which is
    # below" read as a result
    if share is None:
        answers = f"no answers yet (Ellis's {figures.share(BENCHMARK)} benchmark is of answers)"
    else:
        ellis = "meets" if found.meets_benchmark else "is below"
        answers = (
            f"{figures.share(share)} of answers, which {ellis} Ellis's "
            f"{figures.share(BENCHMARK)} benchmark"
        )
    out.print(
        f"Very disappointed: {literal(answers)}; {figures.share(found.pilot.pilot_share)} of the "
        f"pilot, {literal(most)} the playbook's {figures.share(found.share)} (play 4 wants most)."
    )
    if found.benefits:
        out.print("Main benefits, in their words:")
        for item in found.benefits:
            # its bracket escaped: "[support, very]" is Rich markup, which printed nothing of
            # it; each value escaped once (escaped again, whole, it showed literal()'s "\\[")
            out.print(f"  - \\[{literal(item.track)}, {literal(item.answer)}] {literal(item.text)}")
    for fact, why in found.uncounted:
        out.print(f"  not counted: fact #{literal(fact)}: {escape(why)}")


#: each answer's column head in `survey results`
_HEADS = {"very": "very", "somewhat": "somewhat", "not": "not", "no-longer-use": "no longer use"}
