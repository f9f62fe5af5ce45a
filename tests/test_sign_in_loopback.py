"""Outside a demo, a sign-in on a loopback address vouches for nobody.

A provider on the lead's own machine is whoever runs it: she starts one (the package's own
stand-in would do), sets it up as the organisation's sign-in and gives herself an account for
every "colleague" she invents. No colleague on a machine of their own could ever reach it to
sign in, so an honest program never has one. ``inhouse sign-in setup`` refuses it, and a set-up
appended around the API is folded but vouches for nobody: what its "signed-in" people sign
counts for nothing. (The other tests run the stand-in there, standing for a provider elsewhere:
tests/conftest.py; these put the rule back.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.program import Program, Provenance
from inhouse.program import state as state_module
from inhouse.program.checks import Outcome
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import VOUCHES_FOR_NOBODY, Clock
from tests.people import enrol
from tests.test_sign_in import LOCK, _judge, _sign_in, _verify


@pytest.fixture
def idp(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinIdP]:
    monkeypatch.setattr(state_module, "vouches_for_nobody", VOUCHES_FOR_NOBODY)
    with StandinIdP(path="/realms/acme", clock=clock) as provider:
        yield provider


def _lead(folder: Path, clock: Clock, *, demo: bool = False) -> Program:
    lena = Program.init(folder, "Acme", "lena", clock=clock, demo=demo)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    return lena


def test_setting_up_a_provider_on_this_machine_is_refused(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    lena = _lead(_isolated, clock)
    try:
        with pytest.raises(InvalidInput, match="is on a loopback address"):
            lena.set_up_sign_in(idp.issuer, "inhouse")
        assert lena.state().sign_in is None
    finally:
        lena.close()


def test_one_set_up_around_the_api_vouches_for_nobody(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The forgery: the lead pins her own provider around the API's refusal, invents bob, and
    signs both in there; bob's verify "on his laptop" passed play 2 before."""
    lena = _lead(_isolated, clock)
    try:
        lena._pin("lena", idp.issuer, "inhouse", None)
        bob = enrol(lena, "bob", team="ops")
        _sign_in(lena, idp, "u-lena")
        _sign_in(bob, idp, "u-bob")
        _verify(bob)
        assert lena.state().signed_in["bob"].subject == "u-bob"  # bound, and folded
        result = _judge(lena, "baseline", "second-person-verified")
        assert result.outcome is not Outcome.PASS, result.reason
        assert "vouches for nobody outside a demo" in result.reason, result.reason
        warnings = lena.status()["warnings"]
        assert any("so outside a demo it vouches for nobody" in w for w in warnings), warnings
        assert lena.state().tampered is None
    finally:
        lena.close()


def test_a_demo_may_sign_in_on_this_machine(_isolated: Path, clock: Clock, idp: StandinIdP) -> None:
    lena = _lead(_isolated, clock, demo=True)
    try:
        lena.set_up_sign_in(idp.issuer, "inhouse")
        bob = enrol(lena, "bob", team="ops")
        _sign_in(lena, idp, "u-lena")
        _sign_in(bob, idp, "u-bob")
        _verify(bob)
        assert _judge(lena, "baseline", "second-person-verified").outcome is Outcome.PASS
    finally:
        lena.close()
