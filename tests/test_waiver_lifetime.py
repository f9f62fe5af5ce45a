"""A waiver expires: the lead who wants to scale cannot switch a guard off for good.

``inhouse waiver grant ... --expires 2999-01-01`` was accepted: a waiver that never lapses is a
guard switched off, which nobody after its grantor looks at again. The API now refuses an expiry
more than :data:`~inhouse.program.state.WAIVER_LONGEST` away, and the fold lapses a waiver
appended around the API with a longer one at that longest, counted from its grant (or from the
release of the rule, for a running program's waiver granted before it: every action it covered
until then stays covered).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from inhouse.errors import AntiPattern, InvalidInput
from inhouse.program import Program
from inhouse.program.checks import WAIVER_LOG_TIME
from inhouse.program.events import EventKind
from inhouse.program.state import LOG_SKEW, WAIVER_LONGEST, WAIVER_LONGEST_FROM, Waiver
from tests.conftest import Clock
from tests.people import enrol

FOREVER = datetime(2999, 1, 1, tzinfo=UTC)


@pytest.fixture
def lena(_isolated: Path, clock: Clock) -> Program:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    return lena


def _waive_around_the_api(lena: Program, expires: datetime) -> int:
    """What a script does with the lead's key: a signed waiver the API never judged."""
    event = lena._append(
        EventKind.WAIVER_GRANTED,
        "lena",
        {
            "guard": "calendar-driven-advance",
            "play": "prove-value",
            "reason": "executive-decision",
            "note": "we scale now",
            "expires": expires.isoformat(),
        },
    )
    return event.seq


def test_the_api_refuses_a_waiver_that_never_expires(lena: Program, clock: Clock) -> None:
    with pytest.raises(InvalidInput, match="too far: a waiver lasts at most 366 days") as refused:
        lena.grant_waiver(
            None,
            "calendar-driven-advance",
            play=1,
            reason="executive-decision",
            note="we scale now",
            expires=FOREVER,
        )
    assert f"until {clock.now + WAIVER_LONGEST:%Y-%m-%d %H:%M} UTC" in str(refused.value)
    assert lena.state().waivers == []  # nothing written


def test_a_waiver_appended_around_the_api_to_2999_lapses_at_the_longest(
    lena: Program, clock: Clock
) -> None:
    """The forgery: the lead appends the waiver the API refuses, then starts play 1 (whose
    trigger does not hold: no hypothesis) more than a year on. It lapsed: the start is refused."""
    seq = _waive_around_the_api(lena, FOREVER)
    lapses = max(clock.now, WAIVER_LONGEST_FROM) + WAIVER_LONGEST
    clock.now = lapses + timedelta(minutes=1)
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)
    assert "prove-value" not in lena.state().plays
    waiver = next(w for w in lena.state().waivers if w.seq == seq)
    assert waiver.expires == lapses  # shown as it lapses, not as it asked


def test_a_long_waiver_covers_what_it_covered_until_it_lapses(lena: Program, clock: Clock) -> None:
    """A running program's long waiver (granted before the rule, or around it) still lets an
    action through before it lapses, and that action stays through on every fold."""
    _waive_around_the_api(lena, FOREVER)
    clock.now = max(clock.now, WAIVER_LONGEST_FROM) + WAIVER_LONGEST - timedelta(days=1)
    lena.start_play(None, 1)
    clock.advance(days=30)  # lapsed since: the start it let through is not held back
    fresh = Program.open(lena.folder, clock=clock)
    try:
        assert "prove-value" in fresh.state().plays
        assert "prove-value" not in fresh.state().held_back
    finally:
        fresh.close()


def test_the_longest_waiver_the_api_grants_covers_its_whole_life(
    lena: Program, clock: Clock
) -> None:
    """The honest path: a waiver for exactly the longest is granted, shown with the expiry it
    asked, and lets the start through on its last day."""
    clock.now = WAIVER_LONGEST_FROM + timedelta(days=3)  # a program after the release
    until = clock.now + WAIVER_LONGEST
    waiver = lena.grant_waiver(
        None,
        "calendar-driven-advance",
        play=1,
        reason="time-boxed-experiment",
        note="a demo first; the hypothesis comes after",
        expires=until,
    )
    assert waiver.expires == until
    clock.now = until - timedelta(minutes=5)
    lena.start_play(None, 1)
    assert "prove-value" in lena.state().plays


def _colleagues(lena: Program, clock: Clock) -> list[Program]:
    """pia and sam join, each signed in on an account of their own, after the longest's
    release (so that a waiver's life counts from its grant)."""
    clock.now = WAIVER_LONGEST_FROM + timedelta(days=3)
    return [enrol(lena, "pia", team="sales"), enrol(lena, "sam", team="it")]


def _write(colleagues: list[Program]) -> None:
    """Each colleague writes once, at the right time: what a waiver's grant is held to."""
    for colleague in colleagues:
        colleague.request_access(reason="I want in")


def _on_her_clock(lena: Program, at: datetime) -> None:
    """lena's machine's clock, set to ``at`` (the others' stay right)."""
    lena.clock = lambda: at  # type: ignore[method-assign]


def _starts_around_the_api(lena: Program, clock: Clock, waiver: int) -> bool:
    """Whether a start appended around the API, naming ``waiver``, is let through by the fold."""
    start = {"play": "prove-value", "owner": "lena", "waivers": [waiver]}
    lena._append(EventKind.PLAY_STARTED, "lena", start)
    fresh = Program.open(lena.folder, clock=clock)
    try:
        return "prove-value" not in fresh.state().held_back
    finally:
        fresh.close()


@pytest.mark.parametrize("then", ["set back", "kept ahead"])
def test_a_waiver_granted_on_a_clock_set_forward_does_not_outlive_its_longest(
    lena: Program, clock: Clock, then: str
) -> None:
    """The forgery (exit rule 18, ``WAIVER_LOG_TIME``): lena sets her clock forward once (to
    2999), grants a waiver within the longest there, and sets it back (or keeps it ahead). Her
    actions were judged no earlier than her own latest event, the waiver itself: inside its
    life for as long as she liked. pia and sam wrote after it, so it was granted before they
    did: its life counts from then, and lapses within the longest."""
    colleagues = _colleagues(lena, clock)
    real = clock.now
    _on_her_clock(lena, FOREVER)
    waiver = _grant_for(lena, FOREVER + timedelta(days=300))  # the API cannot tell yet
    clock.advance(hours=1)
    _write(colleagues)
    dated = next(w for w in lena.state().waivers if w.seq == waiver.seq)
    since = clock.now + LOG_SKEW
    assert (dated.granted_at, dated.expires) == (since, since + timedelta(days=300))
    if then == "set back":  # well past any longest
        _on_her_clock(lena, real + WAIVER_LONGEST + timedelta(days=200))
    else:  # a day after the grant, on her clock, for good
        _on_her_clock(lena, FOREVER + timedelta(days=1))
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)  # no hypothesis: the trigger does not hold
    assert not _starts_around_the_api(lena, clock, waiver.seq)


def test_a_waiver_dated_forward_before_anyone_joined_lapses_once_two_have_written(
    lena: Program, clock: Clock
) -> None:
    """The forgery planted early: lena, alone, grants the 2999 waiver around the API before
    she invites anyone, then sets her clock back. pia and sam join and write; a year and more
    on, her start is refused."""
    _on_her_clock(lena, FOREVER)
    seq = _waive_around_the_api(lena, FOREVER + timedelta(days=300))
    lena.clock = clock  # type: ignore[method-assign]
    _write(_colleagues(lena, clock))
    _on_her_clock(lena, clock.now + WAIVER_LONGEST)
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)
    assert not _starts_around_the_api(lena, clock, seq)


def test_a_clock_a_few_weeks_ahead_buys_nothing_once_two_have_written(
    lena: Program, clock: Clock
) -> None:
    """The next cheapest forgery: her clock set forward a few weeks only. Its life counts from
    when pia and sam wrote after it all the same; a start a year on is refused."""
    colleagues = _colleagues(lena, clock)
    _on_her_clock(lena, clock.now + timedelta(days=29))
    waiver = _grant_for(lena, lena.clock() + WAIVER_LONGEST)
    _write(colleagues)
    dated = next(w for w in lena.state().waivers if w.seq == waiver.seq)
    assert dated.expires == clock.now + LOG_SKEW + WAIVER_LONGEST
    _on_her_clock(lena, dated.expires + timedelta(minutes=1))
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)


def test_an_honest_waiver_lasts_its_longest_with_the_colleagues_writing(
    lena: Program, clock: Clock
) -> None:
    """The honest path: lena's clock is right; pia writes after her grant, and sam, whose clock
    runs a week behind, too. One colleague's clock moves nothing: the waiver lasts as asked and
    covers the start on its last day."""
    pia, sam = _colleagues(lena, clock)
    until = clock.now + WAIVER_LONGEST
    waiver = _grant_for(lena, until)
    clock.advance(days=2)
    _write([pia])
    sam.clock = lambda: clock.now - timedelta(days=7)  # type: ignore[method-assign]
    _write([sam])
    assert next(w for w in lena.state().waivers if w.seq == waiver.seq) == waiver
    clock.now = until - timedelta(minutes=5)
    lena.start_play(None, 1)
    assert "prove-value" in lena.state().plays


def test_a_waiver_dated_ahead_in_a_log_before_the_rule_keeps_its_effect(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log whose events show rules before 18 (older inhouses wrote them): a waiver dated
    ahead there keeps the life it had, and what it covered stays covered."""
    from inhouse.program import engine, handoffs, people, waivers

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", WAIVER_LOG_TIME - 1)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    colleagues = _colleagues(lena, clock)
    _on_her_clock(lena, FOREVER)
    seq = _waive_around_the_api(lena, FOREVER + timedelta(days=300))
    _write(colleagues)
    fresh = Program.open(lena.folder, clock=clock)
    try:
        waiver = next(w for w in fresh.state().waivers if w.seq == seq)
        assert waiver.expires == FOREVER + timedelta(days=300)
    finally:
        fresh.close()


@pytest.mark.xfail(
    strict=True,
    reason="hole left open until two others write after the waiver: an event's time is its "
    "writer's clock, and a lead alone in her program (or whose colleagues write nothing after "
    "her grant) has no other clock in the log to be held to. She sets her clock forward once "
    "(to 2999), grants a waiver within the longest there, and sets it back: her actions are "
    "judged no earlier than her own latest event (2999), inside the waiver's life. Once two "
    "signed-in colleagues write after it, rule 18 (WAIVER_LOG_TIME) counts its life from "
    "then. Closing it alone needs a clock that is not hers (a time-stamping authority, or "
    "the provider's sign-in time asked for each grant): a product decision",
)
def test_a_waiver_granted_alone_on_a_clock_set_forward_does_not_outlive_its_longest(
    lena: Program, clock: Clock
) -> None:
    real = clock.now
    clock.now = FOREVER  # lena's machine, set forward once
    _grant_for(lena, clock.now + timedelta(days=300))
    clock.now = real + WAIVER_LONGEST + timedelta(days=200)  # set back; well past any longest
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)  # no hypothesis: the trigger does not hold


def _grant_for(lena: Program, expires: datetime) -> Waiver:
    return lena.grant_waiver(
        None,
        "calendar-driven-advance",
        play=1,
        reason="time-boxed-experiment",
        note="a short experiment",
        expires=expires,
    )


@pytest.mark.parametrize("expiry", [None, "missing"])
def test_a_waiver_with_no_expiry_appended_around_the_api_is_named(
    lena: Program, clock: Clock, expiry: str | None
) -> None:
    """A lead's script signs a waiver with no expiry (null, or none at all): the fold named no
    problem and stopped every command at an assertion; now it says which event and why."""
    data = {"guard": "calendar-driven-advance", "play": "prove-value",
            "reason": "executive-decision", "note": "we scale now", "expires": expiry}  # fmt: skip
    if expiry == "missing":
        del data["expires"]
    seq = lena._append(EventKind.WAIVER_GRANTED, "lena", data).seq
    fresh = Program.open(lena.folder, clock=clock)
    try:
        state = fresh.state()
        assert state.tampered == (
            f"event {seq} (waiver.granted) was signed by lena: a waiver with no expiry (the API "
            "refuses one)",
            seq,
        )
        assert state.waivers == []
    finally:
        fresh.close()


def test_a_naive_expiry_appended_around_the_api_reads_as_utc(lena: Program, clock: Clock) -> None:
    soon = clock.now + timedelta(days=3)
    _waive_around_the_api(lena, soon.replace(tzinfo=None))
    fresh = Program.open(lena.folder, clock=clock)
    try:
        [waiver] = fresh.state().waivers
        assert waiver.expires == soon
    finally:
        fresh.close()


def test_a_waiver_dated_forward_in_a_program_running_since_before_the_rule_lapses(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forgery in a program running since before rule 18 (its creation and enrolments
    written by an older inhouse): lena upgrades and, with today's inhouse, sets her clock
    forward once, grants a waiver there and sets it back. A grant is no exit, handoff or
    enrolment, and none of those may come for weeks: were the rule in force only where one
    of them showed it, her waiver would cover her actions for good although pia and sam wrote
    after it. Her grant says the rules it was written under, so its life counts from theirs."""
    from inhouse.program import checks, engine, handoffs, people, waivers

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", WAIVER_LOG_TIME - 1)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    colleagues = _colleagues(lena, clock)
    for module in (engine, handoffs, people, waivers):  # lena's inhouse now judges by rule 18
        monkeypatch.setattr(module, "EXIT_RULES", checks.EXIT_RULES)
    real = clock.now
    _on_her_clock(lena, FOREVER)
    waiver = _grant_for(lena, FOREVER + timedelta(days=300))
    clock.advance(hours=1)
    _write(colleagues)
    dated = next(w for w in lena.state().waivers if w.seq == waiver.seq)
    since = clock.now + LOG_SKEW
    assert (dated.granted_at, dated.expires) == (since, since + timedelta(days=300))
    _on_her_clock(lena, real + WAIVER_LONGEST + timedelta(days=200))
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)


@pytest.mark.xfail(
    strict=True,
    reason="hole left open for programs running since before rule 18: a waiver granted by an "
    "older inhouse (or appended around the API without its rules) shows no rule, and until an "
    "exit, a handoff or an enrolment shows rule 18 in force the fold cannot tell it from an "
    "honest grant of before the rule, whose life (and what it covered) old logs keep",
)
def test_a_waiver_dated_forward_around_the_api_in_a_program_running_since_before_the_rule(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inhouse.program import engine, handoffs, people, waivers

    for module in (engine, handoffs, people, waivers):
        monkeypatch.setattr(module, "EXIT_RULES", WAIVER_LOG_TIME - 1)
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    colleagues = _colleagues(lena, clock)
    _on_her_clock(lena, FOREVER)
    seq = _waive_around_the_api(lena, FOREVER + timedelta(days=300))
    lena.clock = clock  # type: ignore[method-assign]
    _write(colleagues)
    clock.now += WAIVER_LONGEST
    assert not _starts_around_the_api(lena, clock, seq)


def test_a_waiver_granted_before_its_grantor_signed_in_is_no_other_writers_to_date(
    lena: Program, clock: Clock
) -> None:
    """The forgery: lena grants the 2999 waiver before the organisation's sign-in is set up
    (her grant is then no account's), then sets the sign-in up and signs in with her clock
    still forward. Her own account is no "other" account that wrote after it: were it, she and
    pia alone would date it (at her 2999), and sam's writing after it would move nothing.
    Only pia and sam date it, so its life counts from theirs."""
    from tests.people import sign_in_as, suite_sign_in

    clock.now = WAIVER_LONGEST_FROM + timedelta(days=3)
    pia = enrol(lena, "pia", team="sales", signed_in=False)
    sam = enrol(lena, "sam", team="it", signed_in=False)
    real = clock.now
    _on_her_clock(lena, FOREVER)
    waiver = _grant_for(lena, FOREVER + timedelta(days=300))
    assert suite_sign_in(lena)  # set up and signed in, at 2999 on her clock
    clock.advance(hours=1)
    sign_in_as(pia)
    sign_in_as(sam)
    _write([pia, sam])
    dated = next(w for w in lena.state().waivers if w.seq == waiver.seq)
    assert dated.granted_at < FOREVER
    _on_her_clock(lena, real + WAIVER_LONGEST + timedelta(days=200))
    with pytest.raises(AntiPattern, match="calendar-driven advance"):
        lena.start_play(None, 1)
