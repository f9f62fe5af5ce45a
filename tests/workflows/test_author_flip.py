"""A workflow version's author is whoever's `inhouse workflow test` first recorded its spec,
pass or fail. Found by a red-team pass, two ways that went wrong:

(a) a colleague whose run of omar's workflow failed became its author, and omar's own passing
    run (his word, from his machine) then counted as "someone other than the author passed":
    now the author's own pass must stand beside the other's;
(b) a first spec signed by a key that never counts (a machine never signed in, later revoked)
    kept the runner from recording another, so an honest play 3 said "no workflow defined":
    the runner now looks among the facts that count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from inhouse.identity import SigningKey
from inhouse.program import Program
from inhouse.program.checks import Outcome
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.runner import record_test_facts
from tests.conftest import Clock
from tests.people import enrol
from tests.test_engine import DIGEST, LOCK, lock_baseline, measured, through_play_one
from tests.test_sign_in import _judge, _sign_in


@pytest.fixture
def idp(clock: Clock) -> Iterator[StandinIdP]:
    with StandinIdP(clock=clock) as provider:
        yield provider


def _play_three(_isolated: Path, clock: Clock, idp: StandinIdP) -> dict[str, Program]:
    lena = Program.init(_isolated, "Acme", "lena", team="platform", clock=clock)
    lena.change_roles(None, "lena", add=["play-owner"])
    lena.set_up_sign_in(idp.issuer, "inhouse")
    _sign_in(lena, idp, "u-lena")
    through_play_one(lena)
    vic = enrol(lena, "vic", team="ops")
    _sign_in(vic, idp, "u-vic")
    vic.request_access(reason="I want the triage model")
    lena.start_play(None, 2)
    lock_baseline(lena)
    measured(vic, "baseline.verify", lock_hash=LOCK, passed=True)
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    _sign_in(omar, idp, "u-omar")
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2)
    measured(omar, "task.named", task="triage", frequency="daily")
    omar.start_play(None, 3)
    return {"lena": lena, "omar": omar, "vic": vic}


def _test_run(program: Program, version: str, *, passed: bool) -> None:
    """What `inhouse workflow test triage` records, through the runner's own recording code."""
    workflow = SimpleNamespace(name="triage", content_hash=version)
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=LOCK),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),  # what answered the run: this machine
    )
    report = SimpleNamespace(
        passed=passed, pass_rate=1.0 if passed else 0.0, judged=[1, 2, 3], variant="default"
    )
    record_test_facts(program, program.whoami().name, workflow, pinned, report)  # type: ignore[arg-type]


def test_a_colleagues_failing_first_run_does_not_make_the_authors_pass_someone_elses(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    # omar wrote triage v1 and put it in git; vic tries it first, on his laptop: it FAILS
    _test_run(vic, "v1", passed=False)
    # omar runs it on his own laptop (or records the run by hand: the runner's word): passes
    _test_run(omar, "v1", passed=True)
    result = _judge(omar, "workflow", "workflow-run-by-other")
    assert result.outcome is Outcome.FAIL
    assert "vic, who published this version, has no passing run of it" in result.reason
    # vic passes too: two people told apart passed the same version
    _test_run(vic, "v1", passed=True)
    assert _judge(omar, "workflow", "workflow-run-by-other").outcome is Outcome.PASS
    cast["lena"].close()


def test_an_uncounted_first_spec_leaves_no_honest_play_three_without_a_workflow(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    # omar's first test ran on his desktop, whose key he had not signed in yet; the desktop
    # is then wiped and its key revoked (it never signed in): what it signed no longer counts
    text = omar.invite("omar")
    desktop = SigningKey.generate()
    omar.join(str(text), desktop, at_machine="omar-desktop")
    _test_run(omar.using(desktop), "v1", passed=True)
    omar.revoke_key(desktop.key_id)
    # then omar on his laptop and vic on his both pass v1, honestly
    _test_run(omar, "v1", passed=True)
    _test_run(vic, "v1", passed=True)
    for check in ("workflow-tests-pass", "workflow-run-by-other"):
        result = _judge(omar, "workflow", check)
        assert result.outcome is Outcome.PASS, result.reason
    cast["lena"].close()
