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
    false,
    true,
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
    # The date lists and search sort by: published, else first seen (its index serves /latest).
    Column("dated_at", UTCDateTime, nullable=False),
    Column("options", Text),  # JSON PublishOptions the source asked for; NULL: none
    Column("withdrawn_at", UTCDateTime),  # taken back: hidden from readers, posts deleted
    Column("review", String(16)),  # ReviewState value under REVIEW=true; NULL: not reviewed
    Column("reviewed_by", Text),  # the editor who published or held it (their name)
    # The editor who wrote the summary (their name): a new version of the story keeps it.
    Column("summary_by", Text),
    Index("ix_articles_published", "published"),
    Index("ix_articles_planned_at", "planned_at"),
    Index("ix_articles_dated", "dated_at", "id"),
    Index("ix_articles_publish_at", "publish_at"),  # the hidden (embargoed) few, for counts
    Index("ix_articles_withdrawn_at", "withdrawn_at"),  # ... the withdrawn few
    Index("ix_articles_review", "review"),  # ... and those waiting for an editor
    # The full-text index (content/storage/fulltext.py, migration 0007) is per backend and
    # not described here: an FTS5 table on SQLite, a tsvector column and GIN on PostgreSQL.
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
    # Reader settings (content/preferences.py); NULL: the default.
    Column("language", String(8)),
    Column("timezone", String(64)),
    Column("digest", String(8), nullable=False, default="off", server_default="off"),
    Column("digest_at", String(5)),  # "HH:MM" in the reader's zone
    Column("quiet_start", String(5)),
    Column("quiet_end", String(5)),
    Column("breaking_in_quiet", Boolean, nullable=False, default=True, server_default=true()),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # SubscriptionKind value
    Column("value", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # JSON list of words, phrases or topics this subscription leaves out ("ukraine -sports").
    Column("excludes", Text, nullable=False, default="[]", server_default="[]"),
    UniqueConstraint("chat_id", "kind", "value", name="uq_subscriptions_chat_kind_value"),
    Index("ix_subscriptions_kind_value", "kind", "value"),
)

# Words, phrases or topics a reader excludes from everything they get (/mute).
mutes = Table(
    "mutes",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("value", String(128), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
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
    # The story was corrected while this post was on the wire: edit it once it is recorded.
    Column("edit_due", Boolean, nullable=False, default=False, server_default=false()),
    # A held story: NULL while it waits, then the id of the digest delivery it went out in.
    Column("bundle", Integer),
    # The story was withdrawn after this post was sent: delete the message (paced, queued).
    Column("delete_due", Boolean, nullable=False, default=False, server_default=false()),
    # A pinned channel post: when to unpin it (NULL: not pinned, or unpinned).
    Column("pinned_until", UTCDateTime),
    UniqueConstraint("article_id", "chat_id", name="uq_deliveries_article_chat"),
    Index("ix_deliveries_due", "state", "next_attempt_at"),
    Index("ix_deliveries_queue", "state", "priority", "rank", "id"),
    Index("ix_deliveries_chat", "chat_id"),
    # The release job pages through waiting held stories by reader (keyset on chat_id);
    # bundling sets `bundle`, which touches this index only.
    Index("ix_deliveries_held", "state", "bundle", "chat_id", "next_attempt_at"),
    Index("ix_deliveries_pinned", "pinned_until"),
    Index("ix_deliveries_sent_at", "sent_at"),  # the /stats chart's last 24 hours
)

# What the editors' /stats chart draws beyond the outbox's own rows: per minute, 429s seen by
# any worker and the pending queue's length (sampled). Old minutes are pruned after 2 days.
activity = Table(
    "activity",
    metadata,
    Column("minute", UTCDateTime, primary_key=True),
    Column("throttled", Integer, nullable=False, default=0, server_default="0"),
    Column("pending", Integer),
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

# Feeds and WordPress sites polled for stories (SOURCES and editors' /addsource).
sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),  # SourceKind value: feed | wordpress
    # What the source was registered as (never changes: items are remembered under it).
    Column("spec", Text, nullable=False),
    Column("url", Text, nullable=False),  # where it is fetched now (after 301s, discovery)
    Column("title", Text),
    Column("state", String(16), nullable=False),  # SourceState value: active | disabled
    Column("etag", Text),
    Column("last_modified", Text),
    Column("content_hash", String(64)),  # of the last body parsed: the same body is not parsed
    Column("cursor", Text),  # WordPress: the latest modified_gmt seen (ISO 8601)
    Column("last_success_at", UTCDateTime),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, default=0, server_default="0"),
    Column("failing_since", UTCDateTime),
    Column("notified_failing", Boolean, nullable=False, default=False),
    Column("next_poll_at", UTCDateTime, nullable=False),
    Column("interval", Float, nullable=False),  # seconds between polls while all is well
    Column("items_seen", Integer, nullable=False, default=0, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("spec", name="uq_sources_spec"),
    Index("ix_sources_due", "state", "next_poll_at"),
)

# Which story each item of a source became: a guid-only item, or one whose link changed,
# keeps its story; `digest` says whether the item changed since it was last ingested.
source_items = Table(
    "source_items",
    metadata,
    Column("source", Text, primary_key=True),  # Entry.source
    Column("key", Text, primary_key=True),  # Entry.key
    Column("article_id", String(64)),  # None while the item could not be ingested
    Column("digest", String(64), nullable=False),
    Column("error", Text),  # reported once per version of the item
    Column("withdrawn", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_source_items_article", "article_id"),
)
