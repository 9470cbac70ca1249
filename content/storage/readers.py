"""Readers: the chats that talk to the bot and what they subscribed to."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from content.models import ChatId, Subscription, SubscriptionKind, chat_id_of
from content.storage import outbox
from content.storage._base import Store, insert
from content.storage.tables import chats, subscriptions


# Readers are private chats and groups, whose ids are numbers: the chats and subscriptions
# tables keep them as BIGINT (compact for a million readers, numeric keyset order), while the
# outbox, which also holds @channels, keeps text. `reader_key` and `chat_id_of` are the only
# conversions between the two.
def reader_key(chat_id: ChatId) -> int | None:
    """The column value of a reader's chat (None for an @channel, which is never a reader)."""
    text = str(chat_id)
    return int(text) if text.lstrip("-").isdigit() else None


def _known_reader(chat_id: ChatId) -> int:
    key = reader_key(chat_id)
    if key is None:
        raise ValueError(f"not a reader's chat id: {chat_id!r}")
    return key


async def matching_reader_ids(
    conn: AsyncConnection,
    *,
    topics: Sequence[str],
    keywords: Sequence[str],
    after: int | None,
    limit: int,
) -> list[int]:
    """One keyset page of the active readers subscribed to any of the topics or keywords."""
    match = or_(
        and_(
            subscriptions.c.kind == SubscriptionKind.TOPIC.value,
            subscriptions.c.value.in_(list(topics) or [""]),
        ),
        and_(
            subscriptions.c.kind == SubscriptionKind.KEYWORD.value,
            subscriptions.c.value.in_(list(keywords) or [""]),
        ),
    )
    stmt = (
        select(subscriptions.c.chat_id)
        .select_from(subscriptions.join(chats, chats.c.chat_id == subscriptions.c.chat_id))
        .where(chats.c.active.is_(True), match)
        .distinct()
        .order_by(subscriptions.c.chat_id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(subscriptions.c.chat_id > after)
    return list((await conn.scalars(stmt)).all())


class ReaderStore(Store):
    """Chats and their topic and keyword subscriptions."""

    async def upsert_chat(
        self, *, chat_id: ChatId, first_name: str | None, username: str | None, now: datetime
    ) -> None:
        """Remember a reader; one who talks to the bot again is active again."""
        values = {
            "first_name": first_name,
            "username": username,
            "active": True,
            "inactive_reason": None,
            "updated_at": now,
        }
        async with self.engine.begin() as conn:
            stmt = insert(chats, conn).values(
                chat_id=_known_reader(chat_id), created_at=now, **values
            )
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=[chats.c.chat_id], set_=values)
            )

    async def subscribe(
        self, *, chat_id: ChatId, kind: SubscriptionKind, value: str, now: datetime
    ) -> bool:
        """Add a subscription; False when it already existed."""
        async with self.engine.begin() as conn:
            stmt = insert(subscriptions, conn).values(
                chat_id=_known_reader(chat_id), kind=kind.value, value=value, created_at=now
            )
            result = await conn.execute(stmt.on_conflict_do_nothing())
        return bool(result.rowcount)

    async def unsubscribe(self, *, chat_id: ChatId, value: str) -> bool:
        """Remove a topic or keyword subscription by its value; False when there was none."""
        stmt = delete(subscriptions).where(
            subscriptions.c.chat_id == _known_reader(chat_id), subscriptions.c.value == value
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def subscriptions_of(self, chat_id: ChatId) -> list[Subscription]:
        stmt = (
            select(subscriptions)
            .where(subscriptions.c.chat_id == _known_reader(chat_id))
            .order_by(subscriptions.c.kind.desc(), subscriptions.c.value)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            Subscription(chat_id_of(r.chat_id), SubscriptionKind(r.kind), r.value) for r in rows
        ]

    async def deactivate(self, *, chat_id: ChatId, reason: str, now: datetime) -> None:
        """A reader who blocked the bot: inactive, subscriptions dropped, pending sends dead."""
        key = _known_reader(chat_id)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(chats)
                .where(chats.c.chat_id == key)
                .values(active=False, inactive_reason=reason, updated_at=now)
            )
            await conn.execute(delete(subscriptions).where(subscriptions.c.chat_id == key))
            await outbox.give_up_pending(conn, chat_id=chat_id, reason=reason, now=now)

    async def move_chat(self, *, old_chat_id: ChatId, new_chat_id: ChatId, now: datetime) -> None:
        """A group became a supergroup: unsent deliveries and subscriptions follow it."""
        async with self.engine.begin() as conn:
            await outbox.move_unsent(
                conn, old_chat_id=old_chat_id, new_chat_id=new_chat_id, now=now
            )
            old, new = reader_key(old_chat_id), reader_key(new_chat_id)
            if old is not None and new is not None:
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

    async def keyword_values(self) -> list[str]:
        """Distinct keywords readers subscribed to (few, whatever the audience size)."""
        stmt = select(subscriptions.c.value).where(
            subscriptions.c.kind == SubscriptionKind.KEYWORD.value
        )
        async with self.engine.connect() as conn:
            return list((await conn.scalars(stmt.distinct())).all())
