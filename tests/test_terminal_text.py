"""Text a server answers reaches the person's terminal as exactly what it is: a dashboard's
error, a gateway's health. A hostile server's escape sequences (clear the screen, move the
cursor, fake a prompt) and Rich markup (a ``[link=…]`` the terminal would open) are written
out, never acted on."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.identity.keys import create_key

#: what a hostile server says: clear the screen, home the cursor, a fake all-clear and prompt,
#: an OSC 8 hyperlink, a bidirectional override, and Rich markup for a link to a local file
HOSTILE = (
    "\x1b[2J\x1b[H all good\r\n$ \x1b]8;;file:///etc/passwd\x07here\x1b]8;;\x07 \u202eevil "
    "[link=file:///etc/passwd]open me[/link] [/bold]"
)


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/healthz"):
            status, body = 200, _health()
        else:  # the dashboard's sign-in, refused
            status, body = 403, {"error": {"status": 403, "message": HOSTILE}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _health() -> dict[str, Any]:
    return {
        "status": HOSTILE,
        "keys": 1,
        "keys_refused": HOSTILE,
        "models": {
            HOSTILE: {
                "digest": "sha256:" + "0" * 64,
                "nodes": [{"runtime": HOSTILE, "healthy": True}],
                "problems": [HOSTILE],
            }
        },
        "usage": {"written": 1, "backlog": 0, "failing": True},
    }


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _shown_as_text(out: str) -> None:
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in out, repr(out)
    assert "\\u001b[2J" in out and "\\u202eevil" in out
    words = " ".join(out.split())  # as the console wrapped it
    assert "[link=file:///etc/passwd]open me[/link] [/bold]" in words


def test_a_dashboards_error_is_printed_as_text(hostile: str, _isolated: Path) -> None:
    key = _isolated / "me.key"
    create_key(key)
    # a program folder of its own: `web login` checks the dashboard's program against it
    (_isolated / "inhouse.toml").write_text(
        '[program]\nname = "Acme"\nlead = "lena"\nprogram_id = "p_acme"\n', encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["web", "login", "--print", "--url", hostile], env={"INHOUSE_KEY": str(key)}
    )
    out = result.stdout + result.stderr
    assert result.exit_code != 0 and "the dashboard refused the challenge (403)" in out, out
    _shown_as_text(out)


def test_a_gateways_health_is_printed_as_text(hostile: str) -> None:
    result = CliRunner().invoke(app, ["gateway", "status", "--url", hostile])
    out = result.stdout + result.stderr
    assert result.exit_code == 0, out
    _shown_as_text(out)
    # the status, the refused keys' count, a model, its node, a problem
    assert " ".join(out.split()).count("[link=file:///etc/passwd]open me[/link]") == 5, out
    assert "writing to the database FAILS" in out


def test_every_string_a_command_prints_is_shown_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    """The consoles themselves write control characters out, whatever prints through them:
    a table's cells (an identity provider's subject in `inhouse sign-in list`), a line
    printed without markup, an error; the lines a command writes itself keep their breaks."""
    from inhouse.cli._common import out_console, print_rows

    print_rows([{"who": HOSTILE}], json=False, columns=("who",), cells=lambda r: (r["who"],))
    out_console().print(HOSTILE, markup=False)
    out_console().print("first line\nsecond line")
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, repr(out)
    assert out.count("\\u001b[2J") == 2 and "first line\nsecond line" in out
    # a cell is data: its brackets are text (a stray closing tag crashed the table)
    assert " ".join(out.split()).count("[link=file:///etc/passwd]open me[/link] [/bold]") == 2


def test_an_access_line_with_a_clients_escapes_still_formats_and_shows_them_as_codes() -> None:
    """uvicorn's access lines are formatted from the record's arguments (client, method, path,
    version, status): the log filter once dropped them when it cleaned a line, so a path with
    an escape in it broke its access line instead of showing it as codes."""
    import io
    import logging

    from uvicorn.logging import AccessFormatter

    from inhouse.terminal import clean_logs

    logger = logging.getLogger("inhouse.test.access")
    logger.propagate = False
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s',
                                         use_colors=False))  # fmt: skip
    logger.addHandler(handler)
    clean_logs("inhouse.test.access")
    try:
        logger.warning('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/x\x1b[2J\ny", "1.1", 200)
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert written == '127.0.0.1:5 - "GET /x\\u001b[2J\\u000ay HTTP/1.1" 200 OK\n', written
