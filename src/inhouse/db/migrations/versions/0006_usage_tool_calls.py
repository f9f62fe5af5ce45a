"""The tool calls an agent key's requests and answers carried, in the usage log.

Play 5's ``inhouse agents dry-run`` replays them against a proposed boundary before anyone
enforces it. A column of its own (JSON text, empty for keys bound to no agent) rather than the
``body`` column: bodies are stored only where the data rules allow, while the tool names (and
argument names) are kept for every agent request; and rather than ``policy``, which lists the
actions the gateway took, not what the agent asked for.

Revision ID: 0006_usage_tool_calls
Revises: 0005_usage_person_index
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_usage_tool_calls"
down_revision = "0005_usage_person_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("gateway_usage", sa.Column("tool_calls", sa.Text(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
