"""Exit rule 35 (``WORKFLOW_FRESH_SEED``): play 3's rerun by another (``inhouse workflow test`` by
someone other than the version's author) of a version that samples draws a seed of its own.

``workflows/summary.yaml`` samples (``temperature: 0.7``) with a fixed ``seed: 11``, which its
version's hash covers, and the test model's nonsense passes its cases at few seeds (11 among
them): the lottery is real. Its author could try seeds privately until the tests passed on one
draw and publish that seed; a colleague's ``workflow test`` sending it again replayed the lucky
draw. Today a colleague's run sends a seed drawn for it (the author's own keeps the written
one), records it (``seed``), and play 3 counts it only on that draw
(tests/test_workflow_seed_verdicts.py judges the forgeries). At temperature 0 the written seed
goes, as there is no draw to replay. The other engine tests draw from seeds the test model
passes at (``PASSING_SEEDS``, tests/workflows/conftest.py); those here that show the draw is
the operating system's take the real one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inhouse.cli.app import app
from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.counting import build_context
from inhouse.program.facts import Fact
from inhouse.program.playchecks.workflow import replayed_seed, version_parameters
from inhouse.runtimes.openai_compat import OpenAICompatRuntime
from inhouse.trials import rerun
from inhouse.workflows.runner import attempt_seed
from inhouse.workflows.spec import text_hash
from tests.engine import needs_engine
from tests.workflows.conftest import PASSING_SEEDS, REAL_FRESH_SEED, SUMMARY

pytestmark = needs_engine
runner = CliRunner()


@pytest.fixture
def sent_seeds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """The ``seed`` of every chat request the runtime was sent, in order (the real engine
    answers each: this only reads what went)."""
    seeds: list[Any] = []
    chat = OpenAICompatRuntime.chat

    async def reading(self: OpenAICompatRuntime, request: Any) -> Any:
        seeds.append(request.seed)
        return await chat(self, request)

    monkeypatch.setattr(OpenAICompatRuntime, "chat", reading)
    yield seeds


def _test(who: str, people: dict[str, dict[str, str]], *, code: int | None = 0) -> str:
    result = runner.invoke(app, ["workflow", "test", "summary"], env=people[who])
    if code is not None:
        assert result.exit_code == code, result.stdout + result.stderr
    return result.stdout


def _runs(folder: Path) -> tuple[list[Fact], Any]:
    """The log's ``workflow.run`` facts and its counting context (a real program's: exit rule 35
    asks nothing of a demo)."""
    program = Program.open(folder)
    try:
        ctx = build_context(program.state(), program.clock())
        runs = [f for f in program.state().facts if f.kind == "workflow.run"]
    finally:
        program.close()
    return runs, ctx


def test_a_colleagues_workflow_test_draws_its_own_seed(
    baseline_program: Path, people: dict[str, dict[str, str]], sent_seeds: list[Any]
) -> None:
    _test("omar", people)  # omar publishes the version, on the seed he wrote
    assert set(sent_seeds) == {11}
    sent_seeds.clear()
    out = _test("pia", people)  # pia reruns it
    runs, ctx = _runs(baseline_program)
    assert [r.by for r in runs] == ["omar", "pia"]
    assert runs[0].payload["seed"] == {"sent": 11, "spec": 11, "temperature": 0.7, "drawn": False}
    seed = runs[-1].payload["seed"]
    assert seed["sent"] not in (None, 11), seed
    assert seed == {"sent": seed["sent"], "spec": 11, "temperature": 0.7, "drawn": True}
    assert seed["sent"] in PASSING_SEEDS  # the draw these tests take (see the module)
    # every request of her run carried it, and nothing else
    assert sent_seeds and set(sent_seeds) == {seed["sent"]}
    assert f"this run sent a seed drawn for it, {seed['sent']}, not its author's (11)" in out
    # her draw is her own: exit rule 35 finds nothing replayed
    assert replayed_seed(ctx, runs[-1]) is None
    # each run carries what the version itself says, the text its content hash covers: exit
    # rule 35 reads its temperature there, not in any run's word
    for each in runs:
        assert text_hash(each.payload["hashed"]) == each.payload["content_hash"]
    assert (version_parameters(runs) or {}).get("temperature") == 0.7


def test_the_draw_is_the_operating_systems_and_never_the_versions(
    baseline_program: Path,
    people: dict[str, dict[str, str]],
    sent_seeds: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the tests' passing seeds: pia's two runs draw two seeds, neither omar's. The
    test model's nonsense passes at few seeds, so her runs may fail: what they sent is what
    this asks."""
    monkeypatch.setattr(rerun, "fresh_seed", REAL_FRESH_SEED)
    _test("omar", people)
    sent_seeds.clear()
    _test("pia", people, code=None)
    first = set(sent_seeds)
    sent_seeds.clear()
    _test("pia", people, code=None)
    runs, _ = _runs(baseline_program)
    drawn = [r.payload["seed"]["sent"] for r in runs[1:]]
    assert [r.payload["seed"]["drawn"] for r in runs[1:]] == [True, True]
    assert first == {drawn[0]} and set(sent_seeds) == {drawn[1]}
    assert drawn[0] != drawn[1] and 11 not in drawn


def test_the_authors_own_run_and_a_run_at_temperature_0_send_the_written_seed(
    baseline_program: Path, people: dict[str, dict[str, str]], sent_seeds: list[Any]
) -> None:
    _test("omar", people)
    _test("omar", people)  # his own rerun: his seed, as he wrote it
    cold = SUMMARY.replace("temperature: 0.7", "temperature: 0")
    (baseline_program / "workflows" / "summary.yaml").write_text(cold, encoding="utf-8")
    _test("omar", people, code=None)  # a new version, at 0 (the test model fails it there)
    sent_seeds.clear()
    _test("pia", people, code=None)
    assert set(sent_seeds) == {11}
    runs, ctx = _runs(baseline_program)
    assert [r.payload["seed"]["drawn"] for r in runs] == [False] * 4
    assert runs[1].payload["seed"]["sent"] == 11
    assert runs[-1].payload["seed"] == {"sent": 11, "spec": 11, "temperature": 0.0, "drawn": False}
    assert replayed_seed(ctx, runs[-1]) is None  # no draw to replay at 0


def test_play_3_counts_the_colleagues_draw_in_a_demo(
    baseline_program: Path, people: dict[str, dict[str, str]]
) -> None:
    """The honest path end to end, judged as a demo program's (the test model answered)."""
    _test("omar", people)
    _test("pia", people)
    program = Program.open(baseline_program)
    try:
        ctx = build_context(replace(program.state(), demo=True), program.clock())
        result = evaluate("workflow-run-by-other", ctx)
    finally:
        program.close()
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("pia (not the author, omar) passed it")


def test_a_repeated_case_sends_a_seed_of_its_own_each_attempt(
    baseline_program: Path, people: dict[str, dict[str, str]], sent_seeds: list[Any]
) -> None:
    """``repeat: 3`` at 0.7 and ``seed: 11``: each attempt of a case sent its own seed, derived
    from 11 and its number (one seed three times was one draw three times), and the run says
    so; the test model's nonsense may fail the later draws, which is what they are for."""
    repeated = SUMMARY + "repeat: 3\nmin-pass: 1\n"
    (baseline_program / "workflows" / "summary.yaml").write_text(repeated, encoding="utf-8")
    out = " ".join(_test("omar", people, code=None).split())
    assert "each attempt of a repeated case sent a seed of its own, derived from 11" in out, out
    derived = {attempt_seed(11, attempt) for attempt in range(3)}
    assert 11 in derived and len(derived) == 3
    assert set(sent_seeds) == derived, sent_seeds
    assert len(sent_seeds) == 2 * 3  # two cases, three attempts each, one variant
    runs, _ = _runs(baseline_program)
    assert runs[-1].payload["attempt_seeds"] is True
    assert runs[-1].payload["seed"]["sent"] == 11
