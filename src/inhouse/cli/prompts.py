"""inhouse prompts: play 4's shared prompt library — add, version, label, roll back, list, show,
diff, export to and import from ``prompts/``, and measured use."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inhouse import figures
from inhouse.cli._common import (
    ClosesOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    print_json,
)

if TYPE_CHECKING:
    from inhouse.pilot.library import LabelMove, PromptVersion

app = Typer()

NameArg = Annotated[str, typer.Argument(help="The prompt's name.")]
RefArg = Annotated[
    str, typer.Argument(help="NAME, NAME@VERSION or NAME@LABEL (e.g. triage@production).")
]
FileOpt = Annotated[
    str,
    typer.Option(
        "--file",
        "-f",
        help="The prompt: YAML with messages (or template) and variables; a file inside the "
        "program folder (one outside it is refused: copy it in, where git keeps it).",
    ),
]
DirArg = Annotated[
    str | None,
    typer.Argument(
        help="The folder (default: prompts/ in the program folder).", show_default=False
    ),
]


def _user_path(folder: Path, text: str) -> Path:
    """A path a person typed (relative to here), which must stay inside the program folder."""
    from inhouse.location import safe_join

    return safe_join(folder, Path(text).expanduser().absolute())


def _read(folder: Path, file: str) -> tuple[str, str]:
    from inhouse.jsonfiles import read_text

    return read_text(_user_path(folder, file), shown=file), file


def _shared(version: PromptVersion, what: str) -> None:
    out_console().print(
        f"{literal(what)} {literal(version.id)} ({literal(version.content_hash[:19])}…), authored "
        f"by {literal(version.author)}; variables: "
        f"{literal(', '.join(version.body.variables) or 'none')}"
    )


@app.command("add")
def add(name: NameArg, file: FileOpt, program: ProgramOpt = None, closes: ClosesOpt = None) -> None:
    """Share a new prompt (its version 1); you, its signer, are its author.

    Refused, naming the class, if it carries a data class the data-handling rules block."""
    from inhouse.pilot.library import add_prompt

    opened = open_program(program)
    text, where = _read(opened.folder, file)
    _shared(add_prompt(opened, name, text, where=where, closes=closes or ()), "shared")


@app.command("new-version")
def new_version(
    name: NameArg, file: FileOpt, program: ProgramOpt = None, closes: ClosesOpt = None
) -> None:
    """Record a prompt's next version (versions never change), signed by you, its author."""
    from inhouse.pilot.library import new_version as record

    opened = open_program(program)
    text, where = _read(opened.folder, file)
    _shared(record(opened, name, text, where=where, closes=closes or ()), "recorded")


def _moved(move: LabelMove) -> None:
    if move.effective:
        extra = f" ({move.note})" if move.note else ""
        out_console().print(f"{literal(move.label)} -> {literal(move.ref)}{literal(extra)}")
    else:
        out_console().print(
            f"requested {literal(move.label)} -> {literal(move.ref)}: {literal(move.note)}"
        )


@app.command("label")
def label(
    ref: RefArg,
    name: Annotated[
        str, typer.Argument(metavar="LABEL", help="The label to move: production, or any other.")
    ],
    program: ProgramOpt = None,
) -> None:
    """Point a label at a version (production, or any other; latest is automatic).

    With \\[prompts] promote_needs_second_person, the author's own move of production is a
    request that someone else confirms by moving it too."""
    from inhouse.pilot.library import move_label

    _moved(move_label(open_program(program), ref, name))


@app.command("rollback")
def rollback(name: NameArg, program: ProgramOpt = None) -> None:
    """Move production back to the version it held before."""
    from inhouse.pilot.library import rollback as roll_back

    _moved(roll_back(open_program(program), name))


@app.command("list")
def list_(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Every library prompt: author, versions, where its labels point, requests waiting."""
    from inhouse.cli._common import print_rows
    from inhouse.pilot.library_views import list_prompts

    rows = list_prompts(open_program(program))
    if not rows and not json:
        out_console().print("No prompts yet: `inhouse prompts add NAME --file PROMPT.yaml`.")
        return

    def cells(row: dict[str, Any]) -> list[str]:
        labels = " ".join(f"{k}=v{v}" for k, v in row["labels"].items())
        return [row["name"], row["author"], str(row["versions"]), labels, ", ".join(row["pending"])]

    print_rows(
        rows, json=json, columns=("name", "author", "versions", "labels", "waiting"), cells=cells
    )


@app.command("show")
def show(ref: RefArg, program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """A version: its messages, variables, author, hash and labels, and the label history."""
    from inhouse.pilot.library_views import dump_yaml, show_prompt

    data = show_prompt(open_program(program), ref)
    if json:
        print_json(data)
        return
    from rich.markup import escape

    console = out_console()
    labels = f" [{', '.join(data['labels'])}]" if data["labels"] else ""
    console.print(
        f"[bold]{literal(data['id'])}[/]{escape(labels)} by {literal(data['author'])}, "
        f"{literal(data['content_hash'])}"
    )
    body = {k: data[k] for k in ("description", "variables", "messages") if k in data}
    console.print(escape(dump_yaml(body)), end="")
    for move in data["moves"]:
        if move["effective"]:
            what = "moved"
        elif move["state"] == "requested":
            what = "requested"
        else:
            what = "not counted"
        note = f" ({move['note']})" if move["note"] else ""
        console.print(
            f"  {literal(move['at'][:16])} {literal(move['label'])} -> v{literal(move['version'])} "
            f"{literal(what)} by {literal(move['by'])}{escape(note)}"
        )


@app.command("diff")
def diff(a: RefArg, b: RefArg, program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """What changed between two versions (messages, variables, description)."""
    from inhouse.pilot.library_views import diff_prompts

    text = diff_prompts(open_program(program), a, b)
    if json:
        print_json({"a": a, "b": b, "same": not text, "diff": text})
        return
    out_console().print(text or f"{a} and {b} are the same", end="" if text else "\n", markup=False)


@app.command("export")
def export(where: DirArg = None, program: ProgramOpt = None) -> None:
    """Write the library to prompts/NAME.yaml (one file per prompt, stable diffs) for git."""
    from inhouse.pilot.library_files import PROMPTS_DIR, export_prompts

    opened = open_program(program)
    folder = _user_path(opened.folder, where) if where else PROMPTS_DIR
    for path in export_prompts(opened, folder):
        out_console().print(f"wrote {literal(path.relative_to(opened.folder.resolve()))}")


@app.command("import")
def import_(where: DirArg = None, program: ProgramOpt = None) -> None:
    """Bring prompts/*.yaml into the library, signed by you; what it holds already is skipped."""
    from inhouse.pilot.library_files import PROMPTS_DIR, import_prompts

    opened = open_program(program)
    folder = _user_path(opened.folder, where) if where else PROMPTS_DIR
    lines = import_prompts(opened, folder)
    for line in lines:
        out_console().print(line, markup=False)
    if not lines:
        out_console().print("nothing new: the library already holds these prompts")


@app.command("usage")
def usage(
    record: Annotated[
        bool,
        typer.Option(
            "--record", help="Record changed sums as prompt.usage facts, signed by the gateway."
        ),
    ] = False,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Each library prompt version's use through the gateway.

    Uses, distinct users, uses by people other than its author, and the last day used, from
    the gateway's usage log."""
    from rich.markup import escape

    from inhouse.cli._common import err_console, print_rows
    from inhouse.pilot.library_views import prompt_usage, record_prompt_usage

    opened = open_program(program)
    notes: list[str] = []
    rows = record_prompt_usage(opened, notes) if record else prompt_usage(opened)
    for note in notes:
        err_console().print(f"[yellow]not signed:[/yellow] {escape(note)}")
    if not record and not json:  # the summary tables: anyone with the database could write them
        err_console().print(
            "[yellow]unsigned:[/yellow] from the summary tables, which anyone with database "
            "access can write; `--record` sums the gateway's own rows and signs them with its "
            "key (the prompt.usage the checks count)"
        )
    print_rows(
        rows,
        json=json,
        columns=("prompt", "uses", "users", "by others", "last used"),
        cells=lambda r: [
            f"{r['prompt']}@{r['version']}", str(r["uses"]), str(r["users"]),
            str(r["uses_by_others"]), str(r["last_used"] or "never"),
        ],
        empty="No library prompt used through the gateway yet.",
    )  # fmt: skip
    if record and not json:
        # the rows above are what it recorded: say so, as `gateway rollup` does (a run that
        # printed a table and said nothing more read like the plain sums)
        from inhouse.cli._common import out_console

        out_console().print(
            f"Recorded {figures.count(len(rows), 'prompt.usage facts')}, signed by the gateway's "
            "key."
            if rows
            else "Nothing new to record: no version's use changed since the last record."
        )
