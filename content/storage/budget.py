"""The shared send budget: a GCRA per scope kept in the database, and global pauses."""

from __future__ import annotations

from sqlalchemy import and_, case, literal, or_, update

from content.storage._base import Store, insert
from content.storage.tables import rate_budget

# A row written more than this many seconds in our future was written before the clock
# stepped back (or by a host whose clock is far ahead): what it holds is not to be waited for.
CLOCK_SLACK = 60.0


class Budget(Store):
    """Sends reserved under one rate by every worker together; times are epoch seconds."""

    async def reserve_slots(self, *, scope: str, count: int, interval: float, now: float) -> float:
        """Reserve `count` sends spaced `interval` apart in a shared budget; returns the first.

        GCRA kept in the database: one atomic UPDATE ... RETURNING per batch, so any number
        of workers together stay under the scope's rate. A stored arrival time that lies
        beyond the horizon its writer asked for (what it reserved or the pause, plus
        CLOCK_SLACK) is treated as now, so a backward clock step cannot stall sending.
        """
        stepped_back = rate_budget.c.written_at > now + CLOCK_SLACK
        start = case(
            (and_(rate_budget.c.tat > now, ~stepped_back), rate_budget.c.tat),
            else_=literal(now),
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(rate_budget, conn)
                .values(scope=scope, tat=now, written_at=now)
                .on_conflict_do_nothing()
            )
            tat = await conn.scalar(
                update(rate_budget)
                .where(rate_budget.c.scope == scope)
                .values(tat=start + count * interval, written_at=now)
                .returning(rate_budget.c.tat)
            )
        return float(tat) - count * interval

    async def pause_scope(self, *, scope: str, until: float, now: float) -> None:
        """Nobody sends in this scope before `until` (epoch seconds): a global 429."""
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(rate_budget, conn)
                .values(scope=scope, tat=until, written_at=now)
                .on_conflict_do_nothing()
            )
            await conn.execute(
                update(rate_budget)
                .where(
                    rate_budget.c.scope == scope,
                    or_(rate_budget.c.tat < until, rate_budget.c.written_at > now + CLOCK_SLACK),
                )
                .values(tat=until, written_at=now)
            )
