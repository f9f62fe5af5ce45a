"""findings-fed-back: a colleague's run confirms a workflow version only when it was answered on
the colleague's own machine. A red team showed omar closing pia's finding with a cosmetic
workflow version although nobody but omar's own server ever answered it: pia ran `inhouse
workflow test` at her laptop, but the baseline's runtime she was pointed at was omar's, which
can answer anything (the checks' expected words included), so her "passing run" measured his
server, not the version. Play 3 already refuses such a run as someone else's rerun
(``workflow-run-by-other``: ``runtime_local`` is false); the feedback loop took it as the
confirmation that closes a finding.

Now a run whose answers came from another host confirms nothing, and the finding shows why;
the same run answered on her own machine still closes it, and a run recorded before runs said
where they were answered (no ``runtime_local``) still counts, as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from inhouse.indicators import findings
from inhouse.indicators.findings import open_finding
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome, Result, evaluate
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact
from inhouse.workflows.runner import COLLECTOR, record_test_facts
from tests.conftest import OTHER_COMPUTER, Clock
from tests.locks import DIGEST
from tests.people import enrol


@pytest.fixture
def cast(
    _isolated: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Program]]:
    """lena leads; omar builds (the closer judged); pia, on her own laptop, opens findings."""
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    omar = enrol(lena, "omar", team="platform", roles=["play-owner"])
    pia = enrol(lena, "pia", team="sales")
    monkeypatch.setenv(OTHER_COMPUTER, "omar-laptop")
    yield {"lena": lena, "omar": omar, "pia": pia}
    lena.close()


def _judge(program: Program) -> Result:
    ctx = context_for(program.state(), program.clock()).with_params({"period_days": 92})
    return evaluate("findings-fed-back", ctx)


def _state(program: Program, finding: Fact) -> str:
    return next(f.state for f in findings(program) if f.id == finding.id)


def _test_run(
    program: Program,
    version: str,
    *,
    url: str = "http://127.0.0.1:8080",
    peers: frozenset[str] = frozenset({"127.0.0.1"}),
    closes: tuple[int, ...] = (),
) -> list[Fact]:
    """What `inhouse workflow test triage [--closes N]` records, through the runner's own
    recording code, answered by the runtime at ``url`` from ``peers``."""
    workflow = SimpleNamespace(name="triage", content_hash=version * 64)
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=""),
        url=url,
        peers=peers,
    )
    report = SimpleNamespace(passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default")
    runner = program.whoami().name
    return record_test_facts(program, runner, workflow, pinned, report, closes=closes)  # type: ignore[arg-type]


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


def test_a_run_recorded_before_runs_said_where_they_were_answered_still_confirms_it(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older build's run names no runtime: the log cannot say, and it counts as it did."""
    lena, pia = cast["lena"], cast["pia"]
    finding = _published(cast, clock, monkeypatch)
    pia.record_fact(
        "pia",
        "workflow.run",
        {"workflow": "triage", "content_hash": "b" * 64, "lock_hash": "", "passed": True,
         "pass_rate": 1.0, "cases": 3, "machine": "pia-laptop"},
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )  # fmt: skip
    result = _judge(lena)
    assert result.outcome is Outcome.PASS, result.reason
    assert _state(lena, finding) == "closed"
