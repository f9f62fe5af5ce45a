"""A handoff to a play that needs a different owner goes to another person: not to a second key
of the offering owner's, joined on the owner's own laptop (the forgery), and still to a
colleague on their own machine (the honest path)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.identity import SigningKey, machine
from inhouse.program import Program, Provenance
from tests.conftest import Clock
from tests.locks import HERE, lock_payload
from tests.people import enrol, sign_in_as

LOCK = lock_payload("lena")


def _play_two_met(lena: Program, clock: Clock) -> Program:
    """Play 2 started on waivers and its exit met; returns vic, who verified."""
    lena.change_roles(None, "lena", add=["play-owner"])
    for guard in ("calendar-driven-advance", "botched-handoff"):
        lena.grant_waiver(None, guard, reason="executive-decision", note="play 1 waived",
                          expires=clock.now + timedelta(days=30), play="baseline")  # fmt: skip
    lena.start_play(None, 2)
    lena.record_fact(None, "baseline.lock", LOCK, provenance=Provenance.MEASURED,
                     collector="inhouse baseline lock")  # fmt: skip
    lena.record_fact(None, "baseline.install_script",
                     {"lock_hash": LOCK["lock_hash"], "sha256": "s" * 64},
                     provenance=Provenance.MEASURED,
                     collector="inhouse baseline install-script")  # fmt: skip
    vic = enrol(lena, "vic", team="ops")
    verified = {"lock_hash": LOCK["lock_hash"], "passed": True, **HERE}
    vic.record_fact(None, "baseline.verify", verified, provenance=Provenance.MEASURED,
                    collector="inhouse baseline verify")  # fmt: skip
    return vic


def test_a_handoff_to_the_owners_second_key_is_refused(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    _play_two_met(lena, clock)
    # "bob", invited by lena and joined on lena's own laptop
    bob = enrol(lena, "bob", team="ops", roles=["play-owner"],
                machine=machine.machine_fingerprint())  # fmt: skip
    with pytest.raises(NotAllowed, match="every key of bob was enrolled from a machine lena"):
        lena.offer_handoff(None, 2, to="bob")
    assert "baseline" not in lena.state().handoffs
    # a colleague on their own machine takes it, and nobody else can accept for them
    enrol(lena, "omar", team="support", roles=["play-owner"])
    lena.offer_handoff(None, 2, to="omar")
    with pytest.raises(NotAllowed, match="only the receiver, omar"):
        bob.accept_handoff(None, 2)


def test_an_offer_accepted_from_the_owners_laptop_is_refused(_isolated: Path, clock: Clock) -> None:
    """The receiver's decision is checked as well as the offer: omar was invited, not joined,
    when lena offered; the key he joins with is on lena's laptop."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    _play_two_met(lena, clock)
    text = lena.invite("omar", team="support", roles=["play-owner"])
    lena.offer_handoff(None, 2, to="omar")
    key = SigningKey.generate()
    lena.join(str(text), key, at_machine=machine.machine_fingerprint())
    omar = lena.using(key)
    # joined with the program's API and not signed in yet: nobody tells him apart from lena
    with pytest.raises(NotAllowed, match="omar has not signed in with"):
        omar.accept_handoff(None, 2)
    # signed in with an account of his own, his key is still on lena's laptop
    sign_in_as(omar)
    with pytest.raises(NotAllowed, match="every key of omar was enrolled from a machine lena"):
        omar.accept_handoff(None, 2)
    assert lena.state().handoffs["baseline"].status == "offered"
