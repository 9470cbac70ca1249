"""Editors' commands, for ADMIN_IDS only: /stats and /retry <article id>."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import argument_text, reply


async def stats(update: Update, context: NewswireContext) -> None:
    repo = context.services.repo
    now = context.services.clock()
    counts = await repo.outbox_counts(since=now - timedelta(hours=1))
    subscribers = await repo.active_subscriber_count()
    dead = await repo.dead_letters(limit=10)
    await reply(update, rendering.stats(counts, subscribers=subscribers, dead=dead))


async def retry(update: Update, context: NewswireContext) -> None:
    article_id = argument_text(context)
    if not article_id:
        await reply(update, rendering.notice("Usage: /retry <article id> (see /stats)."))
        return
    services = context.services
    requeued = await services.repo.requeue_dead(article_id=article_id[:64], now=services.clock())
    if requeued:
        services.outbox_wakeup.set()
    await reply(update, rendering.retried(article_id[:64], requeued))


def handlers(admin_ids: frozenset[int]) -> list[CommandHandler[NewswireContext, None]]:
    """Admin commands; for anyone else they fall through to the unknown-command hint."""
    only_admins = filters.User(user_id=list(admin_ids)) if admin_ids else filters.User(user_id=[])
    return [
        CommandHandler("stats", stats, filters=only_admins),
        CommandHandler("retry", retry, filters=only_admins),
    ]
