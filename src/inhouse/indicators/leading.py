"""Leading indicators for one period, read from the gateway's daily rollups (``inhouse.usage``)
and, for who is who, from the program's folded state: never from a person's say-so.

*Active* has one fixed definition everywhere: a person is active on a day (UTC) when at least
one request of theirs was answered (status below 400) through a gateway key of their own. A
request through a key bound to a local agent is the agent's doing and makes nobody active.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from inhouse.db import Store
from inhouse.indicators.model import Indicator
from inhouse.indicators.periods import Period
from inhouse.program.checks import CheckContext
from inhouse.program.playchecks._shared import component_builders, fold_tickets, insiders
from inhouse.support.stats import without_builders
from inhouse.usage import (
    ActivityGrid,
    ReferenceUse,
    UsageTotals,
    activity_grid,
    reference_use,
    totals,
)

__all__ = ["ACTIVE", "Authors", "PeriodUsage", "grid_for", "leading_indicators"]

ACTIVE = (
    "active on a day (UTC): at least one request answered (status below 400) through a "
    "gateway key of the person's own; an agent's key makes nobody active"
)


@dataclass(frozen=True)
class Authors:
    """Who authored each library prompt and each workflow, by name: the signers of its
    versions (never a name typed into a file)."""

    prompts: dict[str, set[str]]
    workflows: dict[str, set[str]]

    @classmethod
    def of(cls, ctx: CheckContext) -> Authors:
        prompts: dict[str, set[str]] = {}
        for fact in ctx.facts.of("prompt.version"):
            prompts.setdefault(str(fact.payload["prompt"]), set()).add(fact.by)
        workflows: dict[str, set[str]] = {}
        for fact in ctx.facts.of("workflow.spec"):
            workflows.setdefault(str(fact.payload["workflow"]), set()).add(fact.by)
        return cls(prompts, workflows)


def _name(ref: str) -> str:
    """``triage@2`` -> ``triage``: prompts and workflows are authored by name."""
    return ref.split("@", 1)[0]


def _in(day: date, period: Period) -> bool:
    return period.start <= day <= period.end


@dataclass(frozen=True)
class PeriodUsage:
    """What a period's indicators read from the usage log, read once: the answered requests'
    totals and each person's use of library prompts and workflows."""

    answered: UsageTotals
    references: list[ReferenceUse]

    @classmethod
    def read(cls, store: Store, period: Period) -> PeriodUsage:
        since, until = period.start, period.end
        return cls(
            answered=totals(store, (), since=since, until=until)[0],
            references=reference_use(store, since=since, until=until),
        )

    def runs(self) -> dict[str, int]:
        """Workflow runs per workflow name."""
        found: dict[str, int] = {}
        for use in self.references:
            if use.workflow is not None:
                name = _name(use.workflow)
                found[name] = found.get(name, 0) + use.requests
        return found


def grid_for(store: Store, *periods: Period) -> ActivityGrid:
    """One activity grid covering ``periods`` and the 29 days before the earliest (the
    monthly window of its first day)."""
    since = min(p.start for p in periods) - timedelta(days=29)
    return activity_grid(store, since=since, until=max(p.end for p in periods))


def leading_indicators(
    store: Store,
    ctx: CheckContext,
    period: Period,
    grid: ActivityGrid | None = None,
    used: PeriodUsage | None = None,
) -> list[Indicator]:
    """Every leading indicator of ``period`` (definitions in docs/indicators.md); ``grid`` must
    cover it and the 29 days before (:func:`grid_for`)."""
    since, until = period.start, period.end
    grid = grid or grid_for(store, period)
    used = used or PeriodUsage.read(store, period)
    active = grid.active_between(since, until)
    dau, wau, mau = (grid.mean_active(since, until, width=w) for w in (1, 7, 30))
    inside = insiders(ctx)
    beyond = sorted(active - inside)
    answered = used.answered
    authors = Authors.of(ctx)

    prompt_uses = non_author_prompt_uses = 0
    reused: set[str] = set()
    runs = non_author_runs = 0
    for use in used.references:
        if use.prompt is not None:
            prompt_uses += use.requests
            made_by = authors.prompts.get(_name(use.prompt))
            if made_by and use.person not in made_by:
                non_author_prompt_uses += use.requests
                reused.add(_name(use.prompt))
        if use.workflow is not None:
            runs += use.requests
            made_by = authors.workflows.get(_name(use.workflow))
            if made_by and use.person not in made_by:
                non_author_runs += use.requests

    people = {name for name, person in ctx.people.items() if not person.service}
    tickets = fold_tickets(ctx.facts, ctx.people)
    opened = [t for t in tickets.values() if _in(t.opened.at.date(), period)]
    resolved = [
        t
        for t in tickets.values()
        if t.resolution is not None and _in(t.resolution.at.date(), period)
    ]
    builders = {
        component: component_builders(ctx.facts, ctx.owners, component)
        for component in {t.component for t in resolved}
    }
    without = [t for t in resolved if without_builders(t, builders[t.component], people)]

    def made(name: str, title: str, value: float | None, unit: str, definition: str,
             reason: str = "") -> Indicator:  # fmt: skip
        return Indicator(name, title, "leading", value, unit, definition, reason)

    share = len(without) / len(resolved) if resolved else None
    return [
        made("answered_requests", "Answered requests", answered.requests, "requests",
             "requests the gateway answered (status below 400), every key, agents included"),
        made("active_users", "Active people", len(active), "people",
             f"people active on at least one day of the period; {ACTIVE}"),
        made("dau", "Daily active people (mean)", round(dau, 3), "people",
             "for each day of the period, the people active that day; the mean over the days"),
        made("wau", "Weekly active people (mean)", round(wau, 3), "people",
             "for each day, the people active in the 7 days ending that day; the mean"),
        made("mau", "Monthly active people (mean)", round(mau, 3), "people",
             "for each day, the people active in the 30 days ending that day; the mean"),
        made("stickiness", "Stickiness (DAU/MAU)", round(dau / mau, 4) if mau else None,
             "ratio", "mean daily active people divided by mean monthly active people",
             "" if mau else "nobody was active in the 30 days ending any day of the period"),
        made("people_beyond_pilot", "People beyond the pilot", len(beyond), "people",
             "active people who hold no role in the program and own no play (not in the "
             "pilot, not an owner, champion or lead)"),
        made("prompt_uses", "Library prompt uses", prompt_uses, "requests",
             "answered requests that carried a library prompt (X-Inhouse-Prompt or rendered)"),
        made("prompt_uses_by_non_authors", "Library prompt uses by non-authors",
             non_author_prompt_uses, "requests",
             "library prompt uses by someone who signed no version of that prompt"),
        made("prompts_reused", "Prompts reused", len(reused), "prompts",
             "distinct library prompts used by at least one person who signed no version of it"),
        made("workflow_runs", "Workflow runs", runs, "runs",
             "answered requests that named a workflow (X-Inhouse-Workflow: NAME)"),
        made("workflow_runs_by_non_authors", "Workflow runs by non-authors", non_author_runs,
             "runs", "workflow runs by someone who published no version of that workflow"),
        made("tickets_opened", "Tickets opened", len(opened), "tickets",
             "support tickets opened in the period"),
        made("tickets_resolved", "Tickets resolved", len(resolved), "tickets",
             "support tickets whose standing resolution falls in the period"),
        made("share_resolved_without_builders", "Share resolved without builders",
             None if share is None else round(share, 4), "ratio",
             "of the tickets resolved in the period, the share resolved by an enrolled person "
             "outside the component's builders with no builder taking part",
             "" if resolved else "no ticket was resolved in the period"),
    ]  # fmt: skip
