"""Activity per minute for the editors' chart: 429s seen by any worker, the waiting queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, delete, extract, func, select
from sqlalchemy.sql import ColumnElement

from content.storage._base import RETRYABLE_STATES, Store, insert
from content.storage.tables import activity, deliveries


@dataclass(frozen=True, slots=True)
class ActivityMinute:
    """One minute (UTC, its start): 429s counted, and the waiting queue when sampled."""

    minute: datetime
    throttled: int
    pending: int | None  # None: not sampled that minute (no bot process was running)


def minute_of(moment: datetime) -> datetime:
    """The start of `moment`'s minute, in UTC (every zone's offset is whole minutes)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def epoch_minute(column: Any, dialect: str) -> ColumnElement[int]:
    """Minutes since 1970 of a UTCDateTime column, in SQL: a grouping key both backends share."""
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", column) / 60), BigInteger)
    # SQLite keeps naive UTC text; strftime('%s') reads it as UTC.
    return cast(func.strftime("%s", column), Integer) // 60


class Activity(Store):
    """Counters per minute that the outbox's rows cannot tell afterwards."""

    async def count_throttled(self, *, now: datetime, count: int = 1) -> None:
        """Add `count` 429s to now's minute (one atomic upsert: workers may add at once)."""
        stmt = insert(activity, self.engine).values(
            minute=minute_of(now), throttled=count, pending=None
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[activity.c.minute],
            set_={"throttled": activity.c.throttled + stmt.excluded.throttled},
        )
        async with self.engine.begin() as conn:
            await conn.execute(stmt)

    async def record_pending(self, *, now: datetime) -> int:
        """Count the deliveries waiting to be sent and store it as now's minute's; returns it."""
        count_waiting = select(func.count()).where(deliveries.c.state.in_(RETRYABLE_STATES))
        async with self.engine.begin() as conn:
            waiting = int(await conn.scalar(count_waiting) or 0)
            stmt = insert(activity, conn).values(
                minute=minute_of(now), throttled=0, pending=waiting
            )
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[activity.c.minute], set_={"pending": stmt.excluded.pending}
                )
            )
        return waiting

    async def prune(self, *, before: datetime) -> int:
        """Forget the minutes before `before`; returns how many."""
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(activity).where(activity.c.minute < before))
        return int(result.rowcount or 0)

    async def minutes(self, *, since: datetime, until: datetime) -> list[ActivityMinute]:
        """The recorded minutes in [since, until), oldest first."""
        stmt = (
            select(activity)
            .where(activity.c.minute >= minute_of(since), activity.c.minute < until)
            .order_by(activity.c.minute)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [ActivityMinute(r.minute, int(r.throttled), r.pending) for r in rows]
