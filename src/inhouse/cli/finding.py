"""inhouse finding: play 6 — findings to feed back into the baseline, a workflow or a library
prompt, closed only by a change that names them (``--closes``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    print_rows,
)

app = Typer()


@app.command("add")
def add(
    text: Annotated[str, typer.Argument(help="What was learned.")],
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="What it should change: baseline, workflow:NAME or prompt:NAME.",
            show_default=False,
        ),
    ],
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Where it came from: an indicator, the pilot, T-12 (a ticket this queue holds), "
            "another tracker's with its name (jira T-1234).",
        ),
    ] = "",
    program: ProgramOpt = None,
) -> None:
    """Open a finding (your signed word). It closes when a re-lock, workflow version or prompt
    version names it with --closes and changes its target, and someone other than its maker
    (you, ideally) verifies, runs or uses that version with their own key."""
    from inhouse.indicators import open_finding

    opened = open_program(program)
    fact = open_finding(opened, text, target=target, source=source)
    target_text = fact.payload["target"]
    # the command names the target's own workflow or prompt: a placeholder left the reader
    # to work out what NAME stood for
    kind, _, name = target_text.partition(":")
    how = {
        "baseline": "`inhouse baseline lock --closes {n}`",
        "workflow": "`inhouse workflow test {name} --closes {n}` on a new version",
        "prompt": "`inhouse prompts new-version {name} --file FILE --closes {n}`",
    }[kind].format(n=fact.id, name=name)
    # the target is the opener's text: printed as it is, never read as markup (a name with
    # "[/b]" in it raised after the finding was recorded)
    out_console().print(
        f"Opened finding #{literal(fact.id)} about {escape(target_text)}. It closes with "
        f"{escape(how)}, once someone other than whoever makes that change (you, say) verifies, "
        "runs or uses the new version."
    )
    if kind == "workflow":
        from inhouse.workflows.spec import list_workflows

        if name not in list_workflows(opened.folder):
            # kept: a finding may ask for a workflow nobody wrote yet, but a typo would wait for
            # a workflow that never comes
            known = ", ".join(list_workflows(opened.folder)) or "none yet"
            out_console().print(
                f"note: there is no workflow {escape(repr(name))} in this program yet "
                f"(workflows: {escape(known)}); "
                "it closes once one by that name is written and run with --closes"
            )


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Open and closed findings, with what closed them and who confirmed it, or the fix that
    awaits confirmation by someone other than its maker."""
    from inhouse.indicators import findings
    from inhouse.indicators.findings import closed_text

    rows = [f.to_dict() for f in findings(open_program(program))]

    print_rows(
        rows,
        json=json,
        columns=["#", "target", "state", "opened by", "finding", "closed by"],
        cells=lambda r: [
            str(r["id"]),
            str(r["target"]),
            str(r["state"]),
            str(r["opened_by"]),
            str(r["finding"]),
            closed_text(r),
        ],
    )


@app.command("close")
def close(
    finding: Annotated[str, typer.Argument(help="The finding's number (12 or F-12).")],
    note: Annotated[str, typer.Option("--note", help="Why you consider it done.")] = "",
    program: ProgramOpt = None,
) -> None:
    """Tick a finding off by hand. Recorded and shown, but it is not evidence: play 6's
    findings-fed-back check only counts a change that names the finding."""
    from inhouse.indicators import close_by_hand

    fact = close_by_hand(open_program(program), finding, note=note)
    out_console().print(
        f"Recorded (fact #{literal(fact.id)}). This is your word: the finding stays open for play "
        "6 until a re-lock, workflow version or prompt version names it with --closes."
    )
