"""Run a case's checks on one output and add them up (weights, threshold, negation)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from inhouse.checks.base import CaseResult, CheckResult, Finding, QualityContext
from inhouse.checks.registry import check_type
from inhouse.checks.spec import CheckSpec
from inhouse.errors import InvalidInput, RuntimeFault

__all__ = ["evaluate", "run_check"]

_EPSILON = 1e-9


async def run_check(spec: CheckSpec, output: str, ctx: QualityContext) -> CheckResult:
    """One check on one output. ``not-<type>`` inverts pass and score, but never an error: a
    check that could not judge fails whichever way it is written."""
    kind = check_type(spec.base)
    if kind is not None and kind.relative and ctx.decoy:
        # beside other variants their author writes (one prompted to say nothing useful), any
        # answer may be the best: such a check shows nothing of an answer alone, either way
        return CheckResult(
            type=spec.type,
            passed=True,
            score=1.0,
            reason=f"{spec.base} judges an output only against the other prompt variants' "
            "outputs, which their author writes: it passes an answer no model gave",
            weight=spec.weight,
            metric=spec.metric,
        )
    if kind is None:  # parse_checks already refused it; a plugin may have gone since
        finding = Finding.failure(f"check type {spec.base!r} is no longer installed")
    else:
        try:
            if spec.transform:
                output = await _transformed(spec.transform, output, ctx)
            finding = await kind.run(spec.params, output, ctx)
        except RuntimeFault as fault:
            finding = Finding.failure(str(fault))
        except InvalidInput as err:  # the transform's script failed
            finding = Finding.failure(f"transform: {err}")
    passed, score = finding.passed, min(max(finding.score, 0.0), 1.0)
    if spec.negate and not finding.error:
        passed, score = not passed, 1.0 - score
    return CheckResult(
        type=spec.type,
        passed=passed,
        score=score,
        reason=finding.reason,
        weight=spec.weight,
        metric=spec.metric,
        error=finding.error,
        details=finding.details,
    )


async def _transformed(source: str, output: str, ctx: QualityContext) -> str:
    from inhouse.checks.javascript import Script, transform_output

    return await transform_output(
        Script(source), output, {"vars": dict(ctx.vars), "prompt": ctx.prompt}
    )


async def evaluate(
    checks: Sequence[CheckSpec],
    output: str,
    ctx: QualityContext | None = None,
    *,
    threshold: float | None = None,
) -> CaseResult:
    """Judge ``output`` with every check (concurrently) and decide the case.

    The score is the weighted mean of the checks' scores (weight 0: reported, not counted).
    Without ``threshold`` the case passes when every counted check passes; with one, when the
    score reaches it. A counted check that could not judge fails the case either way."""
    if threshold is not None and not 0 <= threshold <= 1:
        raise InvalidInput(f"threshold must be between 0 and 1, got {threshold}")
    context = ctx if ctx is not None else QualityContext()
    results = list(await asyncio.gather(*(run_check(spec, output, context) for spec in checks)))
    counted = [result for result in results if result.weight > 0]
    total = sum(result.weight for result in counted)
    score = sum(r.weight * r.score for r in counted) / total if total else 1.0
    if any(result.error for result in counted):
        passed = False
    elif threshold is None:
        passed = all(result.passed for result in counted)
    else:
        passed = score + _EPSILON >= threshold
    return CaseResult(passed=passed, score=score, threshold=threshold, results=results)
