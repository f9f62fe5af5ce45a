"""What a workflow test run found, case by case, and the shapes it is written in: JSON (for
scripts and ``--json``) and JUnit XML (for CI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from inhouse.baseline import LockedModel
from inhouse.checks import CaseResult
from inhouse.program.facts import Fact
from inhouse.workflows.spec import Case, Workflow

__all__ = ["Attempt", "CaseReport", "ExitCheck", "RunReport"]


@dataclass(frozen=True)
class Attempt:
    """One run of a case: the output and its checks, or the runtime fault that stopped it."""

    output: str | None
    latency_ms: float | None
    result: CaseResult | None
    error: str | None

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    @property
    def score(self) -> float:
        return self.result.score if self.result is not None else 0.0

    def summary(self) -> str:
        if self.result is None:
            return f"the runtime failed: {self.error}"
        return self.result.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "score": round(self.score, 6),
            "output": self.output,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "error": self.error,
            "summary": self.summary(),
            "checks": [] if self.result is None else self.result.to_dict()["results"],
        }


@dataclass(frozen=True)
class CaseReport:
    """A case's attempts; it passes when at least ``min_pass`` of its ``repeat`` attempts do."""

    case: Case
    attempts: list[Attempt]

    @property
    def passes(self) -> int:
        return sum(attempt.passed for attempt in self.attempts)

    @property
    def passed(self) -> bool:
        return self.passes >= self.case.min_pass

    @property
    def score(self) -> float:
        return sum(a.score for a in self.attempts) / len(self.attempts) if self.attempts else 0.0

    @property
    def errored(self) -> bool:
        """Some attempt could not be judged (runtime fault, or a check that could not judge)."""
        return any(a.result is None or a.result.errors for a in self.attempts)

    def summary(self) -> str:
        """Why it passed or failed, in one line."""
        tally = f"{self.passes}/{len(self.attempts)} attempts passed"
        if self.case.min_pass != len(self.attempts):
            tally += f" (needs {self.case.min_pass})"
        failing = next((a for a in self.attempts if not a.passed), None)
        return tally if failing is None else f"{tally}; {failing.summary()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.case.name,
            "description": self.case.description,
            "vars": self.case.vars,
            "passed": self.passed,
            "score": round(self.score, 6),
            "threshold": self.case.threshold,
            "repeat": self.case.repeat,
            "min_pass": self.case.min_pass,
            "passes": self.passes,
            "summary": self.summary(),
            "attempts": [attempt.to_dict() for attempt in self.attempts],
        }


@dataclass(frozen=True)
class ExitCheck:
    """A play's exit check as the engine evaluated it after the run (what ``inhouse status``
    shows): whether this run, with the evidence before it, satisfies it, and why."""

    play: int
    check: str
    outcome: str
    reason: str


@dataclass
class RunReport:
    """A whole test run of one workflow version, by one person, against one lock."""

    workflow: Workflow
    runner: str
    model: LockedModel
    lock_hash: str
    cases: list[CaseReport]
    started: datetime
    seconds: float
    facts: list[Fact] = field(default_factory=list)
    #: the engine's verdict on "someone other than the author passed it", once recorded (None
    #: where no started play checks it)
    exit_check: ExitCheck | None = None

    @property
    def pass_rate(self) -> float:
        return sum(c.passed for c in self.cases) / len(self.cases) if self.cases else 0.0

    @property
    def required(self) -> float:
        return self.workflow.spec.pass_rate

    @property
    def passed(self) -> bool:
        return bool(self.cases) and self.pass_rate + 1e-9 >= self.required

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow.name,
            "spec": self.workflow.where,
            "content_hash": self.workflow.content_hash,
            "author": self.workflow.spec.owner,
            "runner": self.runner,
            "model": self.model.name,
            "model_digest": self.model.digest,
            "lock_hash": self.lock_hash,
            "started": self.started.isoformat(),
            "seconds": round(self.seconds, 3),
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 6),
            "required_pass_rate": self.required,
            "cases": [case.to_dict() for case in self.cases],
            "facts": [{"id": f.id, "kind": f.kind} for f in self.facts],
        }

    def junit_xml(self) -> str:
        """The run as JUnit XML: one testsuite, one testcase per case (``failure`` when its
        checks failed, ``error`` when it could not be judged), outputs in ``system-out``."""
        failures = sum(not c.passed and not c.errored for c in self.cases)
        errors = sum(not c.passed and c.errored for c in self.cases)
        suites = ElementTree.Element(
            "testsuites",
            name="inhouse workflow test",
            tests=str(len(self.cases)),
            failures=str(failures),
            errors=str(errors),
            time=f"{self.seconds:.3f}",
        )
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=f"workflow {self.workflow.name}",
            tests=str(len(self.cases)),
            failures=str(failures),
            errors=str(errors),
            time=f"{self.seconds:.3f}",
            timestamp=self.started.isoformat(),
        )
        properties = ElementTree.SubElement(suite, "properties")
        for name, value in (
            ("content_hash", self.workflow.content_hash),
            ("lock_hash", self.lock_hash),
            ("model", self.model.name),
            ("model_digest", self.model.digest),
            ("runner", self.runner),
            ("author", self.workflow.spec.owner),
            ("pass_rate", f"{self.pass_rate:.4f}"),
        ):
            ElementTree.SubElement(properties, "property", name=name, value=value)
        for case in self.cases:
            seconds = sum(a.latency_ms or 0 for a in case.attempts) / 1000
            element = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"workflows.{self.workflow.name}",
                name=case.case.name,
                time=f"{seconds:.3f}",
            )
            if not case.passed:
                kind = "error" if case.errored else "failure"
                problem = ElementTree.SubElement(element, kind, message=case.summary())
                problem.text = _details(case)
            outputs = [f"[{i + 1}] {a.output}" for i, a in enumerate(case.attempts) if a.output]
            if outputs:
                ElementTree.SubElement(element, "system-out").text = "\n".join(outputs)
        ElementTree.indent(suites)
        return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _details(case: CaseReport) -> str:
    lines = []
    for number, attempt in enumerate(case.attempts, start=1):
        lines.append(f"attempt {number}: {'pass' if attempt.passed else 'FAIL'}")
        if attempt.result is None:
            lines.append(f"  runtime: {attempt.error}")
            continue
        for check in attempt.result.results:
            mark = "ok " if check.passed else ("ERR" if check.error else "NO ")
            lines.append(f"  {mark} {check.type} (weight {check.weight:g}): {check.reason}")
    return "\n".join(lines)
