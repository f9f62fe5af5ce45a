"""The pilot's roster: only enrolled people, only on a track that exists, only by a rollout lead,
through the scaling-before-proving guard (a waiver lets it through), never beyond the
playbook's size; a hand-typed membership makes nobody a member."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import AntiPattern, InvalidInput, NotAllowed, Refused, UnknownPerson
from inhouse.pilot.enablement import pilot_list
from inhouse.pilot.evidence import PilotEvidence
from inhouse.pilot.roster import add_member, correct_team, members, remove_member, state_team
from inhouse.program import Program, Provenance
from inhouse.program.checks import evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import Clock
from tests.people import lead_env
from tests.pilot.world import World, make_world

runner = CliRunner()


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> World:
    return make_world(_isolated, clock)


def _pilot_size(program: Program) -> str:
    context = context_for(program.state(), program.clock())
    ref = program.playbook.play("pilot").exit[0]
    return evaluate("pilot-size", context.with_params(ref.params)).reason


def test_only_enrolled_people_on_an_existing_track_join(world: World) -> None:
    world.waive()
    with pytest.raises(UnknownPerson, match="'zoe' is not on this program's roster"):
        add_member(world.lead, "zoe", track="support")
    world.lead.invite("yan", team="legal")  # invited, never joined: no key of their own
    with pytest.raises(InvalidInput, match="yan has no enrolled key: they join"):
        add_member(world.lead, "yan", track="support")
    world.enrol("bob", "support")
    with pytest.raises(InvalidInput, match=r"no track 'sales'.*enablement/sales.yaml.*legal, supp"):
        add_member(world.lead, "bob", track="sales")
    assert members(PilotEvidence(world.lead)) == []


def test_only_a_rollout_lead_adds_or_removes(world: World) -> None:
    world.waive()
    bob = world.enrol("bob", "support")
    world.enrol("carol", "legal")
    with pytest.raises(NotAllowed, match="only a rollout lead adds pilot members; bob is not"):
        add_member(bob, "carol", track="legal")
    with pytest.raises(NotAllowed, match="only a rollout lead adds"):
        add_member(bob, "bob", track="support")  # not even himself
    add_member(world.lead, "carol", track="legal")
    with pytest.raises(NotAllowed, match="only a rollout lead removes"):
        remove_member(bob, "carol")


def test_adding_passes_the_scaling_guard_and_a_waiver_lets_it_through(world: World) -> None:
    world.enrol("bob", "support")
    with pytest.raises(AntiPattern) as refused:
        add_member(world.lead, "bob", track="support")
    assert refused.value.guard == "scaling-before-proving"
    assert "add bob to the pilot" in str(refused.value) and refused.value.missing
    state = world.lead.state()
    assert "pilot-user" not in state.people["bob"].roles
    assert not [f for f in state.facts if f.kind == "pilot.member"]
    assert state.refusals[-1].action == "add bob to the pilot"  # the attempt is on the record

    world.waive()
    member = add_member(world.lead, "bob", track="support")
    assert (member.person, member.team, member.track) == ("bob", "support", "support")
    state = world.lead.state()
    assert "pilot-user" in state.people["bob"].roles
    fact = next(f for f in state.facts if f.kind == "pilot.member")
    assert (fact.by, fact.collector, fact.provenance) == ("lena", "inhouse pilot",
                                                          Provenance.MEASURED)  # fmt: skip
    # the track's steps go with the member: what pilot-enabled holds their enablement to
    assert {k: v for k, v in fact.payload.items() if k != "steps"} == {
        "person": "bob", "track": "support", "action": "added", "team": "support"}  # fmt: skip
    assert [(s["id"], s["type"], s["rests_on"]) for s in fact.payload["steps"]] == [
        ("first-request", "first-answered-request", ["usage.daily"]),
        ("summarise-a-ticket", "ran-workflow", ["workflow.run"]),
        ("shared-prompt", "used-shared-prompt", ["prompt.usage"]),
        ("redaction", "read-a-redaction", []),
        ("pair-with-a-champion", "attested", []),
    ]
    assert fact.payload["steps"][1]["params"] == {"workflow": "ticket-summary"}
    assert "1 members; the play wants 5 to 10" in _pilot_size(world.lead)
    with pytest.raises(InvalidInput, match="bob is already in the pilot"):
        add_member(world.lead, "bob", track="legal")


def test_the_playbooks_size_and_team_spread_bound_the_roster(world: World) -> None:
    world.waive()
    for n in range(7):
        world.enrol(f"s{n}", "support")
        add_member(world.lead, f"s{n}", track="support")
    world.enrol("s7", "support")
    world.enrol("s8", "support")
    add_member(world.lead, "s7", track="support")  # 8 of 10, one team: two places, two teams
    with pytest.raises(Refused, match=r"adding s8 \(team support\) would leave 1 place "
                                      r"for the 2 more teams"):  # fmt: skip
        add_member(world.lead, "s8", track="support")
    world.enrol("lee", "legal")
    world.enrol("fay", "finance")
    add_member(world.lead, "lee", track="legal")
    add_member(world.lead, "fay", track="support")
    roster = {**{f"s{n}": "support" for n in range(8)}, "lee": "legal", "fay": "finance"}
    for name, team in roster.items():  # each member's own word on where they work
        state_team(world.people[name], team)
    assert _pilot_size(world.lead) == (
        "10 members across 3 teams (each team as the roster names it and its members say, "
        "with their own key, they work in)"
    )
    world.enrol("extra", "finance")
    with pytest.raises(Refused, match="the pilot is full: it has 10 members") as full:
        add_member(world.lead, "extra", track="support")
    assert full.value.missing == ["a free place in the pilot (at most 10 members)"]
    remove_member(world.lead, "s0")
    assert "s0" not in {m.person for m in members(PilotEvidence(world.lead))}
    add_member(world.lead, "extra", track="support")


def test_a_hand_typed_membership_makes_nobody_a_member(world: World) -> None:
    """The dishonest way: bob records pilot.member for himself with the roster's collector name.
    Without the pilot-user role, which only a lead gives (through the guard), he is no member."""
    world.waive()
    bob = world.enrol("bob", "support")
    bob.record_fact(None, "pilot.member", {"person": "bob", "track": "support"},
                    provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip
    assert members(PilotEvidence(world.lead)) == []
    with pytest.raises(NotAllowed, match="only a rollout lead changes roles"):
        bob.change_roles(None, "bob", add=["pilot-user"])


def test_the_cli_adds_lists_and_removes(world: World) -> None:
    world.waive()
    bob = world.enrol_cli("bob", "support")
    lead = lead_env(world.lead)

    def cli(*args: str, env: dict[str, str], code: int = 0) -> str:
        result = runner.invoke(app, ["pilot", *args], env=env)
        out = result.stdout + result.stderr
        assert result.exit_code == code, out
        assert "Traceback" not in out
        return out

    assert "only a rollout lead" in cli("add", "bob", "--track", "support", env=bob, code=3)
    assert "Added bob to the pilot on track support" in cli(
        "add", "bob", "--track", "support", env=lead
    )
    listed = json.loads(cli("list", "--json", env=bob))
    (row,) = listed["members"]
    assert (row["person"], row["team"], row["track"]) == ("bob", "support", "support")
    added = next(f for f in world.lead.state().facts if f.kind == "pilot.member")
    assert (row["onboarded"], row["met"], row["steps_total"]) == (f"{added.at:%Y-%m-%d}", 0, 5)
    table = cli("list", env=bob)
    assert "bob" in table and "0/5" in table and "the playbook wants 5-10 members" in table
    assert "Removed bob from the pilot (track support)" in cli("remove", "bob", env=lead)
    assert pilot_list(world.lead).members == []
    assert "pilot-user" not in world.lead.state().people["bob"].roles


def test_aliases_enrolled_on_the_leads_own_machine_make_no_pilot(world: World) -> None:
    """One person, one laptop: the lead invites five "colleagues" across three teams and joins
    each with a new key on the lead's own machine (with or without ``INHOUSE_MACHINE_ID``). The
    roster takes them, but the pilot's checks count none of them, and say why."""
    from inhouse.identity.machine import machine_fingerprint
    from tests.people import enrol

    world.waive()
    here = machine_fingerprint()  # the machine the lead enrolled from
    for n, team in enumerate(("support", "legal", "finance", "support", "legal")):
        machine = here if n % 2 else f"typed-{n}~{here}"  # the variable set, or not
        enrol(world.lead, f"a{n}", team=team, machine=machine)
        add_member(world.lead, f"a{n}", track="support")
    reason = _pilot_size(world.lead)
    assert reason.startswith("no pilot members count; not counted: a0 enrolled only from a ")
    assert "a4 enrolled only from a machine" in reason
    # the same five, one of them on a computer of their own: that one counts
    world.enrol("bea", "finance")
    add_member(world.lead, "bea", track="support")
    reason = _pilot_size(world.lead)
    assert reason.startswith("the pilot has 1 members; the play wants 5 to 10; not counted: a0")


def test_a_member_removed_before_finishing_is_named_by_pilot_enabled(world: World) -> None:
    """pilot-enabled judges the members of now: a lead who removes the one who did not finish
    leaves a pilot where everyone did. The reason names whoever left unfinished, and who
    removed them, so a reader can weigh it."""
    world.waive()
    for name in ("bob", "carol"):
        world.enrol(name, "support")
        add_member(world.lead, name, track="support")

    def reason() -> str:
        ctx = context_for(world.lead.state(), world.lead.clock())
        return evaluate("pilot-enabled", ctx).reason

    assert "left the pilot" not in reason()
    remove_member(world.lead, "bob")
    gone = next(f for f in reversed(world.lead.state().facts) if f.kind == "pilot.member")
    assert (gone.payload["person"], gone.payload["action"]) == ("bob", "removed")
    assert reason().endswith(
        f"; left the pilot before finishing their track: bob (removed by lena, fact #{gone.id})"
    ), reason()
    add_member(world.lead, "bob", track="support")  # back in: judged as a member again
    assert "left the pilot" not in reason()


def test_five_colleagues_under_five_team_names_are_one_team(world: World) -> None:
    """The forgery: five colleagues of one team, invited by a lead under five made-up team
    names. They are real (their own keys, their own machines), but the spread is the lead's
    typing alone: a team counts only where the member says, with their own key, they work in
    it. The honest five say it once each (`inhouse pilot team`), and the check passes."""
    world.waive()
    typed = ("support", "legal", "finance", "sales", "hr")
    envs = {}
    for n, team in enumerate(typed):
        envs[f"c{n}"] = world.enrol_cli(f"c{n}", team)
        add_member(world.lead, f"c{n}", track="support")
    reason = _pilot_size(world.lead)
    assert reason.startswith(
        "the pilot spans 0 teams (nobody) where the members' own word agrees with the "
        "roster; the play wants 3; team not counted: c0's team 'support' (the roster's, a "
        "lead's word) awaits c0's `inhouse pilot team support` (with their own key)"
    ), reason
    # the lead cannot say it for them: a team's word is its member's own
    state_team(world.lead, "legal")
    assert _pilot_size(world.lead).startswith("the pilot spans 0 teams")
    # the five say, with their own keys, the team they really work in: one team
    for env in envs.values():
        said = runner.invoke(app, ["pilot", "team", "support"], env=env)
        assert said.exit_code == 0, said.output
        assert "Recorded, in your own word: you work in support" in said.stdout
    world.clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the CLI signs on the wall clock
    reason = _pilot_size(world.lead)
    assert reason.startswith("the pilot spans 1 team (support) where"), reason
    assert "the roster names team 'legal' for c1 (a lead's word), c1 says they work in " in (reason)
    # an honest pilot: each says the team the roster names, and it passes
    for n, team in enumerate(typed):
        state_team(world.people[f"c{n}"], team)
    assert _pilot_size(world.lead) == (
        "5 members across 5 teams (each team as the roster names it and its members say, "
        "with their own key, they work in)"
    )


def test_a_lead_corrects_a_mistyped_team_and_the_member_says_it(world: World) -> None:
    """A team the lead mistyped is corrected on the record (`inhouse pilot correct-team`, a
    lead's signed fact), not by inviting the member again; it counts once the member's own word
    agrees with it, and an earlier word for another team no longer does. The forgery: a member
    who is also a lead corrects their own team to the one they say, and so sets both sides of
    the check alone: refused by the command, and not counted when written around it."""
    world.waive()
    typed = ("support", "legal", "finance", "sales", "hr")
    for n, team in enumerate(typed):
        world.enrol(f"c{n}", team)
        add_member(world.lead, f"c{n}", track="support")
    said = {"c0": "support", "c1": "marketing", "c2": "finance", "c3": "sales", "c4": "hr"}
    for name, team in said.items():
        state_team(world.people[name], team)
    reason = _pilot_size(world.lead)
    assert reason.startswith("5 members across 4 teams"), reason
    assert (
        "the roster names team 'legal' for c1 (a lead's word), c1 says they work in 'marketing'"
    ) in reason
    assert "`inhouse pilot correct-team c1 marketing`" in reason
    # the forgery: c1, made a co-lead, corrects their own team
    world.lead.change_roles(None, "c1", add=["rollout-lead"])
    c1 = world.people["c1"]
    with pytest.raises(NotAllowed, match="c1 cannot correct their own team"):
        correct_team(c1, "c1", "marketing")
    c1.record_fact(None, "pilot.roster_team", {"person": "c1", "team": "marketing"},
                   provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip
    assert "c1 says they work in 'marketing'" in _pilot_size(world.lead)
    # nor does someone who is no lead correct anyone's
    with pytest.raises(NotAllowed, match="only a rollout lead corrects"):
        correct_team(world.people["c2"], "c1", "marketing")
    # the honest path: the lead corrects it on the record; c1's own word already agrees
    corrected = runner.invoke(
        app, ["pilot", "correct-team", "c1", "marketing"], env=lead_env(world.lead)
    )
    assert corrected.exit_code == 0, corrected.output
    assert "The roster now names team marketing for c1" in corrected.stdout
    world.clock.now = datetime.now(UTC) + timedelta(minutes=1)  # the CLI signs on the wall clock
    logged = [e for e in world.lead.events() if e.payload.get("kind") == "pilot.roster_team"]
    assert [e.actor for e in logged] == ["c1", "lena"]  # both on the record
    assert _pilot_size(world.lead).startswith("5 members across 5 teams"), _pilot_size(world.lead)
    teams = {m.person: m.team for m in members(PilotEvidence(world.lead))}
    assert teams["c1"] == "marketing"
    # a correction to another team: c2's earlier word (finance) no longer counts
    correct_team(world.lead, "c2", "risk")
    reason = _pilot_size(world.lead)
    assert reason.startswith("5 members across 4 teams"), reason
    assert "the roster names team 'risk' for c2 (a lead's word), c2 says they work in" in reason
    c2 = next(m for m in members(PilotEvidence(world.lead)) if m.person == "c2")
    assert (c2.team, c2.says, c2.confirmed) == ("risk", "finance", False)
    table = runner.invoke(app, ["pilot", "list"], env=lead_env(world.lead)).stdout
    assert "risk (says finance)" in " ".join(table.split()), table
    state_team(world.people["c2"], "risk")
    assert _pilot_size(world.lead).startswith("5 members across 5 teams")
