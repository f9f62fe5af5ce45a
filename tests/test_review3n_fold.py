"""Review of the fold's setting aside (tests/test_fold_no_freeze.py), as lena, a rollout lead
who runs the dashboard and writes the store, would use it: what she signs with a member's
dashboard session, or with a fresh key on a member's own invitation, is set aside as the
member's; the warning must not blame the member alone for what the host (or any writer of
the store) could have made. And the fold's cost per event does not grow with what the
signature check knows (keys, invitations)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.audit import verify_chain
from inhouse.program.events import EventKind, append
from inhouse.program.integrity import _Keys
from inhouse.program.state import fold
from inhouse.web.pages import audit_page
from tests.clitools import cli
from tests.conftest import Clock
from tests.test_delegation_machine import _delegation
from tests.test_fold_no_freeze import BY_HIS_SESSION, _joined, _own_invitation, _signed, _world


def _warnings_naming(fresh: Program, seq: int) -> list[str]:
    state = fresh.state()
    return [w for w in [*state.malformed, *(why for _, why in state.unauthorized)]
            if f"event {seq}" in w]  # fmt: skip


@pytest.mark.parametrize("case", list(BY_HIS_SESSION))
def test_a_set_aside_session_event_says_the_dashboards_host_could_have_signed_it(
    case: str, _isolated: Path, clock: Clock
) -> None:
    """lena hosts the dashboard omar signed in to: she holds his session's key until it
    expires and signs with it what a session may not. Set aside, it is named as made through
    omar's session, whose key the host held, on status, audit verify and the audit page."""
    world = _world(_isolated, clock, plays=True)
    lena, omar = world.lena, world.omar
    kind, payload, _ = BY_HIS_SESSION[case]
    session = SigningKey.generate()  # the dashboard's (lena's) memory holds it
    body = {**payload, "delegation": _delegation(omar, session)}
    seq = append(lena.store, kind, "omar", body, at=clock(), key=session).seq
    fresh = Program.open(_isolated, clock=clock)
    (named,) = _warnings_naming(fresh, seq)
    host = f"through omar's dashboard session, key {session.key_id}: the dashboard's host"
    assert host in named and "omar or whoever hosts the dashboard made it" in named
    assert named in json.loads(cli("status", "--json"))["warnings"]
    state = fresh.state()
    if any(seq == at for at, _ in state.unauthorized):  # reported as a forgery attempt
        report = verify_chain(fresh.store, lead_key=fresh.settings.lead_key)
        assert host in str(report.problem)
        assert host in str(audit_page(fresh)["verification"]["problem"])


def test_omars_own_key_is_named_alone(_isolated: Path, clock: Clock) -> None:
    """What omar's own key signs is his alone: no clause spreads it to anyone else."""
    world = _world(_isolated, clock, plays=True)
    lena, omar = world.lena, world.omar
    seq = append(lena.store, EventKind.HANDOFF_ACCEPTED, "omar",
                 {"play": "prove", "evidence_hash": "h"}, at=clock(), key=omar.key).seq  # fmt: skip
    (named,) = _warnings_naming(Program.open(_isolated, clock=clock), seq)
    assert "signed by omar:" in named and "host" not in named and "store" not in named


def test_a_set_aside_event_of_a_services_key_names_whoever_runs_its_host(
    _isolated: Path, clock: Clock
) -> None:
    """The gateway's key lies on its host, which a lead may run: what it signs that inhouse
    never writes is set aside as the gateway's, and said to be whoever runs that host's."""
    world = _world(_isolated, clock, plays=False)
    lena = world.lena
    key = SigningKey.generate()
    lena.enrol_service("gateway", key)
    seq = append(lena.store, EventKind.ACTION_REFUSED, "gateway", {"action": ["a"]}, at=clock(),
                 key=key).seq  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    assert fresh.state().tampered is None
    (named,) = _warnings_naming(fresh, seq)
    assert (
        "by gateway (signed with the gateway's key, which its host holds: whoever runs it" in named
    )


ENROLMENTS: dict[str, Any] = {
    "malformed (supersedes a number)": lambda token, key: _joined(token, key, supersedes=5),
    "naming lena": lambda token, key: _joined(token, key, name="lena"),
}


@pytest.mark.parametrize("case", list(ENROLMENTS))
def test_a_set_aside_self_enrolment_says_anyone_who_writes_the_store_could_have_made_it(
    case: str, _isolated: Path, clock: Clock
) -> None:
    """omar invites a machine of his own; lena, who writes the store, reads the invitation's
    hash in the log and appends an enrolment on it with a fresh key of hers. It is set aside,
    but not as omar's alone: the key that signed it is on nobody's roster."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    token = _own_invitation(omar)
    key = SigningKey.generate()  # lena's
    seq = append(lena.store, EventKind.PERSON_ENROLLED, "omar", ENROLMENTS[case](token, key),
                 at=clock(), key=key).seq  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    assert fresh.state().tampered is None
    (named,) = _warnings_naming(fresh, seq)
    assert f"by key {key.key_id}, on nobody's roster" in named, named
    assert "omar or anyone who writes the store made it" in named
    assert named in json.loads(cli("status", "--json"))["warnings"]


def test_the_fold_copies_what_it_knows_only_for_events_that_teach_it(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event the fold verifies once took a copy of every key and invitation the
    signature check knew, to put back where what it said could not be taken in: with many
    invitations outstanding, a fold of a long log grew with their product. Events that teach
    nothing (here refusals) copy nothing."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    events = world.events
    at = clock()
    for i in range(300):
        payload = {"action": "a", "guards": ["g"], "message": f"m{i}"}
        events.append(_signed(events[-1], omar.key, EventKind.ACTION_REFUSED, payload, at))
    copies = 0
    real = _Keys.learnt

    def counted(self: _Keys) -> tuple[Any, ...]:
        nonlocal copies
        copies += 1
        return real(self)

    monkeypatch.setattr(_Keys, "learnt", counted)
    state = fold(events, lead_key=lena.settings.lead_key, playbook=lena.playbook)
    assert state.tampered is None and len(state.refusals) >= 300
    assert copies < 10, copies


def test_a_writer_of_the_store_cannot_enrol_a_key_on_a_members_own_invitation(
    _isolated: Path, clock: Clock
) -> None:
    """lena, who writes the store, reads omar's open invitation for a machine of his own in the
    log (its hash) and enrols a key of hers on it, his machine's fingerprint copied: its rows
    counted as his, his "someone other than the lead" included. The enrolment must carry the
    invitation's own signature over the key, which only omar, who received it, can make."""
    world = _world(_isolated, clock, plays=False)
    lena, omar = world.lena, world.omar
    token = _own_invitation(omar)
    machine = next(k.machine for k in omar.state().keys_of("omar"))
    key = SigningKey.generate()  # lena's, on her machine
    append(lena.store, EventKind.PERSON_ENROLLED, "omar",
           _joined(token, key, machine=machine), at=clock(), key=key)  # fmt: skip
    fresh = Program.open(_isolated, clock=clock)
    state = fresh.state()
    assert key.key_id not in state.keys or state.keys[key.key_id].person != "omar"
    # set aside, named, and his own machine still joins on his invitation
    assert state.tampered is None and not state.invitations[token].used
    (named,) = [why for _, why in state.unauthorized if "without the invitation's own" in why]
    assert f"enrols key {key.key_id} on omar's invitation" in named
    assert named in json.loads(cli("status", "--json"))["warnings"]
    desk = SigningKey.generate()
    append(lena.store, EventKind.PERSON_ENROLLED, "omar", _joined(token, desk, proven=True),
           at=clock(), key=desk)  # fmt: skip
    assert Program.open(_isolated, clock=clock).state().keys[desk.key_id].person == "omar"
