"""Sources beyond the folder: the sources registry and the source_items map."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("content_hash", sa.String(64)),
        sa.Column("cursor", sa.Text),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failing_since", UTCDateTime),
        sa.Column("notified_failing", sa.Boolean, nullable=False),
        sa.Column("next_poll_at", UTCDateTime, nullable=False),
        sa.Column("interval", sa.Float, nullable=False),
        sa.Column("items_seen", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("spec", name="uq_sources_spec"),
    )
    op.create_index("ix_sources_due", "sources", ["state", "next_poll_at"])
    op.create_table(
        "source_items",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("article_id", sa.String(64)),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_source_items_article", "source_items", ["article_id"])


def downgrade() -> None:
    op.drop_index("ix_source_items_article", table_name="source_items")
    op.drop_table("source_items")
    op.drop_index("ix_sources_due", table_name="sources")
    op.drop_table("sources")
