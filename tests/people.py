"""Acting as people in tests: each person enrols with a key of their own, as in real life.

``enrol(program, "bob", roles=[...])`` has the program's current key (a rollout lead) invite
bob, creates bob's key and joins with it from bob's own machine, and returns the program acted on
with bob's key. ``enrol_cli`` does the same through files and returns the environment a CLI call
needs to act as that person (``INHOUSE_KEY``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from inhouse.identity import SigningKey, create_key
from inhouse.program import Program


def enrol(
    program: Program,
    name: str,
    *,
    team: str = "",
    email: str = "",
    roles: Iterable[str] = (),
    machine: str | None = None,
) -> Program:
    """Invite ``name`` with ``program``'s key and join with a new key from their own machine
    (``machine``, default ``<name>-laptop``). Returns the program acting as ``name``."""
    text = program.invite(name, team=team, email=email, roles=roles)
    key = SigningKey.generate()
    program.join(str(text), key, at_machine=machine or f"{name}-laptop")
    return program.using(key)


def key_file(folder: Path, name: str) -> Path:
    """A new key file for ``name`` under ``folder`` (mode 0600)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.key"
    create_key(path)
    return path


def enrol_cli(
    program: Program,
    name: str,
    keys: Path,
    *,
    team: str = "",
    roles: Iterable[str] = (),
    machine: str | None = None,
) -> dict[str, str]:
    """Enrol ``name`` with a key file under ``keys``; returns ``{"INHOUSE_KEY": path}`` for a
    CliRunner call that acts as them."""
    from inhouse.identity import load_key

    path = key_file(keys, name)
    text = program.invite(name, team=team, roles=roles)
    program.join(str(text), load_key(path), at_machine=machine or f"{name}-laptop")
    return {"INHOUSE_KEY": str(path)}


def lead_env(program: Program) -> dict[str, str]:
    """The environment that acts as the program's lead (the key ``init`` used)."""
    assert program.key.path is not None
    return {"INHOUSE_KEY": os.fspath(program.key.path)}


def hold_gateway_key(lead: Program, holder: Program) -> None:
    """``holder``'s person fetches a gateway key of their own, granted by ``lead`` (a rollout
    lead), on the record: the gateway's figures count for a person only once they hold one.
    A waiver lets the grant through the reach guards where the plays before have not exited."""
    from datetime import timedelta

    from inhouse.errors import AntiPattern
    from inhouse.gateway.keys import issue_key

    name = holder.whoami().name
    for _ in range(3):  # each guard the grant meets is waived once, on the record
        try:
            issue_key(lead, None, name, holder=holder)
            return
        except AntiPattern as refused:
            lead.grant_waiver(None, refused.guard, play=refused.play, reason="executive-decision",
                              note=f"{name} holds a gateway key in this test",
                              expires=lead.clock() + timedelta(days=400))  # fmt: skip
    raise AssertionError(f"{name}'s gateway key was refused three times")
