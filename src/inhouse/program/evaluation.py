"""Evaluate a play's trigger and exit checks against the folded state, and hash the evidence a
handoff acceptance is bound to."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from inhouse.program.checks import CheckContext, Outcome, Result, evaluate, registry
from inhouse.program.counting import build_context
from inhouse.program.events import canonical_json
from inhouse.program.playbook import CheckRef, Play
from inhouse.program.state import DEMO_PASS, NO_SIGN_IN_SHORT, ProgramState, unset_sign_in

__all__ = [
    "CheckedRef",
    "cited",
    "context_for",
    "describe_missing",
    "evidence_hash",
    "exit_results",
    "failing",
    "run_checks",
    "satisfied",
    "saw_the_same",
    "seen_as",
    "trigger_results",
]


@dataclass(frozen=True)
class CheckedRef:
    ref: CheckRef
    result: Result


def context_for(state: ProgramState, now: datetime) -> CheckContext:
    return build_context(state, now)


def run_checks(refs: list[CheckRef], base: CheckContext) -> list[CheckedRef]:
    return [CheckedRef(ref, _judged(ref, base.with_params(ref.params))) for ref in refs]


def _judged(ref: CheckRef, context: CheckContext) -> Result:
    """Run a check on the evidence that counts; where it did not pass and evidence of the kinds
    it reads was left out (a person's word where inhouse measures, someone else's signature),
    the outcome is inconclusive: shown, labelled, and never an advance. A pass in a demo program
    that a real program's log would not pass says so, and why (the real program's reason)."""
    result = evaluate(ref.check, context)
    if result.outcome is Outcome.PASS and context.real is not None:
        strict = evaluate(ref.check, context.real)
        if strict.outcome is not Outcome.PASS:
            # why nobody is told apart without a sign-in is the status's own warning in a demo:
            # said in full on every such row, it buried what each row says
            real = strict.reason.replace(unset_sign_in(context.log_file), NO_SIGN_IN_SHORT)
            said = f"{result.reason} ({DEMO_PASS}: {real})"
            return replace(result, reason=said)
    if result.outcome in (Outcome.PASS, Outcome.NOT_APPLICABLE, Outcome.ERROR):
        return result
    try:
        reads = set(registry[ref.check].reads)
    except KeyError:
        return result
    left_out = context.uncounted_of(reads)
    if not left_out:
        return result
    shown = "; ".join(f"fact #{item.fact.id} {item.fact.kind}: {item.why}" for item in left_out)
    return Result(
        Outcome.INCONCLUSIVE,
        f"{result.reason} — not counted: {shown}",
        result.evidence + tuple(item.fact for item in left_out),
    )


def satisfied(checked: list[CheckedRef]) -> bool:
    """The weakest link: every check must pass (or not apply). Never an average."""
    return all(item.result.outcome.satisfied for item in checked)


def evidence_hash(checked: list[CheckedRef]) -> str:
    """What an acceptance saw: each exit check's outcome and the facts it rested on."""
    material = [
        [item.ref.check, item.result.outcome.value, sorted(f.id for f in item.result.evidence)]
        for item in checked
    ]
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


def saw_the_same(checked: list[CheckedRef], accepted_hash: str | None) -> bool:
    """Whether an acceptance's ``accepted_hash`` saw the exit evidence ``checked`` is now: the
    same hash, or the same once the checks that do not apply and rest on nothing are left out.
    A check a later playbook version added is not applicable to a program whose play exited
    before it (``trial-reproduced`` to a v1 program, say): its acceptance could not have seen
    it, and an upgrade must not turn every such handoff stale (its next play could not start).
    A check that passed then and does not apply now is still a change: the hash it is in was
    not the one accepted."""
    return seen_as(checked, accepted_hash) is not None


def seen_as(checked: list[CheckedRef], accepted_hash: str | None) -> list[CheckedRef] | None:
    """The exit evidence ``checked`` as ``accepted_hash`` saw it (:func:`saw_the_same`), or
    None where it did not see it."""
    if accepted_hash is None:
        return None
    # an exit accepted before today's rule hashed the earlier rule's evidence (Result.earlier)
    before = [
        item if item.result.earlier is None
        else CheckedRef(item.ref, replace(item.result, evidence=item.result.earlier))
        for item in checked
    ]  # fmt: skip
    for each in (checked, before) if before != checked else (checked,):
        if evidence_hash(each) == accepted_hash:
            return each
        seen = [
            item
            for item in each
            if item.result.outcome is not Outcome.NOT_APPLICABLE or item.result.evidence
        ]
        if len(seen) < len(each) and evidence_hash(seen) == accepted_hash:
            return seen
    return None


def cited(checked: list[CheckedRef]) -> list[int]:
    """The facts the exit evidence ``checked`` rests on, by id: what an acceptance of it names
    (its ``evidence``)."""
    return sorted({fact.id for item in checked for fact in item.result.evidence})


def exit_results(
    play: Play, state: ProgramState, now: datetime, *, here: frozenset[str] = frozenset()
) -> list[CheckedRef]:
    """``play``'s exit checks; ``here``: the digests this machine read as the project's test
    model (:attr:`~inhouse.program.checks.CheckContext.test_model_here`), which only an edge
    judging for a person passes (the fold judges alike on every machine)."""
    context = context_for(state, now)
    if here:
        context = replace(context, test_model_here=here)
    return run_checks(play.exit, context)


def trigger_results(play: Play, state: ProgramState, now: datetime) -> list[CheckedRef]:
    return run_checks(play.trigger, context_for(state, now))


def failing(checked: list[CheckedRef]) -> list[CheckedRef]:
    return [item for item in checked if not item.result.outcome.satisfied]


def describe_missing(checked: list[CheckedRef]) -> list[str]:
    """One line per unsatisfied check: its deliverable and why it is not there."""
    lines = []
    for item in failing(checked):
        label = "needs a person" if item.result.outcome is Outcome.INCONCLUSIVE else "missing"
        lines.append(f"{item.ref.title} ({label}: {item.result.reason})")
    return lines
