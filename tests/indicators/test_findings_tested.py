"""findings-fed-back: a workflow version closes a finding only with a passing run of its own
beside it. A red team showed the lead alone answering a colleague's finding with a "version"
typed in with no run, or one whose own tests failed (what `inhouse workflow test --closes N`
records when they fail); both closed it before. A version that passed its own tests still
awaits someone other than its maker passing it (tests/indicators/test_findings_confirmed.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from inhouse.indicators.findings import open_finding
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact
from tests.conftest import OTHER_COMPUTER, Clock
from tests.locks import HERE
from tests.people import enrol

WF = "inhouse workflow test"


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    return evaluate("findings-fed-back", ctx)


def _spec(program: Program, content: str, *, closes: tuple[int, ...] = (), nonce: str = "") -> None:
    program.record_fact(None, "workflow.spec", {
        "workflow": "triage", "content_hash": content * 64, "author": "x", "model": "m0",
        "model_digest": "sha256:" + "0" * 64, "closes": list(closes), "nonce": nonce,
    }, provenance=Provenance.MEASURED, collector=WF)  # fmt: skip


def _world(
    request: pytest.FixtureRequest, folder: Path, clock: Clock
) -> tuple[Program, Program, Program, Fact]:
    lena = Program.init(folder, "Acme", "lena", clock=clock)
    request.addfinalizer(lena.close)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    pia = enrol(lena, "pia", team="sales")
    # omar published v1 of the workflow honestly (spec beside its passing run)
    _spec(omar, "a", nonce="n1")
    omar.record_fact(None, "workflow.run", {
        "workflow": "triage", "content_hash": "a" * 64, "lock_hash": "", "passed": True,
        "pass_rate": 1.0, "cases": 3, "spec": "n1", **HERE}, provenance=Provenance.MEASURED,
        collector=WF)  # fmt: skip
    clock.advance(hours=1)
    # pia's honest finding, weeks before anything
    finding = open_finding(pia, "answers too long", target="workflow:triage", source="pilot")
    clock.advance(hours=1)
    return lena, omar, pia, finding


def test_a_spec_with_no_run_at_all_closes_a_colleagues_finding(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock
) -> None:
    lena, _, _, finding = _world(request, _isolated, clock)
    assert _judge(lena).outcome is Outcome.FAIL
    # lena alone types a workflow.spec of a version nobody ever ran (nonce names no run):
    # by published_specs it "publishes nothing", yet it closes pia's finding
    _spec(lena, "b", closes=(finding.id,), nonce="never-ran")
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason


def test_a_version_whose_own_tests_failed_closes_a_colleagues_finding(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, _, pia, finding = _world(request, _isolated, clock)
    # what `inhouse workflow test triage --closes N` records when the new version FAILS: the
    # spec and a failing run that names it
    _spec(lena, "c", closes=(finding.id,), nonce="n2")
    _run(lena, "c", "n2", passed=False)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    # the same version, run again and passing: a fix published, awaiting someone else's pass
    _run(lena, "c", "n2", passed=True)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than lena" in result.reason
    # pia passes it at her own laptop: fixed
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")
    _run(pia, "c", "", passed=True)
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert "opened by pia was answered by lena" in result.reason


def _run(program: Program, content: str, nonce: str, *, passed: bool) -> None:
    program.record_fact(None, "workflow.run", {
        "workflow": "triage", "content_hash": content * 64, "lock_hash": "", "passed": passed,
        "pass_rate": 1.0 if passed else 0.0, "cases": 3, "spec": nonce, **HERE},
        provenance=Provenance.MEASURED, collector=WF)  # fmt: skip
