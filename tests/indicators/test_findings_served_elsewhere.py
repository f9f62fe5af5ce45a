"""findings-fed-back: a colleague's run confirms a workflow version only when it was answered on
the colleague's own machine. A red team showed omar closing pia's finding with a cosmetic
workflow version although nobody but omar's own server ever answered it: pia ran `inhouse
workflow test` at her laptop, but the baseline's runtime she was pointed at was omar's, which
can answer anything (the checks' expected words included), so her "passing run" measured his
server, not the version. Play 3 already refuses such a run as someone else's rerun
(``workflow-run-by-other``: ``runtime_local`` is false); the feedback loop took it as the
confirmation that closes a finding.

Now a run whose answers came from another host confirms nothing, and the finding shows why;
the same run answered on her own machine still closes it. A run or a ``baseline verify`` that
does not say where it was answered (no ``runtime_local``: an older inhouse made it, or one
typed through the Python API) confirms nothing either, as plays 2 and 3 refuse it
(``second-person-verified``, ``workflow-run-by-other``), the finding saying what to run; a
play 6 that exited keeps the rule it exited on."""

from __future__ import annotations

from dataclasses import replace

import pytest

from inhouse.indicators.findings import open_finding
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact
from inhouse.workflows.decoys import DECOYS
from inhouse.workflows.runner import COLLECTOR
from tests.conftest import OTHER_COMPUTER, Clock
from tests.indicators.conftest import judge_findings as _judge
from tests.indicators.test_findings_confirmed import _lock, _state, _test_run, _verify
from tests.locks import DIGEST, lock_payload


def _published(cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch) -> Fact:
    """pia's finding, and omar's cosmetic version that names it (his own tests passed)."""
    omar, pia = cast["omar"], cast["pia"]
    _test_run(omar, "a")
    clock.advance(hours=1)
    finding = open_finding(pia, "answers too long", target="workflow:triage", source="pilot")
    clock.advance(hours=1)
    _test_run(omar, "b", closes=(finding.id,))
    clock.advance(hours=1)
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    return finding


def test_a_run_answered_by_another_host_does_not_confirm_a_workflow_fix(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, pia = cast["lena"], cast["pia"]
    finding = _published(cast, clock, monkeypatch)
    # the forgery: pia's run at her laptop, every answer from omar's server
    _test_run(pia, "b", url="http://omar-box.example:8080", peers=frozenset({"203.0.113.7"}))
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert "answered by a runtime at http://omar-box.example:8080" in result.reason
    assert "(answers from 203.0.113.7), not on their machine" in result.reason
    assert _state(lena, finding).startswith("fix published, awaiting confirmation")
    # an answer over a connection that did not say where it went is no better
    _test_run(pia, "b", peers=frozenset({"unknown"}))
    assert _judge(lena).outcome is Outcome.FAIL


def test_a_run_answered_on_the_colleagues_own_machine_still_confirms_it(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, pia = cast["lena"], cast["pia"]
    finding = _published(cast, clock, monkeypatch)
    _test_run(pia, "b")  # her own runtime, on her laptop
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "confirmed by pia's passing run" in result.reason
    assert _state(lena, finding) == "closed"


def _exited(program: Program, mark: int | None = None) -> Result:
    """``findings-fed-back`` for a program whose play 6 (a custom playbook's) exited at event
    ``mark`` (default: after every fact so far)."""
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    mark = program.state().head_seq if mark is None else mark
    return evaluate(
        "findings-fed-back", replace(ctx, exited={**ctx.exited, "measure": (program.clock(), mark)})
    )


def test_a_run_that_does_not_say_where_it_was_answered_confirms_nothing(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older build's run (or one typed through the Python API) names no runtime: omar's
    server could have answered it. It confirms nothing, saying what to run; a play 6 that
    exited keeps counting it."""
    lena, pia = cast["lena"], cast["pia"]
    finding = _published(cast, clock, monkeypatch)
    before_run = lena.state().head_seq
    pia.record_fact(
        "pia",
        "workflow.run",
        {"workflow": "triage", "content_hash": "b" * 64, "lock_hash": "", "passed": True,
         "pass_rate": 1.0, "cases": 3, "machine": "pia-laptop",
         # judged on decoy answers, as the program's other runs (an older runner's is not)
         "proved": 3, "decoys": list(DECOYS)},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert "does not say where it was answered" in result.reason
    assert "run `inhouse workflow test triage` again" in result.reason
    assert _state(lena, finding).startswith("fix published, awaiting confirmation")
    assert _exited(lena).outcome is Outcome.PASS
    # a run recorded after play 6 exited is judged by today's rule
    since = _exited(lena, before_run)
    assert since.outcome is Outcome.FAIL and "does not say where it was answered" in since.reason
    # the same run by today's inhouse, answered on her laptop: closed
    _test_run(pia, "b")
    assert _judge(lena).outcome is Outcome.PASS
    assert _state(lena, finding) == "closed"


def test_a_verify_that_does_not_say_where_it_was_answered_confirms_no_relock(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same of a re-lock: pia's verify that names nowhere its runtime answered (or one
    answered from omar's host) confirms nothing, saying what to run; hers answered on her own
    machine does; a play 6 that exited keeps counting the older one."""
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(pia, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    relock = lock_payload("lena", rules_hash="s" * 12)
    _lock(omar, {**relock, "closes": [finding.id]})
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    before_verify = lena.state().head_seq
    _verify(pia, relock["lock_hash"], "pia-laptop", where=False)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert "does not say its runtime answered on their machine" in result.reason
    assert "run `inhouse baseline install` again" in result.reason
    assert _exited(lena).outcome is Outcome.PASS
    since = _exited(lena, before_verify)  # a verify recorded after play 6 exited: today's rule
    assert since.outcome is Outcome.FAIL and "does not say its runtime answered" in since.reason
    pia.record_fact(None, "baseline.verify", {
        "lock_hash": relock["lock_hash"], "passed": True, "machine": "pia-laptop",
        "models": [{"name": "m", "digest": DIGEST}], "runtime_local": False,
        "runtime_peers": ["203.0.113.7"]},
        provenance=Provenance.MEASURED, collector="inhouse baseline verify")  # fmt: skip
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "was answered from 203.0.113.7, not their machine" in result.reason
    _verify(pia, relock["lock_hash"], "pia-laptop")
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert _state(lena, finding) == "closed"
