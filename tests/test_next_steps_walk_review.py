"""Review of the walk's next steps: a step goes only to whom its check would count. A request
to get in, or a second prompt author, from someone whose act the check sets aside (enrolled
from a lead's machine: one laptop, one person; or an author already counted) moves nothing,
and ``inhouse status`` told them to take it; a team named in a step is quoted so the command
runs as written.

The program, its people and facts are real (SQLite, each person's own key), as
tests/test_next_steps_walk.py does (tests/next_steps_support.py)."""

from __future__ import annotations

import shlex
from pathlib import Path

from inhouse.program import Program, Provenance
from tests.conftest import Clock
from tests.next_steps_support import (
    close,
    pilot_with_members,
    running,
    steps_by_person,
    waiting,
    with_omar_and_pia,
)
from tests.people import enrol


def _machine(program: Program, person: str) -> str:
    from inhouse.program.counting import build_context

    ctx = build_context(program.state(), program.clock())
    (machine,) = ctx.machines[person]
    return machine


def test_an_access_request_that_would_not_count_is_nobody_s_step(
    _isolated: Path, clock: Clock
) -> None:
    """omar enrolled from lena's laptop: his request is lena's machine asking, which play 2's
    trigger sets aside; pia, at her own, is told to ask, and omar is not."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support", machine=_machine(lena, "lena"))
    pia = enrol(lena, "pia", team="legal")
    steps = steps_by_person(lena, waiting(lena, "baseline", "access-requested"))
    assert "omar" not in steps, steps
    assert "(`inhouse access request`)" in steps["pia"][0], steps
    close(omar, pia, lena)


def test_with_only_members_at_a_lead_s_machine_the_lead_is_told_to_invite_one(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support", machine=_machine(lena, "lena"))
    steps = steps_by_person(lena, waiting(lena, "baseline", "access-requested"))
    assert "omar" not in steps, steps
    (text,) = steps["lena"]
    assert "invite one (`inhouse person invite NAME`)" in text, text
    close(omar, lena)


def test_demand_from_a_machine_already_asking_is_nobody_s_step(
    _isolated: Path, clock: Clock
) -> None:
    """pia asked from her laptop; sam enrolled there too: his request is that laptop asking
    twice, which play 4's trigger counts once."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    pia = enrol(lena, "pia", team="legal")
    pia.request_access()
    sam = enrol(lena, "sam", team="legal", machine=_machine(lena, "pia"))
    vic = enrol(lena, "vic", team="sales")
    steps = steps_by_person(lena, waiting(lena, "pilot", "demand-spreading"))
    assert "sam" not in steps and "pia" not in steps, steps
    assert "(`inhouse access request`)" in steps["vic"][0], steps
    close(pia, sam, vic, lena)


def test_a_second_author_already_counted_is_not_told_to_write_another(
    _isolated: Path, clock: Clock
) -> None:
    """omar shared a prompt: he is an author; his next counts no second time. pia, at her own
    machine, could be the one the library lacks; sam, at lena's laptop, could not."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    sam = enrol(lena, "sam", team="sales", machine=_machine(lena, "lena"))
    omar.record_fact(None, "prompt.shared", {"prompt": "triage", "author": "omar"},
                     provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    status = running(lena, "pilot", "lena", "prompt-library-seeded")
    steps = steps_by_person(lena, status)
    assert "omar" not in steps, steps
    assert "sam" not in steps, steps
    assert "a member other than lena takes this step" in steps["pia"][0], steps
    close(omar, pia, sam, lena)


def test_an_imported_prompt_leaves_the_owner_s_first_prompt_hers_to_write(
    _isolated: Path, clock: Clock
) -> None:
    """lena imported a prompt: an import makes nobody its author, so the library still lacks
    one from her or a lead, and she is told so beside omar."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    lena.record_fact(None, "prompt.version", {"prompt": "triage", "version": 1,
                     "content_hash": "sha256:" + "0" * 64, "imported": True},
                     provenance=Provenance.MEASURED, collector="inhouse prompts")  # fmt: skip
    steps = steps_by_person(lena, running(lena, "pilot", "lena", "prompt-library-seeded"))
    assert steps["lena"] == ["play 4 (Onboard a pilot group) needs prompt library seeded: not yet"]
    assert "a member other than lena takes this step" in steps["omar"][0], steps
    close(omar, lena)


def test_a_team_with_a_space_is_quoted_in_the_command(_isolated: Path, clock: Clock) -> None:
    """`inhouse pilot team Customer Support`, as the step named it, gives the command two
    arguments, and it fails: the team is quoted."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    sam = pilot_with_members(lena, {"sam": "Customer Support"})["sam"]
    status = running(lena, "pilot", "lena", "pilot-size")
    (text,) = steps_by_person(lena, status)["sam"]
    command = text.split("`inhouse pilot team ", 1)[1].split("`", 1)[0]
    assert shlex.split(command) == ["Customer Support"], text
    close(sam, lena)


def test_the_pilot_size_reason_quotes_a_team_of_two_words() -> None:
    """play 4's reason named `inhouse pilot team Customer Support` and `inhouse pilot
    correct-team sam Customer Success`: each, run as written, is refused for its extra word."""
    from types import SimpleNamespace

    from inhouse.program.playchecks.pilot import team_unconfirmed

    waiting = team_unconfirmed("sam", "Customer Support", None)
    command = waiting.split("`inhouse pilot team ", 1)[1].split("`", 1)[0]
    assert shlex.split(command) == ["Customer Support"], waiting
    word = SimpleNamespace(id=7, payload={"team": "Customer Success"})
    differ = team_unconfirmed("sam", "Customer Support", word)  # type: ignore[arg-type]
    correct = differ.split("`inhouse pilot correct-team ", 1)[1].split("`", 1)[0]
    assert shlex.split(correct) == ["sam", "Customer Success"], differ
    again = differ.split("`inhouse pilot team ", 1)[1].split("`", 1)[0]
    assert shlex.split(again) == ["Customer Support"], differ


def test_demand_short_of_askers_tells_the_lead_to_invite_more(
    _isolated: Path, clock: Clock
) -> None:
    """Demand for the pilot wants three people asking; only pia could: she is told to ask, and
    lena, the lead, to invite two more (she was told nothing, and the play stood still)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    pia = enrol(lena, "pia", team="legal")
    steps = steps_by_person(lena, waiting(lena, "pilot", "demand-spreading"))
    assert "(`inhouse access request`)" in steps["pia"][0], steps
    (text,) = steps["lena"]
    assert "2 more who could ask must join: invite them (`inhouse person invite NAME`)" in text
    close(pia, lena)


def test_one_not_signed_in_yet_is_still_told_to_ask(_isolated: Path, clock: Clock) -> None:
    """The machine rules set omar, at lena's laptop, aside; the sign-in rule is not his step's
    gate: pia, at her own machine and not signed in yet, is still told to ask (the reason says
    what her request waits on)."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    pia = enrol(lena, "pia", team="legal", signed_in=False)
    steps = steps_by_person(lena, waiting(lena, "baseline", "access-requested"))
    assert "(`inhouse access request`)" in steps["pia"][0], steps
    assert "lena" not in steps, steps
    close(pia, lena)
