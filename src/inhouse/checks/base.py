"""The shapes every output-quality check shares: what a check gets (the output and a
:class:`QualityContext`), what it answers (a :class:`Finding`), and what a case adds up to
(:class:`CheckResult` per check, :class:`CaseResult` per case).

The names are distinct from the play checks' (:mod:`inhouse.program.checks` has its own
``CheckContext`` and ``Outcome``): a quality check judges one model output, a play check judges
the program's evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from inhouse.checks.embeddings import Embedder
    from inhouse.runtimes.protocol import Runtime

__all__ = ["CaseResult", "CheckResult", "Finding", "QualityContext"]


@dataclass(frozen=True)
class Finding:
    """What one check concluded about one output, before negation and weighting.

    ``error`` is set when the check could not judge at all (a judge that answered garbage, a
    runtime without embeddings, a function that raised): such a check fails, and negation never
    turns it into a pass."""

    passed: bool
    score: float
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    error: bool = False

    @classmethod
    def of(cls, passed: bool, reason: str, **details: Any) -> Finding:
        """A yes/no finding: score 1 or 0."""
        return cls(passed, 1.0 if passed else 0.0, reason, dict(details))

    @classmethod
    def failure(cls, reason: str, **details: Any) -> Finding:
        """The check could not judge the output (see ``error``)."""
        return cls(False, 0.0, reason, dict(details), error=True)


@dataclass
class QualityContext:
    """What a check may know beyond the output itself.

    ``latency_ms`` and ``cost`` are what the caller measured for this output (``None``: not
    measured, and a latency or cost check then fails saying so). ``runtime`` and
    ``judge_model`` serve ``llm-rubric`` and the other model-graded types; ``embedder`` and
    ``embedding_model`` serve ``similar``. ``prompt`` is the text the model was sent (the
    question ``answer-relevance`` judges against when no ``query`` var is given); ``tools``
    the tools the request offered (``is-valid-openai-tools-call``); ``peers`` the outputs of
    every prompt variant for the same case and attempt, this one at ``peer_index``
    (``select-best``), with ``shared`` a place for a verdict made once for all of them.
    ``decoy``: the output is an answer no model gave (:mod:`inhouse.workflows.decoys`), which a
    check type that judges only against the other variants' outputs passes
    (:attr:`~inhouse.checks.registry.CheckType.relative`).
    """

    vars: Mapping[str, Any] = field(default_factory=dict)
    latency_ms: float | None = None
    cost: float | None = None
    runtime: Runtime | None = None
    judge_model: str | None = None
    embedder: Embedder | None = None
    embedding_model: str | None = None
    prompt: str = ""
    tools: list[dict[str, Any]] | None = None
    peers: list[str] | None = None
    peer_index: int = 0
    shared: dict[Any, Any] | None = None
    decoy: bool = False


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict on one output, as a person reads it."""

    type: str
    passed: bool
    score: float
    reason: str
    weight: float
    metric: str | None = None
    error: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": self.type,
            "passed": self.passed,
            "score": round(self.score, 6),
            "reason": self.reason,
            "weight": self.weight,
            "error": self.error,
        }
        if self.metric:
            data["metric"] = self.metric
        if self.details:
            data["details"] = self.details
        return data


@dataclass(frozen=True)
class CaseResult:
    """Every check on one output, and whether the case passes.

    ``score`` is the weighted mean of the checks' scores. Without a threshold a case passes when
    every weighted check passes; with one, when ``score >= threshold``. A check that could not
    judge (``error``) fails the case either way: an unmeasured case is not a passing one."""

    passed: bool
    score: float
    threshold: float | None
    results: list[CheckResult]

    @property
    def errors(self) -> list[CheckResult]:
        return [result for result in self.results if result.error]

    @property
    def failures(self) -> list[CheckResult]:
        return [result for result in self.results if not result.passed]

    def summary(self) -> str:
        """One line: why the case passed or failed."""
        if not self.results:
            return "no checks"
        if self.errors:
            first = self.errors[0]
            return f"{first.type} could not judge: {first.reason}"
        if self.threshold is not None:
            verb = "≥" if self.passed else "<"
            return f"score {self.score:.2f} {verb} threshold {self.threshold:.2f}"
        failing = self.failures
        if not failing:
            return f"all {len(self.results)} checks passed"
        return f"{failing[0].type}: {failing[0].reason}" + (
            f" (+{len(failing) - 1} more failing)" if len(failing) > 1 else ""
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "score": round(self.score, 6),
            "threshold": self.threshold,
            "results": [result.to_dict() for result in self.results],
        }
