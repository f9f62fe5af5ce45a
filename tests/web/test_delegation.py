"""A dashboard session acts for a person only with that person's own signature: the delegation
their key signed at sign-in (``inhouse web login``), for this program, this session key, until it
expires. The honest way is attributed to the person, signed; every cheap forgery is refused both
when the server tries to act and by the chain's verifier (the fold and ``inhouse audit verify``),
on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import IdentityError
from inhouse.identity import SigningKey
from inhouse.identity.delegation import delegation_statement, sign_delegation
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.events import append
from inhouse.support.queue import list_tickets, open_ticket
from tests.conftest import Clock
from tests.people import enrol

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    bob = enrol(lena, "bob", team="support")
    yield {"lena": lena, "bob": bob}
    lena.close()


def _delegation(
    signer: Program,
    session: SigningKey,
    *,
    program: str | None = None,
    person: str | None = None,
    hours: float = 2,
) -> dict[str, Any]:
    """What ``inhouse web login`` signs with ``signer``'s own key."""
    now = signer.clock()
    statement = delegation_statement(
        program=program or signer.state().program_id,
        person=person or signer.whoami().name,
        key_id=signer.key.key_id,
        session_key=session.public_key,
        nonce="n-1",
        issued=now,
        expires=now + timedelta(hours=hours),
    )
    return sign_delegation(signer.key, statement)


def _fresh(program: Program) -> Program:
    return Program.open(program.folder, clock=program.clock)


def test_a_session_acts_for_the_person_who_signed_its_delegation(
    cast: dict[str, Program],
) -> None:
    session = SigningKey.generate()
    as_bob = cast["lena"].delegated(session, _delegation(cast["bob"], session))
    assert as_bob.whoami().name == "bob"
    ticket = open_ticket(as_bob, "Summaries are empty", category="it-broke", component="gateway")
    assert ticket.opened.actor == "bob"
    # a fresh fold, in another process's shoes: the fact is bob's, signed
    again = _fresh(cast["lena"])
    fact = again.state().facts[-1]
    assert (fact.by, fact.signed, again.state().tampered) == ("bob", True, None)
    event = again.events()[-1]
    assert event.signer == session.key_id and event.payload["delegation"]["statement"]["person"]
    report = verify_chain(again.store, lead_key=again.settings.lead_key)
    assert report.ok, report.problem
    again.close()


def _forged(cast: dict[str, Program], session: SigningKey, delegation: Any, actor: str) -> str:
    """Write an event signed by ``session`` straight into the store (what a server, or someone
    with the database, could do) and return what the verifier says. The fold counts it for
    nothing and sets it aside, named (it stopped there): one whose delegation an enrolled key
    signed, outside its window, as that member's; one no enrolled key's delegation lets act as
    nobody's the fold can tell (anyone who writes the store makes one)."""
    lena = cast["lena"]
    payload = {"kind": "ticket.commented", "version": 1, "payload": {"ticket": "T-1",
               "text": "forged"}, "provenance": "measured", "collector": "inhouse support",
               "delegation": delegation}  # fmt: skip
    event = append(lena.store, "fact.recorded", actor, payload, at=lena.clock(), key=session)
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert not report.ok and report.first_bad_seq == event.seq
    fresh = _fresh(lena)
    state = fresh.state()
    assert state.tampered is None and any(at == event.seq for at, _ in state.unauthorized)
    assert not any(f.payload.get("text") == "forged" for f in state.facts)
    fresh.close()
    assert report.problem is not None
    return report.problem


def test_a_tampered_delegation_is_refused(cast: dict[str, Program]) -> None:
    session = SigningKey.generate()
    delegation = _delegation(cast["bob"], session)
    delegation["statement"]["expires"] = "2030-01-01T00:00:00.000000Z"  # more time, same sig
    delegation["statement"]["issued"] = "2029-12-31T23:00:00.000000Z"
    with pytest.raises(IdentityError, match="valid signature"):
        cast["lena"].delegated(session, delegation).whoami()
    problem = _forged(cast, session, delegation, "bob")
    assert "does not carry a valid signature of bob's key" in problem


def test_an_expired_delegation_is_refused(cast: dict[str, Program], clock: Clock) -> None:
    session = SigningKey.generate()
    delegation = _delegation(cast["bob"], session, hours=1)
    clock.advance(hours=1, seconds=1)
    with pytest.raises(IdentityError, match="sign in again"):
        open_ticket(cast["lena"].delegated(session, delegation), "x", category="how-to",
                    component="gateway")  # fmt: skip
    problem = _forged(cast, session, delegation, "bob")
    assert "holds from" in problem and "not at" in problem


def test_a_delegation_for_another_program_is_refused(cast: dict[str, Program]) -> None:
    session = SigningKey.generate()
    # bob's own signature, for a program whose first event is another (his other program)
    delegation = _delegation(cast["bob"], session, program="f" * 64)
    with pytest.raises(IdentityError, match="another program"):
        cast["lena"].delegated(session, delegation).whoami()
    assert "signed for another program" in _forged(cast, session, delegation, "bob")


def test_a_session_key_used_for_another_person_is_refused(cast: dict[str, Program]) -> None:
    session = SigningKey.generate()
    delegation = _delegation(cast["bob"], session)
    # bob's delegation, an event that names lena as its actor
    assert "names lena as its actor but was signed by bob's key" in _forged(
        cast, session, delegation, "lena"
    )


def test_a_delegation_naming_someone_else_than_its_key_is_refused(
    cast: dict[str, Program],
) -> None:
    session = SigningKey.generate()
    delegation = _delegation(cast["bob"], session, person="lena")
    with pytest.raises(IdentityError, match="names lena but key"):
        cast["lena"].delegated(session, delegation).whoami()
    assert "names lena but key" in _forged(cast, session, delegation, "lena")


def test_a_delegation_for_another_session_key_is_refused(cast: dict[str, Program]) -> None:
    mine, stolen = SigningKey.generate(), SigningKey.generate()
    delegation = _delegation(cast["bob"], mine)
    assert "is for session key" in _forged(cast, stolen, delegation, "bob")


def test_a_session_never_signs_the_roster(cast: dict[str, Program]) -> None:
    session = SigningKey.generate()
    delegation = _delegation(cast["lena"], session)  # even the lead's own sign-in
    lena = cast["lena"]
    append(lena.store, "person.invited", "lena", {"name": "eve", "token_hash": "t",
           "expires": "2030-01-01T00:00:00+00:00", "delegation": delegation},
           at=lena.clock(), key=session)  # fmt: skip
    report = verify_chain(lena.store, lead_key=lena.settings.lead_key)
    assert report.problem is not None and "a session may not sign person.invited" in report.problem


def test_a_revoked_key_delegates_nothing(cast: dict[str, Program]) -> None:
    session = SigningKey.generate()
    delegation = _delegation(cast["bob"], session)
    cast["lena"].revoke_key(cast["bob"].key.key_id)
    with pytest.raises(IdentityError, match="revoked"):
        cast["lena"].delegated(session, delegation).whoami()
    assert list_tickets(cast["lena"]) == []


@pytest.mark.parametrize("ahead", [timedelta(days=21), timedelta(minutes=-40)],
                         ids=["weeks-ahead", "long-ago"])  # fmt: skip
def test_a_sign_in_delegates_from_now_only(
    cast: dict[str, Program], clock: Clock, ahead: timedelta
) -> None:
    """The dashboard's host proposes a session window that starts three weeks ahead (or long
    ago): bob's one sign-in today would give it a key acting for him on a day he never signed
    in (a survey it opens on day 20 answered for him on day 21). His ``inhouse web login``
    signs nothing, and names both clocks; a window starting within minutes of now is signed."""
    import json

    import httpx

    from inhouse.web.login import sign_in

    lena, bob = cast["lena"], cast["bob"]
    session = SigningKey.generate()
    posted: list[dict[str, Any]] = []

    def dashboard(start: datetime) -> httpx.Client:
        def handler(request: httpx.Request) -> httpx.Response:
            if request.url.path == "/login/challenge.json":
                statement = delegation_statement(
                    program=lena.state().program_id, person="bob", key_id=bob.key.key_id,
                    session_key=session.public_key, nonce="n-1", issued=start,
                    expires=start + timedelta(hours=12))  # fmt: skip
                return httpx.Response(200, json={"statement": statement})
            posted.append(json.loads(request.content))
            return httpx.Response(200, json={"link": f"http://dash/login/{'t' * 43}"})

        return httpx.Client(transport=httpx.MockTransport(handler))

    with (
        dashboard(clock.now + ahead) as client,
        pytest.raises(IdentityError, match="a sign-in delegates from now") as refused,
    ):
        sign_in("http://dash", bob.key, client=client, now=clock.now)
    assert f"{clock.now:%Y-%m-%d %H:%M} UTC" in str(refused.value)
    assert posted == []  # nothing signed, nothing sent
    with dashboard(clock.now + timedelta(minutes=2)) as client:
        assert sign_in("http://dash", bob.key, client=client, now=clock.now) == (
            f"http://dash/login/{'t' * 43}"
        )
    assert len(posted) == 1
