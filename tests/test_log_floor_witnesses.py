"""The log's floor counts accounts, not names: one account lent to an alias is one witness.

A fact is dated no earlier than ten minutes before what two other signed-in people had already
written (docs/concepts.md), "signed in, so that one person's aliases are no 'others'". The
witnesses were kept by person name, and a binding is released when its keys are revoked: the
lone lead wrote a year ahead, lent her one account to an alias who wrote a year ahead too, and
took it back. Two names, so two witnesses: every colleague's fact was dated a year ahead (and
counted for nothing until then), and a colleague's dashboard session could stop the fold. The
witnesses are now the accounts the writers' keys signed in with.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.counting import build_context
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.people import enrol
from tests.test_sign_in import _sign_in


def _ahead(program: Program, clock: Clock, reason: str) -> None:
    """``program``'s person writes once with their clock a year ahead."""
    program.clock = lambda: clock.now + timedelta(days=365)  # type: ignore[method-assign]
    program.request_access(reason=reason)
    program.clock = clock  # type: ignore[method-assign]


@pytest.mark.own_sign_in
@pytest.mark.usefixtures("log_before_team_reading")
def test_one_account_lent_to_an_alias_is_no_second_witness_of_the_log_floor(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The forgery: lena, signed in, writes once with her clock a year ahead; she adds a second
    key, revokes the signed-in one (releasing her account), lets the alias zed sign in with her
    account and write a year ahead, revokes zed and signs back in. pia's next honest fact is
    dated by pia's clock and counts."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    pia = enrol(lena, "pia", team="sales", machine="pia-laptop")  # an honest colleague
    _sign_in(pia, idp, "u-pia")

    _ahead(lena, clock, "clock a year ahead")  # FORGERY 1
    # FORGERY 2: her account lent to an alias (a second machine of hers, the first key revoked)
    text = lena.invite("lena")
    spare = SigningKey.generate()
    lena.join(str(text), spare, at_machine="lena-desktop")
    me = lena.using(spare)
    me.revoke_key(lena.key.key_id)
    zed = enrol(me, "zed", team="ops", machine="zed-laptop")
    _sign_in(zed, idp, "u-lena")
    _ahead(zed, clock, "clock a year ahead")
    # ...and taken back
    me.revoke_key(zed.key.key_id)
    _sign_in(me, idp, "u-lena")
    assert me.state().vouched("lena") and not me.state().vouched("zed")

    clock.advance(hours=1)
    mine = pia.request_access(reason="I want in")  # pia's honest clock
    state = me.state()
    assert state.tampered is None
    [fact] = [f for f in state.facts if f.id == mine.id]
    assert fact.at - clock.now < timedelta(minutes=10), (
        f"pia's request is dated {fact.at:%Y-%m-%d %H:%M}: one account's two names moved the "
        "floor a year ahead"
    )
    counted = [f.id for f in build_context(state, clock.now).facts.of("access.request")]
    assert mine.id in counted
    lena.close()


@pytest.mark.own_sign_in
def test_two_people_on_two_accounts_are_two_witnesses(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The control: two colleagues, each on an account of their own, both write a year ahead
    (their clocks are wrong, or they collude): a third person's fact is dated no earlier than
    the floor they set, as the rule has always said; the writers themselves are held only by
    the other."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    pia = enrol(lena, "pia", team="sales")
    _sign_in(pia, idp, "u-pia")
    sam = enrol(lena, "sam", team="it")
    _sign_in(sam, idp, "u-sam")
    _ahead(lena, clock, "ahead")
    _ahead(pia, clock, "ahead")

    clock.advance(hours=1)
    mine = sam.request_access(reason="I want in")
    [fact] = [f for f in sam.state().facts if f.id == mine.id]
    assert fact.at > clock.now + timedelta(days=364)
    own = lena.request_access(reason="only pia is ahead of me")  # one other: no floor
    [fact] = [f for f in lena.state().facts if f.id == own.id]
    assert fact.at == clock.now
    lena.close()
