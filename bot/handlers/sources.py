"""Editors' sources, for ADMIN_IDS only: /sources [page], /addsource <url>, /removesource <n>."""

from __future__ import annotations

from telegram import Update

from bot.context import NewswireContext
from bot.handlers.common import argument_text, reply
from bot.rendering import sources as views
from content.sources.registry import add_source, remove_source


def _number(text: str) -> int | None:
    """A plain ASCII number ("²".isdigit() is true and int("²") fails)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None


async def list_sources(update: Update, context: NewswireContext) -> None:
    services = context.services
    page = _number(argument_text(context)) or 1
    sources = await services.repo.sources.all()
    await reply(update, views.source_list(sources, zone=context.reader.zone, page=page))


async def addsource(update: Update, context: NewswireContext) -> None:
    services = context.services
    text = argument_text(context)
    if not text or services.fetcher is None:
        await reply(update, views.usage_addsource())
        return
    outcome = await add_source(
        services.repo,
        services.fetcher,
        text,
        now=services.clock(),
        interval=services.feed_interval,
        default_tz=services.zone,
    )
    await reply(update, views.source_added(outcome))


async def removesource(update: Update, context: NewswireContext) -> None:
    services = context.services
    number = _number(argument_text(context))
    if number is None:
        await reply(update, views.usage_removesource())
        return
    outcome = await remove_source(services.repo, number, configured=services.configured_sources)
    await reply(update, views.source_removed(outcome))
