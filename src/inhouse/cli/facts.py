"""inhouse fact: list the evidence, or attest a fact nothing measures yet."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    parse_when,
    print_rows,
)

app = Typer()


def _payload(pairs: list[str], data: str | None, file: Path | None) -> dict[str, Any]:
    """Build a payload from --data JSON, --file JSON and --set key=value (dotted keys nest;
    values are read as JSON where they parse, else as text)."""
    import json

    from inhouse.errors import InvalidInput
    from inhouse.jsonfiles import TooDeep, check_depth, loads, read_text

    payload: dict[str, Any] = {}
    from_file = read_text(file, shown=f"--file {file}") if file else None
    for source, text in (("--file", from_file), ("--data", data)):
        if text is None:
            continue
        try:
            loaded = loads(text)
        except json.JSONDecodeError as err:
            raise InvalidInput(f"{source} is not valid JSON: {err}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"{source} must be a JSON object")
        payload.update(loaded)
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"--set takes key=value, not {pair!r}")
        try:
            value = loads(raw)
        except TooDeep as err:
            raise InvalidInput(f"--set {key}: {err.msg}") from None
        except json.JSONDecodeError:
            value = raw
        target = payload
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise InvalidInput(f"--set {key}: {part} is not an object")
        target[leaf] = value
    check_depth(payload, where="the payload")
    return payload


@app.command("record")
def record(
    kind: Annotated[str, typer.Argument(help="Fact kind, e.g. trial.verdict (see `fact kinds`).")],
    attest: Annotated[
        str,
        typer.Option(
            "--attest",
            help="Your word for it: what you vouch for. Shown as attested everywhere.",
        ),
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Payload field key=value (repeatable).")
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help="Payload as a JSON object.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Payload from a JSON file.")] = None,
    expires: Annotated[
        str | None, typer.Option(help="When the attestation lapses: 2026-12-31 or 30d.")
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Attest a fact where no collector measures it yet. Measured facts come from the tool."""
    payload = _payload(set_ or [], data, file)
    until = parse_when(expires) if expires else None
    fact = open_program(program).attest(as_, kind, payload, attest, expires=until)
    out_console().print(
        f"Recorded {literal(fact.kind)} (fact #{literal(fact.id)}), {literal(fact.label)}."
    )


@app.command("list")
def list_(
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Every fact recorded, oldest first, with its provenance."""
    from rich.text import Text

    from inhouse.terminal import shown

    opened = open_program(program)
    now = opened.clock()
    facts = [f for f in opened.state().facts if kind is None or f.kind == kind]
    rows: list[dict[str, Any]] = [
        {
            "id": f.id,
            "kind": f.kind,
            "version": f.version,
            "provenance": f.provenance.value,
            "by": f.by,
            "collector": f.collector,
            "comment": f.comment,
            "at": f.at.isoformat(timespec="seconds"),
            "expires": f.expires.isoformat(timespec="seconds") if f.expires else None,
            "expired": f.expired(now),
            "payload": f.payload,
        }
        for f in facts
    ]
    by_id = {fact.id: fact for fact in facts}

    def cells(row: dict[str, Any]) -> tuple[str | Text, ...]:
        fact = by_id[row["id"]]
        # print_rows shows a str cell as itself: the lapse is styled as a Text the program
        # writes (as markup it showed "[red](expired)[/]" to the reader, tags and all)
        label = Text(shown(fact.label, lines=True))
        if row["expired"]:
            label.append(" (expired)", style="red")
        return str(fact.id), fact.kind, row["at"], label, _short(fact.payload)

    columns = ("#", "kind", "when", "provenance", "payload")
    print_rows(rows, json=json, columns=columns, cells=cells)


def _short(payload: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in payload.items())
    return text if len(text) <= 80 else text[:77] + "..."


@app.command("kinds")
def kinds(json: JsonOpt = False) -> None:
    """The fact kinds the playbook's checks read, their fields and who produces them."""
    from inhouse.program.facts import FACT_KINDS

    rows: list[dict[str, Any]] = [
        {
            "kind": spec.name,
            "version": spec.version,
            "produced_by": spec.produced_by,
            "description": spec.description,
            "fields": spec.fields,
        }
        for spec in FACT_KINDS.values()
    ]
    print_rows(
        rows,
        json=json,
        columns=("kind", "fields", "measured by", "what"),
        cells=lambda row: (
            row["kind"],
            ", ".join(row["fields"]),
            row["produced_by"],
            row["description"],
        ),
    )
