"""inhouse baseline: play 2 — lock the runtime and blessed models, write the install script and
BASELINE.md, and verify a machine against the lock."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

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

if TYPE_CHECKING:
    from inhouse.baseline.lock import Lock

app = Typer()


def _plain(text: str) -> str:
    """Text shown as it is, not as Rich markup (details name tables like [runtimes.x])."""
    from rich.markup import escape

    return escape(text)


def _say(text: str) -> None:
    """Print a line without wrapping it: lines carry digests a person copies whole."""
    out_console().print(text, soft_wrap=True)


def _runtime(lock: Lock) -> str:
    return f"{lock.runtime.name} ({lock.runtime.family}, version {lock.runtime.label})"


@app.command("lock")
def lock(
    as_: AsOpt = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
    closes: ClosesOpt = None,
) -> None:
    """Pin the runtime and blessed models by digest in inhouse.lock.

    Asks the runtime for each blessed model's digest and its version, records a baseline.lock
    fact (the lock the program holds: the gateway routes it, a second person verifies it), then
    writes inhouse.lock (sorted TOML: an unchanged baseline gives the same bytes).
    A new lock is announced to the running gateway replicas that share Redis (the gateway's
    redis_url), which route it at once; without Redis, or when it does not answer, each
    replica routes it at its next refresh.
    """
    from inhouse.baseline.lock import lock_baseline
    from inhouse.runtimes.testmodel import TEST_MODEL_REAL_PROGRAM

    opened = open_program(program)
    result = lock_baseline(opened, as_, closes=closes or ())
    if json:
        print_json(result.to_dict())
        return
    locked = result.lock
    verb = "Wrote" if result.written else "Unchanged:"
    _say(f"{literal(verb)} {literal(result.path)} (lock {literal(locked.lock_hash)})")
    _say(f"  runtime  {literal(_runtime(locked))}")
    for model in locked.models:
        _say(f"  model    {_plain(model.name)}  {literal(model.digest)}")
    rules = literal(locked.rules_hash) if locked.rules_hash else "[yellow]none written[/]"
    _say(f"  rules    {rules}")
    if result.fact is not None:
        _say(f"Recorded baseline.lock (fact #{literal(result.fact.id)}).")
    if result.test_models and not opened.state().demo:
        _say(literal(TEST_MODEL_REAL_PROGRAM))
    told = result.told
    if told is not None and told.sent and told.heard == 0:
        _say(
            "No gateway replica heard it on Redis (none runs, or none reaches Redis): each "
            f"routes the new lock when it starts or at its next refresh "
            f"(keys_refresh_seconds, {told.refresh_seconds:g} s)."
        )
    elif told is not None and told.sent:
        _say("Told the running gateway replicas (Redis): they route the new lock now.")
    elif told is not None and told.problem is not None:
        err_console().print(
            "[yellow]warning:[/] could not tell the running gateway replicas: "
            f"{_plain(told.problem)}. The lock is written and recorded; each replica routes it at "
            f"its next refresh (keys_refresh_seconds, {told.refresh_seconds:g} s).",
            soft_wrap=True,
        )
    _say(
        "Next: `inhouse baseline install-script`, `inhouse baseline docs`, and a second person "
        "runs `inhouse baseline install` (which ends with `inhouse baseline verify`)."
    )


@app.command("show")
def show(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Show the current lock."""
    from inhouse.baseline.lock import require_lock

    locked = require_lock(open_program(program).folder)
    if json:
        print_json(locked.model_dump())
        return
    _say(f"lock     {literal(locked.lock_hash)} (owner {literal(locked.owner)})")
    _say(f"runtime  {literal(_runtime(locked))}")
    for model in locked.models:
        _say(
            f"model    {_plain(model.name)}  {literal(model.digest)}  {literal(model.size or '?')} "
            "bytes"
        )
    _say(f"rules    {literal(locked.rules_hash or 'none written')}")
    _say(f"inhouse  {literal(locked.inhouse)} on Python {literal(locked.python)}")


@app.command("install-script")
def install_script(
    out: Annotated[Path, typer.Option("--out", help="Where to write the script.")] = Path(
        "install.sh"
    ),
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Install inhouse from this folder or URL instead of the pinned release "
            "(a checkout, a private index's file URL).",
            show_default=False,
        ),
    ] = None,
    as_: AsOpt = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Write the install script a second person runs on a fresh machine.

    A POSIX shell script: a venv, the pinned inhouse, every blessed model file fetched and
    checked by SHA-256, then `inhouse baseline verify`. Records a baseline.install_script fact.
    """
    from inhouse.baseline.install import write_install_script

    opened = open_program(program)
    target = out if out.is_absolute() else Path.cwd() / out
    path, fact = write_install_script(opened, as_, target, source=source)
    if json:
        print_json({"path": str(path), "fact": fact.id, **fact.payload})
        return
    _say(
        f"Wrote {literal(path)} for lock {literal(fact.payload['lock_hash'])} (recorded "
        f"baseline.install_script, fact #{literal(fact.id)})."
    )
    _say(
        "A second person runs `inhouse baseline install` from the program folder, with their own "
        "inhouse and key (it regenerates this script and runs that; `sh install.sh` where they "
        "have no inhouse yet)."
    )


@app.command("install")
def install(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what it would run (the whole script); run nothing."),
    ] = False,
    venv: Annotated[
        Path | None,
        typer.Option(
            "--venv",
            help="The virtual environment to create, outside the checkout (default "
            "~/.local/share/inhouse/venvs/NAME-ID-HERE, one per checkout, or under "
            "$XDG_DATA_HOME).",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Demo programs only: install inhouse from this folder or URL instead of the "
            "pinned release.",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Stand the baseline up on this machine: the install script, regenerated and run.

    Run it with your own inhouse from a checkout of the program folder. It writes the install
    script again from inhouse.toml and inhouse.lock and runs that text (never install.sh's
    bytes): a venv, the pinned inhouse from your own package index, every blessed model file
    fetched and checked by SHA-256, then `inhouse baseline verify` with your own key. An
    install.sh that differs from the regenerated script is named, and not run.
    """
    from inhouse.baseline.install import SCRIPT_NAME, install_venv, plan_install, run_install

    plan = plan_install(open_program(program), source=source)
    lock_hash = plan.lock.lock_hash
    if plan.script == "differs" and plan.recorded is not None:
        # `install-script` recorded these bytes for this lock: another inhouse release writes
        # other comments (or --source another requirement), which is no edit to ask about
        _say(
            f"{literal(SCRIPT_NAME)} here differs from the install script for lock "
            f"{literal(lock_hash)}, but is "
            f"the one recorded for it (fact #{literal(plan.recorded.id)}, by "
            f"{literal(plan.recorded.by)}): "
            "another inhouse release wrote it, or it was written with --source, and it was not "
            "edited since. It is not run; the regenerated script runs instead."
        )
    elif plan.script == "differs":
        err_console().print(
            f"[yellow]warning:[/] {literal(SCRIPT_NAME)} here differs from the install script for "
            f"lock {literal(lock_hash)}: it was edited, or written for another lock or with "
            "--source. It is not run; the regenerated script runs instead. Do not run it with "
            "`sh`: ask the baseline's owner why it differs.",
            soft_wrap=True,
        )
    elif plan.script == "same":
        _say(
            f"{literal(SCRIPT_NAME)} here is the script for lock {literal(lock_hash)}, byte for "
            "byte."
        )
    _say(f"Installing lock {literal(lock_hash)} in {literal(plan.folder)}:")
    _say(f"  venv     {_plain(str(install_venv(plan.folder, venv)))}")
    _say(f"  inhouse  pip installs {_plain(plan.requirement)} (your PIP_INDEX_URL)")
    for model in plan.models:
        _say(f"  model    {_plain(model)}, fetched where missing and checked by SHA-256")
    _say("  then     `inhouse baseline verify`, signed with your own key")
    if dry_run:
        _say("Dry run: nothing ran. The script it would run:")
        out_console().out(plan.text, end="", highlight=False)
        return
    code = run_install(plan, venv=venv)
    if code:
        raise typer.Exit(code)


@app.command("docs")
def docs(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write it (default: BASELINE.md in the program).",
            show_default=False,
        ),
    ] = None,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Write BASELINE.md: what is supported, how to install it, the data rules in plain words."""
    from inhouse.baseline.docs import write_docs

    opened = open_program(program)
    path = write_docs(opened.folder, out)
    if json:
        print_json({"path": str(path)})
        return
    _say(f"Wrote {literal(path)}.")


@app.command("verify")
def verify(
    as_: AsOpt = None,
    no_record: Annotated[
        bool, typer.Option("--no-record", help="Check only; record no baseline.verify fact.")
    ] = False,
    program: ProgramOpt = None,
    json: JsonOpt = False,
) -> None:
    """Check this machine against the lock, and record the run.

    Checks the runtime answers at the locked version, every blessed model has its locked
    digest, and the data rules' hash is the locked one; prints a fix for each failure. Records a
    baseline.verify fact (exit 1 when a check fails). Play 2's exit needs a passing verify by
    someone other than the baseline's owner, against the current lock.
    """
    from inhouse.baseline.verify import run_verify

    opened = open_program(program)
    outcome = run_verify(opened, as_, record=not no_record)
    report = outcome.report
    if json:
        print_json(outcome.to_dict())
    else:
        # without the log, the key is the signer: named as it joined here, where that is known
        person = opened.outbox_signer() if opened.detached() else outcome.person
        _say(f"Verifying this machine against lock {literal(report.lock_hash)} as {_plain(person)}")
        for check in report.checks:
            mark = (
                "[green]ok[/]  "
                if check.ok
                else ("[yellow]warn[/]" if check.warning else "[red]FAIL[/]")
            )
            _say(f"  {mark} {_plain(check.name)}: {_plain(check.detail)}")
            if check.fix and not check.ok:
                _say(f"         fix: {_plain(check.fix)}")
        verdict = "[green]passed[/]" if report.passed else "[red]failed[/]"
        recorded = ""
        if outcome.fact is not None:
            recorded = (
                f" (recorded fact #{outcome.fact.id})"
                if outcome.fact.id
                else " (signed into this checkout's outbox)"
            )
        _say(f"Verify {verdict}{literal(recorded)}.")
        tail = "counts" if outcome.counts else "does not count"
        _say(f"For play 2's exit it {literal(tail)}: {_plain(outcome.why)}.")
    if not report.passed:
        raise typer.Exit(1)
