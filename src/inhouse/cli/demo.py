"""inhouse demo: the sample program's files, for walking the README by hand without ``make
demo``."""

from __future__ import annotations

from typing import Annotated

import typer

from inhouse.cli._common import ProgramOpt, Typer, err_console, literal, out_console, state

app = Typer()


@app.command("files")
def files(
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="A GGUF file the baseline blesses and the workflow runs, instead of the "
            "test model (the demo's --model).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace files that exist, and the tables inhouse.toml already has that these "
            "add (the rest of it is kept).",
        ),
    ] = False,
    program: ProgramOpt = None,
) -> None:
    """Write the files `make demo` writes into this program folder, without running the demo:
    the runtime, baseline and data rules (tables added to inhouse.toml), twelve tickets
    (data/tickets.jsonl), the minutes a person took on each by hand (data/minutes.csv), play
    1's trial (trials/tickets.yaml) and play 3's workflow (workflows/ticket-summary.yaml).

    Start the program first (`inhouse init NAME --lead lena --demo`: only a demo program
    counts trials of the test model). A file that exists, or a table inhouse.toml already has,
    is refused, naming it, and nothing is written, unless --force. They name the test model
    you made (`inhouse models make-test-model`, in .inhouse/models/), else one to make
    (`inhouse models make-test-model --output models/inhouse-test-model.gguf`); then walk on:
    `inhouse prove tickets`, `inhouse workflow test ticket-summary`."""
    from rich.markup import escape

    from inhouse.demo_files import files as demo_files
    from inhouse.demo_files import model as named
    from inhouse.demo_files import write_into
    from inhouse.location import find_program, models_dir

    folder = find_program(program or state.program)
    name, path = named(model)
    made = models_dir(folder) / f"{name}.gguf"
    # the README's walk makes the test model before these files, in the models folder
    # (.inhouse/models/): a baseline naming models/ then failed at `baseline lock`
    if (
        model is None
        and not (folder / path).is_file()
        and made.is_file()
        and made.resolve().is_relative_to(folder)
    ):
        path = made.resolve().relative_to(folder).as_posix()
    written = write_into(folder, demo_files(name, path), force=force)
    out = out_console()
    out.print(f"Wrote the demo's files into {escape(str(folder))}:")
    for write in written:
        how = "added to" if write.append else "wrote"
        # "added to inhouse.toml: …, in inhouse.toml" said the file twice (`make demo`'s
        # title for the step, where no path follows it)
        title = write.title.removesuffix(f", in {write.path}")
        out.print(f"  {literal(how)} {escape(write.path)}: {escape(title)}")
    from inhouse.cli.runtime import _test_model_hint

    if model is None and (hint := _test_model_hint(folder)) is not None:
        # a real program: its plays 1-3 do not pass on the test model, said before the walk
        err_console().print(f"[yellow]warning:[/] {escape(hint)}")
    if model is None and (folder / path).is_file():
        out.print(
            f"They name the test model you made, at {escape(path)} (random weights: only a demo "
            "program, `init --demo`, counts its trials), as the blessed model "
            f"{escape(name)}: serve it by that name, `inhouse runtime serve {escape(name)}` "
            "(as the README does), then `inhouse prove tickets`."
        )
    elif model is None:
        out.print(
            f"They name the test model at {literal(path)}: make it with `inhouse models "
            f"make-test-model --output {literal(path)}` (random weights: only a demo program, "
            "`init --demo`, counts its trials), serve it with `inhouse runtime serve "
            f"{literal(path)}`, then `inhouse prove tickets`."
        )
    else:
        out.print(
            f"They name {escape(path)} as {escape(name)}: serve it with `inhouse runtime serve "
            f"{escape(path)}`, then `inhouse prove tickets`."
        )
