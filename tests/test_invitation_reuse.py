"""An invitation is drawn anew each time: one logged again over an earlier invitation's hash
takes that invitation from whoever holds it. lena leads and invites bob; omar, a member, may
invite a machine of his own, and reads bob's invitation's hash in the log."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from inhouse.identity import SigningKey
from inhouse.identity.invitations import invitation_key
from inhouse.program import Program
from inhouse.program.events import EventKind, append
from tests.clitools import cli
from tests.conftest import Clock
from tests.people import enrol


def _own_invitation_over(omar: Program, token_hash: str, clock: Clock) -> int:
    """omar's invitation of a machine of his own, as the API writes one, but on ``token_hash``
    (another invitation's) and with a key of his own for it."""
    body = {"name": "omar", "token_hash": token_hash, "another_key": True,
            "expires": (clock() + timedelta(days=7)).isoformat(),
            "join_key": invitation_key("omar's own").public_key}  # fmt: skip
    return append(omar.store, EventKind.PERSON_INVITED, "omar", body, at=clock(),
                  key=omar.key).seq  # fmt: skip


def test_a_members_invitation_over_a_leads_open_one_is_set_aside(
    _isolated: Path, clock: Clock
) -> None:
    """omar logs his own machine's invitation on the hash of lena's open invitation for bob: it
    made the invitation his (bob's join: 'no such invitation for bob in this program', nothing
    on status). It is set aside as his, named, and bob joins on his own invitation."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops")
    invited = lena.invite("bob", team="ops")
    seq = _own_invitation_over(omar, invited.token_hash, clock)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.invitations[invited.token_hash].name == "bob"
    (named,) = [why for at, why in state.unauthorized if at == seq]
    assert "its token's hash is the one event" in named and "invitation for bob" in named
    assert named in json.loads(cli("status", "--json"))["warnings"]
    key = SigningKey.generate()
    Program.open(_isolated, key=key, clock=clock).join(invited, key)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and state.keys[key.key_id].person == "bob"


def test_invitations_drawn_by_the_api_each_join(_isolated: Path, clock: Clock) -> None:
    """The honest way: lena's invitation for bob and omar's for his own desk, each joined."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops")
    for_bob, for_desk = lena.invite("bob", team="ops"), omar.invite("omar")
    bob, desk = SigningKey.generate(), SigningKey.generate()
    Program.open(_isolated, key=bob, clock=clock).join(for_bob, bob)
    Program.open(_isolated, key=desk, clock=clock).join(for_desk, desk, at_machine="desk")
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and not state.unauthorized
    assert state.keys[bob.key_id].person == "bob" and state.keys[desk.key_id].person == "omar"


def test_an_invitation_from_before_join_keys_logged_again_is_read_as_before(
    _isolated: Path, clock: Clock
) -> None:
    """A log from before invitations carried a key is folded as it was: the rule holds over an
    invitation that logs one (programs already running keep their verdicts)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="ops")
    older = {"name": "omar", "token_hash": "0" * 64, "another_key": True,
             "expires": (clock() + timedelta(days=7)).isoformat()}  # fmt: skip
    append(omar.store, EventKind.PERSON_INVITED, "omar", older, at=clock(), key=omar.key)
    append(omar.store, EventKind.PERSON_INVITED, "omar", older, at=clock(), key=omar.key)
    state = Program.open(_isolated, clock=clock).state()
    assert state.tampered is None and not state.unauthorized
