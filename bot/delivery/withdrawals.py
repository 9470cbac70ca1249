"""Deleting a withdrawn story's channel post: a claimed delivery, paced like any send.

The worker hands every `delete_due` delivery here. Deleted, or already gone: done. Where
Telegram refuses (a post older than 48 hours, or no right to delete), the delivery is dead
and the editors are told which post to remove by hand, with a link to it. Flood waits and
network errors follow the worker's usual policy (outcomes.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import TelegramError

from bot.delivery.outcomes import Outcomes
from bot.delivery.policy import Verdict, classify, is_delete_target_gone, is_undeletable
from bot.delivery.transport import DeliveryBot, chat_arg
from bot.rendering.replies import post_not_deleted
from content.models import Delivery, DeliveryKind
from content.routing import target_of

log = logging.getLogger(__name__)


def message_link(chat: str, message_id: int) -> str | None:
    """A t.me link to a channel message (None for a chat without one, e.g. a basic group)."""
    if chat.startswith("@"):
        return f"https://t.me/{chat[1:]}/{message_id}"
    if chat.startswith("-100") and chat[4:].isdigit():
        return f"https://t.me/c/{chat[4:]}/{message_id}"
    return None


async def delete_post(delivery: Delivery, *, bot: DeliveryBot, outcomes: Outcomes) -> None:
    """Delete the withdrawn story's post this delivery sent (nothing sent: nothing to do)."""
    repo = outcomes.repo
    if delivery.kind is not DeliveryKind.CHANNEL or delivery.message_id is None:
        # Withdrawn while on the wire and never sent after all, or a reader's message (they
        # keep theirs): there is nothing to delete.
        await repo.outbox.mark_withdrawn(delivery_id=delivery.id, now=outcomes.clock())
        return
    chat = target_of(delivery.chat_id).chat
    try:
        await bot.delete_sent(chat_arg(chat), delivery.message_id)
    except TelegramError as exc:
        if is_delete_target_gone(exc):
            log.info("post %d in %s was already gone", delivery.message_id, chat)
            await repo.outbox.mark_withdrawn(delivery_id=delivery.id, now=outcomes.clock())
            return
        await _failed(delivery, chat, exc, outcomes)
        return
    log.info(
        "deleted post %d in %s (story %s withdrawn)", delivery.message_id, chat, delivery.article_id
    )
    await repo.outbox.mark_withdrawn(delivery_id=delivery.id, now=outcomes.clock())


async def _failed(delivery: Delivery, chat: str, exc: TelegramError, outcomes: Outcomes) -> None:
    """Wait, retry, or give up and tell the editors which post to remove by hand."""
    now = outcomes.clock()
    outcome = classify(exc)
    if outcome.verdict is Verdict.FLOOD:
        await outcomes.flooded(delivery.chat_id, outcome.retry_after)
        await outcomes.repo.outbox.mark_retry(
            delivery_id=delivery.id,
            at=now + timedelta(seconds=outcome.retry_after),
            error=outcome.reason,
            now=now,
            count_attempt=False,
        )
        return
    if outcome.verdict is Verdict.TRANSIENT and not is_undeletable(exc):
        await outcomes.transient(delivery, outcome.reason, now)
        return
    # Refused for good: too old, no right to delete, the bot gone from the chat.
    await outcomes.repo.outbox.mark_dead(delivery_id=delivery.id, error=outcome.reason, now=now)
    article = await outcomes.repo.articles.get(delivery.article_id)
    assert delivery.message_id is not None
    await outcomes.alert(
        post_not_deleted(
            article.title if article is not None else delivery.article_id,
            chat=chat,
            message_id=delivery.message_id,
            reason=outcome.reason,
            link=message_link(chat, delivery.message_id),
        )
    )
