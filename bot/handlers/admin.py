"""Editors' commands, for ADMIN_IDS only: /stats (text, then a chart) and /retry <article id>."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from telegram import InputFile, Update

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import argument_text, reply
from bot.rendering.admin import ActivitySeries, SendingHealth, stats_chart_caption

log = logging.getLogger(__name__)

CHART_SPAN = timedelta(hours=24)


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
    await _send_chart(update, context, now=now)


async def _send_chart(update: Update, context: NewswireContext, *, now: datetime) -> None:
    """The last 24 hours as a picture; the text has answered already, so a failure is logged."""
    message = update.effective_message
    if message is None:
        return
    # Imported here: matplotlib takes a good part of a second, paid only by the first /stats.
    from bot.rendering.chart import activity_png

    services = context.services
    start = now - CHART_SPAN
    try:
        series = ActivitySeries(
            start=start,
            end=now,
            zone=services.zone,
            sent=await services.repo.outbox.sent_per_minute(since=start, until=now),
            activity=await services.repo.activity.minutes(since=start, until=now),
        )
        png = await asyncio.to_thread(activity_png, series)  # CPU work, off the event loop
        await message.reply_photo(
            InputFile(png, filename="activity.png"), caption=stats_chart_caption(series)
        )
    except Exception:
        # Whatever broke (the query, matplotlib, the upload), /stats has said the essentials.
        log.exception("the /stats chart failed")


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
