"""Readers: the chats that talk to the bot and what they subscribed to."""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from content.models import ChatId, Subscription, SubscriptionKind, chat_id_of
from content.preferences import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    MAX_MUTES,
    MAX_SUBSCRIPTIONS,
    DigestMode,
    QuietHours,
    ReaderSettings,
    clock_text,
    parse_clock,
)
from content.storage import outbox
from content.storage._base import Store, insert
from content.storage.tables import chats, mutes, subscriptions

IMPORT_CHUNK = 10_000  # rows a transaction when importing a subscriber list


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


# The chats columns that hold a reader's settings, for queries that read them alongside other
# rows (planning selects these with the reader's id and calls `settings_from_row`).
SETTINGS_COLUMNS = (
    chats.c.language,
    chats.c.timezone,
    chats.c.digest,
    chats.c.digest_at,
    chats.c.quiet_start,
    chats.c.quiet_end,
    chats.c.breaking_in_quiet,
)


def _clock_or_none(text: str | None) -> Any:
    try:
        return parse_clock(text) if text else None
    except ValueError:
        return None  # a hand-edited row: the default rather than a crash


def settings_from_row(row: Any, *, default_language: str = DEFAULT_LANGUAGE) -> ReaderSettings:
    """A reader's settings from a row holding SETTINGS_COLUMNS (NULLs are the defaults)."""
    try:
        digest = DigestMode(row.digest or DigestMode.OFF.value)
    except ValueError:
        digest = DigestMode.OFF
    start, end = _clock_or_none(row.quiet_start), _clock_or_none(row.quiet_end)
    return ReaderSettings(
        language=row.language if row.language in LANGUAGES else default_language,
        timezone=row.timezone or None,
        digest=digest,
        digest_at=_clock_or_none(row.digest_at),
        quiet=QuietHours(start, end) if start is not None and end is not None else None,
        breaking_in_quiet=bool(row.breaking_in_quiet),
    )


def settings_values(settings: ReaderSettings) -> dict[str, Any]:
    """The chats column values that store `settings`."""
    return {
        "language": settings.language,
        "timezone": settings.timezone,
        "digest": settings.digest.value,
        "digest_at": clock_text(settings.digest_at) if settings.digest_at else None,
        "quiet_start": clock_text(settings.quiet.start) if settings.quiet else None,
        "quiet_end": clock_text(settings.quiet.end) if settings.quiet else None,
        "breaking_in_quiet": settings.breaking_in_quiet,
    }


async def settings_for(conn: AsyncConnection, chat_ids: Sequence[int]) -> dict[int, ReaderSettings]:
    """Bulk: the settings of these readers (numeric ids; unknown readers are left out)."""
    if not chat_ids:
        return {}
    stmt = select(chats.c.chat_id, *SETTINGS_COLUMNS).where(chats.c.chat_id.in_(list(chat_ids)))
    return {row.chat_id: settings_from_row(row) for row in await conn.execute(stmt)}


async def mutes_for(conn: AsyncConnection, chat_ids: Sequence[int]) -> dict[int, list[str]]:
    """Bulk: each reader's mutes (readers with none are left out)."""
    if not chat_ids:
        return {}
    stmt = (
        select(mutes.c.chat_id, mutes.c.value)
        .where(mutes.c.chat_id.in_(list(chat_ids)))
        .order_by(mutes.c.chat_id, mutes.c.value)
    )
    found: dict[int, list[str]] = {}
    for row in await conn.execute(stmt):
        found.setdefault(row.chat_id, []).append(row.value)
    return found


def excludes_from(text: str | None) -> tuple[str, ...]:
    """A subscription's `excludes` column (JSON list) as a tuple; bad JSON is no exclusion."""
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return ()
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


# Planning (content/storage/outbox.py) asks these per keyset page of matching readers.
def _matching(topics: Sequence[str], keywords: Sequence[str]) -> Any:
    return or_(
        and_(
            subscriptions.c.kind == SubscriptionKind.TOPIC.value,
            subscriptions.c.value.in_(list(topics) or [""]),
        ),
        and_(
            subscriptions.c.kind == SubscriptionKind.KEYWORD.value,
            subscriptions.c.value.in_(list(keywords) or [""]),
        ),
    )


async def excluded_readers(
    conn: AsyncConnection,
    chat_ids: Sequence[int],
    *,
    topics: Sequence[str],
    keywords: Sequence[str],
    terms: Iterable[str],
) -> set[int]:
    """Bulk: readers among these who must not get a story containing `terms`.

    A reader is left out when a mute is among the terms, or when every subscription that
    matched the story excludes one of them ("ukraine -sports" on a sports story).
    """
    found = set(terms)
    if not chat_ids or not found:
        return set()
    ids = list(chat_ids)
    muted = select(mutes.c.chat_id).where(mutes.c.chat_id.in_(ids), mutes.c.value.in_(found))
    out = set((await conn.scalars(muted)).all())
    stmt = select(subscriptions.c.chat_id, subscriptions.c.excludes).where(
        subscriptions.c.chat_id.in_(ids), _matching(topics, keywords)
    )
    kept: set[int] = set()
    excluded: set[int] = set()
    for row in await conn.execute(stmt):
        if found.intersection(excludes_from(row.excludes)):
            excluded.add(row.chat_id)
        else:
            kept.add(row.chat_id)
    return out | (excluded - kept)


async def holding_settings_for(
    conn: AsyncConnection,
    chat_ids: Sequence[int],
    *,
    known: dict[tuple[Any, ...], ReaderSettings],
) -> dict[int, ReaderSettings]:
    """Bulk: the settings of the readers among these on a digest or with quiet hours.

    Everyone else gets stories at once (the default), so their rows are not read. Equal
    column values parse once (`known` is the caller's cache across pages).
    """
    if not chat_ids:
        return {}
    stmt = select(chats.c.chat_id, *SETTINGS_COLUMNS).where(
        chats.c.chat_id.in_(list(chat_ids)),
        or_(chats.c.digest != DigestMode.OFF.value, chats.c.quiet_start.is_not(None)),
    )
    found: dict[int, ReaderSettings] = {}
    for row in await conn.execute(stmt):
        values = tuple(row)[1:]
        settings = known.get(values)
        if settings is None:
            settings = known[values] = settings_from_row(row)
        found[row.chat_id] = settings
    return found


async def exclusion_terms(conn: AsyncConnection) -> list[str]:
    """Every distinct mute and subscription exclusion (few, whatever the audience size)."""
    terms = dict.fromkeys((await conn.scalars(select(mutes.c.value).distinct())).all())
    stmt = select(subscriptions.c.excludes).where(subscriptions.c.excludes != "[]").distinct()
    for text in (await conn.scalars(stmt)).all():
        terms.update(dict.fromkeys(excludes_from(text)))
    return list(terms)


class Followed(enum.Enum):
    """What a subscribe or mute did."""

    ADDED = "added"
    UPDATED = "updated"  # known subscription, new exclusions
    ALREADY = "already"
    FULL = "full"  # the reader is at the limit: nothing added


class ReaderStore(Store):
    """Chats and their topic and keyword subscriptions."""

    async def upsert_chat(
        self,
        *,
        chat_id: ChatId,
        first_name: str | None,
        username: str | None,
        now: datetime,
        language: str | None = None,
    ) -> None:
        """Remember a reader; one who talks to the bot again is active again, settings kept."""
        values: dict[str, Any] = {
            "first_name": first_name,
            "username": username,
            "active": True,
            "inactive_reason": None,
            "updated_at": now,
        }
        async with self.engine.begin() as conn:
            stmt = insert(chats, conn).values(
                chat_id=_known_reader(chat_id), created_at=now, language=language, **values
            )
            # The language they first spoke stays until they choose one (never overwritten).
            keep = {**values, "language": func.coalesce(chats.c.language, stmt.excluded.language)}
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=[chats.c.chat_id], set_=keep)
            )

    async def import_subscribers(
        self, rows: Iterable[Subscription], *, now: datetime, chunk: int = IMPORT_CHUNK
    ) -> int:
        """Import a subscriber list in chunks; returns the rows read (known rows are kept)."""
        # ON CONFLICT DO NOTHING: a reader who blocked the bot stays inactive, and re-importing
        # the same list adds nothing. One transaction a chunk keeps memory flat for millions.
        batch: list[Subscription] = []
        read = 0
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                await self._import_chunk(batch, now)
                read += len(batch)
                batch = []
        if batch:
            await self._import_chunk(batch, now)
            read += len(batch)
        return read

    async def _import_chunk(self, batch: Sequence[Subscription], now: datetime) -> None:
        keys = [_known_reader(row.chat_id) for row in batch]
        new_chats = [
            {"chat_id": key, "active": True, "created_at": now, "updated_at": now}
            for key in dict.fromkeys(keys)
        ]
        new_subscriptions = [
            {"chat_id": key, "kind": row.kind.value, "value": row.value, "created_at": now}
            for key, row in zip(keys, batch, strict=True)
        ]
        async with self.engine.begin() as conn:
            await conn.execute(insert(chats, conn).on_conflict_do_nothing(), new_chats)
            await conn.execute(
                insert(subscriptions, conn).on_conflict_do_nothing(), new_subscriptions
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

    async def follow(
        self,
        *,
        chat_id: ChatId,
        kind: SubscriptionKind,
        value: str,
        excludes: Sequence[str] = (),
        now: datetime,
        limit: int = MAX_SUBSCRIPTIONS,
    ) -> Followed:
        """Subscribe within the reader's limit; a known subscription gets the new exclusions."""
        key = _known_reader(chat_id)
        text = json.dumps(list(excludes), ensure_ascii=False)
        mine = subscriptions.c.chat_id == key
        async with self.engine.begin() as conn:
            known = await conn.scalar(
                select(subscriptions.c.excludes).where(
                    mine, subscriptions.c.kind == kind.value, subscriptions.c.value == value
                )
            )
            if known is not None:
                if excludes_from(known) == tuple(excludes):
                    return Followed.ALREADY
                await conn.execute(
                    update(subscriptions)
                    .where(mine, subscriptions.c.kind == kind.value, subscriptions.c.value == value)
                    .values(excludes=text)
                )
                return Followed.UPDATED
            count = await conn.scalar(select(func.count()).select_from(subscriptions).where(mine))
            if int(count or 0) >= limit:
                return Followed.FULL
            stmt = insert(subscriptions, conn).values(
                chat_id=key, kind=kind.value, value=value, excludes=text, created_at=now
            )
            result = await conn.execute(stmt.on_conflict_do_nothing())
        return Followed.ADDED if result.rowcount else Followed.ALREADY

    async def subscription_count(self, chat_id: ChatId) -> int:
        stmt = select(func.count()).select_from(subscriptions)
        async with self.engine.connect() as conn:
            count = await conn.scalar(stmt.where(subscriptions.c.chat_id == _known_reader(chat_id)))
        return int(count or 0)

    async def settings_of(
        self, chat_id: ChatId, *, default_language: str = DEFAULT_LANGUAGE
    ) -> ReaderSettings:
        """A reader's settings (the defaults for an unknown reader or a column never set)."""
        stmt = select(*SETTINGS_COLUMNS).where(chats.c.chat_id == _known_reader(chat_id))
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None:
            return ReaderSettings(language=default_language)
        return settings_from_row(row, default_language=default_language)

    async def settings_of_many(
        self, chat_ids: Sequence[ChatId], *, chunk: int = 500
    ) -> dict[ChatId, ReaderSettings]:
        """Bulk: the settings of these chats in one query a chunk (unknown readers left out)."""
        keys = {key: chat_id for chat_id in chat_ids if (key := reader_key(chat_id)) is not None}
        found: dict[ChatId, ReaderSettings] = {}
        if not keys:
            return found
        ordered = list(keys)
        async with self.engine.connect() as conn:
            # Chunks keep the IN list under SQLite's bound-parameter limit.
            for start in range(0, len(ordered), chunk):
                part = await settings_for(conn, ordered[start : start + chunk])
                found.update((keys[key], settings) for key, settings in part.items())
        return found

    async def update_settings(
        self, *, chat_id: ChatId, settings: ReaderSettings, now: datetime
    ) -> None:
        """Store a reader's settings whole (the chat is remembered if it was not)."""
        values = {**settings_values(settings), "updated_at": now}
        async with self.engine.begin() as conn:
            stmt = insert(chats, conn).values(
                chat_id=_known_reader(chat_id), active=True, created_at=now, **values
            )
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=[chats.c.chat_id], set_=values)
            )

    async def mute(
        self, *, chat_id: ChatId, value: str, now: datetime, limit: int = MAX_MUTES
    ) -> Followed:
        """Exclude a word, phrase or topic from everything the reader gets (within the limit)."""
        key = _known_reader(chat_id)
        async with self.engine.begin() as conn:
            known = await conn.scalar(
                select(func.count())
                .select_from(mutes)
                .where(mutes.c.chat_id == key, mutes.c.value == value)
            )
            if known:
                return Followed.ALREADY
            count = await conn.scalar(
                select(func.count()).select_from(mutes).where(mutes.c.chat_id == key)
            )
            if int(count or 0) >= limit:
                return Followed.FULL
            stmt = insert(mutes, conn).values(chat_id=key, value=value, created_at=now)
            result = await conn.execute(stmt.on_conflict_do_nothing())
        return Followed.ADDED if result.rowcount else Followed.ALREADY

    async def unmute(self, *, chat_id: ChatId, value: str) -> bool:
        """Remove a mute; False when there was none."""
        stmt = delete(mutes).where(
            mutes.c.chat_id == _known_reader(chat_id), mutes.c.value == value
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def mutes_of(self, chat_id: ChatId) -> list[str]:
        """A reader's mutes, alphabetically."""
        key = _known_reader(chat_id)
        async with self.engine.connect() as conn:
            found = await mutes_for(conn, [key])
        return found.get(key, [])

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
            Subscription(
                chat_id_of(r.chat_id), SubscriptionKind(r.kind), r.value, excludes_from(r.excludes)
            )
            for r in rows
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

    async def exclusion_terms(self) -> list[str]:
        """Distinct mutes and exclusions of all readers (planning matches them once a story)."""
        async with self.engine.connect() as conn:
            return await exclusion_terms(conn)
