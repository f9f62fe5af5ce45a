"""A service's key speaks for no person: it holds no role and makes no lead, even where the fold
accepted a role for it (before the organisation's sign-in, appended around the API); and a play
exits, for the windows counted from its exit, only where its exit checks held then.

The forgery both close: a lone lead makes the gateway's key (hers, on a host of her own) a
rollout lead, drops her own key and has the "service lead" set the sign-in up. A service is
never asked to sign in and a person whose keys were all revoked before the set-up is gone, so
nobody held her one account at the organisation's provider, and an alias of hers signed in
with it: "someone other than the owners and leads" asked to get in. Run against the stand-in
provider on loopback, standing for the organisation's provider elsewhere (tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.errors import NotAllowed, SignInError
from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import trigger_results
from inhouse.program.events import EventKind
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.test_sign_in import _sign_in

pytestmark = pytest.mark.own_sign_in

LEAD = {"name": "gateway", "email": "", "team": "", "roles": ["play-owner", "rollout-lead"]}


def _trigger(program: Program, play_id: str, check: str) -> Result:
    play = next(p for p in program.playbook.plays if p.id == play_id)
    for item in trigger_results(play, program.state(), program.clock()):
        if item.ref.check == check:
            return item.result
    raise AssertionError(f"{play_id} has no trigger check {check}")


def _alias(lena: Program, name: str) -> Program:
    key = SigningKey.generate()
    lena.join(str(lena.invite(name, team="ops")), key, at_machine=f"{name}-laptop")
    return lena.using(key)


def test_a_service_made_a_lead_around_the_api_holds_no_role(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    gateway = lena.as_service("gateway")
    lena._append(EventKind.PERSON_CHANGED, "lena", LEAD)  # the API refuses it
    state = lena.state()
    assert state.tampered is None  # an older log that did this still folds
    assert state.people["gateway"].roles == frozenset()
    assert "gateway" not in {n for n, roles in state.roles_held.items() if roles}
    bob = _alias(lena, "bob")
    # her last key revoked around the API (which refuses the last lead's last key): an older
    # log may hold it
    lena._append(EventKind.KEY_REVOKED, "lena", {"key_id": lena.key.key_id, "person": "lena"})
    # the "service lead" cannot set the sign-in up, nor do anything a lead does
    with pytest.raises(NotAllowed, match="only a rollout lead sets up"):
        lena.using(gateway.key).set_up_sign_in(idp.issuer, "inhouse")
    # appended around the API, its set-up is a forgery the fold sets aside: the service is
    # no lead, so it never counts
    lena.using(gateway.key)._append(
        EventKind.SIGN_IN_SET_UP,
        "gateway",
        {"issuer": idp.issuer, "client_id": "inhouse", "keys": idp.jwks()["keys"]},
    )
    state = bob.state()
    assert state.sign_in is None and "only a lead sets up" in state.unauthorized[0][1]
    lena.close()


def test_a_lead_who_dropped_her_key_cannot_lend_her_account_to_an_alias(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The control: the same lead, her key kept, sets the sign-in up and signs in herself; her
    alias cannot then sign in with her account, and its access request is not someone else's."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.as_service("gateway")
    lena._append(EventKind.PERSON_CHANGED, "lena", LEAD)
    bob = _alias(lena, "bob")
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    with pytest.raises(SignInError, match="one identity is one person"):
        _sign_in(bob, idp, "u-lena")  # the lead's own, only account
    bob.request_access(reason="I want in")
    result = _trigger(bob, "baseline", "access-requested")
    assert result.outcome is not Outcome.PASS, result.reason
    lena.close()


def test_an_exit_whose_checks_never_held_opens_no_window(_isolated: Path, clock: Clock) -> None:
    """Plays 1 to 4 handed on around the API with nothing behind them (before any sign-in, to an
    alias where the next play needs another owner): status says none exited, and no window
    counted from the pilot's exit (widening demand, use beyond the pilot) opens at it."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = _alias(lena, "omar")
    lena.change_roles(None, "omar", add=["play-owner"])
    chain = [("prove-value", lena, lena), ("baseline", lena, omar), ("workflow", omar, lena),
             ("pilot", lena, omar)]  # fmt: skip
    for play, starter, receiver in chain:
        owner, to = starter.whoami().name, receiver.whoami().name
        hashed = {"play": play, "evidence_hash": "x" * 64}
        starter._append(
            EventKind.PLAY_STARTED, owner, {"play": play, "owner": owner, "waivers": []}
        )
        starter._append(EventKind.HANDOFF_OFFERED, owner, {**hashed, "to": to, "comment": ""})
        receiver._append(EventKind.HANDOFF_ACCEPTED, to, {**hashed, "comment": ""})
        receiver._append(EventKind.PLAY_EXITED, to, hashed)
    state = lena.state()
    assert state.tampered is None
    assert "pilot" in state.exited  # the acceptance is on record, and shown
    assert state.first_exited == {}  # but no play exited: no window opens
    said = [w for w in lena.status()["warnings"] if "it did not exit there" in w]
    assert len(said) == 4 and "exit checks did not hold then" in said[-1], said
    phases = {p["id"]: p["state"] for p in lena.status()["plays"]}
    assert all(phase != "exited" for phase in phases.values()), phases
    clock.advance(minutes=30)
    _alias(lena, "dave").request_access(reason="finance wants in")
    result = _trigger(lena, "support", "widening-requested")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "has not exited" in result.reason or "not exited" in result.reason, result.reason
    lena.close()
