"""Daily usage rollups, kept at ingest: one row per day, person, key, agent, model, prompt,
workflow and answered-or-not, with requests, tokens, busy time and the latest request's time;
and the answered requests summed once more per day and person (``usage_people_daily``), who
was active on which days of each month (``usage_people_monthly``, a bit per day) and each
month's use of library prompts and workflows per person (``usage_refs_monthly``).

Plays 4 to 6 read totals from here instead of the raw log, so a report over ten million
requests reads a few hundred thousand rows, and raw rows can be compacted after the data rules'
retention without losing a total. The rollups are built here from the rows already stored; from
then on the gateway's writer adds to them in the transaction that inserts the rows.

Revision ID: 0007_usage_daily
Revises: 0006_usage_tool_calls
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_usage_daily"
down_revision = "0006_usage_tool_calls"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(200), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("prompt_id", sa.String(200), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("answered", sa.SmallInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("busy_ms", sa.Float(), nullable=False),
        sa.Column("last_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint(
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
    )
    op.create_index("ix_usage_daily_person_day", "usage_daily", ["person", "day"])
    op.create_table(
        "usage_people_daily",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("own_requests", sa.BigInteger(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("busy_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "person", name="pk_usage_people_daily"),
    )
    op.create_table(
        "usage_people_monthly",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("active_days", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", "person", name="pk_usage_people_monthly"),
    )
    op.create_table(
        "usage_refs_monthly",
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("prompt_id", sa.String(200), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint(
            "month", "person", "prompt_id", "workflow_id", name="pk_usage_refs_monthly"
        ),
    )
    # the rows already in the log, summed once (the same grouping the writer keeps)
    op.execute(
        "INSERT INTO usage_daily (day, person, key_id, agent, model, prompt_id, workflow_id, "
        "answered, requests, tokens_in, tokens_out, busy_ms, last_at) "
        "SELECT day, person, key_id, COALESCE(agent, ''), model, COALESCE(prompt_id, ''), "
        "COALESCE(workflow_id, ''), CASE WHEN status < 400 THEN 1 ELSE 0 END, count(*), "
        "COALESCE(sum(tokens_in), 0), COALESCE(sum(tokens_out), 0), COALESCE(sum(latency_ms), 0), "
        "max(at) FROM gateway_usage GROUP BY day, person, key_id, COALESCE(agent, ''), model, "
        "COALESCE(prompt_id, ''), COALESCE(workflow_id, ''), "
        "CASE WHEN status < 400 THEN 1 ELSE 0 END"
    )
    op.execute(
        "INSERT INTO usage_people_daily (day, person, requests, own_requests, tokens_in, "
        "tokens_out, busy_ms) SELECT day, person, sum(requests), "
        "sum(CASE WHEN agent = '' THEN requests ELSE 0 END), sum(tokens_in), sum(tokens_out), "
        "sum(busy_ms) FROM usage_daily WHERE answered = 1 GROUP BY day, person"
    )
    op.execute(
        "INSERT INTO usage_people_monthly (month, person, active_days) "
        "SELECT substr(day, 1, 7), person, "
        "sum(CAST(1 AS BIGINT) << (CAST(substr(day, 9, 2) AS INTEGER) - 1)) "
        "FROM usage_people_daily WHERE own_requests > 0 GROUP BY substr(day, 1, 7), person"
    )
    op.execute(
        "INSERT INTO usage_refs_monthly (month, person, prompt_id, workflow_id, requests, "
        "last_day) SELECT substr(day, 1, 7), person, prompt_id, workflow_id, sum(requests), "
        "max(day) "
        "FROM usage_daily WHERE answered = 1 AND (prompt_id <> '' OR workflow_id <> '') "
        "GROUP BY substr(day, 1, 7), person, prompt_id, workflow_id"
    )


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
