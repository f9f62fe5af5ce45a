"""A measured enablement step rests on what the gateway's own key signed, never on the usage
tables anyone with the database's password can write; and play 4's ``pilot-enabled`` check
reads what each recorded step names, so a member's signature over a table read (their tool's,
or their own through the Python API) makes no step measured.

The honest requests go through the real gateway (in-process) to a stand-in upstream
(:mod:`tests.pilot.world`), whose key, enrolled from a host of its own, signs the days' use and
the library prompts' use; the forged ones are typed into the shared database, summary tables
kept consistent as the gateway's own writer keeps them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from inhouse.errors import InvalidInput
from inhouse.gateway.usage import UsageRecord, insert_usage, new_request_id
from inhouse.location import DATA_DIR
from inhouse.pilot.enablement import progress, record_enablement, step_done
from inhouse.pilot.library_files import import_prompts
from inhouse.pilot.roster import add_member
from inhouse.program import Program, Provenance
from inhouse.program.audit import verify_chain
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from tests.conftest import Clock
from tests.people import confirm_own_use, vouch_for_gateway_host
from tests.pilot.world import World, make_world

MEMBERS = {"bob": "legal", "pia": "sales"}
TRACK = """\
title: Everyone
role: all
steps:
  - id: first-request
    type: first-answered-request
  - id: shared-prompt
    type: used-shared-prompt
    others: true
"""
REDACTION_TRACK = """\
title: Careful
role: all
steps:
  - id: redaction
    type: read-a-redaction
  - id: first-request
    type: first-answered-request
"""


@pytest.fixture
def world(_isolated: Path, clock: Clock) -> Iterator[World]:
    """lena's pilot of bob and pia on the ``everyone`` track; carol shares ``triage`` and
    vouches for the gateway's host (with the sign-in set up, what its key signs counts only
    then)."""
    made = make_world(_isolated, clock)
    made.waive()
    (_isolated / "enablement" / "everyone.yaml").write_text(TRACK, encoding="utf-8")
    (_isolated / "enablement" / "careful.yaml").write_text(REDACTION_TRACK, encoding="utf-8")
    made.enrol("carol", "platform")
    made.lead.as_service("gateway")
    vouch_for_gateway_host(made.people["carol"])
    made.share_prompt("carol", "triage")
    for name, team in MEMBERS.items():
        made.enrol(name, team)
        add_member(made.lead, name, track="everyone")
    yield made
    made.lead.close()


def _enabled(world: World) -> Result:
    return evaluate("pilot-enabled", context_for(world.lead.state(), world.lead.clock()))


def _typed(world: World, person: str, **fields: Any) -> UsageRecord:
    """A usage row the lead types into the shared database, with no request behind it."""
    fields.setdefault("at", "2026-11-03T10:00:00+00:00")
    record = UsageRecord(request_id=new_request_id(), person=person, key_id=f"k_{person}",
                         endpoint="chat/completions", model="tiny", status=200, tokens_in=3,
                         tokens_out=5, **fields)  # fmt: skip
    insert_usage(world.lead.store, [record])  # the summary tables kept as the writer keeps them
    return record


def test_usage_typed_into_the_tables_enables_nobody_and_real_use_does(world: World) -> None:
    """The red team's forgery: nobody sends a request; the lead types a row per member (with a
    library prompt someone else wrote); each member runs the honest `pilot enablement
    --record`. Nothing is measured from the tables, the gateway signs none of it, and the
    pilot is not enabled until the members really use it."""
    world.clock.now = datetime(2026, 11, 3, 12, tzinfo=UTC)
    for name in MEMBERS:
        _typed(world, name, prompt_id="triage@1")
    world.confirms = False  # nobody used it: no member confirms a day
    world.sign()  # the gateway's host signs what its own rows add up to: nothing here
    assert not any(f.by == "gateway" for f in world.lead.state().facts)
    for name in MEMBERS:
        after, recorded = record_enablement(world.people[name])
        assert recorded == []
        (mine,) = after
        assert {s.id: s.met for s in mine.steps} == {"first-request": False,
                                                     "shared-prompt": False}  # fmt: skip
        assert mine.steps[0].detail == (
            "a request answered on 2026-11-03 is not in the gateway's signed daily usage yet "
            "(`inhouse gateway rollup` on the gateway's host signs it), or not confirmed by you "
            "(`inhouse usage confirm` on your machine)"
        )
    result = _enabled(world)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("enablement not complete for bob, pia")

    # the honest way: each sends a request with carol's prompt through the gateway, which signs
    # (and confirms it, with their own key)
    world.confirms = True
    for day, name in enumerate(MEMBERS, start=4):
        world.send(name, datetime(2026, 11, day, 10, tzinfo=UTC), prompt="triage@1")
    world.sign()
    for name in MEMBERS:
        _, recorded = record_enablement(world.people[name])
        facts = {f.id: f for f in world.lead.state().facts}
        signed = [facts[i] for f in recorded[:-1] for i in f.payload["evidence"]]
        assert {(f.kind, f.by) for f in signed} == {("usage.daily", "gateway"),
                                                    ("prompt.usage", "gateway")}  # fmt: skip
        assert recorded[-1].payload["steps"] == ["first-request", "shared-prompt"]
    result = _enabled(world)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "all 2 pilot members finished their tracks"
    assert verify_chain(world.lead.store).ok


def _sign_steps(member: Program, person: str, **named: Any) -> None:
    """A member's own "measured" steps and finished track, signed through the Python API as
    their tool signed them from a table read before steps named their evidence (``named``:
    what the payloads name now: ``evidence`` of each step, ``steps`` of the completion)."""
    evidence = {"evidence": named["evidence"]} if "evidence" in named else {}
    for step in ("first-request", "shared-prompt"):
        member.record_fact(
            None,
            "enablement.step",
            {"person": person, "track": "everyone", "step": step,
             "how": "first answered request through the gateway on 2026-11-03", **evidence},
            provenance=Provenance.MEASURED,
            collector="inhouse pilot enablement",
        )  # fmt: skip
    steps = {"steps": named["steps"]} if "steps" in named else {}
    member.record_fact(
        None,
        "enablement.completed",
        {"person": person, "track": "everyone", **steps},
        provenance=Provenance.MEASURED,
        collector="inhouse pilot enablement",
    )


def test_a_step_signed_measured_on_no_signed_evidence_is_not_borne_out(world: World) -> None:
    """The member's own signature does not make a table read measured: the check reads the
    facts each step names, and a usage.daily the lead signed herself is no gateway's figure."""
    for name in MEMBERS:
        _typed(world, name, prompt_id="triage@1")
    _sign_steps(world.people["bob"], "bob")  # as the tool signed them before this check
    result = _enabled(world)
    assert result.outcome is Outcome.FAIL
    assert result.reason.startswith("enablement not complete for bob, pia")
    assert "not borne out: bob's completion (fact #" in result.reason
    assert "does not name first-request, shared-prompt of their track's steps" in result.reason
    lenas = world.lead.record_fact(
        None,
        "usage.daily",
        {"day": "2026-11-03", "people": {"pia": {"requests": 1}}},
        provenance=Provenance.MEASURED,
        collector="inhouse gateway rollup",
    )
    _sign_steps(world.people["pia"], "pia", evidence=[lenas.id],
                steps=["first-request", "shared-prompt"])  # fmt: skip
    result = _enabled(world)
    assert result.outcome is Outcome.FAIL and "not complete for bob, pia" in result.reason
    assert (
        f"pia's first-request: rests on fact #{lenas.id}, which is no counted usage.daily, "
        "prompt.usage or workflow.run"
    ) in result.reason
    # their tool shows the steps unrecorded, and records them once the gateway signs real use
    (bob,) = progress(world.lead, "bob")
    assert not bob.completed_recorded and not any(s.recorded for s in bob.steps)
    for day, name in enumerate(MEMBERS, start=4):
        world.send(name, datetime(2026, 11, day, 10, tzinfo=UTC), prompt="triage@1")
    world.sign()
    for name in MEMBERS:
        assert [f.kind for f in record_enablement(world.people[name])[1]] == [
            "enablement.step", "enablement.step", "enablement.completed"]  # fmt: skip
    assert _enabled(world).outcome is Outcome.PASS


def test_a_typed_redaction_is_not_one_where_the_gateways_key_can_tell(
    _isolated: Path, clock: Clock
) -> None:
    """read-a-redaction: no signed fact records a redaction. Where the gateway's key is on this
    host, a redacted request must be a row it sealed; elsewhere the usage log's word is shown as
    such, and the step, the member's own word that they read why, is shown so by the check."""
    world = make_world(_isolated, clock)
    world.waive()
    (_isolated / "enablement" / "careful.yaml").write_text(REDACTION_TRACK, encoding="utf-8")
    dora = world.enrol("dora", "hr")
    add_member(world.lead, "dora", track="careful")
    world.sign()  # the gateway's key is on this host: the rows' seal can be checked here
    typed = _typed(world, "dora", policy=["redact:email"])
    (mine,) = progress(world.lead, "dora")
    assert mine.steps[0].detail == (
        "no request of yours that the gateway sealed was redacted by the data rules yet"
    )
    with pytest.raises(InvalidInput, match="no request of dora's was redacted yet"):
        step_done(dora, "redaction")

    # a host without the gateway's key: the usage log's word, labelled unsigned
    shutil.move(_isolated / DATA_DIR / "keys" / "gateway.key", _isolated.parent / "gateway.key")
    read = step_done(dora, "redaction")
    assert read.explanation[1] == (
        "as the usage log says, unsigned: the gateway's key is not on this host to check its seal"
    )
    (mine,) = progress(world.lead, "dora")
    assert mine.steps[0].detail.startswith(f"request {typed.request_id} redacted (redact:email; "
                                           "as the usage log says, unsigned")  # fmt: skip
    assert mine.steps[0].detail.endswith("in dora's own word")
    _, recorded = record_enablement(dora)
    assert [(f.kind, f.payload.get("how"), f.payload.get("evidence")) for f in recorded] == [
        ("enablement.step", "attested", [])]  # fmt: skip
    # her word is the redaction step's, and the track still waits on her own first request
    # through the gateway (a track of words alone takes no member: exit rule 13)
    result = _enabled(world)
    assert result.outcome is Outcome.FAIL
    assert "enablement not complete for dora" in result.reason
    world.lead.close()


def test_an_imported_prompt_is_nobodys_for_a_step_wanting_someone_elses(
    world: World, _isolated: Path
) -> None:
    """Whoever imported a prompt did not write it: using it is no use of "a prompt someone
    else wrote", whoever imported it; carol's own prompt is."""
    (_isolated / "prompts").mkdir()
    text = "name: summarise\nversions:\n- messages:\n  - {role: user, content: 'Sum: {{ t }}'}\n"
    (_isolated / "prompts" / "summarise.yaml").write_text(
        text + "  variables: {t: {type: string}}\n  version: 1\n", encoding="utf-8"
    )
    import_prompts(world.people["carol"])
    world.send("bob", datetime(2026, 11, 3, 10, tzinfo=UTC), prompt="summarise@1")
    world.sign()
    shared = progress(world.lead, "bob")[0].steps[1]
    assert not shared.met
    assert shared.detail == (
        "no answered request of yours with a library prompt someone else wrote (added, not "
        "imported)"
    )
    world.send("bob", datetime(2026, 11, 3, 11, tzinfo=UTC), prompt="triage@1")
    world.sign()
    assert (
        progress(world.lead, "bob")[0]
        .steps[1]
        .detail.startswith(
            "used library prompt triage@1 (by carol; signed by the gateway: prompt.usage #"
        )
    )


def test_a_day_only_the_members_agent_used_is_no_first_request_of_theirs(world: World) -> None:
    """play 4's first-answered-request counts the member's own key: the gateway's signed daily
    usage says how many of their requests came through it (``own``). The forgery: bob's agent
    is his only use, on the 4th; someone with the database types an own-key row for bob that
    day (the log's word), and bob signs the step himself through the Python API, naming the
    agent's day. Neither makes a first request of his; his own request does."""
    from inhouse.gateway import issue_key

    with (world.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
    world.key("bob")  # bob holds a gateway key of his own, but only his agent uses one
    _, world.keys["bob's agent"] = issue_key(
        world.lead, None, "bob", agent="triager", holder=world.people["bob"]
    )
    world.send("bob's agent", datetime(2026, 11, 4, 10, tzinfo=UTC))
    _typed(world, "bob", at="2026-11-04T11:00:00+00:00")  # his "own" request on the agent's day
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    (agents_day,) = [
        f for f in world.lead.state().facts
        if f.kind == "usage.daily" and f.payload["day"] == "2026-11-04"
    ]  # fmt: skip
    assert agents_day.payload["people"]["bob"]["requests"] == 1
    assert agents_day.payload["people"]["bob"]["own"] == 0
    (mine,) = progress(world.people["bob"], "bob")
    first = mine.steps[0]
    assert not first.met
    assert first.detail == (
        "the gateway signed requests of yours only through a key not your own (an agent's, or "
        "one fetched in your name by a key that never signed in as you), on 2026-11-04: send one "
        "with your own gateway key (`inhouse keys fetch`)"
    )
    _sign_steps(world.people["bob"], "bob", evidence=[agents_day.id],
                steps=["first-request", "shared-prompt"])  # fmt: skip
    result = _enabled(world)
    assert result.outcome is Outcome.FAIL
    assert (
        f"bob's first-request: rests on usage.daily #{agents_day.id}, whose requests of bob's "
        "the gateway signed as all through a key not their own (an agent's, or one fetched in "
        "their name by a key that never signed in as them), none through bob's own"
    ) in result.reason

    # the honest way: bob sends one with his own key; the signed day says so
    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC))
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    (mine,) = progress(world.people["bob"], "bob")
    assert mine.steps[0].met
    assert mine.steps[0].detail.startswith(
        "first answered request through the gateway on 2026-11-05 (signed by the gateway"
    )


def test_a_day_signed_before_own_was_counted_keeps_the_old_rule_and_says_so(
    world: World,
) -> None:
    """A usage.daily signed before the rollup counted own-key requests says only that bob had
    answered requests that day: the step reads the usage log for whose key, and says that it
    is the log's word; the check accepts the fact as it did."""
    world.key("bob")
    _typed(world, "bob")  # bob's own-key row on the 3rd, in the log
    world.clock.now = datetime(2026, 11, 3, 23, tzinfo=UTC)
    gateway = world.lead.as_service("gateway")
    older = gateway.record_fact(
        None,
        "usage.daily",
        {"day": "2026-11-03", "people": {"bob": {"requests": 1}}},
        provenance=Provenance.MEASURED,
        collector="inhouse gateway rollup",
    )
    confirm_own_use(world.people["bob"])  # his own word on the day
    (mine,) = progress(world.people["bob"], "bob")
    assert mine.steps[0].met, mine.steps[0].detail
    assert f"usage.daily #{older.id}; signed before the rollup counted own-key requests" in (
        mine.steps[0].detail
    )
    assert "is the usage log's word" in mine.steps[0].detail
