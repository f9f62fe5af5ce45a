"""A team that only follows `inhouse status`: each person runs it, does what their next step
says and nothing else. Where walking a program from scratch that way stalled, each pinned here:

- play 2's trigger (someone other than the owners and leads asked to get in) was told to the
  lead alone, who cannot meet it, and to none of the members who can: the team stood still;
- where the author of play 3's version lacked their own pass (another's pass needs it beside),
  the step went to play 3's owner, whose run cannot give it, not to the version's author;
- the rerun play 3 waits on named `inhouse workflow test` without the workflow, which fails;
- the offer of play 2's handoff said "nobody else holds the role play-owner" and no more: the
  offer to anyone is refused until they hold it, and the step named no command giving it;
- play 4's first step, `inhouse pilot add PERSON --track TRACK`, said nothing of TRACK: a file
  the lead writes first (`pilot add` refuses a track that does not exist);
- the prompt library play 4 needs from two authors, the pilot's owner and leads counting as
  one, was told to its owner alone: nobody who could be the second author was told;
- each pilot member was told to meet their track, measured through a gateway key of their own,
  and no rollout lead, who alone grants one, was told to grant it, nor to serve the gateway;
- "the pilot has 4 members; the play wants 5 to 10" named no command that adds one;
- a pilot member's team counts only by their own word (`inhouse pilot team`), and the step
  went to the lead, play 4's owner, alone;
- `inhouse survey open`, as play 4's survey step named it, fails: `--closes` is required;
- the prompt library's `inhouse prompts add NAME --file F` said nothing of F: a YAML prompt
  inside the program folder (vic's text file outside it was refused twice);
- play 5's steps named `inhouse support owner` without the PERSON it names, and an "it broke"
  ticket with no command that opens one; play 6's, `inhouse finding add` without the TEXT and
  --target it requires;
- reaching the tool on their own, play 4's, is each pilot member's use: the step went to the
  lead alone, and no member was told to use it.

The program, its people and facts are real (SQLite, each person's own key); the status is the
real one with the plays' states set (tests/next_steps_support.py)."""

from __future__ import annotations

from pathlib import Path

from inhouse.program import Program, Provenance
from inhouse.testing.standin_idp import StandinIdP
from tests.conftest import Clock
from tests.next_steps_support import (
    check_reason,
    close,
    pilot_with_members,
    record_failed_run,
    record_version,
    running,
    steps_by_person,
    waiting,
    with_omar_and_pia,
)
from tests.people import enrol, hold_gateway_key, vouch_for_gateway_host
from tests.workflows.test_author_flip import _play_three, _test_run


def test_an_access_request_play_2_waits_on_is_the_members_step_not_the_lead_s(
    _isolated: Path, clock: Clock
) -> None:
    """lena, the lead and play 1's owner, was told play 2 waited on "the person who wants in":
    her request does not count, and omar and pia, whose would, were told nothing."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    pia.request_access()
    status = waiting(lena, "baseline", "access-requested")
    steps = steps_by_person(lena, status)
    assert "lena" not in steps, steps
    assert "pia" not in steps, steps  # she asked already
    (text,) = steps["omar"]
    assert "waits for its trigger, access requested: not yet" in text, text
    assert "(`inhouse access request`)" in text, text
    close(omar, pia, lena)


def test_with_nobody_who_could_ask_the_lead_is_told_to_invite_one(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    status = waiting(lena, "baseline", "access-requested")
    (text,) = steps_by_person(lena, status)["lena"]
    assert "nobody else who could ask has joined: invite one (`inhouse person invite NAME`)" in text
    lena.close()


def test_demand_for_the_pilot_is_not_the_step_of_a_play_s_owner(
    _isolated: Path, clock: Clock
) -> None:
    """Play 4's trigger counts no request of a started play's owner: omar, play 3's owner, is
    not told to ask; pia is."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    pia = enrol(lena, "pia", team="legal")
    lena.record_hypothesis(None, "summaries by a local model", aim="replace-dependency",
                           target="manual summaries")  # fmt: skip
    lena.start_play(None, 1, owner="omar")
    status = waiting(lena, "pilot", "demand-spreading")
    steps = steps_by_person(lena, status)
    assert "omar" not in steps, steps
    (text,) = steps["pia"]
    assert "(`inhouse access request`)" in text, text
    # the lead cannot ask either: hers is to invite the two more the trigger still wants
    (text,) = steps["lena"]
    assert "(`inhouse access request`)" not in text and "invite them" in text, text
    close(omar, pia, lena)


def test_the_author_s_own_pass_is_the_author_s_step_not_play_3_s_owner_s(
    _isolated: Path, clock: Clock
) -> None:
    """lena (a lead) published the version play 3 is judged on, and her one run of it failed:
    another's pass needs hers beside it. omar, play 3's owner, was told the step, which his run
    cannot give; it is lena's."""
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar, pia = with_omar_and_pia(lena)
    record_version(lena, "lena", "d" * 12)
    record_failed_run(lena, "d" * 12)
    status = running(lena, "workflow", "omar", "workflow-run-by-other")
    steps = steps_by_person(lena, status)
    assert steps["lena"] == ["play 3 (First repeatable workflow) needs workflow run by other: "
                             "not yet"], steps  # fmt: skip
    for member in ("omar", "pia"):
        (text,) = steps[member]
        assert "a member other than lena takes this step" in text, text
    close(omar, pia, lena)


def test_the_rerun_play_3_waits_on_names_the_workflow_to_run(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """vic, told to rerun omar's workflow, was given `inhouse workflow test`, which fails
    without the workflow's name; the step names it."""
    from inhouse.program.checks import evaluate
    from inhouse.program.counting import build_context
    from inhouse.workflows.runner import RUN_BY_OTHER

    people = _play_three(_isolated, clock, idp)
    _test_run(people["omar"], "v1", passed=True)
    lena = people["lena"]
    result = evaluate(RUN_BY_OTHER, build_context(lena.state(), lena.clock()))
    assert "no passing run of workflow triage by anyone but its author (omar" in result.reason
    assert "runs `inhouse workflow test triage` with their own key" in result.reason, result
    for person in people.values():
        person.close()


def test_an_offer_nobody_can_receive_yet_names_the_command_giving_the_role(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    status = running(lena, "baseline", "lena")
    baseline = next(v for v in status["plays"] if v["id"] == "baseline")
    baseline.update(state="exit-met", exit=[])
    (text,) = steps_by_person(lena, status)["lena"]
    assert "nobody else holds the role play-owner: give it to PERSON first (`inhouse person " \
        "role PERSON --add play-owner`)" in text, text  # fmt: skip
    close(omar, lena)


def test_the_pilot_s_first_step_says_what_a_track_is(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    for check in ("pilot-size", "pilot-enabled"):
        reason = check_reason(lena, check)
        assert "write each role's track, enablement/TRACK.yaml (docs/pilot.md" in reason, reason
        assert reason.endswith("`inhouse pilot add PERSON --track TRACK`"), reason
    lena.close()


def test_a_pilot_too_small_names_the_command_that_adds_one(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    sam = pilot_with_members(lena, {"sam": "support"})["sam"]
    reason = check_reason(lena, "pilot-size")
    assert reason.startswith("the pilot has 1 members; the play wants 5 to 10"), reason
    assert "add more (`inhouse pilot add PERSON --track TRACK`;" in reason, reason
    assert "`inhouse person invite NAME`" in reason, reason
    close(sam, lena)


def test_a_second_prompt_author_is_the_other_members_step_too(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    omar = enrol(lena, "omar", team="support")
    status = running(lena, "pilot", "lena", "prompt-library-seeded")
    steps = steps_by_person(lena, status)
    # nobody wrote one yet: lena, the owner, may write the first
    assert steps["lena"] == ["play 4 (Onboard a pilot group) needs prompt library seeded: not yet"]
    (text,) = steps["omar"]
    assert "a member other than lena takes this step, from their own machine" in text, text
    close(omar, lena)


def test_a_pilot_member_s_missing_gateway_key_is_the_lead_s_step(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    members = pilot_with_members(lena, {"sam": "support", "pia": "legal"})
    status = running(lena, "pilot", "lena", "pilot-enabled")
    grant = "your part: grant {0} a gateway key (`inhouse keys issue {0}`)"
    steps = steps_by_person(lena, status)
    for name in members:
        assert any(grant.format(name) in t for t in steps["lena"]), steps["lena"]
        assert "`inhouse pilot enablement` says what each asks" in steps[name][0], steps[name]
    serve = "your part: serve the gateway where the pilot reaches it (`inhouse gateway serve`"
    assert any(serve in t for t in steps["lena"]), steps["lena"]
    # a day lena typed up herself is no day the gateway signed: the gateway still waits on her
    typed = {"day": "2026-11-04", "people": {}}
    lena.record_fact(None, "usage.daily", typed, provenance=Provenance.MEASURED,
                     collector="inhouse gateway rollup")  # fmt: skip
    steps = steps_by_person(lena, status)
    assert any(serve in t for t in steps["lena"]), steps["lena"]
    hold_gateway_key(lena, members["sam"])
    steps = steps_by_person(lena, status)
    assert not any(grant.format("sam") in t for t in steps["lena"]), steps["lena"]
    assert any(grant.format("pia") in t for t in steps["lena"]), steps["lena"]
    close(*members.values(), lena)


def test_a_member_s_own_word_on_their_team_is_their_step(_isolated: Path, clock: Clock) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    sam = pilot_with_members(lena, {"sam": "support"})["sam"]
    status = running(lena, "pilot", "lena", "pilot-size")
    (text,) = steps_by_person(lena, status)["sam"]
    assert "your part: say the team you work in, with your own key (`inhouse pilot team " \
        "support`)" in text, text  # fmt: skip
    close(sam, lena)


def test_the_survey_step_names_the_option_survey_open_requires(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    sam = pilot_with_members(lena, {"sam": "support"})["sam"]
    reason = check_reason(lena, "pilot-would-resist-losing")
    assert "a rollout lead runs `inhouse survey open --closes 14d`" in reason, reason
    close(sam, lena)


def test_the_prompt_library_step_says_what_the_file_holds_and_where(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    reason = check_reason(lena, "prompt-library-seeded")
    assert "`inhouse prompts add NAME --file F` (F: the prompt, a YAML file" in reason, reason
    assert "in the program folder; docs/pilot.md" in reason, reason
    lena.close()


def test_play_5_s_first_steps_name_the_commands_with_what_they_require(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    queue = check_reason(lena, "support-queue-owned")
    assert "names its owner, `inhouse support owner PERSON`, who takes it on" in queue, queue
    broke = check_reason(lena, "ticket-resolved-without-builder")
    opens = "`inhouse support open TITLE --category it-broke --component COMPONENT`"
    assert opens in broke, broke
    lena.close()


def test_play_6_s_finding_step_names_what_finding_add_requires(
    _isolated: Path, clock: Clock
) -> None:
    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    reason = check_reason(lena, "findings-fed-back")
    assert "(`inhouse finding add TEXT --target TARGET`: what was learned" in reason, reason
    lena.close()


def test_a_member_not_reaching_the_tool_on_their_own_is_told_their_part(
    _isolated: Path, clock: Clock
) -> None:
    from inhouse.pilot.adoption import record_adoption

    lena = Program.init(_isolated, "Acme", "lena", clock=clock)
    sam = pilot_with_members(lena, {"sam": "support"})["sam"]
    status = running(lena, "pilot", "lena", "pilot-independent-use")
    # before any adoption report, recording one is the owner's step alone
    assert "sam" not in steps_by_person(lena, status)
    _, fact = record_adoption(lena)
    assert fact is not None and fact.payload["members"], fact
    vouch_for_gateway_host(sam)  # what the gateway signs counts once a user vouched for it
    (text,) = steps_by_person(lena, status)["sam"]
    assert "your part: use the tool through your own gateway key on " in text, text
    assert "confirm each day from your own machine (`inhouse usage confirm`)" in text, text
    close(sam, lena)
