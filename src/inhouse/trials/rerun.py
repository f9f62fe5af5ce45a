"""``inhouse prove NAME --rerun``: a proven trial's candidate side, run again by someone else on
their own machine, recorded as a measured ``trial.rerun`` fact that play 2's exit
(``trial-reproduced``) compares with the verdict.

A play 1 verdict is one person's measurement. The colleague who stands the baseline up on their
own machine (play 2's ``baseline verify``) reruns the candidate side of the proven trial there:
the same task inputs, generation settings and quality checks (the verdict's ``spec_hash``
covers them, and a spec that hashes otherwise is refused before anything is sent), answered by
the runtime on their machine through the same machinery as the trial's candidate side
(:func:`inhouse.trials.headtohead.run_candidate`). The fact names the trial, the verdict, the
spec hash, the weights the runtime served (its inventory's digest), whether every answer came
from this machine, and the pass rate over the inputs. Whether it counts is the check's to say,
from the facts alone: this module says what the check says.

In a checkout without the program's log (a colleague's own laptop), no verdict can be looked
up: the rerun is signed into the outbox naming the spec hash it ran, and the program's side
matches it with the verdict when the evidence is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inhouse.checks.function import python_calls, python_checks_allowed, refuse_untrusted
from inhouse.errors import Refused
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes.local import UNKNOWN_PEER, answered_here
from inhouse.trials.headtohead import SideResult, run_candidate
from inhouse.trials.load import PhaseProgress, run_in_fast_loop
from inhouse.trials.plan import plan_trial
from inhouse.trials.sides import CandidateSide

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["CHECK", "COLLECTOR", "RerunOutcome", "proven_verdict", "rerun_trial"]

COLLECTOR = "inhouse prove --rerun"
#: play 2's exit check that judges a rerun
CHECK = "trial-reproduced"


@dataclass(frozen=True)
class RerunOutcome:
    """A rerun: what the candidate did, the fact recorded, and the check's judgement of it."""

    trial: str
    spec_hash: str
    result: SideResult[CandidateSide]
    fact: Fact
    #: the verdict it reran (None: run in a checkout without the program's log)
    verdict: Fact | None
    counts: bool
    why: str

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
) -> RerunOutcome:
    """Rerun trial ``name``'s candidate side on this machine and record the ``trial.rerun``
    fact as ``actor``. With the program's log here, the spec must hash as the latest proven
    verdict recorded (else refused, naming both hashes); in a checkout without it, the fact
    goes to the outbox and is matched with the verdict where it is imported."""
    detached = program.detached()
    who = None if detached else program.actor(actor).name
    plan = plan_trial(program.folder, name)
    spec_hash = plan.spec_hash
    verdict = None if detached else proven_verdict(program, name)
    if verdict is not None and verdict.payload["spec_hash"] != spec_hash:
        raise Refused(
            f"{plan.shown} here hashes {spec_hash}, but the verdict it would reproduce (fact "
            f"#{verdict.id}, by {verdict.by}) measured {verdict.payload['spec_hash']}: pull "
            f"the {plan.shown} and task inputs that were proven, or its owner proves this one "
            f"(`inhouse prove {name}`)"
        )
    if not trust_python:  # a python check runs someone's code with this runner's rights
        refuse_untrusted(python_calls(plan.checks), plan.shown, f"inhouse prove {name} --rerun")
    with python_checks_allowed(trust_python):
        result = run_in_fast_loop(run_candidate(plan, progress=progress))
    fact = _record(program, who, name, spec_hash, verdict, result)
    counts, why = _judged(program, fact, detached)
    return RerunOutcome(name, spec_hash, result, fact, verdict, counts, why)


def _record(
    program: Program,
    who: str | None,
    name: str,
    spec_hash: str,
    verdict: Fact | None,
    result: SideResult[CandidateSide],
) -> Fact:
    from inhouse.identity.machine import machine_fingerprint

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
            "spec_hash": spec_hash,
            "model": inventory["model"] if inventory else side.endpoint.model or "",
            "digest": inventory["digest"] if inventory else None,
            "test_model": side.test_model,
            "pass_rate": sum(passed) / len(passed),
            "inputs": len(passed),
            "passed": sum(passed),
            "quality_floor": side.plan.spec.quality_floor,
            "machine": machine_fingerprint(),
            "runtime": side.target.base_url,
            "runtime_local": answered_here(peers),
            "runtime_peers": peers,
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
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

    result = evaluate(CHECK, build_context(program.state(), program.clock()))
    mine = any(f.id == fact.id for f in result.evidence)
    return result.outcome is Outcome.PASS and mine, result.reason
