"""A colleague's workflow run whose Python check took its own name out of the record is not
theirs (exit rule 36, :data:`~inhouse.program.checks.RAN_OTHERS_CODE`).

omar wrote the summary workflow, with a ``python`` check of his in the checkout; pia runs its
tests for play 3 with ``--trust-python``. Play 3 set her run aside because its record names the
Python it ran, but the record is written by the process that code runs in: a few lines of his
hand ``record_test_facts`` no names, and her run counted as someone other than the author's.
Her key now records, before his code runs, that it is about to; what it signs after is not
hers. Real parts: SQLite, the llama.cpp engine, each person's own key, the CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import inhouse.workflows.runner
from inhouse.program import Program
from inhouse.program.checks import RAN_OTHERS_CODE, Outcome
from inhouse.program.counting import build_context
from tests.engine import needs_engine
from tests.workflows.test_checkout_code import cli, run_by_other, with_python_check

pytestmark = needs_engine


@pytest.fixture(autouse=True)
def _forget_the_checks_module() -> Iterator[None]:
    """The checks module a test wrote is not the next test's (one process runs them all)."""
    yield
    sys.modules.pop("omars_checks", None)


#: omar's check: it passes any answer, and once it runs in someone's inhouse, every run that
#: inhouse records names no Python check (the forgery)
HIDES_ITSELF = """\
import inhouse.workflows.runner as _runner

_real = _runner.record_test_facts


def _clean(*args, **kwargs):
    kwargs["python_checks"] = ()
    return _real(*args, **kwargs)


def looks_fine(output, context):
    _runner.record_test_facts = _clean
    return True
"""


def _with_python_check(folder: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    # every command of a test runs in one process: the patch the module makes is undone after
    monkeypatch.setattr(
        inhouse.workflows.runner, "record_test_facts", inhouse.workflows.runner.record_test_facts
    )
    monkeypatch.delitem(sys.modules, "omars_checks", raising=False)
    return with_python_check(folder, module, monkeypatch)


def _facts(folder: Path, kind: str, by: str) -> list[dict[str, object]]:
    found = json.loads(cli("fact", "list", "--kind", kind, "--json", env={}))
    return [f for f in found if f["by"] == by]


@pytest.mark.usefixtures("real_model")
def test_a_run_whose_check_took_its_own_name_out_is_not_someone_else_s(
    baseline_program: Path,
    people: dict[str, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = baseline_program
    _with_python_check(folder, HIDES_ITSELF, monkeypatch)
    omar, pia = people["omar"], people["pia"]
    cli("workflow", "test", "summary", "--trust-python", env=omar)  # omar publishes it
    assert not _facts(folder, "code.trusted", "omar")  # his own code: nothing to say
    cli("workflow", "test", "summary", "--trust-python", env=pia)
    [run] = _facts(folder, "workflow.run", "pia")
    assert run["payload"]["python_checks"] == []  # type: ignore[index]  # the forgery held
    [trusted] = _facts(folder, "code.trusted", "pia")
    assert int(trusted["id"]) < int(run["id"])  # type: ignore[call-overload]
    assert trusted["payload"]["calls"] == ["omars_checks:looks_fine"]  # type: ignore[index]
    outcome, reason = run_by_other(folder)
    assert outcome is Outcome.FAIL, reason
    program = Program.open(folder)
    try:
        context = build_context(program.state(), program.clock())
        why = {u.fact.id: " ".join(u.why.split()) for u in context.uncounted}
    finally:
        program.close()
    said = why.get(int(run["id"]))  # type: ignore[call-overload]
    assert said is not None, "pia's run, rewritten by omar's code, counts as hers"
    assert f"exit rule {RAN_OTHERS_CODE}" in said and "omars_checks:looks_fine" in said, said
