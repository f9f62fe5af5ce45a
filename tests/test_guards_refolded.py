"""A play's start is held to its start guards by every fold, not only by the API that writes it.

The API refuses a start its guards hold back (a botched handoff, a trigger that does not hold)
unless a lead's waiver covers it. Anyone holding an enrolled key can append a signed
``play.started`` around the API; these tests are that forgery, by the lead alone, and what
every reader of the log sees of it: the play shown as started around its guards, in status and
in its JSON, from any machine's fold; its handoff refused until a waiver puts it on the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from inhouse.errors import InhouseError, Refused
from inhouse.program import Program
from inhouse.program.events import EventKind
from inhouse.program.state import Waiver
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import (
    HERE,
    LOCK,
    lock_baseline,
    measured,
    play,
    prove,
    reproduce,
    through_play_two,
)

pytestmark = pytest.mark.usefixtures("on_database")


@pytest.fixture
def cast(_isolated: Path, clock: Clock) -> Iterator[dict[str, Program]]:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    yield {"lena": lena, "omar": omar}
    lena.close()


def _waive(
    program: Program,
    guard: str,
    *,
    clock: Clock,
    note: str,
    play: int | None = None,
    reason: str = "time-boxed-experiment",
    days: int = 1,
) -> Waiver:
    """A lead's waiver of ``guard`` (for ``play``), expiring ``days`` from now."""
    return program.grant_waiver(
        None, guard, play=play, reason=reason, note=note, expires=clock.now + timedelta(days=days)
    )


def _start_around_the_api(
    program: Program, play_id: str, waivers: list[int] | None = None, *, owner: str = "lena"
) -> int:
    """What a script does with the lead's key: a signed start the API never judged."""
    event = program._append(
        EventKind.PLAY_STARTED, "lena", {"play": play_id, "owner": owner, "waivers": waivers or []}
    )
    return event.seq


def test_a_start_appended_around_a_botched_handoff_is_shown_and_stops_the_handoff(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena, omar = cast["lena"], cast["omar"]
    prove(lena)  # play 1 proven, but its handoff never offered or accepted
    omar.request_access(reason="I want the triage model")  # play 2's trigger holds
    seq = _start_around_the_api(lena, "baseline")

    view = play(lena, 2)
    assert view["owner"] == "lena"  # the start is in the log: it is not hidden…
    assert [h["guard"] for h in view["held_back"]] == ["botched-handoff"]  # …nor trusted
    assert "has not offered its handoff" in view["held_back"][0]["why"]
    warning = next(w for w in lena.status()["warnings"] if "held it back" in w)
    assert f"started by lena at event {seq}" in warning
    assert "inhouse waiver grant botched-handoff --play baseline" in warning
    # every reader's fold finds it: omar's process, and a fold from scratch
    assert [h["guard"] for h in play(omar, 2)["held_back"]] == ["botched-handoff"]
    fresh = Program.open(lena.folder, clock=clock)
    try:
        assert fresh.state().held_back["baseline"].seq == seq
    finally:
        fresh.close()

    lock_baseline(lena)
    measured(omar, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(omar)
    with pytest.raises(Refused, match="held it back"):
        lena.offer_handoff(None, 2, to="omar")

    waiver = _waive(
        lena,
        "botched-handoff",
        play=2,
        reason="executive-decision",
        note="the baseline was started before play 1's handoff; recorded now",
        clock=clock,
    )
    assert play(lena, 2)["held_back"] == []
    assert not any("held it back" in w for w in lena.status()["warnings"])
    assert waiver.seq > seq
    lena.offer_handoff(None, 2, to="omar")  # on the record now: the play goes on


def test_a_start_whose_trigger_does_not_hold_is_held_back(cast: dict[str, Program]) -> None:
    lena = cast["lena"]
    _start_around_the_api(lena, "prove-value")  # no hypothesis: play 1's trigger fails
    assert [h["guard"] for h in play(lena, 1)["held_back"]] == ["calendar-driven-advance"]
    with pytest.raises(Refused, match="held it back"):
        lena.offer_handoff(None, 1, to="lena")


def test_citing_a_waiver_of_another_guard_does_not_cover_the_start(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena, omar = cast["lena"], cast["omar"]
    prove(lena)
    omar.request_access(reason="I want the triage model")
    other = _waive(
        lena,
        "calendar-driven-advance",
        play=2,
        note="a waiver of the trigger, not of the handoff",
        clock=clock,
    )
    _start_around_the_api(lena, "baseline", waivers=[other.seq])
    assert [h["guard"] for h in play(lena, 2)["held_back"]] == ["botched-handoff"]


def test_a_waiver_that_expired_before_the_start_does_not_cover_it(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena = cast["lena"]
    _waive(lena, "calendar-driven-advance", play=1, note="a demo on Friday", clock=clock)
    clock.advance(days=2)
    _start_around_the_api(lena, "prove-value")
    assert [h["guard"] for h in play(lena, 1)["held_back"]] == ["calendar-driven-advance"]


def test_a_start_backdated_into_an_expired_waivers_life_is_held_back(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena = cast["lena"]
    _waive(lena, "calendar-driven-advance", play=1, note="a demo on Friday", clock=clock)
    clock.advance(days=2)
    lena.change_roles(None, "omar", add=["champion"])  # her own log goes on past the expiry
    clock.advance(days=-3)  # a script writes its own clock: back inside the waiver's life
    _start_around_the_api(lena, "prove-value")  # no hypothesis: the trigger does not hold
    clock.advance(days=3)
    assert [h["guard"] for h in play(lena, 1)["held_back"]] == ["calendar-driven-advance"]


def test_starts_the_api_let_through_are_never_held_back(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena, omar = cast["lena"], cast["omar"]
    through_play_two(lena, omar)  # plays 1 and 2 started by their guards
    assert lena.state().held_back == {}
    assert all(p["held_back"] == [] for p in lena.status()["plays"])
    assert not any("held it back" in w for w in lena.status()["warnings"])


def test_a_start_under_an_active_waiver_is_not_held_back(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena = cast["lena"]
    _waive(
        lena,
        "calendar-driven-advance",
        play=1,
        days=7,
        note="a demo on Friday; the hypothesis comes after",
        clock=clock,
    )
    lena.start_play(None, 1)  # the API lets it through on the waiver
    assert play(lena, 1)["held_back"] == []
    assert lena.state().held_back == {}


def test_a_start_around_the_api_that_an_active_waiver_covers_is_not_held_back(
    cast: dict[str, Program], clock: Clock
) -> None:
    """The waiver was on the record and active: the API would have let it through, citing
    it or not."""
    lena = cast["lena"]
    _waive(lena, "calendar-driven-advance", play=1, days=7, note="a demo on Friday", clock=clock)
    _start_around_the_api(lena, "prove-value")
    assert lena.state().held_back == {}


def _add_to_pilot_around_the_api(program: Program, name: str) -> int:
    person = program.state().people[name]
    roles = sorted({*person.roles, "pilot-user"})
    payload = {"name": name, "email": person.email, "team": person.team, "roles": roles}
    return program._append(EventKind.PERSON_CHANGED, "lena", payload).seq


def test_a_pilot_member_added_around_scaling_before_proving_is_shown_and_holds_handoffs(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena, omar = cast["lena"], cast["omar"]
    prove(lena)  # play 1 running: nothing is proven to a pilot yet
    seq = _add_to_pilot_around_the_api(lena, "omar")
    assert "pilot-user" in lena.state().people["omar"].roles  # in the log: not hidden…
    (held,) = lena.state().reach_held_back  # …nor trusted
    assert held.action == "add omar to the pilot" and held.seq == seq
    assert {guard for guard, _, _ in held.blockers} == {"scaling-before-proving"}
    warning = next(w for w in omar.status()["warnings"] if "add omar to the pilot" in w)
    assert f"at event {seq}" in warning and "inhouse waiver grant scaling-before-proving" in warning
    with pytest.raises(Refused, match="add omar to the pilot"):
        lena.offer_handoff(None, 1, to="lena")

    _waive(
        lena,
        "scaling-before-proving",
        reason="executive-decision",
        note="omar joined the pilot before play 1 was proven; recorded now",
        clock=clock,
    )
    assert lena.state().unwaived_reach() == []
    assert not any("add omar to the pilot" in w for w in lena.status()["warnings"])
    lena.offer_handoff(None, 1, to="lena")


def test_an_invitation_into_the_pilot_around_the_guard_is_held_back(
    cast: dict[str, Program],
) -> None:
    lena = cast["lena"]
    payload = {"name": "ines", "token_hash": "0" * 64, "another_key": False,
               "expires": (lena.clock() + timedelta(days=7)).isoformat(), "email": "",
               "team": "", "roles": ["pilot-user"]}  # fmt: skip
    lena._append(EventKind.PERSON_INVITED, "lena", payload)
    assert [h.action for h, _ in lena.state().unwaived_reach()] == ["add ines to the pilot"]


def test_roles_the_api_gave_are_never_held_back(cast: dict[str, Program], clock: Clock) -> None:
    lena = cast["lena"]
    lena.change_roles(None, "omar", add=["champion"])  # no reach: not a guarded change
    _waive(
        lena,
        "scaling-before-proving",
        days=14,
        note="a two-week pilot before play 3 exits",
        clock=clock,
    )
    lena.change_roles(None, "omar", add=["pilot-user"])  # through the guard, on the waiver
    assert lena.state().reach_held_back == []
    assert not any("to the pilot" in w for w in lena.status()["warnings"])


def test_a_second_start_of_a_started_play_stops_the_fold(cast: dict[str, Program]) -> None:
    """It would re-own the play, or narrow the first start's held-back guards to one a waiver
    of another guard clears: the API refuses it, and the fold stops at one written around it."""
    lena, omar = cast["lena"], cast["omar"]
    through_play_two(lena, omar)
    event = lena._append(
        EventKind.PLAY_STARTED, "lena", {"play": "baseline", "owner": "omar", "waivers": []}
    )
    problem, seq = lena.state().tampered or ("", 0)
    assert seq == event.seq and "play baseline was started already, by lena" in problem
    assert lena.state().plays["baseline"].owner == "lena"  # as of the event before it


def test_a_waiver_that_expired_before_it_was_granted_stops_the_fold(
    cast: dict[str, Program], clock: Clock
) -> None:
    lena = cast["lena"]
    _start_around_the_api(lena, "prove-value")
    lena._append(EventKind.WAIVER_GRANTED, "lena",
                 {"guard": "calendar-driven-advance", "play": "prove-value", "reason": "other",
                  "note": "put on the record, already over",
                  "expires": (clock.now - timedelta(days=500)).isoformat()})  # fmt: skip
    problem, _ = lena.state().tampered or ("", 0)
    assert "a waiver that expired before it was granted" in problem


def test_another_writers_clock_ahead_moves_nobody_elses_judgement(
    cast: dict[str, Program], clock: Clock
) -> None:
    """omar's clock is a month ahead when he asks for access: lena's start, on her waiver, is
    judged at her own time (by the API and every fold alike), and status names the clock."""
    lena, omar = cast["lena"], cast["omar"]
    clock.advance(days=30)
    omar.request_access(reason="I want the triage model")
    clock.advance(days=-30)
    _waive(lena, "calendar-driven-advance", play=1, days=7, note="a demo on Friday", clock=clock)
    lena.start_play(None, 1)
    assert lena.state().held_back == {}
    fresh = Program.open(lena.folder, clock=clock)
    try:
        assert fresh.state().held_back == {}
    finally:
        fresh.close()
    assert any("after this machine's clock" in w for w in lena.status()["warnings"])


def test_a_writers_own_clock_ahead_makes_the_api_judge_where_the_fold_will(
    cast: dict[str, Program], clock: Clock
) -> None:
    """lena's own clock ran a month ahead for one event, then came back: her later start is
    judged no earlier than that event, by the API as by the fold, so the waiver that has run
    out by then lets nothing through, and nothing is let through to be shown as held back."""
    from inhouse.errors import AntiPattern

    lena = cast["lena"]
    clock.advance(days=30)
    lena.change_roles(None, "omar", add=["champion"])
    clock.advance(days=-30)
    _waive(lena, "calendar-driven-advance", play=1, days=7, note="a demo on Friday", clock=clock)
    with pytest.raises(AntiPattern, match="calendar-driven advance") as refused:
        lena.start_play(None, 1)
    assert "an earlier event of lena's is dated after this machine's clock" in str(refused.value)
    assert "prove-value" not in lena.state().plays


def test_the_older_person_added_event_into_the_pilot_is_held_back(
    cast: dict[str, Program],
) -> None:
    lena = cast["lena"]
    payload = {"name": "omar", "email": "", "team": "support",
               "roles": ["pilot-user", "play-owner"]}  # fmt: skip
    lena._append(EventKind.PERSON_ADDED, "lena", payload)
    assert [h.action for h, _ in lena.state().unwaived_reach()] == ["add omar to the pilot"]


@pytest.mark.own_sign_in  # about the broken guard alone: no sign-in, as this test was written
def test_guards_that_fail_to_run_are_shown_and_any_waiver_for_it_clears_them(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from inhouse.program import guards

    lena = cast["lena"]

    def broken(*_: object) -> None:
        raise RuntimeError("a check that raised")

    monkeypatch.setattr(guards, "start_blockers", broken)
    _start_around_the_api(lena, "prove-value")
    monkeypatch.undo()
    (held,) = play(lena, 1)["held_back"]
    assert held["guard"] == "unchecked" and "a check that raised" in held["why"]
    warning = next(w for w in lena.status()["warnings"] if "held it back" in w)
    assert "inhouse waiver grant GUARD --play prove-value" in warning
    _waive(
        lena,
        "botched-handoff",
        play=1,
        reason="other",
        note="the guards could not run when it was started; looked at, on the record",
        clock=clock,
    )
    assert play(lena, 1)["held_back"] == []


@pytest.mark.parametrize(
    ("number", "owner", "why"),
    [
        (3, "lena", "but omar accepted play 2's handoff: the play is omar's to start"),
        (1, "ghost", "who is not on the roster"),
        (1, "pia", "who is no play-owner (the play's owner role)"),
    ],
)
def test_a_start_appended_for_an_owner_the_api_refuses_stops_the_fold(
    cast: dict[str, Program], clock: Clock, number: int, owner: str, why: str
) -> None:
    """omar accepted play 2's handoff: play 3 is his. The API refuses lena's start naming
    another owner, as it refuses any play's start for someone off the roster or without the
    play's owner role; appended with her key around the API, such a start stops every fold,
    as a forged event does, instead of leaving play 3 owned by play 2's owner with nothing
    shown."""
    lena, omar = cast["lena"], cast["omar"]
    enrol(lena, "pia", team="legal")
    if number == 3:
        through_play_two(lena, omar)
    refused = r"who accepted the handoff|not on this program's roster|is owned by a play-owner"
    with pytest.raises(InhouseError, match=refused):
        lena.start_play(None, number, owner=owner)
    seq = _start_around_the_api(lena, lena.playbook.play(number).id, owner=owner)
    fresh = Program.open(lena.folder, clock=clock)
    try:
        tampered = fresh.state().tampered
        assert tampered is not None and tampered[1] == seq and why in tampered[0]
    finally:
        fresh.close()


def test_the_receiver_owns_the_play_a_lead_starts_after_the_handoff(
    cast: dict[str, Program], clock: Clock
) -> None:
    """The honest start after the handoff, by a lead for the receiver, folds."""
    lena, omar = cast["lena"], cast["omar"]
    through_play_two(lena, omar)
    measured(omar, "task.named", task="triage", frequency="daily")
    lena.start_play(None, 3)
    fresh = Program.open(lena.folder, clock=clock)
    try:
        state = fresh.state()
        assert state.tampered is None and state.owners["workflow"] == "omar"
    finally:
        fresh.close()


def test_once_the_pilot_is_listed_the_role_alone_is_no_place_in_it(
    cast: dict[str, Program], clock: Clock, tmp_path: Path
) -> None:
    """A lead lists the pilot (`inhouse pilot add`, within the playbook's size); giving zoe the
    pilot-user role by hand and then a gateway key was "the pilot", so only scaling before
    proving was asked and play 5 could be skipped by a label. Once a pilot is listed, the role
    alone is no place in it: the key is beyond the pilot (skipping play five), refused by the
    API and held back by every fold when appended around it."""
    from inhouse.errors import AntiPattern
    from inhouse.gateway.keys import grant_key
    from inhouse.pilot.roster import add_member
    from inhouse.program.playbook import Reach
    from tests.pilot.test_play_four_walk import TRACK

    lena = cast["lena"]
    (lena.folder / "enablement").mkdir(exist_ok=True)
    (lena.folder / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    _waive(lena, "scaling-before-proving", clock=clock, note="a two-week pilot", days=30)
    enrol(lena, "pia", team="legal")
    add_member(lena, "pia", track="everyone")
    zoe = enrol(lena, "zoe", team="sales")
    lena.change_roles(None, "zoe", add=["pilot-user"])
    assert lena.reach_of("pia") is Reach.PILOT and lena.reach_of("zoe") is Reach.BEYOND_PILOT
    # a refusal's words for pia are true of her: listed, she is in the pilot
    from inhouse.program.guards import reach_label

    assert reach_label(lena.playbook, lena.state(), "pia", Reach.PILOT) == "in the pilot"
    with pytest.raises(AntiPattern) as refused:
        grant_key(lena, None, "zoe")
    assert refused.value.guard == "skipping-play-five"
    lena.log_event("gateway.key.granted", {"grant": "g_zoe", "person": "zoe", "agent": None,
                                           "limits": {}, "waivers": []})  # fmt: skip
    fresh = Program.open(lena.folder, clock=clock)
    try:
        [held] = fresh.state().reach_held_back
        assert held.action == "grant a gateway key to zoe (beyond-pilot)"
        assert {guard for guard, _, _ in held.blockers} == {"skipping-play-five"}
    finally:
        fresh.close()
    del zoe


def test_a_start_written_under_an_older_playbook_version_still_folds(
    _isolated: Path, clock: Clock
) -> None:
    """An organisation's own playbook moves to its next version, play 1 owned by another role:
    the start the API wrote under the version before is not held to the new owner role."""
    import shutil
    from importlib.resources import files

    source = Path(str(files("inhouse.playbooks") / "local-model-program.yaml"))
    own = _isolated / "own.yaml"
    shutil.copy(source, own)  # under a name of its own: a shipped name is the shipped rules'
    own.write_text(
        own.read_text(encoding="utf-8").replace("name: local-model-program", "name: acme", 1),
        encoding="utf-8",
    )
    lena = Program.init(_isolated, "Acme", "lena", clock=clock, playbook="own.yaml")
    lena.change_roles(None, "lena", add=["play-owner"])
    prove(lena)
    lena.close()
    text = re.sub(  # the next version of whatever the shipped one is
        r"^version: (\d+)$", lambda m: f"version: {int(m.group(1)) + 1}",
        own.read_text(encoding="utf-8"), count=1, flags=re.M,
    )  # fmt: skip
    own.write_text(text.replace("role: play-owner", "role: support-owner", 1), encoding="utf-8")
    again = Program.open(_isolated, clock=clock)
    try:
        assert again.state().tampered is None
    finally:
        again.close()


def test_a_listing_beyond_the_pilots_size_takes_no_place(
    cast: dict[str, Program], clock: Clock
) -> None:
    """pilot.member facts appended around `inhouse pilot add` beyond the playbook's maximum
    (10) give no place: their holders' keys are beyond the pilot."""
    from inhouse.program.facts import Provenance
    from inhouse.program.playbook import Reach

    lena = cast["lena"]
    _waive(lena, "scaling-before-proving", clock=clock, note="a pilot", days=30)
    for n in range(12):
        enrol(lena, f"p{n}", team=f"t{n % 3}", roles=["pilot-user"])
        lena.record_fact(None, "pilot.member", {"person": f"p{n}", "track": "everyone",
                                                "action": "added"},
                         provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip
    reach = [lena.reach_of(f"p{n}") for n in range(12)]
    assert reach[:10] == [Reach.PILOT] * 10 and reach[10:] == [Reach.BEYOND_PILOT] * 2
