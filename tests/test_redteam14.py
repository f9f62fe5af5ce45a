"""Red team, round 14: plays 1 and 2, what a trial's shared settings do to one side only.

lena leads the program and owns play 1; she writes the trial, its inputs and its checks, and
runs the status quo she points it at (here a stand-in for the hosted API the tickets go to).
Every request both sides are sent carries the same messages and the same generation settings,
so the one way she has to hurt one side alone is a setting whose effect hangs on the words that
side writes: a stop sequence only the status quo's answers hold (it cuts them, and its server
says ``stop`` for that as for an answer that ended on its own), or a ``max_tokens`` below both
sides' answers beside a candidate that writes on to any limit (a draw on every input the limit
cut, where the whole status quo answer passes). Each was counted as the status quo's failure,
so a weak candidate's quality "held". So was a temperature above 1, which asks the two sides
differently: each server's own sampler decides what it does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inhouse.program import Program
from inhouse.program.checks import Outcome, evaluate
from inhouse.program.evaluation import context_for
from tests.engine import needs_engine
from tests.trials.test_rerun import EASY, omar, program, run, verdict_payload, write_trial

__all__ = ["omar", "program"]  # the fixtures these tests use

#: the stand-in hosted API writes "tok0 tok1 … tok7 " (8 tokens, its whole answer); the test
#: model never writes "tok". On inputs 0-2 an answer passes where it is not the stand-in's or is
#: its whole answer; on inputs 3-5 only the stand-in's whole answer passes: the candidate fails
#: them whatever it writes. Honestly judged, the status quo passes 6 of 6, the candidate 3 of 6.
EITHER, WHOLE = r"\A(?!.*tok)|tok7", "tok7"
CHECKS = [*EASY, {"type": "python", "value": "tests.checks.pyfuncs:wanted"}]


def _trial(folder: Path, url: str, **generation: Any) -> None:
    hosted = {"kind": "api", "url": url, "model": "standin-hosted",
              "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}  # fmt: skip
    settings = {"max_tokens": 8, "temperature": 0, "seed": 1, **generation}
    write_trial(folder, CHECKS, status_quo=hosted, meaningful={"faster": 30}, generation=settings)
    rows = [{"id": f"T-{i}", "text": f"printer {i} jams", "want": EITHER if i < 3 else WHOLE}
            for i in range(6)]  # fmt: skip
    (folder / "data" / "tickets.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _value_proven(folder: Path) -> tuple[Outcome, str]:
    opened = Program.open(folder)
    try:
        result = evaluate("value-proven", context_for(opened.state(), opened.clock()))
    finally:
        opened.close()
    return result.outcome, result.reason


@needs_engine
def test_a_stop_sequence_only_the_status_quo_writes_proves_no_quality(program: Path) -> None:
    """lena's trial sends `generation.stop: ["tok5"]`, words only the hosted API's answers
    hold: its answers arrive cut before them, not empty, and its server says `stop`, as for an
    answer that ended on its own. They fail every check its whole answers pass, so the status
    quo's quality is 0 % and the candidate's 50 % "holds"; the candidate is faster and play 1's
    value-proven passed. An answer to a request carrying stop sequences cannot be told whole:
    the verdict counts every one of the status quo's that failed (`status_quo_cut_short`), as
    its passes, and value-proven fails, naming it."""
    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin

    with spawn_standin(StandinTiming(1500, 50, 8), model="standin-hosted") as stand_in:
        _trial(program, stand_in.url, stop=["tok5"])
        out = run("prove", "tickets", "--trust-python")
    verdict = verdict_payload(program)
    assert verdict["proven_on"] == ["faster"] and verdict["quality_ok"], verdict["summary"]
    assert verdict["status_quo_pass_rate"] == 0.0 and verdict["candidate_pass_rate"] == 0.5
    assert verdict["status_quo_unanswered"] == 0  # cut, not empty
    assert verdict["status_quo_cut_short"] == 6, verdict
    assert "may have been cut at its generation.stop sequences on 6 of 6 inputs" in out, out
    # nothing was cut at max_tokens: the caveat asks for the stop sequences out, not more tokens
    assert "leave generation.stop out" in out and "raise max_tokens" not in out, out
    outcome, reason = _value_proven(program)
    assert outcome is Outcome.FAIL, reason
    assert "would trail it by 50 points, more than the quality floor" in reason, reason


@needs_engine
def test_a_max_tokens_that_cuts_both_sides_is_no_draw(program: Path) -> None:
    """lena's trial shares `generation.max_tokens: 4`: the hosted API's 8-token answers arrive
    cut (`finish_reason: length`) and fail, and so do the candidate's, which write on to any
    limit. Counting an input where both were cut and failed for neither side made the weak
    candidate draw with the status quo on every input it fails whatever it writes; the status
    quo's cut answers count as its passes whatever the candidate's did."""
    from inhouse.testing.standin_upstream import StandinTiming, spawn_standin

    with spawn_standin(StandinTiming(1500, 50, 8), model="standin-hosted") as stand_in:
        _trial(program, stand_in.url, max_tokens=4)
        run("prove", "tickets", "--trust-python")
    verdict = verdict_payload(program)
    assert verdict["status_quo_pass_rate"] == 0.0 and verdict["quality_ok"], verdict
    assert verdict["status_quo_cut_short"] == 6, verdict
    outcome, reason = _value_proven(program)
    assert outcome is Outcome.FAIL, reason
    assert "would trail it by 50 points" in reason, reason


def test_a_temperature_each_server_samples_its_own_way_is_refused(_isolated: Path) -> None:
    """lena's trial sends `generation.temperature: 1.8` to both sides: the local runtime's
    default top-k and min-p keep the candidate's answers coherent, while the hosted API,
    sampling its whole vocabulary that hot, writes gibberish that fails the checks; omar's
    honest rerun from his machine reproduces it, and he truthfully confirms it is the API the
    tickets go to. One figure asks the two sides differently above 1: the trial is refused
    before anything is sent, naming the field; at 1 it loads."""
    from inhouse.trials.plan import plan_trial

    run("init", "Acme", "--lead", "lena", "--demo")
    hosted = {"kind": "api", "url": "http://127.0.0.1:9", "model": "hosted",
              "price_input_per_mtok": 2.5, "price_output_per_mtok": 10.0}  # fmt: skip
    write_trial(_isolated, EASY, status_quo=hosted, meaningful={"faster": 30},
                generation={"max_tokens": 8, "temperature": 1.8})  # fmt: skip
    out = run("prove", "tickets", code=2)
    assert "trials/tickets.yaml: generation.temperature: 1.8 is above 1" in out, out
    assert "the two sides would not be asked the same way" in out, out
    write_trial(_isolated, EASY, status_quo=hosted, meaningful={"faster": 30},
                generation={"max_tokens": 8, "temperature": 1})  # fmt: skip
    assert plan_trial(_isolated, "tickets").spec.generation.temperature == 1
