"""The gateway's MAC on each usage row (``gateway_usage.mac``): an HMAC-SHA256 under a key
derived from the gateway's own service key, over the row's columns, so that what the gateway's
key signs is computed only from rows the gateway wrote (:mod:`inhouse.usage.authentic`). Rows
written before have none (NULL) and never count toward a new signature.

Revision ID: 0010_usage_mac
Revises: 0009_usage_prompts
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_usage_mac"
down_revision = "0009_usage_prompts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gateway_usage", sa.Column("mac", sa.String(32), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
