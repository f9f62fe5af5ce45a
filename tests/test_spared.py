"""A rule kept from before, for a play that exited under it, spares only the facts its exit was
judged on (``CheckContext.spared``: the facts its exit named), not every fact recorded up to the
exit's mark (its acceptance). A fact in the log by then that the exit did not name (one its
checks passed without, an older one, one carried in sealed earlier, one its writer left out of
the exit's list) is judged by today's rule, else the laxer rule reaches evidence no exit was
judged on.

Each site is tested both ways: the fact the exit left out is judged by today's rule (a test
that fails where the check spared by the exit's mark), and the fact it cited is kept as it was
(its accepted handoff hashed it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from inhouse.program import Program
from inhouse.program.checks import CheckContext, Outcome, Person, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact, FactSet
from inhouse.program.playchecks.baseline import costs_confirmation
from inhouse.program.playchecks.pilot import adoption_too_old, members, survey_too_old
from tests.support.test_drift import gateway_review
from tests.test_exit_scope import (
    LIMITS,
    LOCK,
    NOW,
    STEPS,
    _agent_day,
    _champions_at_exit,
    _enabled,
    _lock,
    _pilot_at_exit,
    _wide_verdict,
    added,
    context,
    fact,
    lead_and_owner,
    person,
    says,
)
from tests.test_outsider_later import _judge, _relock, lena, pilot  # noqa: F401
from tests.test_playchecks import (
    EXITED,
    OWNERS,
    ROSTER,
    _finding,
    _rerun,
    _tested,
    _workflow,
    reproducible,
    rerun,
    signed_in,
)
from tests.test_playchecks import person as roster_person

# -- value-proven: a floor over the cap ------------------------------------------------------------


def _proven(floor: float) -> Fact:
    return fact("trial.verdict", by="lena", trial="t", verdict="proven", proven_on=["faster"],
                quality_ok=True, quality_floor=floor)  # fmt: skip


def _verdicts(cited: str) -> Result:
    """Play 1 exited after an honest verdict and a wide one (its floor over today's cap) were
    both recorded; its exit named the one ``cited`` ("honest" or "wide")."""
    honest, wide = _proven(10.0), _wide_verdict()
    exited = {"prove-value": (NOW, wide.id)}
    judged = {"prove-value": frozenset({(honest if cited == "honest" else wide).id})}
    ctx = replace(context([honest, wide], lead_and_owner(), exited), judged=judged)
    return evaluate("value-proven", ctx)


def test_value_proven_judges_a_verdict_its_exit_left_out_by_todays_rule() -> None:
    """The forgery: play 1 exited on an honest verdict; another, with a floor over the cap, is
    in the log by the exit's mark, but the exit was not judged on it: today's cap judges it."""
    result = _verdicts(cited="honest")
    assert result.outcome is Outcome.FAIL, result.reason
    assert "set `quality_floor` to at most 20" in result.reason


def test_value_proven_keeps_the_wide_verdict_its_exit_cited() -> None:
    kept = _verdicts(cited="wide")
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "(play 1 exited before the cap)" in kept.reason


# -- pilot-enabled: a step resting on a day only a member's agent used -----------------------------


def _steps(cite_late: bool) -> Result:
    """p1's honest step and p0's step on a day only p0's agent used, both before play 4's
    exit's mark; the exit named p1's (and p0's, with ``cite_late``)."""
    people, members, day = _agent_day()
    honest, late = _enabled("p1", day), _enabled("p0", day)
    exited = {"pilot": (NOW, late[-1].id)}
    named = {day.id, *(f.id for f in honest), *((f.id for f in late) if cite_late else ())}
    ctx = context([*members, day, *honest, *late], people, exited)
    return evaluate("pilot-enabled", replace(ctx, judged={"pilot": frozenset(named)}))


def test_pilot_enabled_judges_a_step_its_exit_left_out_by_todays_rule() -> None:
    """The forgery: p0's first-request step, naming a day only their agent used, is in the log
    by play 4's exit's mark, but the exit was not judged on it: by the rule before it is borne
    out. A step the exit did not name is today's rule's."""
    result = _steps(cite_late=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "none through p0's own" in result.reason


def test_pilot_enabled_keeps_the_step_its_exit_cited() -> None:
    kept = _steps(cite_late=True)
    assert kept.outcome is Outcome.PASS, kept.reason


# -- pilot-independent-use and pilot-would-resist-losing: a report or survey gone stale ------------

OLD = (NOW - timedelta(days=40)).date().isoformat()


def _report(as_of: str) -> Fact:
    members = [{"person": p, "active_days": 3, "independent": True, "reason": ""}
               for p in ("p0", "p1")]  # fmt: skip
    return fact("pilot.adoption", by="lena", as_of=as_of, window_days=28, min_days=3,
                members=members)  # fmt: skip


def _stale(latest: Fact, cited: Fact, mark: int) -> CheckContext:
    ctx = context([cited, latest], lead_and_owner(), {"pilot": (NOW, mark)})
    return replace(ctx, judged={"pilot": frozenset({cited.id})})


def test_adoption_report_its_exit_left_out_is_asked_to_be_fresh() -> None:
    """The forgery: play 4's exit was judged on a fresh report; the latest, as of a good month
    long gone, is in the log by the exit's mark, but no exit was judged on it: it must be fresh,
    as in any program."""
    cited = _report(NOW.date().isoformat())
    backdated = _report(OLD)
    why = adoption_too_old(_stale(backdated, cited, backdated.id), backdated)
    assert why is not None
    assert f"fact #{backdated.id}) is as of {OLD}" in why


def test_adoption_report_its_exit_cited_is_not_asked_to_be_fresh() -> None:
    cited = _report(OLD)
    ctx = context([cited], lead_and_owner(), {"pilot": (NOW, cited.id)})
    assert adoption_too_old(replace(ctx, judged={"pilot": frozenset({cited.id})}), cited) is None


def _survey(opened_days_ago: int) -> tuple[Fact, Fact]:
    """A survey a lead opened ``opened_days_ago`` days ago, and p0's answer to it a day later."""
    at = NOW - timedelta(days=opened_days_ago)
    name = f"s{opened_days_ago}"
    opened = fact("survey.opened", at=at, survey=name, closes=at + timedelta(14))
    answer = fact("survey.response", by="p0", at=at + timedelta(days=1), person="p0",
                  survey=name, would_resist_losing=True)  # fmt: skip
    return opened, answer


def _surveys(cited: tuple[Fact, Fact], *others: Fact) -> CheckContext:
    """``cited`` and ``others`` all by play 4's exit's mark; its exit named ``cited``'s answer
    (the check cites the answers it heard, not the opening they answer)."""
    people = {**lead_and_owner(), "p0": person("p0", "team0", "pilot-user")}
    facts = [*cited, *others]
    ctx = context(facts, people, {"pilot": (NOW, max(f.id for f in facts))})
    return replace(ctx, judged={"pilot": frozenset({cited[1].id})})


def test_survey_its_exit_left_out_is_asked_to_be_fresh() -> None:
    """The forgery, for the survey: the latest, opened long ago, is in the log by the exit's
    mark, but the exit was judged on answers to another: it must be fresh."""
    cited, old = _survey(1), _survey(400)
    why = survey_too_old(_surveys(cited, *old), old[0])
    assert why is not None
    assert f"fact #{old[0].id}) was opened on" in why


def test_survey_whose_answers_its_exit_cited_is_not_asked_to_be_fresh() -> None:
    """The upgrade: play 4 exited hearing the answers to a survey now long gone stale: that
    survey is not asked to be fresh (its exit cited the answers, not the opening)."""
    cited = _survey(400)
    assert survey_too_old(_surveys(cited), cited[0]) is None


# -- findings-fed-back: a confirmation dated by the log's time -------------------------------------


def _confirmed(cite_confirmation: bool) -> Result:
    """omar's version (150 days old) closing zoe's finding, and zoe's confirming run sealed on
    her machine an hour after it and carried in yesterday, before play 6's exit's mark; its
    exit named the confirmation (``cite_confirmation``) or only the rest."""
    people = {**ROSTER, "zoe": roster_person("zoe", "sales")}
    v1 = _workflow("a", at=NOW - timedelta(days=300))
    finding = _finding("workflow:triage", at=NOW - timedelta(days=200))
    v2 = _workflow("b", closes=(finding.id,), at=NOW - timedelta(days=150))
    sealed = _rerun(v2)
    confirming = replace(sealed, at=NOW - timedelta(days=1), imported=True, sealed_at=sealed.at)
    facts = (v1, finding, v2, _tested(v2), confirming)
    named = {f.id for f in facts if cite_confirmation or f is not confirming}
    params: dict[str, Any] = {"period_days": 92}
    ctx = CheckContext(
        facts=FactSet(facts), people=people, owners=OWNERS, now=NOW, params=params,
        machines={who: frozenset({f"{who}-laptop"}) for who in people},
        exited={**EXITED, "measure": (NOW - timedelta(days=1), confirming.id)},
        judged={"measure": frozenset(named)}, signed_in=signed_in(people), sign_in_issuer="x",
    )  # fmt: skip
    return evaluate("findings-fed-back", ctx)


def test_findings_fed_back_dates_a_confirmation_its_exit_left_out_by_its_seal() -> None:
    """The forgery: a confirming run sealed months ago is carried in by play 6's exit's mark,
    but the exit was not judged on it: by the log's time it is within the period. It is dated
    as sealed, outside the period."""
    result = _confirmed(cite_confirmation=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "none closed by a change in the last 92 days" in result.reason


def test_findings_fed_back_keeps_the_log_time_of_the_confirmation_its_exit_cited() -> None:
    kept = _confirmed(cite_confirmation=True)
    assert kept.outcome is Outcome.PASS, kept.reason


def _ctx(
    facts: tuple[Fact, ...], exited: dict[str, tuple[datetime, int]], judged: dict[str, set[int]],
    people: dict[str, Person] | None = None, **params: Any,
) -> CheckContext:  # fmt: skip
    """tests/test_playchecks.py's context (everyone signed in, each from a laptop of their own),
    with ``exited`` and the facts each exit was ``judged`` on."""
    roster = people if people is not None else ROSTER
    return CheckContext(
        facts=FactSet(facts), people=roster, owners=OWNERS, now=NOW, params=params,
        machines={who: frozenset({f"{who}-laptop"}) for who in roster},
        exited={**EXITED, **exited}, judged={k: frozenset(v) for k, v in judged.items()},
        signed_in=signed_in(roster), sign_in_issuer="https://login.acme.example",
    )  # fmt: skip


# -- second-person-verified: a verify by a build from a URL ----------------------------------------

_FROM_URL = {"version": "0.1.0", "installed_from": "url", "url": "https://lena.example/ih.whl"}


def _verified(cite_relock: bool) -> Result:
    """omar's verify of the first lock; lena re-locks and has omar verify the new lock with a
    build she serves from a URL, both by play 2's exit's mark. The exit named the first lock's
    verify, or (``cite_relock``) the new one's."""
    first = _lock()
    before = fact("baseline.verify", by="omar", lock_hash=LOCK, passed=True, inhouse=_FROM_URL)
    relock = "lock" + "d" * 60
    new = _lock(relock)
    verify = fact("baseline.verify", by="omar", lock_hash=relock, passed=True, inhouse=_FROM_URL)
    named = {new.id, verify.id} if cite_relock else {first.id, before.id}
    ctx = replace(
        context([first, before, new, verify], lead_and_owner(), {"baseline": (NOW, verify.id)}),
        judged={"baseline": frozenset(named)},
    )
    return evaluate("second-person-verified", ctx)


def test_second_person_verified_judges_a_verify_its_exit_left_out_by_todays_rule() -> None:
    """The forgery: the verify of the re-lock, by a build from lena's URL (it reports whatever
    she wrote), is before the exit's mark but not what the exit was judged on: it counts only
    from the release the lock pins."""
    result = _verified(cite_relock=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "installed from https://lena.example/ih.whl, not from a package index" in result.reason


def test_second_person_verified_keeps_the_verify_its_exit_cited() -> None:
    kept = _verified(cite_relock=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "note: play 2 exited before a verify had to run an inhouse installed from" in (
        kept.reason
    )


# -- trial-reproduced and the costs play 6 prices by: the verdict play 2 exited on -----------------


def _reproduced(cite_verdict: bool) -> Result:
    """A verdict naming no status quo (before verdicts did) and omar's rerun of it, both before
    play 2's exit's mark; the exit named them (``cite_verdict``) or neither."""
    old = reproducible(claim_hash=None)
    again = rerun(claim_hash=None, status_quo=None, proven_on=None, improvement={})
    named = {old.id, again.id} if cite_verdict else set()
    ctx = _ctx((old, again), {"baseline": (NOW, again.id)}, {"baseline": named})
    return evaluate("trial-reproduced", ctx)


def test_trial_reproduced_judges_a_verdict_its_exit_left_out_by_todays_rules() -> None:
    """The forgery: a verdict naming no status quo, and a colleague's rerun of the candidate
    alone, in the log by play 2's exit's mark: by the rules before, the claimed advantage need
    not be reproduced. The exit was not judged on them: today's rules reproduce it."""
    result = _reproduced(cite_verdict=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "was recorded before verdicts named the status quo they measured" in result.reason


def test_trial_reproduced_keeps_the_verdict_its_exit_cited() -> None:
    kept = _reproduced(cite_verdict=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 2 exited before a rerun had to reproduce the verdict's claimed" in kept.reason


def _costs(cite_verdict: bool) -> Fact | None:
    """A "cheaper" verdict and omar's rerun confirming its costs but not that the API status quo
    is how the task is done today, both before play 2's exit's mark."""
    verdict = reproducible()
    again = rerun(api_confirmed=None)
    named = {verdict.id, again.id} if cite_verdict else set()
    ctx = _ctx((verdict, again), {"baseline": (NOW, again.id)}, {"baseline": named})
    assert evaluate("trial-reproduced", replace(ctx, exited=EXITED)).outcome is not Outcome.PASS
    return costs_confirmation(ctx, verdict)


def test_costs_of_a_verdict_its_exit_left_out_are_the_authors_word() -> None:
    """The forgery: a verdict play 2's exit was not judged on has its costs confirmed by a
    rerun that would not reproduce it today: play 6 would price by them as confirmed."""
    assert _costs(cite_verdict=False) is None


def test_costs_of_the_verdict_its_exit_cited_stay_confirmed() -> None:
    confirmed = _costs(cite_verdict=True)
    assert confirmed is not None and confirmed.kind == "trial.rerun"


# -- the pilot's members: a member enrolled only from the gateway's host ---------------------------


def _hosted(cite_p9: bool) -> dict[str, Fact]:
    """p0 on a laptop of their own, and p9, whose only key was made on the gateway's host after
    lena enrolled the gateway's key there, both added before play 4's exit's mark; the exit
    named p0's listing (and p9's, with ``cite_p9``)."""
    people = {**lead_and_owner(), "p0": person("p0", "team0", "pilot-user"),
              "p9": person("p9", "team1", "pilot-user"),
              "gateway": Person(name="gateway", service=True)}  # fmt: skip
    listed = [added("p0", "team0"), added("p9", "team1")]
    ctx = context(listed, people, {"pilot": (NOW, listed[-1].id)})
    machines = {**ctx.machines, "p9": frozenset({"gw-host"}), "gateway": frozenset({"gw-host"})}
    named = {f.id for f in listed if cite_p9 or f.payload["person"] != "p9"}
    ctx = replace(ctx, machines=machines, invited_by={"gateway": "lena"},
                  judged={"pilot": frozenset(named)})  # fmt: skip
    return members(ctx)


def test_a_member_its_exit_left_out_on_the_gateways_host_is_set_aside() -> None:
    """The forgery: p9, whose key a lead made on the gateway's host, is listed by play 4's
    exit's mark: by the rule before, p9 is a member. Play 4's exit was not judged on p9's
    listing: today's rule sets them aside (whoever runs the host holds it)."""
    assert set(_hosted(cite_p9=False)) == {"p0"}


def test_a_member_its_exit_cited_keeps_the_rule_it_exited_on() -> None:
    assert set(_hosted(cite_p9=True)) == {"p0", "p9"}


# -- pilot-size: the roster's teams ---------------------------------------------------------------


def test_pilot_size_judges_members_its_exit_left_out_by_their_own_word() -> None:
    """The forgery: play 4's exit was judged on five members; by its mark, the members of two
    teams left and the lead added three newcomers, typing a team for each: the roster alone
    spans three teams again. The exit was not judged on the newcomers: their teams count by
    their own word."""
    people, at_exit = _pilot_at_exit()
    gone = [fact("pilot.member", person=p, track="support", action="removed", steps=STEPS)
            for p in ("p1", "p2", "p4")]  # fmt: skip
    for name, team in (("p5", "team1"), ("p6", "team2"), ("p7", "team1")):
        people[name] = person(name, team, "pilot-user")
    newcomers = [added("p5", "team1"), added("p6", "team2"), added("p7", "team1")]
    ctx = context([*at_exit, *gone, *newcomers], people, {"pilot": (NOW, newcomers[-1].id)},
                  **LIMITS)  # fmt: skip
    ctx = replace(ctx, judged={"pilot": frozenset(f.id for f in at_exit)})
    forged = evaluate("pilot-size", ctx)
    assert forged.outcome is Outcome.FAIL, forged.reason
    assert "the pilot spans 1 team (team0)" in forged.reason


def test_pilot_size_keeps_the_roster_teams_of_the_members_its_exit_cited() -> None:
    people, at_exit = _pilot_at_exit()
    ctx = context(at_exit, people, {"pilot": (NOW, at_exit[-1].id)}, **LIMITS)
    kept = evaluate("pilot-size", replace(ctx, judged={"pilot": frozenset(f.id for f in at_exit)}))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "a lead's word: play 4 exited before" in kept.reason


# -- prompt-library-seeded: a co-lead's prompt as a second author ----------------------------------


def _seeded(cite_colead: bool) -> Result:
    """lena, the pilot's owner, shares a prompt and mira, a co-lead, another, both before play
    4's exit's mark; the exit named lena's (and mira's, with ``cite_colead``)."""
    people = {**lead_and_owner(), "mira": person("mira", "ops", "rollout-lead")}
    own = fact("prompt.shared", by="lena", prompt="p-lena", author="lena")
    colead = fact("prompt.shared", by="mira", prompt="p-mira", author="mira")
    named = {own.id, colead.id} if cite_colead else {own.id}
    ctx = context([own, colead], people, {"pilot": (NOW, colead.id)}, min_authors=2)
    return evaluate("prompt-library-seeded", replace(ctx, judged={"pilot": frozenset(named)}))


def test_prompt_library_seeded_counts_no_coleads_prompt_its_exit_left_out() -> None:
    """The forgery: a co-lead's prompt, in the log by play 4's exit's mark: by the rule before,
    a second author. The exit was not judged on it: no second author."""
    result = _seeded(cite_colead=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "prompts from 1 author (lena)" in result.reason


def test_prompt_library_seeded_keeps_the_coleads_prompt_its_exit_cited() -> None:
    kept = _seeded(cite_colead=True)
    assert kept.outcome is Outcome.PASS, kept.reason


# -- champions-named: a naming the exit left out ---------------------------------------------------


def _champion_named(cite_naming: bool) -> Result:
    """team0's champion steps down and the lead names p2 champion of team0, though p2 said, with
    their own key, they work in team1: all by play 5's exit's mark; its exit named the namings
    and acceptances before (and p2's, with ``cite_naming``)."""
    people, at_exit = _champions_at_exit()
    people["p0"] = person("p0", "team0", "pilot-user")  # no longer a champion
    people["p2"] = person("p2", "team0", "pilot-user", "champion")
    later = [says("p2", "team1"), fact("pilot.champion", person="p2", team="team0"),
             fact("pilot.champion", by="p2", person="p2", team="team0", accepted=True)]  # fmt: skip
    exited = {"pilot": (NOW - timedelta(days=30), 0), "support": (NOW, later[-1].id)}
    cited = [*at_exit, *later] if cite_naming else at_exit
    named = {f.id for f in cited if f.kind == "pilot.champion"}
    ctx = context([*at_exit, *later], people, exited)
    return evaluate("champions-named", replace(ctx, judged={"support": frozenset(named)}))


def test_champions_named_judges_a_naming_its_exit_left_out_by_todays_rule() -> None:
    """The forgery: a naming by play 5's mark that its exit was not judged on counts for the
    team its champion confirmed (team1), not the one the lead's roster names."""
    result = _champion_named(cite_naming=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "no champion for teams team0" in result.reason


def test_champions_named_keeps_the_naming_its_exit_cited() -> None:
    kept = _champion_named(cite_naming=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "a lead's word: play 5 exited before" in kept.reason


# -- widening-requested: a request by the log's time -----------------------------------------------


def _widening(cite_request: bool) -> Result:
    """cal's request, sealed on his machine while the pilot ran and carried in after play 4
    exited, by play 5's exit's mark; its exit named it (``cite_request``) or not."""
    people = {**lead_and_owner(), "cal": person("cal", "sales")}
    pilot_at, support_at = NOW - timedelta(days=30), NOW - timedelta(days=10)
    carried = fact("access.request", by="cal", at=pilot_at + timedelta(days=1),
                   sealed_at=pilot_at - timedelta(days=1), person="cal")  # fmt: skip
    exited = {"pilot": (pilot_at, carried.id - 1), "support": (support_at, carried.id)}
    named = {carried.id} if cite_request else set()
    ctx = context([carried], people, exited)
    return evaluate("widening-requested", replace(ctx, judged={"support": frozenset(named)}))


def test_widening_requested_dates_a_request_its_exit_left_out_by_its_seal() -> None:
    """The forgery: an envelope sealed while the pilot ran, carried in after it, by play 5's
    mark but not what its exit was judged on: by the log's time it is new demand. It is dated
    as it was sealed."""
    result = _widening(cite_request=False)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "cal asked before play 4 (pilot) exited" in result.reason


def test_widening_requested_keeps_the_log_time_of_the_request_its_exit_cited() -> None:
    kept = _widening(cite_request=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 5 (support) exited before a request was judged by when it was sealed" in (
        kept.reason
    )


# -- versions-pinned: an unverified lock, reviewed clean (a real program) --------------------------


def test_versions_pinned_spares_only_the_lock_play_5s_exit_cited(
    lena: Program,  # noqa: F811
) -> None:
    """The forgery: lena re-locks (a lock nobody but her stood up) and the gateway reviews it
    clean, by play 5's exit's mark but not among the facts its exit was judged on: by the rule
    before, the drift passes on her word. Only a lock the exit cited keeps that rule."""
    _relock(lena, python="3.13")
    gateway_review(lena)
    lock = context_for(lena.state(), lena.clock()).facts.latest("baseline.lock")
    assert lock is not None
    left_out = _judge(lena, "versions-pinned", exited=("support",), judged=frozenset())
    assert left_out.outcome is not Outcome.PASS, left_out.reason
    assert "that lock is its signer's word alone" in left_out.reason
    kept = _judge(lena, "versions-pinned", exited=("support",), judged=frozenset({lock.id}))
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 5 (support) exited before the lock pinned had to be verified" in kept.reason
