"""Findings and the changes that answer them: what play 6 feeds back into the baseline, a
workflow or a library prompt.

A finding (``finding.opened``) is a person's signed word: what an indicator, a ticket or the
pilot showed, and its *target*: ``baseline``, ``workflow:NAME`` or ``prompt:NAME``. It is
closed **by evidence**, never by ticking it off: a later change to its target that names it
(``--closes N``) and really changes it —

- ``baseline``: a re-lock (``baseline.lock``) whose lock hash differs from the lock in force
  when the finding was opened;
- ``workflow:NAME``: a new version of the workflow (``workflow.spec``) whose content hash the
  workflow never had before the finding;
- ``prompt:NAME``: a new version of the library prompt (``prompt.version``) whose content the
  prompt never had before the finding.

The change must be measured by its own collector (facts that count, :mod:`counting`) and, to be
fed back rather than self-served, made by someone other than the finding's opener. A
``finding.closed`` fact (someone closing it by hand) is shown, and closes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from inhouse.errors import InvalidInput
from inhouse.program.facts import Fact, FactSet

__all__ = [
    "CLOSING_KINDS",
    "FindingState",
    "describe_change",
    "fold_findings",
    "parse_finding_id",
    "parse_target",
    "require_open",
    "target_of",
]

#: the change that can answer each kind of target
CLOSING_KINDS = {
    "baseline": "baseline.lock",
    "workflow": "workflow.spec",
    "prompt": "prompt.version",
}


@dataclass
class FindingState:
    """A finding and what became of it."""

    fact: Fact
    #: the change that closed it by evidence (None: open)
    closed_by: Fact | None = None
    #: changes that named it but do not close it, each with the reason
    refused: list[tuple[Fact, str]] = field(default_factory=list)
    #: someone closed it by hand: shown, never evidence
    ticked: list[Fact] = field(default_factory=list)

    @property
    def id(self) -> int:
        return self.fact.id

    @property
    def target(self) -> str:
        return str(self.fact.payload["target"])

    @property
    def text(self) -> str:
        return str(self.fact.payload["finding"])

    @property
    def state(self) -> str:
        if self.closed_by is not None:
            return "closed"
        return "ticked off by hand" if self.ticked else "open"

    @property
    def fed_back_by_other(self) -> bool:
        return self.closed_by is not None and self.closed_by.by != self.fact.by

    def to_dict(self) -> dict[str, Any]:
        closer = self.closed_by
        return {
            "id": self.id,
            "finding": self.text,
            "target": self.target,
            "source": self.fact.payload.get("source", ""),
            "opened_by": self.fact.by,
            "opened_at": self.fact.at.isoformat(),
            "state": self.state,
            "closed_by": None
            if closer is None
            else {
                "fact": closer.id,
                "kind": closer.kind,
                "by": closer.by,
                "at": closer.at.isoformat(),
                "change": describe_change(closer),
            },
            "not_closing": [
                {"fact": f.id, "kind": f.kind, "by": f.by, "why": why} for f, why in self.refused
            ],
            "ticked_off_by_hand": [
                {"fact": f.id, "by": f.by, "note": f.payload.get("note", "")} for f in self.ticked
            ],
        }


def parse_target(text: str) -> tuple[str, str]:
    """``baseline`` -> ("baseline", ""); ``workflow:triage`` -> ("workflow", "triage")."""
    value = text.strip()
    kind, _, name = value.partition(":")
    if kind == "baseline" and not name:
        return "baseline", ""
    if kind in ("workflow", "prompt") and name.strip():
        return kind, name.strip()
    raise InvalidInput(
        f"a finding's target is baseline, workflow:NAME or prompt:NAME, not {text!r}"
    )


def parse_finding_id(text: str | int) -> int:
    """``12``, ``#12`` or ``F-12``: a finding is named by its fact's number."""
    value = str(text).strip().removeprefix("#").removeprefix("F-").removeprefix("f-")
    if not value.isdigit() or int(value) < 1:
        raise InvalidInput(f"a finding is named by its number (e.g. 12 or F-12), not {text!r}")
    return int(value)


def target_of(change: Fact) -> str:
    """The target a closing change changes."""
    if change.kind == "baseline.lock":
        return "baseline"
    if change.kind == "workflow.spec":
        return f"workflow:{change.payload['workflow']}"
    return f"prompt:{change.payload['prompt']}"


def describe_change(change: Fact) -> str:
    p = change.payload
    if change.kind == "baseline.lock":
        return f"re-lock {str(p['lock_hash'])[:12]}"
    if change.kind == "workflow.spec":
        return f"workflow {p['workflow']} version {str(p['content_hash'])[:12]}"
    return f"prompt {p['prompt']}@{p['version']}"


def _version_key(change: Fact) -> str:
    p = change.payload
    return str(p["lock_hash"] if change.kind == "baseline.lock" else p["content_hash"])


def fold_findings(facts: FactSet | Iterable[Fact]) -> list[FindingState]:
    """Every finding in ``facts`` (oldest first) and what closed it. Pass the facts that count
    (a check's ``ctx.facts``) so a change only a person's word claims closes nothing."""
    ordered = sorted(facts, key=lambda f: f.id)
    tested = _passing_runs(ordered)
    findings: dict[int, FindingState] = {}
    #: versions each target had, in log order: (fact id, version key)
    history: dict[str, list[tuple[int, str]]] = {}
    for fact in ordered:
        if fact.kind == "finding.opened":
            findings[fact.id] = FindingState(fact)
        elif fact.kind == "finding.closed":
            found = findings.get(int(fact.payload["finding"]))
            if found is not None:
                found.ticked.append(fact)
        elif fact.kind in CLOSING_KINDS.values():
            target = target_of(fact)
            for number in fact.payload.get("closes") or []:
                found = findings.get(int(number))
                if found is None or found.closed_by is not None:
                    continue
                why = _why_not(found, fact, target, history.get(target, [])) or _untested(
                    fact, tested
                )
                if why is None:
                    found.closed_by = fact
                else:
                    found.refused.append((fact, why))
            history.setdefault(target, []).append((fact.id, _version_key(fact)))
    return list(findings.values())


def _passing_runs(facts: list[Fact]) -> set[tuple[str, Any, Any, Any]]:
    """The workflow versions a passing run of their signer's tested: (signer, workflow, content
    hash, the spec's nonce it names), and the same with no nonce for any such run."""
    found: set[tuple[str, Any, Any, Any]] = set()
    for run in facts:
        if run.kind != "workflow.run" or not run.payload.get("passed"):
            continue
        data = run.payload
        found.add((run.by, data.get("workflow"), data.get("content_hash"), data.get("spec")))
        found.add((run.by, data.get("workflow"), data.get("content_hash"), None))
    return found


def _untested(change: Fact, tested: set[tuple[str, Any, Any, Any]]) -> str | None:
    """Why a workflow version closes nothing: no passing run of it beside its spec (the runner
    records a new version's spec with the run that tested it, naming its nonce). A spec typed
    in with no run, or one whose own tests failed, fixed nothing."""
    if change.kind != "workflow.spec":
        return None
    data = change.payload
    key = (change.by, data.get("workflow"), data.get("content_hash"), data.get("nonce"))
    if key in tested:
        return None
    return (
        "no passing run of this version beside it: a version whose own tests failed, or that "
        "never ran, fixes nothing (`inhouse workflow test NAME --closes N` runs them)"
    )


def _why_not(
    finding: FindingState, change: Fact, target: str, before: list[tuple[int, str]]
) -> str | None:
    if target != finding.target:
        return f"it changes {target}, not the finding's target {finding.target}"
    key = _version_key(change)
    if change.kind == "baseline.lock":
        in_force = [k for number, k in before if number < finding.id]
        if in_force and in_force[-1] == key:
            return "the re-lock pins exactly what was locked when the finding was opened"
        return None
    if key in {k for number, k in before if number < finding.id}:
        return f"{target} already had this version before the finding was opened"
    return None


def require_open(
    facts: FactSet | Iterable[Fact], closes: Iterable[str | int], *, target: str
) -> list[int]:
    """The finding numbers a change to ``target`` names, each checked to exist, still be open
    and aim at ``target``; refused with the reason otherwise, before anything is recorded."""
    known = {found.id: found for found in fold_findings(facts)}
    numbers = []
    for given in closes:
        number = parse_finding_id(given)
        found = known.get(number)
        if found is None:
            raise InvalidInput(f"there is no finding #{number} (`inhouse finding list`)")
        if found.closed_by is not None:
            raise InvalidInput(
                f"finding #{number} was already closed by fact #{found.closed_by.id}"
            )
        if found.target != target:
            raise InvalidInput(
                f"finding #{number} is about {found.target}; this change is to {target}"
            )
        numbers.append(number)
    return numbers
