"""inhouse runtime: the embedded runtime (llama-cpp-python on loopback) — serve, status, stop."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from inhouse.cli._common import JsonOpt, ProgramOpt, Typer, literal, out_console, print_json, state

if TYPE_CHECKING:
    from inhouse.baseline.manifest import BlessedModel
    from inhouse.runtimes import EmbeddedStatus

app = Typer()


def _describe(status: EmbeddedStatus) -> list[str]:
    """Lines about a recorded embedded server, saying plainly when it runs the test model."""
    from inhouse.runtimes import TEST_MODEL_LABEL

    recorded = status.state
    if recorded is None:
        return []
    model = recorded.model_id + (f" ({TEST_MODEL_LABEL})" if recorded.is_test_model else "")
    return [
        f"  url      {recorded.url}",
        f"  pid      {recorded.pid}",
        f"  model    {model}",
        f"  file     {recorded.model_path}",
        f"  digest   {recorded.model_digest}",
        f"  engine   {recorded.engine}",
        f"  log      {recorded.log_path}",
    ]


def _reach_hint(folder: Path | None) -> str | None:
    """What to add to inhouse.toml so that the program reaches the embedded runtime, where its
    config names no runtime of that family (None where it does, or cannot be read)."""
    from inhouse.errors import ConfigError
    from inhouse.program.config import read_config

    table = '`[runtimes.local]` with `family = "embedded"`'
    if folder is None:
        return f"A program reaches it through a runtime of its inhouse.toml: {table}."
    try:
        runtimes = read_config(folder).get("runtimes")
    except ConfigError:
        return None  # the program's own commands say what is wrong with it
    if isinstance(runtimes, dict) and any(
        isinstance(t, dict) and t.get("family") == "embedded" for t in runtimes.values()
    ):
        return None
    return (
        f"{folder / 'inhouse.toml'} names no runtime of family embedded, so the program does "
        f'not use this one: add one, e.g. {table}, and name it in [baseline] (`runtime = "local"`).'
    )


def _test_model_hint(folder: Path | None) -> str | None:
    """For the test model: that a real program's plays 1-3 do not pass on it (None for a demo
    program, whose plays count it, or where the program cannot be read)."""
    from inhouse.errors import InhouseError
    from inhouse.program import Program
    from inhouse.runtimes.testmodel import TEST_MODEL_REAL_PROGRAM

    if folder is not None:
        try:
            program = Program.open(folder)
            try:
                if program.state().demo:
                    return None
            finally:
                program.close()
        except InhouseError:
            return None  # the program's own commands say what is wrong with it
    return TEST_MODEL_REAL_PROGRAM


def _model_file(folder: Path | None, model: str) -> Path:
    """MODEL as a file: a path, a name in the models folder, or, in a program, the ``path`` of
    the blessed model of that name in ``[baseline]`` (the README's ``inhouse runtime serve
    inhouse-test-model`` in a program whose baseline keeps it under ``models/``)."""
    from inhouse.errors import InhouseError, InvalidInput
    from inhouse.location import CONFIG_NAME, models_dir, safe_join
    from inhouse.runtimes.files import resolve_model

    try:
        return resolve_model(models_dir(folder), model)
    except InvalidInput as missing:
        if folder is None or not (folder / CONFIG_NAME).is_file():
            raise
        from inhouse.baseline.manifest import read_manifest

        try:
            blessed = read_manifest(folder).model(model)
        except InhouseError:
            raise missing from None
        if blessed is None or blessed.path is None:
            raise
        found = safe_join(folder, blessed.path)
        if not found.is_file():
            raise InvalidInput(
                f"no model file for {model!r}: [baseline] names it at {blessed.path}, and "
                "there is no file there (it is kept out of git): "
                f"{_fetch_hint(blessed, folder, found)}, or serve the file by its path"
            ) from None
        return found


def _fetch_hint(blessed: BlessedModel, folder: Path, found: Path) -> str:
    """How a colleague's fresh checkout gets the blessed model's file: the test model is made
    again byte for byte, a model with a ``source`` is fetched by ``baseline install``."""
    from inhouse.location import models_dir
    from inhouse.runtimes.testmodel import TEST_MODEL_NAME

    if blessed.name == TEST_MODEL_NAME:
        made = models_dir(folder) / f"{TEST_MODEL_NAME}.gguf"
        where = "" if found == made else f" --output {found}"
        return (
            f"`inhouse models make-test-model{where}` writes it there (the same bytes on "
            "every machine, at the same seed)"
        )
    if blessed.source is not None:
        return f"`inhouse baseline install` fetches it from {blessed.source} and checks its digest"
    return "copy it there from the machine that locked the baseline"


@app.command("serve")
def serve(
    model: Annotated[
        str,
        typer.Argument(
            help="A GGUF file: by path, by its name in the models folder, or by a blessed "
            "model's name in \\[baseline] models (its path)."
        ),
    ],
    port: Annotated[
        int | None,
        typer.Option(
            min=1, max=65535, help="Loopback port (default: a free one).", show_default=False
        ),
    ] = None,
    ctx: Annotated[
        int | None,
        typer.Option(
            "--ctx", help="Context size (default: the model's, at most 4096).", show_default=False
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="CPU threads llama.cpp uses, for prompts and answers alike (default: "
            "llama-cpp-python's, half the cores for answers and all of them for prompts). On a "
            "machine other work shares, fewer keep its threads from waiting on each other.",
            show_default=False,
        ),
    ] = None,
    ready_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the server to answer.")
    ] = 120.0,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Start the embedded runtime on MODEL, in the background; returns once it answers."""
    from inhouse.location import optional_program
    from inhouse.runtimes import EmbeddedStatus, serve_embedded
    from inhouse.runtimes.embedded import refuse_if_running, require_engine

    folder = optional_program(program or state.program)
    path = _model_file(folder, model)
    # before the wait is announced: there is nothing to wait for
    refuse_if_running(folder)
    require_engine()
    if not json:  # loading a real model takes a while: say what the wait is
        out_console().print(
            f"Starting the embedded runtime on {literal(path.name)}: loading the model, waiting up "
            f"to {ready_timeout:g} s for it to answer…"
        )
    started = serve_embedded(path, program=folder, port=port, n_ctx=ctx, threads=threads,
                             ready_timeout=ready_timeout)  # fmt: skip
    if json:
        print_json(started.model_dump())
        return
    from rich.markup import escape

    status = EmbeddedStatus(running=True, answering=True, state=started, detail="")
    out_console().print("Embedded runtime started.")
    for line in _describe(status):
        out_console().print(literal(line))
    if (hint := _reach_hint(folder)) is not None:
        out_console().print(escape(hint))
    if started.is_test_model and (hint := _test_model_hint(folder)) is not None:
        out_console().print(escape(hint))
    out_console().print("Stop it with `inhouse runtime stop`.")


@app.command("status")
def status(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Whether the embedded runtime runs and answers, and what it serves. Exits 1 when it is
    not serving (not running, its process gone, or not answering), with or without --json."""
    from inhouse.location import optional_program
    from inhouse.runtimes import embedded_status

    report = embedded_status(optional_program(program or state.program))
    _show(report, json)
    if not (report.running and report.answering):
        # a script (a health check, a CI step) asks this to know whether it may send requests
        raise typer.Exit(1)


@app.command("stop")
def stop(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Stop the embedded runtime (and clear its PID file)."""
    from inhouse.location import optional_program
    from inhouse.runtimes import stop_embedded

    _show(stop_embedded(optional_program(program or state.program)), json)


def _show(report: EmbeddedStatus, json: bool) -> None:
    """A status report as JSON, or its detail and, while the runtime runs, what it serves (a
    stopped one has nothing more to say)."""
    if json:
        print_json(report.model_dump())
        return
    out_console().print(literal(report.detail, lines=True))
    for line in _describe(report) if report.running else []:
        out_console().print(literal(line))
