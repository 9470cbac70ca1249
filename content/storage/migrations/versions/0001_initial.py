"""Initial schema: articles, topics, chats, subscriptions, deliveries (outbox), sources, meta."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from content.storage.tables import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("standfirst", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("published", UTCDateTime),
        sa.Column("blocks", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("channel_hint", sa.Text),
        sa.Column("url", sa.Text),
        sa.Column("image", sa.Text),
        sa.Column("publish_at", UTCDateTime),
        sa.Column("source", sa.Text),
        sa.Column("search_text", sa.Text, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("planned_at", UTCDateTime),
        sa.Column("archived", sa.Boolean, nullable=False),
    )
    op.create_index("ix_articles_published", "articles", ["published"])
    op.create_index("ix_articles_planned_at", "articles", ["planned_at"])
    op.create_table(
        "article_topics",
        sa.Column("article_id", sa.String(64), primary_key=True),
        sa.Column("topic", sa.String(64), primary_key=True),
    )
    op.create_index("ix_article_topics_topic", "article_topics", ["topic"])
    op.create_table(
        "chats",
        sa.Column("chat_id", sa.BigInteger, primary_key=True),
        sa.Column("first_name", sa.Text),
        sa.Column("username", sa.Text),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("inactive_reason", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("chat_id", "kind", "value", name="uq_subscriptions_chat_kind_value"),
    )
    op.create_index("ix_subscriptions_kind_value", "subscriptions", ["kind", "value"])
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("article_id", sa.String(64), nullable=False),
        sa.Column("chat_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.UniqueConstraint("article_id", "chat_id", name="uq_deliveries_article_chat"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "source_files",
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("article_id", sa.String(64)),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for name in ("meta", "source_files", "deliveries", "subscriptions", "chats", "article_topics"):
        op.drop_table(name)
    op.drop_table("articles")
