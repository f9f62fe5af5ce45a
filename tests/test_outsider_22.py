"""A person's use is use through a key of their own, wherever the checks count it.

``indicators-reported`` counts as active only people who asked through a key of their own (the
gateway's signed ``usage.daily`` says, per person and day, how many requests came through one:
``own``). Play 6's trigger, ``use-beyond-pilot``, counted any request, an agent's included: a
lead alone grants zoe, who never used the tool, an agent key (``--agent``), points a tool of
their own at it, and zoe is "in real use beyond the pilot". A day signed before the rollup
counted ``own`` counts as before, and so does a day play 6's exit was judged on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from inhouse.indicators.findings import open_finding
from inhouse.pilot.enablement import progress, record_enablement
from inhouse.pilot.library import new_version
from inhouse.pilot.roster import add_member, remove_member
from inhouse.program import Program, Provenance
from inhouse.program.checks import CheckContext, Outcome, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact, FactSet
from tests.pilot.test_enablement_signed import world  # noqa: F401  (the fixture)
from tests.pilot.world import PROMPT, World
from tests.test_playchecks import EXITED, NOW, OWNERS, _judged, fact, person, pilot

PEOPLE = {**pilot(2, 1), "zoe": person("zoe", "sales")}
#: a day after play 5 (support) exited: use on it is use beyond the pilot
DAY = (NOW.date() - timedelta(days=2)).isoformat()


#: what a note says requests through no key of a person's own came through (the sign-in is set
#: up: a key fetched in their name by a key that never signed in as them is one too)
NOT_OWN = (
    "a key not their own (an agent's, or one fetched in their name by a key that never signed "
    "in as them)"
)


def _day(own: int | None, requests: int = 4) -> Fact:
    """The gateway's signed day of zoe's ``requests``, ``own`` of them through her own key
    (None: a fact signed before the rollup counted them)."""
    mine: dict[str, Any] = {"requests": requests}
    if own is not None:
        mine["own"] = own
    return fact("usage.daily", by="gateway", day=DAY, people={"zoe": mine})


def test_use_beyond_pilot_counts_no_agents_requests() -> None:
    """The forgery: every request of zoe's came through an agent key in her name (``own`` 0):
    nobody beyond the pilot uses it, and the refusal says why."""
    forged = _judged("use-beyond-pilot", _day(own=0), people=PEOPLE)
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "0 people beyond the pilot use it; need 1" in forged.reason
    assert f"zoe, whose requests came only through {NOT_OWN}" in forged.reason
    assert forged.evidence == ()
    # without the organisation's sign-in no key is told apart from its person's: only an
    # agent's key is none of theirs, and the note says just that
    unsigned = evaluate(
        "use-beyond-pilot",
        CheckContext(
            facts=FactSet([_day(own=0)]), people=PEOPLE, owners=OWNERS, now=NOW, exited=EXITED,
            machines={who: frozenset({f"{who}-laptop"}) for who in PEOPLE},
        ),
    )  # fmt: skip
    assert "zoe, whose requests came only through an agent's key: " in unsigned.reason


def test_use_beyond_pilot_counts_own_key_use_and_days_from_before_own() -> None:
    """The honest path: one request through zoe's own key makes her a user; so does a day
    signed before the gateway counted own-key requests (it cannot say whose key)."""
    honest = _day(own=1)
    result = _judged("use-beyond-pilot", honest, people=PEOPLE)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason == "1 person beyond the pilot uses it"
    assert result.evidence == (honest,)
    older = _day(own=None)
    result = _judged("use-beyond-pilot", older, people=PEOPLE)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.evidence == (older,)


def test_use_beyond_pilot_keeps_the_earlier_rule_for_days_play_6_exited_on() -> None:
    """A program whose play 6 exited on a day only zoe's agent used keeps seeing her as a user
    on that day (its exit judged the day by the rule then); a day recorded since the exit's mark
    is judged by today's rule."""
    before = _day(own=0)
    exited = {**EXITED, "measure": (NOW, before.id)}
    kept = _judged("use-beyond-pilot", before, people=PEOPLE, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert kept.evidence == (before,)
    since = _day(own=0)
    exited = {**EXITED, "measure": (NOW, since.id - 1)}
    result = _judged("use-beyond-pilot", since, people=PEOPLE, exited=exited)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"zoe, whose requests came only through {NOT_OWN}" in result.reason


# -- library prompts: the gateway's signed use names each person's own last use -------------------


def _steps(member: Program, person: str, day: Fact, prompt: Fact) -> None:
    """``person``'s own "measured" steps, each resting on the gateway's fact of its kind, and
    their finished track: what `inhouse pilot enablement --record` signs (here through the
    Python API, whatever its own finder said)."""
    for step, evidence in (("first-request", day), ("shared-prompt", prompt)):
        member.record_fact(
            None, "enablement.step",
            {"person": person, "track": "everyone", "step": step, "how": "through the gateway",
             "evidence": [evidence.id]},
            provenance=Provenance.MEASURED, collector="inhouse pilot enablement",
        )  # fmt: skip
    member.record_fact(
        None, "enablement.completed",
        {"person": person, "track": "everyone", "steps": ["first-request", "shared-prompt"]},
        provenance=Provenance.MEASURED, collector="inhouse pilot enablement",
    )  # fmt: skip


def _signed(made: World, kind: str) -> Fact:
    """The latest ``kind`` fact the gateway's key signed."""
    return [f for f in made.lead.state().facts if f.kind == kind and f.by == "gateway"][-1]


def test_a_members_agent_using_a_shared_prompt_is_no_use_of_theirs(world: World) -> None:  # noqa: F811
    """The forgery: bob's only use of carol's triage@1 came through an agent key in his name
    (whoever runs the agent drives it); his own key sent one plain request. The gateway's
    signed prompt use names him, and the step he signs on it was borne out. Now the fact
    says whose own key it sent the version to, and when (``used_by``): none of bob's."""
    from inhouse.gateway import issue_key

    with (world.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
    world.key("bob")
    _, world.keys["bob's agent"] = issue_key(
        world.lead, None, "bob", agent="triager", holder=world.people["bob"]
    )
    world.send("bob's agent", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt="triage@1")
    world.send("bob", datetime(2026, 11, 4, 11, tzinfo=UTC))
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    day, used = _signed(world, "usage.daily"), _signed(world, "prompt.usage")
    assert used.payload["people"] == ["bob"]
    _steps(world.people["bob"], "bob", day, used)
    result = evaluate("pilot-enabled", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is Outcome.FAIL, result.reason
    assert (
        f"bob's shared-prompt: rests on prompt.usage #{used.id}, whose use of it by bob the "
        f"gateway signed only through {NOT_OWN}"
    ) in result.reason
    assert used.payload["used_by"] == {}
    (mine,) = progress(world.people["bob"], "bob")  # its own finder reads his own key's rows
    assert not mine.steps[1].met

    # the honest way: bob sends it with his own key; the signed use dates his own last use
    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@1")
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    used = _signed(world, "prompt.usage")
    assert used.payload["used_by"] == {"bob": "2026-11-05"}
    after, _ = record_enablement(world.people["bob"])
    (mine,) = after
    assert all(step.met for step in mine.steps), [step.detail for step in mine.steps]
    result = evaluate("pilot-enabled", context_for(world.lead.state(), world.lead.clock()))
    assert "bob's" not in result.reason, result.reason


def test_someone_elses_later_use_of_a_prompt_dates_no_members_use(world: World) -> None:  # noqa: F811
    """The forgery: bob used triage@1 before he joined the pilot (the lead took him out and
    put him back on the 6th); pia uses it on the 7th. The gateway's signed use named both,
    dated by its latest use (pia's): bob's use "since he joined" was borne out by hers. Now
    it dates each person's own last use."""
    world.send("bob", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt="triage@1")
    world.clock.now = datetime(2026, 11, 5, 9, tzinfo=UTC)
    remove_member(world.lead, "bob")
    world.clock.now = datetime(2026, 11, 6, 9, tzinfo=UTC)
    add_member(world.lead, "bob", track="everyone")
    world.keys.pop("bob", None)  # taken out, his key went: he fetches another
    world.send("bob", datetime(2026, 11, 6, 10, tzinfo=UTC))
    world.send("pia", datetime(2026, 11, 7, 10, tzinfo=UTC), prompt="triage@1")
    world.clock.now = datetime(2026, 11, 7, 23, tzinfo=UTC)
    world.sign()
    used = _signed(world, "prompt.usage")
    assert used.payload["people"] == ["bob", "pia"] and used.payload["last_used"] == "2026-11-07"
    day = [f for f in world.lead.state().facts
           if f.kind == "usage.daily" and f.payload["day"] == "2026-11-06"][-1]  # fmt: skip
    _steps(world.people["bob"], "bob", day, used)
    result = evaluate("pilot-enabled", context_for(world.lead.state(), world.lead.clock()))
    assert (
        f"bob's shared-prompt: rests on prompt.usage #{used.id}, whose use of it by bob the "
        "gateway signed last on 2026-11-04, not through bob's own key since they joined the "
        "pilot (2026-11-06)"
    ) in result.reason
    # pia's own use, after she joined, is hers
    _steps(world.people["pia"], "pia", _signed(world, "usage.daily"), used)
    result = evaluate("pilot-enabled", context_for(world.lead.state(), world.lead.clock()))
    assert "pia's" not in result.reason and "bob's shared-prompt" in result.reason


def test_a_members_agent_using_a_fix_confirms_no_finding(world: World) -> None:  # noqa: F811
    """The forgery: carol publishes triage@2 for pia's finding; the only use of it is through
    an agent key in bob's name (whoever runs the agent drives it). The gateway's signed use of
    triage@2 named bob, and the finding closed "confirmed by bob's use". Bob's own use does."""
    from inhouse.gateway import issue_key

    with (world.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
    world.key("bob")
    _, world.keys["bob's agent"] = issue_key(
        world.lead, None, "bob", agent="triager", holder=world.people["bob"]
    )
    world.clock.now = datetime(2026, 11, 3, 9, tzinfo=UTC)
    found = open_finding(world.people["pia"], "triage ignores the floor", target="prompt:triage")
    new_version(world.people["carol"], "triage", PROMPT.replace("Ticket:", "Ticket (floor):"),
                where="triage.yaml", closes=[found.id])  # fmt: skip
    world.send("bob's agent", datetime(2026, 11, 4, 10, tzinfo=UTC), prompt="triage@2")
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    used = _signed(world, "prompt.usage")
    assert used.payload["version"] == 2 and used.payload["people"] == ["bob"]
    result = evaluate("findings-fed-back", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is not Outcome.PASS, result.reason
    assert "it names nobody the gateway sent it through a key of their own" in result.reason

    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@2")
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    result = evaluate("findings-fed-back", context_for(world.lead.state(), world.lead.clock()))
    assert result.outcome is Outcome.PASS, result.reason
    assert "confirmed by bob's use through the gateway" in result.reason


def test_pilot_enabled_keeps_a_prompt_step_play_4_exited_on() -> None:
    """A program whose play 4 exited on p0's shared-prompt step resting on a use the gateway
    now dates as no use of p0's own keeps its exit, on the same evidence; the same step
    recorded since the exit's mark is judged by today's rule."""
    from tests.test_exit_scope import context, lead_and_owner
    from tests.test_exit_scope import fact as scoped
    from tests.test_exit_scope import person as member

    steps = [{"id": "prompt", "type": "used-shared-prompt", "rests_on": ["prompt.usage"],
              "params": {}}]  # fmt: skip
    people = {**lead_and_owner(), "p0": member("p0", "team0", "pilot-user")}
    added = scoped("pilot.member", person="p0", track="support", team="team0", steps=steps)
    used = scoped("prompt.usage", by="gateway", prompt="triage", version=1, uses=1, users=1,
                  uses_by_others=1, last_used=NOW.date(), people=["p0"], used_by={})  # fmt: skip

    def enabled() -> list[Fact]:
        return [
            scoped("enablement.step", by="p0", person="p0", track="support", step="prompt",
                   how="used triage@1", evidence=[used.id]),
            scoped("enablement.completed", by="p0", person="p0", track="support",
                   steps=["prompt"]),
        ]  # fmt: skip

    before = enabled()
    exited = {"pilot": (NOW, before[-1].id)}
    kept = evaluate("pilot-enabled", context([added, used, *before], people, exited))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert {f.id for f in kept.evidence} >= {used.id, before[0].id}
    since = enabled()
    exited = {"pilot": (NOW, since[0].id - 1)}
    result = evaluate("pilot-enabled", context([added, used, *since], people, exited))
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"rests on prompt.usage #{used.id}, whose use of it by p0" in result.reason


def test_use_beyond_pilot_reads_the_latest_reading_of_a_day() -> None:
    """A day re-signed replaces its earlier reading: a day first signed before the rollup
    counted own-key requests (zoe's 4, whose key it could not say), then signed again with
    all of them her agent's, is a day only her agent used; and a day signed again without
    her (her rows no longer bear the figures out) is a day she did not use it, whatever the
    fuller earlier reading said."""
    older, since = _day(own=None), _day(own=0, requests=5)
    result = _judged("use-beyond-pilot", older, since, people=PEOPLE)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"zoe, whose requests came only through {NOT_OWN}" in result.reason
    fuller = _day(own=4)
    later = fact("usage.daily", by="gateway", day=DAY, people={"p0": {"requests": 1, "own": 1}})
    result = _judged("use-beyond-pilot", fuller, later, people=PEOPLE)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "0 people beyond the pilot use it; need 1" in result.reason
    # the honest day: signed again with more of her own requests, she uses it, on that reading
    again = _day(own=5, requests=5)
    result = _judged("use-beyond-pilot", since, again, people=PEOPLE)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.evidence == (again,)


def test_use_beyond_pilot_keeps_a_day_play_6_exited_on_as_it_was_read() -> None:
    """A program whose play 6 exited on a day's earlier reading keeps it: a reading of that
    day signed since does not take away what the exit was judged on."""
    before = _day(own=None)
    since = _day(own=0)
    exited = {**EXITED, "measure": (NOW, before.id)}
    kept = _judged("use-beyond-pilot", before, since, people=PEOPLE, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert kept.evidence == (before,)


def test_a_shared_prompts_users_and_uses_by_others_count_own_key_use_only(world: World) -> None:  # noqa: F811
    """The forgery: an agent key in bob's name (whoever runs the agent drives it) sends
    carol's triage@1 three times: the gateway's signed use counted bob among its ``users``
    and his agent's requests as ``uses_by_others``, someone other than its author using it.
    Now they count people's own-key use only; ``uses`` still counts every request it was sent
    in. The honest way, bob's own key sending it, counts him."""
    from inhouse.gateway import issue_key

    with (world.folder / "inhouse.toml").open("a", encoding="utf-8") as config:
        config.write('\n[policy.agents.triager]\ntools = ["read_file"]\n')
    _, world.keys["bob's agent"] = issue_key(
        world.lead, None, "bob", agent="triager", holder=world.people["bob"]
    )
    for hour in (9, 10, 11):
        world.send("bob's agent", datetime(2026, 11, 4, hour, tzinfo=UTC), prompt="triage@1")
    world.clock.now = datetime(2026, 11, 4, 23, tzinfo=UTC)
    world.sign()
    used = _signed(world, "prompt.usage").payload
    assert (used["uses"], used["users"], used["uses_by_others"]) == (3, 0, 0), used
    assert used["used_by"] == {}

    world.key("bob")
    world.send("bob", datetime(2026, 11, 5, 10, tzinfo=UTC), prompt="triage@1")
    world.clock.now = datetime(2026, 11, 5, 23, tzinfo=UTC)
    world.sign()
    used = _signed(world, "prompt.usage").payload
    assert (used["uses"], used["users"], used["uses_by_others"]) == (4, 1, 1), used
    assert used["used_by"] == {"bob": "2026-11-05"}
