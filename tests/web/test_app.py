"""The dashboard in-process (its ASGI app through httpx): sign-in with the person's own key, the
pages and their JSON twins, the one error shape; actions recorded as the signed-in person's,
with the delegation that proves it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.state import ProgramState
from inhouse.web.login import sign_in
from tests.pilot.gateway_days import Pilot
from tests.web.world import approve_waiting, challenge, key_of, signed_in

PAGES = ["/", "/plays/1", "/plays/prove-value", "/pilot", "/prompts", "/support", "/governance",
         "/indicators", "/audit", "/audit?verify=full"]  # fmt: skip


def _twin(path: str) -> str:
    base, _, query = path.partition("?")
    twin = "/index.json" if base == "/" else f"{base}.json"
    return twin + (f"?{query}" if query else "")


def test_every_page_and_its_json_twin_render_for_a_signed_in_person(
    client: TestClient, world: Pilot
) -> None:
    with signed_in(client, world, "lena"):
        for path in PAGES:
            page = client.get(path)
            assert page.status_code == 200, (path, page.text[:500])
            assert page.headers["content-type"].startswith("text/html")
            assert "Signed in as <strong>lena</strong>" in page.text
            twin = client.get(_twin(path))
            assert twin.status_code == 200, (path, twin.text[:500])
            data = twin.json()
            assert data["viewer"]["name"] == "lena" and data["page"]
    board = client.get("/index.json").json()
    assert [p["number"] for p in board["status"]["plays"]] == [1, 2, 3, 4, 5, 6]
    steps = {s["person"]: s["steps"] for s in board["next_steps"]}
    assert steps["lena"][0]["text"].startswith("accept or reject the handoff of play 1")
    # ...naming the commands, as `inhouse status` prints the same steps with no link to follow
    assert "(`inhouse handoff accept 1` or `inhouse handoff reject 1`)" in steps["lena"][0]["text"]


def test_sign_in_needs_an_enrolled_key_and_the_link_works_once(
    client: TestClient, world: Pilot
) -> None:
    from inhouse.errors import NotAllowed
    from inhouse.identity import SigningKey

    with pytest.raises(NotAllowed, match="no key enrolled in this program made that signature"):
        sign_in(str(client.base_url), SigningKey.generate(), client=client, now=world.clock())
    link = sign_in(str(client.base_url), key_of(world, "bob"), client=client, now=world.clock())
    assert client.get(link).status_code == 303
    again = client.get(link)
    assert again.status_code == 403 and "used, has expired" in again.text
    assert client.get("/index.json").json()["viewer"]["name"] == "bob"


def test_a_signature_by_another_key_than_the_challenge_named_is_refused(
    client: TestClient, world: Pilot
) -> None:
    from inhouse.identity.delegation import sign_delegation

    statement = challenge(client, key_of(world, "bob"))
    forged = sign_delegation(key_of(world, "bob"), statement)
    forged["signature"] = key_of(world, "pia").sign(b"anything")  # pia signs bob's sign-in
    reply = client.post("/login/delegation.json", json=forged)
    assert reply.status_code == 403
    assert "does not carry a valid signature" in reply.json()["error"]["message"]
    # a longer session than the server proposed, honestly signed: not what it proposed
    statement = challenge(client, key_of(world, "bob"))
    altered = dict(statement, expires=statement["expires"].replace("T11:", "T12:"))
    assert altered != statement
    reply = client.post("/login/delegation.json",
                        json=sign_delegation(key_of(world, "bob"), altered))  # fmt: skip
    assert reply.status_code == 403
    assert "not the one this server proposed" in reply.json()["error"]["message"]


def test_the_receiver_accepts_the_handoff_and_the_event_proves_it_was_her(
    client: TestClient, world: Pilot, served: Program
) -> None:
    with signed_in(client, world, "lena"):
        page = client.get("/plays/1")
        assert "Accept the handoff" in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        waiting = client.post("/plays/1/handoff", data={"csrf": csrf, "decision": "accept",
                                                         "comment": "I build on it"})  # fmt: skip
        assert served.state().handoffs["prove-value"].status == "offered"  # not yet: her key
        assert approve_waiting(client, world, "lena", waiting) == "/plays/1"
    fresh = Program.open(world.folder, clock=world.clock)
    handoff = fresh.state().handoffs["prove-value"]
    assert (handoff.status, handoff.decided_by, handoff.decision_comment) == (
        "accepted", "lena", "I build on it")  # fmt: skip
    event = [e for e in fresh.events() if e.kind == "handoff.accepted"][-1]
    statement = event.payload["delegation"]["statement"]
    assert statement["key_id"] == world.lead.key.key_id and event.signer != world.lead.key.key_id
    assert event.payload["approval"]["statement"]["key_id"] == world.lead.key.key_id
    assert verify_chain(fresh.store, lead_key=fresh.settings.lead_key).ok
    audit = client.get("/audit.json").json()
    top = audit["events"][0]
    assert top["signer"]["person"] == "lena" and top["signer"]["session"] is True
    fresh.close()


def test_someone_else_than_the_receiver_is_refused(client: TestClient, world: Pilot) -> None:
    with signed_in(client, world, "bob"):
        page = client.get("/plays/1")
        assert "Accept the handoff" not in page.text and "Only lena, the receiver" in page.text
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        refused = client.post("/plays/1/handoff", data={"csrf": csrf, "decision": "accept"})
        assert refused.status_code == 403
        assert "only the receiver, lena, can accept" in refused.text
        twin = client.post("/plays/1/handoff", data={"csrf": csrf, "decision": "accept"},
                           headers={"accept": "application/json"})  # fmt: skip
        assert twin.json()["error"]["type"] == "permission_error"
    assert world.lead.state().handoffs["prove-value"].status == "offered"


def test_a_member_answers_the_survey_in_their_own_name(client: TestClient, world: Pilot) -> None:
    with signed_in(client, world, "bob"):
        page = client.get("/pilot")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        waiting = client.post("/pilot/survey", data={"csrf": csrf, "answer": "very",
                                                      "benefit": "faster triage"})  # fmt: skip
        assert client.get("/pilot.json").json()["survey"]["mine"] is None
        assert approve_waiting(client, world, "bob", waiting) == "/pilot#survey"
        mine = client.get("/pilot.json").json()["survey"]["mine"]
        assert mine["answer"] == "very" and mine["person"] == "bob"
    fact = [f for f in world.lead.state().facts if f.kind == "survey.response"][-1]
    assert (fact.by, fact.signed) == ("bob", True)


def test_a_ticket_is_opened_and_resolved_and_its_title_is_text(
    client: TestClient, world: Pilot
) -> None:
    title = "<script>alert(1)</script>"
    with signed_in(client, world, "pia"):
        csrf = client.get("/support").text.split('name="csrf" value="')[1].split('"')[0]
        opened = client.post("/support/tickets", data={"csrf": csrf, "title": title,
                             "category": "it-broke", "component": "gateway"})  # fmt: skip
        assert opened.status_code == 303
        where = opened.headers["location"]
        page = client.get(where)
        assert title not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        done = client.post(f"{where}/resolve", data={"csrf": csrf, "note": "restarted"})
        assert done.status_code == 303
        ticket = client.get(f"{where}.json").json()["ticket"]
        assert (ticket["state"], ticket["resolved_by"], ticket["opened_by"]) == (
            "resolved", "pia", "pia")  # fmt: skip


def test_unknown_pages_answer_the_one_error_shape(client: TestClient, world: Pilot) -> None:
    with signed_in(client, world, "lena"):
        for path in ("/plays/99.json", "/facts/999999.json", "/support/tickets/T-404.json",
                     "/nowhere.json"):  # fmt: skip
            reply = client.get(path)
            assert reply.status_code == 404, path
            error = reply.json()["error"]
            assert set(error) == {"status", "type", "code", "message", "missing"}
        assert client.get("/audit.json?before=abc").status_code == 400


def test_every_form_answers_bad_input_in_the_one_error_shape_and_stores_nothing(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """Each form, posted by an API client with a missing field, a wrong value or an unknown
    name: the one JSON error shape, a status that says what kind of fault, a message naming
    it, and nothing appended to the log. An unknown ticket is a 404 as its page is (it was a
    400), and a JSON body is refused as what it is (it was refused as a missing CSRF token)."""
    json_ = {"accept": "application/json"}
    with signed_in(client, world, "pia"):
        csrf = client.get("/support").text.split('name="csrf" value="')[1].split('"')[0]
        opened = client.post("/support/tickets", data={"csrf": csrf, "title": "Empty answers",
                             "category": "it-broke", "component": "gateway"})  # fmt: skip
        assert opened.status_code == 303, opened.text
        head = served.state().head_seq
        cases = [
            ("/plays/1/handoff", {}, 400, "the form needs decision"),
            ("/plays/1/handoff", {"decision": "maybe"}, 400, "accept or reject, not 'maybe'"),
            ("/plays/99/handoff", {"decision": "accept"}, 404, "no play '99'"),
            ("/plays/1/handoff", {"decision": "accept"}, 403, "only the receiver, lena"),
            ("/pilot/survey", {}, 400, "the form needs answer"),
            ("/pilot/survey", {"answer": "thrilled"}, 400, "no answer 'thrilled'"),
            ("/support/tickets", {"category": "it-broke", "component": "gateway"}, 400,
             "the form needs title"),
            ("/support/tickets", {"title": "x", "category": "meh", "component": "gateway"}, 400,
             "no ticket category 'meh'"),
            ("/support/tickets", {"title": "x", "category": "it-broke", "component": "gw"}, 400,
             "no component 'gw'"),
            ("/support/tickets/T-404/comment", {"text": "x"}, 404, "no ticket 'T-404'"),
            ("/support/tickets/T-1/zap", {"text": "x"}, 404, "no ticket step 'zap'"),
            ("/support/tickets/T-1/assign", {"person": "bob"}, 403, "only the queue's owner"),
            ("/support/tickets/T-1/resolve", {}, 400, "the form needs note"),
            ("/support/tickets/T-1/reopen", {"reason": "x"}, 400, "only a resolved ticket"),
        ]  # fmt: skip
        for path, fields, status, says in cases:
            reply = client.post(path, data={"csrf": csrf, **fields}, headers=json_)
            assert reply.status_code == status, (path, fields, reply.text)
            error = reply.json()["error"]
            assert set(error) == {"status", "type", "code", "message", "missing"}
            assert error["status"] == status and says in error["message"], (path, error)
            if status == 404:  # as a page answers an unknown name
                assert (error["type"], error["code"]) == ("invalid_request_error", "not_found")
        sent_json = client.post("/support/tickets/T-1/comment", headers=json_,
                                json={"csrf": csrf, "text": "x"})  # fmt: skip
        assert sent_json.status_code == 400, sent_json.text
        assert "application/x-www-form-urlencoded" in sent_json.json()["error"]["message"]
        opened_as_page = client.get("/support/tickets/T-1/resolve", headers=json_)
        assert opened_as_page.status_code == 405
        assert "it takes POST only (a form on its page sends it)" in opened_as_page.text
    assert served.state().head_seq == head


def test_the_indicators_page_names_its_period_and_says_why_a_figure_is_missing(
    client: TestClient, world: Pilot
) -> None:
    """It printed the period as a Python dict ("Period {'label': …}") and a missing figure as
    "None ratio" with no reason; it now reads as `inhouse indicators report` prints it, and
    offers the other periods it takes (only by typing a URL before)."""
    with signed_in(client, world, "lena"):
        page = client.get("/indicators").text
        assert "Period 2026-10 (2026-10-01 to 2026-10-31), beside 2026-09." in page
        assert "{&#39;label&#39;" not in page and "None ratio" not in page
        assert "<td>n/a: nobody was active in the 30 days" in page  # stickiness, and why
        assert '<input id="period" name="period" value="2026-10">' in page
        november = client.get("/indicators?period=2026-11").text
        assert "Period 2026-11 (2026-11-01 to 2026-11-30), beside 2026-10 (partial" in november


def test_the_pilot_page_counts_each_members_steps_and_names_a_track_that_does_not_load(
    client: TestClient, world: Pilot
) -> None:
    """A member whose track file does not load (deleted, or broken after they were added)
    showed "0 of 0 steps", as if the track asked nothing; the page now says the track does not
    load and why, as ``inhouse pilot list`` does. The others' counts are untouched."""
    with signed_in(client, world, "bob"):
        page = client.get("/pilot").text
        # bob's support, pia's legal: their first request is the gateway's signed use
        assert "1 of 2 steps" in page and "1 of 1 step (done)<" in page
        (world.folder / "enablement" / "legal.yaml").unlink()
        page = client.get("/pilot").text
        assert "0 of 0 steps" not in page and "1 of 2 steps" in page
        assert "its track does not load</strong>: no track &#39;legal&#39;: " in page
        assert "enablement/legal.yaml does not exist" in page
        pia = next(m for m in client.get("/pilot.json").json()["roster"]["members"]
                   if m["person"] == "pia")  # fmt: skip
        assert "enablement/legal.yaml does not exist" in pia["error"]


def test_the_program_page_builds_the_checks_context_once_per_request(
    world: Pilot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The board and each person's next steps (the open survey's answers, the gateway's days
    to confirm) are judged at one moment: the checks' context, the costliest part of the page
    on a long log, is built once per request (a play's page too, for the play and its facts).
    The dashboard's program is shared between requests, so its clock ticks on as a real one
    does (each read a microsecond later: a ticking stand-in for the machine's clock); each step
    read it anew and rebuilt it, up to eleven times a request."""
    from datetime import datetime, timedelta
    from itertools import count

    import inhouse.program.counting as counting
    from inhouse.support.queue import open_ticket
    from inhouse.web.app import create_app
    from tests.pilot.gateway_days import Use

    world.confirms = False  # bob's use on the 16th awaits his word
    world.use([Use("bob", "2026-11-16T10:00")])
    world.clock.now += timedelta(hours=1)
    # and the support queue's steps, which read the checks' context too
    open_ticket(world.people["pia"], "Summaries are empty", category="it-broke",
                component="gateway")  # fmt: skip
    ticks = count()

    def ticking() -> datetime:
        return world.clock.now + timedelta(microseconds=next(ticks))

    built: list[datetime] = []
    real = counting._build

    def counted(state: ProgramState, now: datetime) -> counting.CheckContext:
        built.append(now)
        return real(state, now)

    served = Program.open(world.folder, clock=ticking)
    try:
        app = create_app(program=served)
        with TestClient(app, follow_redirects=False) as client, signed_in(client, world, "lena"):
            monkeypatch.setattr(counting, "_build", counted)
            for path in ("/index.json", "/", "/plays/1.json"):
                built.clear()
                page = client.get(path)
                assert page.status_code == 200, page.text[:500]
                assert len(built) == 1, (path, built)
            board = client.get("/index.json").json()
    finally:
        served.close()
    steps = {s["person"]: [step["text"] for step in s["steps"]] for s in board["next_steps"]}
    # both steps that read the checks' context were asked for, at the board's moment
    assert any(t.startswith("answer the survey ellis-1") for t in steps["bob"]), steps
    assert any("confirm your use of the gateway (2026-11-16)" in t for t in steps["bob"]), steps
    assert any(t.startswith("assign T-1: Summaries are empty") for t in steps["lena"]), steps


def test_the_header_and_the_people_table_name_roles_in_words(
    client: TestClient, world: Pilot
) -> None:
    """lena leads and owns play 1; bob is a pilot member: the page says "rollout lead" and
    "pilot user", as `inhouse status` words a play's owner, where it printed the ids a command
    takes; the JSON twin keeps the ids."""
    with signed_in(client, world, "lena"):
        page = client.get("/").text
        board = client.get("/index.json").json()
    header = page.split("Signed in as", 1)[1].split("</span>", 1)[0]
    assert "rollout lead" in header and "rollout-lead" not in header, header
    people = page.split("<td>bob</td>", 1)[1].split("</tr>", 1)[0]
    assert "<td>pilot user</td>" in people, people
    for role in ("rollout-lead", "play-owner", "pilot-user"):
        assert f">{role}" not in page and f", {role}" not in page
    assert "rollout-lead" in board["viewer"]["roles"]
