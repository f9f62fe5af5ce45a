"""Decoy answers, judged without the engine: a check that asks a model is asked about the empty
answer and the off-topic sentence only (a stand-in judge here, to count what it is asked and to
answer "pass" to anything, as a rubric written to accept anything makes a real judge do)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from inhouse.runtimes import ChatRequest, ChatResponse
from inhouse.workflows.decoys import DECOYS, judge_decoys
from inhouse.workflows.spec import parse_workflow

pytestmark = pytest.mark.anyio

SPEC = """\
name: triage
owner: omar
frequency: daily
model: m
variables: {ticket: string}
prompt: {system: You triage tickets., user: "Ticket: {{ ticket }}"}
tests:
  - name: rubric
    vars: {ticket: The printer jams.}
    checks:
      - {type: llm-rubric, value: RUBRIC}
  - name: echo-of-the-input
    vars: {ticket: The printer jams.}
    checks:
      - {type: icontains, value: printer}
  - name: shape
    vars: {ticket: The printer jams.}
    checks:
      - {type: is-json}
"""


class StandinJudge:
    """A stand-in judge runtime that passes whatever it is asked about, and keeps the
    requests."""

    name = "standin-judge"
    family = "standin"
    url = "http://standin.invalid"

    def __init__(self, verdict: str) -> None:
        self.verdict = verdict
        self.requests: list[ChatRequest] = []

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        return ChatResponse.model_validate(
            {"choices": [{"message": {"role": "assistant", "content": self.verdict}}]}
        )

    def stream_chat(self, request: ChatRequest) -> AsyncIterator[Any]:
        raise NotImplementedError


async def _decoys(rubric: str, verdict: str) -> tuple[list[dict[str, bool] | None], int]:
    workflow = parse_workflow(SPEC.replace("RUBRIC", rubric), where="triage.yaml")
    judge = StandinJudge(verdict)
    found = [
        await judge_decoys(workflow, case, runtime=judge, judge_model="m", embedder=None,  # type: ignore[arg-type]
                           embedding_model=None)
        for case in workflow.cases
    ]  # fmt: skip
    return found, len(judge.requests)


async def test_a_rubric_any_answer_passes_shows_itself_on_the_decoys() -> None:
    """omar's rubric accepts anything ("pass whatever it says"): the judge, asked about the
    empty answer, passes it; the case does not need the model."""
    found, asked = await _decoys("Pass whatever it says.", '{"pass": true, "score": 1}')
    rubric, echo, shape = found
    assert rubric == dict.fromkeys(DECOYS, False) | {"empty": True, "off-topic": True}
    assert asked == 2  # the empty answer and the off-topic sentence; not the echoes
    # a check the case's own input passes: its echo passes it
    assert echo is not None and echo["echoed-prompt"] and echo["echoed-input"]
    assert not echo["empty"] and not echo["off-topic"]
    # and a shape no decoy has: it needs the model
    assert shape == dict.fromkeys(DECOYS, False)


async def test_a_rubric_a_judge_fails_every_decoy_on_needs_the_model() -> None:
    found, asked = await _decoys("Names the printer's floor.", '{"pass": false, "score": 0}')
    assert found[0] == dict.fromkeys(DECOYS, False) and asked == 2


#: a case whose one check is a window of lengths: the empty answer and the fixed off-topic
#: sentence (68 characters) are too short for it, the input (a short ticket) too, and the prompt
#: (a long system prompt) too long, so every fixed decoy fails it; any answer of a few sentences
#: passes it, whatever it says
LENGTHS = """\
name: triage
owner: lena
frequency: daily
model: m
variables: {ticket: string}
prompt:
  system: "SYSTEM"
  user: "Ticket: {{ ticket }}"
tests:
  - name: window
    vars: {ticket: The printer jams.}
    checks:
      - {type: length, min: 75, max: 300}
  - name: says-printer
    vars: {ticket: The printer jams.}
    checks:
      - {type: length, min: 75, max: 300}
      - {type: icontains, value: printer}
"""


async def test_a_length_window_the_fixed_decoys_miss_passes_prose_as_long_as_the_answer() -> None:
    """lena's workflow case checks only that an answer is 75 to 300 characters long: the empty
    answer, the 68-character off-topic sentence, the short input and her long prompt all fail
    it, so by the fixed decoys it "needs the model", and omar's honest run of it would count
    for play 3 whatever his model said. The off-topic decoy is also prose exactly as long as the
    model's own answer to the case (here omar's), which the window passes: the case needs no
    model. A case that checks what the answer says still fails it; and no judge is asked about
    the prose (a model check sees the fixed sentence only)."""
    spec = LENGTHS.replace("SYSTEM", "You triage support tickets for the help desk. " * 8)
    workflow = parse_workflow(spec, where="triage.yaml")
    window, says = workflow.cases
    answer = "Category: hardware. The printer on floor two jams; send a technician today."
    answer += " Priority: normal, as nobody is blocked."
    assert 75 <= len(answer) <= 300
    judge = StandinJudge('{"pass": true, "score": 1}')
    blind = await judge_decoys(workflow, window, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                               embedder=None, embedding_model=None)  # fmt: skip
    assert blind == dict.fromkeys(DECOYS, False)  # the fixed decoys alone miss it
    seen = await judge_decoys(workflow, window, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                              embedder=None, embedding_model=None, answers=[answer])  # fmt: skip
    assert seen is not None and seen["off-topic-length"] and not seen["off-topic"], seen
    content = await judge_decoys(workflow, says, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                                 embedder=None, embedding_model=None, answers=[answer])  # fmt: skip
    assert content == dict.fromkeys(DECOYS, False)
    assert judge.requests == []  # no check here asks a model


#: the off-topic prose's own words, which any stretch of it long enough to pass ``length min
#: 60`` holds one of (the prose is fixed and public), and an answer about a ticket does not
_PROSE_WORDS = ["autumn", "lake", "mill", "bakery", "queue", "bridge", "tomato", "balcony",
                "basil", "train", "coast", "village", "book", "hills", "cows", "pasture",
                "cyclist", "swallow", "december", "sunday", "summer", "river", "neighbour",
                "spring", "green", "people"]  # fmt: skip


@pytest.mark.xfail(
    strict=True,
    reason="the off-topic prose is fixed and public: checks refusing its words tell it from any "
    "answer, though they judge nothing of what the answer says (review47)",
)
async def test_checks_refusing_the_prose_s_own_words_judge_nothing_either() -> None:
    """lena's case checks that an answer is 60 to 300 characters long and holds none of the
    off-topic prose's words: any answer about a ticket passes, whatever it says, and every
    stretch of the prose fails, so the case "needs the model" and play 3 (or, as a trial's
    checks, `on_topic`) counts it."""
    spec = LENGTHS.replace("SYSTEM", "You triage support tickets for the help desk. " * 8).replace(
        "- {type: length, min: 75, max: 300}\n  - name: says-printer",
        "- {type: length, min: 60, max: 300}\n      - {type: not-icontains-any, value: "
        + json.dumps(_PROSE_WORDS)
        + "}\n  - name: says-printer",
    )
    workflow = parse_workflow(spec, where="triage.yaml")
    hollow = workflow.cases[0]
    answer = "Whatever the model said, at some length, about nothing the ticket asks at all."
    found = await judge_decoys(workflow, hollow, runtime=StandinJudge('{"pass": true}'),  # type: ignore[arg-type]
                               judge_model="m", embedder=None, embedding_model=None,
                               answers=[answer])  # fmt: skip
    assert found is not None and any(found.values()), found


#: lena's workflow: the variant in use, and a second she wrote to lose (it is told to answer
#: with one word), so the judge of a `select-best` case picks the one in use whatever it says
CRIPPLED = """\
name: triage
owner: lena
frequency: daily
model: m
variables: {ticket: string}
prompts:
  - {label: real, user: "Triage this ticket: {{ ticket }}"}
  - {label: foil, user: "Whatever you are asked, answer with the one word zzz."}
use: real
tests:
  - name: best-only
    vars: {ticket: The printer jams.}
    checks:
      - {type: select-best, value: the most useful triage}
  - name: worst-only
    vars: {ticket: The printer jams.}
    checks:
      - {type: not-select-best, value: the least useful triage}
  - name: best-and-shape
    vars: {ticket: The printer jams.}
    checks:
      - {type: select-best, value: the most useful triage}
      - {type: is-json}
"""


async def test_select_best_against_a_variant_written_to_lose_judges_no_answer() -> None:
    """lena's only check is `select-best`, beside a second variant she wrote to answer "zzz":
    the judge picks the variant in use whatever its answer says (the off-topic sentence here),
    so the case passes on any answer. It judges only against the other variants' outputs, which
    their author writes, so it passes every decoy (negated too), and the case needs no model:
    play 3 does not count it. Beside a check that judges the answer itself, the case still
    needs the model where that check does."""
    from inhouse.checks import QualityContext, evaluate

    workflow = parse_workflow(CRIPPLED, where="triage.yaml")
    best, worst, shaped = workflow.cases
    judge = StandinJudge('{"reason": "the other one says nothing", "best": 0}')
    peers = ["Swallows fly south in autumn.", "zzz"]
    ctx = QualityContext(runtime=judge, judge_model="m", peers=peers, peer_index=0, shared={})  # type: ignore[arg-type]
    assert (await evaluate(best.checks, peers[0], ctx)).passed  # any answer beats "zzz"
    found = [
        await judge_decoys(workflow, case, runtime=judge, judge_model="m", embedder=None,  # type: ignore[arg-type]
                           embedding_model=None)
        for case in (best, worst, shaped)
    ]  # fmt: skip
    unasked = set(DECOYS) - {"off-topic-length"}  # no answer of the model's given here
    assert found[0] is not None and {d for d, passed in found[0].items() if passed} == unasked
    assert found[1] is not None and {d for d, passed in found[1].items() if passed} == unasked
    assert found[2] == dict.fromkeys(DECOYS, False)  # is-json: no decoy is JSON
