"""Leading indicators for one period, read from the gateway's daily rollups (``inhouse.usage``)
and, for who is who, from the program's folded state: never from a person's say-so.

*Active* has one fixed definition everywhere: a person is active on a day (UTC) when at least
one request of theirs was answered (status below 400) through a gateway key of their own. A
request through a key bound to a local agent is the agent's doing and makes nobody active.

Who was active comes from what the gateway's key signed: a person counts on a day only where
the gateway's counted ``usage.daily`` fact gives them requests through their own key that day
(``own``; so only on days they held a gateway key they fetched themselves,
:mod:`inhouse.program.counting`). A day signed before the rollup counted ``own`` counts where
it signed answered requests of theirs and the usage log's summary tables say some were through
their own key. A row typed into the usage log by anyone with the database's password makes
nobody active.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from inhouse.db import Store
from inhouse.figures import count as count_of
from inhouse.indicators.model import Indicator
from inhouse.indicators.periods import Period
from inhouse.program.checks import CheckContext
from inhouse.program.facts import latest_usage
from inhouse.program.lagging_words import signed_runs, workflow_name
from inhouse.program.playchecks._shared import RunsApart, fold_tickets, insiders
from inhouse.support.stats import without_builders
from inhouse.usage import (
    ActivityGrid,
    ReferenceSummary,
    UsageTotals,
    activity_grid,
    reference_summary,
    totals,
)

__all__ = [
    "ACTIVE",
    "Authors",
    "PeriodUsage",
    "Signed",
    "SignedDay",
    "grid_for",
    "leading_indicators",
    "signed_grid",
]

ACTIVE = (
    "active on a day (UTC): at least one request answered (status below 400) through a "
    "gateway key of the person's own; an agent's key makes nobody active"
)


#: what the workflow runs stand on, where the report reads the gateway's signed usage
SIGNED_RUNS_SAID = (
    "as the gateway's key signed them (`inhouse gateway rollup`; exit rule 22 counts the "
    "same), none on a day signed before the rollup counted them, and none of a rollout "
    "lead's own (exit rule 23: the gateway's host is its operator's)"
)
#: and where it does not
TABLE_RUNS = "as the usage log's summary tables count them (unsigned)"

#: what the daily, weekly and monthly active counts stand on
SIGNED_DAYS = (
    "a day counts only where the gateway's key signed the person's answered requests through "
    "their own key that day (`inhouse gateway rollup`), on a day they held a gateway key of "
    "their own"
)


@dataclass(frozen=True)
class Authors:
    """Who authored each library prompt and each workflow, by name: the signers of its
    versions (never a name typed into a file). A version brought in by ``inhouse prompts
    import`` has an author nobody knows (whoever ran the import is not it): it is in
    ``unknown`` (``name@N``), and its use by "non-authors" cannot be told apart."""

    prompts: dict[str, set[str]]
    workflows: dict[str, set[str]]
    unknown: frozenset[str] = frozenset()

    @classmethod
    def of(cls, ctx: CheckContext) -> Authors:
        prompts: dict[str, set[str]] = {}
        unknown: set[str] = set()
        for fact in ctx.facts.of("prompt.version"):
            name = str(fact.payload["prompt"])
            if fact.payload.get("imported"):
                unknown.add(f"{name}@{fact.payload['version']}")
            else:
                prompts.setdefault(name, set()).add(fact.by)
        workflows: dict[str, set[str]] = {}
        for fact in ctx.facts.of("workflow.spec"):
            workflows.setdefault(str(fact.payload["workflow"]), set()).add(fact.by)
        return cls(prompts, workflows, frozenset(unknown))

    def everyone(self) -> set[str]:
        """Whoever authored any prompt or workflow."""
        return set().union(*self.prompts.values(), *self.workflows.values())


def _name(ref: str) -> str:
    """``triage@2`` -> ``triage``: prompts and workflows are authored by name."""
    return workflow_name(ref)


def _in(day: date, period: Period) -> bool:
    return period.start <= day <= period.end


@dataclass(frozen=True, slots=True)
class SignedDay:
    """One day of what the gateway's key signed: the answered requests and tokens summed over
    everyone, who had answered requests (every key's, agents' included), who had some through
    a key of their own (active that day), and those it does not say that of (a fact from
    before the rollup counted own-key requests)."""

    requests: int
    tokens_in: int
    tokens_out: int
    people: frozenset[str]
    own: frozenset[str] = frozenset()
    unsure: frozenset[str] = frozenset()
    #: the ISO day
    day: str = ""
    #: each workflow's runs (by name) the gateway's key signed that day, per person whose
    #: requests they were: (person, workflow, runs)
    runs: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class Signed:
    """What the gateway's key signed over a span, per day, as play 6's checks count it: the
    counted ``usage.daily`` facts (only for the days each person held a gateway key they
    fetched themselves), the latest per day and person. Read once per report, since both
    periods, their active days and the trend read it; summed per day as it is read (a fact's
    people are not copied one by one: a quarter of a department's days is ~180,000 of them)."""

    days: dict[str, SignedDay]

    @classmethod
    def read(cls, ctx: CheckContext, since: date, until: date) -> Signed:
        latest = latest_usage(ctx.facts.of("usage.daily"), since.isoformat(), until.isoformat())
        return cls({day: _summed(day, people) for day, (people, _) in latest.items()})

    def within(self, since: date, until: date) -> list[SignedDay]:
        first, last = since.isoformat(), until.isoformat()
        return [figures for day, figures in self.days.items() if first <= day <= last]

    def masks(self, first: date, days: int) -> tuple[dict[str, int], dict[str, int]]:
        """Each person's days, as masks of a grid of ``days`` columns whose first is
        ``first``: those the gateway's key signed requests through their own key on (active),
        and those it signed answered requests on without saying whose key (facts from before
        it said: active where the summary tables say so)."""
        own: dict[str, int] = {}
        unsure: dict[str, int] = {}
        for day, figures in self.days.items():
            column = (date.fromisoformat(day) - first).days
            if 0 <= column < days:
                bit = 1 << column
                for person in figures.own:
                    own[person] = own.get(person, 0) | bit
                for person in figures.unsure:
                    unsure[person] = unsure.get(person, 0) | bit
        return own, unsure


def _summed(day: str, people: dict[str, Any]) -> SignedDay:
    requests = tokens_in = tokens_out = 0
    used, own, unsure = [], [], []
    runs: list[tuple[str, str, int]] = []
    for person, figures in people.items():
        runs.extend((str(person), name, ran) for name, ran in signed_runs(figures).items())
        count = int(figures.get("requests", 0))
        if count > 0:
            name = str(person)
            used.append(name)
            requests += count
            mine = figures.get("own")
            if mine is None:
                unsure.append(name)
            elif int(mine) > 0:
                own.append(name)
        tokens_in += int(figures.get("tokens_in", 0))
        tokens_out += int(figures.get("tokens_out", 0))
    return SignedDay(requests, tokens_in, tokens_out, frozenset(used), frozenset(own),
                     frozenset(unsure), day, tuple(sorted(runs)))  # fmt: skip


@dataclass(frozen=True)
class PeriodUsage:
    """What a period's indicators read from the usage log, read once: the answered requests'
    totals, and library prompt and workflow use summed per prompt and workflow, with the
    authors' own use apart."""

    answered: UsageTotals
    references: ReferenceSummary
    #: answered requests in the usage log that the gateway's signed daily usage leaves out
    #: (use of weights no recorded lock blessed that day, people holding no gateway key of
    #: their own then): the report counts what was signed, as play 6's check does
    left_out: int = 0
    #: the people whose answered requests the gateway's key signed (None: not read)
    signed_people: frozenset[str] | None = None
    #: each workflow's runs the gateway's key signed in the period through the requests of
    #: people told apart from the rollout leads, per (workflow's name, person) (None: not read)
    signed_runs: dict[tuple[str, str], int] | None = None

    @classmethod
    def read(
        cls,
        store: Store,
        period: Period,
        authors: Authors,
        ctx: CheckContext | None = None,
        signed: Signed | None = None,
        not_own: Collection[str] = (),
    ) -> PeriodUsage:
        """The period's usage; with ``ctx``, the answered requests and who made them are what
        the gateway's key signed (``signed``, read over a span that covers the period, or
        read here). ``not_own``: the gateway keys whose requests are nobody's own use
        (:func:`inhouse.program.counting.not_their_fetch`), set apart in the prompt and
        workflow use."""
        since, until = period.start, period.end
        logged = totals(store, (), since=since, until=until)[0]
        answered, left_out, people = logged, 0, None
        runs: dict[tuple[str, str], int] | None = None
        if ctx is not None:  # the rollup's rules: what the gateway's key signed for the period
            days = (signed or Signed.read(ctx, since, until)).within(since, until)
            answered = UsageTotals(
                requests=sum(d.requests for d in days),
                tokens_in=sum(d.tokens_in for d in days),
                tokens_out=sum(d.tokens_out for d in days),
                busy_ms=logged.busy_ms,  # no signed figure carries it: the tables' word
            )
            left_out = max(0, logged.requests - answered.requests)
            people = frozenset().union(*(d.people for d in days))
            # a lead's own runs change no work: the gateway's host is its operator's, who
            # seals its rows, and a lead confirms her own days (exit rule LEAD_RUNS); a lead's
            # are those signed once she had been one (exit rule LEAD_RUNS_THEN), as play 6's
            # check counts them
            apart = RunsApart(ctx)
            runs = {}
            for day in days:
                for person, name, ran in day.runs:
                    if count := apart.runs(person, day.day, {name: ran}).get(name, 0):
                        runs[name, person] = runs.get((name, person), 0) + count
        return cls(
            answered=answered,
            references=reference_summary(
                store, since=since, until=until, people=authors.everyone(), not_own=not_own
            ),
            left_out=left_out,
            signed_people=people,
            signed_runs=runs,
        )

    def runs(self) -> dict[str, int]:
        """Workflow runs per workflow name: those the gateway's key signed through the
        requests of people told apart from the rollout leads, where read (play 6's check counts
        only them); else the usage log's summary tables'."""
        found: dict[str, int] = {}
        if self.signed_runs is not None:
            for (name, _), ran in self.signed_runs.items():
                found[name] = found.get(name, 0) + ran
            return found
        for workflow, requests in self.references.workflows.items():
            name = _name(workflow)
            found[name] = found.get(name, 0) + requests
        return found


def grid_for(
    store: Store,
    *periods: Period,
    ctx: CheckContext | None = None,
    signed: Signed | None = None,
    not_own: Collection[str] = (),
) -> ActivityGrid:
    """One activity grid covering ``periods`` and the 29 days before the earliest (the
    monthly window of its first day); with ``ctx``, only the days the gateway's key signed
    answered requests for (``signed`` where read already, over a span that covers the grid):
    the summary tables alone, which anyone with the database's password can write, make
    nobody active. ``not_own``: as :func:`signed_grid`'s."""
    since = min(p.start for p in periods) - timedelta(days=29)
    until = max(p.end for p in periods)
    if ctx is None:
        return activity_grid(store, since=since, until=until, not_own=not_own)
    signed = signed or Signed.read(ctx, since, until)
    return signed_grid(store, signed, since=since, until=until, not_own=not_own)


def signed_grid(
    store: Store, signed: Signed, *, since: date, until: date, not_own: Collection[str] = ()
) -> ActivityGrid:
    """The activity grid from ``since`` to ``until`` as the gateway's key signed it
    (``signed``): a person is active on a day it signed requests through their own key on; on
    a day signed before the rollup counted those (no ``own``), where it signed answered
    requests of theirs and the summary tables' grid (one read, a few rows per person) says
    some were through their own key, not one of the keys ``not_own`` names (fetched in their
    name by a key that never signed in as them, :func:`inhouse.program.counting.not_their_fetch`:
    the rule the rollup's ``own`` counts by). The tables alone make nobody active."""
    grid = activity_grid(store, since=since, until=until, not_own=not_own)
    own, unsure = signed.masks(grid.first, grid.days)
    return grid.only(unsure, sure=own)


def _nobodys(
    refs: ReferenceSummary, authors: Authors
) -> tuple[dict[str, int], dict[str, int], dict[tuple[str, str], int]]:
    """Of the requests through keys not their person's own (``refs.not_own``), those of people
    who authored no version of the prompt or workflow: per prompt, per workflow, and per
    (prompt, person). An author's are their own use already, left out of the non-authors'."""
    uses: dict[str, int] = {}
    runs: dict[str, int] = {}
    aside: dict[tuple[str, str], int] = {}
    for use in refs.not_own:
        prompt, workflow = use.prompt, use.workflow
        if prompt is not None and use.person not in authors.prompts.get(_name(prompt), ()):
            uses[prompt] = uses.get(prompt, 0) + use.requests
            aside[prompt, use.person] = aside.get((prompt, use.person), 0) + use.requests
        if workflow is not None and use.person not in authors.workflows.get(_name(workflow), ()):
            runs[workflow] = runs.get(workflow, 0) + use.requests
    return uses, runs, aside


def leading_indicators(
    store: Store,
    ctx: CheckContext,
    period: Period,
    grid: ActivityGrid | None = None,
    used: PeriodUsage | None = None,
) -> list[Indicator]:
    """Every leading indicator of ``period`` (definitions in docs/indicators.md); ``grid`` must
    cover it and the 29 days before, and hold only the days the gateway's key signed
    (:func:`grid_for` with ``ctx``)."""
    since, until = period.start, period.end
    grid = grid or grid_for(store, period, ctx=ctx)
    authors = Authors.of(ctx)
    used = used or PeriodUsage.read(store, period, authors, ctx)
    active = grid.active_between(since, until)
    if used.signed_people is not None:  # only use the gateway's key signed makes anyone active
        active &= used.signed_people
    dau, wau, mau = (grid.mean_active(since, until, width=w) for w in (1, 7, 30))
    inside = insiders(ctx)
    beyond = sorted(active - inside)
    answered = used.answered

    # each prompt version's and workflow's use, less its authors' own (a prompt or workflow
    # nobody signed a version of, or an imported version, has no non-author use: there is
    # nobody to tell apart)
    refs = used.references
    own_uses: dict[str, int] = {}
    own_people: dict[str, set[str]] = {}
    own_runs: dict[str, int] = {}
    for use in refs.of:
        if use.prompt is not None and use.person in authors.prompts.get(_name(use.prompt), ()):
            own_uses[use.prompt] = own_uses.get(use.prompt, 0) + use.requests
            own_people.setdefault(use.prompt, set()).add(use.person)
        if use.workflow is not None and use.person in authors.workflows.get(
            _name(use.workflow), ()
        ):
            own_runs[use.workflow] = own_runs.get(use.workflow, 0) + use.requests
    # a non-author's request through a key fetched in their name by a key that never signed in
    # as them is nobody's own use (the rollup's rule): no use by a non-author, and a person
    # whose every use of a prompt came so is no user of it
    nobody_uses, nobody_runs, aside = _nobodys(refs, authors)
    sent: dict[tuple[str, str], int] = {}
    for use in refs.of:
        if use.prompt is not None and (use.prompt, use.person) in aside:
            sent[use.prompt, use.person] = sent.get((use.prompt, use.person), 0) + use.requests
    not_users: dict[str, int] = {}
    for (prompt, person), requests in aside.items():
        if sent.get((prompt, person), 0) <= requests:
            not_users[prompt] = not_users.get(prompt, 0) + 1
    prompt_uses = sum(requests for requests, _ in refs.prompts.values())
    non_author_prompt_uses = 0
    reused: set[str] = set()
    for prompt, (requests, users) in refs.prompts.items():
        if authors.prompts.get(_name(prompt)) and prompt not in authors.unknown:
            non_author_prompt_uses += (
                requests - own_uses.get(prompt, 0) - nobody_uses.get(prompt, 0)
            )
            if users > len(own_people.get(prompt, ())) + not_users.get(prompt, 0):
                reused.add(_name(prompt))
    runs = sum(refs.workflows.values())
    by_others: dict[str, int] = {}  # per workflow's name, as the summary tables count them
    for workflow, requests in refs.workflows.items():
        if authors.workflows.get(name := _name(workflow)):
            by_others[name] = (
                by_others.get(name, 0)
                + requests
                - own_runs.get(workflow, 0)
                - nobody_runs.get(workflow, 0)
            )
    runs_said = TABLE_RUNS
    if used.signed_runs is not None:
        # the runs the gateway's key signed, as exit rules 22 and 23 (SIGNED_RUNS, LEAD_RUNS)
        # count them; whose key each went through (their own, an agent's, one fetched in
        # their name) no signed figure says: the tables tell that, and may lower a workflow's
        # non-author runs to their count, never raise them over what was signed
        runs = sum(used.signed_runs.values())
        signed_others: dict[str, int] = {}
        for (name, person), ran in used.signed_runs.items():
            if authors.workflows.get(name) and person not in authors.workflows[name]:
                signed_others[name] = signed_others.get(name, 0) + ran
        by_others = {name: min(ran, by_others.get(name, 0)) for name, ran in signed_others.items()}
        runs_said = SIGNED_RUNS_SAID
    non_author_runs = sum(by_others.values())

    tickets = fold_tickets(ctx.facts, ctx.people, ctx.held_role_at)
    opened = [t for t in tickets.values() if _in(t.opened.at.date(), period)]
    resolved = [
        t
        for t in tickets.values()
        if t.resolution is not None and _in(t.resolution.at.date(), period)
    ]
    without = [t for t in resolved if without_builders(ctx, t)]

    def made(name: str, title: str, value: float | None, unit: str, definition: str,
             reason: str = "") -> Indicator:  # fmt: skip
        return Indicator(name, title, "leading", value, unit, definition, reason)

    share = len(without) / len(resolved) if resolved else None
    return [
        made("answered_requests", "Answered requests", answered.requests, "requests",
             "requests the gateway answered (status below 400), every key, agents included, "
             "as the gateway's key signed them (`inhouse gateway rollup`); "
             f"{count_of(used.left_out, 'answered requests')} in the usage log left out, as "
             "the rollup "
             "leaves them out: on weights no recorded lock blessed that day, or by people "
             "holding no gateway key of their own"),
        made("active_users", "Active people", len(active), "people",
             f"people active on at least one day of the period; {ACTIVE}"),
        made("dau", "Daily active people (mean)", round(dau, 3), "people",
             "for each day of the period, the people active that day; the mean over the days; "
             f"{SIGNED_DAYS}"),
        made("wau", "Weekly active people (mean)", round(wau, 3), "people",
             "for each day, the people active in the 7 days ending that day; the mean; "
             f"{SIGNED_DAYS}"),
        made("mau", "Monthly active people (mean)", round(mau, 3), "people",
             "for each day, the people active in the 30 days ending that day; the mean; "
             f"{SIGNED_DAYS}"),
        made("stickiness", "Stickiness (DAU/MAU)", round(dau / mau, 4) if mau else None,
             "ratio", "mean daily active people divided by mean monthly active people",
             "" if mau else "nobody was active in the 30 days ending any day of the period"),
        made("people_beyond_pilot", "People beyond the pilot", len(beyond), "people",
             "active people who never held a role in the program, were never added to the "
             "pilot and own no play (not a pilot member, owner, champion or lead, now or "
             "before)"),
        made("prompt_uses", "Library prompt uses", prompt_uses, "requests",
             "answered requests that carried a library prompt (X-Inhouse-Prompt or rendered)"),
        made("prompt_uses_by_non_authors", "Library prompt uses by non-authors",
             non_author_prompt_uses, "requests",
             "library prompt uses by someone who signed no version of that prompt, through a "
             "key of their own (not one fetched in their name by someone else)"),
        made("prompts_reused", "Prompts reused", len(reused), "prompts",
             "distinct library prompts used by at least one person who signed no version of "
             "it, through a key of their own"),
        made("workflow_runs", "Workflow runs", runs, "runs",
             f"answered requests that named a workflow (X-Inhouse-Workflow: NAME), {runs_said}"),
        made("workflow_runs_by_non_authors", "Workflow runs by non-authors", non_author_runs,
             "runs", "workflow runs by someone who published no version of that workflow, "
             f"through a key of their own; the runs {runs_said}, whose key each went through "
             "the usage log's summary tables' word (they may lower the count, never raise "
             "it)"),
        made("tickets_opened", "Tickets opened", len(opened), "tickets",
             "support tickets opened in the period"),
        made("tickets_resolved", "Tickets resolved", len(resolved), "tickets",
             "support tickets whose standing resolution falls in the period, whether or not "
             "their opener confirmed the fix"),
        made("share_resolved_without_builders", "Share resolved without builders, fix confirmed",
             None if share is None else round(share, 4), "ratio",
             "of the tickets resolved in the period, the share resolved by an enrolled person "
             "outside the component's builders with no builder taking part, whose opener "
             "confirmed the fix with their own key (`inhouse support confirm-fix`): a "
             "resolution its opener has not confirmed is its resolver's word, resolved but "
             "not counted here",
             "" if resolved else "no ticket was resolved in the period"),
    ]  # fmt: skip
