"""Signed events: each event names the key that signed it and carries its Ed25519 signature.

Events written before identities keep both columns empty and show as *unsigned (before
identities)*; they count only as attestations.

Revision ID: 0003_signed_events
Revises: 0002_gateway
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_signed_events"
down_revision = "0002_gateway"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("signer", sa.String(80), nullable=True))
        batch.add_column(sa.Column("signature", sa.Text, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
