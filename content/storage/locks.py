"""Named leases in the database: one bot (the updates poller) per database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from content.storage._base import Store, insert
from content.storage.tables import locks

BOT_LOCK = "bot"


def _nobody(_owner: str) -> bool:
    return False


# A row with a lease works the same on SQLite and PostgreSQL; an advisory lock would need a
# connection held open for the bot's life, and SQLite has no such lock.
class Locks(Store):
    """A lock row per name with an owner and a lease, renewed while the holder lives."""

    async def acquire(
        self,
        name: str,
        *,
        owner: str,
        now: datetime,
        ttl: timedelta,
        is_dead: Callable[[str], bool] = _nobody,
    ) -> str | None:
        """Take or renew the lock; None when `owner` holds it, else the live holder's owner.

        A holder whose lease ran out, or that `is_dead` says is gone (its pid on this host),
        is replaced. A lease ending further than `ttl` from now (taken before the clock
        stepped back) counts as ending at now + `ttl`.
        """
        row = locks.c
        async with self.engine.begin() as conn:
            taken = await conn.execute(
                insert(locks, conn)
                .values(name=name, owner=owner, expires_at=now + ttl, acquired_at=now)
                .on_conflict_do_nothing()
            )
            if taken.rowcount:
                return None
            await conn.execute(
                update(locks)
                .where(row.name == name, row.expires_at > now + ttl)
                .values(expires_at=now + ttl)
            )
            holder = await conn.scalar(select(row.owner).where(row.name == name))
            free = or_(row.owner == owner, row.expires_at < now)
            if holder is not None and holder != owner and is_dead(holder):
                free = or_(free, row.owner == holder)
            renewed = await conn.execute(
                update(locks)
                .where(row.name == name, free)
                .values(owner=owner, expires_at=now + ttl)
            )
            if renewed.rowcount:
                if holder != owner:
                    await conn.execute(
                        update(locks).where(row.name == name).values(acquired_at=now)
                    )
                return None
        return holder or "unknown"

    async def release(self, name: str, *, owner: str) -> None:
        """Let go of the lock if `owner` holds it (a lost lock is left to its new holder)."""
        async with self.engine.begin() as conn:
            await conn.execute(locks.delete().where(locks.c.name == name, locks.c.owner == owner))

    async def holder(self, name: str) -> str | None:
        """Who holds the lock (whether or not its lease ran out), if anyone."""
        async with self.engine.connect() as conn:
            return await conn.scalar(select(locks.c.owner).where(locks.c.name == name))
