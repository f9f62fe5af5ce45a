"""The ``inhouse`` command: the root app and the registry of command groups.

Each group lives in its own module, named for it, and is imported here; those modules import only
Typer at the top and pull the engine in inside the command, so ``inhouse --help`` stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Annotated

import typer

from inhouse import __version__
from inhouse.cli._common import Typer, state

__all__ = ["app", "main"]

app = Typer(
    name="inhouse",
    help=(
        "Run your organisation's local-LLM program as a playbook of six plays. Each play has a "
        "trigger, an owner and exit criteria that are deliverables, checked against evidence "
        "inhouse gathers itself."
    ),
)

# (module, group name or None for top-level commands, help). Add a group by adding a line.
_GROUPS: tuple[tuple[str, str | None, str], ...] = (
    ("inhouse.cli.program", None, ""),
    ("inhouse.cli.prove", None, ""),
    ("inhouse.cli.bench", None, ""),
    ("inhouse.cli.people", "person", "Who takes part: names, teams and roles."),
    ("inhouse.cli.facts", "fact", "Evidence: list facts, or attest one where nothing measures it."),
    (
        "inhouse.cli.plays",
        "play",
        "Start a play once its trigger holds and its handoff is accepted.",
    ),
    (
        "inhouse.cli.handoffs",
        "handoff",
        "Hand a play's artifact to the next owner, who confirms it.",
    ),
    ("inhouse.cli.waivers", "waiver", "Let a refused anti-pattern through, on the record."),
    ("inhouse.cli.audit", "audit", "Prove the event log untampered; read it."),
    ("inhouse.cli.playbook", "playbook", "Show or validate playbook files."),
    ("inhouse.cli.runtime", "runtime", "The embedded model runtime: serve, status, stop."),
    ("inhouse.cli.models", "models", "Model files: list, pull, verify, make the test model."),
    ("inhouse.cli.gateway", "gateway", "The OpenAI-compatible gateway: serve, status, rollup."),
    ("inhouse.cli.keys", "keys", "Gateway keys: issue (shown once), revoke, list."),
    ("inhouse.cli.baseline", "baseline", "Play 2: lock, install script, docs, verify."),
    ("inhouse.cli.workflow", "workflow", "Play 3: workflows — run, test, import promptfoo."),
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"inhouse {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    program: Annotated[
        str | None,
        typer.Option(
            "--program",
            help="Program folder (default: walk up from here, like git; env INHOUSE_PROGRAM).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    state.program = program


for _module, _name, _help in _GROUPS:
    _sub = import_module(_module).app
    if _name is None:
        for _command in _sub.registered_commands:
            app.registered_commands.append(_command)
    else:
        app.add_typer(_sub, name=_name, help=_help)


def main() -> None:
    app()
