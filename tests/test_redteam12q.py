"""Red team of plays 1 and 2, round rt12q: lena, the rollout lead and play 1's owner, on how
many tasks a trial rests on.

**"More private" on one ticket.** ``inhouse prove`` calls a numeric dimension (faster,
cheaper) "too few" on fewer than :data:`~inhouse.program.payloads.MIN_INPUTS` paired inputs,
and its own test says "too few inputs never prove". "More private" is decided by rule, though
(the candidate stays on this machine, the status quo is a public host), with no interval, and
quality is a pass rate compared by its point: lena writes a trial of one ticket claiming only
``more_private``, her local model answers it, any hosted API answers it too, and the verdict
is "proven more-private at acceptable quality". Any local model beside any hosted API is more
private, so the whole of play 1's "value" is one answer that passed one check, and omar's honest
rerun of that one ticket (he confirms the API, which is truly how the task is done today)
reproduces it for play 2. Closed: a verdict on fewer inputs is inconclusive (asking for
:data:`MIN_INPUTS`), and play 1's ``value-proven`` and play 2's ``trial-reproduced`` refuse a
verdict or a rerun that rests on fewer, naming the count and the way out; a play that exited
on such a verdict keeps its exit, said.

**A member's own trial un-does play 1 for everyone.** Plays 1 and 2 read the latest trial
verdict that counts (``value-proven``, the weights ``baseline-pinned`` ties the lock to, the
verdict ``trial-reproduced`` asks a rerun of, a not-worth-it stop), and any enrolled person's
``inhouse prove`` counted: bob, a colleague who joined to ask in (play 2's trigger) and has no
say over play 1, proves a trial of his own that comes out not worth it (three tickets, a slow
laptop), and play 1's ``value-proven`` fails on it. Play 1 no longer holds, so every guard that
asks for it (the pilot's widening, play 2's start) holds the program back, for everyone, by one
person's run. The lock had the same hole and
was closed (a lock counts only where someone a lead put in charge pinned it); a verdict now
follows it: it counts where its signer held such a role then, owned a started play, or owns play
1; else it is set aside, said beside the check. A verdict an exit was judged on keeps counting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from inhouse.figures import count
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for, exit_results
from inhouse.program.guards import play_has_exited
from inhouse.trials.verdict import (
    MIN_INPUTS,
    PrivacyClaim,
    compare_dimension,
    compare_quality,
    decide,
)
from tests.people import enrol
from tests.test_engine import cast, measured, prove  # noqa: F401
from tests.test_playchecks import NOW, ROSTER, person, reproducible, rerun
from tests.test_playchecks import run as check

PRIVATE = PrivacyClaim(claimed=True, more_private=True, reason="kept on loopback")


def _decided(n: int) -> Any:
    """The verdict of a trial of ``n`` inputs claiming only "more private": the candidate
    stays here, the hosted API is public, and both sides pass every input."""
    faster = compare_dimension("faster", [0.5] * n, [0.5] * n, threshold=None, unit="s")
    quality = compare_quality([True] * n, [True] * n, floor_points=5, resamples=1000)
    return decide([faster], quality, PRIVATE)


def test_more_private_on_one_ticket_is_no_verdict() -> None:
    """The measurement itself: one input (or four) proves nothing, more private or not."""
    for n in (1, MIN_INPUTS - 1):
        verdict = _decided(n)
        assert verdict.verdict == "inconclusive", verdict.summary
        assert verdict.proven_on == []
        assert (
            f"on only {count(n, 'inputs')}: quality is not judged on fewer than 5"
            in verdict.summary
        )
        assert verdict.inputs_needed == MIN_INPUTS
    # the honest trial of real tasks is proven more private, as before
    honest = _decided(MIN_INPUTS)
    assert honest.verdict == "proven" and honest.proven_on == ["more-private"]


def _one_ticket(**changes: Any) -> Any:
    """lena's verdict: more private than the hosted API, on one ticket both sides answered."""
    data = {"proven_on": ["more-private"], "inputs": 1, "distinct_inputs": 1,
            "candidate_pass_rate": 1.0, "status_quo_pass_rate": 1.0, "status_quo_measured": True,
            "proved": 1, "on_topic": 1, "thresholds": {}}  # fmt: skip
    return reproducible(**{**data, **changes})


def _omar_s_one_ticket(**changes: Any) -> Any:
    """omar's honest rerun of that one ticket, against the API he confirmed."""
    data = {"proven_on": ["more-private"], "improvement": {}, "thresholds": {}, "inputs": 1,
            "passed": 1, "distinct_inputs": 1, "pass_rate": 1.0, "status_quo_pass_rate": 1.0,
            "proved": 1, "on_topic": 1, "costs_confirmed": None}  # fmt: skip
    return rerun(**{**data, **changes})


def test_a_verdict_on_one_ticket_proves_no_value() -> None:
    """Play 1: the verdict (recorded by an inhouse that let it through, or typed) fails,
    saying how many inputs it rests on and the way out."""
    one = check("value-proven", _one_ticket())
    assert one.outcome is Outcome.FAIL, one.reason
    assert "it rests on 1 task input, fewer than the 5" in one.reason
    assert "at least 5 real, distinct task inputs and prove it again (`inhouse prove t`)" in (
        one.reason
    )
    # distinct tasks count, not copies of one (a verdict that says how many are distinct)
    copies = check("value-proven", _one_ticket(inputs=10, distinct_inputs=1))
    assert copies.outcome is Outcome.FAIL and "rests on 1 task input" in copies.reason
    # the honest verdict on ten tickets, and one from before verdicts said how many: as before
    ten = {"inputs": 10, "distinct_inputs": 10, "proved": 10, "on_topic": 10}
    assert check("value-proven", _one_ticket(**ten)).outcome is Outcome.PASS
    assert check("value-proven", _one_ticket(inputs=None, distinct_inputs=None)).outcome is (
        Outcome.PASS
    )


def test_an_honest_rerun_of_one_ticket_reproduces_no_value() -> None:
    """Play 2: omar's honest rerun of the one ticket holds quality and more-private alike; it
    reproduces nothing worth a program. lena's verdict typed as ten inputs does not help her:
    omar's rerun says how many it ran."""
    result = check("trial-reproduced", _one_ticket(), _omar_s_one_ticket())
    assert result.outcome is Outcome.FAIL, result.reason
    assert "says proven, but it rests on 1 task input" in result.reason
    typed = _one_ticket(inputs=10, distinct_inputs=10, proved=10, on_topic=10)
    theirs = check("trial-reproduced", typed, _omar_s_one_ticket())
    assert theirs.outcome is Outcome.FAIL, theirs.reason
    assert "omar's rerun of trial t (fact #" in theirs.reason
    assert "held, but it rests on 1 task input" in theirs.reason
    assert "`inhouse prove t --rerun`" in theirs.reason
    # ten real tickets, rerun by omar: reproduced, as before
    ten = {"inputs": 10, "passed": 10, "distinct_inputs": 10, "proved": 10, "on_topic": 10}
    honest = check("trial-reproduced", typed, _omar_s_one_ticket(**ten))
    assert honest.outcome is Outcome.PASS, honest.reason


def test_a_play_that_exited_on_one_ticket_keeps_its_exit() -> None:
    """The rule came after programs exited: an exit judged on such a verdict stands, said."""
    exited = {"prove-value": (NOW - timedelta(days=3), 10**9)}
    kept = check("value-proven", _one_ticket(), exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "(play 1 exited before a verdict had to rest on at least 5 inputs)" in kept.reason
    both = {**exited, "baseline": (NOW - timedelta(days=2), 10**9)}
    stays = check("trial-reproduced", _one_ticket(), _omar_s_one_ticket(), exited=both)
    assert stays.outcome is Outcome.PASS, stays.reason
    assert "play 2 exited before a proven verdict and its rerun had to rest on at least 5" in (
        stays.reason
    )


# -- the rerun that held, among those that did not ------------------------------------------------


def _missed() -> list[Any]:
    """omar's three reruns of lena's sampling trial: 60 % each, her verdict claimed 90 %."""
    return [rerun(pass_rate=0.6, passed=6, proved=6, on_topic=6) for _ in range(3)]


def test_the_one_rerun_that_held_among_three_that_did_not_reproduces_nothing() -> None:
    """lena's trial samples, so each rerun draws its pass rate anew; omar's first three trail
    her 90 % by more than the floor, and his fourth, asked for after she blamed a glitch,
    draws 90 %. His four reruns of one spec on one set of weights are one body of evidence:
    27 of 40 inputs passed (68 %), which does not reproduce 90 %, and the reason names the
    reruns judged together."""
    verdict = reproducible()
    missed = _missed()
    alone = check("trial-reproduced", verdict, *missed)
    assert alone.outcome is Outcome.FAIL and "more than the quality floor" in alone.reason
    lucky = check("trial-reproduced", verdict, *missed, held := rerun())
    assert lucky.outcome is Outcome.FAIL, lucky.reason
    assert "passed 67.5 % of 40 inputs (their 4 reruns of it judged together: facts #" in (
        lucky.reason
    )
    assert "more than the quality floor (5 points) below it" in lucky.reason
    assert {f.id for f in lucky.evidence} >= {f.id for f in (*missed, held)}
    # nor does a lucky draw against the status quo (the candidate's quality held beside it on
    # the fourth alone) undo the three that trailed it: the two sides compared over all 40
    trailed = [rerun(status_quo_pass_rate=1.0, quality_ok=False) for _ in range(3)]
    lucky_beside = check("trial-reproduced", verdict, *trailed, rerun(status_quo_pass_rate=0.9))
    assert lucky_beside.outcome is Outcome.FAIL, lucky_beside.reason
    assert "trailed it by more than the quality floor" in lucky_beside.reason
    assert "judged together" in lucky_beside.reason


def test_an_honest_colleague_s_reruns_add_data() -> None:
    """The honest team: omar reruns the sampling trial three times (85 %, 95 %, 90 %); one
    draw below another's is data, not a failed ticket: pooled, 90 % over 30 inputs holds, and
    all three are the evidence. One rerun alone reads as before."""
    verdict = reproducible()
    draws = [rerun(pass_rate=rate, passed=int(rate * 10)) for rate in (0.8, 0.95, 0.9)]
    pooled = check("trial-reproduced", verdict, *draws)
    assert pooled.outcome is Outcome.PASS, pooled.reason
    assert "pass rate 88.3 % over 30 inputs, the verdict claimed 90.0 % (floor 5 points) " \
        "(their 3 reruns of it judged together: facts #" in pooled.reason  # fmt: skip
    assert [f.id for f in pooled.evidence] == [verdict.id, *(f.id for f in draws)]
    one = check("trial-reproduced", verdict, rerun())
    assert one.outcome is Outcome.PASS and "judged together" not in one.reason


def test_each_colleague_s_reruns_are_judged_apart() -> None:
    """omar's three reruns trail; sam's, from his own machine, holds. Each colleague's pool is
    their own runs on their own runtime: sam's holds, and omar's do not sink it (nor would a
    lead have more tickets by asking more people: each is someone else, on a machine of their
    own, and she never counts). Her own reruns pooled with omar's would not help him either."""
    roster = {**ROSTER, "sam": person("sam", "support")}
    verdict = reproducible()
    both = check("trial-reproduced", verdict, *_missed(), rerun(by="sam"), people=roster)
    assert both.outcome is Outcome.PASS, both.reason
    said = "sam reran trial t on their own machine: pass rate 90.0 % over 10"
    assert both.reason.startswith(said)
    lena_s = [rerun(by="lena") for _ in range(3)]
    hers = check("trial-reproduced", verdict, *_missed(), *lena_s, people=roster)
    assert hers.outcome is Outcome.FAIL and "judged together" in hers.reason, hers.reason


def test_a_play_two_that_exited_on_a_lucky_rerun_keeps_its_exit() -> None:
    """The rule came after programs exited: a play 2 that exited on the rerun that held
    among others keeps its exit, said; a verdict recorded since is judged by today's rule."""
    verdict = reproducible()
    reruns = [*_missed(), rerun()]
    exited = {"baseline": (NOW - timedelta(days=2), 10**9)}
    kept = check("trial-reproduced", verdict, *reruns, exited=exited)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 2 exited before a colleague's reruns of the same spec and weights were judged" in (
        kept.reason
    )
    since = {"baseline": (NOW - timedelta(days=2), verdict.id - 1)}
    assert check("trial-reproduced", verdict, *reruns, exited=since).outcome is Outcome.FAIL


def test_an_imported_rerun_that_held_says_which_of_its_signer_s_reruns_it_is() -> None:
    """A rerun made in a checkout without the program's log reaches it only as the envelope
    someone hands `evidence import`: lena, holding omar's four envelopes, imports only the one
    that held. It says, under his key's signature, that it is the fourth his key sealed of
    this spec, naming the third's hash: the three that trailed are missing, and said to be
    (exit rule 25)."""
    verdict = reproducible()
    handed = replace(rerun(place={"number": 4, "previous": "sha256:" + "3" * 64}), imported=True)
    result = check("trial-reproduced", verdict, handed)
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    assert f"omar's rerun of trial t (fact #{handed.id}) is rerun 4 of its spec that omar's " \
        "key sealed, but reruns 1 to 3 are not in the log" in result.reason  # fmt: skip
    assert "(`inhouse evidence export -o FILE` there, `inhouse evidence import FILE` here)" in (
        result.reason
    )
    assert [f.id for f in result.evidence] == [verdict.id, handed.id]


# -- a member's own trial ------------------------------------------------------------------------


def _value_proven(lena: Program) -> Any:
    found = exit_results(lena.playbook.plays[0], lena.state(), lena.clock())
    (checked,) = [i for i in found if i.ref.check == "value-proven"]
    return checked.result


def _bob_s_trial(bob: Program, verdict: str = "not-worth-it") -> Any:
    """bob's `inhouse prove` of a trial of his own (his collector, his key)."""
    return measured(
        bob, "trial.verdict", trial="bobs-laptop", verdict=verdict, proven_on=[],
        quality_ok=False, candidate={"model": "other", "digest": "sha256:" + "e" * 64},
        spec_hash="sha256:" + "f" * 64, candidate_pass_rate=0.2, inputs=3, quality_floor=5.0,
        claim_hash="sha256:" + "a" * 64,
    )  # fmt: skip


def test_a_colleague_s_own_trial_does_not_undo_play_one(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """lena proves play 1 and hands it on; bob, who joined to ask in and holds no role,
    records a verdict of a trial of his own that came out not worth it. Play 1 still holds on
    lena's verdict, and bob's is set aside, saying why."""
    lena = cast["lena"]
    prove(lena)
    lena.offer_handoff(None, 1, to="lena")
    lena.accept_handoff(None, 1, comment="I can build on this")
    play = lena.playbook.plays[0]
    assert play_has_exited(play, lena.state(), lena.clock())
    bob = enrol(lena, "bob", team="sales")
    fact = _bob_s_trial(bob)
    result = _value_proven(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "trial triage proved the local model cheaper" in result.reason
    assert play_has_exited(play, lena.state(), lena.clock())
    ctx = context_for(lena.state(), lena.clock())
    (aside,) = [u for u in ctx.uncounted_of(["trial.verdict"]) if u.fact.id == fact.id]
    assert "recorded by bob, who held none of the roles" in aside.why
    assert "nor owned play 1 or another started play" in aside.why
    # nor does a "proven" verdict of his on other weights untie the lock from lena's
    _bob_s_trial(bob, verdict="proven")
    assert _value_proven(lena).outcome is Outcome.PASS


def test_play_one_s_owner_and_those_a_lead_put_in_charge_still_prove(
    cast: dict[str, Program],  # noqa: F811
) -> None:
    """The honest way: omar, a play owner a lead put in charge, proves a second trial: its
    not-worth-it counts, as play 1's latest word, as before."""
    lena = cast["lena"]
    prove(lena)
    _bob_s_trial(cast["omar"])
    result = _value_proven(lena)
    assert result.outcome is Outcome.FAIL and "concluded not worth it" in result.reason


def test_a_colleague_s_rerun_by_an_older_inhouse_does_not_sink_his_upgraded_one() -> None:
    """omar's first rerun ran under an older inhouse (it does not say what its checks did on an
    answer given for nothing, nor how many of its inputs are distinct) and trailed; he upgrades
    and reruns, and it holds. The older one counts for nothing either way, so it is not pooled
    with the one that holds (pinned: nothing to change)."""
    verdict = reproducible()
    old = rerun(pass_rate=0.5, passed=5, proved=None, on_topic=None, timed_checks=None,
                distinct_inputs=None)  # fmt: skip
    result = check("trial-reproduced", verdict, old, new := rerun())
    assert result.outcome is Outcome.PASS, result.reason
    assert "judged together" not in result.reason
    assert [f.id for f in result.evidence] == [verdict.id, new.id]


def test_sampling_and_greedy_reruns_of_a_trial_are_never_one_pool(tmp_path: Any) -> None:
    """A pool is one spec's reruns, and the spec hash covers how answers are generated: a
    trial switched from temperature 0 to sampling (or its seed dropped) is another spec, whose
    reruns are neither pooled with the first's nor compared with its verdict (pinned)."""
    import json

    import yaml

    from inhouse.trials.plan import plan_trial

    (tmp_path / "inhouse.toml").write_text('[runtimes.local]\nurl = "http://127.0.0.1:1"\n')
    (tmp_path / "data").mkdir()
    rows = [{"id": f"T-{i}", "text": f"printer {i} jams"} for i in range(5)]
    (tmp_path / "data" / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "trials").mkdir()
    hashes = set()
    for generation in ({"temperature": 0, "seed": 1}, {"temperature": 1, "seed": None},
                       {"temperature": 1, "seed": 1}):  # fmt: skip
        spec = {
            "task": {"prompt": "Summarise: {{ text }}", "inputs": "data/t.jsonl"},
            "candidate": {
                "runtime": "local",
                "cost": {
                    "watts": 45,
                    "price_per_kwh": 0.28,
                    "hardware_price": 1400,
                    "lifetime_hours": 26280,
                    "utilisation": 0.25,
                },
            },
            "status_quo": {
                "kind": "api",
                "url": "https://api.example.com/v1",
                "model": "m",
                "price_input_per_mtok": 1,
                "price_output_per_mtok": 2,
            },
            "checks": [{"type": "length", "min": 1}],
            "meaningful": {"faster": 30},
            "generation": {"max_tokens": 8, **generation},
        }
        (tmp_path / "trials" / "t.yaml").write_text(yaml.safe_dump(spec))
        hashes.add(plan_trial(tmp_path, "t").spec_hash)
    assert len(hashes) == 3
