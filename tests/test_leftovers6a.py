"""leftovers6a: what the last session left open.

* A run the project's test model answered (random weights) counted for play 4's ``ran-workflow``
  step and play 6's confirmation of a workflow version, though play 3 refuses it outside a
  demo: now both refuse it there too, saying why, by play 3's own rule
  (``_shared.on_test_model``), sparing what their own play's exit was judged on.
* ``indicators-reported`` spared every report by play 6's exit mark, and ``findings-fed-back``
  every change and confirmation by it: now only what the exit was judged on
  (``CheckContext.spared``), as the other checks do."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from inhouse.program import Program
from inhouse.program.checks import CheckContext, Outcome, Result, evaluate
from inhouse.program.evaluation import context_for, run_checks
from inhouse.program.facts import Fact, FactSet
from tests.conftest import Clock
from tests.indicators.test_reported_forgery import _typed_span, _usage, lena  # noqa: F401
from tests.locks import HERE, JUDGED
from tests.test_exit_scope import NOW, context, fact, lead_and_owner, person

# -- play 4: a member's ran-workflow step ----------------------------------------------------------

#: a track of two measured steps: a first request the gateway signed, and a passing run of
#: the triage workflow (the step under test)
RAN = [{"id": "first", "type": "first-answered-request", "rests_on": ["usage.daily"],
        "params": {}},
       {"id": "ran", "type": "ran-workflow", "rests_on": ["workflow.run"],
        "params": {"workflow": "triage"}}]  # fmt: skip


def _member_ran(test_model: bool | None) -> tuple[CheckContext, Fact]:
    """p0 in the pilot on a track of a first request and a passing run of triage; their run (the
    test model answered it, or not, or recorded before runs said) and their step and
    completion resting on it. Nobody exited."""
    people = {**lead_and_owner(), "p0": person("p0", "team0", "pilot-user")}
    member = fact("pilot.member", person="p0", track="support", team="team0", steps=RAN)
    said = {} if test_model is None else {"test_model": test_model}
    judged = {k: v for k, v in JUDGED.items() if k != "test_model"}
    run = fact("workflow.run", by="p0", workflow="triage", content_hash="v1", passed=True,
               pass_rate=1.0, cases=2, inputs=2, **judged, **HERE, **said)  # fmt: skip
    step = fact("enablement.step", by="p0", person="p0", track="support", step="ran",
                how="passing run", evidence=[run.id])  # fmt: skip
    day = fact("usage.daily", by="gateway", day=NOW.date().isoformat(),
               people={"p0": {"requests": 1, "own": 1}})  # fmt: skip
    first = fact("enablement.step", by="p0", person="p0", track="support", step="first",
                 how="first request", evidence=[day.id])  # fmt: skip
    done = fact("enablement.completed", by="p0", person="p0", track="support",
                steps=["first", "ran"])  # fmt: skip
    return context([member, run, step, day, first, done], people, {}), run


def test_pilot_enabled_refuses_a_step_resting_on_a_run_the_test_model_answered() -> None:
    """The forgery: a member runs the workflow on the project's test model (random weights:
    the run shows them nothing of it) and records their step on it. Outside a demo it is not
    borne out, saying why; a demo program counts it; a run on a real model, or one recorded
    before runs said which model answered, counts as before."""
    ctx, run = _member_ran(test_model=True)
    result = evaluate("pilot-enabled", ctx)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"rests on workflow.run #{run.id}, but p0's run (fact #{run.id}) was answered by " \
        "the project's test model (random weights)" in result.reason  # fmt: skip
    assert "only a demo program accepts the test model" in result.reason
    demo = evaluate("pilot-enabled", replace(ctx, demo=True))
    assert demo.outcome is Outcome.PASS, demo.reason
    for said in (False, None):
        honest = evaluate("pilot-enabled", _member_ran(test_model=said)[0])
        assert honest.outcome is Outcome.PASS, (said, honest.reason)


def test_pilot_enabled_keeps_a_step_on_the_test_model_play_4_exited_on() -> None:
    """The upgrade: play 4 exited on the step (before such runs were set aside): the exit keeps
    its pass, on the same evidence. An exit not judged on that run spares nothing."""
    ctx, run = _member_ran(test_model=True)
    last = max(f.id for f in ctx.facts)
    judged = frozenset(f.id for f in ctx.facts)
    exited = {"pilot": (NOW, last)}
    kept = evaluate("pilot-enabled", replace(ctx, exited=exited, judged={"pilot": judged}))
    assert kept.outcome is Outcome.PASS, kept.reason
    left_out = replace(ctx, exited=exited, judged={"pilot": judged - {run.id}})
    assert evaluate("pilot-enabled", left_out).outcome is Outcome.FAIL


def test_a_ran_workflow_step_on_the_test_model_is_met_only_in_a_demo(
    tmp_path: Path, clock: Clock
) -> None:
    """`inhouse pilot enablement` (the step type itself) sets aside a run the test model
    answered outside a demo, saying why, and `pilot step done` cannot record it; in a demo
    program the same run meets the step."""
    from inhouse.errors import InvalidInput
    from inhouse.pilot.enablement import progress, step_done
    from inhouse.pilot.roster import add_member
    from inhouse.program import Provenance
    from tests.pilot.world import make_world

    def ran(program: Program) -> None:
        payload = {
            "workflow": "ticket-summary",
            "content_hash": "sha256:0123456789",
            "passed": True,
            "pass_rate": 1.0,
            "cases": 1,
            "test_model": True,
            **HERE,
        }
        program.record_fact(None, "workflow.run", payload, provenance=Provenance.MEASURED,
                            collector="inhouse workflow test")  # fmt: skip

    for demo in (False, True):
        folder = tmp_path / ("demo" if demo else "real")
        folder.mkdir()
        world = make_world(folder, clock, demo=demo)
        world.waive()
        bob = world.enrol("bob", "support")
        add_member(world.lead, "bob", track="support")
        ran(bob)
        step = next(s for s in progress(world.lead, "bob")[0].steps
                    if s.id == "summarise-a-ticket")  # fmt: skip
        if demo:
            assert step.met, step.detail
            continue
        assert not step.met
        assert "was answered by the project's test model (random weights)" in step.detail
        with pytest.raises(InvalidInput):
            step_done(bob, "summarise-a-ticket")


# -- play 6: a workflow version's confirmation -----------------------------------------------------


def _confirmed(test_model: bool, **changes: Any) -> tuple[Result, Fact]:
    """zoe's finding on triage, omar's version v2 closing it (with his own passing run), and
    zoe's passing run of v2 (``test_model``: the project's test model answered it)."""
    from tests.test_playchecks import ROSTER, _finding, _rerun, _tested, _workflow, signed_in
    from tests.test_playchecks import person as roster_person

    people = {**ROSTER, "zoe": roster_person("zoe", "sales")}
    v1 = _workflow("a", at=NOW - timedelta(days=30))
    finding = _finding("workflow:triage")
    v2 = _workflow("b", closes=(finding.id,))
    rerun = _rerun(v2)
    rerun = replace(rerun, payload={**rerun.payload, "test_model": test_model})
    facts = [v1, finding, v2, _tested(v2), rerun]
    ctx = CheckContext(
        facts=FactSet(facts), people=people, owners={"workflow": "omar"}, now=NOW,
        params={"period_days": 92}, machines={who: frozenset({f"{who}-laptop"}) for who in people},
        signed_in=signed_in(people), sign_in_issuer="https://login.acme.example",
    )  # fmt: skip
    if changes.pop("exited_on_it", False):
        changes["exited"] = {"measure": (NOW, rerun.id)}
        changes["judged"] = {"measure": frozenset(f.id for f in facts)}
    return evaluate("findings-fed-back", replace(ctx, **changes)), rerun


def test_a_workflow_version_confirmed_on_the_test_model_closes_no_finding() -> None:
    """The forgery: a colleague "confirms" the fix by running it on the project's test model,
    whose random answers show nothing of the version. Outside a demo it confirms nothing, and
    the finding says why; a demo program counts it, and so does a play 6 that exited on it."""
    result, rerun = _confirmed(test_model=True)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert f"workflow.run #{rerun.id}: zoe's run (fact #{rerun.id}) was answered by the " \
        "project's test model" in result.reason  # fmt: skip
    for kept in ({"demo": True}, {"exited_on_it": True}):
        again, _ = _confirmed(test_model=True, **kept)
        assert again.outcome is Outcome.PASS, (kept, again.reason)
    honest, _ = _confirmed(test_model=False)
    assert honest.outcome is Outcome.PASS and "confirmed by zoe's passing run" in honest.reason


# -- play 6: indicators-reported spares only the report its exit was judged on ---------------------


def test_indicators_reported_spares_only_the_report_play_6_exited_on(
    lena: Program,  # noqa: F811
) -> None:
    """The forgery: a one-day report (its reporter picking the day) recorded before play 6's
    exit, but not one the exit was judged on (it did not count then, say): by the exit's mark
    it was spared today's rule that a report covers a period. The exit spares only what it
    was judged on; an exit recorded before exits named their facts keeps the mark."""
    _usage(lena)
    _typed_span(lena, "2026-10-20", "2026-10-20", 6, 600, 60)
    mark = lena.state().head_seq
    usage = frozenset(f.id for f in lena.state().facts if f.kind == "usage.daily")
    by_mark = _indicators(lena, mark, None)  # the exit named no facts: every report by its mark
    assert by_mark.outcome is Outcome.PASS, by_mark.reason
    report = next(f for f in by_mark.evidence if f.kind == "indicators.report")
    judged_on = _indicators(lena, mark, usage | {report.id})
    assert judged_on.outcome is Outcome.PASS, judged_on.reason
    left_out = _indicators(lena, mark, usage)
    assert left_out.outcome is Outcome.FAIL, left_out.reason
    assert "covers 1 day" in left_out.reason and "at least 28" in left_out.reason


def _indicators(program: Program, mark: int, judged: frozenset[int] | None) -> Result:
    """indicators-reported as play 6's row shows it, play 6 having exited at event ``mark``,
    judged on the facts ``judged`` (None: an exit recorded before exits named them)."""
    refs = [r for r in program.playbook.play("measure").exit if r.check == "indicators-reported"]
    ctx = context_for(program.state(), program.clock())
    named = dict(ctx.judged)
    if judged is not None:
        named["measure"] = judged
    ctx = replace(ctx, exited={**ctx.exited, "measure": (program.clock(), mark)}, judged=named)
    (checked,) = run_checks(refs, ctx)
    return checked.result


def _carried(judged_on_it: bool) -> Result:
    """omar's version closing zoe's finding and zoe's confirming run, sealed on her machine
    200 days ago and carried in; play 6 exited after the run was recorded, judged on it (or on
    everything else)."""
    from tests.test_playchecks import ROSTER, _finding, _rerun, _tested, _workflow, signed_in
    from tests.test_playchecks import person as roster_person

    people = {**ROSTER, "zoe": roster_person("zoe", "sales")}
    v1 = _workflow("a", at=NOW - timedelta(days=30))
    finding = _finding("workflow:triage")
    v2 = _workflow("b", closes=(finding.id,))
    confirming = replace(_rerun(v2), imported=True, sealed_at=NOW - timedelta(days=200))
    facts = [v1, finding, v2, _tested(v2), confirming]
    judged = {f.id for f in facts} - (set() if judged_on_it else {confirming.id})
    ctx = CheckContext(
        facts=FactSet(facts), people=people, owners={"workflow": "omar"}, now=NOW,
        params={"period_days": 92}, machines={who: frozenset({f"{who}-laptop"}) for who in people},
        signed_in=signed_in(people), sign_in_issuer="https://login.acme.example",
        exited={"measure": (NOW - timedelta(days=1), confirming.id)},
        judged={"measure": frozenset(judged)},
    )  # fmt: skip
    return evaluate("findings-fed-back", ctx)


def test_findings_fed_back_spares_only_the_confirmation_play_6_exited_on() -> None:
    """The rules play 6 exited under (a confirmation dated by the log's time, not its seal)
    spared every fact up to the exit's mark: a run sealed months ago and carried in before the
    exit, which the exit was not judged on, confirmed the fix by the log's time. Only what the
    exit was judged on is spared."""
    kept = _carried(judged_on_it=True)
    assert kept.outcome is Outcome.PASS, kept.reason
    left_out = _carried(judged_on_it=False)
    assert left_out.outcome is Outcome.FAIL, left_out.reason
    assert "zoe sealed it on their machine on 2026-04-16" in left_out.reason
