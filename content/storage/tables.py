"""SQLAlchemy Core tables: the one description of the schema (migrations mirror it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


articles = Table(
    "articles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("title", Text, nullable=False),
    Column("standfirst", Text),
    Column("author", Text),
    Column("published", UTCDateTime),
    Column("blocks", Text, nullable=False),  # JSON [[kind, text], ...]
    Column("tags", Text, nullable=False, default="[]"),  # JSON list
    Column("topics", Text, nullable=False, default="[]"),  # JSON list, in display order
    Column("summary", Text, nullable=False, default=""),
    Column("channel_hint", Text),
    Column("url", Text),
    Column("image", Text),
    Column("publish_at", UTCDateTime),
    Column("source", Text),
    Column("search_text", Text, nullable=False),  # lower-cased title, standfirst and body
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When deliveries were planned; NULL while the article waits (new, or embargoed).
    Column("planned_at", UTCDateTime),
    Column("archived", Boolean, nullable=False, default=False),  # imported, never posted
    Index("ix_articles_published", "published"),
    Index("ix_articles_planned_at", "planned_at"),
)

article_topics = Table(
    "article_topics",
    metadata,
    Column("article_id", String(64), primary_key=True),
    Column("topic", String(64), primary_key=True),
    Index("ix_article_topics_topic", "topic"),
)

chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("first_name", Text),
    Column("username", Text),
    Column("active", Boolean, nullable=False, default=True),
    Column("inactive_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # SubscriptionKind value
    Column("value", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("chat_id", "kind", "value", name="uq_subscriptions_chat_kind_value"),
    Index("ix_subscriptions_kind_value", "kind", "value"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", String(64), nullable=False),
    Column("chat_id", String(64), nullable=False),  # numeric id as text, or @channel
    Column("kind", String(16), nullable=False),  # DeliveryKind value
    Column("priority", Integer, nullable=False, default=0),  # lower goes first
    Column("state", String(16), nullable=False),  # DeliveryState value
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("message_id", BigInteger),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    # Position among the article's recipients: ordering by it interleaves posts fairly.
    # The server default is what migration 0002 gave rows that existed before ranks.
    Column("rank", Integer, nullable=False, default=0, server_default="0"),
    Column("claimed_by", String(128)),  # the worker holding it while state is sending
    Column("lease_until", UTCDateTime),  # after this, another worker may take it back
    UniqueConstraint("article_id", "chat_id", name="uq_deliveries_article_chat"),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_queue", "state", "priority", "rank", "id"),
    Index("ix_deliveries_chat", "chat_id"),
)

# Shared pacing: one row per scope holds the GCRA "theoretical arrival time" (epoch seconds),
# so several worker processes together never exceed the global rate.
rate_budget = Table(
    "rate_budget",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("tat", Float, nullable=False),
    # The writer's clock when it wrote tat: a row written "in the future" reveals a clock step.
    Column("written_at", Float, nullable=False, server_default="0"),
)

# Named leases: the one bot (poller) per database holds "bot" while it runs.
locks = Table(
    "locks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("acquired_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)

source_files = Table(
    "source_files",
    metadata,
    Column("path", Text, primary_key=True),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("article_id", String(64)),
    Column("error", Text),  # the last parse error, reported once per version of the file
    Column("updated_at", UTCDateTime, nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
