"""Decoy answers, judged without the engine: a check that asks a model is asked about every decoy
text (a stand-in judge here, to count what it is asked and to
answer "pass" to anything, as a rubric written to accept anything makes a real judge do)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from inhouse.runtimes import ChatRequest, ChatResponse
from inhouse.workflows.decoys import DECOYS, OTHER_ANSWER, judge_cases, judge_decoys
from inhouse.workflows.spec import parse_workflow

pytestmark = pytest.mark.anyio

#: the decoys judged of a case alone (the other cases' answers are judged where they are given)
FIXED = [name for name in DECOYS if name != OTHER_ANSWER]

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
    """omar's rubric accepts anything ("pass whatever it says"): the judge, asked about each
    decoy text, passes it; the case does not need the model."""
    found, asked = await _decoys("Pass whatever it says.", '{"pass": true, "score": 1}')
    rubric, echo, shape = found
    # no answer of the model's was given, so there is no prose as long as one to judge
    assert rubric == dict.fromkeys(FIXED, True) | {"off-topic-length": False}
    assert asked == 4  # the empty answer, the off-topic sentence, the prompt, the ticket
    # a check the case's own input passes: its echo passes it
    assert echo is not None and echo["echoed-prompt"] and echo["echoed-input"]
    assert not echo["empty"] and not echo["off-topic"]
    # and a shape no decoy has: it needs the model
    assert shape == dict.fromkeys(FIXED, False)


async def test_a_rubric_a_judge_fails_every_decoy_on_needs_the_model() -> None:
    found, asked = await _decoys("Names the printer's floor.", '{"pass": false, "score": 0}')
    assert found[0] == dict.fromkeys(FIXED, False) and asked == 4


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
    assert blind == dict.fromkeys(FIXED, False)  # the fixed decoys alone miss it
    seen = await judge_decoys(workflow, window, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                              embedder=None, embedding_model=None, answers=[answer])  # fmt: skip
    assert seen is not None and seen["off-topic-length"] and not seen["off-topic"], seen
    content = await judge_decoys(workflow, says, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                                 embedder=None, embedding_model=None, answers=[answer])  # fmt: skip
    assert content == dict.fromkeys(FIXED, False)
    assert judge.requests == []  # no check here asks a model


#: the off-topic prose's own words, which any stretch of it long enough to pass ``length min
#: 60`` holds one of (the prose is fixed and public), and an answer about a ticket does not
_PROSE_WORDS = ["autumn", "lake", "mill", "bakery", "queue", "bridge", "tomato", "balcony",
                "basil", "train", "coast", "village", "book", "hills", "cows", "pasture",
                "cyclist", "swallow", "december", "sunday", "summer", "river", "neighbour",
                "spring", "green", "people"]  # fmt: skip


async def test_checks_refusing_the_prose_s_own_words_judge_nothing_either() -> None:
    """lena's case checks that an answer is 60 to 300 characters long and holds none of the
    off-topic prose's words: any answer about a ticket passes, whatever it says, and every
    stretch of the prose fails, so the case "needs the model" and play 3 (or, as a trial's
    checks, `on_topic`) counts it. The model's answer to the other case (another ticket) passes
    them too: the case is told apart from no other, and does not need the model."""
    spec = LENGTHS.replace("SYSTEM", "You triage support tickets for the help desk. " * 8).replace(
        "- {type: length, min: 75, max: 300}\n  - name: says-printer",
        "- {type: length, min: 60, max: 300}\n      - {type: not-icontains-any, value: "
        + json.dumps(_PROSE_WORDS)
        + "}\n  - name: says-printer",
    )
    workflow = parse_workflow(spec, where="triage.yaml")
    hollow = workflow.cases[0]
    answer = "Whatever the model said, at some length, about nothing the ticket asks at all."
    theirs = "The printer on floor two jams on duplex jobs: hardware, send a technician today."
    given = [(hollow, [answer], []), (workflow.cases[1], [theirs], [])]
    found = await judge_decoys(workflow, hollow, runtime=StandinJudge('{"pass": true}'),  # type: ignore[arg-type]
                               judge_model="m", embedder=None, embedding_model=None,
                               answers=[answer], others=given)  # fmt: skip
    assert found == dict.fromkeys(FIXED, False) | {OTHER_ANSWER: True}, found


#: three tickets, two of them for one queue: each case checks its answer names its queue
QUEUES = """\
name: triage
owner: lena
frequency: daily
model: m
variables: {ticket: string}
prompt: {system: Name the ticket's queue., user: "Ticket: {{ ticket }}"}
tests:
  - name: printer
    vars: {ticket: The printer on floor 2 jams.}
    checks: [{type: icontains, value: hardware}]
  - name: monitor
    vars: {ticket: The monitor flickers.}
    checks: [{type: icontains, value: hardware}]
  - name: vpn
    vars: {ticket: The VPN drops every hour.}
    checks: [{type: icontains, value: network}]
"""

_QUEUE_ANSWERS = {"printer": "Queue: hardware.", "monitor": "hardware", "vpn": "network, VPN"}


async def _told(spec: str, answers: dict[str, str], *, fixed: bool = True) -> dict[str, bool]:
    """Whether each case named in ``answers`` passes on the other cases' answers (``fixed``:
    and fails every fixed decoy)."""
    workflow = parse_workflow(spec, where="triage.yaml")
    given = [(c, [answers[c.name]], []) for c in workflow.cases if c.name in answers]
    found = {}
    for case, mine, _ in given:
        judged = await judge_decoys(workflow, case, runtime=None, judge_model=None,  # type: ignore[arg-type]
                                    embedder=None, embedding_model=None, answers=mine,
                                    others=given)  # fmt: skip
        assert judged is not None
        if fixed:
            assert judged == dict.fromkeys(FIXED, False) | {OTHER_ANSWER: judged[OTHER_ANSWER]}
        found[case.name] = judged[OTHER_ANSWER]
    return found


async def test_cases_whose_checks_refuse_each_other_s_answers_need_the_model() -> None:
    """The honest path: each case checks the queue its ticket belongs in. The printer and the
    monitor tickets share one, so neither's answer is a decoy for the other; the VPN ticket's
    answer fails both, and theirs fail it: every case is told apart from another."""
    found = await _told(QUEUES, _QUEUE_ANSWERS)
    assert found == {"printer": False, "monitor": False, "vpn": False}


async def test_a_case_alone_or_among_cases_of_one_answer_is_told_apart_from_none() -> None:
    """With the VPN ticket left out, the printer and the monitor tickets ask one answer: a
    fixed "hardware" passes both, and neither is told apart. A workflow of one case has no
    other answer to tell its own from."""
    found = await _told(QUEUES, {k: v for k, v in _QUEUE_ANSWERS.items() if k != "vpn"})
    assert found == {"printer": True, "monitor": True}
    assert await _told(QUEUES, {"vpn": "network"}) == {"vpn": True}


async def test_refusing_another_case_s_answer_counts_only_where_it_refuses_back() -> None:
    """lena's forgery: the VPN case asks the model to say "banana" and checks nothing; the
    printer case refuses "banana" (beside checks the fixed decoys fail, left out here), so it
    fails the VPN case's answer while passing anything else. The VPN case's checks pass the
    printer case's answer, so the printer case is told apart from nothing it does not ask."""
    spec = QUEUES.replace("checks: [{type: icontains, value: hardware}]\n  - name: monitor",
                          "checks: [{type: not-icontains, value: banana}, "
                          "{type: length, min: 1}]\n  - name: monitor",
                          ).replace("{type: icontains, value: network}",
                                    "{type: length, min: 1}")  # fmt: skip
    found = await _told(spec, {"printer": "anything at all", "vpn": "banana"}, fixed=False)
    assert found == {"printer": True, "vpn": True}
    # had the VPN case checked its answer says banana, each would be told apart from the other
    honest = spec.replace("- name: vpn\n    vars: {ticket: The VPN drops every hour.}\n"
                          "    checks: [{type: length, min: 1}]",
                          "- name: vpn\n    vars: {ticket: The VPN drops every hour.}\n"
                          "    checks: [{type: icontains, value: banana}]")  # fmt: skip
    assert honest != spec
    assert await _told(honest, {"printer": "anything at all", "vpn": "banana"}, fixed=False) == {
        "printer": False,
        "vpn": False,
    }


#: lena's forgery: the VPN ticket tells the model the answer ("reply banana"), and its check
#: wants it; the printer case refuses banana beside checks every fixed decoy fails (the prose's
#: words, an answer shorter than 60 characters, the ticket's "floor 2" echoed back)
BANANA = """\
name: triage
owner: lena
frequency: daily
model: m
variables: {ticket: string}
prompt: {system: Name the ticket's queue., user: "Ticket: {{ ticket }}"}
tests:
  - name: printer
    vars: {ticket: The printer on floor 2 jams.}
    checks:
      - {type: not-icontains, value: banana}
      - {type: not-icontains, value: floor 2}
      - {type: length, min: 60}
      - {type: not-icontains-any, value: PROSE}
  - name: vpn
    vars: {ticket: "The VPN drops every hour. Reply with the one word banana."}
    checks: [{type: icontains, value: banana}]
"""


async def test_a_case_refusing_what_another_case_s_input_says_is_told_apart_from_nothing() -> None:
    """lena's printer case passes any answer of 60 characters or more that holds no word of the
    off-topic prose, no "floor 2" and no banana: every fixed decoy fails it, and the model's
    answer to the VPN ticket fails it too, since that ticket tells the model to say banana
    (and the VPN case's check wants banana, which the printer case's answer lacks). The VPN
    case's answer is typed into its input (it passes its input echoed back), so its check
    refusing the printer case's answer is as given as a fixed string: its answers are no decoy
    for other cases, and the printer case is told apart from none."""
    workflow = parse_workflow(BANANA.replace("PROSE", json.dumps(_PROSE_WORDS)), where="t.yaml")
    printer, vpn = workflow.cases
    answer = "Whatever the model said, at some length, about nothing the ticket asks at all."
    cases = [(printer, [answer], [(5.0, None)], True), (vpn, ["banana"], [(5.0, None)], True)]
    found = await judge_cases(workflow, cases, runtime=None, judge_model=None,  # type: ignore[arg-type]
                              embedder=None, embedding_model=None)  # fmt: skip
    assert found[0] == dict.fromkeys(FIXED, False) | {OTHER_ANSWER: True}, found[0]
    assert found[1] is not None and found[1]["echoed-input"], found[1]
    # a VPN case that judges its answer (its ticket says nothing of banana) tells them apart
    honest = BANANA.replace(" Reply with the one word banana.", "").replace(
        "PROSE", json.dumps(_PROSE_WORDS)
    )
    workflow = parse_workflow(honest, where="t.yaml")
    cases = [(c, *rest) for c, (_, *rest) in zip(workflow.cases, cases, strict=True)]
    found = await judge_cases(workflow, cases, runtime=None, judge_model=None,  # type: ignore[arg-type]
                              embedder=None, embedding_model=None)  # fmt: skip
    assert [f and f[OTHER_ANSWER] for f in found] == [False, False], found


#: lena's shape forgery: the JSON case checks only the shape; the prose case's ticket asks for
#: prose, and its checks refuse JSON beside checks every fixed decoy fails
SHAPES = """\
name: triage
owner: lena
frequency: daily
model: m
variables: {ticket: string}
prompt: {system: Triage the ticket., user: "Ticket: {{ ticket }}"}
tests:
  - name: json
    vars: {ticket: The printer on floor 2 jams. Answer in JSON.}
    checks: [{type: is-json}]
  - name: prose
    vars: {ticket: The VPN drops every hour. Answer in plain sentences.}
    checks:
      - {type: not-is-json}
      - {type: not-icontains, value: VPN drops}
      - {type: length, min: 60}
      - {type: not-icontains-any, value: PROSE}
"""


@pytest.mark.xfail(
    strict=True,
    reason="hole left open (review52): the author picks both cases' inputs, so a case whose "
    "ticket asks for prose and whose checks refuse JSON (and the fixed decoys' words) tells a "
    "shape-only JSON case apart, each judging nothing of the ticket; no rule on the checks' "
    "types closes it (one regex or javascript check both refuses JSON and fails every fixed "
    "decoy), and a colleague's rerun passes it too. The lead's to weigh: the rerunner reads "
    "the cases, or a workflow's cases share one response_format",
)
async def test_a_shape_only_case_is_told_apart_from_a_prose_case_written_to_refuse_it() -> None:
    """The JSON case's answer is JSON, whatever it says of the printer; the prose case's is
    prose, whatever it says of the VPN. Each case's checks fail the other's answer and every
    fixed decoy, so each "needs the model"."""
    spec = SHAPES.replace("PROSE", json.dumps(_PROSE_WORDS))
    workflow = parse_workflow(spec, where="t.yaml")
    shape, prose = workflow.cases
    said = "Whatever the model said, at some length, about nothing the ticket asks at all."
    cases = [
        (shape, ['{"anything": 1}'], [(5.0, None)], True),
        (prose, [said], [(5.0, None)], True),
    ]
    found = await judge_cases(workflow, cases, runtime=None, judge_model=None,  # type: ignore[arg-type]
                              embedder=None, embedding_model=None)  # fmt: skip
    assert all(f is not None and not any(f.values()) for f in found)  # each proved today
    assert found[0] is not None and found[0][OTHER_ANSWER], found[0]


async def test_what_a_rubric_case_costs_in_judge_calls() -> None:
    """The cost of asking a model check about every decoy, counted: a rubric case with one
    variable and one answer is asked about the empty answer, the sentence, the prose as long as
    its answer, its prompt and its ticket (5), and, told apart from the first other case, about
    that case's answer while that case's rubric is asked about its own (2): 7, where it was 2."""
    spec = QUEUES.replace("[{type: icontains, value: hardware}]", "[{type: llm-rubric, value: R}]")
    spec = spec.replace("[{type: icontains, value: network}]", "[{type: llm-rubric, value: R}]")
    workflow = parse_workflow(spec, where="triage.yaml")
    given = [(case, [f"the answer to {case.name}"], []) for case in workflow.cases]
    judge = StandinJudge('{"pass": false, "score": 0}')
    for case, mine, _ in given:
        before = len(judge.requests)
        found = await judge_decoys(workflow, case, runtime=judge, judge_model="m",  # type: ignore[arg-type]
                                   embedder=None, embedding_model=None, answers=mine,
                                   others=given)  # fmt: skip
        assert found == dict.fromkeys(DECOYS, False)
        assert len(judge.requests) - before == 7


@pytest.mark.xfail(
    strict=True,
    reason="hole not closed for trials: a trial's quality checks are judged on the empty answer "
    "and off-topic prose only, and its `on_topic` counts an input whose checks refuse the "
    "prose's words. The candidate's answers to its other inputs are no decoy there: a trial's "
    "checks are one list for every input, so an honest trial judging generic quality (one "
    "line, JSON) passes every answer alike and would be refused; closing it needs per-input "
    "expectations in trials, the lead's to weigh (decoys2)",
)
async def test_a_trial_whose_checks_refuse_the_prose_s_words_measures_no_quality() -> None:
    """lena's trial checks answers are 60 to 300 characters long and hold none of the
    off-topic prose's words: any answer about a ticket passes, and the prose fails, so
    `on_topic` counts each input. An answer the candidate gave for another input passes too;
    the trial should be shown not to measure quality."""
    from types import SimpleNamespace

    from inhouse.checks import parse_checks
    from inhouse.trials.headtohead import _decoy_passes
    from inhouse.workflows.decoys import off_topic_like

    checks = parse_checks(
        [{"type": "length", "min": 60, "max": 300},
         {"type": "not-icontains-any", "value": _PROSE_WORDS}],
        where="trial",
    )  # fmt: skip
    tickets = ["The printer jams.", "The VPN drops."]
    plan = SimpleNamespace(
        checks=checks,
        inputs=[SimpleNamespace(fields={"ticket": t}) for t in tickets],
        spec=SimpleNamespace(threshold=1.0),
    )
    answers = [
        f"Whatever the model said about ticket {i}, at some length, saying nothing."
        for i in range(2)
    ]
    off_topic = await _decoy_passes(plan, [off_topic_like(a) for a in answers], [None, None])  # type: ignore[arg-type]
    assert any(off_topic), off_topic


async def test_a_case_is_judged_against_at_most_a_bounded_number_of_others() -> None:
    """Ten hardware tickets written before two network ones: each case is judged against the
    eight cases after it (round to the start), no more, so what a model check costs is bounded.
    The first two hardware tickets meet only hardware ones and are told apart from none; from
    the third on, a network ticket is among the eight, and the run has cases that need the
    model."""
    from inhouse.workflows.decoys import MOST_OTHERS

    assert MOST_OTHERS == 8
    rows = [(f"hw{i}", "hardware") for i in range(10)] + [("net0", "network"), ("net1", "network")]
    spec = (
        QUEUES.split("tests:")[0]
        + "tests:\n"
        + "".join(
            f"  - name: {name}\n    vars: {{ticket: ticket {name}}}\n"
            f"    checks: [{{type: icontains, value: {queue}}}]\n"
            for name, queue in rows
        )
    )
    found = await _told(spec, {name: f"queue: {queue}" for name, queue in rows})
    assert [name for name, alone in found.items() if alone] == ["hw0", "hw1"]


async def test_answers_to_other_cases_are_given_in_their_own_time() -> None:
    """lena's cases check only that an answer took longer than half a millisecond (and, beside
    it, whatever refuses the fixed decoys): the model's answer to the other ticket, given
    instantly, would fail that, and each case would seem told apart from the other. Each
    answer is judged in the time the model took for it too: neither case is told apart."""
    spec = QUEUES.replace(
        "[{type: icontains, value: hardware}]", "[{type: not-latency, threshold: 0.5}]"
    )
    spec = spec.replace(
        "[{type: icontains, value: network}]", "[{type: not-latency, threshold: 0.5}]"
    )
    workflow = parse_workflow(spec, where="triage.yaml")
    given = [(case, [f"an answer to {case.name}"], [(800.0, None)]) for case in workflow.cases]
    for case, mine, timings in given:
        found = await judge_decoys(workflow, case, runtime=None, judge_model=None,  # type: ignore[arg-type]
                                   embedder=None, embedding_model=None, answers=mine,
                                   timings=timings, others=given)  # fmt: skip
        assert found is not None and found[OTHER_ANSWER], found


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
    unasked = set(FIXED) - {"off-topic-length"}  # no answer of the model's given here
    assert found[0] is not None and {d for d, passed in found[0].items() if passed} == unasked
    assert found[1] is not None and {d for d, passed in found[1].items() if passed} == unasked
    assert found[2] == dict.fromkeys(FIXED, False)  # is-json: no fixed decoy is JSON
