"""A rerun judged by the author's own code is not a second person's measure.

A workflow's ``python`` check names a function the spec's writer chose, usually a module lying
in the checkout they control (on ``PYTHONPATH``, as ``inhouse workflow import-promptfoo``
says). A colleague who reruns the workflow for play 3 runs it with ``--trust-python`` inside
their own inhouse, with their key at hand: it could pass any answer, or sign anything in their
name. Their run records the functions it ran, and play 3 names such a run and does not count it
as someone other than the author's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import RAN_OTHERS_CODE, Outcome, evaluate
from inhouse.program.counting import build_context
from tests.engine import needs_engine
from tests.workflows.conftest import SUMMARY

pytestmark = needs_engine
runner = CliRunner()

#: the author's check module, committed to the checkout: it passes whatever it is shown, and
#: notes whose inhouse ran it (a forger's would sign what it liked with that key instead)
AUTHORS_CHECK = """\
import os

ran_with = []


def looks_fine(output, context):
    ran_with.append(os.environ.get("INHOUSE_KEY"))
    return True
"""


def cli(*args: str, env: dict[str, str], code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == code, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


def run_by_other(folder: Path) -> tuple[Outcome, str]:
    program = Program.open(folder)
    try:
        result = evaluate("workflow-run-by-other", build_context(program.state(), program.clock()))
        return result.outcome, " ".join(result.reason.split())
    finally:
        program.close()


def with_python_check(folder: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The summary workflow's spec (returned) judging its answers with ``module`` too, omar's
    ``omars_checks`` committed to the checkout and on its path."""
    (folder / "omars_checks.py").write_text(module, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))  # PYTHONPATH=. in the checkout, as its docs say
    spec = folder / "workflows" / "summary.yaml"
    spec.write_text(
        SUMMARY.replace(
            "      - {type: word-count, min: 1}\n",
            "      - {type: word-count, min: 1}\n"
            "      - {type: python, value: 'omars_checks:looks_fine'}\n",
        ),
        encoding="utf-8",
    )
    return spec


@pytest.mark.usefixtures("real_model")
def test_a_rerun_that_ran_the_authors_python_check_is_not_a_second_persons(
    baseline_program: Path,
    people: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = baseline_program
    spec = with_python_check(folder, AUTHORS_CHECK, monkeypatch)
    omar, pia = people["omar"], people["pia"]
    cli("workflow", "test", "summary", "--trust-python", env=omar)  # omar publishes it
    ran = json.loads(cli("workflow", "test", "summary", "--trust-python", "--json", env=pia))
    assert ran["passed"]
    import omars_checks  # type: ignore[import-not-found]

    assert pia["INHOUSE_KEY"] in omars_checks.ran_with  # omar's code ran in pia's inhouse
    outcome, reason = run_by_other(folder)
    assert outcome is Outcome.FAIL, reason
    program = Program.open(folder)
    try:
        [run] = [f for f in program.state().facts if f.kind == "workflow.run" and f.by == "pia"]
        context = build_context(program.state(), program.clock())
    finally:
        program.close()
    assert run.payload["python_checks"] == ["omars_checks:looks_fine"]
    # her key said, before his code ran, that it was about to: nothing it signed since is hers
    # (exit rule 36), this run included, which names the code besides
    [why] = [u.why for u in context.uncounted if u.fact.id == run.id]
    why = " ".join(why.split())
    assert f"exit rule {RAN_OTHERS_CODE}" in why and "omars_checks:looks_fine" in why, why

    # the honest way: the author's checks of the other types, rerun by pia, count; with a new
    # key of hers (exit rule 36): the one that ran omar's code could be his since
    spec.write_text(SUMMARY, encoding="utf-8")
    cli("workflow", "test", "summary", env=omar)
    cli("workflow", "test", "summary", env=pia)
    outcome, reason = run_by_other(folder)
    assert outcome is Outcome.FAIL, reason
    pia.update(_new_key(folder, "pia", Path(pia["INHOUSE_KEY"])))
    cli("workflow", "test", "summary", env=pia)
    assert run_by_other(folder)[0] is Outcome.PASS


def _new_key(folder: Path, name: str, old: Path) -> dict[str, str]:
    """``name`` revokes their key, a rollout lead (the program's, this shell's key) invites them
    again, and they join with a new key on their laptop (signed in, as their first was):
    ``{"INHOUSE_KEY": path}`` for the new. Not an invitation of their own onto "a new machine":
    the marked key signing it would mark the new key too (exit rule 36), since the code that
    ran with it could have done the same."""
    from inhouse.identity import load_key
    from tests.people import key_file, sign_in_as, suite_sign_in

    program = Program.open(folder)
    try:
        program.using(load_key(old)).revoke_key(load_key(old).key_id)
        text = program.invite(name)
        path = key_file(old.parent / "new", name)
        key = load_key(path)
        program.join(str(text), key, at_machine=f"{name}-laptop")
        if suite_sign_in(program):
            sign_in_as(program.using(key))
    finally:
        program.close()
    return {"INHOUSE_KEY": str(path)}
