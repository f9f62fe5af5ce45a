"""Library prompt use per prompt id and person over all time (``usage_prompts``), kept at ingest
like the other rollups: the prompt library reads a row per version and person instead of
summing one per month, person, prompt and workflow. And a partial index on the usage rows of
agents that carried tool calls, which governance counts per agent key without reading every
row.

Revision ID: 0009_usage_prompts
Revises: 0008_usage_days
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_usage_prompts"
down_revision = "0008_usage_days"
branch_labels = None
depends_on = None

_AGENT_TOOL_CALLS = "agent IS NOT NULL AND tool_calls IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "usage_prompts",
        sa.Column("prompt_id", sa.String(200), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", "person", name="pk_usage_prompts"),
    )
    op.execute(
        "INSERT INTO usage_prompts (prompt_id, person, requests, last_day) "
        "SELECT prompt_id, person, sum(requests), max(last_day) FROM usage_refs_monthly "
        "WHERE prompt_id <> '' GROUP BY prompt_id, person"
    )
    op.create_index(
        "ix_gateway_usage_agent_tool_calls",
        "gateway_usage",
        ["key_id"],
        sqlite_where=sa.text(_AGENT_TOOL_CALLS),
        postgresql_where=sa.text(_AGENT_TOOL_CALLS),
    )


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
