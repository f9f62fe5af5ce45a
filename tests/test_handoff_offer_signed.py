"""With the organisation's sign-in set up, a handoff is offered only with a key that signed in
as the play's owner.

A red team showed the lead handing play 3 to herself alone: she revoked its owner's key,
invited "omar" again, joined a key of her own under his name, signed the offer with it (around
the API), revoked that key too (omar, holding none, "departed") and accepted the offer with her
own signed-in key; play 3 exited. Acceptances already needed a signed-in key; now the offer
does too: the API refuses it, an acceptance of such an offer is refused, and one appended
around the API stops the fold as every forged engine event does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import NotAllowed
from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.test_engine import DIGEST, HERE, LOCK, lock_baseline, measured, prove, reproduce
from tests.test_sign_in import signed_in_team

TEAMS = {"omar": "support", "bob": "ops", "pia": "legal"}


def _walk_to_play_three(folder: Path, clock: Clock, idp: StandinIdP) -> Program:
    """Plays 1 and 2 done honestly; omar owns play 3, whose exit holds (bob reran it)."""
    lena, people = _walk_to_play_two(folder, clock, idp)
    omar, bob = people["omar"], people["bob"]
    omar.start_play(None, 3)
    measured(omar, "workflow.spec", workflow="t", content_hash="v1", author="omar",
             model="m0", model_digest=DIGEST)  # fmt: skip
    run = {"workflow": "t", "content_hash": "v1", "lock_hash": LOCK, "passed": True,
           "pass_rate": 1.0, "cases": 3, **HERE}  # fmt: skip
    measured(omar, "workflow.run", **run)
    measured(bob, "workflow.run", **run)
    return lena


def _walk_to_play_two(
    folder: Path, clock: Clock, idp: StandinIdP
) -> tuple[Program, dict[str, Program]]:
    """Plays 1 and 2 done honestly; omar accepted play 2 and named play 3's task."""
    lena = Program.init(folder, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    people = signed_in_team(lena, idp, TEAMS)
    omar, bob, pia = people["omar"], people["bob"], people["pia"]
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1)
    pia.request_access(reason="legal")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(bob, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(bob)
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2)
    measured(omar, "task.named", task="t", frequency="daily")
    return lena, people


def _alias_of_omar(lena: Program) -> SigningKey:
    """The lead alone: omar's key revoked, "omar" invited again, a key of hers joined as him."""
    (omar_key,) = lena.state().keys_of("omar")
    lena.revoke_key(omar_key.key_id)
    alias = SigningKey.generate()
    lena.join(str(lena.invite("omar")), alias, at_machine="omar-desktop")
    return alias


def test_an_offer_needs_a_key_signed_in_as_the_owner(_isolated: Path, clock: Clock) -> None:
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        lena = _walk_to_play_three(_isolated, clock, idp)
        try:
            alias = _alias_of_omar(lena)
            with pytest.raises(NotAllowed, match="with a key that has not signed in"):
                lena.using(alias).offer_handoff(None, 3, to="lena")
        finally:
            lena.close()


def test_a_play_is_started_in_its_owners_name_only_with_a_key_signed_in_as_them(
    _isolated: Path, clock: Clock
) -> None:
    """The lead could start play 3 herself, as a lead; started with a key she joined under
    omar's name, the log would say omar started it. Refused, as an offer is (omar's own
    signed-in key starts it: ``_walk_to_play_three``)."""
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        lena, _ = _walk_to_play_two(_isolated, clock, idp)
        try:
            alias = _alias_of_omar(lena)
            lena.change_roles(None, "omar", add=["play-owner"])
            with pytest.raises(NotAllowed, match="starts play 3 with a key that has not signed"):
                lena.using(alias).start_play(None, 3)
            assert "workflow" not in lena.state().plays
        finally:
            lena.close()


def test_an_offer_signed_in_the_owners_name_by_the_lead_is_accepted_by_nobody(
    _isolated: Path, clock: Clock
) -> None:
    with StandinIdP(path="/realms/acme", clock=clock) as idp:
        lena = _walk_to_play_three(_isolated, clock, idp)
        try:
            alias = _alias_of_omar(lena)
            lena.using(alias)._append(
                EventKind.HANDOFF_OFFERED,
                "omar",
                {"play": "workflow", "to": "lena", "comment": "", "evidence_hash": "x"},
                key=alias,
            )
            lena.revoke_key(alias.key_id)  # omar holds no key now
            with pytest.raises(NotAllowed, match="the offer was signed with omar's key"):
                lena.accept_handoff(None, 3)
            assert "workflow" not in lena.state().exited
            # and appended around the API, the acceptance stops the fold
            payload = {"play": "workflow", "evidence_hash": "x", "comment": ""}
            lena._append(EventKind.HANDOFF_ACCEPTED, "lena", payload)
            again = Program.open(lena.folder, clock=clock)
            try:
                state = again.state()
                assert state.tampered is not None and "has not signed in" in str(state.tampered), (
                    state.tampered
                )
                assert "workflow" not in state.exited
            finally:
                again.close()
        finally:
            lena.close()
