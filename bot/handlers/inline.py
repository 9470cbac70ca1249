"""Inline mode: `@bot words` in any chat lists matching stories (nothing typed: the latest)."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import InlineQueryHandler, MessageHandler, filters

from bot.context import NewswireContext
from bot.delivery.policy import is_query_too_old
from bot.handlers.search import MAX_QUERY
from bot.rendering.inline import inline_results
from content.models import Article

log = logging.getLogger(__name__)

PAGE = 20
# Results are the same for everyone (is_personal false); a short cache keeps new stories and
# the reader's language (button labels) close to current while sparing repeated keystrokes.
CACHE_SECONDS = 10
MAX_OFFSET = 1_000  # deeper than anyone scrolls; bounds the work one query can ask for
_OFFSET = re.compile(r"[0-9]{1,4}")  # ASCII digits only: the offset is ours, but anyone can send


def page_offset(raw: str) -> int:
    """The offset a `next_offset` of ours carried; anything else starts at the top."""
    return int(raw) if _OFFSET.fullmatch(raw) else 0


async def stories(context: NewswireContext, words: str, offset: int) -> list[Article]:
    """Up to PAGE + 1 visible stories from `offset`: search results, or the latest."""
    articles, now = context.services.repo.articles, context.services.clock()
    # One more than a page: whether there is a next page, without counting every match.
    if words:
        hits = await articles.search(words, limit=PAGE + 1, offset=offset, now=now)
        return [hit.article for hit in hits]
    return await articles.latest(limit=PAGE + 1, offset=offset, now=now)


async def inline_query(update: Update, context: NewswireContext) -> None:
    query = update.inline_query
    if query is None:
        return
    words = " ".join(query.query.split())[:MAX_QUERY]
    offset = page_offset(query.offset)
    found = await stories(context, words, offset) if offset <= MAX_OFFSET else []
    more = len(found) > PAGE
    results = inline_results(found[:PAGE], bot_username=context.bot.username)
    try:
        await query.answer(
            results,
            cache_time=CACHE_SECONDS,
            is_personal=False,
            next_offset=str(offset + PAGE) if more else "",
        )
    except BadRequest as exc:
        # The reader typed on: this query's answer is no longer wanted.
        if not is_query_too_old(exc):
            raise
        log.info("inline query %s answered too late", query.id)


async def sent_via_us(update: Update, context: NewswireContext) -> None:
    """A story a reader chose from the inline list: it is not a request, so no hint."""


HANDLERS = [
    InlineQueryHandler(inline_query),
    # Before links and the fallback: a message sent via an inline bot (its card carries the
    # story's title, maybe a link) is the reader sharing, not asking.
    MessageHandler(filters.VIA_BOT, sent_via_us),
]
