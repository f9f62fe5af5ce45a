"""The dashboard in real Chromium: Debian's ``/usr/bin/chromium`` (``scripts/install-chromium.sh``
installs it; ``make test`` runs that), driven by Playwright through ``executable_path`` — never
a browser Playwright downloads. The app is served by uvicorn on loopback in a thread, as
``inhouse web serve`` serves it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn

from inhouse.program import Program
from inhouse.web.app import create_app
from tests.runtimes.standin import free_port

CHROMIUM = Path(os.environ.get("INHOUSE_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def chromium_or_skip() -> Path:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: run scripts/install-chromium.sh (make test does)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@contextmanager
def serving(program: Program) -> Iterator[str]:
    """The dashboard for ``program`` on a loopback port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(create_app(program=program), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
