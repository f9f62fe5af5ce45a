"""Champions suggested per team from measured signals (active days at the gateway, library
prompts other people use; help given is skipped, and said so, until play 5 measures it), named
by a rollout lead only, for their own team; findings in each person's own signed word; and the
handoff pack that carries findings, champions and the library's export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import IdentityError, InvalidInput, NotAllowed
from inhouse.identity import SigningKey
from inhouse.pilot.champions import accept_champion, name_champion, suggest_champions
from inhouse.pilot.findings import list_findings, record_finding
from inhouse.pilot.roster import add_member, state_team
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import Clock
from tests.people import confirm_own_use, lead_env, vouch_for_gateway_host
from tests.pilot.world import World, make_world

runner = CliRunner()


def _day(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> World:
    """bob and carol (support), lee (legal), fay (finance) in the pilot; carol shares a prompt
    that bob and lee use; bob uses the gateway on three days, carol on one, lee on two."""
    world = make_world(_isolated, clock)
    world.waive()
    world.lead.as_service("gateway")  # its key enrolled on its host, which a member vouches for
    for name, team in (("bob", "support"), ("carol", "support"), ("lee", "legal"),
                       ("fay", "finance")):  # fmt: skip
        world.enrol(name, team)
        add_member(world.lead, name, track="legal")
    vouch_for_gateway_host(world.people["lee"])
    triage = world.share_prompt("carol", "triage")
    for day in (3, 4, 5):
        world.send("bob", _day(day), prompt=triage if day == 5 else None)
    world.send("carol", _day(4), prompt=triage)
    world.send("lee", _day(4))
    world.send("lee", _day(6), prompt=triage)
    world.clock.now = _day(10)
    world.sign()  # the gateway signs the days and prompt use; each person confirms theirs
    return world


def test_use_its_person_never_confirmed_suggests_nobody(world: World) -> None:
    """The forgery: the lead, who runs the gateway, sends requests in fay's name (a key fay
    fetched, or rows sealed with the gateway's key on its host), and the gateway signs them;
    fay never confirms that use with her own key. Fay is no suggested champion of finance:
    no active day, no reuse of a prompt, only a note naming the uncounted days."""
    triage = "triage@1"
    for day in (7, 8, 9):
        world.send("fay", _day(day), prompt=triage)
    world.clock.now = _day(10)
    world.confirms = False  # nobody confirms this time; fay never does
    world.sign()
    found = suggest_champions(world.lead)
    teams = {t.team: t for t in found.teams}
    fay = next(c for c in teams["finance"].candidates if c.person == "fay")
    assert (fay.active_days, fay.reused_by) == (0, [])
    assert teams["finance"].suggested is None
    carol = teams["support"].candidates[0]
    assert carol.reused_by == ["bob", "lee"]  # fay's unconfirmed use of carol's prompt: none
    assert any(
        "not counted as active days: fay (3)" in note and "inhouse usage confirm" in note
        for note in found.notes
    )
    # once fay confirms with her own key, her days and her use of carol's prompt count
    confirm_own_use(world.people["fay"])
    teams = {t.team: t for t in suggest_champions(world.lead).teams}
    assert teams["finance"].suggested == "fay"
    assert teams["finance"].candidates[0].active_days == 3
    assert teams["support"].candidates[0].reused_by == ["bob", "fay", "lee"]


def test_candidates_come_from_measured_signals(world: World) -> None:
    found = suggest_champions(world.lead)
    assert (found.since, found.until) == ("2026-10-14", "2026-11-10")  # the 28-day window
    # help given is measured now that play 5's queue records resolutions (none in this world)
    assert not any("help given" in note for note in found.notes)
    teams = {t.team: t for t in found.teams}
    assert sorted(teams) == ["finance", "legal", "support"]
    support = teams["support"]
    # carol's prompt is used by two other people: she leads, though bob was active more days
    assert [c.person for c in support.candidates][:2] == ["carol", "bob"]
    carol, bob = support.candidates[:2]
    assert (carol.active_days, carol.prompts, carol.reused_by) == (1, ["triage@1"], ["bob", "lee"])
    assert (bob.active_days, bob.reused_by, bob.tickets) == (3, [], 0)
    assert support.suggested == "carol"
    assert [c.person for c in support.candidates] == ["carol", "bob", "omar"]  # all of the team
    assert teams["legal"].suggested == "lee" and teams["legal"].candidates[0].active_days == 2
    assert teams["finance"].suggested is None  # fay never used it: no signal, no suggestion


def test_active_days_outside_the_adoption_window_are_not_a_signal(world: World) -> None:
    world.clock.now = datetime(2026, 12, 20, tzinfo=UTC)  # bob's days are now > 28 days ago
    found = {t.team: t for t in suggest_champions(world.lead).teams}
    assert all(c.active_days == 0 for c in found["support"].candidates)
    assert found["support"].suggested == "carol"  # reuse of her prompt still counts


def test_only_a_lead_names_a_champion_for_their_own_team(world: World) -> None:
    with pytest.raises(NotAllowed, match="only a rollout lead names champions; bob is not one"):
        name_champion(world.people["bob"], "carol", team="support")
    with pytest.raises(InvalidInput, match="carol is on team support, not legal"):
        name_champion(world.lead, "carol", team="legal")
    fact = name_champion(world.lead, "carol", team="support")
    assert (fact.by, fact.collector, fact.provenance) == ("lena", "inhouse pilot",
                                                          Provenance.MEASURED)  # fmt: skip
    assert fact.payload == {"person": "carol", "team": "support", "accepted": False}
    assert "champion" in world.lead.state().people["carol"].roles
    support = next(t for t in suggest_champions(world.lead).teams if t.team == "support")
    assert support.champions == ["carol"] and support.suggested is None
    context = context_for(world.lead.state(), world.lead.clock())
    result = evaluate("champions-named", context)
    assert result.outcome is Outcome.FAIL and "finance, legal" in result.reason


def test_naming_a_champion_again_records_nothing_until_the_role_was_taken_away(
    world: World,
) -> None:
    """Naming carol champion of support twice recorded two namings (two events, two
    ``pilot.champion`` facts). Naming the same champion again now records nothing and answers
    with the naming that stands; once the role was taken away, naming her again records anew."""
    first = name_champion(world.lead, "carol", team="support")
    head = world.lead.state().head_seq
    again = name_champion(world.lead, "carol", team="Support ")  # the same team, as typed
    assert again.id == first.id and world.lead.state().head_seq == head
    accept_champion(world.people["carol"], agree=lambda lines: True)
    assert name_champion(world.lead, "carol", team="support").id == first.id
    namings = [f for f in world.lead.state().facts
               if f.kind == "pilot.champion" and not f.payload["accepted"]]  # fmt: skip
    assert [f.id for f in namings] == [first.id]
    world.lead.change_roles(None, "carol", remove=["champion"])
    renamed = name_champion(world.lead, "carol", team="support")
    assert renamed.id > first.id and "champion" in world.lead.state().people["carol"].roles
    assert name_champion(world.lead, "carol", team="support").id == renamed.id


def test_findings_are_each_persons_own_word(world: World) -> None:
    record_finding(world.people["bob"], "The install page skips the proxy setting", kind="docs")
    record_finding(world.people["lee"], "A contract-clause prompt would save hours",
                   kind="prompt", note="asked by three lawyers")  # fmt: skip
    with pytest.raises(InvalidInput, match="one of docs, prompt, workflow, baseline, other"):
        record_finding(world.people["bob"], "x", kind="gripe")
    with pytest.raises(InvalidInput, match="cannot be empty"):
        record_finding(world.people["bob"], "  ")
    stranger = world.lead.using(SigningKey.generate())
    with pytest.raises(IdentityError, match="not enrolled"):
        record_finding(stranger, "I was never invited")
    found = list_findings(world.lead)
    assert [(f.by, f.kind, f.finding, f.note) for f in found] == [
        ("bob", "docs", "The install page skips the proxy setting", ""),
        ("lee", "prompt", "A contract-clause prompt would save hours", "asked by three lawyers"),
    ]
    world.lead.attest("bob", "pilot.finding", {"finding": "more GPUs", "kind": "other"},
                      "bob told me in the corridor")  # fmt: skip
    assert list_findings(world.lead)[-1].by == "lena on behalf of bob"  # never bob's own


def test_the_handoff_pack_holds_findings_champions_and_the_library(
    world: World, _isolated: Path
) -> None:
    record_finding(world.people["bob"], "The install page skips the proxy setting", kind="docs")
    name_champion(world.lead, "carol", team="support")
    env = lead_env(world.lead)
    result = runner.invoke(app, ["pilot", "handoff-pack", "--out", "handoff"], env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    folder = _isolated / "handoff"
    findings = (folder / "findings.md").read_text(encoding="utf-8")
    assert "## docs" in findings and "The install page skips the proxy setting (bob, " in findings
    champions = (folder / "champions.md").read_text(encoding="utf-8")
    assert "## support\n\nChampion: carol" in champions
    assert "| carol (champion) | " in champions and "| bob, lee |" in champions
    assert "not measured yet" not in champions  # help given: the support queue measures it
    prompt = (folder / "prompts" / "triage.yaml").read_text(encoding="utf-8")
    assert "name: triage" in prompt


def test_the_cli_suggests_names_and_lists(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads the world's clock, so its 28-day window holds the world's November days
    whatever today is (it read the real clock, and failed once 2026-11-06 left the window)."""
    opened = Program.open.__func__  # type: ignore[attr-defined]

    def on_world_clock(cls: type[Program], folder: object = None, **options: object) -> Program:
        options.setdefault("clock", world.clock)
        return opened(cls, folder, **options)  # type: ignore[no-any-return]

    monkeypatch.setattr(Program, "open", classmethod(on_world_clock))
    env = world.enrol_cli("dora", "finance")
    lead = lead_env(world.lead)
    data = json.loads(runner.invoke(app, ["pilot", "champions", "--json"], env=env).stdout)
    assert {t["team"]: t["suggested"] for t in data["teams"]}["support"] == "carol"
    refused = runner.invoke(app, ["pilot", "champions", "--name", "carol", "--team", "support"],
                            env=env)  # fmt: skip
    assert refused.exit_code == 3 and "only a rollout lead" in refused.stderr
    half = runner.invoke(app, ["pilot", "champions", "--name", "carol"], env=lead)
    assert half.exit_code == 2 and "both --name PERSON and --team TEAM" in half.stderr
    named = runner.invoke(app, ["pilot", "champions", "--name", "carol", "--team", "support"],
                          env=lead)  # fmt: skip
    assert named.exit_code == 0 and "Named carol champion of support" in named.stdout
    again = runner.invoke(app, ["pilot", "champions", "--name", "carol", "--team", "support"],
                          env=lead)  # fmt: skip
    assert again.exit_code == 0, again.output
    assert "carol is already a champion of support" in again.stdout
    assert "nothing recorded" in again.stdout
    said_json = runner.invoke(app, ["pilot", "champions", "--name", "carol", "--team",
                                    "support", "--json"], env=lead)  # fmt: skip
    assert json.loads(said_json.stdout)["already"] is True
    text = runner.invoke(app, ["pilot", "champions"], env=env).stdout
    assert "support — champion: carol" in text and "legal — suggested: lee" in text
    said = runner.invoke(app, ["pilot", "finding", "Needs a [b]SQL[/b] prompt", "--kind",
                               "prompt"], env=env)  # fmt: skip
    assert said.exit_code == 0 and "signed by dora" in said.stdout
    listed = json.loads(runner.invoke(app, ["pilot", "findings", "--json"], env=env).stdout)
    assert [(f["by"], f["finding"]) for f in listed] == [("dora", "Needs a [b]SQL[/b] prompt")]
    assert "Needs a [b]SQL[/b] prompt" in runner.invoke(app, ["pilot", "findings"], env=env).stdout


def _help_given(world: World, person: str) -> int | None:
    teams = {t.team: t for t in suggest_champions(world.lead).teams}
    return next(c.tickets for t in teams.values() for c in t.candidates if c.person == person)


def test_help_given_counts_the_tickets_someone_resolved(world: World) -> None:
    """Help given is who resolved tickets in the support queue (the resolver's own signature),
    not who typed a resolution for them, counted once the ticket's opener confirmed the fix
    with their own key: a resolution is its resolver's word until then."""
    from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket

    ticket = open_ticket(world.people["lee"], "It broke", category="it-broke",
                         component="workflow:ticket-summary")  # fmt: skip
    resolve_ticket(world.people["bob"], ticket.id, note="fixed the spec")
    assert _help_given(world, "bob") == 0  # lee has not said it is fixed
    confirm_fix(world.people["lee"], ticket.id)
    assert _help_given(world, "bob") == 1


def test_help_given_is_not_made_by_resolving_tickets_nobody_confirmed(world: World) -> None:
    """The forgery: bob resolves lee's ticket with a made-up note, and a ticket he opened
    himself, which he resolves and confirms fixed: neither is help anyone confirmed."""
    from inhouse.support.queue import confirm_fix, open_ticket, resolve_ticket

    bob = world.people["bob"]
    theirs = open_ticket(world.people["lee"], "It broke", category="it-broke",
                         component="workflow:ticket-summary")  # fmt: skip
    own = open_ticket(bob, "It broke for me", category="it-broke",
                      component="workflow:ticket-summary")  # fmt: skip
    for ticket in (theirs, own):
        resolve_ticket(bob, ticket.id, note="fixed")
    confirm_fix(bob, own.id)
    assert _help_given(world, "bob") == 0


def test_a_champion_accepts_with_their_own_key(world: World) -> None:
    """Naming is the lead's act, taking it on the champion's: only the person named accepts,
    with their own key, and only after a lead named them."""
    from inhouse.errors import Refused
    from inhouse.pilot.champions import accept_champion

    with pytest.raises(NotAllowed, match="carol is not named champion"):
        accept_champion(world.people["carol"])
    name_champion(world.lead, "carol", team="support")
    with pytest.raises(NotAllowed, match="bob is not named champion"):
        accept_champion(world.people["bob"])
    # the command shows what carol's key signs and records only on a yes: asked to "just run
    # `inhouse pilot champions --accept`", she reads the team and who named her first
    seen: list[str] = []
    before = len(world.lead.state().facts)
    for answer, why in ((None, "the question got no answer"), (False, "take on only a part")):

        def ask(lines: list[str], answer: bool | None = answer) -> bool | None:
            seen.extend(lines)
            return answer

        with pytest.raises(NotAllowed, match=f"not taken on, nothing recorded for carol: {why}"):
            accept_champion(world.people["carol"], agree=ask)
    assert len(world.lead.state().facts) == before
    assert "you, carol, take on the champion's part for the team support" in seen, seen
    assert any(line.startswith("named by lena at ") for line in seen), seen
    fact = accept_champion(world.people["carol"], agree=lambda lines: True)
    assert fact.by == "carol" and fact.payload == {
        "person": "carol", "team": "support", "accepted": True}  # fmt: skip
    support = next(t for t in suggest_champions(world.lead).teams if t.team == "support")
    assert support.champions == ["carol"]
    del Refused


def test_moving_a_member_to_another_team_afterwards_moves_nobody(world: World) -> None:
    """finance has no champion; the lead alone moves fay, its member, to legal (a roster edit a
    lead signs, which the fold takes): the pilot's checks still count her in finance, the team
    she was added in, so finance still wants its champion. (A red team passed it before.)"""
    from inhouse.pilot.champions import accept_champion
    from inhouse.program.events import EventKind

    lead = world.lead
    for person, team in (("carol", "support"), ("lee", "legal")):
        name_champion(lead, person, team=team)
        accept_champion(world.people[person])

    def judged() -> tuple[Outcome, str]:
        result = evaluate("champions-named", context_for(lead.state(), lead.clock()))
        return result.outcome, result.reason

    outcome, reason = judged()
    assert outcome is Outcome.FAIL and "finance" in reason, reason
    fay = lead.state().people["fay"]
    moved = {"name": "fay", "email": fay.email, "team": "legal", "roles": sorted(fay.roles)}
    lead._append(EventKind.PERSON_CHANGED, lead.whoami().name, moved)
    assert lead.state().people["fay"].team == "legal"
    outcome, reason = judged()
    assert outcome is Outcome.FAIL and "finance" in reason, reason


def test_a_champion_counts_once_they_said_they_work_in_the_team(world: World) -> None:
    """The roster's team is the lead's word: carol, named champion of support and accepting,
    counts for support once she says, with her own key, that she works in it; until then the
    check and `inhouse pilot champions` say what is missing, and whose word it awaits."""
    name_champion(world.lead, "carol", team="support")
    accept_champion(world.people["carol"])

    def reason() -> str:
        return evaluate(
            "champions-named", context_for(world.lead.state(), world.lead.clock())
        ).reason

    awaits = (
        "carol's team 'support' (the roster's, a lead's word) awaits carol's `inhouse pilot "
        "team support`"
    )
    assert "no champion for teams finance, legal, support" in reason()
    assert awaits in reason()
    assert any(note.startswith(awaits) for note in suggest_champions(world.lead).notes)
    state_team(world.people["carol"], "support")
    assert "no champion for teams finance, legal:" in reason()
    assert not any("carol's team" in note for note in suggest_champions(world.lead).notes)


def test_a_champion_is_named_for_their_team_however_its_name_is_typed(world: World) -> None:
    """(review B) The check reads a champion's team by how it reads (``team_key``): the
    command refused "Support" for carol of support, a team the check would count as hers."""
    fact = name_champion(world.lead, "carol", team="Support ")
    assert fact.payload["person"] == "carol"


def _on_world_clock(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = Program.open.__func__  # type: ignore[attr-defined]

    def on_world_clock(cls: type[Program], folder: object = None, **options: object) -> Program:
        options.setdefault("clock", world.clock)
        return opened(cls, folder, **options)  # type: ignore[no-any-return]

    monkeypatch.setattr(Program, "open", classmethod(on_world_clock))


def _without_champion(world: World) -> str:
    """The teams play 5's champions-named finds no champion for, as its reason words them."""
    reason = evaluate("champions-named", context_for(world.lead.state(), world.lead.clock())).reason
    return reason.split(":")[0] if reason.startswith("no champion") else ""


def test_a_champion_named_by_a_lead_who_handed_the_role_on_still_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lena named carol (support) and lee (legal), then mia took over as lead and lena gave the
    role up. A naming made by a rollout lead at the time stands (a role lost later does not undo
    it, as the pilot's listing reads a lead's act): carol still counts, mia naming her again
    records nothing, and lee takes on the part lena named him for. It counted only a current
    lead's namings, so the team whose lead moved on had to be named and accept again while
    `inhouse pilot champions` listed carol as its champion."""
    from inhouse.pilot.champions import lapsed_naming

    _on_world_clock(world, monkeypatch)
    first = name_champion(world.lead, "carol", team="support")
    accept_champion(world.people["carol"], agree=lambda lines: True)
    state_team(world.people["carol"], "support")
    name_champion(world.lead, "lee", team="legal")
    state_team(world.people["lee"], "legal")
    assert "support" not in _without_champion(world)
    waiting = "lee, named champion of legal by lena, has not accepted yet"
    assert any(waiting in note for note in suggest_champions(world.lead).notes)
    env = world.enrol_cli("mia", "platform")
    world.lead.change_roles(None, "mia", add=["rollout-lead"])
    world.people["mia"].change_roles(None, "lena", remove=["rollout-lead"])
    assert "support" not in _without_champion(world)  # lena's naming stands
    assert lapsed_naming(world.lead, "carol") is None
    again = runner.invoke(app, ["pilot", "champions", "--name", "carol", "--team", "support",
                                "--json"], env=env)  # fmt: skip
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["already"] is True
    assert json.loads(again.stdout)["id"] == first.id
    taken = accept_champion(world.people["lee"], agree=lambda lines: True)
    assert taken.payload == {"person": "lee", "team": "legal", "accepted": True}
    assert "legal" not in _without_champion(world)
    notes = suggest_champions(world.lead).notes
    assert not any("champion" in note and ("lee" in note or "carol" in note) for note in notes)


def test_a_naming_written_before_its_signer_led_names_nobody(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forgery: bob, no lead, writes a naming of fay around `inhouse pilot champions
    --name` (which refuses him) once lena gave fay the role, and bob is made a co-lead later. A
    role given later does not reach back over what was signed before it: fay's acceptance is
    refused, the listing says the role names nobody yet, and a lead naming her records anew and
    says why."""
    from inhouse.errors import Refused
    from inhouse.pilot.champions import lapsed_naming
    from inhouse.pilot.roster import COLLECTOR

    _on_world_clock(world, monkeypatch)
    state_team(world.people["fay"], "finance")
    world.lead.change_roles(None, "fay", add=["champion"])
    around = world.people["bob"].record_fact(
        None, "pilot.champion", {"person": "fay", "team": "finance"},
        provenance=Provenance.MEASURED, collector=COLLECTOR,
    )  # fmt: skip
    world.lead.change_roles(None, "bob", add=["rollout-lead"])
    with pytest.raises(Refused, match="no rollout lead has named fay champion"):
        accept_champion(world.people["fay"], agree=lambda lines: True)
    assert "finance" in _without_champion(world)
    said = "fay holds the champion role, but no rollout lead named them since they took it"
    assert any(said in note for note in suggest_champions(world.lead).notes)
    listed = runner.invoke(app, ["pilot", "champions"], env=lead_env(world.lead))
    assert said in " ".join(listed.stdout.split()), listed.stdout
    assert lapsed_naming(world.lead, "fay") == around
    named = runner.invoke(app, ["pilot", "champions", "--name", "fay", "--team", "finance"],
                          env=lead_env(world.lead))  # fmt: skip
    assert named.exit_code == 0, named.output
    assert (
        f"Recorded anew: fay's naming by bob (fact #{around.id}) does not count, as bob held no "
        "rollout lead's role when it was signed" in " ".join(named.stdout.split())
    ), named.stdout
    accept_champion(world.people["fay"], agree=lambda lines: True)
    assert "finance" not in _without_champion(world)


def test_a_lead_removed_for_cause_leaves_her_champions_to_the_next_lead_to_unmake(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A naming counts when its signer led at the time, so taking the role from a lead does not
    undo the champions she named, honest or not (the log cannot tell a naming she meant from one
    signed with her key after it was stolen, before its revocation). What does undo one is the
    champion's role: mia, the lead now, takes carol's away, and lena's naming names nobody, even
    once the role is given back, until a lead names carol again and she accepts again."""
    _on_world_clock(world, monkeypatch)
    name_champion(world.lead, "carol", team="support")
    accept_champion(world.people["carol"], agree=lambda lines: True)
    state_team(world.people["carol"], "support")
    world.enrol_cli("mia", "platform")
    world.lead.change_roles(None, "mia", add=["rollout-lead"])
    mia = world.people["mia"]
    mia.change_roles(None, "lena", remove=["rollout-lead"])
    assert "support" not in _without_champion(world)  # removed, she named carol as a lead
    mia.change_roles(None, "carol", remove=["champion"])
    assert "support" in _without_champion(world)
    mia.change_roles(None, "carol", add=["champion"])
    assert "support" in _without_champion(world)  # a role given back revives no naming
    said = "carol holds the champion role, but no rollout lead named them since they took it"
    assert any(said in note for note in suggest_champions(mia).notes)
    name_champion(mia, "carol", team="support")
    accept_champion(world.people["carol"], agree=lambda lines: True)
    assert "support" not in _without_champion(world)
