"""Exit rule 13 (``GATEWAY_STEP``): a track counts toward play 4's ``pilot-enabled`` only with a
step the gateway measured, the member's own request through their own gateway key.

The lead writes the tracks. One of attested steps alone (or a redaction read, or a workflow run
on the member's own machine) let ``pilot-enabled`` pass on the members' own word, though what
the play asks of enablement, using the tool through the gateway, is what the gateway signs.
Now ``inhouse pilot add`` refuses such a track, naming the step it lacks; a member added on
one around that refusal (the lead's ``pilot.member`` typed by hand, its step types included)
finishes nothing the check counts, since it reads the evidence the steps rest on, not the types
the lead typed; a play 4 that exited before the rule keeps its verdict on what it was judged
on, said so."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.errors import InvalidInput
from inhouse.pilot.roster import add_member
from inhouse.program.checks import EXIT_RULES, GATEWAY_STEP, Outcome, Person, evaluate
from inhouse.program.facts import Fact
from tests.conftest import Clock
from tests.pilot.world import make_world
from tests.test_exit_scope import NOW, context, fact, lead_and_owner, person

WORDS = """\
title: Words
role: ops
steps:
  - id: pair
    type: attested
    title: Spent half an hour with your team's champion
  - id: redaction
    type: read-a-redaction
  - id: summarise
    type: ran-workflow
    workflow: ticket-summary
"""


def test_a_track_with_no_step_the_gateway_measures_takes_no_member(
    _isolated: Path, clock: Clock
) -> None:
    """The lead alone: she writes a track of steps no gateway measures and adds bob on it. The
    refusal names the file, the step it lacks and how to add one; nothing is recorded (no
    member, no role). A track with such a step takes him."""
    world = make_world(_isolated, clock)
    world.waive()
    (_isolated / "enablement" / "words.yaml").write_text(WORDS, encoding="utf-8")
    world.enrol("bob", "support")
    before = len(world.lead.events())
    with pytest.raises(InvalidInput) as err:
        add_member(world.lead, "bob", track="words")
    assert str(err.value).startswith(
        "track words cannot take pilot members: enablement/words.yaml: steps: no step the "
        "gateway measures (the member's own request through their own gateway key: a step of "
        "type first-answered-request or used-shared-prompt)"
    )
    assert "type: first-answered-request" in str(err.value)
    assert len(world.lead.events()) == before
    assert "pilot-user" not in world.lead.state().people["bob"].roles
    env = {"INHOUSE_PROGRAM": str(_isolated)}
    said = CliRunner().invoke(app, ["pilot", "add", "bob", "--track", "words"], env=env)
    assert said.exit_code != 0 and "no step the gateway measures" in said.output
    listed = CliRunner().invoke(app, ["pilot", "tracks", "--json"], env=env)
    refused = {row["name"]: row["refused"] for row in json.loads(listed.output)}
    assert refused["support"] is None and refused["legal"] is None
    assert refused["words"].startswith("enablement/words.yaml: steps: no step the gateway")
    add_member(world.lead, "bob", track="support")  # its first step is a request of his own
    world.lead.close()


#: a track as a lead typed it into ``pilot.member`` around ``pilot add``: a step she called
#: the gateway's type, resting on nothing (so the member's word meets it), and a word
TYPED = [{"id": "first", "type": "first-answered-request", "rests_on": [], "params": {}},
         {"id": "pair", "type": "attested", "rests_on": [], "params": {}}]  # fmt: skip


def _finished_on_word() -> tuple[list[Fact], dict[str, Person]]:
    """p0 added (around the API) on :data:`TYPED` and finished it on their own word."""
    people = {**lead_and_owner(), "p0": person("p0", "team0", "pilot-user")}
    member = fact("pilot.member", person="p0", track="ops", team="team0", steps=TYPED)
    words = [fact("enablement.step", by="p0", person="p0", track="ops", step=step,
                  how="attested", evidence=[]) for step in ("first", "pair")]  # fmt: skip
    done = fact("enablement.completed", by="p0", person="p0", track="ops",
                steps=["first", "pair"])  # fmt: skip
    return [member, *words, done], people


def test_a_member_added_around_the_refusal_finishes_nothing_on_their_word() -> None:
    """The forgery: the lead types the member's track into ``pilot.member`` herself, calling a
    step the gateway's type but resting on nothing, and the member says each step is done. The
    check reads what bore the steps out: no fact the gateway signed, so nothing counts."""
    facts, people = _finished_on_word()
    result = evaluate("pilot-enabled", context(facts, people, {}))
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        "p0's track ops has no step the gateway measured (their own request through their own "
        "gateway key: a first-answered-request or used-shared-prompt step)"
    ) in result.reason
    assert "`inhouse pilot add p0 --track ops`" in result.reason


def test_a_play_four_that_exited_before_the_rule_keeps_its_verdict() -> None:
    """Recorded exits keep their verdicts: play 4 exited, judged by rules 12, on p0's completion
    of a track of words. It keeps its pass, on the same evidence, said so. An exit judged by
    rule 13, or one that did not name the completion, spares nothing."""
    assert EXIT_RULES >= GATEWAY_STEP == 13
    facts, people = _finished_on_word()
    judged = frozenset(f.id for f in facts)
    exited = {"pilot": (NOW, max(judged))}
    before = replace(context(facts, people, exited), judged={"pilot": judged},
                     exit_rules={"pilot": GATEWAY_STEP - 1})  # fmt: skip
    kept = evaluate("pilot-enabled", before)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert kept.reason.endswith(
        "play 4 exited before a track needed a step the gateway measures: p0 finished a track "
        "with none"
    )
    assert {f.id for f in kept.evidence} == judged - {facts[0].id}
    since = replace(before, exit_rules={"pilot": GATEWAY_STEP})
    assert evaluate("pilot-enabled", since).outcome is Outcome.FAIL
    left_out = replace(before, judged={"pilot": judged - {facts[-1].id}})
    assert evaluate("pilot-enabled", left_out).outcome is Outcome.FAIL


@pytest.mark.xfail(
    strict=True,
    reason=(
        "hole left open: a member's gateway key is a bearer secret, and the gateway cannot tell "
        "who typed a request sent with it. bob, friendly, fetches his key with his own signing "
        "key and hands it to lena; she sends his first request, he confirms the day (`inhouse "
        "usage confirm`) and records his track as told: his first-answered-request step is met "
        "though he never used the tool. Closing it needs a request the member's own signing "
        "key signs (a key lena does not hold), a design decision beyond play 4's checks"
    ),
)
def test_a_request_the_lead_sent_with_the_members_key_is_no_step_of_his(
    _isolated: Path, clock: Clock
) -> None:
    from datetime import UTC, datetime

    from inhouse.pilot.enablement import record_enablement
    from inhouse.program.evaluation import context_for
    from tests.people import vouch_for_gateway_host

    world = make_world(_isolated, clock)
    world.waive()
    carol = world.enrol("carol", "platform")
    world.lead.as_service("gateway")  # its host vouched for by carol, who never led
    vouch_for_gateway_host(carol)
    bob = world.enrol("bob", "legal")
    add_member(world.lead, "bob", track="legal")  # one step: his first request
    # bob fetches his key (world.key: with his own signing key) and lena sends with it
    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC))
    world.sign()  # the gateway signs the day; bob confirms it, as he is told
    record_enablement(bob)
    result = evaluate("pilot-enabled", context_for(world.lead.state(), world.lead.clock()))
    world.lead.close()
    assert result.outcome is not Outcome.PASS, result.reason
