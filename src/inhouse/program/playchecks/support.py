"""Play 5, support and governance: widening asked, queue, champions, drift, agents,
reviews, a ticket resolved without the builder."""

from __future__ import annotations

from datetime import timedelta

from inhouse.program.checks import (
    CheckContext,
    Result,
    failed,
    not_applicable,
    passed,
    register_check,
)
from inhouse.program.facts import Fact
from inhouse.program.playchecks._shared import (
    builders,
    current_lock,
    given,
    insiders,
    names,
)

__all__: list[str] = []  # nothing to import: the checks are reached through the registry


# -- play 5: support -------------------------------------------------------------------------------


@register_check("widening-requested", reads=("access.request",))
def widening_requested(ctx: CheckContext) -> Result:
    """Someone outside the program (no role in it: not pilot, owner, lead) tries to get in."""
    inside = insiders(ctx)
    outside = [f for f in ctx.facts.of("access.request") if f.by not in inside]
    if not outside:
        return failed(
            "nobody outside the pilot has asked for access yet (with their own key: "
            "`inhouse access request`)"
        )
    return passed(f"{names([f.by for f in outside])} asked", *outside)


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
        return failed(f"no champion for team(s) {names(list(missing))}")
    return passed(f"champions named for {len(teams)} team(s)")


@register_check("versions-pinned", reads=("baseline.lock", "drift.review"))
@given(current_lock, "no baseline lock to pin versions to")
def versions_pinned(ctx: CheckContext, lock: Fact) -> Result:
    """A recent drift review found the installed versions equal to the current lock."""
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
        return failed(f"no permission boundary for agent(s) {names(list(missing))}", *agents)
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


@register_check(
    "ticket-resolved-without-builder",
    reads=("ticket.resolved", "baseline.lock", "baseline.install_script", "workflow.spec"),
)
def ticket_resolved_without_builder(ctx: CheckContext) -> Result:
    """An "it broke" ticket was resolved by someone who did not build what broke: the resolver
    is whoever signed the resolution; the builders come from the log (who locked the baseline,
    wrote its install script, published the workflows, owned plays 1-3)."""
    tickets = [f for f in ctx.facts.of("ticket.resolved") if f.payload["category"] == "it-broke"]
    if not tickets:
        return failed('no "it broke" ticket resolved yet')
    who_built = builders(ctx)
    for ticket in reversed(tickets):
        if ticket.by not in who_built:
            return passed(
                f"ticket {ticket.payload['ticket']} resolved by {ticket.by}, not a builder "
                f"({names(list(who_built))})",
                ticket,
            )
    return failed('every "it broke" ticket so far was resolved by its original builder', *tickets)
