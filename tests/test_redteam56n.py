"""Red team of plays 5 and 6, handoffs, waivers and guards (rt56n): what lena does alone.

**A co-lead invented before the sign-in renews her waiver.** Exit rule 10 (``WAIVER_SHARE``)
keeps one person's waivers of a guard to a year in two; another lead renews, on the record in
their own name. With the sign-in set up, a co-lead whose key never signed in renews nothing
(tests/test_waiver_share.py). Before it was set up (or in a program that never sets it up, or
with one on a loopback address) nobody is told apart: lena invites 'zed', joins as him with a
key of hers, and zed waives the guard for a year; then she waives it for the next year in her
own name, her share untouched by 'zed's. Or, with no sign-in ever, the two take turns for good.
Exit rule 15 (``WAIVER_VOUCHED``): a waiver is its grantor's word only where its key signed in
as them with a sign-in that vouches for anyone; else it counts toward every lead's share.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from inhouse.errors import AntiPattern, NotAllowed
from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.events import EventKind
from inhouse.program.state import WAIVER_LONGEST
from tests import test_waiver_share
from tests.conftest import Clock
from tests.people import enrol, sign_in_as, suite_sign_in
from tests.test_waiver_share import GUARD, _grant, _waiver

#: the waiver tests' program, opened after the share's release (tests/test_waiver_share.py)
lena = test_waiver_share.lena


def _made_up_colead(lena: Program, name: str = "zed") -> Program:
    """A co-lead lena invites and joins as herself, on her own machine, before any sign-in."""
    text = lena.invite(name, roles=["rollout-lead"])
    key = SigningKey.generate()
    lena.join(str(text), key, at_machine=f"{name}-laptop")
    return lena.using(key)


def _starts(program: Program) -> bool:
    """Whether play 1 starts (its trigger does not hold: no hypothesis; only a waiver lets it)."""
    fresh = Program.open(program.folder, key=program.key, clock=program.clock)
    try:
        fresh.start_play(None, 1)
    except AntiPattern:
        return False
    finally:
        fresh.close()
    return True


def test_a_co_lead_made_up_before_the_sign_in_renews_nothing_for_her(
    lena: Program, clock: Clock
) -> None:
    """zed's year, granted before the sign-in, then the sign-in set up and lena signed in: her
    own year after zed's is refused by the API, and appended around it lapses at its grant."""
    zed = _made_up_colead(lena)
    _grant(zed, WAIVER_LONGEST.days)  # no sign-in: the API lets zed's first year through
    suite_sign_in(lena)  # the sign-in set up; lena signs in; zed never can
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    with pytest.raises(NotAllowed, match="none is left to grant now"):
        _grant(lena, 300)
    expires = lena.clock() + timedelta(days=300)
    data = {"guard": GUARD, "play": "prove-value", "reason": "executive-decision",
            "note": "we scale now", "expires": expires.isoformat()}  # fmt: skip
    seq = lena._append(EventKind.WAIVER_GRANTED, "lena", data).seq
    waiver = _waiver(lena, seq)
    assert waiver.expires == waiver.granted_at, waiver
    assert not _starts(lena)


def test_without_a_sign_in_two_leads_are_one_person_for_the_share(
    lena: Program, clock: Clock
) -> None:
    """No sign-in ever: lena and zed would take turns, a year each, for good. Each is anyone's
    word: zed's renewal after her year is refused, naming what to do; around the API it
    lapses at its grant."""
    zed = _made_up_colead(lena)
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    with pytest.raises(NotAllowed) as refused:
        _grant(zed, 300)
    said = str(refused.value)
    assert "zed's are not told apart from another lead's" in said, said
    assert "`inhouse sign-in setup`" in said, said
    expires = zed.clock() + timedelta(days=300)
    data = {"guard": GUARD, "play": "prove-value", "reason": "executive-decision",
            "note": "zed says so", "expires": expires.isoformat()}  # fmt: skip
    seq = zed._append(EventKind.WAIVER_GRANTED, "zed", data).seq
    waiver = _waiver(lena, seq)
    assert waiver.expires == waiver.granted_at, waiver
    assert not _starts(lena)


def test_her_own_waiver_before_the_sign_in_is_hers_once_her_key_signs_in(
    lena: Program, clock: Clock
) -> None:
    """The honest way: lena waives before the sign-in; once set up, her key signs in as her,
    and ines, signed in as herself, renews it on the record in her own name."""
    _grant(lena, WAIVER_LONGEST.days)
    ines = enrol(lena, "ines", roles=["rollout-lead"])  # sets up the sign-in; both sign in
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    with pytest.raises(NotAllowed):
        _grant(lena, 30)
    renewed = _grant(ines, 90)
    assert renewed.granted_by == "ines"
    assert renewed.expires == ines.clock() + timedelta(days=90)
    assert _starts(lena)


def test_a_colead_signed_in_later_renews_for_her(lena: Program, clock: Clock) -> None:
    """A real co-lead who waived before the sign-in and signed in since, with the key that
    granted it: the waiver was theirs, and lena renews it after them."""
    omar = _made_up_colead(lena, "omar")
    _grant(omar, WAIVER_LONGEST.days)
    suite_sign_in(lena)
    sign_in_as(omar)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    renewed = _grant(lena, 90)
    assert renewed.expires == lena.clock() + timedelta(days=90)
    assert _starts(lena)


def _append_start(lena: Program) -> None:
    """Play 1 started around the API (its trigger does not hold: no hypothesis)."""
    lena._append(EventKind.PLAY_STARTED, "lena", {"play": "prove-value", "owner": "lena",
                                                  "waivers": []})  # fmt: skip


def _held_back(program: Program) -> list[str]:
    fresh = Program.open(program.folder, clock=program.clock)  # another machine's fold
    try:
        held = fresh.status()["plays"]
        by_play = {p["id"]: p for p in held} if isinstance(held, list) else held
        shown = [g["guard"] for g in by_play["prove-value"]["held_back"]]
        assert shown == [g for g, _ in fresh.state().unwaived_start("prove-value")]
        return shown
    finally:
        fresh.close()


def test_a_waiver_with_no_share_left_puts_no_start_on_the_record(
    lena: Program, clock: Clock
) -> None:
    """**Held-back actions put on the record by a waiver that waives nothing.** A start (or a
    gateway key's grant, a pilot member added) appended around its guard is held back on every
    fold until a waiver of that guard granted after it puts it on the record. Her year spent,
    lena starts play 1 around the API, then appends the waiver the API refuses her: every fold
    lapses it at its grant (rule 10), yet it cleared the start's hold all the same, the guard
    off on her word alone. A waiver that lapsed at its grant puts nothing on the record."""
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)  # lapsed: her share is spent
    assert not _starts(lena)
    _append_start(lena)
    assert _held_back(lena) == [GUARD]
    expires = lena.clock() + timedelta(days=300)
    data = {"guard": GUARD, "play": "prove-value", "reason": "executive-decision",
            "note": "on the record, she says", "expires": expires.isoformat()}  # fmt: skip
    seq = lena._append(EventKind.WAIVER_GRANTED, "lena", data).seq
    waiver = _waiver(lena, seq)
    assert waiver.expires == waiver.granted_at, waiver  # it waives nothing
    assert _held_back(lena) == [GUARD]


def test_a_waiver_another_lead_grants_puts_the_start_on_the_record(
    lena: Program, clock: Clock
) -> None:
    """The honest way: a second lead, signed in as herself, waives it on the record."""
    ines = enrol(lena, "ines", roles=["rollout-lead"])
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    _append_start(lena)
    assert _held_back(lena) == [GUARD]
    _grant(ines, 30)
    assert _held_back(lena) == []
