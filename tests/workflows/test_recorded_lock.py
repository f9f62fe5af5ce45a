"""Workflow runs pin the lock the program's log records, not the file ``inhouse.lock``.

A workflow test run is play 3's evidence (``workflow-tests-pass``, ``workflow-run-by-other``),
a pilot member's ``ran-workflow`` step (play 4) and a workflow version's confirmation (play 6).
The file is anyone's to rewrite who holds the program folder: a lead who hashes a lock of other
weights into it (the Python API's ``write_lock``) would otherwise have the runner accept weights
no second person verified, and sign a passing run on them. Against the real llama.cpp engine:
the log records a lock of other weights than the engine serves, the file blesses the served
ones."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from inhouse.baseline import LockedModel, read_lock
from inhouse.baseline.lock import COLLECTOR, Lock, lock_fact_payload
from inhouse.cli.app import app
from inhouse.program import Program, Provenance
from tests.engine import needs_engine

pytestmark = needs_engine
runner = CliRunner()

#: weights the engine does not serve: what the log's lock blesses in these tests
VERIFIED = "sha256:" + "0" * 64


def _record(folder: Path, digest: str) -> tuple[Lock, Lock]:
    """lena records (``inhouse baseline lock``'s fact) a lock of ``digest`` for the test model;
    inhouse.lock stays the served weights' lock. Both locks returned: (recorded, file)."""
    file = read_lock(folder)
    assert file is not None
    model = LockedModel(name="inhouse-test-model", digest=digest, size=file.models[0].size)
    other = file.model_copy(update={"models": [model]})
    recorded = other.model_copy(update={"lock_hash": other.computed_hash()})
    program = Program.open(folder)
    try:
        program.record_fact(
            "lena", "baseline.lock", lock_fact_payload(recorded),
            provenance=Provenance.MEASURED, collector=COLLECTOR,
        )  # fmt: skip
    finally:
        program.close()
    return recorded, file


def _runs(folder: Path) -> list[object]:
    program = Program.open(folder)
    try:
        return [f for f in program.state().live_facts(program.clock()) if f.kind == "workflow.run"]
    finally:
        program.close()


def test_a_run_on_weights_only_the_file_blesses_is_refused(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    recorded, file = _record(baseline_program, VERIFIED)
    served = file.models[0].digest
    for command in (("run", "summary", "--var", "ticket=x"), ("test", "summary")):
        refused = runner.invoke(app, ["workflow", *command], env=people["omar"])
        message = " ".join(refused.stderr.split())
        assert refused.exit_code == 3, refused.stdout + refused.stderr
        assert "model inhouse-test-model has drifted" in message
        assert f"locked {VERIFIED}, found {served}" in message
        assert "`inhouse baseline verify`" in message
    # no signed run on weights nobody verified: not play 3's, nor a pilot step's evidence
    assert _runs(baseline_program) == []
    assert recorded.lock_hash != file.lock_hash


def test_a_run_on_the_recorded_lock_counts_whatever_the_file_says(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    recorded = read_lock(baseline_program)  # the lock lena recorded, and wrote
    assert recorded is not None
    (baseline_program / "inhouse.lock").unlink()  # a checkout that has not pulled it
    ran = runner.invoke(app, ["workflow", "test", "summary"], env=people["omar"])
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    (run,) = _runs(baseline_program)
    assert run.payload["lock_hash"] == recorded.lock_hash  # type: ignore[attr-defined]
