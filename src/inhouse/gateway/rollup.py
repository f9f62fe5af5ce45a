"""Daily rollups: the usage log, summed per person and day, recorded as ``usage.daily`` facts
(one per day, with every person's totals that day).

Play 4's ``pilot-independent-use`` check (and play 6's ``use-beyond-pilot``) read these facts.
Only answered requests (status below 400) count. Rolling up again records a fact only for a
(day, person) whose totals changed since the last rollup, so it is safe on a timer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from inhouse.db.schema import gateway_usage
from inhouse.usage import totals as usage_totals

if TYPE_CHECKING:
    from inhouse.program import Program

__all__ = [
    "COLLECTOR",
    "SERVICE",
    "compact_rows",
    "daily_totals",
    "purge_bodies",
    "rollup_usage",
    "service_program",
]

COLLECTOR = "inhouse gateway rollup"
SERVICE = "gateway"  # the gateway's own identity on the roster


def service_program(program: Program) -> Program:
    """The program, acted on with the gateway's own key: usage facts are signed by the
    gateway, not by a person (:meth:`Program.as_service`)."""
    return program.as_service(SERVICE)


def daily_totals(program: Program, *, since: str | None = None) -> list[dict[str, Any]]:
    """Answered requests and tokens per (day, person), oldest day first: the payloads of
    ``usage.daily`` facts, summed by :mod:`inhouse.usage`."""
    return [
        {
            "day": row.day,
            "person": row.person,
            "requests": row.requests,
            "tokens_in": row.tokens_in,
            "tokens_out": row.tokens_out,
        }
        for row in usage_totals(program.store, ("day", "person"), since=since)
    ]


#: what a person's day holds in a ``usage.daily`` fact
_TOTALS = ("requests", "tokens_in", "tokens_out")


def rollup_usage(
    program: Program, actor: str | None = None, *, since: str | None = None
) -> list[dict[str, Any]]:
    """Record a ``usage.daily`` fact for every day on which some person's totals are new or
    changed: one fact per day with everyone's totals that day (a department of 2,000 adds a
    fact a day to the log, not 2,000). Returns the (day, person) totals that were new or
    changed, as :func:`daily_totals` gives them."""
    from inhouse.program import Provenance
    from inhouse.program.facts import daily_usage

    program.actor(actor)  # whoever runs the rollup must be enrolled
    service = service_program(program)
    seen: dict[tuple[str, str], dict[str, int]] = {}
    for fact in program.state().facts:
        if fact.kind == "usage.daily":
            day = str(fact.payload["day"])
            for person, totals in daily_usage(fact).items():
                seen[(day, person)] = totals
    by_day: dict[str, list[dict[str, Any]]] = {}
    for totals in daily_totals(program, since=since):
        by_day.setdefault(str(totals["day"]), []).append(totals)
    recorded: list[dict[str, Any]] = []
    for day, rows in by_day.items():
        changed = [
            row for row in rows
            if seen.get((day, row["person"])) != {key: row[key] for key in _TOTALS}
        ]  # fmt: skip
        if not changed:
            continue
        people = {row["person"]: {key: row[key] for key in _TOTALS} for row in rows}
        service.record_fact(
            None,
            "usage.daily",
            {"day": day, "people": people},
            provenance=Provenance.MEASURED,
            collector=COLLECTOR,
        )
        recorded.extend(changed)
    return recorded


def purge_bodies(program: Program) -> int:
    """Drop stored bodies older than their model's ``retention_days``; returns how many."""
    from inhouse.policy import load_rules
    from inhouse.program.config import read_config

    config = read_config(program.folder)
    if "data_rules" not in config:
        return 0
    rules = load_rules(config)
    with program.store.engine.connect() as conn:
        models = [str(m) for (m,) in conn.execute(
            select(gateway_usage.c.model).where(gateway_usage.c.body.is_not(None)).distinct()
        ).all()]  # fmt: skip
    purged = 0
    now = program.clock()
    with program.store.engine.begin() as conn:
        for model in models:
            days = rules.retention_days(model)
            if days is None:
                continue
            cutoff = (now - timedelta(days=days)).isoformat()
            result = conn.execute(
                update(gateway_usage)
                .where(gateway_usage.c.model == model, gateway_usage.c.at < cutoff,
                       gateway_usage.c.body.is_not(None))
                .values(body=None)
            )  # fmt: skip
            purged += result.rowcount or 0
    return purged


def compact_rows(program: Program) -> int:
    """Delete the usage log's request rows older than the data rules' ``request_rows_days``
    (their totals stay in the daily rollups, which plays 4 to 6 read); returns how many.

    A gateway that was down longer than this and replays its spool may count a request twice
    whose row had reached the database and was compacted before the replay: keep the horizon
    well beyond any outage (weeks, not days)."""
    from inhouse.policy import load_rules
    from inhouse.program.config import read_config

    config = read_config(program.folder)
    if "data_rules" not in config:
        return 0
    days = load_rules(config).request_rows_days
    if days is None:
        return 0
    cutoff = (program.clock() - timedelta(days=days)).date().isoformat()
    with program.store.engine.begin() as conn:
        result = conn.execute(delete(gateway_usage).where(gateway_usage.c.day < cutoff))
    return result.rowcount or 0
