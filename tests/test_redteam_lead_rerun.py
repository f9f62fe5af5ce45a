"""Red team (rt34q): the rollout lead as play 3's "someone other than its author".

The cast of tests/workflows/test_author_flip.py: lena leads the program and owned plays 1 and
2, vic asked to get in and stood the baseline up, omar owns play 3; each signed in with their
own account at the organisation's provider. A workflow version's author is whoever's `inhouse
workflow test` first recorded it. lena writes the triage workflow and has omar, the friendly
owner she put in charge of play 3, run its tests first on his laptop ("just run this"): he is
its author. Then she reruns it on her own laptop, as "someone other than its author": play 3's
one measure by a second person was hers, checking her own work. Exit rule 17
(:data:`~inhouse.program.checks.LEAD_APART`) decided play 2's second person is no lead for the
same reason; play 3 counted her.

Exit rule 20 (:data:`~inhouse.program.checks.LEAD_RERUN`): play 3's rerun by another held no
rollout lead's role when it ran, nor ran from a machine such a lead enrolled from. An honest
team that reached play 3 has a colleague who is no lead (play 2's verifier, at least); a lead
who writes a workflow herself is its author, and a colleague's rerun checks her work. A play 3
that exited under the rules before keeps its exit for the runs it was judged on.

Real parts: SQLite, each person's own key from their own laptop, the stand-in identity provider
on loopback, runs recorded through the runner's own recording code.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.checks import EXIT_RULES, LEAD_RERUN, Outcome, Result, evaluate
from inhouse.program.counting import build_context
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.runner import RUN_BY_OTHER, exit_check
from tests.conftest import Clock
from tests.test_sign_in import _sign_in
from tests.workflows.test_author_flip import _play_three, _test_run

LEAD = "lena was a rollout lead when it was measured"


def _judge(program: Program, *, rules: int | None = None) -> Result:
    """``workflow-run-by-other`` on ``program``'s log now; ``rules``: as if play 3's exit had
    been recorded now, judged on every fact so far, saying it was judged by those rules."""
    ctx = build_context(program.state(), program.clock())
    if rules is not None:
        mark = (program.clock(), program.state().head_seq)
        ctx = replace(
            ctx,
            exited={**ctx.exited, "workflow": mark},
            exit_rules={**ctx.exit_rules, "workflow": rules},
        )
    return evaluate(RUN_BY_OTHER, ctx)


def test_the_lead_rerunning_a_workflow_her_owner_published_is_no_one_else(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        # omar runs lena's checkout first, on his laptop: he publishes v1, its author
        _test_run(omar, "v1", passed=True)
        # the forgery: lena reruns it on her own laptop
        _test_run(lena, "v1", passed=True)
        result = _judge(lena)
        assert result.outcome is Outcome.FAIL, result.reason
        assert LEAD in result.reason and "exit rule 20" in result.reason, result.reason
        assert "neither the workflow's author nor a lead" in result.reason, result.reason
        # `inhouse workflow test` tells her so, by the check's own rule
        said = exit_check(lena, RUN_BY_OTHER)
        assert said is not None and said.outcome == "fail" and LEAD in said.reason, said
        assert lena.status()["plays"][2]["state"] != "exit-met"

        # nor from a second machine of hers (a VM she enrolled another key from, signed in)
        vm = SigningKey.generate()
        lena.join(str(lena.invite("lena")), vm, at_machine="lena-vm")
        _sign_in(lena.using(vm), idp, "u-lena")
        _test_run(lena.using(vm), "v1", passed=True)
        result = _judge(lena)
        assert result.outcome is Outcome.FAIL and LEAD in result.reason, result.reason

        # a play 3 that exited on her rerun under the rules before keeps its exit; one judged
        # by today's rules does not pass on it
        assert EXIT_RULES >= LEAD_RERUN
        for rules in (0, LEAD_RERUN - 1):
            kept = _judge(lena, rules=rules)
            assert kept.outcome is Outcome.PASS, (rules, kept.reason)
            assert kept.reason.startswith("lena (not the author, omar) passed it"), kept.reason
        assert _judge(lena, rules=EXIT_RULES).outcome is Outcome.FAIL

        # honest: vic, who asked to get in and is no lead, reruns it on his laptop
        _test_run(vic, "v1", passed=True)
        result = _judge(lena)
        assert result.outcome is Outcome.PASS, result.reason
        assert result.reason.startswith("vic (not the author, omar) passed it"), result.reason
        assert lena.status()["plays"][2]["state"] == "exit-met"
    finally:
        lena.close()


def test_a_colleague_at_the_leads_laptop_is_no_one_else(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The lead's machine counts against the rerunner as the author's does: a colleague who
    reruns at her laptop ran what she set up there."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar = cast["lena"], cast["omar"]
    try:
        _test_run(omar, "v1", passed=True)
        laptop = sorted(lena.state().machines("lena"))[0]
        key = SigningKey.generate()
        lena.join(str(lena.invite("carl", team="ops")), key, at_machine=laptop)
        carl = lena.using(key)
        _sign_in(carl, idp, "u-carl")
        _test_run(carl, "v1", passed=True)
        result = _judge(lena)
        assert result.outcome is Outcome.FAIL, result.reason
        assert "carl's evidence came from a machine" in result.reason, result.reason
        assert "lena" in result.reason, result.reason
    finally:
        lena.close()


def test_a_workflow_the_lead_wrote_herself_is_checked_by_a_colleague(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """Nothing changes where the lead is the author: her own run publishes the version, and
    play 3's owner's rerun counts beside it, as a colleague's does."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _test_run(lena, "v1", passed=True)
        _test_run(omar, "v1", passed=True)
        result = _judge(lena)
        assert result.outcome is Outcome.PASS, result.reason
        assert result.reason.startswith("omar (not the author, lena) passed it"), result.reason
        _test_run(lena, "v2", passed=True)
        _test_run(vic, "v2", passed=True)
        result = _judge(lena)
        assert result.outcome is Outcome.PASS, result.reason
        assert result.reason.startswith("vic (not the author, lena) passed it"), result.reason
    finally:
        lena.close()
