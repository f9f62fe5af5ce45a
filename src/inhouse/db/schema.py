"""The schema as SQLAlchemy Core tables. Migrations in ``migrations/versions`` build exactly this;
a test compares the two so they cannot drift apart."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
)

__all__ = [
    "events",
    "gateway_keys",
    "gateway_usage",
    "metadata",
    "usage_daily",
    "usage_days",
    "usage_people_daily",
    "usage_people_monthly",
    "usage_prompts",
    "usage_refs_monthly",
]

metadata = MetaData()

#: The program's append-only, hash-chained event log: the only source of program state.
#: ``at`` and ``payload`` are stored as the exact text that was hashed (ISO-8601 UTC and canonical
#: JSON) so verification recomputes the same bytes on SQLite and PostgreSQL alike.
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False, unique=True),
    Column("hash", String(64), nullable=False, unique=True),
    # the key id that signed the event and its Ed25519 signature over the event's hash; empty on
    # events written before identities (migration 0003)
    Column("signer", String(80), nullable=True),
    Column("signature", Text, nullable=True),
    Index("ix_events_kind", "kind"),
)

#: Gateway keys: only a SHA-256 of each key is kept; ``prefix`` (shown in listings) finds the row,
#: the hash is then compared in constant time. ``limits`` is JSON (rpm, tokens_per_day, models).
gateway_keys = Table(
    "gateway_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("person", String(200), nullable=False),
    Column("agent", String(200), nullable=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),
    Column("created", String(40), nullable=False),
    Column("revoked", String(40), nullable=True),
    Column("limits", Text, nullable=False),
    Index("ix_gateway_keys_prefix", "prefix"),
)

#: The gateway's usage log: one row per request, written in batches from a durable local spool.
#: ``request_id`` is unique so replaying the spool after a crash never counts a request twice.
gateway_usage = Table(
    "gateway_usage",
    metadata,
    Column("request_id", String(40), primary_key=True),
    Column("at", String(40), nullable=False),
    Column("day", String(10), nullable=False),
    Column("person", String(200), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("agent", String(200), nullable=True),
    Column("endpoint", String(40), nullable=False),
    Column("model", String(200), nullable=False),
    Column("digest", String(100), nullable=True),
    Column("prompt_id", String(200), nullable=True),
    Column("workflow_id", String(200), nullable=True),
    Column("stream", Integer, nullable=False),
    Column("tokens_in", Integer, nullable=False),
    Column("tokens_out", Integer, nullable=False),
    Column("ttft_ms", Float, nullable=True),
    Column("latency_ms", Float, nullable=False),
    Column("overhead_ms", Float, nullable=False),
    Column("status", Integer, nullable=False),
    Column("policy", Text, nullable=False),
    Column("upstream", String(300), nullable=True),
    Column("body", Text, nullable=True),
    # an agent key's tool calls, JSON (inhouse.gateway.toolcalls); NULL for other keys (0006)
    Column("tool_calls", Text, nullable=True),
    # the gateway's HMAC over the row (inhouse.usage.authentic); NULL: not written by a gateway
    # that seals its rows, so it never counts toward a signed figure (0010)
    Column("mac", String(32), nullable=True),
    # whether the gateway sent the library prompt ``prompt_id`` names: 1 when it rendered the
    # version from the body's ``prompt``, or the client pinned that very version in
    # X-Inhouse-Prompt (NAME@VERSION); 0 when the header only named the prompt (NAME or
    # NAME@LABEL) and the client sent messages of its own. NULL: no prompt, or a row written
    # before the gateway told them apart, read as sent, as it was then (0011)
    Column("prompt_sent", SmallInteger, nullable=True),
    # covers the usage totals (inhouse.usage): a window of days summed per person is read from
    # the index alone (migration 0004)
    Index("ix_gateway_usage_totals", "day", "person", "status", "tokens_in", "tokens_out"),
    # finds a few people's days (play 4's adoption and survey) without reading everyone's, and a
    # person's last active day without reading the whole log (migration 0005)
    Index("ix_gateway_usage_person_day", "person", "day"),
    # the agents' rows that carried tool calls, without reading every row (governance's agent
    # boundaries). Migration 0009 makes it partial (WHERE agent IS NOT NULL AND tool_calls IS
    # NOT NULL), so it holds those rows only; it is declared here without that condition
    # because a dialect's keyword (sqlite_where, postgresql_where) imports the dialect, and
    # PostgreSQL's cost every command on SQLite ~35 ms (a test reads the query plan).
    Index("ix_gateway_usage_agent_tool_calls", "key_id"),
)

#: Daily rollups of the usage log, kept by the gateway's writer in the same transaction as the
#: rows it inserts (only rows it really inserted, so a replayed spool never counts twice), and
#: rebuilt from the raw rows by migration 0007. Plays 4 to 6 read usage here (``inhouse.usage``),
#: so the raw rows can be compacted away after the data rules' retention without losing a total.
#: Absent prompt, workflow or agent are stored as '' (a primary key column cannot be NULL on
#: PostgreSQL). ``answered`` is 1 for a status below 400. ``busy_ms`` sums the requests'
#: end-to-end times; ``last_at`` is the latest request's time.
usage_daily = Table(
    "usage_daily",
    metadata,
    Column("day", String(10), nullable=False),
    Column("person", String(200), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("agent", String(200), nullable=False),
    Column("model", String(200), nullable=False),
    Column("prompt_id", String(200), nullable=False),
    Column("workflow_id", String(200), nullable=False),
    Column("answered", SmallInteger, nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("tokens_in", BigInteger, nullable=False),
    Column("tokens_out", BigInteger, nullable=False),
    Column("busy_ms", Float, nullable=False),
    Column("last_at", String(40), nullable=False),
    PrimaryKeyConstraint(
        "day",
        "person",
        "key_id",
        "agent",
        "model",
        "prompt_id",
        "workflow_id",
        "answered",
        name="pk_usage_daily",
    ),
    # a few people's days (play 4's adoption, the survey) without reading everyone's
    Index("ix_usage_daily_person_day", "person", "day"),
)

#: The same rollups summed once more, per day and person, answered requests only: what the
#: reports read most (who was active on which day, the day's totals) in one row per person-day.
#: ``own_requests`` counts those sent through the person's own keys (not an agent's): a person
#: is *active* on a day when it is above zero. Kept by the writer in the same transaction.
usage_people_daily = Table(
    "usage_people_daily",
    metadata,
    Column("day", String(10), nullable=False),
    Column("person", String(200), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("own_requests", BigInteger, nullable=False),
    Column("tokens_in", BigInteger, nullable=False),
    Column("tokens_out", BigInteger, nullable=False),
    Column("busy_ms", Float, nullable=False),
    PrimaryKeyConstraint("day", "person", name="pk_usage_people_daily"),
)

#: The day's answered requests summed once more: one row per day, with ``active`` the number of
#: people active that day (``own_requests`` above zero in ``usage_people_daily``). A period's
#: totals and a six-month trend read one row per day, however many people there are. The writer
#: adds a person to ``active`` when the upsert of their person-day takes ``own_requests`` from
#: zero (read back from the upsert itself, so two writers cannot both count, or both miss, one).
usage_days = Table(
    "usage_days",
    metadata,
    Column("day", String(10), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("active", BigInteger, nullable=False),
    Column("tokens_in", BigInteger, nullable=False),
    Column("tokens_out", BigInteger, nullable=False),
    Column("busy_ms", Float, nullable=False),
    PrimaryKeyConstraint("day", name="pk_usage_days"),
)

#: Who was active on which days of a month, one row per person and month: bit ``d - 1`` of
#: ``active_days`` is set when the person had a request answered through a key of their own on
#: day ``d``. A quarter's daily, weekly and monthly active counts read a few rows per person.
usage_people_monthly = Table(
    "usage_people_monthly",
    metadata,
    Column("month", String(7), nullable=False),
    Column("person", String(200), nullable=False),
    Column("active_days", BigInteger, nullable=False),
    PrimaryKeyConstraint("month", "person", name="pk_usage_people_monthly"),
)

#: Answered requests that carried a library prompt, per prompt id and person over all time, with
#: the last day of them: the prompt library's use in a row per version and person (migration
#: 0009), where summing the monthly rows read one per month, person, prompt and workflow.
usage_prompts = Table(
    "usage_prompts",
    metadata,
    Column("prompt_id", String(200), nullable=False),
    Column("person", String(200), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("last_day", String(10), nullable=False),
    PrimaryKeyConstraint("prompt_id", "person", name="pk_usage_prompts"),
)

#: Answered requests that named a library prompt or a workflow, per month, person, prompt and
#: workflow ('' for none): a monthly report's prompt and workflow use in a few rows per person.
usage_refs_monthly = Table(
    "usage_refs_monthly",
    metadata,
    Column("month", String(7), nullable=False),
    Column("person", String(200), nullable=False),
    Column("prompt_id", String(200), nullable=False),
    Column("workflow_id", String(200), nullable=False),
    Column("requests", BigInteger, nullable=False),
    Column("last_day", String(10), nullable=False),  # the month's latest day of such use
    PrimaryKeyConstraint(
        "month", "person", "prompt_id", "workflow_id", name="pk_usage_refs_monthly"
    ),
)
