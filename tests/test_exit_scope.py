"""An earlier, laxer rule a check keeps "once the play exited" spares only what the exit was
judged on: facts recorded up to the exit's mark (``CheckContext.exited``, its event). Evidence
recorded since is judged by today's rule, else one person uses the laxer rule for new evidence
(a lead's roster alone deciding a newcomer's team, an old envelope carried in as new demand).

Each check is tested both ways: the forgery after the exit is refused, and the exit's own
judgment, on the evidence it was judged on, stands as it did (its accepted handoff hashed that
evidence, and must not go stale)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from inhouse.program import Program
from inhouse.program.checks import CheckContext, Outcome, Person, Result, evaluate
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.facts import Fact, FactSet, Provenance, validate_payload
from inhouse.workflows.decoys import DECOYS
from tests.indicators.test_reported_forgery import _typed_span, _usage, lena  # noqa: F401
from tests.locks import AT_ZERO, HERE

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ISSUER = "https://login.acme.example"
_ids = count(1)
#: the track every pilot member is on: one measured step
STEPS = [{"id": "first", "type": "first-answered-request", "rests_on": ["usage.daily"],
          "params": {}}]  # fmt: skip


def fact(kind: str, by: str = "lena", at: datetime = NOW, **payload: Any) -> Fact:
    """A fact ``by`` signed with their own key, from their own laptop (their word)."""
    sealed_at = payload.pop("sealed_at", None)
    return Fact(
        id=next(_ids), kind=kind, version=1, payload=validate_payload(kind, payload),
        provenance=Provenance.ATTESTED, by=by, collector=None, comment="said so", expires=None,
        at=at, machine=f"{by}-laptop", imported=sealed_at is not None, sealed_at=sealed_at,
    )  # fmt: skip


def person(name: str, team: str = "", *roles: str) -> Person:
    return Person(name=name, team=team, roles=frozenset(roles))


def context(
    facts: Iterable[Fact], people: dict[str, Person], exited: dict[str, tuple[datetime, int]],
    **params: Any,
) -> CheckContext:  # fmt: skip
    """Everyone enrolled from a laptop of their own and signed in with the organisation's
    sign-in: told apart, so only the rule under test decides."""
    return CheckContext(
        facts=FactSet(facts), people=people, owners={"pilot": "lena", "support": "omar"},
        now=NOW, params=params, machines={who: frozenset({f"{who}-laptop"}) for who in people},
        exited=exited, signed_in={name: f"u-{name}" for name in people}, sign_in_issuer=ISSUER,
    )  # fmt: skip


def lead_and_owner() -> dict[str, Person]:
    return {
        "lena": person("lena", "platform", "rollout-lead", "play-owner"),
        "omar": person("omar", "support", "play-owner"),
    }


def added(name: str, team: str) -> Fact:
    """The lead adds ``name`` to the pilot, the roster naming ``team`` for them."""
    return fact("pilot.member", person=name, track="support", team=team, steps=STEPS)


def says(name: str, team: str) -> Fact:
    """``name``'s own word, with their key, on the team they work in."""
    return fact("pilot.team", by=name, person=name, team=team)


def ids(result: Result) -> list[int]:
    return sorted(f.id for f in result.evidence)


# -- pilot-size: the roster's teams, for the members play 4 exited on ------------------------------

LIMITS = {"min": 5, "max": 10, "min_teams": 3}


def _pilot_at_exit() -> tuple[dict[str, Person], list[Fact]]:
    """Five members on three of the roster's teams, none of whom said their team: a pilot play 4
    exited on before a member's own word was asked."""
    people = lead_and_owner()
    teams = ["team0", "team1", "team2", "team0", "team1"]
    for i, team in enumerate(teams):
        people[f"p{i}"] = person(f"p{i}", team, "pilot-user")
    return people, [added(f"p{i}", team) for i, team in enumerate(teams)]


def test_pilot_size_keeps_the_exit_it_was_judged_on() -> None:
    """The upgrade: the exit judged on the roster's teams keeps its pass, on the same evidence
    (the members' facts its handoff hashed)."""
    people, at_exit = _pilot_at_exit()
    exited = {"pilot": (NOW, at_exit[-1].id)}
    kept = evaluate("pilot-size", context(at_exit, people, exited, **LIMITS))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "a lead's word: play 4 exited before" in kept.reason
    assert ids(kept) == sorted(f.id for f in at_exit)


def test_pilot_size_judges_members_added_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 4 exited, the members of two teams leave and the lead adds
    three newcomers, typing a team for each: the roster alone spans three teams again, and the
    exit (and every grant the reach guards let through on it) holds on the lead's word. A member
    added since counts toward the spread by their own word, as in any program."""
    people, at_exit = _pilot_at_exit()
    exited = {"pilot": (NOW, at_exit[-1].id)}
    gone = [fact("pilot.member", person=p, track="support", action="removed", steps=STEPS)
            for p in ("p1", "p2", "p4")]  # fmt: skip
    for name, team in (("p5", "team1"), ("p6", "team2"), ("p7", "team1")):
        people[name] = person(name, team, "pilot-user")
    newcomers = [added("p5", "team1"), added("p6", "team2"), added("p7", "team1")]
    facts = [*at_exit, *gone, *newcomers]
    forged = evaluate("pilot-size", context(facts, people, exited, **LIMITS))
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "the pilot spans 1 team (team0)" in forged.reason
    assert "a member added since counts by today's rule, their own word" in forged.reason
    # the newcomers say, with their own keys, the teams the roster names: their teams count
    words = [says("p5", "team1"), says("p6", "team2"), says("p7", "team1")]
    honest = evaluate("pilot-size", context([*facts, *words], people, exited, **LIMITS))
    assert honest.outcome is Outcome.PASS, honest.reason
    assert "across 3 teams" in honest.reason
    assert {f.id for f in words} <= set(ids(honest))


# -- champions-named: the roster's teams, for the members and namings play 5 exited on ----------


def _champions_at_exit() -> tuple[dict[str, Person], list[Fact]]:
    """Four members on two of the roster's teams, none of whom said their team, and a champion
    for each, named by the lead and accepted: what play 5 exited on, before a member's own word
    was asked."""
    people = lead_and_owner()
    for i, team in enumerate(["team0", "team1", "team0", "team1"]):
        people[f"p{i}"] = person(f"p{i}", team, "pilot-user")
    people["p0"] = person("p0", "team0", "pilot-user", "champion")
    people["p1"] = person("p1", "team1", "pilot-user", "champion")
    facts = [added(name, people[name].team) for name in ("p0", "p1", "p2", "p3")]
    for name in ("p0", "p1"):
        team = people[name].team
        facts.append(fact("pilot.champion", person=name, team=team))
        facts.append(fact("pilot.champion", by=name, person=name, team=team, accepted=True))
    return people, facts


def test_champions_named_keeps_the_exit_it_was_judged_on() -> None:
    """The upgrade: the exit judged on the roster's teams keeps its pass, on the same evidence
    (the namings and acceptances its handoff hashed)."""
    people, at_exit = _champions_at_exit()
    exited = {"pilot": (NOW - timedelta(days=30), 0), "support": (NOW, at_exit[-1].id)}
    kept = evaluate("champions-named", context(at_exit, people, exited))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "a lead's word: play 5 exited before" in kept.reason
    assert ids(kept) == sorted(f.id for f in at_exit if f.kind == "pilot.champion")


def test_champions_named_judges_a_team_added_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 5 exited, the lead adds a member on a new team and names them
    its champion; on the roster alone, the lead's word decides that team's champion. A member
    added since, and a naming since, count by today's rule: the champion's own word on their
    team."""
    people, at_exit = _champions_at_exit()
    exited = {"pilot": (NOW - timedelta(days=30), 0), "support": (NOW, at_exit[-1].id)}
    people["p4"] = person("p4", "team2", "pilot-user", "champion")
    later = [added("p4", "team2"), fact("pilot.champion", person="p4", team="team2"),
             fact("pilot.champion", by="p4", person="p4", team="team2", accepted=True)]  # fmt: skip
    forged = evaluate("champions-named", context([*at_exit, *later], people, exited))
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "no champion for team" in forged.reason and "team2" in forged.reason
    # p4 says, with their own key, that they work in team2: their naming counts
    honest = [*at_exit, *later, says("p4", "team2")]
    passed = evaluate("champions-named", context(honest, people, exited))
    assert passed.outcome is Outcome.PASS, passed.reason


def test_champions_named_judges_a_naming_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 5 exited, team0's champion steps down and the lead names p2, a
    member the exit was judged with, champion of team0, though p2 said, with their own key,
    they work in team1. A naming since counts for the team its champion confirmed."""
    people, at_exit = _champions_at_exit()
    exited = {"pilot": (NOW - timedelta(days=30), 0), "support": (NOW, at_exit[-1].id)}
    people["p0"] = person("p0", "team0", "pilot-user")  # no longer a champion
    people["p2"] = person("p2", "team0", "pilot-user", "champion")
    later = [says("p2", "team1"), fact("pilot.champion", person="p2", team="team0"),
             fact("pilot.champion", by="p2", person="p2", team="team0", accepted=True)]  # fmt: skip
    forged = evaluate("champions-named", context([*at_exit, *later], people, exited))
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "no champion for teams team0" in forged.reason


# -- widening-requested: requests by the log's time, for those play 5 exited on -----------------


def _widening_exits() -> tuple[dict[str, Person], datetime, datetime]:
    people = {**lead_and_owner(), "bea": person("bea", "legal"), "cal": person("cal", "sales")}
    return people, NOW - timedelta(days=30), NOW - timedelta(days=10)


def test_widening_requested_keeps_the_request_play_5_exited_on() -> None:
    """The upgrade: play 5 started (and exited) on bea's request, sealed before play 4 exited
    and carried in after it, when requests were dated by the log: that request still counts."""
    people, pilot_at, support_at = _widening_exits()
    carried = fact("access.request", by="bea", at=pilot_at + timedelta(days=1),
                   sealed_at=pilot_at - timedelta(days=1), person="bea")  # fmt: skip
    exited = {"pilot": (pilot_at, carried.id - 1), "support": (support_at, carried.id + 1)}
    kept = evaluate("widening-requested", context([carried], people, exited))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 5 (support) exited before a request was judged by when it was sealed" in (
        kept.reason
    )
    assert ids(kept) == [carried.id]


def test_widening_requested_dates_a_request_carried_in_since_by_its_seal() -> None:
    """The forgery: after play 5 exited, whoever holds cal's envelope, sealed while the pilot
    ran, carries it in: by the log's time it is new demand. A request recorded since is dated
    as it was sealed."""
    people, pilot_at, support_at = _widening_exits()
    mark = next(_ids)
    exited = {"pilot": (pilot_at, mark - 1), "support": (support_at, mark)}
    carried = fact("access.request", by="cal", at=support_at + timedelta(days=1),
                   sealed_at=pilot_at - timedelta(days=1), person="cal")  # fmt: skip
    forged = evaluate("widening-requested", context([carried], people, exited))
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "cal asked before play 4 (pilot) exited" in forged.reason
    # a request cal seals after the pilot exited counts, carried in whenever
    fresh = fact("access.request", by="cal", at=support_at + timedelta(days=2),
                 sealed_at=pilot_at + timedelta(days=1), person="cal")  # fmt: skip
    honest = evaluate("widening-requested", context([carried, fresh], people, exited))
    assert honest.outcome is Outcome.PASS, honest.reason


# -- agent-boundaries: tools offered through no agent's key, on the days play 5 exited on ---------


def _offered(day: str, who: str) -> Fact:
    """The gateway's signed day: ``who`` offered the model a shell tool through their own key."""
    tools = {who: {"requests": 3, "tools": ["shell"]}}
    return fact("usage.daily", by="gateway", day=day, people={}, unbound_tools=tools)


def test_agent_boundaries_keeps_the_days_play_5_exited_on() -> None:
    """The upgrade: play 5 exited on "no local agents registered" while the gateway's signed
    usage showed a tool offered through a person's own key: the exit keeps its judgment, on the
    same (no) evidence, though the gateway signs that day again since."""
    people = lead_and_owner()
    seen = _offered((NOW - timedelta(days=3)).date().isoformat(), "lena")
    exited = {"support": (NOW - timedelta(days=2), seen.id)}
    again = _offered((NOW - timedelta(days=3)).date().isoformat(), "lena")  # totals changed
    for facts in ([seen], [seen, again]):
        kept = evaluate("agent-boundaries", context(facts, people, exited))
        assert kept.outcome is Outcome.NOT_APPLICABLE, kept.reason
        assert kept.reason.startswith("no local agents registered; note: play 5 (support)")
        assert kept.evidence == ()


def test_agent_boundaries_counts_tools_offered_since_the_exit() -> None:
    """The forgery: after play 5 exited, lena runs an agent on her own gateway key, no boundary
    around its tools; by the rule before, no day would ever count. A day since counts."""
    people = lead_and_owner()
    mark = next(_ids)
    exited = {"support": (NOW - timedelta(days=2), mark)}
    since = _offered((NOW - timedelta(days=1)).date().isoformat(), "lena")
    result = evaluate("agent-boundaries", context([since], people, exited))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "lena offered shell on" in result.reason
    assert ids(result) == [since.id]


# -- pilot-enabled: a day only a member's agent used, for the steps play 4 exited on -------------


def _enabled(who: str, day: Fact) -> list[Fact]:
    """``who``'s own record of their one step, resting on the gateway's ``day``, and of their
    finished track."""
    step = fact("enablement.step", by=who, person=who, track="support", step="first",
                how="first answered request", evidence=[day.id])  # fmt: skip
    done = fact("enablement.completed", by=who, person=who, track="support", steps=["first"])
    return [step, done]


def _agent_day() -> tuple[dict[str, Person], list[Fact], Fact]:
    """p0 and p1 in the pilot; the gateway's day on which p0's requests all came through their
    agent's key, p1's through their own."""
    people = {**lead_and_owner(), "p0": person("p0", "team0", "pilot-user"),
              "p1": person("p1", "team1", "pilot-user")}  # fmt: skip
    signed = {"p0": {"requests": 3, "own": 0}, "p1": {"requests": 2, "own": 2}}
    day = fact("usage.daily", by="gateway", day=NOW.date().isoformat(), people=signed)
    return people, [added("p0", "team0"), added("p1", "team1")], day


def test_pilot_enabled_keeps_the_steps_play_4_exited_on() -> None:
    """The upgrade: play 4 exited on p0's step resting on a day only their agent used, before
    own-key requests were asked: the exit keeps its pass, on the same evidence."""
    people, members, day = _agent_day()
    steps = [*_enabled("p0", day), *_enabled("p1", day)]
    exited = {"pilot": (NOW, steps[-1].id)}
    kept = evaluate("pilot-enabled", context([*members, day, *steps], people, exited))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert set(ids(kept)) == {day.id, *(f.id for f in steps)}


def test_pilot_enabled_judges_a_step_recorded_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 4 exited, p0 records their first-request step themselves, naming
    the day only their agent used: by the rule before it is borne out. A step recorded since
    is judged by today's rule."""
    people, members, day = _agent_day()
    honest = _enabled("p1", day)
    exited = {"pilot": (NOW, honest[-1].id)}
    late = _enabled("p0", day)
    result = evaluate("pilot-enabled", context([*members, day, *honest, *late], people, exited))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "none through p0's own" in result.reason


# -- pilot-would-resist-losing: answers from a lent account, for those play 4 exited on -----------


def _lent_survey(mark_after_answers: bool) -> CheckContext:
    """Three signed-in members, one keen; a1 and a2, listed by lena and signed in with her own
    account, answer keen and are released (every key revoked). ``mark_after_answers``: play 4
    exited after every answer (else: after the survey opened, before any answer)."""
    people = lead_and_owner()
    for i, name in enumerate(["p0", "p1", "p2", "a1", "a2"]):
        people[name] = person(name, f"team{i}", "pilot-user")
    facts = [added(name, people[name].team) for name in ("p0", "p1", "p2", "a1", "a2")]
    opened = fact("survey.opened", survey="s1", closes=NOW + timedelta(days=14))
    facts.append(opened)
    keen = {"p0": False, "p1": False, "p2": True, "a1": True, "a2": True}
    answers = [fact("survey.response", by=name, person=name, survey="s1",
                    would_resist_losing=is_keen) for name, is_keen in keen.items()]  # fmt: skip
    mark = answers[-1].id if mark_after_answers else opened.id
    ctx = context([*facts, *answers], people, {"pilot": (NOW, mark)})
    signed = {name: f"u-{name}" for name in people if name not in ("a1", "a2")}
    held = {name: frozenset({account}) for name, account in signed.items()}
    held |= {"a1": frozenset({"u-lena"}), "a2": frozenset({"u-lena"})}
    return replace(ctx, signed_in=signed, subjects_held=held)


def test_pilot_would_resist_losing_keeps_the_answers_play_4_exited_on() -> None:
    """The upgrade: play 4 exited hearing a1 and a2, before a member's answer had to come from
    an account of their own: the exit keeps its pass, on the same answers."""
    ctx = _lent_survey(mark_after_answers=True)
    kept = evaluate("pilot-would-resist-losing", ctx)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 4 exited before a member's answer had to come from an account" in kept.reason
    assert len(kept.evidence) == 5


def test_pilot_would_resist_losing_hears_no_lent_account_since_the_exit() -> None:
    """The forgery: after play 4 exited, lena lends her account to "members" in turn, each
    answering keen and released: by the rule before, the pilot speaks as many people. An
    answer given since is judged by today's rule."""
    ctx = _lent_survey(mark_after_answers=False)
    result = evaluate("pilot-would-resist-losing", ctx)
    assert result.outcome is not Outcome.PASS, result.reason
    assert "not counted: a1, a2, released since, signed in with an account lena held" in (
        result.reason
    )


# -- value-proven: a floor over the cap, for the verdict play 1 exited on ------------------------


def _wide_verdict() -> Fact:
    """A proven verdict whose quality floor (30 points) is over today's cap."""
    return fact("trial.verdict", by="lena", trial="t", verdict="proven", proven_on=["faster"],
                quality_ok=True, quality_floor=30.0)  # fmt: skip


def test_value_proven_keeps_the_verdict_play_1_exited_on() -> None:
    """The upgrade: play 1 exited on a verdict with a floor over the cap: it keeps its pass, on
    the same verdict, and says so."""
    wide = _wide_verdict()
    exited = {"prove-value": (NOW, wide.id)}
    kept = evaluate("value-proven", context([wide], lead_and_owner(), exited))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "(play 1 exited before the cap)" in kept.reason
    assert ids(kept) == [wide.id]


def test_value_proven_judges_a_verdict_recorded_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 1 exited, the trial's author records a new verdict with a floor
    over the cap (the Python API): by the rule before, its "acceptable quality" stands. A
    verdict recorded since is judged by today's rule."""
    mark = next(_ids)
    wide = _wide_verdict()
    exited = {"prove-value": (NOW - timedelta(days=1), mark)}
    result = evaluate("value-proven", context([wide], lead_and_owner(), exited))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "set `quality_floor` to at most 20" in result.reason


# -- workflow checks: the empty answer alone, an owner's rerun alone, for the runs play 3 exited on


LOCK = "lock" + "a" * 60


def _lock(lock_hash: str = LOCK) -> Fact:
    model = {"name": "m0", "digest": "sha256:" + "b" * 64}
    runtime = {"family": "llamacpp", "version": "b1"}
    return fact("baseline.lock", lock_hash=lock_hash, runtime=runtime, models=[model],
                rules_hash="r" * 64)  # fmt: skip


def _spec() -> Fact:
    return fact("workflow.spec", by="omar", workflow="triage", content_hash="v1", author="omar",
                model="m0", model_digest="sha256:" + "b" * 64)  # fmt: skip


def _run(by: str, proved: int, decoys: list[str], untested: list[dict[str, str]]) -> Fact:
    """A passing run of triage v1 on the lock; ``decoys`` [] as a runner before decoys (which
    said no seed either: today's says the one it sent, exit rule 35)."""
    seed = {"seed": AT_ZERO} if decoys else {}
    return fact("workflow.run", by=by, workflow="triage", content_hash="v1", lock_hash=LOCK,
                passed=True, pass_rate=1.0, cases=2, proved=proved, inputs=2, decoys=decoys,
                untested=untested, **HERE, **seed)  # fmt: skip


def _workflow_people() -> dict[str, Person]:
    return {**lead_and_owner(), "zoe": person("zoe", "sales")}


CHECKS = ("workflow-tests-pass", "workflow-run-by-other")


def test_workflow_checks_keep_the_runs_play_3_exited_on() -> None:
    """The upgrade: play 3 exited on runs judged on the empty answer alone (before decoys):
    both checks keep their pass on the same runs."""
    base = [_lock(), _spec(), _run("omar", 2, [], []), _run("zoe", 2, [], [])]
    exited = {"workflow": (NOW, base[-1].id)}
    for check in CHECKS:
        kept = evaluate(check, context(base, _workflow_people(), exited))
        assert kept.outcome is Outcome.PASS, (check, kept.reason)
        assert set(ids(kept)) <= {f.id for f in base}


def test_workflow_checks_judge_runs_recorded_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 3 exited (before decoys), the workflow is re-run on tests an
    off-topic sentence passes (`length min 1`): by the rule before, the empty answer alone
    judged them, and they "need the model". A run recorded since is judged on the decoys."""
    base = [_lock(), _spec()]
    exited = {"workflow": (NOW, base[-1].id)}
    off = [{"case": "short", "decoy": "off-topic"}]
    decoys = ["empty", "off-topic"]
    since = [_run("omar", 0, decoys, off), _run("zoe", 0, decoys, off)]
    for check in CHECKS:
        result = evaluate(check, context([*base, *since], _workflow_people(), exited))
        assert result.outcome is Outcome.FAIL, (check, result.reason)
        assert "case short passes on an off-topic sentence" in result.reason


def _owner_runs(lock_hash: str, decoys: list[str] | None = None) -> Fact:
    """lena's passing run of omar's triage v1 on ``lock_hash``: play 3's owner's, by a runner
    from before decoys (``decoys``: the ones today's runner judged it on)."""
    seed = {"seed": AT_ZERO} if decoys else {}  # today's runner says it (exit rule 35)
    return fact("workflow.run", by="lena", workflow="triage", content_hash="v1",
                lock_hash=lock_hash, passed=True, pass_rate=1.0, cases=2, proved=2, inputs=2,
                decoys=decoys or [], untested=[], **HERE, **seed)  # fmt: skip


def _owned(facts: list[Fact], mark: int) -> CheckContext:
    # lena owns play 3 here and leads nothing: a lead's rerun is no one else's at all (exit
    # rule 20), and these judge what an owner's rerun needs beside it
    people = {**_workflow_people(), "lena": person("lena", "platform", "play-owner")}
    ctx = context(facts, people, {"workflow": (NOW, mark)})
    return replace(ctx, owners={**ctx.owners, "workflow": "lena"})


def test_workflow_run_by_other_keeps_the_owners_run_play_3_exited_on() -> None:
    """The upgrade: play 3 exited on its owner's rerun alone, before the author's own pass had
    to stand beside it: the exit keeps its pass, on the same run, and says so."""
    base = [_lock(), _spec(), _owner_runs(LOCK)]
    kept = evaluate("workflow-run-by-other", _owned(base, base[-1].id))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 3 exited before a rerun by its owner needed the author's own pass" in kept.reason
    assert ids(kept) == [base[1].id, base[2].id]


def test_workflow_run_by_other_needs_the_author_beside_an_owners_run_since_the_exit() -> None:
    """The forgery: after play 3 exited, the baseline is re-locked and lena, play 3's owner,
    reruns omar's version alone on the new lock: by the rule before, her run is "someone
    else's". An owner's run recorded since needs the author's own pass beside it."""
    base = [_lock(), _spec(), _owner_runs(LOCK)]
    relock = "lock" + "c" * 60
    new = _lock(relock)
    alone = evaluate(
        "workflow-run-by-other",
        _owned([*base, new, _owner_runs(relock, list(DECOYS))], base[-1].id),
    )
    assert alone.outcome is Outcome.FAIL, alone.reason
    assert "only lena, play 3's owner, passed workflow triage" in alone.reason


# -- second-person-verified: a verify by a build from a URL, for those play 2 exited on -----------

_FROM_URL = {"version": "0.1.0", "installed_from": "url", "url": "https://lena.example/ih.whl"}


def test_second_person_verified_keeps_the_verify_play_2_exited_on() -> None:
    """The upgrade: play 2 exited on omar's verify by an inhouse installed from lena's URL,
    before where it came from counted: the exit keeps its pass, on the same verify."""
    current = _lock()
    verify = fact("baseline.verify", by="omar", lock_hash=LOCK, passed=True, inhouse=_FROM_URL)
    exited = {"baseline": (NOW, verify.id)}
    kept = evaluate("second-person-verified", context([current, verify], lead_and_owner(), exited))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "note: play 2 exited before a verify had to run an inhouse installed from" in (
        kept.reason
    )
    assert ids(kept) == [current.id, verify.id]


def test_second_person_verified_judges_a_verify_since_the_exit_by_todays_rule() -> None:
    """The forgery: after play 2 exited, lena re-locks and has omar verify the new lock with a
    build she serves from a URL (it reports whatever she wrote): by the rule before, it counts.
    A verify recorded since counts only from the release the lock pins."""
    first = _lock()
    exited = {"baseline": (NOW - timedelta(days=1), first.id)}
    relock = "lock" + "d" * 60
    new = _lock(relock)
    verify = fact("baseline.verify", by="omar", lock_hash=relock, passed=True, inhouse=_FROM_URL)
    ctx = context([first, new, verify], lead_and_owner(), exited)
    result = evaluate("second-person-verified", ctx)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "installed from https://lena.example/ih.whl, not from a package index" in result.reason


# -- trial-reproduced: the rules play 2 exited before, for the verdict it exited on ---------------


def test_trial_reproduced_keeps_the_verdict_play_2_exited_on() -> None:
    """The upgrade: play 2 exited on a verdict naming no status quo (before verdicts did), and
    omar's rerun of it: the exit keeps its pass, on the same rerun."""
    from tests.test_playchecks import reproducible, rerun, run

    old = reproducible(claim_hash=None)
    again = rerun(claim_hash=None, status_quo=None, proven_on=None, improvement={})
    kept = run("trial-reproduced", old, again, exited={"baseline": (NOW, again.id)})
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 2 exited before a rerun had to reproduce the verdict's claimed" in kept.reason
    assert again.id in ids(kept)


def test_trial_reproduced_judges_a_verdict_since_the_exit_by_todays_rules() -> None:
    """The forgery: after play 2 exited, the trial's author records a new verdict naming no
    status quo (the Python API), and a colleague reruns the candidate alone: by the rules
    before, the claimed advantage need not be reproduced. A verdict recorded since is
    reproduced by today's rules."""
    from tests.test_playchecks import reproducible, rerun, run

    old = reproducible(claim_hash=None)
    again = rerun(claim_hash=None, status_quo=None, proven_on=None, improvement={})
    exited = {"baseline": (NOW - timedelta(days=1), old.id - 1)}  # before the verdict
    result = run("trial-reproduced", old, again, exited=exited)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "was recorded before verdicts named the status quo they measured" in result.reason


# -- indicators-reported: a report's span, for the report play 6 exited on ------------------------


def test_indicators_reported_keeps_the_report_play_6_exited_on(
    lena: Program,  # noqa: F811
) -> None:
    """The upgrade: play 6 exited on a one-day report, before a report had to cover a month:
    the exit keeps its pass, on the same report."""
    _usage(lena)
    _typed_span(lena, "2026-10-20", "2026-10-20", 6, 600, 60)
    kept = _indicators(lena, lena.state().head_seq)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert lena.state().head_seq in ids(kept)  # the report it exited on


def test_indicators_reported_judges_a_report_since_the_exit_by_todays_rule(
    lena: Program,  # noqa: F811
) -> None:
    """The forgery: after play 6 exited, its reporter records one good day as the period's
    report (`--period D..D`, picking the day): by the rule before, it stands. A report recorded
    since covers a month."""
    _usage(lena)
    mark = lena.state().head_seq
    _typed_span(lena, "2026-10-20", "2026-10-20", 6, 600, 60)
    result = _indicators(lena, mark)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "covers 1 day" in result.reason and "at least 28" in result.reason


def _indicators(program: Program, mark: int) -> Result:
    """indicators-reported as play 6's row shows it, play 6 having exited at event ``mark``."""
    refs = [r for r in program.playbook.play("measure").exit if r.check == "indicators-reported"]
    ctx = context_for(program.state(), program.clock())
    ctx = replace(ctx, exited={**ctx.exited, "measure": (program.clock(), mark)})
    (checked,) = run_checks(refs, ctx)
    return checked.result


# -- findings-fed-back: a confirmation by the log's time, for those play 6 exited on ---------------


def _carried_confirmation(mark_after: bool, sealed_days: int = 200) -> Result:
    """omar's version (2 days old) closing zoe's finding, and zoe's confirming run, sealed on
    her machine ``sealed_days`` ago and carried in today; play 6 exited after it
    (``mark_after``) or before."""
    from tests.test_playchecks import ROSTER, _finding, _rerun, _tested, _workflow, run
    from tests.test_playchecks import person as roster_person

    people = {**ROSTER, "zoe": roster_person("zoe", "sales")}
    v1 = _workflow("a", at=NOW - timedelta(days=30))
    finding = _finding("workflow:triage")
    v2 = _workflow("b", closes=(finding.id,))
    sealed = NOW - timedelta(days=sealed_days)
    confirming = replace(_rerun(v2), imported=True, sealed_at=sealed)
    mark = confirming.id if mark_after else confirming.id - 1
    facts = (v1, finding, v2, _tested(v2), confirming)
    exited = {"measure": (NOW - timedelta(days=1), mark)}
    return run("findings-fed-back", *facts, people=people, period_days=92, exited=exited)


def test_findings_fed_back_keeps_the_confirmation_play_6_exited_on() -> None:
    """The upgrade: play 6 exited on a confirmation dated by the log, before carried-in
    envelopes were dated as sealed: the exit keeps its pass."""
    kept = _carried_confirmation(mark_after=True)
    assert kept.outcome is Outcome.PASS, kept.reason


def test_findings_fed_back_dates_a_confirmation_carried_in_since_by_its_seal() -> None:
    """The forgery: after play 6 exited, an old confirming run, sealed months ago, is carried
    in: by the log's time it is within the period. One recorded since is dated as sealed."""
    result = _carried_confirmation(mark_after=False)
    assert result.outcome is Outcome.FAIL, result.reason


def _of(run: Fact, workflow: str, content: str) -> Fact:
    """``run`` (a fresh fact) of another workflow or version."""
    again = replace(run, id=next(_ids))
    return replace(again, payload={**run.payload, "workflow": workflow, "content_hash": content})


def _version(workflow: str, content: str) -> Fact:
    return fact("workflow.spec", by="omar", workflow=workflow, content_hash=content,
                author="omar", model="m0", model_digest="sha256:" + "b" * 64)  # fmt: skip


def test_a_version_only_play_3s_owner_ran_since_the_exit_proves_nothing() -> None:
    """The forgery: after play 3 exited on its owner's rerun alone (the rule before), omar
    publishes v2 and lena, play 3's owner, alone runs it: by the rule before, v2 is proven on
    her word. An owner's run since needs the author's own pass beside it."""
    base = [_lock(), _spec(), _owner_runs(LOCK)]
    mark = base[-1].id
    v2 = _version("triage", "v2")
    alone = _of(_owner_runs(LOCK, list(DECOYS)), "triage", "v2")
    result = evaluate("workflow-run-by-other", _owned([*base, v2, alone], mark))
    assert result.outcome is Outcome.FAIL, result.reason
    assert "only lena, play 3's owner, passed workflow triage" in result.reason


def test_a_workflow_only_play_3s_owner_ran_since_the_exit_is_not_the_one_judged() -> None:
    """With a second workflow published since the exit, which only lena, play 3's owner, ran:
    it is no workflow someone other than its author passed, so play 3 stays judged on the one
    it exited on, and on the run it exited on."""
    base = [_lock(), _spec(), _owner_runs(LOCK)]
    mark = base[-1].id
    other = _version("digest", "d1")
    alone = _of(_owner_runs(LOCK), "digest", "d1")
    result = evaluate("workflow-run-by-other", _owned([*base, other, alone], mark))
    assert result.outcome is Outcome.PASS, result.reason
    assert ids(result) == [base[1].id, base[2].id]


def test_findings_fed_back_keeps_a_confirmation_sealed_before_the_change_it_exited_on() -> None:
    """The upgrade: play 6 exited on a run sealed before the version it confirms was recorded,
    imported after, before such a run stopped confirming it: the exit keeps its pass."""
    kept = _carried_confirmation(mark_after=True, sealed_days=3)
    assert kept.outcome is Outcome.PASS, kept.reason


def test_findings_fed_back_refuses_a_confirmation_sealed_before_the_change_carried_in_since() -> (
    None
):
    """The forgery: after play 6 exited, a run zoe sealed before omar's version was recorded is
    carried in: by the rule before, it confirms the version. One recorded since is no
    confirmation of a change made after it was sealed."""
    result = _carried_confirmation(mark_after=False, sealed_days=3)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "sealed it on their machine on" in result.reason


# -- prompt-library-seeded: a co-lead as a second author, for the prompts play 4 exited on ---------


def _library(mira_since: bool) -> Result:
    """lena, the pilot's owner, shares a prompt and mira, a co-lead, another: play 4 exited
    after mira's (``mira_since`` False) or before it."""
    people = {**lead_and_owner(), "mira": person("mira", "ops", "rollout-lead")}
    own = fact("prompt.shared", by="lena", prompt="p-lena", author="lena")
    mark = own.id
    colead = fact("prompt.shared", by="mira", prompt="p-mira", author="mira")
    if not mira_since:
        mark = colead.id
    ctx = context([own, colead], people, {"pilot": (NOW, mark)}, min_authors=2)
    return evaluate("prompt-library-seeded", ctx)


def test_prompt_library_seeded_keeps_the_prompts_play_4_exited_on() -> None:
    """The upgrade: play 4 exited on the owner's prompt and a co-lead's, before the pilot's
    leadership counted as one author: the exit keeps its pass, on the same prompts."""
    kept = _library(mira_since=False)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert len(kept.evidence) == 2


def test_prompt_library_seeded_counts_no_coleads_prompt_since_the_exit_as_a_second_author() -> None:
    """The forgery: after play 4 exited, a co-lead shares a prompt beside the owner's: by the
    rule before, a second author; the library is still the pilot's leadership's alone. A
    co-lead's prompt recorded since is no second author."""
    result = _library(mira_since=True)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "prompts from 1 author (lena)" in result.reason


def _library_after_the_author_left(zoe_at: str) -> Result:
    """omar owns the pilot, lena leads it; play 4 exited on omar's prompt and bob's (bob, a
    member on his own laptop). bob has left since (no longer signed in); zoe, signed in with
    an account of her own, shares a prompt after the exit, her key enrolled from ``zoe_at``."""
    people = {**lead_and_owner(), "bob": person("bob", "ops", "pilot-user"),
              "zoe": person("zoe", "ops", "pilot-user")}  # fmt: skip
    owners = fact("prompt.shared", by="omar", prompt="p-omar", author="omar")
    bobs = fact("prompt.shared", by="bob", prompt="p-bob", author="bob")
    since = replace(fact("prompt.shared", by="zoe", prompt="p-zoe", author="zoe"), machine=zoe_at)
    ctx = context([owners, bobs, since], people, {"pilot": (NOW, bobs.id)}, min_authors=2)
    signed_in = dict(ctx.signed_in or {})
    del signed_in["bob"]
    ctx = replace(
        ctx,
        owners={**ctx.owners, "pilot": "omar"},
        machines={**ctx.machines, "zoe": frozenset({zoe_at})},
        signed_in=signed_in,
        judged={"pilot": frozenset({owners.id, bobs.id})},
    )
    return evaluate("prompt-library-seeded", ctx)


def test_prompt_library_seeded_counts_no_author_at_a_leads_laptop_since_the_exit() -> None:
    """The forgery (rt4q): after play 4 exited, its second author left; lena, who leads the
    pilot (omar owns it), has zoe's account sign in once at her laptop for a key of hers
    there, and shares a prompt with it. Today's rule sets an author at a lead's machine aside
    (the pilot's leadership counts as one author); the rule play 4 exited on, asked where
    today's falls short, judged against the owner's machines alone, and counted her. A prompt
    the exit was not judged on is today's rule's: the rule before keeps only the exit's."""
    forged = _library_after_the_author_left("lena-laptop")
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "prompts from 1 author (omar)" in forged.reason


def test_prompt_library_seeded_counts_an_author_on_her_own_laptop_since_the_exit() -> None:
    """The control: zoe shares her prompt from a laptop of her own: a second author today."""
    honest = _library_after_the_author_left("zoe-laptop")
    assert honest.outcome is Outcome.PASS, honest.reason
    assert "from 2 authors" in honest.reason
