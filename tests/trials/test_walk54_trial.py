"""Walk 54, a new lead's first trial on a real program, and a colleague's rerun of it.

A trial whose candidate passed none of its inputs.

A model that fails every case beside a status quo that fails them all too is "at acceptable
quality" by the pass rates, and ``proved`` (how many inputs the candidate passed that an empty
answer fails) is 0, so play 1 and play 2 rightly do not count it. But they said why as if the
checks passed an empty answer ("the quality checks pass an empty answer on every input the
candidate passed: they pass whatever the model says ... give the trial checks that judge what
the answer says"), when the checks here fail an empty answer and the model failed them: the
lead was sent to rewrite checks that were not the problem. Now ``inhouse prove``, value-proven
and trial-reproduced say the candidate passed none of the inputs, and to read its answers.

The rerun against an API status quo: the colleague's `--confirm-status-quo` went into the fact,
but the command echoed his minutes, outputs and costs confirmations and not this one, so he
could not see what he had put his name to (the endpoint his rerun reached).

The real llama.cpp engine with the test model (a demo program: only a demo accepts it); the
manual status quo's recorded outputs fail the same check; the stand-in upstream plays the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from tests.engine import needs_engine
from tests.trials.test_rerun import (  # noqa: F401
    EASY,
    HARD,
    omar,
    program,
    reproduced,
    run,
    verdict_payload,
    write_trial,
)

pytestmark = needs_engine


def test_a_candidate_that_passed_nothing_is_told_so_not_sent_to_rewrite_its_checks(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    write_trial(program, HARD)  # an exact sentence: an empty answer fails it, so does the model
    out = run("prove", "tickets")
    payload = verdict_payload(program)
    assert payload["candidate_pass_rate"] == 0 and payload["proved"] == 0
    assert payload["verdict"] == "proven"  # faster and cheaper than the minutes, 0% beside 0%
    assert "the candidate passed none of the trial's inputs" in out, out
    assert "pass an empty answer" not in out, out

    opened = Program.open(program)
    try:
        proven = evaluate("value-proven", context_for(opened.state(), opened.clock()))
    finally:
        opened.close()
    assert proven.outcome is Outcome.FAIL, proven.reason
    assert "the candidate passed none of the trial's inputs" in proven.reason, proven.reason
    assert "read the candidate's answers in the trial's report" in proven.reason
    assert "pass an empty answer" not in proven.reason, proven.reason

    out = run(
        "prove", "tickets", "--rerun", "--confirm-minutes", "I do these by hand: 4-7 minutes",
        "--confirm-outputs", "these are the answers we sent", env=omar, answer="y\n",
    )  # fmt: skip
    assert "the candidate passed none of the trial's inputs" in out, out
    result = reproduced(program)
    assert result.outcome is Outcome.FAIL, result.reason
    assert "omar's rerun of trial tickets passed none of its 6 inputs" in result.reason
    assert "pass whatever the model says" not in result.reason, result.reason


def test_a_rerun_echoes_the_status_quo_its_runner_confirmed(
    program: Path,  # noqa: F811
    omar: dict[str, str],  # noqa: F811
) -> None:
    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin

    hosted: dict[str, Any] = {
        "kind": "api",
        "model": "standin-hosted",
        "price_input_per_mtok": 2.5,
        "price_output_per_mtok": 10.0,
    }
    with spawn_standin(StandinTiming(400, 25, 16), model="standin-hosted") as stand_in:
        url = stand_in.url
        write_trial(program, EASY, status_quo={**hosted, "url": url}, meaningful={"faster": 30})
        run("prove", "tickets")
        out = run(
            "prove", "tickets", "--rerun", "--confirm-status-quo",
            "we send these tickets to this API today", env=omar, answer="y\n",
        )  # fmt: skip
    assert "you confirmed the status quo (standin-hosted at " in out, out
    assert "is how the task is done today: we send these tickets to this API today" in out, out
