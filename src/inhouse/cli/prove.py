"""Top-level command: prove (play 1's head-to-head trial)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    ask_before_signing,
    err_console,
    figures_whole,
    literal,
    open_program,
    out_console,
    print_json,
)
from inhouse.figures import share

if TYPE_CHECKING:
    from inhouse.cli.render import ProgressBar
    from inhouse.program import Program
    from inhouse.trials.prove import AskToStop, TrialRun
    from inhouse.trials.rerun import RerunOutcome
    from inhouse.trials.verdict import Verdict

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
    trust_python: Annotated[
        bool,
        typer.Option(
            "--trust-python",
            help="Run the trial's python checks: someone's code, run with your rights (your "
            "files, your key). Read it first; without this, a trial with one is refused.",
        ),
    ] = False,
    rerun: Annotated[
        bool,
        typer.Option(
            "--rerun",
            help="Rerun the proven trial head to head from this machine (a second person, "
            "for play 2's trial-reproduced): the same spec, checks, weights and status quo; "
            "records trial.rerun.",
        ),
    ] = False,
    confirm_minutes: Annotated[
        str | None,
        typer.Option(
            "--confirm-minutes",
            metavar="COMMENT",
            help="With --rerun of a trial against a manual status quo: your word, with what it "
            "rests on, that the minutes per task (and any stated pass rate) are true. Nothing "
            "can measure them, so without a second person's word they count for nothing.",
        ),
    ] = None,
    confirm_outputs: Annotated[
        str | None,
        typer.Option(
            "--confirm-outputs",
            metavar="COMMENT",
            help="With --rerun of a trial against a manual status quo whose CSV holds its "
            "outputs: your word, with what it rests on, that those outputs are what the manual "
            "process gave. The status quo's quality is judged on them and its author typed "
            "them, so without a second person's word the quality claim counts for nothing.",
        ),
    ] = None,
    confirm_costs: Annotated[
        str | None,
        typer.Option(
            "--confirm-costs",
            metavar="COMMENT",
            help="With --rerun of a trial claiming cheaper: your word, with what it rests on, "
            "that the costs its author typed are true: the API's prices per million tokens (or "
            "the manual process's hourly cost) and the candidate's hardware and power inputs. "
            "The rerun measures tokens and busy time, not what they cost, so without a second "
            "person's word cheaper counts for nothing.",
        ),
    ] = None,
    confirm_status_quo: Annotated[
        str | None,
        typer.Option(
            "--confirm-status-quo",
            metavar="COMMENT",
            help="With --rerun of a trial against an API status quo: your word, with what it "
            "rests on, that its endpoint and model are how the task is done today. Its author "
            "chose them, and a slow or weak endpoint would make any candidate win, so without "
            "a second person's word the claim counts for nothing.",
        ),
    ] = None,
) -> None:
    """Run a trial head to head: the local candidate and the status quo on every task input;
    quality checks, cost, privacy and a verdict with 95 % intervals. Writes the report under
    .inhouse/reports/ and records the trial.verdict fact play 1's exit reads.

    With --rerun, someone other than the verdict's author reruns the proven trial on their own
    machine's runtime, the status quo answering from there too: the spec must hash as the
    verdict recorded, the pass rate must hold and every advantage the verdict claimed must hold
    on the rerun's own figures (play 2's exit). A manual status quo's minutes are a person's
    word: the rerunner confirms them with --confirm-minutes, or they count for nothing; so are
    the outputs its CSV holds, which its quality is judged on (--confirm-outputs); so is
    the choice of an API status quo (--confirm-status-quo: it is how the task is done today),
    and so are the costs a cheaper claim rests on (prices, hourly cost, hardware and power),
    which the rerunner confirms with --confirm-costs. Once the rerun ran, it shows each figure
    a confirmation covers, and whose word it is, and asks before it signs: without a yes at
    a terminal the rerun is recorded without the confirmations (exit 3)."""
    from rich.markup import escape

    from inhouse.cli.render import ProgressBar
    from inhouse.trials.prove import prove_trial, verdict_set_aside

    opened = open_program(program)
    if rerun:
        if stop_if_not_worth_it:
            raise typer.BadParameter("a rerun records no verdict, so it stops nothing")
        words = (confirm_minutes, confirm_outputs, confirm_costs, confirm_status_quo)
        if json and any(word is not None for word in words):
            raise typer.BadParameter(
                "a confirmation is asked at a terminal once the rerun ran, showing what it "
                "covers: run it without --json (`inhouse fact list --kind trial.rerun --json` "
                "shows the fact after)"
            )
        _rerun(
            opened,
            name,
            as_,
            json=json,
            trust_python=trust_python,
            confirm=confirm_minutes,
            costs=confirm_costs,
            status_quo=confirm_status_quo,
            outputs=confirm_outputs,
        )
        return
    if confirm_minutes is not None:
        raise typer.BadParameter(
            "--confirm-minutes goes with --rerun: the trial's author cannot confirm their own "
            "minutes"
        )
    if confirm_outputs is not None:
        raise typer.BadParameter(
            "--confirm-outputs goes with --rerun: the trial's author cannot confirm the "
            "outputs they typed"
        )
    if confirm_costs is not None:
        raise typer.BadParameter(
            "--confirm-costs goes with --rerun: the trial's author cannot confirm the costs "
            "they typed"
        )
    if confirm_status_quo is not None:
        raise typer.BadParameter(
            "--confirm-status-quo goes with --rerun: the trial's author cannot confirm the "
            "status quo they chose"
        )
    interactive = not json and sys.stdin.isatty()
    if (aside := verdict_set_aside(opened, as_)) is not None:
        # said before the trial runs for minutes: the report is still the runner's to read
        err_console().print(
            f"[bold yellow]note:[/] this trial's verdict will not count for plays 1 and 2: "
            f"{escape(aside)}"
        )
    with ProgressBar(err_console(), hidden=json) as bar:
        run = prove_trial(
            opened,
            name,
            as_,
            progress=bar.update,
            stop_if_not_worth_it=stop_if_not_worth_it,
            ask_to_stop=_asker(bar) if interactive else None,
            trust_python=trust_python,
        )
    if json:
        print_json(run.data)
    else:
        _render(run)
        _say_exit(opened)


def _rerun(
    opened: Program,
    name: str,
    as_: str | None,
    *,
    json: bool,
    trust_python: bool,
    confirm: str | None,
    costs: str | None,
    status_quo: str | None,
    outputs: str | None,
) -> None:
    from inhouse.cli.render import ProgressBar
    from inhouse.trials.rerun import rerun_trial

    with ProgressBar(err_console(), hidden=json) as bar:
        done = rerun_trial(
            opened,
            name,
            as_,
            progress=bar.update,
            trust_python=trust_python,
            confirm_minutes=confirm,
            confirm_costs=costs,
            confirm_status_quo=status_quo,
            confirm_outputs=outputs,
            agree=_ask_word,
        )
    if json:
        print_json(done.to_dict())
        return
    # sealed into the outbox (no log here), the fact is by a key: named as it joined here
    _render_rerun(done, done.fact.by if done.fact.id else opened.outbox_signer())
    if done.declined is not None:
        from inhouse.errors import NotAllowed

        why = (
            "the question got no answer (no terminal to ask on, or the input ended)"
            if done.declined == "unanswered"
            else "you did not say they are true"
        )
        raise NotAllowed(
            f"your confirmations were not recorded: {why}. The rerun itself is recorded, "
            f"and play 2's check still asks for them: run `inhouse prove {name} --rerun` with "
            "them yourself in a terminal, read the figures it shows, and answer y only if you "
            "know them to be true (no flag answers for you)"
        )


#: shows, once the rerun ran, what each confirmation given covers, and asks its person
_ask_word = ask_before_signing(
    "Your key signs that these figures, which the trial's author gave and nothing measured, "
    "are true:",
    "Do you know these to be true yourself?",
)


def _render_rerun(done: RerunOutcome, by: str) -> None:
    from rich.markup import escape

    console = out_console()
    data = done.fact.payload
    weights = f"{data['model']}@{str(data['digest'] or 'unnamed weights')[:19]}"
    console.print(
        f"trial {escape(done.trial)} rerun by {escape(by)}: candidate passed "
        f"{literal(data['passed'])} of {literal(data['inputs'])} inputs "
        f"({share(data['pass_rate'])}) on "
        f"{escape(weights)}, spec {literal(done.spec_hash[:19])}"
    )
    if done.verdict is not None:
        claimed = done.verdict.payload.get("candidate_pass_rate")
        console.print(
            f"the verdict (fact #{literal(done.verdict.id)}, by {escape(done.verdict.by)}) claimed "
            f"{share(float(claimed or 0))}; the spec's quality floor is {data['quality_floor']:g} "
            "points"
        )
    cleared = ", ".join(data["proven_on"]) or "nothing"
    claimed_on = (
        f"; the verdict claimed {', '.join(done.verdict.payload['proven_on']) or 'nothing'}"
        if done.verdict is not None
        else ""
    )
    console.print(
        "against the status quo, this run's own figures cleared "
        f"{literal(cleared)}{literal(claimed_on)}"
    )
    seed = data.get("seed") or {}
    if seed.get("drawn"):  # exit rule 33: the spec's seed may have been picked for its draw
        hot = seed.get("temperature")
        at = "the server's default temperature" if hot is None else f"temperature {float(hot):g}"
        console.print(
            f"the spec samples (at {literal(at)}): this run drew its own seed, "
            f"{literal(seed['sent'])}, not the spec's ({literal(seed.get('spec'))})"
        )
    if data["status_quo_confirmed"]:
        # a pass rate the trial's author stated (no outputs to judge) rides on the same word
        stated = data.get("status_quo_pass_rate")
        rate = (
            f" and the pass rate stated for the manual process ({share(float(stated))}), which "
            "the candidate's quality was compared with"
            if stated is not None and data.get("status_quo_measured") is False
            else ""
        )
        console.print(
            f"you confirmed the manual minutes{literal(rate)}: "
            f"{escape(str(data['status_quo_confirmed']))}"
        )
    if data.get("outputs_confirmed"):
        console.print(f"you confirmed the manual outputs: {escape(str(data['outputs_confirmed']))}")
    if data.get("api_confirmed"):
        endpoint = f" ({data['status_quo_endpoint']})" if data.get("status_quo_endpoint") else ""
        console.print(
            f"you confirmed the status quo{literal(endpoint)} is how the task is done today: "
            f"{escape(str(data['api_confirmed']))}"
        )
    if data.get("costs_confirmed"):
        console.print(f"you confirmed the typed costs: {escape(str(data['costs_confirmed']))}")
    for caveat in done.outcome.caveats:
        console.print(f"[bold yellow]⚑ {escape(caveat)}[/]")
    recorded = (
        f"Recorded fact #{done.fact.id} (trial.rerun)."
        if done.fact.id
        else "Signed into this checkout's outbox (trial.rerun)."
    )
    tail = "[green]counts[/]" if done.counts else "does not count"
    console.print(f"{literal(recorded)} For play 2's exit it {tail}: {escape(done.why)}")


def _say_exit(opened: Program) -> None:
    """What play 1's exit makes of the verdict, as ``inhouse status`` says it: "proven" is the
    trial's own word, and a verdict the exit does not count (the test model outside a demo,
    checks any answer passes) read as done until status said otherwise."""
    from rich.markup import escape

    from inhouse.workflows.runner import exit_check

    found = exit_check(opened, "value-proven")
    if found is not None:
        out_console().print(
            f"play {literal(found.play)}'s exit, {literal(found.check)}: {literal(found.outcome)}: "
            f"{escape(found.reason)}"
        )


def _asker(bar: ProgressBar) -> AskToStop:
    def ask(verdict: Verdict) -> bool:
        bar.stop()  # the question is not drawn over
        return typer.confirm(
            "The trial says not worth it. Stop the program honestly now "
            "(a clean stop after play 1 counts as a success)?",
            default=False,
        )

    return ask


def _render(run: TrialRun) -> None:
    from rich.markup import escape
    from rich.table import Table

    from inhouse.trials.report import format_money, format_seconds

    console = out_console()
    outcome, verdict = run.outcome, run.verdict
    colour = {"proven": "green", "not-worth-it": "red"}.get(verdict.verdict, "yellow")
    table = Table(
        title=f"trial {escape(outcome.plan.name)}: {len(outcome.plan.inputs)} inputs "
        "(candidate and status quo: mean time and cost per task)"
    )
    for column in (
        "dimension",
        "candidate",
        "status quo",
        "improvement",
        "95 % interval",
        "threshold",
        "outcome",
    ):
        # fold, never cut: at 80 columns a cut cell read "0.00000…" for a cost (and
        # figures_whole keeps a figure from folding: "0.000001" over "03 EUR")
        table.add_column(
            column, justify="right" if column != "dimension" else "left", overflow="fold"
        )
    for dim in verdict.dimensions:
        imp = dim.improvement
        sides = [
            format_seconds(mean) if dim.name == "faster" else format_money(mean, dim.unit)
            for mean in (dim.candidate_mean, dim.status_quo_mean)
        ]
        table.add_row(
            literal(dim.name),
            *(literal(side) for side in sides),
            f"{imp.point:+.1f} %" if dim.n else "n/a",
            f"{imp.low:+.1f} … {imp.high:+.1f} %" if dim.n else "n/a",
            f"≥ {dim.threshold:g} %" if dim.threshold is not None else "not claimed",
            literal(dim.outcome),
        )
    claim = verdict.privacy
    ours, theirs = outcome.candidate.privacy, outcome.status_quo.privacy
    table.add_row(
        "more-private",
        literal(ours.scope or "nothing sent"),
        literal(theirs.scope or "nothing sent") if theirs.network else "no network (manual)",
        "yes" if claim.more_private else "no",
        "",
        "claimed" if claim.claimed else "not claimed",
        "cleared" if claim.claimed and claim.more_private else "",
    )
    quality = verdict.quality
    # a manual process's outputs were typed by the trial's author: judged, not measured
    if not quality.status_quo_measured:
        stated = " (stated)"
    else:
        stated = "" if theirs.network else " (typed outputs)"
    difference = quality.difference
    table.add_row(
        "quality (pass rate)",
        f"{share(quality.candidate_pass_rate)}",
        f"{share(quality.status_quo_pass_rate)}{literal(stated)}",
        f"{difference.point:+.1f} pts",
        f"{difference.low:+.1f} … {difference.high:+.1f} pts",
        f"floor -{quality.floor_points:g} pts",
        "ok" if quality.ok else "below floor",
    )
    console.print(figures_whole(table))
    for label, side in (("candidate", outcome.candidate), ("status quo", outcome.status_quo)):
        cost = side.cost
        shown = ", ".join(f"{i.name} {i.value:g} {i.unit}" for i in cost.inputs)
        console.print(f"[dim]{literal(label)} cost inputs: {escape(shown)}[/]")
        if cost.zero_note:
            console.print(f"[yellow]{escape(cost.zero_note)}[/]")
    if theirs.network and theirs.bytes_left_machine:
        classes = ", ".join(theirs.data_classes_left_machine) or "no data classes"
        console.print(
            f"status quo: {literal(theirs.bytes_left_machine)} bytes of task data left this "
            f"machine ({escape(classes)})"
        )
    for caveat in outcome.caveats:
        console.print(f"[bold yellow]⚑ {escape(caveat)}[/]")
    console.print(
        f"[bold {literal(colour)}]{literal(verdict.verdict)}[/]: {escape(verdict.summary)}\n"
        f"Recorded fact #{literal(run.fact.id)} (trial.verdict). Report: {literal(run.html_report)}"
    )
    if run.set_aside is not None:
        console.print(
            f"[bold yellow]Not counted[/] for plays 1 and 2 (fact #{literal(run.fact.id)}): "
            f"{escape(run.set_aside)}"
        )
    if run.stopped:
        console.print("[bold]Program stopped: not worth it.[/] Play 1 did its job.")
