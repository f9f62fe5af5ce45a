"""The engine's own events hold their signer to the same rules as the actions that make them:
an event appended around the API (the Python API's private ``_append``, or a signed row written
straight into the store) that its signer had no authority to make is a forgery, and the fold
stops at it as at a bad signature; ``audit verify`` names it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.events import EventKind
from tests.conftest import Clock
from tests.people import enrol


def _offered(lena: Program, omar: Program) -> None:
    """Play 2 started by its owner, a lead holding the play-owner role, and offered to omar:
    both within their rights."""
    lena.change_roles(None, "lena", add=["play-owner"])
    lena._append(
        EventKind.PLAY_STARTED, "lena", {"play": "baseline", "owner": "lena", "waivers": []}
    )
    offer = {"play": "baseline", "to": "omar", "evidence_hash": "h", "comment": ""}
    lena._append(EventKind.HANDOFF_OFFERED, "lena", offer)


def _accepted_for_omar(lena: Program, omar: Program) -> None:
    _offered(lena, omar)
    lena._append(EventKind.HANDOFF_ACCEPTED, "lena", {"play": "baseline", "evidence_hash": "h"})


def _exited_by_hand(lena: Program, omar: Program) -> None:
    _offered(lena, omar)
    lena._append(EventKind.PLAY_EXITED, "lena", {"play": "baseline", "evidence_hash": "h"})


def _second_creation(lena: Program, omar: Program) -> None:
    lena._append(EventKind.PROGRAM_CREATED, "lena", {"name": "Acme", "lead": "lena",
                 "playbook": "default", "playbook_version": 1, "demo": True})  # fmt: skip


def _own_role(lena: Program, omar: Program) -> None:
    omar._append(EventKind.PERSON_CHANGED, "omar",
                 {"name": "omar", "email": "", "team": "ops", "roles": ["pilot-user"]})  # fmt: skip


def _invited_by_a_non_lead(lena: Program, omar: Program) -> None:
    omar._append(EventKind.PERSON_INVITED, "omar", {"name": "alias", "token_hash": "t" * 64,
                 "expires": "2030-01-01T00:00:00+00:00", "another_key": False})  # fmt: skip


def _second_key_for_someone_else(lena: Program, omar: Program) -> None:
    lena._append(EventKind.PERSON_INVITED, "lena", {"name": "omar", "token_hash": "t" * 64,
                 "expires": "2030-01-01T00:00:00+00:00", "another_key": True})  # fmt: skip


def _malformed(lena: Program, omar: Program) -> None:
    lena._append(EventKind.PERSON_CHANGED, "lena", {"roles": ["pilot-user"]})  # names nobody


FORGERIES: dict[str, tuple[Callable[[Program, Program], None], str]] = {
    "a handoff accepted for its receiver": (
        _accepted_for_omar,
        "(handoff.accepted) was signed by lena: only the receiver of an open offer decides it "
        "(offered to omar)",
    ),
    "a play exited by hand": (
        _exited_by_hand,
        "(play.exited) was signed by lena: a play exits when its receiver accepts its handoff",
    ),
    "a second creation that says demo": (
        _second_creation,
        "(program.created) was signed by lena: a program is created once, by its first event",
    ),
    "a role granted by oneself": (
        _own_role,
        "(person.changed) was signed by omar, no rollout lead: only a lead changes someone's "
        "roles, team or e-mail",
    ),
    "an invitation by a non-lead": (
        _invited_by_a_non_lead,
        "(person.invited) was signed by omar, no rollout lead: only a lead invites people",
    ),
    "a malformed engine event (it used to take every command down)": (
        _malformed,
        "(person.changed) is malformed: KeyError 'name'",
    ),
    "another machine of someone else's": (
        _second_key_for_someone_else,
        "(person.invited) was signed by lena: only omar adds a machine of omar's",
    ),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_an_event_its_signer_could_not_make_stops_the_fold(
    forgery: str, _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops", roles=["play-owner"])
    forge, why = FORGERIES[forgery]
    forge(lena, omar)
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is not None and why in state.tampered[0]
    assert not state.demo and "pilot-user" not in state.people["omar"].roles
    assert "baseline" not in state.first_exited
    report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
    assert not report.ok and why in str(report.problem)


def test_the_honest_actions_still_fold(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops", roles=["play-owner"])
    lena.change_roles(None, "omar", add=["champion"])
    lena.invite("lena")  # a machine of her own
    assert lena.state().tampered is None
    assert verify_chain(lena.store, lead_key=lena.settings.lead_key).ok


def test_log_event_refuses_the_engines_own_kinds(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    with pytest.raises(InvalidInput, match=r"handoff\.accepted is the engine's own event"):
        lena.log_event("handoff.accepted", {"play": "baseline", "evidence_hash": "h"})
    assert lena.state().tampered is None
