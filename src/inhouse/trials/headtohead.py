"""Run a trial head to head and decide (:func:`run_head_to_head`): nothing is recorded and
nothing is written here (:mod:`inhouse.trials.prove` does that).

Each step is one function: plan the trial (its files, checked before anything is sent), build
and connect both sides, let each answer every input, cost each answer, check each output's
quality, account for where the task data went, and fold it all into a verdict with intervals.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from inhouse.checks import CaseResult, QualityContext, evaluate
from inhouse.checks.measured import may_read_measured, maybe_timed, moved
from inhouse.program.playchecks._shared import NOTHING_PASSED, NOTHING_PASSED_NEXT
from inhouse.trials.cost import CostBreakdown
from inhouse.trials.load import PhaseProgress
from inhouse.trials.plan import TrialPlan, plan_trial
from inhouse.trials.privacy import SidePrivacy, TextScanner, compare_privacy
from inhouse.trials.sides import Answers, CandidateSide, Side
from inhouse.trials.statusquo import StatusQuoSide, status_quo_side
from inhouse.trials.verdict import Verdict, compare_dimension, compare_quality, decide
from inhouse.workflows.decoys import off_topic_like

__all__ = ["SideResult", "TrialOutcome", "run_head_to_head", "run_planned"]

#: the order each input's answers are judged in (:func:`_quality`): drawn from the system's
#: randomness, which no trial file sets
_RANDOM = random.SystemRandom()

#: the progress phase of the quality checks
QUALITY_PHASE = "quality checks"

S = TypeVar("S", bound=Side, covariant=True)


@dataclass(frozen=True)
class SideResult(Generic[S]):
    """What one side did: its answers, their cost, their quality cases and where data went."""

    side: S
    answers: Answers
    cost: CostBreakdown
    #: per input, the checks' result (None: no output, a failed case); None where the side's
    #: outputs are not checked (the manual process's stated pass rate)
    cases: list[CaseResult | None] | None
    privacy: SidePrivacy

    @property
    def passed(self) -> list[bool] | None:
        """Per input, whether its output passed the quality checks."""
        if self.cases is None:
            return None
        return [c is not None and c.passed for c in self.cases]


@dataclass(frozen=True)
class TrialOutcome:
    """A trial run head to head and decided."""

    plan: TrialPlan
    candidate: SideResult[CandidateSide]
    status_quo: SideResult[StatusQuoSide]
    verdict: Verdict
    #: per input, whether the quality checks pass an empty answer, given instantly and for
    #: nothing (None: not judged): checks that do would pass whatever the model said
    blank_passes: tuple[bool, ...] | None = None
    #: per input, whether they pass fluent prose about something else, as long as the
    #: candidate's answer (:func:`inhouse.workflows.decoys.off_topic_like`; None: not judged):
    #: checks that do (a length bound alone, a pattern any text matches) pass any answer at all
    off_topic_passes: tuple[bool, ...] | None = None
    #: the quality checks besides ``latency`` and ``cost`` (a ``python`` check, handed both)
    #: whose result on one side's answer moved when judged at the other side's time and cost on
    #: that input instead of its own, as a person reads them
    read_time_or_cost: tuple[str, ...] = ()

    @property
    def proved(self) -> int | None:
        """How many inputs the candidate passed that an empty answer fails: 0 says its quality
        checks pass whatever the model says, so "at acceptable quality" says nothing (play 1
        and play 2's rerun read it). None where it was not judged."""
        passed = self.candidate.passed
        if passed is None or self.blank_passes is None:
            return None
        return sum(ok and not blank for ok, blank in zip(passed, self.blank_passes, strict=True))

    @property
    def on_topic(self) -> int | None:
        """How many inputs the candidate passed that both an empty answer and off-topic prose
        as long as its answer fail: 0 says its quality checks pass any answer at all (a length
        bound, a pattern any text matches), so "at acceptable quality" says nothing of what the
        answers say (play 1 and play 2's rerun read it, outside a demo). None where it was not
        judged."""
        passed = self.candidate.passed
        if passed is None or self.blank_passes is None or self.off_topic_passes is None:
            return None
        judged = zip(passed, self.blank_passes, self.off_topic_passes, strict=True)
        return sum(ok and not blank and not off for ok, blank, off in judged)

    @property
    def status_quo_unanswered(self) -> int | None:
        """How many inputs a status quo whose outputs are checked (an API, a manual process's
        recorded outputs) gave no answer to: a failed request (a timeout, a refused key, an
        error) or an empty answer (or recorded output). Each counts as a failed case of its
        quality, so a status quo that could not answer (a timeout the trial's author set below
        its answering time, a stop sequence it opens with) makes any candidate's quality
        "acceptable": play 1 and play 2's rerun read it. None where its pass rate is stated."""
        if self.status_quo.cases is None:
            return None
        outputs = self.status_quo.answers.outputs
        return sum(1 for output in outputs if output is None or not output.strip())

    @property
    def status_quo_cut_short(self) -> int | None:
        """How many inputs the status quo's server cut at the trial's ``generation.max_tokens``
        (it said ``finish_reason: length``), or may have cut at one of its stop sequences
        (``generation.stop``: a server says ``stop`` for that as for an answer that ended on
        its own), whose answer then failed the quality checks: the shared limit cuts a wordier
        status quo mid-answer, and a shared stop sequence cuts each side where its own words
        hold it (a stop sequence only the status quo writes cuts it alone), either way failing
        checks its whole answer passes, so a weaker candidate's quality looks acceptable beside
        it. They count whatever the candidate's answer on the input did: a candidate cut as
        well says nothing of what either whole answer would have passed, and a weak candidate
        that writes on to any limit would otherwise tie, input by input, with a status quo the
        limit cut (a max_tokens below both sides' answers made every such input a draw). Play 1
        and play 2's rerun count these as the status quo's passes, as they do
        :attr:`status_quo_unanswered`. None where its pass rate is stated."""
        cut = self._cut_and_failed()
        return None if cut is None else len(cut)

    def _cut_and_failed(self) -> list[int] | None:
        """The inputs :attr:`status_quo_cut_short` counts (None where its pass rate is
        stated)."""
        cases, passed = self.status_quo.cases, self.status_quo.passed
        if cases is None or passed is None:
            return None
        theirs = self.status_quo.answers
        return [
            i
            for i, output in enumerate(theirs.outputs)
            if output is not None
            and output.strip()  # an empty one is unanswered already
            and theirs.cut_short(i)
            and not passed[i]
        ]

    @property
    def timed_checks(self) -> list[str]:
        """The quality checks that judge how long an answer took or what it cost: the plan's
        ``latency`` and ``cost`` checks (:attr:`TrialPlan.timed_checks`), and each check that
        was seen to (:attr:`read_time_or_cost`). Play 1 and play 2's rerun read it."""
        return [*self.plan.timed_checks, *self.read_time_or_cost]

    @property
    def test_model(self) -> bool:
        """The candidate was inhouse's own test model (random weights): the trial proves
        nothing about value."""
        return self.candidate.side.test_model

    @property
    def caveats(self) -> list[str]:
        """What anyone reading the verdict must be told, in plain sentences."""
        said = [*self.candidate.side.caveats(), *self.status_quo.side.caveats()]
        if self.proved == 0 and not any(self.candidate.passed or ()):
            said.append(
                f"{NOTHING_PASSED} (play 1 and play 2 do not count it); {NOTHING_PASSED_NEXT}"
            )
        elif self.proved == 0:
            said.append(
                "the quality checks pass an empty answer on every input the candidate passed: "
                "they pass whatever the model says, so its quality is not measured (play 1 and "
                "play 2 do not count it); give the trial checks that judge what the answer says"
            )
        elif self.on_topic == 0:
            said.append(
                "the quality checks pass off-topic prose as long as the candidate's answer on "
                "every input it passed: they pass any answer at all, so its quality is not "
                "measured (play 1 and play 2 do not count it outside a demo); give the trial "
                "checks that judge what the answer says"
            )
        if unanswered := self.status_quo_unanswered:
            said.append(
                f"the status quo gave no answer on {unanswered} of {len(self.plan.inputs)} "
                "inputs (a failed request or an empty answer: see its errors), each counted as "
                "a failed case of its quality; play 1 and play 2 count the candidate's quality "
                "only where it holds with those counted as the status quo's passes"
            )
        if cut := self._cut_and_failed():
            inputs = len(self.plan.inputs)
            finish = self.status_quo.answers.finish
            at_limit = sum(1 for i in cut if finish[i] == "length")
            how = [
                *([f"cut short at the trial's generation.max_tokens on {at_limit} of {inputs} "
                   "inputs"] if at_limit else []),
                *([f"may have been cut at its generation.stop sequences on "
                   f"{len(cut) - at_limit} of {inputs} inputs"] if len(cut) > at_limit else []),
            ]  # fmt: skip
            fix = [
                *(["raise max_tokens above the status quo's answers' length"] if at_limit else []),
                *(["leave generation.stop out (a server says `stop` for an answer a stop "
                   "sequence cut as for one that ended on its own, so none can be told whole)"]
                  if len(cut) > at_limit else []),
            ]  # fmt: skip
            said.append(
                f"the status quo's answers were {' and '.join(how)}, and then failed its quality "
                "checks; play 1 and play 2 count the candidate's quality only where it holds with "
                f"those counted as the status quo's passes: {' and '.join(fix)}"
            )
        if self.timed_checks and self.status_quo.cases is not None:
            said.append(
                "the quality checks judge how long an answer took or what it cost ("
                f"{', '.join(self.timed_checks)}): a slow or dear status quo's answers fail "
                "them whatever they say, so its quality is not measured (play 1 and play 2 do "
                "not count it); speed and cost are the trial's dimensions (meaningful.faster, "
                "meaningful.cheaper): take them out of its checks"
            )
        return said


async def run_head_to_head(
    folder: Path,
    name: str,
    *,
    progress: PhaseProgress | None = None,
    scanner: TextScanner | None = None,
) -> TrialOutcome:
    """Run both sides of trial ``name`` and decide."""
    return await run_planned(plan_trial(folder, name), progress=progress, scanner=scanner)


async def run_planned(
    plan: TrialPlan,
    *,
    progress: PhaseProgress | None = None,
    scanner: TextScanner | None = None,
) -> TrialOutcome:
    """Run both sides of a planned trial and decide: the author's trial, or a second person's
    rerun of a proven one from their own machine (:mod:`inhouse.trials.rerun`)."""
    if scanner is None:
        scanner = _scanner(plan.config)
    candidate = CandidateSide(plan)
    status_quo = status_quo_side(plan)
    sides: tuple[Side, Side] = (candidate, status_quo)
    for side in sides:  # both can answer before either is sent a task
        await side.connect()
    answers = [await side.run(progress) for side in sides]
    costs = [side.cost(a) for side, a in zip(sides, answers, strict=True)]
    cases, timed = await _quality(plan, sides, answers, costs, progress)
    ours = SideResult(
        candidate, answers[0], costs[0], cases[0], candidate.privacy(answers[0], scanner)
    )
    theirs = SideResult(
        status_quo, answers[1], costs[1], cases[1], status_quo.privacy(answers[1], scanner)
    )
    # each decoy judged given instantly and for nothing, and at the candidate's own time and
    # cost on that input: a bound the other way (`not-latency`) fails an instant answer alone
    timings = _timings(answers[0], costs[0])
    blank = await _decoy_passes(plan, [""] * len(plan.inputs), timings)
    # off-topic prose as long as the candidate's own answer: a length bound passes it too
    off_topic = await _decoy_passes(plan, [off_topic_like(a) for a in answers[0].outputs], timings)
    verdict = _decide(plan, ours, theirs)
    return TrialOutcome(plan, ours, theirs, verdict, blank, off_topic, timed)


def _scanner(config: dict[str, Any]) -> TextScanner:
    from inhouse.policy import Scanner

    scanner: TextScanner = Scanner.from_config(config)
    return scanner


async def _quality(
    plan: TrialPlan,
    sides: Sequence[Side],
    answers: Sequence[Answers],
    costs: Sequence[CostBreakdown],
    progress: PhaseProgress | None,
) -> tuple[list[list[CaseResult | None] | None], tuple[str, ...]]:
    """Each side's quality cases, where its outputs are checked (a failed request, no output,
    is a failed case: None), and the checks besides ``latency`` and ``cost`` seen to judge an
    answer by its time or cost (:func:`~inhouse.checks.measured.maybe_timed`): where both sides
    answered an input, each answer is judged at the other side's time and cost too, by those
    checks. A check function may keep state between calls, so on each input the four judgments
    run one at a time in an order drawn at random: neither which side comes first nor which of
    an answer's two judgments counts tells a function whose answer it judges."""
    count = len(plan.inputs)
    if progress is not None:
        progress(QUALITY_PHASE, 0, count)
    checked = [side.checks_outputs for side in sides]
    readers = maybe_timed(plan.checks)
    at = [readers.index(c) if c in readers else None for c in plan.checks]
    seen: dict[str, None] = {}

    def context(i: int, side: int) -> QualityContext:
        seconds = answers[side].seconds[i]
        return QualityContext(
            vars=plan.inputs[i].fields,
            latency_ms=None if seconds is None else seconds * 1000.0,
            cost=costs[side].per_task[i],
        )

    async def one(i: int) -> list[CaseResult | None]:
        outputs = [a.outputs[i] if ok else None for a, ok in zip(answers, checked, strict=True)]
        jobs = [(side, side) for side, output in enumerate(outputs) if output is not None]
        if readers and len(jobs) == 2:  # each answer at the other side's time and cost too
            jobs += [(0, 1), (1, 0)]
        _RANDOM.shuffle(jobs)
        judged: dict[tuple[int, int], CaseResult] = {}
        for side, when in jobs:
            output = outputs[side]
            assert output is not None
            ctx = context(i, when)
            if side == when:
                judged[side, when] = await evaluate(
                    plan.checks, output, ctx, threshold=plan.spec.threshold
                )
            else:
                judged[side, when] = await evaluate(readers, output, ctx)
        for side, when in judged:
            if side == when:
                continue
            real, there = judged[side, side], judged[side, when]
            for check, result, index in zip(plan.checks, real.results, at, strict=True):
                if index is not None and moved(result, there.results[index]):
                    seen[check.describe()] = None
        return [judged.get((side, side)) for side in range(len(sides))]

    rows = list(await asyncio.gather(*(one(i) for i in range(count))))
    cases: list[list[CaseResult | None] | None] = [
        [row[side] for row in rows] if checked[side] else None for side in range(len(sides))
    ]
    if progress is not None:
        progress(QUALITY_PHASE, count, count)
    return cases, tuple(seen)


def _timings(answers: Answers, cost: CostBreakdown) -> list[tuple[float, float] | None]:
    """Per input, the candidate's own time (ms) and cost on it, where it answered."""
    return [
        None if seconds is None else (seconds * 1000.0, cost.per_task[i])
        for i, seconds in enumerate(answers.seconds)
    ]


async def _decoy_passes(
    plan: TrialPlan, decoys: Sequence[str], timings: Sequence[tuple[float, float] | None]
) -> tuple[bool, ...]:
    """Per input, whether the trial's quality checks pass its decoy (``decoys``, one per input)
    given instantly and for nothing, or, where they may judge time or cost (``latency``,
    ``cost``, a ``python`` check handed both), in the candidate's own time and at its cost on
    that input (``timings``): an empty answer (a pattern anything
    matches, a check of weight 0 alone, a latency or cost bound alone either way, a script that
    returns true), or prose about something else as long as the candidate's answer (a length
    bound, a pattern any text matches): such checks judge no answer."""
    timed = may_read_measured(plan.checks)

    async def one(i: int) -> bool:
        own = timings[i]
        when = [(0.0, 0.0), *([own] if timed and own is not None else [])]
        for latency_ms, cost in when:
            ctx = QualityContext(vars=plan.inputs[i].fields, latency_ms=latency_ms, cost=cost)
            try:
                judged = await evaluate(plan.checks, decoys[i], ctx, threshold=plan.spec.threshold)
            except Exception:  # a check that cannot judge an empty answer does not pass it
                continue
            if judged.passed:
                return True
        return False

    return tuple(await asyncio.gather(*(one(i) for i in range(len(plan.inputs)))))


def _decide(
    plan: TrialPlan, candidate: SideResult[Side], status_quo: SideResult[StatusQuoSide]
) -> Verdict:
    """Time and cost on the inputs both sides answered; quality on every input; privacy by
    rule."""
    spec = plan.spec
    pairs = [
        i for i in range(len(plan.inputs)) if candidate.answers.ok[i] and status_quo.answers.ok[i]
    ]

    def seconds(side: SideResult[Side]) -> list[float]:
        return [_num(side.answers.seconds[i]) for i in pairs]

    def costs(side: SideResult[Side]) -> list[float]:
        return [side.cost.per_task[i] for i in pairs]

    resamples, seed = spec.resamples, spec.seed
    dimensions = [
        compare_dimension(
            "faster",
            seconds(candidate),
            seconds(status_quo),
            threshold=spec.meaningful.faster,
            unit="s",
            resamples=resamples,
            seed=seed,
        ),
        compare_dimension(
            "cheaper",
            costs(candidate),
            costs(status_quo),
            threshold=spec.meaningful.cheaper,
            unit=candidate.cost.currency,
            resamples=resamples,
            seed=seed,
        ),
    ]
    candidate_passed = candidate.passed
    assert candidate_passed is not None  # the candidate's outputs are always checked
    quality = compare_quality(
        candidate_passed,
        status_quo.passed,
        floor_points=spec.quality_floor,
        stated_rate=status_quo.side.stated_pass_rate,
        resamples=resamples,
        seed=seed,
    )
    privacy = compare_privacy(
        candidate.privacy, status_quo.privacy, claimed=spec.meaningful.more_private
    )
    return decide(dimensions, quality, privacy)


def _num(value: float | None) -> float:
    assert value is not None  # a paired input was answered on both sides
    return value
