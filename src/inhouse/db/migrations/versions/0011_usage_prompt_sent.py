"""Whether the gateway sent the library prompt a usage row names (``gateway_usage.prompt_sent``):
a client that only names a prompt in ``X-Inhouse-Prompt`` (by name or label) with messages of
its own was recorded as using whatever version the name pointed to, though it was never sent
it. Rows written before have none (NULL) and are read as they were: as sent.

Revision ID: 0011_usage_prompt_sent
Revises: 0010_usage_mac
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_usage_prompt_sent"
down_revision = "0010_usage_mac"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gateway_usage", sa.Column("prompt_sent", sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
