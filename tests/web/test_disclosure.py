"""What the dashboard tells whoever asks, before and after signing in: an unexpected error's
text stays in the server's log, and the cost of a full audit verify is paid once per log."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.web import pages
from inhouse.web.app import create_app
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot
from tests.web.world import key_of, signed_in

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


def test_a_clients_text_in_the_dashboards_log_forges_no_line(
    served: Program, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The path a client asked for, and an exception quoting it, reach the dashboard's log: a
    line break or an escape sequence in them is written out as its code (no forged line, no
    cleared screen), and the traceback's lines are indented under their record."""
    from inhouse.web.signin import SignIns

    def fails(self: SignIns, token: str, **_: object) -> object:
        raise RuntimeError(f"no sign-in {token}")

    monkeypatch.setattr(SignIns, "redeem", fails)
    client = TestClient(create_app(program=served), raise_server_exceptions=False)
    forged = "x%0A2026-12-06 WARNING inhouse.web all clear%1B[2J"
    with client, caplog.at_level(logging.ERROR, "inhouse.web"):
        assert client.get(f"/login/{forged}").status_code == 500
    logged = caplog.text
    (record,) = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert record.getMessage().endswith("all clear\\u001b[2J"), record.getMessage()
    # the exception's own line break stays inside its traceback, indented like the rest of it
    assert "\n  2026-12-06 WARNING" in logged, logged
    assert "\x1b" not in logged and "\\u001b[2J" in logged
    assert not any(line.startswith("2026-12-06") for line in logged.splitlines()), logged


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


def test_a_full_verify_walks_off_the_event_loop_and_once_for_its_askers(
    client: TestClient, world: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full verify walked the whole log inside its handler, on the event loop: every other
    visitor waited for it. It walks on a worker thread now: a page asked for meanwhile is
    answered before the walk ends, and a second asker of the full verify waits for the walk
    running and gets its report (one walk)."""
    from inhouse.program import audit
    from inhouse.web.app import COOKIE

    walking, release = threading.Event(), threading.Event()
    order: list[str] = []
    walk = audit.verify_chain

    def held(*args: Any, **kwargs: Any) -> audit.AuditReport:
        walking.set()
        # only a fail-safe: on the event loop, nothing could release it
        order.append("walked" if release.wait(timeout=15) else "walked, never released")
        return walk(*args, **kwargs)

    monkeypatch.setattr(audit, "verify_chain", held)
    with signed_in(client, world, "bob"):
        cookie = client.cookies[COOKIE]

    async def run() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies={COOKIE: cookie}
        ) as visitor:
            full = asyncio.ensure_future(visitor.get("/audit.json?verify=full"))
            again = asyncio.ensure_future(visitor.get("/audit.json?verify=full"))
            while not walking.is_set():
                await asyncio.sleep(0.01)
            other = await visitor.get("/audit.json")
            assert other.status_code == 200 and other.json()["verification"]["how"] == "fold"
            order.append("another page answered")
            release.set()
            return await full, await again

    first, second = asyncio.run(run())
    assert order == ["another page answered", "walked"], order
    assert first.status_code == second.status_code == 200
    assert first.json()["verification"] == second.json()["verification"]
    assert first.json()["verification"]["how"] == "full" and first.json()["verification"]["ok"]


def test_asking_to_sign_in_tells_nobody_whose_a_key_is(client: TestClient, world: Pilot) -> None:
    """The sign-in challenge answered anyone, signed in or not, the person a key id belongs
    to (and, refusing, that a key id is nobody's). Asking now answers a sign-in request of the
    same shape for any key id, naming nobody; the statement that names the person comes only
    for that key's own signature, and every other signature (another person's key, a key
    nobody enrolled, a request altered) is refused with one answer naming nobody."""
    from inhouse.identity import SigningKey

    bob, pia, stranger = key_of(world, "bob"), key_of(world, "pia"), SigningKey.generate()
    names = {*world.people, "lena"}

    def asked(key_id: str) -> dict[str, str]:
        reply = client.get("/login/challenge.json", params={"key_id": key_id})
        assert reply.status_code == 200, reply.text
        assert set(reply.json()) == {"request"}, reply.text  # no statement: it names the person
        request: dict[str, str] = reply.json()["request"]
        assert "person" not in request and not set(request.values()) & names, request
        return request

    shapes = {key_id: sorted(asked(key_id)) for key_id in (bob.key_id, pia.key_id, stranger.key_id)}
    assert len({tuple(shape) for shape in shapes.values()}) == 1, shapes

    from inhouse.identity.delegation import sign_sign_in_request

    def answer(signed: dict[str, object]) -> tuple[int, str]:
        reply = client.post("/login/challenge.json", json=signed)
        return reply.status_code, reply.text

    bobs = asked(bob.key_id)
    pia_signs_bobs = sign_sign_in_request(pia, {**bobs, "key_id": pia.key_id})
    pia_signs_bobs["request"] = bobs  # pia's signature over bob's request
    refusals = [
        answer(pia_signs_bobs),
        answer(sign_sign_in_request(stranger, asked(stranger.key_id))),
        answer(sign_sign_in_request(bob, {**bobs, "issued": bobs["issued"][:-2] + "9Z"})),
    ]
    assert len({text for _, text in refusals}) == 1, refusals
    status, text = refusals[0]
    assert status == 403 and "does not verify" in text
    assert not any(name in text for name in names), text  # the message is the server's own
    status, text = answer(sign_sign_in_request(bob, bobs))
    assert status == 200 and '"person":"bob"' in text.replace(" ", ""), text


def test_the_cli_signs_a_sign_in_request_for_its_own_key_and_program_only(world: Pilot) -> None:
    """What a dashboard asks the key to sign first is checked as the statement is: another
    key's request, one carrying anything more (an event's fields, a person), or another
    program's is refused, and nothing is signed or sent."""
    import httpx

    from inhouse.errors import IdentityError
    from inhouse.identity.delegation import sign_in_request, sign_sign_in_request
    from inhouse.web.login import sign_in

    bob, pia = key_of(world, "bob"), key_of(world, "pia")
    asked = sign_in_request(program="p", key_id=bob.key_id, nonce="n", issued="2026-11-16")
    with pytest.raises(IdentityError, match="made for someone else"):
        sign_sign_in_request(pia, asked)
    with pytest.raises(IdentityError, match="carries exactly"):
        sign_sign_in_request(bob, {**asked, "person": "bob"})
    with pytest.raises(IdentityError, match="not a sign-in request"):
        sign_sign_in_request(bob, {**asked, "type": "inhouse-session-delegation-v1"})
    posted: list[bytes] = []

    def dashboard(request: httpx.Request) -> httpx.Response:  # a stand-in: its answers are ours
        if request.method == "POST":
            posted.append(request.content)
        return httpx.Response(200, json={"request": asked})

    with (
        httpx.Client(transport=httpx.MockTransport(dashboard)) as client,
        pytest.raises(IdentityError, match="runs another program"),
    ):
        sign_in("https://dash.example", bob, program_id="q", client=client, now=world.clock())
    assert posted == []


def test_a_full_verify_names_a_log_that_is_not_the_program_inhouse_toml_names(
    served: Program, world: Pilot
) -> None:
    """The dashboard's full verify checks event 1 against ``program_id`` in ``inhouse.toml``
    (in git), as `inhouse audit verify` does: a log its lead made anew with her own key, put
    where the program's was, verifies link by link, so the lead key alone said ok. Here the
    folder's inhouse.toml names another program than the log's. The dashboard's own fold
    checks it too: such a log is nobody's program, so nobody signs in to read it as this one."""
    from inhouse.errors import NotAllowed
    from inhouse.program.audit import SharedVerify

    served.settings = served.settings.model_copy(update={"program_id": "f" * 64})
    client = TestClient(create_app(program=served), follow_redirects=False)
    with (
        client,
        pytest.raises(NotAllowed, match="does not verify"),
        signed_in(client, world, "bob"),
    ):
        pass
    assert served.using(key_of(world, "bob")).state().tampered is not None
    verifies = SharedVerify(served.store, lead_key=served.settings.lead_key,
                            clock=world.clock, program_id=served.settings.program_id)  # fmt: skip
    found, _ = verifies.report((0, ""))  # as the dashboard's `/audit?verify=full` asks it
    assert not found.ok and found.first_bad_seq == 1
    assert "is not the first event of the program inhouse.toml names" in (found.problem or "")
