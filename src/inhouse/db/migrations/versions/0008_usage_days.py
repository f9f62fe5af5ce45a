"""One row per day of answered usage: requests, tokens, busy time and how many people were
active (``usage_days``). A period's totals and the indicators' six-month trend read a row per
day instead of a row per person-day (about 60,000 rows a month for 2,000 people). Built here from
``usage_people_daily``; from then on the gateway's writer keeps it in the transaction that
inserts the raw rows.

Revision ID: 0008_usage_days
Revises: 0007_usage_daily
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_usage_days"
down_revision = "0007_usage_daily"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_days",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.BigInteger(), nullable=False),
        sa.Column("tokens_in", sa.BigInteger(), nullable=False),
        sa.Column("tokens_out", sa.BigInteger(), nullable=False),
        sa.Column("busy_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", name="pk_usage_days"),
    )
    op.execute(
        "INSERT INTO usage_days (day, requests, active, tokens_in, tokens_out, busy_ms) "
        "SELECT day, sum(requests), sum(CASE WHEN own_requests > 0 THEN 1 ELSE 0 END), "
        "sum(tokens_in), sum(tokens_out), sum(busy_ms) FROM usage_people_daily GROUP BY day"
    )


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
