"""What every aggregate store shares: the engine, the dialect's INSERT, row conversions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from content.models import ChatId, Delivery, DeliveryKind, DeliveryState

RETRYABLE_STATES = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


def insert(table: Table, conn: AsyncConnection | AsyncEngine) -> Any:
    """INSERT that can say ON CONFLICT DO NOTHING/UPDATE on both supported backends."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def delivery_from_row(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        article_id=row.article_id,
        chat_id=ChatId(row.chat_id),
        kind=DeliveryKind(row.kind),
        priority=row.priority,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        rank=row.rank,
        message_id=row.message_id,
        last_error=row.last_error,
        delete_due=bool(row.delete_due),
    )


class Store:
    """An aggregate's storage: one engine, one transaction per method."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
