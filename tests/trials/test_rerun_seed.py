"""Exit rule 33 (``FRESH_SEED``): where a proven trial samples (a temperature above 0), play 2's
rerun draws a seed of its own, and a rerun that sent the verdict's seed does not count.

The forgery: lena, the lead, tries seeds privately at temperature 0.8 until one draw flatters
the candidate, and publishes the spec with that seed. Its hash covers the seed, so a
colleague's rerun sending it replays her lucky draw (the real llama.cpp engine with the test
model answers the same seed alike): "reproduced" without a fresh draw. Today ``inhouse prove
--rerun`` sends a seed drawn for the run, to both sides, records it, and trial-reproduced holds
a rerun that says it sent the verdict's seed (typed through the Python API) inconclusive,
naming why and the command that draws one. The honest path: omar's real rerun at 0.8 on his
own seed counts. At temperature 0 nothing changes (the spec's seed goes as written: there is
no draw to pick). A rerun an older inhouse recorded (no ``seed``) is judged as before.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from inhouse.identity import load_key
from inhouse.program import Program
from inhouse.program.checks import FRESH_SEED, Outcome
from inhouse.trials.headtohead import run_planned
from inhouse.trials.plan import plan_trial
from inhouse.trials.rerun import RerunOutcome, rerun_trial
from tests.engine import Engine, needs_engine
from tests.trials import test_rerun
from tests.trials.test_rerun import EASY, reproduced, run, verdict_payload, write_trial

pytestmark = needs_engine
#: test_rerun's fixtures: a demo program whose lead lena owns play 1, and omar's shell on his
#: own laptop
program, omar = test_rerun.program, test_rerun.omar

HOT = {"max_tokens": 8, "temperature": 0.8, "seed": 1}
COLD = {"max_tokens": 8, "temperature": 0, "seed": 1}
#: omar's word on each figure lena typed (the manual status quo's minutes, outputs and costs)
WORDS = {
    "confirm_minutes": "I clear these jams by hand: 3-7 minutes each is right",
    "confirm_costs": "we pay 42 an hour; the box and its power cost what the spec says",
    "confirm_outputs": "'Printer jam cleared' is what we answered",
}


def rerun_as(folder: Path, env: dict[str, str]) -> RerunOutcome:
    """omar's ``prove tickets --rerun`` through the Python API, confirming what lena typed."""
    opened = Program.open(folder)
    try:
        with pytest.MonkeyPatch.context() as shell:  # on his own machine
            for name, value in env.items():
                shell.setenv(name, value)
            person = opened.using(load_key(Path(env["INHOUSE_KEY"])))
            return rerun_trial(person, "tickets", agree=lambda lines: True, **WORDS)
    finally:
        opened.close()


def last_rerun(folder: Path) -> dict[str, Any]:
    facts = json.loads(run("fact", "list", "--kind", "trial.rerun", "--json"))
    payload: dict[str, Any] = facts[-1]["payload"]
    return payload


@pytest.fixture
def typed_seed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What omar's rerun payload says of its seed, typed through the API over what it sent
    (``{}``: nothing typed; ``None`` under a key: that key left out, as an older inhouse)."""
    typed: dict[str, Any] = {}
    record = Program.record_fact

    def recording(self: Program, who: Any, kind: str, payload: Any, **kw: Any) -> Any:
        if kind in typed.get("kinds", ("trial.rerun",)) and "seed" in typed:
            payload = dict(payload)
            if typed["seed"] is None:
                payload.pop("seed", None)
            else:
                payload["seed"] = typed["seed"]
        return record(self, who, kind, payload, **kw)

    monkeypatch.setattr(Program, "record_fact", recording)
    yield typed


def test_a_lucky_seed_no_longer_reproduces_itself_on_rerun(
    program: Path, omar: dict[str, str]
) -> None:
    """At 0.8 the spec's seed replays its draw answer for answer (the lottery is real: a seed
    picked for its draw is that draw again); omar's rerun sends a seed drawn for it, to the
    candidate's requests, records it beside the spec's, and its answers are its own draw."""
    write_trial(program, EASY, generation=HOT)
    plan = plan_trial(program, "tickets")
    first = asyncio.run(run_planned(plan)).candidate.answers.outputs
    again = asyncio.run(run_planned(plan)).candidate.answers.outputs
    assert first == again  # the same seed, the same draw
    run("prove", "tickets")
    done = rerun_as(program, omar)
    sent = done.outcome.candidate.answers.target
    assert sent is not None and sent.extra_body["seed"] != 1
    assert sent.extra_body["temperature"] == 0.8
    seed = done.fact.payload["seed"]
    assert seed == {"sent": sent.extra_body["seed"], "spec": 1, "temperature": 0.8, "drawn": True}
    assert done.outcome.candidate.answers.outputs != first  # a draw of its own
    # the spec's hash is the spec's, whatever the rerun sent
    assert done.fact.payload["spec_hash"] == verdict_payload(program)["spec_hash"]
    # and the verdict says which seed it sent, at which temperature
    assert verdict_payload(program)["seed"] == {
        "sent": 1, "spec": 1, "temperature": 0.8, "drawn": False
    }  # fmt: skip
    # two reruns draw two seeds
    assert rerun_as(program, omar).fact.payload["seed"]["sent"] != seed["sent"]


def test_an_honest_rerun_at_temperature_above_0_counts(program: Path, omar: dict[str, str]) -> None:
    write_trial(program, EASY, generation=HOT)
    run("prove", "tickets")
    done = rerun_as(program, omar)
    assert done.fact.payload["seed"]["drawn"] is True
    assert done.counts, done.why
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason
    assert result.reason.startswith("omar reran trial tickets on their own machine")
    # and the command says so
    out = run("prove", "tickets", "--rerun", env=omar)
    assert "the spec samples (at temperature 0.8): this run drew its own seed" in out
    assert "not the spec's (1)" in out


def test_a_rerun_typed_with_the_verdicts_seed_is_refused(
    program: Path, omar: dict[str, str], typed_seed: dict[str, Any]
) -> None:
    """omar's rerun payload, typed through the API, says its requests carried the verdict's
    seed at 0.8 (or none, leaving the seed to his server's start-up flag): inconclusive, naming
    why and the command that draws one. His honest rerun after it counts, alone."""
    write_trial(program, EASY, generation=HOT)
    run("prove", "tickets")
    typed_seed["seed"] = {"sent": 1, "spec": 1, "temperature": 0.8, "drawn": False}
    done = rerun_as(program, omar)
    assert not done.counts
    result = reproduced(program)
    assert result.outcome is Outcome.INCONCLUSIVE, result.reason
    assert "sent the verdict's seed (1) at temperature 0.8" in result.reason
    assert f"(exit rule {FRESH_SEED})" in result.reason
    assert "an inhouse that draws a seed of its own (`inhouse prove tickets --rerun`)" in (
        result.reason
    )
    # "drawn" is his word: the seed it names is what counts
    typed_seed["seed"] = {"sent": 1, "spec": 1, "temperature": 0.8, "drawn": True}
    rerun_as(program, omar)
    assert reproduced(program).outcome is Outcome.INCONCLUSIVE
    typed_seed["seed"] = {"sent": None, "spec": 1, "temperature": 0.8, "drawn": False}
    rerun_as(program, omar)
    result = reproduced(program)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "sent no seed at temperature 0.8" in result.reason
    # typed to look like temperature 0: the verdict, lena's, says what the spec samples at
    typed_seed["seed"] = {"sent": 1, "spec": 1, "temperature": 0, "drawn": False}
    rerun_as(program, omar)
    assert reproduced(program).outcome is Outcome.INCONCLUSIVE
    typed_seed.clear()
    rerun_as(program, omar)
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason
    assert "pass rate 100.0 % over 6 inputs" in result.reason  # the replays pool with nothing


def test_a_drawn_seed_goes_to_an_api_status_quo_too(program: Path, engine: Engine) -> None:
    """Both sides are asked alike: the seed a rerun drew goes to an API status quo it runs (here
    the same engine, at its address) as to the candidate."""
    quo = {"kind": "api", "url": engine.url, "price_input_per_mtok": 1, "price_output_per_mtok": 2}
    write_trial(program, EASY, generation=HOT, status_quo=quo)
    plan = replace(plan_trial(program, "tickets"), drawn_seed=4242)
    outcome = asyncio.run(run_planned(plan))
    sent = [outcome.candidate.answers.target, outcome.status_quo.answers.target]
    assert [t.extra_body["seed"] if t else None for t in sent] == [4242, 4242]
    assert plan.spec_hash == plan_trial(program, "tickets").spec_hash


def test_at_temperature_0_the_specs_seed_goes_as_written(
    program: Path, omar: dict[str, str]
) -> None:
    """At 0 each answer is the model's most likely one whatever the seed: no draw to pick, so
    the rerun sends the spec's seed, says so, and counts."""
    write_trial(program, EASY, generation=COLD)
    run("prove", "tickets")
    done = rerun_as(program, omar)
    target = done.outcome.candidate.answers.target
    assert target is not None and target.extra_body["seed"] == 1
    assert done.fact.payload["seed"] == {"sent": 1, "spec": 1, "temperature": 0, "drawn": False}
    assert reproduced(program).outcome is Outcome.PASS


def test_reruns_from_before_the_rule_are_judged_as_before(
    program: Path, omar: dict[str, str], typed_seed: dict[str, Any]
) -> None:
    """An older inhouse's verdict names no seed: a rerun today's inhouse records still says it
    sent the spec's seed (its own record of the spec its hash shares with the verdict), and is
    held inconclusive. A rerun an older inhouse recorded (no ``seed``) counts as it did."""
    write_trial(program, EASY, generation=HOT)
    typed_seed.update(kinds=("trial.verdict",), seed=None)
    run("prove", "tickets")
    assert verdict_payload(program).get("seed") is None
    typed_seed.update(kinds=("trial.rerun",), seed={"sent": 1, "spec": 1, "temperature": 0.8})
    rerun_as(program, omar)
    result = reproduced(program)
    assert result.outcome is Outcome.INCONCLUSIVE
    assert "sent the verdict's seed (1) at temperature 0.8" in result.reason
    typed_seed["seed"] = None  # an older inhouse's rerun: no seed said
    rerun_as(program, omar)
    assert last_rerun(program).get("seed") is None
    result = reproduced(program)
    assert result.outcome is Outcome.PASS, result.reason
