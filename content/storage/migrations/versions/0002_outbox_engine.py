"""Outbox engine: fair ranks, worker leases, shared rate budget."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("rank", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("claimed_by", sa.String(128)))
        batch.add_column(sa.Column("lease_until", UTCDateTime))
    op.create_index("ix_deliveries_queue", "deliveries", ["state", "priority", "rank", "id"])
    op.create_index("ix_deliveries_chat", "deliveries", ["chat_id"])
    op.create_table(
        "rate_budget",
        sa.Column("scope", sa.String(64), primary_key=True),
        sa.Column("tat", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_budget")
    op.drop_index("ix_deliveries_chat", "deliveries")
    op.drop_index("ix_deliveries_queue", "deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("claimed_by")
        batch.drop_column("rank")
