"""The gateway: hashed keys with per-key limits, and the usage log.

Revision ID: 0002_gateway
Revises: 0001_event_log
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_gateway"
down_revision = "0001_event_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("agent", sa.String(200), nullable=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
        sa.Column("revoked", sa.String(40), nullable=True),
        sa.Column("limits", sa.Text, nullable=False),
    )
    op.create_index("ix_gateway_keys_prefix", "gateway_keys", ["prefix"])
    op.create_table(
        "gateway_usage",
        sa.Column("request_id", sa.String(40), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("agent", sa.String(200), nullable=True),
        sa.Column("endpoint", sa.String(40), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("digest", sa.String(100), nullable=True),
        sa.Column("prompt_id", sa.String(200), nullable=True),
        sa.Column("workflow_id", sa.String(200), nullable=True),
        sa.Column("stream", sa.Integer, nullable=False),
        sa.Column("tokens_in", sa.Integer, nullable=False),
        sa.Column("tokens_out", sa.Integer, nullable=False),
        sa.Column("ttft_ms", sa.Float, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("overhead_ms", sa.Float, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("upstream", sa.String(300), nullable=True),
        sa.Column("body", sa.Text, nullable=True),
    )
    op.create_index("ix_gateway_usage_day_person", "gateway_usage", ["day", "person"])


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
