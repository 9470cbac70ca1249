"""/search <words>."""

from __future__ import annotations

from telegram import Update

from bot import rendering
from bot.context import NewswireContext
from bot.handlers.common import argument_text, reply

SEARCH_RESULTS = 8
MAX_QUERY = 300


async def search(update: Update, context: NewswireContext) -> None:
    query = argument_text(context)[:MAX_QUERY]
    if not query:
        await reply(update, rendering.usage_search())
        return
    services = context.services
    hits = await services.repo.articles.search(query, limit=SEARCH_RESULTS, now=services.clock())
    await reply(update, rendering.search_results(query, hits, zone=context.reader.zone))
