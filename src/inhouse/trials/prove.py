"""``inhouse prove``: run a trial head to head and record its verdict as play 1's evidence.

For every task input, the candidate and the status quo each answer (through the load generator,
warm-up excluded; the manual status quo's answers are the minutes its author recorded and, where
given, outputs). Each output is checked for quality; cost, privacy and the verdict follow
(:mod:`inhouse.trials.headtohead`); the report is written under ``.inhouse/reports/`` and a
measured ``trial.verdict`` fact that play 1's exit check (``value-proven``) reads is recorded,
with the report attached and labelled when the candidate was inhouse's own test model. A "not
worth it" verdict can end the program honestly, through :meth:`Program.stop_not_worth_it` and
nowhere else: at once when asked up front, or when the person running it says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from inhouse.checks.function import (
    python_calls,
    python_checks_allowed,
    record_trusted,
    refuse_untrusted,
)
from inhouse.errors import ProgramStopped
from inhouse.program.facts import Fact, Provenance
from inhouse.trials.headtohead import TrialOutcome, run_planned
from inhouse.trials.load import PhaseProgress, run_in_fast_loop
from inhouse.trials.plan import plan_trial
from inhouse.trials.report import ReportFiles, reserve_report, write_report
from inhouse.trials.reportdata import TrialReport, report_data
from inhouse.trials.spec import ApiStatusQuo
from inhouse.trials.verdict import Verdict

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["COLLECTOR", "AskToStop", "TrialRun", "prove_trial", "verdict_set_aside"]

COLLECTOR = "inhouse prove"
#: asked when the verdict is not-worth-it and no stop was asked for up front: stop now?
AskToStop = Callable[[Verdict], bool]


@dataclass(frozen=True)
class TrialRun:
    """A finished trial: what happened, the report's data and files, the recorded fact, and
    whether it ended the program honestly."""

    outcome: TrialOutcome
    data: TrialReport
    report: ReportFiles
    fact: Fact
    stopped: bool = False
    #: why plays 1 and 2 set the recorded verdict aside (its runner had no say over play 1),
    #: or None where it counts
    set_aside: str | None = None

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    @property
    def html_report(self) -> str:
        """The HTML report's path in the program folder."""
        return self.data["report"]["html"]


def prove_trial(
    program: Program,
    name: str,
    actor: str | None = None,
    *,
    progress: PhaseProgress | None = None,
    stop_if_not_worth_it: bool = False,
    ask_to_stop: AskToStop | None = None,
    trust_python: bool = False,
) -> TrialRun:
    """Run trial ``name``, record the ``trial.verdict`` fact as ``actor`` and write the report;
    on a not-worth-it verdict, stop the program honestly when ``stop_if_not_worth_it`` says so
    or ``ask_to_stop`` answers yes. A trial with ``python`` checks runs only with
    ``trust_python`` (their code runs with the runner's rights)."""
    who = program.actor(actor)  # an unknown person fails before any request is sent
    stopped = program.state().stopped
    if stopped is not None:
        raise ProgramStopped(f"the program stopped ({stopped.reason}); no more trials run in it")
    plan = plan_trial(program.folder, name)
    plan.refuse_repeats(f"inhouse prove {name}")
    calls, where, command = (
        python_calls(plan.checks),
        f"trials/{name}.yaml",
        f"inhouse prove {name}",
    )
    if not trust_python:  # a python check runs someone's code with this runner's rights
        refuse_untrusted(calls, where, command)
    elif calls and not program.detached() and _proven_by_another(program, name, who.name):
        # a trial someone else proved is theirs, and so is the code its checks call: proving it
        # again runs it with this key at hand, as a rerun does (exit rule 36)
        record_trusted(program, who.name, calls, where, command)
    started = program.clock()
    with python_checks_allowed(trust_python):
        outcome = run_in_fast_loop(run_planned(plan, progress=progress))
    finished = program.clock()
    data = report_data(outcome)
    data["run_by"] = who.name
    data["started_at"] = started.isoformat(timespec="seconds")
    data["finished_at"] = finished.isoformat(timespec="seconds")
    files = reserve_report(program.folder, name, when=finished)
    fact = _record_verdict(program, who.name, outcome, files)
    data["fact_id"] = fact.id
    did_stop = False
    try:
        if _stop_wanted(outcome.verdict, stop_if_not_worth_it, ask_to_stop):
            program.stop_not_worth_it(
                who.name, comment=f"trial {name} (fact #{fact.id}): {outcome.verdict.summary}"
            )
            did_stop = True
    finally:  # the report is written whatever the stop did
        data["stopped"] = did_stop
        write_report(files, data, folder=program.folder)
    return TrialRun(
        outcome=outcome,
        data=data,
        report=files,
        fact=fact,
        stopped=did_stop,
        set_aside=_set_aside(program, fact),
    )


def _proven_by_another(program: Program, name: str, who: str) -> bool:
    """Whether trial ``name``'s first verdict (whatever it said, counted or not) is someone
    other than ``who``'s: the trial is its first prover's, as a workflow's version is its first
    publisher's, and so is the code its checks call. The first, not the latest: a colleague who
    proves ``who``'s trial after them does not make it theirs (and ``who``'s key marked)."""
    first = next(
        (f for f in program.state().facts
         if f.kind == "trial.verdict" and f.payload.get("trial") == name),
        None,
    )  # fmt: skip
    return first is not None and first.by != who


def verdict_set_aside(program: Program, actor: str | None = None) -> str | None:
    """Why a verdict ``actor`` recorded now would be set aside for plays 1 and 2, or None: asked
    before a trial runs for minutes, so a runner with no say over play 1 (a colleague who asked
    in, a pilot user) knows up front that its verdict will be theirs to read only."""
    from inhouse.program.counting import verdict_refusal

    return verdict_refusal(program.state(), program.actor(actor).name)


def _set_aside(program: Program, fact: Fact) -> str | None:
    """Why the checks leave the recorded ``fact`` out, as ``inhouse status`` says it, or None."""
    from inhouse.program.evaluation import context_for

    context = context_for(program.state(), program.clock())
    return next((u.why for u in context.uncounted if u.fact.id == fact.id), None)


def _stop_wanted(verdict: Verdict, at_once: bool, ask: AskToStop | None) -> bool:
    """Only a not-worth-it verdict stops a program, and only when its runner wants it."""
    if verdict.verdict != "not-worth-it":
        return False
    return at_once or (ask is not None and ask(verdict))


def _mean_seconds(seconds: list[float | None]) -> float | None:
    done = [s for s in seconds if s is not None]
    return sum(done) / len(done) if done else None


def economics(outcome: TrialOutcome) -> dict[str, Any]:
    """What play 6 needs to price real use like the trial did: each side's time per task and
    the cost inputs (kept in the signed verdict, so a later edit of the spec cannot move them)."""
    spec = outcome.plan.spec
    status_quo = spec.status_quo
    local = spec.candidate.cost
    data: dict[str, Any] = {
        "status_quo": status_quo.kind,
        "currency": local.currency,
        "status_quo_seconds_per_task": _mean_seconds(outcome.status_quo.answers.seconds),
        "candidate_seconds_per_task": _mean_seconds(outcome.candidate.answers.seconds),
        "local": local.model_dump(),
    }
    if isinstance(status_quo, ApiStatusQuo):
        data["status_quo_scope"] = outcome.status_quo.privacy.scope
        data["status_quo_nearest"] = outcome.status_quo.privacy.nearest
        data["api_price_input_per_mtok"] = status_quo.price_input_per_mtok
        data["api_price_output_per_mtok"] = status_quo.price_output_per_mtok
    return data


def _candidate(outcome: TrialOutcome) -> dict[str, Any]:
    """The weights the trial measured, by the candidate runtime's inventory (play 2's lock is
    held to them), or only the served model's name where the runtime could not say."""
    side = outcome.candidate.side
    found = side.inventory
    if found is None:
        return {"model": side.endpoint.model or "", "digest": None, "digest_source": None}
    return {
        "model": found["model"],
        "digest": found["digest"],
        "digest_source": found["digest_source"],
    }


def _record_verdict(program: Program, who: str, outcome: TrialOutcome, files: ReportFiles) -> Fact:
    verdict = outcome.verdict
    return program.record_fact(
        who,
        "trial.verdict",
        {
            "trial": outcome.plan.name,
            "verdict": verdict.verdict,
            "proven_on": verdict.proven_on,
            "quality_ok": verdict.quality_ok,
            "summary": verdict.summary,
            "report": files.html.relative_to(program.folder).as_posix(),
            "test_model": outcome.test_model,
            "economics": economics(outcome),
            "candidate": _candidate(outcome),
            # what a second person's rerun compares with (``inhouse prove NAME --rerun``)
            "spec_hash": outcome.plan.spec_hash,
            "candidate_pass_rate": verdict.quality.candidate_pass_rate,
            "inputs": verdict.quality.n,
            # how many of them are distinct tasks (a copy of one is refused before it runs)
            "distinct_inputs": len(outcome.plan.inputs) - len(outcome.plan.repeated),
            "quality_floor": verdict.quality.floor_points,
            "status_quo_pass_rate": verdict.quality.status_quo_pass_rate,
            "status_quo_measured": verdict.quality.status_quo_measured,
            "proved": outcome.proved,
            "on_topic": outcome.on_topic,
            "status_quo_unanswered": outcome.status_quo_unanswered,
            "status_quo_cut_short": outcome.status_quo_cut_short,
            "timed_checks": outcome.timed_checks,
            # what a rerun's own faster / cheaper / more-private figures must be measured against
            "claim_hash": outcome.plan.claim_hash,
            # and what each had to clear (the claim hash covers it; play 1 holds it to a floor)
            "thresholds": outcome.plan.spec.meaningful.thresholds,
            # the seed its requests carried at the spec's temperature: a rerun where the spec
            # samples draws its own (exit rule 33)
            "seed": outcome.plan.seed_sent,
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
