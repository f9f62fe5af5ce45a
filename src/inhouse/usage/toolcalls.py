"""The tool calls agents made through the gateway, read from the usage log's ``tool_calls``
column (written by :mod:`inhouse.gateway.toolcalls`), oldest first. Read here, by SQL, never by
folding the event log.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select

from inhouse.db import Store
from inhouse.db.schema import gateway_usage

__all__ = ["AgentRequest", "agent_requests", "tool_calls_per_key"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRequest:
    """One request of an agent key and the tool calls it carried (entries as the gateway
    recorded them: ``where``, ``id``, ``tool``, ``arguments``, ``argument_names``,
    ``withheld``)."""

    request_id: str
    at: str
    key_id: str
    person: str
    status: int
    calls: tuple[dict[str, Any], ...]


def agent_requests(store: Store, agent: str, *, since: str | None = None) -> list[AgentRequest]:
    """Every request of ``agent``'s keys that carried a tool call, oldest first; ``since`` is a
    first UTC day (``YYYY-MM-DD``)."""
    query = select(
        gateway_usage.c.request_id,
        gateway_usage.c.at,
        gateway_usage.c.key_id,
        gateway_usage.c.person,
        gateway_usage.c.status,
        gateway_usage.c.tool_calls,
    ).where(gateway_usage.c.agent == agent, gateway_usage.c.tool_calls.is_not(None))
    if since is not None:
        query = query.where(gateway_usage.c.day >= since)
    query = query.order_by(gateway_usage.c.at, gateway_usage.c.request_id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
    found = []
    for row in rows:
        calls = tuple(c for c in json.loads(row.tool_calls or "[]") if isinstance(c, dict))
        if calls:
            found.append(
                AgentRequest(
                    request_id=row.request_id,
                    at=row.at,
                    key_id=row.key_id,
                    person=row.person,
                    status=int(row.status),
                    calls=calls,
                )
            )
    return found


def agent_tool_calls_query() -> Select[Any]:
    """The agents' usage rows that carried tool calls: key id and the calls. Its conditions are
    the partial index's (``ix_gateway_usage_agent_tool_calls``), so only those rows are read."""
    return select(gateway_usage.c.key_id, gateway_usage.c.tool_calls).where(
        gateway_usage.c.agent.is_not(None), gateway_usage.c.tool_calls.is_not(None)
    )


def tool_calls_per_key(store: Store) -> Counter[str]:
    """How many tool calls (declared, carried back and answered) each agent key's requests
    carried, by key id. Read from the raw rows: it counts what the data rules'
    ``request_rows_days`` still keeps."""
    counts: Counter[str] = Counter()
    with store.engine.connect() as conn:
        for key_id, text in conn.execute(agent_tool_calls_query()):
            counts[str(key_id)] += len(json.loads(text or "[]"))
    return counts
