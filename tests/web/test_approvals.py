"""A decision made in the dashboard waits for its person's own key (``inhouse web approve``):
the host holds the session's key, so a survey answer or a handoff decision the session alone
signs would be the host's word. Each refusal here leaves nothing recorded."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from inhouse.errors import IdentityError, NotAllowed
from inhouse.identity.approval import sign_approval
from inhouse.program import Program
from inhouse.program.counting import build_context
from inhouse.program.events import EventKind, append, read_events
from inhouse.web.login import approve
from tests.pilot.gateway_days import Pilot
from tests.web.world import approve_waiting, key_of, signed_in


def _answer(client: TestClient) -> str:
    """bob answers the survey in the dashboard; returns the code it waits under."""
    csrf = client.get("/pilot").text.split('name="csrf" value="')[1].split('"')[0]
    waiting = client.post("/pilot/survey", data={"csrf": csrf, "answer": "very"})
    assert waiting.status_code == 303, waiting.text
    return waiting.headers["location"].rsplit("/", 1)[1]


def _answers(served: Program) -> list[str]:
    return [f.by for f in served.state().facts if f.kind == "survey.response"]


def _yes(lines: list[str]) -> bool:
    return True


def test_another_persons_key_cannot_approve_it(
    client: TestClient, world: Pilot, served: Program
) -> None:
    with signed_in(client, world, "bob"):
        code = _answer(client)
        with pytest.raises(IdentityError, match="made for someone else"):
            approve(str(client.base_url), code, key_of(world, "pia"), confirm=_yes,
                    client=client, now=world.clock())  # fmt: skip
        # pia signs the statement anyway and posts it: not bob's signature, nothing recorded
        body = client.get(f"/approve/{code}.json").json()
        statement = dict(body["statement"], key_id=key_of(world, "pia").key_id)
        forged = sign_approval(key_of(world, "pia"), statement, body["payload"], now=world.clock())
        reply = client.post(f"/approve/{code}.json", json=forged)
        assert reply.status_code == 403 and "not the one this dashboard proposed" in reply.text
        # the statement proposed, with a signature that is not bob's: the program refuses it
        forged = {"statement": body["statement"], "signature": forged["signature"]}
        reply = client.post(f"/approve/{code}.json", json=forged)
        assert reply.status_code == 403
        assert "does not carry a valid signature of bob's key" in reply.json()["error"]["message"]
    assert _answers(served) == []


def test_one_approval_records_one_event(client: TestClient, world: Pilot, served: Program) -> None:
    with signed_in(client, world, "bob"):
        code = _answer(client)
        body = client.get(f"/approve/{code}.json").json()
        signed = sign_approval(key_of(world, "bob"), body["statement"], body["payload"],
                               now=world.clock())  # fmt: skip
        assert client.post(f"/approve/{code}.json", json=signed).status_code == 200
        again = client.post(f"/approve/{code}.json", json=signed)
        assert again.status_code == 403 and "recorded already" in again.text
        page = client.get(f"/approvals/{code}.json").json()
        assert page["recorded"] is True and page["kind"] == EventKind.FACT_RECORDED
    assert _answers(served) == ["bob"]


def test_a_declined_or_late_approval_records_nothing(
    client: TestClient, world: Pilot, served: Program
) -> None:
    with signed_in(client, world, "bob"):
        code = _answer(client)
        with pytest.raises(NotAllowed, match="not approved: nothing signed"):
            approve(str(client.base_url), code, key_of(world, "bob"), confirm=lambda _: False,
                    client=client, now=world.clock())  # fmt: skip
        world.clock.advance(minutes=11)  # the request expires after ten minutes
        with pytest.raises(NotAllowed, match="no decision is waiting under that code"):
            approve(str(client.base_url), code, key_of(world, "bob"), confirm=_yes,
                    client=client, now=world.clock())  # fmt: skip
    assert _answers(served) == []


def test_an_approval_after_the_session_ended_records_nothing(
    client: TestClient, world: Pilot, served: Program
) -> None:
    with signed_in(client, world, "bob"):
        code = _answer(client)
        csrf = client.get("/pilot").text.split('name="csrf" value="')[1].split('"')[0]
        assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    with pytest.raises(NotAllowed, match="session that made this decision has ended"):
        approve(str(client.base_url), code, key_of(world, "bob"), confirm=_yes, client=client,
                now=world.clock())  # fmt: skip
    assert _answers(served) == []


def test_only_its_own_session_sees_the_waiting_page(client: TestClient, world: Pilot) -> None:
    with signed_in(client, world, "bob"):
        code = _answer(client)
    with signed_in(client, world, "pia"):
        reply = client.get(f"/approvals/{code}.json")
        assert reply.status_code == 403 and "another session" in reply.text


def test_an_approval_code_nothing_waits_under_is_not_found(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """A made-up (or expired) code answered 403, as if it named something not yours: it names
    nothing, so it is a 404 in the one error shape, on each route that takes a code."""
    with signed_in(client, world, "bob"):
        for reply in (client.get("/approve/made-up.json"),
                      client.post("/approve/made-up.json", json={"statement": {}}),
                      client.get("/approvals/made-up.json")):  # fmt: skip
            assert reply.status_code == 404, reply.text
            error = reply.json()["error"]
            assert (error["type"], error["code"]) == ("not_found_error", "unknown_approval")
            assert "no decision is waiting under that code" in error["message"]
        page = client.get("/approvals/made-up")
        assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
        code = _answer(client)  # a real one is still found, and only by its own session
        assert client.get(f"/approvals/{code}.json").status_code == 200
    with signed_in(client, world, "pia"):
        assert client.get(f"/approvals/{code}.json").status_code == 403
    assert _answers(served) == []


def _unapproved_answer(world: Pilot, served: Program) -> None:
    """An answer in bob's name the host appends with his session key and no approval (as a log
    from before approvals holds one)."""
    from datetime import timedelta

    from inhouse.identity import SigningKey
    from inhouse.identity.delegation import delegation_statement, sign_delegation
    from inhouse.pilot.survey import current_survey
    from inhouse.program.facts import FACT_KINDS, Provenance

    bob, now = key_of(world, "bob"), world.clock()
    session = SigningKey.generate()
    statement = delegation_statement(
        program=served.state().program_id, person="bob", key_id=bob.key_id,
        session_key=session.public_key, nonce="n-1", issued=now, expires=now + timedelta(hours=2),
    )  # fmt: skip
    answer = {"kind": "survey.response", "version": FACT_KINDS["survey.response"].version,
              "provenance": Provenance.MEASURED.value, "collector": "inhouse survey",
              "payload": {"person": "bob", "would_resist_losing": True, "survey": "ellis-1",
                          "answer": "very", "benefit": ""},
              "delegation": sign_delegation(bob, statement, now=now)}  # fmt: skip
    opened = current_survey(served)
    assert opened is not None
    answer["payload"]["survey"] = opened.name  # type: ignore[index]
    append(served.store, EventKind.FACT_RECORDED, "bob", answer, at=now, key=session)


def test_a_survey_answer_a_session_signed_alone_does_not_count(
    world: Pilot, served: Program
) -> None:
    """An answer in bob's name the host appended with his session key and no approval: kept,
    verified, listed as not counted, saying why."""
    from inhouse.pilot.survey import survey_results

    _unapproved_answer(world, served)
    now = world.clock()
    state = served.state()
    assert state.tampered is None and _answers(served) == ["bob"]
    uncounted = [u for u in build_context(state, now).uncounted if u.fact.by == "bob"]
    assert uncounted and "without bob's own approval" in uncounted[0].why, uncounted
    assert survey_results(served).pilot.counts["very"] == 0


def test_the_waiting_page_is_shown_and_approved_in_the_browser_flow(
    client: TestClient, world: Pilot, served: Program
) -> None:
    with signed_in(client, world, "lena"):
        csrf = client.get("/plays/1").text.split('name="csrf" value="')[1].split('"')[0]
        waiting = client.post("/plays/1/handoff", data={"csrf": csrf, "decision": "reject",
                                                         "comment": "redo the trial"})  # fmt: skip
        page = client.get(waiting.headers["location"])
        assert "REJECT the handoff of play prove-value" in page.text
        assert approve_waiting(client, world, "lena", waiting) == "/plays/1"
        # the audit says whose decision it is: the session's, approved with lena's own key
        # (its approval blob was dumped into the summary, the approval itself unlabelled)
        events = client.get("/audit.json").json()["events"]
        decided = next(e for e in events if e["kind"] == "handoff.rejected")
        assert decided["signer"]["session"] and decided["signer"]["approved"], decided
        assert "approval=" not in decided["summary"]
        assert "(browser session, approved with their own key)" in client.get("/audit").text
    assert served.state().handoffs["prove-value"].status == "rejected"


def _steps(client: TestClient, person: str) -> list[str]:
    board = client.get("/index.json").json()["next_steps"]
    return [step["text"] for row in board if row["person"] == person for step in row["steps"]]


def test_a_members_next_step_is_the_survey_until_their_own_answer_counts(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """The board listed no survey to answer: "nothing waits on anyone" while play 4 waited on
    the pilot's answers. An answer the host signed with bob's session alone does not take it
    off his list; his own approved answer does."""
    from inhouse.pilot.survey import answer_survey

    _unapproved_answer(world, served)
    with signed_in(client, world, "bob"):
        assert any(t.startswith("answer the survey ellis-1") for t in _steps(client, "bob"))
        assert any(t.startswith("answer the survey ellis-1") for t in _steps(client, "pia"))
        assert not any("survey" in t for t in _steps(client, "lena"))  # not a member
        page = client.get("/")
        assert 'href="/pilot#survey"' in page.text
        pilot = client.get("/pilot").text  # no answer counts: nothing is "below" a benchmark
        assert "No answer counts yet" in pilot and "below Ellis" not in pilot
        answer_survey(world.people["pia"], "very")  # her own key, on her own machine
        assert not any("survey" in t for t in _steps(client, "pia"))
        code = _answer(client)  # bob's, through the page, approved with his own key
        assert approve(str(client.base_url), code, key_of(world, "bob"), confirm=_yes,
                       client=client, now=world.clock())["recorded"] is True  # fmt: skip
        assert not any("survey" in t for t in _steps(client, "bob"))
        assert "No answer counts yet" not in client.get("/pilot").text


def test_a_members_survey_step_names_the_command_with_what_it_requires(
    client: TestClient, world: Pilot
) -> None:
    """A team that only follows its next steps: bob's said "answer the survey ellis-1" and no
    command; `inhouse survey answer` alone fails (--answer is required)."""
    with signed_in(client, world, "bob"):
        (step,) = [t for t in _steps(client, "bob") if t.startswith("answer the survey ellis-1")]
    # placeholders only: pasted as written, `very|somewhat|...` would be read by the shell as pipes
    assert "`inhouse survey answer --answer ANSWER --benefit TEXT`" in step
    assert "one of very, somewhat, not or no-longer-use" in step


def test_a_session_posting_decisions_in_a_loop_holds_a_few_at_once(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """Each decision a session makes waits ten minutes for its approval, holding what its form
    sent (up to 64 KiB): a session posting the survey in a loop held every one, until the
    server ran out of memory. A session keeps its latest eight waiting; the older ones are gone
    (404, as an expired one), the latest is approved as ever, and another session's are
    untouched."""
    pias = TestClient(client.app, follow_redirects=False)
    with signed_in(pias, world, "pia"):
        hers = _answer(pias)
    with signed_in(client, world, "bob"):
        codes = [_answer(client) for _ in range(40)]
        assert all(client.get(f"/approve/{c}.json").status_code == 404 for c in codes[:32])
        assert all(client.get(f"/approve/{c}.json").status_code == 200 for c in codes[32:])
        assert approve(str(client.base_url), codes[-1], key_of(world, "bob"), confirm=_yes,
                       client=client, now=world.clock())["recorded"]  # fmt: skip
    assert client.get(f"/approve/{hers}.json").status_code == 200
    assert _answers(served) == ["bob"]


def test_an_approver_who_reads_for_long_is_not_refused(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """An approval's window opens when its person agrees (within five minutes), or the host
    could date the event before they did: bob, who read the event for seven minutes before
    answering, was refused ("the approval opens at ..."). Now the same approval (same event,
    same nonce) is asked for again opening then, and signed without asking again, since it
    records exactly what he read."""
    with signed_in(client, world, "bob"):
        code = _answer(client)
        shown: list[list[str]] = []

        def slow(lines: list[str]) -> bool:
            shown.append(lines)
            world.clock.advance(minutes=7)
            return True

        answer = approve(str(client.base_url), code, key_of(world, "bob"), confirm=slow,
                         client=client, now=world.clock)  # fmt: skip
        assert answer["recorded"] is True and len(shown) == 1
        # the window of the approval recorded opens when he agreed, not when it was shown
        (fact,) = [e for e in read_events(served.store) if e.kind == EventKind.FACT_RECORDED
                   and "approval" in e.payload]  # fmt: skip
        opened = fact.payload["approval"]["statement"]["issued"]
        assert opened == world.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert _answers(served) == ["bob"]


def test_a_slow_approver_is_asked_again_when_the_event_changed_meanwhile(
    client: TestClient, world: Pilot, served: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The renewed approval is the host's to send: one whose event differs from what bob read
    (the forgery: the host swaps the answer while he reads) is shown to him again and asked
    again, never signed on the first yes."""
    from inhouse.identity.approval import payload_digest
    from inhouse.web.approvals import Approvals, Waiting

    renew = Approvals.renew

    def swapped(self: Approvals, code: str) -> Waiting:
        waiting = renew(self, code)
        waiting.payload = dict(waiting.payload, value="not at all")
        kind = waiting.statement["kind"]
        waiting.statement["payload_sha256"] = payload_digest(kind, waiting.payload)
        return waiting

    monkeypatch.setattr(Approvals, "renew", swapped)
    with signed_in(client, world, "bob"):
        code = _answer(client)
        shown: list[list[str]] = []

        def slow_then_no(lines: list[str]) -> bool:
            shown.append(lines)
            world.clock.advance(minutes=7)
            return len(shown) == 1

        with pytest.raises(NotAllowed, match="not approved: nothing signed"):
            approve(str(client.base_url), code, key_of(world, "bob"), confirm=slow_then_no,
                    client=client, now=world.clock)  # fmt: skip
        assert len(shown) == 2 and shown[1][0].startswith("It changed since it was shown")
        assert shown[1][1:] != shown[0]
    assert _answers(served) == []


def test_a_renewed_approval_is_still_one_event(
    client: TestClient, world: Pilot, served: Program
) -> None:
    """Renewing keeps the nonce and the digest: the approval signed before and the one after
    record one event between them, and a recorded decision is not renewed."""
    with signed_in(client, world, "bob"):
        code = _answer(client)
        first = client.get(f"/approve/{code}.json").json()
        world.clock.advance(minutes=2)
        renewed = client.post(f"/approve/{code}/renew.json").json()
        assert renewed["payload"] == first["payload"]
        same = ("nonce", "payload_sha256", "kind", "key_id", "session_key_id")
        assert all(renewed["statement"][k] == first["statement"][k] for k in same)
        assert renewed["statement"]["issued"] > first["statement"]["issued"]
        stale = sign_approval(key_of(world, "bob"), first["statement"], first["payload"],
                              now=world.clock())  # fmt: skip
        reply = client.post(f"/approve/{code}.json", json=stale)
        assert reply.status_code == 403 and "not the one this dashboard proposed" in reply.text
        signed = sign_approval(key_of(world, "bob"), renewed["statement"], renewed["payload"],
                               now=world.clock())  # fmt: skip
        assert client.post(f"/approve/{code}.json", json=signed).status_code == 200
        again = client.post(f"/approve/{code}/renew.json")
        assert again.status_code == 403 and "recorded already" in again.text
    assert _answers(served) == ["bob"]
