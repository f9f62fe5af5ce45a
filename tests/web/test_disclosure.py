"""What the dashboard tells whoever asks, before and after signing in: an unexpected error's
text stays in the server's log, and the cost of a full audit verify is paid once per log."""

from __future__ import annotations

import logging
import re

import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.web import pages
from inhouse.web.app import create_app
from tests.pilot.gateway_days import Pilot
from tests.web.world import signed_in

#: what a database error says: the statement it ran, with the values it bound
_SQL = "(psycopg.errors.UndefinedTable) SELECT payload FROM events WHERE person = 'omar'"


def _fails(*_: object, **__: object) -> object:
    raise RuntimeError(_SQL)


def test_an_unexpected_error_shows_an_id_and_logs_its_text_with_it(
    served: Program, world: Pilot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(pages, "audit_page", _fails)
    app = create_app(program=served)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        with signed_in(client, world, "bob"), caplog.at_level(logging.ERROR, "inhouse.web"):
            as_json = client.get("/audit.json")
            as_html = client.get("/audit")
    assert as_json.status_code == 500 and as_html.status_code == 500
    message = as_json.json()["error"]["message"]
    for shown in (message, as_html.text):
        assert "SELECT" not in shown and "RuntimeError" not in shown and "omar" not in shown
    found = re.search(r"error ([0-9a-f]{12})", message)
    assert found is not None, message
    assert re.search(r"error [0-9a-f]{12}", as_html.text), as_html.text
    logged = [r for r in caplog.records if found.group(1) in r.getMessage()]
    assert logged and logged[0].exc_info is not None and _SQL in str(logged[0].exc_info[1])


def test_an_expected_error_keeps_its_message(client: TestClient, world: Pilot) -> None:
    with signed_in(client, world, "bob"):
        reply = client.get("/plays/99.json")
    assert reply.status_code == 404 and "99" in reply.json()["error"]["message"]
