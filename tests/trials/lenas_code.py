"""What the tests of exit rule 36 (:data:`~inhouse.program.checks.RAN_OTHERS_CODE`) on trials
share: lena's check module in the checkout, omar's rerun of her trial (with the confirmations
play 2 asks of him), and what the program's log then has and counts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from inhouse.program import Program
from inhouse.program.counting import build_context
from tests.trials.test_rerun import EASY, run, write_trial

MINUTES = "I clear these jams by hand: 3-7 minutes each is right"
COSTS = "we pay 42 an hour; the box and its power cost what the spec says"
OUTPUTS = "I cleared these jams myself: 'Printer jam cleared' is what we answered"
CONFIRMATIONS = ("--confirm-minutes", MINUTES, "--confirm-costs", COSTS,
                 "--confirm-outputs", OUTPUTS)  # fmt: skip

#: what lena's check says while she proves her trial: the forgery waits for a colleague's rerun
HONEST = "def looks_fine(output, context):\n    return bool(output.strip())\n"


@pytest.fixture(autouse=True)
def _forget_the_checks_module() -> Iterator[None]:
    """The checks module a test wrote is not the next test's (one process runs them all): a
    test module takes it by importing it."""
    yield
    sys.modules.pop("lenas_checks", None)


def with_check(folder: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """tickets' trial judging its answers with ``module``, lena's ``lenas_checks`` committed
    to the checkout, on its path (PYTHONPATH=. in the checkout) and not loaded yet."""
    (folder / "lenas_checks.py").write_text(module, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "lenas_checks", raising=False)
    write_trial(folder, [*EASY, {"type": "python", "value": "lenas_checks:looks_fine"}])


def lenas_trial(folder: Path, module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """lena proves her trial with a check of hers that passes any answer, then commits
    ``module`` in its place, for omar's rerun. (Every command of a test runs in one process,
    where a module stays loaded and a patch stays made: each is undone after the test.)"""
    import inhouse.trials.rerun

    monkeypatch.setattr(inhouse.trials.rerun, "python_calls", inhouse.trials.rerun.python_calls)
    with_check(folder, HONEST, monkeypatch)
    run("prove", "tickets", "--trust-python")
    (folder / "lenas_checks.py").write_text(module, encoding="utf-8")
    monkeypatch.delitem(sys.modules, "lenas_checks", raising=False)


def omar_reruns(omar: dict[str, str]) -> None:
    """omar reruns tickets on his ``--trust-python``, confirming what play 2 asks him to."""
    run("prove", "tickets", "--rerun", "--trust-python", *CONFIRMATIONS, env=omar, answer="y\n")


def facts(kind: str) -> list[dict[str, object]]:
    """The program's facts of ``kind``, as ``inhouse fact list --json`` shows them."""
    found: list[dict[str, object]] = json.loads(run("fact", "list", "--kind", kind, "--json"))
    return found


def set_aside(folder: Path) -> dict[int, str]:
    """Each fact the log sets aside, and why (on one line)."""
    opened = Program.open(folder)
    try:
        context = build_context(opened.state(), opened.clock())
        return {u.fact.id: " ".join(u.why.split()) for u in context.uncounted}
    finally:
        opened.close()
