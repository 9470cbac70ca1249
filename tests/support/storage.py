"""Storage helpers for tests: reading the outbox directly, recording a single send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from content.models import Delivery
from content.storage import Repository
from content.storage._base import delivery_from_row
from content.storage.tables import deliveries


async def deliveries_of(repo: Repository, article_id: str) -> list[Delivery]:
    """Every outbox row of one article, in id order."""
    stmt = select(deliveries).where(deliveries.c.article_id == article_id)
    async with repo.engine.connect() as conn:
        rows = (await conn.execute(stmt.order_by(deliveries.c.id))).all()
    return [delivery_from_row(r) for r in rows]


async def mark_sent(repo: Repository, *, delivery_id: int, message_id: int, now: datetime) -> None:
    """Record one send, as the worker's batched recorder would."""
    await repo.outbox.mark_sent_many([(delivery_id, message_id, now)])
