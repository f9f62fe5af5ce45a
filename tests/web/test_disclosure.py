"""What the dashboard tells whoever asks, before and after signing in: an unexpected error's
text stays in the server's log, and the cost of a full audit verify is paid once per log."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.web import pages
from inhouse.web.app import create_app
from tests.conftest import Clock
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
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    with client, signed_in(client, world, "bob"), caplog.at_level(logging.ERROR, "inhouse.web"):
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


def test_reloading_a_full_verify_walks_the_log_once_per_head_and_while_fresh(
    client: TestClient, world: Pilot, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/audit?verify=full`` walked and folded the whole log on every request, by anyone
    signed in: reloading it loaded the server as much as they liked. A walk's report answers
    again for the same head for five minutes (saying when it ran); a new event, or the time
    passing, walks again, and a log tampered with is still caught then."""
    from inhouse.program import audit
    from inhouse.program.events import EventKind

    walks: list[int] = []
    walk = audit.verify_chain

    def counted(*args: Any, **kwargs: Any) -> audit.AuditReport:
        walks.append(1)
        return walk(*args, **kwargs)

    monkeypatch.setattr(audit, "verify_chain", counted)
    with signed_in(client, world, "bob"):
        first = client.get("/audit.json?verify=full").json()["verification"]
        for _ in range(20):
            again = client.get("/audit.json?verify=full").json()["verification"]
            assert again == first
        assert "a walk from the first event, at" in client.get("/audit?verify=full").text
        assert len(walks) == 1 and first["how"] == "full" and first["ok"], first
        clock.advance(minutes=5)
        later = client.get("/audit.json?verify=full").json()["verification"]
        assert len(walks) == 2 and later["at"] != first["at"]
        world.lead._append(EventKind.PLAY_EXITED, "lena", {"play": "prove-value"})
        bad = client.get("/audit.json?verify=full").json()["verification"]
        assert len(walks) == 3 and not bad["ok"], bad
        assert client.get("/audit.json").json()["verification"]["how"] == "fold"
