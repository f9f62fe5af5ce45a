"""Single requests from the gateway's usage log that the data rules acted on (a redaction, a
block), newest first: what a person reads to learn why their request changed. Read here, never
by folding the event log; the gateway writes the rows (:mod:`inhouse.gateway.usage`), whose
``policy`` column holds the actions as JSON (``["redact:email"]``).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select

from inhouse.db import Store
from inhouse.db.schema import gateway_usage
from inhouse.usage.totals import ANSWERED_BELOW

__all__ = ["PolicyRequest", "policy_requests"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRequest:
    """One request and the policy actions taken on it (``redact:email``, ``block:…``)."""

    request_id: str
    at: str
    person: str
    model: str
    status: int
    actions: tuple[str, ...]

    @property
    def day(self) -> str:
        return self.at[:10]


def policy_requests(
    store: Store,
    *,
    person: str | None = None,
    action: str = "redact:",
    request_id: str | None = None,
    answered_only: bool = True,
    agents: bool = False,
    not_own: Collection[str] = (),
    limit: int = 20,
) -> list[PolicyRequest]:
    """The newest requests (of ``person``, or that one ``request_id``) with a policy action
    starting with ``action``; only answered ones by default (a redacted request was still
    answered, a blocked one was not), and only through people's own keys unless ``agents``
    (a key bound to a local agent is the agent's doing, and so is one of the keys ``not_own``
    names: fetched in its person's name by a key that never signed in as them,
    :func:`inhouse.program.counting.not_their_fetch`)."""
    query = select(
        gateway_usage.c.request_id,
        gateway_usage.c.at,
        gateway_usage.c.person,
        gateway_usage.c.model,
        gateway_usage.c.status,
        gateway_usage.c.policy,
    ).where(gateway_usage.c.policy.like(f'%"{_escaped(action)}%', escape="\\"))
    if person is not None:
        query = query.where(gateway_usage.c.person == person)
    if request_id is not None:
        query = query.where(gateway_usage.c.request_id == request_id)
    if answered_only:
        query = query.where(gateway_usage.c.status < ANSWERED_BELOW)
    if not agents:
        query = query.where(gateway_usage.c.agent.is_(None))
        if not_own:  # nearly always none: no sign-in, or every key fetched by its person
            query = query.where(gateway_usage.c.key_id.not_in(sorted(not_own)))
    query = query.order_by(gateway_usage.c.at.desc()).limit(limit)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for row in rows:
        actions = tuple(str(a) for a in json.loads(row.policy or "[]") if str(a).startswith(action))
        if actions:  # the LIKE is a coarse filter; the JSON decides
            found.append(
                PolicyRequest(
                    request_id=row.request_id,
                    at=row.at,
                    person=row.person,
                    model=row.model,
                    status=int(row.status),
                    actions=actions,
                )
            )
    return found


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
