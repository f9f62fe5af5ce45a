"""The built-in checks behind the six plays' triggers and exits.

Each reads facts only (see ``reads=``); the reason of a failing check names the evidence that is
missing and, where one exists, the command that gathers it.
"""

from __future__ import annotations

from datetime import date, timedelta

from inhouse.program.checks import (
    CheckContext,
    Result,
    failed,
    inconclusive,
    not_applicable,
    passed,
    register_check,
)
from inhouse.program.facts import Fact

__all__: list[str] = []  # nothing to import: the checks are reached through the registry


# -- shared lookups -------------------------------------------------------------------------------


def _current_lock(ctx: CheckContext) -> Fact | None:
    return ctx.facts.latest("baseline.lock")


def _current_workflow(ctx: CheckContext) -> Fact | None:
    """The workflow play 3 is judged on: of each workflow's current version, the latest one
    someone other than its author passed, else the latest version recorded. (With several
    workflows, testing a second one must not hide the first one's evidence.)"""
    current: dict[str, Fact] = {}
    for spec in ctx.facts.of("workflow.spec"):
        current[str(spec.payload["workflow"])] = spec
    proven = [
        spec
        for spec in current.values()
        if any(run.by != spec.payload["author"] for run in _passing_runs(ctx, spec))
    ]
    return max(proven, key=lambda f: f.id) if proven else ctx.facts.latest("workflow.spec")


def _early_owners(ctx: CheckContext) -> set[str]:
    return {owner for play, owner in ctx.owners.items() if play in {"prove-value", "baseline"}}


def _builders(ctx: CheckContext) -> set[str]:
    """Who built what tends to break: the owners of plays 1-3 and the workflow authors."""
    builders = {
        owner
        for play, owner in ctx.owners.items()
        if play in {"prove-value", "baseline", "workflow"}
    }
    builders |= {str(fact.payload["author"]) for fact in ctx.facts.of("workflow.spec")}
    return builders


def _insiders(ctx: CheckContext) -> set[str]:
    """Everyone already inside the program: holders of any role (pilot users, owners, leads,
    champions, support) and the owners of started plays. Anyone else is "beyond the pilot"."""
    return {p.name for p in ctx.people.values() if p.roles} | set(ctx.owners.values())


def _names(people: list[str]) -> str:
    return ", ".join(sorted(people)) if people else "nobody"


# -- play 1: prove value ---------------------------------------------------------------------------


@register_check("hypothesis-recorded", reads=("hypothesis",))
def hypothesis_recorded(ctx: CheckContext) -> Result:
    """A person on the roster recorded what a local model should replace or unlock."""
    fact = ctx.facts.latest("hypothesis", lambda f: f.by in ctx.people)
    if fact is None:
        return failed(
            'no hypothesis recorded: run `inhouse hypothesis "..." --replaces NAME` '
            "or `--unlocks NAME`"
        )
    aim = "replace" if fact.payload["aim"] == "replace-dependency" else "unlock"
    return passed(f"{fact.by}: {aim} {fact.payload['target']}: {fact.payload['statement']}", fact)


@register_check("value-proven", reads=("trial.verdict",))
def value_proven(ctx: CheckContext) -> Result:
    """The latest trial verdict says the local model is meaningfully better, at quality."""
    fact = ctx.facts.latest("trial.verdict")
    if fact is None:
        return failed("no trial.verdict yet: run a head-to-head trial (`inhouse prove`)")
    verdict = fact.payload["verdict"]
    name = fact.payload["trial"]
    if verdict == "proven":
        if not fact.payload["quality_ok"]:
            return failed(f"trial {name} is faster/cheaper but below the quality floor", fact)
        dims = ", ".join(fact.payload["proven_on"]) or "unspecified dimensions"
        return passed(f"trial {name} proved the local model {dims}", fact)
    if verdict == "not-worth-it":
        return failed(
            f"trial {name} concluded not worth it; stop the program honestly "
            "(`inhouse stop --not-worth-it`) or run another trial",
            fact,
        )
    return inconclusive(f"trial {name} was inconclusive: add more task inputs and rerun", fact)


# -- play 2: baseline ------------------------------------------------------------------------------


@register_check("access-requested", reads=("access.request",))
def access_requested(ctx: CheckContext) -> Result:
    """Someone other than the early owners asked to get in."""
    owners = _early_owners(ctx)
    wanted = int(ctx.param("min_people", 1))
    requests = [f for f in ctx.facts.of("access.request") if f.payload["person"] not in owners]
    people = {str(f.payload["person"]) for f in requests}
    if len(people) >= wanted:
        return passed(f"access requested by {_names(list(people))}", *requests)
    return failed(
        f"access requested by {len(people)} person(s) other than the owner, need {wanted}: "
        "record requests with `inhouse fact record access.request`"
    )


@register_check("baseline-pinned", reads=("baseline.lock",))
def baseline_pinned(ctx: CheckContext) -> Result:
    """The lock names one runtime and one or two blessed models, each with a content digest."""
    lock = _current_lock(ctx)
    if lock is None:
        return failed("no baseline lock: run `inhouse baseline lock`")
    most = int(ctx.param("max_models", 2))
    models = lock.payload["models"]
    if not 1 <= len(models) <= most:
        return failed(f"the lock blesses {len(models)} models; the play allows 1 to {most}", lock)
    runtime = lock.payload["runtime"]
    names = ", ".join(f"{m['name']}@{str(m['digest'])[:19]}" for m in models)
    return passed(f"{runtime['family']} {runtime['version']} with {names}", lock)


@register_check("install-script-written", reads=("baseline.lock", "baseline.install_script"))
def install_script_written(ctx: CheckContext) -> Result:
    """An install script was written for the current lock."""
    lock = _current_lock(ctx)
    if lock is None:
        return failed("no baseline lock, so no install script for it: run `inhouse baseline lock`")
    lock_hash = lock.payload["lock_hash"]
    script = ctx.facts.latest(
        "baseline.install_script", lambda f: f.payload["lock_hash"] == lock_hash
    )
    if script is None:
        return failed(
            "no install script for the current lock: run `inhouse baseline install-script`", lock
        )
    return passed(f"{script.payload['path']} written for lock {lock_hash[:12]}", lock, script)


@register_check("data-rules-written", reads=("baseline.lock",))
def data_rules_written(ctx: CheckContext) -> Result:
    """Data-handling rules are written and part of the lock."""
    lock = _current_lock(ctx)
    if lock is None:
        return failed("no baseline lock: write data rules in inhouse.toml and lock the baseline")
    if not lock.payload["rules_hash"]:
        return failed(
            "the lock has no data-handling rules: add a [data_rules] table to inhouse.toml and "
            "re-lock (`inhouse baseline lock`)",
            lock,
        )
    return passed(f"rules {lock.payload['rules_hash'][:12]} are in the lock", lock)


@register_check("second-person-verified", reads=("baseline.lock", "baseline.verify"))
def second_person_verified(ctx: CheckContext) -> Result:
    """Someone other than the baseline's owner passed `baseline verify` on the current lock."""
    lock = _current_lock(ctx)
    if lock is None:
        return failed("no baseline lock to verify against: run `inhouse baseline lock`")
    # the play's owner and the owner the lock names (the manifest's) are both "the owner"
    owners = {str(o) for o in (ctx.owners.get("baseline"), lock.payload.get("owner")) if o}
    owner = _names(list(owners))
    lock_hash = lock.payload["lock_hash"]
    verifies = ctx.facts.of("baseline.verify")
    good = [f for f in verifies if f.payload["passed"] and f.payload["lock_hash"] == lock_hash]
    by_other = [f for f in good if f.by not in owners]
    if by_other:
        fact = by_other[-1]
        return passed(f"{fact.by} verified lock {lock_hash[:12]}", lock, fact)
    if good:
        return failed(
            f"only the owner ({owner}) verified the current lock; a second person must run "
            "`inhouse baseline verify --as THEM` from the docs",
            lock,
            *good,
        )
    stale = [f for f in verifies if f.payload["passed"] and f.payload["lock_hash"] != lock_hash]
    if stale:
        return failed(
            f"{len(stale)} passing verify(s) are for an earlier lock; re-verify lock "
            f"{lock_hash[:12]} as a second person",
            lock,
        )
    return failed(
        f"no passing verify of lock {lock_hash[:12]}: "
        "a second person runs `inhouse baseline verify`",
        lock,
    )


# -- play 3: workflow ------------------------------------------------------------------------------


@register_check("recurring-task-named", reads=("task.named",))
def recurring_task_named(ctx: CheckContext) -> Result:
    """A recurring task is named, with how often it happens."""
    fact = ctx.facts.latest("task.named")
    if fact is None:
        return failed(
            "no recurring task named: write its workflow spec (owner, frequency) and run "
            "`inhouse workflow validate NAME`"
        )
    return passed(f"{fact.payload['task']} ({fact.payload['frequency']})", fact)


@register_check("workflow-pinned", reads=("workflow.spec", "workflow.run", "baseline.lock"))
def workflow_pinned(ctx: CheckContext) -> Result:
    """The current workflow's model is a blessed model of the current lock, by digest."""
    spec = _current_workflow(ctx)
    if spec is None:
        return failed("no workflow defined: write workflows/NAME.yaml and run its tests")
    lock = _current_lock(ctx)
    if lock is None:
        return failed("no baseline lock to pin the workflow's model against", spec)
    digests = {str(m["digest"]) for m in lock.payload["models"]}
    if spec.payload["model_digest"] not in digests:
        return failed(
            f"workflow {spec.payload['workflow']} uses {spec.payload['model']} "
            f"({str(spec.payload['model_digest'])[:19]}), not a blessed model of the current lock",
            spec,
            lock,
        )
    return passed(
        f"workflow {spec.payload['workflow']} pinned to {spec.payload['model']}", spec, lock
    )


def _passing_runs(ctx: CheckContext, spec: Fact) -> list[Fact]:
    """Passing test runs of ``spec``'s version, against the current lock where there is one (a
    run against other locked weights does not prove this workflow on the baseline's model)."""
    lock = _current_lock(ctx)
    lock_hash = lock.payload["lock_hash"] if lock is not None else None
    return [
        f
        for f in ctx.facts.of("workflow.run")
        if f.payload["workflow"] == spec.payload["workflow"]
        and f.payload["content_hash"] == spec.payload["content_hash"]
        and f.payload["passed"]
        and (lock_hash is None or not f.payload["lock_hash"] or f.payload["lock_hash"] == lock_hash)
    ]


@register_check("workflow-tests-pass", reads=("workflow.spec", "workflow.run", "baseline.lock"))
def workflow_tests_pass(ctx: CheckContext) -> Result:
    """The current version of the workflow has a passing test run."""
    spec = _current_workflow(ctx)
    if spec is None:
        return failed("no workflow defined: write workflows/NAME.yaml")
    runs = _passing_runs(ctx, spec)
    if not runs:
        return failed(
            f"no passing test run of workflow {spec.payload['workflow']} at its current version: "
            f"run `inhouse workflow test {spec.payload['workflow']}`",
            spec,
        )
    run = runs[-1]
    return passed(f"{run.by} passed it ({run.payload['pass_rate']:.0%} of cases)", spec, run)


@register_check("workflow-run-by-other", reads=("workflow.spec", "workflow.run", "baseline.lock"))
def workflow_run_by_other(ctx: CheckContext) -> Result:
    """Someone other than the author ran the current workflow's tests and passed."""
    spec = _current_workflow(ctx)
    if spec is None:
        return failed("no workflow defined: write workflows/NAME.yaml")
    author = spec.payload["author"]
    others = [run for run in _passing_runs(ctx, spec) if run.by != author]
    if not others:
        return failed(
            f"no passing run of workflow {spec.payload['workflow']} by anyone but its author "
            f"({author}): someone else runs `inhouse workflow test` --as THEM",
            spec,
        )
    return passed(f"{others[-1].by} (not the author, {author}) passed it", spec, others[-1])


# -- play 4: pilot ---------------------------------------------------------------------------------


@register_check("demand-spreading", reads=("access.request",))
def demand_spreading(ctx: CheckContext) -> Result:
    """Several distinct people asked for access."""
    wanted = int(ctx.param("min_people", 3))
    requests = ctx.facts.of("access.request")
    people = {str(f.payload["person"]) for f in requests}
    if len(people) >= wanted:
        return passed(f"{len(people)} people asked for access", *requests)
    return failed(f"{len(people)} of {wanted} access requests from distinct people", *requests)


@register_check("pilot-size", reads=())
def pilot_size(ctx: CheckContext) -> Result:
    """Between min and max pilot members, from at least min_teams teams."""
    low, high = int(ctx.param("min", 5)), int(ctx.param("max", 10))
    teams_needed = int(ctx.param("min_teams", 3))
    pilot = ctx.pilot
    teams = {person.team for person in pilot if person.team}
    if not low <= len(pilot) <= high:
        return failed(f"the pilot has {len(pilot)} members; the play wants {low} to {high}")
    if len(teams) < teams_needed:
        return failed(f"the pilot spans {len(teams)} team(s); the play wants {teams_needed}")
    return passed(f"{len(pilot)} members across {len(teams)} teams")


@register_check("pilot-enabled", reads=("enablement.completed",))
def pilot_enabled(ctx: CheckContext) -> Result:
    """Every pilot member completed role-specific enablement."""
    pilot = {person.name for person in ctx.pilot}
    if not pilot:
        return failed("no pilot members yet")
    done = [f for f in ctx.facts.of("enablement.completed") if f.payload["person"] in pilot]
    missing = pilot - {str(f.payload["person"]) for f in done}
    if missing:
        return failed(f"no enablement recorded for {_names(list(missing))}", *done)
    return passed(f"all {len(pilot)} pilot members enabled", *done)


@register_check("prompt-library-seeded", reads=("prompt.shared",))
def prompt_library_seeded(ctx: CheckContext) -> Result:
    """The shared prompt library has prompts from more than one author."""
    wanted = int(ctx.param("min_authors", 2))
    shared = ctx.facts.of("prompt.shared")
    authors = {str(f.payload["author"]) for f in shared}
    if len(authors) >= wanted:
        return passed(f"{len(shared)} prompts from {len(authors)} authors", *shared)
    return failed(f"prompts from {len(authors)} author(s); the library needs {wanted}", *shared)


@register_check("pilot-independent-use", reads=("usage.daily",))
def pilot_independent_use(ctx: CheckContext) -> Result:
    """Most pilot members used the gateway on their own on enough distinct days lately."""
    share = float(ctx.param("share", 0.5))
    min_days = int(ctx.param("min_days", 3))
    since = (ctx.now - timedelta(days=int(ctx.param("window_days", 28)))).date()
    pilot = {person.name for person in ctx.pilot}
    if not pilot:
        return failed("no pilot members yet")
    usage = [
        f
        for f in ctx.facts.of("usage.daily")
        if f.payload["person"] in pilot
        and f.payload["requests"] > 0
        and str(f.payload["day"]) >= since.isoformat()
    ]
    days: dict[str, set[str]] = {}
    for fact in usage:
        days.setdefault(str(fact.payload["person"]), set()).add(str(fact.payload["day"]))
    regulars = [person for person, seen in days.items() if len(seen) >= min_days]
    if not usage:
        return failed("no gateway usage by pilot members: usage.daily facts come from the gateway")
    ratio = len(regulars) / len(pilot)
    text = (
        f"{len(regulars)} of {len(pilot)} pilot members used it on ≥{min_days} days since {since}"
    )
    return (passed if ratio > share else failed)(text, *usage)


@register_check("pilot-would-resist-losing", reads=("survey.response",))
def pilot_would_resist_losing(ctx: CheckContext) -> Result:
    """Most of the pilot say they would resist losing the tool (their latest answer counts)."""
    share = float(ctx.param("share", 0.5))
    pilot = {person.name for person in ctx.pilot}
    if not pilot:
        return failed("no pilot members yet")
    latest: dict[str, Fact] = {}
    for fact in ctx.facts.of("survey.response"):
        if fact.payload["person"] in pilot:
            latest[str(fact.payload["person"])] = fact
    if not latest:
        return failed("no survey responses from the pilot yet")
    keen = [f for f in latest.values() if f.payload["would_resist_losing"]]
    text = f"{len(keen)} of {len(pilot)} pilot members would resist losing it"
    if len(keen) / len(pilot) > share:
        return passed(text, *latest.values())
    if len(latest) < len(pilot):
        return inconclusive(
            f"{text}; {len(pilot) - len(latest)} have not answered yet", *latest.values()
        )
    return failed(text, *latest.values())


# -- play 5: support -------------------------------------------------------------------------------


@register_check("widening-requested", reads=("access.request",))
def widening_requested(ctx: CheckContext) -> Result:
    """Someone outside the program (no role in it: not pilot, owner, lead) tries to get in."""
    insiders = _insiders(ctx)
    outside = [f for f in ctx.facts.of("access.request") if f.payload["person"] not in insiders]
    if not outside:
        return failed("nobody outside the pilot has asked for access yet")
    return passed(f"{_names([str(f.payload['person']) for f in outside])} asked", *outside)


@register_check("support-queue-owned", reads=("support.queue",))
def support_queue_owned(ctx: CheckContext) -> Result:
    """A support queue exists and its owner holds the support-owner role."""
    queue = ctx.facts.latest("support.queue")
    if queue is None:
        return failed("no support queue: record a support.queue with its owner")
    owner = ctx.people.get(str(queue.payload["owner"]))
    if owner is None or "support-owner" not in owner.roles:
        return failed(
            f"queue {queue.payload['queue']} is owned by {queue.payload['owner']}, "
            "who is not a support owner on the roster",
            queue,
        )
    return passed(f"queue {queue.payload['queue']} owned by {owner.name}", queue)


@register_check("champions-named", reads=())
def champions_named(ctx: CheckContext) -> Result:
    """Every team in the pilot has a champion."""
    teams = {person.team or "(no team)" for person in ctx.pilot}
    if not teams:
        return failed("no pilot teams to name champions for")
    covered = {person.team or "(no team)" for person in ctx.having_role("champion")}
    missing = teams - covered
    if missing:
        return failed(f"no champion for team(s) {_names(list(missing))}")
    return passed(f"champions named for {len(teams)} team(s)")


@register_check("versions-pinned", reads=("baseline.lock", "drift.review"))
def versions_pinned(ctx: CheckContext) -> Result:
    """A recent drift review found the installed versions equal to the current lock."""
    lock = _current_lock(ctx)
    if lock is None:
        return failed("no baseline lock to pin versions to")
    lock_hash = lock.payload["lock_hash"]
    review = ctx.facts.latest("drift.review", lambda f: f.payload["lock_hash"] == lock_hash)
    if review is None:
        return failed(f"no drift review against lock {lock_hash[:12]}", lock)
    max_age = timedelta(days=int(ctx.param("max_age_days", 30)))
    if ctx.now - review.at > max_age:
        return failed(f"the last drift review is older than {max_age.days} days", lock, review)
    if not review.payload["passed"]:
        return failed(f"drift found: {', '.join(review.payload['drifted'])}", lock, review)
    return passed(f"drift review passed against lock {lock_hash[:12]}", lock, review)


@register_check("agent-boundaries", reads=("agent.registered", "agent.boundary"))
def agent_boundaries(ctx: CheckContext) -> Result:
    """Every registered local agent has a tool boundary (not applicable with no agents)."""
    agents = ctx.facts.of("agent.registered")
    if not agents:
        return not_applicable("no local agents registered")
    bounds = ctx.facts.of("agent.boundary")
    bounded = {str(f.payload["agent"]) for f in bounds}
    missing = {str(f.payload["agent"]) for f in agents} - bounded
    if missing:
        return failed(f"no permission boundary for agent(s) {_names(list(missing))}", *agents)
    return passed(f"{len(bounded)} agent(s) bounded", *agents, *bounds)


@register_check("review-held", reads=("review.scheduled", "review.held"))
def review_held(ctx: CheckContext) -> Result:
    """A periodic review is scheduled and the last one was held within its cadence."""
    plan = ctx.facts.latest("review.scheduled")
    if plan is None:
        return failed("no periodic review scheduled")
    held = ctx.facts.latest("review.held")
    if held is None:
        return failed(
            f"a review every {plan.payload['every_days']} days is scheduled, none held", plan
        )
    every = timedelta(days=int(plan.payload["every_days"]))
    if ctx.now - held.at > every:
        return failed(f"the last review ({held.at:%Y-%m-%d}) is overdue", plan, held)
    return passed(f"review held {held.at:%Y-%m-%d}, every {every.days} days", plan, held)


@register_check("ticket-resolved-without-builder", reads=("ticket.resolved", "workflow.spec"))
def ticket_resolved_without_builder(ctx: CheckContext) -> Result:
    """An "it broke" ticket was resolved by someone who did not build what broke."""
    tickets = [f for f in ctx.facts.of("ticket.resolved") if f.payload["category"] == "it-broke"]
    if not tickets:
        return failed('no "it broke" ticket resolved yet')
    default_builders = _builders(ctx)
    for ticket in reversed(tickets):
        builders = {ticket.payload["builder"]} if ticket.payload["builder"] else default_builders
        if ticket.payload["resolver"] not in builders:
            return passed(
                f"ticket {ticket.payload['ticket']} resolved by {ticket.payload['resolver']}, "
                f"not the builder ({_names([str(b) for b in builders])})",
                ticket,
            )
    return failed('every "it broke" ticket so far was resolved by its original builder', *tickets)


# -- play 6: measure -------------------------------------------------------------------------------


@register_check("use-beyond-pilot", reads=("usage.daily",))
def use_beyond_pilot(ctx: CheckContext) -> Result:
    """People outside the pilot (holding no role in the program) use it through the gateway."""
    insiders = _insiders(ctx)
    usage = [
        f
        for f in ctx.facts.of("usage.daily")
        if f.payload["person"] not in insiders and f.payload["requests"] > 0
    ]
    people = {str(f.payload["person"]) for f in usage}
    wanted = int(ctx.param("min_people", 1))
    if len(people) >= wanted:
        return passed(f"{len(people)} people beyond the pilot use it", *usage)
    return failed(f"{len(people)} people beyond the pilot use it; need {wanted}", *usage)


@register_check("indicators-reported", reads=("indicators.report",))
def indicators_reported(ctx: CheckContext) -> Result:
    """Leading and lagging indicators were reported for the current period."""
    report = ctx.facts.latest("indicators.report")
    period = timedelta(days=int(ctx.param("period_days", 31)))
    if report is None:
        return failed("no indicators reported yet")
    if ctx.now.date() - date.fromisoformat(str(report.payload["period_end"])) > period:
        return failed(
            f"the last report ended {report.payload['period_end']}; it is overdue", report
        )
    if not report.payload["leading"] or not report.payload["lagging"]:
        return failed("the last report lacks leading or lagging indicators", report)
    return passed(f"period to {report.payload['period_end']} reported", report)


@register_check("findings-fed-back", reads=("feedback.applied",))
def findings_fed_back(ctx: CheckContext) -> Result:
    """A finding changed the baseline or a workflow within the period."""
    period = timedelta(days=int(ctx.param("period_days", 92)))
    fact = ctx.facts.latest("feedback.applied")
    if fact is None:
        return failed("no finding fed back into the baseline or a workflow yet")
    if ctx.now - fact.at > period:
        return failed(f"nothing fed back in the last {period.days} days", fact)
    return passed(f"{fact.payload['finding']} → {fact.payload['target']}", fact)
