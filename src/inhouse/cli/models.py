"""inhouse models: the GGUF files in the models folder — list, pull, verify, make-test-model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    figures_whole,
    literal,
    out_console,
    print_json,
    state,
)

app = Typer()


def _folder(program: str | None) -> Path:
    from inhouse.location import models_dir, optional_program

    return models_dir(optional_program(program or state.program))


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """The model files in the models folder, with the digest recorded when each arrived."""
    from inhouse.runtimes import TEST_MODEL_LABEL, list_models

    folder = _folder(program)
    files = list_models(folder)
    if json:
        print_json({"folder": str(folder), "models": [f.model_dump() for f in files]})
        return
    if not files:
        out_console().print(
            f"No model files in {literal(folder)}. `inhouse models pull REPO FILE` fetches one; "
            "`inhouse models make-test-model` makes the offline test model."
        )
        return
    from rich.table import Table

    table = Table("name", "size", "digest (recorded)", "source", box=None)
    for f in files:
        name = literal(f.name) + (
            f"\n[dim]{literal(TEST_MODEL_LABEL)}[/]" if f.is_test_model else ""
        )
        digest = literal(f.record.digest) if f.record else "[yellow]not recorded[/]"
        source = literal(f.record.source.get("kind", "")) if f.record else ""
        table.add_row(name, literal(_size(f.size)), digest, source)
    out_console().print(f"Models in {literal(folder)}:")
    out_console().print(figures_whole(table))  # a digest cut to "sha256:9e81…" pins nothing


@app.command("pull")
def pull(
    repo: Annotated[str, typer.Argument(help="Hugging Face repo id, e.g. 'org/Model-GGUF'.")],
    filename: Annotated[str, typer.Argument(help="The .gguf file in that repo.")],
    revision: Annotated[
        str | None, typer.Option(help="Branch, tag or commit (default: main).", show_default=False)
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Download a GGUF from the Hugging Face Hub and record its SHA-256 (HF_ENDPOINT: a mirror)."""
    from inhouse.runtimes import pull_model

    pulled = pull_model(repo, filename, folder=_folder(program), revision=revision)
    if json:
        print_json(pulled.model_dump())
        return
    record = pulled.record
    out_console().print(
        f"Pulled {literal(pulled.name)} ({literal(_size(pulled.size))}) into "
        f"{literal(Path(pulled.path).parent)}"
    )
    if record is not None:
        out_console().print(f"  digest {literal(record.digest)}")
        out_console().print(f"  commit {literal(record.source.get('commit'))}")


@app.command("verify")
def verify(
    names: Annotated[
        list[str] | None, typer.Argument(help="Files to check (default: all).", show_default=False)
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Recompute each file's SHA-256 and report drift from the recorded digest (exit 1 on drift)."""
    from inhouse.runtimes import verify_models

    report = verify_models(_folder(program), names or None)
    if json:
        print_json({"folder": report.folder, "ok": report.ok,
                    "entries": [e.model_dump() for e in report.entries]})  # fmt: skip
    else:
        marks = {
            "ok": "[green]ok[/]",
            "drift": "[bold red]DRIFT[/]",
            "missing": "[bold red]MISSING[/]",
            "unrecorded": "[yellow]unrecorded[/]",
        }
        for entry in report.entries:
            out_console().print(f"{marks[entry.status]:>20}  {literal(entry.name)}")
            if entry.status == "drift":
                out_console().print(
                    f"{'':>10}recorded {literal(entry.recorded)}\n{'':>10}now      "
                    f"{literal(entry.actual)}"
                )
        if not report.entries:
            out_console().print(f"No model files in {literal(report.folder)}.")
        elif report.ok:
            out_console().print("Every recorded model matches its digest.")
        else:
            out_console().print(
                "Drift: a model file changed or went missing since it was recorded."
            )
    if not report.ok:
        raise typer.Exit(1)


@app.command("make-test-model")
def make_test_model(
    seed: Annotated[int, typer.Option(help="Same seed, byte-identical file.")] = 0,
    output: Annotated[
        Path | None,
        typer.Option(help="Write here instead of the models folder.", show_default=False),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Write the tiny test model (random weights, writes nonsense) for tests and offline demos."""
    from inhouse.runtimes import TEST_MODEL_LABEL, create_test_model

    made = create_test_model(_folder(program), seed=seed, output=output)
    if json:
        print_json(made.model_dump())
        return
    out_console().print(
        f"Wrote {literal(made.path)} ({literal(_size(made.size))}): {literal(TEST_MODEL_LABEL)}."
    )
    if made.record is not None:
        out_console().print(f"  digest {literal(made.record.digest)}")
    # said where a team first meets the test model, not only once it serves or locks it (a
    # team following the README's tour on a real program learnt it at `runtime serve`)
    from inhouse.cli.runtime import _test_model_hint
    from inhouse.location import optional_program

    if (hint := _test_model_hint(optional_program(program or state.program))) is not None:
        out_console().print(literal(hint, lines=True))
