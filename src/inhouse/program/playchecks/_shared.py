"""Lookups the play checks share. "Who" is always a signer: the person whose key signed the
fact, never a name typed into a payload."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from inhouse.figures import count as counted
from inhouse.figures import share
from inhouse.identity.machine import same_machine
from inhouse.program.checks import (
    AUTHOR_MEASURED,
    AUTHOR_REAL_MODEL,
    FIRST_ENROLLER,
    LEAD_APART,
    LEAD_RERUN,
    CheckContext,
    CheckFunc,
    Outcome,
    Person,
    Result,
    failed,
)
from inhouse.program.facts import Fact, FactSet, latest_usage
from inhouse.program.payloads import MIN_INPUTS, MIN_MEANINGFUL
from inhouse.program.state import unset_sign_in

__all__ = [
    "COMPONENT_KINDS",
    "IMPORTED_TICKETS",
    "NATIVE_TICKETS",
    "NOTHING_PASSED",
    "NOTHING_PASSED_NEXT",
    "NO_DIMENSION",
    "TICKET_KINDS",
    "AuthorPasses",
    "Host",
    "RunsApart",
    "Ticket",
    "TicketStep",
    "adopted_version",
    "as_signed_in_then",
    "author_of",
    "author_passes",
    "author_unanswered",
    "author_unmeasured",
    "below_meaningful",
    "by_enrolment",
    "component_builders",
    "current_lock",
    "current_workflow",
    "early_owners",
    "enrolled_elsewhere",
    "ever_held",
    "first_publisher",
    "fold_tickets",
    "given",
    "hollow_tests",
    "hosts_of",
    "inside_before",
    "insiders",
    "invited_by_judged",
    "judged_unsigned",
    "kept_from_before",
    "names",
    "no_sign_in",
    "not_apart_from_leads",
    "not_counted",
    "not_their_measure",
    "nothing_passed",
    "older_runner",
    "on_test_model",
    "one_per_machine",
    "other_person_elsewhere",
    "owner_alone",
    "parse_component",
    "passing_runs",
    "published_specs",
    "quality_on_hollow",
    "quality_on_time",
    "quality_on_unanswered",
    "ran_authors_code",
    "recurrence_problem",
    "released",
    "run_judged_earlier",
    "same_account",
    "second_person_apart",
    "served_elsewhere",
    "services_enrolled_by",
    "split_aside",
    "stale_runner",
    "step_time",
    "test_model_label",
    "ticket_actor",
    "too_few_inputs",
    "unpinned_build",
    "unpinned_inhouse",
    "unrecorded_lock",
    "unsaid_here",
    "unsaid_where",
    "unsigned_apart",
    "word_of_another",
]


def given(
    find: Callable[[CheckContext], Fact | None], missing: str
) -> Callable[[Callable[[CheckContext, Fact], Result]], CheckFunc]:
    """For a check that judges one fact (the current lock, the current workflow): ``find`` looks
    it up and the check gets it; without one, the check fails saying ``missing``."""

    def decorator(judge: Callable[[CheckContext, Fact], Result]) -> CheckFunc:
        @functools.wraps(judge)
        def check(ctx: CheckContext) -> Result:
            fact = find(ctx)
            return failed(missing) if fact is None else judge(ctx, fact)

        return check

    return decorator


_UNIT = r"(?:hour|day|night|week|weekday|workday|business day|fortnight|month|quarter|year)s?"
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?"
#: how often a recurring task happens, as people write it: ``daily``, ``3/week``, ``twice a
#: month``, ``every 2 weeks``, ``on mondays and thursdays`` (anything may follow after a comma,
#: a parenthesis or a dash: ``daily (about 30 tickets)``)
_RECURRENCE = re.compile(
    r"(?:hourly|daily|nightly|weekly|fortnightly|bi-?weekly|bi-?monthly|monthly|quarterly"
    r"|yearly|annually|weekdays|workdays|every (?:weekday|workday)"
    rf"|(?:\d+|once|twice|thrice)\s*(?:x|times?)?\s*(?:/|a|an|per|each|every)\s*(?:\d+\s*)?{_UNIT}"
    rf"|(?:every|each)\s+(?:\d+\s+|other\s+)?{_UNIT}"
    rf"|(?:(?:every|each|on)\s+)?{_DAY}(?:\s*(?:,|and|&)\s*(?:on\s+)?{_DAY})*)"
    r"(?=$|[\s,;(\-\u2013])",
    re.IGNORECASE,
)


def kept_from_before(
    result: Result, *earlier: tuple[Callable[[], Result], str], not_applicable: bool = False
) -> Result:
    """``result``, a check's judgment by today's rule, for a program whose play exited: where it
    falls short, the first of ``earlier`` (an earlier rule's judgment, asked only then, and what
    it spared) that passes, saying so beside today's reason. A pass by today's rule is returned
    as it is: its evidence is what the exit's acceptance hashed. ``not_applicable``: an earlier
    rule that did not apply is kept too (the exit was judged on a check that did not apply)."""
    kept = {Outcome.PASS, Outcome.NOT_APPLICABLE} if not_applicable else {Outcome.PASS}
    if result.outcome in kept:
        return result
    for judge, note in earlier:
        before = judge()
        if before.outcome in kept:
            return replace(before, reason=f"{before.reason}; note: {note} ({result.reason})")
    return result


def recurrence_problem(frequency: str) -> str | None:
    """Why ``frequency`` (a ``task.named`` fact's, a workflow spec's) says no recurrence, or
    None when it says how often the task recurs: play 3 starts from a task that recurs, and
    "once", "ad hoc" or "tbd" names none. How often it really recurs is its namer's word."""
    if _RECURRENCE.match(frequency.strip()):
        return None
    return (
        f"its frequency {frequency.strip()!r} says no recurrence: say how often the task "
        "happens (daily, weekly, 3/week, twice a month, every 2 weeks, on mondays, …) in the "
        "workflow spec's frequency:, then `inhouse workflow validate NAME`"
    )


def unpinned_inhouse(payload: Mapping[str, Any]) -> str | None:
    """Why a ``baseline.verify`` or ``workflow.run`` payload's inhouse is not the release the
    lock pins, installed from a package index, or None (one from before they named their
    inhouse: None)."""
    origin = payload.get("inhouse")
    if not origin or origin.get("installed_from") != "url":
        return None
    return (
        f"the inhouse that ran it was installed from {origin.get('url') or 'a folder or URL'}, "
        "not from a package index: a build nobody pinned, which can report anything"
    )


def unpinned_build(ctx: CheckContext, fact: Fact) -> str | None:
    """:func:`unpinned_inhouse` for a second person's measurement (a verify, a rerun of the
    workflow's tests), outside a demo: a demo installs the checkout it runs from. A build from
    a folder or URL is whoever handed it round's runner, signing with the measurer's key."""
    why = None if ctx.demo else unpinned_inhouse(fact.payload)
    # "vic's run (fact #12): …", "vic's verify (fact #9): …"
    return (
        None if why is None else f"{fact.by}'s {fact.kind.split('.')[-1]} (fact #{fact.id}): {why}"
    )


def nothing_passed(rate: Any) -> bool:
    """Whether a trial's candidate passed none of its inputs (``rate``: a verdict's
    ``candidate_pass_rate`` or a rerun's ``pass_rate``): its ``proved`` is 0 then, not because
    its checks pass an empty answer, but because there is no passed input to judge them on."""
    return isinstance(rate, int | float) and not isinstance(rate, bool) and rate == 0


#: why such a trial's quality says nothing (:func:`nothing_passed`), said instead of blaming
#: checks that may well fail an empty answer
NOTHING_PASSED = (
    "the candidate passed none of the trial's inputs, so its quality held only beside a status "
    "quo that passed as few, which says nothing of what the model's answers are worth"
)
#: what to do about it
NOTHING_PASSED_NEXT = (
    "read the candidate's answers in the trial's report (the model, the prompt, or checks "
    "stricter than the task asks)"
)


#: why a "proven" verdict naming no dimension it proved (``proven_on`` empty) proves nothing:
#: ``inhouse prove`` records "proven" only with each dimension whose threshold the trial cleared,
#: so such a verdict was typed (through the Python API, or by an edited inhouse), and a rerun has
#: no advantage to reproduce: a colleague's honest rerun in which the candidate is slower, dearer
#: and no more private would "hold" it on quality alone
NO_DIMENSION = (
    "it names no dimension it proved (faster, cheaper, more-private): `inhouse prove` records a "
    "proven verdict only with each dimension whose threshold the trial cleared, so this one "
    "claims no advantage, and no rerun can reproduce one; prove the trial (`inhouse prove NAME`) "
    "and have that verdict rerun"
)


def too_few_inputs(payload: Mapping[str, Any]) -> str | None:
    """Why a ``trial.verdict``'s or a ``trial.rerun``'s ``payload`` rests on fewer distinct task
    inputs than :data:`~inhouse.program.payloads.MIN_INPUTS`, or None. ``inhouse prove`` calls
    a numeric dimension on fewer "too few", but "more private" is decided by rule: a trial of
    one ticket claiming it alone was proven beside any hosted API, its quality a pass rate of
    one answer, on its author's run and a colleague's honest rerun alike. A fact from before
    facts said how many inputs they ran (None) counts as before."""
    count = payload.get("distinct_inputs")
    if count is None:
        count = payload.get("inputs")
    if count is None or int(count) >= MIN_INPUTS:
        return None
    return (
        f"it rests on {counted(int(count), 'task inputs')}, fewer than the {MIN_INPUTS} a "
        "trial's quality (and any advantage) is judged on: a pass rate over so few says "
        "nothing of the candidate's answers, and 'more private' alone is true of any local "
        "model beside a hosted API"
    )


def below_meaningful(thresholds: Any, claimed: Any) -> str | None:
    """Why the ``claimed`` dimensions (a verdict's ``proven_on``) cleared thresholds
    (``thresholds``: a verdict's or a rerun's, in %) below
    :data:`~inhouse.program.payloads.MIN_MEANINGFUL`, or None: "meaningfully faster" at 0.5 %
    says nothing, on its author's run and a colleague's honest rerun alike. A fact from before
    facts named their thresholds (None) counts as before."""
    if not isinstance(thresholds, Mapping):
        return None
    low = [
        f"{name} at {float(thresholds[name]):g} %"
        for name in ("faster", "cheaper")
        if name in (claimed or []) and name in thresholds
        and float(thresholds[name]) < MIN_MEANINGFUL
    ]  # fmt: skip
    if not low:
        return None
    return (
        f"it called {' and '.join(low)} a meaningful win, below the {MIN_MEANINGFUL:g} % a trial "
        "may call one: a candidate a hair better than the status quo clears that, so it proves "
        "no value"
    )


def quality_on_time(payload: Mapping[str, Any]) -> str | None:
    """Why a trial's quality judgment (a ``trial.verdict``'s or a ``trial.rerun``'s
    ``payload``) rests on checks that judge how long an answer took or what it cost
    (``timed_checks``: ``latency``, ``cost``) beside a status quo whose answers were checked
    too, or None. Speed and cost are the trial's dimensions; as quality checks they fail a slow
    or dear status quo's answers (a hosted API's, a manual process's minutes) whatever they
    say, and pass an answer given for nothing, instantly and free, so the decoys do not show it.
    A fact from before trials said (None) counts as before."""
    timed = payload.get("timed_checks")
    if not timed or not payload.get("status_quo_measured"):
        return None
    return (
        f"its quality checks judge how long an answer took or what it cost ({', '.join(timed)}): "
        "a slow or dear status quo's answers fail them whatever they say, so the candidate's "
        "acceptable quality says nothing of what the answers say (speed and cost are the "
        "trial's dimensions, `meaningful.faster` and `meaningful.cheaper`)"
    )


def quality_on_hollow(payload: Mapping[str, Any], candidate: Any, *, demo: bool) -> str | None:
    """Why a trial's quality judgment (a ``trial.verdict``'s or a ``trial.rerun``'s
    ``payload``, whose candidate passed ``candidate``, 0..1, of its ``inputs``) held only
    because some of the candidate's passes were on inputs whose checks pass an answer given for
    nothing (an empty one, ``proved``; outside a demo, off-topic prose as long as the candidate's
    answer too, ``on_topic``), or None: counting those passes as failed cases, the candidate
    still trails the status quo by no more than the quality floor. A trial's checks are one
    list, but their values are templates of each input's fields: a ``regex`` of ``{{ pattern
    }}`` that is ``.*`` on nineteen inputs and a real pattern on the twentieth passes any answer
    on the nineteen, and the rule that a check must fail an answer given for nothing somewhere
    (``proved``, ``on_topic`` above 0) asked only the twentieth. A demo's test model writes
    nonsense no check tells from prose, so there only the empty answer counts. A fact from
    before facts said (None) counts as before."""
    on_topic = None if demo else payload.get("on_topic")
    judged = payload.get("proved") if on_topic is None else on_topic
    inputs, floor = payload.get("inputs"), payload.get("quality_floor")
    status_quo = payload.get("status_quo_pass_rate")
    if judged is None or not inputs or floor is None or status_quo is None or candidate is None:
        return None
    passed = round(float(candidate) * int(inputs))
    hollow = passed - int(judged)
    if hollow <= 0:
        return None
    held = int(judged) / int(inputs)
    trails = (float(status_quo) - held) * 100
    if trails <= float(floor) + 1e-9:
        return None
    given = "an empty answer" + ("" if demo else " or off-topic prose as long as its answer")
    return (
        f"{hollow} of the {passed} inputs the candidate passed have checks that pass {given} "
        f"there (a check's value is a template of each input's fields): counting those as failed "
        f"cases, the candidate ({share(held)}) would trail the status quo "
        f"({share(float(status_quo))}) by {trails:.0f} points, more than the quality floor "
        f"({float(floor):g} points), so its acceptable quality rests on inputs whose checks "
        "judge nothing of the answer"
    )


def quality_on_unanswered(payload: Mapping[str, Any], candidate: Any) -> str | None:
    """Why a trial's quality judgment (a ``trial.verdict``'s or a ``trial.rerun``'s
    ``payload``, whose candidate passed ``candidate``, 0..1) held only because its API status
    quo gave no answer on some inputs (``status_quo_unanswered``: a failed request or an empty
    answer, each counted as a failed case), or None: counting those inputs as the status quo's
    passes, the candidate still trails it by no more than the quality floor. A timeout the
    trial's author set below the status quo's answering time (the claim hash leaves it out), a
    stop sequence it opens with or a key it is refused would otherwise make any candidate's
    quality "acceptable", on the author's run and on a colleague's honest rerun alike; whether
    the status quo could answer them is not what the quality floor is about. So do the inputs
    whose answer the status quo's server cut at the trial's ``generation.max_tokens``, or may
    have cut at one of its stop sequences (``generation.stop``, which a server reports as an
    answer that ended on its own), and that failed (``status_quo_cut_short``, whatever the
    candidate's answer did): a status quo cut mid-answer fails checks its whole answer passes.
    A fact from before trials said (None) counts as before; one from before they counted stop
    sequences, or the inputs where the candidate's answer was cut and failed too, counts what
    it counted."""
    unanswered = int(payload.get("status_quo_unanswered") or 0)
    cut = int(payload.get("status_quo_cut_short") or 0)
    status_quo = payload.get("status_quo_pass_rate")
    inputs, floor = payload.get("inputs"), payload.get("quality_floor")
    if (
        not unanswered + cut
        or status_quo is None
        or not inputs
        or floor is None
        or candidate is None
    ):
        return None
    best = min(1.0, float(status_quo) + (unanswered + cut) / int(inputs))
    trails = (float(best) - float(candidate)) * 100
    if trails <= float(floor) + 1e-9:
        return None
    unsaid = [
        *([f"gave no answer on {unanswered} of {inputs} inputs (a failed request or an empty "
           "answer)"] if unanswered else []),
        *([f"was cut short at the trial's max_tokens (or may have been, at its stop "
           f"sequences) on {cut} of {inputs} inputs whose answers then failed"] if cut else []),
    ]  # fmt: skip
    return (
        f"the status quo {' and '.join(unsaid)}, each counted as a failed case of its quality: "
        "had it passed them, the candidate "
        f"({share(float(candidate))}) would trail it by {trails:.0f} points, more than the "
        f"quality floor ({float(floor):g} points), so its acceptable quality rests on answers "
        "the status quo never gave (a timeout below its answering time, a stop sequence it "
        "opens with, a refused key: see the trial's report)"
    )


def unsaid_here(verify: Fact) -> str | None:
    """Why the ``baseline.verify`` ``verify`` does not show its runtime answered on the
    verifier's own machine, or None: it says so (``runtime_local``), or names the inhouse that
    ran it (``inhouse``: verifies named it after they failed where the runtime answered from
    another address). One from before verifies checked that says nothing of where it was
    answered: a server at another address (the baseline owner's) could have."""
    local = verify.payload.get("runtime_local")
    if local is True or (local is None and verify.payload.get("inhouse")):
        return None
    if local is False:
        peers = ", ".join(map(str, verify.payload.get("runtime_peers") or [])) or "another host"
        return (
            f"{verify.by}'s verify (fact #{verify.id}) was answered from {peers}, not their machine"
        )
    return (
        f"{verify.by}'s verify (fact #{verify.id}) does not say its runtime answered on their "
        "machine (an inhouse from before verifies checked it made it, and a server at another "
        "address could have answered): update inhouse and run `inhouse baseline install` "
        "again, which ends with `inhouse baseline verify` (where the lock pins an inhouse that "
        "old, the baseline's owner re-locks with a current one first: `inhouse baseline lock`)"
    )


def current_lock(ctx: CheckContext) -> Fact | None:
    return ctx.facts.latest("baseline.lock")


def published_specs(facts: FactSet) -> list[Fact]:
    """The ``workflow.spec`` facts that publish their version, oldest first: each beside its
    own run. The runner records a new version's spec and then the run it was recorded for,
    which names the spec's ``nonce``; a spec counts only with that run in the log (signed by
    the spec's signer, of the same version). One without it (its run cut from the log's tail,
    refused by the store, or left out of an import) publishes nothing and makes nobody an
    author: else whoever holds the store could keep a colleague's spec of a version and drop
    the failing run recorded with it. A spec recorded before runs named their spec (no
    ``nonce``) counts alone, as it did."""

    def version(fact: Fact, field: str) -> tuple[str, Any, Any, Any]:
        # .get: a fact appended around the API may lack any field; it names no version then
        data = fact.payload
        return (fact.by, data.get("workflow"), data.get("content_hash"), data.get(field))

    named = {version(run, "spec") for run in facts.of("workflow.run") if run.payload.get("spec")}
    return [
        spec
        for spec in facts.of("workflow.spec")
        if not spec.payload.get("nonce") or version(spec, "nonce") in named
    ]


def author_of(ctx: CheckContext, spec: Fact) -> str | None:
    """A workflow version's author: whoever signed the fact that first published it (its
    workflow and content hash, beside its own run: :func:`published_specs`). A later
    ``workflow.spec`` of the same version, which the runner records when it runs on other
    weights, is signed by whoever ran it and makes them no author: a colleague's run after a
    re-lock must not turn the author's own run into theirs. None: no spec of the version
    counts, so it has no author yet."""
    return first_publisher(ctx.facts, str(spec.payload["workflow"]), spec.payload["content_hash"])


def first_publisher(facts: FactSet, workflow: str, content_hash: Any = None) -> str | None:
    """Who signed the first ``workflow.spec`` that published ``workflow`` (of the version
    ``content_hash``, or of any version where None): by the same rule as a version's author
    (:func:`author_of`), the workflow's author is whoever first published it, the one who built
    it; a later version's publisher edited it. None: no spec of it counts yet."""
    first = next(
        (
            f
            for f in published_specs(facts)
            if f.payload["workflow"] == workflow
            and (content_hash is None or f.payload["content_hash"] == content_hash)
        ),
        None,
    )
    return None if first is None else first.by


def no_sign_in(ctx: CheckContext) -> str | None:
    """Why nobody can be told apart from anyone: outside a demo, a program without the
    organisation's sign-in has only keys and the machine ids they report, and one person makes
    both for as many "colleagues" as they like. None where a sign-in is set up (it judges each
    person itself) or in a demo program (one machine plays every part there)."""
    if ctx.signed_in is None and not ctx.demo:
        return unset_sign_in(ctx.log_file)
    return None


def judged_unsigned(ctx: CheckContext, judged: Iterable[str]) -> str | None:
    """With the organisation's sign-in set up: why nobody can be told apart from ``judged``
    (one of them has not signed in, so their own account could sit behind any other name), or
    None."""
    if ctx.signed_in is None:
        return None
    missing = sorted(
        j
        for j in judged
        if j in ctx.people
        and not ctx.people[j].service
        and j not in ctx.signed_in
        and j not in ctx.departed  # holds no key, and hides no account
    )
    if not missing:
        return None
    verb = "has" if len(missing) == 1 else "have"
    return (
        f"{names(missing)}, whose work this judges, {verb} not signed in with "
        f"{ctx.sign_in_issuer}: nobody is told apart from them until they do"
        + ctx.set_aside_note(missing)
    )


def unsigned_apart(ctx: CheckContext, person: str, judged: Iterable[str]) -> str | None:
    """Why the organisation's sign-in does not tell ``person`` apart from ``judged``: the
    person, or one of the judged, has not signed in; outside a demo, without a sign-in, nobody
    is told apart (:func:`no_sign_in`). The machine rules apply besides."""
    if why := no_sign_in(ctx) or ctx.not_signed_in(person) or judged_unsigned(ctx, judged):
        return why
    return same_account(ctx, person, judged)


def released(ctx: CheckContext, person: str) -> bool:
    """Whether ``person`` signed in once with the organisation's sign-in and is no longer
    signed in because every key that did was revoked since (the binding is released): what
    they did while signed in was theirs, signed in."""
    return (
        ctx.signed_in is not None
        and person not in ctx.signed_in
        and bool(ctx.subjects_held.get(person))
    )


def as_signed_in_then(ctx: CheckContext, person: str, key: str | None) -> CheckContext:
    """``ctx`` with ``person`` signed in with the account ``key`` (the key that signed what they
    did: a ticket they filed) signed in with, where that binding was released since (every key
    under it revoked): revoking a colleague's key afterwards does not take back who they were.
    A key that never signed in changes nothing."""
    if ctx.signed_in is None or person in ctx.signed_in:
        return ctx
    account = ctx.key_subjects.get(key or "")
    if account is None:
        return ctx
    return replace(ctx, signed_in={**ctx.signed_in, person: account})


def same_account(ctx: CheckContext, person: str, judged: Iterable[str]) -> str | None:
    """Why ``person`` is one of ``judged`` to the sign-in: they signed in with an account one of
    ``judged`` once held (a binding is released when its keys are revoked, and its account may
    then bind another name), or None."""
    if ctx.signed_in is None or person not in ctx.signed_in:
        return None
    account = ctx.signed_in[person]
    for other in sorted(set(judged) - {person}):
        if account in ctx.subjects_held.get(other, frozenset()):
            return f"{person} signed in with the account {other}, whose work this judges, held"
    return None


def split_aside(
    ctx: CheckContext, aside: Iterable[str], judged: Iterable[str]
) -> tuple[list[str], str]:
    """``aside`` (from :func:`one_per_machine`) parted into those set aside by their machines
    and a note on those the sign-in set aside ("" when none)."""
    aside = list(aside)
    if why := no_sign_in(ctx) or judged_unsigned(ctx, judged):
        return [], f"{names(aside)}: {why}" if aside else ""
    unsigned = [p for p in aside if ctx.not_signed_in(p)]
    note = (
        f"{names(unsigned)}, not signed in with {ctx.sign_in_issuer}{ctx.set_aside_note(unsigned)}"
        if unsigned
        else ""
    )
    shared = [why for p in aside if p not in unsigned and (why := same_account(ctx, p, judged))]
    if shared:
        note = "; ".join([*([note] if note else []), *shared])
    unsigned += [p for p in aside if p not in unsigned and same_account(ctx, p, judged)]
    return [p for p in aside if p not in unsigned], note


def not_counted(notes: Iterable[str]) -> str:
    """``"; not counted: a; b"`` for the notes that say something, else ``""``: what a check
    appends about the people it set aside."""
    said = [note for note in notes if note]
    return f"; not counted: {'; '.join(said)}" if said else ""


def other_person_elsewhere(
    ctx: CheckContext, fact: Fact, judged: set[str], *, play: str | None = None
) -> str | None:
    """Why ``fact`` is not evidence from someone other than ``judged``, or None when it is: it
    must be signed by another person (with a sign-in set up, them and ``judged`` vouched for
    by it), from a machine none of ``judged`` enrolled a key from. With ``play`` (the play
    whose check asks), nor by someone whose keys were all made on a host where one of ``judged``
    had enrolled one of a service's keys (the gateway's, its first or a later one: whoever runs
    it holds the key files made there), unless ``play``'s exit was judged on ``fact``
    (:meth:`CheckContext.spared`)."""
    if fact.by in judged:
        return f"it is {fact.by}'s own"
    signer = ctx.people.get(fact.by)
    if signer is not None and signer.service:
        return f"it is signed by the {fact.by} service's key, which speaks for no person"
    if why := unsigned_apart(ctx, fact.by, judged):
        return why
    # the machines they had enrolled from by the time it was recorded (exit rule 29): one a
    # judged person enrols "from" afterwards (its id is the enroller's to state) does not reach
    # back over what its signer measured there, else a lead enrolling a key under a colleague's
    # machine id set aside their honest verify and reruns (or only those from one machine: the
    # draws that trailed, from the pool a colleague's reruns are judged in)
    # and a machine is whoever enrolled from it first (exit rule 31), as for a person
    # (:func:`enrolled_elsewhere`): a judged person's key "from" a machine the signer had
    # enrolled from before sets nothing measured there aside, else a lead who read in the log
    # that a colleague enrolled from a second machine enrolled "from" it too, and the draws
    # that trailed there (or an envelope she imported after) left the pool
    mine = ctx.machine_since.get(fact.by, {})
    first = not (play is not None and ctx.spared(play, fact, rule=FIRST_ENROLLER))
    theirs = {
        machine
        for j in judged
        for machine in ctx.machines.get(j, frozenset())
        if (since := ctx.machine_since.get(j, {}).get(machine, 0)) < fact.id
        and not (
            first
            and any(
                at < since and same_machine(m, machine, demo=ctx.demo) for m, at in mine.items()
            )
        )
    }
    used = {m for m in (fact.machine, str(fact.payload.get("machine") or "")) if m}
    # a machine id replaced with INHOUSE_MACHINE_ID is still the machine it was made on
    shared = {t for t in theirs for m in used if same_machine(m, t, demo=ctx.demo)}
    if shared:
        whose = sorted(
            j for j in judged if any(same_machine(m, s, demo=ctx.demo)
                                     for m in ctx.machines.get(j, ()) for s in shared)
        )  # fmt: skip
        return (
            f"{fact.by}'s evidence came from a machine {names(whose or sorted(judged))} "
            f"enrolled ({', '.join(sorted(shared))})"
        )
    hosts = services_enrolled_by(ctx, judged) if play is not None else set()
    if (
        hosts
        and not ctx.spared(str(play), fact)
        and not enrolled_elsewhere(ctx, fact.by, judged, services=hosts)
    ):
        # the leads who enrolled a key on the hosts the signer's keys were made on
        made = ctx.machines.get(fact.by, frozenset())
        there = [h for h in hosts if any(same_machine(m, h.machine, demo=ctx.demo) for m in made)]
        enrollers = sorted({h.lead for h in there or hosts})
        return (
            f"{fact.by}'s keys were all enrolled from {hosts_of(hosts)} after {names(enrollers)} "
            "enrolled its key there (whoever runs it holds the key files made there)"
        )
    return None


def second_person_apart(
    ctx: CheckContext, fact: Fact, judged: set[str], *, play: str
) -> str | None:
    """Why ``fact`` (a verify, a trial's rerun, a workflow's rerun) is not the second person's
    its ``play`` asks for, or None when it is: :func:`other_person_elsewhere` against ``judged``
    and against whoever had been a rollout lead by the time it was measured (one who stepped
    down before it included) too: a lead puts the owners in
    charge, and an owner she put there (or a colleague whose name is on a workflow's first run)
    may type what she dictates, so her own verify or rerun (or one from a machine she enrolled
    from) would check her own work. Play 2's rule is
    :data:`~inhouse.program.checks.LEAD_APART`, play 3's
    :data:`~inhouse.program.checks.LEAD_RERUN`; a ``play`` that exited under the rules before
    keeps them for the facts its exit was judged on."""
    rule, why, judged_as = _LEAD_RULES[play]
    if ctx.spared(play, fact, rule=rule):
        return other_person_elsewhere(ctx, fact, judged, play=play)
    # a lead by then, stepped down since included: whom she put in charge, she still put
    # there, and stepping down for one measure (a co-lead gives the role back after) is hers
    # and that co-lead's to do alone
    leads = held_by(ctx, "rollout-lead", fact.id) - judged
    if fact.by in leads:
        was = (
            "was a rollout lead when it was measured"
            if ctx.held_role_at(fact.by, "rollout-lead", fact.id)
            else "had been a rollout lead before it was measured (stepping down does not "
            "undo whom she put in charge)"
        )
        return (
            f"{fact.by} {was}: {why}, so her own measure checks her own work (exit rule "
            f"{rule}); someone who is neither {judged_as} nor a lead measures it (whoever "
            "asked to get in, say)"
        )
    return other_person_elsewhere(ctx, fact, judged | leads, play=play)


#: play -> the exit rule that keeps its second person apart from the leads, why in words, and
#: whom that person is other than
_LEAD_RULES = {
    "baseline": (
        LEAD_APART,
        "a lead puts the owners of plays 1 and 2 in charge, and an owner she put there may type "
        "what she dictates",
        "the owner",
    ),
    "workflow": (
        LEAD_RERUN,
        "a lead puts play 3's owner in charge, and the owner (or any colleague whose run "
        "published the version) may type what she dictates",
        "the workflow's author",
    ),
}


def enrolled_elsewhere(
    ctx: CheckContext,
    person: str,
    judged: set[str],
    *,
    before: int | None = None,
    services: Iterable[Host] = (),
) -> bool:
    """Whether ``person`` enrolled a key from a machine none of ``judged`` enrolled from (a
    machine id replaced with ``INHOUSE_MACHINE_ID`` is still the machine it was made on), and,
    with the organisation's sign-in set up, they and ``judged`` signed in with it (a caller
    that explains a refusal asks :func:`unsigned_apart` first). A machine is whoever enrolled
    from it first: a judged person who enrols a key "from" a colleague's machine afterwards
    (its id is the enroller's to state) makes the colleague nobody's alias. ``before``: only
    the machines ``judged`` enrolled from before that event count against them. ``services``:
    the hosts of services (:func:`services_enrolled_by` the judged) that count as the judged's
    machines from when one of them enrolled the service's key there: a key made on the
    gateway's host after a lead enrolled the gateway's key there lies where she runs things."""
    if unsigned_apart(ctx, person, judged):
        return False
    theirs = [  # (machine, the event it was first enrolled from by that judged person)
        (machine, ctx.machine_since.get(j, {}).get(machine, 0))
        for j in judged
        for machine in ctx.machines.get(j, frozenset())
    ]
    theirs += [(host.machine, host.since) for host in services]
    if before is not None:
        theirs = [(machine, first) for machine, first in theirs if first < before]
    mine = ctx.machine_since.get(person, {})
    own = [m for m in ctx.machines.get(person, frozenset()) if m]
    return not theirs or any(
        not any(
            first <= mine.get(m, 0) and same_machine(m, t, demo=ctx.demo) for t, first in theirs
        )
        for m in own
    )


def by_enrolment(ctx: CheckContext, people: Iterable[str]) -> list[str]:
    """``people`` in the order they first enrolled a key (then by name): whoever enrolled from
    a machine first stands for it. By name alone, with "first" read from enrolments, five
    people who joined at one laptop in reverse name order each found only later-comers there
    before them, and counted as five."""
    return sorted(
        set(people), key=lambda p: (min(ctx.machine_since.get(p, {}).values(), default=-1), p)
    )


class Host(NamedTuple):
    """A service's host that counts as a lead's machine: where ``lead`` enrolled one of the
    ``service``'s keys, from event ``since`` on (a key made there since is theirs)."""

    service: str
    machine: str
    since: int
    lead: str


def services_enrolled_by(
    ctx: CheckContext, people: Iterable[str], *, first_only: bool = False
) -> set[Host]:
    """The hosts of the services (the gateway) where one of ``people`` enrolled one of their
    keys, each from when they did: whoever runs it holds the key files made there. A lead's
    enrolment on one host says nothing of another the service ran on. ``first_only``: the
    rule before :data:`~inhouse.program.checks.EVERY_ENROLLER` (an exit judged under it keeps
    it), which read only who enrolled a service's first key, holding every host it ran on."""
    who = set(people)
    found: dict[tuple[str, str, str], int] = {}
    for name, person in ctx.people.items():
        if not person.service:
            continue
        first = ctx.invited_by.get(name)
        made = ctx.enrolled_where.get(name)
        if first_only or made is None:  # a context without them: each host the first's
            since = ctx.machine_since.get(name, {})
            made = tuple(
                (machine, first, since.get(machine, 0))
                for machine in ctx.machines.get(name, frozenset())
                if first
            )
        for machine, lead, seq in made:
            if lead in who:
                key = (name, machine, lead)
                found[key] = min(found.get(key, seq), seq)
    return {Host(name, machine, seq, lead) for (name, machine, lead), seq in found.items()}


def hosts_of(hosts: Iterable[Host]) -> str:
    """``hosts`` as their services' hosts, for a reason: "the gateway's host"."""
    return " or ".join(f"the {name}'s host" for name in sorted({h.service for h in hosts}))


def one_per_machine(
    ctx: CheckContext, people: Iterable[str], judged: set[str], *, services: Iterable[Host] = ()
) -> tuple[list[str], list[str]]:
    """``people`` counted as distinct people elsewhere: each with a key enrolled from a machine
    none of ``judged`` enrolled from (nor the host of one of ``services``, where a judged
    person enrolled its key), and no two on one machine (the first to enrol from it stands for
    it); a service is nobody, and with the organisation's sign-in set up, neither is anyone it
    has not vouched for. Returns (counted, set aside). One laptop with five keys is one
    person."""
    counted: list[str] = []
    aside: list[str] = []
    for person in by_enrolment(ctx, people):
        found = ctx.people.get(person)
        service = found is not None and found.service  # a service's key speaks for nobody
        if (
            service
            or person in judged
            or unsigned_apart(ctx, person, judged)
            or not enrolled_elsewhere(ctx, person, judged | set(counted), services=services)
        ):
            aside.append(person)
        else:
            counted.append(person)
    return sorted(counted), sorted(aside)


def invited_by_judged(ctx: CheckContext, person: str, judged: set[str]) -> str:
    """A note when the "someone else" was invited by the very person being judged, directly or
    through people invited in turn (a lead invites a co-lead, who invites the "someone else":
    the same hand, a step removed): it counts (inviting is a rollout lead's job), and it is
    said, with each invitation on the way, so a reader can weigh it."""
    chain = _invited_through(ctx, person, judged)
    if chain is not None:
        return f" (note: {chain[0]}, whose work this judges, invited {_onward(chain[1:])})"
    # the other way round: the one judged is someone the "someone else" invited, or someone
    # invited by someone they invited
    chains = [c for j in sorted(judged) if (c := _invited_through(ctx, j, {person})) is not None]
    direct = [c[-1] for c in chains if len(c) == 2]
    notes = [f"{person} invited {names(direct)}, whose work this judges"] if direct else []
    notes += [
        f"{person} invited {_onward(c[1:])}, whose work this judges" for c in chains if len(c) > 2
    ]
    return f" (note: {'; '.join(notes)})" if notes else ""


def _invited_through(ctx: CheckContext, person: str, inviters: set[str]) -> list[str] | None:
    """Who invited ``person``, and who invited them, back to the first of ``inviters``: that
    one, then each they invited on the way, ending with ``person``; None when the invitations
    lead back to none of ``inviters``."""
    chain = [person]
    inviter = ctx.invited_by.get(person)
    while inviter is not None and inviter not in chain:
        chain.append(inviter)
        if inviter in inviters:
            return chain[::-1]
        inviter = ctx.invited_by.get(inviter)
    return None


def _onward(chain: list[str]) -> str:
    """``carl, who invited dora``: each invited by the one before."""
    return ", who invited ".join(chain)


def passing_runs(
    ctx: CheckContext, spec: Fact, *, hollow: bool = False, earlier: bool = False
) -> list[Fact]:
    """Passing test runs of ``spec``'s version, against the current lock where there is one (a
    run against other locked weights, or one that names no lock, does not prove this workflow
    on the baseline's model), whose tests need the model (:func:`hollow_tests`), by a runner
    that judged decoys (:func:`stale_runner`).
    ``hollow``: those runs set aside instead. ``earlier``: by the rule before runs were judged
    on decoys (an empty answer alone), which a play 3 that exited on it keeps for the runs
    recorded by its exit (:func:`run_judged_earlier`)."""
    lock = current_lock(ctx)
    lock_hash = lock.payload["lock_hash"] if lock is not None else None
    runs = ctx.facts.of("workflow.run")
    return [
        f
        for f in runs
        if f.payload["workflow"] == spec.payload["workflow"]
        and f.payload["content_hash"] == spec.payload["content_hash"]
        and f.payload["passed"]
        and (lock_hash is None or f.payload["lock_hash"] == lock_hash)
        and (
            (
                on_test_model(ctx, f)
                or hollow_tests(f, earlier=(lax := run_judged_earlier(ctx, f, earlier)))
                or (None if lax else stale_runner(ctx, runs, f))
            )
            is not None
        )
        == hollow
    ]


def on_test_model(ctx: CheckContext, run: Fact, *, play: str = "workflow") -> str | None:
    """Why the ``workflow.run`` ``run`` proves nothing of its workflow outside a demo: the
    project's test model (random weights) answered it, as its runner's runtime read it
    (:func:`inhouse.runtimes.testmodel.serves_test_model`), or None. As for plays 1 and 2, only
    a demo program accepts it; so do play 3 (its tests pass, someone else ran them), play 4 (a
    member's ``ran-workflow`` step) and play 6 (a workflow version's confirmation). A run
    recorded before runs said (no ``test_model``) counts as before, and so does one ``play``'s
    exit was judged on (:meth:`CheckContext.spared`)."""
    if not run.payload.get("test_model") or ctx.demo or ctx.spared(play, run):
        return None
    return (
        f"{run.by}'s run (fact #{run.id}) was answered by the project's test model (random "
        "weights): it proves nothing of the workflow; run its tests on a real model (only a "
        "demo program accepts the test model)"
    )


def test_model_label(ctx: CheckContext, run: Fact) -> str:
    """What a pass on ``run`` says where the project's test model answered it: a demo
    program's, or one play 3's exit was judged on (:func:`on_test_model`); "" otherwise."""
    if not run.payload.get("test_model"):
        return ""
    if ctx.demo:
        return " (demo program: the test model)"
    return " (on the project's test model, which play 3 exited on)"


def run_judged_earlier(ctx: CheckContext, run: Fact, earlier: bool) -> bool:
    """Whether ``run`` is judged by the rule before runs were judged on decoys: with
    ``earlier``, where play 3's exit was judged on it (:meth:`CheckContext.spared`: an exit
    recorded before exits named their facts, on every run by its mark); a run the exit left
    out, or one recorded since, is today's rule's, as in any program."""
    return earlier and ctx.spared("workflow", run)


def hollow_tests(run: Fact, *, earlier: bool = False) -> str | None:
    """Why the ``workflow.run`` ``run`` proves nothing of its workflow: no case it passed fails
    on every decoy answer (``proved`` 0: an empty answer, an off-topic sentence, the case's own
    prompt or input echoed back passes each: checks of weight 0 alone, ``length min 1``,
    patterns anything matches, scripts that return true, transforms that replace the answer,
    while a low pass rate lets the cases that can fail fail), so it would pass whatever the
    model said; or where its several cases all sent the model one prompt (``inputs`` 1: its
    template ignores what the cases give it); or None.

    A run recorded before runs were judged on decoys (no ``decoys``) is judged on what it
    recorded, the empty answer alone, and one recorded before runs said that (no ``proved``)
    counts as before; so is any run with ``earlier`` (the rule a play 3 that exited on it
    keeps)."""
    cases, inputs = run.payload.get("cases") or 0, run.payload.get("inputs")
    if inputs == 1 and cases > 1:
        return (
            f"{run.by}'s run of it passed, but its {cases} cases all sent the model the same "
            "prompt: its template ignores what the cases give it (use their variables in the "
            "prompt) and tests nothing of the task's inputs"
        )
    proved = run.payload.get("proved")
    untested = [u for u in run.payload.get("untested") or [] if isinstance(u, dict)]
    if earlier or not run.payload.get("decoys"):
        if proved is not None and run.payload.get("decoys"):
            # those a decoy other than the empty answer passes: the empty answer fails them
            proved += sum(u.get("decoy") != "empty" for u in untested)
        if proved != 0:
            return None
        return (
            f"{run.by}'s run of it passed, but no case it passed is one an empty answer fails: "
            "its tests pass whatever the model says; give the cases checks that judge what the "
            "answer says (contains, regex, length min, llm-rubric, …) and run its tests again"
        )
    if proved != 0:
        return None
    from inhouse.workflows.decoys import DECOYS  # the workflows package imports this one

    named = [
        f"case {u.get('case')} passes on {DECOYS.get(str(u.get('decoy')), u.get('decoy'))}"
        for u in untested
    ]
    which = f" ({'; '.join(named)})" if named else ""
    alone = (
        " (it has one case: add a case with another input and another right answer)"
        if cases == 1 and any(u.get("decoy") == "other-answer" for u in untested)
        else ""
    )
    # another case's answers tell a case apart only where that case passed: a run whose other
    # cases failed says so, not merely that its checks judge nothing (they may judge well)
    passes = round(float(run.payload.get("pass_rate") or 0) * cases)
    if (
        cases > 1
        and passes < cases
        and untested
        and all(u.get("decoy") == "other-answer" for u in untested)
    ):
        alone = (
            f" (only {passes} of its {cases} cases passed, and another case's answers tell a "
            "case apart only where that case passed and fails every fixed decoy itself: make "
            "the others pass, or add a case with another right answer that does)"
        )
    return (
        f"{run.by}'s run of it passed, but every case it passed passes on an answer the model "
        f"never gave for it too{which}: its tests do not need the model. Give a case checks "
        "that judge what its own answer must say (the facts it must name, not merely that "
        "there is text or JSON in a schema), which the answer to another case (with another "
        "right answer, and checks of its own that this one's answer fails) does not say"
        f"{alone}; then run its tests again"
    )


def older_runner(runs: list[Fact], run: Fact) -> str | None:
    """Why the ``workflow.run`` ``run`` is from a runner older than the program's: it judged
    no decoy answers (no ``decoys``), or not every one a run recorded before it judged, so the
    program was already on a runner that does, and an older one (whose runs are judged on
    fewer decoys: the empty answer alone, or not off-topic prose as long as the answer) ran it
    since (a colleague's stale install, a lock pinning an old release); or None."""
    mine = {str(d) for d in run.payload.get("decoys") or []}
    first = next(
        (
            f
            for f in runs
            if f.id < run.id and {str(d) for d in f.payload.get("decoys") or []} - mine
        ),
        None,
    )
    if first is None:
        return None
    if not mine:
        return (
            f"{run.by}'s run (fact #{run.id}) was made by an inhouse older than the program's "
            f"run #{first.id}: it judged no decoy answers, so it cannot show its tests need the "
            "model; upgrade inhouse and run the tests again"
        )
    from inhouse.workflows.decoys import DECOYS  # the workflows package imports this one

    missing = sorted({str(d) for d in first.payload.get("decoys") or []} - mine)
    shown = ", ".join(DECOYS.get(d, d) for d in missing)
    return (
        f"{run.by}'s run (fact #{run.id}) was made by an inhouse older than the program's run "
        f"#{first.id}: it was not judged on {shown}, so it cannot show its tests need the "
        "model; upgrade inhouse and run the tests again"
    )


def stale_runner(ctx: CheckContext, runs: list[Fact], run: Fact) -> str | None:
    """Why the ``workflow.run`` ``run`` is from a runner older than the one judging it, for play
    3: :func:`older_runner`'s reason, or, for a run play 3's exit was not judged on (any,
    before it exits), one not judged on every decoy answer today's runner judges (no ``decoys`` at
    all, or not each of them). Whether an earlier run judged them does not matter: the runs
    before it are the author's to make with the older release the lock pins (or to type), and
    a colleague's honest run of tests any non-empty answer passes would count "as before". A
    play 3 that exited keeps the rule before for the runs its exit was judged on
    (:meth:`CheckContext.spared`), not for one recorded before it that it left out."""
    if (why := older_runner(runs, run)) is not None:
        return why
    if ctx.spared("workflow", run):
        return None
    from inhouse.workflows.decoys import DECOYS  # the workflows package imports this one

    judged = {str(d) for d in run.payload.get("decoys") or []}
    missing = [d for d in DECOYS if d not in judged]
    if not missing:
        return None
    if not judged:
        what = "it judged no decoy answers"
    else:
        what = f"it was not judged on {', '.join(DECOYS[d] for d in missing)}"
    return (
        f"{run.by}'s run (fact #{run.id}) was made by an inhouse older than this one: {what}, "
        "so it cannot show its tests need the model; upgrade inhouse and run `inhouse workflow "
        f"test {run.payload.get('workflow')}` again"
    )


def served_elsewhere(run: Fact) -> str | None:
    """Why the ``workflow.run`` ``run`` did not measure its runner's own rerun: its runtime
    answered from another host (a server someone else runs could answer anything, the checks'
    expected words included), or None. A run recorded before runs said where they were answered
    (no ``runtime_local``) counts as before. Play 3's rerun by another and play 6's confirmation
    of a workflow version both read it."""
    if run.payload.get("runtime_local") is False:
        where = run.payload.get("runtime") or "another host"
        peers = run.payload.get("runtime_peers") or []
        # the addresses the answers came from, which the runner judged (not the url's name)
        came = f" (answers from {', '.join(map(str, peers))})" if peers else ""
        return f"{run.by}'s run was answered by a runtime at {where}{came}, not on their machine"
    return None


def ran_authors_code(run: Fact) -> str | None:
    """Why a run (a ``workflow.run``, a ``trial.rerun``) is not its runner's own measure: its
    ``python`` checks ran, on the runner's ``--trust-python``, inside the runner's inhouse, or
    None. Whoever wrote the spec chose that code (and, from a checkout, wrote it): running with
    the runner's rights, it could pass any answer, or record and sign anything in the runner's
    name, so what the run says is the spec's writer's word. A run recorded before runs said so
    (no ``python_checks``) counts as before."""
    calls = [str(call) for call in run.payload.get("python_checks") or []]
    if not calls:
        return None
    return (
        f"{run.by}'s run ran Python check code its spec names ({', '.join(calls)}) inside "
        "their inhouse (--trust-python): whoever wrote the spec chose that code, which could "
        f"pass anything or sign anything in {run.by}'s name, so the run is not their own "
        "measure; a rerun by someone else counts with checks of the other types (JavaScript "
        "runs sandboxed)"
    )


def not_their_measure(run: Fact) -> str | None:
    """Why a colleague's run (a ``workflow.run``, a ``trial.rerun``) did not measure, on their
    own, what it says: answered from another host (:func:`served_elsewhere`), or judged by
    code the spec's writer chose, run in their inhouse (:func:`ran_authors_code`); else None.
    Every check that counts a run as a second person's asks it."""
    return served_elsewhere(run) or ran_authors_code(run)


def unsaid_where(run: Fact) -> str | None:
    """Why the ``workflow.run`` ``run`` does not say where it was answered, or None: it was
    recorded by an inhouse from before runs said so (no ``runtime_local``), whose runtime a
    server at another address (the author's own) could have been. Play 3's rerun by another
    asks it of a play 3 not yet exited (:func:`served_elsewhere` judges one that says)."""
    if run.payload.get("runtime_local") is not None:
        return None
    return (
        f"{run.by}'s run (fact #{run.id}) does not say where it was answered (an inhouse from "
        "before runs said so made it, and a server at another address could have answered): "
        f"update inhouse and run `inhouse workflow test {run.payload.get('workflow')}` again"
    )


def unrecorded_lock(facts: FactSet, run: Fact) -> str | None:
    """Why the ``workflow.run`` ``run`` was not on weights a lock the program recorded blessed:
    it names a lock no counted ``baseline.lock`` fact records (its runner's ``inhouse.lock``,
    rewritten or never recorded: what ``inhouse workflow test`` signed before it followed the
    recorded lock), or None. While the log records no lock, none is set aside (nothing is
    verified yet to judge by). Play 4's ``ran-workflow`` step and play 6's confirmation of a
    workflow version read it; play 3 already asks for the current lock's runs."""
    locks = {f.payload["lock_hash"] for f in facts.of("baseline.lock")}
    lock_hash = run.payload.get("lock_hash")
    if not locks or lock_hash in locks:
        return None
    return (
        f"{run.by}'s run (fact #{run.id}) was on lock {str(lock_hash)[:19]}, which the program "
        "never recorded: weights no second person verified (`inhouse baseline lock` records a "
        "lock, a second person's `inhouse baseline verify` verifies it)"
    )


def current_workflow(ctx: CheckContext) -> Fact | None:
    """The workflow play 3 is judged on: of each workflow's current version (its latest
    published spec that is the program's, :func:`adopted_version`, else its latest spec, so
    the checks can say it has none), the latest one someone other than its author passed, else
    the latest version recorded. (With several workflows, testing a second one must not hide
    the first one's evidence.)"""
    published = {spec.id for spec in published_specs(ctx.facts)}
    current: dict[str, Fact] = {}
    for spec in ctx.facts.of("workflow.spec"):
        name = str(spec.payload["workflow"])
        if name in current and current[name].id in published:
            # a version published since displaces the current one only where it is the
            # program's (exit rule 27): else anyone enrolled who runs `inhouse workflow test` on
            # an edited copy un-does play 3 for everyone
            if spec.id in published and adopted_version(ctx, spec):
                current[name] = spec
        else:
            current[name] = spec
    proven = [spec for spec in current.values() if _proven_version(ctx, spec)]
    return max(proven or current.values(), key=lambda f: f.id, default=None)


def _proven_version(ctx: CheckContext, spec: Fact) -> bool:
    """Whether someone other than ``spec``'s version's author passed it, as
    ``workflow-run-by-other`` asks. A play 3 that exited is judged on the version it exited on:
    the rule before an owner's rerun needed the author's pass beside it, and a rerun had to say
    it was answered on its runner's machine, picks the same one it did (for the runs it was
    judged on: an owner's run since, or one that does not say where it was answered, proves a
    version as in any program, and so is one recorded before the exit that it was not judged
    on)."""
    author = author_of(ctx, spec)
    if author is None:
        return False
    runs = passing_runs(ctx, spec)
    mine = author_passes(ctx, spec, author, runs)
    return any(
        second_person_apart(ctx, run, {author}, play="workflow") is None
        and (
            ctx.spared("workflow", run)
            or not (
                owner_alone(ctx, run, author, runs)
                or not_their_measure(run) is not None
                or unsaid_where(run) is not None
            )
        )
        and unpinned_build(ctx, run) is None
        # the author's own measured pass beside it, as workflow-run-by-other asks
        and not mine.blocked(ctx, run)
        for run in runs
    )


def _in_charge_at(ctx: CheckContext, person: str, seq: int) -> bool:
    """Whether ``person`` was someone a lead put in charge at event ``seq``: they held one of
    the roles that may pin the baseline (:data:`~inhouse.program.counting.LOCK_ROLES`) then, or
    owned a play started by then (as :func:`~inhouse.program.counting.pin_refusal` reads it)."""
    from inhouse.program.counting import LOCK_ROLES  # counting builds the context checks read

    if any(ctx.held_role_at(person, role, seq) for role in LOCK_ROLES):
        return True
    return any(
        owner == person and ctx.owner_since.get(play, 0) <= seq
        for play, owner in ctx.owners.items()
    )


def adopted_version(ctx: CheckContext, spec: Fact) -> bool:
    """Whether a published ``spec`` of a workflow that already has a version is the program's
    (exit rule 27, :data:`~inhouse.program.checks.VERSION_IN_CHARGE`): someone a lead put in
    charge published it (:func:`_in_charge_at`, at its event) or ran it (a run of the version
    signed while they were), or someone other than its author passed it (:func:`_proven_version`).
    A version anyone else published is theirs to try: a pilot user or a colleague who asked in,
    editing their checkout's copy and running `inhouse workflow test` (its tests failing, or
    none by anyone else), made it the version play 3 was judged on, which un-did play 3's exit
    for everyone and the reach guards held the pilot back, as a colleague's own trial verdict
    once un-did play 1's."""
    if _in_charge_at(ctx, spec.by, spec.id):
        return True
    data = spec.payload
    if any(
        run.payload.get("workflow") == data["workflow"]
        and run.payload.get("content_hash") == data.get("content_hash")
        # on the weights it names, where the run says (a run from before runs said: its version)
        and run.payload.get("model_digest") in (None, data.get("model_digest"))
        and _in_charge_at(ctx, run.by, run.id)
        for run in ctx.facts.of("workflow.run")
    ):
        return True
    return _proven_version(ctx, spec)


def author_unmeasured(ctx: CheckContext, run: Fact) -> str | None:
    """Why the author's passing ``run`` of their version did not measure it on their own
    machine (answered by a runtime elsewhere, judged by Python check code run in their inhouse,
    or run by an inhouse from a folder or URL outside a demo), or None when it did. Whoever
    asked the author to run it that way (the writer, who handed them a checkout or a build)
    chose what it says, so it is no pass of the author's to stand beside another's. Rule 4's
    reading: today's asks :func:`author_unanswered` too."""
    return not_their_measure(run) or unpinned_build(ctx, run)


def author_unanswered(ctx: CheckContext, run: Fact) -> str | None:
    """:func:`author_unmeasured`, or why the author's passing ``run`` measured nothing of the
    workflow: outside a demo, the project's test model (random weights) answered it
    (:func:`on_test_model`), or no case it passed needed the model (:func:`hollow_tests`: the
    model's answers failed every case a decoy fails, and a low pass rate let the rest pass it).
    The writer who asks a colleague for "a smoke test of the plumbing" while the lock of the
    day blesses the test model (or weights that answer nothing right) makes them the version's
    author on a pass that measured nothing, and the writer's own pass on the real weights
    "someone else's" (:data:`~inhouse.program.checks.AUTHOR_REAL_MODEL`). Nor does a pass by
    an inhouse too old to say whether the test model answered it (:func:`unsaid_model`): a
    colleague asked to run the smoke test with such a release measured nothing either, as far
    as the log can tell."""
    return (
        author_unmeasured(ctx, run)
        or on_test_model(ctx, run)
        or unsaid_model(ctx, run)
        or hollow_tests(run)
    )


def unsaid_model(ctx: CheckContext, run: Fact) -> str | None:
    """Why the author's passing ``run`` cannot stand beside another's, outside a demo: its
    runner was an inhouse too old to record whether the project's test model answered it (no
    ``test_model``) or where it was answered (no ``runtime_local``), or None.
    Rule 14's reading only (:func:`author_unanswered`): the author's pass on such a release
    could be a smoke test on random weights, or on the writer's server, and would make the
    writer's own pass "someone else's". An honest author who ran it with an older release runs
    the version once more with this one."""
    unsaid = [
        what
        for field, what in (
            ("runtime_local", "where it was answered"),
            ("test_model", "whether the project's test model answered it"),
        )
        if run.payload.get(field) is None
    ]
    if ctx.demo or not unsaid:
        return None
    return (
        f"{run.by}'s run (fact #{run.id}) was made by an inhouse too old to say "
        f"{' or '.join(unsaid)}, so it cannot show the author measured the version; "
        f"upgrade inhouse and run `inhouse workflow test {run.payload.get('workflow')}` again"
    )


@dataclass(frozen=True)
class AuthorPasses:
    """A workflow version's author's own runs of it, as play 3's rerun by another weighs
    them (:func:`author_passes`)."""

    #: the author's passing runs of the version, on any lock
    passes: list[Fact]
    #: why each of ``passes`` measured nothing on the author's machine (those that did not)
    unmeasured: list[str]
    #: the rule before AUTHOR_MEASURED: the author's runs all failed and none of ``runs`` is theirs
    blocks_before: bool
    #: today's: no pass of the author's among ``runs`` measured it, where their runs all failed
    #: or none of their passes measured anything
    blocks: bool
    #: the rule before AUTHOR_REAL_MODEL: ``blocks``, with a pass the test model answered
    #: counted as measured
    blocks_on_any_model: bool = False

    def blocked(self, ctx: CheckContext, run: Fact) -> bool:
        """Whether another's passing ``run`` needs the author's own pass beside it, and has
        none (by the rule before AUTHOR_MEASURED, or before AUTHOR_REAL_MODEL, for a run a
        play 3 exited on under it; and by the latter for a run on the test model a play 3
        exited on, which took the test model's answers for the version's)."""
        if ctx.spared("workflow", run, rule=AUTHOR_MEASURED):
            return self.blocks_before
        if ctx.spared("workflow", run, rule=AUTHOR_REAL_MODEL) or (
            run.payload.get("test_model") and ctx.spared("workflow", run)
        ):
            return self.blocks_on_any_model
        return self.blocks

    @property
    def none_measured(self) -> bool:
        return bool(self.passes) and len(self.unmeasured) == len(self.passes)


def author_passes(ctx: CheckContext, spec: Fact, author: str, runs: list[Fact]) -> AuthorPasses:
    """How ``author``'s own runs of ``spec``'s version stand beside another's passing run
    among ``runs`` (its passing runs on the current lock). The author is whoever first
    recorded the version, and the runner records it for whoever runs it first, pass or fail:
    a colleague whose first run failed became the author, and the real author's own pass
    "someone else's". Where the author's own runs of it all failed, their pass must stand
    beside the other's (the rule before AUTHOR_MEASURED, kept for the runs a play 3 exited
    on). Nor does a first pass that measured nothing on its runner's machine make its runner
    the author: a colleague asked to run the writer's checkout once, its runtime the writer's
    server (or with the writer's build), passes without a model of their own, and the
    writer's own pass becomes "someone else's". So the author's own pass, measured on their
    machine by the release, stands beside it. Play 3's check and the version it is judged on
    (:func:`current_workflow`) both ask it."""
    authored = [
        f for f in ctx.facts.of("workflow.run")
        if f.by == author
        and f.payload["workflow"] == spec.payload["workflow"]
        and f.payload["content_hash"] == spec.payload["content_hash"]
    ]  # fmt: skip
    failing = any(not f.payload["passed"] for f in authored)
    passes = [f for f in authored if f.payload["passed"]]

    def blocks(unmeasured: Callable[[CheckContext, Fact], str | None]) -> bool:
        measured = [f for f in passes if unmeasured(ctx, f) is None]
        return (failing or (bool(passes) and not measured)) and not any(
            run.by == author and unmeasured(ctx, run) is None for run in runs
        )

    return AuthorPasses(
        passes=passes,
        unmeasured=[why for f in passes if (why := author_unanswered(ctx, f))],
        blocks_before=failing and not any(run.by == author for run in runs),
        blocks=blocks(author_unanswered),
        blocks_on_any_model=blocks(author_unmeasured),
    )


def owner_alone(ctx: CheckContext, run: Fact, author: str, runs: list[Fact]) -> bool:
    """Whether ``run``, a passing run of a workflow version by someone other than its
    ``author``, is play 3's owner's with no pass of the author's beside it among ``runs`` (the
    version's passing runs on the current lock) that is a rerun by another of the owner's: the
    author's, from a machine the owner did not enrol from, answered on the author's machine by
    a run that says so. Play 3 judges its owner: a colleague who ran the version first (on an
    earlier lock, or on a stale install that did not say where it was answered, with the
    owner's server answering) is its author, and the owner's own pass is then "someone
    else's", though nobody but the owner measured it."""
    owner = ctx.owners.get("workflow")
    return run.by == owner and not any(
        r.by == author
        and r.payload.get("runtime_local") is True
        and other_person_elsewhere(ctx, r, {owner}, play="workflow") is None
        for r in runs
    )


def early_owners(ctx: CheckContext) -> set[str]:
    return {owner for play, owner in ctx.owners.items() if play in {"prove-value", "baseline"}}


#: the component kinds a ticket may name: ``baseline``, ``gateway``, or ``KIND:NAME``
COMPONENT_KINDS = ("baseline", "gateway", "workflow", "prompt", "model")
#: the plays whose owners set the gateway up (with whoever locked the baseline it serves)
GATEWAY_PLAYS = frozenset({"prove-value", "baseline", "workflow"})


def parse_component(component: str) -> tuple[str, str]:
    """``(kind, name)`` of a ticket's component: ``baseline`` and ``gateway`` stand alone,
    ``workflow:NAME``, ``prompt:NAME`` and ``model:NAME`` name one; anything else is
    ``("", component)`` (no rule derives its builders)."""
    kind, sep, name = component.partition(":")
    if kind in ("baseline", "gateway") and not sep:
        return kind, ""
    if kind in ("workflow", "prompt", "model") and sep and name:
        return kind, name
    return "", component


def component_builders(
    facts: Iterable[Fact], owners: Mapping[str, str], component: str
) -> set[str]:
    """Who built ``component``, from the log, never typed by whoever records a ticket: the
    SIGNERS of the facts that made it (``facts``: the ones that count, or every one signed by a
    moment the builders are read at, :func:`builders_of`).

    - ``baseline``: who signed a ``baseline.lock`` or a ``baseline.install_script``;
    - ``workflow:NAME``: who signed a ``workflow.spec`` of NAME (its publishers);
    - ``prompt:NAME``: who signed a ``prompt.version`` of NAME (its authors);
    - ``model:NAME``: who signed a ``baseline.lock`` that pins NAME;
    - ``gateway``: who configured it. Granting gateway keys is an event, not a fact, so this
      reads the owners of plays 1-3 and whoever signed a ``baseline.lock`` (the models it
      serves and the pinning it enforces come from the lock).
    """
    kind, name = parse_component(component)
    found: set[str] = set()
    if kind == "gateway":
        found |= {owner for play, owner in owners.items() if play in GATEWAY_PLAYS}
    for fact in facts:
        if _built(fact, kind, name):
            found.add(fact.by)
    return found


def builders_of(
    ctx: CheckContext, component: str, *, every_enroller: bool = True, at: int | None = None
) -> set[str]:
    """:func:`component_builders` of ``component`` in ``ctx``; for the gateway, also whoever
    enrolled one of its service keys, revoked ones included (the lead who runs it and issues
    its keys is no outsider to it: a host rebuilt, or a replica, enrolled by a second lead
    makes them one of its builders as much as the lead who enrolled its first key).
    ``every_enroller`` False: the rule before, only the lead who enrolled its first key (for a
    resolution a play 5 exit was judged on).

    ``at``: the builders as the log stood at event ``at`` (a ticket's resolution): who had
    signed a fact that made the component by then, whether or not it counts now, and who owned
    plays 1-3 by then. A fact that stops counting later (its key never signed in once the
    organisation's sign-in came, a later rule) does not unmake its signer a builder for a
    resolution made while it stood, and one who built it only afterwards was no builder of what
    that resolution fixed. (A gateway's enrollers are every lead who ever enrolled one of its
    keys, revoked ones included: none drops out.)"""
    if at is None:
        found = component_builders(ctx.facts, ctx.owners, component)
    else:
        signed = [f for f in ctx.facts if f.id <= at]
        signed += [u.fact for u in ctx.uncounted_of(BUILT_KINDS) if u.fact.id <= at]
        owners = {p: o for p, o in ctx.owners.items() if ctx.owner_since.get(p, 0) <= at}
        found = component_builders(signed, owners, component)
    if parse_component(component)[0] == "gateway":
        from inhouse.usage.authentic import GATEWAY_SERVICE

        service = ctx.people.get(GATEWAY_SERVICE)
        first = ctx.invited_by.get(GATEWAY_SERVICE)
        enrollers = (
            set(ctx.enrolled_by.get(GATEWAY_SERVICE, frozenset())) if every_enroller else set()
        )
        if service is not None and service.service:
            found |= enrollers | ({first} if first else set())
    return found


#: the kinds of fact whose signer builds a component (:func:`_built`)
BUILT_KINDS = ("baseline.lock", "baseline.install_script", "workflow.spec", "prompt.version")


def _built(fact: Fact, kind: str, name: str) -> bool:
    """Whether signing ``fact`` makes its signer a builder of the component ``kind:name``."""
    payload = fact.payload
    if fact.kind == "baseline.lock":
        pins = {str(model.get("name")) for model in payload.get("models", [])}
        return kind in ("baseline", "gateway") or (kind == "model" and name in pins)
    if fact.kind == "baseline.install_script":
        return kind == "baseline"
    if fact.kind == "workflow.spec":
        return kind == "workflow" and payload.get("workflow") == name
    if fact.kind == "prompt.version":
        return kind == "prompt" and payload.get("prompt") == name
    return False


#: the collector of a ticket's steps taken here (the actor is the signer) and of steps
#: imported from where the team keeps tickets (the actor is the payload's, mapped there)
NATIVE_TICKETS = "inhouse support"
IMPORTED_TICKETS = "inhouse support import"
TICKET_KINDS = (
    "ticket.opened",
    "ticket.assigned",
    "ticket.commented",
    "ticket.resolved",
    "ticket.reopened",
    "ticket.confirmed",
    "ticket.disputed",
    "ticket.fixed",
)
#: the steps only their signer takes, never an import: the person an import named says whether
#: the imported steps in their name are theirs; the opener says whether the fix fixed it
OWN_WORD_KINDS = frozenset({"confirmed", "disputed", "fixed"})
#: the imported steps that name someone's act the check relies on, so they confirm them
CONFIRMABLE_KINDS = ("opened", "resolved")
#: who may vouch for an import's mapping of outside accounts to enrolled people
IMPORTERS = frozenset({"rollout-lead", "support-owner"})


@dataclass(frozen=True)
class TicketStep:
    """One step of a ticket: what happened, who did it, when, and the fact that says so."""

    kind: str  # opened, assigned, commented, resolved, reopened, confirmed, disputed, fixed
    actor: str  # the signer (native) or the mapped person (imported); "" when unmapped
    at: datetime
    fact: Fact
    text: str = ""  # the comment, resolution note, reopen reason, or why it is disputed
    to: str | None = None  # assigned: the assignee
    #: confirmed, disputed: the imported steps' fact ids it speaks for, and the ``ticket.opened``
    #: the ticket's content stood on then; fixed: the resolution's fact id
    covers: tuple[int, ...] = ()
    stated: int | None = None


@dataclass
class Ticket:
    """A ticket as its steps make it, oldest first."""

    id: str
    title: str
    category: str
    component: str
    description: str
    external: str | None
    opened: TicketStep
    state: str = "open"  # open or resolved
    #: the ``ticket.opened`` fact its title, category and component stand on now: the opening,
    #: or a later import that changed them (a confirmation given before a change vouches for
    #: what was there then, not for the ticket it became)
    stated: Fact | None = None
    assignee: str | None = None
    steps: list[TicketStep] = field(default_factory=list)
    #: every ``ticket.opened`` its content stood on, oldest first: the opening, then each import
    #: that changed it (what a confirmation's ``stated`` names)
    statements: list[Fact] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        """Whether an import brought it in (its opening is imported, with its link): only such
        a ticket takes imported steps; one opened here is its opener's, whatever it links to."""
        return self.opened.fact.collector == IMPORTED_TICKETS and self.external is not None

    def of(self, kind: str) -> list[TicketStep]:
        return [step for step in self.steps if step.kind == kind]

    @property
    def resolution(self) -> TicketStep | None:
        """The resolution it stands on now (None while open)."""
        done = self.of("resolved")
        return done[-1] if self.state == "resolved" and done else None

    def reopened_after(self) -> list[tuple[TicketStep, TicketStep]]:
        """Each resolution that was reopened, with the reopening."""
        pairs, last = [], None
        for step in self.steps:
            if step.kind == "resolved":
                last = step
            elif step.kind == "reopened" and last is not None:
                pairs.append((last, step))
                last = None
        return pairs

    def fix_confirmed(self) -> TicketStep | None:
        """The opener's confirmation, with their own key (``inhouse support confirm-fix``), that
        the resolution it stands on now fixed the problem they hit, or None. Only the opener's
        own signed step counts: never a dashboard session's (its host holds the session key),
        an import's, anyone's on their behalf, nor one given for an earlier resolution."""
        resolution = self.resolution
        if resolution is None:
            return None
        return next(
            (
                s
                for s in self.of("fixed")
                if s.actor == self.opened.actor
                and s.actor
                and resolution.fact.id in s.covers
                and s.fact.id > resolution.fact.id
                and not s.fact.session
                and not s.fact.on_behalf_of
            ),
            None,
        )

    def touched_by(self) -> set[str]:
        """Everyone who commented on it, was assigned it or resolved it."""
        found = {s.actor for s in self.steps if s.kind in ("commented", "resolved")}
        return (found | {s.to or "" for s in self.of("assigned")}) - {""}

    def imported_in_name_of(self, person: str) -> list[TicketStep]:
        """The openings and resolutions in ``person``'s name that are someone else's word until
        they confirm them with their own key: imported ones, and ones a dashboard session
        signed (:func:`word_of_another`)."""
        return [
            s
            for s in self.steps
            if s.kind in CONFIRMABLE_KINDS
            and word_of_another(s.fact)
            and person
            and s.actor == person
        ]

    def disputed(self, person: str, step: Fact) -> TicketStep | None:
        """``person``'s dispute of the imported ``step`` ("this is not mine"), or None. A
        disputed step never counts, whatever else they say of it."""
        return next(
            (
                s
                for s in self.of("disputed")
                if s.actor == person and step.id in s.covers and s.fact.id > step.id
            ),
            None,
        )

    def confirmed(self, person: str, step: Fact) -> bool:
        """Whether ``person`` confirmed the imported ``step`` that names them with their own
        key (``inhouse support confirm``): a confirmation that names it, recorded after it and
        not disputed, given for the ticket as it stands now, after the last import that changed
        it. A comment confirms nothing ("I never fixed this" is a comment too), nor does a
        confirmation of other steps: a later import is not covered."""
        if self.disputed(person, step) is not None:
            return False
        stated = self.stated.id if self.stated is not None else None
        return any(
            s.actor == person
            and step.id in s.covers
            and s.fact.id > step.id
            and (stated is None or (s.stated == stated and s.fact.id > stated))
            for s in self.of("confirmed")
        )

    def confirmed_as(self, person: str, step: Fact) -> Fact | None:
        """The ``ticket.opened`` (title, category, component) for which ``person`` last
        confirmed the imported ``step`` that names them: their latest confirmation naming it,
        recorded after it and after the opening it was given for (its ``stated``, one this
        ticket stood on; without one, from before confirmations named it, what the ticket stood
        on then). None when they never confirmed it, or disputed it. An import that changes the
        ticket later does not change what they confirmed."""
        if self.disputed(person, step) is not None:
            return None
        stood = {fact.id: fact for fact in self.statements}
        for s in reversed(self.of("confirmed")):
            if s.actor != person or step.id not in s.covers or s.fact.id <= step.id:
                continue
            if s.stated is None:
                then = [fact for fact in self.statements if fact.id < s.fact.id]
                if then:
                    return then[-1]
            elif s.stated in stood and s.fact.id > s.stated:
                return stood[s.stated]
        return None


def word_of_another(step: Fact) -> bool:
    """Whether a ticket ``step`` in someone's name is another's word until they confirm it:
    an import's (its runner mapped the name), or a dashboard session's (the dashboard's host
    holds the session key of everyone signed in, and could open or resolve a ticket in their
    name during their session)."""
    return step.collector == IMPORTED_TICKETS or step.session


#: whether a person held a role at an event: ``CheckContext.held_role_at``
HeldAt = Callable[[str, str, int], bool]


def ticket_actor(fact: Fact, people: Mapping[str, Person], held_at: HeldAt) -> str | None:
    """Who took a ticket step: its signer when taken here; for an imported step, the person the
    import mapped (``actor``), when a rollout lead or the support owner ran the import (they
    vouch for the mapping; "" when it mapped nobody). None: the step does not count. The
    importer's roles are those they held when they imported (``held_at``): a support owner who
    hands the queue on (or a lead who takes their role away) does not take back what they
    brought in."""
    if fact.collector == NATIVE_TICKETS:
        return fact.by
    if fact.collector == IMPORTED_TICKETS:
        if fact.by not in people:
            return None
        importer = any(held_at(fact.by, role, fact.id) for role in IMPORTERS)
        return str(fact.payload.get("actor") or "") if importer else None
    return None


def step_time(fact: Fact) -> datetime:
    """When a ticket step happened: for an imported one, when it did at the source (``at``),
    so reopen windows and times to resolve are the source's; else when it was recorded."""
    at = fact.payload.get("at") if fact.collector == IMPORTED_TICKETS else None
    if not at:
        return fact.at
    try:
        when = datetime.fromisoformat(str(at))
    except ValueError:
        return fact.at
    when = when if when.tzinfo else when.replace(tzinfo=fact.at.tzinfo)
    return min(when, fact.at)  # nothing happened at the source after it was brought in


def held_for(resolved: TicketStep, reopened: TicketStep) -> timedelta:
    """How long a resolution held before it was reopened. Both steps imported: by the source's
    times. Otherwise by this log's clock, the resolution at the time it was recorded here at
    the latest: an imported step's source time is its importer's word, and a resolution dated
    back would put a reopening recorded here outside the reopen window."""
    if resolved.fact.collector == IMPORTED_TICKETS and reopened.fact.collector == IMPORTED_TICKETS:
        return reopened.at - resolved.at
    return reopened.at - max(resolved.at, resolved.fact.at)


def fold_tickets(
    facts: Iterable[Fact], people: Mapping[str, Person], held_at: HeldAt
) -> dict[str, Ticket]:
    """The support queue's tickets from the ``ticket.*`` facts that count, oldest first (an
    import's steps by its runner's roles then: :func:`ticket_actor`).

    A ticket opened here keeps the id its opener was given (``T-N``, the next number then);
    when two people took the same number at once, the later one's id is ``T-SEQ``, its event's
    sequence number (never a number already given: a ``T-N`` is given at or before event N). An
    imported ticket keeps its import's id; opening it again updates it. An imported step applies
    only to an imported ticket (one an import opened, with its ``external`` link). A step on an
    unknown ticket, a resolution of a resolved one or a reopening of an open one changes
    nothing."""
    found: dict[str, Ticket] = {}
    for fact in facts:
        if fact.kind not in TICKET_KINDS:
            continue
        actor = ticket_actor(fact, people, held_at)
        if actor is None:
            continue
        payload = fact.payload
        ticket_id = str(payload["ticket"])
        if fact.kind == "ticket.opened":
            _opened(found, fact, actor, ticket_id)
            continue
        ticket = found.get(ticket_id)
        if ticket is None or (fact.collector == IMPORTED_TICKETS and not ticket.imported):
            continue  # an import speaks for tickets it brought in, never for one opened here
        kind = fact.kind.removeprefix("ticket.")
        if kind in OWN_WORD_KINDS and fact.collector != NATIVE_TICKETS:
            continue  # a confirmation is its signer's own word: an import's is its runner's
        text = str(payload.get("note") or payload.get("text") or "")
        # a step written here is never before the ticket's step it follows in the log: its
        # writer's clock set back would put a reopening outside its window, or a resolution
        # before the question (an import's steps keep their source's times, in any order)
        when = step_time(fact)
        if fact.collector != IMPORTED_TICKETS:
            when = max(when, ticket.steps[-1].at)
        covers = tuple(int(i) for i in payload.get("steps") or ())
        if kind == "fixed":
            covers = (int(payload["resolution"]),)
        stated = payload.get("stated")
        step = TicketStep(kind, actor, when, fact, text, payload.get("to"), covers,
                          None if stated is None else int(stated))  # fmt: skip
        if kind == "resolved" and ticket.state == "resolved":
            continue
        if kind == "reopened" and ticket.state == "open":
            continue
        if kind == "resolved":
            ticket.state = "resolved"
        elif kind == "reopened":
            ticket.state = "open"
        elif kind == "assigned":
            ticket.assignee = step.to
        ticket.steps.append(step)
    return found


def _opened(found: dict[str, Ticket], fact: Fact, actor: str, ticket_id: str) -> None:
    payload = fact.payload
    existing = found.get(ticket_id)
    imported = fact.collector == IMPORTED_TICKETS
    # an import updates only a ticket it brought in, by the same link: never one opened here
    # (an import with no link would rewrite a colleague's ticket into another component's, and
    # so would one naming the link its opener typed into it)
    external = payload.get("external")
    if existing is not None and imported and existing.imported and existing.external == external:
        content = (
            str(payload["title"]),
            str(payload["category"]),
            str(payload["component"]),
            str(payload.get("description") or ""),
        )
        before = (existing.title, existing.category, existing.component, existing.description)
        if content != before:
            existing.title, existing.category, existing.component, existing.description = content
            existing.stated = fact
            existing.statements.append(fact)
        return
    if existing is not None:
        ticket_id = f"T-{fact.id}"
    text = str(payload.get("description") or "")
    step = TicketStep("opened", actor, step_time(fact), fact, text)
    found[ticket_id] = Ticket(
        id=ticket_id,
        title=str(payload["title"]),
        category=str(payload["category"]),
        component=str(payload["component"]),
        description=str(payload.get("description") or ""),
        external=payload.get("external"),
        opened=step,
        steps=[step],
        stated=fact,
        statements=[fact],
    )


def ever_held(ctx: CheckContext, role: str) -> set[str]:
    """Whoever holds ``role`` now or held it once: a lead who steps down (or whose role another
    lead takes away) is still not demand for what they led."""
    now = {p.name for p in ctx.having_role(role)}
    return now | {name for name, roles in ctx.roles_held.items() if role in roles}


def not_apart_from_leads(ctx: CheckContext) -> Callable[[str], str | None]:
    """Why a person is not someone other than the rollout leads (any who ever held the role),
    or None where they are: one of them, or not enrolled from a machine of their own (one a
    lead enrolled from first, or the gateway's host once a lead enrolled its key there: whoever
    runs it holds the key files made there, and seals its usage rows), or not told apart by
    the organisation's sign-in. A lead's own use of a gateway she runs is her word alone that
    the tool is used; the reason says which, as a co-lead who never signed in is fixed
    otherwise than a name on her laptop."""
    leads = ever_held(ctx, "rollout-lead")
    hosts = services_enrolled_by(ctx, leads)

    @functools.cache
    def why(person: str) -> str | None:
        if person in leads:
            return f"{person} is or was a rollout lead"
        return _told_apart(ctx, person, leads, hosts)

    return why


def _told_apart(ctx: CheckContext, person: str, leads: set[str], hosts: set[Host]) -> str | None:
    """Why ``person`` (none of ``leads``) is not told apart from ``leads`` by their machines
    (``hosts``: the services' hosts the leads enrolled on) and the sign-in, or None."""
    if enrolled_elsewhere(ctx, person, leads, services=hosts):
        return None
    if unsigned := unsigned_apart(ctx, person, leads):
        return unsigned
    return (
        f"{person}'s keys were all enrolled from a machine a rollout lead enrolled from "
        "first, or from the gateway's host after a lead enrolled its key there"
    )


class RunsApart:
    """The workflow runs the gateway's key signed of one day and person that count as someone
    other than the rollout leads' (play 6's work changed, ``inhouse indicators report``: one
    reading for both). Under exit rule
    :data:`~inhouse.program.checks.LEAD_RUNS_THEN` a run is a lead's where its runner had been
    a rollout lead by the time it was signed: the runs of a day the log held for them before
    their first grant of the role (the day as the ``usage.daily`` facts recorded before that
    grant read it, never more than it reads now) are someone's other than a lead's; any the
    gateway signed for them after it (their day re-signed with more, their later days) are a
    lead's, stepping down since included. The role's time is its place in the log, as rules 17
    and 20 read it, never its writer's clock: a lead who set her clock back a year to grant the
    role, or forward to have it granted, moves nothing. ``old``: rule 23's reading (anyone who
    ever held the role), for a report a play 6 exit was judged on under it."""

    def __init__(self, ctx: CheckContext, *, old: bool = False) -> None:
        self.ctx = ctx
        self.old = old
        self.not_apart = not_apart_from_leads(ctx)
        self.leads = ever_held(ctx, "rollout-lead")
        self._usage: list[Fact] | None = None
        self._then: dict[tuple[int, str], dict[str, Any]] = {}
        self._apart: dict[str, str | None] = {}

    def why(self, person: str) -> str | None:
        """Why none of ``person``'s runs count (rule 23's reason), or None where some may."""
        return self.not_apart(person)

    def first_lead(self, person: str) -> int | None:
        """The event at which ``person`` first held the rollout lead's role: 0 where they hold
        it with no grant the context knows of (held all along), None where they never did."""
        if person not in self.leads:
            return None
        return self.ctx.role_since.get(person, {}).get("rollout-lead") or 0

    def runs(self, person: str, day: str, ran: Mapping[str, int]) -> dict[str, int]:
        """Those of ``ran`` (``person``'s runs of ISO ``day`` as the gateway signed them, per
        workflow) that count as someone other than the rollout leads'."""
        first = None if self.old else self.first_lead(person)
        if first is None:
            return dict(ran) if self.not_apart(person) is None else {}
        # a lead by now: told apart by their machines and sign-in from the other leads
        if self._other_leads(person):
            return {}
        then = self._before(first, day).get(person)
        if not then:
            return {}
        from inhouse.program.lagging_words import signed_runs

        before = signed_runs(then)
        return {
            name: n for name, count in ran.items() if (n := min(count, before.get(name, 0))) > 0
        }

    def used_before(self, person: str, first: str, last: str) -> bool:
        """Whether ``person``, a rollout lead by now (told apart from the other leads by their
        machines and sign-in), had answered requests from ISO ``first`` to ``last`` that the
        log held before they first held the role: someone other than the leads used the tool
        then."""
        lead = None if self.old else self.first_lead(person)
        if lead is None or self._other_leads(person):
            return False
        earlier = (f for f in self._facts() if f.id < lead)
        return any(
            int((people.get(person) or {}).get("requests", 0)) > 0
            for people, _ in latest_usage(earlier, first, last).values()
        )

    def _other_leads(self, person: str) -> str | None:
        """Why ``person`` is not told apart from the other leads (those but them), or None."""
        if person not in self._apart:
            others = self.leads - {person}
            hosts = services_enrolled_by(self.ctx, others)
            self._apart[person] = _told_apart(self.ctx, person, others, hosts)
        return self._apart[person]

    def _facts(self) -> list[Fact]:
        if self._usage is None:
            self._usage = list(self.ctx.facts.of("usage.daily"))
        return self._usage

    def _before(self, seq: int, day: str) -> dict[str, Any]:
        """Each person's totals of ISO ``day`` as the facts recorded before event ``seq``
        read it."""
        key = (seq, day)
        if key not in self._then:
            earlier = (f for f in self._facts() if f.id < seq)
            self._then[key] = latest_usage(earlier, day, day).get(day, ({}, []))[0]
        return self._then[key]


def held_by(ctx: CheckContext, role: str, seq: int) -> set[str]:
    """Whoever held ``role`` at event ``seq`` or before it (taken away since included): what
    someone did before a role was first granted to them stays what they did without it. A
    holder the context has no first grant for (one built without the history) counts as
    having held it all along."""
    since = ctx.role_since
    return {
        name for name in ever_held(ctx, role)
        if (first := since.get(name, {}).get(role)) is None or first <= seq
    }  # fmt: skip


def insiders(ctx: CheckContext) -> set[str]:
    """Everyone who is or ever was inside the program: whoever holds or once held any role in
    it (pilot users, owners, leads, champions, support), was ever added to the pilot or let into
    it by a gateway key, or owns a started play. Anyone else is "beyond the pilot". Inside once
    is inside for good: a lead who takes a pilot member's role away does not make their
    requests or use someone new's."""
    held = {p.name for p in ctx.people.values() if p.roles}
    held |= {name for name, roles in ctx.roles_held.items() if roles}
    added = {str(f.payload["person"]) for f in ctx.facts.of("pilot.member")}
    return held | added | ctx.let_in | set(ctx.owners.values())


def inside_before(ctx: CheckContext, people: Iterable[str]) -> dict[str, str]:
    """Those of ``people`` who are insiders by their past alone (no role now, no play owned),
    each with why: the roles they held, or that they were added to or let into the pilot."""
    now = {p.name for p in ctx.people.values() if p.roles} | set(ctx.owners.values())
    added = {str(f.payload["person"]) for f in ctx.facts.of("pilot.member")}
    found: dict[str, str] = {}
    for name in sorted(set(people) - now):
        held = sorted(ctx.roles_held.get(name, frozenset()))
        if held:
            found[name] = f"{name} held {', '.join(held)} before"
        elif name in added:
            found[name] = f"{name} was added to the pilot before"
        elif name in ctx.let_in:
            found[name] = f"{name} was let into the pilot by a gateway key before"
    return found


def names(people: list[str]) -> str:
    return ", ".join(sorted(people)) if people else "nobody"
