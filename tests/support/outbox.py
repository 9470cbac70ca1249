"""What the stack sent and planned: channel posts, reader alerts, outbox rows; subscribing chats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from content.models import Delivery, DeliveryState, SubscriptionKind, chat_id_of
from tests.support.stack import CHANNEL, Stack
from tests.support.storage import deliveries_of

SUBSCRIBED_AT = datetime(2026, 7, 3, tzinfo=UTC)


def channel_posts(stack: Stack) -> list[dict[str, Any]]:
    """Every message the bot posted in the stack's channel."""
    return stack.sandbox.bot_messages(CHANNEL)  # type: ignore[no-any-return]


def posts_titled(stack: Stack, title: str) -> list[dict[str, Any]]:
    """The stack's channel posts whose text starts with `title`."""
    return [p for p in channel_posts(stack) if p["text"].startswith(title)]


def alerts(stack: Stack, chat_id: int) -> list[dict[str, Any]]:
    """The new-story alerts a reader received."""
    return [m for m in stack.sandbox.bot_messages(chat_id) if "New story" in m["text"]]


async def subscribe(stack: Stack, chat_id: int, keyword: str = "wallet") -> None:
    """Subscribe a chat straight in the repository (groups cannot use /subscribe)."""
    repo = stack.newswire.repo
    chat = chat_id_of(chat_id)
    await repo.readers.upsert_chat(chat_id=chat, first_name=None, username=None, now=SUBSCRIBED_AT)
    await repo.readers.subscribe(
        chat_id=chat, kind=SubscriptionKind.KEYWORD, value=keyword, now=SUBSCRIBED_AT
    )


async def add_readers(stack: Stack, chat_ids: list[int], keyword: str = "wallet") -> None:
    """Readers who started the bot and follow `keyword`."""
    for chat in chat_ids:
        stack.sandbox.add_user(chat, "Reader")
        await subscribe(stack, chat, keyword)


async def deliveries_to(stack: Stack, chat_id: str) -> list[Delivery]:
    """Every outbox row aimed at one chat, over the latest articles."""
    repo = stack.newswire.repo
    found = []
    for article in await repo.articles.latest(limit=20, now=stack.newswire.services.clock()):
        found += [d for d in await deliveries_of(repo, article.id) if d.chat_id == chat_id]
    return found


async def dead_to(stack: Stack, chat_id: str) -> list[Delivery]:
    """The dead outbox rows aimed at one chat."""
    return [d for d in await deliveries_to(stack, chat_id) if d.state is DeliveryState.DEAD]


async def sent_to(stack: Stack, chat_id: str) -> bool:
    """Whether every outbox row aimed at one chat is recorded as sent (and there is one)."""
    found = await deliveries_to(stack, chat_id)
    return bool(found) and all(d.state is DeliveryState.SENT for d in found)
