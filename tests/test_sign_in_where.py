"""Where a message sends someone to sign in, on SQLite and on PostgreSQL.

Sign-in needs the log and has no outbox. On a PostgreSQL log every machine of the program
reaches, a colleague signs in on their own machine; on SQLite, the default store, the log is a
file on one machine, and a colleague on a machine of their own cannot sign in to it at all.
`init` and `status` said so on SQLite (tests/test_walk56.py), but a check's reason, a refused
waiver or handoff, a ticket refused to an unsigned opener still sent colleagues to
"`inhouse sign-in login` on their machine", which cannot work there. Each such message now says
it one way (:func:`inhouse.program.state.sign_in_login`): on PostgreSQL as before, on SQLite
where the log is and why. Each test runs on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.program import Program, Provenance
from inhouse.support.queue import open_ticket
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_delegation_machine import _session
from tests.test_sign_in import LOCK, _judge, _sign_in, _verify, signed_in_team

pytestmark = [pytest.mark.own_sign_in, pytest.mark.usefixtures("on_database")]

#: what every SQLite message says instead of "on their machine"
SQLITE = "`inhouse sign-in login` where the log is, on this machine: this program's log is SQLite"
NOWHERE_ELSE = "a colleague on a machine of their own cannot sign in to it"


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Iterator[Program]:
    """The lead, the baseline locked in her name (play 2's checks have a lock to judge)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    yield lena
    lena.close()


def _on_sqlite(lena: Program) -> bool:
    return lena.store.dialect == "sqlite"


def _where(lena: Program, said: str, *, elsewhere: str) -> None:
    """``said`` sends people to sign in where they can: on SQLite, where the log is (and names
    its file), never ``elsewhere``; on PostgreSQL, ``elsewhere`` as before."""
    if _on_sqlite(lena):
        log = str(lena.folder / ".inhouse" / "inhouse.db")
        assert f"{SQLITE}, a file on this machine ({log})" in said, said
        assert NOWHERE_ELSE in said and "INHOUSE_DATABASE_URL before `inhouse init`" in said
        assert elsewhere not in said, said
    else:
        assert elsewhere in said, said
        assert "SQLite" not in said, said


def test_a_ticket_refused_to_an_unsigned_opener_says_where_he_signs_in(
    lena: Program, idp: StandinIdP
) -> None:
    """bob, not signed in yet, opens a ticket: refused (it would count for nothing), told where
    to sign in (:func:`~inhouse.program.counting.unsigned_signer`)."""
    bob = signed_in_team(lena, idp, {"bob": "ops"}, later=("bob",))["bob"]
    with pytest.raises(NotAllowed) as refused:
        open_ticket(bob, "Summaries are empty", category="it-broke", component="baseline")
    said = str(refused.value)
    assert "bob, who has not signed in with" in said
    _where(lena, said, elsewhere="(`inhouse sign-in login` on their machine)")
    # honest: once signed in (on SQLite, on the log's machine: here), his ticket is taken
    _sign_in(bob, idp, "u-bob")
    assert open_ticket(bob, "Summaries are empty", category="it-broke", component="baseline")


def test_a_check_without_the_sign_in_says_where_each_person_signs_in(
    lena: Program, idp: StandinIdP
) -> None:
    """Without the organisation's sign-in nobody is told apart: the check's reason says how to
    set it up, and on SQLite where each person's sign-in can happen."""
    bob = enrol(lena, "bob", team="ops", signed_in=False)
    _verify(bob)
    result = _judge(lena, "baseline", "second-person-verified")
    assert "sign-in is not set up, so inhouse tells nobody apart" in result.reason
    _where(lena, result.reason, elsewhere="then each person `inhouse sign-in login`)")


def test_a_keys_second_machine_is_told_where_that_key_signs_in(
    lena: Program, idp: StandinIdP
) -> None:
    """bob signed in on his laptop; what he signs with a second key, joined from his desktop,
    counts once that key signed in itself."""
    from inhouse.identity import SigningKey
    from inhouse.program.counting import unsigned_signer

    bob = signed_in_team(lena, idp, {"bob": "ops"})["bob"]
    desktop = SigningKey.generate()
    bob.join(str(bob.invite("bob")), desktop, at_machine="bob-desktop")
    said = unsigned_signer(lena.state(), "bob", desktop.key_id)
    assert said is not None and "which has not signed in with" in said
    _where(lena, said, elsewhere="(`inhouse sign-in login` on that machine)")


def test_a_waiver_through_a_dashboard_session_says_where_its_key_signs_in(
    lena: Program, idp: StandinIdP, clock: Clock
) -> None:
    """ann, a co-lead whose key has not signed in, grants a waiver: from her shell, told to sign
    in on this machine (true on both stores: she is where the log is, or reaches it); through a
    dashboard session her key started, on the machine of that key, which on SQLite is nowhere
    but the log's. Before, the session was told "on this machine" too: the dashboard's host."""
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    ann = enrol(lena, "ann", team="ops", roles=["rollout-lead"], signed_in=False)
    expires = clock.now + timedelta(days=7)
    grant = {"play": 1, "reason": "executive-decision", "note": "go", "expires": expires}
    with pytest.raises(NotAllowed, match="`inhouse sign-in login` on this machine first"):
        ann.grant_waiver(None, "calendar-driven-advance", **grant)
    with pytest.raises(NotAllowed) as refused:
        _session(ann).grant_waiver(None, "calendar-driven-advance", **grant)
    said = str(refused.value)
    assert "ann grants a waiver with a key that has not signed in" in said
    _where(lena, said, elsewhere="on the machine whose key started this dashboard session first")
    assert not lena.state().waivers


def test_a_handoff_to_someone_not_told_apart_says_where_each_signs_in(
    lena: Program, idp: StandinIdP
) -> None:
    """A play that needs a different owner is not handed to someone the sign-in cannot tell
    from the departing owner yet: each signs in first, where they can."""
    signed_in_team(lena, idp, {"omar": "platform"}, later=("omar",))
    with pytest.raises(NotAllowed) as refused:
        lena._refuse_same_machine(lena.state(), "omar", "lena", 3)
    said = str(refused.value)
    assert "the organisation's sign-in cannot tell them apart yet" in said
    _where(lena, said, elsewhere="Each runs `inhouse sign-in login` on their machine first")


def test_sign_in_setup_says_where_each_person_signs_in(lena: Program, idp: StandinIdP) -> None:
    """The lead's `inhouse sign-in setup` told everyone to sign in on their machine."""
    from tests.people import lead_env
    from tests.test_walk56 import run

    setup = ("sign-in", "setup", "--issuer", idp.issuer, "--client-id", "inhouse")
    said = " ".join(run(*setup, env=lead_env(lena)).split())
    assert "Sign-in set up:" in said
    _where(lena, said, elsewhere="`inhouse sign-in login` on their machine;")


def test_a_vouch_before_the_sign_in_says_where_the_voucher_signs_in(lena: Program) -> None:
    """bob vouches for the gateway's host before the lead set up the sign-in: refused before
    anything is asked of the gateway, told how it will count."""
    from inhouse.gateway.vouch import vouch_for_gateway

    bob = enrol(lena, "bob", team="ops", signed_in=False)
    with pytest.raises(NotAllowed) as refused:
        vouch_for_gateway(bob, "http://127.0.0.1:9")
    said = str(refused.value)
    assert "runs `inhouse sign-in setup`, you `inhouse sign-in login`" in said
    _where(lena, said, elsewhere="you `inhouse sign-in login`, then vouch")
