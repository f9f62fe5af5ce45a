"""Usage totals read from the index alone: the (day, person) index of the usage log also carries
the status and token counts, so a window of days summed per person never reads the table's rows
(``benchmarks/usage_totals.py``, per person over 28 days of a million rows: about half the
time on SQLite, a third less on PostgreSQL; the figures are in docs/storage.md). It replaces the
narrower (day, person) index, whose every query the wider one serves.

Revision ID: 0004_usage_indexes
Revises: 0003_signed_events
"""

from alembic import op

revision = "0004_usage_indexes"
down_revision = "0003_signed_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_gateway_usage_totals",
        "gateway_usage",
        ["day", "person", "status", "tokens_in", "tokens_out"],
    )
    op.drop_index("ix_gateway_usage_day_person", table_name="gateway_usage")


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
