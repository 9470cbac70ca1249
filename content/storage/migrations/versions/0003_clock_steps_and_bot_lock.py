"""Clock steps and one bot per database: rate_budget.written_at, the locks table."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rate_budget") as batch:
        batch.add_column(sa.Column("written_at", sa.Float, nullable=False, server_default="0"))
    op.create_table(
        "locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("acquired_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("locks")
    with op.batch_alter_table("rate_budget") as batch:
        batch.drop_column("written_at")
