"""One lead alone cannot keep a guard switched off by renewing its waiver back to back.

A waiver lapses within a year (``test_waiver_lifetime``), but the lead could grant a fresh one
the day it lapsed, forever: scaling before proving, governance theater or skipping play five
off for good on one person's word. Exit rule 10 (``WAIVER_SHARE``): one person's waivers of one
guard cover at most :data:`~inhouse.program.state.WAIVER_LONGEST` in any
:data:`~inhouse.program.state.WAIVER_WINDOW`. The API refuses a grant past its grantor's share;
the fold lapses one appended around the API when the share is spent (where the log shows the
rule in force at it; a waiver granted before keeps its effect). Another lead renews it, on the
record in their own name.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import AntiPattern, NotAllowed
from inhouse.program import Program
from inhouse.program.events import EventKind
from inhouse.program.state import WAIVER_LONGEST, WAIVER_LONGEST_FROM, WAIVER_WINDOW, Waiver
from tests.conftest import Clock
from tests.people import enrol

GUARD = "calendar-driven-advance"


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Program:
    clock.now = WAIVER_LONGEST_FROM + timedelta(days=3)  # a program after the release
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    return lena


def _grant(program: Program, days: float, play: int | None = 1) -> object:
    return program.grant_waiver(
        None,
        GUARD,
        play=play,
        reason="time-boxed-experiment",
        note="a demo first; the hypothesis comes after",
        expires=program.clock() + timedelta(days=days),
    )


def _waive_around_the_api(lena: Program, days: float) -> int:
    """What a script does with the lead's key: a signed waiver the API never judged."""
    expires = lena.clock() + timedelta(days=days)
    data = {"guard": GUARD, "play": "prove-value", "reason": "executive-decision",
            "note": "we scale now", "expires": expires.isoformat()}  # fmt: skip
    return lena._append(EventKind.WAIVER_GRANTED, "lena", data).seq


def _starts(program: Program) -> bool:
    """Whether play 1 starts (its trigger does not hold: no hypothesis; only a waiver lets it)."""
    try:
        program.start_play(None, 1)
    except AntiPattern:
        return False
    return True


def test_the_lead_cannot_renew_her_own_waiver_the_day_it_lapses(
    lena: Program, clock: Clock
) -> None:
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)  # lapsed an hour ago
    with pytest.raises(NotAllowed) as refused:
        _grant(lena, 30)
    said = str(refused.value)
    assert "lena's own waivers of calendar-driven-advance for play 1 leave too little of what " \
        "one person may waive a guard for (366 days in any 732): none is left to grant now" \
        in said, said  # fmt: skip
    assert "another rollout lead renews it on the record in their own name" in said, said
    assert len(lena.state().waivers) == 1  # nothing written
    # nor for the whole program, which covers play 1 too
    with pytest.raises(NotAllowed, match="for the program leave too little"):
        _grant(lena, 30, play=None)
    assert not _starts(lena)


def test_short_waivers_add_up_to_the_same_share(lena: Program, clock: Clock) -> None:
    """Renewing a month at a time is no way round: the months add up (overlaps once)."""
    for _ in range(12):
        _grant(lena, 30)
        clock.now += timedelta(days=20)  # each renewed while the last still runs
    used = 11 * 20 + 20  # covered so far: union of the twelve, up to now
    with pytest.raises(NotAllowed, match=r"may run until .* at most"):
        _grant(lena, 366 - used + 1)
    _grant(lena, 366 - used)  # exactly what is left


def test_another_lead_renews_it_on_the_record(lena: Program, clock: Clock) -> None:
    """The honest organisation's way: a second person answers for the guard's next year."""
    ines = enrol(lena, "ines", roles=["rollout-lead"])
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    until = clock.now + timedelta(days=90)
    waiver = ines.grant_waiver(
        None, GUARD, play=1, reason="executive-decision", note="still a demo", expires=until
    )
    assert waiver.granted_by == "ines" and waiver.expires == until
    assert _starts(lena)


def test_the_share_comes_back_once_the_window_has_passed(lena: Program, clock: Clock) -> None:
    """A year off, then the guard is on for as long again: then the lead may waive it anew."""
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_WINDOW - timedelta(days=1)  # on for a year less a day: a day too soon
    with pytest.raises(NotAllowed, match="none is left to grant now"):
        _grant(lena, 1)  # a day now would make a year and a day in the 732 ending with it
    clock.now += timedelta(days=1)
    _grant(lena, WAIVER_LONGEST.days)
    assert _starts(lena)


def test_a_renewal_appended_around_the_api_lapses_when_the_share_is_spent(
    lena: Program, clock: Clock
) -> None:
    """The forgery: the lead signs the renewal the API refuses with her own key, with a script.
    Every fold lapses it at its grant: the start it would let through is refused."""
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    seq = _waive_around_the_api(lena, 300)
    fresh = Program.open(lena.folder, clock=clock)
    try:
        waiver = next(w for w in fresh.state().waivers if w.seq == seq)
        assert waiver.expires == waiver.granted_at  # no share left: it covers nothing
        assert not _starts(fresh)
        assert "prove-value" not in fresh.state().plays
    finally:
        fresh.close()


def test_a_waiver_from_a_log_before_the_rule_keeps_its_effect(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log whose events show rules before 10 (an older inhouse wrote them): a renewal on it
    covers what it asks, as it did; the rule binds from where the log shows it."""
    from inhouse.program import engine, handoffs, people, waivers
    from inhouse.program.checks import WAIVER_SHARE

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", WAIVER_SHARE - 1)
    clock.now = WAIVER_LONGEST_FROM + timedelta(days=3)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    _waive_around_the_api(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    seq = _waive_around_the_api(lena, 300)  # what an older inhouse granted
    fresh = Program.open(lena.folder, clock=clock)
    try:
        waiver = next(w for w in fresh.state().waivers if w.seq == seq)
        assert waiver.expires == waiver.granted_at + timedelta(days=300)
        assert _starts(fresh)
    finally:
        fresh.close()


def _waiver(program: Program, seq: int) -> Waiver:
    fresh = Program.open(program.folder, clock=program.clock)
    try:
        return next(w for w in fresh.state().waivers if w.seq == seq)
    finally:
        fresh.close()


def test_a_waiver_dated_ahead_then_one_dated_back_make_no_two_years(
    lena: Program, clock: Clock
) -> None:
    """The forgery, with her own key and a script: she appends next year's waiver dated a year
    ahead (her clock set forward), then this year's dated now. Each, judged at its own time,
    found the other's year unspent (a waiver dated after the grant was left out), so one person
    kept the guard off for two years running. The one dated now now sees next year's in full:
    with no share left, it lapses at its grant."""
    now = clock.now
    clock.now = now + WAIVER_LONGEST  # set forward: next year's, dated then
    ahead = _waive_around_the_api(lena, WAIVER_LONGEST.days)
    clock.now = now  # and back
    seq = _waive_around_the_api(lena, WAIVER_LONGEST.days)
    later = _waiver(lena, ahead)
    assert later.expires == later.granted_at + WAIVER_LONGEST
    waiver = _waiver(lena, seq)
    assert waiver.expires == waiver.granted_at, waiver


def test_a_co_lead_she_made_up_renews_nothing_for_her(lena: Program, clock: Clock) -> None:
    """The forgery, with the sign-in set up: her year spent, the lead invites a co-lead 'zed',
    joins as him with a key of hers that never signs in, and appends the renewal the API would
    refuse her, in zed's name. Its name is nobody's word: it counts toward every grantor's
    share, and its own share counts every waiver, hers too, so it lapses at its grant. A
    colleague who signed in as himself still renews, on the record in his own name."""
    ines = enrol(lena, "ines", roles=["rollout-lead"])  # sets up the sign-in; ines signs in
    _grant(lena, WAIVER_LONGEST.days)
    clock.now += WAIVER_LONGEST + timedelta(hours=1)
    zed = enrol(lena, "zed", roles=["rollout-lead"], machine="lena-laptop", signed_in=False)
    expires = zed.clock() + timedelta(days=300)
    data = {"guard": GUARD, "play": "prove-value", "reason": "executive-decision",
            "note": "zed says so", "expires": expires.isoformat()}  # fmt: skip
    seq = zed._append(EventKind.WAIVER_GRANTED, "zed", data).seq
    waiver = _waiver(lena, seq)
    assert waiver.granted_by == "zed" and waiver.expires == waiver.granted_at, waiver
    assert not _starts(lena)
    renewed = ines.grant_waiver(
        None, GUARD, play=1, reason="executive-decision", note="ines answers for it",
        expires=ines.clock() + timedelta(days=90),
    )  # fmt: skip
    assert renewed.expires == ines.clock() + timedelta(days=90)
    assert _starts(lena)
