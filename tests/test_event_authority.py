"""The engine's own events hold their signer to the same rules as the actions that make them:
an event appended around the API (the Python API's private ``_append``, or a signed row written
straight into the store) that its signer had no authority to make is a forgery. A rollout
lead's stops the fold, as a bad signature does. A member's (an enrolled, unrevoked key of
someone who is no lead) is set aside: never counted, nothing learnt from it, named on
``status``, and every other command goes on, for stopping there let one member freeze the
program for everyone; ``audit verify`` still reports it and exits 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from inhouse.errors import InvalidInput
from inhouse.identity import SigningKey
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.events import EventKind, append
from tests.clitools import cli
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


def _own_role(lena: Program, omar: Program) -> None:  # by omar: set aside
    omar._append(EventKind.PERSON_CHANGED, "omar",
                 {"name": "omar", "email": "", "team": "ops", "roles": ["pilot-user"]})  # fmt: skip


def _invited_by_a_non_lead(lena: Program, omar: Program) -> None:
    omar._append(EventKind.PERSON_INVITED, "omar", {"name": "alias", "token_hash": "t" * 64,
                 "expires": "2030-01-01T00:00:00+00:00", "another_key": False})  # fmt: skip


def _second_key_for_someone_else(lena: Program, omar: Program) -> None:
    lena._append(EventKind.PERSON_INVITED, "lena", {"name": "omar", "token_hash": "t" * 64,
                 "expires": "2030-01-01T00:00:00+00:00", "another_key": True})  # fmt: skip


def _around_append(lena: Program, kind: str, payload: dict[str, object]) -> None:
    """``payload`` signed with lena's key and written straight into the store: her API (its
    ``_append`` too) refuses a lead's malformed event."""
    append(lena.store, kind, "lena", payload, at=lena.clock(), key=lena.key)


def _malformed(lena: Program, omar: Program) -> None:
    _around_append(lena, EventKind.PERSON_CHANGED, {"roles": ["pilot-user"]})  # names nobody


def _roles_as_text(lena: Program, omar: Program) -> None:
    """omar made a pilot user with his roles as one text: Python read it letter by letter,
    a roster of one-letter roles, and the fold took it silently."""
    _around_append(lena, EventKind.PERSON_CHANGED,
                   {"name": "omar", "email": "", "team": "ops", "roles": "pilot-user"})  # fmt: skip


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
    "a malformed engine event (it used to take every command down)": (
        _malformed,
        "(person.changed) is malformed: name: Field required",
    ),
    "a lead's roles given as text, not a list (taken in silently)": (
        _roles_as_text,
        "(person.changed) is malformed: roles: Input should be a valid array",
    ),
    "another machine of someone else's": (
        _second_key_for_someone_else,
        "(person.invited) was signed by lena: only omar adds a machine of omar's",
    ),
}


def _offered_for_a_play_not_his(lena: Program, omar: Program) -> None:
    omar._append(EventKind.HANDOFF_OFFERED, "omar",
                 {"play": "prove", "to": "omar", "evidence_hash": "h"})  # fmt: skip


def _waiver_by_a_member(lena: Program, omar: Program) -> None:
    waiver = {"guard": "scaling-before-proving", "reason": "other", "comment": "",
              "expires": "2030-01-01T00:00:00+00:00"}  # fmt: skip
    omar._append(EventKind.WAIVER_GRANTED, "omar", waiver)


def _started_by_a_member(lena: Program, omar: Program) -> None:
    omar._append(EventKind.PLAY_STARTED, "omar", {"play": "baseline", "owner": "lena"})


def _leads_key_revoked(lena: Program, omar: Program) -> None:
    omar._append(EventKind.KEY_REVOKED, "omar", {"key_id": lena.key.key_id})


#: what omar, an enrolled member with a key of his own, appends without the authority to
BY_A_MEMBER: dict[str, tuple[Callable[[Program, Program], None], str]] = {
    "a role granted by oneself": (
        _own_role,
        "(person.changed) was signed by omar, no rollout lead: only a lead changes someone's "
        "roles, team or e-mail",
    ),
    "an invitation by a non-lead": (
        _invited_by_a_non_lead,
        "(person.invited) was signed by omar, no rollout lead: only a lead invites people",
    ),
    "a handoff offered for a play he does not own": (
        _offered_for_a_play_not_his,
        "(handoff.offered) was signed by omar: only the owner of play prove offers its handoff",
    ),
    "a waiver granted by a member": (
        _waiver_by_a_member,
        "(waiver.granted) was signed by omar, no rollout lead: only a lead grants a waiver",
    ),
    "a play started by a member for someone else": (
        _started_by_a_member,
        "(play.started) was signed by omar: only the play's owner or a rollout lead starts it",
    ),
    "the lead's key revoked by a member": (
        _leads_key_revoked,
        "(key.revoked) was signed by omar, who may revoke only their own keys",
    ),
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_leads_event_she_could_not_make_stops_the_fold(
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


@pytest.mark.parametrize("forgery", list(BY_A_MEMBER))
def test_a_members_event_he_could_not_make_is_set_aside_and_reported(
    forgery: str, _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops", roles=["play-owner"])
    forge, why = BY_A_MEMBER[forgery]
    forge(lena, omar)
    seq = max(e.seq for e in lena.events())
    # the lead goes on: what she signs after it counts, her key among the roster's
    after = lena.record_fact(None, "task.named", {"task": "t", "frequency": "daily"},
                             provenance=Provenance.ATTESTED, comment="said")  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert state.tampered is None and after.id in {f.id for f in state.facts}
    assert not state.demo and state.people["omar"].roles == {"play-owner"}
    assert state.keys[lena.key.key_id].revoked_at is None
    assert "t" * 64 not in state.invitations and "t" * 64 not in state.verifier.keys.invitations
    assert not state.waivers
    assert "prove" not in state.handoffs and "baseline" not in state.plays
    ((at, said),) = state.unauthorized
    assert at == seq and f"event {seq} {why}" in said and "not counted" in said
    assert said in json.loads(cli("status", "--json"))["warnings"]
    # the auditor sees the attempt; the chain itself holds, and its head may be anchored
    report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
    assert not report.ok and report.intact and report.first_bad_seq == seq
    assert why in str(report.problem) and report.head_seq == after.id
    out = cli("audit", "verify", code=1)
    assert "FORGERY ATTEMPT" in out and f"event {seq}" in out
    said_json = json.loads(cli("audit", "verify", "--json", code=1))
    assert said_json["intact"] and not said_json["ok"] and said_json["first_bad_event"] == seq
    cli("audit", "anchor")
    # the dashboard's audit page, as the server's fold read the log, shows the attempt too (it
    # said "verified" while `audit verify` exited 1)
    from inhouse.web.pages import audit_page
    from inhouse.web.render import render_page

    page = audit_page(fresh)
    shown = page["verification"]
    assert not shown["ok"] and shown["intact"] and shown["first_bad_seq"] == seq
    assert why in shown["problem"]
    html = render_page("audit", page, viewer=None, csrf="", path="/audit")
    assert f"Forgery attempt at event {seq}" in html and "Verified" not in html


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


def test_a_leads_malformed_event_is_refused_before_it_is_written(
    _isolated: Path, clock: Clock
) -> None:
    """lena's Python API (``_append`` itself) refuses a roster event with roles as one text,
    naming the field: written, it would stop the log's fold for everyone. Nothing is
    appended; a list of roles, and the API's own actions, go on."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    enrol(lena, "omar", team="ops", roles=["play-owner"])
    head = max(e.seq for e in lena.events())
    as_text = {"name": "omar", "email": "", "team": "ops", "roles": "pilot-user"}
    said = r"person\.changed event is not what inhouse writes \(roles: Input should be a valid"
    with pytest.raises(InvalidInput, match=said):
        lena._append(EventKind.PERSON_CHANGED, "lena", as_text)
    with pytest.raises(InvalidInput, match="roles are a list of roles, not the text 'pilot-user'"):
        lena.change_roles(None, "omar", add="pilot-user")
    with pytest.raises(InvalidInput, match="roles are a list of roles"):
        lena.invite("pia", roles="pilot-user")
    assert max(e.seq for e in lena.events()) == head
    lena.change_roles(None, "omar", add=["champion"])
    fresh = Program.open(_isolated, clock=clock).state()
    assert fresh.tampered is None and fresh.people["omar"].roles == {"play-owner", "champion"}


def test_a_members_set_aside_event_is_undone_not_copied_around(
    _isolated: Path, clock: Clock
) -> None:
    """Before each member's event the signature check may learn from (an invitation, a
    revocation, an enrolment, an import), the fold copied every key and open invitation it
    knew, to put back if the event was set aside: a log's fold grew with its members' such
    events times its invitations. It now undoes only what the event taught: omar's forged
    revocation of lena's key revokes nothing, his own machine's invitation stands, and what
    the check knows is the same tables throughout, never a copy put in their place."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops", roles=["play-owner"])
    for name in ("pia", "dora"):
        lena.invite(name)
    state = omar.state()
    keys = state.verifier.keys
    tables = (keys.public, keys.revoked, keys.invitations, keys.services)
    known = (dict(keys.public), set(keys.revoked), dict(keys.invitations), set(keys.services))
    omar._append(EventKind.KEY_REVOKED, "omar", {"key_id": lena.key.key_id})
    assert omar.state() is state and [seq for seq, _ in state.unauthorized] == [state.head_seq]
    assert (keys.public, keys.revoked, keys.invitations, keys.services) == known
    now = (keys.public, keys.revoked, keys.invitations, keys.services)
    assert all(table is was for table, was in zip(now, tables, strict=True))
    text = omar.invite("omar")  # a machine of his own: learnt, and it stands
    assert keys.invitations.keys() - known[2].keys() == {text.token_hash}
    second = SigningKey.generate()
    omar.join(str(text), second, at_machine="omar-desktop")
    fresh = Program.open(_isolated, clock=clock).state()
    assert fresh.tampered is None and fresh.keys[lena.key.key_id].revoked_at is None
    assert fresh.keys[second.key_id].person == "omar"
