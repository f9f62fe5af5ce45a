"""``make screenshots``: the dashboard's program and pilot pages, in real Chromium, as PNG files
for the README (docs/img/). Builds the tests' world (tests/web/world.py: a pilot whose members
used the tool through the real gateway) in a temporary folder, serves it, signs in as the lead
with her own key, and photographs the pages.

    python -m tests.web.screenshots docs/img
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from inhouse.identity import machine
from inhouse.program.people import PeopleMixin
from inhouse.web.login import sign_in
from tests.conftest import (
    OTHER_COMPUTER,
    Clock,
    _enrol_service_on_its_host,
    stand_in_elsewhere,
)
from tests.web.browser import CHROMIUM, serving
from tests.web.world import dashboard_program, key_of, make_world

SHOTS = (("program", "/", 1280), ("pilot", "/pilot", 1280))


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name in ("INHOUSE_PROGRAM", "INHOUSE_DATABASE_URL", "INHOUSE_KEY"):
            os.environ.pop(name, None)
        os.environ["HOME"] = str(root / "home")
        os.environ["XDG_CONFIG_HOME"] = str(root / "home" / ".config")
        work = root / "work"
        work.mkdir()
        os.chdir(work)
        # as the tests' autouse fixture does (tests/conftest.py): the world's stand-in identity
        # provider on loopback stands for the organisation's, and the gateway's service key is
        # enrolled as from its own host (a machine of its own); without it the world refuses to
        # build
        with pytest.MonkeyPatch.context() as patch:
            stand_in_elsewhere(patch)
            real = machine._os_machine_id
            patch.setattr(
                machine, "_os_machine_id", lambda: os.environ.get(OTHER_COMPUTER) or real()
            )
            patch.setattr(PeopleMixin, "enrol_service", _enrol_service_on_its_host)
            _photograph(target, work)


def _photograph(target: Path, work: Path) -> None:
    world = make_world(work, Clock())
    program = dashboard_program(world)
    try:
        with serving(program) as url, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            for name, path, width in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(sign_in(url, key_of(world, "lena"), now=world.clock()))
                page.goto(f"{url}{path}")
                page.screenshot(path=str(target / f"dashboard-{name}.png"), full_page=True)
                print(f"wrote {target / f'dashboard-{name}.png'}")
            browser.close()
    finally:
        program.close()
        world.lead.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img").resolve())
