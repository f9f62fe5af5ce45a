"""``inhouse prove NAME --rerun``: a proven trial, run again head to head by someone else on
their own machine, recorded as a measured ``trial.rerun`` fact that play 2's exit
(``trial-reproduced``) compares with the verdict.

A play 1 verdict is one person's measurement, against a status quo that person set up. The
colleague who stands the baseline up on their own machine (play 2's ``baseline verify``) reruns
the proven trial there: the candidate side on the same task inputs, generation settings and
quality checks (the verdict's ``spec_hash`` covers them), answered by the runtime on their
machine; and the status quo against the same terms (the verdict's ``claim_hash``: its endpoint
and prices, or the manual minutes as recorded, the candidate's cost inputs, the thresholds) —
an API status quo answered again from this machine, a manual one read from its CSV. A spec that
hashes otherwise is refused before anything is sent. Both sides go through the trial's own
machinery (:func:`inhouse.trials.headtohead.run_planned`). A rerun in which any request to the
candidate failed (an error or a timeout, not an answer the checks fail) is refused once it ran,
and nothing is recorded: it measured this machine's runtime, not the model, and play 2 pools a
colleague's reruns.

The fact names the trial, the verdict, both hashes, the weights the runtime served (its
inventory's digest), whether every answer came from this machine, the candidate's pass rate,
and the dimensions (faster, cheaper, more-private) this run's own figures cleared. A manual
status quo is a person's word that nothing can measure: it counts only where the rerunner,
someone other than its author, confirms the minutes with their own key and says on what
(``--confirm-minutes``). Where its CSV holds the outputs the manual process gave, the status
quo's quality is judged on them: the author typed those too, so they count only where the
rerunner confirms them as well (``--confirm-outputs``). So are the costs a "cheaper" claim
multiplies the measured tokens and busy time by (an API's prices per million tokens, the manual
process's hourly cost, the candidate's hardware and power inputs): the trial's author typed
them, and the rerun measures none of them, so "cheaper" counts only where the rerunner confirms
them too (``--confirm-costs``). Whether the rerun counts is the check's to say, from the facts
alone: this module says what the check says.

A confirmation is given with a flag typed before the rerun runs, so a colleague told "run
`inhouse prove NAME --rerun --confirm-minutes ok`" would vouch for figures they never saw.
So the word is asked for again once the rerun ran: ``agree`` (the command's question at a
terminal) is shown exactly what it covers (:func:`confirmation_lines`: each figure, and whose
word it is), and the confirmations are recorded only on a yes; on a no, or where no answer
came (no terminal), the rerun is recorded without them, and play 2's check still asks for
them.

In a checkout without the program's log (a colleague's own laptop), no verdict can be looked
up: the rerun is signed into the outbox naming the spec hash it ran, and the program's side
matches it with the verdict when the evidence is imported.

Each rerun names its ``place`` in its key's series of reruns of the spec (its number and the
hash of the one before, :mod:`inhouse.trials.series_file`): play 2 judges a colleague's reruns
together only where the log holds the series whole (exit rule 25), so importing only the
envelope that held, of four, shows the three missing.

Where the spec samples (a ``generation.temperature`` above 0, or none: the server's default),
the rerun draws a seed of its own (:func:`fresh_seed`) for every request it sends, the
candidate's and an API status quo's, and records it beside the spec's (``seed``): the spec's
seed is one its author may have picked among many private tries, and a rerun sending it would
reproduce that lucky draw, "reproduced" without a fresh one (exit rule 33). The spec's hash is
the spec's as written. At temperature 0 each answer is the model's most likely one whatever the
seed, so the spec's goes as written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from inhouse.checks.function import (
    python_calls,
    python_checks_allowed,
    record_trusted,
    refuse_untrusted,
)
from inhouse.errors import InvalidInput, Refused
from inhouse.figures import share
from inhouse.location import refuse_tracked_state
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes.local import UNKNOWN_PEER, answered_here
from inhouse.terminal import shown
from inhouse.trials.headtohead import SideResult, TrialOutcome, run_planned
from inhouse.trials.load import NO_CONTENT, PhaseProgress, run_in_fast_loop
from inhouse.trials.plan import TrialPlan, plan_trial
from inhouse.trials.series_file import claim, next_place
from inhouse.trials.sides import CandidateSide, EndpointSide

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "CHECK",
    "COLLECTOR",
    "RerunOutcome",
    "confirmation_lines",
    "fresh_seed",
    "proven_verdict",
    "rerun_trial",
]

COLLECTOR = "inhouse prove --rerun"
#: play 2's exit check that judges a rerun
CHECK = "trial-reproduced"


@dataclass(frozen=True)
class RerunOutcome:
    """A rerun: what the candidate did, the fact recorded, and the check's judgement of it."""

    trial: str
    spec_hash: str
    #: the head-to-head as it ran here
    outcome: TrialOutcome
    fact: Fact
    #: the verdict it reran (None: run in a checkout without the program's log)
    verdict: Fact | None
    counts: bool
    why: str
    #: the confirmations given with the command and left out of the fact, where its person
    #: did not say yes once shown what they cover: "no", or "unanswered" (no terminal)
    declined: str | None = None

    @property
    def result(self) -> SideResult[CandidateSide]:
        """The candidate's side of the rerun."""
        return self.outcome.candidate

    @property
    def pass_rate(self) -> float:
        return float(self.fact.payload["pass_rate"])

    def to_dict(self) -> dict[str, Any]:
        """What ``prove --rerun --json`` prints: the fact's payload and whether it counts."""
        return {
            **self.fact.payload,
            "fact": self.fact.id,
            "by": self.fact.by,
            "claimed_pass_rate": (
                self.verdict.payload.get("candidate_pass_rate") if self.verdict else None
            ),
            "counts_for_exit": self.counts,
            "why": self.why,
        }


def proven_verdict(program: Program, name: str) -> Fact:
    """The latest counted proven ``trial.verdict`` of trial ``name``, as play 2 judges it.
    Refused where there is none, or where it names no spec hash (recorded before verdicts did:
    nobody can tell what it measured, so nothing can reproduce it)."""
    from inhouse.program.counting import build_context

    facts = build_context(program.state(), program.clock()).facts
    verdict = facts.latest(
        "trial.verdict",
        lambda f: f.payload["trial"] == name and f.payload["verdict"] == "proven",
    )
    if verdict is None:
        raise Refused(
            f"no proven verdict of trial {name} to rerun: play 1's owner proves it first "
            f"(`inhouse prove {name}`)"
        )
    if not verdict.payload.get("spec_hash"):
        raise Refused(
            f"trial {name}'s verdict (fact #{verdict.id}) was recorded before verdicts named the "
            f"spec they measured, so no rerun can reproduce it: {verdict.by} runs `inhouse prove "
            f"{name}` again, then you rerun it"
        )
    return verdict


def rerun_trial(
    program: Program,
    name: str,
    actor: str | None = None,
    *,
    progress: PhaseProgress | None = None,
    trust_python: bool = False,
    confirm_minutes: str | None = None,
    confirm_costs: str | None = None,
    confirm_status_quo: str | None = None,
    confirm_outputs: str | None = None,
    agree: Callable[[list[str]], bool | None] | None = None,
) -> RerunOutcome:
    """Rerun trial ``name`` head to head on this machine and record the ``trial.rerun`` fact
    as ``actor``; ``confirm_minutes`` is the rerunner's word, with what they base it on, that
    a manual status quo's minutes (and stated pass rate) are true; ``confirm_costs`` their word
    that the cost inputs the trial's author typed (which a "cheaper" claim rests on) are true;
    ``confirm_status_quo`` their word that an API status quo (its endpoint and model) is how
    the task is done today; ``confirm_outputs`` their word that the outputs a manual status
    quo's CSV holds (which its quality is judged on) are what the manual process gave. With the
    program's log here,
    the spec must hash as the latest proven verdict recorded (else refused, naming both
    hashes); in a checkout without it, the fact goes to the outbox and is matched with the
    verdict where it is imported."""
    refuse_tracked_state(program.folder, f"inhouse prove {name} --rerun")  # before it runs
    detached = program.detached()
    who = None if detached else program.actor(actor).name
    plan = plan_trial(program.folder, name)
    plan.refuse_repeats(
        f"inhouse prove {name} --rerun",
        then=f", its owner proves it again (`inhouse prove {name}`), and you rerun that",
    )
    spec_hash = plan.spec_hash
    if plan.samples:  # a draw of its own, not the one its author may have picked (exit rule 33)
        plan = replace(plan, drawn_seed=fresh_seed(plan.spec.generation.seed))
    confirmed = _confirmation(plan, confirm_minutes)
    api = _api_confirmation(plan, confirm_status_quo)
    costs = _costs_confirmation(plan, confirm_costs)
    outputs = _outputs_confirmation(plan, confirm_outputs)
    verdict = None if detached else proven_verdict(program, name)
    if verdict is not None:
        _same_trial(plan, verdict)
        _refuse_unclaimed_costs(verdict, costs)  # before it runs: no claim rests on them
    calls = python_calls(plan.checks)
    command = f"inhouse prove {name} --rerun"
    if not trust_python:  # a python check runs someone's code with this runner's rights
        refuse_untrusted(calls, plan.shown, command)
    elif calls and (verdict is None or verdict.by != who):
        # its author's code, with this key at hand: said in the log before it runs, since what
        # the key signs from then on may be the code's (exit rule 36)
        record_trusted(program, who, calls, plan.shown, command)
    # which of this key's reruns of the spec it is (exit rule 25): read before it runs, so a
    # series file nobody can read refuses it before anything is sent
    key_id, program_id = program.key.key_id, program.program_id()

    def reruns() -> list[Fact]:  # the log's, as it is when read (another rerun may have been)
        logged = () if detached else program.state().facts
        return [f for f in logged if f.kind == "trial.rerun"]

    next_place(key_id, program_id, spec_hash, reruns())
    with python_checks_allowed(trust_python):
        outcome = run_in_fast_loop(run_planned(plan, progress=progress))
    _refuse_failed_requests(outcome, name)
    declined = None
    if agree is not None and any(w is not None for w in (confirmed, costs, api, outputs)):
        author = verdict.by if verdict is not None else f"the author of {plan.shown}"
        lines = confirmation_lines(
            outcome,
            author,
            minutes=confirmed,
            outputs=outputs,
            status_quo=api,
            costs=costs,
            verdict_known=not detached,
        )
        answer = agree(lines)
        if answer is not True:
            declined = "unanswered" if answer is None else "no"
            confirmed = costs = api = outputs = None
    # its place taken, recorded and kept under the series' lock: another rerun with this key
    # at once (a second shell) takes the one after, never the same
    fact = claim(
        key_id,
        program_id,
        spec_hash,
        reruns,
        lambda place: _record(
            program, who, name, verdict, outcome, confirmed, costs, api, outputs, place
        ),
    )
    counts, why = _judged(program, fact, detached)
    if detached:
        # with the log here the check's own reason names these flags; in a checkout it ran
        # nowhere, and a colleague learnt of them only after the lead imported his rerun and
        # read `status`: a second round trip for what the spec alone tells
        # (the costs only where the verdict claimed "cheaper", which a checkout cannot see: this
        # rerun clearing it is no claim the verdict made)
        unpriced = costs is None and "cheaper" in _cleared(outcome)
        why += _unconfirmed_note(
            name, plan.shown, _unconfirmed(outcome, confirmed, outputs, api), unpriced
        )
        if costs is not None:
            why += f". Your word on the costs (--confirm-costs) is {_UNREAD_COSTS}"
    return RerunOutcome(name, spec_hash, outcome, fact, verdict, counts, why, declined)


#: the seeds a rerun draws from: those every OpenAI-compatible server takes (llama.cpp reads a
#: seed as 32 bits, and -1, its all-ones, as "random")
_SEEDS = 2**31 - 1


def fresh_seed(spec_seed: int | None) -> int:
    """A seed drawn for one rerun from the operating system's randomness, never ``spec_seed``:
    where a trial samples (a temperature above 0), the spec's seed is one its author may have
    picked among many private tries for a lucky draw, which a rerun sending it would reproduce
    (exit rule 33, :data:`~inhouse.program.checks.FRESH_SEED`)."""
    while True:
        seed = secrets.randbelow(_SEEDS)
        if seed != spec_seed:
            return seed


def confirmation_lines(
    outcome: TrialOutcome,
    author: str,
    *,
    minutes: str | None = None,
    outputs: str | None = None,
    status_quo: str | None = None,
    costs: str | None = None,
    verdict_known: bool = True,
) -> list[str]:
    """What a rerunner's confirmations cover, a line each, as their key would sign them: each
    figure of ``outcome`` (the rerun as it ran) the trial's ``author`` recorded, stated, typed
    or chose, and the rerunner's comment beside it; every control character written out.
    Without ``verdict_known`` (a checkout, which holds no verdict), the costs' line says that
    they are read only where the verdict claimed "cheaper"."""
    from statistics import fmean

    from inhouse.trials.statusquo import ManualStatusQuoSide

    side = outcome.status_quo.side
    ids = [item.id for item in outcome.plan.inputs]
    lines: list[str] = []
    if minutes is not None and isinstance(side, ManualStatusQuoSide):
        recorded = side.record.minutes
        lines.append(
            f"--confirm-minutes: the manual process takes {fmean(recorded):.3g} minutes per "
            f"task on average ({min(recorded):g} to {max(recorded):g}, {sum(recorded):g} over "
            f"{len(recorded)} tasks), as {shown(author)} recorded them in "
            f"{shown(side.spec.minutes)}: "
            + ", ".join(f"{shown(i)}: {m:g}" for i, m in zip(ids, recorded, strict=False))
        )
        stated = side.stated_pass_rate
        if stated is not None and not side.checks_outputs:
            quality = outcome.verdict.quality
            lines.append(
                f"--confirm-minutes also covers the manual process's pass rate, {share(stated)}, "
                f"as {shown(author)} stated it in {outcome.plan.shown} (no outputs to judge), "
                f"which the candidate's {share(quality.candidate_pass_rate)} was compared with"
            )
        lines.append(f"  your word: {shown(minutes)}")
    if outputs is not None and isinstance(side, ManualStatusQuoSide) and side.record.outputs:
        quality = outcome.verdict.quality
        lines.append(
            f"--confirm-outputs: the {len(side.record.outputs)} outputs {shown(author)} typed "
            f"into {shown(side.spec.minutes)} are what the manual process gave; its quality "
            f"({share(quality.status_quo_pass_rate)} passed) was judged on them:"
        )
        lines.extend(
            f"  {shown(i)}: {shown(text)}"
            for i, text in zip(ids, side.record.outputs, strict=False)
        )
        lines.append(f"  your word: {shown(outputs)}")
    if status_quo is not None:
        lines.append(
            f"--confirm-status-quo: {shown(_endpoint(outcome) or 'the status quo')}, which "
            f"{shown(author)} chose as the status quo, is how the task is done today"
        )
        lines.append(f"  your word: {shown(status_quo)}")
    if costs is not None:
        typed = [
            f"{label} {shown(i.name)} {i.value:g} {shown(i.unit)}"
            for label, result in (
                ("status quo", outcome.status_quo),
                ("candidate", outcome.candidate),
            )
            for i in result.cost.inputs
            if i.source != "measured"
        ]
        lines.append(
            f"--confirm-costs: the costs {shown(author)} typed, which 'cheaper' rests on, are "
            f"true: {'; '.join(typed) or 'none'}"
        )
        if not verdict_known:
            lines.append(f"  {_UNREAD_COSTS}")
        lines.append(f"  your word: {shown(costs)}")
    return lines


#: what a checkout's rerun says of the costs' confirmation it signs: a checkout holds no verdict
#: to refuse it by where the verdict claimed no "cheaper" (where the log is, it is refused)
_UNREAD_COSTS = (
    "read only where the verdict in the program's log claimed 'cheaper', which this checkout "
    "cannot tell: where it did not, no check reads this word (play 2's check says so)"
)


def _confirmation(plan: TrialPlan, comment: str | None) -> str | None:
    """The rerunner's confirmation of a manual status quo's minutes, which only a manual one
    takes."""
    return _word(
        "--confirm-minutes",
        comment,
        None
        if plan.spec.status_quo.kind == "manual"
        else f"{plan.shown}'s status quo is an API, which the rerun measures from this machine: "
        "there are no minutes to confirm (that it is how the task is done today: "
        "--confirm-status-quo)",
        "I do these tickets by hand; 4-6 minutes each is right",
    )


def _outputs_confirmation(plan: TrialPlan, comment: str | None) -> str | None:
    """The rerunner's confirmation of the outputs a manual status quo's CSV holds, which only
    a manual status quo whose quality is judged on them takes."""
    from inhouse.trials.statusquo import status_quo_side

    if comment is None:  # reading the CSV here would refuse what the rerun refuses, in its turn
        return None
    refused = None
    if plan.spec.status_quo.kind != "manual":
        refused = (
            f"{plan.shown}'s status quo is an API, which the rerun answers again from this "
            "machine: there are no typed outputs to confirm"
        )
    elif not status_quo_side(plan).checks_outputs:
        refused = (
            f"{plan.shown}'s manual status quo records no outputs (its quality is the pass "
            "rate it states, which --confirm-minutes confirms): there are none to confirm"
        )
    return _word(
        "--confirm-outputs",
        comment,
        refused,
        "these are the answers we gave on these tickets; I checked them against the tracker",
    )


def _api_confirmation(plan: TrialPlan, comment: str | None) -> str | None:
    """The rerunner's confirmation that an API status quo is the one the task is done with
    today: its author chose it, and a slow or weak endpoint they run would make any candidate
    faster or better; the rerun measures it again, but not whether it is the real one."""
    return _word(
        "--confirm-status-quo",
        comment,
        None
        if plan.spec.status_quo.kind == "api"
        else f"{plan.shown}'s status quo is a manual process: confirm its minutes with "
        "--confirm-minutes",
        "we send these tickets to this API and model today",
    )


def _costs_confirmation(plan: TrialPlan, comment: str | None) -> str | None:
    """The rerunner's confirmation of the typed cost inputs, which only a trial claiming
    "cheaper" takes."""
    return _word(
        "--confirm-costs",
        comment,
        None
        if plan.spec.meaningful.cheaper is not None
        else f"{plan.shown} claims no 'cheaper', the only claim its typed costs decide: there "
        "are no costs to confirm",
        "our invoice lists these prices; the GPU cost what the spec says",
    )


def _word(flag: str, comment: str | None, refused: str | None, example: str) -> str | None:
    """A rerunner's confirmation given with ``flag``: None where not given; refused where this
    trial has nothing it confirms (``refused`` says why) or where it says nothing."""
    if comment is None:
        return None
    if refused is not None:
        raise InvalidInput(f"{flag}: {refused}")
    if not comment.strip():
        raise InvalidInput(f"{flag}: say what your confirmation rests on (e.g. '{example}')")
    return comment.strip()


def _same_trial(plan: TrialPlan, verdict: Fact) -> None:
    """Refuse a rerun of another spec, or against another status quo, than the verdict's."""
    name, recorded = plan.name, verdict.payload
    pull = (
        f"pull the {plan.shown} and data files that were proven, or its owner proves this one "
        f"(`inhouse prove {name}`)"
    )
    if recorded["spec_hash"] != plan.spec_hash:
        raise Refused(
            f"{plan.shown} here hashes {plan.spec_hash}, but the verdict it would reproduce "
            f"(fact #{verdict.id}, by {verdict.by}) measured {recorded['spec_hash']}: {pull}"
        )
    claimed = recorded.get("claim_hash")
    if claimed and claimed != plan.claim_hash:
        raise Refused(
            f"{plan.shown}'s status quo, costs and thresholds here hash {plan.claim_hash}, but "
            f"the verdict it would reproduce (fact #{verdict.id}, by {verdict.by}) measured "
            f"against {claimed}: {pull}"
        )


def _refuse_failed_requests(outcome: TrialOutcome, name: str) -> None:
    """Refuse to record a rerun in which any request to the candidate failed (an error or a
    timeout, not an answer that failed the checks): a failed request measures this machine's
    runtime, not the model's answers, and play 2 judges a colleague's reruns together (a
    runtime that died partway would sink an honest pool as if the model had answered wrong).
    Nothing is recorded; an answer the checks fail, an empty one included, is recorded and
    counts as it always did."""
    answers = outcome.candidate.answers
    # an answer its server gave whole but empty is the model's answer (a failed case, as any
    # answer the checks fail): refusing it would let a rerun whose draw went badly go unrecorded
    failed = [i for i, ok in enumerate(answers.ok) if not ok and answers.errors[i] != NO_CONTENT]
    if not failed:
        return
    ids = [outcome.plan.inputs[i].id for i in failed]
    which = ", ".join(shown(str(i)) for i in ids[:5]) + (
        f" and {len(ids) - 5} more" if len(ids) > 5 else ""
    )
    first = answers.errors[failed[0]] or "failed"
    raise Refused(
        f"{len(failed)} of {len(answers.ok)} requests to the candidate's runtime failed "
        f"({which}; the first: {shown(first)}), so nothing was recorded: a failed request "
        "measures this machine's runtime, not the model's answers, and play 2 judges your "
        "reruns of this trial together; see that the runtime answers every input (is it "
        "still running? does each input fit its context?) and rerun it "
        f"(`inhouse prove {name} --rerun`)"
    )


def _cleared(outcome: TrialOutcome) -> list[str]:
    """The dimensions the run's own figures cleared, whatever its quality (the check compares
    the candidate's pass rate with the verdict's on its own)."""
    verdict = outcome.verdict
    cleared: list[str] = [d.name for d in verdict.dimensions if d.outcome == "cleared"]
    if verdict.privacy.claimed and verdict.privacy.more_private:
        cleared.append("more-private")
    return cleared


def _record(
    program: Program,
    who: str | None,
    name: str,
    verdict: Fact | None,
    outcome: TrialOutcome,
    confirmed: str | None,
    costs: str | None,
    api: str | None,
    outputs: str | None,
    place: dict[str, Any],
) -> Fact:
    from inhouse.baseline.verify import inhouse_origin  # as a verify names its inhouse
    from inhouse.identity.machine import machine_fingerprint

    result, plan = outcome.candidate, outcome.plan
    side = result.side
    passed = result.passed or []
    peers = sorted({send.address or UNKNOWN_PEER for send in result.answers.sends})
    inventory = side.inventory
    return program.record_fact(
        who,
        "trial.rerun",
        {
            "trial": name,
            "verdict": verdict.id if verdict is not None else None,
            "spec_hash": plan.spec_hash,
            "model": inventory["model"] if inventory else side.endpoint.model or "",
            "digest": inventory["digest"] if inventory else None,
            "test_model": side.test_model,
            "pass_rate": sum(passed) / len(passed),
            "inputs": len(passed),
            # how many of them are distinct tasks (a copy of one is refused before it runs)
            "distinct_inputs": len(plan.inputs) - len(plan.repeated),
            "passed": sum(passed),
            "quality_floor": side.plan.spec.quality_floor,
            "machine": machine_fingerprint(),
            "runtime": side.target.base_url,
            "runtime_local": answered_here(peers),
            "runtime_peers": peers,
            "claim_hash": plan.claim_hash,
            "status_quo": plan.spec.status_quo.kind,
            "status_quo_endpoint": _endpoint(outcome),
            "proven_on": _cleared(outcome),
            "improvement": {
                d.name: round(d.improvement.point, 3)
                for d in outcome.verdict.dimensions
                if d.outcome != "not-claimed" and d.n
            },
            "status_quo_confirmed": confirmed,
            "status_quo_pass_rate": outcome.verdict.quality.status_quo_pass_rate,
            "status_quo_measured": outcome.verdict.quality.status_quo_measured,
            "quality_ok": outcome.verdict.quality.ok,
            "proved": outcome.proved,
            "on_topic": outcome.on_topic,
            "status_quo_unanswered": outcome.status_quo_unanswered,
            "status_quo_cut_short": outcome.status_quo_cut_short,
            "timed_checks": outcome.timed_checks,
            "costs_confirmed": costs,
            "api_confirmed": api,
            "outputs_confirmed": outputs,
            # and which inhouse ran it: a build from a folder or URL (not the release a
            # package index serves) runs its author's trial, judges and all
            "inhouse": inhouse_origin(),
            # the Python check code the spec names, run in this process on the rerunner's
            # --trust-python: its writer's code, which play 2 does not take as this rerun's
            "python_checks": python_calls(plan.checks),
            # what each claimed dimension had to clear (play 2 holds it to a floor)
            "thresholds": plan.spec.meaningful.thresholds,
            # which of this key's reruns of the spec it is: an envelope imported without
            # those before it shows the gap (exit rule 25)
            "place": place,
            # the seed its requests carried: where the spec samples, one drawn for this run,
            # never the spec's (exit rule 33: one its author picked among private tries
            # would reproduce its lucky draw)
            "seed": plan.seed_sent,
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )


def _endpoint(outcome: TrialOutcome) -> str | None:
    """An API status quo as the rerun reached it (its model at its address), for the rerunner's
    confirmation to name; None for a manual one."""
    side = outcome.status_quo.side
    if not isinstance(side, EndpointSide):
        return None
    target = outcome.status_quo.answers.target
    if target is not None:
        return f"{target.model} at {target.base_url}"
    return f"{side.endpoint.model or 'its model'} at {side.endpoint.url or side.endpoint.runtime}"


def _unconfirmed(
    outcome: TrialOutcome,
    minutes: str | None,
    outputs: str | None,
    status_quo: str | None,
) -> list[str]:
    """The confirmations play 2's check asks of this rerun, whatever its verdict claimed, and
    it lacks, as the spec tells them (where the log is, the check's reason says it): a manual
    status quo's minutes and typed outputs, an API status quo's choice. The costs are asked
    only of a rerun of a verdict that claimed "cheaper" (:func:`_unconfirmed_note`)."""
    from inhouse.trials.statusquo import ManualStatusQuoSide

    side = outcome.status_quo.side
    manual = isinstance(side, ManualStatusQuoSide)
    flags = []
    if manual and minutes is None:
        flags.append("--confirm-minutes")
    if isinstance(side, ManualStatusQuoSide) and outputs is None and side.record.outputs:
        flags.append("--confirm-outputs")
    if not manual and status_quo is None:
        flags.append("--confirm-status-quo")
    return flags


def _unconfirmed_note(name: str, shown: str, flags: list[str], costs: bool) -> str:
    """What a rerun signed into a checkout's outbox says of the confirmations play 2's check
    will ask of it: ``flags``, which any verdict needs, and ``--confirm-costs`` where ``costs``
    (it cleared "cheaper" without the costs confirmed) only if the verdict there claimed
    "cheaper": its "cheaper" alone rests on them, and the checkout holds no verdict to tell
    (this rerun's figures clearing "cheaper" is no claim the verdict made)."""
    command = f"inhouse prove {name} --rerun {' '.join(f'{flag} COMMENT' for flag in flags)}"
    priced = (
        "the verdict there claimed 'cheaper' (which this checkout cannot tell: this rerun's "
        f"figures cleared it, but only a claim the verdict made rests on {shown}'s typed costs)"
    )
    if flags:
        note = (
            f". It counts there only with your word on what {shown}'s author typed or chose, "
            f"which this rerun does not give: rerun it with `{command}`"
        )
        if costs:
            note += f", with --confirm-costs COMMENT too where {priced}"
        return note + " (it shows what each covers and asks before it signs), then export again"
    if costs:
        return (
            f". Where {priced}, it counts there only with your word on the costs: rerun it "
            f"with `{command}--confirm-costs COMMENT` (it shows what it covers and asks before "
            "it signs), then export again; where it did not, none is needed"
        )
    return ""


def _refuse_unclaimed_costs(verdict: Fact, costs: str | None) -> None:
    """Refuse ``--confirm-costs`` on a rerun of a verdict that claimed no "cheaper": its typed
    costs decide nothing it claimed, and the rerunner would vouch for figures no check reads
    (whatever the rerun's own figures clear)."""
    if costs is None or "cheaper" in (verdict.payload.get("proven_on") or ()):
        return
    claimed = ", ".join(verdict.payload.get("proven_on") or ()) or "nothing"
    raise InvalidInput(
        f"--confirm-costs: the verdict this rerun reproduces (fact #{verdict.id}, by "
        f"{verdict.by}) claimed {claimed}, not 'cheaper', the only claim its typed costs "
        "decide: there are no costs to confirm (rerun it without --confirm-costs)"
    )


def _judged(program: Program, fact: Fact, detached: bool) -> tuple[bool, str]:
    """Whether play 2's check counts the rerun now, and what it says."""
    if detached:
        return False, (
            "signed into this checkout's outbox: `inhouse evidence export -o FILE` and the "
            "program's lead imports it (`inhouse evidence import FILE`); play 2's "
            f"{CHECK} check compares it with the verdict there"
        )
    from inhouse.program.checks import Outcome, evaluate
    from inhouse.program.counting import build_context

    state, now = program.state(), program.clock()
    result = evaluate(CHECK, build_context(state, now))
    mine = any(f.id == fact.id for f in result.evidence)
    if result.outcome is Outcome.PASS and mine:
        return True, result.reason
    if any(f.kind == fact.kind and f.id != fact.id for f in state.facts):
        # the check judges every rerun: where another one passes it (the colleague's, with the
        # author rerunning her own trial), its reason is that one's, and "does not count:
        # omar reran trial tickets …" told lena nothing of hers; judged alone, this one's is
        # (alone, its place in its key's series says nothing: those before it are left out
        # here, not missing from the log)
        alone = [
            replace(f, payload={**f.payload, "place": None}) if f.id == fact.id else f
            for f in state.facts
            if f.kind != fact.kind or f.id == fact.id
        ]
        result = evaluate(CHECK, build_context(replace(state, facts=alone), now))
    return False, result.reason
