"""Editors and operations: publish options, withdrawals, review, pins, the activity chart."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("options", sa.Text))
        batch.add_column(sa.Column("withdrawn_at", UTCDateTime))
        batch.add_column(sa.Column("review", sa.String(16)))
        batch.add_column(sa.Column("reviewed_by", sa.Text))
        batch.add_column(sa.Column("summary_by", sa.Text))
        batch.create_index("ix_articles_withdrawn_at", ["withdrawn_at"])
        batch.create_index("ix_articles_review", ["review"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("delete_due", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("pinned_until", UTCDateTime))
        batch.create_index("ix_deliveries_pinned", ["pinned_until"])
        batch.create_index("ix_deliveries_sent_at", ["sent_at"])
    op.create_table(
        "activity",
        sa.Column("minute", UTCDateTime, primary_key=True),
        sa.Column("throttled", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pending", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("activity")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_sent_at")
        batch.drop_index("ix_deliveries_pinned")
        batch.drop_column("pinned_until")
        batch.drop_column("delete_due")
    with op.batch_alter_table("articles") as batch:
        batch.drop_index("ix_articles_review")
        batch.drop_index("ix_articles_withdrawn_at")
        batch.drop_column("summary_by")
        batch.drop_column("reviewed_by")
        batch.drop_column("review")
        batch.drop_column("withdrawn_at")
        batch.drop_column("options")
