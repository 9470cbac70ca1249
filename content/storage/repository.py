"""The repository: every query Newswire makes, and the only place SQL lives."""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    and_,
    bindparam,
    case,
    delete,
    event,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from content.models import (
    Article,
    Block,
    BlockKind,
    Delivery,
    DeliveryKind,
    DeliveryState,
    SearchHit,
    Subscription,
    SubscriptionKind,
    TopicCount,
)
from content.storage.tables import (
    UTCDateTime,
    article_topics,
    articles,
    chats,
    deliveries,
    meta,
    rate_budget,
    source_files,
    subscriptions,
)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_RETRYABLE_STATES = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)
_LEASE = timedelta(seconds=60)


class UpsertOutcome(enum.Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class SourceFileState:
    path: str
    mtime_ns: int
    size: int
    sha256: str
    article_id: str | None
    error: str | None


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    by_state: dict[DeliveryState, int]
    sent_last_hour: int
    failed_last_hour: int


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_terms(query: str, *, max_terms: int = 8) -> list[str]:
    """Lower-cased words of a free-text query; punctuation and operators are just separators."""
    seen: list[str] = []
    for word in _WORD_RE.findall(query.lower()):
        if word not in seen:
            seen.append(word)
    return seen[:max_terms]


def _article_search_text(article: Article) -> str:
    parts = [article.title, article.standfirst or "", article.body_text]
    return "\n".join(parts).lower()


def _article_row(article: Article) -> dict[str, Any]:
    return {
        "title": article.title,
        "standfirst": article.standfirst,
        "author": article.author,
        "published": article.published,
        "blocks": json.dumps([[b.kind.value, b.text] for b in article.blocks], ensure_ascii=False),
        "tags": json.dumps(list(article.tags), ensure_ascii=False),
        "topics": json.dumps(list(article.topics), ensure_ascii=False),
        "summary": article.summary,
        "channel_hint": article.channel_hint,
        "url": article.url,
        "image": article.image,
        "publish_at": article.publish_at,
        "source": article.source,
        "search_text": _article_search_text(article),
    }


def _article_from_row(row: Any) -> Article:
    return Article(
        id=row.id,
        title=row.title,
        blocks=tuple(Block(BlockKind(kind), text) for kind, text in json.loads(row.blocks)),
        standfirst=row.standfirst,
        author=row.author,
        published=row.published,
        tags=tuple(json.loads(row.tags)),
        topics=tuple(json.loads(row.topics)),
        summary=row.summary,
        channel_hint=row.channel_hint,
        url=row.url,
        image=row.image,
        publish_at=row.publish_at,
        source=row.source,
    )


def _delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        article_id=row.article_id,
        chat_id=row.chat_id,
        kind=DeliveryKind(row.kind),
        priority=row.priority,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        rank=row.rank,
        message_id=row.message_id,
        last_error=row.last_error,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the bot read while the worker writes; busy_timeout rides out short locks.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Repository:
    """Async storage of articles, chats, subscriptions and the delivery outbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, database_url: str) -> Repository:
        """Create the engine (and the SQLite file's folder); call `migrate` before use."""
        url = make_url(database_url)
        kwargs: dict[str, Any] = {}
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        else:
            kwargs["pool_pre_ping"] = True
        engine = create_async_engine(url, **kwargs)
        if url.get_backend_name() == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return cls(engine)

    async def migrate(self) -> None:
        """Apply Alembic migrations up to head."""

        def upgrade(connection: Connection) -> None:
            cfg = Config()
            cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

        async with self.engine.begin() as conn:
            await conn.run_sync(upgrade)

    async def close(self) -> None:
        await self.engine.dispose()

    def _insert(self, table: Any) -> Any:
        """INSERT that can say ON CONFLICT DO NOTHING/UPDATE on both supported backends."""
        return postgresql.insert(table) if self.dialect == "postgresql" else sqlite.insert(table)

    # -- meta -----------------------------------------------------------------

    async def get_meta(self, key: str) -> str | None:
        async with self.engine.connect() as conn:
            return await conn.scalar(select(meta.c.value).where(meta.c.key == key))

    async def set_meta(self, key: str, value: str) -> None:
        stmt = self._insert(meta).values(key=key, value=value)
        stmt = stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": value})
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    # -- articles -------------------------------------------------------------

    async def upsert_article(self, article: Article, *, now: datetime) -> UpsertOutcome:
        """Store an article; a known id is updated in place (never a second article)."""
        row = _article_row(article)
        async with self.engine.begin() as conn:
            existing = (
                await conn.execute(select(articles).where(articles.c.id == article.id))
            ).first()
            if existing is None:
                await conn.execute(
                    articles.insert().values(
                        id=article.id, first_seen_at=now, updated_at=now, archived=False, **row
                    )
                )
                outcome = UpsertOutcome.NEW
            elif all(getattr(existing, key) == value for key, value in row.items()):
                return UpsertOutcome.UNCHANGED
            else:
                await conn.execute(
                    update(articles)
                    .where(articles.c.id == article.id)
                    .values(updated_at=now, **row)
                )
                await conn.execute(
                    delete(article_topics).where(article_topics.c.article_id == article.id)
                )
                outcome = UpsertOutcome.UPDATED
            if article.topics:
                await conn.execute(
                    article_topics.insert(),
                    [{"article_id": article.id, "topic": t} for t in dict.fromkeys(article.topics)],
                )
        return outcome

    async def mark_archived(self, article_id: str, *, now: datetime) -> None:
        """Imported as the archive: readable in the bot, never posted."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(articles)
                .where(articles.c.id == article_id)
                .values(archived=True, planned_at=now)
            )

    async def get_article(self, article_id: str) -> Article | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(articles).where(articles.c.id == article_id))).first()
        return _article_from_row(row) if row else None

    async def article_count(self) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(articles)) or 0)

    def _visible(self, now: datetime) -> Any:
        """Articles a reader may see: not under embargo."""
        return or_(articles.c.publish_at.is_(None), articles.c.publish_at <= now)

    async def latest(self, *, limit: int, now: datetime) -> list[Article]:
        newest = func.coalesce(articles.c.published, articles.c.first_seen_at)
        stmt = (
            select(articles)
            .where(self._visible(now))
            .order_by(newest.desc(), articles.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_article_from_row(r) for r in rows]

    async def search(self, query: str, *, limit: int, now: datetime) -> list[SearchHit]:
        """Articles matching the query's words, most words matched and best placed first.

        Any input is safe: the query is reduced to words, and each is a bound LIKE parameter.
        """
        terms = search_terms(query)
        if not terms:
            return []
        conditions = [
            articles.c.search_text.like(f"%{_escape_like(t)}%", escape="\\") for t in terms
        ]
        stmt = select(articles).where(self._visible(now), or_(*conditions)).limit(1000)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        hits = [SearchHit(a, _score(a, terms)) for a in map(_article_from_row, rows)]
        hits = [h for h in hits if h.score > 0]
        hits.sort(key=lambda h: (-h.score, -(h.article.published or _EPOCH).timestamp()))
        return hits[:limit]

    async def topic_counts(self, *, now: datetime) -> list[TopicCount]:
        count = func.count().label("n")
        stmt = (
            select(article_topics.c.topic, count)
            .join(articles, articles.c.id == article_topics.c.article_id)
            .where(self._visible(now))
            .group_by(article_topics.c.topic)
            .order_by(count.desc(), article_topics.c.topic)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [TopicCount(r.topic, int(r.n)) for r in rows]

    async def known_topic(self, topic: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                select(article_topics.c.topic).where(article_topics.c.topic == topic).limit(1)
            )
        return found is not None

    async def articles_to_plan(self, *, now: datetime) -> list[Article]:
        """New articles not yet planned whose embargo (publish_at) has passed."""
        stmt = (
            select(articles)
            .where(articles.c.planned_at.is_(None), articles.c.archived.is_(False))
            .where(self._visible(now))
            .order_by(articles.c.first_seen_at, articles.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_article_from_row(r) for r in rows]

    # -- source files ---------------------------------------------------------

    async def source_files(self) -> dict[str, SourceFileState]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(source_files))).all()
        return {
            r.path: SourceFileState(r.path, r.mtime_ns, r.size, r.sha256, r.article_id, r.error)
            for r in rows
        }

    async def record_source_file(
        self,
        *,
        path: str,
        mtime_ns: int,
        size: int,
        sha256: str,
        article_id: str | None,
        error: str | None,
        now: datetime,
    ) -> None:
        values = {
            "mtime_ns": mtime_ns,
            "size": size,
            "sha256": sha256,
            "article_id": article_id,
            "error": error,
            "updated_at": now,
        }
        stmt = self._insert(source_files).values(path=path, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[source_files.c.path], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    # -- chats and subscriptions ----------------------------------------------

    async def upsert_chat(
        self, *, chat_id: int, first_name: str | None, username: str | None, now: datetime
    ) -> None:
        """Remember a reader; one who talks to the bot again is active again."""
        values = {
            "first_name": first_name,
            "username": username,
            "active": True,
            "inactive_reason": None,
            "updated_at": now,
        }
        stmt = self._insert(chats).values(chat_id=chat_id, created_at=now, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[chats.c.chat_id], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def subscribe(
        self, *, chat_id: int, kind: SubscriptionKind, value: str, now: datetime
    ) -> bool:
        """Add a subscription; False when it already existed."""
        stmt = self._insert(subscriptions).values(
            chat_id=chat_id, kind=kind.value, value=value, created_at=now
        )
        stmt = stmt.on_conflict_do_nothing()
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def unsubscribe(self, *, chat_id: int, value: str) -> bool:
        """Remove a topic or keyword subscription by its value; False when there was none."""
        stmt = delete(subscriptions).where(
            subscriptions.c.chat_id == chat_id, subscriptions.c.value == value
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def subscriptions_of(self, chat_id: int) -> list[Subscription]:
        stmt = (
            select(subscriptions)
            .where(subscriptions.c.chat_id == chat_id)
            .order_by(subscriptions.c.kind.desc(), subscriptions.c.value)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [Subscription(r.chat_id, SubscriptionKind(r.kind), r.value) for r in rows]

    async def deactivate_chat(self, *, chat_id: int, reason: str, now: datetime) -> None:
        """A reader who blocked the bot: inactive, subscriptions dropped, pending sends dead."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == chat_id)
                .values(active=False, inactive_reason=reason, updated_at=now)
            )
            await conn.execute(delete(subscriptions).where(subscriptions.c.chat_id == chat_id))
            await conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.chat_id == str(chat_id),
                    deliveries.c.state.in_(_RETRYABLE_STATES),
                )
                .values(state=DeliveryState.DEAD.value, last_error=reason, updated_at=now)
            )

    async def migrate_chat(self, *, old_chat_id: str, new_chat_id: str, now: datetime) -> None:
        """A group became a supergroup: unsent deliveries and subscriptions follow it."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries)
                .where(
                    deliveries.c.chat_id == old_chat_id,
                    deliveries.c.state != DeliveryState.SENT.value,
                )
                .values(chat_id=new_chat_id, updated_at=now)
            )
            if old_chat_id.lstrip("-").isdigit() and new_chat_id.lstrip("-").isdigit():
                old, new = int(old_chat_id), int(new_chat_id)
                await conn.execute(
                    update(subscriptions).where(subscriptions.c.chat_id == old).values(chat_id=new)
                )
                await conn.execute(update(chats).where(chats.c.chat_id == old).values(chat_id=new))

    async def active_subscriber_count(self) -> int:
        stmt = select(func.count(func.distinct(subscriptions.c.chat_id))).select_from(
            subscriptions.join(chats, chats.c.chat_id == subscriptions.c.chat_id)
        )
        async with self.engine.connect() as conn:
            return int(await conn.scalar(stmt.where(chats.c.active.is_(True))) or 0)

    # -- the outbox -----------------------------------------------------------

    async def plan_deliveries(
        self,
        article: Article,
        *,
        channels: Sequence[str],
        keyword_matches: Iterable[str],
        now: datetime,
        channel_priority: int = 0,
        reader_priority: int = 10,
        batch: int = 5000,
    ) -> int:
        """Queue the article for every channel and every matching active reader, once each.

        Readers are streamed by chat id in batches (keyset pagination), so planning for a
        million readers holds one batch in memory, and a crash mid-way is resumed by planning
        again (rows that exist are skipped). Returns the article's number of deliveries.
        """
        keywords = list(keyword_matches)
        common = {
            "article_id": article.id,
            "state": DeliveryState.PENDING.value,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
        insert = self._insert(deliveries).on_conflict_do_nothing()
        if channels:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert,
                    [
                        {
                            **common,
                            "chat_id": chat,
                            "kind": DeliveryKind.CHANNEL.value,
                            "priority": channel_priority,
                            "rank": 0,
                        }
                        for chat in channels
                    ],
                )
        match = or_(
            and_(
                subscriptions.c.kind == SubscriptionKind.TOPIC.value,
                subscriptions.c.value.in_(list(article.topics) or [""]),
            ),
            and_(
                subscriptions.c.kind == SubscriptionKind.KEYWORD.value,
                subscriptions.c.value.in_(keywords or [""]),
            ),
        )
        readers = (
            select(subscriptions.c.chat_id)
            .select_from(subscriptions.join(chats, chats.c.chat_id == subscriptions.c.chat_id))
            .where(chats.c.active.is_(True), match)
            .distinct()
            .order_by(subscriptions.c.chat_id)
            .limit(batch)
        )
        last: int | None = None
        rank = 0
        while True:
            async with self.engine.begin() as conn:
                page = readers if last is None else readers.where(subscriptions.c.chat_id > last)
                ids = list((await conn.scalars(page)).all())
                if not ids:
                    break
                await conn.execute(
                    insert,
                    [
                        {
                            **common,
                            "chat_id": str(chat_id),
                            "kind": DeliveryKind.READER.value,
                            "priority": reader_priority,
                            "rank": rank + n,
                        }
                        for n, chat_id in enumerate(ids, start=1)
                    ],
                )
            rank += len(ids)
            last = ids[-1]
        async with self.engine.begin() as conn:
            await conn.execute(
                update(articles).where(articles.c.id == article.id).values(planned_at=now)
            )
            total = await conn.scalar(
                select(func.count()).where(deliveries.c.article_id == article.id)
            )
        return int(total or 0)

    async def keyword_values(self) -> list[str]:
        """Distinct keywords readers subscribed to (few, whatever the audience size)."""
        stmt = select(subscriptions.c.value).where(
            subscriptions.c.kind == SubscriptionKind.KEYWORD.value
        )
        async with self.engine.connect() as conn:
            return list((await conn.scalars(stmt.distinct())).all())

    async def claim_due(
        self, *, now: datetime, limit: int, worker: str = "", lease: timedelta = _LEASE
    ) -> list[Delivery]:
        """Take up to `limit` due deliveries for `worker` and mark them sending.

        Retries that fell due go first, then the queue by priority and rank (so several
        posts interleave). One UPDATE ... RETURNING claims atomically; on PostgreSQL the
        inner SELECT skips rows other workers hold (FOR UPDATE SKIP LOCKED).
        """
        claimed: list[Delivery] = []
        for state, order in (
            (DeliveryState.FAILED, (deliveries.c.next_attempt_at, deliveries.c.id)),
            (
                DeliveryState.PENDING,
                (deliveries.c.priority, deliveries.c.rank, deliveries.c.id),
            ),
        ):
            want = limit - len(claimed)
            if want <= 0:
                break
            inner = (
                select(deliveries.c.id)
                .where(deliveries.c.state == state.value, deliveries.c.next_attempt_at <= now)
                .order_by(*order)
                .limit(want)
            )
            if self.dialect == "postgresql":
                inner = inner.with_for_update(skip_locked=True)
            stmt = (
                update(deliveries)
                .where(deliveries.c.id.in_(inner.scalar_subquery()))
                .values(
                    state=DeliveryState.SENDING.value,
                    attempts=deliveries.c.attempts + 1,
                    claimed_by=worker,
                    lease_until=now + lease,
                    updated_at=now,
                )
                .returning(*deliveries.c)
            )
            async with self.engine.begin() as conn:
                rows = (await conn.execute(stmt)).all()
            claimed += [_delivery_from_row(r) for r in rows]
        claimed.sort(key=lambda d: (d.state, d.priority, d.rank, d.id))
        return claimed

    async def sending_owners(self) -> list[str]:
        """Workers that hold deliveries right now."""
        stmt = (
            select(deliveries.c.claimed_by)
            .where(deliveries.c.state == DeliveryState.SENDING.value)
            .distinct()
        )
        async with self.engine.connect() as conn:
            return [o for o in (await conn.scalars(stmt)).all() if o is not None]

    async def reclaim(self, *, now: datetime, dead_workers: Sequence[str] = ()) -> int:
        """Deliveries held by dead workers, or whose lease ran out, go back to the queue.

        A send that was in flight when its worker died may have reached Telegram: resending
        it can duplicate, which is the price of losing nothing.
        """
        held_by_dead = deliveries.c.claimed_by.in_(list(dead_workers) or [""])
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.state == DeliveryState.SENDING.value,
                or_(held_by_dead, deliveries.c.lease_until < now),
            )
            .values(
                state=DeliveryState.PENDING.value,
                next_attempt_at=now,
                claimed_by=None,
                lease_until=None,
                updated_at=now,
            )
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def reserve_slots(self, *, scope: str, count: int, interval: float, now: float) -> float:
        """Reserve `count` sends spaced `interval` apart in a shared budget; returns the first.

        GCRA kept in the database: one atomic UPDATE ... RETURNING per batch, so any number
        of workers together stay under the scope's rate. Times are epoch seconds.
        """
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(rate_budget).values(scope=scope, tat=now).on_conflict_do_nothing()
            )
            start = case((rate_budget.c.tat > now, rate_budget.c.tat), else_=literal(now))
            tat = await conn.scalar(
                update(rate_budget)
                .where(rate_budget.c.scope == scope)
                .values(tat=start + count * interval)
                .returning(rate_budget.c.tat)
            )
        return float(tat) - count * interval

    async def pause_scope(self, *, scope: str, until: float) -> None:
        """Nobody sends in this scope before `until` (epoch seconds): a global 429."""
        async with self.engine.begin() as conn:
            await conn.execute(
                self._insert(rate_budget).values(scope=scope, tat=until).on_conflict_do_nothing()
            )
            await conn.execute(
                update(rate_budget)
                .where(rate_budget.c.scope == scope, rate_budget.c.tat < until)
                .values(tat=until)
            )

    async def next_due_at(self) -> datetime | None:
        """When the earliest waiting delivery falls due (None when the outbox is idle)."""
        stmt = select(func.min(deliveries.c.next_attempt_at)).where(
            deliveries.c.state.in_(_RETRYABLE_STATES)
        )
        async with self.engine.connect() as conn:
            value = await conn.scalar(stmt)
        return UTCDateTime().process_result_value(value, self.engine.dialect) if value else None

    async def mark_sent(self, *, delivery_id: int, message_id: int, now: datetime) -> None:
        await self.mark_sent_many([(delivery_id, message_id, now)])

    async def requeue_channel_edits(self, article_id: str, *, now: datetime) -> int:
        """An article's sent channel posts go back to the queue, to be edited in place.

        The row keeps its message id: the worker edits that message instead of sending a
        new one. Reader messages are left as they are (readers open the story fresh).
        """
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.article_id == article_id,
                deliveries.c.kind == DeliveryKind.CHANNEL.value,
                deliveries.c.state == DeliveryState.SENT.value,
                deliveries.c.message_id.is_not(None),
            )
            .values(
                state=DeliveryState.PENDING.value,
                next_attempt_at=now,
                attempts=0,
                last_error=None,
                created_at=now,  # the edit's own age decides when retrying it stops
                updated_at=now,
            )
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def mark_sent_many(self, results: Sequence[tuple[int, int, datetime]]) -> None:
        """Record (delivery id, Telegram message id, sent at) for many sends in one commit."""
        if not results:
            return
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == bindparam("b_id"))
            .values(
                state=DeliveryState.SENT.value,
                message_id=bindparam("b_message"),
                sent_at=bindparam("b_at"),
                updated_at=bindparam("b_at"),
                last_error=None,
                claimed_by=None,
                lease_until=None,
            )
        )
        rows = [{"b_id": i, "b_message": m, "b_at": at} for i, m, at in results]
        async with self.engine.begin() as conn:
            await conn.execute(stmt, rows)

    async def mark_retry(
        self,
        *,
        delivery_id: int,
        at: datetime,
        error: str,
        now: datetime,
        count_attempt: bool = True,
    ) -> None:
        """Back to the queue at `at`; a flood wait or pacing does not count as an attempt."""
        values: dict[str, Any] = {
            "state": DeliveryState.FAILED.value if count_attempt else DeliveryState.PENDING.value,
            "next_attempt_at": at,
            "last_error": error,
            "updated_at": now,
        }
        if not count_attempt:
            values["attempts"] = deliveries.c.attempts - 1
        await self._set_delivery(delivery_id, **values)

    async def mark_dead(self, *, delivery_id: int, error: str, now: datetime) -> None:
        await self._set_delivery(
            delivery_id, state=DeliveryState.DEAD.value, last_error=error, updated_at=now
        )

    async def _set_delivery(self, delivery_id: int, **values: Any) -> None:
        values.update(claimed_by=None, lease_until=None)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(**values)
            )

    async def requeue_dead(self, *, article_id: str, now: datetime) -> int:
        """An editor's /retry: dead deliveries of the article go back to the queue."""
        stmt = (
            update(deliveries)
            .where(
                deliveries.c.article_id == article_id,
                deliveries.c.state == DeliveryState.DEAD.value,
            )
            .values(
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount or 0)

    async def dead_letters(self, *, limit: int) -> list[Delivery]:
        stmt = (
            select(deliveries)
            .where(deliveries.c.state == DeliveryState.DEAD.value)
            .order_by(deliveries.c.updated_at.desc(), deliveries.c.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [_delivery_from_row(r) for r in rows]

    async def deliveries_of(self, article_id: str) -> list[Delivery]:
        stmt = select(deliveries).where(deliveries.c.article_id == article_id)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(deliveries.c.id))).all()
        return [_delivery_from_row(r) for r in rows]

    async def outbox_counts(self, *, since: datetime) -> OutboxCounts:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(deliveries.c.state, func.count()).group_by(deliveries.c.state)
                )
            ).all()
            sent = await conn.scalar(
                select(func.count()).where(
                    deliveries.c.state == DeliveryState.SENT.value, deliveries.c.sent_at >= since
                )
            )
            failed = await conn.scalar(
                select(func.count()).where(
                    deliveries.c.state.in_([DeliveryState.FAILED.value, DeliveryState.DEAD.value]),
                    deliveries.c.updated_at >= since,
                )
            )
        return OutboxCounts(
            by_state={DeliveryState(state): int(n) for state, n in rows},
            sent_last_hour=int(sent or 0),
            failed_last_hour=int(failed or 0),
        )

    async def connection(self) -> AsyncConnection:
        """A raw connection, for tests that check the schema."""
        return await self.engine.connect()


_EPOCH = datetime.fromtimestamp(0).astimezone()


def _score(article: Article, terms: Sequence[str]) -> float:
    """Rank: each matched word counts most, then where it stands (title, standfirst, body)."""
    fields = (
        (article.title.lower(), 5.0),
        ((article.standfirst or "").lower(), 2.0),
        (article.body_text.lower(), 1.0),
    )
    matched = 0
    weight_sum = 0.0
    for term in terms:
        pattern = re.compile(rf"\b{re.escape(term)}\b")
        term_score = sum(weight * min(len(pattern.findall(text)), 5) for text, weight in fields)
        if term_score:
            matched += 1
            weight_sum += term_score
    # Matching more of the query's words always beats repeating one of them.
    return matched * 1000.0 + weight_sum if matched else 0.0
