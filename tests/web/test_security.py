"""The dashboard's gates, each with its forgery: every page but sign-in needs a session (an
unknown, expired or ended one is no session); a form without its session's CSRF token, or with
another session's, is refused and records nothing; a ticket title that is a script renders as
text; schemathesis, generating requests from the OpenAPI document, finds no server error."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
import schemathesis
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.support.queue import list_tickets
from inhouse.web.app import COOKIE, create_app
from tests.conftest import Clock
from tests.pilot.gateway_days import Pilot
from tests.web.test_app import PAGES, _twin
from tests.web.world import challenge as challenge_of
from tests.web.world import key_of, signed_in

FORMS = ["/plays/1/handoff", "/pilot/survey", "/support/tickets", "/support/tickets/T-1/comment",
         "/logout"]  # fmt: skip


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def test_every_page_but_sign_in_needs_a_session(client: TestClient) -> None:
    login = client.get("/login")
    assert login.status_code == 200
    assert f"<code>inhouse web login --url {client.base_url}</code>" in login.text
    for path in PAGES:
        page = client.get(path)
        assert (page.status_code, page.headers["location"]) == (303, "/login"), path
        twin = client.get(_twin(path))
        assert twin.status_code == 401, path
        assert twin.json()["error"]["code"] == "no_session"
    client.cookies.set(COOKIE, "made-up")
    assert client.get("/index.json").status_code == 401
    for path in FORMS:
        assert client.post(path, data={"csrf": "x", "title": "t"}).status_code == 401, path


def test_a_session_expires_and_sign_out_ends_it(
    client: TestClient, world: Pilot, clock: Clock
) -> None:
    with signed_in(client, world, "bob"):
        csrf = _csrf(client.get("/").text)
        clock.advance(minutes=119)
        assert client.get("/index.json").status_code == 200
        clock.advance(minutes=2)
        assert client.get("/index.json").status_code == 401
    with signed_in(client, world, "bob"):
        csrf = _csrf(client.get("/").text)
        assert client.post("/logout", data={"csrf": csrf}).status_code == 303
        assert client.get("/index.json").status_code == 401


def test_a_session_whose_key_was_revoked_ends_with_a_reason_and_records_nothing(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """pia's key is revoked while she is signed in: her session's delegation no longer holds.
    Every page answered a bare server error (the error page itself asked who she is, and
    failed again); the session now ends, each page and twin says why and what to run, and a
    form posted with it records nothing."""
    with signed_in(client, world, "pia"):
        csrf = _csrf(client.get("/support").text)
        world.lead.revoke_key(key_of(world, "pia").key_id)
        head = served.state().head_seq
        page = client.get("/")
        assert page.status_code == 401, page.text[:300]
        assert "this sign-in no longer acts for anyone" in page.text
        assert "inhouse web login" in page.text and "Signed in as" not in page.text
        twin = client.get("/index.json")  # the session is over: no session, said plainly
        assert (twin.status_code, twin.json()["error"]["code"]) == (401, "no_session")
        posted = client.post("/support/tickets", headers={"accept": "application/json"},
                             data={"csrf": csrf, "title": "x", "category": "it-broke",
                                   "component": "gateway"})  # fmt: skip
        assert posted.status_code == 401, posted.text
    assert served.state().head_seq == head and served.state().tampered is None
    with signed_in(client, world, "bob"):  # everyone else's sessions go on
        assert client.get("/index.json").status_code == 200


def test_the_session_cookie_is_httponly_strict_and_short_lived(
    client: TestClient, world: Pilot
) -> None:
    from inhouse.web.login import sign_in
    from tests.web.world import key_of

    link = sign_in(str(client.base_url), key_of(world, "bob"), client=client, now=world.clock())
    cookie = client.get(link).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=7200" in cookie


def test_a_form_without_its_csrf_token_is_refused(client: TestClient, world: Pilot) -> None:
    with signed_in(client, world, "pia"):
        good = _csrf(client.get("/support").text)
        form = {"title": "t", "category": "how-to", "component": "gateway"}
        for token in (None, "", "forged", good[:-1] + ("A" if good[-1] != "A" else "B")):
            data = form if token is None else {**form, "csrf": token}
            refused = client.post("/support/tickets", data=data)
            assert refused.status_code == 403 and "CSRF" in refused.text
    # another person's session token does not pass for pia's session either
    other = TestClient(client.app, follow_redirects=False)
    with signed_in(other, world, "bob"):
        bobs = _csrf(other.get("/support").text)
    with signed_in(client, world, "pia"):
        assert client.post("/support/tickets", data={**form, "csrf": bobs}).status_code == 403
    assert list_tickets(world.lead, state="all") == []


def test_a_script_title_renders_as_text_everywhere(client: TestClient, world: Pilot) -> None:
    from inhouse.support.queue import open_ticket

    title = "<script>alert(1)</script>"
    open_ticket(world.people["bob"], title, category="it-broke", component="gateway")
    with signed_in(client, world, "lena"):
        for path in ("/support", "/support/tickets/T-1", "/audit"):
            text = client.get(path).text
            assert "<script>alert" not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/support").text
        assert "script-src 'self'" in client.get("/support").headers["content-security-policy"]


@pytest.fixture
def api(served: Program, world: Pilot) -> schemathesis.BaseSchema:
    app = create_app(program=served)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_schemathesis_finds_no_server_error(api: schemathesis.BaseSchema, world: Pilot) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    # a real session for the generated requests, so they reach the handlers
    client = TestClient(api.app, follow_redirects=False)  # type: ignore[attr-defined]
    with signed_in(client, world, "lena"):
        cookie = client.cookies.get(COOKIE)
    assert cookie
    failures: list[str] = []
    for operation in api.get_all_operations():
        op = operation.ok()
        strategy = op.as_strategy()

        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=strategy, _=st.just(None))
        def run(case: schemathesis.Case, _: None) -> None:
            reply = case.call(headers={"cookie": f"{COOKIE}={cookie}"})
            if reply.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {reply.status_code}"
                                f" {reply.text[:200]}")  # fmt: skip

        run()
    assert failures == []


def test_every_page_says_when_the_log_stops_verifying(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """lena appends play 1's exit with no accepted handoff, around the API: the log stops
    verifying there. Only the board's warnings and the audit page said so; the pilot, support
    or indicators page showed its figures (as of the event before) as if nothing were wrong,
    and a form there is refused. Every page and twin now says so."""
    from inhouse.program.events import EventKind

    with signed_in(client, world, "bob"):
        assert "The event log does not verify" not in client.get("/pilot").text
        assert client.get("/pilot.json").json()["viewer"]["program"]["tampered"] is None
        world.lead._append(EventKind.PLAY_EXITED, "lena", {"play": "prove-value"})
        for path in PAGES:
            page = client.get(path).text
            assert "The event log does not verify at event" in page, path
            assert "a play exits when its receiver accepts its handoff" in page, path
        tampered = client.get("/pilot.json").json()["viewer"]["program"]["tampered"]
        assert tampered["first_bad_seq"] == served.state().head_seq
        refused = client.post("/support/tickets", headers={"accept": "application/json"},
                              data={"csrf": _csrf(client.get("/support").text), "title": "x",
                                    "category": "it-broke", "component": "gateway"})  # fmt: skip
        assert "Nothing more is recorded" in refused.json()["error"]["message"], refused.text
        assert served.state().head_seq == tampered["first_bad_seq"]


def test_a_form_on_a_log_that_stops_verifying_is_refused_not_a_server_error(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """A form posted once the log stops verifying answered 500, "Server error": nothing was
    wrong with the server or the request, the program's log refuses more events. It answers
    409 in the one error shape (code ``log_tampered``), as a page headed "Refused", naming the
    event and ``inhouse audit verify``; nothing is recorded."""
    from inhouse.program.events import EventKind

    with signed_in(client, world, "bob"):
        csrf = _csrf(client.get("/support").text)
        world.lead._append(EventKind.PLAY_EXITED, "lena", {"play": "prove-value"})
        bad = served.state().head_seq
        form = {"csrf": csrf, "title": "x", "category": "it-broke", "component": "gateway"}
        refused = client.post("/support/tickets", data=form,
                              headers={"accept": "application/json"})  # fmt: skip
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (error["type"], error["code"]) == ("refused_error", "log_tampered")
        assert f"does not verify at event {bad}" in error["message"]
        assert "`inhouse audit verify`" in error["message"]
        page = client.post("/support/tickets", data=form)
        assert page.status_code == 409
        assert "<h1>Refused</h1>" in page.text and "Server error" not in page.text
        assert f"does not verify at event {bad}" in page.text
    assert served.state().head_seq == bad and list_tickets(served, state="all") == []


def test_challenges_nobody_signs_lock_nobody_out(client: TestClient, world: Pilot) -> None:
    """Asking for a sign-in challenge needs no signature, only an enrolled key's id (the audit
    page shows them; any page bob visits can ask from his browser): each was kept two
    minutes, at most 512 at once, so whoever kept asking locked everyone out of signing in
    (429) for as long as they cared to. A challenge is kept nowhere now: however many are
    asked for, bob signs in."""
    key_id = key_of(world, "bob").key_id
    for _ in range(600):
        assert client.get(f"/login/challenge.json?key_id={key_id}").status_code == 200
    with signed_in(client, world, "bob"):
        assert client.get("/index.json").json()["viewer"]["name"] == "bob"


def test_a_challenge_is_signed_in_with_once_on_the_server_that_made_it_while_it_lasts(
    client: TestClient, world: Pilot, served: Program, clock: Clock
) -> None:
    """What the server no longer keeps, it checks: a challenge's nonce is its own (a nonce
    altered, or another server's, is no challenge), it is signed in with once, within two
    minutes, and with a key still enrolled."""
    from inhouse.identity.delegation import sign_delegation

    bob = key_of(world, "bob")

    def challenge(on: TestClient = client) -> dict[str, str]:
        return challenge_of(on, bob)

    def signed(statement: dict[str, str]) -> dict[str, object]:
        return sign_delegation(bob, statement, now=world.clock())

    def refused(statement: dict[str, str], why: str) -> None:
        reply = client.post("/login/delegation.json", json=signed(statement))
        assert reply.status_code == 403 and why in reply.json()["error"]["message"], reply.text

    statement = challenge()
    fresh, mac = statement["nonce"].split(".")
    refused({**statement, "nonce": f"{fresh[::-1]}.{mac}"}, "no sign-in is waiting")
    with TestClient(create_app(program=served), follow_redirects=False) as other:
        refused(challenge(other), "no sign-in is waiting")  # another server's
    first = client.post("/login/delegation.json", json=signed(statement))
    assert first.status_code == 200, first.text
    refused(statement, "no sign-in is waiting")  # the same one again
    late = challenge()
    clock.advance(minutes=2)
    refused(late, "no sign-in is waiting")
    asked = challenge()  # and the key it names is revoked before it comes back signed
    world.lead.revoke_key(bob.key_id)
    refused(asked, f"key {bob.key_id} was revoked since it asked to sign in")


def test_a_sign_in_link_opened_from_another_sites_page_signs_nobody_in(
    client: TestClient, world: Pilot
) -> None:
    """pia signs in with her own key and, instead of opening her link, puts it on a page of her
    own that bob visits (or sends it to him in a web mail): opening it signed bob's browser in
    as pia, over his own session, and what he typed next (a ticket's description) was recorded
    as hers, on her dashboard. A link another site's page opens (the browser says so in
    Sec-Fetch-Site) now signs nobody in and leaves bob's session as it was; opened from the
    address bar or the terminal, as its own person does, it works."""
    from inhouse.web.login import sign_in

    with signed_in(client, world, "bob"):
        bobs = client.cookies.get(COOKIE)
        link = sign_in(str(client.base_url), key_of(world, "pia"), client=client,
                       now=world.clock())  # fmt: skip
        for site in ("cross-site", "same-site"):
            planted = client.get(link, headers={"sec-fetch-site": site})
            assert planted.status_code == 403, planted.text
            assert "nobody was signed in" in planted.text
            assert "set-cookie" not in planted.headers
            assert client.cookies.get(COOKIE) == bobs
            assert client.get("/index.json").json()["viewer"]["name"] == "bob"
    # pia opens her own link herself, in her browser: it says nobody's page started it
    pias = TestClient(client.app, follow_redirects=False)
    opened = pias.get(link, headers={"sec-fetch-site": "none"})
    assert opened.status_code == 303 and COOKIE in opened.headers["set-cookie"]
    assert pias.get("/index.json").json()["viewer"]["name"] == "pia"


def test_a_body_over_the_bound_is_refused_however_it_is_sent(
    client: TestClient, world: Pilot
) -> None:
    """A form was bounded by the length it declared: sent in chunks, with no Content-Length, a
    ticket of any size was read whole and recorded; and the sign-in's and approvals' JSON,
    which anyone may post before signing in, was read whole at any size. Every body is now
    counted as it arrives: past 64 KiB the answer is 413 in the one error shape, and nothing
    is recorded."""

    def chunks(*parts: bytes) -> Iterator[bytes]:
        yield from parts  # a generator: sent chunked, with no Content-Length

    with signed_in(client, world, "pia"):
        csrf = _csrf(client.get("/support").text)
        head = f"csrf={csrf}&title=t&category=how-to&component=gateway&description=".encode()
        form = {"content-type": "application/x-www-form-urlencoded", "accept": "application/json"}
        fits = client.post("/support/tickets", content=chunks(head, b"x" * 1000), headers=form)
        assert fits.status_code == 303, fits.text
        for sent in (chunks(head, b"x" * 40_000, b"x" * 40_000), head + b"x" * 80_000):
            refused = client.post("/support/tickets", content=sent, headers=form)
            assert refused.status_code == 413, refused.text
            assert "at most 65536 bytes" in refused.json()["error"]["message"]
    assert len(list_tickets(world.lead, state="all")) == 1
    statement = b'{"statement": {"nonce": "' + b"a" * 100_000 + b'"}}'
    for path in ("/login/delegation.json", "/approve/anything.json"):
        refused = client.post(path, content=chunks(statement[:50_000], statement[50_000:]))
        assert refused.status_code == 413, (path, refused.text)
        assert refused.json()["error"]["type"] == "invalid_request_error"


def test_a_browser_signed_in_as_one_person_is_not_turned_into_another_by_a_link(
    client: TestClient, world: Pilot
) -> None:
    """pia's link reaches bob through a desktop chat, which opens it in his browser as if he
    had pasted it: his browser, signed in as bob, became pia's, and the session it had stayed
    live beside. A link of someone else than the person signed in now signs nobody in (and
    stays pia's to open); bob's own new link ends the session it replaces."""
    from inhouse.web.login import sign_in

    with signed_in(client, world, "bob"):
        old = client.cookies.get(COOKIE)
        link = sign_in(str(client.base_url), key_of(world, "pia"), client=client,
                       now=world.clock())  # fmt: skip
        handed = client.get(link)
        assert handed.status_code == 403, handed.text
        assert "this browser is signed in as bob" in handed.text
        assert "set-cookie" not in handed.headers
        assert client.get("/index.json").json()["viewer"]["name"] == "bob"
    pias = TestClient(client.app, follow_redirects=False)
    assert pias.get(link).status_code == 303  # still hers to open, once
    assert pias.get("/index.json").json()["viewer"]["name"] == "pia"
    # his own new link, in the browser signed in as him
    own = sign_in(str(client.base_url), key_of(world, "bob"), client=client, now=world.clock())
    assert client.get(own).status_code == 303
    assert client.cookies.get(COOKIE) != old
    assert client.get("/index.json").json()["viewer"]["name"] == "bob"
    stale = TestClient(client.app, follow_redirects=False, cookies={COOKIE: str(old)})
    assert stale.get("/index.json").status_code == 401  # the session it replaced ended


@pytest.mark.parametrize(
    ("host", "warned"),
    [("0.0.0.0", True), ("10.0.0.5", True), ("::", True), ("dash.example.org", True),
     ("127.0.0.1", False), ("::1", False), ("localhost", False)],
)  # fmt: skip
def test_serving_plain_http_beyond_this_machine_is_warned_of(
    world: Pilot, monkeypatch: pytest.MonkeyPatch, host: str, warned: bool
) -> None:
    """`inhouse web serve --host 0.0.0.0` served plain http to the network without a word:
    sign-in links and session cookies cross it in clear, and a browser says which site opened
    a link only over https (or on this machine), so a planted link is not told apart. Serving
    beyond this machine now says so, and to put it behind https."""
    import socket

    import uvicorn
    from typer.testing import CliRunner

    from inhouse import gctuning
    from inhouse.cli.app import app
    from inhouse.web import app as web

    served: list[str] = []
    # nothing is served, nor opened, nor tuned for a long-running server in this process (nor
    # bound: most of these addresses are not this machine's)
    monkeypatch.setattr("inhouse.cli.web._listen", lambda host, port: socket.socket())
    monkeypatch.setattr(
        uvicorn.Server, "run", lambda self, sockets: served.append(self.config.host)
    )
    monkeypatch.setattr(web, "create_app", lambda folder, **_: None)
    monkeypatch.setattr(gctuning, "for_a_server", lambda: None)
    result = CliRunner().invoke(app, ["web", "serve", "--host", host, "--program",
                                      str(world.folder)])  # fmt: skip
    assert result.exit_code == 0 and served == [host], result.output
    said = " ".join(result.stderr.split())
    assert ("serves plain http beyond this machine" in said) is warned, said
    assert ("behind an https proxy" in said) is warned


def test_serving_on_a_port_already_taken_says_so_and_never_claims_to_serve(
    world: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inhouse web serve` on a port another server listens on printed "inhouse web … at
    http://…", then uvicorn's bind error: whoever read the first line went to a dashboard that
    was not there (or another server). The port is bound first; taken, it is refused by name,
    and nothing says it serves."""
    import socket

    import uvicorn
    from typer.testing import CliRunner

    from inhouse import gctuning
    from inhouse.cli.app import app

    served: list[int] = []
    monkeypatch.setattr(
        uvicorn.Server,
        "run",
        lambda self, sockets: served.extend(s.getsockname()[1] for s in sockets),
    )
    monkeypatch.setattr(gctuning, "for_a_server", lambda: None)
    serve = ["web", "serve", "--program", str(world.folder), "--port"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(app, [*serve, str(port)])
        assert result.exit_code == 2, result.output
        said = " ".join(result.output.split())
        assert f"cannot serve the dashboard at 127.0.0.1:{port}: Address already in use" in said
        assert "stop it, or give another --port" in said
        assert "inhouse web for" not in said and served == []
    # once it is free, the dashboard listens on that port and says so
    result = CliRunner().invoke(app, [*serve, str(port)])
    assert result.exit_code == 0, result.output
    assert f"at http://127.0.0.1:{port}/" in " ".join(result.stdout.split()) and served == [port]


@pytest.mark.parametrize(
    "answered",
    ["file:///home/bob/.config/inhouse/id_ed25519", "ms-settings:privacy",
     "javascript:alert(1)//login/" + "t" * 43, "https://pias-page.example/other/" + "t" * 43],
)  # fmt: skip
def test_sign_in_opens_only_the_dashboards_own_link(world: Pilot, answered: str) -> None:
    """`inhouse web login` opened whatever link the dashboard answered, in the browser or
    through the system's handler for its scheme: a dashboard run by a colleague (or anyone
    bob was asked to sign in to) could have bob's machine open a file, another site's page or
    an application. Only the dashboard's own `/login/TOKEN`, at the address bob reached it at
    (whatever host the link names), is opened now; anything else is refused and nothing is
    opened."""
    import httpx

    from inhouse.errors import IdentityError
    from inhouse.identity import SigningKey
    from inhouse.identity.delegation import delegation_statement
    from inhouse.web.login import sign_in

    bob = key_of(world, "bob")
    now = world.clock()

    def dashboard(request: httpx.Request) -> httpx.Response:  # a stand-in: its answers are ours
        if request.url.path == "/login/challenge.json":
            statement = delegation_statement(
                program="p", person="bob", key_id=bob.key_id,
                session_key=SigningKey.generate().public_key, nonce="n", issued=now,
                expires=now + timedelta(hours=1),
            )  # fmt: skip
            return httpx.Response(200, json={"statement": statement})
        link = "https://pias-page.example/login/" + "t" * 43 if answered == "own" else answered
        return httpx.Response(200, json={"link": link})

    with httpx.Client(transport=httpx.MockTransport(dashboard)) as client:
        with pytest.raises(IdentityError, match="not a sign-in link of its own"):
            sign_in("https://dash.example", bob, client=client, now=now)
        answered = "own"  # a sign-in link's path: opened at the address bob named, only
        link = sign_in("https://dash.example", bob, client=client, now=now)
    assert link == "https://dash.example/login/" + "t" * 43


def test_one_key_signing_in_in_a_loop_keeps_a_few_sessions(
    client: TestClient, world: Pilot
) -> None:
    """Each sign-in's session was kept until it expired (two hours): one person's key signing
    in in a loop, never sending the cookie back, filled the server's memory with sessions. A
    person keeps their latest eight; the older ones end, and nobody else's do."""
    from inhouse.web.login import sign_in

    pias = TestClient(client.app, follow_redirects=False)
    with signed_in(pias, world, "pia"):
        assert pias.get("/index.json").status_code == 200
    sessions = []
    for _ in range(20):
        link = sign_in(str(client.base_url), key_of(world, "bob"), client=client,
                       now=world.clock())  # fmt: skip
        client.cookies.delete(COOKIE)  # a fresh browser each time: nothing is replaced
        assert client.get(link).status_code == 303
        sessions.append(client.cookies.get(COOKIE))
    alive = [TestClient(client.app, cookies={COOKIE: str(s)}).get("/index.json").status_code
             for s in sessions]  # fmt: skip
    assert alive == [401] * 12 + [200] * 8
    assert pias.get("/index.json").json()["viewer"]["name"] == "pia"


def test_one_key_asking_for_links_in_a_loop_keeps_a_few_waiting(
    client: TestClient, world: Pilot
) -> None:
    """Each sign-in's one-time link was kept until it expired: one person's key completing
    sign-ins in a loop and never opening the links filled the server's memory with them (each
    holds a session key and the signed statement). A person's latest eight wait; the older
    ones are gone, and nobody else's."""
    from inhouse.web.login import sign_in

    pias = sign_in(str(client.base_url), key_of(world, "pia"), client=client, now=world.clock())
    links = [sign_in(str(client.base_url), key_of(world, "bob"), client=client,
                     now=world.clock()) for _ in range(20)]  # fmt: skip
    opened = []
    for link in links:
        client.cookies.delete(COOKIE)  # a fresh browser each time: nothing is replaced
        opened.append(client.get(link).status_code)
    assert opened[-8:] == [303] * 8 and 303 not in opened[:12], opened
    client.cookies.delete(COOKIE)
    assert client.get(pias).status_code == 303  # pia's link, asked first, still waits
