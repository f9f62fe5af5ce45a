"""A workflow version's author is whoever's `inhouse workflow test` first recorded its spec,
pass or fail. Found by a red-team pass, two ways that went wrong:

(a) a colleague whose run of omar's workflow failed became its author, and omar's own passing
    run (his word, from his machine) then counted as "someone other than the author passed":
    now the author's own pass must stand beside the other's;
(b) a first spec signed by a key that never counts (a machine never signed in, later revoked)
    kept the runner from recording another, so an honest play 3 said "no workflow defined":
    the runner now looks among the facts that count;
(c) the guard of (a) rested on the colleague's failing run being in the log, and the runner
    wrote the spec and the run as two events: whoever hosts the store cut the run from the
    log's tail (or left its envelope out of an import) and kept the spec, so the colleague was
    the author with no failing run, and her own pass was "someone else's". Now the run names
    the spec recorded with it (its nonce), and a spec without its own run publishes nothing.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from inhouse.identity import SigningKey
from inhouse.location import DATA_DIR
from inhouse.program import Program, Provenance
from inhouse.program.checks import Outcome
from inhouse.program.events import EventKind
from inhouse.program.facts import Fact
from inhouse.testing.standin_idp import StandinIdP
from inhouse.workflows.runner import record_test_facts
from tests.conftest import OTHER_COMPUTER, Clock
from tests.locks import AT_ZERO
from tests.people import at_own_machine, enrol, forget_seen
from tests.test_engine import (
    DIGEST,
    HERE,
    LOCK,
    lock_baseline,
    measured,
    reproduce,
    through_play_one,
)
from tests.test_sign_in import _judge, _sign_in


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
    measured(vic, "baseline.verify", **HERE, lock_hash=LOCK, passed=True)
    reproduce(vic)
    omar = enrol(lena, "omar", team="support", roles=["play-owner"])
    _sign_in(omar, idp, "u-omar")
    lena.offer_handoff(None, 2, to="omar")
    omar.accept_handoff(None, 2)
    measured(omar, "task.named", task="triage", frequency="daily")
    omar.start_play(None, 3)
    return {"lena": lena, "omar": omar, "vic": vic}


def _test_run(program: Program, version: str, *, passed: bool) -> list[Fact]:
    """What `inhouse workflow test triage` records, through the runner's own recording code,
    on the machine its key was enrolled from (each person's own laptop: this process's own
    fingerprint is the lead's, whose first key was made here)."""
    workflow = SimpleNamespace(name="triage", content_hash=version, run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=LOCK),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),  # what answered the run: this machine
        test_model=False,
    )
    report = SimpleNamespace(
        passed=passed,
        pass_rate=1.0 if passed else 0.0,
        judged=[1, 2, 3],
        variant="default",
        proved=3,
        untested=[],
        inputs=3,
    )
    with at_own_machine(program):
        return record_test_facts(
            program, program.whoami().name, workflow, pinned, report, seed=AT_ZERO
        )  # type: ignore[arg-type]


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


def _cut_tail(program: Program, events: int) -> None:
    """What the store's host can do unnoticed but for an anchor kept elsewhere: delete the
    newest ``events`` events (the chain up to the new head still verifies)."""
    head = program.state().head_seq
    with program.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE seq > :s"), {"s": head - events})
    # and forgets, on her own machine, what it saw (vic's would name the cut: one home here)
    forget_seen(program)


def test_a_colleagues_spec_whose_failing_run_was_cut_makes_nobody_the_author(
    _isolated: Path, clock: Clock, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    cast = _play_three(_isolated, clock, idp)
    lena, vic = cast["lena"], cast["vic"]
    # lena wrote triage v1 and asks vic to try it first: his run fails, after his spec
    _test_run(vic, "v1", passed=False)
    # lena hosts the store: she drops vic's failing run, the newest event, and keeps his spec
    _cut_tail(lena, 1)
    key, vic_key = lena.key, vic.key
    lena.close()
    lena = Program.open(_isolated, key=key, clock=clock)
    try:
        assert lena.state().tampered is None
        assert [f.kind for f in lena.state().facts][-1] == "workflow.spec"
        # lena's pass recorded by hand, beside vic's spec: vic's spec has no run of its own,
        # so it names no author, and lena's pass is nobody's "someone else's"
        lena.record_fact(
            None,
            "workflow.run",
            {"workflow": "triage", "content_hash": "v1", "lock_hash": LOCK, "passed": True,
             "pass_rate": 1.0, "machine": "lena-laptop", "runtime_local": True},
            provenance=Provenance.MEASURED,
            collector="inhouse workflow test",
        )  # fmt: skip
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL
        assert "nobody has published workflow triage version v1: vic's workflow.spec" in (
            result.reason
        )
        # lena runs `inhouse workflow test` herself: vic's spec published nothing, so her run
        # publishes the version, and she is its author
        recorded = _test_run(lena, "v1", passed=True)
        assert [(f.kind, f.by) for f in recorded] == [
            ("workflow.spec", "lena"),
            ("workflow.run", "lena"),
        ]
        assert _judge(lena, "workflow", "workflow-tests-pass").outcome is Outcome.PASS
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.FAIL
        assert "anyone but its author (lena, who published this version)" in result.reason
        # the honest end: vic, told apart from lena, passes her version on his own laptop
        monkeypatch.setenv(OTHER_COMPUTER, "vic-laptop")
        _test_run(lena.using(vic_key), "v1", passed=True)
        result = _judge(lena, "workflow", "workflow-run-by-other")
        assert result.outcome is Outcome.PASS, result.reason
        assert result.reason.startswith("vic (not the author, lena) passed it")
    finally:
        lena.close()


def test_a_spec_imported_without_the_run_recorded_with_it_makes_nobody_the_author(
    request: pytest.FixtureRequest, _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """vic tests lena's workflow in a copy of the log that grew apart (his laptop's), and
    carries his facts over as envelopes; lena, importing, leaves his failing run out: his spec
    makes no one the author. Imported with its run, it makes vic the author, and the guard of
    (a) holds."""
    cast = _play_three(_isolated, clock, idp)
    lena, vic = cast["lena"], cast["vic"]
    request.addfinalizer(lena.close)
    laptop = _isolated / "laptop"
    laptop.mkdir()
    shutil.copy(_isolated / "inhouse.toml", laptop / "inhouse.toml")
    shutil.copytree(_isolated / DATA_DIR, laptop / DATA_DIR)
    on_laptop = Program.open(laptop, key=vic.key, clock=clock)
    request.addfinalizer(on_laptop.close)
    _test_run(on_laptop, "v1", passed=False)
    spec, run = on_laptop.export_evidence(["workflow.spec", "workflow.run"])
    [line] = lena.import_evidence([spec], source="vic.json")
    assert "workflow.spec by vic" in line
    _test_run(cast["omar"], "v1", passed=True)
    result = _judge(lena, "workflow", "workflow-run-by-other")
    assert result.outcome is Outcome.FAIL
    assert "anyone but its author (omar, who published this version)" in result.reason
    # the run imported after all: vic's spec stands beside it and was first, so vic is the
    # author, whose own runs all failed; omar's pass is not someone else's beside that
    [line] = lena.import_evidence([run], source="vic.json")
    assert "workflow.run by vic" in line
    result = _judge(lena, "workflow", "workflow-run-by-other")
    assert result.outcome is Outcome.FAIL
    assert "vic, who published this version, has no passing run of it" in result.reason


def test_the_authors_run_names_its_spec_and_a_rerun_names_none(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """The honest path: omar publishes v1 with his own run; vic's rerun records no spec."""
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    spec, run = _test_run(omar, "v1", passed=True)
    assert (spec.kind, run.kind) == ("workflow.spec", "workflow.run")
    assert run.payload["spec"] == spec.payload["nonce"] != ""
    [rerun] = _test_run(vic, "v1", passed=True)
    assert rerun.kind == "workflow.run" and rerun.payload["spec"] == ""
    result = _judge(omar, "workflow", "workflow-run-by-other")
    assert result.outcome is Outcome.PASS
    assert result.reason.startswith("vic (not the author, omar) passed it")
    cast["lena"].close()


def test_a_spec_recorded_before_runs_named_their_spec_counts_alone(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """A log from before: a spec with no nonce publishes its version as it did, run or not
    (such a log cannot tell a dropped run from none)."""
    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    omar.record_fact(
        None,
        "workflow.spec",
        {"workflow": "triage", "content_hash": "v1", "author": "omar", "model": "m0",
         "model_digest": DIGEST},
        provenance=Provenance.MEASURED,
        collector="inhouse workflow test",
    )  # fmt: skip
    assert _test_run(vic, "v1", passed=True)[0].kind == "workflow.run"  # no new spec
    result = _judge(omar, "workflow", "workflow-run-by-other")
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("vic (not the author, omar) passed it")
    cast["lena"].close()


def test_a_run_appended_without_its_workflow_takes_no_later_test_down(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """A member appends a ``workflow.run`` naming a spec but no workflow, around the API (the
    fold checks signatures, not shapes): everyone's later `workflow test` still records."""
    cast = _play_three(_isolated, clock, idp)
    lena, vic = cast["lena"], cast["vic"]
    try:
        vic._append(EventKind.FACT_RECORDED, "vic",
                    {"kind": "workflow.run", "version": 1,
                     "payload": {"spec": "x", "content_hash": "v1", "passed": False},
                     "provenance": Provenance.MEASURED.value,
                     "collector": "inhouse workflow test"})  # fmt: skip
        assert lena.state().tampered is None
        _test_run(cast["omar"], "v1", passed=True)
        assert [f.by for f in lena.state().facts if f.kind == "workflow.run"][-1] == "omar"
    finally:
        lena.close()


def test_the_exit_line_of_workflow_test_names_the_workflow_play_three_judges(
    _isolated: Path, clock: Clock, idp: StandinIdP
) -> None:
    """With several workflows, the play 3 exit that `inhouse workflow test` reports after a run
    may judge another one than the one just tested: it names the one it judged."""
    from inhouse.workflows.runner import RUN_BY_OTHER, exit_check

    cast = _play_three(_isolated, clock, idp)
    omar, vic = cast["omar"], cast["vic"]
    _test_run(omar, "v1", passed=True)
    _test_run(vic, "v1", passed=True)  # triage: passed by someone other than its author
    workflow = SimpleNamespace(name="intake", content_hash="i1", run_hash="", hashed="")
    pinned = SimpleNamespace(
        model=SimpleNamespace(name="m0", digest=DIGEST),
        lock=SimpleNamespace(lock_hash=LOCK),
        url="http://127.0.0.1:8080",
        peers=frozenset({"127.0.0.1"}),
        test_model=False,
    )
    report = SimpleNamespace(
        passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default", proved=3,
        untested=[], inputs=3,
    )  # fmt: skip
    record_test_facts(omar, "omar", workflow, pinned, report, seed=AT_ZERO)  # type: ignore[arg-type]
    found = exit_check(omar, RUN_BY_OTHER)  # what omar's `workflow test intake` then shows
    assert found is not None and found.outcome == "pass"
    assert found.workflow == "triage"
    cast["lena"].close()


def test_a_play_three_that_exited_on_the_test_model_keeps_its_exit(
    _isolated: Path, clock: Clock, idp: StandinIdP, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Runs on the test model prove nothing for play 3 outside a demo; a play 3 whose exit was
    judged on such runs (accepted by an inhouse from before the rule) keeps its exit, said,
    while a run on it recorded since counts for nothing."""
    from inhouse.program.playchecks import _shared, workflow
    from inhouse.workflows.runner import RUN_BY_OTHER, exit_check

    cast = _play_three(_isolated, clock, idp)
    lena, omar, vic = cast["lena"], cast["omar"], cast["vic"]

    def on_test_model(program: Program, version: str) -> None:
        wf = SimpleNamespace(name="triage", content_hash=version, run_hash="", hashed="")
        pinned = SimpleNamespace(
            model=SimpleNamespace(name="m0", digest=DIGEST),
            lock=SimpleNamespace(lock_hash=LOCK),
            url="http://127.0.0.1:8080",
            peers=frozenset({"127.0.0.1"}),
            test_model=True,  # the runtime served the project's test model
        )
        report = SimpleNamespace(
            passed=True, pass_rate=1.0, judged=[1, 2, 3], variant="default", proved=3,
            untested=[], inputs=3,
        )  # fmt: skip
        with at_own_machine(program):
            record_test_facts(program, program.whoami().name, wf, pinned, report, seed=AT_ZERO)  # type: ignore[arg-type]

    on_test_model(omar, "v1")
    on_test_model(vic, "v1")
    found = exit_check(omar, RUN_BY_OTHER)
    assert found is not None and found.outcome == "fail"
    assert "answered by the project's test model" in found.reason
    with monkeypatch.context() as before:  # the rule before: such runs counted
        before.setattr(_shared, "on_test_model", lambda ctx, run: None)
        before.setattr(workflow, "on_test_model", lambda ctx, run: None)
        omar.offer_handoff(None, 3, to="lena")
        lena.accept_handoff(None, 3)
    kept = exit_check(omar, RUN_BY_OTHER)
    assert kept is not None and kept.outcome == "pass", kept
    assert "on the project's test model, which play 3 exited on" in kept.reason
    assert [play["state"] for play in lena.status()["plays"]][:3] == ["exited"] * 3
    on_test_model(omar, "v2")  # a new version since, on the test model: today's rule
    on_test_model(vic, "v2")
    since = exit_check(omar, RUN_BY_OTHER)
    assert since is not None and since.outcome == "fail", since
    assert "answered by the project's test model" in since.reason
    lena.close()
