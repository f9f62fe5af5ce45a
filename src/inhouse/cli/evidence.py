"""inhouse evidence: carry signed facts between machines as DSSE envelopes (in-toto)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from inhouse import figures
from inhouse.cli._common import ProgramOpt, Typer, literal, open_program, out_console
from inhouse.jsonfiles import loads

app = Typer()


def _an_export(path: Path) -> bool:
    """Whether ``path`` holds envelopes (an earlier export, rewritten with what is new)."""
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    items = data if isinstance(data, list) else [data]
    return all(isinstance(item, dict) and "payloadType" in item for item in items)


@app.command("export")
def export(
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (JSON).")],
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only these fact kinds (repeatable).")
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Write your signed evidence to a file: on a machine without the program's log, your
    outbox (enrolment, verify runs); elsewhere, the facts your key signed itself, sealed with
    it (never a dashboard session's, one recorded on someone's behalf, or an import)."""
    from inhouse.errors import InvalidInput
    from inhouse.outfiles import check_replaceable

    envelopes = open_program(program).export_evidence(kind or [])
    if not envelopes:
        raise InvalidInput("nothing to export: no signed evidence of yours here")
    check_replaceable(output, option="-o", what="an evidence export", ours=_an_export)
    try:
        output.write_text(json.dumps(envelopes, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as err:
        raise InvalidInput(f"cannot write {output}: {err.strerror or err}") from None
    out_console().print(
        f"Wrote {figures.count(len(envelopes), 'signed envelopes')} to {literal(output)}."
    )


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Envelope files (one envelope or a list).")],
    program: ProgramOpt = None,
) -> None:
    """Append envelopes from another machine. Each is checked: its signature, its program, an
    enrolled signer (or a valid invitation, for an enrolment), and the fact's rules. The
    signature, not whoever carried the file, says who made it. An envelope already imported,
    or one carrying a fact already in the log again, is not imported (its line says which).
    A file with an envelope for another program is refused whole; one refused for another
    reason stops the import there, and the error names those taken in before it: fix it or
    leave it out and import the file again (what is already in is skipped)."""
    from inhouse.errors import InvalidInput

    opened = open_program(program)
    for path in files:
        try:
            data: Any = loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise InvalidInput(f"cannot read {path}: {err}") from None
        items = data if isinstance(data, list) else [data]
        for line in opened.import_evidence(items, source=path.name):
            out_console().print(literal(line, lines=True))
