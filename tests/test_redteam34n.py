"""Red team of plays 3 and 4 (rt34n): lena, the rollout lead, alone, with one favour from omar,
a real colleague who will run one command once without seeing what it covers.

The cast of tests/workflows/test_author_flip.py: lena leads the program and writes the triage
workflow, omar owns play 3, vic is a real colleague; each signed in with their own account.

What the walk found: a workflow version's author is whoever's `inhouse workflow test` first
recorded it, and rule 4 (``AUTHOR_MEASURED``) asks that author's own pass, measured on their
machine by the release, to stand beside anyone else's. The project's test model (random
weights, a few hundred KB) counted as such a measure. lena asks omar for a smoke test of her
checkout while the program's first lock still blessed the test model ("it just checks the
plumbing"): his run passes on random weights, on his laptop, by the release, and makes him
the author. She locks the real weights and passes the version on her own laptop: "lena (not
the author, omar) passed it", though nobody but its writer ever ran it on a model that says
anything of the workflow. Every check that reads a run as a measure of its workflow sets
aside one the test model answered outside a demo (:func:`on_test_model`), or one no case of
which needed the model (:func:`hollow_tests`: weights that answer nothing right, a low pass
rate); the author's pass that lets another's count now does too (exit rule 14,
``AUTHOR_REAL_MODEL``: a play 3 that exited on such a pass under the rules before keeps its
exit). Her own pass no longer counts as anyone else's at all (exit rule 20, ``LEAD_RERUN``:
tests/test_redteam_lead_rerun.py); the walks below have vic, a colleague who is no lead, pass
it on his laptop instead: omar's favour still makes nobody's pass "someone else's" beside it.

The same favour with an older release of inhouse, whose runs do not say where they were
answered (its runtime her server), is closed by the same rule: an author's pass that does not
say where it was answered, or whether the test model answered it, counts for nothing
(:func:`~inhouse.program.playchecks._shared.unsaid_model`).

Play 4 (tried, nothing new found that one person passes alone): every member's count rests on
an act signed with that member's own key (their team, their track's completion, their
confirmed days meeting the report's terms, their survey answer), and the rest is the known
limits (a member's gateway key is a bearer secret; a colleague joining on a box of hers).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from inhouse.program import Program
from inhouse.program.checks import AUTHOR_REAL_MODEL, Outcome
from inhouse.program.facts import Fact
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.runner import record_test_facts
from tests.conftest import Clock
from tests.locks import AT_ZERO
from tests.people import at_own_machine
from tests.test_engine import DIGEST, LOCK
from tests.test_outsider import clock  # noqa: F401
from tests.test_sign_in import _judge
from tests.workflows.test_author_flip import _play_three

#: the program's first lock, which blessed the project's test model (a dry run of the plumbing)
DRY_RUN_LOCK = "sha256:" + "d" * 64


def _run_on(
    program: Program,
    *,
    test_model: bool = False,
    lock_hash: str = LOCK,
    version: str = "v1",
    proved: int = 3,
) -> list[Fact]:
    """What a passing `inhouse workflow test triage` (of ``version``) records, through the
    runner's own recording code, answered on its runner's own loopback."""
    workflow = SimpleNamespace(name="triage", content_hash=version, run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=lock_hash),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),
        test_model=test_model,
    )
    report = SimpleNamespace(passed=True, pass_rate=1.0 if proved else 0.5, judged=[1, 2, 3, 4],
                             variant="default", proved=proved, untested=[], inputs=4)  # fmt: skip
    with at_own_machine(program):
        return record_test_facts(
            program, program.whoami().name, workflow, pinned, report, seed=AT_ZERO
        )  # type: ignore[arg-type]


def _smoke_test(program: Program, version: str = "v1") -> list[Fact]:
    """omar's favour: a passing `inhouse workflow test triage` on his laptop, by the release,
    answered by his own loopback runtime serving the project's test model (what the runner
    records where the lock of the day blessed it)."""
    return _run_on(program, test_model=True, lock_hash=DRY_RUN_LOCK, version=version)


def test_a_colleague_s_smoke_test_on_the_test_model_does_not_make_her_pass_someone_else_s(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _smoke_test(omar)
        assert [f.by for f in omar.state().facts if f.kind == "workflow.spec"] == ["omar"]
        _run_on(vic)  # her own pass, on her laptop, on the real weights of the current lock
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
        assert (
            "omar, who published this version, has no passing run of it that measured it on "
            "their own machine (" in result.reason
        ), result.reason
        assert "test model" in result.reason, result.reason
        assert "only vic passed it" in result.reason, result.reason
        # the honest path: omar runs it on a real model, on his laptop: it counts
        _run_on(omar)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
        assert "vic (not the author, omar) passed it" in result.reason, result.reason
    finally:
        lena.close()


def test_a_colleague_s_pass_that_needed_no_model_does_not_make_her_pass_someone_else_s(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
) -> None:
    """The same favour on weights that answer nothing right (a small model the lock of the day
    blessed): every case that needs the model fails on omar's laptop, and the spec's low pass
    rate lets the cases any answer passes carry it. His pass tested nothing, and makes him the
    author all the same; it no longer stands beside hers."""
    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        _run_on(omar, lock_hash=DRY_RUN_LOCK, proved=0)
        _run_on(vic)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
        assert "omar, who published this version, has no passing run of it that measured" in (
            result.reason
        ), result.reason
        assert "its tests do not need the model" in result.reason, result.reason
    finally:
        lena.close()


def test_a_play_three_that_exited_on_such_a_pass_keeps_its_exit(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A play 3 accepted by an inhouse from before the rule (its exit says rules 13), on vic's
    pass beside omar's smoke test on the test model, keeps its exit; a version published since
    is judged by today's rule."""
    from inhouse.program import engine, handoffs, people, waivers
    from inhouse.program.playchecks import _shared
    from inhouse.workflows.runner import RUN_BY_OTHER, exit_check

    with monkeypatch.context() as older:
        for module in (engine, handoffs, people, waivers):
            older.setattr(module, "EXIT_RULES", AUTHOR_REAL_MODEL - 1)
        older.setattr(_shared, "author_unanswered", _shared.author_unmeasured)  # no rule 14 yet
        cast = _play_three(_isolated, clock, idp)
        lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
        _smoke_test(omar)
        _run_on(vic)
        omar.offer_handoff(None, 3, to="lena")
        lena.accept_handoff(None, 3)
    try:
        kept = exit_check(omar, RUN_BY_OTHER)
        assert kept is not None and kept.outcome == "pass", kept
        assert "vic (not the author, omar) passed it" in kept.reason, kept.reason
        assert [play["state"] for play in lena.status()["plays"]][:3] == ["exited"] * 3
        # a version published since, the same way: judged by today's rule
        _smoke_test(omar, version="v2")
        _run_on(vic, version="v2")
        since = _judge(lena, "workflow", "workflow-run-by-other")
        assert since.outcome is Outcome.FAIL, since.reason
        assert "test model" in since.reason, since.reason
    finally:
        lena.close()


def test_a_colleague_s_pass_by_an_older_release_on_her_server_does_not_make_hers_someone_else_s(
    _isolated: Path,
    clock: Clock,  # noqa: F811
    idp: StandinIdP,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from inhouse.workflows import runner

    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]
    try:
        with monkeypatch.context() as older:
            older.setattr(runner, "answered_here", lambda peers: None)  # it did not say
            _run_on(omar)
        assert [f.payload.get("runtime_local") for f in omar.state().facts
                if f.kind == "workflow.run"] == [None]  # fmt: skip
        _run_on(vic)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL, result.reason
    finally:
        lena.close()
