"""Articles: storing parsed stories, the archive, and what readers may look up."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from content import search as ranking
from content.models import (
    Article,
    Block,
    BlockKind,
    PublishOptions,
    ReviewState,
    SearchHit,
    TopicCount,
)
from content.storage import fulltext
from content.storage._base import Store, insert
from content.storage.tables import article_topics, articles
from content.visibility import HIDDEN_UNLESS, HIDDEN_UNTIL, HIDDEN_WHILE


class UpsertOutcome(enum.Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def article_row(article: Article) -> dict[str, Any]:
    """The columns an article is stored in (besides its id and bookkeeping)."""
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
        "search_text": ranking.search_text(article),
        "options": _options_json(article.options),
    }


def _options_json(options: PublishOptions) -> str | None:
    data = options.to_json()
    return json.dumps(data, sort_keys=True) if data else None


def article_from_row(row: Any) -> Article:
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
        options=PublishOptions.from_json(json.loads(row.options) if row.options else None),
        withdrawn_at=row.withdrawn_at,
        review=ReviewState(row.review) if row.review else None,
        reviewed_by=row.reviewed_by,
        summary_by=row.summary_by,
    )


def visible(now: datetime) -> Any:
    """Articles a reader may see: content/visibility.py's one rule, as SQL."""
    return and_(
        *(or_(articles.c[n].is_(None), articles.c[n] <= now) for n in HIDDEN_UNTIL),
        *(articles.c[n].is_(None) for n in HIDDEN_WHILE),
        *(
            or_(articles.c[n].is_(None), *(articles.c[n] == v.value for v in shown))
            for n, shown in HIDDEN_UNLESS.items()
        ),
    )


def hidden(now: datetime) -> Any:
    """The complement of `visible` (the few hidden stories; each column has its index)."""
    return or_(
        *(articles.c[n] > now for n in HIDDEN_UNTIL),
        *(articles.c[n].is_not(None) for n in HIDDEN_WHILE),
        *(articles.c[n].not_in([v.value for v in shown]) for n, shown in HIDDEN_UNLESS.items()),
    )


async def mark_planned(conn: AsyncConnection, *, article_id: str, now: datetime) -> None:
    """Deliveries are planned: the article leaves the planning queue (in the caller's commit)."""
    await conn.execute(update(articles).where(articles.c.id == article_id).values(planned_at=now))


async def _index(
    conn: AsyncConnection,
    article: Article,
    row: dict[str, Any],
    dated_at: datetime,
    *,
    previous: datetime | None,
) -> None:
    """The full-text index follows the row, in the same transaction."""
    await fulltext.index_article(
        conn,
        article_id=article.id,
        title=article.title,
        body=row["search_text"],
        dated_at=dated_at,
        previous_dated_at=previous,
    )


async def _store_topics(conn: AsyncConnection, article: Article) -> None:
    if article.topics:
        await conn.execute(
            insert(article_topics, conn).on_conflict_do_nothing(),
            [{"article_id": article.id, "topic": t} for t in dict.fromkeys(article.topics)],
        )


async def _upsert(
    conn: AsyncConnection, article: Article, *, now: datetime, archive: bool
) -> UpsertOutcome:
    row = article_row(article)
    dated_at = article.published or now
    created = await conn.execute(
        insert(articles, conn)
        .values(
            id=article.id,
            first_seen_at=now,
            updated_at=now,
            archived=archive,
            planned_at=now if archive else None,
            dated_at=dated_at,
            **row,
        )
        .on_conflict_do_nothing(index_elements=[articles.c.id])
    )
    if created.rowcount:
        await _store_topics(conn, article)
        await _index(conn, article, row, dated_at, previous=None)
        return UpsertOutcome.NEW
    existing = (await conn.execute(select(articles).where(articles.c.id == article.id))).one()
    if existing.summary_by is not None:
        # An editor's summary stands until an editor changes it: not the source's new one.
        row["summary"] = existing.summary
    if all(getattr(existing, key) == value for key, value in row.items()):
        return UpsertOutcome.UNCHANGED
    dated_at = article.published or existing.first_seen_at
    await conn.execute(
        update(articles)
        .where(articles.c.id == article.id)
        .values(updated_at=now, dated_at=dated_at, **row)
    )
    await conn.execute(delete(article_topics).where(article_topics.c.article_id == article.id))
    await _store_topics(conn, article)
    await _index(conn, article, row, dated_at, previous=existing.dated_at)
    return UpsertOutcome.UPDATED


async def upsert_in(
    conn: AsyncConnection, article: Article, *, now: datetime, archive: bool
) -> UpsertOutcome:
    """`ArticleStore.upsert` in the caller's transaction (a source's items with their records)."""
    return await _upsert(conn, article, now=now, archive=archive)


async def archive_in(conn: AsyncConnection, article_id: str, *, now: datetime) -> None:
    """`ArticleStore.mark_archived` in the caller's transaction."""
    await conn.execute(
        update(articles).where(articles.c.id == article_id).values(archived=True, planned_at=now)
    )


async def withdraw_in(conn: AsyncConnection, article_id: str, *, now: datetime) -> bool | None:
    """Mark the story withdrawn, keeping the first time (caller's commit).

    True when this call withdrew it, False when it was already, None when there is no such story.
    """
    result = await conn.execute(
        update(articles)
        .where(articles.c.id == article_id, articles.c.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    if result.rowcount:
        return True
    found = await conn.scalar(select(articles.c.id).where(articles.c.id == article_id))
    return False if found is not None else None


class ArticleStore(Store):
    """Stories: upsert by id, the archive, latest, search, topics, the planning queue."""

    async def upsert(
        self, article: Article, *, now: datetime, archive: bool = False
    ) -> UpsertOutcome:
        """Store an article; a known id is updated in place (never a second article).

        INSERT ... ON CONFLICT DO NOTHING first, so two scans storing the same new story
        at once make one row: the later one finds it and compares. `archive`: a new story
        is stored as the archive (as `mark_archived`), in the same transaction.
        """
        async with self.engine.begin() as conn:
            return await _upsert(conn, article, now=now, archive=archive)

    async def upsert_many(
        self, batch: Sequence[tuple[Article, bool]], *, now: datetime
    ) -> list[UpsertOutcome]:
        """`upsert` of each (article, archive) pair, all in one transaction (an import batch)."""
        async with self.engine.begin() as conn:
            return [await _upsert(conn, a, now=now, archive=archive) for a, archive in batch]

    async def mark_archived(self, article_id: str, *, now: datetime) -> None:
        """Imported as the archive: readable in the bot, never posted."""
        async with self.engine.begin() as conn:
            await archive_in(conn, article_id, now=now)

    async def get(self, article_id: str) -> Article | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(articles).where(articles.c.id == article_id))).first()
        return article_from_row(row) if row else None

    async def count(self, *, now: datetime | None = None) -> int:
        """All articles, or (given `now`) those a reader may see."""
        total = select(func.count()).select_from(articles)
        async with self.engine.connect() as conn:
            count = int(await conn.scalar(total) or 0)
            if now is not None:
                # All minus the hidden few: ix_articles_publish_at finds those without a scan.
                count -= int(await conn.scalar(total.where(hidden(now))) or 0)
        return count

    async def latest(self, *, limit: int, now: datetime, offset: int = 0) -> list[Article]:
        """The newest stories a reader may see (ix_articles_dated walks them in order)."""
        stmt = (
            select(articles)
            .where(visible(now))
            .order_by(articles.c.dated_at.desc(), articles.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [article_from_row(r) for r in rows]

    async def search(
        self, query: str, *, limit: int, now: datetime, offset: int = 0
    ) -> list[SearchHit]:
        """Stories matching the query's words: most words matched, then in the title, newest.

        Ranked over every match by the database's full-text index (content/storage/
        fulltext.py), a page at a time. Any input is safe: the query is reduced to words,
        and each word is quoted before it reaches the index.
        """
        terms = ranking.search_terms(query)
        if not terms or limit <= 0:
            return []
        async with self.engine.connect() as conn:
            page = await fulltext.ranked_page(
                conn, terms, visible=visible(now), limit=limit, offset=max(offset, 0)
            )
            if page is None:
                return []
            stmt = (
                select(articles, page.c.score)
                .join(page, articles.c.id == page.c.article_id)
                .order_by(page.c.score.desc(), page.c.key.desc(), articles.c.id)
            )
            rows = (await conn.execute(stmt)).all()
        return [SearchHit(article_from_row(row), float(row.score)) for row in rows]

    async def topic_counts(self, *, now: datetime) -> list[TopicCount]:
        count = func.count().label("n")
        stmt = (
            select(article_topics.c.topic, count)
            .join(articles, articles.c.id == article_topics.c.article_id)
            .where(visible(now))
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

    async def due_for_planning(self, *, now: datetime) -> list[Article]:
        """New articles not yet planned whose embargo (publish_at) has passed."""
        stmt = (
            select(articles)
            .where(articles.c.planned_at.is_(None), articles.c.archived.is_(False))
            .where(visible(now))
            .order_by(articles.c.first_seen_at, articles.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [article_from_row(r) for r in rows]

    async def set_review(
        self,
        *,
        article_id: str,
        state: ReviewState,
        by: str,
        only_from: Sequence[ReviewState],
    ) -> bool:
        """An editor's decision, taken only while the story's review is one of `only_from`.

        One conditional UPDATE: of two editors publishing at once, only one changes the row
        (True); the other sees False. A story never under review (NULL) is left alone.
        """
        stmt = (
            update(articles)
            .where(
                articles.c.id == article_id,
                articles.c.review.in_([s.value for s in only_from]),
            )
            .values(review=state.value, reviewed_by=by)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def awaiting_editor(self, *, limit: int) -> tuple[list[Article], int]:
        """Stories waiting for review or held (not withdrawn): the newest `limit`, and how many.

        ix_articles_review finds the few under review; sorting them costs nothing.
        """
        under_review = and_(
            articles.c.review.in_([ReviewState.WAITING.value, ReviewState.HELD.value]),
            articles.c.withdrawn_at.is_(None),
        )
        stmt = (
            select(articles)
            .where(under_review)
            .order_by(articles.c.dated_at.desc(), articles.c.id)
            .limit(max(limit, 0))
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
            total = int(
                await conn.scalar(select(func.count()).select_from(articles).where(under_review))
                or 0
            )
        return [article_from_row(r) for r in rows], total

    async def set_summary(self, *, article_id: str, summary: str, by: str, now: datetime) -> bool:
        """An editor's summary replaces the story's and sticks; False when unknown or already so.

        Sending the summary the story already has still makes it the editor's (kept, not
        replaced by a new version's), but changes nothing to edit: False.
        """
        story = articles.c.id == article_id
        replaced = (
            update(articles)
            .where(story, articles.c.summary != summary)
            .values(summary=summary, summary_by=by, updated_at=now)
        )
        adopted = (
            update(articles)
            .where(story, articles.c.summary == summary, articles.c.summary_by.is_(None))
            .values(summary_by=by)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(replaced)
            if not result.rowcount:
                await conn.execute(adopted)
        return bool(result.rowcount)
