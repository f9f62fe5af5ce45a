"""Library prompt use, read from the gateway's usage log by the database: answered requests per
prompt id and person, and the last day each person sent it.

    prompt_use(store)    # [PromptUse(prompt="triage@2", person="bob", requests=3, last_day=...)]

The gateway records a library prompt as ``NAME@VERSION`` (a label resolved to its version when
the request came in), so one row is one person's use of one immutable version. A request whose
client only named the prompt (``prompt_sent`` 0: sent none of the version) is summed as one that
carried no prompt (:func:`inhouse.gateway.usage.rollup_deltas`), so it is no one's use here.
Requests that named no prompt are left out; only answered ones count (status below 400),
whatever key sent them (an agent's key is its person's use of the prompt too). The pilot's
library sums these per version (:func:`inhouse.pilot.library_views.prompt_usage`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from inhouse.db import Store
from inhouse.db.schema import usage_prompts

__all__ = ["PromptUse", "prompt_use"]

_usage = usage_prompts.c  # answered requests per prompt id and person, kept at ingest


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptUse:
    """One person's answered requests that carried one prompt id, and the last day of them."""

    prompt: str
    person: str
    requests: int
    last_day: str


def prompt_use(store: Store) -> list[PromptUse]:
    """Answered requests per (prompt id, person), ordered by prompt id then person."""
    query = select(_usage.prompt_id, _usage.person, _usage.requests, _usage.last_day).order_by(
        _usage.prompt_id, _usage.person
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        PromptUse(prompt=str(prompt), person=str(person), requests=int(count), last_day=str(day))
        for prompt, person, count, day in rows
    ]
