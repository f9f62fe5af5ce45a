"""findings-fed-back judges a colleague's confirming run or verify as plays 2 and 3 judge a
second person's (review56). The last session had ``workflow.run`` name the inhouse that ran it
and whether the project's test model answered it, and play 3 refuse a rerun by a build from a
folder or URL (``unpinned_build``) or one on the test model outside a demo (``on_test_model``);
play 2 refused such a verify already. Play 6's confirmation of a fix reads the same facts and
asked neither: omar hands pia a build of his branch (``pip install ./omar-branch``), her
"passing run" of his cosmetic workflow version, judged by his runner, closed her finding, and
so did her verify of his re-lock; and a run on random weights confirmed a workflow fix. Each now
confirms nothing, saying why; the release from a package index on a real model still closes the
finding, and a play 6 that exited keeps what it was judged on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import inhouse
from inhouse.baseline import verify as verify_module
from inhouse.indicators.findings import open_finding
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.workflows.runner import record_test_facts
from tests.conftest import OTHER_COMPUTER, Clock
from tests.indicators.conftest import judge_findings as _judge
from tests.indicators.test_findings_confirmed import _lock, _state, _test_run
from tests.indicators.test_findings_served_elsewhere import _exited, _published
from tests.locks import AT_ZERO, DIGEST, HERE, lock_payload

HIS_BRANCH = "file:///home/omar/inhouse-branch"
BUILT = {"version": inhouse.__version__, "installed_from": "url", "url": HIS_BRANCH}
INDEX = {"version": inhouse.__version__, "installed_from": "index"}


def _from(monkeypatch: pytest.MonkeyPatch, origin: dict[str, str]) -> None:
    """The inhouse that records the next run: ``origin`` as ``inhouse_origin`` finds it."""
    monkeypatch.setattr(verify_module, "inhouse_origin", lambda: dict(origin))


def test_a_run_by_a_build_from_his_branch_confirms_no_workflow_fix(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, pia = cast["lena"], cast["pia"]
    finding = _published(cast, clock, monkeypatch)
    _from(monkeypatch, BUILT)
    _test_run(pia, "b")  # on her laptop, her own runtime: only the inhouse is his
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "awaiting confirmation by someone other than omar" in result.reason
    assert f"the inhouse that ran it was installed from {HIS_BRANCH}" in result.reason
    assert _state(lena, finding).startswith("fix published, awaiting confirmation")
    # a play 6 that exited on it keeps it
    assert _exited(lena).outcome is Outcome.PASS
    # her run with the release a package index serves closes it
    _from(monkeypatch, INDEX)
    _test_run(pia, "b")
    assert _judge(lena).outcome is Outcome.PASS
    assert _state(lena, finding) == "closed"


def test_a_run_on_the_test_model_confirms_no_workflow_fix(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, pia = cast["lena"], cast["pia"]
    finding = _published(cast, clock, monkeypatch)
    workflow = SimpleNamespace(name="triage", content_hash="b" * 64, run_hash="b", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=""),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),
        test_model=True,  # her runtime served the project's test model
    )
    report = SimpleNamespace(
        passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default", proved=3, untested=[],
        inputs=3,
    )  # fmt: skip
    record_test_facts(pia, "pia", workflow, pinned, report, seed=AT_ZERO)  # type: ignore[arg-type]
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "was answered by the project's test model" in result.reason
    assert _state(lena, finding).startswith("fix published, awaiting confirmation")
    assert _exited(lena).outcome is Outcome.PASS
    _test_run(pia, "b")  # a real model
    assert _judge(lena).outcome is Outcome.PASS


def test_a_verify_by_a_build_from_his_branch_confirms_no_relock(
    cast: dict[str, Program], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lena, omar, pia = cast["lena"], cast["omar"], cast["pia"]
    _lock(lena, lock_payload("lena"))
    clock.advance(hours=1)
    finding = open_finding(pia, "answers quote e-mail addresses", target="baseline")
    clock.advance(hours=1)
    relock = lock_payload("lena", rules_hash="s" * 12)
    _lock(omar, {**relock, "closes": [finding.id]})
    monkeypatch.setenv(OTHER_COMPUTER, "pia-laptop")

    def verify(origin: dict[str, str]) -> None:
        pia.record_fact(None, "baseline.verify", {
            "lock_hash": relock["lock_hash"], "passed": True, "machine": "pia-laptop",
            "models": [{"name": "m", "digest": DIGEST}], **HERE, "inhouse": origin},
            provenance=Provenance.MEASURED, collector="inhouse baseline verify")  # fmt: skip

    verify(BUILT)
    result = _judge(lena)
    assert result.outcome is Outcome.FAIL, result.reason
    assert f"the inhouse that ran it was installed from {HIS_BRANCH}" in result.reason
    assert _state(lena, finding).startswith("fix published, awaiting confirmation")
    assert _exited(lena).outcome is Outcome.PASS
    verify(INDEX)
    assert _judge(lena).outcome is Outcome.PASS
    assert _state(lena, finding) == "closed"
