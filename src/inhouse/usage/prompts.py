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

The requests through the keys a reader names as not their person's own (fetched in their name
by a key that never signed in as them: :func:`inhouse.program.counting.not_their_fetch`) are
counted apart as well, from the daily rollups, which keep each key apart: the per-prompt sums
do not, and whose fetch a key was can change after its rows were written.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select

from inhouse.db import Store
from inhouse.db.schema import usage_daily, usage_prompts

__all__ = ["PromptUse", "prompt_use"]

_usage = usage_prompts.c  # answered requests per prompt id and person, kept at ingest


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptUse:
    """One person's answered requests that carried one prompt id, and the last day of them."""

    prompt: str
    person: str
    requests: int
    last_day: str
    #: of ``requests``, those through the keys ``not_own`` named: answered, nobody's own use
    not_own: int = 0


def prompt_use(store: Store, not_own: Collection[str] = ()) -> list[PromptUse]:
    """Answered requests per (prompt id, person), ordered by prompt id then person; with
    ``not_own``, how many of them came through those keys."""
    query = select(_usage.prompt_id, _usage.person, _usage.requests, _usage.last_day).order_by(
        _usage.prompt_id, _usage.person
    )
    aside: dict[tuple[str, str], int] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        if not_own:  # nearly always none: no sign-in, or every key fetched by its person
            d = usage_daily.c
            through = (
                select(d.prompt_id, d.person, func.sum(d.requests))
                .where(d.key_id.in_(sorted(not_own)), d.answered == 1, d.prompt_id != "")
                .group_by(d.prompt_id, d.person)
            )
            aside = {(str(p), str(who)): int(n) for p, who, n in conn.execute(through)}
    return [
        PromptUse(prompt=str(prompt), person=str(person), requests=int(count), last_day=str(day),
                  not_own=aside.get((str(prompt), str(person)), 0))
        for prompt, person, count, day in rows
    ]  # fmt: skip
