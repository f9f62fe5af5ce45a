"""Output-quality checks, shared by trials (play 1) and workflows (play 3).

    from inhouse.checks import QualityContext, evaluate, parse_checks

    checks = parse_checks(
        [{"type": "icontains-any", "value": ["refund", "return"], "weight": 2},
         {"type": "not-contains", "value": "As an AI"},
         {"type": "length", "max": 400}],
        where="workflows/replies.yaml: tests[0].checks",
    )
    case = await evaluate(checks, output, QualityContext(latency_ms=812), threshold=0.8)
    case.passed, case.score, [(r.type, r.passed, r.reason) for r in case.results]

The spec shape follows promptfoo's ``assert`` (``type``, ``value``, ``threshold``, ``weight``,
``metric``). Types come from a registry (:mod:`inhouse.checks.registry`); every type has a
``not-<type>`` negation. Each check answers pass/fail, a score in 0..1 and a reason a person
understands; a case passes when every weighted check passes, or, with a threshold, when its
weighted score reaches it. A check that could not judge (a judge that answered garbage, a runtime
without embeddings) fails the case and says why; negation never turns that into a pass.
"""

from inhouse.checks.base import CaseResult, CheckResult, Finding, QualityContext
from inhouse.checks.embeddings import Embedder, EmbeddingsNotServed, HttpEmbedder
from inhouse.checks.evaluate import evaluate, run_check
from inhouse.checks.registry import (
    CheckType,
    Params,
    check_type,
    check_types,
    register_check_type,
    supported_types,
)
from inhouse.checks.spec import CheckSpec, parse_check, parse_checks

__all__ = [
    "SUPPORTED_TYPES",
    "CaseResult",
    "CheckResult",
    "CheckSpec",
    "CheckType",
    "Embedder",
    "EmbeddingsNotServed",
    "Finding",
    "HttpEmbedder",
    "Params",
    "QualityContext",
    "check_type",
    "check_types",
    "evaluate",
    "parse_check",
    "parse_checks",
    "register_check_type",
    "run_check",
    "supported_types",
]

#: every type name a spec may use (built-ins, installed plugins and their ``not-`` negations)
SUPPORTED_TYPES: tuple[str, ...] = supported_types()
