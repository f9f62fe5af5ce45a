"""Decoy answers: what a test case is judged on besides the model's answers, to see whether its
checks need the model at all.

A case whose checks pass an answer the model never gave for it (nothing at all, a sentence
about something else, the case's own prompt or input handed back) would pass whatever the model
said: ``length min 1``, a pattern like ``.+``, ``contains`` of one common letter, a script that
returns true, a transform that rewrites every answer into a passing one. Its author alone could
make it pass, and a colleague's rerun of it shows nothing. A case *proves* something of the
workflow only where its checks fail on every decoy (:attr:`CaseReport.proved
<inhouse.workflows.report.CaseReport.proved>`); play 3 sets aside a run with no such case.

The fixed decoys are public, so checks can be written to refuse exactly them (none of the
off-topic prose's words, not similar to the fixed sentence) and still pass anything a model says.
The last decoy is no fixed text: the model's own answers to the workflow's *other* cases
(:data:`OTHER_ANSWER`). A case is told apart from another case where each one's checks fail the
other's answer: its checks judge what its answer says about its own input, and theirs refuse
its answer. The other case must fail every fixed decoy itself (:func:`judge_cases`): one whose
input tells the model its right answer passes that input echoed back, and refuses another's
answer as a fixed string would. A case told apart from none (its checks pass every other
answer, or every case whose answer they fail accepts its answer too; or the workflow has no
other case) passes on that decoy: a check that passes any model answer passes the model's
answer to another ticket, an answer the runtime writes whatever the input (a
``response_format`` schema with one instance) is the same for every case, and a shape every
answer has is in each. Two cases with one right answer (two printer tickets) are not told
apart, and need not be: a third with another right answer tells each of them apart.

Decoys are judged here, on this machine, and cost no generation. Each is given instantly and
for nothing, and, where the case's checks may judge time or cost (``latency``, ``cost``, or a
``python`` check, whose function is handed both), in the time and at the cost of each of the
model's own answers too: ``not-latency`` fails an answer given instantly whatever it says, and
passes any the model gives. A check that asks a model (``llm-rubric``, ``factuality``,
``similar``, …) is asked about every decoy text (once each), so a check describing only some
decoys (``not-similar`` to the fixed sentence) shows itself on the others: a model call per
check and decoy text, at most ``3 + repeat + variables`` texts a case, and, for each other case
it is judged against (at most :data:`MOST_OTHERS`, stopping at the first it is told apart
from), one per answer of the model's to either case. Once each: a decoy judged at several
times and costs, or two cases judged against each other from both sides, ask the same question
again, and the model is asked it once (:class:`_AskedOnce`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from inhouse.checks import QualityContext, evaluate
from inhouse.checks.javascript import Script, transform_output
from inhouse.checks.measured import may_read_measured
from inhouse.errors import InvalidInput

if TYPE_CHECKING:
    from inhouse.checks.embeddings import Embedder
    from inhouse.runtimes import ChatRequest, ChatResponse, Runtime
    from inhouse.workflows.spec import Case, Workflow

T = TypeVar("T")

__all__ = [
    "DECOYS",
    "ECHOED_INPUT",
    "ECHOED_PROMPT",
    "EMPTY",
    "MOST_OTHERS",
    "OFF_TOPIC",
    "OFF_TOPIC_LENGTH",
    "OFF_TOPIC_TEXT",
    "OTHER_ANSWER",
    "judge_cases",
    "judge_decoys",
    "off_topic_like",
]

#: a judged case, the model's answers to it, and the time (ms) and cost of each
Given = tuple["Case", Sequence[str], Sequence[tuple[float | None, float | None]]]

#: a case of a run: the case, the model's answers to it (None: a generation that failed), the
#: time (ms) and cost of each, and whether the case passed (:func:`judge_cases`)
Judged = tuple["Case", Sequence[str | None], Sequence[tuple[float | None, float | None]], bool]

EMPTY = "empty"
OFF_TOPIC = "off-topic"
OFF_TOPIC_LENGTH = "off-topic-length"
ECHOED_PROMPT = "echoed-prompt"
ECHOED_INPUT = "echoed-input"
OTHER_ANSWER = "other-answer"

#: each decoy, in the order a case is judged on them, with how a person reads it ("case X
#: passes on {…}")
DECOYS = {
    EMPTY: "an empty answer",
    OFF_TOPIC: "an off-topic sentence",
    OFF_TOPIC_LENGTH: "off-topic prose as long as the model's answer",
    ECHOED_PROMPT: "its own prompt echoed back",
    ECHOED_INPUT: "its own input echoed back (a variable's value)",
    OTHER_ANSWER: "the model's answers to its other cases (none fails its checks while its "
    "answer fails theirs)",
}

#: a fluent answer to no case: well-formed English about nothing a workflow (or a trial) is asked
OFF_TOPIC_TEXT = "Swallows fly south in autumn, and the lake freezes over by December."

#: more of the same, for :func:`off_topic_like`: prose about nothing a task asks, in words and
#: sentences of everyday length
_OFF_TOPIC_PROSE = (
    f"{OFF_TOPIC_TEXT} The old mill by the river was turned into a bakery, and on Sundays "
    "the queue reaches the bridge. Our neighbour grows tomatoes on the balcony; last summer "
    "they ripened late, but the basil did well. The train to the coast leaves at seven and "
    "stops at every village on the way, so most people take a book. In the spring the hills "
    "turn green again, the cows go back up to the pastures and the first cyclists appear on "
    "the pass. "
)


def off_topic_like(answer: str | None) -> str:
    """Off-topic prose exactly as long as ``answer`` (:data:`OFF_TOPIC_TEXT` for none, or an
    empty one): a decoy a length bound cannot tell from the answer. A check the answer passes
    but a fixed sentence fails only by its length (``length min 80``: the sentence is shorter)
    judges no more than ``length min 1`` does; judged on prose of the answer's own length, it
    passes, as checks that judge what the answer says do not. Where in the prose it starts
    follows from the answer (the same answer, the same decoy), so no one word of it is in every
    decoy for a check to refuse."""
    size = len(answer or "")
    if size == 0:
        return OFF_TOPIC_TEXT
    start = int(hashlib.sha256((answer or "").encode()).hexdigest()[:8], 16)
    start %= len(_OFF_TOPIC_PROSE)
    prose = _OFF_TOPIC_PROSE * ((start + size) // len(_OFF_TOPIC_PROSE) + 1)
    return prose[start : start + size]


def _texts(workflow: Workflow, case: Case, answers: Sequence[str]) -> dict[str, list[str]]:
    """Each decoy's answers: one each, but the input's, which hands back each of the case's
    variables on its own (one of them may be the answer, typed into the input), and the
    off-topic one's, which adds prose as long as each of the model's own ``answers`` to the
    case (a length bound that the fixed sentence fails by its length alone passes it)."""
    prompt = "\n\n".join(message["content"] for message in workflow.messages(case.vars))
    values = [v if isinstance(v, str) else json.dumps(v, default=str) for v in case.vars.values()]
    return {
        EMPTY: [""],
        OFF_TOPIC: [OFF_TOPIC_TEXT],
        OFF_TOPIC_LENGTH: list(dict.fromkeys(off_topic_like(a) for a in answers if a)),
        ECHOED_PROMPT: [prompt],
        ECHOED_INPUT: list(dict.fromkeys(v for v in values if v)),
    }


async def judge_decoys(
    workflow: Workflow,
    case: Case,
    *,
    runtime: Runtime,
    judge_model: str | None,
    embedder: Embedder | None,
    embedding_model: str | None,
    answers: Sequence[str] = (),
    timings: Sequence[tuple[float | None, float | None]] = (),
    others: Sequence[Given] | None = None,
) -> dict[str, bool] | None:
    """Whether ``case``'s checks (after its transform) pass each decoy answer, given instantly
    and for nothing to the variant in use's prompt, by decoy (:data:`DECOYS`'s order); None for
    a comparison case (nothing is judged). ``answers``: the model's own answers to the case (the
    variant in use's), whose lengths the off-topic prose takes. ``timings``: the time (ms) and
    cost of each of those answers; where the case's checks judge time or cost, a decoy is judged
    given in each of them too, so a bound the other way (``not-latency``, which an instant
    answer alone fails) cannot tell a decoy from an answer. ``others``: the workflow's other
    judged cases, each with the model's answers to it (the variant in use's) and their times
    and costs, for :data:`OTHER_ANSWER` (None: not judged, left out of the result); a run
    judges its cases with :func:`judge_cases`, which gives only those that passed and fail
    every fixed decoy."""
    if case.comparison:
        return None
    runtime, embedder = _asked_once(runtime), _embedded_once(embedder)
    texts = _texts(workflow, case, answers)
    [prompt] = texts[ECHOED_PROMPT]
    instant = (0.0, None if workflow.spec.cost is None else 0.0)
    found: dict[str, bool] = {}
    for name, decoys in texts.items():
        found[name] = False
        for text in decoys:
            if await _passes_any_time(workflow, case, text, prompt, runtime=runtime,
                                      judge_model=judge_model, embedder=embedder,
                                      embedding_model=embedding_model,
                                      when=_when(case, instant, timings)):  # fmt: skip
                found[name] = True
                break
    if others is not None:
        found[OTHER_ANSWER] = not await _told_apart_from_any(
            workflow, (case, answers, timings), others, runtime=runtime,
            judge_model=judge_model, embedder=embedder, embedding_model=embedding_model,
            instant=instant,
        )  # fmt: skip
    return found


async def judge_cases(
    workflow: Workflow,
    cases: Sequence[Judged],
    *,
    runtime: Runtime,
    judge_model: str | None,
    embedder: Embedder | None,
    embedding_model: str | None,
) -> list[dict[str, bool] | None]:
    """:func:`judge_decoys` for each of a run's ``cases`` (in order), :data:`OTHER_ANSWER`
    included. The other cases whose answers are that decoy are those that passed and fail
    every fixed decoy themselves: a case whose right answer is typed into its input (its
    ticket says "reply banana", its check wants banana) passes its own input echoed back, and
    its checks refusing another case's answer are as given as a fixed string is, so a case
    refusing that answer (``not-icontains banana``) would be told apart from it while judging
    nothing of its own."""
    # one question asked once for the whole run: a pair of cases is judged from both sides
    runtime, embedder = _asked_once(runtime), _embedded_once(embedder)
    fixed = await asyncio.gather(
        *(
            judge_decoys(workflow, case, runtime=runtime, judge_model=judge_model,
                         embedder=embedder, embedding_model=embedding_model,
                         answers=[a or "" for a in answers],
                         timings=_answered(answers, timings))
            for case, answers, timings, _ in cases
        )
    )  # fmt: skip
    others: list[Given] = [
        (case, [a or "" for a in answers], list(timings))
        for (case, answers, timings, passed), found in zip(cases, fixed, strict=True)
        if passed and found is not None and not any(found.values())
    ]
    instant = (0.0, None if workflow.spec.cost is None else 0.0)

    async def other(given: Judged, found: dict[str, bool] | None) -> dict[str, bool] | None:
        if found is None:
            return None
        case, answers, timings, _ = given
        mine: Given = (case, [a or "" for a in answers], _answered(answers, timings))
        told = await _told_apart_from_any(workflow, mine, others, runtime=runtime,
                                          judge_model=judge_model, embedder=embedder,
                                          embedding_model=embedding_model,
                                          instant=instant)  # fmt: skip
        return {**found, OTHER_ANSWER: not told}

    return list(await asyncio.gather(*(other(g, f) for g, f in zip(cases, fixed, strict=True))))


def _answered(
    answers: Sequence[str | None], timings: Sequence[tuple[float | None, float | None]]
) -> list[tuple[float | None, float | None]]:
    """The times and costs of those of ``answers`` the model gave (a failed generation: None)."""
    return [t for a, t in zip(answers, timings, strict=True) if a is not None]


async def _told_apart_from_any(
    workflow: Workflow,
    mine: Given,
    others: Sequence[Given],
    *,
    runtime: Runtime,
    judge_model: str | None,
    embedder: Embedder | None,
    embedding_model: str | None,
    instant: tuple[float, float | None],
) -> bool:
    """Whether ``mine`` is told apart (:func:`_told_apart`) from one of the nearest
    ``others`` (:func:`_nearest`), stopping at the first."""
    for other in _nearest(mine[0], others):
        if await _told_apart(workflow, mine, other, runtime=runtime, judge_model=judge_model,
                             embedder=embedder, embedding_model=embedding_model,
                             instant=instant):  # fmt: skip
            return True
    return False


#: the most other cases a case is judged against (each may cost two model calls): a bound on
#: what asking model checks costs, which only makes a case harder to tell apart, never easier
MOST_OTHERS = 8


def _nearest(case: Case, others: Sequence[Given]) -> list[Given]:
    """The other judged cases ``case`` is judged against, at most :data:`MOST_OTHERS`, from the
    one after it in the workflow on (round to the start): of cases written in groups of one
    right answer, the last of a group meets the next group's first."""
    at = next((i for i, given in enumerate(others) if given[0] is case), -1)
    turned = [*others[at + 1 :], *others[: max(at, 0)]]
    return [g for g in turned if g[0] is not case and not g[0].comparison][:MOST_OTHERS]


def _when(
    case: Case,
    instant: tuple[float, float | None],
    timings: Sequence[tuple[float | None, float | None]],
) -> list[tuple[float | None, float | None]]:
    """The times and costs ``case``'s decoys are given in: instantly and for nothing, and, where
    its checks judge time or cost, each of ``timings`` too."""
    timed = may_read_measured(case.checks)
    return list(dict.fromkeys([instant, *(timings if timed else ())]))


async def _told_apart(
    workflow: Workflow,
    mine: Given,
    yours: Given,
    *,
    runtime: Runtime,
    judge_model: str | None,
    embedder: Embedder | None,
    embedding_model: str | None,
    instant: tuple[float, float | None],
) -> bool:
    """Whether one case's checks (``mine``) fail every answer of the model's to the other
    (``yours``) and the other's checks fail every answer of its to the first: each judges
    what its own answer says, not merely that there is one. Each answer is given instantly and
    for nothing and, where the judging case's checks judge time or cost, in the time and at the
    cost of that case's own answers too (a ``not-latency`` tells no answer from another)."""
    if not [a for a in mine[1] if a] or not [a for a in yours[1] if a]:
        return False  # no answer to tell apart (every generation failed)
    for (judged, _, timings), (_, texts, _) in ((mine, yours), (yours, mine)):
        prompt = "\n\n".join(m["content"] for m in workflow.messages(judged.vars))
        for text in (t for t in texts if t):
            if await _passes_any_time(workflow, judged, text, prompt, runtime=runtime,
                                      judge_model=judge_model, embedder=embedder,
                                      embedding_model=embedding_model,
                                      when=_when(judged, instant, timings)):  # fmt: skip
                return False
    return True


async def _passes_any_time(
    workflow: Workflow,
    case: Case,
    text: str,
    prompt: str,
    *,
    runtime: Runtime,
    judge_model: str | None,
    embedder: Embedder | None,
    embedding_model: str | None,
    when: Sequence[tuple[float | None, float | None]],
) -> bool:
    for latency_ms, cost in when:
        if await _passes(
            workflow, case, text, prompt,
            runtime=runtime,
            judge_model=judge_model,
            embedder=embedder,
            embedding_model=embedding_model,
            latency_ms=latency_ms,
            cost=cost,
        ):  # fmt: skip
            return True
    return False


class _AskedOnce:
    """The judge runtime as decoys are judged with it: each question (the same request) asked
    once, its answer given to every check that asks it again. A decoy is judged at each time
    and cost a check may read, and two cases are judged against each other from both sides:
    a check that asks a model asked the same about the same text each time (its request holds
    no time), so the judge was asked again and again for an answer it had given (a judge asks
    at temperature 0). Anything but ``chat`` is the runtime's own."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._asked: dict[str, asyncio.Future[ChatResponse]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime, name)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return await _once(self._asked, request.model_dump_json(),
                           lambda: self._runtime.chat(request))  # fmt: skip


class _EmbeddedOnce:
    """The embedder as decoys are judged with it: each list of texts embedded once
    (:class:`_AskedOnce`, for ``similar``)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.name, self.url = embedder.name, embedder.url
        self._asked: dict[str, asyncio.Future[list[list[float]]]] = {}

    async def embed(self, texts: Sequence[str], *, model: str | None = None) -> list[list[float]]:
        key = json.dumps([model, list(texts)])
        return await _once(self._asked, key, lambda: self._embedder.embed(texts, model=model))


async def _once(
    asked: dict[str, asyncio.Future[T]], key: str, ask: Callable[[], Awaitable[T]]
) -> T:
    """``ask()``'s answer, asked once for ``key``: a second asker waits for the first's answer
    (or its error); one cancelled while it waits cancels no one else's."""
    found = asked.get(key)
    if found is None:
        found = asked[key] = asyncio.ensure_future(ask())
    return await asyncio.shield(found)


def _asked_once(runtime: Runtime) -> Runtime:
    if runtime is None or isinstance(runtime, _AskedOnce):
        return runtime
    return cast("Runtime", _AskedOnce(runtime))


def _embedded_once(embedder: Embedder | None) -> Embedder | None:
    if embedder is None or isinstance(embedder, _EmbeddedOnce):
        return embedder
    return _EmbeddedOnce(embedder)


async def _passes(
    workflow: Workflow,
    case: Case,
    output: str,
    prompt: str,
    *,
    runtime: Runtime | None,
    judge_model: str | None,
    embedder: Embedder | None,
    embedding_model: str | None,
    latency_ms: float | None,
    cost: float | None,
) -> bool:
    if case.transform:
        context: dict[str, Any] = {"vars": case.vars, "prompt": prompt}
        try:
            output = await transform_output(Script(case.transform), output, context)
        except InvalidInput:
            return False
    ctx = QualityContext(
        vars=case.vars,
        latency_ms=latency_ms,
        cost=cost,
        runtime=runtime,
        judge_model=judge_model if runtime is not None else None,
        embedder=embedder,
        embedding_model=embedding_model if embedder is not None else None,
        prompt=prompt,
        tools=workflow.spec.parameters.tools,
        peers=[output],
        peer_index=0,
        shared={},
        decoy=True,
    )
    judged = await evaluate(case.checks, output, ctx, threshold=case.threshold)
    return judged.passed
