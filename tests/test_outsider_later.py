"""The outsider, later: one person, alone, trying to get through plays 5 and 6 of a real program.

tests/test_outsider.py walks lena toward plays 1 to 4's exits. Here the program honestly got to
play 5: a pilot of three colleagues (bob in support, pia in legal, oli in ops), each signed in
with an account of their own at the organisation's identity provider, keyed and onboarded, who
sent real requests through the gateway (to a stand-in upstream: tests/pilot/gateway_days.py);
the gateway's own key, enrolled on its host, was vouched for by bob; lena locked the baseline
and bob stood it up at his laptop (play 2's second person); bob shared the library's ``triage``
prompt (he built it).

lena leads the program and gives herself the support owner's role, so both judged parts of
play 5 (its owner and the rollout lead) and play 6's owner are one person. She has her one
account, her laptop, the program folder, the Python API and the CLI; she may invite and enrol
anyone from machines she names, grant waivers and keys, import a ticket history, and write any
fact with her own key. She does not hold the gateway host's key, nor anyone's account but hers.

Each test walks the cheapest path she finds toward one exit check and asserts what the check
says, as play 5's and play 6's exit rows will say it once the play runs (the same judgement:
:func:`inhouse.program.evaluation.exit_results`). What only a person's word can carry is shown
as that person's word.

What the walk found: a lock she re-made to match what a drifted node serves passed
``versions-pinned`` on her word alone (closed: the pinned lock needs a second person's verify,
as play 2's does); an alias's ``inhouse support open`` crashed instead of refusing (closed); a
queue she names herself owner of passes, by design, and now says it is her word; an agent run
on her own gateway key was no agent to ``agent-boundaries`` (closed: the gateway records the
tools a key bound to no agent offers, and its signed rollup carries them to the check).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from inhouse.baseline.lock import Lock, LockedModel, lock_fact_payload, read_lock, write_lock
from inhouse.db.schema import gateway_usage
from inhouse.errors import InvalidInput, NotAllowed
from inhouse.gateway import issue_key
from inhouse.gateway.rollup import rollup_usage
from inhouse.identity import SigningKey
from inhouse.indicators import close_by_hand, open_finding
from inhouse.pilot.champions import accept_champion, name_champion
from inhouse.pilot.library import parse_prompt, share_version
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.people import PeopleMixin
from inhouse.support.importers.mapping import (
    Account,
    ActorMap,
    SourceStep,
    SourceTicket,
    record_tickets,
)
from inhouse.support.queue import accept_owner, confirm_fix, name_owner, open_ticket, resolve_ticket
from inhouse.support.review import attend_review, hold_review, schedule_review
from tests.clitools import cli
from tests.conftest import ENROL_SERVICE_HERE, Clock
from tests.locks import verified_by
from tests.people import enrol, enrol_cli
from tests.pilot.gateway_days import PROMPT, Pilot, Use, signed_in_pilot
from tests.support.test_drift import clean_payload, gateway_review

#: the pilot: name -> (team, track)
TEAMS = {"bob": ("support", "support"), "pia": ("legal", "analyst"), "oli": ("ops", "analyst")}


def _judge(
    lena: Program,
    check: str,
    *,
    exited: tuple[str, ...] = (),
    exited_at: int | None = None,
    judged: frozenset[int] | None = None,
) -> Result:
    """``check`` judged now as its play's row says it (on the evidence that counts; where it
    did not pass and some was left out, inconclusive); ``exited``: plays whose exit is in the
    log (what play 6's checks count from), at event ``exited_at`` (the head: now), judged on
    the facts ``judged`` (None: an exit recorded before exits named them)."""
    ctx = context_for(lena.state(), lena.clock())
    mark = (lena.clock(), lena.state().head_seq if exited_at is None else exited_at)
    ctx = dataclasses.replace(ctx, exited={**ctx.exited, **dict.fromkeys(exited, mark)})
    if judged is not None:
        ctx = dataclasses.replace(ctx, judged={**ctx.judged, **dict.fromkeys(exited, judged)})
    refs = [ref for play in lena.playbook.plays for ref in [*play.trigger, *play.exit]]
    (checked,) = run_checks([ref for ref in refs if ref.check == check], ctx)
    return checked.result


def _alias(lena: Program, name: str, team: str, roles: tuple[str, ...] = ()) -> Program:
    """A "colleague" lena invents: a second key of hers, joined from a machine whose name she
    makes up. She cannot sign them in: her one account is hers."""
    return enrol(lena, name, team=team, roles=roles, machine=f"{name}-laptop", signed_in=False)


@pytest.fixture
def pilot(_isolated: Path, clock: Clock) -> Iterator[Pilot]:
    with signed_in_pilot(_isolated, clock, TEAMS) as made:
        made.use([Use(name, f"2026-11-0{day}T10:00") for day in (3, 4) for name in TEAMS])
        made.share_prompt("bob", "triage")
        yield made


@pytest.fixture
def lena(pilot: Pilot) -> Program:
    """The lead at play 5: the baseline locked in her name, the support owner's role hers, the
    cadence of the periodic review in inhouse.toml, and the gateway's drift review of the lock
    (signed by its own key, on its host) passing."""
    lena = pilot.lead
    lock = read_lock(pilot.folder)
    assert lock is not None
    lena.record_fact(None, "baseline.lock", lock_fact_payload(lock),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    verified_by(pilot.people["bob"], lock)  # play 2: bob stood the baseline up at his laptop
    lena.change_roles(None, "lena", add=["support-owner"])
    with (pilot.folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[review]\nevery_days = 30\nroles = ["rollout-lead", "support-owner"]\n')
    gateway_review(lena)
    return lena


def _relock(lena: Program, **changes: object) -> Lock:
    """lena re-locks the baseline (``inhouse baseline lock``: a lead, a play's owner or the
    support owner may), with ``changes`` to the lock in force."""
    lock = read_lock(lena.folder)
    assert lock is not None
    relock = lock.model_copy(update=changes)
    relock = relock.model_copy(update={"lock_hash": relock.computed_hash()})
    write_lock(lena.folder, relock)
    lena.record_fact(None, "baseline.lock", lock_fact_payload(relock),
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    return relock


# -- play 5: support ------------------------------------------------------------------------------


def test_a_queue_owned_by_an_alias_is_nobody_s_and_her_own_is_her_word(lena: Program) -> None:
    """lena names sue, an alias, owner of the support queue, and sue "takes it on": sue never
    signed in, so her acceptance counts for nothing and the queue is owned on lena's word. She
    names bob, a real colleague, and signs his acceptance herself: that is her act, not his.
    The one way the check passes alone is the queue in her own name, and it says so: her word,
    as the lead who named herself."""
    sue = _alias(lena, "sue", "ops")
    name_owner(lena, "sue")
    accept_owner(sue)
    result = _judge(lena, "support-queue-owned")
    assert result.outcome is not Outcome.PASS
    assert "sue" in result.reason and "not signed in" in result.reason
    name_owner(lena, "bob")
    lena.record_fact(None, "support.queue", {"queue": "support", "owner": "bob", "accepted": True},
                     provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    result = _judge(lena, "support-queue-owned")
    assert result.outcome is Outcome.INCONCLUSIVE  # sue's acceptance is shown, not counted
    assert "bob takes it on with their own key" in result.reason
    name_owner(lena, "lena")
    result = _judge(lena, "support-queue-owned")
    assert result.outcome is Outcome.PASS
    assert "lena, a rollout lead, named themself owner: their own word" in result.reason


def test_champions_she_names_from_outside_the_pilot_or_for_others_champion_nobody(
    lena: Program,
) -> None:
    """Every pilot team needs a champion, one of its counted members, who took it on with their
    own key. lena adds sue, an alias, to the pilot in ops and names her champion: sue is set
    aside by the pilot's own rule, so ops has no champion. She names pia for legal and records
    pia's acceptance with her own key: pia has not accepted."""
    sue = _alias(lena, "sue", "ops", roles=("pilot-user",))
    lena.grant_waiver(None, "skipping-play-five", reason="executive-decision", note="sue joins",
                      expires=lena.clock() + timedelta(days=30))  # fmt: skip
    lena.record_fact(None, "pilot.member", {"person": "sue", "track": "analyst", "action": "added"},
                     provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip
    name_champion(lena, "sue", team="ops")
    accept_champion(sue)
    name_champion(lena, "pia", team="legal")
    lena.record_fact(None, "pilot.champion", {"person": "pia", "team": "legal", "accepted": True},
                     provenance=Provenance.MEASURED, collector="inhouse pilot")  # fmt: skip
    name_champion(lena, "bob", team="support")
    result = _judge(lena, "champions-named")
    assert result.outcome is Outcome.INCONCLUSIVE  # sue's acceptance is shown, not counted
    assert "no champion for team ops" in result.reason
    assert "not counted: sue, not among the pilot's counted members" in result.reason


def test_drift_reviews_she_signs_herself_or_with_a_gateway_key_of_hers_pin_nothing(
    lena: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway's own review passes now; lena re-locks the baseline (her right as its
    owner), so no review of the new lock exists. She records one with her own key: a person's
    word for what the gateway measures, not counted. She enrols a second gateway key from her
    own laptop and signs one with it: not the gateway's host, not counted either."""
    assert _judge(lena, "versions-pinned").outcome is Outcome.PASS
    _relock(lena, python="3.13")
    assert _judge(lena, "versions-pinned").outcome is Outcome.FAIL
    lena.record_fact(None, "drift.review", clean_payload(lena), provenance=Provenance.MEASURED,
                     collector="inhouse support drift-review")  # fmt: skip
    mine = _judge(lena, "versions-pinned")
    assert mine.outcome is Outcome.INCONCLUSIVE
    assert "no drift review against the current lock" in mine.reason
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    second = SigningKey.generate()
    lena.enrol_service("gateway", second)
    lena.using(second).record_fact(None, "drift.review", clean_payload(lena),
                                   provenance=Provenance.MEASURED,
                                   collector="inhouse support drift-review")  # fmt: skip
    again = _judge(lena, "versions-pinned")
    assert again.outcome is Outcome.INCONCLUSIVE
    assert "no drift review against the current lock" in again.reason


def test_a_lock_she_remakes_to_match_the_drift_pins_it_on_her_word_alone(
    pilot: Pilot, lena: Program
) -> None:
    """The node drifted: it serves other weights than the lock pins. Rather than put the node
    back, lena (who may re-lock, as lead or support owner) locks what it serves now, and the
    gateway's own drift review, on its host, finds the node serving the lock exactly. Nobody
    but lena ever stood that lock up: the drift passes on her word. It counts once someone
    other than its signer verifies it on their own machine (pia does)."""
    drifted = "sha256:" + "d" * 64
    lock = _relock(lena, models=[LockedModel(name="tiny", digest=drifted)])
    gateway_review(lena)  # what `inhouse support drift-review` finds on the gateway's host now
    result = _judge(lena, "versions-pinned")
    assert result.outcome is Outcome.FAIL
    assert "but that lock is its signer's word alone" in result.reason
    assert f"re-verify lock {lock.lock_hash[:12]} as a second person" in result.reason
    verified_by(lena, lock)  # her own verify is still her word
    assert _judge(lena, "versions-pinned").outcome is Outcome.FAIL
    verified_by(pilot.people["pia"], lock)  # the honest way: someone else stands it up
    honest = _judge(lena, "versions-pinned")
    assert honest.outcome is Outcome.PASS, honest.reason


def test_a_play_five_exited_before_the_lock_had_to_be_verified_keeps_its_pass(
    lena: Program,
) -> None:
    """A program whose play 5 exited before the rule: the unverified lock its exit was judged
    on, reviewed clean, still passes (the reach its exit gave is not taken back), and says what
    today's rule asks; a re-lock made after the exit does not."""
    lock = _relock(lena, python="3.13")
    gateway_review(lena)
    kept = _judge(lena, "versions-pinned", exited=("support",))
    assert kept.outcome is Outcome.PASS
    assert "play 5 (support) exited before the lock pinned had to be verified" in kept.reason
    assert f"re-verify lock {lock.lock_hash[:12]} as a second person" in kept.reason
    # only the lock its exit was judged on: a re-lock since, to what the nodes drifted to, is
    # her word alone as in any program
    exit_seq = lena.state().head_seq
    _relock(lena, python="3.14")
    gateway_review(lena)
    since = _judge(lena, "versions-pinned", exited=("support",), exited_at=exit_seq)
    assert since.outcome is not Outcome.PASS, since.reason
    assert "that lock is its signer's word alone" in since.reason


def test_a_boundary_she_types_bounds_no_agent(lena: Program) -> None:
    """An agent registered (its key granted) needs the boundary ``inhouse keys`` recorded when
    it was granted. lena types one for it as her word: not counted."""
    lena.record_fact(None, "agent.registered", {"agent": "release-bot"},
                     provenance=Provenance.ATTESTED, comment="it runs on my laptop")  # fmt: skip
    lena.record_fact(None, "agent.boundary", {"agent": "release-bot", "tools": ["read_file"]},
                     provenance=Provenance.ATTESTED, comment="only reads")  # fmt: skip
    result = _judge(lena, "agent-boundaries")
    assert (result.outcome, result.reason) == (Outcome.NOT_APPLICABLE, "no local agents registered")


#: a tool an agent offers the model: what a permission boundary exists to hold back
SHELL = {"type": "function", "function": {"name": "shell", "parameters": {"type": "object"}}}


def test_an_agent_on_her_own_gateway_key_is_an_agent_without_a_boundary(
    pilot: Pilot, lena: Program
) -> None:
    """lena runs her release bot on her own gateway key, offering the model a shell tool, and
    the gateway answers it. Registering no agent does not make it none: the gateway records the
    tools a key bound to no agent offered, its rollup signs them, and permission boundaries for
    every local agent do not hold while one runs unbounded through the gateway."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])  # answered: 200
    rollup_usage(lena)  # the gateway's own rollup (on its timer), signed by its key
    result = _judge(lena, "agent-boundaries")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "lena offered shell on 2026-11-05 (1 request)" in result.reason
    assert "`inhouse keys issue PERSON --agent NAME`" in result.reason


def _bot_registered(pilot: Pilot, lena: Program, tools: str = '["shell"]') -> None:
    """The honest way: lena declares her release bot's boundary and grants it a key of its own
    (``inhouse keys issue lena --agent release-bot``), which records the agent and boundary."""
    with (pilot.folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write(f"\n[policy.agents.release-bot]\ntools = {tools}\n")
    _, pilot.keys["release-bot"] = issue_key(lena, None, "lena", agent="release-bot", holder=lena)


def test_her_bot_run_as_a_registered_agent_passes_and_her_own_key_beside_it_does_not(
    pilot: Pilot, lena: Program
) -> None:
    """The honest way passes: the bot's own key, bound to it, offers shell within its boundary,
    and the gateway's signed usage holds no tools offered through a key bound to no agent. The
    same bot also run on her own key, on another day, fails it again, naming both the day and
    the tool; the registered agent's boundary is no cover for it."""
    _bot_registered(pilot, lena)
    pilot.use([Use("release-bot", "2026-11-05T10:00", tools=[SHELL])])
    rollup_usage(lena)
    honest = _judge(lena, "agent-boundaries")
    assert honest.outcome is Outcome.PASS, honest.reason
    assert "release-bot: shell (granted by lena)" in honest.reason
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-06T10:00", tools=[SHELL, {"type": "function", "function": {
        "name": "deploy", "parameters": {"type": "object"}}}])])  # fmt: skip
    rollup_usage(lena)
    result = _judge(lena, "agent-boundaries")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "lena offered deploy, shell on 2026-11-06 (1 request)" in result.reason
    assert "release-bot" not in result.reason.split("offered")[0]


def test_her_own_key_s_tools_count_for_thirty_days_and_a_second_rollup_signs_nothing(
    pilot: Pilot, lena: Program
) -> None:
    """The rollup is idempotent (a second run signs nothing new), and the day's tools stand in
    the check for its window (``window_days``, 30): run as a registered agent since, the check
    passes once the day is out of it, and says until when it counts meanwhile."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])
    first = rollup_usage(lena)
    assert first.unbound_tools == [
        {"day": "2026-11-05", "person": "lena", "requests": 1, "tools": ["shell"]}
    ]
    signed = len(lena.state().facts)
    again = rollup_usage(lena)
    assert (again.recorded, again.unbound_tools) == ([], [])
    assert len(lena.state().facts) == signed
    (day,) = [f for f in lena.state().facts if f.kind == "usage.daily"
              and f.payload["day"] == "2026-11-05"]  # fmt: skip
    assert day.by == "gateway"
    assert day.payload["unbound_tools"] == {"lena": {"requests": 1, "tools": ["shell"]}}
    _bot_registered(pilot, lena)
    pilot.on("2026-12-05")
    still = _judge(lena, "agent-boundaries")
    assert still.outcome is Outcome.FAIL
    assert "these days count through 2026-12-05 (window_days 30)" in still.reason
    pilot.on("2026-12-06")
    assert _judge(lena, "agent-boundaries").outcome is Outcome.PASS


def test_a_client_inventing_tool_names_cannot_swell_the_signed_day(
    pilot: Pilot, lena: Program
) -> None:
    """Sixty made-up tools through her own key: the day's fact names the first fifty (sorted)
    and counts the rest, and the check says so."""
    many = [{"type": "function", "function": {"name": f"t{n:02}"}} for n in range(60)]
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=many)])
    (offered,) = rollup_usage(lena).unbound_tools
    assert (len(offered["tools"]), offered["tools"][-1], offered["more"]) == (50, "t49", 10)
    assert "t48, t49 and 10 more on 2026-11-05" in _judge(lena, "agent-boundaries").reason


def test_tools_a_usage_row_was_edited_to_show_or_hide_are_not_the_gateway_s_word(
    pilot: Pilot, lena: Program
) -> None:
    """Anyone with the database's password can edit a usage row. A row of bob's edited to
    offer a shell tool no longer bears the gateway's MAC: left out, it frames nobody. Rows the
    gateway sealed with tools offered through lena's own key, and signed: lena sets their tools
    to none and has the day rolled up again. The edited row is left out, and what the gateway
    signed before stands."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])
    framed = update(gateway_usage).where(
        gateway_usage.c.person == "bob", gateway_usage.c.day == "2026-11-04"
    )
    with lena.store.engine.begin() as conn:
        conn.execute(framed.values(tool_calls='[{"where": "declared", "tool": "shell"}]'))
    first = rollup_usage(lena)
    assert [(r.person, r.why) for r in first.left_out] == [("bob", "wrong MAC")]
    assert [each["person"] for each in first.unbound_tools] == ["lena"]
    with lena.store.engine.begin() as conn:
        conn.execute(
            update(gateway_usage).where(gateway_usage.c.person == "lena").values(tool_calls=None)
        )
    pilot.use([Use("lena", "2026-11-05T11:00")])  # the day changes: it is signed again
    again = rollup_usage(lena)
    assert ("lena", "2026-11-05", "wrong MAC") in {(r.person, r.day, r.why) for r in again.left_out}
    latest = [f for f in lena.state().facts if f.kind == "usage.daily"][-1]
    assert (latest.payload["day"], latest.payload.get("unbound_tools")) == ("2026-11-05", None)
    result = _judge(lena, "agent-boundaries")
    assert result.outcome is Outcome.FAIL  # what the gateway signed on the 5th stands
    assert "lena offered shell on 2026-11-05 (1 request)" in result.reason
    assert "bob" not in result.reason


def test_usage_she_types_or_signs_as_a_gateway_of_hers_neither_clears_nor_frames(
    pilot: Pilot, lena: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway signed her own key's shell on the 5th. lena types that day's usage again
    without the tools: a person's word for what the gateway measures, not counted, clearing
    nothing. A second gateway key she enrols on her laptop signs the day clean: not the
    gateway's host, not counted either. Her typed tools for bob frame nobody."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])
    rollup_usage(lena)
    clean = {"day": "2026-11-05", "people": {"lena": {"requests": 1, "own": 1}}}
    lena.record_fact(None, "usage.daily", clean, provenance=Provenance.MEASURED,
                     collector="inhouse gateway rollup")  # fmt: skip
    mine = _judge(lena, "agent-boundaries")
    assert mine.outcome is Outcome.INCONCLUSIVE  # still failing, her fact shown beside it
    assert "lena offered shell on 2026-11-05" in mine.reason
    assert "signed by lena, not by the gateway's own service key" in mine.reason
    monkeypatch.setattr(PeopleMixin, "enrol_service", ENROL_SERVICE_HERE)
    second = SigningKey.generate()
    lena.enrol_service("gateway", second)
    lena.using(second).record_fact(None, "usage.daily", clean, provenance=Provenance.MEASURED,
                                   collector="inhouse gateway rollup")  # fmt: skip
    assert "lena offered shell on 2026-11-05" in _judge(lena, "agent-boundaries").reason


def test_revoking_the_gateway_s_key_unsays_nothing_it_signed(pilot: Pilot, lena: Program) -> None:
    """lena, a rollout lead, revokes the gateway's key once it signed her own key's shell: what
    a key signed while it held still counts (a new gateway key could not sign the day again:
    its rows bear the old key's MAC), so the evidence stays."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])
    rollup_usage(lena)
    (gateway,) = [k for k in lena.state().keys_of("gateway") if k.revoked_at is None]
    lena.revoke_key(gateway.key_id)
    result = _judge(lena, "agent-boundaries")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "lena offered shell on 2026-11-05" in result.reason


def test_a_gateway_set_to_refuse_tools_on_a_person_s_key_answers_her_bot_nothing(
    pilot: Pilot, lena: Program
) -> None:
    """With ``[policy] unbound_tools = "refuse"`` the gateway refuses (403) a request that
    offers tools through a key bound to no agent, and records it, tools by name: nothing was
    answered, so no agent ran unbounded; the same key without tools is served."""
    with (pilot.folder / "inhouse.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[policy]\nunbound_tools = "refuse"\n')
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL], status=403),
               Use("lena", "2026-11-05T11:00")])  # fmt: skip
    with lena.store.engine.connect() as conn:
        refused = conn.execute(
            select(gateway_usage.c.status, gateway_usage.c.policy, gateway_usage.c.tool_calls)
            .where(gateway_usage.c.person == "lena")
            .order_by(gateway_usage.c.at)
        ).all()  # fmt: skip
    assert [(r.status, r.policy) for r in refused] == [
        (403, '["block:tool_not_allowed"]'), (200, "[]")
    ]  # fmt: skip
    assert '"tool":"shell"' in refused[0].tool_calls and refused[1].tool_calls is None
    assert rollup_usage(lena).unbound_tools == []
    result = _judge(lena, "agent-boundaries")
    assert (result.outcome, result.reason) == (Outcome.NOT_APPLICABLE, "no local agents registered")


def test_a_typed_tool_for_a_colleague_frames_nobody(lena: Program) -> None:
    """lena types a day on which bob offered a shell tool through his own key: only the
    gateway's signed usage counts, so no agent runs unbounded."""
    lena.record_fact(None, "usage.daily", {"day": "2026-11-04", "people": {}, "unbound_tools": {
        "bob": {"requests": 3, "tools": ["shell"]}}}, provenance=Provenance.MEASURED,
        collector="inhouse gateway rollup")  # fmt: skip
    result = _judge(lena, "agent-boundaries")
    assert (result.outcome, result.reason) == (Outcome.NOT_APPLICABLE, "no local agents registered")


def test_a_play_five_exited_before_person_keys_tools_counted_keeps_its_exit(
    pilot: Pilot, lena: Program
) -> None:
    """A program whose play 5 exited on "no local agents registered" keeps that judgment where
    today's rule fails on tools offered through her own key, and says what today's rule asks;
    one whose exit saw a registered agent's boundary keeps its pass the same way."""
    _, pilot.keys["lena"] = issue_key(lena, None, "lena", holder=lena)
    pilot.use([Use("lena", "2026-11-05T10:00", tools=[SHELL])])
    rollup_usage(lena)
    kept = _judge(lena, "agent-boundaries", exited=("support",))
    assert kept.outcome is Outcome.NOT_APPLICABLE
    assert kept.reason.startswith(
        "no local agents registered; note: play 5 (support) exited, and its exit stands on the "
        "rule before tools offered through a key bound to no agent counted; today's rule fails "
        "(tools were offered the model"
    )
    assert "lena offered shell on 2026-11-05" in kept.reason
    assert kept.evidence == ()
    _bot_registered(pilot, lena)
    kept = _judge(lena, "agent-boundaries", exited=("support",))
    assert kept.outcome is Outcome.PASS
    assert "1 agent bounded: release-bot: shell (granted by lena); note: " in kept.reason
    assert all(f.kind != "usage.daily" for f in kept.evidence)  # what its exit hashed


def test_a_review_held_with_her_alias_or_a_colleague_s_typed_attendance_is_a_review_of_one(
    lena: Program,
) -> None:
    """lena schedules the periodic review, holds it listing sue (an alias, who confirms) and
    pia (whose confirmation lena signs herself). Neither counts: a review of one."""
    sue = _alias(lena, "sue", "ops")
    schedule_review(lena)
    held = hold_review(lena, ["lena", "sue", "pia"], ["tiny=keep:the pilot runs on it"])
    attend_review(sue, held.id)
    lena.record_fact(None, "review.attended", {"review": held.id, "person": "pia", "comment": ""},
                     provenance=Provenance.MEASURED, collector="inhouse review")  # fmt: skip
    result = _judge(lena, "review-held")
    assert result.outcome is not Outcome.PASS
    assert "nobody but lena confirmed attending (a review of one is not a review)" in result.reason
    assert "pia" in result.reason and "sue" in result.reason


def test_tickets_she_opens_resolves_and_confirms_as_herself_or_an_alias_solve_nothing(
    lena: Program,
) -> None:
    """The triage prompt broke (bob built it). lena opens the ticket herself, resolves it and
    confirms the fix: a ticket the judged filed shows nobody's problem solved. sue, an alias,
    cannot open one (the queue would never show it: she has not signed in); appended around
    the API, her ticket is shown beside the check, and counted for nothing."""
    mine = open_ticket(lena, "triage returns nothing", category="it-broke",
                       component="prompt:triage")  # fmt: skip
    resolve_ticket(lena, mine.id, note="fixed the template")
    confirm_fix(lena, mine.id)
    result = _judge(lena, "ticket-resolved-without-builder")
    assert result.outcome is Outcome.FAIL
    assert f"{mine.id} was opened by lena and resolved by lena: it counts when someone else" in (
        result.reason
    )
    sue = _alias(lena, "sue", "ops")
    with pytest.raises(NotAllowed, match="sue opens would count for nothing") as refused:
        open_ticket(sue, "triage is empty again", category="it-broke", component="prompt:triage")
    assert "sue, who has not signed in with" in str(refused.value)
    # the same at the command line, from a key file lena made for zed, another alias
    zed = enrol_cli(lena, "zed", lena.folder.parent / "aliases", team="sales", signed_in=False)
    out = cli("support", "open", "triage is empty", "--category", "it-broke", "--component",
              "prompt:triage", env=zed, code=3)  # fmt: skip
    assert "a ticket zed opens would count for nothing" in " ".join(out.split())
    sue.record_fact(None, "ticket.opened", {"ticket": "T-2", "title": "triage is empty again",
                                            "category": "it-broke", "component": "prompt:triage",
                                            "description": ""},
                    provenance=Provenance.MEASURED, collector="inhouse support")  # fmt: skip
    result = _judge(lena, "ticket-resolved-without-builder")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "signed by sue, who has not signed in" in result.reason


def test_a_ticket_history_she_imports_in_her_colleagues_names_is_her_word(lena: Program) -> None:
    """lena imports a GitHub history in which pia "opened" an it-broke ticket on bob's triage
    prompt and oli "resolved" it, mapping their GitHub accounts to them. Neither did: until
    each confirms with their own key, the import is the word of lena, who ran it."""
    at = lena.clock() - timedelta(hours=3)
    fix = SourceStep("ticket.resolved", "c-1", at + timedelta(hours=1), Account("oli-gh"),
                     text="rewrote the template")  # fmt: skip
    made_up = SourceTicket(
        ticket="gh:acme/help#1", link="https://github.com/acme/help/issues/1",
        title="triage sorts nothing", category="it-broke", component="prompt:triage",
        description="", opened_by=Account("pia-gh"), opened_at=at, steps=[fix],
    )  # fmt: skip
    record_tickets(lena, "github", [made_up], ActorMap({"pia-gh": "pia", "oli-gh": "oli"}, []))
    result = _judge(lena, "ticket-resolved-without-builder")
    assert result.outcome is Outcome.FAIL
    assert (
        "only the import says pia opened it (run by lena); pia confirms with their own key: "
        "`inhouse support confirm gh:acme/help#1`" in result.reason
    )


# -- play 6: measure ------------------------------------------------------------------------------


def test_use_beyond_the_pilot_from_an_alias_s_key_is_nobody_new(
    pilot: Pilot, lena: Program
) -> None:
    """Play 5 exits (as the check sees it); lena waives skipping play five, grants zed, an
    alias, a gateway key, and sends requests with it through the gateway, which signs the
    day's use. zed never signed in: nobody beyond the pilot uses it."""
    zed = _alias(lena, "zed", "sales")
    lena.grant_waiver(None, "skipping-play-five", reason="executive-decision", note="zed",
                      expires=lena.clock() + timedelta(days=30))  # fmt: skip
    _, pilot.keys["zed"] = issue_key(lena, None, "zed", holder=zed)
    pilot.use([Use("zed", "2026-11-06T10:00")])
    pilot.on("2026-11-07")
    rollup_usage(lena)
    result = _judge(lena, "use-beyond-pilot", exited=("support",))
    assert result.outcome is Outcome.INCONCLUSIVE
    assert result.reason.startswith("0 people beyond the pilot use it")


def test_indicators_she_types_or_signs_herself_are_measured_by_nobody(
    pilot: Pilot, lena: Program
) -> None:
    """lena signs a day's usage herself (a person's word for what the gateway measures: not
    counted) and reports November with figures of her own: with nothing the gateway signed,
    the report stands on nothing; once the gateway rolls up the pilot's real use, its signed
    figures give her numbers the lie, and the check names them."""
    pilot.on("2026-12-02")
    lena.record_fact(None, "usage.daily", {"day": "2026-11-20", "people": {
        "lena": {"requests": 500, "tokens_in": 9000, "tokens_out": 9000}}},
        provenance=Provenance.MEASURED, collector="inhouse gateway rollup")  # fmt: skip
    lena.record_fact(None, "indicators.report", {
        "period_start": "2026-11-01", "period_end": "2026-11-30", "period": "2026-11",
        "partial": False, "leading": {"active_users": 40, "answered_requests": 506},
        "lagging": {"spend_avoided": 1e6},
        "inputs": [{"indicator": "spend_avoided", "name": "input tokens", "value": 9000,
                    "source": "my count"},
                   {"indicator": "spend_avoided", "name": "output tokens", "value": 9000,
                    "source": "my count"}]},
        provenance=Provenance.MEASURED, collector="inhouse indicators")  # fmt: skip
    result = _judge(lena, "indicators-reported")
    assert result.outcome is Outcome.INCONCLUSIVE
    # her typed day is in the log and counts for nothing: the reason says why (walk456: it
    # asked for a rollup)
    assert "the log holds daily usage of 2026-11-01..2026-11-30, but none of it" in result.reason
    assert "usage.daily: signed by lena, not by the gateway's own service key" in result.reason
    rollup_usage(lena)  # the gateway's own figures: the pilot's six requests of 3 and 4 November
    result = _judge(lena, "indicators-reported")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "the report counts 40 active people in 2026-11-01..2026-11-30, but the gateway's " in (
        result.reason
    )
    assert "signed daily usage shows 3 (bob, oli, pia)" in result.reason


def test_findings_she_opens_as_an_alias_or_ticks_off_feed_nothing_back(lena: Program) -> None:
    """sue, an alias, opens a finding against the baseline: it is no finding, and lena cannot
    even tick it off. Her own finding, ticked off by hand, is not evidence; re-locked naming
    it and verified by sue and by lena herself, it awaits someone other than lena."""
    sue = _alias(lena, "sue", "ops")
    finding = open_finding(sue, "answers are too slow", target="baseline")
    with pytest.raises(InvalidInput, match=f"there is no finding #{finding.id}"):
        close_by_hand(lena, finding.id, note="done")
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is not Outcome.PASS
    mine = open_finding(lena, "pin a smaller model", target="baseline")
    close_by_hand(lena, mine.id, note="done, trust me")
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is Outcome.INCONCLUSIVE  # sue's finding is shown, not counted
    assert f"finding #{mine.id} was closed by hand, which is not evidence" in result.reason
    relock = _relock(lena, models=[LockedModel(name="tiny", digest="sha256:" + "e" * 64)])
    lena.record_fact(None, "baseline.lock", {**lock_fact_payload(relock), "closes": [mine.id]},
                     provenance=Provenance.MEASURED, collector="inhouse baseline lock")  # fmt: skip
    verified_by(sue, relock)
    verified_by(lena, relock)
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "awaiting confirmation by someone other than lena" in result.reason
    assert "baseline.verify #" in result.reason and "it is lena's own" in result.reason
    assert "baseline.verify: signed by sue, who has not signed in" in result.reason


def test_a_finding_fed_back_by_a_cosmetic_version_closes_nothing(
    pilot: Pilot, lena: Program
) -> None:
    """pia (a real colleague) finds the triage prompt sorts legal tickets wrong. lena answers
    it with a version of bob's prompt that changes a comment and some whitespace: nothing the
    model is sent changed, so it answers nothing, whoever uses it."""
    finding = open_finding(pilot.people["pia"], "legal tickets land in ops",
                           target="prompt:triage")  # fmt: skip
    cosmetic = PROMPT.replace("Ticket: {{ ticket }}", "Ticket:   {{ ticket }} {# sorted #}")
    share_version(lena, "triage", parse_prompt(cosmetic, where="triage.yaml"),
                  where="triage.yaml", closes=[finding.id])  # fmt: skip
    result = _judge(lena, "findings-fed-back")
    assert result.outcome is Outcome.FAIL
    assert f"finding #{finding.id} not closed by fact" in result.reason
    assert "prompt:triage already sent this before the finding was opened" in result.reason
