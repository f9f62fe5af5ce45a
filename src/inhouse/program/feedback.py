"""Findings and the changes that answer them: what play 6 feeds back into the baseline, a
workflow or a library prompt.

A finding (``finding.opened``) is a person's signed word: what an indicator, a ticket or the
pilot showed, and its *target*: ``baseline``, ``workflow:NAME`` or ``prompt:NAME``. It is
closed **by evidence**, never by ticking it off: a later change to its target that names it
(``--closes N``) and really changes it —

- ``baseline``: a re-lock (``baseline.lock``) whose models, runtime or data rules differ from
  the lock in force when the finding was opened (a new owner, Python or inhouse version
  changes the lock hash, not the baseline);
- ``workflow:NAME``: a new version of the workflow (``workflow.spec``) whose content hash the
  workflow never had before the finding, and that runs something it never ran before: its
  *run hash* (:func:`run_hash`: what is sent to the model and how the answers are judged, not
  the descriptions, owner, frequency, case names, template comments or whitespace) differs from
  every run hash measured of the versions it had before the finding, by whoever measured them;
- ``prompt:NAME``: a new version of the library prompt (``prompt.version``) whose content the
  prompt never had before the finding, beyond its variables' descriptions, its templates'
  comments and whitespace (:func:`prompt_run_hash`).

The change must be measured by its own collector (facts that count, :mod:`counting`) and, to be
fed back rather than self-served, made by someone other than the finding's opener. A
``finding.closed`` fact (someone closing it by hand) is shown, and closes nothing.

A change only its maker has seen answers nothing yet: whoever publishes it could make it
cosmetic (a comment changed, the version's own tests run, passed) and close a colleague's
finding alone. So a change closes a finding once someone other than its maker (another
person's key, enrolled from a machine the maker did not enrol from, and with the
organisation's sign-in set up, both signed in: ``_shared.other_person_elsewhere``) took that very
version into their own hands after it was recorded, in evidence inhouse measures:

- a re-lock: a passing ``baseline.verify`` of its lock hash, served the weights it pins,
  answered on the verifier's own machine by a verify that says so (``runtime_local``);
- a workflow version: a passing ``workflow.run`` of its content hash, answered by a runtime on
  the runner's own machine (``runtime_local``; one served from another host, the maker's
  server say, measured that host), and outside a demo by a real model, not the project's test
  model (as play 3 judges runs). A verify or run from an inhouse before they said where
  they were answered counts only for a play 6 that exited (plays 2 and 3 refuse it too);
- a prompt version: the gateway's own ``prompt.usage`` naming someone who used it, its last use
  dated no earlier than the day the version was recorded. Used means sent: the gateway rendered
  that version (a request body's ``prompt``) or the client pinned it by number
  (``X-Inhouse-Prompt: NAME@VERSION``). A client that only names the prompt (or a label) with
  messages of its own is recorded under whatever version the name points to, so a lead's new
  version would be "used" by every such client the moment it is published; those people are
  named apart (``named_only``) and confirm nothing. A ``prompt.usage`` recorded before the
  gateway told them apart is read as it was.

Ideally the finding's opener confirms; any colleague told apart from the maker will do. Until
then the finding shows "fix published, awaiting confirmation by someone other than" its maker.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from inhouse.errors import InvalidInput
from inhouse.program.checks import OWN_USE
from inhouse.program.facts import Fact, Provenance, prompt_users
from inhouse.program.prompt_versions import served_versions
from inhouse.program.state import LOG_SKEW

if TYPE_CHECKING:
    from inhouse.program.checks import CheckContext

__all__ = [
    "CLOSING_KINDS",
    "CONFIRMING_KINDS",
    "FindingState",
    "describe_change",
    "fold_findings",
    "parse_finding_id",
    "parse_target",
    "prompt_confirmers",
    "prompt_run_hash",
    "ran_before_finding",
    "relock_refusal",
    "require_open",
    "run_hash",
    "target_of",
    "template_key",
]

#: the change that can answer each kind of target
CLOSING_KINDS = {
    "baseline": "baseline.lock",
    "workflow": "workflow.spec",
    "prompt": "prompt.version",
}

#: the evidence someone other than a change's maker gives that they took it into their own
#: hands, for each kind of change
CONFIRMING_KINDS = {
    "baseline.lock": "baseline.verify",
    "workflow.spec": "workflow.run",
    "prompt.version": "prompt.usage",
}


#: a Jinja comment: ``{# … #}`` (it renders to nothing)
_JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def template_key(text: str) -> str:
    """A prompt template as what it sends, for telling a real change from a cosmetic one: its
    Jinja comments dropped and every run of whitespace one space."""
    return " ".join(_JINJA_COMMENT.sub(" ", text).split())


def run_hash(data: Any) -> str:
    """``sha256:…`` of the canonical JSON of ``data``: what a version runs (a workflow's
    :meth:`~inhouse.workflows.spec.Workflow.run_hash` builds it; :func:`prompt_run_hash` a
    library prompt's)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def prompt_run_hash(body: Mapping[str, Any]) -> str:
    """What a library prompt's version sends: its messages (templates as
    :func:`template_key` reads them) and its variables' types and defaults (not their
    descriptions)."""
    messages = [
        [str(m.get("role")), template_key(str(m.get("content") or ""))]
        for m in body.get("messages") or []
        if isinstance(m, Mapping)
    ]
    variables = {
        str(name): {"type": v.get("type", "string"), "default": v.get("default")}
        if isinstance(v, Mapping)
        else v
        for name, v in (body.get("variables") or {}).items()
    }
    return run_hash({"messages": messages, "variables": variables})


def _ref(fact: Fact, *, at: bool = True) -> dict[str, Any]:
    """How ``to_dict`` names a fact: its id, kind, signer (and time)."""
    named: dict[str, Any] = {"fact": fact.id, "kind": fact.kind, "by": fact.by}
    if at:
        named["at"] = fact.at.isoformat()
    return named


def _confirmer(change: Fact, evidence: Fact) -> dict[str, Any]:
    """How ``to_dict`` names the evidence that confirmed ``change``: a run or verify is its
    signer's; a prompt's use is signed by the gateway, so the people it names who used the
    version besides its maker (``people``) are who confirmed it."""
    named = _ref(evidence)
    if evidence.kind == "prompt.usage":
        used = {str(p) for p in evidence.payload.get("people") or []}
        named["people"] = sorted(used - {change.by})
    return named


@dataclass
class FindingState:
    """A finding and what became of it."""

    fact: Fact
    #: the change that closed it by evidence, confirmed by someone other than its maker (None:
    #: open)
    closed_by: Fact | None = None
    #: that someone's evidence: their passing verify, passing run or use of the version
    confirmed_by: Fact | None = None
    #: the latest change that answers it but nobody other than its maker confirmed, with what
    #: is awaited (None: none such, or it is closed)
    awaiting: tuple[Fact, str] | None = None
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
    def closed_at(self) -> datetime | None:
        """When it closed: when someone other than the change's maker confirmed the change."""
        return None if self.confirmed_by is None else self.confirmed_by.at

    @property
    def state(self) -> str:
        if self.closed_by is not None:
            return "closed"
        if self.awaiting is not None:
            return (
                f"fix published, awaiting confirmation by someone other than {self.awaiting[0].by}"
            )
        return "ticked off by hand" if self.ticked else "open"

    @property
    def fed_back_by_other(self) -> bool:
        return self.closed_by is not None and self.closed_by.by != self.fact.by

    def to_dict(self) -> dict[str, Any]:
        closer, confirmer = self.closed_by, self.confirmed_by
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
                **_ref(closer),
                "change": describe_change(closer),
                "confirmed_by": None if confirmer is None else _confirmer(closer, confirmer),
            },
            "awaiting": None
            if self.awaiting is None
            else {
                **_ref(self.awaiting[0], at=False),
                "change": describe_change(self.awaiting[0]),
                "why": self.awaiting[1],
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


def _version_key(change: Fact, *, before_rule: bool = False) -> str:
    """What a change's target is, as a finding's closing compares it: a workflow's content
    hash (what it runs is judged apart: :func:`_runs_nothing_new`); a prompt's messages and
    variables as they are sent (:func:`prompt_run_hash`: not its variables' descriptions, nor
    its templates' comments and whitespace); a lock's models, runtime and data rules (its owner,
    Python and inhouse versions change its hash, and nothing a finding about the baseline
    targets). With ``before_rule``, a prompt's content hash and the lock hash (the rules before:
    see :func:`fold_findings`)."""
    p = change.payload
    if change.kind == "prompt.version":
        body = p.get("body")
        if not before_rule and isinstance(body, dict):
            return prompt_run_hash(body)
        return str(p["content_hash"])
    if change.kind != "baseline.lock":
        return str(p["content_hash"])
    if before_rule:
        return str(p["lock_hash"])
    body = p.get("body")
    if isinstance(body, dict):
        pinned = {k: v for k, v in body.items() if k not in _NOT_PINNED}
    else:  # a fact without its body does not count (lock_fact_problem): its stated pins
        pinned = {k: p.get(k) for k in ("runtime", "models", "rules_hash")}
    return json.dumps(pinned, sort_keys=True, default=str)


#: a lock body's fields that pin nothing a finding about the baseline targets
_NOT_PINNED = frozenset({"owner", "python", "inhouse", "format", "lock_hash"})


#: why a ``prompt.version`` the library does not hold closes nothing
_NO_VERSION = (
    "it is no version of the shared library (its number was taken first or skips one, or its "
    "body does not hash to its content hash), so nobody is ever served it"
)


def fold_findings(ctx: CheckContext) -> list[FindingState]:
    """Every finding in the facts that count (``ctx.facts``: a change only a person's word
    claims closes nothing), oldest first, and what closed it: a change that answers it,
    confirmed by someone other than its maker (the module's docstring)."""
    ordered = sorted(ctx.facts, key=lambda f: f.id)
    tested = _passing_runs(ordered)
    # numbered as the library numbers them: over every version it serves, counted or not
    served = {f.id for f in served_versions(ctx).values()}
    findings: dict[int, FindingState] = {}
    #: the changes that answer each finding, awaiting confirmation, in log order
    answers: dict[int, list[Fact]] = {}
    #: versions each target had, in log order: (fact id, version key, the key by the rule before)
    history: dict[str, list[tuple[int, str, str]]] = {}
    # a program whose play 6 exited while any new lock hash answered a baseline finding, and
    # any new content hash a workflow or prompt finding, keeps those rules for the changes it
    # exited on: a stricter one must not set back its exit (and the reach it gave). A change
    # recorded since is judged by today's rules, else a lead's cosmetic edit closes findings
    # for good once play 6 exited
    #: the run hashes measured of each workflow version: (workflow, content hash) -> hashes
    runs = _run_hashes(ordered)
    for fact in ordered:
        if fact.kind == "finding.opened":
            findings[fact.id] = FindingState(fact)
        elif fact.kind == "finding.closed":
            found = findings.get(int(fact.payload["finding"]))
            if found is not None:
                found.ticked.append(fact)
        elif fact.kind == "prompt.version" and fact.id not in served:
            for number in fact.payload.get("closes") or []:
                if (found := findings.get(int(number))) is not None:
                    found.refused.append((fact, _NO_VERSION))
        elif fact.kind in CLOSING_KINDS.values():
            target = target_of(fact)
            for number in fact.payload.get("closes") or []:
                found = findings.get(int(number))
                if found is None:
                    continue
                lax = _exited_on(ctx, fact)
                before = _keyed(history.get(target, []), lax)
                why = (
                    _why_not(found, fact, target, before, lax)
                    or _untested(fact, tested)
                    or _runs_nothing_new(
                        fact, set() if lax else _ran_before(fact, found, before, runs)
                    )
                )
                if why is None:
                    answers.setdefault(found.id, []).append(fact)
                else:
                    found.refused.append((fact, why))
            history.setdefault(target, []).append(
                (fact.id, _version_key(fact), _version_key(fact, before_rule=True))
            )
    for number, changes in answers.items():
        found = findings[number]
        ran = {
            change.id: set()
            if _exited_on(ctx, change)
            else _ran_before(change, found, _keyed(history.get(target_of(change), []), False), runs)
            for change in changes
        }
        _confirm(ctx, found, changes, ordered, ran)
    return list(findings.values())


def _exited_on(ctx: CheckContext, fact: Fact) -> bool:
    """Whether play 6's exit was judged on ``fact`` (:meth:`CheckContext.spared`; an exit from
    before exits named their facts, by its mark): the rules it exited on spare what it was
    judged on; a fact recorded since, or one it left out, is judged by today's."""
    return ctx.spared("measure", fact)


def _keyed(history: list[tuple[int, str, str]], before_rule: bool) -> list[tuple[int, str]]:
    """A target's versions, each keyed by today's rule or (``before_rule``) the rule before."""
    return [(number, old if before_rule else now) for number, now, old in history]


def _confirm(
    ctx: CheckContext,
    found: FindingState,
    changes: list[Fact],
    facts: list[Fact],
    ran: Mapping[int, set[str]],
) -> None:
    """Close ``found`` by the change that someone other than its maker confirmed first; else
    say what the latest change awaits."""
    confirmed = []
    why = ""
    for change in changes:
        evidence, why = _confirmation(ctx, change, facts, ran.get(change.id, set()))
        if evidence is not None:
            confirmed.append((evidence, change))
    if confirmed:
        found.confirmed_by, found.closed_by = min(confirmed, key=lambda pair: pair[0].id)
    else:
        found.awaiting = (changes[-1], why)


def _confirmation(
    ctx: CheckContext, change: Fact, facts: list[Fact], ran: set[str]
) -> tuple[Fact | None, str]:
    """The first evidence, recorded after ``change``, that someone other than its maker took
    that very version into their own hands; else None and what is awaited, with why the
    evidence there is does not count. ``ran``: the run hashes the target's versions before the
    finding were measured to run (a workflow's): a run of the change that measured one of them
    shows its version runs nothing new, whatever its maker's spec said."""
    not_counted = []
    for fact in facts:
        if fact.id <= change.id or not _of_version(change, fact):
            continue
        why = (
            _sealed_before(ctx, change, fact)
            or _used_before(change, fact)
            or _not_apart(ctx, change, fact)
            or _measured_nothing_new(fact, ran)
        )
        if why is None:
            return fact, ""
        not_counted.append(f"{fact.kind} #{fact.id}: {why}")
    note = f" (not counted: {'; '.join(not_counted[-3:])})" if not_counted else ""
    return None, (
        f"fix published ({describe_change(change)} by {change.by}), awaiting confirmation by "
        f"someone other than {change.by}: {_how_to_confirm(change)}{note}"
    )


def _of_version(change: Fact, fact: Fact) -> bool:
    """Whether ``fact`` is the confirming kind of evidence of ``change``'s very version: a
    passing verify of the re-lock that was served the weights it pins, a passing run of the
    workflow version, the gateway's use of the prompt version."""
    if fact.kind != CONFIRMING_KINDS[change.kind]:
        return False
    data, made = fact.payload, change.payload
    if change.kind == "baseline.lock":
        served = data.get("models")
        return (
            bool(data.get("passed"))
            and data.get("lock_hash") == made["lock_hash"]
            and (served is None or _pins(served) == _pins(made.get("models") or []))
        )
    if change.kind == "workflow.spec":
        return (
            bool(data.get("passed"))
            and data.get("workflow") == made["workflow"]
            and data.get("content_hash") == made["content_hash"]
        )
    return bool(data.get("prompt") == made["prompt"] and data.get("version") == made["version"])


def _sealed_before(ctx: CheckContext, change: Fact, fact: Fact) -> str | None:
    """Why ``fact``, imported after ``change``, is no confirmation of it: its signer sealed it
    on their machine before the change was recorded (whoever carried the envelope chose when
    to import it: a verify or run from before the fix was fed back took nothing into anyone's
    hands since), or None. A play 6 that exited on one keeps it (the rule it exited on): one
    recorded by its exit; one recorded since is judged by today's rule."""
    # an import keeps its sealed time where the log's floor left it (`at`), else `made` has it
    if not fact.imported or fact.made >= change.at - LOG_SKEW:
        return None
    if _exited_on(ctx, fact):
        return None
    return (
        f"{fact.by} sealed it on their machine on {fact.made:%Y-%m-%d %H:%M} UTC, before "
        f"{describe_change(change)} was recorded ({change.at:%Y-%m-%d %H:%M} UTC), and it was "
        "imported after: evidence from before the fix confirms nothing of it; "
        f"{_how_to_confirm(change)}"
    )


def _used_before(change: Fact, fact: Fact) -> str | None:
    """Why the gateway's ``prompt.usage`` is no use of ``change``'s version: its last use is
    dated before the day the version was recorded (the fact's id orders it after the version,
    but the people it names are counted on its ``last_used`` day: one dated back is counted
    for whoever held a gateway key then, a colleague since gone included), or None."""
    last = fact.payload.get("last_used") if fact.kind == "prompt.usage" else None
    made = change.at.astimezone(UTC).date()
    if last is None or date.fromisoformat(str(last)) >= made:
        return None
    return (
        f"its last use, {last}, is before version {change.payload['version']} was recorded "
        f"({made}): nobody used a version that did not exist yet"
    )


def _pins(models: Iterable[Any]) -> list[tuple[str, str]]:
    """Models as (name, digest) pairs, in a fixed order, to compare a verify with a lock."""
    return sorted((str(m.get("name")), str(m.get("digest"))) for m in models if isinstance(m, dict))


def _not_apart(ctx: CheckContext, change: Fact, fact: Fact) -> str | None:
    """Why ``fact`` is no confirmation by someone other than ``change``'s maker, or None when it
    is. A run or verify is its signer's; the gateway signs a prompt's use, and names who used
    it, and when each last did through a key of their own (``used_by``)."""
    from inhouse.program.playchecks._shared import (  # the checks' package imports this one
        enrolled_elsewhere,
        hollow_tests,
        not_their_measure,
        older_runner,
        on_test_model,
        one_per_machine,
        other_person_elsewhere,
        unpinned_build,
        unrecorded_lock,
        unsaid_here,
        unsaid_where,
    )

    maker = change.by
    judged = {maker}
    if fact.kind == "prompt.usage":
        people = [str(p) for p in fact.payload.get("people") or []]
        made = change.at.astimezone(UTC).date().isoformat()
        since = prompt_confirmers(ctx, change, fact)
        if one_per_machine(ctx, since, judged)[0]:
            return None
        if people and not since:
            return (
                f"it names nobody the gateway sent it through a key of their own on or after "
                f"{made}, the day it was recorded ({', '.join(people)} used it before, or only "
                f"through {ctx.not_own_key()})"
            )
        people = since
        if not people:
            named = sorted({str(p) for p in fact.payload.get("named_only") or []})
            if named:
                ref = f"{fact.payload['prompt']}@{fact.payload['version']}"
                return (
                    f"the gateway sent {ref} to nobody: {', '.join(named)} only named "
                    f"{fact.payload['prompt']} in X-Inhouse-Prompt, with messages of their own "
                    f"(a name or label follows the library; a client is sent {ref} by the "
                    f"body's prompt, or pins it: X-Inhouse-Prompt: {ref})"
                )
            return "it names nobody who used it"
        return f"the gateway saw it used only by {'; '.join(_set_aside(ctx, maker, people))}"
    # nor one made on the host of a service the maker enrolled there first (the gateway's:
    # whoever runs it holds the key files made there), as plays 2-5 judge such a key; a play 6
    # that exited keeps what it was judged on
    if why := other_person_elsewhere(ctx, fact, judged, play="measure"):
        return why
    # a colleague's run whose answers came from another host (the maker's server, which can
    # answer anything) measured that host, not the version; one judged by Python check code
    # the spec names ran the maker's choice of code in the colleague's inhouse: play 3 refuses
    # either as a rerun by another, and neither confirms a workflow fix
    if fact.kind == "workflow.run" and (why := not_their_measure(fact)):
        return why
    # as plays 2 and 3 judge a second person's verify or run: one by a build of inhouse from a
    # folder or URL ran and reported what whoever handed it round wrote, with the colleague's
    # key. A play 6 that exited keeps what it was judged on
    spared = ctx.spared("measure", fact)
    if (
        fact.kind in ("baseline.verify", "workflow.run")
        and not spared
        and (why := unpinned_build(ctx, fact))
    ):
        return why
    # a run on a lock the program never recorded tested weights nobody verified
    if fact.kind == "workflow.run" and (why := unrecorded_lock(ctx.facts, fact)):
        return why
    # a run whose tests pass whatever the model says saw nothing of the version's answers
    if fact.kind == "workflow.run" and (why := hollow_tests(fact)):
        return why
    # and one an older runner made, once the program's runs were judged on decoy answers
    if fact.kind == "workflow.run" and (why := older_runner(ctx.facts.of("workflow.run"), fact)):
        return why
    # and one the project's test model answered, outside a demo: random weights, whatever the
    # version says (a play 6 that exited on one keeps it)
    if fact.kind == "workflow.run" and (why := on_test_model(ctx, fact, play="measure")):
        return why
    # a verify or run that does not say its runtime answered on its signer's own machine (an
    # inhouse from before they said so made it; a verify answered from another host) could
    # have been answered by the maker's server: plays 2 and 3 refuse it, and so does play 6
    # (one that exited keeps the rule it exited on for the evidence it exited on)
    if not _exited_on(ctx, fact):
        if fact.kind == "baseline.verify" and (why := unsaid_here(fact)):
            return why
        if fact.kind == "workflow.run" and (why := unsaid_where(fact)):
            return why
    if not enrolled_elsewhere(ctx, fact.by, judged):
        return f"{fact.by}'s keys were all enrolled from a machine {maker} enrolled from"
    return None


def prompt_confirmers(ctx: CheckContext, change: Fact, fact: Fact) -> list[str]:
    """Whose use of ``change``'s prompt version the gateway's ``prompt.usage`` ``fact`` may
    confirm it by: those it sent the version through a key of their own on or after the day
    the version was recorded (``used_by``). The version's latest use (anyone's, an agent's
    included) dated everyone it names, so one member's use before the fix counted once anyone
    used it after. A fact a play 6 exit was judged on, where that exit does not say it was
    judged by this rule (:data:`~inhouse.program.checks.OWN_USE`), is read as it was then
    (everyone it names), and only where today's reading confirms nothing: today's first, so
    a pass names who today's rule heard. The maker is among them where they used it; the
    caller sets them aside."""
    from inhouse.program.playchecks._shared import one_per_machine  # it imports this module

    today = prompt_users(fact, change.at.astimezone(UTC).date().isoformat())
    if not ctx.spared("measure", fact, rule=OWN_USE) or one_per_machine(ctx, today, {change.by})[0]:
        return today
    return [str(p) for p in fact.payload.get("people") or []]


def _set_aside(ctx: CheckContext, maker: str, people: list[str]) -> list[str]:
    """Each of ``people`` with why their use of ``maker``'s version confirms nothing."""
    from inhouse.program.playchecks._shared import unsigned_apart

    found = []
    for person in sorted(set(people)):
        signer = ctx.people.get(person)
        if person == maker:
            found.append(f"{person}, its maker")
        elif signer is not None and signer.service:
            found.append(f"{person}, a service's key, which speaks for no person")
        elif why := unsigned_apart(ctx, person, {maker}):
            found.append(f"{person} ({why})")
        else:
            found.append(
                f"{person}, whose keys were all enrolled from a machine {maker} enrolled from"
            )
    return found


def _how_to_confirm(change: Fact) -> str:
    """What the finding's opener, or a colleague, does to confirm ``change``."""
    data = change.payload
    if change.kind == "baseline.lock":
        return (
            "the finding's opener or a colleague stands up the new lock "
            f"{str(data['lock_hash'])[:12]} on their own machine and runs `inhouse baseline "
            "verify` with their own key"
        )
    if change.kind == "workflow.spec":
        return (
            f"the finding's opener or a colleague runs `inhouse workflow test {data['workflow']}` "
            f"on version {str(data['content_hash'])[:12]} with their own key, on their own machine"
        )
    return (
        f"the finding's opener or a colleague uses {data['prompt']}@{data['version']} through "
        "the gateway with their own key, then the gateway's use is recorded (`inhouse prompts "
        "usage --record`)"
    )


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


def _run_hashes(facts: list[Fact]) -> dict[tuple[str, str], set[str]]:
    """The run hashes each workflow version was measured to run, by whoever measured them (its
    spec's and every run's ``run_hash``; none before runs said)."""
    found: dict[tuple[str, str], set[str]] = {}
    for fact in facts:
        if fact.kind not in ("workflow.spec", "workflow.run"):
            continue
        data = fact.payload
        if data.get("run_hash"):
            key = (str(data.get("workflow")), str(data.get("content_hash")))
            found.setdefault(key, set()).add(str(data["run_hash"]))
    return found


def ran_before_finding(ctx: CheckContext, number: int, workflow: str) -> set[str]:
    """The run hashes measured of the versions ``workflow`` had before finding ``number`` was
    opened (among the facts that count): a new version that runs one of them answers nothing
    (``inhouse workflow test --closes`` refuses it before the tests run). Empty for a program
    whose play 6 exited under the rule before: the change asked about is recorded after its
    exit, so today's rule judges it."""
    ordered = sorted(ctx.facts, key=lambda f: f.id)
    runs = _run_hashes(ordered)
    found: set[str] = set()
    for fact in ordered:
        named = fact.kind == "workflow.spec" and str(fact.payload["workflow"]) == workflow
        if named and fact.id < number:
            found |= runs.get((workflow, str(fact.payload["content_hash"])), set())
    return found


def _ran_before(
    change: Fact,
    finding: FindingState,
    before: list[tuple[int, str]],
    runs: Mapping[tuple[str, str], set[str]],
) -> set[str]:
    """The run hashes measured of the versions ``change``'s workflow had before ``finding``
    was opened (empty for any other change). Every measurement counts, the maker's claims
    too: one only refuses more."""
    if change.kind != "workflow.spec":
        return set()
    name = str(change.payload["workflow"])
    found: set[str] = set()
    for number, content in before:
        if number < finding.id:
            found |= runs.get((name, content), set())
    return found


#: what a version that runs nothing new changed, at most
_COSMETIC = (
    "only what describes it changed (its description, owner or frequency, a case's name, a "
    "variable's description, a template's comments or whitespace): a fix changes what the "
    "model is sent or how its answers are judged"
)


def _runs_nothing_new(change: Fact, ran: set[str]) -> str | None:
    """Why a workflow version closes nothing: its spec says it runs what a version the workflow
    had before the finding ran (:func:`_run_hashes`)."""
    said = change.payload.get("run_hash") if change.kind == "workflow.spec" else None
    if not said or said not in ran:
        return None
    return f"this version runs what the workflow ran before the finding was opened: {_COSMETIC}"


def _measured_nothing_new(fact: Fact, ran: set[str]) -> str | None:
    """Why a run of a workflow version confirms no fix: it measured the version to run what
    the workflow ran before the finding (its maker's spec may say otherwise)."""
    measured = fact.payload.get("run_hash") if fact.kind == "workflow.run" else None
    if not measured or measured not in ran:
        return None
    return (
        f"{fact.by}'s run found this version runs what the workflow ran before the finding "
        f"was opened: {_COSMETIC}"
    )


def _why_not(
    finding: FindingState,
    change: Fact,
    target: str,
    before: list[tuple[int, str]],
    before_rule: bool = False,
) -> str | None:
    if target != finding.target:
        return f"it changes {target}, not the finding's target {finding.target}"
    key = _version_key(change, before_rule=before_rule)
    if change.kind == "baseline.lock":
        in_force = [k for number, k in before if number < finding.id]
        if in_force and in_force[-1] == key:
            if before_rule:
                return "the re-lock pins exactly what was locked when the finding was opened"
            return (
                "the re-lock pins the same models, runtime and data rules as the lock in force "
                "when the finding was opened (a new owner, Python or inhouse version changes "
                "its hash, not the baseline): re-lock with the change that answers it"
            )
        return None
    if key in {k for number, k in before if number < finding.id}:
        if change.kind == "prompt.version" and not before_rule:
            return (
                f"{target} already sent this before the finding was opened: only its "
                "variables' descriptions, its templates' comments or whitespace changed (a fix "
                "changes what the model is sent)"
            )
        return f"{target} already had this version before the finding was opened"
    return None


def require_open(ctx: CheckContext, closes: Iterable[str | int], *, target: str) -> list[int]:
    """The finding numbers a change to ``target`` names, each checked to exist, still be open
    and aim at ``target``; refused with the reason otherwise, before anything is recorded. A
    finding whose fix awaits confirmation is still open: another change may answer it."""
    known = {found.id: found for found in fold_findings(ctx)}
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


def relock_refusal(
    ctx: CheckContext, numbers: Iterable[int], payload: dict[str, Any]
) -> str | None:
    """Why a re-lock recording the ``baseline.lock`` ``payload`` would answer none of the
    findings ``numbers`` (each open and about the baseline: :func:`require_open`), judged as
    ``findings-fed-back`` judges it once recorded (:func:`_why_not`): its models, runtime and
    data rules are those of the lock in force when a finding was opened. None: each would be
    answered. ``inhouse baseline lock --closes`` asks before it records anything: the re-lock
    is recorded after any exit of play 6, so today's rule judges it."""
    history = [(f.id, _version_key(f))
               for f in sorted(ctx.facts.of("baseline.lock"), key=lambda f: f.id)]  # fmt: skip
    change = Fact(
        id=max((f.id for f in ctx.facts), default=0) + 1,
        kind="baseline.lock",
        version=1,
        payload=payload,
        provenance=Provenance.MEASURED,
        by="",
        collector=None,
        comment=None,
        expires=None,
        at=ctx.now,
    )
    known = {found.id: found for found in fold_findings(ctx)}
    for number in numbers:
        found = known.get(number)
        if found is None:
            continue
        if why := _why_not(found, change, "baseline", history):
            return f"finding #{number}: {why}"
    return None
