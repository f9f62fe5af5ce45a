"""Who used the tool on which days: distinct active days per person, the last one, and the
library prompts they sent, read from the gateway's usage log by the database.

    active_days(store, ["bob", "pia"], since="2026-11-01", until="2026-11-28")
    last_active(store, ["bob", "pia"], until="2026-11-28")     # {"bob": "2026-11-27", ...}
    prompts_used(store, ["bob"], since=..., until=...)          # {"bob": {"triage@2"}, ...}

A day is *active* for a person when a request of theirs was answered on it (status below 400)
through a key of their own: requests through a key bound to a local agent are the agent's
doing, not the person reaching for the tool, and count only with ``agents=True``, and so do those
through the keys ``not_own`` names (fetched in the person's name by a key that never signed in
as them: :func:`inhouse.program.counting.not_their_fetch`, the rule the gateway's signed
rollup counts by, so what these tables say agrees with what play 4's checks read). Days are the
usage log's (UTC); ``since`` and ``until`` are both included. Play 4's adoption and its survey's
eligibility rule read these (:mod:`inhouse.pilot`).

The per-day and per-month tables the gateway's writer keeps (``usage_days``' ``active``,
``usage_people_monthly``) count a person active on any day with a request through a key not
bound to an agent: the writer does not know the program, and whether a key's fetch was its
person's own can change after its rows were written (its signing key signs in as them later,
or the sign-in is set up). So the rule is applied where they are read: :func:`unowned_days`
names the person-days they count only through the keys ``not_own`` names, and :func:`days`
and :func:`inhouse.usage.grid.activity_grid` leave those out.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal, select, union_all

from inhouse.db import Store
from inhouse.db.schema import usage_daily, usage_days
from inhouse.usage.totals import day_text

__all__ = [
    "ActiveDay",
    "Day",
    "active_days",
    "days",
    "last_active",
    "prompts_used",
    "unowned_days",
    "workflow_days",
]

_usage = usage_daily.c  # the daily rollups: one row per person, day, key, prompt, ...
_COMPOUND = 200  # selects per UNION ALL (SQLite allows 500)


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveDay:
    """One person's answered requests on one day, and when the latest of them happened."""

    person: str
    day: str
    requests: int
    last_at: str  # ISO-8601 UTC, as the usage log keeps ``at``
    #: the tokens (in and out) of those requests: what a confirmation of the day binds beside
    #: its requests (:mod:`inhouse.pilot.usage_confirm`)
    tokens: int = 0


def active_days(
    store: Store,
    people: Iterable[str],
    *,
    since: date | str,
    until: date | str,
    agents: bool = False,
    not_own: Collection[str] = (),
) -> list[ActiveDay]:
    """Each of ``people``'s active days from ``since`` to ``until``, by person then day."""
    names = sorted(set(people))
    if not names:
        return []
    query = (
        select(
            _usage.person,
            _usage.day,
            func.sum(_usage.requests),
            func.max(_usage.last_at),
            func.sum(_usage.tokens_in + _usage.tokens_out),
        )
        .where(_answered(names, agents, not_own), *_window(since, until))
        .group_by(_usage.person, _usage.day)
        .order_by(_usage.person, _usage.day)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        ActiveDay(
            person=str(person),
            day=str(day),
            requests=int(count),
            last_at=str(last),
            tokens=int(tokens or 0),
        )
        for person, day, count, last, tokens in rows
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class Day:
    """One day's answered requests, their tokens and busy time, and how many were active."""

    day: str
    active: int  # people with a request answered through a key of their own
    requests: int
    tokens_in: int
    tokens_out: int
    busy_ms: float


def days(
    store: Store, *, since: date | str, until: date | str, not_own: Collection[str] = ()
) -> list[Day]:
    """Each day from ``since`` to ``until`` with any answered request, oldest first: one row
    per day from the per-day sums (``usage_days``), however many people were active; a
    person active that day only through the keys ``not_own`` names is not (their requests
    and tokens still count: they were answered)."""
    unowned: dict[str, int] = {}
    for day, _ in unowned_days(store, not_own, since=since, until=until):
        unowned[day] = unowned.get(day, 0) + 1
    d = usage_days.c
    query = (
        select(d.day, d.active, d.requests, d.tokens_in, d.tokens_out, d.busy_ms)
        .where(d.day >= day_text(since, "since"), d.day <= day_text(until, "until"))
        .order_by(d.day)
    )
    with store.engine.connect() as conn:
        return [
            Day(day=str(d), active=int(a) - unowned.get(str(d), 0), requests=int(r),
                tokens_in=int(i), tokens_out=int(o), busy_ms=float(b))
            for d, a, r, i, o, b in conn.execute(query)
        ]  # fmt: skip


def last_active(
    store: Store,
    people: Iterable[str],
    *,
    until: date | str | None = None,
    agents: bool = False,
    not_own: Collection[str] = (),
) -> dict[str, str]:
    """Each of ``people``'s latest active day (up to ``until``); nobody who never used it."""
    names = sorted(set(people))
    if not names:
        return {}
    last = day_text(until, "until") if until is not None else None
    # one MAX per person, not one GROUP BY: each reads its person's newest entries of the
    # (person, day) index backwards and stops at the first answered day
    latest = []
    for name in names:
        query = select(literal(name).label("person"), func.max(_usage.day).label("day"))
        query = query.where(_answered([name], agents, not_own))
        latest.append(query if last is None else query.where(_usage.day <= last))
    found: dict[str, str] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(latest), _COMPOUND):  # SQLite's limit on one UNION
            for person, day in conn.execute(union_all(*latest[start : start + _COMPOUND])):
                if day is not None:
                    found[str(person)] = str(day)
    return found


def prompts_used(
    store: Store,
    people: Iterable[str],
    *,
    since: date | str,
    until: date | str,
    agents: bool = False,
    not_own: Collection[str] = (),
) -> dict[str, set[str]]:
    """The distinct library prompts (the ``prompt_id`` a request carried) each of ``people``
    sent in answered requests from ``since`` to ``until``; nobody who sent none."""
    names = sorted(set(people))
    if not names:
        return {}
    query = (
        select(_usage.person, _usage.prompt_id)
        .where(_answered(names, agents, not_own), _usage.prompt_id != "", *_window(since, until))
        .distinct()
    )
    found: dict[str, set[str]] = {}
    with store.engine.connect() as conn:
        for person, prompt in conn.execute(query).all():
            found.setdefault(str(person), set()).add(str(prompt))
    return found


def unowned_days(
    store: Store, not_own: Collection[str], *, since: date | str, until: date | str
) -> set[tuple[str, str]]:
    """The (day, person) pairs from ``since`` to ``until`` on which the summary tables count the
    person active only through the keys ``not_own`` names: answered requests through one of
    them (not bound to an agent), and none through another key of the person's own. Read from
    the daily rollups, which keep each key apart; none without ``not_own`` (nearly always: no
    sign-in, or every key fetched by its person)."""
    if not not_own:
        return set()
    window = _window(since, until)
    through = (
        select(_usage.day, _usage.person)
        .where(_usage.key_id.in_(sorted(not_own)), _usage.answered == 1, _usage.agent == "",
               *window)
        .distinct()
    )  # fmt: skip
    with store.engine.connect() as conn:
        found = {(str(day), str(person)) for day, person in conn.execute(through)}
        if not found:
            return found
        people = sorted({person for _, person in found})
        mine = select(_usage.day, _usage.person).where(_answered(people, False, not_own), *window)
        found -= {(str(day), str(person)) for day, person in conn.execute(mine.distinct())}
    return found


def workflow_days(
    store: Store, person: str, *, since: date | str, until: date | str
) -> dict[str, dict[str, int]]:
    """Per day (ISO) from ``since`` to ``until``, ``person``'s answered requests that named
    each workflow (as the request named it: ``name`` or ``name@version``), every key of theirs,
    their agents' too: the runs the gateway's rollup signs of the day, as the usage log holds
    them before it does (what a confirmation of a day not signed yet binds)."""
    query = (
        select(_usage.day, _usage.workflow_id, func.sum(_usage.requests))
        .where(_answered([person], True, ()), _usage.workflow_id != "", *_window(since, until))
        .group_by(_usage.day, _usage.workflow_id)
    )
    found: dict[str, dict[str, int]] = {}
    with store.engine.connect() as conn:
        for day, workflow, count in conn.execute(query).all():
            if count:
                found.setdefault(str(day), {})[str(workflow)] = int(count)
    return found


def _answered(names: list[str], agents: bool, not_own: Collection[str]) -> ColumnElement[Any]:
    who = _usage.person == names[0] if len(names) == 1 else _usage.person.in_(names)
    condition = and_(who, _usage.answered == 1)
    if agents:
        return condition
    if not_own:  # nearly always none: no sign-in, or every key fetched by its person
        return and_(condition, _usage.agent == "", _usage.key_id.not_in(sorted(not_own)))
    return and_(condition, _usage.agent == "")


def _window(since: date | str, until: date | str) -> tuple[ColumnElement[Any], ...]:
    return (_usage.day >= day_text(since, "since"), _usage.day <= day_text(until, "until"))
