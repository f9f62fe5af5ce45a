"""Review of the branches merged after 0abd25a: what the review found, pinned.

Play 3's current version (:func:`current_workflow`) is the latest version someone other than
its author passed. Rule 4 (``AUTHOR_MEASURED``) made ``workflow-run-by-other`` ask the author's
own measured pass beside another's, but the choice of version did not: a second workflow whose
author's one pass was answered by the writer's server was "proven", became play 3's version,
and the check then failed on it, hiding the first workflow that two people told apart had
passed. The version and the check now ask the same.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.program.evaluation import context_for
from inhouse.program.facts import Fact
from inhouse.program.playchecks._shared import current_workflow
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.runner import record_test_facts
from tests.conftest import Clock
from tests.locks import AT_ZERO
from tests.people import at_own_machine
from tests.test_engine import DIGEST, LOCK
from tests.test_outsider import clock  # noqa: F401
from tests.test_redteam23 import HER_SERVER
from tests.test_sign_in import _judge
from tests.workflows.test_author_flip import _play_three


def _test_run(program: Program, name: str, *, answered_by: str = "127.0.0.1") -> list[Fact]:
    """What a passing `inhouse workflow test NAME` records, through the runner's own code."""
    workflow = SimpleNamespace(name=name, content_hash=f"{name}-v1", run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=LOCK),
        url=f"http://{answered_by}:8080",
        peers=frozenset({answered_by}),
        test_model=False,
    )
    report = SimpleNamespace(passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default",
                             proved=3, untested=[], inputs=3)  # fmt: skip
    with at_own_machine(program):
        return record_test_facts(
            program, program.whoami().name, workflow, pinned, report, seed=AT_ZERO
        )  # type: ignore[arg-type]


def test_a_later_workflow_without_its_author_s_measured_pass_does_not_hide_a_proven_one(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """omar writes triage and passes it on his laptop; vic reruns it on his: play 3's rerun by
    another holds. Then lena has omar run her `digest` checkout once, answered by her server,
    and vic passes it (her own pass is no one else's: exit rule 20): digest's author has no
    measured pass, so it is proven by nobody, and play 3 stays judged on triage, passing."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _test_run(omar, "triage")
        _test_run(vic, "triage")
        assert _judge(lena, "workflow", "workflow-run-by-other").outcome is Outcome.PASS
        _test_run(omar, "digest", answered_by=HER_SERVER)
        _test_run(vic, "digest")
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
        assert "vic (not the author, omar) passed it" in result.reason, result.reason
        assert result.evidence[0].payload["workflow"] == "triage"
        # once omar measures digest himself, digest (the later) is play 3's version
        _test_run(omar, "digest")
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
        assert "vic (not the author, omar) passed it" in result.reason, result.reason
        assert result.evidence[0].payload["workflow"] == "digest"
    finally:
        lena.close()


def test_play_three_s_version_is_the_one_its_check_passes(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """The same, asked of the version itself: the dashboard and `inhouse workflow` show it."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _test_run(omar, "triage")
        _test_run(vic, "triage")
        _test_run(omar, "digest", answered_by=HER_SERVER)
        _test_run(lena, "digest")
        ctx = context_for(lena.state(), lena.clock())
        spec = current_workflow(ctx)
        assert spec is not None and spec.payload["workflow"] == "triage", spec
    finally:
        lena.close()
