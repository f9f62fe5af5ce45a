"""Exit rule 33 (``FRESH_SEED``) beside exit rules 25 and 28, on constructed facts: whose seed
takes a colleague's rerun out of his pool.

A rerun that sent the verdict's seed replayed the draw its author may have picked, and counts for
nothing, nor pools. The forgery: omar's two reruns of lena's proven trial, at 0.8 on seeds his
inhouse drew (111 and 222), are in the log; the first trailed, so pooled they fail. lena, alone,
records another proven verdict of the same spec and weights whose record says it sent 111 (her
verdict's seed is her word: her own inhouse on her own machine records it). Judged against the
latest verdict, omar's first rerun "replayed the verdict's draw" and left his pool, and his second,
alone, held: play 2 passed on half his evidence. A rerun that names the verdict it reran is judged
by that verdict's seed; one made in a checkout without the log (naming none), by the spec's first
proven verdict's, which was in a log before anyone could rerun the spec. The honest paths: his rerun
that did send the seed of the verdict it reran still counts for nothing; a later verdict that sends
the spec's own seed changes nothing.
"""

from __future__ import annotations

from typing import Any

from inhouse.program.checks import Outcome
from tests.test_playchecks import reproducible
from tests.test_playchecks import run as check
from tests.test_rerun_series import TRAILED, _series


def _seed(sent: int, spec: int = 1, drawn: bool = True) -> dict[str, Any]:
    return {"sent": sent, "spec": spec, "temperature": 0.8, "drawn": drawn}


def test_a_later_verdict_naming_a_colleagues_drawn_seed_does_not_take_his_rerun_out() -> None:
    verdict = reproducible(seed=_seed(1, drawn=False))
    trailed, held = _series(
        {**TRAILED, "seed": _seed(111), "verdict": verdict.id},
        {"seed": _seed(222), "verdict": verdict.id},
    )
    pooled = check("trial-reproduced", verdict, trailed, held)
    assert pooled.outcome is Outcome.FAIL, pooled.reason
    assert "passed 75.0 % of 20 inputs" in pooled.reason
    # lena's second verdict says it sent omar's first draw's seed (spec or not)
    for forged in (_seed(111, drawn=False), _seed(111, spec=111, drawn=False)):
        again = reproducible(seed=forged)
        result = check("trial-reproduced", verdict, trailed, held, again)
        assert result.outcome is Outcome.FAIL, result.reason
        assert "passed 75.0 % of 20 inputs" in result.reason
    # his reruns made in a checkout without the log name no verdict: the spec's first proven
    # verdict is what they reran
    loose = _series({**TRAILED, "seed": _seed(111)}, {"seed": _seed(222)})
    again = reproducible(seed=_seed(111, spec=111, drawn=False))
    result = check("trial-reproduced", verdict, *loose, again)
    assert result.outcome is Outcome.FAIL, result.reason


def test_a_rerun_that_sent_the_seed_of_the_verdict_it_reran_still_counts_for_nothing() -> None:
    """The honest reading stands: omar's rerun that sent the verdict's seed (typed through the
    API) is out, whichever verdict is latest, and a later verdict on the spec's own seed
    changes nothing of his fresh draw."""
    verdict = reproducible(seed=_seed(1, drawn=False))
    replayed, fresh = _series(
        {**TRAILED, "seed": _seed(1, drawn=False), "verdict": verdict.id},
        {"seed": _seed(222), "verdict": verdict.id},
    )
    result = check("trial-reproduced", verdict, replayed, fresh)
    assert result.outcome is Outcome.PASS, result.reason
    later = reproducible(seed=_seed(1, drawn=False))
    result = check("trial-reproduced", verdict, replayed, fresh, later)
    assert result.outcome is Outcome.PASS, result.reason
    assert "over 10 inputs" in result.reason
    # alone, the replay is inconclusive, naming the seed
    alone = check("trial-reproduced", verdict, *_series({"seed": _seed(1, drawn=False)}), later)
    assert alone.outcome is Outcome.INCONCLUSIVE, alone.reason
    assert "sent the verdict's seed (1)" in alone.reason
    # naming the verdict it reran, the spec's first, not the latest
    assert f"replayed the verdict's draw (fact #{verdict.id}, by lena)" in alone.reason


def test_a_verdict_recorded_before_his_envelopes_are_imported_takes_nothing_out() -> None:
    """lena holds omar's envelopes from a checkout without the log (his reruns name no
    verdict), records her verdict naming his first draw's seed, then imports them: the spec's
    first proven verdict is what they reran."""
    verdict = reproducible(seed=_seed(1, drawn=False))
    again = reproducible(seed=_seed(111, spec=111, drawn=False))
    loose = _series({**TRAILED, "seed": _seed(111)}, {"seed": _seed(222)})
    result = check("trial-reproduced", verdict, again, *loose)
    assert result.outcome is Outcome.FAIL, result.reason


def test_a_rerun_naming_a_verdict_of_another_spec_is_judged_by_its_own_specs() -> None:
    """omar's payload, typed, names a verdict of another spec (whose seed is 7) and says his
    spec's seed was 9: the verdict it reran is the spec's own, and the seed it sent is that
    verdict's."""
    other = reproducible(spec_hash="sha256:" + "9" * 64, seed=_seed(7, spec=7, drawn=False))
    verdict = reproducible(seed=_seed(1, drawn=False))
    (typed,) = _series({"seed": _seed(1, spec=9), "verdict": other.id})
    result = check("trial-reproduced", other, verdict, typed)
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    assert "sent the verdict's seed (1)" in result.reason
