"""Review of exit rule 15 (``WAIVER_VOUCHED``): what an honest lead is told when a waiver's
share is spent by waivers nobody vouched for.

Under rule 15 a waiver granted with a key that never signed in as its grantor (before the
sign-in was set up, or in a program without one) counts toward every lead's share. The API's
refusal then said "lena's own waivers ... leave too little" when lena had granted none (a real
co-lead's waiver from before the sign-in, his key not signed in yet, spent it), and sent her to
"another rollout lead", whose renewal it refuses the same way. And with no sign-in at all, a
lead whose own year is spent was told another lead renews it, which rule 15 refuses too until
the sign-in tells the leads apart.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from inhouse.errors import NotAllowed
from inhouse.program import Program
from inhouse.program.state import WAIVER_LONGEST
from tests import test_waiver_share
from tests.conftest import Clock
from tests.people import enrol, sign_in_as, suite_sign_in
from tests.test_redteam56n import _made_up_colead as _colead
from tests.test_waiver_share import _grant

#: the waiver tests' program, opened after the share's release (tests/test_waiver_share.py)
lena = test_waiver_share.lena


def test_a_refusal_names_the_unvouched_waiver_that_spent_the_share(
    lena: Program, clock: Clock
) -> None:
    """omar, a real co-lead, waived before the sign-in and has not signed in since: lena, who
    granted no waiver, is told his waiver spent it and what lifts that (omar signs in with the
    key that granted it), not that her own waivers did; once he does, she renews."""
    omar = _colead(lena, "omar")
    _grant(omar, WAIVER_LONGEST.days)
    suite_sign_in(lena)  # lena signs in; omar not yet
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    with pytest.raises(NotAllowed) as refused:
        _grant(lena, 90)
    said = str(refused.value)
    assert "lena's own waivers of calendar-driven-advance for play 1 leave room" in said, said
    assert "lena's own waivers of calendar-driven-advance for play 1 leave too little" not in (
        said
    ), said
    seq = next(w.seq for w in lena.state().waivers if w.granted_by == "omar")
    assert f"waiver #{seq} by omar was granted with a key that has not signed in" in said, said
    assert "signs in with the key that granted it (`inhouse sign-in login`" in said, said
    # and status names it, as docs/concepts.md says
    warned = [w for w in lena.status()["warnings"] if f"waiver #{seq} " in w]
    assert warned and "has not signed in as omar" in warned[0], lena.status()["warnings"]
    # so does another lead's refusal: ines, signed in, is refused for the same waiver
    ines = enrol(lena, "ines", roles=["rollout-lead"])
    with pytest.raises(NotAllowed, match=f"waiver #{seq} by omar"):
        _grant(ines, 90)
    # the way out it names: omar signs in with the key that granted it, and lena renews
    sign_in_as(omar)
    _grant(lena, 90)


def test_a_revoked_key_s_waiver_is_said_never_to_sign_in(lena: Program, clock: Clock) -> None:
    """omar's key that granted the waiver was revoked before it signed in: the refusal says it
    never will, so the way out left is the evidence the guard asks for."""
    omar = _colead(lena, "omar")
    _grant(omar, WAIVER_LONGEST.days)
    lena.revoke_key(omar.key.key_id)
    suite_sign_in(lena)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    with pytest.raises(NotAllowed) as refused:
        _grant(lena, 90)
    said = str(refused.value)
    assert "by omar (that key is revoked: it never will)" in said, said
    assert "the evidence the guard asks for is recorded" in said, said


def test_without_a_sign_in_her_spent_share_says_the_sign_in_comes_first(
    lena: Program, clock: Clock
) -> None:
    """No sign-in: lena's own year spent, the refusal no longer sends her to another lead
    alone (whose renewal rule 15 refuses while nobody tells them apart) but to the sign-in."""
    _colead(lena, "ines")
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    with pytest.raises(NotAllowed) as refused:
        _grant(lena, 30)
    said = str(refused.value)
    assert "lena's own waivers of calendar-driven-advance for play 1 leave too little" in said
    assert "once the organisation's sign-in tells them apart" in said, said
    assert "`inhouse sign-in setup`" in said, said
