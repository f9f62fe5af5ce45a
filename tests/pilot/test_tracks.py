"""Role tracks as data (errors name the file and the field), and enablement measured from real
evidence: requests through the gateway with the member's own key (once the gateway's key signed
them), a workflow run signed by them, a library prompt someone else wrote (its use signed by the
gateway), a redaction they read about, and, where nothing can be measured, their own word
(never someone else's)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.baseline.lock import COLLECTOR as LOCKED
from inhouse.baseline.lock import lock_fact_payload, read_lock
from inhouse.cli.app import app
from inhouse.errors import InvalidInput, NotAllowed
from inhouse.pilot.enablement import MemberProgress, progress, record_enablement, step_done
from inhouse.pilot.roster import add_member
from inhouse.pilot.tracks import STEP_TYPES, load_track, parse_track
from inhouse.program import Provenance
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.playbook import CheckRef
from tests.conftest import Clock
from tests.people import vouch_for_gateway_host
from tests.pilot.world import SUPPORT_TRACK, make_world

runner = CliRunner()
WORKFLOWS = ["ticket-summary"]


def _error(text: str) -> str:
    with pytest.raises(InvalidInput) as err:
        parse_track(text, name="ops", where="enablement/ops.yaml", workflows=WORKFLOWS)
    return str(err.value)


def test_a_track_file_names_the_file_and_the_field_at_fault() -> None:
    assert parse_track(SUPPORT_TRACK, name="support", where="x", workflows=WORKFLOWS).steps
    step = "  - {id: one, type: first-answered-request}\n"
    assert _error("role: ops\nsteps:\n" + step) == "enablement/ops.yaml: title: Field required"
    assert _error("title: Ops\nrole: ops\nstep:\n" + step).startswith(
        "enablement/ops.yaml: steps: Field required; step: Extra inputs are not permitted"
    )
    assert _error("title: O\nrole: o\nsteps:\n  - {id: one, type: magic}\n") == (
        "enablement/ops.yaml: steps.0.type: unknown step type 'magic'; step types: "
        + ", ".join(sorted(STEP_TYPES))
    )
    assert _error("title: O\nrole: o\nsteps:\n" + step + "  - {id: two, type: ran-workflow}\n") == (
        "enablement/ops.yaml: steps.1.workflow: Field required"
    )
    assert "steps.0.colour: Extra inputs are not permitted" in _error(
        "title: O\nrole: o\nsteps:\n  - {id: one, type: first-answered-request, colour: red}\n"
    )
    assert _error(
        "title: O\nrole: o\nsteps:\n  - {id: two, type: ran-workflow, workflow: nope}\n"
    ) == (
        "enablement/ops.yaml: steps.0.workflow: no workflow 'nope' in this program "
        "(workflows: ticket-summary)"
    )
    assert _error("title: O\nrole: o\nworkflows: [gone]\nsteps:\n" + step).startswith(
        "enablement/ops.yaml: workflows.0: no workflow 'gone'"
    )
    assert _error("title: O\nrole: o\nsteps:\n  - {id: p, type: attested}\n") == (
        "enablement/ops.yaml: steps.0.title: an attested step says what to do (required)"
    )
    assert "the id 'one' is used twice" in _error("title: O\nrole: o\nsteps:\n" + step + step)
    assert "steps.0.id: String should match pattern" in _error(
        "title: O\nrole: o\nsteps:\n  - {id: Bad Id, type: first-answered-request}\n"
    )
    assert "enablement/ops.yaml: line 2: not valid YAML" in _error("title: [unclosed\n")


def test_load_track_refuses_a_path_outside_enablement(_isolated: Path) -> None:
    with pytest.raises(InvalidInput, match="is not a track name"):
        load_track(_isolated, "../inhouse")


def _steps(item: MemberProgress) -> dict[str, bool]:
    return {step.id: step.met for step in item.steps}


def test_enablement_is_measured_from_the_members_own_evidence(
    _isolated: Path, clock: Clock
) -> None:
    world = make_world(_isolated, clock)
    world.waive()
    bob = world.enrol("bob", "support")
    carol = world.enrol("carol", "legal")
    world.lead.as_service("gateway")  # its host vouched for by carol, who never led
    vouch_for_gateway_host(carol)
    add_member(world.lead, "bob", track="support")
    add_member(world.lead, "carol", track="legal")
    (start,) = progress(world.lead, "bob")
    assert not any(_steps(start).values())
    assert start.steps[0].how.startswith("fetch your gateway key")

    # a request through the gateway with his own key: measured once the gateway's key signed it
    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC))
    (now,) = progress(world.lead, "bob")
    assert now.steps[0].detail == (
        "a request answered on 2026-11-03 is not in the gateway's signed daily usage yet "
        "(`inhouse gateway rollup` on the gateway's host signs it), or not confirmed by you "
        "(`inhouse usage confirm` on your machine)"
    )
    # rolled up, and not yet his word: he is asked for his confirmation alone, not sent to a
    # lead for a rollup that was run (walk456)
    world.confirms = False
    world.sign()
    daily = next(f for f in reversed(world.lead.state().facts) if f.kind == "usage.daily")
    (now,) = progress(world.lead, "bob")
    assert now.steps[0].detail == (
        f"the gateway signed your use of 2026-11-03 (usage.daily #{daily.id}); it counts once "
        "you confirm it: `inhouse usage confirm` on your machine"
    )
    world.confirms = True
    world.sign()
    daily = next(f for f in reversed(world.lead.state().facts) if f.kind == "usage.daily")
    assert (daily.kind, daily.by) == ("usage.daily", "gateway")
    # a workflow run: carol's passing run and bob's failing one are not bob's passing run
    world.workflow_run("carol")
    world.workflow_run("bob", passed=False)
    (now,) = progress(world.lead, "bob")
    assert _steps(now) == {"first-request": True, "summarise-a-ticket": False,
                           "shared-prompt": False, "redaction": False,
                           "pair-with-a-champion": False}  # fmt: skip
    assert now.steps[0].detail == (
        f"first answered request through the gateway on 2026-11-03 (signed by the gateway: "
        f"usage.daily #{daily.id})"
    )
    assert now.steps[0].evidence == (daily.id,)
    world.workflow_run("bob")

    # a library prompt: his own does not count where the step wants someone else's
    own = world.share_prompt("bob", "bobs-notes")
    world.send("bob", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt=own)
    world.sign()
    assert not _steps(progress(world.lead, "bob")[0])["shared-prompt"]
    theirs = world.share_prompt("carol", "triage")
    world.send("bob", datetime(2026, 11, 4, 11, tzinfo=UTC), prompt=theirs)
    shared = next(s for s in progress(world.lead, "bob")[0].steps if s.id == "shared-prompt")
    assert not shared.met and "triage@1 is not in the gateway's signed prompt use" in shared.detail
    # signed, and not yet his word: he is asked for his confirmation alone (walk456)
    world.confirms = False
    world.sign()
    use = next(f for f in reversed(world.lead.state().facts) if f.kind == "prompt.usage")
    shared = next(s for s in progress(world.lead, "bob")[0].steps if s.id == "shared-prompt")
    assert shared.detail == (
        f"the gateway signed your use of triage@1 (prompt.usage #{use.id}); it counts once you "
        "confirm it: `inhouse usage confirm` on your machine"
    )
    world.confirms = True
    world.sign()
    assert (use.by, use.payload["prompt"], use.payload["people"]) == ("gateway", "triage", ["bob"])

    # a request the data rules redacted: met once he has read why, in his own name
    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC), text="mail anna@example.com")
    (now,) = progress(world.lead, "bob")
    redaction = next(s for s in now.steps if s.id == "redaction")
    assert not redaction.met and "was redacted; read why with" in redaction.detail
    assert _steps(now)["summarise-a-ticket"] and _steps(now)["shared-prompt"]
    shared = next(s for s in now.steps if s.id == "shared-prompt")
    assert shared.detail == (
        f"used library prompt triage@1 (by carol; signed by the gateway: prompt.usage #{use.id})"
    )
    read = step_done(bob, "redaction")
    assert "email replaced by [REDACTED:…]" in read.explanation[0]
    assert any("e-mail addresses are redacted" in line for line in read.explanation[2:])

    # the attested step: only bob's own word counts
    with pytest.raises(NotAllowed, match="only bob's own word counts"):
        step_done(world.lead, "pair-with-a-champion", on_behalf_of="bob")
    world.lead.attest("bob", "enablement.step", {"person": "bob", "track": "support",
                      "step": "pair-with-a-champion", "how": "attested"}, "he did")  # fmt: skip
    carol.attest(None, "enablement.step", {"person": "bob", "track": "support",
                 "step": "pair-with-a-champion", "how": "attested"}, "I saw him")  # fmt: skip
    assert not _steps(progress(world.lead, "bob")[0])["pair-with-a-champion"]
    with pytest.raises(InvalidInput, match=r"summarise-a-ticket \(ran-workflow\) is measured"):
        step_done(bob, "summarise-a-ticket")
    with pytest.raises(InvalidInput, match="track legal has no step 'redaction'"):
        step_done(carol, "redaction")
    step_done(bob, "pair-with-a-champion", comment="an hour with omar")
    (done,) = progress(world.lead, "bob")
    assert done.done and not done.completed_recorded

    # recording: each member records their own, the evidence decides; nothing twice
    with pytest.raises(NotAllowed, match="only bob's own key records bob's enablement"):
        record_enablement(carol, "bob")
    _, mine = record_enablement(carol)
    assert all(f.payload["person"] == "carol" for f in mine)
    with pytest.raises(InvalidInput, match="lena is not in the pilot: each member records"):
        record_enablement(world.lead)
    after, recorded = record_enablement(bob)
    assert [(f.kind, f.payload["person"]) for f in recorded] == [
        *[("enablement.step", "bob")] * 5, ("enablement.completed", "bob")]  # fmt: skip
    assert {(f.by, f.collector, f.provenance) for f in recorded} == {
        ("bob", "inhouse pilot enablement", Provenance.MEASURED)
    }
    # each measured step names the signed fact it rests on; a word says it is one
    run = next(f for f in reversed(world.lead.state().facts) if f.kind == "workflow.run")
    assert {f.payload["step"]: (f.payload["evidence"], f.payload["how"]) for f in recorded[:5]} == {
        "first-request": ([daily.id], now.steps[0].detail),
        "summarise-a-ticket": ([run.id], now.steps[1].detail),
        "shared-prompt": ([use.id], shared.detail),
        "redaction": ([], "attested"),
        "pair-with-a-champion": ([], "attested"),
    }
    assert recorded[5].payload["steps"] == [step.id for step in now.steps]
    (bob_after,) = after
    assert bob_after.completed_recorded and all(s.recorded for s in bob_after.steps)
    assert record_enablement(bob)[1] == []
    context = context_for(world.lead.state(), world.lead.clock())
    result = evaluate("pilot-enabled", context)
    assert result.outcome is Outcome.FAIL and "not complete for carol" in result.reason


def test_a_track_completion_someone_else_signed_counts_for_nothing(
    _isolated: Path, clock: Clock
) -> None:
    """The forgery: the lead, through the Python API, records "measured" completions for
    members who never walked their track. Only a member's own signature counts."""
    world = make_world(_isolated, clock)
    world.waive()
    for name, track in (("bob", "support"), ("carol", "legal")):
        world.enrol(name, track)
        add_member(world.lead, name, track=track)
        world.lead.record_fact(
            None,
            "enablement.completed",
            {"person": name, "track": track},
            provenance=Provenance.MEASURED,
            collector="inhouse pilot enablement",
        )
    context = context_for(world.lead.state(), world.lead.clock())
    (checked,) = run_checks([CheckRef(check="pilot-enabled", title="enabled")], context)
    assert checked.result.outcome is Outcome.INCONCLUSIVE
    assert "not complete for bob, carol" in checked.result.reason
    assert [u.why for u in context.uncounted if u.fact.kind == "enablement.completed"] == [
        f"signed by lena, not by {name}: only {name}'s own signed enablement.completed counts"
        for name in ("bob", "carol")
    ]


def test_a_step_done_outside_the_pilot_or_the_track_is_refused(
    _isolated: Path, clock: Clock
) -> None:
    world = make_world(_isolated, clock)
    world.waive()
    bob = world.enrol("bob", "support")
    with pytest.raises(InvalidInput, match="bob is not in the pilot"):
        step_done(bob, "pair-with-a-champion")
    add_member(world.lead, "bob", track="support")
    with pytest.raises(InvalidInput, match="track support has no step 'dance'"):
        step_done(bob, "dance")


def test_the_cli_shows_progress_and_records_it(_isolated: Path, clock: Clock) -> None:
    world = make_world(_isolated, clock)
    world.waive()
    env = world.enrol_cli("dora", "legal")
    world.lead.as_service("gateway")  # its host vouched for by dora, who never led
    vouch_for_gateway_host(world.people["dora"])
    add_member(world.lead, "dora", track="legal")
    out = runner.invoke(app, ["pilot", "enablement", "dora"], env=env).stdout
    assert "dora — track legal: 0/1" in out and "no answered request" in out
    world.send("dora", datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.sign()
    result = runner.invoke(app, ["pilot", "enablement", "--record", "--json"], env=env)
    assert result.exit_code == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    (member,) = data["members"]
    assert member["done"] and member["completed_recorded"]
    assert [r["kind"] for r in data["recorded"]] == ["enablement.step", "enablement.completed"]
    refused = runner.invoke(app, ["pilot", "step", "done", "first-request"], env=env)
    assert refused.exit_code == 2 and "is measured" in refused.stderr
    tracks = runner.invoke(app, ["pilot", "tracks", "--json"], env=env)
    assert [t["name"] for t in json.loads(tracks.stdout)] == ["legal", "support"]


def test_a_workflow_run_on_a_lock_the_program_never_recorded_is_no_step(
    _isolated: Path, clock: Clock
) -> None:
    """A passing run signed on a lock the log never recorded (its runner's inhouse.lock,
    rewritten to bless weights nobody verified: what ``inhouse workflow test`` signed before it
    followed the recorded lock) is no ``ran-workflow`` step, in progress nor in play 4's check;
    a run on the recorded lock is."""
    world = make_world(_isolated, clock)
    world.waive()
    bob = world.enrol("bob", "support")
    add_member(world.lead, "bob", track="support")
    recorded = read_lock(_isolated)
    assert recorded is not None
    world.lead.record_fact(None, "baseline.lock", lock_fact_payload(recorded),
                           provenance=Provenance.MEASURED, collector=LOCKED)  # fmt: skip

    def run(lock_hash: str) -> None:
        payload = {"workflow": "ticket-summary", "content_hash": "sha256:0123456789",
                   "lock_hash": lock_hash, "passed": True, "pass_rate": 1.0,
                   "cases": 1}  # fmt: skip
        bob.record_fact(
            None, "workflow.run", payload,
            provenance=Provenance.MEASURED, collector="inhouse workflow test",
        )  # fmt: skip

    def step() -> Any:
        return next(s for s in progress(world.lead, "bob")[0].steps if s.id == "summarise-a-ticket")

    unverified = "sha256:" + "f" * 64
    run(unverified)
    assert not step().met
    assert f"on lock {unverified[:19]}, which the program never recorded" in step().detail
    with pytest.raises(InvalidInput):
        step_done(bob, "summarise-a-ticket")
    run(recorded.lock_hash)
    assert step().met


@pytest.mark.parametrize("name", ["Smith, Jo", "Ana (ops)", "Jo for ops"])
def test_a_rollup_awaiting_a_members_word_asks_it_whatever_their_name(
    _isolated: Path, clock: Clock, name: str
) -> None:
    """Whose confirmation a rolled-up day waits for is read from what the count left out, not
    from the words of its reason: a name with a comma, a bracket or " for " in it was read
    out of the reason wrongly, and its member was sent to a lead for a rollup that was run."""
    world = make_world(_isolated, clock)
    world.waive()
    carol = world.enrol("carol", "legal")
    world.enrol(name, "support")
    world.lead.as_service("gateway")
    vouch_for_gateway_host(carol)
    add_member(world.lead, name, track="support")
    world.send(name, datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.confirms = False
    world.sign()
    daily = next(f for f in reversed(world.lead.state().facts) if f.kind == "usage.daily")
    (now,) = progress(world.lead, name)
    assert now.steps[0].detail == (
        f"the gateway signed your use of 2026-11-03 (usage.daily #{daily.id}); it counts once "
        "you confirm it: `inhouse usage confirm` on your machine"
    )


def test_a_step_waiting_for_the_members_word_does_not_send_them_back_to_do_it_again(
    _isolated: Path, clock: Clock
) -> None:
    """In the walk of plays 4-6, pia fetched her key, sent her request, the gateway's host
    signed the day, and `inhouse pilot enablement` told her: "the gateway signed your use ...;
    it counts once you confirm it ... — fetch your gateway key (`inhouse keys fetch`) and send
    one request with it": the step's own how, appended to every unmet step, asked her to redo
    what she had done. A step she acted on says what is left, and only that."""
    world = make_world(_isolated, clock)
    world.waive()
    env = world.enrol_cli("dora", "legal")
    world.lead.as_service("gateway")
    vouch_for_gateway_host(world.people["dora"])
    add_member(world.lead, "dora", track="legal")
    before = " ".join(runner.invoke(app, ["pilot", "enablement", "dora"], env=env).stdout.split())
    # no key granted her yet: the fetch the step's own how names would find nothing
    assert (
        "no answered request with your own gateway key yet: you hold no gateway key yet, and "
        "`inhouse keys fetch` finds none until a rollout lead grants you one (`inhouse keys "
        "issue dora`) — fetch your gateway key" in before
    ), before
    world.send("dora", datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.confirms = False
    world.sign()
    result = runner.invoke(app, ["pilot", "enablement", "dora"], env=env)
    said = " ".join(result.stdout.split())
    assert "it counts once you confirm it: `inhouse usage confirm` on your machine" in said, said
    assert "send one request with it" not in said
    as_json = runner.invoke(app, ["pilot", "enablement", "dora", "--json"], env=env).stdout
    (step,) = json.loads(as_json)["members"][0]["steps"]
    assert step["acted"] is True and not step["met"]
