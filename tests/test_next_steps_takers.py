"""Whose next step a failing exit is. `inhouse status` filed every failing exit check of a
running play under its owner: "lena: play 2 (Establish the baseline) needs a second person stood
the environment up", for a step lena, play 2's owner and the lead, is the one person who cannot
take (her own verify, her own rerun of her trial, a lead's run of a workflow do not count). A
step only someone other than those a check judges can take is now filed under each of the
other members, naming whom it must not be; where nobody else has joined, the owner is told to
invite one.

The program, its people and facts are real (SQLite, each person's own key); the status is the
real one with the play's state and exit rows set (tests/next_steps_support.py), as
tests/test_walk456.py does for play 6."""

from __future__ import annotations

from pathlib import Path

from inhouse.program import Program, Provenance
from tests.conftest import Clock
from tests.next_steps_support import (
    close,
    pilot_with_members,
    record_failed_run,
    record_lock,
    record_version,
    running,
    steps_by_person,
    with_omar_and_pia,
)
from tests.people import enrol
from tests.test_playchecks import reproducible


def test_a_second_person_s_verify_and_rerun_are_the_other_members_steps_not_the_owner_s(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    # a lock to verify and a proven verdict to rerun: without them, play 2 waits on lena first
    record_lock(lena, "lena")
    lena.record_fact(None, "trial.verdict", reproducible().payload,
                     provenance=Provenance.MEASURED, collector="inhouse prove")  # fmt: skip
    status = running(
        lena, "baseline", "lena", "baseline-pinned", "second-person-verified", "trial-reproduced"
    )
    steps = steps_by_person(lena, status)
    theirs = [t for t in steps["lena"] if "second person verified" in t or "reproduced" in t]
    assert theirs == [], steps["lena"]
    # what only she can do stays hers
    assert any("baseline pinned: not yet" in t for t in steps["lena"]), steps["lena"]
    for member in ("omar", "pia"):
        texts = " | ".join(steps[member])
        assert "needs second person verified: not yet; a member other than lena takes" in texts
        assert "needs trial reproduced: not yet; a member other than lena takes" in texts
        assert "baseline pinned" not in texts, texts
    close(omar, pia, lena)


def test_a_workflow_run_by_another_is_neither_its_author_s_nor_a_lead_s_step(
    _isolated: Path, clock: Clock
) -> None:
    """The author (omar, play 3's owner) and the lead (lena) are the two whose runs play 3 does
    not count: the step is pia's."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    record_version(omar, "omar", "c" * 12)
    status = running(lena, "workflow", "omar", "workflow-run-by-other")
    steps = steps_by_person(lena, status)
    assert "omar" not in steps and "lena" not in steps, steps
    (text,) = steps["pia"]
    assert "a member other than lena and omar takes this step" in text, text
    close(omar, pia, lena)


def test_with_nobody_else_joined_the_owner_is_told_to_invite_one(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    record_lock(lena, "lena")
    status = running(lena, "baseline", "lena", "second-person-verified")
    (text,) = steps_by_person(lena, status)["lena"]
    assert "only a member other than lena can take this step, and nobody else has joined" in text
    assert "`inhouse person invite NAME`" in text, text
    lena.close()


def test_a_member_s_enablement_is_their_step_not_the_lead_s(_isolated: Path, clock: Clock) -> None:
    """Only a member's own record of their track counts for pilot-enabled: the lead, play 4's
    owner, was told play 4 needed it, and each member was told nothing."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    members = pilot_with_members(lena, {"sam": "support", "pia": "legal"})
    status = running(lena, "pilot", "lena", "pilot-enabled")
    steps = steps_by_person(lena, status)
    # hers is only to grant each a gateway key and serve the gateway (tests/test_next_steps_walk.py)
    assert all("your part: grant " in t or "serve the gateway" in t for t in steps["lena"]), steps
    for member in ("sam", "pia"):
        (text,) = steps[member]
        part = "your part: your enablement track everyone, 0 of 1 steps met: meet the rest "
        record = (
            "(`inhouse pilot enablement` says what each asks) and record them from your own "
            "machine (`inhouse pilot enablement --record`)"
        )
        assert part + record in text, text
    close(*members.values(), lena)


def test_with_no_member_yet_the_enablement_step_stays_the_lead_s(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    status = running(lena, "pilot", "lena", "pilot-enabled")
    (text,) = steps_by_person(lena, status)["lena"]
    assert "needs pilot enabled: not yet" in text, text
    lena.close()


def test_a_verify_is_not_the_step_of_the_owner_the_lock_names(
    _isolated: Path, clock: Clock
) -> None:
    """``second-person-verified`` judges the play's owner, the owner the lock names and whoever
    signed the lock: omar, whom lena's lock names as the baseline's owner, cannot verify it, so
    the step is pia's alone (it was told to omar, whose verify counts for nothing)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    record_lock(lena, "omar")
    status = running(lena, "baseline", "lena", "second-person-verified")
    steps = steps_by_person(lena, status)
    assert "omar" not in steps, steps
    (text,) = steps["pia"]
    assert "a member other than lena and omar takes this step" in text, text
    close(omar, pia, lena)


def test_with_nothing_to_verify_or_rerun_the_step_is_the_owner_s(
    _isolated: Path, clock: Clock
) -> None:
    """With no lock to verify and no proven verdict to rerun, what play 2 waits on first is its
    owner's (a lock) and play 1's (a verdict): a colleague told to verify or rerun has nothing to
    run it on."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    status = running(lena, "baseline", "lena", "second-person-verified", "trial-reproduced")
    steps = steps_by_person(lena, status)
    assert "omar" not in steps, steps
    assert [t.split(": ")[0] for t in steps["lena"]] == [
        "play 2 (Establish the baseline) needs second person verified",
        "play 2 (Establish the baseline) needs trial reproduced",
    ], steps["lena"]
    close(omar, lena)


def test_a_workflow_rerun_is_judged_against_the_version_s_author_not_the_first_publisher(
    _isolated: Path, clock: Clock
) -> None:
    """omar first published ticket-summary; lena (a lead, in charge) published the version
    play 3 is judged on, so she is its author: omar, who did not write that version, is one
    who can rerun it (he was left out as its "author"), and so is pia."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    record_version(omar, "omar", "c" * 12)
    record_version(lena, "lena", "d" * 12)
    status = running(lena, "workflow", "omar", "workflow-run-by-other")
    steps = steps_by_person(lena, status)
    assert "lena" not in steps, steps
    for member in ("omar", "pia"):
        (text,) = steps[member]
        assert "a member other than lena takes this step" in text, text
    close(omar, pia, lena)


def test_where_the_author_s_own_pass_is_lacking_the_owner_keeps_the_step_too(
    _isolated: Path, clock: Clock
) -> None:
    """omar wrote the version and his one run of it failed: another's pass needs his own beside
    it, so the step is his as play 3's owner as well as the other members'."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    record_version(omar, "omar", "c" * 12)
    record_failed_run(omar, "c" * 12)
    status = running(lena, "workflow", "omar", "workflow-run-by-other")
    steps = steps_by_person(lena, status)
    assert steps["omar"] == ["play 3 (First repeatable workflow) needs workflow run by other: "
                             "not yet"], steps  # fmt: skip
    (text,) = steps["pia"]
    assert "a member other than lena and omar takes this step" in text, text
    close(omar, pia, lena)
