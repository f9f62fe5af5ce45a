"""Top-level commands: init, status, hypothesis, stop."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from inhouse.cli._common import (
    AsOpt,
    JsonOpt,
    ProgramOpt,
    Typer,
    err_console,
    literal,
    open_program,
    out_console,
    print_json,
    state,
)

app = Typer()


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="The program's name, e.g. 'Acme local LLMs'.")],
    lead: Annotated[str, typer.Option("--lead", help="The rollout lead's name (first person).")],
    email: Annotated[str, typer.Option(help="The lead's e-mail.")] = "",
    team: Annotated[str, typer.Option(help="The lead's team.")] = "",
    playbook: Annotated[
        str, typer.Option(help="Shipped playbook name, or a .yaml path inside the folder.")
    ] = "local-model-program",
    folder: Annotated[Path, typer.Option("--dir", help="Where to create it.")] = Path("."),
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="A demo program, for trying inhouse out: one computer may play every person, "
            "each with a machine id of their own (INHOUSE_MACHINE_ID=NAME-laptop in their "
            "shell, from before they join), as its checks tell people apart by machine alone; "
            "and trials of the random-weights test model count. Nothing it shows is evidence, "
            "and it says so on every status, check, dashboard page and report; it cannot be "
            "made a real program later.",
        ),
    ] = False,
) -> None:
    """Start a program here: writes inhouse.toml and .inhouse/, and enrols you as its lead with
    your own signing key (created in your config folder if you have none; INHOUSE_KEY points
    elsewhere)."""
    from inhouse.program import Program
    from inhouse.program.state import DEMO, DEMO_MACHINES

    program = Program.init(folder, name, lead, email=email, team=team, playbook=playbook, demo=demo)
    state.opened.append(program)  # closed with the command, as open_program's are
    label = " [bold yellow](demo)[/]" if demo else ""
    out_console().print(
        f"Created program [bold]{literal(name)}[/]{label} in {literal(program.folder)} (playbook "
        f"{literal(program.playbook.name)} v{literal(program.playbook.version)}, lead "
        f"{literal(lead)}).\nYou act with the key {literal(program.key.key_id)} at "
        f"{literal(program.key.path)}; keep inhouse.toml in git: it names that key as the "
        "program's root of trust.\nNext: invite people (`inhouse person invite NAME`), then record "
        "the hypothesis play 1 tests (`inhouse hypothesis`)."
        + (
            f"\n[bold yellow]{literal(DEMO)}[/].\nIn a demo, {literal(DEMO_MACHINES)}."
            if demo
            else "\nBefore play 2, set up your organisation's sign-in (`inhouse sign-in setup`): "
            "without it inhouse tells nobody apart, and no check that needs a second person "
            "passes." + literal(_log_on_this_machine(program.folder), lines=True)
        )
    )


def _log_on_this_machine(folder: Path) -> str:
    """For a real program on the default SQLite store: where its colleagues sign in. A team
    that followed the README's tour on SQLite found, at a colleague's `sign-in login`, that
    sign-in has no outbox and needs the log, on the lead's laptop; nothing that colleague signed
    could count, and no store moves a log from SQLite to PostgreSQL (tests/test_walk56.py)."""
    from inhouse.location import DATA_DIR, database_url
    from inhouse.program.state import sign_in_login

    if not database_url(folder).startswith("sqlite"):
        return ""
    log = folder / DATA_DIR / "inhouse.db"
    return f"\nEach colleague signs in with {sign_in_login(str(log))}."


@app.command()
def join(
    invitation: Annotated[str, typer.Argument(help="The invitation a rollout lead gave you.")],
    ssh_key: Annotated[
        Path | None,
        typer.Option(
            "--ssh-key",
            help="Use this existing OpenSSH ed25519 private key (like git's SSH signing) "
            "instead of creating one.",
        ),
    ] = None,
    program: ProgramOpt = None,
) -> None:
    """Enrol on this machine with a key of your own. Where this machine holds the program's
    log (or shares its PostgreSQL), you are enrolled at once; on a machine with only the program
    folder, the signed enrolment goes to .inhouse/outbox for `inhouse evidence export`."""
    from inhouse.identity import adopt_key, create_key, default_key_path, load_key

    if ssh_key is not None:
        key = adopt_key(ssh_key)
    elif default_key_path().exists():
        key = load_key()
    else:
        key = create_key()
    opened = open_program(program).using(key)
    if opened.detached():
        path = opened.seal_enrolment(invitation)
        out_console().print(
            f"Signed your enrolment with key {literal(key.key_id)} into {literal(path)}.\nSend it "
            "to the program's lead (`inhouse evidence export -o FILE` bundles your outbox); they "
            "run `inhouse evidence import FILE`."
        )
        return
    person = opened.join(invitation, key)
    out_console().print(
        f"Enrolled [bold]{literal(person.name)}[/] with key {literal(key.key_id)} "
        f"({literal(key.path)}). "
        "Your private key never leaves this machine."
    )
    from rich.markup import escape

    now = opened.state()
    # said now, not only on a later `status`: an invitation is used once, so a key enrolled
    # from someone else's machine stays there
    shared = f"{person.name} enrolled from the same machine as "
    for line in now.shared_machines():
        if line.startswith(shared):
            err_console().print(f"[yellow]warning:[/] {escape(line)}")
    if now.sign_in is not None and not now.demo:
        out_console().print(
            "Next: `inhouse sign-in login`: nothing you sign counts as yours until you have."
        )
    else:
        out_console().print("Next: `inhouse status` lists each person's next step.")


@app.command()
def whoami(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Who this shell acts as: the person whose key it holds. In a checkout without the
    program's log, where nobody is known, it names the key, the name it joined under there and
    what waits in the outbox, and exits 2."""
    from inhouse.identity.machine import machine_fingerprint

    opened = open_program(program)
    key = opened.key
    if opened.detached():
        _whoami_in_a_checkout(opened, json)
        return
    person = opened.whoami()
    state = opened.state()
    # this key's own sign-in, made for this person
    bound = (
        state.signed_keys.get(key.key_id) if state.signed_in_as(key.key_id, person.name) else None
    )
    data: dict[str, Any] = {
        "name": person.name,
        "roles": sorted(person.roles),
        "team": person.team,
        "key_id": key.key_id,
        "key_path": str(key.path),
        # what a refusal names a host by ("Run this on the gateway's host (machine …)"): a
        # newcomer could not tell which of her machines that was
        "machine": machine_fingerprint(),
        "signed_in": None
        if bound is None or state.sign_in is None
        else {"issuer": state.sign_in.issuer, "subject": bound.subject, "email": bound.email},
        "in_log": True,
    }
    if json:
        print_json(data)
        return
    roles = ", ".join(data["roles"]) or "no roles"
    out_console().print(
        f"{literal(person.name)} ({literal(roles)}), key {literal(key.key_id)} at "
        f"{literal(key.path)}"
    )
    out_console().print(f"this machine: {literal(data['machine'])}")
    if state.sign_in is not None and not person.service:
        out_console().print(
            f"signed in with {literal(state.sign_in.issuer)} as {literal(bound.subject)}"
            if bound is not None
            else f"not signed in with {literal(state.sign_in.issuer)} with this key: what it signs "
            "counts once it is (`inhouse sign-in login`)"
        )


def _whoami_in_a_checkout(opened: Any, json: bool) -> None:
    """``whoami`` where this folder holds the program's settings but not its log: a colleague's
    checkout, where the README's tour has him `join` and then ask who he is. Nobody is known
    without the log, so no name is said as the program's and it exits 2 as before; but what
    this shell holds is said first (the key, this machine), with the name the key joined under
    here and what waits in the outbox: the refusal alone said nothing of either."""
    from inhouse.identity.machine import machine_fingerprint
    from inhouse.location import DATA_DIR
    from inhouse.program.evidence import OUTBOX

    key = opened.key
    joined = opened.joined_as()
    outbox = opened.folder / DATA_DIR / OUTBOX
    waiting = sorted(outbox.glob("*.json")) if outbox.is_dir() else []
    data: dict[str, Any] = {
        "name": None,
        "roles": [],
        "team": "",
        "key_id": key.key_id,
        "key_path": str(key.path),
        "machine": machine_fingerprint(),
        "signed_in": None,
        "in_log": False,
        "joined_here_as": joined,
        "outbox": len(waiting),
    }
    if json:
        print_json(data)
        raise typer.Exit(2)
    out = out_console()
    out.print(f"key {literal(key.key_id)} at {literal(key.path)}")
    out.print(f"this machine: {literal(data['machine'])}")
    if joined is not None:
        out.print(
            f"This key joined here as {literal(joined)}; its enrolment counts once a lead imports "
            "it."
        )
    else:
        out.print("This key has not joined here: `inhouse join INVITATION` (a lead gives you one).")
    if waiting:
        one = len(waiting) == 1
        out.print(
            f"{literal(len(waiting))} signed envelope{literal('' if one else 's')} in "
            f"{literal(DATA_DIR)}/{literal(OUTBOX)}/: `inhouse evidence export -o FILE` carries "
            f"{literal('it' if one else 'them')}, and a lead runs `inhouse evidence import FILE` "
            "where the log is."
        )
    opened.refuse_if_detached(f"tell whose key {key.key_id} is")


@app.command()
def status(program: ProgramOpt = None, json: JsonOpt = False) -> None:
    """Each play's state, owner, trigger and exit checks with their evidence, handoffs,
    waivers, refused anti-patterns, warnings, and each person's next step. Exits 1 when the
    event log does not verify (the status is then as of the event before the first bad one;
    `inhouse audit verify`)."""
    opened = open_program(program)
    # one moment for the board and each person's next steps (the survey's, the use to confirm):
    # the context that judges them is built once, not again for each at a later microsecond
    now = opened.clock()
    data = opened.status(now)
    if json:
        print_json(data)
    else:
        from inhouse.cli.render import render_status
        from inhouse.next_steps import next_steps

        render_status(out_console(), data, next_steps(opened, data, now))
    if opened.state().tampered is not None:  # a script reading only the exit code must see it
        raise typer.Exit(1)


@app.command()
def hypothesis(
    statement: Annotated[str, typer.Argument(help="What a local model should do, and why.")],
    replaces: Annotated[
        str | None, typer.Option(help="The external dependency it would replace.")
    ] = None,
    unlocks: Annotated[
        str | None, typer.Option(help="The private workflow it would unlock.")
    ] = None,
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """Record the hypothesis play 1 tests (its trigger): what to replace or unlock."""
    from inhouse.errors import InvalidInput

    if (replaces is None) == (unlocks is None):
        raise InvalidInput("give exactly one of --replaces DEPENDENCY or --unlocks WORKFLOW")
    aim, target = (
        ("replace-dependency", replaces) if replaces else ("unlock-private-workflow", unlocks)
    )
    fact = open_program(program).record_hypothesis(as_, statement, aim=aim, target=target or "")
    out_console().print(f"Recorded hypothesis (fact #{literal(fact.id)}) by {literal(fact.by)}.")


@app.command()
def stop(
    not_worth_it: Annotated[
        bool,
        typer.Option("--not-worth-it", help="Play 1's trial said the local model is not worth it."),
    ] = False,
    comment: Annotated[str, typer.Option(help="A word for the record.")] = "",
    program: ProgramOpt = None,
    as_: AsOpt = None,
) -> None:
    """End the program honestly. A clean "not worth it" after play 1 is a success."""
    from inhouse.errors import InvalidInput

    if not not_worth_it:
        raise InvalidInput("say why the program stops: --not-worth-it (needs play 1's verdict)")
    verdict = open_program(program).stop_not_worth_it(as_, comment=comment)
    out_console().print(
        f"[bold green]Program stopped: not worth it[/] (evidence: fact #{literal(verdict.id)}, "
        f"{literal(verdict.label)}). Play 1 did its job: a weak idea was killed before it was "
        "scaled."
    )
