"""Exit rule 35 (``WORKFLOW_FRESH_SEED``) on constructed facts: play 3's rerun by another of a
workflow version that samples counts only on a seed drawn for it.

omar publishes triage at temperature 0.7 with ``seed: 11``, a seed he may have picked among
many private tries for a draw that passes; the version's hash covers it. vic's ``workflow test``
draws a seed of its own (today's inhouse records it: ``seed``). The forgeries, each typed
through the API in vic's name or left by an older inhouse: a run that says it sent the
version's seed (or none, or one an earlier run of the version sent), one that lies about the
version's seed or temperature beside omar's own record, and one that says no seed at all. None
counts; a play 3 exit judged on such a run keeps its verdict; at temperature 0 nothing changes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from inhouse.program.checks import WORKFLOW_FRESH_SEED, CheckContext, Outcome, evaluate
from inhouse.program.facts import Fact, FactSet
from inhouse.workflows.runner import draws_each_attempt
from tests.locks import HERE, JUDGED
from tests.test_playchecks import (
    ISSUER,
    LOCK,
    NOW,
    OWNERS,
    WITH_VIC,
    fact,
    lock,
    run3,
    signed_in,
    spec,
)

HOT = 0.7
#: what vic's inhouse drew for his run
DRAWN = 1_234_567


def seeded(
    by: str, seed: dict[str, Any] | None, *, passed: bool = True, signed_on: str | None = None
) -> Fact:
    """``by``'s run of triage v1 on the current lock (passing), answered on their machine (with
    a key enrolled from ``signed_on``: default, their own laptop), whose payload says ``seed``
    of what its requests carried (None: says nothing, as an older inhouse). One that says it
    also says, as today's inhouse does, whether each attempt of a repeated case drew a seed of
    its own (``attempt_seeds``): without the version's text (``v1`` is no text's hash) a run
    that does not say so is an older inhouse's (exit rule 38)."""
    payload: dict[str, Any] = {**HERE, **JUDGED}
    payload.pop("seed")
    if seed is not None:
        payload["seed"] = seed
        payload["attempt_seeds"] = draws_each_attempt(seed.get("temperature"), seed.get("sent"))
    return fact(
        "workflow.run",
        by=by,
        signed_on=signed_on,
        workflow="triage",
        content_hash="v1",
        lock_hash=LOCK,
        passed=passed,
        pass_rate=1.0 if passed else 0.5,
        **payload,
    )


def sent(seed: int | None, *, spec: int | None = 11, temperature: float | None = HOT,
         drawn: bool = False) -> dict[str, Any]:  # fmt: skip
    return {"sent": seed, "spec": spec, "temperature": temperature, "drawn": drawn}


def judged(*facts: Fact, **kwargs: Any) -> Any:
    return run3("workflow-run-by-other", lock(), *facts, **kwargs)


def test_a_colleagues_run_on_a_seed_drawn_for_it_counts() -> None:
    published, mine = spec(), seeded("omar", sent(11))  # omar's own run keeps his seed
    theirs = seeded("vic", sent(DRAWN, drawn=True))
    result = judged(published, mine, theirs)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("vic (not the author, omar) passed it")
    assert theirs in result.evidence
    # the server's default temperature samples too: a drawn seed counts there as well
    default = seeded("vic", sent(DRAWN, temperature=None, drawn=True))
    assert judged(spec(), seeded("omar", sent(11, temperature=None)), default).outcome is (
        Outcome.PASS
    )


def test_a_colleagues_run_typed_with_the_versions_seed_does_not_count() -> None:
    """The lottery: vic's run, typed around the API, says it sent omar's seed at 0.7."""
    published, mine = spec(), seeded("omar", sent(11))
    replayed = seeded("vic", sent(11, drawn=True))
    result = judged(published, mine, replayed)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"vic's run (fact #{replayed.id}) sent the version's own seed (11) at temperature " \
        "0.7" in result.reason  # fmt: skip
    assert f"(exit rule {WORKFLOW_FRESH_SEED})" in result.reason
    assert "runs `inhouse workflow test triage` again with an inhouse that draws a seed" in (
        result.reason
    )
    # lying about the version's seed does not hide it: omar's run recorded it (11)
    unwritten = seeded("vic", sent(11, spec=None, drawn=True))
    assert judged(spec(), seeded("omar", sent(11)), unwritten).outcome is Outcome.FAIL
    # nor does lying about its temperature: omar's run says the version samples, at 0.7
    cold = seeded("vic", sent(11, temperature=0.0))
    lied = judged(spec(), seeded("omar", sent(11)), cold)
    assert lied.outcome is Outcome.FAIL
    assert "sent the version's own seed (11) at temperature 0.7" in lied.reason
    # and the author's run alone says the version's seed: no record of omar's, vic's own says it
    assert judged(spec(), replayed).outcome is Outcome.FAIL


def test_no_seed_or_an_earlier_runs_seed_replays_a_draw() -> None:
    mine = seeded("omar", sent(11))
    unseeded = seeded("vic", sent(None))  # his server's start-up seed, its operator's choice
    result = judged(spec(), mine, unseeded)
    assert result.outcome is Outcome.FAIL
    assert "sent no seed at temperature 0.7" in result.reason
    # a seed an earlier run of the version sent: that run's draw again (his own first, here)
    first = seeded("vic", sent(DRAWN, drawn=True))
    again = seeded("vic", sent(DRAWN, drawn=True))
    result = judged(spec(), mine, first, again)
    assert result.outcome is Outcome.PASS, result.reason  # his first draw counts
    assert result.evidence[-1] == first
    prior = seeded("omar", sent(DRAWN))  # omar's run sent it first
    later = seeded("vic", sent(DRAWN, drawn=True))
    only = judged(spec(), prior, later)
    assert only.outcome is Outcome.FAIL
    assert f"vic's run (fact #{later.id}) sent the seed omar's run (fact #{prior.id})" in (
        only.reason
    )
    assert f"sent before ({DRAWN}) at temperature 0.7: it replayed that run's draw" in only.reason


def test_an_older_inhouses_run_at_a_sampling_temperature_does_not_count() -> None:
    """vic's run says no seed (an inhouse from before runs said, or a payload typed without
    it): where a run of its version says it samples, it may have replayed omar's draw; where
    none says anything, nothing shows it did not; where one says temperature 0, it counts."""
    older = seeded("vic", None)
    result = judged(spec(), seeded("omar", sent(11)), older)
    assert result.outcome is Outcome.FAIL
    assert f"vic's run (fact #{older.id}) does not say which seed it sent" in result.reason
    assert "its version samples, at temperature 0.7" in result.reason
    unknown = judged(spec(), seeded("omar", None), older)
    assert unknown.outcome is Outcome.FAIL
    assert "nor does a run of its version by someone other than its author" in unknown.reason
    # omar's own run "at 0", typed around the API, is his word: it vouches for nothing
    typed = judged(spec(), seeded("omar", sent(11, temperature=0.0)), older)
    assert typed.outcome is Outcome.FAIL
    assert "nor does a run of its version by someone other than its author" in typed.reason
    # vic's own later run, by today's inhouse, says the version does not sample: his older one
    # (which passed where the later one did not) replayed no draw
    cold = seeded("vic", sent(11, temperature=0.0), passed=False)
    counted = judged(spec(), seeded("omar", None), older, cold)
    assert counted.outcome is Outcome.PASS, counted.reason
    assert counted.evidence[-1] == older


def test_at_temperature_0_the_versions_seed_counts() -> None:
    """At 0 each answer is the model's most likely one, whatever the seed: no lottery."""
    written = sent(11, temperature=0.0)
    result = judged(spec(), seeded("omar", written), seeded("vic", written))
    assert result.outcome is Outcome.PASS, result.reason


def test_a_play_3_exit_judged_on_a_replayed_draw_keeps_its_verdict() -> None:
    published, mine = spec(), seeded("omar", sent(11))
    for theirs in (seeded("vic", sent(11)), seeded("vic", None)):
        exited = {"workflow": (NOW, theirs.id)}
        before = judged(published, mine, theirs, exited=exited, rules=WORKFLOW_FRESH_SEED - 1)
        assert before.outcome is Outcome.PASS, before.reason
        # an exit judged by this rule (or a later one) spares nothing
        since = judged(published, mine, theirs, exited=exited, rules=WORKFLOW_FRESH_SEED)
        assert since.outcome is Outcome.FAIL, since.reason
        # nor does an exit spare a run recorded after it
        later = judged(published, mine, theirs, exited={"workflow": (NOW, mine.id)},
                       rules=WORKFLOW_FRESH_SEED - 1)  # fmt: skip
        assert later.outcome is Outcome.FAIL, later.reason


def test_a_demo_program_asks_none_of_it() -> None:
    """A demo's walkthrough runs on the test model, whose nonsense its workflow's cases hold to
    what it answers at the written seed: its colleague keeps that seed, and nothing in it counts
    for real (``inhouse init --demo`` sits in the signed first event)."""
    facts = (lock(), spec(), seeded("omar", sent(11)), seeded("vic", sent(11)))
    real = context(facts)
    assert evaluate("workflow-run-by-other", real).outcome is Outcome.FAIL
    demo = evaluate("workflow-run-by-other", replace(real, demo=True))
    assert demo.outcome is Outcome.PASS, demo.reason


def context(facts: tuple[Fact, ...]) -> CheckContext:
    """:func:`tests.test_playchecks.run`'s context for ``facts``, with vic on the roster."""
    return CheckContext(
        facts=FactSet(facts),
        people=WITH_VIC,
        owners=OWNERS,
        now=NOW,
        machines={who: frozenset({f"{who}-laptop"}) for who in WITH_VIC},
        signed_in=signed_in(WITH_VIC),
        sign_in_issuer=ISSUER,
    )


@pytest.mark.xfail(
    strict=True,
    reason="hole left open: a colleague's runs of a version that samples are each judged alone, "
    "and only passing ones are read, so he (or the author asking him) reruns `workflow test` "
    "until one fresh draw passes and that one counts; play 2 pools a colleague's reruns of a "
    "trial (exit rules 25 and 28), play 3 does not. Whether his failed draws beside it should "
    "fail the version (a pass rate over all his runs, a share of them) is a product decision",
)
def test_a_colleagues_failed_draws_weigh_beside_his_passing_one() -> None:
    mine = seeded("omar", sent(11))
    tries = [seeded("vic", sent(DRAWN + n, drawn=True), passed=False) for n in range(9)]
    lucky = seeded("vic", sent(DRAWN + 9, drawn=True))
    result = judged(spec(), mine, *tries, lucky)
    assert result.outcome is not Outcome.PASS, result.reason
