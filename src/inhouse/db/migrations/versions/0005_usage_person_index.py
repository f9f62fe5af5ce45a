"""Each person's usage found without reading everyone's: a (person, day) index on the usage log.

Play 4's adoption and its survey ask about a handful of people — their active days in a window,
their last active day, the prompts they sent. The (day, person, …) index answers by reading
every row of the window, and a member's last active day, for someone who has not used the
tool lately, by reading the whole log. ``benchmarks/pilot_adoption.py`` (10 members, two of
whom have not used it yet, among 200 people; a million rows): the adoption report went from
about 200 ms to 21 ms on PostgreSQL and from 28 ms to 9 ms on SQLite (medians; the figures are
in docs/pilot.md). Inserting the usage log is no slower than the benchmark can tell.

Revision ID: 0005_usage_person_index
Revises: 0004_usage_indexes
"""

from alembic import op

revision = "0005_usage_person_index"
down_revision = "0004_usage_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_gateway_usage_person_day", "gateway_usage", ["person", "day"])


def downgrade() -> None:
    raise NotImplementedError("migrations are append-only; restore from a backup instead")
