"""The outbox: every planned send, claimed by workers under a lease, and its outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from content.models import (
    Article,
    ChatId,
    Delivery,
    DeliveryKind,
    DeliveryState,
    ReviewState,
    chat_id_of,
)
from content.preferences import ReaderSettings
from content.storage import articles as article_rows
from content.storage import readers
from content.storage._base import RETRYABLE_STATES, Store, delivery_from_row, insert
from content.storage.activity import epoch_minute
from content.storage.tables import UTCDateTime, articles, deliveries

LEASE = timedelta(seconds=60)
DIGEST_PREFIX = "digest:"  # a digest delivery's article_id: the prefix and when it was queued

# Until when a story waits for a reader with these settings (None: sent at once).
HoldRule = Callable[[ReaderSettings], datetime | None]


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """What withdrawing a story did to its deliveries (all zero when done before)."""

    article_id: str
    first: bool  # this call withdrew the story (False: it was withdrawn already)
    unsent: int  # deliveries that will never go out
    deletes: int  # sent channel posts queued to be deleted
    in_flight: int  # sends on the wire: a channel post is deleted once it is recorded


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    by_state: dict[DeliveryState, int]
    sent_last_hour: int
    failed_last_hour: int


@dataclass(frozen=True, slots=True)
class SentMinute:
    """Messages sent in one minute (UTC, its start): channel posts and readers' messages."""

    minute: datetime
    channel: int
    readers: int  # stories, digests and "while you were away" messages


async def give_up_pending(
    conn: AsyncConnection, *, chat_id: ChatId, reason: str, now: datetime
) -> None:
    """The chat is gone: its unsent deliveries are dead with the reason (caller's commit)."""
    waiting = and_(deliveries.c.state == DeliveryState.HELD.value, deliveries.c.bundle.is_(None))
    await conn.execute(
        update(deliveries)
        .where(
            deliveries.c.chat_id == chat_id,
            or_(deliveries.c.state.in_(RETRYABLE_STATES), waiting),
        )
        .values(state=DeliveryState.DEAD.value, last_error=reason, updated_at=now)
    )


async def move_unsent(
    conn: AsyncConnection, *, old_chat_id: ChatId, new_chat_id: ChatId, now: datetime
) -> None:
    """The chat has a new id: what was not sent yet goes there (caller's commit)."""
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.chat_id == old_chat_id, deliveries.c.state != DeliveryState.SENT.value)
        .values(chat_id=new_chat_id, updated_at=now)
    )


class Outbox(Store):
    """Planning, claiming and recording sends."""

    async def plan(
        self,
        article: Article,
        *,
        channels: Sequence[str],  # as configured: @names or numeric ids
        keyword_matches: Iterable[str],
        now: datetime,
        channel_priority: int = 0,
        reader_priority: int = 10,
        batch: int = 5000,
        hold: HoldRule | None = None,
        excluded_terms: Sequence[str] = (),
    ) -> int:
        """Queue the article for every channel and every matching active reader, once each.

        Readers are streamed by chat id in batches (keyset pagination), so planning for a
        million readers holds one batch in memory, and a crash mid-way is resumed by planning
        again (rows that exist are skipped). Returns the article's number of deliveries.
        A reader whose mute or subscription exclusion is among `excluded_terms` (the ones
        the story contains) is left out; one whom `hold` holds gets a held row, released
        later in a digest (`bundle_due`). One row per story and chat: never the story twice.
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
        if channels:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(deliveries, conn).on_conflict_do_nothing(),
                    [
                        {
                            **common,
                            "chat_id": chat_id_of(chat),
                            "kind": DeliveryKind.CHANNEL.value,
                            "priority": channel_priority,
                            "rank": 0,
                        }
                        for chat in channels
                    ],
                )
        last: int | None = None
        rank = 0
        known: dict[tuple[Any, ...], ReaderSettings] = {}  # settings parsed once per value
        holds: dict[ReaderSettings, datetime | None] = {}  # and ruled on once per article
        while True:
            async with self.engine.begin() as conn:
                ids = await readers.matching_reader_ids(
                    conn, topics=article.topics, keywords=keywords, after=last, limit=batch
                )
                if not ids:
                    break
                left_out = await readers.excluded_readers(
                    conn, ids, topics=article.topics, keywords=keywords, terms=excluded_terms
                )
                held = {}
                if hold is not None:
                    held = await readers.holding_settings_for(conn, ids, known=known)
                rows = []
                for n, chat_id in enumerate(ids, start=1):
                    if chat_id in left_out:
                        continue
                    row = {
                        **common,
                        "chat_id": chat_id_of(chat_id),
                        "kind": DeliveryKind.READER.value,
                        "priority": reader_priority,
                        "rank": rank + n,
                    }
                    settings = held.get(chat_id)
                    if settings is not None and hold is not None:
                        if settings not in holds:
                            holds[settings] = hold(settings)
                        until = holds[settings]
                        if until is not None:
                            row["state"] = DeliveryState.HELD.value
                            row["next_attempt_at"] = until
                    rows.append(row)
                if rows:
                    await conn.execute(insert(deliveries, conn).on_conflict_do_nothing(), rows)
            rank += len(ids)
            last = ids[-1]
        async with self.engine.begin() as conn:
            await article_rows.mark_planned(conn, article_id=article.id, now=now)
            total = await conn.scalar(
                select(func.count()).where(deliveries.c.article_id == article.id)
            )
        return int(total or 0)

    async def plan_review(
        self, article: Article, *, editors: Sequence[str], now: datetime, priority: int = 0
    ) -> int:
        """Queue the story's preview for each editor; it waits for them (review WAITING).

        Previews and the story's state are one commit. The story stays unplanned (planned_at
        NULL) until an editor publishes it; then `plan` queues it like any other. Returns
        the story's previews (one per editor, never two).
        """
        rows = [
            {
                "article_id": article.id,
                "chat_id": chat_id_of(editor),
                "kind": DeliveryKind.REVIEW.value,
                "priority": priority,
                "rank": n,
                "state": DeliveryState.PENDING.value,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for n, editor in enumerate(editors, start=1)
        ]
        async with self.engine.begin() as conn:
            if rows:
                await conn.execute(insert(deliveries, conn).on_conflict_do_nothing(), rows)
            await conn.execute(
                update(articles)
                .where(articles.c.id == article.id, articles.c.review.is_(None))
                .values(review=ReviewState.WAITING.value)
            )
            # Counted, not rowcount: asyncpg reports none for a many-row insert.
            queued = await conn.scalar(
                select(func.count()).where(
                    deliveries.c.article_id == article.id,
                    deliveries.c.kind == DeliveryKind.REVIEW.value,
                )
            )
        return int(queued or 0)

    async def stop_queued(self, *, article_id: str, by: str) -> int | None:
        """An editor holds a published story: its unsent channel posts and reader messages go.

        In one commit the unsent rows are deleted and the story becomes HELD and unplanned,
        so publishing it again plans what was stopped (what was sent is kept and skipped).
        A post already on the wire cannot be stopped. None: nothing was left to stop (all
        sent, or imported as the archive); the story is then left as it was.
        """
        unsent = (
            deliveries.c.article_id == article_id,
            deliveries.c.kind.in_([DeliveryKind.CHANNEL.value, DeliveryKind.READER.value]),
            or_(
                deliveries.c.state.in_(RETRYABLE_STATES),
                and_(deliveries.c.state == DeliveryState.HELD.value, deliveries.c.bundle.is_(None)),
            ),
        )
        story = articles.c.id == article_id
        async with self.engine.begin() as conn:
            stopped = int((await conn.execute(delete(deliveries).where(*unsent))).rowcount or 0)
            planned = await conn.scalar(select(articles.c.planned_at).where(story))
            if not stopped and planned is not None:
                return None
            await conn.execute(
                update(articles)
                .where(story, articles.c.archived.is_(False))
                .values(review=ReviewState.HELD.value, reviewed_by=by, planned_at=None)
            )
        return stopped

    async def bundle_due(
        self,
        *,
        now: datetime,
        kind_of: Callable[[ReaderSettings], DeliveryKind],
        priority: int = 10,
        batch: int = 5000,
    ) -> int:
        """Bundle each reader's held stories that fell due into ONE digest delivery.

        Readers are paged by chat id (keyset). In one transaction per page, each reader gets
        a digest row (`kind_of` their settings: a digest, or "While you were away") and
        their due held rows become bundled into it: a crash leaves either both or neither,
        so nobody gets two digests and no story is lost (running again finds nothing held).
        A story held after a run goes in the next one. Returns digests queued.
        """
        held = and_(deliveries.c.state == DeliveryState.HELD.value, deliveries.c.bundle.is_(None))
        due = deliveries.c.next_attempt_at <= now
        key = DIGEST_PREFIX + now.isoformat()
        bundle = (
            update(deliveries)
            .where(held, due, deliveries.c.chat_id == bindparam("b_chat"))
            .values(bundle=bindparam("b_bundle"), updated_at=now)
        )
        last: str | None = None
        queued = 0
        while True:
            page = (
                select(deliveries.c.chat_id)
                .where(held, due)
                .group_by(deliveries.c.chat_id)
                .order_by(deliveries.c.chat_id)
                .limit(batch)
            )
            if last is not None:
                page = page.where(deliveries.c.chat_id > last)
            async with self.engine.begin() as conn:
                chats = list((await conn.scalars(page)).all())
                if not chats:
                    break
                keys = [readers.reader_key(ChatId(chat)) for chat in chats]
                settings = await readers.settings_for(conn, [k for k in keys if k is not None])
                digests = [
                    {
                        "article_id": key,
                        "chat_id": chat,
                        "kind": kind_of(settings.get(reader or 0) or ReaderSettings()).value,
                        "priority": priority,
                        "rank": n,
                        "state": DeliveryState.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n, (chat, reader) in enumerate(zip(chats, keys, strict=True), start=1)
                ]
                result = await conn.execute(
                    insert(deliveries, conn).on_conflict_do_nothing(), digests
                )
                queued += int(result.rowcount or 0)
                made = await conn.execute(
                    select(deliveries.c.id, deliveries.c.chat_id).where(
                        deliveries.c.article_id == key, deliveries.c.chat_id.in_(chats)
                    )
                )
                # One statement per reader, each a range of the held index: no correlated
                # lookup per story.
                await conn.execute(bundle, [{"b_chat": c, "b_bundle": i} for i, c in made])
            last = chats[-1]
        return queued

    async def bundled(self, *, digest_id: int, chat_id: ChatId, now: datetime) -> list[Article]:
        """The stories bundled into a chat's digest that readers may see, in planning order."""
        stmt = (
            select(articles)
            .select_from(deliveries.join(articles, articles.c.id == deliveries.c.article_id))
            .where(
                deliveries.c.chat_id == chat_id,
                deliveries.c.state == DeliveryState.HELD.value,
                deliveries.c.bundle == digest_id,
                article_rows.visible(now),
            )
            .order_by(deliveries.c.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [article_rows.article_from_row(r) for r in rows]

    async def claim_due(
        self, *, now: datetime, limit: int, worker: str = "", lease: timedelta = LEASE
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
            if self.engine.dialect.name == "postgresql":
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
            claimed += [delivery_from_row(r) for r in rows]
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

    async def reclaim(
        self, *, now: datetime, dead_workers: Sequence[str] = (), lease: timedelta = LEASE
    ) -> int:
        """Deliveries held by dead workers, or whose lease ran out, go back to the queue.

        A send that was in flight when its worker died may have reached Telegram: resending
        it can duplicate, which is the price of losing nothing. A lease ending further than
        `lease` from now was taken before the clock stepped back: it is cut to end at now +
        `lease`, so a backward step delays reclaiming by at most one lease, never by the step.
        """
        sending = deliveries.c.state == DeliveryState.SENDING.value
        held_by_dead = deliveries.c.claimed_by.in_(list(dead_workers) or [""])
        stmt = (
            update(deliveries)
            .where(sending, or_(held_by_dead, deliveries.c.lease_until < now))
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
            await conn.execute(
                update(deliveries)
                .where(sending, deliveries.c.lease_until > now + lease)
                .values(lease_until=now + lease)
            )
        return int(result.rowcount or 0)

    async def next_due_at(self) -> datetime | None:
        """When the earliest waiting delivery falls due (None when the outbox is idle)."""
        stmt = select(func.min(deliveries.c.next_attempt_at)).where(
            deliveries.c.state.in_(RETRYABLE_STATES)
        )
        async with self.engine.connect() as conn:
            value = await conn.scalar(stmt)
        return UTCDateTime().process_result_value(value, self.engine.dialect) if value else None

    async def oldest_pending_since(self) -> datetime | None:
        """When the longest-waiting unsent delivery was planned (None when none waits; /stats)."""
        stmt = select(func.min(deliveries.c.created_at)).where(
            deliveries.c.state.in_(RETRYABLE_STATES)
        )
        async with self.engine.connect() as conn:
            value = await conn.scalar(stmt)
        return UTCDateTime().process_result_value(value, self.engine.dialect) if value else None

    async def requeue_channel_edits(self, article_id: str, *, now: datetime) -> int:
        """An article's sent channel posts (and editors' previews) go back to be edited in place.

        The row keeps its message id: the worker edits that message instead of sending a
        new one. A post still on the wire (sending, its result not yet recorded) is marked
        `edit_due` and goes back as an edit when it is recorded. Reader messages are left as
        they are (readers open the story fresh).
        """
        kinds = (DeliveryKind.CHANNEL, DeliveryKind.REVIEW)
        return await self._requeue_edits(article_id, kinds, now=now)

    async def requeue_review_edits(self, article_id: str, *, now: datetime) -> int:
        """The editors' previews of an article are edited (a decision changed what they say)."""
        return await self._requeue_edits(article_id, (DeliveryKind.REVIEW,), now=now)

    async def _requeue_edits(
        self, article_id: str, kinds: Sequence[DeliveryKind], *, now: datetime
    ) -> int:
        channel_posts = (
            deliveries.c.article_id == article_id,
            deliveries.c.kind.in_([k.value for k in kinds]),
        )
        sent = (
            update(deliveries)
            .where(
                *channel_posts,
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
                edit_due=False,
            )
        )
        in_flight = (
            update(deliveries)
            .where(*channel_posts, deliveries.c.state == DeliveryState.SENDING.value)
            .values(edit_due=True, updated_at=now)
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(sent)
            flying = await conn.execute(in_flight)
        return int(result.rowcount or 0) + int(flying.rowcount or 0)

    async def mark_sent_many(self, results: Sequence[tuple[int, int, datetime]]) -> None:
        """Record (delivery id, Telegram message id, sent at) for many sends in one commit.

        A post corrected while it was on the wire (`edit_due`) goes back to the queue at
        once, keeping its message id, to be edited; a channel post withdrawn while on the
        wire (`delete_due`), to be deleted. A reader's message stays (readers keep theirs).
        """
        if not results:
            return
        deleting = and_(deliveries.c.delete_due, deliveries.c.kind == DeliveryKind.CHANNEL.value)
        due = or_(deliveries.c.edit_due, deleting)
        stmt = (
            update(deliveries)
            .where(deliveries.c.id == bindparam("b_id"))
            .values(
                state=case((due, DeliveryState.PENDING.value), else_=DeliveryState.SENT.value),
                next_attempt_at=case((due, bindparam("b_at")), else_=deliveries.c.next_attempt_at),
                attempts=case((due, 0), else_=deliveries.c.attempts),
                message_id=bindparam("b_message"),
                sent_at=bindparam("b_at"),
                updated_at=bindparam("b_at"),
                last_error=None,
                claimed_by=None,
                lease_until=None,
                edit_due=False,
                delete_due=deleting,
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
        await self._set(delivery_id, **values)

    async def mark_dead(self, *, delivery_id: int, error: str, now: datetime) -> None:
        await self._set(
            delivery_id, state=DeliveryState.DEAD.value, last_error=error, updated_at=now
        )

    async def mark_pinned(self, *, delivery_id: int, until: datetime) -> None:
        """The sent post was pinned: unpin it at `until` (its claim and state stay as they are)."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(pinned_until=until)
            )

    async def pins_due(self, *, now: datetime, limit: int) -> list[Delivery]:
        """Pinned posts whose time is up, earliest first."""
        stmt = (
            select(deliveries)
            .where(deliveries.c.pinned_until <= now, deliveries.c.message_id.is_not(None))
            .order_by(deliveries.c.pinned_until, deliveries.c.id)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [delivery_from_row(r) for r in rows]

    async def clear_pin(self, *, delivery_id: int) -> None:
        """The post was unpinned (or cannot be): nothing more to do for its pin."""
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(pinned_until=None)
            )

    async def _set(self, delivery_id: int, **values: Any) -> None:
        values.update(claimed_by=None, lease_until=None)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(deliveries).where(deliveries.c.id == delivery_id).values(**values)
            )

    async def withdraw(self, article_id: str, *, now: datetime, reason: str) -> Withdrawal | None:
        """Withdraw the story and its deliveries in one commit (None: no such story).

        Unsent deliveries (review previews aside) become withdrawn; each channel post that
        went out (sent, its edit queued, or a dead edit) is queued to be deleted; one on the
        wire is marked `delete_due` and deleted once recorded. Readers' messages stay.
        Idempotent: what is withdrawn or queued already is not queued again.
        """
        story = (
            deliveries.c.article_id == article_id,
            deliveries.c.kind != DeliveryKind.REVIEW.value,
        )
        posted = (
            update(deliveries)
            .where(
                *story,
                deliveries.c.kind == DeliveryKind.CHANNEL.value,
                deliveries.c.message_id.is_not(None),
                deliveries.c.delete_due.is_(False),
                deliveries.c.state.in_(
                    [*RETRYABLE_STATES, DeliveryState.SENT.value, DeliveryState.DEAD.value]
                ),
            )
            .values(
                state=DeliveryState.PENDING.value,
                delete_due=True,
                edit_due=False,
                next_attempt_at=now,
                attempts=0,
                last_error=None,
                created_at=now,  # the delete's own age decides when retrying it stops
                updated_at=now,
            )
        )
        held = deliveries.c.state == DeliveryState.HELD.value
        waiting = and_(held, deliveries.c.bundle.is_(None))
        unsent = (
            update(deliveries)
            .where(
                *story,
                deliveries.c.message_id.is_(None),
                or_(deliveries.c.state.in_(RETRYABLE_STATES), waiting),
            )
            .values(state=DeliveryState.WITHDRAWN.value, last_error=reason, updated_at=now)
        )
        in_flight = (
            update(deliveries)
            .where(
                *story,
                deliveries.c.state == DeliveryState.SENDING.value,
                deliveries.c.delete_due.is_(False),
            )
            .values(delete_due=True, updated_at=now)
        )
        async with self.engine.begin() as conn:
            first = await article_rows.withdraw_in(conn, article_id, now=now)
            if first is None:
                return None
            deletes = (await conn.execute(posted)).rowcount or 0
            withdrawn = (await conn.execute(unsent)).rowcount or 0
            flying = (await conn.execute(in_flight)).rowcount or 0
        return Withdrawal(article_id, first, int(withdrawn), int(deletes), int(flying))

    async def mark_withdrawn(self, *, delivery_id: int, now: datetime) -> None:
        """The withdrawn story's post is gone (deleted, or never sent): nothing left to do."""
        await self._set(
            delivery_id,
            state=DeliveryState.WITHDRAWN.value,
            delete_due=False,
            edit_due=False,
            pinned_until=None,  # a deleted post has no pin left to take down
            last_error=None,
            updated_at=now,
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
        return [delivery_from_row(r) for r in rows]

    async def counts(self, *, since: datetime) -> OutboxCounts:
        """Depth by state, and sends and failures since `since` (for /stats)."""
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

    async def sent_per_minute(self, *, since: datetime, until: datetime) -> list[SentMinute]:
        """Sends in [since, until) by minute, channel posts apart from readers' (the chart)."""
        minute = epoch_minute(deliveries.c.sent_at, self.engine.dialect.name).label("minute")
        is_channel = case((deliveries.c.kind == DeliveryKind.CHANNEL.value, 1), else_=0)
        kinds = (DeliveryKind.CHANNEL, DeliveryKind.READER, DeliveryKind.DIGEST, DeliveryKind.AWAY)
        stmt = (
            select(minute, func.sum(is_channel), func.count())
            .where(
                deliveries.c.sent_at >= since,
                deliveries.c.sent_at < until,
                deliveries.c.kind.in_([k.value for k in kinds]),
            )
            .group_by(minute)
            .order_by(minute)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            SentMinute(
                minute=datetime.fromtimestamp(int(m) * 60, UTC),
                channel=int(channel),
                readers=int(total) - int(channel),
            )
            for m, channel, total in rows
        ]
