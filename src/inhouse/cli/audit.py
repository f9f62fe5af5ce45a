"""inhouse audit: prove the event log untampered, and read it."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from inhouse.cli._common import (
    JsonOpt,
    ProgramOpt,
    Typer,
    literal,
    open_program,
    out_console,
    print_json,
    print_rows,
)

if TYPE_CHECKING:
    from inhouse.program import Program

app = Typer()


@app.command("verify")
def verify(
    anchor: Annotated[
        Path | None,
        typer.Option(
            "--anchor", help="An anchor file (`audit anchor`): also notice events cut off after it."
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Recompute every event's hash and link and check every signature against the roster's
    keys; report the first event that does not hold (exit 1). A member's event made without
    the authority to make it is reported too (exit 1): every other command sets it aside. So
    is a log that no longer holds the newest event a command on this machine saw (cut off or
    written again from there), as an anchor would tell."""
    from inhouse.program.audit import check_anchor, read_anchor, verify_chain

    opened = open_program(program)
    # a checkout without the log (or a log lost) holds no events: an empty chain is intact, so
    # "ok" would vouch for a log nobody looked at
    opened.refuse_if_detached("verify the log")
    report = verify_chain(
        opened.store, lead_key=opened.settings.lead_key, program_id=opened.settings.program_id
    )
    problem, bad = report.problem, report.first_bad_seq
    cut = None
    if report.intact and anchor is not None:
        cut = check_anchor(opened.store, read_anchor(anchor), report)
    if cut is None and report.intact and (seen := _seen_cut(opened)) is not None:
        cut = seen  # events this machine saw, gone: a witness as good as an anchor
    if cut is not None:
        problem, bad = cut if problem is None else f"{cut}; {problem}", None
    ok = problem is None
    if json:
        print_json(
            {
                "ok": ok,
                "intact": report.intact,
                "checked": report.checked,
                "signed": report.signed,
                "unsigned": report.unsigned,
                "first_bad_event": bad,
                "problem": problem,
                "head_hash": report.head_hash,
            }
        )
    elif ok:
        before = f", {report.unsigned} from before identities (unsigned)" if report.unsigned else ""
        out_console().print(
            f"[green]ok[/]: {literal(report.checked)} events, chain intact, "
            f"{literal(report.signed)} signatures valid{literal(before)} (head "
            f"{literal(report.head_hash)})"
        )
    elif report.intact and cut is None:
        # the chain holds; a member's event made without the authority to make it was set
        # aside by every command, and the auditor is told of the attempt
        out_console().print(
            f"[bold red]FORGERY ATTEMPT[/]: {literal(problem)}. The chain is intact "
            f"({literal(report.checked)} "
            f"events, head {literal(report.head_hash)}) and the event is set aside, never counted."
        )
    else:
        out_console().print(
            f"[bold red]TAMPERED[/]: {literal(problem)}. {literal(report.checked)} events before "
            "it are intact."
        )
    if not ok:
        raise typer.Exit(1)


def _seen_cut(opened: Program) -> str | None:
    """Why the log no longer holds the newest event this user's commands saw of it
    (:mod:`inhouse.program.witness`), or None."""
    from inhouse.program import witness

    state = opened.state()
    if not state.program_id or state.demo:
        return None
    found = witness.seen_problem(opened.store, state.program_id, opened.store.url)
    return None if found is None else found[0]


@app.command("anchor")
def anchor(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Anchor file; keep it in git.")
    ] = Path("inhouse.anchor"),
    program: ProgramOpt = None,
) -> None:
    """Verify the log, then write its head (seq and hash) to a file meant for git: a later
    `audit verify --anchor FILE` notices events cut off after it. A log that no longer holds
    the event the file's anchor saw is refused, never anchored over."""
    from inhouse.errors import Refused
    from inhouse.program.audit import verify_chain, write_anchor

    opened = open_program(program)
    report = verify_chain(
        opened.store, lead_key=opened.settings.lead_key, program_id=opened.settings.program_id
    )
    if not report.intact:
        # a member's set-aside forgery attempt leaves the chain intact, and it is anchored:
        # else one appended event would stop the log's tail being anchored for good
        raise Refused(f"the log does not verify, so it cannot be anchored: {report.problem}")
    if (seen := _seen_cut(opened)) is not None:
        raise Refused(f"the log is not the one this machine saw, so it is not anchored: {seen}")
    target = output if output.is_absolute() else opened.folder / output
    mark = write_anchor(opened.store, target, opened.state().program_id, report)
    out_console().print(
        f"Anchored event {literal(mark.seq)} ({literal(mark.hash[:16])}…) in {literal(target)}."
    )


@app.command("forget-seen")
def forget_seen(
    yes: Annotated[
        bool, typer.Option("--yes", help="Forget without asking (for scripts).")
    ] = False,
    program: ProgramOpt = None,
) -> None:
    """Forget what this machine saw of the program's log (the newest event a command here read
    or wrote), after the store was knowingly restored from an older backup: the next command
    here keeps the head it then reads. It sets one file of yours aside (renamed beside itself,
    never deleted: whoever doubts the restore can still read what it saw) and records nothing in
    the log. A log cut without a restore is the store's host's to answer for: forgetting it here
    only stops this machine saying so."""
    from inhouse.program import witness

    opened = open_program(program)
    state = opened.state()
    where = opened.store.url
    out = out_console()
    if not state.program_id or state.demo:
        out.print("A demo program keeps nothing of what this machine saw: nothing to forget.")
        return
    found = witness.kept(state.program_id, where)
    if found is None:
        out.print(
            "This machine keeps nothing of what it saw of this program's log in this "
            "database: nothing to forget."
        )
        return
    path, seen = found
    cut = witness.seen_problem(opened.store, state.program_id, where)
    what = (
        "no event it can read"
        if seen is None
        else f"event {seen['seq']} ({seen.get('actor', '?')}'s {seen.get('kind', 'event')}, "
        f"recorded {seen.get('at', '?')})"
    )
    out.print(f"{path} keeps {what}.", markup=False, highlight=False)
    if cut is not None:
        out.print(
            "The log no longer holds it. Forget it only if you know the store was restored "
            "from an older backup: otherwise someone with write access to the store cut it, "
            "and this machine is what tells.",
            markup=False,
        )
    else:
        out.print("The log still holds it: forgetting it only stops this machine noticing a "
                  "cut before its next command keeps the head again.", markup=False)  # fmt: skip
    if not yes:
        try:
            agreed = typer.confirm("Forget what this machine saw of the log?", default=False)
        except typer.Abort:
            agreed = False
        if not agreed:
            out.print("Nothing forgotten.")
            raise typer.Exit(1)
    forgotten = witness.forget(state.program_id, where)
    aside = path if forgotten is None else forgotten[0]
    out.print(
        f"Set {path} aside as {aside.name} (it kept {what}; it is not deleted). Nothing was "
        "recorded in the log; the next command "
        "here keeps the head it reads.",
        markup=False,
        highlight=False,
    )


@app.command("log")
def log(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Every event, oldest first: who did what, when (UTC, to the second)."""
    from rich.table import Column

    events = open_program(program).events()
    rows: list[dict[str, Any]] = [
        {
            "seq": e.seq,
            # UTC with a Z, in the table and the JSON alike: its "+00:00" was cut at 80 columns
            "at": e.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "actor": e.actor,
            "signer": e.signer,
            "kind": e.kind,
            "payload": e.payload,
            "hash": e.hash,
        }
        for e in events
    ]
    when = Column("when (UTC)", no_wrap=True, min_width=len("2026-01-01T00:00:00Z"))
    print_rows(rows, json=json, columns=("#", when, "who", "event", "details"), cells=_event)


def _event(row: dict[str, Any]) -> tuple[str, ...]:
    detail = ", ".join(f"{k}={v}" for k, v in row["payload"].items())
    return (
        str(row["seq"]),
        row["at"],
        row["actor"],
        row["kind"],
        detail if len(detail) < 90 else detail[:87] + "...",
    )
