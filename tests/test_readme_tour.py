"""The README's tour, as written: every `inhouse …` line in its shell blocks names a command that
exists and options it takes (parsed by the real CLI, not run: `make demo` runs the same walk on
the real engine, and tests/test_demo.py checks it)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import typer.main

from inhouse.cli.app import app

README = Path(__file__).parents[1] / "README.md"


def _tour_commands() -> list[list[str]]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            code = line.split("#", 1)[0].strip()
            for part in code.split("&&"):
                words = shlex.split(part)
                if words and words[0] == "inhouse":
                    commands.append(words[1:])
    return commands


def test_every_tour_command_parses() -> None:
    root = typer.main.get_command(app)
    commands = _tour_commands()
    assert len(commands) > 20
    for words in commands:
        command, args, ctx = (
            root,
            list(words),
            root.make_context("inhouse", [], resilient_parsing=True),
        )
        while hasattr(command, "get_command") and args and not args[0].startswith("-"):
            sub = command.get_command(ctx, args[0])
            assert sub is not None, f"README: `inhouse {' '.join(words)}`: no command {args[0]!r}"
            command, args = sub, args[1:]
            ctx = command.make_context(command.name or "", [], parent=ctx, resilient_parsing=True)
        # parse for real: an unknown option or a missing argument fails here
        command.make_context(command.name or "", list(args), parent=ctx.parent)
