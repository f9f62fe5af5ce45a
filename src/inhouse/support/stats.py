"""``inhouse support stats``: how the queue is doing, per component.

For each component: its tickets (and how many are "it broke"), the median time from opening to
the resolution a resolved ticket stands on, the share of resolved tickets resolved without its
builders (by the rules of play 5's ``ticket-resolved-without-builder``: an enrolled person
outside the builders resolved it from a machine of their own, no builder commented on it, was
assigned it or resolved it, an import's word for who opened and resolved it is confirmed by
them with ``inhouse support confirm``, never disputed, and the ticket's opener confirmed the
fix with their own key, ``inhouse support confirm-fix``), shown apart: those that meet every
rule but the opener's confirmation (a resolution is its resolver's word until then), the reopen
rate (tickets ever
resolved that were reopened), and the Contributor Absence Factor of its resolvers (CHAOSS: the
fewest people who together resolved at least half of its resolved tickets; 1 means one person's
absence stops half the fixes).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from inhouse.program.counting import build_context
from inhouse.program.playchecks._shared import Ticket, builders_of, fold_tickets
from inhouse.program.playchecks.support import why_not_without_builders

if TYPE_CHECKING:
    from datetime import datetime

    from inhouse.program import Program
    from inhouse.program.checks import CheckContext

__all__ = ["ComponentStats", "absence_factor", "component_stats", "support_stats"]


@dataclass(frozen=True)
class ComponentStats:
    component: str
    builders: list[str]
    tickets: int
    it_broke: int
    open: int
    resolved: int
    median_hours_to_resolve: float | None  # None: nothing resolved yet
    #: resolved without the builders, the fix confirmed by the ticket's opener
    resolved_without_builders: int
    share_without_builders: float | None  # of the resolved tickets
    #: resolved without the builders by every other rule, the opener's confirmation awaited:
    #: the resolver's word alone, never in ``resolved_without_builders``
    awaiting_fix_confirmation: int
    ever_resolved: int
    reopened: int
    reopen_rate: float | None  # reopened / ever resolved
    absence_factor: int | None  # CHAOSS Contributor Absence Factor of the resolvers
    resolvers: dict[str, int]  # who resolved how many (the resolution each stands on)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def absence_factor(resolved_by: Counter[str]) -> int | None:
    """The fewest people who together resolved at least half the tickets (None: none)."""
    total = sum(resolved_by.values())
    if not total:
        return None
    covered = 0
    for count, (_, resolved) in enumerate(resolved_by.most_common(), start=1):
        covered += resolved
        if covered * 2 >= total:
            return count
    raise AssertionError("unreachable: the counts sum to the total")  # pragma: no cover


def without_builders(ctx: CheckContext, ticket: Ticket, *, fix_confirmed: bool = True) -> bool:
    """Resolved without its component's builders (as they stood at its resolution), by the
    rules of ``ticket-resolved-without-builder`` (an enrolled person outside the builders
    resolved it, on a machine of their own, no builder took part, an imported opener and
    resolver confirmed it with their own keys, `inhouse support confirm`, and disputed none of
    it, and its opener confirmed the fix, `inhouse support confirm-fix`; ``fix_confirmed``
    False: every rule but the last), a reopening aside (counted apart); never for a component
    nobody built according to the log."""
    return (
        ticket.resolution is not None
        and why_not_without_builders(ctx, ticket, fix_confirmed=fix_confirmed) is None
    )


def component_stats(
    component: str, tickets: list[Ticket], builders: set[str], ctx: CheckContext
) -> ComponentStats:
    """The figures for one component's ``tickets``."""
    resolved = [t for t in tickets if t.resolution is not None]
    hours = [
        (t.resolution.at - t.opened.at).total_seconds() / 3600
        for t in resolved
        if t.resolution is not None
    ]
    # a resolution is its resolver's word that it is fixed: it counts once the ticket's opener
    # confirms the fix, and until then it is shown apart (a support owner resolving every
    # user's ticket with a made-up note would otherwise make the figure 100 %)
    otherwise = [t for t in resolved if without_builders(ctx, t, fix_confirmed=False)]
    without = [t for t in otherwise if t.fix_confirmed() is not None]
    ever = [t for t in tickets if t.of("resolved")]
    reopened = [t for t in ever if t.of("reopened")]
    resolvers = Counter(t.resolution.actor or "(unmapped)" for t in resolved if t.resolution)
    return ComponentStats(
        component=component,
        builders=sorted(builders),
        tickets=len(tickets),
        it_broke=sum(1 for t in tickets if t.category == "it-broke"),
        open=len(tickets) - len(resolved),
        resolved=len(resolved),
        median_hours_to_resolve=statistics.median(hours) if hours else None,
        resolved_without_builders=len(without),
        share_without_builders=len(without) / len(resolved) if resolved else None,
        awaiting_fix_confirmation=len(otherwise) - len(without),
        ever_resolved=len(ever),
        reopened=len(reopened),
        reopen_rate=len(reopened) / len(ever) if ever else None,
        absence_factor=absence_factor(resolvers),
        resolvers=dict(sorted(resolvers.items())),
    )


def support_stats(program: Program, now: datetime | None = None) -> list[ComponentStats]:
    """Per component (most tickets first), then ``*`` for the whole queue (its builders: no
    one; each ticket is judged against its own component's builders), as the checks count the
    log at ``now`` (default: the clock's)."""
    context = build_context(program.state(), program.clock() if now is None else now)
    tickets = fold_tickets(context.facts, context.people, context.held_role_at)
    by_component: dict[str, list[Ticket]] = {}
    for ticket in tickets.values():
        by_component.setdefault(ticket.component, []).append(ticket)
    rows = []
    built: dict[str, set[str]] = {}
    for component, found in by_component.items():
        built[component] = builders_of(context, component)
        rows.append(component_stats(component, found, built[component], context))
    rows.sort(key=lambda row: (-row.tickets, row.component))
    if not tickets:
        return rows
    whole = component_stats("*", list(tickets.values()), set(), context)
    without = sum(row.resolved_without_builders for row in rows)
    awaiting = sum(row.awaiting_fix_confirmation for row in rows)
    return [
        *rows,
        ComponentStats(
            **{
                **asdict(whole),
                "resolved_without_builders": without,
                "share_without_builders": without / whole.resolved if whole.resolved else None,
                "awaiting_fix_confirmation": awaiting,
            }
        ),
    ]
