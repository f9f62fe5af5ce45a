"""Play 4's trigger, demand spreading, counts people who want in: not those who built what they
would ask for. A forgery in a real program with the organisation's sign-in set up."""

from __future__ import annotations

from pathlib import Path

from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_forgery import _checks
from tests.test_handoff_offer_signed import _walk_to_play_two
from tests.test_sign_in import _sign_in


def test_a_play_owner_asking_for_access_is_not_spreading_demand(
    _isolated: Path, clock: Clock
) -> None:
    """The owner of play 3 is an insider who already has the tool: his own `inhouse access
    request` is not one of the "several distinct people" asking in (it once was, so the pilot
    started on two real askers instead of three), and the reason says why he is set aside."""
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        # plays 1 and 2 walked honestly (pia asked in for play 2), omar owns play 3
        lena, people = _walk_to_play_two(_isolated, clock, idp)
        people["omar"].start_play(None, 3)
        dan = enrol(lena, "dan", team="finance")
        _sign_in(dan, idp, "u-dan")
        dan.request_access(reason="finance wants the invoice workflow")
        before = _checks(lena.status(), 4, "trigger")["demand-spreading"]
        assert before["outcome"] == "fail", before
        assert "by 2 distinct people, need 3" in before["reason"], before
        # the forgery: play 3's owner, an insider, asks in himself
        people["omar"].request_access(reason="I own play 3")
        demand = _checks(lena.status(), 4, "trigger")["demand-spreading"]
        assert demand["outcome"] == "fail", demand["reason"]
        assert "by 2 distinct people" in demand["reason"], demand["reason"]
        assert "omar (a lead or a play's owner" in demand["reason"], demand["reason"]
    lena.close()
