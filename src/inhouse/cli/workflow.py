"""inhouse workflow: play 3's workflows — list, validate, run, test, import-promptfoo."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inhouse import figures
from inhouse.cli._common import (
    AsOpt,
    ClosesOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    err_console,
    literal,
    open_program,
    out_console,
    print_json,
)
from inhouse.figures import share

if TYPE_CHECKING:
    from inhouse.workflows import RunReport

app = Typer()

NameArg = Annotated[str, typer.Argument(help="The workflow: workflows/NAME.yaml.")]


def _user_path(folder: Path, text: str) -> Path:
    """A path a person typed (relative to here), which must stay inside the program folder:
    refused elsewhere, saying so and what to do (the refusal named only the two folders)."""
    from inhouse.errors import InvalidInput
    from inhouse.location import safe_join

    try:
        return safe_join(folder, Path(text).expanduser().absolute())
    except InvalidInput as err:
        raise InvalidInput(
            f"{err}: workflow commands read and write files inside the program folder only; "
            "copy the file there (e.g. into data/), or name a path there"
        ) from None


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """The program's workflows (workflows/*.yaml) with owner, model and test count."""
    from inhouse.workflows import workflow_summaries

    rows = workflow_summaries(open_program(program).folder)
    if json:
        print_json(rows)
        return
    if not rows:
        out_console().print(
            "No workflows yet: write workflows/NAME.yaml (see docs/workflows.md), or "
            "`inhouse workflow import-promptfoo promptfooconfig.yaml`."
        )
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table("name", "owner", "frequency", "model", "tests", box=None)
    for row in rows:
        if "error" in row:
            table.add_row(literal(row["name"]), f"[red]{escape(row['error'])}[/]", "", "", "")
        else:
            table.add_row(
                *(literal(row[key]) for key in ("name", "owner", "frequency", "model", "tests"))
            )
    out_console().print(table)


@app.command("validate")
def validate(name: NameArg, program: ProgramOpt = None, as_: AsOpt = None) -> None:
    """Check a workflow spec without running it (templates, variables, checks).

    A valid spec names a recurring task and its frequency: the first time, that is recorded as
    play three's trigger (a ``task.named`` fact read from the spec; how often the task happens
    is the spec writer's word). A frequency that says no recurrence ("once", "ad hoc") is
    refused: say how often (daily, 3/week, every 2 weeks, ...)."""
    from inhouse.workflows import load_workflow, name_task

    opened = open_program(program)
    flow = load_workflow(opened.folder, name)
    # the trigger first: a spec whose frequency names no recurrence is refused, and is not
    # "valid" a line before that
    named = name_task(opened, as_, flow)
    out_console().print(
        f"{literal(flow.where)} is valid: {figures.count(len(flow.cases), 'test cases')}, model "
        f"{literal(flow.spec.model)}, version {literal(flow.content_hash[:19])}"
    )
    for note in _notes(opened, flow.spec.owner, flow.spec.model):
        out_console().print(f"note: {literal(note, lines=True)}")
    if named is not None:
        out_console().print(
            f"recorded the recurring task {literal(repr(flow.name))} "
            f"({literal(flow.spec.frequency)}): "
            "play 3's trigger reads it"
        )


def _notes(opened: Any, owner: str, model: str) -> list[str]:
    """What a valid spec still lacks to run or count here: an owner on the roster, a model the
    program's lock blesses (the one its log records, as `workflow test` pins it)."""
    from inhouse.baseline.lock import program_lock

    notes = []
    if owner not in opened.state().people:
        notes.append(
            f"its owner {owner!r} is not on this program's roster: a rollout lead invites them "
            "(`inhouse person invite NAME`)"
        )
    lock = program_lock(opened)
    blessed = [m.name for m in lock.models] if lock is not None else []
    if model not in blessed:
        said = ", ".join(blessed) if blessed else "no lock yet: `inhouse baseline lock`"
        notes.append(
            f"its model {model!r} is not blessed by the program's lock ({said}): "
            "`inhouse workflow test` refuses to run it"
        )
    return notes


def _inputs(
    folder: Path, pairs: list[str], input_file: str | None
) -> tuple[list[dict[str, Any]], bool]:
    """(the variable sets, whether they came as text from --var)."""
    from inhouse.errors import InvalidInput
    from inhouse.jsonfiles import read_jsonl_objects

    if input_file is not None:
        if pairs:
            raise InvalidInput("give variables with --var or --input, not both")
        path = _user_path(folder, input_file)
        lines = read_jsonl_objects(path, shown=input_file, what="a JSON object of vars")
        if not lines:
            raise InvalidInput(f"{input_file}: no lines with variables")
        return [row for _, row in lines], False
    given: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--var {pair!r}: write it as NAME=VALUE")
        given[key.strip()] = value
    return [given], True


@app.command("run")
def run(
    name: NameArg,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="A variable, NAME=VALUE (repeatable).")
    ] = None,
    input_file: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="A JSONL file inside the program folder: one object of variables per line.",
        ),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Requests in flight at once.")] = 1,
    gateway: Annotated[
        bool,
        typer.Option(
            "--gateway",
            help="Send the requests through the program's gateway on your own gateway key, "
            "each naming the workflow (X-Inhouse-Workflow): the gateway signs them as its runs, "
            "which play 6 counts. Without it, the lock's runtime answers and nothing counts.",
        ),
    ] = False,
    gateway_url: Annotated[
        str | None,
        typer.Option(
            help="The gateway's base URL, as the pilot guide names it (implies --gateway; "
            "default: the \\[gateway] table's host and port where they name this machine: "
            "your key goes to no other address inhouse.toml names).",
        ),
    ] = None,
    gateway_key: Annotated[
        str | None,
        typer.Option(
            envvar="INHOUSE_GATEWAY_KEY",
            help="Your own gateway key, for --gateway (where the pilot guide has you keep it).",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Produce outputs with the workflow's pinned model (refused if the model drifted); with
    --gateway, through the program's gateway, counted as the workflow's runs."""
    import asyncio

    from inhouse.cli.render import ProgressBar
    from inhouse.workflows import run_workflow

    opened = open_program(program)
    inputs, from_text = _inputs(opened.folder, var or [], input_file)
    access = (
        _gateway_access(opened.folder, gateway_url, gateway_key)
        if gateway or gateway_url is not None
        else None
    )
    # a file of inputs can take a while: a bar on stderr, as `workflow test` and `prove` show
    with ProgressBar(err_console(), hidden=json or len(inputs) < 2) as bar:

        def progress(done: int, total: int, case: str) -> None:
            bar.update(f"running {name}", done, total)

        flow, pinned, outputs = asyncio.run(
            run_workflow(
                opened,
                name,
                inputs,
                from_text=from_text,
                concurrency=concurrency,
                progress=progress,
                gateway=access,
            )
        )
    if json:
        print_json(
            {"workflow": flow.name, "model": pinned.model.name, "digest": pinned.model.digest,
             "gateway": pinned.url if access is not None else None,
             "outputs": [{"vars": g.vars, "output": g.output, "latency_ms": g.latency_ms,
                          "error": g.error} for g in outputs]}
        )  # fmt: skip
    else:
        from rich.markup import escape

        for generation in outputs:
            if len(outputs) > 1:
                out_console().print(f"[bold]{escape(str(generation.vars))}[/]")
            if generation.output is None:
                err_console().print(f"[red]runtime failed:[/] {escape(str(generation.error))}")
            else:
                out_console().print(escape(generation.output))
        if pinned.test_model:
            # "everything that shows its output labels it": a run printed the nonsense alone,
            # which a newcomer reads as a broken model or prompt
            from inhouse.runtimes import TEST_MODEL_LABEL

            err_console().print(
                f"[dim]model {escape(pinned.model.name)}: {literal(TEST_MODEL_LABEL)}[/]",
                soft_wrap=True,
            )
        if access is not None:
            answered = sum(g.output is not None for g in outputs)
            err_console().print(
                f"through the gateway at {pinned.url}: "
                f"{figures.count(answered, 'answered requests')} named workflow {flow.name}, "
                "its runs once the gateway's host signs the day (`inhouse gateway rollup`)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if any(g.output is None for g in outputs):
        raise typer.Exit(1)


def _gateway_access(folder: Path, url: str | None, key: str | None) -> Any:
    """Where ``--gateway`` sends the requests: ``url`` (else the ``[gateway]`` table's address,
    where it names this machine) and the person's own gateway ``key``."""
    from inhouse.errors import InvalidInput
    from inhouse.pilot.guide import gateway_url_for_key
    from inhouse.program.config import read_config
    from inhouse.urls import http_url
    from inhouse.workflows import GatewayAccess

    if not key:
        raise InvalidInput(
            "--gateway sends the requests on your own gateway key: set INHOUSE_GATEWAY_KEY "
            "(where the pilot guide has you keep it) or give --gateway-key"
        )
    if url is None:
        url = gateway_url_for_key(folder, read_config(folder))
    return GatewayAccess(http_url(url, what="the gateway's address"), key)


def _show(report: RunReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    from inhouse.runtimes import TEST_MODEL_LABEL
    from inhouse.workflows.runner import seeds_each_attempt

    variants = report.variants
    if len(variants) == 1:
        table = Table("case", "passed", "score", "result", "why", box=None)
        for case in report.cases:
            if case.comparison:
                mark = "[cyan]compared[/]"
            else:
                mark = "[green]pass[/]" if case.passed else "[red]FAIL[/]"
            table.add_row(
                escape(case.case.name),
                f"{literal(case.passes)}/{literal(len(case.attempts))}",
                f"{case.score:.2f}",
                mark,
                escape(case.summary()),
            )
    else:  # side by side, like promptfoo's matrix: a column per variant
        table = Table("case", *(escape(_heading(v)) for v in variants), box=None)
        for row, case in enumerate(report.cases):
            cells = [_cell(v.cases[row]) for v in variants]
            table.add_row(escape(case.case.name), *cells)
        table.add_row(
            "[bold]pass rate[/]",
            *(
                f"{share(v.pass_rate)} of {literal(len(v.judged))}, score {v.score:.2f}"
                for v in variants
            ),
        )
        table.add_row(
            "[bold]latency[/]",
            *("-" if v.latency_ms is None else f"{v.latency_ms:.0f} ms" for v in variants),
        )
    console = out_console()
    console.print(table)
    compared = len(report.cases) - len(report.judged)
    if compared:
        console.print(
            f"  {figures.count(compared, 'comparison cases')}: outputs shown, counted neither way"
        )
    verdict = "[green]passed[/]" if report.passed else "[red]failed[/]"
    console.print(
        f"Workflow {literal(report.workflow.name)} {verdict}"
        + (f" on the variant in use, {escape(report.variant)}" if len(variants) > 1 else "")
        + f": {share(report.pass_rate)} of cases passed "
        f"(needs {share(report.required)}); run by {literal(report.runner)}, "
        + (
            f"author {literal(report.author)}"
            if report.author
            else "no author yet (no spec counts)"
        )
        + f", model {literal(report.model.name)} "
        f"({literal(report.model.digest[:19])}), version "
        f"{literal(report.workflow.content_hash[:19])}."
    )
    for case in report.judged:
        # "100% of cases passed" read as every case passing most of its draws
        # (what it needs, as play 3 says it, and what this run's attempts did: "passes on 1
        # of 5" said of a case that passed 3 of 5 was not what ran)
        if case.passed and case.best_of:
            console.print(
                f"  [yellow]case {literal(case.case.name)} needs {literal(case.case.min_pass)} "
                f"of its {literal(case.case.repeat)} attempts to pass: {literal(case.best_of)} "
                f"(this run passed {literal(case.passes)})[/]"
            )
    if report.test_model:
        console.print(
            f"  [yellow]model {escape(report.model.name)}: {literal(TEST_MODEL_LABEL)} — these "
            "results say nothing about the workflow on a real model[/]"
        )
    seed = report.seed or {}
    if seed.get("drawn"):  # exit rule 35: a colleague's run draws, not the author's pick
        at = seed.get("temperature")
        shown_at = "the server's default temperature" if at is None else f"temperature {at:g}"
        console.print(
            f"  the version samples (at {literal(shown_at)}): this run sent a seed drawn for it, "
            f"{literal(seed.get('sent'))}, not its author's ({literal(seed.get('spec'))}), so its "
            "answers are a draw of its own"
        )
    repeats = max((case.repeat for case in report.workflow.cases), default=1)
    if repeats > 1 and seeds_each_attempt(report.workflow, seed.get("sent")):
        # a seed sent N times is one draw N times: each attempt sent its own
        console.print(
            f"  each attempt of a repeated case sent a seed of its own, derived from "
            f"{literal(seed.get('sent'))} and the attempt's number (the first sent "
            f"{literal(seed.get('sent'))}), "
            "so a case's attempts are as many draws, not one repeated"
        )
    for note in report.untested_notes():
        console.print(f"  [yellow]{escape(note)}[/]")
    if report.test_model and report.passed and not report.proved:
        # a newcomer trying play 3 on the test model cannot guess a check its nonsense needs
        console.print(
            "  [yellow]the test model writes nonsense: a case needs it only where its checks "
            "hold the answer to what the model says for that input and not for another "
            "(`make demo`'s workflows/ticket-summary.yaml holds each ticket to the queue the "
            "test model files it under, in a JSON schema); or run a real model[/]"
        )
    for fact in report.facts:
        console.print(f"  recorded {literal(fact.kind)} #{literal(fact.id)}")
    exit_check = report.exit_check
    if exit_check is not None:
        judged = f" on workflow {exit_check.workflow}" if exit_check.workflow else ""
        console.print(
            f"  play {literal(exit_check.play)}'s exit, "
            f"{literal(exit_check.check)}{escape(judged)}: "
            f"{literal(exit_check.outcome)}: {escape(exit_check.reason)}"
        )


def _heading(variant: Any) -> str:
    return f"{variant.label} (in use)" if variant.in_use else str(variant.label)


def _cell(case: Any) -> str:
    from rich.markup import escape

    if case.comparison:
        shown = next((a.output for a in case.attempts if a.output), "") or ""
        return "[cyan]compared[/] " + escape(shown[:40].replace("\n", " "))
    mark = "[green]pass[/]" if case.passed else "[red]FAIL[/]"
    latency = "" if case.latency_ms is None else f" {case.latency_ms:.0f} ms"
    best = f" [yellow]{literal(case.best_of)}[/]" if case.best_of else ""
    return f"{mark} {case.score:.2f}{latency}{best}"


@app.command("test")
def test(
    name: NameArg,
    as_: AsOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Cases in flight at once.")] = 1,
    junit: Annotated[
        str | None,
        typer.Option(
            "--junit",
            help="Write JUnit XML here (for CI), inside the program folder.",
            show_default=False,
        ),
    ] = None,
    report_path: Annotated[
        str | None,
        typer.Option(
            "--report",
            help="Write the JSON report here, inside the program folder.",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
    closes: ClosesOpt = None,
    trust_python: Annotated[
        bool,
        typer.Option(
            "--trust-python",
            help="Run the workflow's python checks: someone's code, run with your rights (your "
            "files, your key). Read it first; without this, a workflow with one is refused.",
        ),
    ] = False,
) -> None:
    """Run the test cases, record the run as play 3's evidence; exit 1 below the pass-rate."""
    import json as jsonlib

    from inhouse.outfiles import check_target, write_text
    from inhouse.workflows import run_workflow_tests

    opened = open_program(program)
    junit_file = _user_path(opened.folder, junit) if junit else None
    report_file = _user_path(opened.folder, report_path) if report_path else None
    for option, target in (("--junit", junit_file), ("--report", report_file)):
        if target is not None:  # before the run: its evidence is recorded, whatever comes after
            check_target(target, option=option)
    from inhouse.cli.render import ProgressBar

    with ProgressBar(err_console(), transient=True) as bar:

        def progress(done: int, total: int, case: str) -> None:
            bar.update(f"testing {name}", done, total)

        report = run_workflow_tests(
            opened,
            name,
            actor=as_,
            concurrency=concurrency,
            progress=progress,
            closes=closes or (),
            trust_python=trust_python,
        )
    data = report.to_dict()
    if junit_file is not None:
        write_text(junit_file, report.junit_xml(), option="--junit")
    if report_file is not None:
        text = jsonlib.dumps(data, indent=2, default=str) + "\n"
        write_text(report_file, text, option="--report")
    if json:
        print_json(data)
    else:
        _show(report)
        for label, path in (("JUnit XML", junit_file), ("JSON report", report_file)):
            if path is not None:
                out_console().print(f"  {literal(label)}: {literal(path)}")
    if not report.passed:
        raise typer.Exit(1)


@app.command("import-promptfoo")
def import_promptfoo(
    config: Annotated[str, typer.Argument(help="The promptfoo config (promptfooconfig.yaml).")],
    out: Annotated[
        str | None,
        typer.Option("--out", help="Where to write (default: workflows/NAME.yaml)."),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="The workflow's name (default: from the config).")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="Who does the task most (default: you).")
    ] = None,
    frequency: Annotated[
        str,
        typer.Option(
            help="How often the task comes up (daily, weekly, 3/week, …); without it the spec "
            "says 'unspecified', which names no recurrence for play 3's trigger."
        ),
    ] = "unspecified",
    model: Annotated[
        str | None, typer.Option(help="A blessed model (default: the lock's first).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing spec.")] = False,
    as_: AsOpt = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Convert a promptfoo config into a workflow spec, listing all that does not convert."""
    from inhouse.workflows import write_imported

    opened = open_program(program)
    result = write_imported(
        opened,
        as_,
        _user_path(opened.folder, config),
        out=_user_path(opened.folder, out) if out else None,
        name=name,
        owner=owner,
        frequency=frequency,
        model=model,
        force=force,
    )
    if json:
        print_json(
            {"path": str(result.path), "workflow": result.workflow.name,
             "tests": len(result.workflow.cases), "unsupported": result.unsupported,
             "notes": result.notes}
        )  # fmt: skip
        return
    from rich.markup import escape

    console = out_console()
    console.print(
        f"Wrote {literal(result.path)} ({figures.count(len(result.workflow.cases), 'test cases')}, "
        f"model {literal(result.workflow.spec.model)})."
    )
    if result.unsupported:
        console.print(f"[yellow]Not imported ({literal(len(result.unsupported))}):[/]")
        for item in result.unsupported:
            console.print(f"  - {escape(item)}")
    for item in result.notes:
        console.print(f"  note: {escape(item)}")
    if frequency == "unspecified":  # the default: validate then refused it as no recurrence
        console.print(
            f"  next: set the spec's frequency (how often the task comes up: daily, weekly, …), "
            f"then `inhouse workflow validate {escape(result.workflow.name)}` records play 3's "
            "trigger; or import again with --frequency and --force"
        )
