"""What today's merges left: a server's log is cleaned at its handlers, where every record
passes (a child logger's, asyncio's), not only on the loggers it names."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

#: a client's text in a log record: clear the screen, a forged line, an OSC 8 link
_CLIENT = "/x\\x1b[2J\\nWARNING forged line \\x1b]8;;file:///etc/passwd\\x07"


def _stderr_of(script: str, tmp_path: Path) -> str:
    """What ``script`` (run in a fresh interpreter: a server's process) writes to stderr."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _shown_as_codes(err: str) -> None:
    assert "\x1b" not in err and "\x07" not in err, repr(err)
    assert "\nWARNING forged line" not in err, err  # the line break forged no line of its own
    lines = [line for line in err.splitlines() if "forged line" in line]
    assert len(lines) == 2, err  # the child logger's record and asyncio's, one line each
    assert all("\\u001b[2J\\u000aWARNING forged line \\u001b]8;;" in line for line in lines), err


def test_the_gateways_log_cleans_a_child_loggers_record_and_asyncios(tmp_path: Path) -> None:
    """The filter sat on ``inhouse.gateway`` only: a record made on ``inhouse.gateway.edge`` or
    ``asyncio`` (an exception quoting a client's path) reached stderr with its escapes and
    line breaks. The gateway's serve path cleans whatever its handlers write."""
    err = _stderr_of(
        f"""
        import logging
        from pathlib import Path

        import inhouse.gateway.server as server

        def build(folder, settings=None, clock=None):
            logging.getLogger("inhouse.gateway.edge").warning("bad path %s", "{_CLIENT}")
            logging.getLogger("asyncio").error("{_CLIENT}")
            raise SystemExit(0)

        server.build_gateway = build  # the records a server writes, then no server
        server._serve_one(Path("."), None, None)
        """,
        tmp_path,
    )
    _shown_as_codes(err)


def test_the_dashboards_log_cleans_a_child_loggers_record_and_asyncios(tmp_path: Path) -> None:
    """``inhouse web serve`` cleaned uvicorn's two loggers and ``inhouse.web`` by name; a
    record of a child logger (``inhouse.web.pages``) or of ``asyncio`` passed uncleaned.
    uvicorn's own records keep being cleaned at its handlers."""
    err = _stderr_of(
        f"""
        import logging
        import socket
        from pathlib import Path

        import uvicorn
        import inhouse.location, inhouse.web.app
        from inhouse.cli.web import serve

        def run(self, sockets=None):
            logging.getLogger("inhouse.web.pages").warning("bad path %s", "{_CLIENT}")
            logging.getLogger("asyncio").error("{_CLIENT}")
            logging.getLogger("uvicorn.error").error("uvicorn: %s", "\\x1b[2J")

        uvicorn.Server.run = run  # the records a server writes, then no server
        inhouse.location.find_program = lambda program=None: Path(".")
        inhouse.web.app.create_app = lambda folder, session_minutes: object()
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        serve(host="127.0.0.1", port=port, session_minutes=120, program=None)  # its stderr
        """,
        tmp_path,
    )
    _shown_as_codes(err)
    assert "uvicorn: \\u001b[2J" in err, err
