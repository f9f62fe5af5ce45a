"""`inhouse web login` (and `inhouse web approve`) check the program the dashboard runs
against the program folder's own id before the key signs. Outside a program folder nothing
said which program that must be, and the key signed for whatever program the dashboard named
(one its person belongs to, run by someone else): refused now, naming why and what to do. The
dashboard is served by uvicorn on loopback, the CLI reaches it over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from inhouse.program import Program
from tests.clitools import cli
from tests.pilot.gateway_days import Pilot
from tests.web.browser import serving


def test_signing_in_outside_a_program_folder_is_refused_and_inside_it_works(
    world: Pilot, served: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.clock.now = datetime.now(UTC)  # the CLI signs a session that starts now, as it is
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    bob = world.env["bob"]
    with serving(served) as url:
        for command in (["web", "login", "--print"], ["web", "approve", "abc"]):
            said = " ".join(cli(*command, "--url", url, env=bob, code=2).split())
            assert "outside a program folder nothing says which program" in said, said
            assert "run it in your program's folder" in said and "--program FOLDER" in said
        # the honest path: the program named, and the dashboard runs it
        printed = cli("web", "login", "--print", "--url", url, "--program", str(world.folder),
                      env=bob)  # fmt: skip
    assert f"{url}/login/" in printed, printed


def test_a_program_folder_without_its_id_is_refused(
    world: Pilot, served: Program, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder whose inhouse.toml names no program_id checks nothing either."""
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "inhouse.toml").write_text(
        '[program]\nname = "Acme"\nlead = "lena"\n', encoding="utf-8"
    )
    monkeypatch.chdir(bare)
    with serving(served) as url:
        said = " ".join(cli("web", "login", "--print", "--url", url, env=world.env["bob"],
                            code=2).split())  # fmt: skip
    assert "inhouse.toml names no program_id" in said, said
