"""What a workflow test run found, variant by variant and case by case, and the shapes it is
written in: JSON (for scripts and ``--json``) and JUnit XML (for CI).

With several prompt variants, each has its own cases, pass rate, mean score and latency, side by
side; the run passes or fails on the variant people use (the workflow's ``use:``). A comparison
case (no checks) is reported with its outputs and counts neither as a pass nor as a fail."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from inhouse.baseline import LockedModel
from inhouse.checks import CaseResult
from inhouse.program.facts import Fact
from inhouse.workflows.decoys import DECOYS, EMPTY, OTHER_ANSWER
from inhouse.workflows.spec import Case, Workflow, best_of

__all__ = ["Attempt", "CaseReport", "ExitCheck", "RunReport", "VariantReport"]


@dataclass(frozen=True)
class Attempt:
    """One run of a case: the output and its checks, or the runtime fault that stopped it."""

    output: str | None
    latency_ms: float | None
    result: CaseResult | None
    error: str | None
    #: what the output cost, from the workflow's cost model (None: not measured)
    cost: float | None = None
    #: a comparison case's output: shown, never judged
    compared: bool = False

    @property
    def passed(self) -> bool:
        return self.result is not None and self.result.passed

    @property
    def score(self) -> float:
        return self.result.score if self.result is not None else 0.0

    def summary(self) -> str:
        if self.compared:
            return "compared, not judged"
        if self.result is None:
            if self.error and self.error.startswith("transform:"):
                return self.error
            return f"the runtime failed: {self.error}"
        return self.result.summary()

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "score": round(self.score, 6),
            "output": self.output,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "cost": self.cost,
            "error": self.error,
            "summary": self.summary(),
            "checks": [] if self.result is None else self.result.to_dict()["results"],
        }


@dataclass(frozen=True)
class CaseReport:
    """A case's attempts; it passes when at least ``min_pass`` of its ``repeat`` attempts do."""

    case: Case
    attempts: list[Attempt]
    #: each decoy answer (:data:`~inhouse.workflows.decoys.DECOYS`: an empty answer, an
    #: off-topic sentence, the case's prompt or input echoed back) -> whether its checks pass it
    #: too, so they would pass an answer the model never gave for this case (None: not tried: a
    #: comparison case, or a variant not in use)
    decoys: dict[str, bool] | None = None

    @property
    def passes_blank(self) -> bool | None:
        """Whether its checks pass an empty answer (None: not tried)."""
        return None if self.decoys is None else self.decoys.get(EMPTY)

    @property
    def passes_decoy(self) -> str | None:
        """The first decoy answer its checks pass (None: they fail every one, or none was
        tried): a case that passes one does not need the model's answer to pass."""
        if self.decoys is None:
            return None
        return next((name for name, passed in self.decoys.items() if passed), None)

    @property
    def proved(self) -> bool:
        """It passed on the model's answers, and fails on every decoy: only such a case shows
        something of what the model said."""
        return self.passed and self.decoys is not None and not any(self.decoys.values())

    @property
    def comparison(self) -> bool:
        """A case without checks: counted neither as a pass nor as a fail."""
        return self.case.comparison

    @property
    def passes(self) -> int:
        return sum(attempt.passed for attempt in self.attempts)

    @property
    def latency_ms(self) -> float | None:
        """The mean latency of its attempts that answered."""
        measured = [a.latency_ms for a in self.attempts if a.latency_ms is not None]
        return sum(measured) / len(measured) if measured else None

    @property
    def passed(self) -> bool:
        return self.passes >= self.case.min_pass

    @property
    def score(self) -> float:
        return sum(a.score for a in self.attempts) / len(self.attempts) if self.attempts else 0.0

    @property
    def best_of(self) -> str | None:
        """The words "a best of N" where it passes on fewer than half of its attempts
        (:func:`~inhouse.workflows.spec.best_of`), else None (a comparison case: None)."""
        return None if self.comparison else best_of(self.case.min_pass, self.case.repeat)

    @property
    def errored(self) -> bool:
        """Some attempt could not be judged (runtime fault, or a check that could not judge)."""
        return any(a.result is None or a.result.errors for a in self.attempts)

    def summary(self) -> str:
        """Why it passed or failed, in one line."""
        if self.comparison:
            failed = next((a for a in self.attempts if a.output is None), None)
            if failed is not None:
                return f"comparison case (not counted); {failed.summary()}"
            return "comparison case: outputs shown, counted neither pass nor fail"
        tally = f"{self.passes}/{len(self.attempts)} attempts passed"
        if self.case.min_pass != len(self.attempts):
            best = self.best_of
            tally += f" (needs {self.case.min_pass}" + (f": {best})" if best else ")")
        failing = next((a for a in self.attempts if not a.passed), None)
        return tally if failing is None else f"{tally}; {failing.summary()}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.case.name,
            "description": self.case.description,
            "vars": self.case.vars,
            "comparison": self.comparison,
            "passed": None if self.comparison else self.passed,
            "score": round(self.score, 6),
            "threshold": self.case.threshold,
            "repeat": self.case.repeat,
            "min_pass": self.case.min_pass,
            "passes": self.passes,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "metadata": self.case.metadata,
            "passes_blank": self.passes_blank,
            "decoys": self.decoys,
            "passes_decoy": self.passes_decoy,
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
    #: the workflow the check judged (its cited spec's), which need not be the one tested
    workflow: str | None = None


@dataclass(frozen=True)
class VariantReport:
    """One prompt variant's cases: its pass rate (over the judged cases), mean score and mean
    latency, and whether it is the one people use."""

    label: str
    in_use: bool
    cases: list[CaseReport]

    @property
    def judged(self) -> list[CaseReport]:
        """The cases that count: every one but the comparison cases."""
        return [case for case in self.cases if not case.comparison]

    @property
    def pass_rate(self) -> float:
        judged = self.judged
        return sum(c.passed for c in judged) / len(judged) if judged else 0.0

    @property
    def score(self) -> float:
        judged = self.judged
        return sum(c.score for c in judged) / len(judged) if judged else 0.0

    @property
    def latency_ms(self) -> float | None:
        measured = [c.latency_ms for c in self.cases if c.latency_ms is not None]
        return sum(measured) / len(measured) if measured else None

    @property
    def cost(self) -> float | None:
        costs = [a.cost for c in self.cases for a in c.attempts if a.cost is not None]
        return sum(costs) if costs else None

    def to_dict(self) -> dict[str, Any]:
        latency = self.latency_ms
        return {
            "label": self.label,
            "in_use": self.in_use,
            "pass_rate": round(self.pass_rate, 6),
            "score": round(self.score, 6),
            "latency_ms": None if latency is None else round(latency, 3),
            "cost": self.cost,
            "passed": sum(c.passed for c in self.judged),
            "judged": len(self.judged),
            "compared": len(self.cases) - len(self.judged),
            "cases": [case.to_dict() for case in self.cases],
        }


@dataclass
class RunReport:
    """A whole test run of one workflow version, by one person, against one lock: every
    variant's cases, judged on the variant in use."""

    workflow: Workflow
    runner: str
    model: LockedModel
    lock_hash: str
    variants: list[VariantReport]
    started: datetime
    seconds: float
    facts: list[Fact] = field(default_factory=list)
    #: the engine's verdict on "someone other than the author passed it", once recorded (None
    #: where no started play checks it)
    exit_check: ExitCheck | None = None
    #: the version's author as play 3 counts it, once recorded: whoever published it first
    #: (None: no spec of it counts, or not recorded); never the spec's ``owner:``
    author: str | None = None
    #: the model was the project's test model (random weights): its answers are nonsense
    test_model: bool = False
    #: the seed its requests carried, as its ``workflow.run`` records it
    #: (:func:`~inhouse.workflows.runner.seed_for`); None: not recorded
    seed: dict[str, Any] | None = None

    @property
    def in_use(self) -> VariantReport:
        return next(v for v in self.variants if v.in_use)

    @property
    def variant(self) -> str:
        """The label of the variant the run is judged on."""
        return self.in_use.label

    @property
    def cases(self) -> list[CaseReport]:
        """The cases of the variant in use."""
        return self.in_use.cases

    @property
    def judged(self) -> list[CaseReport]:
        return self.in_use.judged

    @property
    def pass_rate(self) -> float:
        return self.in_use.pass_rate

    @property
    def proved(self) -> int:
        """How many judged cases of the variant in use passed on the model's answers though
        every decoy fails them: a case a decoy passes (an empty answer, an off-topic sentence,
        its own prompt echoed back) would pass an answer the model never gave for it (a check
        of weight 0 alone, ``length min 1``, a pattern like ``.+``, a script that returns true,
        a transform that replaces the answer), so it proves nothing of the workflow (play 3
        reads it)."""
        return sum(case.proved for case in self.judged)

    @property
    def untested(self) -> list[dict[str, str]]:
        """Each judged case of the variant in use that passed, though a decoy passes it too,
        with the first decoy that does (what ``workflow test`` and play 3 name)."""
        return [
            {"case": case.case.name, "decoy": decoy}
            for case in self.judged
            if case.passed and (decoy := case.passes_decoy) is not None
        ]

    def untested_notes(self) -> list[str]:
        """What ``workflow test`` says of the cases a decoy passes: one line each, and whether
        play 3 counts the run at all."""
        alone = len(self.judged) == 1
        notes = [
            f"case {row['case']} is the workflow's only case: no other case's answers tell it "
            "apart, so it does not test the model"
            if alone and row["decoy"] == OTHER_ANSWER
            else f"case {row['case']} passes on {DECOYS[row['decoy']]} too: it does not test "
            "the model"
            for row in self.untested
        ]
        if (
            notes
            and self.passed
            and not self.proved
            and alone
            and self.untested[0]["decoy"] == OTHER_ANSWER
        ):
            # its checks may judge its answer well: a case is told apart from another
            notes.append(
                "no case it passed needs the model's answer: play 3 does not count this run "
                "(add a case with another input and another right answer, each checking what "
                "its own answer must say)"
            )
            return notes
        if notes and self.passed and not self.proved:
            failed = [c.case.name for c in self.judged if not c.passed]
            if failed and all(row["decoy"] == OTHER_ANSWER for row in self.untested):
                # their checks may judge well: a case that failed tells no other apart
                notes.append(
                    "no case it passed needs the model's answer, as far as this run shows: "
                    f"another case's answers tell a case apart only where that case passed, "
                    f"and {', '.join(failed)} failed; play 3 does not count this run (make "
                    "them pass, or add a case with another right answer that does)"
                )
                return notes
            notes.append(
                "no case it passed needs the model's answer: play 3 does not count this run "
                "(give a case checks that judge what its own answer must say)"
            )
        return notes

    @property
    def inputs(self) -> int:
        """How many different prompts the judged cases of the variant in use sent the model:
        one for several cases means its template ignores what they give it (play 3 reads it)."""
        sent = {
            json.dumps(self.workflow.messages(case.case.vars, self.variant), sort_keys=True)
            for case in self.judged
        }
        return len(sent)

    @property
    def required(self) -> float:
        return self.workflow.spec.pass_rate

    @property
    def passed(self) -> bool:
        """The variant in use passes enough of its judged cases (comparison cases alone
        prove nothing)."""
        return bool(self.judged) and self.pass_rate + 1e-9 >= self.required

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow.name,
            "spec": self.workflow.where,
            "content_hash": self.workflow.content_hash,
            "author": self.author,
            "owner": self.workflow.spec.owner,
            "runner": self.runner,
            "model": self.model.name,
            "model_digest": self.model.digest,
            "test_model": self.test_model,
            "lock_hash": self.lock_hash,
            "started": self.started.isoformat(),
            "seconds": round(self.seconds, 3),
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 6),
            "required_pass_rate": self.required,
            "proved": self.proved,
            "untested": self.untested,
            "inputs": self.inputs,
            "variant": self.variant,
            "cases": [case.to_dict() for case in self.cases],
            "variants": [variant.to_dict() for variant in self.variants],
            "facts": [{"id": f.id, "kind": f.kind} for f in self.facts],
        }

    def junit_xml(self) -> str:
        """The run as JUnit XML: one testsuite, one testcase per case (``failure`` when its
        checks failed, ``error`` when it could not be judged), outputs in ``system-out``."""
        rows = [(v, c) for v in self.variants for c in v.cases]
        several = len(self.variants) > 1
        failures = sum(not c.passed and not c.errored and not c.comparison for _, c in rows)
        errors = sum(not c.passed and c.errored and not c.comparison for _, c in rows)
        suites = ElementTree.Element(
            "testsuites",
            name="inhouse workflow test",
            tests=str(len(rows)),
            failures=str(failures),
            errors=str(errors),
            time=f"{self.seconds:.3f}",
        )
        suite = ElementTree.SubElement(
            suites,
            "testsuite",
            name=f"workflow {self.workflow.name}",
            tests=str(len(rows)),
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
            ("author", self.author or ""),
            ("owner", self.workflow.spec.owner),
            ("pass_rate", f"{self.pass_rate:.4f}"),
            ("variant", self.variant),
        ):
            ElementTree.SubElement(properties, "property", name=name, value=value)
        for variant, case in rows:
            seconds = sum(a.latency_ms or 0 for a in case.attempts) / 1000
            element = ElementTree.SubElement(
                suite,
                "testcase",
                classname=f"workflows.{self.workflow.name}"
                + (f".{variant.label}" if several else ""),
                name=case.case.name,
                time=f"{seconds:.3f}",
            )
            if case.comparison:
                ElementTree.SubElement(element, "skipped", message=case.summary())
            elif not case.passed:
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
