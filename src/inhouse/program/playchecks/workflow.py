"""Play 3, the first repeatable workflow: named task, pinned model, tests, a run by another.

A workflow may compare several prompt variants; a run's ``passed`` and ``pass_rate`` are those
of the variant the spec names as the one people use (``use:``), so these checks judge that
variant, and say which it was. Naming another variant is a new version of the spec."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import lru_cache
from typing import Any

from inhouse.figures import share
from inhouse.program.checks import (
    PROVEN_WEIGHTS,
    WORKFLOW_ATTEMPT_SEEDS,
    WORKFLOW_FRESH_SEED,
    WORKFLOW_TEXTLESS_REPEAT,
    CheckContext,
    Outcome,
    Result,
    evaluate,
    failed,
    passed,
    register_check,
)
from inhouse.program.facts import Fact
from inhouse.program.playchecks._shared import (
    author_of,
    author_passes,
    current_lock,
    current_workflow,
    ever_held,
    first_publisher,
    given,
    hollow_tests,
    invited_by_judged,
    kept_from_before,
    names,
    not_their_measure,
    on_test_model,
    owner_alone,
    passing_runs,
    published_specs,
    recurrence_problem,
    run_judged_earlier,
    second_person_apart,
    stale_runner,
    test_model_label,
    unpinned_build,
    unsaid_where,
)
from inhouse.program.playchecks.baseline import reproduced

__all__: list[str] = []  # nothing to import: the checks are reached through the registry

_WORKFLOW = "workflow"


# -- play 3: workflow ------------------------------------------------------------------------------


@register_check("recurring-task-named", reads=("task.named",))
def recurring_task_named(ctx: CheckContext) -> Result:
    """A recurring task is named, with how often it happens: a frequency that says a
    recurrence (daily, 3/week, every 2 weeks, …), never "once" or "ad hoc". How often it really
    happens is its namer's word, and the pass says whose."""
    named = ctx.facts.of("task.named")
    if not named:
        return failed(
            "no recurring task named: write its workflow spec (owner, frequency) and run "
            "`inhouse workflow validate NAME`"
        )
    recurring = [f for f in named if recurrence_problem(str(f.payload["frequency"])) is None]
    if not recurring:
        latest = named[-1]
        why = recurrence_problem(str(latest.payload["frequency"]))
        if "workflow" in ctx.owners:
            # play 3 started on this trigger under the rule before: the start stands
            return passed(
                f"{latest.payload['task']} ({latest.payload['frequency']}), named by "
                f"{latest.by}; play 3 started before a frequency had to say a recurrence "
                f"(now {why})",
                latest,
            )
        return failed(f"the task {latest.payload['task']!r} is named, but {why}", latest)
    fact = recurring[-1]
    return passed(
        f"{fact.payload['task']} ({fact.payload['frequency']}), named by {fact.by} (how often "
        "it happens is their word)",
        fact,
    )


#: a workflow exists for the checks once its first `workflow test` publishes it: a newcomer
#: whose workflows/NAME.yaml was written (and validated) read "no workflow defined"
_NONE_PUBLISHED = (
    "no workflow published yet: write workflows/NAME.yaml and run `inhouse workflow test NAME` "
    "(its first run publishes it)"
)


@register_check(
    "workflow-pinned",
    reads=("workflow.spec", "workflow.run", "baseline.lock", "trial.verdict", "trial.rerun"),
)
@given(current_workflow, _NONE_PUBLISHED)
def workflow_pinned(ctx: CheckContext, spec: Fact) -> Result:
    """The current workflow's model is a blessed model of the current lock, by digest, and
    weights play 1's trial proved: a proven verdict names them, and someone other than its
    author reproduced it (play 2's rerun; where play 2 asks none, the verdict alone). The lock
    may bless a second model nobody tried head to head, which the workflow may not run on
    (its judge may). Where no proven verdict names any weights, nothing ties the workflow to
    them; a play 3 that exited before this rule keeps its exit on the version it was judged
    on. The weights are what the version's passing runs on the current lock pinned, where one
    ran on other weights than its spec names: a spec's are its signer's word (a play 3 that
    exited on such a spec keeps it)."""
    lock = current_lock(ctx)
    if lock is None:
        return failed("no baseline lock to pin the workflow's model against", spec)
    digests = {str(m["digest"]) for m in lock.payload["models"]}
    workflow, model = spec.payload["workflow"], spec.payload["model"]
    digest = str(spec.payload["model_digest"])
    ran = None if ctx.spared(_WORKFLOW, spec) else _ran_otherwise(ctx, spec)
    said, shown = "", [spec]
    if ran is not None:
        # the spec's weights are its signer's word: the version runs on what its runs pinned
        run, model, digest = ran
        said = (
            f"workflow {workflow}'s spec (fact #{spec.id}, by {spec.by}) names "
            f"{spec.payload['model']} ({str(spec.payload['model_digest'])[:19]}), but "
            f"{run.by}'s run of it (fact #{run.id}) ran on {model} ({digest[:19]}), what the "
            "version's file names (a spec's weights are its signer's word, a run's what its "
            "runner pinned from the lock): "
        )
        shown.append(run)
    if digest not in digests:
        return failed(
            f"{said}workflow {workflow} uses {model} ({digest[:19]}), not a blessed model of the "
            "current lock",
            *shown,
            lock,
        )
    unproven = _unproven(ctx, digest, model)
    if unproven is None:
        return passed(
            f"workflow {workflow} pinned to {model}{_proven_by(ctx, digest)}", *shown, lock
        )
    why, evidence = unproven
    if said:
        return failed(f"{said}{why}", *shown, lock, *evidence)
    if ctx.spared(_WORKFLOW, spec, rule=PROVEN_WEIGHTS):
        return passed(
            f"workflow {workflow} pinned to {model}; play 3 exited before a workflow's model "
            f"had to be weights a trial proved (today: {why})",
            spec,
            lock,
        )
    return failed(f"workflow {workflow} runs on {model} ({digest[:19]}): {why}", spec, lock,
                  *evidence)  # fmt: skip


def _ran_otherwise(ctx: CheckContext, spec: Fact) -> tuple[Fact, str, str] | None:
    """A passing run of ``spec``'s version on the current lock (one that counts for play 3)
    that pinned other weights than the spec names, with the model and digest it pinned; None
    where none did. A run says what it pinned (``model_digest``). One from before runs said is
    read by the spec it ran under, which its runner compared its own weights with: the spec it
    names (recorded with it, the weights differing from the latest), else the workflow's latest
    published spec before it, where that is of its version."""
    name = spec.payload["workflow"]
    published = [f for f in published_specs(ctx.facts) if f.payload.get("workflow") == name]
    by_nonce = {(f.by, f.payload.get("nonce")): f for f in published if f.payload.get("nonce")}
    wanted = str(spec.payload["model_digest"])
    for run in passing_runs(ctx, spec):
        model = str(run.payload.get("model") or "")
        digest = str(run.payload.get("model_digest") or "")
        if not digest:
            under = by_nonce.get((run.by, run.payload.get("spec"))) or next(
                (f for f in reversed(published) if f.id < run.id), None
            )
            if under is not None and under.payload.get("content_hash") == run.payload.get(
                "content_hash"
            ):
                model, digest = str(under.payload["model"]), str(under.payload["model_digest"])
        if digest and digest != wanted:
            return run, model, digest
    return None


def _proven_verdicts(ctx: CheckContext) -> list[Fact]:
    """Proven verdicts that name the weights their candidate served."""
    return [
        f
        for f in ctx.facts.of("trial.verdict")
        if f.payload["verdict"] == "proven" and (f.payload.get("candidate") or {}).get("digest")
    ]


def _proven_by(ctx: CheckContext, digest: str) -> str:
    """Which trial proved ``digest``, in words (nothing where no verdict names weights)."""
    named = [f for f in _proven_verdicts(ctx) if f.payload["candidate"]["digest"] == digest]
    return f", the weights trial {named[-1].payload['trial']} proved" if named else ""


def _unproven(ctx: CheckContext, digest: str, model: str) -> tuple[str, list[Fact]] | None:
    """Why ``digest`` is not weights a trial proved and another reproduced, with the facts
    that say so; None where it is, or where no proven verdict names any weights (a play 1
    waived, a trial from before verdicts named them: nothing to tie the workflow to)."""
    proven = _proven_verdicts(ctx)
    if not proven:
        return None
    named = [f for f in proven if f.payload["candidate"]["digest"] == digest]
    if not named:
        others = "; ".join(
            dict.fromkeys(
                f"trial {f.payload['trial']} proved {f.payload['candidate'].get('model')}"
                f"@{str(f.payload['candidate']['digest'])[:19]}"
                for f in proven
            )
        )
        return (
            f"no trial proved these weights ({others}): the lock blesses them, but nobody "
            f"compared {model} with the status quo; pin the workflow to weights a trial proved, "
            f"or prove {model} (`inhouse prove NAME` with it as the candidate) and have someone "
            "else rerun it (`inhouse prove NAME --rerun`)",
            proven,
        )
    why = ""
    for verdict in reversed(named):
        result = reproduced(ctx, verdict)
        if result.outcome is Outcome.PASS:
            return None
        why = why or result.reason
    asked = evaluate("trial-reproduced", ctx)
    if asked.outcome is Outcome.NOT_APPLICABLE:
        return None  # play 2 asks no rerun of it (a program from before it did): the verdict
    if asked.outcome is Outcome.PASS and any(f in named for f in asked.evidence):
        return None  # play 2's check holds on it by a rule it keeps for its exit
    return (
        f"trial {named[-1].payload['trial']} proved these weights (fact #{named[-1].id}, by "
        f"{named[-1].by}), but nobody else reproduced it: {why}",
        named,
    )


@register_check("workflow-tests-pass", reads=("workflow.spec", "workflow.run", "baseline.lock"))
@given(current_workflow, _NONE_PUBLISHED)
def workflow_tests_pass(ctx: CheckContext, spec: Fact) -> Result:
    """The current version of the workflow has a passing test run whose tests need the model
    (a case in it fails on every decoy answer), answered by a real model: outside a demo, a run
    on the project's test model (random weights) proves nothing (a play 3 that exited on one
    keeps its exit)."""
    return _earlier_where_short(ctx, spec, _tests_pass)


def _earlier_where_short(
    ctx: CheckContext, spec: Fact, judge: Callable[[CheckContext, Fact, bool], Result]
) -> Result:
    """``judge``'s result by today's rule; for a program whose play 3 exited before any of its
    runs was judged on decoy answers (on the empty answer alone), by that rule where today's
    falls short, saying what today's asks. Asked only then: a pass by today's rule stays the
    pass a handoff was accepted on, and a play 3 that exited once runs were judged on decoys
    exited on today's rule."""
    result = judge(ctx, spec, False)
    exit_ = ctx.exited.get(_WORKFLOW)
    if result.outcome is Outcome.PASS or exit_ is None:
        return result
    if any(r.payload.get("decoys") and r.id < exit_[1] for r in ctx.facts.of("workflow.run")):
        return result  # its runs were judged on decoys before it exited: it exited on today's
    earlier = judge(ctx, spec, True)
    if earlier.outcome is not Outcome.PASS:
        return result
    return replace(
        earlier,
        reason=f"{earlier.reason}; play 3 exited before runs were judged on decoy answers "
        f"(today: {result.reason})",
    )


def _tests_pass(ctx: CheckContext, spec: Fact, earlier: bool) -> Result:
    runs = passing_runs(ctx, spec, earlier=earlier)
    if not runs:
        hollow = passing_runs(ctx, spec, hollow=True, earlier=earlier)
        if hollow:
            last = hollow[-1]
            why = (
                on_test_model(ctx, last)
                or hollow_tests(last, earlier=run_judged_earlier(ctx, last, earlier))
                or stale_runner(ctx, ctx.facts.of("workflow.run"), last)
            )
            return failed(
                f"no run of workflow {spec.payload['workflow']} at its current version tested "
                f"anything: {why}",
                spec,
                *hollow,
            )
        return failed(
            f"no passing test run of workflow {spec.payload['workflow']} at its current version: "
            f"run `inhouse workflow test {spec.payload['workflow']}`",
            spec,
        )
    run = runs[-1]
    return passed(
        f"{run.by} passed it ({share(run.payload['pass_rate'])} of cases{_variant(run)})"
        f"{test_model_label(ctx, run)}{best_of_said(ctx, spec)}",
        spec,
        run,
    )


def _variant(run: Fact) -> str:
    """Which prompt variant the run judged, where the workflow has several."""
    variant = str(run.payload.get("variant") or "")
    return f", variant {variant}" if variant and variant != "default" else ""


@register_check("workflow-run-by-other", reads=("workflow.spec", "workflow.run", "baseline.lock"))
@given(current_workflow, _NONE_PUBLISHED)
def workflow_run_by_other(ctx: CheckContext, spec: Fact) -> Result:
    """Someone other than the author, and no rollout lead (exit rule 20: a lead puts play 3's
    owner in charge, who may type what she dictates, nor from a machine a lead enrolled from),
    ran the current workflow's tests and passed (tests that need the model: see
    ``workflow-tests-pass``), on the current lock, answered on their own
    machine by a run that says so (one from an inhouse before runs said where they were answered
    does not count; a play 3 that exited keeps its exit); where that someone is play 3's owner,
    the author's own pass on the current lock stands beside theirs, and so it does where none of
    the author's passes measured the version on their own machine (answered there, by the
    release, with checks of their own, by a model that answered cases needing it, outside a
    demo not the project's test model: a colleague asked to run the writer's checkout once,
    answered by her server or by random weights, is its author). Outside a demo, the inhouse
    that ran it came from a package index, not from a folder or URL: such a build runs and
    reports whatever its author wrote, with the rerunner's key. Where the version samples (a
    temperature above 0), a rerun counts only on a seed drawn for it: one that sent the
    version's seed (its author's pick), none, or one an earlier run of it sent replayed a
    draw, and one that says no seed may have (exit rule 35), as did one a later attempt of a
    repeated case of either sent; and there a run that does not say each attempt of a case drew
    a seed of its own (an older inhouse's one seed to every attempt of `repeat: 5` is one draw)
    counts only where the version's text, which its runs carry, says no case repeats (exit
    rule 37), and not where no run carries that text (exit rule 38: its runner runs the tests
    again with a current inhouse)."""
    result = _earlier_where_short(ctx, spec, _run_by_other)
    if _WORKFLOW not in ctx.exited:
        return result
    # each rule came after programs had exited play 3 without it: such an exit stands, said,
    # for the runs it was judged on (one since, or one it left out, is judged as in any program)

    def by(*, said: bool = False, beside: bool = False) -> Callable[[], Result]:
        return lambda: _earlier_where_short(
            ctx, spec, lambda c, s, e: _run_by_other(c, s, e, said=said, beside=beside)
        )

    if result.outcome is Outcome.PASS:
        # a rerun that did not say where it was answered may be what play 3 exited on, the
        # latest beside one that does: that exit saw the same (Result.earlier)
        before = by(said=True)()
        if before.outcome is Outcome.PASS and before.evidence != result.evidence:
            return replace(result, earlier=before.evidence)
        return result
    said = "a rerun by another had to say it was answered on the rerunner's own machine"
    beside = "a rerun by its owner needed the author's own pass on the current lock beside it"
    return kept_from_before(
        result,
        (by(said=True), f"play 3 exited before {said}"),
        (by(beside=True), f"play 3 exited before {beside}"),
        (by(said=True, beside=True), f"play 3 exited before {beside}, and before {said}"),
    )


def _run_by_other(
    ctx: CheckContext, spec: Fact, earlier: bool, *, said: bool = False, beside: bool = False
) -> Result:
    """``workflow-run-by-other``'s judgment by today's rules: a rerun that does not say where
    it was answered (:func:`unsaid_where`) counts for nothing, and an owner's rerun needs the
    author's own pass on the current lock beside it (:func:`owner_alone`). ``said``,
    ``beside``: the rule before each, for the runs play 3's exit was judged on
    (:meth:`CheckContext.spared`)."""
    author = author_of(ctx, spec)
    runs = passing_runs(ctx, spec, earlier=earlier)
    if author is None:
        # its spec's own run is not in the log: dropped from the tail, refused by the store, or
        # not imported (yet). Whoever's run the spec was recorded for is nobody's author then
        return failed(
            f"nobody has published workflow {spec.payload['workflow']} version "
            f"{str(spec.payload['content_hash'])[:12]}: {spec.by}'s workflow.spec of it has no "
            f"run of its own in the log (the run recorded with it was lost, refused or not "
            f"imported), so it names no author; its author runs `inhouse workflow test "
            f"{spec.payload['workflow']}`, then someone else does",
            spec,
            *runs,
        )
    why_not = {
        run.id: second_person_apart(ctx, run, {author}, play=_WORKFLOW)
        or not_their_measure(run)
        or unpinned_build(ctx, run)
        or (None if said and ctx.spared(_WORKFLOW, run) else unsaid_where(run))
        or replayed_seed(ctx, run)
        for run in runs
    }
    others = [run for run in runs if why_not[run.id] is None]
    mine = author_passes(ctx, spec, author, runs)
    blocked = [run for run in others if mine.blocked(ctx, run)]
    if others and len(blocked) == len(others):
        what = "has no passing run of it"
        if mine.none_measured:
            shown = "; ".join(dict.fromkeys(mine.unmeasured))
            what += f" that measured it on their own machine ({shown})"
        elif mine.passes:
            what += " on the current lock"
        return failed(
            f"{author}, who published this version, {what}; only "
            f"{names(sorted({run.by for run in others}))} passed it: a rerun by someone other "
            f"than the author needs the author's own pass beside it, answered on their own "
            f"machine by an inhouse from a package index (`inhouse workflow test "
            f"{spec.payload['workflow']}` by {author})",
            spec,
            *runs,
        )
    others = [run for run in others if run not in blocked]
    if not others:
        hollow = [
            on_test_model(ctx, run)
            or hollow_tests(run, earlier=run_judged_earlier(ctx, run, earlier))
            or stale_runner(ctx, ctx.facts.of("workflow.run"), run)
            for run in passing_runs(ctx, spec, hollow=True, earlier=earlier)
        ]
        seen = "; ".join(sorted({str(why) for why in [*why_not.values(), *hollow[-1:]]}))
        return failed(
            f"no passing run of workflow {spec.payload['workflow']} by anyone but its author "
            f"({author}, who published this version)" + (f" ({seen})" if seen else "") + ": "
            "someone else, who is no rollout lead (exit rule 20), runs `inhouse workflow test "
            f"{spec.payload['workflow']}` with their own key, on their machine (where the only "
            "colleague who is no lead wrote it, a lead publishes the next version, her own run "
            "first, and that colleague reruns it)",
            spec,
            *runs,
        )
    if all(
        not (beside and ctx.spared(_WORKFLOW, run)) and owner_alone(ctx, run, author, runs)
        for run in others
    ):
        # two people told apart pass it on the current lock: the author beside the owner
        return failed(
            f"on the current lock only {others[-1].by}, play 3's owner, passed workflow "
            f"{spec.payload['workflow']}: its author, {author}, who published this version, has "
            "no passing run of it on that lock answered on their own machine (by an inhouse "
            "that says so), so nobody but the one judged measured it there; a rerun by the "
            "owner counts beside the author's own pass on the current lock, on their machine "
            f"(`inhouse workflow test {spec.payload['workflow']}` by {author})",
            spec,
            *runs,
        )
    note = invited_by_judged(ctx, others[-1].by, {author})
    return passed(
        f"{others[-1].by} (not the author, {author}) passed it{_variant(others[-1])}"
        f"{test_model_label(ctx, others[-1])}{note}{best_of_said(ctx, spec)}",
        spec,
        others[-1],
    )


#: the most best-of cases a reason names one by one
_BEST_OF_SHOWN = 3


def best_of_said(ctx: CheckContext, spec: Fact) -> str:
    """What a pass's reason adds ("; case X needs 1 of its 50 attempts to pass: a best of 50")
    for each case ``spec``'s version passes on under half its attempts
    (:func:`~inhouse.workflows.spec.best_of_cases`), as the version's own text says
    (:func:`version_data`: any run of it that carries the text its content hash covers), never
    a run's word; that it cannot be told where no run carries that text (an inhouse from
    before runs did), or a test file's rows may set their own; "" where no case is one. A pass
    on a best of N is still a pass (teams test pass@k on purpose): it is said, so that "all of
    its cases" is not read as each case passing most of its draws. Said in the reason alone,
    which the evidence hash does not cover: an exit already judged keeps it."""
    from inhouse.workflows.spec import best_of_cases  # which imports this package

    name, version = spec.payload.get("workflow"), spec.payload.get("content_hash")
    runs = [
        f
        for f in ctx.facts.of("workflow.run")
        if f.payload.get("workflow") == name and f.payload.get("content_hash") == version
    ]
    data = version_data(runs)
    if data is None:
        return (
            "; whether a case passes on a best of N cannot be told: no run of this version "
            "carries its text (an inhouse from before runs did ran each)"
        )
    said = best_of_cases(data)
    if not said:
        return ""
    more = len(said) - _BEST_OF_SHOWN
    return "; " + "; ".join(said[:_BEST_OF_SHOWN]) + (f"; and {more} more" if more > 0 else "")


def _samples(said: Any) -> bool | None:
    """Whether a run's recorded ``seed`` (:class:`~inhouse.program.payloads.SeedSent`) says its
    version samples: a temperature above 0, or none (the server's default, above 0); None where
    it says nothing (no record: an inhouse from before runs said)."""
    if not isinstance(said, dict) or "temperature" not in said:
        return None
    temperature = said["temperature"]
    return temperature is None or float(temperature) > 0


def version_data(runs: Iterable[Fact]) -> dict[str, Any] | None:
    """The spec's data a workflow version itself says, as the text its content hash covers,
    which a run of it carries (``hashed``), tells it; None where no run of it carries that text
    (runs recorded before they did). Any run's will do: no one can write another text with the
    version's hash."""
    from inhouse.workflows.spec import hashed_spec  # which imports this package

    for run in runs:
        data = hashed_spec(run.payload.get("hashed"), str(run.payload.get("content_hash")))
        if data is not None:
            return data
    return None


def version_parameters(runs: Iterable[Fact]) -> dict[str, Any] | None:
    """The generation parameters a workflow version itself says (its ``parameters``), as the
    text its content hash covers, which a run of it carries (``hashed``), tells them
    (:func:`version_data`); None where no run of it carries that text (runs recorded before
    they did), or the text says no parameters inhouse reads. A run's word on its temperature
    (its ``seed``) is never needed."""
    return _parameters(version_data(runs))


def _parameters(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """:func:`version_parameters` of a version whose spec's data is ``data``."""
    from pydantic import ValidationError

    from inhouse.workflows.spec import Parameters  # which imports this package

    if data is None:
        return None
    written = data.get("parameters", {})
    try:
        parameters = Parameters.model_validate(written if written is not None else {})
    except ValidationError:
        return None
    return parameters.model_dump()


def _may_repeat(data: dict[str, Any] | None) -> bool:
    """Whether a version whose spec's data is ``data`` may run a case more than once
    (``repeat``): written above 1 for the spec or a case written in it, or cases read from test
    files (whose rows may say ``repeat``), which only their hashes are in the text of. None (no
    run carries its text, all recorded before runs did, when no run said its attempts' seeds
    either): False here; exit rule 38 asks such a run to say its attempts drew their own
    (:func:`_attempts_replayed`)."""
    if data is None:
        return False
    tests = data.get("tests", [])
    if not isinstance(tests, list):
        return True  # a test file (or files): its rows may repeat
    said = [data.get("repeat")]
    for test in tests:
        if not isinstance(test, dict):
            return True
        said.append(test.get("repeat"))
    try:
        return any(int(r) > 1 for r in said if r is not None)
    except (TypeError, ValueError):
        return True


#: the most attempts a case runs (``repeat``'s bound in the spec)
_MOST_ATTEMPTS = 100


def _attempt_of(seed: Any, sent: Any) -> int | None:
    """Which later attempt (1 and up) of a run that sent ``seed`` sent ``sent`` (each attempt
    of a repeated case draws a seed derived from the run's,
    :func:`~inhouse.workflows.runner.attempt_seed`), or None."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not isinstance(sent, int):
        return None
    return _attempts(seed).get(sent)


@lru_cache(maxsize=4096)
def _attempts(seed: int) -> dict[int, int]:
    """The seed each later attempt of a run that sent ``seed`` sends, to its index: worked out
    once a process for every run a check reads beside another."""
    from inhouse.workflows.runner import attempt_seed  # which imports this package

    return {attempt_seed(seed, i): i for i in range(_MOST_ATTEMPTS - 1, 0, -1)}


def replayed_seed(ctx: CheckContext, run: Fact) -> str | None:
    """Why a colleague's ``run`` drew nothing of its own (exit rule 35,
    :data:`~inhouse.program.checks.WORKFLOW_FRESH_SEED`), or None. Where its version samples (as
    the version itself says: the text its content hash covers, which today's runs carry,
    :func:`version_parameters`; no run's word on its temperature or seed counts against that
    text, so a member who types a run of a version at 0 saying it samples refuses nobody's run;
    where no run of it carries the text, as any run of it records: honest runs agree, and one
    saying it samples is believed over one saying it does not), a run that sent the
    version's seed (its author wrote it, and may have picked it among many private tries for a
    draw that passes), none (its server's start-up default, which its operator sets), or the
    seed an earlier run of the version sent, replayed a draw (and, by exit rule 37, one a later
    attempt of a repeated case of either sent: :func:`_attempts_replayed`); and one that says
    no seed (an
    older inhouse, or one written around it) may have. At temperature 0 each answer is the
    model's most likely one, whatever the seed: a run that says no seed counts where a run of
    its version by none of those judged (its author, play 3's owner, the rollout leads), told
    apart from them as a rerun by another is (not from a machine they enrolled from), says
    that, and only then (nothing else says it does not sample). A run a play 3 exit
    was judged on keeps the rule before; a demo program asks none of it (its runs on the test
    model keep the seed its workflow was written for:
    :func:`~inhouse.workflows.runner.seed_for`)."""
    if ctx.demo or ctx.spared(_WORKFLOW, run, rule=WORKFLOW_FRESH_SEED):
        return None
    name, version = run.payload.get("workflow"), run.payload.get("content_hash")
    runs = [
        f
        for f in ctx.facts.of("workflow.run")
        if f.payload.get("workflow") == name and f.payload.get("content_hash") == version
    ]
    records = [f.payload.get("seed") for f in runs]
    # that it does not sample is the run's own word, or a run's by none of those judged: the
    # version's author could type a run of his own "at 0" beside a colleague's older one, and
    # a lead one signed with a key she enrolled from her own machine (a name she made, or whose
    # key files she holds), as a rerun by another is judged (exit rule 20's machines)
    author = first_publisher(ctx.facts, str(name), version)
    judged = {who for who in (author, ctx.owners.get(_WORKFLOW)) if who}
    judged |= ever_held(ctx, "rollout-lead")
    data = version_data(runs)
    parameters = _parameters(data)
    if parameters is not None:
        # what the version itself says, in the text its hash covers: no run's word against it
        # (a member who typed a run of a version at 0 "at 0.7" refused every colleague's)
        temperature = parameters["temperature"]
        readings = {temperature is None or float(temperature) > 0}
        records = [{"temperature": temperature}, *records]
    else:
        readings = {True for said in records if _samples(said)}
        if _samples(run.payload.get("seed")) is False or any(
            _samples(f.payload.get("seed")) is False
            and f.by not in judged
            and second_person_apart(ctx, f, judged, play=_WORKFLOW) is None
            for f in runs
        ):
            readings.add(False)
    said = run.payload.get("seed")
    again = (
        f"{run.by} runs `inhouse workflow test {name}` again with an inhouse that draws a seed "
        "of its own"
    )
    whose = f"{run.by}'s run (fact #{run.id})"
    if True not in readings:
        if readings:
            return None  # temperature 0: there is no draw to replay
        return (
            f"{whose} does not say which seed it sent, nor does a run of its version by someone "
            "other than its author, play 3's owner and the rollout leads (from a machine of their "
            "own) say whether it samples "
            "(an inhouse from before runs said made them): at a temperature above 0 it may have "
            "replayed the draw of a seed its author picked among many private tries (exit rule "
            f"{WORKFLOW_FRESH_SEED}); {again}"
        )
    temperature = next(r["temperature"] for r in records if isinstance(r, dict) and _samples(r))
    at = "the server's default temperature"
    if temperature is not None:
        at = f"temperature {float(temperature):g}"
    tail = f"it measured no draw of its own (exit rule {WORKFLOW_FRESH_SEED}); {again}"
    if not isinstance(said, dict) or "sent" not in said:
        return (
            f"{whose} does not say which seed it sent (an inhouse from before runs said made "
            f"it), though its version samples, at {at}: it may have sent the version's seed, "
            f"which its author may have picked among many private tries for a draw that passes; "
            f"{again}"
        )
    sent = said["sent"]
    if sent is None:
        return (
            f"{whose} sent no seed at {at} (its server drew with whatever seed its operator "
            f"started it with): {tail}"
        )
    written = {r.get("spec") for r in records if isinstance(r, dict)} - {None}
    if parameters is not None:  # the version's own seed, not one a run typed as it
        written = {parameters["seed"]} - {None}
    if sent in written:
        return (
            f"{whose} sent the version's own seed ({sent}) at {at}, which its author wrote and "
            f"may have picked among many private tries for a draw that passes: it replayed that "
            f"draw, and {tail}"
        )
    earlier = next(
        (
            f
            for f in runs
            if f.id < run.id
            and isinstance(f.payload.get("seed"), dict)
            and f.payload["seed"].get("sent") == sent
        ),
        None,
    )
    if earlier is not None:
        return (
            f"{whose} sent the seed {earlier.by}'s run (fact #{earlier.id}) sent before "
            f"({sent}) at {at}: it replayed that run's draw, and {tail}"
        )
    if ctx.spared(_WORKFLOW, run, rule=WORKFLOW_ATTEMPT_SEEDS):
        return None
    textless = not ctx.spared(_WORKFLOW, run, rule=WORKFLOW_TEXTLESS_REPEAT)
    return _attempts_replayed(run, runs, data, written, sent, at, again, textless=textless)


def _attempts_replayed(
    run: Fact,
    runs: list[Fact],
    data: dict[str, Any] | None,
    written: set[Any],
    sent: Any,
    at: str,
    again: str,
    *,
    textless: bool = True,
) -> str | None:
    """Why a colleague's ``run`` of a version that samples, at ``at``, which sent ``sent``, drew
    nothing of its own for each attempt of a repeated case (exit rule 37,
    :data:`~inhouse.program.checks.WORKFLOW_ATTEMPT_SEEDS`), or None: it sent, as its own, the
    seed a later attempt at the version's own seed (``written``) or at an earlier run's sent
    (derived from it: its author's private tries at the version's seed drew those too), or it
    does not say each attempt drew its own where the version's text (``data``) says a case may
    run more than once, or (exit rule 38, :data:`~inhouse.program.checks.WORKFLOW_TEXTLESS_REPEAT`,
    where ``textless``) where no run of the version carries that text (``data`` None), so
    nothing says its cases run once."""
    whose = f"{run.by}'s run (fact #{run.id})"
    tail = f"it measured no draw of its own (exit rule {WORKFLOW_ATTEMPT_SEEDS}); {again}"
    # its inhouse drew the run a seed of its own (the checks above): what it lacked is a
    # current one, which says each attempt's seed (and carries the version's text)
    upgrade = (
        f"{run.by} runs `inhouse workflow test {run.payload.get('workflow')}` again with a "
        "current inhouse (upgrade it), whose run carries the version's text and says each "
        "attempt's seed"
    )
    derived = next(
        ((seed, i) for seed in written if (i := _attempt_of(seed, sent)) is not None), None
    )
    if derived is not None:
        return (
            f"{whose} sent the seed attempt {derived[1] + 1} of a repeated case sends at the "
            f"version's own seed ({derived[0]}), {sent}, at {at}: its author may have picked "
            f"that seed among many private tries for draws that pass, and it replayed one, and "
            f"{tail}"
        )
    earlier = next(
        (
            (f, i)
            for f in runs
            if f.id < run.id
            and isinstance(f.payload.get("seed"), dict)
            and (i := _attempt_of(f.payload["seed"].get("sent"), sent)) is not None
        ),
        None,
    )
    if earlier is not None:
        before, attempt = earlier
        return (
            f"{whose} sent the seed {before.by}'s run (fact #{before.id}) sent before for "
            f"attempt {attempt + 1} of a repeated case ({sent}) at {at}: it replayed that "
            f"run's draw, and {tail}"
        )
    if run.payload.get("attempt_seeds") is not True and _may_repeat(data):
        # `repeat: 3` at one seed is one draw three times: "passes 3 of 3" was one sample
        return (
            f"{whose} does not say each attempt of a repeated case drew a seed of its own (an "
            f"inhouse from before they did made it, or one the lock pins): at {at} it sent "
            f"{sent} to every attempt, so a case's attempts were one draw repeated, not as many "
            f"as its repeat says (exit rule {WORKFLOW_ATTEMPT_SEEDS}); {upgrade}"
        )
    if run.payload.get("attempt_seeds") is not True and data is None and textless:
        # no run carries the text its hash covers, so nothing says its cases run once: an
        # older inhouse's one seed to every attempt of `repeat: 5` was one draw, not five
        return (
            f"{whose} does not say each attempt of a repeated case drew a seed of its own (an "
            f"inhouse from before they did made it, or one the lock pins), and no run of its "
            f"version carries the text its hash covers to say whether a case runs more than "
            f"once: at {at} it may have sent {sent} to every attempt, one draw repeated (exit "
            f"rule {WORKFLOW_TEXTLESS_REPEAT}); {upgrade}"
        )
    return None
