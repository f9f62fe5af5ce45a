"""``inhouse prove``: run a trial head to head and record its verdict as play 1's evidence.

For every task input, the candidate and the status quo each answer (through the load generator,
warm-up excluded; the manual status quo's answers are its recorded minutes and, where given,
outputs). Each output is checked for quality; cost, privacy and the verdict follow; the report is
written under ``.inhouse/reports/`` and a measured ``trial.verdict`` fact that play 1's exit
check (``value-proven``) reads is recorded, with the report attached. A "not worth it" verdict
can end the program honestly (:meth:`Program.stop_not_worth_it`).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inhouse.checks import CaseResult, CheckContext, CheckSpec, evaluate, parse_checks
from inhouse.errors import InvalidInput, ProgramStopped, RuntimeUnavailable
from inhouse.program.config import read_config
from inhouse.program.facts import Fact, Provenance
from inhouse.runtimes import RuntimeConfig, open_runtime
from inhouse.trials.cost import CostBreakdown, api_cost, local_cost, manual_cost
from inhouse.trials.load import LoadMode, LoadResult, Prompt, Target, run_in_fast_loop, run_load
from inhouse.trials.metrics import Sample, Stats
from inhouse.trials.privacy import Send, SidePrivacy, TextScanner, account, compare_privacy
from inhouse.trials.privacy import manual_side as manual_privacy
from inhouse.trials.report import ReportFiles, reserve_report, write_report
from inhouse.trials.spec import (
    ApiStatusQuo,
    Endpoint,
    ManualRecord,
    ManualStatusQuo,
    TaskInput,
    TrialSpec,
    load_trial,
    read_inputs,
    read_minutes,
    render_prompt,
    resolve_endpoint,
)
from inhouse.trials.verdict import (
    DimensionResult,
    Verdict,
    compare_dimension,
    compare_quality,
    decide,
)

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = ["COLLECTOR", "ProveProgress", "TrialRun", "prove", "run_trial"]

COLLECTOR = "inhouse prove"
#: called as the trial runs: (phase, done, total)
ProveProgress = Callable[[str, int, int], None]


@dataclass
class _Side:
    """One side's answers, aligned with the task inputs."""

    seconds: list[float | None]  # per input; None where the request failed
    ok: list[bool]
    errors: list[str | None]
    outputs: list[str | None]  # None: no output to check (failed, or manual without outputs)
    load: LoadResult | None = None
    target: Target | None = None
    sends: list[Send] = field(default_factory=list)


@dataclass(frozen=True)
class TrialRun:
    """A finished trial: the verdict, the report's data and files, and the recorded fact."""

    data: dict[str, Any]
    verdict: Verdict
    report: ReportFiles | None
    fact: Fact | None
    stopped: bool = False


# -- the whole command ---------------------------------------------------------------------------


def prove(
    program: Program,
    name: str,
    actor: str | None = None,
    *,
    progress: ProveProgress | None = None,
    stop_if_not_worth_it: bool = False,
) -> TrialRun:
    """Run trial ``name``, write its report, record the ``trial.verdict`` fact as ``actor``,
    and, when asked and the verdict is not-worth-it, stop the program honestly."""
    who = program.actor(actor)  # an unknown person fails before any request is sent
    stopped = program.state().stopped
    if stopped is not None:
        raise ProgramStopped(f"the program stopped ({stopped.reason}); no more trials run in it")
    started = program.clock()
    data, verdict = run_in_fast_loop(run_trial(program.folder, name, progress=progress))
    finished = program.clock()
    data.update(
        run_by=who.name,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
    )
    files = reserve_report(program.folder, name, when=finished)
    fact = program.record_fact(
        who.name,
        "trial.verdict",
        {
            "trial": name,
            "verdict": verdict.verdict,
            "proven_on": verdict.proven_on,
            "quality_ok": verdict.quality_ok,
            "summary": verdict.summary,
            "report": files.html.relative_to(program.folder).as_posix(),
        },
        provenance=Provenance.MEASURED,
        collector=COLLECTOR,
    )
    data["fact_id"] = fact.id
    write_report(files, data, folder=program.folder)
    did_stop = False
    if stop_if_not_worth_it and verdict.verdict == "not-worth-it":
        program.stop_not_worth_it(
            who.name, comment=f"trial {name} (fact #{fact.id}): {verdict.summary}"
        )
        did_stop = True
    data["stopped"] = did_stop
    return TrialRun(data=data, verdict=verdict, report=files, fact=fact, stopped=did_stop)


async def run_trial(
    folder: Path,
    name: str,
    *,
    progress: ProveProgress | None = None,
    scanner: TextScanner | None = None,
) -> tuple[dict[str, Any], Verdict]:
    """Run both sides of trial ``name`` and decide; returns the report's data and the verdict
    (nothing recorded, nothing written)."""
    spec = load_trial(folder, name)
    shown = f"trials/{name}.yaml"
    config = read_config(folder)
    checks = parse_checks(spec.checks, where=f"{shown}: checks")
    if not checks:
        raise InvalidInput(
            f"{shown}: checks: a trial needs at least one quality check, or quality is not "
            "measured and no verdict can say 'at acceptable quality'"
        )
    inputs = read_inputs(folder, spec.task.inputs)
    prompts = [_messages(spec, item) for item in inputs]
    texts = [_text_of(p) for p in prompts]
    if scanner is None:
        scanner = _scanner(config)

    manual: ManualRecord | None = None
    quo_spec = spec.status_quo
    if isinstance(quo_spec, ManualStatusQuo):
        manual = read_minutes(folder, quo_spec.minutes, len(inputs))
        if manual.outputs is None and quo_spec.pass_rate is None:
            raise InvalidInput(
                f"{shown}: status_quo: {quo_spec.minutes} has no `output` column, so the manual "
                "process's quality cannot be checked; add the outputs, or state its "
                "`pass_rate` (shown in the report as stated, not measured)"
            )
    candidate_config = resolve_endpoint(folder, spec.candidate, config, where="candidate")
    candidate_target, candidate_inventory = await _target(
        folder, candidate_config, spec, where="candidate", inventory=True
    )
    quo_target: Target | None = None
    if isinstance(quo_spec, ApiStatusQuo):
        quo_config = resolve_endpoint(folder, quo_spec, config, where="status_quo")
        quo_target, _ = await _target(folder, quo_config, spec, where="status_quo")

    mode = LoadMode.sequential() if spec.concurrency == 1 else LoadMode.fixed(spec.concurrency)
    candidate = await _run_side(
        "candidate", candidate_target, prompts, texts, mode, spec.warmup, progress
    )
    if quo_target is not None:
        status_quo = await _run_side(
            "status quo", quo_target, prompts, texts, mode, spec.warmup, progress
        )
    else:
        assert manual is not None
        status_quo = _Side(
            seconds=[m * 60.0 for m in manual.minutes],
            ok=[True] * len(inputs),
            errors=[None] * len(inputs),
            outputs=list(manual.outputs) if manual.outputs is not None else [None] * len(inputs),
        )

    # cost, aligned with the inputs
    assert candidate.load is not None
    busy = [_busy(s) for s in _aligned(candidate.load, len(inputs))]
    candidate_cost = local_cost(
        spec.candidate.cost,
        busy,
        wall_seconds=candidate.load.duration if spec.concurrency > 1 else None,
    )
    if isinstance(quo_spec, ApiStatusQuo):
        assert status_quo.load is not None
        quo_samples = _aligned(status_quo.load, len(inputs))
        estimated = sum(
            1 for s in quo_samples if s.input_tokens_estimated or s.output_tokens_estimated
        )
        quo_cost = api_cost(
            quo_spec,
            [s.input_tokens or 0 for s in quo_samples],
            [s.output_tokens for s in quo_samples],
            estimated=estimated,
        )
    else:
        assert manual is not None and isinstance(quo_spec, ManualStatusQuo)
        quo_cost = manual_cost(quo_spec, manual.minutes)

    # quality
    if progress is not None:
        progress("quality checks", 0, len(inputs))
    candidate_cases = await _judge(checks, spec, inputs, candidate, candidate_cost)
    quo_cases: list[CaseResult | None] | None = None
    if status_quo.outputs and any(o is not None for o in status_quo.outputs):
        quo_cases = await _judge(checks, spec, inputs, status_quo, quo_cost)
    if progress is not None:
        progress("quality checks", len(inputs), len(inputs))

    # privacy
    candidate_privacy = account("candidate", candidate.sends, scanner)
    quo_privacy: SidePrivacy = (
        account("status quo", status_quo.sends, scanner)
        if quo_target is not None
        else manual_privacy()
    )
    privacy = compare_privacy(candidate_privacy, quo_privacy, claimed=spec.meaningful.more_private)

    # verdict: time and cost on the inputs both sides answered; quality on every input
    pairs = [i for i in range(len(inputs)) if candidate.ok[i] and status_quo.ok[i]]
    dims: list[DimensionResult] = [
        compare_dimension(
            "faster",
            [_num(candidate.seconds[i]) for i in pairs],
            [_num(status_quo.seconds[i]) for i in pairs],
            threshold=spec.meaningful.faster,
            unit="s",
            resamples=spec.resamples,
            seed=spec.seed,
        ),
        compare_dimension(
            "cheaper",
            [candidate_cost.per_task[i] for i in pairs],
            [quo_cost.per_task[i] for i in pairs],
            threshold=spec.meaningful.cheaper,
            unit=candidate_cost.currency,
            resamples=spec.resamples,
            seed=spec.seed,
        ),
    ]
    candidate_passed = [c is not None and c.passed for c in candidate_cases]
    quo_passed = None if quo_cases is None else [c is not None and c.passed for c in quo_cases]
    quality = compare_quality(
        candidate_passed,
        quo_passed,
        floor_points=spec.quality_floor,
        stated_rate=quo_spec.pass_rate if isinstance(quo_spec, ManualStatusQuo) else None,
        resamples=spec.resamples,
        seed=spec.seed,
    )
    verdict = decide(dims, quality, privacy)

    data = _report_data(
        name=name,
        spec=spec,
        inputs=inputs,
        checks=checks,
        mode=mode,
        candidate=candidate,
        status_quo=status_quo,
        candidate_cost=candidate_cost,
        quo_cost=quo_cost,
        candidate_cases=candidate_cases,
        quo_cases=quo_cases,
        candidate_privacy=candidate_privacy,
        quo_privacy=quo_privacy,
        verdict=verdict,
        candidate_inventory=candidate_inventory,
    )
    return _finite(data), verdict


def _finite(value: Any) -> Any:
    """The report's data with NaN (no pairs to compare) as null, so the JSON stays valid."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


# -- running one side ----------------------------------------------------------------------------


def _messages(spec: TrialSpec, item: TaskInput) -> list[dict[str, str]]:
    messages = []
    if spec.task.system:
        messages.append(
            {
                "role": "system",
                "content": render_prompt(spec.task.system, item, where="task.system"),
            }
        )
    messages.append({"role": "user", "content": render_prompt(spec.task.prompt, item)})
    return messages


def _text_of(messages: Sequence[dict[str, str]]) -> str:
    return "\n".join(m["content"] for m in messages)


def _scanner(config: dict[str, Any]) -> TextScanner:
    from inhouse.policy import Scanner

    scanner: TextScanner = Scanner.from_config(config)
    return scanner


async def _target(
    folder: Path, config: RuntimeConfig, spec: TrialSpec, *, where: str, inventory: bool = False
) -> tuple[Target, dict[str, Any] | None]:
    """The load generator's target for a runtime: its URL (the embedded runtime's from its
    recorded state), its model (the one it serves, when the spec names none) and API key."""
    if config.api_key_env and not config.api_key():
        raise InvalidInput(
            f"{where}.api_key_env: the environment variable {config.api_key_env} is not set"
        )
    found: dict[str, Any] | None = None
    async with open_runtime(config, program=folder) as runtime:
        health = await runtime.health()
        if not health.ok:  # fail before either side runs, not halfway through the trial
            raise RuntimeUnavailable(f"{where} is not answering: {health.detail}")
        model = config.model
        if model is None:
            served = [m.id for m in await runtime.models()]
            if len(served) != 1:
                raise InvalidInput(
                    f"{where}.model: name the model to use; {runtime.url} serves "
                    f"{', '.join(served) if served else 'none'}"
                )
            model = served[0]
        if inventory:
            listing = await runtime.inventory()
            info = next((m for m in listing.models if m.id == model), None)
            found = {
                "runtime_version": listing.version,
                "model": model,
                "digest": info.digest if info else None,
                "digest_source": str(info.digest_source) if info and info.digest_source else None,
            }
        url = runtime.url
    generation = spec.generation.model_dump(exclude_none=True)
    max_tokens = generation.pop("max_tokens", None)
    return (
        Target(
            url=url,
            model=model,
            max_tokens=max_tokens,
            api_key=config.api_key(),
            timeout=config.timeout,
            extra_body=generation,
        ),
        found,
    )


async def _run_side(
    label: str,
    target: Target,
    prompts: list[list[dict[str, str]]],
    texts: list[str],
    mode: LoadMode,
    warmup: int,
    progress: ProveProgress | None,
) -> _Side:
    tick = None
    if progress is not None:
        progress(label, 0, len(prompts))

        def tick(done: int, total: int) -> None:
            progress(label, done, total)

    typed: list[Prompt] = list(prompts)
    result = await run_load(target, typed, mode, warmup=warmup, progress=tick)
    samples = _aligned(result, len(prompts))
    # the warm-up requests carried task data too: they count where data went
    sends = [
        Send(
            host=target.host,
            bytes_sent=_body_size(target, prompts[i % len(prompts)]),
            text=texts[i % len(prompts)],
        )
        for i in range(warmup)
    ]
    sends += [
        Send(host=s.host or target.host, bytes_sent=s.bytes_sent, text=texts[s.index])
        for s in samples
    ]
    return _Side(
        seconds=[s.e2e if s.ok else None for s in samples],
        ok=[s.ok for s in samples],
        errors=[s.error for s in samples],
        outputs=[s.output_text if s.ok else None for s in samples],
        load=result,
        target=target,
        sends=sends,
    )


def _body_size(target: Target, prompt: list[dict[str, str]]) -> int:
    return len(json.dumps(target.body(prompt), separators=(",", ":")).encode())


def _aligned(result: LoadResult, count: int) -> list[Sample]:
    """The run's samples in input order (one request per input)."""
    by_index = {s.index: s for s in result.samples}
    missing = [i for i in range(count) if i not in by_index]
    if missing:
        raise InvalidInput(f"the load run has no answer for input(s) {missing[:5]}")
    return [by_index[i] for i in range(count)]


def _busy(sample: Sample) -> float:
    """Seconds the machine worked on one request (a failed one occupied it too)."""
    if sample.e2e is not None:
        return sample.e2e
    return max(0.0, sample.end - sample.start)


def _num(value: float | None) -> float:
    assert value is not None
    return value


async def _judge(
    checks: list[CheckSpec],
    spec: TrialSpec,
    inputs: list[TaskInput],
    side: _Side,
    cost: CostBreakdown,
) -> list[CaseResult | None]:
    """Check each output; a failed request (no output) is a failed case (None)."""

    async def one(i: int) -> CaseResult | None:
        output = side.outputs[i]
        if output is None:
            return None
        seconds = side.seconds[i]
        ctx = CheckContext(
            vars=inputs[i].fields,
            latency_ms=None if seconds is None else seconds * 1000.0,
            cost=cost.per_task[i],
        )
        return await evaluate(checks, output, ctx, threshold=spec.threshold)

    return list(await asyncio.gather(*(one(i) for i in range(len(inputs)))))


# -- the report's data ---------------------------------------------------------------------------


def _stats_rows(label: str, metrics: Sequence[tuple[str, Stats | None]]) -> dict[str, Any]:
    rows = []
    for metric, stats in metrics:
        if stats is None:
            continue
        rows.append(
            {
                "name": metric,
                "count": stats.count,
                "mean": stats.mean,
                "p50": stats.p50,
                "p90": stats.p90,
                "p95": stats.p95,
                "p99": stats.p99,
            }
        )
    return {"label": label, "metrics": rows}


def _side_summary(label: str, side: _Side) -> dict[str, Any]:
    if side.load is None:
        values = [s for s in side.seconds if s is not None]
        return _stats_rows(label, [("time per task (measured minutes)", Stats.of(values))])
    summary = side.load.summary
    return _stats_rows(
        label, [("E2E", summary.e2e), ("TTFT", summary.ttft), ("TPOT", summary.tpot)]
    )


def _endpoint(target: Target | None, spec: Endpoint) -> dict[str, Any]:
    return {
        "family": spec.family if spec.runtime is None else f"runtime {spec.runtime}",
        "url": target.base_url if target else spec.url,
        "model": target.model if target else spec.model,
        "host": target.host if target else None,
    }


def _case_dict(case: CaseResult | None) -> dict[str, Any] | None:
    return None if case is None else case.to_dict()


def _case(case: CaseResult | None, error: str | None) -> tuple[bool, str]:
    if case is None:
        return False, f"no output ({error})" if error else "no output"
    return case.passed, case.summary()


def _report_data(
    *,
    name: str,
    spec: TrialSpec,
    inputs: list[TaskInput],
    checks: list[CheckSpec],
    mode: LoadMode,
    candidate: _Side,
    status_quo: _Side,
    candidate_cost: CostBreakdown,
    quo_cost: CostBreakdown,
    candidate_cases: list[CaseResult | None],
    quo_cases: list[CaseResult | None] | None,
    candidate_privacy: SidePrivacy,
    quo_privacy: SidePrivacy,
    verdict: Verdict,
    candidate_inventory: dict[str, Any] | None,
) -> dict[str, Any]:
    manual = isinstance(spec.status_quo, ManualStatusQuo)
    rows: list[dict[str, Any]] = []
    for i, item in enumerate(inputs):
        passed, reason = _case(candidate_cases[i], candidate.errors[i])
        if quo_cases is None:
            quo_passed: bool | None = None
            quo_reason = "stated pass rate, not measured"
        else:
            quo_passed, quo_reason = _case(quo_cases[i], status_quo.errors[i])
        rows.append(
            {
                "index": i,
                "id": item.id,
                "candidate": {
                    "ok": candidate.ok[i],
                    "error": candidate.errors[i],
                    "seconds": candidate.seconds[i],
                    "cost": candidate_cost.per_task[i],
                    "passed": passed,
                    "quality": reason,
                    "checks": _case_dict(candidate_cases[i]),
                    "output": candidate.outputs[i],
                },
                "status_quo": {
                    "ok": status_quo.ok[i],
                    "error": status_quo.errors[i],
                    "seconds": status_quo.seconds[i],
                    "cost": quo_cost.per_task[i],
                    "passed": quo_passed,
                    "quality": quo_reason,
                    "checks": None if quo_cases is None else _case_dict(quo_cases[i]),
                    "output": status_quo.outputs[i],
                },
            }
        )
    verdict_data = verdict.as_dict()
    quality = verdict_data.pop("quality")
    quality["candidate_passed"] = sum(1 for c in candidate_cases if c is not None and c.passed)
    quality["status_quo_passed"] = (
        None if quo_cases is None else sum(1 for c in quo_cases if c is not None and c.passed)
    )
    privacy_claim = verdict_data.pop("privacy")
    quo_spec = spec.status_quo
    return {
        "schema": 1,
        "trial": name,
        "description": spec.description,
        "inputs_count": len(inputs),
        "fact_id": None,
        "verdict": {
            key: verdict_data[key]
            for key in ("verdict", "proven_on", "quality_ok", "summary", "reasons", "inputs_needed")
        },
        "dimensions": verdict_data["dimensions"],
        "quality": quality,
        "checks": [c.describe() for c in checks],
        "cost": {"candidate": candidate_cost.as_dict(), "status_quo": quo_cost.as_dict()},
        "privacy": {
            **privacy_claim,
            "candidate": candidate_privacy.as_dict(),
            "status_quo": quo_privacy.as_dict(),
        },
        "latency": {
            "candidate_s": candidate.seconds,
            "status_quo_s": status_quo.seconds,
            "status_quo_kind": "manual" if manual else "api",
            "summaries": [
                _side_summary("candidate", candidate),
                _side_summary("status quo", status_quo),
            ],
            "candidate_load": candidate.load.summary.to_dict() if candidate.load else None,
            "status_quo_load": status_quo.load.summary.to_dict() if status_quo.load else None,
        },
        "candidate": {
            **_endpoint(candidate.target, spec.candidate),
            "inventory": candidate_inventory,
        },
        "status_quo": (
            {"kind": "manual", "minutes": quo_spec.minutes}
            if isinstance(quo_spec, ManualStatusQuo)
            else {"kind": "api", **_endpoint(status_quo.target, quo_spec)}
        ),
        "settings": {
            "inputs": spec.task.inputs,
            "warmup": spec.warmup,
            "concurrency": spec.concurrency,
            "mode": mode.describe(),
            "meaningful": spec.meaningful.model_dump(),
            "quality_floor": spec.quality_floor,
            "threshold": spec.threshold,
            "generation": spec.generation.model_dump(exclude_none=True),
            "resamples": spec.resamples,
            "seed": spec.seed,
        },
        "inputs": rows,
    }
