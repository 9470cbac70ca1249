"""Editors' commands, for ADMIN_IDS only: /stats and /retry <article id>."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import argument_text, reply
from bot.rendering.admin import SendingHealth


async def stats(update: Update, context: NewswireContext) -> None:
    repo = context.services.repo
    now = context.services.clock()
    counts = await repo.outbox.counts(since=now - timedelta(hours=1))
    subscribers = await repo.readers.active_subscriber_count()
    dead = await repo.outbox.dead_letters(limit=10)
    since = await repo.outbox.oldest_pending_since()
    health = context.services.worker_health
    sending = SendingHealth(
        worker=health() if health is not None else None,
        oldest_pending=now - since if since is not None else None,
    )
    await reply(
        update, rendering.stats(counts, subscribers=subscribers, dead=dead, sending=sending)
    )


async def retry(update: Update, context: NewswireContext) -> None:
    article_id = argument_text(context)
    if not article_id:
        await reply(update, rendering.usage_retry())
        return
    services = context.services
    requeued = await services.repo.outbox.requeue_dead(
        article_id=article_id[:64], now=services.clock()
    )
    if requeued:
        services.outbox_wakeup.set()
    await reply(update, rendering.retried(article_id[:64], requeued))
