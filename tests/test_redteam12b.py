"""Red team of plays 1 to 3, round rt12b: a word given before it is seen, and a model never
proven.

**A word typed before the rerun ran.** `inhouse prove NAME --rerun --confirm-minutes COMMENT`
took the rerunner's word on the manual minutes (and the pass rate the trial's author stated)
as a flag, typed before anything ran or was shown: lena tells omar "run `inhouse prove tickets
--rerun --confirm-minutes ok`", and his word counts for figures he never saw. Like `support
confirm`, `usage confirm` and `review attend`, the rerun now shows, once it ran, each figure a
confirmation covers and whose word it is, and records the confirmations only on a typed yes:
no terminal, or a no, records the rerun without them (exit 3), and play 2's check still asks.
"""

from __future__ import annotations

import json
from pathlib import Path

from inhouse.program.checks import Outcome, Result
from inhouse.program.facts import Fact
from tests.test_playchecks import DIGEST
from tests.trials.test_rerun import (  # noqa: F401
    EASY,
    omar,
    program,
    reproduced,
    run,
    write_trial,
)

_WORD = "I do these by hand: 3 to 7 minutes"


def _stated(folder: Path) -> None:
    """tickets: a manual status quo with no outputs, whose pass rate lena states (10 %)."""
    write_trial(folder, EASY, meaningful={"faster": 30},
                status_quo={"kind": "manual", "minutes": "data/minutes.csv", "hourly_cost": 42,
                            "pass_rate": 0.1})  # fmt: skip
    minutes = "".join(f"{m}\n" for m in (4, 6.5, 3, 5, 7, 4.5))
    (folder / "data" / "minutes.csv").write_text("minutes\n" + minutes)


def _last_rerun() -> dict[str, object]:
    facts = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))
    payload: dict[str, object] = facts[-1]["payload"]
    return payload


def test_a_colleague_with_no_terminal_or_saying_no_confirms_nothing(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """omar is told to run the rerun with `--confirm-minutes`: with no terminal to answer on
    (a script, a pipe), or answering no once shown the figures, the rerun is recorded and his
    word is not; play 2's check still asks him for it."""
    _stated(program)
    run("prove", "tickets")
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", _WORD, env=omar, code=3)
    assert "your confirmations were not recorded: the question got no answer" in out, out
    assert _last_rerun()["status_quo_confirmed"] is None
    asked = reproduced(program)
    assert asked.outcome is Outcome.INCONCLUSIVE, asked.reason
    assert "--confirm-minutes COMMENT" in asked.reason
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", _WORD, env=omar, code=3,
              answer="n\n")  # fmt: skip
    assert "your confirmations were not recorded: you did not say they are true" in out, out
    assert _last_rerun()["status_quo_confirmed"] is None
    assert reproduced(program).outcome is Outcome.INCONCLUSIVE


def test_the_rerun_shows_the_figures_a_confirmation_covers_and_whose_they_are(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """Before he answers, omar reads the minutes lena recorded (on average, their range and
    each task's) and the 10 % she stated for the manual process, each named as hers; his yes
    records his word, and play 2's check counts it."""
    _stated(program)
    run("prove", "tickets")
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", _WORD, env=omar,
              answer="y\n")  # fmt: skip
    assert "Your key signs that these figures, which the trial's author gave and nothing " \
        "measured, are true:" in out  # fmt: skip
    assert "--confirm-minutes: the manual process takes 5 minutes per task on average (3 to " \
        "7, 30 over 6 tasks), as lena recorded them in data/minutes.csv: T-0: 4, T-1: 6.5, " \
        "T-2: 3, T-3: 5, T-4: 7, T-5: 4.5" in out  # fmt: skip
    assert "--confirm-minutes also covers the manual process's pass rate, 10.0 %, as lena stated " \
        "it in trials/tickets.yaml (no outputs to judge), which the candidate's 100.0 % was " \
        "compared with" in out  # fmt: skip
    assert f"your word: {_WORD}" in out
    assert _last_rerun()["status_quo_confirmed"] == _WORD
    held = reproduced(program)
    assert held.outcome is Outcome.PASS, held.reason


def test_the_outputs_and_costs_a_confirmation_covers_are_shown_too(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    """The outputs lena typed into the CSV, each as typed, and the costs 'cheaper' rests on
    (her hourly cost, the candidate's hardware and power), each with its figure."""
    write_trial(program, EASY)
    run("prove", "tickets")
    out = run("prove", "tickets", "--rerun", "--confirm-minutes", _WORD, "--confirm-outputs",
              "we wrote these", "--confirm-costs", "our payroll says 42", env=omar,
              answer="y\n")  # fmt: skip
    assert "--confirm-outputs: the 6 outputs lena typed into data/minutes.csv are what the " \
        "manual process gave; its quality (100.0 % passed) was judged on them:" in out  # fmt: skip
    assert "T-3: Printer jam cleared" in out
    assert "--confirm-costs: the costs lena typed, which 'cheaper' rests on, are true: " \
        "status quo hourly cost 42 USD/h;" in out  # fmt: skip
    assert "candidate hardware price 1400 USD;" in out and "candidate watts 45 W;" in out, out
    assert "For play 2's exit it counts" in out
    # --json has no terminal to show them on: refused before anything runs
    refused = run("prove", "tickets", "--rerun", "--json", "--confirm-minutes", _WORD,
                  env=omar, code=2)  # fmt: skip
    assert "a confirmation is asked at a terminal once the rerun ran" in refused


# -- a model never proven ------------------------------------------------------------------------
#
# The lock may bless two models, and play 2 ties it only to the weights play 1's trial proved
# (baseline-pinned): the second is lena's choice, never tried head to head. Play 3's workflow
# was "pinned" when its model was any blessed one, so lena alone put play 3's workflow on
# weights nobody compared with the status quo, and play 3 exited on it. Now its model must be
# weights a trial proved and someone else reproduced (exit rules 11); an exit from before keeps
# its verdict on the version it was judged on.

#: the second blessed model, lena's choice: lock(models=2) blesses m0@DIGEST and m1@this
_OTHER = "sha256:" + f"{1:064d}"


def _pinned(*facts: Fact, exited_at: int | None = None, rules: int = 0) -> Result:
    """workflow-pinned on ``facts``; ``exited_at``: play 3's exit, judged by ``rules``."""
    from datetime import timedelta

    from inhouse.program.checks import CheckContext, evaluate
    from inhouse.program.facts import FactSet
    from tests.test_playchecks import EXITED, ISSUER, NOW, OWNERS, ROSTER, signed_in

    exited = dict(EXITED)
    if exited_at is not None:
        exited["workflow"] = (NOW - timedelta(hours=1), exited_at)
    context = CheckContext(
        facts=FactSet(facts),
        people=ROSTER, owners=OWNERS, now=NOW, params={},
        machines={who: frozenset({f"{who}-laptop"}) for who in ROSTER},
        exited=exited, exit_rules={"workflow": rules} if exited_at is not None else {},
        signed_in=signed_in(ROSTER), sign_in_issuer=ISSUER,
    )  # fmt: skip
    return evaluate("workflow-pinned", context)


def _workflow_on(digest: str, model: str) -> Fact:
    from tests.test_playchecks import fact

    return fact("workflow.spec", by="omar", workflow="triage", content_hash="v1",
                author="omar", model=model, model_digest=digest)  # fmt: skip


def test_a_workflow_on_the_blessed_model_no_trial_proved_does_not_exit_play_three() -> None:
    """lena's trial proved m0, omar reproduced it; the lock blesses m1 beside it, and the
    workflow runs on m1: refused, naming what was proven and how to prove m1."""
    from tests.test_playchecks import lock, reproducible, rerun

    verdict, again = reproducible(), rerun()
    result = _pinned(verdict, again, lock(models=2), _workflow_on(_OTHER, "m1"))
    assert result.outcome is Outcome.FAIL, result.reason
    reason = " ".join(result.reason.split())
    assert "workflow triage runs on m1 (sha256:000000000000): no trial proved these weights " \
        "(trial t proved m0@sha256:bbbbbbbbbbbb)" in reason  # fmt: skip
    assert "prove m1 (`inhouse prove NAME` with it as the candidate)" in reason
    # on the weights the trial proved, it is pinned
    held = _pinned(verdict, again, lock(models=2), _workflow_on(DIGEST, "m0"))
    assert held.outcome is Outcome.PASS, held.reason
    assert "the weights trial t proved" in held.reason


def test_the_second_model_proved_by_a_trial_of_its_own_counts_once_reproduced() -> None:
    """lena proves m1 on a trial of its own: her verdict alone is her word; omar's rerun of
    it makes m1 proven for the workflow."""
    from tests.test_playchecks import lock, reproducible, rerun

    first = [reproducible(), rerun()]
    own = reproducible(trial="u", candidate={"model": "m1", "digest": _OTHER})
    workflow = _workflow_on(_OTHER, "m1")
    alone = _pinned(*first, own, lock(models=2), workflow)
    assert alone.outcome is Outcome.FAIL, alone.reason
    assert "trial u proved these weights (fact #" in alone.reason
    assert "but nobody else reproduced it" in alone.reason
    # lena's own rerun of it is no one else's
    hers = rerun(by="lena", trial="u", model="m1", digest=_OTHER)
    assert _pinned(*first, own, hers, lock(models=2), workflow).outcome is Outcome.FAIL
    his = rerun(trial="u", model="m1", digest=_OTHER)
    held = _pinned(*first, own, his, lock(models=2), workflow)
    assert held.outcome is Outcome.PASS, held.reason
    assert "the weights trial u proved" in held.reason


def test_a_play_three_that_exited_before_the_rule_keeps_its_exit() -> None:
    """An exit judged by rules 10 on the workflow version on m1 keeps its verdict, said; one
    judged by rules 11, or a version recorded since, is held to the rule."""
    from inhouse.program.checks import EXIT_RULES, PROVEN_WEIGHTS
    from tests.test_playchecks import lock, reproducible, rerun

    assert EXIT_RULES >= PROVEN_WEIGHTS == 11
    facts = [reproducible(), rerun(), lock(models=2), _workflow_on(_OTHER, "m1")]
    kept = _pinned(*facts, exited_at=10**9, rules=PROVEN_WEIGHTS - 1)
    assert kept.outcome is Outcome.PASS, kept.reason
    assert "play 3 exited before a workflow's model had to be weights a trial proved " \
        "(today: no trial proved these weights" in kept.reason  # fmt: skip
    judged = _pinned(*facts, exited_at=10**9, rules=PROVEN_WEIGHTS)
    assert judged.outcome is Outcome.FAIL
    since = _workflow_on(_OTHER, "m1")  # recorded after the exit
    later = _pinned(*facts[:3], facts[3], since, exited_at=facts[3].id, rules=PROVEN_WEIGHTS - 1)
    assert later.outcome is Outcome.FAIL
